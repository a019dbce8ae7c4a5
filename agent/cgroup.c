/* One cgroup v2 group per container, /sys/fs/cgroup/pod/<id>: the freezer
 * for Pause/Resume, the authoritative list of the container's processes,
 * its resource limits, statistics and OOM kills. The VM is one pod, so
 * every container's group sits under the one pod group, as a pod's
 * containers do under their pod's group on a node: pod-wide usage is
 * pod/'s own, and containers' weights are relative to each other. */
#define _GNU_SOURCE
#include "agent-linux.h"
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_POD CGROUP_ROOT "/pod"
#define FREEZE_TIMEOUT_MS 5000
/* CGROUP_POD/<id>/<file>: an id is one path component, so at most
 * NAME_MAX; small buffers keep the agent's stack (and RSS) small */
#define CG_PATH_MAX (sizeof CGROUP_POD + NAME_MAX + 32)

static bool cgroup_ok;

void
cgroup_init (void)
{
  if (mount ("cgroup2", CGROUP_ROOT, "cgroup2",
             MS_NOSUID | MS_NODEV | MS_NOEXEC, "nsdelegate")
      < 0)
    {
      ag_log ("mount cgroup2: %s (no pause/resume)", strerror (errno));
      return;
    }
  if (mkdir (CGROUP_POD, 0755) < 0 && errno != EEXIST)
    {
      ag_log ("mkdir %s: %s (no pause/resume)", CGROUP_POD, strerror (errno));
      return;
    }
  cgroup_ok = true;
  /* one at a time: a controller the kernel lacks must not block the rest */
  static const char ctl[][8] = { "+memory", "+cpu", "+cpuset", "+pids", "+io" };
  for (size_t i = 0; i < KO_ARRAY_SIZE (ctl); i++)
    if (ag_write_str (CGROUP_ROOT "/cgroup.subtree_control", ctl[i]) < 0
        || ag_write_str (CGROUP_POD "/cgroup.subtree_control", ctl[i]) < 0)
      ag_dbg ("cgroup controller %s: %s", ctl[i] + 1, strerror (errno));
}

static int
group_path (char *buf, size_t n, const char *id, const char *file)
{
  if (!ag_relpath_ok (id) || strchr (id, '/') || strcmp (id, ".") == 0)
    return -1;
  int r = snprintf (buf, n, CGROUP_POD "/%s%s%s", id, file ? "/" : "",
                    file ? file : "");
  return r < 0 || (size_t)r >= n ? -1 : 0;
}

int
cgroup_create (const char *id, ko_error **err)
{
  char p[CG_PATH_MAX];
  if (!cgroup_ok)
    return 0;
  if (group_path (p, sizeof p, id, NULL) < 0)
    return ko_error_setx (err, EINVAL,
                          "container id %s: not usable as a "
                          "cgroup name",
                          id);
  if (mkdir (p, 0755) < 0 && errno != EEXIST)
    return ag_error_set (err, errno, "mkdir %s", p);
  return 0;
}

void
cgroup_remove (const char *id)
{
  char p[CG_PATH_MAX];
  if (cgroup_ok && group_path (p, sizeof p, id, NULL) == 0)
    rmdir (p);
}

int
cgroup_enter (const char *id, pid_t pid, ko_error **err)
{
  char p[CG_PATH_MAX], v[16];
  if (!cgroup_ok)
    return 0;
  if (group_path (p, sizeof p, id, "cgroup.procs") < 0)
    return ko_error_setx (err, EINVAL, "bad cgroup name");
  snprintf (v, sizeof v, "%d", (int)pid);
  if (ag_write_str (p, v) < 0)
    return ag_error_set (err, errno, "join cgroup %s", id);
  return 0;
}

int
cgroup_open (const char *id)
{
  char p[CG_PATH_MAX];
  if (!cgroup_ok || group_path (p, sizeof p, id, NULL) < 0)
    return -1;
  return open (p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

bool
cgroup_available (void)
{
  return cgroup_ok;
}

size_t
cgroup_pids (const char *id, pid_t **out)
{
  char p[CG_PATH_MAX];
  *out = NULL;
  if (!cgroup_ok || group_path (p, sizeof p, id, "cgroup.procs") < 0)
    return 0;
  _cleanup_close_ int fd = open (p, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  pid_t *v = NULL;
  size_t n = 0;
  long cur = -1;
  char buf[512];
  ssize_t got;
  /* one decimal pid per line; no stdio scanf, it is big */
  while ((got = read (fd, buf, sizeof buf)) > 0)
    for (ssize_t i = 0; i < got; i++)
      {
        if (buf[i] >= '0' && buf[i] <= '9')
          {
            cur = (cur < 0 ? 0 : cur * 10) + (buf[i] - '0');
            continue;
          }
        if (cur > 0)
          {
            pid_t *nv = realloc (v, (n + 1) * sizeof *v);
            if (nv == NULL)
              break;
            v = nv;
            v[n++] = (pid_t)cur;
          }
        cur = -1;
      }
  *out = v;
  return n;
}

static int
frozen_state (const char *events)
{
  char buf[256];
  int fd = open (events, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  /* not strstr: musl's pulls in 1 KB of two-way search (ag_cg_sum) */
  uint64_t v;
  return ag_cg_sum (buf, "frozen", &v) ? v == 1 : -1;
}

int
cgroup_freeze (const char *id, bool freeze, ko_error **err)
{
  char p[CG_PATH_MAX], ev[CG_PATH_MAX];
  if (!cgroup_ok)
    return ko_error_setx (err, ENOSYS,
                          "pause: the guest kernel has no cgroup v2");
  if (group_path (p, sizeof p, id, "cgroup.freeze") < 0
      || group_path (ev, sizeof ev, id, "cgroup.events") < 0)
    return ko_error_setx (err, EINVAL, "bad cgroup name");
  if (ag_write_str (p, freeze ? "1" : "0") < 0)
    return ag_error_set (err, errno, "%s container %s",
                         freeze ? "freeze" : "thaw", id);
  /* freezing completes asynchronously: wait until every task stopped */
  for (int waited = 0; waited < FREEZE_TIMEOUT_MS; waited += 10)
    {
      int st = frozen_state (ev);
      if (st < 0 || st == (int)freeze)
        return 0;
      struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
  return ko_error_setx (err, ETIMEDOUT, "%s container %s: timed out",
                        freeze ? "freeze" : "thaw", id);
}

/* Reads path into buf (NUL-terminated); -1 if unreadable. */
static ssize_t
read_path (const char *p, char *buf, size_t n)
{
  int fd = open (p, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  size_t got = 0;
  ssize_t r;
  while (got < n - 1 && (r = read (fd, buf + got, n - 1 - got)) > 0)
    got += (size_t)r;
  close (fd);
  buf[got] = '\0';
  return (ssize_t)got;
}

/* Reads a file of the group into buf (NUL-terminated); -1 if unreadable. */
static ssize_t
read_text (const char *id, const char *file, char *buf, size_t n)
{
  char p[CG_PATH_MAX];
  if (group_path (p, sizeof p, id, file) < 0)
    return -1;
  return read_path (p, buf, n);
}

/* The host's CPU (or node) numbers mean nothing in the VM, whose vCPUs are
 * its own CPUs 0..n-1: keep the part of the list the VM has, or all of the
 * VM's when it has none of them (see ag_cpuset_fit). */
static int
cpuset_fit (char **list, const char *file, ko_error **err)
{
  char have[256], fit[512], p[64];
  if (*list == NULL || **list == '\0')
    return 0;
  snprintf (p, sizeof p, CGROUP_POD "/%s.effective", file);
  if (read_path (p, have, sizeof have) <= 0)
    return 0; /* no cpuset controller: the write says so */
  int n = ag_cpuset_fit (*list, have, fit, sizeof fit, err);
  if (n < 0)
    return ko_error_wrap (err, "cgroup %s", file);
  if (n == 0)
    {
      /* not the empty list: the kernel refuses it for a group with tasks */
      have[strcspn (have, "\n")] = '\0';
      ag_log ("cgroup %s %s: none of them is the VM's: all of the VM's (%s)",
              file, *list, have);
    }
  char *s = strdup (n ? fit : have);
  if (s == NULL)
    return ko_error_setx (err, ENOMEM, "cgroup %s", file);
  free (*list);
  *list = s;
  return 0;
}

int
cgroup_apply (const char *id, struct ko_resources *r, ko_error **err)
{
  if (r->has == 0)
    return 0;
  if (!cgroup_ok)
    return ko_error_setx (err, ENOSYS,
                          "resources: the guest kernel has no cgroup v2");
  if (cpuset_fit (&r->cpus, "cpuset.cpus", err) < 0
      || cpuset_fit (&r->mems, "cpuset.mems", err) < 0)
    return -1;
  /* the current values, for a swap or period sent alone */
  char mem[32] = "max", quota[32] = "max";
  uint64_t v;
  int64_t cur_limit = -1;
  if (read_text (id, "memory.max", mem, sizeof mem) > 0
      && ag_cg_num (mem, &v) > 0)
    cur_limit = (int64_t)v;
  if (read_text (id, "cpu.max", quota, sizeof quota) > 0)
    quota[strcspn (quota, " \n")] = '\0';
  struct ag_cg_write w[AG_CG_WRITES_MAX];
  int n = ag_resources_plan (r, cur_limit, quota, w, err);
  for (int i = 0; i < n; i++)
    {
      char p[CG_PATH_MAX];
      if (group_path (p, sizeof p, id, w[i].file) < 0)
        return ko_error_setx (err, EINVAL, "bad cgroup name");
      if (ag_write_str (p, w[i].value) < 0)
        return ag_error_set (err, errno, "cgroup %s", w[i].file);
      ag_dbg ("cgroup %s/%s = %s", id, w[i].file, w[i].value);
    }
  /* linux.resources.unified, last: FILE=LINE lines */
  for (char *l = r->unified, *nl; n >= 0 && l && *l; l = nl + 1)
    {
      char p[CG_PATH_MAX], *eq = strchr (l, '=');
      nl = strchr (l, '\n');
      if (!nl || !eq || eq > nl || *l == '.' || memchr (l, '/', eq - l))
        return ko_error_setx (err, EPROTO, "resources: bad unified");
      *eq = *nl = '\0';
      if (group_path (p, sizeof p, id, l) < 0)
        return ko_error_setx (err, EINVAL, "bad cgroup name");
      if (ag_write_str (p, eq + 1) < 0)
        return ag_error_set (err, errno, "unified resource %s", l);
    }
  return n < 0 ? -1 : 0;
}

static void
stat_put (struct ko_msg_stats_container_reply *out, uint16_t tag,
          const char *id, const char *file, const char *key, uint64_t mul,
          char *buf, size_t n)
{
  uint64_t v;
  if (read_text (id, file, buf, n) < 0)
    return;
  /* keyed files: a key missing counts 0 (io.stat lists only devices
   * that saw IO) */
  if (key ? ag_cg_sum (buf, key, &v) >= 0 : ag_cg_num (buf, &v) > 0)
    ko_msg_stats_set (out, tag, v * mul);
}

int
cgroup_stats (const char *id, struct ko_msg_stats_container_reply *out,
              ko_error **err)
{
  static const struct
  {
    uint16_t tag;
    char file[20], key[12];
    uint16_t mul;
  } stats[] = {
    { KO_TAG_STAT_CPU_USAGE_NS, "cpu.stat", "usage_usec", 1000 },
    { KO_TAG_STAT_CPU_USER_NS, "cpu.stat", "user_usec", 1000 },
    { KO_TAG_STAT_CPU_SYSTEM_NS, "cpu.stat", "system_usec", 1000 },
    { KO_TAG_STAT_MEM_USAGE, "memory.current", "", 1 },
    { KO_TAG_STAT_MEM_LIMIT, "memory.max", "", 1 },
    { KO_TAG_STAT_MEM_MAX_USAGE, "memory.peak", "", 1 },
    { KO_TAG_STAT_MEM_CACHE, "memory.stat", "file", 1 },
    { KO_TAG_STAT_MEM_RSS, "memory.stat", "anon", 1 },
    { KO_TAG_STAT_SWAP_USAGE, "memory.swap.current", "", 1 },
    { KO_TAG_STAT_PIDS_CURRENT, "pids.current", "", 1 },
    { KO_TAG_STAT_PIDS_LIMIT, "pids.max", "", 1 },
    { KO_TAG_STAT_IO_READ_BYTES, "io.stat", "rbytes", 1 },
    { KO_TAG_STAT_IO_WRITE_BYTES, "io.stat", "wbytes", 1 },
    { KO_TAG_STAT_OOM_KILLS, "memory.events", "oom_kill", 1 },
  };
  if (!cgroup_ok)
    return ko_error_setx (err, ENOSYS,
                          "stats: the guest kernel has no cgroup v2");
  /* memory.stat is the longest, about 1.5 KB, anon and file first */
  char buf[2048];
  if (read_text (id, "cgroup.type", buf, 16) < 0)
    return ag_error_set (err, errno, "cgroup of %s", id);
  for (size_t i = 0; i < KO_ARRAY_SIZE (stats); i++)
    stat_put (out, stats[i].tag, id, stats[i].file,
              stats[i].key[0] ? stats[i].key : NULL, stats[i].mul, buf,
              sizeof buf);
  return 0;
}

uint64_t
cgroup_oom_kills (const char *id)
{
  char buf[256];
  uint64_t v = 0;
  if (cgroup_ok && read_text (id, "memory.events", buf, sizeof buf) > 0)
    ag_cg_sum (buf, "oom_kill", &v);
  return v;
}

static struct ko_watch oom_watch = { .fd = -1 };

static void
on_oom_watch (struct ko_watch *w, uint32_t events)
{
  /* the events only say "something changed": drain them, then compare */
  char buf[1024] __attribute__ ((aligned (__alignof__(struct inotify_event))));
  while (read (w->fd, buf, sizeof buf) > 0)
    ;
  rpc_check_oom ();
}

void
cgroup_watch_oom (const char *id)
{
  char p[CG_PATH_MAX];
  if (!cgroup_ok || group_path (p, sizeof p, id, "memory.events") < 0)
    return;
  if (oom_watch.fd < 0)
    {
      int fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
      if (fd < 0)
        {
          ag_log ("inotify: %s (OOM kills seen only at exits)",
                  strerror (errno));
          return;
        }
      ko_watch_init (&oom_watch, &ag_loop, fd, on_oom_watch, NULL);
      ag_watch_set_or_die (&oom_watch, EPOLLIN);
    }
  /* the watch goes away by itself with the group's directory */
  if (inotify_add_watch (oom_watch.fd, p, IN_MODIFY) < 0)
    ag_dbg ("watch %s: %s", p, strerror (errno));
}

/* Writes the guest numbers of disk slot i (proto.h, KO_DEVFILTER_SLOT):
 * the host sent placeholders, knowing only its own numbers. */
static int
patch_disk_slot (struct ag_bpf_insn *v, size_t n, size_t i, const char *serial,
                 ko_error **err)
{
  size_t at = KO_DEVFILTER_PROLOGUE + i * KO_DEVFILTER_SLOT;
  if (at + KO_DEVFILTER_SLOT > n || v[at + 1].code != AG_BPF_JNE32_K
      || (v[at + 1].regs & 0xf) != 4 || v[at + 2].code != AG_BPF_JNE32_K
      || (v[at + 2].regs & 0xf) != 5)
    return ko_error_setx (err, EPROTO, "device rules: no disk slot %zu", i);
  char node[160];
  dev_t rdev;
  if (ag_disk_find (serial, node, sizeof node, &rdev, err) < 0)
    return -1;
  v[at + 1].imm = (int32_t)major (rdev);
  v[at + 2].imm = (int32_t)minor (rdev);
  return 0;
}

int
cgroup_devices (const char *id, const struct ko_container_spec *s,
                ko_error **err)
{
  if (s->devfilter == NULL)
    return 0;
  if (!cgroup_ok)
    return ko_error_setx (err, ENOTSUP,
                          "device rules: the guest has no cgroup v2 to "
                          "enforce them in");
  size_t n = s->devfilter_len / sizeof (struct ag_bpf_insn);
  _cleanup_free_ struct ag_bpf_insn *v = malloc (s->devfilter_len);
  if (v == NULL)
    return ag_error_set (err, ENOMEM, "device rules");
  memcpy (v, s->devfilter, s->devfilter_len);
  for (size_t i = 0; i < s->ndevfilter_disks; i++)
    if (patch_disk_slot (v, n, i, s->devfilter_disks[i], err) < 0)
      return -1;
  struct ag_bpf_prog_load load = {
    .prog_type = AG_BPF_PROG_TYPE_CGROUP_DEVICE,
    .insn_cnt = (uint32_t)n,
    .insns = (uintptr_t)v,
    .license = (uintptr_t) "GPL",
  };
  _cleanup_close_ int prog
      = (int)syscall (SYS_bpf, AG_BPF_PROG_LOAD, &load, sizeof load);
  if (prog < 0)
    return ag_error_set (err, errno, "device rules: load the program");
  _cleanup_close_ int dir = cgroup_open (id);
  if (dir < 0)
    return ag_error_set (err, errno, "device rules: open cgroup %s", id);
  struct ag_bpf_prog_attach at = {
    .target_fd = (uint32_t)dir,
    .attach_bpf_fd = (uint32_t)prog,
    .attach_type = AG_BPF_CGROUP_DEVICE,
  };
  /* the group holds the program once attached */
  if (syscall (SYS_bpf, AG_BPF_PROG_ATTACH, &at, sizeof at) < 0)
    return ag_error_set (err, errno, "device rules: attach to cgroup %s", id);
  return 0;
}
