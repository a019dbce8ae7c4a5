/* One cgroup v2 group per container, /sys/fs/cgroup/<id>: the freezer for
 * Pause/Resume and the authoritative list of the container's processes. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define FREEZE_TIMEOUT_MS 5000

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
  cgroup_ok = true;
}

static int
group_path (char *buf, size_t n, const char *id, const char *file)
{
  if (!ag_relpath_ok (id) || strchr (id, '/') || strcmp (id, ".") == 0)
    return -1;
  int r = snprintf (buf, n, CGROUP_ROOT "/%s%s%s", id, file ? "/" : "",
                    file ? file : "");
  return r < 0 || (size_t)r >= n ? -1 : 0;
}

int
cgroup_create (const char *id, ko_error **err)
{
  char p[PATH_MAX];
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
  char p[PATH_MAX];
  if (cgroup_ok && group_path (p, sizeof p, id, NULL) == 0)
    rmdir (p);
}

static int
write_str (const char *path, const char *s)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = write (fd, s, strlen (s));
  int saved = errno;
  close (fd);
  errno = saved;
  return n == (ssize_t)strlen (s) ? 0 : -1;
}

int
cgroup_enter (const char *id, ko_error **err)
{
  char p[PATH_MAX];
  if (!cgroup_ok)
    return 0;
  if (group_path (p, sizeof p, id, "cgroup.procs") < 0)
    return ko_error_setx (err, EINVAL, "bad cgroup name");
  if (write_str (p, "0") < 0)
    return ag_error_set (err, errno, "join cgroup %s", id);
  return 0;
}

bool
cgroup_available (void)
{
  return cgroup_ok;
}

size_t
cgroup_pids (const char *id, pid_t **out)
{
  char p[PATH_MAX];
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
  char *s = strstr (buf, "frozen ");
  return s ? s[7] == '1' : -1;
}

int
cgroup_freeze (const char *id, bool freeze, ko_error **err)
{
  char p[PATH_MAX], ev[PATH_MAX];
  if (!cgroup_ok)
    return ko_error_setx (err, ENOSYS,
                          "pause: the guest kernel has no cgroup v2");
  if (group_path (p, sizeof p, id, "cgroup.freeze") < 0
      || group_path (ev, sizeof ev, id, "cgroup.events") < 0)
    return ko_error_setx (err, EINVAL, "bad cgroup name");
  if (write_str (p, freeze ? "1" : "0") < 0)
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
