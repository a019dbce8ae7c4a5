#include "config.h"

#include "hostpath.h"
#include "blockdev.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
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

/* type, and what a container should use instead (NULL: nothing) */
static const struct
{
  const char *type, *instead;
} kernel_fs[] = {
  { "proc", "a mount of type \"proc\" (the guest's own)" },
  { "sysfs", "a mount of type \"sysfs\" (the guest's own)" },
  { "cgroup", "a mount of type \"cgroup\" (the guest's own)" },
  { "cgroup2", "a mount of type \"cgroup\" (the guest's own)" },
  { "devpts", "a mount of type \"devpts\" (the guest's own)" },
  { "devtmpfs", "linux.devices, naming the devices it needs" },
  { "the host's /dev", "linux.devices, naming the devices it needs" },
  { "debugfs", NULL },
  { "tracefs", NULL },
  { "securityfs", NULL },
  { "bpf", NULL },
  { "configfs", NULL },
  { "efivarfs", NULL },
  { "pstore", NULL },
  { "fusectl", NULL },
  { "binfmt_misc", NULL },
  { "selinuxfs", NULL },
  { "smackfs", NULL },
  { "nsfs", NULL },
};

struct kfs_find
{
  unsigned major, minor;
  const char *found;
};

static int
kfs_line (const struct ko_mountinfo *m, void *arg)
{
  struct kfs_find *f = arg;
  if (m->major != f->major || m->minor != f->minor)
    return 0;
  if (strcmp (m->fstype, "tmpfs") == 0 && strcmp (m->point, "/dev") == 0)
    f->found = "the host's /dev";
  for (size_t i = 0; f->found == NULL && i < KO_ARRAY_SIZE (kernel_fs); i++)
    if (strcmp (m->fstype, kernel_fs[i].type) == 0)
      f->found = kernel_fs[i].type;
  return f->found != NULL;
}

const char *
hostpath_kernel_fs (const char *mountinfo, unsigned long dev, int *bad,
                    ko_error **err)
{
  struct kfs_find f = { major ((dev_t)dev), minor ((dev_t)dev), NULL };
  *bad = ko_mountinfo_each (mountinfo, kfs_line, &f, err) < 0 ? -1 : 0;
  return *bad < 0 ? NULL : f.found;
}

const char *
hostpath_kernel_fs_instead (const char *what)
{
  for (size_t i = 0; what && i < KO_ARRAY_SIZE (kernel_fs); i++)
    if (strcmp (what, kernel_fs[i].type) == 0)
      return kernel_fs[i].instead;
  return NULL;
}

/* The devices of mountinfo's text that are kernel filesystems, found in one
 * pass (a bind of / brings every host mount beneath it). */
struct kdevs
{
  struct kfs_find *v;
  size_t n, cap;
  ko_error **err;
};

static int
kdevs_line (const struct ko_mountinfo *m, void *arg)
{
  struct kdevs *k = arg;
  struct kfs_find f = { m->major, m->minor, NULL };
  for (size_t i = 0; i < k->n; i++)
    if (k->v[i].major == m->major && k->v[i].minor == m->minor)
      return 0;
  kfs_line (m, &f);
  if (f.found == NULL)
    return 0;
  if (k->n == k->cap)
    {
      size_t cap = k->cap ? 2 * k->cap : 16;
      struct kfs_find *v = realloc (k->v, cap * sizeof *v);
      if (v == NULL)
        return ko_error_set (k->err, ENOMEM, "mountinfo");
      k->v = v;
      k->cap = cap;
    }
  k->v[k->n++] = f;
  return 0;
}

struct share_walk
{
  const char *path;
  size_t len;
  const struct kdevs *k;
  ko_error **err;
  const char *top; /* the mount at path is on this kernel filesystem */
};

static int
share_line (const struct ko_mountinfo *m, void *arg)
{
  struct share_walk *w = arg;
  bool top = strcmp (m->point, w->path) == 0;
  if (!top
      && !(strncmp (m->point, w->path, w->len) == 0 && m->point[w->len] == '/'))
    return 0;
  const char *what = NULL;
  for (size_t i = 0; what == NULL && i < w->k->n; i++)
    if (w->k->v[i].major == m->major && w->k->v[i].minor == m->minor)
      what = w->k->v[i].found;
  if (what == NULL)
    return 0;
  if (top)
    w->top = what;
  /* a parent detached first takes its children along: EINVAL then */
  else if (umount2 (m->point, MNT_DETACH) < 0 && errno != EINVAL
           && errno != ENOENT)
    return ko_error_set (w->err, errno, "unmount %s (%s) from the share",
                         m->point, what);
  return 0;
}

int
hostpath_share_check (const char *path, ko_error **err)
{
  _cleanup_free_ char *text = ko_mountinfo_read (err);
  if (text == NULL)
    return -1;
  struct kdevs k = { NULL, 0, 0, err };
  struct share_walk w = { path, strlen (path), &k, err, NULL };
  int r = ko_mountinfo_each (text, kdevs_line, &k, err) < 0
                  || ko_mountinfo_each (text, share_line, &w, err) < 0
              ? -1
              : 0;
  free (k.v);
  if (r < 0)
    return -1;
  if (w.top)
    return ko_error_setx (err, EPERM,
                          "it is on %s%s, the host kernel's own: shared, the "
                          "guest would reach the host past the VM",
                          strncmp (w.top, "the ", 4) == 0 ? "" : "the host's ",
                          w.top);
  return 0;
}
