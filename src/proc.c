#include "config.h"

#include "error.h"
#include "proc.h"
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

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
