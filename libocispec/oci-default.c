/* Documents this runtime writes from scratch: the `spec` template and the
 * features document. */
#include "oci-spec-internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SET_STRV(field, array)                                                 \
  do                                                                           \
    {                                                                          \
      field = oci_strv_dup (array, KO_ARRAY_SIZE (array));                     \
      field##_len = KO_ARRAY_SIZE (array);                                     \
    }                                                                          \
  while (0)

static const char *const default_caps[]
    = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" };
static const char *const default_env[]
    = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "TERM=xterm" };
static const char *const default_args[] = { "sh" };
static const char *const masked_paths[]
    = { "/proc/acpi",        "/proc/asound",        "/proc/kcore",
        "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug",   "/sys/firmware",
        "/proc/scsi" };
static const char *const readonly_paths[]
    = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
        "/proc/sysrq-trigger" };

struct default_mount
{
  const char *destination;
  const char *type;
  const char *source;
  const char *options[8]; /* NULL-terminated */
};

static const struct default_mount default_mounts[] = {
  { "/proc", "proc", "proc", { NULL } },
  { "/dev",
    "tmpfs",
    "tmpfs",
    { "nosuid", "strictatime", "mode=755", "size=65536k", NULL } },
  { "/dev/pts",
    "devpts",
    "devpts",
    { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5",
      NULL } },
  { "/dev/shm",
    "tmpfs",
    "shm",
    { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL } },
  { "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev", NULL } },
  { "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro", NULL } },
  { "/sys/fs/cgroup",
    "cgroup",
    "cgroup",
    { "nosuid", "noexec", "nodev", "relatime", "ro", NULL } },
};

/* Rootless, as runc does it: /sys comes from an rbind (sysfs cannot be
   mounted without owning the network namespace) and uid=/gid= options go,
   since only one id is mapped. */
static const struct default_mount rootless_sys = {
  "/sys", "none", "/sys", { "rbind", "nosuid", "noexec", "nodev", "ro" }
};

static void
mount_fill (oci_mount *m, const struct default_mount *d, bool rootless)
{
  const char *opts[KO_ARRAY_SIZE (d->options)];
  size_t n = 0;
  for (size_t i = 0; i < KO_ARRAY_SIZE (d->options) && d->options[i]; i++)
    {
      if (rootless
          && (strncmp (d->options[i], "uid=", 4) == 0
              || strncmp (d->options[i], "gid=", 4) == 0))
        continue;
      opts[n++] = d->options[i];
    }
  m->destination = oci_xstrdup (d->destination);
  m->type = oci_xstrdup (d->type);
  m->source = oci_xstrdup (d->source);
  if (n)
    {
      m->options = oci_strv_dup (opts, n);
      m->options_len = n;
    }
}

static oci_process *
default_process (void)
{
  oci_process *proc = oci_xcalloc (1, sizeof *proc);
  proc->terminal = true;
  proc->user = oci_xcalloc (1, sizeof *proc->user);
  SET_STRV (proc->args, default_args);
  SET_STRV (proc->env, default_env);
  proc->cwd = oci_xstrdup ("/");
  oci_capabilities *caps = oci_xcalloc (1, sizeof *caps);
  SET_STRV (caps->bounding, default_caps);
  SET_STRV (caps->effective, default_caps);
  SET_STRV (caps->permitted, default_caps);
  proc->capabilities = caps;
  proc->rlimits = oci_xcalloc (1, sizeof *proc->rlimits);
  proc->rlimits_len = 1;
  proc->rlimits[0].type = oci_xstrdup ("RLIMIT_NOFILE");
  proc->rlimits[0].soft = 1024;
  proc->rlimits[0].hard = 1024;
  proc->no_new_privileges = true;
  return proc;
}

static oci_linux *
default_linux (bool rootless)
{
  static const char *const ns_root[]
      = { "pid", "network", "ipc", "uts", "mount" };
  static const char *const ns_rootless[]
      = { "pid", "ipc", "uts", "mount", "user" };
  const char *const *ns = rootless ? ns_rootless : ns_root;
  size_t ns_len
      = rootless ? KO_ARRAY_SIZE (ns_rootless) : KO_ARRAY_SIZE (ns_root);

  oci_linux *l = oci_xcalloc (1, sizeof *l);
  l->namespaces = oci_xcalloc (ns_len, sizeof *l->namespaces);
  l->namespaces_len = ns_len;
  for (size_t i = 0; i < ns_len; i++)
    l->namespaces[i].type = oci_xstrdup (ns[i]);

  if (rootless)
    {
      l->uid_mappings = oci_xcalloc (1, sizeof *l->uid_mappings);
      l->uid_mappings_len = 1;
      l->uid_mappings[0] = (oci_id_mapping){ 0, geteuid (), 1 };
      l->gid_mappings = oci_xcalloc (1, sizeof *l->gid_mappings);
      l->gid_mappings_len = 1;
      l->gid_mappings[0] = (oci_id_mapping){ 0, getegid (), 1 };
    }
  else
    {
      /* Deny every device; the runtime adds the default ones. */
      l->resources = oci_xcalloc (1, sizeof *l->resources);
      l->resources->devices = oci_xcalloc (1, sizeof *l->resources->devices);
      l->resources->devices_len = 1;
      l->resources->devices[0].allow = false;
      l->resources->devices[0].access = oci_xstrdup ("rwm");
    }
  SET_STRV (l->masked_paths, masked_paths);
  SET_STRV (l->readonly_paths, readonly_paths);
  return l;
}

oci_spec *
oci_spec_new_default (bool rootless, ko_error **err)
{
  oci_spec *s = oci_xcalloc (1, sizeof *s);
  s->oci_version = oci_xstrdup (OCI_VERSION);
  s->process = default_process ();
  s->root = oci_xcalloc (1, sizeof *s->root);
  s->root->path = oci_xstrdup ("rootfs");
  s->root->readonly = true;
  s->hostname = oci_xstrdup ("kata-oci");

  size_t n = KO_ARRAY_SIZE (default_mounts);
  s->mounts = oci_xcalloc (n, sizeof *s->mounts);
  s->mounts_len = n;
  for (size_t i = 0; i < n; i++)
    {
      const struct default_mount *d = &default_mounts[i];
      if (rootless && strcmp (d->destination, "/sys") == 0)
        d = &rootless_sys;
      mount_fill (&s->mounts[i], d, rootless);
    }

  s->linux = default_linux (rootless);
  return s;
}

/* --- features --- */

static const char *const feature_hooks[]
    = { "prestart",       "createRuntime", "createContainer",
        "startContainer", "poststart",     "poststop" };
/* every option translate-mounts.c knows (tmpcopyup: of an empty or absent
 * destination); not "remount", which it refuses */
static const char *const feature_mount_options[] = {
  "acl",         "async",       "atime",          "bind",       "defaults",
  "dev",         "diratime",    "dirsync",        "exec",       "iversion",
  "lazytime",    "loud",        "mand",           "noacl",      "noatime",
  "nodev",       "nodiratime",  "noexec",         "noiversion", "nolazytime",
  "nomand",      "norelatime",  "nostrictatime",  "nosuid",     "nosymfollow",
  "private",     "ratime",      "rbind",          "rdev",       "rdiratime",
  "relatime",    "rexec",       "rnoatime",       "rnodev",     "rnodiratime",
  "rnoexec",     "rnorelatime", "rnostrictatime", "rnosuid",    "rnosymfollow",
  "ro",          "rprivate",    "rrelatime",      "rro",        "rrw",
  "rshared",     "rslave",      "rstrictatime",   "rsuid",      "rsymfollow",
  "runbindable", "rw",          "shared",         "silent",     "slave",
  "strictatime", "suid",        "symfollow",      "sync",       "tmpcopyup",
  "unbindable"
};
static const char *const feature_namespaces[]
    = { "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts" };
static const char *const feature_caps[] = {
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
};
/* No SCMP_ACT_NOTIFY: the listener would be on the host, the filter in the
   guest. */
static const char *const feature_seccomp_actions[]
    = { "SCMP_ACT_ALLOW",        "SCMP_ACT_ERRNO",       "SCMP_ACT_KILL",
        "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
        "SCMP_ACT_TRACE",        "SCMP_ACT_TRAP" };
static const char *const feature_seccomp_operators[]
    = { "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",       "SCMP_CMP_LE",
        "SCMP_CMP_LT", "SCMP_CMP_NE", "SCMP_CMP_MASKED_EQ" };
static const char *const feature_seccomp_archs[]
    = { "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32" };
static const char *const feature_seccomp_flags[]
    = { "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW" };

static oci_features_enabled *
enabled (bool v)
{
  oci_features_enabled *e = oci_xcalloc (1, sizeof *e);
  e->has_enabled = true;
  e->enabled = v;
  return e;
}

oci_features *
oci_features_new (ko_error **err)
{
  oci_features *f = oci_xcalloc (1, sizeof *f);
  f->oci_version_min = oci_xstrdup ("1.0.0");
  f->oci_version_max = oci_xstrdup (OCI_VERSION);
  SET_STRV (f->hooks, feature_hooks);
  SET_STRV (f->mount_options, feature_mount_options);

  oci_features_linux *l = oci_xcalloc (1, sizeof *l);
  SET_STRV (l->namespaces, feature_namespaces);
  SET_STRV (l->capabilities, feature_caps);
  l->cgroup = oci_xcalloc (1, sizeof *l->cgroup);
  l->cgroup->has_v1 = true;
  l->cgroup->v1 = false;
  l->cgroup->has_v2 = true;
  l->cgroup->v2 = true;
  l->cgroup->has_systemd = true;
  l->cgroup->systemd = false;
  l->cgroup->has_systemd_user = true;
  l->cgroup->systemd_user = false;
  l->seccomp = oci_xcalloc (1, sizeof *l->seccomp);
  l->seccomp->has_enabled = true;
  l->seccomp->enabled = true;
  SET_STRV (l->seccomp->actions, feature_seccomp_actions);
  SET_STRV (l->seccomp->operators, feature_seccomp_operators);
  SET_STRV (l->seccomp->archs, feature_seccomp_archs);
  SET_STRV (l->seccomp->known_flags, feature_seccomp_flags);
  SET_STRV (l->seccomp->supported_flags, feature_seccomp_flags);
  l->apparmor = enabled (false);
  l->selinux = enabled (false);
  l->intel_rdt = enabled (false);
  l->idmap_mounts = enabled (false);
  f->linux = l;
  return f;
}
