/* The virtio-fs share: the host side of what the guest sees under
 * KO_GUEST_SHARE_DIR, made in the monitor's private mount namespace. */
#include "config.h"

#include "confine.h"
#include "hostpath.h"
#include "log.h"
#include "paths.h"
#include "sandbox.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <unistd.h>

/* mkdir -p for a path under the share (made by us: no symlinks to follow) */
static int
mkdir_parents (char *path)
{
  for (char *s = path + 1; *s; s++)
    if (*s == '/')
      {
        *s = '\0';
        int r = mkdir (path, 0755);
        *s = '/';
        if (r < 0 && errno != EEXIST)
          return -1;
      }
  return 0;
}

/* virtiofsd opens what the guest names: never a host device node, and
 * nothing on the share gains privileges when run on the host. path is one
 * of the share's mount points. */
static int
share_harden (const char *path, bool rdonly, ko_error **err)
{
  struct mount_attr a = { .attr_set = MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID
                                      | (rdonly ? MOUNT_ATTR_RDONLY : 0) };
  if (syscall (SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &a, sizeof a)
      < 0)
    return ko_error_set (err, errno, "make %s nodev,nosuid%s", path,
                         rdonly ? ",rro" : "");
  return 0;
}

static int
share_bind_one (const char *dir, const struct share_bind *b, ko_error **err)
{
  char path[4096];
  struct stat st;
  if (strstr (b->dest, "..") || b->dest[0] == '/')
    return ko_error_setx (err, EINVAL, "bad share path %s", b->dest);
  snprintf (path, sizeof path, "%s/%s/%s", dir, KO_SHARED_DIR, b->dest);
  if (stat (b->source, &st) < 0)
    return ko_error_set (err, errno, "mount source %s", b->source);
  if (mkdir_parents (path) < 0)
    return ko_error_set (err, errno, "mkdir %s", path);
  if (S_ISDIR (st.st_mode))
    {
      if (mkdir (path, 0755) < 0 && errno != EEXIST)
        return ko_error_set (err, errno, "mkdir %s", path);
    }
  else
    {
      int fd = open (path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0)
        return ko_error_set (err, errno, "create %s", path);
      close (fd);
    }
  if (mount (b->source, path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return ko_error_set (err, errno, "bind %s", b->source);
  if (hostpath_share_check (path, err) < 0)
    return ko_error_wrap (err, "mount source %s", b->source);
  if (b->readonly == KO_BIND_RO
      && mount (NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
    return ko_error_set (err, errno, "remount %s read-only", b->source);
  return share_harden (path, b->readonly == KO_BIND_RRO, err);
}

int
share_prepare (struct sandbox *sb, ko_error **err)
{
  const char *dir = sb->p->dir;
  char path[4096];
  /* a private mount namespace: the share's bind mounts live and die with the
   * monitor and virtiofsd, so no host mount can ever be left behind */
  if (unshare (CLONE_NEWNS) < 0)
    return ko_error_set (err, errno, "unshare mount namespace");
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return ko_error_set (err, errno, "make mounts private");
  /* 0711: in the guest, a container in a user namespace sets up its mounts
   * as the namespace's root, which is not the guest's and must still pass
   * through to its rootfs; nobody may list. The state dir above keeps the
   * host's other users out. */
  snprintf (path, sizeof path, "%s/%s", dir, KO_SHARED_DIR);
  if ((mkdir (path, 0711) < 0 && errno != EEXIST) || chmod (path, 0711) < 0)
    return ko_error_set (err, errno, "mkdir %s", path);
  /* a mount of its own, shared: virtiofsd's namespace (a slave copy of
   * ours, see its sandbox) then sees what a pod member binds here later */
  if (mount (path, path, NULL, MS_BIND, NULL) < 0
      || mount (NULL, path, NULL, MS_SHARED, NULL) < 0)
    return ko_error_set (err, errno, "make %s a shared mount", path);
  return 0;
}

void
share_close (struct sandbox *sb)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", sb->p->dir, KO_SHARED_DIR);
  umount2 (path, MNT_DETACH);
}

/* The container's rootfs and volumes, bound under the share. */
int
share_add (struct container *c, ko_error **err)
{
  const char *dir = c->sb->p->dir;
  char path[4096];
  snprintf (path, sizeof path, "%s/%s/%s", dir, KO_SHARED_DIR, c->p->id);
  if ((mkdir (path, 0711) < 0 && errno != EEXIST) || chmod (path, 0711) < 0)
    return ko_error_set (err, errno, "mkdir %s", path);
  strncat (path, "/rootfs", sizeof path - strlen (path) - 1);
  if (mkdir (path, 0755) < 0 && errno != EEXIST)
    return ko_error_set (err, errno, "mkdir %s", path);
  /* resolved again, with no symlink, and bound from the fd: what was
   * checked at create is what the guest gets */
  _cleanup_close_ int rfd = hostpath_open_rootfs ("/", c->p->rootfs, err);
  if (rfd < 0)
    return -1;
  char fdpath[64];
  snprintf (fdpath, sizeof fdpath, "/proc/self/fd/%d", rfd);
  if (mount (fdpath, path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return ko_error_set (err, errno, "bind rootfs %s", c->p->rootfs);
  if (hostpath_share_check (path, err) < 0)
    return ko_error_wrap (err, "rootfs %s", c->p->rootfs);
  if (share_harden (path, false, err) < 0)
    return -1;
  for (size_t i = 0; i < c->p->nbinds; i++)
    if (share_bind_one (dir, &c->p->binds[i], err) < 0)
      return -1;
  return 0;
}

void
share_remove (struct container *c)
{
  char path[4096];
  const char *dir = c->sb->p->dir;
  snprintf (path, sizeof path, "%s/%s/%s/rootfs", dir, KO_SHARED_DIR, c->p->id);
  umount2 (path, MNT_DETACH);
  for (size_t i = 0; i < c->p->nbinds; i++)
    {
      snprintf (path, sizeof path, "%s/%s/%s", dir, KO_SHARED_DIR,
                c->p->binds[i].dest);
      umount2 (path, MNT_DETACH);
    }
}
