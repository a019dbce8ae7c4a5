#include "config.h"

#include "unixsock.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Fills sa for dir/name; *dirfd is the dir's fd the address goes through
 * (-1 when the plain path fits), to be closed once bind or connect is
 * done. */
static int
unix_addr (const char *dir, const char *name, struct sockaddr_un *sa,
           int *dirfd, ko_error **err)
{
  *dirfd = -1;
  memset (sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  int n = snprintf (sa->sun_path, sizeof sa->sun_path, "%s/%s", dir, name);
  if (n >= 0 && (size_t)n < sizeof sa->sun_path)
    return 0;
  int fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ko_error_set (err, errno, "unix socket %s/%s: open the directory",
                         dir, name);
  n = snprintf (sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", fd,
                name);
  if (n < 0 || (size_t)n >= sizeof sa->sun_path)
    {
      close (fd);
      return ko_error_setx (err, ENAMETOOLONG,
                            "unix socket %s/%s: the name is too long", dir,
                            name);
    }
  *dirfd = fd;
  return 0;
}

int
ko_unix_listen (const char *dir, const char *name, ko_error **err)
{
  struct sockaddr_un sa;
  _cleanup_close_ int dirfd = -1;
  if (unix_addr (dir, name, &sa, &dirfd, err) < 0)
    return -1;
  _cleanup_close_ int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return ko_error_set (err, errno, "socket");
  unlink (sa.sun_path); /* a stale socket; bind says what else is wrong */
  if (bind (fd, (struct sockaddr *)&sa, sizeof sa) < 0
      || listen (fd, SOMAXCONN) < 0)
    return ko_error_set (err, errno, "listen on %s/%s", dir, name);
  return take_fd (fd);
}

int
ko_unix_connect (const char *dir, const char *name, ko_error **err)
{
  struct sockaddr_un sa;
  _cleanup_close_ int dirfd = -1;
  if (unix_addr (dir, name, &sa, &dirfd, err) < 0)
    return -1;
  _cleanup_close_ int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return ko_error_set (err, errno, "socket");
  if (connect (fd, (struct sockaddr *)&sa, sizeof sa) < 0)
    return ko_error_set (err, errno, "connect to %s/%s", dir, name);
  return take_fd (fd);
}

int
ko_unix_send_dgram (const char *path, const void *data, size_t len,
                    ko_error **err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  socklen_t salen = sizeof sa;
  _cleanup_close_ int dirfd = -1;
  const char *base = strrchr (path, '/');
  if (path[0] == '@')
    {
      size_t n = strlen (path);
      if (n > sizeof sa.sun_path)
        return ko_error_setx (err, ENAMETOOLONG, "unix socket %s: too long",
                              path);
      memcpy (sa.sun_path + 1, path + 1, n - 1); /* sun_path[0]: abstract */
      salen = (socklen_t)(offsetof (struct sockaddr_un, sun_path) + n);
    }
  else
    {
      _cleanup_free_ char *dir = base && base != path
                                     ? strndup (path, (size_t)(base - path))
                                     : strdup ("/");
      if (dir == NULL || base == NULL)
        return ko_error_setx (err, EINVAL, "unix socket %s: not a path", path);
      if (unix_addr (dir, base + 1, &sa, &dirfd, err) < 0)
        return -1;
    }
  _cleanup_close_ int fd
      = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0
      || sendto (fd, data, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen)
             < 0)
    return ko_error_set (err, errno, "send to %s", path);
  return 0;
}

ssize_t
ko_unix_send_fd (int sock, int fd, const void *data, size_t len)
{
  struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  memset (&u, 0, sizeof u);
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf };
  struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &fd, sizeof fd);
  return sendmsg (sock, &msg, MSG_NOSIGNAL);
}
