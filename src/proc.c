#include "config.h"

#include "error.h"
#include "proc.h"
#include "monproto.h"
#include "loop.h"
#include "unixsock.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t
proc_start_time (pid_t pid)
{
  char path[64], buf[1024];
  if (pid <= 0)
    return 0;
  snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* comm may hold spaces and parentheses: count fields after the last ')' */
  char *p = strrchr (buf, ')');
  if (p == NULL)
    return 0;
  p++;
  /* after ')': field 3 is state; starttime is field 22 */
  for (int field = 2; field < 21 && p; field++)
    p = strchr (p + 1, ' ');
  if (p == NULL)
    return 0;
  /* a zombie has exited: it counts as gone */
  char *state = strrchr (buf, ')') + 2;
  if (*state == 'Z' || *state == 'X')
    return 0;
  return strtoull (p + 1, NULL, 10);
}

bool
proc_alive (pid_t pid, uint64_t start_time)
{
  uint64_t st = proc_start_time (pid);
  return st != 0 && st == start_time;
}

bool
proc_wait_gone (pid_t pid, uint64_t start_time, int timeout_ms)
{
  uint64_t end = ko_now_ms () + timeout_ms;
  for (;;)
    {
      /* reap it if it happens to be our child */
      waitpid (pid, NULL, WNOHANG);
      if (!proc_alive (pid, start_time))
        return true;
      if (ko_now_ms () >= end)
        return false;
      struct timespec ts = { 0, 5 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
}

void
proc_kill_recorded (pid_t pid, uint64_t start_time)
{
  if (pid <= 0 || !proc_alive (pid, start_time))
    return;
  kill (pid, SIGKILL);
  proc_wait_gone (pid, start_time, 5000);
}

int
write_pid_file (const char *path, pid_t pid, ko_error **err)
{
  _cleanup_free_ char *tmp = NULL;
  if (asprintf (&tmp, "%s.tmp.%d", path, (int)getpid ()) < 0)
    return ko_error_set (err, ENOMEM, "pid file");
  _cleanup_close_ int fd
      = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return ko_error_set (err, errno, "open pid file %s", path);
  char buf[32];
  int n = snprintf (buf, sizeof buf, "%d", (int)pid);
  if (write (fd, buf, n) != n)
    {
      unlink (tmp);
      return ko_error_set (err, errno, "write pid file %s", path);
    }
  if (rename (tmp, path) < 0)
    {
      int e = errno;
      unlink (tmp);
      return ko_error_set (err, e, "rename pid file %s", path);
    }
  return 0;
}

int
proc_parse_stat (const char *text, uint64_t *user_ns, uint64_t *sys_ns,
                 uint64_t *threads, uint64_t *rss)
{
  /* comm may hold spaces and parentheses: fields after the last ')' */
  const char *p = strrchr (text, ')');
  unsigned long long ut, st, th, pages;
  if (p == NULL
      || sscanf (p + 1,
                 " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d "
                 "%*d %*d %*d %llu %*d %*u %*u %llu",
                 &ut, &st, &th, &pages)
             != 4)
    return -1;
  long tick = sysconf (_SC_CLK_TCK);
  uint64_t ns = 1000000000ull / (uint64_t)(tick > 0 ? tick : 100);
  *user_ns = ut * ns;
  *sys_ns = st * ns;
  *threads = th;
  *rss = pages * (uint64_t)sysconf (_SC_PAGESIZE);
  return 0;
}

int
proc_parse_key (const char *text, const char *key, uint64_t *out)
{
  size_t k = strlen (key);
  for (const char *l = text; l && *l; l = strchr (l, '\n'), l = l ? l + 1 : l)
    {
      unsigned long long v;
      char unit[4] = "";
      if (strncmp (l, key, k) != 0 || l[k] != ':'
          || sscanf (l + k + 1, "%llu %3s", &v, unit) < 1)
        continue;
      *out = strcmp (unit, "kB") == 0 ? v * 1024 : v;
      return 0;
    }
  return -1;
}

ssize_t
proc_read (pid_t pid, const char *name, char *buf, size_t size)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/%s", (int)pid, name);
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  size_t len = 0;
  ssize_t n;
  while (len < size - 1
         && ((n = read (fd, buf + len, size - 1 - len)) > 0
             || (n < 0 && errno == EINTR)))
    len += n > 0 ? (size_t)n : 0;
  buf[len] = '\0';
  return (ssize_t)len;
}

static int
count_fds (pid_t pid, uint64_t *out)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/fd", (int)pid);
  DIR *d = opendir (path);
  if (d == NULL)
    return -1;
  uint64_t n = 0;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    n += de->d_name[0] != '.';
  closedir (d);
  *out = n;
  return 0;
}

void
proc_usage (pid_t pid, uint32_t *has, uint64_t v[])
{
  char buf[2048];
  *has = 0;
  if (pid <= 0)
    return;
  if (proc_read (pid, "stat", buf, sizeof buf) > 0
      && proc_parse_stat (buf, &v[KO_PV_CPU_USER_NS], &v[KO_PV_CPU_SYSTEM_NS],
                          &v[KO_PV_THREADS], &v[KO_PV_RSS])
             == 0)
    *has |= 1u << KO_PV_CPU_USER_NS | 1u << KO_PV_CPU_SYSTEM_NS
            | 1u << KO_PV_THREADS | 1u << KO_PV_RSS;
  if (proc_read (pid, "smaps_rollup", buf, sizeof buf) > 0
      && proc_parse_key (buf, "Pss", &v[KO_PV_PSS]) == 0)
    *has |= 1u << KO_PV_PSS;
  if (count_fds (pid, &v[KO_PV_FDS]) == 0)
    *has |= 1u << KO_PV_FDS;
  if (proc_read (pid, "io", buf, sizeof buf) > 0)
    {
      if (proc_parse_key (buf, "rchar", &v[KO_PV_READ_BYTES]) == 0)
        *has |= 1u << KO_PV_READ_BYTES;
      if (proc_parse_key (buf, "wchar", &v[KO_PV_WRITE_BYTES]) == 0)
        *has |= 1u << KO_PV_WRITE_BYTES;
    }
}

int
send_pidfd (const char *path, pid_t pid, const char *kind, ko_error **err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof sa.sun_path)
    return ko_error_setx (err, ENAMETOOLONG,
                          "--pidfd-socket: path too long (%zu bytes, at most "
                          "%zu): %s",
                          strlen (path), sizeof sa.sun_path - 1, path);
  strcpy (sa.sun_path, path);
  _cleanup_close_ int pidfd = (int)syscall (SYS_pidfd_open, pid, 0);
  if (pidfd < 0)
    return ko_error_set (err, errno, "--pidfd-socket: pidfd_open of %d",
                         (int)pid);
  _cleanup_close_ int sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return ko_error_set (err, errno, "--pidfd-socket: socket");
  if (connect (sock, (struct sockaddr *)&sa, sizeof sa) < 0)
    return ko_error_set (err, errno, "--pidfd-socket: connect to %s", path);
  if (ko_unix_send_fd (sock, pidfd, kind, strlen (kind)) < 0)
    return ko_error_set (err, errno, "--pidfd-socket: send to %s", path);
  return 0;
}
