#include "config.h"

#include "cgroup.h"
#include "container.h"
#include "hooks.h"
#include "jsongen.h"
#include "hostpath.h"
#include "hypervisor.h"
#include "log.h"
#include "client.h"
#include "monitor.h"
#include "oci.h"
#include "loop.h"
#include "member.h"
#include "paths.h"
#include "pod.h"
#include "proc.h"
#include "psformat.h"
#include "report.h"
#include "settings.h"
#include "state.h"
#include "translate.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <yajl/yajl_gen.h>

static void
oci_spec_freep (oci_spec **s)
{
  oci_spec_free (*s);
}
#define _cleanup_spec_ __attribute__ ((cleanup (oci_spec_freep)))

static int
validate_bundle (const struct create_opts *o, char **bundle_out,
                 char **rootfs_out, oci_spec **spec_out, ko_error **err)
{
  char bundle[PATH_MAX];
  const char *b = o->bundle && *o->bundle ? o->bundle : ".";
  if (realpath (b, bundle) == NULL)
    return ko_error_set (err, errno, "bundle %s", b);
  struct stat st;
  if (stat (bundle, &st) < 0 || !S_ISDIR (st.st_mode))
    return ko_error_setx (err, ENOTDIR, "bundle %s: not a directory", bundle);
  _cleanup_free_ char *cfg = NULL;
  if (asprintf (&cfg, "%s/config.json", bundle) < 0)
    return ko_error_set (err, ENOMEM, "bundle");
  _cleanup_spec_ oci_spec *spec = oci_spec_parse_file (cfg, err);
  if (spec == NULL)
    return -1;
  if (spec->process == NULL)
    return ko_error_setx (err, EINVAL,
                          "config.json: process: missing required field");
  if (spec->root == NULL || spec->root->path == NULL)
    return ko_error_setx (err, EINVAL,
                          "config.json: root: missing required field");
  _cleanup_free_ char *rootfs = NULL;
  if (spec->root->path[0] == '/')
    rootfs = strdup (spec->root->path);
  else if (asprintf (&rootfs, "%s/%s", bundle, spec->root->path) < 0)
    rootfs = NULL;
  if (rootfs == NULL)
    return ko_error_set (err, ENOMEM, "rootfs");
  _cleanup_close_ int rfd
      = hostpath_open_rootfs (bundle, spec->root->path, err);
  if (rfd < 0)
    return -1;
  if (fstat (rfd, &st) < 0)
    return ko_error_set (err, errno, "rootfs %s", rootfs);
  if (!S_ISDIR (st.st_mode))
    return ko_error_setx (err, ENOTDIR, "rootfs %s: not a directory", rootfs);

  bool foreground = o->run && !o->detach;
  if (spec->process->terminal && o->console_socket == NULL && !foreground)
    return ko_error_setx (err, EINVAL,
                          "cannot allocate tty if kata-oci will detach "
                          "without setting console socket");
  if (!spec->process->terminal && o->console_socket)
    return ko_error_setx (err, EINVAL,
                          "cannot use console socket if kata-oci will not "
                          "allocate tty");
  *bundle_out = strdup (bundle);
  *rootfs_out = take_ptr (rootfs);
  *spec_out = take_ptr (spec);
  return 0;
}

/* podman --sdnotify=container: the process's NOTIFY_SOCKET names a socket
 * in a directory the spec binds from the host (conmon's, which relays to
 * systemd). The VM cannot reach a host socket: the guest makes its own
 * there, and the monitor passes every datagram to conmon's. NULL: none. */
static char *
notify_relay_of (const oci_spec *spec, const char *bundle, const char **path)
{
  const oci_process *pr = spec->process;
  const char *in = NULL;
  for (size_t i = 0; pr && i < pr->env_len; i++)
    if (strncmp (pr->env[i], "NOTIFY_SOCKET=", 14) == 0)
      in = pr->env[i] + 14;
  const char *base = in ? strrchr (in, '/') : NULL;
  if (base == NULL || base == in || in[0] != '/' || base[1] == '\0')
    return NULL;
  size_t dlen = (size_t)(base - in);
  char *relay = NULL;
  for (size_t i = 0; i < spec->mounts_len; i++)
    {
      const oci_mount *m = &spec->mounts[i];
      size_t n = m->destination ? strlen (m->destination) : 0;
      while (n > 1 && m->destination[n - 1] == '/')
        n--;
      if (m->source == NULL || n != dlen
          || strncmp (m->destination, in, dlen) != 0)
        continue;
      char *p = NULL;
      struct stat st;
      if ((m->source[0] == '/'
               ? asprintf (&p, "%s%s", m->source, base)
               : asprintf (&p, "%s/%s%s", bundle, m->source, base))
          < 0)
        continue;
      /* the last mount there is the one the container would see */
      if (lstat (p, &st) == 0 && S_ISSOCK (st.st_mode))
        {
          free (relay);
          relay = p;
        }
      else
        {
          free (p);
          free (relay);
          relay = NULL;
        }
    }
  *path = in;
  return relay;
}

/* runc's sd_notify proxy: with NOTIFY_SOCKET set (systemd's), the container
 * gets a socket of its own at NOTIFY_SOCKET=/run/notify/notify.sock (the
 * agent reads it), and start waits for READY=1 there, then sends READY=1
 * and MAINPID to the host's. Else conmon's relay, if the spec has one. */
static int
notify_setup (const oci_spec *spec, const char *bundle,
              struct monitor_params *p, ko_error **err)
{
  const char *ns = getenv ("NOTIFY_SOCKET"), *in = NULL;
  _cleanup_free_ char *relay = NULL;
  if (ns == NULL || *ns == '\0')
    {
      ns = NULL;
      if ((relay = notify_relay_of (spec, bundle, &in)) == NULL)
        return 0;
    }
  else if ((ns[0] != '/' && ns[0] != '@') || strlen (ns) >= KO_NOTIFY_PATH_MAX)
    return ko_error_setx (err, EINVAL,
                          "NOTIFY_SOCKET: \"%s\": expected an absolute path "
                          "or an abstract socket name (@NAME) of less than "
                          "%d bytes",
                          ns, KO_NOTIFY_PATH_MAX);
  if (relay)
    {
      /* the agent binds it at /proc/PID/root/... */
      if (strlen (in) >= KO_NOTIFY_PATH_MAX - 20)
        return ko_error_setx (err, ENAMETOOLONG,
                              "config.json: process.env: NOTIFY_SOCKET=%s: "
                              "too long for a unix socket",
                              in);
      if (ko_tlv_put_str (&p->container_tlv, KO_TAG_NOTIFY, in) < 0)
        return ko_error_set (err, ENOMEM, "NOTIFY_SOCKET");
      p->state.notify_relay = take_ptr (relay);
      return 0;
    }
  static const char var[] = "NOTIFY_SOCKET=/run/notify/notify.sock";
  struct ko_process *pr = &p->process;
  size_t i = 0;
  while (i < pr->nenv && strncmp (pr->env[i], "NOTIFY_SOCKET=", 14) != 0)
    i++;
  if (i == pr->nenv)
    {
      char **env = realloc (pr->env, (pr->nenv + 2) * sizeof *env);
      if (env == NULL)
        return ko_error_set (err, ENOMEM, "NOTIFY_SOCKET");
      pr->env = env;
      env[pr->nenv++] = NULL;
      env[pr->nenv] = NULL;
    }
  char *v = strdup (var);
  if (v == NULL || (p->state.notify_socket = strdup (ns)) == NULL
      || ko_tlv_put_str (&p->container_tlv, KO_TAG_NOTIFY, var + 14) < 0)
    {
      free (v);
      return ko_error_set (err, ENOMEM, "NOTIFY_SOCKET");
    }
  free (pr->env[i]);
  pr->env[i] = v;
  return 0;
}

static void
params_clear (struct monitor_params *p)
{
  binds_free (p->binds, p->nbinds);
  ko_disks_clear (&p->disks);
  ko_rootfs_disk_clear (&p->rootfs_disk);
  ko_process_clear (&p->process);
  ko_buf_free (&p->container_tlv);
  state_clear (&p->state);
}

static int
build_params (struct ko_global *g, const struct create_opts *o,
              const oci_spec *spec, const struct pod_info *pi,
              const char *bundle, const char *rootfs, const char *dir,
              struct monitor_params *p, ko_error **err)
{
  settings_load (&p->settings);
  p->id = o->id;
  p->dir = dir;
  p->rootfs = rootfs;
  p->hostname = spec->hostname;
  p->console_socket = o->console_socket;
  /* the pod's interfaces go into its VM, with its sandbox */
  p->netns_path = pi->member ? NULL : translate_network_path (spec);
  p->holder_ns = pi->holder;
  p->systemd_cgroup = g->systemd_cgroup;
  p->foreground = o->run && !o->detach;
  p->autostart = o->run && !o->detach;
  p->memory_mb = p->settings.memory_mb;
  p->vcpus = p->settings.vcpus;
  /* the VM is sized from linux.resources; the annotations override */
  cgroup_size_vm (spec, &p->memory_mb, &p->vcpus);
  if (!pi->member)
    pod_size_sandbox (spec, &p->memory_mb, &p->vcpus);
  const char *mem
      = oci_map_get (&spec->annotations, "io.katacontainers.config.hypervisor."
                                         "default_memory");
  if (mem)
    {
      char *end;
      long v = strtol (mem, &end, 10);
      if (*end || v < 64 || v > (1 << 20))
        return ko_error_setx (err, EINVAL,
                              "config.json: annotations: "
                              "io.katacontainers.config.hypervisor."
                              "default_memory: expected MiB from 64, not "
                              "\"%s\"",
                              mem);
      p->memory_mb = (int)v;
    }
  const char *maxmem
      = oci_map_get (&spec->annotations, "io.katacontainers.config.hypervisor."
                                         "default_maxmemory");
  if (maxmem)
    {
      char *end;
      long v = strtol (maxmem, &end, 10);
      if (*end || v < 64 || v > (1 << 20))
        return ko_error_setx (err, EINVAL,
                              "config.json: annotations: "
                              "io.katacontainers.config.hypervisor."
                              "default_maxmemory: expected MiB from 64, not "
                              "\"%s\"",
                              maxmem);
      p->max_memory_mb = (int)v;
    }
  const char *cpus
      = oci_map_get (&spec->annotations, "io.katacontainers.config.hypervisor."
                                         "default_vcpus");
  if (cpus)
    {
      char *end;
      long v = strtol (cpus, &end, 10);
      if (*end || v < 1 || v > 256)
        return ko_error_setx (err, EINVAL,
                              "config.json: annotations: "
                              "io.katacontainers.config.hypervisor."
                              "default_vcpus: expected 1 to 256, not \"%s\"",
                              cpus);
      p->vcpus = (int)v;
    }
  const char *cache
      = oci_map_get (&spec->annotations, "io.katacontainers.config.hypervisor."
                                         "virtio_fs_cache");
  if (cache)
    {
      p->settings.fs_cache = settings_fs_cache (cache);
      if (p->settings.fs_cache == NULL)
        return settings_fs_cache_error ("config.json: annotations: "
                                        "io.katacontainers.config.hypervisor."
                                        "virtio_fs_cache",
                                        cache, err);
      p->settings.fs_cache_bad = NULL; /* the annotation wins */
    }
  /* slots for members' disks, in a pod's VM only: a lone container's VM
   * does not pay for them */
  p->root_ports = pi->sandbox ? KO_VM_POD_ROOT_PORTS : p->settings.root_ports;
  const char *ports
      = oci_map_get (&spec->annotations, KO_VM_ROOT_PORTS_ANNOTATION);
  if (ports && !pi->member)
    {
      char *end;
      errno = 0;
      long v = strtol (ports, &end, 10);
      if (*ports == '\0' || *end || errno || v < 0 || v > KO_VM_MAX_ROOT_PORTS)
        return ko_error_setx (err, EINVAL,
                              "config.json: annotations: %s: expected 0 to "
                              "%d, not \"%s\"",
                              KO_VM_ROOT_PORTS_ANNOTATION, KO_VM_MAX_ROOT_PORTS,
                              ports);
      p->root_ports = (int)v;
    }
  if (translate_process (spec->process, &p->process, err) < 0
      || translate_seccomp (spec, &p->process, err) < 0)
    return -1;
  p->spec = spec;
  /* first, so that a block rootfs is disk 0 */
  if (blockdev_rootfs (&p->disks, spec, rootfs, o->id, pi->member,
                       &p->rootfs_disk, err)
          < 0
      || translate_container (spec, bundle, o->id,
                              p->settings.privileged_host_devices,
                              &p->rootfs_disk, &p->container_tlv, &p->binds,
                              &p->nbinds, &p->disks, err)
             < 0)
    return -1;
  if (spec->hostname && strlen (spec->hostname) > HOST_NAME_MAX)
    return ko_error_setx (err, EINVAL,
                          "config.json: hostname: %zu bytes, more than the "
                          "limit of %d",
                          strlen (spec->hostname), HOST_NAME_MAX);
  /* CreateContainer carries all of it in one request */
  struct ko_buf whole = { 0 };
  ko_process_encode (&whole, KO_TAG_PROCESS, &p->process);
  size_t len = whole.len + p->container_tlv.len + 2 * strlen (o->id) + 512;
  ko_buf_free (&whole);
  if (translate_check_message ("the container", len, err) < 0)
    return -1;
  struct ko_state *st = &p->state;
  st->id = strdup (o->id);
  st->bundle = strdup (bundle);
  st->rootfs = strdup (rootfs);
  st->status = strdup ("creating");
  st->created = state_now_rfc3339 ();
  struct passwd *pw = getpwuid (geteuid ());
  st->owner = strdup (pw ? pw->pw_name : "");
  st->accel = strdup (p->settings.kvm ? "kvm" : "tcg");
  st->channel = strdup (p->settings.vsock ? "vsock" : "virtio-serial");
  if (spec->annotations.len)
    {
      st->annotations = calloc (2 * spec->annotations.len + 1, sizeof (char *));
      if (st->annotations == NULL)
        return ko_error_set (err, ENOMEM, "annotations");
      for (size_t i = 0; i < spec->annotations.len; i++)
        {
          st->annotations[2 * i] = strdup (spec->annotations.keys[i]);
          st->annotations[2 * i + 1] = strdup (spec->annotations.values[i]);
        }
    }
  if (notify_setup (spec, bundle, p, err) < 0)
    return -1;
  if (pi->member)
    return member_fields (pi, &p->container_tlv, &p->state, err);
  return 0;
}

/* Any root an engine picks works (unix sockets too: unixsock.h), as long
 * as what kata-oci names in the state dir stays under PATH_MAX. */
static int
check_dir_length (const char *dir, ko_error **err)
{
  if (strlen (dir) + KO_STATE_NAMES_MAX >= PATH_MAX)
    return ko_error_setx (err, ENAMETOOLONG,
                          "state dir %s: %zu bytes, and the paths in it would "
                          "pass PATH_MAX (%d) (shorten --root)",
                          dir, strlen (dir), PATH_MAX);
  return 0;
}

static int
create_failed (struct ko_global *g, const char *id, ko_error **err)
{
  _cleanup_error_ ko_error *e2 = NULL;
  state_dir_remove (g->root, id, &e2);
  return -1;
}

/* `run` in the foreground: this process is the monitor; the pid file
 * names it. */
static int
create_foreground (struct ko_global *g, const struct create_opts *o,
                   struct monitor_params *p, int dirfd, ko_error **err)
{
  if ((o->pid_file && write_pid_file (o->pid_file, getpid (), err) < 0)
      || (o->pidfd_socket
          && send_pidfd (o->pidfd_socket, getpid (), "standard", err) < 0))
    return create_failed (g, o->id, err);
  p->lock_fd = dirfd;
  int status = monitor_run (p, -1, err);
  if (p->lock_fd >= 0)
    close (p->lock_fd);
  /* run --keep: the state stays, "stopped", for state and delete (which
   * runs the poststop hooks then) */
  if (o->keep && status >= 0)
    return status;
  _cleanup_error_ ko_error *e2 = NULL;
  state_dir_remove (g->root, o->id, &e2);
  if (status >= 0)
    hooks_after_delete (p->spec, o->id, p->state.bundle);
  return status;
}

/* Forks the monitor, which reports once the container is created. */
static int
create_detached (struct ko_global *g, const struct create_opts *o,
                 struct monitor_params *p, int dirfd, ko_error **err)
{
  int pipefd[2];
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    {
      ko_error_set (err, errno, "pipe");
      return create_failed (g, o->id, err);
    }
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0)
    {
      ko_error_set (err, errno, "fork");
      return create_failed (g, o->id, err);
    }
  if (pid == 0)
    {
      /* the monitor: the lock belongs to the CLI that forked us */
      close (dirfd);
      close (pipefd[0]);
      setsid ();
      _cleanup_error_ ko_error *merr = NULL;
      int status = monitor_run (p, pipefd[1], &merr);
      _exit (status < 0 ? 1 : status);
    }
  close (pipefd[1]);
  pid_t holder = 0;
  int r = report_read (pipefd[0], &holder,
                       "the monitor exited before the container was created",
                       err);
  close (pipefd[0]);
  if (r < 0)
    {
      waitpid (pid, NULL, 0);
      return create_failed (g, o->id, err);
    }
  /* the pid conmon waits for: the container's holder (holder.h), which
   * lives as long as the container and exits with its status */
  if (holder <= 0)
    holder = pid;
  if ((o->pid_file && write_pid_file (o->pid_file, (pid_t)holder, err) < 0)
      || (o->pidfd_socket
          && send_pidfd (o->pidfd_socket, (pid_t)holder, "standard", err) < 0)
      || (o->run
          && client_start (p->dir, NULL, CLI_MONITOR_TIMEOUT_MS, err) < 0))
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      return create_failed (g, o->id, err);
    }
  return 0;
}

int
container_create (struct ko_global *g, const struct create_opts *o,
                  ko_error **err)
{
  _cleanup_free_ char *bundle = NULL, *rootfs = NULL;
  _cleanup_spec_ oci_spec *spec = NULL;
  if (validate_bundle (o, &bundle, &rootfs, &spec, err) < 0)
    return -1;
  _cleanup_free_ char *dir = state_dir_path (g->root, o->id);
  if (dir == NULL)
    return ko_error_set (err, ENOMEM, "state dir");
  if (check_dir_length (dir, err) < 0)
    return -1;
  __attribute__ ((cleanup (pod_info_clear))) struct pod_info pi;
  _cleanup_state_ struct ko_state sandbox = { 0 };
  pod_classify (spec, o->id, &pi);
  if (pi.member && member_sandbox (g, &pi, &sandbox, err) < 0)
    return -1;
  if (pod_namespaces (spec, &pi, sandbox.holder_pid, err) < 0)
    return -1;
  struct monitor_params p = { .lock_fd = -1 };
  _cleanup_close_ int dirfd = -1;
  int r = build_params (g, o, spec, &pi, bundle, rootfs, dir, &p, err);
  if (r == 0 && !pi.member)
    r = monitor_preflight (&p, err);
  /* the host stops writing a block rootfs before the VM may */
  if (r == 0)
    r = blockdev_rootfs_seal (&p.rootfs_disk, err);
  if (r == 0 && (r = state_dir_create (g->root, o->id, &dirfd, err)) < 0)
    blockdev_rootfs_unseal (&p.rootfs_disk);
  if (r == 0 && pi.member)
    r = member_create (g, o, &p, &pi, &sandbox, dirfd, err);
  else if (r == 0 && p.foreground)
    r = create_foreground (g, o, &p, take_fd (dirfd), err);
  else if (r == 0)
    r = create_detached (g, o, &p, dirfd, err);
  params_clear (&p);
  return r;
}

/* The container's state, read under a shared lock (a create or delete in
 * progress finishes first) that is released before the monitor is asked
 * anything: a monitor waiting on its guest must not hold up other
 * commands on the container. */
int
container_read_state (struct ko_global *g, const char *id, struct ko_state *st,
                      ko_error **err)
{
  _cleanup_close_ int dirfd = -1;
  if (state_dir_open_shared (g->root, id, &dirfd, err) < 0)
    return -1;
  if (state_read (dirfd, st, err) < 0)
    return ko_error_wrap (err, "container %s", id);
  return 0;
}

int
container_start (struct ko_global *g, const char *id, ko_error **err)
{
  _cleanup_state_ struct ko_state st = { 0 };
  if (container_read_state (g, id, &st, err) < 0)
    return -1;
  const char *status = state_status (&st);
  if (strcmp (status, "stopped") == 0)
    return ko_error_setx (err, EINVAL,
                          "cannot start a container that has stopped");
  if (strcmp (status, "running") == 0 || strcmp (status, "paused") == 0)
    return ko_error_setx (err, EINVAL,
                          "cannot start an already running container");
  if (strcmp (status, "created") != 0)
    return ko_error_setx (err, EINVAL, "cannot start a container in state %s",
                          status);
  _cleanup_free_ char *dir = member_monitor_dir (g, &st);
  /* with NOTIFY_SOCKET, start lasts until the container is ready, as
   * runc's does: the service manager has its own timeout */
  if (client_start (dir, id,
                    st.notify_socket ? INT_MAX : CLI_MONITOR_TIMEOUT_MS, err)
      < 0)
    return ko_error_wrap (err, "start %s", id);
  return 0;
}

/* A container that stopped while it was asked (a pod member whose
 * sandbox went down with the request: podman stops a pod's containers
 * all at once) answers as one that had stopped before. */
static int
kill_failed (struct ko_global *g, const char *id, const struct ko_state *st,
             ko_error **err)
{
  /* a monitor in its teardown records the end within moments */
  proc_wait_gone (st->monitor_pid, st->monitor_start, 2000);
  _cleanup_state_ struct ko_state now = { 0 };
  _cleanup_error_ ko_error *e = NULL;
  if (container_read_state (g, id, &now, &e) == 0
      && strcmp (state_status (&now), "stopped") == 0)
    {
      ko_error_free (*err);
      *err = NULL;
      return ko_error_setx (err, ESRCH, "container not running");
    }
  return ko_error_wrap (err, "kill %s", id);
}

int
container_kill (struct ko_global *g, const char *id, int sig, bool all,
                ko_error **err)
{
  _cleanup_state_ struct ko_state st = { 0 };
  if (container_read_state (g, id, &st, err) < 0)
    return -1;
  if (strcmp (state_status (&st), "stopped") == 0)
    return ko_error_setx (err, ESRCH, "container not running");
  if (sig == 0)
    return 0; /* runc's liveness check: the status says it is alive */
  _cleanup_free_ char *dir = member_monitor_dir (g, &st);
  if (client_kill (dir, id, sig, all, CLI_MONITOR_TIMEOUT_MS, err) < 0)
    return kill_failed (g, id, &st, err);
  return 0;
}

/* Reclaims whatever a dead monitor left: its children, then the dir. */
static int
reclaim (struct ko_global *g, const char *id, const struct ko_state *st,
         ko_error **err)
{
  monitor_reclaim (st);
  return state_dir_remove (g->root, id, err);
}

/* poststop hooks come from the bundle's config.json as it is now (runc
 * does the same): the state keeps only the bundle's path. */
static void
run_poststop (const struct ko_state *st)
{
  if (st->bundle == NULL)
    return;
  _cleanup_free_ char *cfg = NULL;
  if (asprintf (&cfg, "%s/config.json", st->bundle) < 0)
    return;
  _cleanup_error_ ko_error *e = NULL;
  _cleanup_spec_ oci_spec *spec = oci_spec_parse_file (cfg, &e);
  if (spec == NULL)
    {
      log_warn ("container %s: poststop hooks: %s", st->id, e->msg);
      return;
    }
  /* normally gone with the monitor; not when it was killed (a member has
   * none of its own) */
  if (st->sandbox == NULL)
    monitor_reclaim_cgroup (spec);
  hooks_after_delete (spec, st->id, st->bundle);
}

int
container_delete (struct ko_global *g, const char *id, bool force,
                  ko_error **err)
{
  _cleanup_close_ int dirfd = -1;
  _cleanup_state_ struct ko_state st = { 0 };
  if (state_dir_open (g->root, id, &dirfd, err) < 0)
    {
      if (force && (*err)->status == ENOENT)
        {
          ko_error_free (*err);
          *err = NULL;
          return 0;
        }
      return -1;
    }
  if (state_read (dirfd, &st, err) < 0)
    {
      if (!force)
        return ko_error_wrap (err, "container %s", id);
      ko_error_free (*err);
      *err = NULL;
      return state_dir_remove (g->root, id, err);
    }
  const char *status = state_status (&st);
  bool stopped = strcmp (status, "stopped") == 0;
  /* a created container goes as runc's, Kata's and youki's do (its init
   * killed), and as containerd's shim expects when it deletes a task that
   * never started; the OCI spec (and crun) would refuse it. A running or
   * paused one is refused, with no effect. */
  if (strcmp (status, "created") == 0)
    force = true;
  if (!stopped && !force)
    return ko_error_setx (err, EBUSY,
                          "cannot delete container %s that is not "
                          "stopped: %s (--force stops it first)",
                          id, status);
  if (st.sandbox)
    {
      /* a pod member leaves its sandbox's VM, which goes on */
      _cleanup_free_ char *dir = member_monitor_dir (g, &st);
      _cleanup_error_ ko_error *e2 = NULL;
      if (client_remove (dir, id, force, CLI_MONITOR_TIMEOUT_MS, &e2) < 0)
        log_debug ("delete %s: its sandbox: %s", id, e2->msg);
    }
  else if (!stopped)
    {
      _cleanup_free_ char *dir = state_dir_path (g->root, id);
      _cleanup_error_ ko_error *e2 = NULL;
      if (client_destroy (dir, id, 10000, &e2) < 0)
        log_debug ("delete %s: %s; killing the monitor", id, e2->msg);
      else
        proc_wait_gone (st.monitor_pid, st.monitor_start, 10000);
    }
  else
    /* stopped: the monitor may still be finishing its teardown, or give
     * the pod's members their grace to end by themselves (a sandbox whose
     * own container ended first: podman pod stop signals all at once) */
    proc_wait_gone (st.monitor_pid, st.monitor_start, KO_POD_GRACE_MS + 5000);
  if (reclaim (g, id, &st, err) < 0)
    return -1;
  run_poststop (&st);
  return 0;
}

int
container_state (struct ko_global *g, const char *id, ko_error **err)
{
  _cleanup_free_ char *dir = state_dir_path (g->root, id);
  _cleanup_close_ int dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    {
      if (errno == ENOENT)
        return ko_error_setx (err, ENOENT, "container %s does not exist", id);
      return ko_error_set (err, errno, "open %s", dir);
    }
  /* a shared lock when it is free; a create (which holds it for the
   * VM's boot) or a delete in progress is never waited for: state.json
   * is only ever replaced whole, so it reads consistent regardless */
  bool locked = flock (dirfd, LOCK_SH | LOCK_NB) == 0;
  _cleanup_state_ struct ko_state st = { 0 };
  if (state_read (dirfd, &st, err) < 0)
    {
      /* the create that holds the lock has not written it yet */
      if ((*err)->status != ENOENT || locked)
        return ko_error_wrap (err, "container %s", id);
      ko_error_free (*err);
      *err = NULL;
      st.id = strdup (id);
      st.status = strdup ("creating");
    }
  _cleanup_free_ char *json = state_oci_json (&st);
  if (json == NULL)
    return ko_error_set (err, ENOMEM, "state");
  printf ("%s\n", json);
  return 0;
}

struct list_row
{
  char *id;
  int pid;
  const char *status;
  char *bundle, *rootfs, *created, *owner;
  char **annotations; /* key, value, ..., NULL */
};

static int
row_cmp (const void *a, const void *b)
{
  return strcmp (((const struct list_row *)a)->id,
                 ((const struct list_row *)b)->id);
}

int
container_list (struct ko_global *g, bool json, bool quiet, ko_error **err)
{
  DIR *d = opendir (g->root);
  struct list_row *rows = NULL;
  size_t n = 0;
  if (d == NULL && errno != ENOENT)
    return ko_error_set (err, errno, "open %s", g->root);
  struct dirent *de;
  while (d && (de = readdir (d)) != NULL)
    {
      if (de->d_name[0] == '.' || state_validate_id (de->d_name, NULL) < 0)
        continue;
      _cleanup_close_ int fd
          = openat (dirfd (d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        continue;
      struct list_row *nr = realloc (rows, (n + 1) * sizeof *rows);
      if (nr == NULL)
        break;
      rows = nr;
      struct list_row *r = &rows[n++];
      memset (r, 0, sizeof *r);
      r->id = strdup (de->d_name);
      struct ko_state st = { 0 };
      _cleanup_error_ ko_error *e = NULL;
      if (state_read (fd, &st, &e) < 0)
        {
          /* a create in progress holds the lock and has no state yet */
          bool busy = flock (fd, LOCK_SH | LOCK_NB) < 0;
          r->status = busy ? "creating" : "unknown";
          if (!busy)
            log_warn ("container %s: %s", de->d_name, e->msg);
          continue;
        }
      /* a static string: st is cleared below */
      static const char *const known[]
          = { "creating", "created", "running", "paused", "stopped" };
      const char *now = state_status (&st);
      r->status = "unknown";
      for (size_t k = 0; k < KO_ARRAY_SIZE (known); k++)
        if (strcmp (now, known[k]) == 0)
          r->status = known[k];
      /* the pid state prints (state_oci_json): the rootfs holder's */
      r->pid = strcmp (r->status, "stopped") == 0 ? 0
               : st.holder_pid                    ? st.holder_pid
                                                  : st.monitor_pid;
      r->bundle = take_ptr (st.bundle);
      r->rootfs = take_ptr (st.rootfs);
      r->created = take_ptr (st.created);
      r->owner = take_ptr (st.owner);
      r->annotations = take_ptr (st.annotations);
      state_clear (&st);
    }
  if (d)
    closedir (d);
  qsort (rows, n, sizeof *rows, row_cmp);
  if (quiet)
    for (size_t i = 0; i < n; i++)
      printf ("%s\n", rows[i].id);
  else if (json)
    {
      yajl_gen y = yajl_gen_alloc (NULL);
      yajl_gen_array_open (y);
      for (size_t i = 0; i < n; i++)
        {
          yajl_gen_map_open (y);
          gen_kv (y, "ociVersion", OCI_VERSION);
          gen_kv (y, "id", rows[i].id);
          yajl_gen_string (y, (const unsigned char *)"pid", 3);
          yajl_gen_integer (y, rows[i].pid);
          gen_kv (y, "status", rows[i].status);
          gen_kv (y, "bundle", rows[i].bundle);
          gen_kv (y, "rootfs", rows[i].rootfs);
          gen_kv (y, "created", rows[i].created);
          gen_kv (y, "owner", rows[i].owner);
          /* as runc's list: the config's annotations, when there are any */
          char **a = rows[i].annotations;
          if (a && a[0])
            {
              yajl_gen_string (y, (const unsigned char *)"annotations", 11);
              yajl_gen_map_open (y);
              for (; a[0] && a[1]; a += 2)
                gen_kv (y, a[0], a[1]);
              yajl_gen_map_close (y);
            }
          yajl_gen_map_close (y);
        }
      yajl_gen_array_close (y);
      gen_print_free (y);
    }
  else
    {
      printf ("%-12s %-10s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS",
              "BUNDLE", "CREATED", "OWNER");
      for (size_t i = 0; i < n; i++)
        printf ("%-12s %-10d %-10s %-40s %-30s %s\n", rows[i].id, rows[i].pid,
                rows[i].status, rows[i].bundle ? rows[i].bundle : "",
                rows[i].created ? rows[i].created : "",
                rows[i].owner ? rows[i].owner : "");
    }
  for (size_t i = 0; i < n; i++)
    {
      free (rows[i].id);
      free (rows[i].bundle);
      free (rows[i].rootfs);
      free (rows[i].created);
      free (rows[i].owner);
      ko_strv_free (rows[i].annotations);
    }
  free (rows);
  return 0;
}

int
container_pause (struct ko_global *g, const char *id, bool pause,
                 ko_error **err)
{
  _cleanup_state_ struct ko_state st = { 0 };
  if (container_read_state (g, id, &st, err) < 0)
    return -1;
  const char *status = state_status (&st), *need = pause ? "running" : "paused";
  if (strcmp (status, need) != 0)
    return ko_error_setx (err, EINVAL, "container %s is %s, not %s", id, status,
                          need);
  _cleanup_free_ char *dir = member_monitor_dir (g, &st);
  return client_pause (dir, id, pause, CLI_MONITOR_TIMEOUT_MS, err);
}

static bool
host_user (uint32_t uid, char *buf, size_t n)
{
  struct passwd pw, *r = NULL;
  char tmp[1024];
  if (getpwuid_r ((uid_t)uid, &pw, tmp, sizeof tmp, &r) != 0 || r == NULL)
    return false;
  snprintf (buf, n, "%s", pw.pw_name);
  return true;
}

int
container_ps (struct ko_global *g, const char *id, bool json, int argc,
              char **argv, ko_error **err)
{
  struct ko_ps_format fmt;
  if (!json && ko_ps_format_of (argc, argv, &fmt, err) < 0)
    return -1;
  _cleanup_state_ struct ko_state st = { 0 };
  if (container_read_state (g, id, &st, err) < 0)
    return -1;
  struct ko_mon_pids pids = { 0 };
  /* a stopped container has no process left: as runc, an empty list */
  if (strcmp (state_status (&st), "stopped") != 0)
    {
      _cleanup_free_ char *dir = member_monitor_dir (g, &st);
      if (client_ps (dir, id, &pids, CLI_MONITOR_TIMEOUT_MS, err) < 0)
        return -1;
    }
  /* pids are the guest's: the container runs in another kernel */
  if (json)
    {
      printf ("[");
      for (size_t i = 0; i < pids.n; i++)
        printf ("%s%u", i ? "," : "", pids.pids[i]);
      printf ("]\n");
    }
  else
    ko_ps_print (stdout, &fmt, &pids, time (NULL), host_user);
  ko_mon_pids_clear (&pids);
  return 0;
}

int
container_check_status (struct ko_global *g, const char *id, const char *status,
                        ko_error **err)
{
  _cleanup_free_ char *dir = state_dir_path (g->root, id);
  _cleanup_close_ int dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return ko_error_setx (err, ENOENT, "container %s does not exist", id);
  _cleanup_state_ struct ko_state st = { 0 };
  if (state_read (dirfd, &st, err) < 0)
    return ko_error_wrap (err, "container %s", id);
  const char *now = state_status (&st);
  if (strcmp (now, status) != 0)
    return ko_error_setx (err, EINVAL, "container %s is %s, not %s", id, now,
                          status);
  return 0;
}

int
container_update (struct ko_global *g, const char *id,
                  const char *resources_json, ko_error **err)
{
  _cleanup_state_ struct ko_state st = { 0 };
  if (container_read_state (g, id, &st, err) < 0)
    return -1;
  const char *status = state_status (&st);
  if (strcmp (status, "running") != 0 && strcmp (status, "paused") != 0)
    return ko_error_setx (err, EINVAL, "container %s is %s, not running", id,
                          status);
  oci_linux_resources *res = oci_linux_resources_parse_data (
      resources_json, strlen (resources_json), "update", err);
  int ok = res ? translate_check_resources (res, "update", err) : -1;
  oci_linux_resources_free (res);
  if (ok < 0)
    return -1;
  _cleanup_free_ char *dir = member_monitor_dir (g, &st);
  int r = client_update (dir, id, resources_json, CLI_MONITOR_TIMEOUT_MS, err);
  return r < 0 ? ko_error_wrap (err, "update %s", id) : 0;
}
