#include "config.h"

#include "report.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void
report_send (int *fd, const char *tag, const char *text)
{
  if (*fd < 0)
    return;
  _cleanup_free_ char *msg = NULL;
  if (asprintf (&msg, "%s%s", tag, text) > 0
      && write (*fd, msg, strlen (msg)) != (ssize_t)strlen (msg))
    { /* the CLI is gone: nobody to tell */
    }
  close (*fd);
  *fd = -1;
}

void
report_ok (int *fd, pid_t pid)
{
  char p[32];
  snprintf (p, sizeof p, "%d", (int)pid);
  report_send (fd, "OK", pid > 0 ? p : "");
}

void
report_error (int *fd, const char *msg)
{
  report_send (fd, "E", msg ? msg : "failed");
}

int
report_read (int fd, pid_t *pid, const char *what, ko_error **err)
{
  char buf[8192];
  size_t len = 0;
  ssize_t n;
  while (len < sizeof buf - 1
         && ((n = read (fd, buf + len, sizeof buf - 1 - len)) > 0
             || (n < 0 && errno == EINTR)))
    if (n > 0)
      len += n;
  buf[len] = '\0';
  if (len >= 2 && memcmp (buf, "OK", 2) == 0)
    {
      char *end = NULL;
      long v = strtol (buf + 2, &end, 10);
      *pid = end != buf + 2 && *end == '\0' && v > 0 ? (pid_t)v : 0;
      return 0;
    }
  if (len > 1 && buf[0] == 'E')
    return ko_error_setx (err, EIO, "%s", buf + 1);
  return ko_error_setx (err, EIO, "%s", what);
}
