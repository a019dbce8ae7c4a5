#include "config.h"

#include "cgroup.h"

#include "devfilter.h"
#include "hostpath.h"
#include "log.h"
#include "msg.h"
#include "policy.h"
#include "translate-internal.h"
#include "translate.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char **
strv_dup (char *const *v, size_t n, size_t *out_n)
{
  char **r = calloc (n + 1, sizeof *r);
  if (r == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if ((r[i] = strdup (v[i])) == NULL)
      {
        ko_strv_free (r);
        return NULL;
      }
  *out_n = n;
  return r;
}

static const struct
{
  const char *name;
  int type;
} rlimit_names[] = {
  { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },
  { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },
  { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
  { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_STACK", RLIMIT_STACK },
};

/* The guest kernel's fs.nr_open: the most RLIMIT_NOFILE can be. */
#define KO_GUEST_NR_OPEN (1 << 20)

/* What the agent accepts (proto.h), checked before anything starts so that
 * the error names the field. */
static int
check_strings (const char *where, char *const *v, size_t n, ko_error **err)
{
  if (n > KO_MAX_STRINGS)
    return ko_error_setx (err, E2BIG,
                          "config.json: %s: %zu entries, more than the limit "
                          "of %u",
                          where, n, KO_MAX_STRINGS);
  for (size_t i = 0; i < n; i++)
    if (v[i] && strlen (v[i]) > KO_MAX_STRING)
      return ko_error_setx (err, E2BIG,
                            "config.json: %s[%zu]: %zu bytes, more than the "
                            "limit of %u",
                            where, i, strlen (v[i]), KO_MAX_STRING);
  return 0;
}

/* A list of the container the agent takes at most KO_MAX_STRINGS of. */
static int
check_count (const char *where, size_t n, ko_error **err)
{
  if (n > KO_MAX_STRINGS)
    return ko_error_setx (err, E2BIG,
                          "config.json: %s: %zu entries, more than the limit "
                          "of %u",
                          where, n, KO_MAX_STRINGS);
  return 0;
}

/* environ's entries, as runc checks them: NAME=VALUE with a name */
static int
check_env (char *const *v, size_t n, ko_error **err)
{
  for (size_t i = 0; i < n; i++)
    {
      const char *eq = v[i] ? strchr (v[i], '=') : NULL;
      if (eq == NULL || eq == v[i])
        return ko_error_setx (err, EINVAL,
                              "config.json: process.env[%zu]: \"%.64s\" is "
                              "not NAME=VALUE%s",
                              i, v[i] ? v[i] : "",
                              eq ? " (the name is empty)" : "");
    }
  return 0;
}

static int
check_process_sizes (const oci_process *op, ko_error **err)
{
  if (check_strings ("process.args", op->args, op->args_len, err) < 0
      || check_strings ("process.env", op->env, op->env_len, err) < 0
      || check_env (op->env, op->env_len, err) < 0)
    return -1;
  if (op->cwd && strlen (op->cwd) > PATH_MAX)
    return ko_error_setx (err, E2BIG,
                          "config.json: process.cwd: %zu bytes, more than the "
                          "limit of %d",
                          strlen (op->cwd), PATH_MAX);
  if (op->user && op->user->additional_gids_len > KO_MAX_STRINGS)
    return ko_error_setx (err, E2BIG,
                          "config.json: process.user.additionalGids: %zu "
                          "entries, more than the limit of %u",
                          op->user->additional_gids_len, KO_MAX_STRINGS);
  if (op->rlimits_len > KO_MAX_STRINGS)
    return ko_error_setx (err, E2BIG,
                          "config.json: process.rlimits: %zu entries, more "
                          "than the limit of %u",
                          op->rlimits_len, KO_MAX_STRINGS);
  return 0;
}

int
translate_check_message (const char *what, size_t len, ko_error **err)
{
  /* the frame's own prefix and the request's ids fit in the slack */
  if (len > KO_FRAME_MAX_PAYLOAD - 64)
    return ko_error_setx (err, E2BIG,
                          "config.json: %s takes %zu bytes to send to the "
                          "guest, more than the limit of %u (args, env, "
                          "mounts, sysctls and seccomp rules all count)",
                          what, len, KO_FRAME_MAX_PAYLOAD - 64);
  return 0;
}

static const char *const sched_policies[] = {
  "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",       "SCHED_BATCH",
  "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE",
};
static const char *const sched_flags[] = {
  "SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",
  "SCHED_FLAG_DL_OVERRUN",     "SCHED_FLAG_KEEP_POLICY",
  "SCHED_FLAG_KEEP_PARAMS",    "SCHED_FLAG_UTIL_CLAMP_MIN",
  "SCHED_FLAG_UTIL_CLAMP_MAX",
};

/* The index of s in names[0..n), or n. */
static size_t
name_index (const char *const *names, size_t n, const char *s)
{
  size_t i = 0;
  while (i < n && strcmp (s, names[i]) != 0)
    i++;
  return i;
}

/* process.scheduler into sched_setattr's attributes, with runc's checks:
 * the kernel checks the rest when the agent applies them. */
static int
translate_scheduler (const oci_scheduler *sc, struct ko_sched_attr *a,
                     ko_error **err)
{
  size_t i
      = name_index (sched_policies, KO_ARRAY_SIZE (sched_policies), sc->policy);
  if (i == KO_ARRAY_SIZE (sched_policies))
    return ko_error_setx (err, EINVAL,
                          "config.json: process.scheduler.policy: unknown "
                          "policy \"%s\"",
                          sc->policy);
  if (i == 4)
    return ko_error_setx (err, EINVAL,
                          "config.json: process.scheduler.policy: "
                          "SCHED_ISO is not implemented by Linux");
  a->policy = (uint32_t)i;
  if (sc->nice < -20 || sc->nice > 19)
    return ko_error_setx (err, EINVAL,
                          "config.json: process.scheduler.nice: %d is outside "
                          "-20 to 19",
                          sc->nice);
  bool rt = i == 1 || i == 2;
  if (rt ? sc->priority < 1 || sc->priority > 99 : sc->priority != 0)
    return ko_error_setx (err, EINVAL,
                          "config.json: process.scheduler.priority: %d: %s",
                          sc->priority,
                          rt ? "SCHED_FIFO and SCHED_RR take 1 to 99"
                             : "only SCHED_FIFO and SCHED_RR take one");
  if (i != 6 && (sc->runtime || sc->deadline || sc->period))
    return ko_error_setx (err, EINVAL,
                          "config.json: process.scheduler: runtime, deadline "
                          "and period are SCHED_DEADLINE's only");
  for (size_t k = 0; k < sc->flags_len; k++)
    {
      size_t f
          = name_index (sched_flags, KO_ARRAY_SIZE (sched_flags), sc->flags[k]);
      if (f == KO_ARRAY_SIZE (sched_flags))
        return ko_error_setx (err, EINVAL,
                              "config.json: process.scheduler.flags[%zu]: "
                              "unknown flag \"%s\"",
                              k, sc->flags[k]);
      if (f >= 5)
        return ko_error_setx (err, EINVAL,
                              "config.json: process.scheduler.flags[%zu]: "
                              "%s needs a utilization value, which the "
                              "spec has no field for",
                              k, sc->flags[k]);
      a->flags |= 1ull << f;
    }
  a->nice = sc->nice;
  a->priority = (uint32_t)sc->priority;
  a->runtime = sc->runtime;
  a->deadline = sc->deadline;
  a->period = sc->period;
  a->size = sizeof *a;
  return 0;
}

static int
translate_io_priority (const oci_io_priority *io, uint32_t *out, ko_error **err)
{
  static const char *const classes[]
      = { "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE" };
  size_t i = name_index (classes, KO_ARRAY_SIZE (classes), io->class);
  if (i == KO_ARRAY_SIZE (classes))
    return ko_error_setx (err, EINVAL,
                          "config.json: process.ioPriority.class: unknown "
                          "class \"%s\"",
                          io->class);
  if (io->priority < 0 || io->priority > 7)
    return ko_error_setx (err, EINVAL,
                          "config.json: process.ioPriority.priority: %d is "
                          "outside 0 to 7",
                          io->priority);
  /* the kernel's IOPRIO_PRIO_VALUE: the class above 13 bits of level */
  *out = (uint32_t)(i + 1) << 13 | (uint32_t)io->priority;
  return 0;
}

int
translate_process (const oci_process *op, struct ko_process *p, ko_error **err)
{
  memset (p, 0, sizeof *p);
  if (check_process_sizes (op, err) < 0)
    return -1;
  p->args = strv_dup (op->args, op->args_len, &p->nargs);
  p->env = strv_dup (op->env, op->env_len, &p->nenv);
  p->cwd = strdup (op->cwd ? op->cwd : "/");
  if (p->args == NULL || p->env == NULL || p->cwd == NULL)
    goto nomem;
  if (op->cwd && op->cwd[0] != '/')
    {
      ko_process_clear (p);
      return ko_error_setx (err, EINVAL,
                            "config.json: process.cwd: must be an absolute "
                            "path, not \"%s\"",
                            op->cwd);
    }
  if (op->user)
    {
      p->uid = op->user->uid;
      p->gid = op->user->gid;
      p->has_umask = op->user->has_umask;
      p->umask = op->user->umask;
      if (op->user->additional_gids_len)
        {
          p->add_gids
              = calloc (op->user->additional_gids_len, sizeof *p->add_gids);
          if (p->add_gids == NULL)
            goto nomem;
          memcpy (p->add_gids, op->user->additional_gids,
                  op->user->additional_gids_len * sizeof *p->add_gids);
          p->nadd_gids = op->user->additional_gids_len;
        }
    }
  p->terminal = op->terminal;
  if (op->has_console_size)
    {
      p->rows = op->console_height;
      p->cols = op->console_width;
    }
  if (op->rlimits_len)
    {
      p->rlimits = calloc (op->rlimits_len, sizeof *p->rlimits);
      if (p->rlimits == NULL)
        goto nomem;
      for (size_t i = 0; i < op->rlimits_len; i++)
        {
          size_t j;
          for (j = 0; j < KO_ARRAY_SIZE (rlimit_names); j++)
            if (strcmp (op->rlimits[i].type, rlimit_names[j].name) == 0)
              break;
          if (j == KO_ARRAY_SIZE (rlimit_names))
            {
              char *t = strdup (op->rlimits[i].type);
              ko_process_clear (p);
              ko_error_setx (err, EINVAL,
                             "config.json: process.rlimits[%zu].type: "
                             "unknown rlimit \"%s\"",
                             i, t ? t : "");
              free (t);
              return -1;
            }
          if (op->rlimits[i].soft > op->rlimits[i].hard)
            {
              ko_process_clear (p);
              return ko_error_setx (err, EINVAL,
                                    "config.json: process.rlimits[%zu]: soft "
                                    "limit exceeds hard limit",
                                    i);
            }
          /* the runtime spec: a type twice MUST be an error */
          for (size_t k = 0; k < i; k++)
            if (p->rlimits[k].type == (uint32_t)rlimit_names[j].type)
              {
                ko_process_clear (p);
                return ko_error_setx (err, EINVAL,
                                      "config.json: process.rlimits[%zu]: "
                                      "%s again (also rlimits[%zu])",
                                      i, rlimit_names[j].name, k);
              }
          /* above the guest's fs.nr_open (its default: the sysctl is not
           * namespaced, so no container changes it) setrlimit fails in the
           * guest, with less to say */
          if (rlimit_names[j].type == RLIMIT_NOFILE
              && op->rlimits[i].hard > KO_GUEST_NR_OPEN)
            {
              ko_process_clear (p);
              return ko_error_setx (err, EINVAL,
                                    "config.json: process.rlimits[%zu]: "
                                    "RLIMIT_NOFILE hard limit %llu is above "
                                    "the guest's fs.nr_open (%d)",
                                    i, (unsigned long long)op->rlimits[i].hard,
                                    KO_GUEST_NR_OPEN);
            }
          p->rlimits[i].type = rlimit_names[j].type;
          p->rlimits[i].soft = op->rlimits[i].soft;
          p->rlimits[i].hard = op->rlimits[i].hard;
        }
      p->nrlimits = op->rlimits_len;
    }
  if (op->capabilities)
    {
      if (policy_caps (op->capabilities, "config.json: process.capabilities",
                       p->caps, err)
          < 0)
        {
          ko_process_clear (p);
          return -1;
        }
      p->has_caps = true;
      /* the kernel raises an ambient capability only when it is both
       * permitted and inheritable; runc warns about the others and starts
       * the process without them (runc spec has ambient but no inheritable
       * set), so the agent is sent only those it can raise */
      const oci_capabilities *c = op->capabilities;
      uint64_t keep = p->caps[2] & p->caps[3];
      for (size_t i = 0; i < c->ambient_len; i++)
        if (!(keep & (1ull << policy_cap_value (c->ambient[i]))))
          log_warn ("config.json: process.capabilities.ambient[%zu]: %s "
                    "is not both permitted and inheritable: not raised",
                    i, c->ambient[i]);
      p->caps[4] &= keep;
    }
  p->no_new_privs = op->no_new_privileges;
  if (op->has_oom_score_adj
      && (op->oom_score_adj < -1000 || op->oom_score_adj > 1000))
    {
      ko_process_clear (p);
      return ko_error_setx (err, EINVAL,
                            "config.json: process.oomScoreAdj: %d is outside "
                            "-1000 to 1000",
                            op->oom_score_adj);
    }
  p->has_oom_score_adj = op->has_oom_score_adj;
  p->oom_score_adj = op->oom_score_adj;
  if ((op->scheduler && translate_scheduler (op->scheduler, &p->sched, err) < 0)
      || (op->io_priority
          && translate_io_priority (op->io_priority, &p->ioprio, err) < 0))
    {
      ko_process_clear (p);
      return -1;
    }
  p->has_ioprio = op->io_priority != NULL;
  return 0;
nomem:
  ko_process_clear (p);
  return ko_error_set (err, ENOMEM, "process");
}

int
translate_seccomp (const oci_spec *spec, struct ko_process *p, ko_error **err)
{
  if (spec->linux == NULL || spec->linux->seccomp == NULL)
    return 0;
  free (p->seccomp);
  p->seccomp = NULL;
  p->seccomp_len = 0;
  return policy_seccomp (spec->linux->seccomp, &p->seccomp, &p->seccomp_len,
                         &p->seccomp_flags, err);
}

/* ---- linux ---- */

static const struct
{
  const char *type;
  uint64_t flag;
} ns_types[] = {
  { "pid", CLONE_NEWPID },       { "network", CLONE_NEWNET },
  { "mount", CLONE_NEWNS },      { "ipc", CLONE_NEWIPC },
  { "uts", CLONE_NEWUTS },       { "user", CLONE_NEWUSER },
  { "cgroup", CLONE_NEWCGROUP }, { "time", 0x80 /* CLONE_NEWTIME */ },
};

/* linux.timeOffsets as the guest kernel's timens_offsets takes them, for
 * the container's own time namespace (as runc: none without one) */
static int
translate_time_offsets (const oci_linux *l, uint64_t ns,
                        struct ko_container_spec *s, ko_error **err)
{
  if (l->time_offsets_len == 0)
    return 0;
  if (!(ns & 0x80 /* CLONE_NEWTIME */))
    return ko_error_setx (err, EINVAL,
                          "config.json: linux.timeOffsets: set, but "
                          "linux.namespaces has no time namespace");
  struct ko_buf b = { 0 };
  for (size_t i = 0; i < l->time_offsets_len; i++)
    {
      const oci_time_offset *t = &l->time_offsets[i];
      if (strcmp (t->clock, "monotonic") != 0
          && strcmp (t->clock, "boottime") != 0)
        {
          ko_buf_free (&b);
          return ko_error_setx (err, EINVAL,
                                "config.json: linux.timeOffsets.%s: unknown "
                                "clock (monotonic or boottime)",
                                t->clock);
        }
      if (t->has_secs && t->secs < 0)
        {
          ko_buf_free (&b);
          return ko_error_setx (err, EINVAL,
                                "config.json: linux.timeOffsets.%s.secs: "
                                "%lld: the VM has just booted, and its clock "
                                "may not go below zero",
                                t->clock, (long long)t->secs);
        }
      if (t->has_nanosecs && t->nanosecs >= 1000000000)
        {
          ko_buf_free (&b);
          return ko_error_setx (err, EINVAL,
                                "config.json: linux.timeOffsets.%s.nanosecs: "
                                "%u is not below 1000000000",
                                t->clock, t->nanosecs);
        }
      char line[80];
      int n = snprintf (line, sizeof line, "%s %lld %u\n", t->clock,
                        (long long)(t->has_secs ? t->secs : 0),
                        t->has_nanosecs ? t->nanosecs : 0);
      if (ko_buf_append (&b, line, (size_t)n) < 0)
        {
          ko_buf_free (&b);
          return ko_error_set (err, ENOMEM, "timeOffsets");
        }
    }
  if (ko_buf_append (&b, "", 1) < 0)
    {
      ko_buf_free (&b);
      return ko_error_set (err, ENOMEM, "timeOffsets");
    }
  s->time_offsets = (char *)b.data;
  return 0;
}

static int
translate_namespaces (const oci_linux *l, uint64_t *out, ko_error **err)
{
  uint64_t ns = 0;
  bool net_path = false;
  for (size_t i = 0; i < l->namespaces_len; i++)
    {
      const oci_namespace *n = &l->namespaces[i];
      size_t j;
      for (j = 0; j < KO_ARRAY_SIZE (ns_types); j++)
        if (strcmp (n->type, ns_types[j].type) == 0)
          break;
      if (j == KO_ARRAY_SIZE (ns_types))
        return ko_error_setx (err, EINVAL,
                              "config.json: linux.namespaces[%zu].type: "
                              "unknown namespace \"%s\"",
                              i, n->type);
      if (ns & ns_types[j].flag)
        return ko_error_setx (err, EINVAL,
                              "config.json: linux.namespaces[%zu]: \"%s\" is "
                              "listed twice",
                              i, n->type);
      if (n->path && *n->path)
        {
          /* the namespace's interfaces go into the VM (network.c), and
           * the container has the guest's own network namespace */
          if (ns_types[j].flag == CLONE_NEWNET)
            {
              net_path = true;
              continue;
            }
          return ko_error_setx (err, ENOTSUP,
                                "config.json: linux.namespaces[%zu].path: "
                                "%s is a host namespace, which a container "
                                "inside a VM cannot join",
                                i, n->path);
        }
      ns |= ns_types[j].flag;
    }
  /* podman --network host, a hostNetwork pod: as with Kata Containers 2,
   * not an error, but not what runc would give either (in the log only: a
   * pod's members share its network, and leave the entry out too) */
  if (!(ns & CLONE_NEWNET) && !net_path)
    log_info ("config.json: linux.namespaces: no network namespace, which "
              "runc reads as the host's network: in its VM the container "
              "has the guest's own, with lo alone");
  *out = ns | CLONE_NEWNS;
  return 0;
}

/* Keys whose value belongs to a namespace, and which one. */
static uint64_t
sysctl_namespace (const char *k)
{
  static const char *const ipc[]
      = { "kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
          "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
          "kernel.shmmni", "kernel.shm_rmid_forced" };
  for (size_t i = 0; i < KO_ARRAY_SIZE (ipc); i++)
    if (strcmp (k, ipc[i]) == 0)
      return CLONE_NEWIPC;
  if (strncmp (k, "fs.mqueue.", 10) == 0)
    return CLONE_NEWIPC;
  if (strncmp (k, "net.", 4) == 0)
    return CLONE_NEWNET;
  if (strcmp (k, "kernel.hostname") == 0
      || strcmp (k, "kernel.domainname") == 0)
    return CLONE_NEWUTS;
  return 0;
}

static const char *
linux_network_path (const oci_linux *l)
{
  for (size_t i = 0; l && i < l->namespaces_len; i++)
    if (strcmp (l->namespaces[i].type, "network") == 0 && l->namespaces[i].path
        && *l->namespaces[i].path)
      return l->namespaces[i].path;
  return NULL;
}

const char *
translate_network_path (const oci_spec *spec)
{
  return linux_network_path (spec->linux);
}

static int
translate_sysctl (const oci_linux *l, uint64_t ns, bool net_path,
                  struct ko_container_spec *s, ko_error **err)
{
  const oci_map *m = &l->sysctl;
  for (size_t i = 0; i < m->len; i++)
    {
      const char *k = m->keys[i];
      uint64_t need = sysctl_namespace (k);
      if (need == 0 || strstr (k, "..") || strchr (k, '/'))
        return ko_error_setx (err, EINVAL,
                              "config.json: linux.sysctl: \"%s\" is not a "
                              "namespaced key (allowed: kernel.msg*, "
                              "kernel.sem, kernel.shm*, fs.mqueue.*, net.*, "
                              "kernel.hostname, kernel.domainname)",
                              k);
      /* with a network path the container has the guest's own network
       * namespace, which carries that namespace's interfaces */
      if (need == CLONE_NEWNET && net_path)
        need = 0;
      if (need && !(ns & need))
        return ko_error_setx (err, EINVAL,
                              "config.json: linux.sysctl: \"%s\" needs a "
                              "private %s namespace in linux.namespaces",
                              k,
                              need == CLONE_NEWIPC   ? "ipc"
                              : need == CLONE_NEWNET ? "network"
                                                     : "uts");
      struct ko_sysctl kv
          = { strdup (k), m->values[i] ? strdup (m->values[i]) : NULL };
      if (kv.key == NULL || (m->values[i] && kv.value == NULL))
        {
          free (kv.key);
          free (kv.value);
          return ko_error_set (err, ENOMEM, "sysctl");
        }
      if (ko_container_spec_add_sysctl (s, &kv) < 0)
        return ko_error_set (err, ENOMEM, "sysctl");
    }
  return 0;
}

static int
translate_devices (const oci_linux *l, const char *id, bool host_blocks,
                   struct ko_container_spec *s, struct ko_disks *disks,
                   ko_error **err)
{
  size_t skipped = 0;
  for (size_t i = 0; i < l->devices_len; i++)
    {
      const oci_device *d = &l->devices[i];
      if (strlen (d->type) != 1 || !strchr ("cbup", d->type[0]))
        return ko_error_setx (err, EINVAL,
                              "config.json: linux.devices[%zu].type: unknown "
                              "device type \"%s\" (c, b, u or p)",
                              i, d->type);
      if (d->path[0] != '/' || strstr (d->path, ".."))
        return ko_error_setx (err, EINVAL,
                              "config.json: linux.devices[%zu].path: must be "
                              "an absolute path without \"..\", not \"%s\"",
                              i, d->path);
      if (d->type[0] != 'p' && (!d->has_major || !d->has_minor))
        return ko_error_setx (err, EINVAL,
                              "config.json: linux.devices[%zu]: a \"%s\" "
                              "device needs major and minor",
                              i, d->type);
      if ((d->has_major && d->major < 0) || (d->has_minor && d->minor < 0))
        return ko_error_setx (err, EINVAL,
                              "config.json: linux.devices[%zu]: negative "
                              "major or minor",
                              i);
      /* a host block device becomes a disk of the VM; the guest makes the
       * node with that disk's numbers (a node with the host's would lead
       * nowhere, or to a guest device of the same numbers) */
      char *disk = NULL;
      if (d->type[0] == 'b' && !host_blocks)
        {
          skipped++;
          continue;
        }
      if (d->type[0] == 'b')
        {
          bool ro = !blockdev_writable (l->resources, d->major, d->minor);
          if (blockdev_add_device (disks, d, i, ro, id, err) < 0)
            return -1;
          if ((disk = strdup (disks->v[disks->n - 1].serial)) == NULL)
            return ko_error_set (err, ENOMEM, "devices");
        }
      struct ko_device kd = {
        .type = (uint32_t)d->type[0],
        .path = strdup (d->path),
        .major = d->has_major ? (uint64_t)d->major : 0,
        .minor = d->has_minor ? (uint64_t)d->minor : 0,
        .mode = d->file_mode,
        .uid = d->uid,
        .gid = d->gid,
        .has_mode = d->has_file_mode,
        .has_uid = d->has_uid,
        .has_gid = d->has_gid,
        .disk = disk,
      };
      if (kd.path == NULL || ko_container_spec_add_device (s, &kd) < 0)
        return ko_error_set (err, ENOMEM, "devices");
    }
  if (skipped)
    log_debug ("config.json: linux.devices: a privileged container: the "
               "host's %zu block devices stay out of its VM",
               skipped);
  return 0;
}

static int
push_disk (struct ko_container_spec *s, const char *serial, ko_error **err)
{
  char *c = strdup (serial);
  if (c == NULL
      || ko_strv_push (&s->devfilter_disks, &s->ndevfilter_disks, c) < 0)
    {
      free (c);
      return ko_error_set (err, ENOMEM, "device rules");
    }
  return 0;
}

static int
translate_personality (const oci_personality *p, struct ko_container_spec *s,
                       ko_error **err)
{
  uint32_t v;
  if (strcmp (p->domain, "LINUX") == 0)
    v = PER_LINUX;
  else if (strcmp (p->domain, "LINUX32") == 0)
    v = PER_LINUX32;
  else
    return ko_error_setx (err, EINVAL,
                          "config.json: linux.personality.domain: unknown "
                          "domain \"%s\" (LINUX or LINUX32)",
                          p->domain);
  if (p->flags_len)
    return ko_error_setx (err, ENOTSUP,
                          "config.json: linux.personality.flags: \"%s\" is "
                          "not supported",
                          p->flags[0]);
  s->has_personality = true;
  s->personality = v;
  return 0;
}

static int
check_mapped (const struct ko_id_map *v, size_t n, uint32_t id,
              const char *field, const char *maps, ko_error **err)
{
  if (ko_id_maps_contain (v, n, id))
    return 0;
  return ko_error_setx (err, EINVAL,
                        "config.json: %s: %u is not mapped by linux.%s", field,
                        id, maps);
}

/* The maps go to the guest as they are: the guest kernel sees the host's ids
 * unchanged through virtio-fs, so hostID means the same on both sides. */
static int
translate_id_maps (const oci_linux *l, uint64_t ns, const oci_process *proc,
                   struct ko_container_spec *s, ko_error **err)
{
  if (!(ns & CLONE_NEWUSER))
    {
      if (l->uid_mappings_len || l->gid_mappings_len)
        return ko_error_setx (err, EINVAL,
                              "config.json: linux.%s: id mappings need a "
                              "user namespace in linux.namespaces",
                              l->uid_mappings_len ? "uidMappings"
                                                  : "gidMappings");
      return 0;
    }
  const struct
  {
    const char *name;
    const oci_id_mapping *m;
    size_t n;
    struct ko_id_map *v;
    size_t *nv;
  } maps[2] = {
    { "uidMappings", l->uid_mappings, l->uid_mappings_len, s->uid_map,
      &s->nuid_map },
    { "gidMappings", l->gid_mappings, l->gid_mappings_len, s->gid_map,
      &s->ngid_map },
  };
  for (int k = 0; k < 2; k++)
    {
      char what[64];
      snprintf (what, sizeof what, "config.json: linux.%s", maps[k].name);
      if (maps[k].n == 0)
        return ko_error_setx (err, EINVAL,
                              "%s: a user namespace needs %s mappings", what,
                              k == 0 ? "uid" : "gid");
      if (maps[k].n > KO_MAX_ID_MAPS)
        return ko_error_setx (err, EINVAL, "%s: %zu mappings, at most %d", what,
                              maps[k].n, KO_MAX_ID_MAPS);
      for (size_t i = 0; i < maps[k].n; i++)
        maps[k].v[i]
            = (struct ko_id_map){ maps[k].m[i].container_id,
                                  maps[k].m[i].host_id, maps[k].m[i].size };
      if (ko_id_maps_check (maps[k].v, maps[k].n, what, err) < 0)
        return -1;
      *maps[k].nv = maps[k].n;
    }
  /* an unmapped id would only fail later, in the guest, as "setuid: invalid
   * argument" */
  const oci_user *u = proc ? proc->user : NULL;
  size_t nu = l->uid_mappings_len, ng = l->gid_mappings_len;
  if (check_mapped (s->uid_map, nu, u ? u->uid : 0, "process.user.uid",
                    "uidMappings", err)
          < 0
      || check_mapped (s->gid_map, ng, u ? u->gid : 0, "process.user.gid",
                       "gidMappings", err)
             < 0)
    return -1;
  for (size_t i = 0; u && i < u->additional_gids_len; i++)
    {
      char field[64];
      snprintf (field, sizeof field, "process.user.additionalGids[%zu]", i);
      if (check_mapped (s->gid_map, ng, u->additional_gids[i], field,
                        "gidMappings", err)
          < 0)
        return -1;
    }
  return 0;
}

/* linux.maskedPaths or linux.readonlyPaths: absolute paths, copied */
static int
translate_paths (char **v, size_t n, const char *what, uint16_t tag,
                 struct ko_container_spec *s, ko_error **err)
{
  for (size_t i = 0; i < n; i++)
    {
      if (v[i][0] != '/')
        return ko_error_setx (err, EINVAL,
                              "config.json: linux.%s[%zu]: must be an "
                              "absolute path, not \"%s\"",
                              what, i, v[i]);
      char *c = strdup (v[i]);
      if (c == NULL || ko_container_spec_add_path (s, tag, c) < 0)
        return ko_error_set (err, ENOMEM, "linux.%s", what);
    }
  return 0;
}

static int
translate_linux (const oci_linux *l, const oci_process *proc, const char *id,
                 bool host_blocks, struct ko_container_spec *s,
                 struct ko_disks *disks, ko_error **err)
{
  uint64_t ns = 0;
  if (check_count ("linux.sysctl", l->sysctl.len, err) < 0
      || check_count ("linux.devices", l->devices_len, err) < 0
      || check_count ("linux.maskedPaths", l->masked_paths_len, err) < 0
      || check_count ("linux.readonlyPaths", l->readonly_paths_len, err) < 0
      || translate_namespaces (l, &ns, err) < 0)
    return -1;
  if (translate_id_maps (l, ns, proc, s, err) < 0)
    return -1;
  if (translate_time_offsets (l, ns, s, err) < 0)
    return -1;
  s->has_namespaces = true;
  s->namespaces = ns;
  if (translate_sysctl (l, ns, linux_network_path (l) != NULL, s, err) < 0)
    return -1;
  if (translate_devices (l, id, host_blocks, s, disks, err) < 0)
    return -1;
  if (l->rootfs_propagation && *l->rootfs_propagation
      && propagation_flags (l->rootfs_propagation, &s->rootfs_propagation) < 0)
    return ko_error_setx (err, EINVAL,
                          "config.json: linux.rootfsPropagation: unknown "
                          "propagation \"%s\"",
                          l->rootfs_propagation);
  if (translate_paths (l->masked_paths, l->masked_paths_len, "maskedPaths",
                       KO_TAG_MASKED_PATH, s, err)
          < 0
      || translate_paths (l->readonly_paths, l->readonly_paths_len,
                          "readonlyPaths", KO_TAG_READONLY_PATH, s, err)
             < 0)
    return -1;
  if (l->personality && translate_personality (l->personality, s, err) < 0)
    return -1;
  return 0;
}

void
binds_free (struct share_bind *binds, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (binds[i].source);
      free (binds[i].dest);
      free (binds[i].ctr_dest);
    }
  free (binds);
}

int
translate_resources_fill (const oci_linux_resources *r,
                          struct ko_resources *out)
{
  struct ko_resources k = { 0 };
  const oci_memory *m = r->memory;
  if (m && m->has_limit)
    ko_resources_set (&k, KO_TAG_R_MEM_LIMIT, m->limit);
  if (m && m->has_reservation)
    ko_resources_set (&k, KO_TAG_R_MEM_RESERVATION, m->reservation);
  if (m && m->has_swap)
    ko_resources_set (&k, KO_TAG_R_MEM_SWAP, m->swap);
  const oci_cpu *c = r->cpu;
  if (c && c->has_shares)
    ko_resources_set (&k, KO_TAG_R_CPU_SHARES, (int64_t)c->shares);
  if (c && c->has_quota)
    ko_resources_set (&k, KO_TAG_R_CPU_QUOTA, c->quota);
  if (c && c->has_period)
    ko_resources_set (&k, KO_TAG_R_CPU_PERIOD, (int64_t)c->period);
  if ((c && c->cpus
       && ko_resources_set_str (&k, KO_TAG_R_CPUSET_CPUS, c->cpus) < 0)
      || (c && c->mems
          && ko_resources_set_str (&k, KO_TAG_R_CPUSET_MEMS, c->mems) < 0))
    {
      ko_resources_clear (&k);
      return -1;
    }
  if (r->has_pids_limit)
    ko_resources_set (&k, KO_TAG_R_PIDS_LIMIT, r->pids_limit);
  if (r->block_io && r->block_io->has_weight)
    ko_resources_set (&k, KO_TAG_R_BLKIO_WEIGHT, r->block_io->weight);
  if (c && c->has_idle)
    ko_resources_set (&k, KO_TAG_R_CPU_IDLE, c->idle);
  if (c && c->has_burst)
    ko_resources_set (&k, KO_TAG_R_CPU_BURST, (int64_t)c->burst);
  if (r->unified.len)
    {
      /* FILE=LINE, a line each for a value of several lines (io.max of
       * two devices), as runc writes them */
      struct ko_buf u = { 0 };
      int e = 0;
      for (size_t i = 0; i < r->unified.len; i++)
        {
          const char *v = r->unified.values[i];
          do
            {
              size_t n = strcspn (v, "\n");
              if (n || !*v)
                e |= ko_buf_append (&u, r->unified.keys[i],
                                    strlen (r->unified.keys[i]))
                     | ko_buf_append (&u, "=", 1) | ko_buf_append (&u, v, n)
                     | ko_buf_append (&u, "\n", 1);
              v += n + (v[n] == '\n');
            }
          while (*v);
        }
      e |= ko_buf_append (&u, "", 1);
      if (e || ko_resources_set_str (&k, KO_TAG_R_UNIFIED, (char *)u.data) < 0)
        {
          ko_buf_free (&u);
          ko_resources_clear (&k);
          return -1;
        }
      ko_buf_free (&u);
    }
  *out = k;
  return 0;
}

int
translate_check_resources (const oci_linux_resources *r, const char *where,
                           ko_error **err)
{
  const oci_cpu *c = r->cpu;
  if (c && c->has_idle && c->idle != 0 && c->idle != 1)
    return ko_error_setx (err, EINVAL,
                          "%s: cpu.idle: %lld: expected 0 or 1 (SCHED_IDLE "
                          "for the whole group)",
                          where, (long long)c->idle);
  if (c && c->has_burst && c->burst > (uint64_t)INT64_MAX)
    return ko_error_setx (err, EINVAL, "%s: cpu.burst: %llu: out of range",
                          where, (unsigned long long)c->burst);
  if (c && c->cpus && *c->cpus)
    {
      /* the VM's threads are pinned to them on the host (cgroup.h) */
      char w[128];
      cpu_set_t set;
      snprintf (w, sizeof w, "%s: cpu.cpus", where);
      if (cgroup_cpus_allowed (c->cpus, w, &set, err) < 0)
        return -1;
    }
  for (size_t i = 0; i < r->unified.len; i++)
    {
      const char *k = r->unified.keys[i], *dot = strchr (k, '.');
      if (strchr (k, '/'))
        return ko_error_setx (err, EINVAL,
                              "%s: unified: \"%s\": must be a file name "
                              "(no slashes)",
                              where, k);
      if (dot == NULL || dot == k || dot[1] == '\0'
          || k[strspn (k, "abcdefghijklmnopqrstuvwxyz0123456789_.")])
        return ko_error_setx (err, EINVAL,
                              "%s: unified: \"%s\": must be in the form "
                              "CONTROLLER.PARAMETER",
                              where, k);
      /* the agent's own: which processes the group holds, and its
       * children's controllers */
      if (strcmp (k, "cgroup.procs") == 0 || strcmp (k, "cgroup.threads") == 0
          || strcmp (k, "cgroup.subtree_control") == 0)
        return ko_error_setx (err, EINVAL,
                              "%s: unified: \"%s\": not a resource (the "
                              "runtime manages it)",
                              where, k);
    }
  const oci_memory *m = r->memory;
  if (m && m->has_limit && m->limit != -1
      && (m->limit < 0 || m->limit < KO_MIN_MEMORY_LIMIT))
    return ko_error_setx (err, EINVAL,
                          "%s: memory.limit: %lld: expected -1 (no limit) or "
                          "at least %d bytes (6 MiB): below that the "
                          "container is OOM-killed at once",
                          where, (long long)m->limit, KO_MIN_MEMORY_LIMIT);
  if (m && m->has_reservation && m->reservation < -1)
    return ko_error_setx (err, EINVAL,
                          "%s: memory.reservation: %lld: expected -1 (none) "
                          "or a size in bytes",
                          where, (long long)m->reservation);
  if (m && m->has_swap && m->swap < -1)
    return ko_error_setx (err, EINVAL,
                          "%s: memory.swap: %lld: expected -1 (no limit) or "
                          "a size in bytes",
                          where, (long long)m->swap);
  return 0;
}

/* The device program. Each guest disk the container gets (linux.devices
 * of type b, binds of host block devices, block volumes) has a slot,
 * allowed: the host hands the container these disks, and the spec's rules
 * name the host's numbers, which the guest's do not follow. A block
 * volume needs one too: the container's init mounts it, inside the
 * group. Other containers' disks stay denied. */
static int
translate_devfilter (const oci_linux *l, struct ko_container_spec *s,
                     ko_error **err)
{
  for (size_t i = 0; i < s->ndevices; i++)
    if (s->devices[i].disk && push_disk (s, s->devices[i].disk, err) < 0)
      return -1;
  for (size_t i = 0; i < s->nmounts; i++)
    if (s->mounts[i].disk && push_disk (s, s->mounts[i].disk, err) < 0)
      return -1;
  return devfilter_compile (l, s->ndevfilter_disks, &s->devfilter,
                            &s->devfilter_len, err);
}

bool
translate_privileged (const oci_spec *spec)
{
  const char *v
      = oci_map_get (&spec->annotations, "io.podman.annotations.privileged");
  return v && strcasecmp (v, "true") == 0;
}

int
translate_container_spec (const oci_spec *spec, const char *bundle,
                          const char *id, bool host_devices,
                          struct ko_container_spec *out,
                          struct share_bind **binds, size_t *nbinds,
                          struct ko_disks *disks, ko_error **err)
{
  struct ko_container_spec s = { 0 };
  struct share_bind *bv = NULL;
  size_t nb = 0;
  *binds = NULL;
  *nbinds = 0;
  if (check_count ("mounts", spec->mounts_len, err) < 0)
    return -1;
  if (spec->domainname && (s.domainname = strdup (spec->domainname)) == NULL)
    return ko_error_set (err, ENOMEM, "domainname");
  s.root_readonly = spec->root && spec->root->readonly;
  _cleanup_free_ char *rootfs = NULL;
  if (spec->root && spec->root->path && spec->root->path[0] == '/')
    rootfs = strdup (spec->root->path);
  else if (spec->root && spec->root->path
           && asprintf (&rootfs, "%s/%s", bundle, spec->root->path) < 0)
    rootfs = NULL;
  for (size_t i = 0; i < spec->mounts_len; i++)
    {
      struct ko_mount m;
      if (translate_mount (&spec->mounts[i], i, bundle, rootfs, id, &m, &bv,
                           &nb, spec, disks, err)
          < 0)
        goto fail;
      if (ko_container_spec_add_mount (&s, &m) < 0)
        {
          ko_error_set (err, ENOMEM, "mounts");
          goto fail;
        }
    }
  if (spec->linux
      && translate_linux (spec->linux, spec->process, id,
                          host_devices || !translate_privileged (spec), &s,
                          disks, err)
             < 0)
    goto fail;
  if (translate_devfilter (spec->linux, &s, err) < 0)
    goto fail;
  const oci_linux_resources *res = spec->linux ? spec->linux->resources : NULL;
  if (blockdev_apply_throttles (disks, res, "config.json: linux.resources",
                                NULL, err)
      < 0)
    goto fail;
  if (res
      && translate_check_resources (res, "config.json: linux.resources", err)
             < 0)
    goto fail;
  if (res && translate_resources_fill (res, &s.resources) < 0)
    {
      ko_error_set (err, ENOMEM, "linux.resources");
      goto fail;
    }
  s.has_resources = res != NULL;
  *out = s;
  *binds = bv;
  *nbinds = nb;
  return 0;
fail:
  ko_container_spec_clear (&s);
  binds_free (bv, nb);
  ko_disks_clear (disks);
  return -1;
}

int
translate_container (const oci_spec *spec, const char *bundle, const char *id,
                     bool host_devices, const struct ko_rootfs_disk *rd,
                     struct ko_buf *b, struct share_bind **binds,
                     size_t *nbinds, struct ko_disks *disks, ko_error **err)
{
  struct ko_container_spec s;
  if (translate_container_spec (spec, bundle, id, host_devices, &s, binds,
                                nbinds, disks, err)
      < 0)
    return -1;
  int r = 0;
  if (rd && rd->serial[0])
    {
      s.rootfs_disk = strdup (rd->serial);
      s.rootfs_disk_type = strdup (rd->fstype);
      s.rootfs_disk_data = rd->data ? strdup (rd->data) : NULL;
      s.rootfs_disk_flags = rd->guest_flags;
      r = !s.rootfs_disk || !s.rootfs_disk_type
          || (rd->data && !s.rootfs_disk_data);
    }
  if (r == 0)
    r = ko_container_spec_encode (b, &s);
  ko_container_spec_clear (&s);
  if (r == 0)
    return 0;
  binds_free (*binds, *nbinds);
  *binds = NULL;
  *nbinds = 0;
  ko_disks_clear (disks);
  return ko_error_set (err, ENOMEM, "the container's fields");
}

/* the controllers of the guest's cgroup v2 */
static const char *const v2_controllers[]
    = { "cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc" };

int
translate_exec_cgroup (char *const *args, size_t n, char **sub, ko_error **err)
{
  *sub = NULL;
  const char *path = NULL, *first = NULL;
  for (size_t i = 0; i < n; i++)
    {
      const char *a = args[i], *colon = strchr (a, ':');
      const char *p = colon ? colon + 1 : a;
      for (const char *c = a; colon;)
        {
          size_t l = strcspn (c, ",:");
          size_t k = KO_ARRAY_SIZE (v2_controllers);
          if (l > 0)
            for (k = 0; k < KO_ARRAY_SIZE (v2_controllers); k++)
              if (strlen (v2_controllers[k]) == l
                  && strncmp (v2_controllers[k], c, l) == 0)
                break;
          if (k == KO_ARRAY_SIZE (v2_controllers))
            return ko_error_setx (
                err, EINVAL,
                "exec: --cgroup %s: unknown controller \"%.*s\" (the "
                "guest's cgroup v2 has cpuset, cpu, io, memory, hugetlb, "
                "pids, rdma and misc)",
                a, (int)(l > 64 ? 64 : l), c);
          c += l;
          if (*c++ != ',')
            break;
        }
      if (path && strcmp (path, p) != 0)
        return ko_error_setx (err, EINVAL,
                              "exec: --cgroup %s and --cgroup %s: with "
                              "cgroup v2 every controller is in the same "
                              "group",
                              first, a);
      path = p;
      first = a;
    }
  if (path == NULL)
    return 0;
    /* below the container's group, cleaned as runc's cgroupfs path: under
     * a top component no name has, so that ".." past the container's group
     * shows as the top's loss (cgroup_clean_path never climbs above "/") */
#define TOP "/\x01"
  for (const char *c = path; *c; c++)
    if ((unsigned char)*c < 0x20)
      return ko_error_setx (err, EINVAL,
                            "exec: --cgroup %s: a control character in the "
                            "path",
                            first);
  char in[PATH_MAX + 8], out[PATH_MAX];
  if (snprintf (in, sizeof in, TOP "/%s", path) >= (int)sizeof in
      || cgroup_clean_path (in, out, sizeof out) < 0)
    return ko_error_setx (err, ENAMETOOLONG, "exec: --cgroup: path too long");
  size_t top = strlen (TOP);
  if (strncmp (out, TOP, top) != 0 || (out[top] != '\0' && out[top] != '/'))
    return ko_error_setx (err, EINVAL,
                          "exec: --cgroup %s: outside the container's cgroup",
                          first);
#undef TOP
  if (out[top] && (*sub = strdup (out + top + 1)) == NULL)
    return ko_error_set (err, ENOMEM, "exec: --cgroup");
  return 0;
}
