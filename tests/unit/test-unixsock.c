/* Unix sockets of a state dir at any length of the dir: a short one, one
 * longer than sun_path, one near PATH_MAX; the QMP client on a long path;
 * and every error. */
#include "config.h"

#include "qmp.h"
#include "tap.h"
#include "unixsock.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char top[] = "/tmp/kot-unixsock.XXXXXX";

static int
open_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  int n = 0;
  while (d && readdir (d))
    n++;
  if (d)
    closedir (d);
  return n;
}

/* top/aaa.../aaa... of about len bytes, made one component at a time */
static char *
make_long_dir (size_t len)
{
  char *p = strdup (top);
  while (p && strlen (p) < len)
    {
      size_t left = len - strlen (p);
      size_t c = left > 201 ? 200 : left > 1 ? left - 1 : 1;
      char *q = NULL;
      if (asprintf (&q, "%s/%0*d", p, (int)c, 0) < 0)
        abort ();
      free (p);
      p = q;
      if (mkdir (p, 0700) < 0)
        abort ();
    }
  return p;
}

/* listen, connect, accept and one byte each way; the socket sits at
 * dir/name for anyone to find */
static void
round_trip (const char *dir, const char *what)
{
  ko_error *err = NULL;
  int before = open_fds ();
  int l = ko_unix_listen (dir, "x.sock", &err);
  ok (l >= 0, "%s: listen", what);
  if (err)
    printf ("#   %s\n", err->msg);
  ko_error_free (err);
  err = NULL;
  ok (l >= 0 && (fcntl (l, F_GETFD) & FD_CLOEXEC), "%s: close-on-exec", what);
  char *path = NULL;
  if (asprintf (&path, "%s/x.sock", dir) < 0)
    abort ();
  struct stat st;
  ok (stat (path, &st) == 0 && S_ISSOCK (st.st_mode),
      "%s: the socket is at "
      "dir/name",
      what);
  int c = ko_unix_connect (dir, "x.sock", &err);
  ok (c >= 0, "%s: connect", what);
  if (err)
    printf ("#   %s\n", err->msg);
  ko_error_free (err);
  err = NULL;
  int a = l >= 0 ? accept (l, NULL, NULL) : -1;
  char b = 0;
  ok (a >= 0 && c >= 0 && write (c, "k", 1) == 1 && read (a, &b, 1) == 1
          && b == 'k' && write (a, "o", 1) == 1 && read (c, &b, 1) == 1
          && b == 'o',
      "%s: a byte each way", what);
  /* a second listen replaces the stale socket */
  if (l >= 0)
    close (l);
  l = ko_unix_listen (dir, "x.sock", NULL);
  ok (l >= 0, "%s: listen again over a stale socket", what);
  for (int *f = (int[]){ l, c, a }, i = 0; i < 3; i++)
    if (f[i] >= 0)
      close (f[i]);
  is_int (open_fds (), before, "%s: no fd left behind", what);
  unlink (path);
  free (path);
}

static void
expect_error (int r, ko_error *err, int status, const char *want,
              const char *what)
{
  /* callers: r = f (..., &err); expect_error (r, err, ...) */
  is_int (r, -1, "%s: fails", what);
  is_int (err ? err->status : 0, status, "%s: status", what);
  ok (err && strstr (err->msg, want), "%s: message", what);
  if (err && !strstr (err->msg, want))
    printf ("#   got  \"%.300s\"\n#   want \"...%s...\"\n", err->msg, want);
  ko_error_free (err);
}

static void
test_errors (const char *long_dir)
{
  ko_error *err = NULL;
  int before = open_fds ();
  int r = ko_unix_listen ("/nonexistent-kot", "x.sock", &err);
  expect_error (r, err, ENOENT,
                "listen on /nonexistent-kot/x.sock: No such file",
                "listen in a missing short dir");
  err = NULL;
  char *missing = NULL;
  if (asprintf (&missing, "%s/missing", long_dir) < 0)
    abort ();
  r = ko_unix_listen (missing, "x.sock", &err);
  expect_error (r, err, ENOENT,
                "/missing/x.sock: open the directory: No such file",
                "listen in a missing long dir");
  err = NULL;
  r = ko_unix_connect (missing, "x.sock", &err);
  expect_error (r, err, ENOENT,
                "/missing/x.sock: open the directory: No such file",
                "connect in a missing long dir");
  err = NULL;
  free (missing);
  r = ko_unix_connect (top, "nobody.sock", &err);
  expect_error (r, err, ENOENT, "/nobody.sock: No such file",
                "connect with nothing listening (short)");
  err = NULL;
  r = ko_unix_connect (long_dir, "nobody.sock", &err);
  expect_error (r, err, ENOENT, "/nobody.sock: No such file",
                "connect with nothing listening (long)");
  err = NULL;
  char name[128];
  memset (name, 'n', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  r = ko_unix_listen (long_dir, name, &err);
  expect_error (r, err, ENAMETOOLONG, "the name is too long",
                "a name longer than sun_path");
  err = NULL;
  is_int (open_fds (), before, "errors: no fd left behind");
}

/* the monitor reaches QMP by its path, whatever its length */
static void
test_qmp (const char *dir)
{
  ko_error *err = NULL;
  int l = ko_unix_listen (dir, "qmp.sock", &err);
  char *path = NULL;
  if (asprintf (&path, "%s/qmp.sock", dir) < 0)
    abort ();
  struct ko_qmp q = { .fd = -1 };
  ok (l >= 0 && qmp_connect (path, &q, &err) == 0,
      "qmp_connect on a %zu-byte path", strlen (path));
  if (err)
    printf ("#   %s\n", err->msg);
  ko_error_free (err);
  err = NULL;
  ok (q.fd >= 0 && (fcntl (q.fd, F_GETFL) & O_NONBLOCK),
      "qmp_connect: non-blocking");
  qmp_close (&q);
  if (l >= 0)
    close (l);
  unlink (path);
  free (path);
  int r = qmp_connect ("/nonexistent-kot/qmp.sock", &q, &err);
  expect_error (r, err, ENOENT, "connect to /nonexistent-kot/qmp.sock",
                "qmp_connect to a missing socket");
}

/* add-fd: the fd goes with the command's first byte, the line follows
 * whole; a peer that is gone is an error that says so. */
static void
test_qmp_send_fd (void)
{
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    abort ();
  struct ko_qmp q = { .fd = sv[0] };
  ko_error *err = NULL;
  int pfd[2];
  if (pipe (pfd) < 0)
    abort ();
  ok (qmp_send (&q, "{\"execute\": \"add-fd\"}", pfd[0], &err) == 0,
      "qmp_send with an fd");
  char buf[64] = "";
  union
  {
    char b[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = { buf, 1 };
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = u.b,
                        .msg_controllen = sizeof u.b };
  ssize_t n = recvmsg (sv[1], &msg, MSG_CMSG_CLOEXEC);
  struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
  int got = -1;
  if (c && c->cmsg_type == SCM_RIGHTS)
    memcpy (&got, CMSG_DATA (c), sizeof got);
  ok (n == 1 && buf[0] == '{' && got >= 0, "the fd comes with the first byte");
  struct stat a, b;
  ok (got >= 0 && fstat (got, &a) == 0 && fstat (pfd[0], &b) == 0
          && a.st_ino == b.st_ino,
      "it is the fd sent");
  n = read (sv[1], buf + 1, sizeof buf - 2);
  ok (n > 0 && strcmp (buf, "{\"execute\": \"add-fd\"}\n") == 0,
      "then the rest of the line (%s)", buf);
  if (got >= 0)
    close (got);
  close (sv[1]);
  int r = qmp_send (&q, "{}", pfd[0], &err);
  expect_error (r, err, EPIPE, "QMP: send", "qmp_send to a peer that is gone");
  close (sv[0]);
  close (pfd[0]);
  close (pfd[1]);
}

/* sd_notify's NOTIFY_SOCKET forms: a path of any length, @NAME */
static void
test_dgram (const char *long_dir)
{
  ko_error *err = NULL;
  char buf[64], abs_name[64];
  /* bound from inside the dir: its full path does not fit sun_path */
  int cwd = open (".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int d = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  strcpy (sa.sun_path, "n.sock");
  ok (cwd >= 0 && chdir (long_dir) == 0
          && bind (d, (struct sockaddr *)&sa, sizeof sa) == 0
          && fchdir (cwd) == 0,
      "dgram: bound in a dir longer than sun_path");
  char *path = NULL;
  if (asprintf (&path, "%s/n.sock", long_dir) < 0)
    abort ();
  ok (ko_unix_send_dgram (path, "READY=1", 7, &err) == 0
          && recv (d, buf, sizeof buf, MSG_DONTWAIT) == 7
          && memcmp (buf, "READY=1", 7) == 0,
      "dgram: sent through the dir's fd");
  close (d);
  int r = ko_unix_send_dgram (path, "x", 1, &err);
  expect_error (r, err, ECONNREFUSED, "send to ",
                "dgram: nobody bound there any more");
  err = NULL;
  free (path);
  close (cwd);
  /* abstract */
  snprintf (abs_name, sizeof abs_name, "@kot-unixsock-%d", (int)getpid ());
  d = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  memset (&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  memcpy (sa.sun_path + 1, abs_name + 1, strlen (abs_name) - 1);
  ok (bind (d, (struct sockaddr *)&sa,
            (socklen_t)(offsetof (struct sockaddr_un, sun_path)
                        + strlen (abs_name)))
              == 0
          && ko_unix_send_dgram (abs_name, "STATUS=x", 8, &err) == 0
          && recv (d, buf, sizeof buf, MSG_DONTWAIT) == 8,
      "dgram: to an abstract name");
  close (d);
  r = ko_unix_send_dgram ("rel.sock", "x", 1, &err);
  expect_error (r, err, EINVAL, "unix socket rel.sock: not a path",
                "dgram: a relative path");
}

int
main (void)
{
  if (mkdtemp (top) == NULL)
    return 1;
  struct sockaddr_un sa;
  round_trip (top, "short dir");
  char *mid = make_long_dir (sizeof sa.sun_path + 100);
  round_trip (mid, "dir longer than sun_path");
  char *huge = make_long_dir (PATH_MAX - 64);
  round_trip (huge, "dir near PATH_MAX");
  test_errors (mid);
  test_qmp (mid);
  test_qmp_send_fd ();
  test_dgram (mid);
  free (mid);
  free (huge);
  char *cmd = NULL;
  if (asprintf (&cmd, "rm -rf %s", top) >= 0)
    ok (system (cmd) == 0, "cleanup");
  free (cmd);
  return tap_done ();
}
