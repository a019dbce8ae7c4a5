#include "config.h"

#include "hostpath.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int
open_how (int dirfd, const char *path, unsigned long long resolve)
{
  struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = resolve };
  return (int)syscall (SYS_openat2, dirfd, path, &how, sizeof how);
}

int
hostpath_open_rootfs (const char *bundle, const char *path, ko_error **err)
{
  _cleanup_close_ int dir = -1;
  if (path[0] != '/'
      && (dir = open (bundle, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    return ko_error_set (err, errno, "bundle %s", bundle);
  int fd = open_how (path[0] == '/' ? AT_FDCWD : dir, path,
                     RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  if (fd >= 0)
    return fd;
  int e = errno;
  const char *sep = path[0] == '/' ? "" : "/";
  if (e == ELOOP)
    return ko_error_setx (err, ELOOP,
                          "config.json: root.path: %s%s%s is a symlink or "
                          "goes through one; name the directory itself",
                          path[0] == '/' ? "" : bundle, sep, path);
  return ko_error_set (err, e, "config.json: root.path: %s%s%s",
                       path[0] == '/' ? "" : bundle, sep, path);
}

int
hostpath_open_source (const char *bundle, const char *path, size_t idx,
                      ko_error **err)
{
  if (path[0] == '/')
    {
      int fd = open (path, O_PATH | O_CLOEXEC);
      if (fd < 0)
        return ko_error_set (err, errno, "config.json: mounts[%zu].source %s",
                             idx, path);
      return fd;
    }
  _cleanup_close_ int dir = open (bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return ko_error_set (err, errno, "bundle %s", bundle);
  int fd = open_how (dir, path, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
  if (fd < 0 && (errno == EXDEV || errno == ELOOP))
    return ko_error_setx (err, EXDEV,
                          "config.json: mounts[%zu].source: %s leads out of "
                          "the bundle (a relative source must stay in it)",
                          idx, path);
  if (fd < 0)
    return ko_error_set (err, errno, "config.json: mounts[%zu].source %s", idx,
                         path);
  return fd;
}

char *
hostpath_of_fd (int fd)
{
  char link[64], buf[PATH_MAX];
  snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink (link, buf, sizeof buf - 1);
  if (n <= 0 || (size_t)n >= sizeof buf - 1)
    return NULL;
  buf[n] = '\0';
  return strdup (buf);
}
