/* config.json mounts -> the guest's mounts and the share's binds. */
#include "config.h"

#include "blockdev.h"
#include "hostpath.h"
#include "log.h"
#include "msg.h"
#include "policy.h"
#include "translate-internal.h"
#include "translate.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- mounts ---- */

static const struct
{
  const char *name;
  bool clear;
  unsigned long flag;
} mount_flags[] = {
  { "ro", false, MS_RDONLY },
  { "rw", true, MS_RDONLY },
  { "nosuid", false, MS_NOSUID },
  { "suid", true, MS_NOSUID },
  { "nodev", false, MS_NODEV },
  { "dev", true, MS_NODEV },
  { "noexec", false, MS_NOEXEC },
  { "exec", true, MS_NOEXEC },
  { "sync", false, MS_SYNCHRONOUS },
  { "async", true, MS_SYNCHRONOUS },
  { "dirsync", false, MS_DIRSYNC },
  { "mand", false, MS_MANDLOCK },
  { "nomand", true, MS_MANDLOCK },
  { "noatime", false, MS_NOATIME },
  { "atime", true, MS_NOATIME },
  { "nodiratime", false, MS_NODIRATIME },
  { "diratime", true, MS_NODIRATIME },
  { "relatime", false, MS_RELATIME },
  { "norelatime", true, MS_RELATIME },
  { "strictatime", false, MS_STRICTATIME },
  { "nostrictatime", true, MS_STRICTATIME },
  { "lazytime", false, MS_LAZYTIME },
  { "nolazytime", true, MS_LAZYTIME },
  { "silent", false, MS_SILENT },
  { "loud", true, MS_SILENT },
  { "nosymfollow", false, MS_NOSYMFOLLOW },
  { "symfollow", true, MS_NOSYMFOLLOW },
  { "iversion", false, MS_I_VERSION },
  { "noiversion", true, MS_I_VERSION },
  { "acl", false, MS_POSIXACL },
  { "noacl", true, MS_POSIXACL },
  { "defaults", false, 0 },
  { "bind", false, MS_BIND },
  { "rbind", false, MS_BIND | MS_REC },
};

/* runc's recursive attributes: mount_setattr(2) with AT_RECURSIVE on the
 * mount and everything beneath it, after the mount */
static const struct
{
  const char *name;
  bool clear;
  uint32_t attr;
} rec_attrs[] = {
  { "rro", false, MOUNT_ATTR_RDONLY },
  { "rrw", true, MOUNT_ATTR_RDONLY },
  { "rnosuid", false, MOUNT_ATTR_NOSUID },
  { "rsuid", true, MOUNT_ATTR_NOSUID },
  { "rnodev", false, MOUNT_ATTR_NODEV },
  { "rdev", true, MOUNT_ATTR_NODEV },
  { "rnoexec", false, MOUNT_ATTR_NOEXEC },
  { "rexec", true, MOUNT_ATTR_NOEXEC },
  { "rnodiratime", false, MOUNT_ATTR_NODIRATIME },
  { "rdiratime", true, MOUNT_ATTR_NODIRATIME },
  { "rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW },
  { "rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW },
};

/* The atime modes are one value, not bits: mount_setattr(2) takes one in
 * attr_set with all of MOUNT_ATTR__ATIME in attr_clr. Clearing a mode
 * means the one mount(2) gives without it (relatime, the kernel's
 * default; strictatime for rnorelatime). */
static const struct
{
  const char *name;
  uint32_t mode;
} rec_atimes[] = {
  { "rrelatime", MOUNT_ATTR_RELATIME },
  { "rnorelatime", MOUNT_ATTR_STRICTATIME },
  { "rnoatime", MOUNT_ATTR_NOATIME },
  { "ratime", MOUNT_ATTR_RELATIME },
  { "rstrictatime", MOUNT_ATTR_STRICTATIME },
  { "rnostrictatime", MOUNT_ATTR_RELATIME },
};

bool
translate_rec_attr (const char *name, uint32_t *set, uint32_t *clr)
{
  for (size_t i = 0; i < KO_ARRAY_SIZE (rec_atimes); i++)
    if (strcmp (name, rec_atimes[i].name) == 0)
      {
        *set = (*set & ~(uint32_t)MOUNT_ATTR__ATIME) | rec_atimes[i].mode;
        *clr |= MOUNT_ATTR__ATIME;
        return true;
      }
  for (size_t i = 0; i < KO_ARRAY_SIZE (rec_attrs); i++)
    if (strcmp (name, rec_attrs[i].name) == 0)
      {
        uint32_t a = rec_attrs[i].attr;
        *set = rec_attrs[i].clear ? *set & ~a : *set | a;
        *clr = rec_attrs[i].clear ? *clr | a : *clr & ~a;
        return true;
      }
  return false;
}

static const struct
{
  const char *name;
  unsigned long flag;
} propagations[] = {
  { "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
  { "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
  { "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
  { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

int
propagation_flags (const char *name, uint64_t *out)
{
  for (size_t i = 0; i < KO_ARRAY_SIZE (propagations); i++)
    if (strcmp (name, propagations[i].name) == 0)
      {
        *out = propagations[i].flag;
        return 0;
      }
  return -1;
}

/* Filesystems the guest kernel makes itself; everything else would need a
 * host block device or network share the VM cannot see. */
static const char *const guest_fs[]
    = { "proc",   "sysfs",  "tmpfs",  "ramfs",
        "devpts", "mqueue", "cgroup", "cgroup2" };

struct mount_opts
{
  uint64_t flags, propagation;
  char *data;                /* malloc'd, NULL when empty */
  bool copyup;               /* tmpcopyup */
  uint32_t rec_set, rec_clr; /* MOUNT_ATTR_*, recursive */
};

static int
parse_mount_options (const oci_mount *m, size_t idx, struct mount_opts *o,
                     ko_error **err)
{
  struct ko_buf data = { 0 };
  memset (o, 0, sizeof *o);
  for (size_t i = 0; i < m->options_len; i++)
    {
      const char *opt = m->options[i];
      size_t j;
      uint64_t prop;
      for (j = 0; j < KO_ARRAY_SIZE (mount_flags); j++)
        if (strcmp (opt, mount_flags[j].name) == 0)
          break;
      if (j < KO_ARRAY_SIZE (mount_flags))
        {
          if (mount_flags[j].clear)
            o->flags &= ~(uint64_t)mount_flags[j].flag;
          else
            o->flags |= mount_flags[j].flag;
          continue;
        }
      if (propagation_flags (opt, &prop) == 0)
        {
          o->propagation = prop;
          continue;
        }
      if (strcmp (opt, "tmpcopyup") == 0)
        {
          o->copyup = true;
          continue;
        }
      if (translate_rec_attr (opt, &o->rec_set, &o->rec_clr))
        continue;
      if (strcmp (opt, "idmap") == 0 || strcmp (opt, "ridmap") == 0
          || strcmp (opt, "remount") == 0)
        {
          ko_buf_free (&data);
          return ko_error_setx (err, ENOTSUP,
                                "config.json: mounts[%zu].options[%zu]: "
                                "\"%s\" is not supported",
                                idx, i, opt);
        }
      /* anything else is the filesystem's own option (size=, mode=) */
      if ((data.len && ko_buf_append (&data, ",", 1) < 0)
          || ko_buf_append (&data, opt, strlen (opt)) < 0)
        {
          ko_buf_free (&data);
          return ko_error_set (err, ENOMEM, "mount options");
        }
    }
  if (data.len)
    {
      if (ko_buf_append (&data, "", 1) < 0)
        {
          ko_buf_free (&data);
          return ko_error_set (err, ENOMEM, "mount options");
        }
      o->data = (char *)data.data;
    }
  return 0;
}

static int
add_bind (struct share_bind **binds, size_t *nbinds, char *source, char *dest,
          const char *ctr_dest, uint8_t readonly)
{
  char *cd = strdup (ctr_dest);
  struct share_bind *nb
      = cd ? realloc (*binds, (*nbinds + 1) * sizeof *nb) : NULL;
  if (nb == NULL)
    {
      free (cd);
      return -1;
    }
  *binds = nb;
  nb[*nbinds] = (struct share_bind){ source, dest, cd, readonly };
  (*nbinds)++;
  return 0;
}

/* A bind mount: the host path goes into the share (a bind the monitor
 * makes), the guest mounts it from there. */
static int
translate_bind (const oci_mount *m, size_t idx, const char *bundle,
                const char *id, uint8_t readonly, struct ko_mount *km,
                struct share_bind **binds, size_t *nbinds, ko_error **err)
{
  if (m->source == NULL || *m->source == '\0')
    return ko_error_setx (err, EINVAL,
                          "config.json: mounts[%zu].source: a bind mount "
                          "needs a source",
                          idx);
  /* a relative source resolves beneath the bundle here, once: the
   * monitor binds the path it resolved to */
  _cleanup_close_ int sfd = hostpath_open_source (bundle, m->source, idx, err);
  if (sfd < 0)
    return -1;
  _cleanup_free_ char *src
      = m->source[0] == '/' ? strdup (m->source) : hostpath_of_fd (sfd);
  if (src == NULL)
    return ko_error_set (err, ENOMEM, "mounts");
  struct stat st;
  if (fstat (sfd, &st) < 0)
    return ko_error_set (err, errno, "config.json: mounts[%zu].source %s", idx,
                         src);
  if (!S_ISDIR (st.st_mode) && !S_ISREG (st.st_mode))
    return ko_error_setx (err, ENOTSUP,
                          "config.json: mounts[%zu].source: %s is neither "
                          "a directory nor a regular file: the VM cannot "
                          "reach host devices or sockets through its "
                          "share",
                          idx, src);
  /* the host's proc, sysfs, /dev ...: virtiofsd would read and write them
   * for the guest (the share re-checks what it binds, and hides such
   * mounts beneath the source) */
  _cleanup_free_ char *mi = ko_mountinfo_read (err);
  if (mi == NULL)
    return -1;
  int bad;
  const char *what = hostpath_kernel_fs (mi, st.st_dev, &bad, err);
  if (bad < 0)
    return -1;
  if (what)
    {
      const char *instead = hostpath_kernel_fs_instead (what);
      return ko_error_setx (
          err, EPERM,
          "config.json: mounts[%zu].source: %s is on %s%s, "
          "the host kernel's own: shared into the VM, the "
          "guest would reach the host past it%s%s",
          idx, src, strncmp (what, "the ", 4) == 0 ? "" : "the host's ", what,
          instead ? "; use " : "", instead ? instead : "");
    }
  _cleanup_free_ char *dest = NULL;
  if (asprintf (&dest, "%s/mounts/%zu", id, idx) < 0)
    return ko_error_set (err, ENOMEM, "mounts");
  km->type = strdup ("bind");
  km->source = strdup (dest);
  if (km->type == NULL || km->source == NULL
      || add_bind (binds, nbinds, src, dest, m->destination, readonly) < 0)
    return ko_error_set (err, ENOMEM, "mounts");
  src = NULL;
  dest = NULL;
  return 0;
}

/* proc and sysfs only on an ordinary directory, as runc: mounted
 * through a symbolic link (or over a file), they have been a way to put
 * the kernel's files where the container's setup writes. */
static int
check_ordinary_dir (const char *rootfs, const oci_mount *m, size_t idx,
                    ko_error **err)
{
  struct open_how how = { .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                          .resolve = RESOLVE_IN_ROOT };
  _cleanup_close_ int root = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return 0; /* the rootfs's own check says what is wrong */
  _cleanup_close_ int fd
      = (int)syscall (SYS_openat2, root, m->destination, &how, sizeof how);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0 || S_ISDIR (st.st_mode))
    return 0; /* absent: the guest makes the directory */
  return ko_error_setx (err, EINVAL,
                        "config.json: mounts[%zu]: filesystem \"%s\" must "
                        "be mounted on ordinary directory (%s in the rootfs "
                        "is a %s)",
                        idx, m->type, m->destination,
                        S_ISLNK (st.st_mode) ? "symbolic link" : "file");
}

/* A filesystem the guest kernel makes itself. */
static int
translate_guest_fs (const oci_mount *m, size_t idx, const char *rootfs,
                    struct ko_mount *km, ko_error **err)
{
  size_t j;
  for (j = 0; m->type && j < KO_ARRAY_SIZE (guest_fs); j++)
    if (strcmp (m->type, guest_fs[j]) == 0)
      break;
  if (m->type == NULL || j == KO_ARRAY_SIZE (guest_fs))
    return ko_error_setx (err, ENOTSUP,
                          "config.json: mounts[%zu].type: \"%s\" cannot "
                          "be mounted in the VM (it would need a host "
                          "device or share); use a bind mount",
                          idx, m->type ? m->type : "");
  if (rootfs
      && (strcmp (m->type, "proc") == 0 || strcmp (m->type, "sysfs") == 0)
      && check_ordinary_dir (rootfs, m, idx, err) < 0)
    return -1;
  km->type = strdup (m->type);
  km->source = strdup (m->source ? m->source : m->type);
  if (km->type == NULL || km->source == NULL)
    return ko_error_set (err, ENOMEM, "mounts");
  return 0;
}

int
translate_mount (const oci_mount *m, size_t idx, const char *bundle,
                 const char *rootfs, const char *id, struct ko_mount *out,
                 struct share_bind **binds, size_t *nbinds,
                 const oci_spec *spec, struct ko_disks *disks, ko_error **err)
{
  if (m->destination == NULL || m->destination[0] != '/')
    return ko_error_setx (err, EINVAL,
                          "config.json: mounts[%zu].destination: must be an "
                          "absolute path, not \"%s\"",
                          idx, m->destination ? m->destination : "");
  if (m->uid_mappings_len || m->gid_mappings_len)
    return ko_error_setx (err, ENOTSUP,
                          "config.json: mounts[%zu]: id-mapped mounts are not "
                          "supported",
                          idx);
  struct mount_opts o;
  if (parse_mount_options (m, idx, &o, err) < 0)
    return -1;
  _cleanup_free_ char *data = o.data;
  bool bind = (o.flags & MS_BIND) || (m->type && strcmp (m->type, "bind") == 0);
  struct ko_mount km = { 0 };
  bool disk = false;
  if (blockdev_add_volume (disks, spec, m, idx, bind,
                           (o.flags & MS_RDONLY) != 0, id, &disk, err)
      < 0)
    return -1;
  int r;
  if (disk)
    {
      /* the guest mounts the disk (or binds its node); the host never
       * mounts it */
      km.type = strdup (bind ? "bind" : m->type);
      km.source = strdup (disks->v[disks->n - 1].serial);
      km.disk = strdup (km.source ? km.source : "");
      r = km.type && km.source && km.disk
              ? 0
              : ko_error_set (err, ENOMEM, "mounts");
    }
  else
    r = bind ? translate_bind (m, idx, bundle, id,
                               (o.rec_set & MOUNT_ATTR_RDONLY) ? KO_BIND_RRO
                               : (o.flags & MS_RDONLY)         ? KO_BIND_RO
                                                               : KO_BIND_RW,
                               &km, binds, nbinds, err)
             : translate_guest_fs (m, idx, rootfs, &km, err);
  if (r == 0 && (km.dest = strdup (m->destination)) == NULL)
    r = ko_error_set (err, ENOMEM, "mounts");
  if (r < 0)
    {
      free (km.type);
      free (km.source);
      free (km.disk);
      return -1;
    }
  if (bind)
    o.flags |= MS_BIND;
  else
    km.data = take_ptr (data);
  km.flags = o.flags;
  /* runc copies up into a tmpfs only */
  if (o.copyup && !bind && !disk && strcmp (m->type, "tmpfs") == 0)
    km.flags |= KO_MOUNT_COPYUP;
  km.propagation = o.propagation;
  km.rec_attr = o.rec_set | (uint64_t)o.rec_clr << 32;
  *out = km;
  return 0;
}
