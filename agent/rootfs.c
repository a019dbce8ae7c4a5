/* The container's root filesystem, set up by its init (spawn.c) in the
 * guest before it runs the process: paths resolved inside the rootfs,
 * the spec's mounts, device nodes, sysctls, masked and read-only paths,
 * pivot_root. Runs in the child: errors go back on the sync pipe. */
#define _GNU_SOURCE
#include "agent.h"
#include "agent-linux.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util.h"

/* ---- paths inside the rootfs ---- */

static int
openat2_in_root (int root, const char *path, int flags)
{
  struct ag_open_how how
      = { .flags = (uint64_t)(flags | O_CLOEXEC),
          .resolve = AG_RESOLVE_IN_ROOT | AG_RESOLVE_NO_MAGICLINKS };
  while (*path == '/')
    path++;
  if (*path == '\0')
    path = ".";
  return (int)syscall (SYS_openat2, root, path, &how, sizeof how);
}

enum mkpath
{
  MK_NONE,
  MK_DIR,
  MK_FILE
};

#define MAX_LINK_HOPS 40

/* Opens path (O_PATH) inside root, symlinks resolved as if root were "/",
 * creating missing directories (and the last component as a dir or empty
 * file). A dangling symlink on the way is followed (inside root) and its
 * target created, as runc does. */
static int
open_in_root_hops (int root, const char *path, enum mkpath mk, int hops)
{
  int fd = openat2_in_root (root, path, O_PATH);
  if (fd >= 0 || errno != ENOENT || mk == MK_NONE)
    return fd;
  _cleanup_free_ char *copy = strdup (path);
  if (copy == NULL)
    return -1;
  size_t len = strlen (copy);
  for (size_t i = 1; i <= len; i++)
    {
      if (copy[i] != '/' && copy[i] != '\0')
        continue;
      char saved = copy[i];
      copy[i] = '\0';
      char *slash = strrchr (copy, '/');
      const char *name = slash ? slash + 1 : copy;
      if (*name && strcmp (name, ".") != 0)
        {
          int t = openat2_in_root (root, copy, O_PATH);
          if (t >= 0)
            close (t);
          else if (errno == ENOENT)
            {
              bool last = saved == '\0';
              if (slash)
                *slash = '\0';
              _cleanup_close_ int parent
                  = openat2_in_root (root, slash ? copy : "/", O_PATH);
              if (slash)
                *slash = '/';
              if (parent < 0)
                return -1;
              int r = last && mk == MK_FILE
                          ? mknodat (parent, name, S_IFREG | 0644, 0)
                          : mkdirat (parent, name, 0755);
              char target[4096];
              bool exists = r < 0 && errno == EEXIST;
              ssize_t n = exists ? readlinkat (parent, name, target,
                                               sizeof target - 1)
                                 : -1;
              /* not a link: another guest sharing this rootfs made it
               * between our look and our mkdir; go on as if we had */
              if (exists && n < 0 && errno == EINVAL)
                r = 0;
              if (exists && n >= 0)
                {
                  /* a dangling symlink: go on from its target */
                  if (hops >= MAX_LINK_HOPS)
                    {
                      errno = ELOOP;
                      return -1;
                    }
                  target[n] = '\0';
                  const char *rest = last ? "" : path + i;
                  if (slash)
                    *slash = '\0';
                  _cleanup_free_ char *next = NULL;
                  int a = target[0] == '/'
                              ? asprintf (&next, "%s%s", target, rest)
                              : asprintf (&next, "%s/%s%s", slash ? copy : "",
                                          target, rest);
                  if (a < 0)
                    return -1;
                  return open_in_root_hops (root, next, mk, hops + 1);
                }
              if (r < 0)
                return -1;
            }
          else
            return -1;
        }
      copy[i] = saved;
    }
  return openat2_in_root (root, path, O_PATH);
}

static int
open_in_root (int root, const char *path, enum mkpath mk)
{
  return open_in_root_hops (root, path, mk, 0);
}

static void
fd_path (char buf[32], int fd)
{
  snprintf (buf, 32, "/proc/self/fd/%d", fd);
}

#define PROPAGATION_FLAGS (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)
#define ATIME_FLAGS (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)

/* A bind remount. Inside a user namespace the kernel refuses to clear what a
 * more privileged namespace set on the mount (the share's nodev, say): keep
 * those flags and the mount's atime then, and try again, as runc does. */
static int
remount_bind (const char *target, unsigned long flags)
{
  if (mount (NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL) == 0)
    return 0;
  int e = errno;
  struct statvfs sv;
  if (e != EPERM || statvfs (target, &sv) < 0)
    {
      errno = e;
      return -1;
    }
  static const struct
  {
    unsigned long st, ms;
  } keep[] = {
    { ST_NOSUID, MS_NOSUID },         { ST_NODEV, MS_NODEV },
    { ST_NOEXEC, MS_NOEXEC },         { ST_NOATIME, MS_NOATIME },
    { ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
  };
  flags &= ~(unsigned long)ATIME_FLAGS;
  for (size_t i = 0; i < KO_ARRAY_SIZE (keep); i++)
    if (sv.f_flag & keep[i].st)
      flags |= keep[i].ms;
  if (!(flags & (MS_NOATIME | MS_RELATIME)))
    flags |= MS_STRICTATIME;
  return mount (NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL);
}

/* The guest's own instance of a filesystem a user namespace may not mount
 * because it does not own the namespace behind it (the network one for
 * sysfs, the cgroup one for cgroup2): bound instead, as runc does. */
static const char *
guest_instance (const char *type)
{
  if (strcmp (type, "sysfs") == 0)
    return "/sys";
  if (strcmp (type, "cgroup2") == 0)
    return "/sys/fs/cgroup";
  return NULL;
}

/* tmpcopyup, as runc: each entry of the directory sfd (which this takes)
 * copied into dfd with its owner and mode; files' contents, symlinks,
 * fifos and device nodes as they are. */
static int
copy_tree (int sfd, int dfd, int depth)
{
  DIR *d = fdopendir (sfd);
  struct dirent *e;
  int r = d ? 0 : -1;
  while (r == 0 && (e = readdir (d)))
    {
      const char *n = e->d_name;
      struct stat st;
      if (n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2])))
        continue;
      if (fstatat (sfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          r = -1;
          break;
        }
      int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC, s2 = -1, d2 = -1;
      if (S_ISDIR (st.st_mode))
        {
          flags |= O_DIRECTORY;
          r = depth > 64 ? (errno = ELOOP, -1) : mkdirat (dfd, n, 0700);
          if (r == 0 && (s2 = openat (sfd, n, flags)) >= 0
              && (d2 = openat (dfd, n, flags)) >= 0)
            r = copy_tree (s2, d2, depth + 1);
          else if (r == 0)
            {
              r = -1;
              if (s2 >= 0)
                close (s2);
            }
        }
      else if (S_ISREG (st.st_mode))
        {
          ssize_t k = -1;
          if ((s2 = openat (sfd, n, flags)) >= 0
              && (d2 = openat (dfd, n, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                               0600))
                     >= 0)
            while ((k = sendfile (d2, s2, NULL, 1 << 30)) > 0)
              ;
          r = k < 0 ? -1 : 0;
          if (s2 >= 0)
            close (s2);
        }
      else if (S_ISLNK (st.st_mode))
        {
          char t[4096];
          ssize_t k = readlinkat (sfd, n, t, sizeof t - 1);
          r = k < 0 ? -1 : (t[k] = '\0', symlinkat (t, dfd, n));
        }
      else
        r = mknodat (dfd, n, st.st_mode, st.st_rdev);
      if (d2 >= 0)
        close (d2);
      /* the mode after the owner: chown clears set-id bits */
      if (r == 0)
        r = fchownat (dfd, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
      if (r == 0 && !S_ISLNK (st.st_mode))
        r = (int)syscall (SYS_fchmodat, dfd, n, st.st_mode & 07777);
    }
  if (d)
    closedir (d);
  else
    close (sfd);
  return r;
}

static int
do_mount (int root, const struct ko_mount *m_in, ko_error **err)
{
  struct ko_mount m_copy = *m_in;
  const struct ko_mount *m = &m_copy;
  /* the guest runs cgroup v2 only: a v1 "cgroup" mount means the unified
   * hierarchy (as runc does on a v2 host) */
  if (m->type && strcmp (m->type, "cgroup") == 0)
    {
      m_copy.type = m_copy.source = "cgroup2";
      m_copy.data = NULL;
    }
  if (m->type && strcmp (m->type, "bind") == 0)
    m_copy.flags |= MS_BIND;
  bool bind = (m->flags & MS_BIND) != 0;
  _cleanup_free_ char *src = NULL;
  enum mkpath mk = MK_DIR;
  if (m->dest == NULL || m->dest[0] != '/')
    return ag_error_set (err, EINVAL, "mount %s: destination must be absolute",
                         m->dest ? m->dest : "(none)");
  /* a block volume: the guest disk holds the filesystem; a bind of a
   * host block device: the guest disk's node is bound */
  char disk[160];
  dev_t rdev;
  if (m->disk)
    {
      if (!bind && m->type == NULL)
        return ag_error_set (err, EINVAL, "mount %s: a disk needs a type",
                             m->dest);
      if (ag_disk_find (m->disk, disk, sizeof disk, &rdev, err) < 0)
        return -1;
      m_copy.source = disk;
      if (bind && (src = strdup (disk)) == NULL)
        return ag_error_set (err, ENOMEM, "mount %s", m->dest);
      if (bind)
        mk = MK_FILE;
    }
  else if (bind)
    {
      if (m->source == NULL || !ag_relpath_ok (m->source))
        return ag_error_set (err, EINVAL,
                             "mount %s: bad source %s (must be relative to "
                             "the share)",
                             m->dest, m->source ? m->source : "(none)");
      if (asprintf (&src, "%s/%s", KO_GUEST_SHARE_DIR, m->source) < 0)
        return ag_error_set (err, ENOMEM, "mount %s", m->dest);
      struct stat st;
      if (stat (src, &st) < 0)
        return ag_error_set (err, errno, "mount %s", m->dest);
      if (!S_ISDIR (st.st_mode))
        mk = MK_FILE;
    }
  _cleanup_close_ int fd = open_in_root (root, m->dest, mk);
  if (fd < 0)
    return ag_error_set (err, errno, "mount %s: create the mount point",
                         m->dest);
  char target[32];
  fd_path (target, fd);
  bool copyup = (m->flags & KO_MOUNT_COPYUP) != 0;
  unsigned long flags
      = m->flags & ~(unsigned long)(PROPAGATION_FLAGS | KO_MOUNT_COPYUP);
  if (bind)
    {
      if (mount (src, target, NULL, MS_BIND | (flags & MS_REC), NULL) < 0)
        return ag_error_set (err, errno, "mount %s", m->dest);
      unsigned long extra = flags & ~(unsigned long)(MS_BIND | MS_REC);
      if (extra || m->propagation)
        {
          /* the new mount hides what fd points to: look it up again */
          close (fd);
          fd = open_in_root (root, m->dest, MK_NONE);
          if (fd < 0)
            return ag_error_set (err, errno, "mount %s", m->dest);
          fd_path (target, fd);
          if (extra && remount_bind (target, extra) < 0)
            return ag_error_set (err, errno, "remount %s", m->dest);
        }
    }
  else
    {
      const char *source = m->source ? m->source : m->type;
      /* ptys are allocated by the agent in the guest's devpts, before the
       * container's mounts exist; showing that instance at /dev/pts lets
       * ttyname() find them. The VM holds this sandbox alone. */
      bool devpts = m->type && strcmp (m->type, "devpts") == 0;
      /* tmpcopyup: the directory the mount is about to cover */
      int below
          = copyup ? openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
      if (copyup && below < 0)
        return ag_error_set (err, errno, "mount %s: tmpcopyup", m->dest);
      int r = devpts ? mount ("/dev/pts", target, NULL, MS_BIND, NULL)
                     : mount (source, target, m->type,
                              copyup ? flags & ~MS_RDONLY : flags, m->data);
      if (copyup)
        {
          int top = r < 0 ? -1 : open_in_root (root, m->dest, MK_NONE);
          int dir = top < 0
                        ? -1
                        : openat (top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          if (dir < 0 || copy_tree (below, dir, 0) < 0)
            r = -1;
          int e = errno;
          if (dir < 0 && below >= 0)
            close (below); /* else copy_tree took it */
          if (dir >= 0)
            close (dir);
          if (r == 0)
            {
              close (fd);
              fd = top;
              fd_path (target, fd);
              if (flags & MS_RDONLY)
                r = mount (source, target, m->type, MS_REMOUNT | flags,
                           m->data);
            }
          else
            {
              if (top >= 0)
                close (top);
              errno = e;
              return ag_error_set (err, errno, "mount %s: tmpcopyup", m->dest);
            }
        }
      const char *guest = r < 0 && errno == EPERM && m->type
                              ? guest_instance (m->type)
                              : NULL;
      if (guest && mount (guest, target, NULL, MS_BIND | MS_REC, NULL) == 0)
        {
          close (fd);
          fd = open_in_root (root, m->dest, MK_NONE);
          if (fd < 0)
            return ag_error_set (err, errno, "mount %s", m->dest);
          fd_path (target, fd);
          r = remount_bind (target, flags & ~(unsigned long)MS_REC);
        }
      else if (guest)
        errno = EPERM; /* the reason the bind was tried */
      if (r < 0)
        return ag_error_set (err, errno, "mount %s (%s)", m->dest,
                             m->type ? m->type : "?");
      if (m->propagation)
        {
          close (fd);
          fd = open_in_root (root, m->dest, MK_NONE);
          if (fd < 0)
            return ag_error_set (err, errno, "mount %s", m->dest);
          fd_path (target, fd);
        }
    }
  if (m->propagation
      && mount (NULL, target, NULL,
                m->propagation & (PROPAGATION_FLAGS | MS_REC), NULL)
             < 0)
    return ag_error_set (err, errno, "mount %s: set propagation", m->dest);
  if (m->rec_attr)
    {
      /* rro, rnosuid ...: the mount and all beneath it (fd may still be
       * the mount point under it) */
      struct ag_mount_attr a = { (uint32_t)m->rec_attr, m->rec_attr >> 32 };
      close (fd);
      fd = open_in_root (root, m->dest, MK_NONE);
      if (fd < 0
          || syscall (SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE,
                      &a, sizeof a)
                 < 0)
        return ag_error_set (err, errno, "mount %s: recursive attributes",
                             m->dest);
    }
  return 0;
}

static const struct ko_mount default_mounts[] = {
  { "/proc", "proc", "proc", NULL, MS_NOSUID | MS_NOEXEC | MS_NODEV, 0 },
  { "/dev", "tmpfs", "tmpfs", "mode=755,size=65536k",
    MS_NOSUID | MS_STRICTATIME, 0 },
  { "/dev/pts", "devpts", "devpts", "newinstance,ptmxmode=0666,mode=0620",
    MS_NOSUID | MS_NOEXEC, 0 },
  { "/dev/shm", "tmpfs", "shm", "mode=1777,size=65536k",
    MS_NOSUID | MS_NOEXEC | MS_NODEV, 0 },
  { "/dev/mqueue", "mqueue", "mqueue", NULL, MS_NOSUID | MS_NOEXEC | MS_NODEV,
    0 },
  { "/sys", "sysfs", "sysfs", NULL,
    MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, 0 },
};

static const struct
{
  const char *name;
  unsigned maj, min;
} default_devices[] = {
  { "null", 1, 3 },   { "zero", 1, 5 },    { "full", 1, 7 },
  { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static const struct
{
  const char *name, *target;
} default_links[] = {
  { "fd", "/proc/self/fd" },       { "stdin", "/proc/self/fd/0" },
  { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
  { "ptmx", "pts/ptmx" },
};

/* Inside a user namespace no device node can be made: bind the guest's own
 * node onto an empty file instead, as runc binds the host's. The node keeps
 * the guest's owner and mode. */
static int
bind_device_node (int dir, const char *name, const char *guest, bool replace)
{
  if (replace)
    unlinkat (dir, name, 0);
  int fd = openat (dir, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return errno == EEXIST && !replace ? 0 : -1;
  close (fd);
  _cleanup_close_ int t = openat (dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  char target[32];
  if (t < 0)
    return -1;
  fd_path (target, t);
  return mount (guest, target, NULL, MS_BIND, NULL);
}

/* The guest's node for d's numbers: /dev/<DEVNAME of its sysfs entry>. */
static int
guest_device_node (const struct ko_device *d, char *out, size_t len,
                   ko_error **err)
{
  char path[96], text[512], name[128];
  snprintf (path, sizeof path, "/sys/dev/%s/%llu:%llu/uevent",
            d->type == 'b' ? "block" : "char", (unsigned long long)d->major,
            (unsigned long long)d->minor);
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read (fd, text, sizeof text - 1);
  struct stat st;
  if (n > 0)
    text[n] = '\0';
  if (n <= 0 || ag_uevent_devname (text, name, sizeof name) < 0
      || snprintf (out, len, "/dev/%s", name) >= (int)len || stat (out, &st) < 0
      || st.st_rdev != makedev (d->major, d->minor)
      || !(d->type == 'b' ? S_ISBLK (st.st_mode) : S_ISCHR (st.st_mode)))
    return ag_error_set (err, ENODEV,
                         "device %s: a user namespace cannot make device "
                         "nodes, and the guest has no %c %llu:%llu to bind",
                         d->path, d->type == 'u' ? 'c' : (int)d->type,
                         (unsigned long long)d->major,
                         (unsigned long long)d->minor);
  return 0;
}

static int
make_device (int root, const struct ko_device *d, bool userns, ko_error **err)
{
  mode_t type;
  switch (d->type)
    {
    case 'c':
    case 'u':
      type = S_IFCHR;
      break;
    case 'b':
      type = S_IFBLK;
      break;
    case 'p':
      type = S_IFIFO;
      break;
    default:
      return ag_error_set (err, EINVAL, "device %s: unknown type %u",
                           d->path ? d->path : "?", d->type);
    }
  if (d->path == NULL || d->path[0] != '/')
    return ag_error_set (err, EINVAL, "device: path must be absolute");
  _cleanup_free_ char *dir = strdup (d->path);
  if (dir == NULL)
    return ag_error_set (err, ENOMEM, "device %s", d->path);
  char *slash = strrchr (dir, '/');
  const char *name = d->path + (slash - dir) + 1;
  *slash = '\0';
  _cleanup_close_ int pfd = open_in_root (root, *dir ? dir : "/", MK_DIR);
  if (pfd < 0)
    return ag_error_set (err, errno, "device %s", d->path);
  /* a host disk: the node is the guest disk's, with its numbers */
  char guest[160];
  dev_t rdev = makedev (d->major, d->minor);
  if (d->disk
      && (type != S_IFBLK
          || ag_disk_find (d->disk, guest, sizeof guest, &rdev, err) < 0))
    return type != S_IFBLK ? ag_error_set (err, EINVAL,
                                           "device %s: a disk must be of "
                                           "type b",
                                           d->path)
                           : -1;
  if (userns && type != S_IFIFO)
    {
      if (!d->disk && guest_device_node (d, guest, sizeof guest, err) < 0)
        return -1;
      if (bind_device_node (pfd, name, guest, true) < 0)
        return ag_error_set (err, errno, "device %s: bind %s", d->path, guest);
      return 0;
    }
  mode_t perm = d->has_mode ? (d->mode & 07777) : 0666;
  unlinkat (pfd, name, 0);
  if (mknodat (pfd, name, type | perm, rdev) < 0)
    return ag_error_set (err, errno, "mknod %s", d->path);
  if ((d->has_uid || d->has_gid)
      && fchownat (pfd, name, d->has_uid ? d->uid : (uid_t)-1,
                   d->has_gid ? d->gid : (gid_t)-1, AT_SYMLINK_NOFOLLOW)
             < 0)
    return ag_error_set (err, errno, "chown %s", d->path);
  return 0;
}

/* The standard nodes and links go on a /dev mounted for the container,
 * never into the rootfs itself (the host's directory, over virtio-fs). */
static int
setup_default_dev (int root, bool userns, ko_error **err)
{
  _cleanup_close_ int dev = open_in_root (root, "/dev", MK_NONE);
  if (dev < 0)
    return errno == ENOENT
               ? 0
               : ag_error_set (err, errno, "open /dev in the rootfs");
  _cleanup_close_ int devdir
      = openat (dev, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat rst, dst;
  if (devdir < 0 || fstat (root, &rst) < 0 || fstat (devdir, &dst) < 0)
    return ag_error_set (err, errno, "open /dev in the rootfs");
  if (rst.st_dev == dst.st_dev)
    return 0;
  for (size_t i = 0; i < KO_ARRAY_SIZE (default_devices); i++)
    {
      const char *name = default_devices[i].name;
      char guest[32];
      snprintf (guest, sizeof guest, "/dev/%s", name);
      if (userns ? bind_device_node (devdir, name, guest, false) < 0
                 : mknodat (
                       devdir, name, S_IFCHR | 0666,
                       makedev (default_devices[i].maj, default_devices[i].min))
                           < 0
                       && errno != EEXIST)
        return ag_error_set (err, errno, "%s /dev/%s",
                             userns ? "bind" : "mknod", name);
    }
  for (size_t i = 0; i < KO_ARRAY_SIZE (default_links); i++)
    if (symlinkat (default_links[i].target, devdir, default_links[i].name) < 0
        && errno != EEXIST)
      return ag_error_set (err, errno, "symlink /dev/%s",
                           default_links[i].name);
  return 0;
}

static int
setup_dev (int root, const struct ko_container_spec *spec, ko_error **err)
{
  bool userns = (spec->namespaces & CLONE_NEWUSER) != 0;
  if (setup_default_dev (root, userns, err) < 0)
    return -1;
  for (size_t i = 0; i < spec->ndevices; i++)
    if (make_device (root, &spec->devices[i], userns, err) < 0)
      return -1;
  return 0;
}

static int
apply_sysctls (const struct ko_container_spec *spec, ko_error **err)
{
  for (size_t i = 0; i < spec->nsysctls; i++)
    {
      const char *k = spec->sysctls[i].key;
      if (k == NULL || !ag_relpath_ok (k))
        return ag_error_set (err, EINVAL, "sysctl %s: bad key", k ? k : "");
      _cleanup_free_ char *path = NULL;
      if (asprintf (&path, "/proc/sys/%s", k) < 0)
        return ag_error_set (err, ENOMEM, "sysctl %s", k);
      for (char *p = path + 10; *p; p++)
        if (*p == '.')
          *p = '/';
      if (ag_write_file (
              path, spec->sysctls[i].value ? spec->sysctls[i].value : "", err)
          < 0)
        return ko_error_wrap (err, "sysctl %s", k);
    }
  return 0;
}

static int
mask_paths (const struct ko_container_spec *spec, ko_error **err)
{
  for (size_t i = 0; i < spec->nmasked; i++)
    {
      const char *p = spec->masked[i];
      struct stat st;
      if (stat (p, &st) < 0)
        {
          if (errno == ENOENT)
            continue;
          return ag_error_set (err, errno, "mask %s", p);
        }
      int r = S_ISDIR (st.st_mode)
                  ? mount ("tmpfs", p, "tmpfs", MS_RDONLY, "size=0")
                  : mount ("/dev/null", p, NULL, MS_BIND, NULL);
      if (r < 0)
        return ag_error_set (err, errno, "mask %s", p);
    }
  for (size_t i = 0; i < spec->nreadonly; i++)
    {
      const char *p = spec->readonly[i];
      if (mount (p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
        {
          if (errno == ENOENT)
            continue;
          return ag_error_set (err, errno, "readonly %s", p);
        }
      if (remount_bind (p, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC) < 0
          && remount_bind (p, MS_RDONLY) < 0)
        return ag_error_set (err, errno, "readonly %s", p);
    }
  return 0;
}

int
rootfs_setup (const char *rootfs_rel, const struct ko_container_spec *spec,
              ko_error **err)
{
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return ag_error_set (err, errno, "make mounts private");
  _cleanup_free_ char *rootfs = NULL;
  /* a block rootfs: the agent mounted its disk there */
  if (asprintf (&rootfs, "%s/%s",
                spec->rootfs_disk ? KO_GUEST_DISK_ROOTFS_DIR
                                  : KO_GUEST_SHARE_DIR,
                rootfs_rel)
      < 0)
    return ag_error_set (err, ENOMEM, "rootfs");
  if (mount (rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return ag_error_set (err, errno, "rootfs %s", rootfs_rel);
  /* as runc does, the root's propagation is set before the container's
   * mounts, so that each of them can set its own after it; pivot_root
   * refuses a shared new root: that part waits until it is "/" */
  unsigned long rprop = spec->rootfs_propagation & (PROPAGATION_FLAGS | MS_REC);
  if (rprop
      && (mount (NULL, rootfs, NULL, rprop, NULL) < 0
          || ((rprop & MS_SHARED)
              && mount (NULL, rootfs, NULL, MS_PRIVATE, NULL) < 0)))
    return ag_error_set (err, errno, "rootfs propagation");
  _cleanup_close_ int root = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return ag_error_set (err, errno, "rootfs %s", rootfs_rel);

  if (spec->nmounts > 0)
    {
      for (size_t i = 0; i < spec->nmounts; i++)
        if (do_mount (root, &spec->mounts[i], err) < 0)
          return -1;
    }
  else
    for (size_t i = 0; i < KO_ARRAY_SIZE (default_mounts); i++)
      {
        const struct ko_mount *m = &default_mounts[i];
        if ((m->flags & MS_BIND) == 0 && strcmp (m->type, "mqueue") == 0
            && !(spec->namespaces & CLONE_NEWIPC))
          continue; /* the guest's own queues are not the container's */
        if (do_mount (root, m, err) < 0)
          return -1;
      }
  /* the sd_notify socket's directory, over what the spec put there (a
   * host socket, which the VM cannot reach): the agent binds the socket
   * there once the container is set up */
  if (spec->notify)
    {
      _cleanup_free_ char *dir = strdup (spec->notify);
      char *slash = dir ? strrchr (dir, '/') : NULL;
      if (slash == NULL || slash == dir)
        return ag_error_set (err, EINVAL, "notify socket %s", spec->notify);
      *slash = '\0';
      struct ko_mount nm = { dir,
                             "tmpfs",
                             "tmpfs",
                             "mode=755,size=64k",
                             MS_NOSUID | MS_NODEV | MS_NOEXEC,
                             0 };
      if (do_mount (root, &nm, err) < 0)
        return -1;
    }
  if (setup_dev (root, spec, err) < 0)
    return -1;

  if (fchdir (root) < 0)
    return ag_error_set (err, errno, "chdir to the rootfs");
  /* pivot_root(".", ".") stacks the old root under the new one; detaching
   * "." then drops it without needing a put_old directory */
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return ag_error_set (err, errno, "pivot_root");
  if (umount2 (".", MNT_DETACH) < 0)
    return ag_error_set (err, errno, "detach the old root");
  if (chdir ("/") < 0)
    return ag_error_set (err, errno, "chdir /");
  if ((rprop & MS_SHARED) && mount (NULL, "/", NULL, MS_SHARED, NULL) < 0)
    return ag_error_set (err, errno, "rootfs propagation");
  if (apply_sysctls (spec, err) < 0 || mask_paths (spec, err) < 0)
    return -1;
  if (spec->root_readonly && remount_bind ("/", MS_RDONLY) < 0)
    return ag_error_set (err, errno, "remount the rootfs read-only");
  return 0;
}
