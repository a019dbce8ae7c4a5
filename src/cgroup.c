#include "config.h"

#include "cgroup.h"
#include "memhp.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CGROUP_ROOT "/sys/fs/cgroup"

/* v1 hierarchies the VM joins; cpuset and devices are left alone: their
 * rules are the guest's business and would only get in QEMU's way. */
static const char *const v1_controllers[]
    = { "memory", "cpu", "cpuacct", "pids", "blkio", "freezer" };

/* The groups this process joined: once inside, a relative cgroupsPath
 * would resolve from the new group, so updates and removal use these. */
static struct
{
  char dir[PATH_MAX];
  const char *controller; /* v1; NULL for v2 */
} joined[KO_ARRAY_SIZE (v1_controllers)];
static size_t njoined;

static void
remember (const char *dir, const char *controller)
{
  if (njoined < KO_ARRAY_SIZE (joined))
    {
      snprintf (joined[njoined].dir, PATH_MAX, "%s", dir);
      joined[njoined++].controller = controller;
    }
}

void
cgroup_size_vm (const oci_spec *spec, int *memory_mb, int *vcpus)
{
  const oci_linux_resources *r = spec->linux ? spec->linux->resources : NULL;
  if (r == NULL)
    return;
  if (r->memory && r->memory->has_limit && r->memory->limit > 0)
    {
      int64_t mb = memhp_need_mb (r->memory->limit);
      *memory_mb = mb > (1 << 20) ? (1 << 20) : (int)mb;
    }
  if (r->cpu && r->cpu->has_quota && r->cpu->quota > 0 && r->cpu->has_period
      && r->cpu->period > 0)
    {
      uint64_t n
          = ((uint64_t)r->cpu->quota + r->cpu->period - 1) / r->cpu->period;
      *vcpus = n < 1 ? 1 : n > 256 ? 256 : (int)n;
    }
  else if (r->cpu && r->cpu->cpus)
    {
      /* no quota: as many vCPUs as the host CPUs the VM is pinned to, the
       * parallelism runc's container would have */
      int n = cgroup_cpus_count (r->cpu->cpus);
      if (n > 0)
        *vcpus = n > 256 ? 256 : n;
    }
}

static bool
is_v2 (void)
{
  return access (CGROUP_ROOT "/cgroup.controllers", F_OK) == 0;
}

int
cgroup_clean_path (const char *path, char *out, size_t n)
{
  bool abs = path[0] == '/';
  size_t len = 0;
  if (n < 2)
    return -1;
  out[0] = '\0';
  for (const char *s = path; *s;)
    {
      while (*s == '/')
        s++;
      size_t l = strcspn (s, "/");
      if (l == 0 || (l == 1 && s[0] == '.'))
        ;
      else if (l == 2 && s[0] == '.' && s[1] == '.')
        {
          /* up one, never above the top */
          char *up = strrchr (out, '/');
          len = up ? (size_t)(up - out) : 0;
          out[len] = '\0';
        }
      else
        {
          if (len + 1 + l >= n)
            return -1;
          if (len > 0 || abs)
            out[len++] = '/';
          memcpy (out + len, s, l);
          len += l;
          out[len] = '\0';
        }
      s += l;
    }
  if (len == 0)
    snprintf (out, n, "%s", abs ? "/" : ".");
  return 0;
}

/* linux.cgroupsPath as runc's cgroupfs manager reads it ("" when absent):
 * any string is a path, so containerd's "x.slice:cri-containerd:<id>" is
 * one relative name; ".." never leaves the top. */
static int
sandbox_path (const oci_spec *spec, char *out, size_t n, ko_error **err)
{
  const char *p = spec && spec->linux ? spec->linux->cgroups_path : NULL;
  out[0] = '\0';
  if (p == NULL || *p == '\0')
    return 0;
  if (cgroup_clean_path (p, out, n) < 0)
    return ko_error_setx (err, ENAMETOOLONG,
                          "config.json: linux.cgroupsPath: \"%s\" is too "
                          "long",
                          p);
  if (strcmp (out, "/") == 0 || strcmp (out, ".") == 0)
    return ko_error_setx (
        err, EINVAL,
        "config.json: linux.cgroupsPath: \"%s\" names no "
        "group of the sandbox's own (it is %s)",
        p, out[0] == '/' ? "the root group" : "the group kata-oci runs in");
  return 0;
}

int
cgroup_sandbox_check (const oci_spec *spec, bool systemd_driver, ko_error **err)
{
  const char *p = spec->linux ? spec->linux->cgroups_path : NULL;
  if (systemd_driver && p && strchr (p, ':'))
    return ko_error_setx (err, EINVAL,
                          "config.json: linux.cgroupsPath: \"%s\" is a "
                          "systemd slice path (--systemd-cgroup); kata-oci "
                          "has no systemd cgroup driver: run it without "
                          "--systemd-cgroup (the cgroupfs driver)",
                          p);
  char path[PATH_MAX];
  return sandbox_path (spec, path, sizeof path, err);
}

/* The process's own group in a v1 hierarchy ("" for v2's "0::"). */
static int
own_group (const char *controller, char *out, size_t n)
{
  _cleanup_fclose_ FILE *f = fopen ("/proc/self/cgroup", "re");
  char line[4096];
  if (f == NULL)
    return -1;
  while (fgets (line, sizeof line, f))
    {
      line[strcspn (line, "\n")] = '\0';
      char *a = strchr (line, ':'), *b = a ? strchr (a + 1, ':') : NULL;
      if (b == NULL)
        continue;
      *b = '\0';
      bool match = controller == NULL ? strcmp (a + 1, "") == 0 : false;
      for (char *t = a + 1; controller && t;)
        {
          char *c = strchr (t, ',');
          size_t l = c ? (size_t)(c - t) : strlen (t);
          if (l == strlen (controller) && strncmp (t, controller, l) == 0)
            match = true;
          t = c ? c + 1 : NULL;
        }
      if (match)
        {
          snprintf (out, n, "%s", b + 1);
          return 0;
        }
    }
  return -1;
}

/* <mount>/<path>; a relative path goes under the process's own group in
 * v1, under its parent in v2 (where the own group has processes, so no
 * controllers for its children), as runc's cgroupfs manager does. */
static int
group_dir (const char *mnt, const char *controller, const char *path, char *out,
           size_t n)
{
  char own[PATH_MAX] = "/";
  if (path[0] != '/' && own_group (controller, own, sizeof own) < 0)
    return -1;
  if (path[0] != '/' && controller == NULL)
    {
      char *slash = strrchr (own, '/');
      if (slash)
        slash[slash == own ? 1 : 0] = '\0';
    }
  int r = path[0] == '/'
              ? snprintf (out, n, "%s%s", mnt, path)
              : snprintf (out, n, "%s%s%s%s", mnt,
                          strcmp (own, "/") == 0 ? "" : own, "/", path);
  return r < 0 || (size_t)r >= n ? -1 : 0;
}

static int
write_at (const char *dir, const char *file, const char *val, ko_error **err)
{
  char p[PATH_MAX + 64];
  snprintf (p, sizeof p, "%s/%s", dir, file);
  _cleanup_close_ int fd = open (p, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, val, strlen (val)) < 0)
    return ko_error_set (err, errno, "cgroup: write %s to %s", val, p);
  return 0;
}

struct limits
{
  int64_t memory; /* bytes, 0: none */
  int64_t quota;  /* µs, 0: none */
  uint64_t period, shares;
  int64_t pids;
};

static void
host_limits (const oci_linux_resources *r, int guest_mb, struct limits *l)
{
  memset (l, 0, sizeof *l);
  if (r == NULL)
    return;
  if (r->memory && r->memory->has_limit && r->memory->limit > 0)
    l->memory = ((int64_t)guest_mb + KO_VM_OVERHEAD_MB) << 20;
  if (r->cpu)
    {
      l->period
          = r->cpu->has_period && r->cpu->period ? r->cpu->period : 100000;
      /* a quarter of a CPU more for QEMU's I/O and virtiofsd */
      if (r->cpu->has_quota && r->cpu->quota > 0)
        l->quota = r->cpu->quota + (int64_t)l->period / 4;
      if (r->cpu->has_shares)
        l->shares = r->cpu->shares;
    }
  if (r->has_pids_limit && r->pids_limit > 0)
    l->pids = r->pids_limit + KO_VM_OVERHEAD_PIDS;
}

/* The limits one v1 controller holds. */
static int
write_limits_v1 (const char *dir, const char *c, const struct limits *l,
                 ko_error **err)
{
  char v[64];
  int r = 0;
  if (strcmp (c, "memory") == 0 && l->memory)
    {
      snprintf (v, sizeof v, "%" PRId64, l->memory);
      r = write_at (dir, "memory.limit_in_bytes", v, err);
    }
  else if (strcmp (c, "cpu") == 0)
    {
      if (l->quota)
        {
          snprintf (v, sizeof v, "%" PRIu64, l->period);
          r = write_at (dir, "cpu.cfs_period_us", v, err);
          snprintf (v, sizeof v, "%" PRId64, l->quota);
          if (r == 0)
            r = write_at (dir, "cpu.cfs_quota_us", v, err);
        }
      if (r == 0 && l->shares)
        {
          snprintf (v, sizeof v, "%" PRIu64, l->shares);
          r = write_at (dir, "cpu.shares", v, err);
        }
    }
  else if (strcmp (c, "pids") == 0 && l->pids)
    {
      snprintf (v, sizeof v, "%" PRId64, l->pids);
      r = write_at (dir, "pids.max", v, err);
    }
  return r;
}

static int
enter_v1 (const char *path, const struct limits *l, ko_error **err)
{
  char pid[32];
  snprintf (pid, sizeof pid, "%d", (int)getpid ());
  for (size_t i = 0; i < KO_ARRAY_SIZE (v1_controllers); i++)
    {
      const char *c = v1_controllers[i];
      char mnt[PATH_MAX], dir[PATH_MAX];
      snprintf (mnt, sizeof mnt, CGROUP_ROOT "/%s", c);
      struct stat st;
      if (stat (mnt, &st) < 0 || !S_ISDIR (st.st_mode))
        continue;
      if (group_dir (mnt, c, path, dir, sizeof dir) < 0)
        return ko_error_setx (err, EINVAL, "cgroup %s: cannot place %s", c,
                              path);
      if (ko_mkdir_p (dir, 0755) < 0)
        return ko_error_set (err, errno, "cgroup: mkdir %s", dir);
      if (write_limits_v1 (dir, c, l, err) < 0
          || write_at (dir, "cgroup.procs", pid, err) < 0)
        return -1;
      remember (dir, c);
    }
  return 0;
}

static int
write_limits_v2 (const char *dir, const struct limits *l, ko_error **err)
{
  char v[64];
  if (l->memory)
    {
      snprintf (v, sizeof v, "%" PRId64, l->memory);
      if (write_at (dir, "memory.max", v, err) < 0)
        return -1;
    }
  if (l->quota)
    {
      snprintf (v, sizeof v, "%" PRId64 " %" PRIu64, l->quota, l->period);
      if (write_at (dir, "cpu.max", v, err) < 0)
        return -1;
    }
  if (l->shares)
    {
      /* the usual shares -> weight conversion (2..262144 -> 1..10000) */
      uint64_t s = l->shares < 2 ? 2 : l->shares > 262144 ? 262144 : l->shares;
      snprintf (v, sizeof v, "%" PRIu64, 1 + ((s - 2) * 9999) / 262142);
      if (write_at (dir, "cpu.weight", v, err) < 0)
        return -1;
    }
  if (l->pids)
    {
      snprintf (v, sizeof v, "%" PRId64, l->pids);
      if (write_at (dir, "pids.max", v, err) < 0)
        return -1;
    }
  return 0;
}

static int
enter_v2 (const char *path, const struct limits *l, ko_error **err)
{
  char dir[PATH_MAX], v[64];
  if (group_dir (CGROUP_ROOT, NULL, path, dir, sizeof dir) < 0)
    return ko_error_setx (err, EINVAL, "cgroup: cannot place %s", path);
  if (ko_mkdir_p (dir, 0755) < 0)
    return ko_error_set (err, errno, "cgroup: mkdir %s", dir);
  /* the controllers must be enabled in every ancestor; best effort, the
   * limit writes below say what is missing */
  for (char *s = dir + strlen (CGROUP_ROOT); s; s = strchr (s + 1, '/'))
    {
      char saved = *s;
      *s = '\0';
      const char *anc = *dir ? dir : CGROUP_ROOT;
      for (const char *c = "+memory\0+cpu\0+pids\0"; *c; c += strlen (c) + 1)
        write_at (anc, "cgroup.subtree_control", c, NULL);
      *s = saved;
    }
  if (write_limits_v2 (dir, l, err) < 0)
    return -1;
  snprintf (v, sizeof v, "%d", (int)getpid ());
  if (write_at (dir, "cgroup.procs", v, err) < 0)
    return -1;
  remember (dir, NULL);
  return 0;
}

int
cgroup_sandbox_enter (const oci_spec *spec, int guest_mb, ko_error **err)
{
  char path[PATH_MAX];
  if (sandbox_path (spec, path, sizeof path, err) < 0)
    return -1;
  if (*path == '\0')
    return 0;
  struct limits l;
  host_limits (spec->linux->resources, guest_mb, &l);
  int r = is_v2 () ? enter_v2 (path, &l, err) : enter_v1 (path, &l, err);
  if (r < 0)
    return ko_error_wrap (err, "config.json: linux.cgroupsPath %s", path);
  return 0;
}

int
cgroup_sandbox_update (const oci_linux_resources *r, int guest_mb,
                       ko_error **err)
{
  struct limits l;
  host_limits (r, guest_mb, &l);
  for (size_t i = 0; i < njoined; i++)
    if ((joined[i].controller
             ? write_limits_v1 (joined[i].dir, joined[i].controller, &l, err)
             : write_limits_v2 (joined[i].dir, &l, err))
        < 0)
      return ko_error_wrap (err, "host cgroup %s", joined[i].dir);
  return 0;
}

static void
leave_and_remove (const char *dir)
{
  char parent[PATH_MAX], pid[32];
  snprintf (parent, sizeof parent, "%s", dir);
  char *slash = strrchr (parent, '/');
  if (slash == NULL || slash - parent <= (ptrdiff_t)strlen (CGROUP_ROOT))
    return;
  *slash = '\0';
  snprintf (pid, sizeof pid, "%d", (int)getpid ());
  char self[PATH_MAX + 16];
  snprintf (self, sizeof self, "%s/cgroup.procs", dir);
  /* only move if we are in it (delete runs outside) */
  _cleanup_fclose_ FILE *f = fopen (self, "re");
  char line[32];
  while (f && fgets (line, sizeof line, f))
    if (atoi (line) == getpid ())
      write_at (parent, "cgroup.procs", pid, NULL);
  rmdir (dir);
}

void
cgroup_sandbox_remove (const oci_spec *spec)
{
  char path[PATH_MAX], dir[PATH_MAX];
  if (sandbox_path (spec, path, sizeof path, NULL) < 0 || *path == '\0')
    return;
  if (njoined)
    {
      while (njoined)
        leave_and_remove (joined[--njoined].dir);
      return;
    }
  if (is_v2 ())
    {
      if (group_dir (CGROUP_ROOT, NULL, path, dir, sizeof dir) == 0)
        leave_and_remove (dir);
      return;
    }
  for (size_t i = 0; i < KO_ARRAY_SIZE (v1_controllers); i++)
    {
      char mnt[PATH_MAX];
      snprintf (mnt, sizeof mnt, CGROUP_ROOT "/%s", v1_controllers[i]);
      if (access (mnt, F_OK) == 0
          && group_dir (mnt, v1_controllers[i], path, dir, sizeof dir) == 0)
        leave_and_remove (dir);
    }
}

/* --- the VM's CPUs on the host --- */

int
cgroup_cpus_parse (const char *list, const char *where, cpu_set_t *set,
                   ko_error **err)
{
  CPU_ZERO (set);
  const char *s = list;
  if (*s == '\0')
    return ko_error_setx (err, EINVAL, "%s: an empty CPU list", where);
  for (;;)
    {
      char *end;
      if (*s < '0' || *s > '9')
        goto bad;
      errno = 0;
      unsigned long a = strtoul (s, &end, 10), b = a;
      if (errno || a >= CPU_SETSIZE)
        goto range;
      s = end;
      if (*s == '-')
        {
          if (s[1] < '0' || s[1] > '9')
            goto bad;
          b = strtoul (s + 1, &end, 10);
          if (errno || b >= CPU_SETSIZE)
            goto range;
          if (b < a)
            goto bad;
          s = end;
        }
      for (unsigned long i = a; i <= b; i++)
        CPU_SET (i, set);
      if (*s == '\0')
        return 0;
      if (*s != ',')
        goto bad;
      s++;
    }
bad:
  return ko_error_setx (
      err, EINVAL, "%s: \"%s\" is not a CPU list (such as 0-3,6)", where, list);
range:
  return ko_error_setx (err, EINVAL, "%s: \"%s\": CPUs go up to %d", where,
                        list, CPU_SETSIZE - 1);
}

int
cgroup_cpus_count (const char *list)
{
  cpu_set_t set;
  if (cgroup_cpus_parse (list, "", &set, NULL) < 0)
    return 0;
  return CPU_COUNT (&set);
}

/* "0-1,3" for an error message */
static void
cpus_text (const cpu_set_t *set, char *buf, size_t n)
{
  size_t len = 0;
  buf[0] = '\0';
  for (int i = 0; i < CPU_SETSIZE && len + 24 < n; i++)
    {
      if (!CPU_ISSET (i, set))
        continue;
      int j = i;
      while (j + 1 < CPU_SETSIZE && CPU_ISSET (j + 1, set))
        j++;
      len += (size_t)snprintf (buf + len, n - len, "%s%d", len ? "," : "", i);
      if (j > i)
        len += (size_t)snprintf (buf + len, n - len, "-%d", j);
      i = j;
    }
}

/* The host's online CPUs (else the CPUs this process could use before it
 * pinned itself): what a cpuset may name, at create and at every update.
 * Not this process's affinity: a caller started under taskset may still
 * pin the VM elsewhere, as runc's container may; a cpuset cgroup that
 * leaves none of the set makes sched_setaffinity fail, with its error. */
static cpu_set_t first_affinity;
static bool have_first;

int
cgroup_cpus_allowed (const char *list, const char *where, cpu_set_t *set,
                     ko_error **err)
{
  if (cgroup_cpus_parse (list, where, set, err) < 0)
    return -1;
  if (!have_first)
    {
      char online[1024];
      _cleanup_close_ int fd
          = open ("/sys/devices/system/cpu/online", O_RDONLY | O_CLOEXEC);
      ssize_t n = fd < 0 ? -1 : read (fd, online, sizeof online - 1);
      if (n > 0)
        {
          online[n] = '\0';
          online[strcspn (online, "\n")] = '\0';
        }
      if ((n <= 0
           || cgroup_cpus_parse (online, "online", &first_affinity, NULL) < 0)
          && sched_getaffinity (0, sizeof first_affinity, &first_affinity) < 0)
        return ko_error_set (err, errno, "sched_getaffinity");
      have_first = true;
    }
  cpu_set_t mine = first_affinity;
  cpu_set_t both;
  CPU_AND (&both, set, &mine);
  if (!CPU_EQUAL (&both, set))
    {
      char have[256];
      cpus_text (&mine, have, sizeof have);
      return ko_error_setx (err, EINVAL,
                            "%s: \"%s\" names CPUs this host does not have "
                            "online (it has %s)",
                            where, list, have);
    }
  return 0;
}

int
cgroup_cpus_pin (const char *list, ko_error **err)
{
  cpu_set_t set;
  if (cgroup_cpus_allowed (list, "config.json: linux.resources.cpu.cpus", &set,
                           err)
      < 0)
    return -1;
  if (sched_setaffinity (0, sizeof set, &set) < 0)
    return ko_error_set (err, errno, "pin the VM to CPUs %s", list);
  return 0;
}

/* The parent pid in /proc/<pid>/stat, or -1. */
static pid_t
parent_of (pid_t pid)
{
  char p[64], buf[512];
  snprintf (p, sizeof p, "/proc/%d/stat", (int)pid);
  _cleanup_close_ int fd = open (p, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read (fd, buf, sizeof buf - 1);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  const char *close = strrchr (buf, ')');
  int ppid;
  if (close == NULL || sscanf (close + 2, "%*c %d", &ppid) != 1)
    return -1;
  return ppid;
}

/* Every thread of pid. */
static void
pin_threads (pid_t pid, const cpu_set_t *set)
{
  char p[64];
  snprintf (p, sizeof p, "/proc/%d/task", (int)pid);
  DIR *d = opendir (p);
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir (d)))
    {
      int tid = atoi (e->d_name);
      if (tid > 0)
        sched_setaffinity (tid, sizeof *set, set);
    }
  closedir (d);
}

static int repin_set (const cpu_set_t *set, ko_error **err);

int
cgroup_cpus_repin (const char *list, ko_error **err)
{
  cpu_set_t set;
  if (cgroup_cpus_allowed (list, "linux.resources.cpu.cpus", &set, err) < 0)
    return -1;
  return repin_set (&set, err);
}

int
cgroup_cpus_widen (const char *list, ko_error **err)
{
  cpu_set_t set, now, both;
  if (cgroup_cpus_allowed (list, "linux.resources.cpu.cpus", &set, err) < 0)
    return -1;
  if (sched_getaffinity (0, sizeof now, &now) < 0)
    return ko_error_set (err, errno, "sched_getaffinity");
  CPU_OR (&both, &now, &set);
  return CPU_EQUAL (&both, &now) ? 0 : repin_set (&both, err);
}

static int
repin_set (const cpu_set_t *set, ko_error **err)
{
  /* this process and its descendants: scan /proc until no new one turns
   * up (the tree is a few levels deep: QEMU, virtiofsd and its child,
   * holders) */
  pid_t tree[256];
  size_t n = 0;
  tree[n++] = getpid ();
  for (bool grew = true; grew && n < KO_ARRAY_SIZE (tree);)
    {
      grew = false;
      DIR *d = opendir ("/proc");
      if (d == NULL)
        return ko_error_set (err, errno, "open /proc");
      struct dirent *e;
      while ((e = readdir (d)) && n < KO_ARRAY_SIZE (tree))
        {
          pid_t pid = atoi (e->d_name), pp;
          if (pid <= 0 || (pp = parent_of (pid)) <= 0)
            continue;
          bool known = false, parent_in = false;
          for (size_t i = 0; i < n; i++)
            {
              known |= tree[i] == pid;
              parent_in |= tree[i] == pp;
            }
          if (!known && parent_in)
            {
              tree[n++] = pid;
              grew = true;
            }
        }
      closedir (d);
    }
  for (size_t i = 0; i < n; i++)
    pin_threads (tree[i], set);
  return 0;
}
