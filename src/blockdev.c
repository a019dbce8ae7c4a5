#include "config.h"

#include "blockdev.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

void
ko_disks_clear (struct ko_disks *d)
{
  if (d == NULL)
    return;
  for (size_t i = 0; i < d->n; i++)
    {
      free (d->v[i].source);
      if (d->v[i].fd >= 0)
        close (d->v[i].fd);
    }
  free (d->v);
  d->v = NULL;
  d->n = 0;
}

void
blockdev_serial (char out[KO_DISK_SERIAL_MAX + 1], const char *id, char kind,
                 size_t idx)
{
  /* FNV-1a of the id: the members of a pod differ */
  uint32_t h = 2166136261u;
  for (const char *c = id; *c; c++)
    h = (h ^ (unsigned char)*c) * 16777619u;
  snprintf (out, KO_DISK_SERIAL_MAX + 1, "ko%08x%c%zu", h, kind, idx % 1000);
}

static bool
rule_matches (const oci_device_cgroup *c, int64_t major, int64_t minor)
{
  if (c->type && strcmp (c->type, "a") != 0 && strcmp (c->type, "b") != 0)
    return false;
  return (!c->has_major || c->major == -1 || c->major == major)
         && (!c->has_minor || c->minor == -1 || c->minor == minor);
}

/* Whether rule c grants or takes access letter a */
static bool
rule_has (const oci_device_cgroup *c, char a)
{
  /* no access: all of rwm */
  return c->access == NULL || *c->access == '\0' || strchr (c->access, a);
}

bool
blockdev_writable (const oci_linux_resources *r, int64_t major, int64_t minor)
{
  bool read = false, write = false;
  for (size_t i = 0; r && i < r->devices_len; i++)
    {
      const oci_device_cgroup *c = &r->devices[i];
      if (!rule_matches (c, major, minor))
        continue;
      if (rule_has (c, 'r'))
        read = c->allow;
      if (rule_has (c, 'w'))
        write = c->allow;
    }
  /* read-only only when the rules let it read and not write; rules that
   * leave it nothing (a deny-all) mean the entry's own access, as runc
   * allows every linux.devices entry */
  return !(read && !write);
}

static int
add_disk (struct ko_disks *disks, struct ko_disk *k, const char *where,
          ko_error **err)
{
  if (disks->n >= KO_MAX_DISKS)
    return ko_error_setx (err, E2BIG,
                          "config.json: %s: more than %d disks for the VM",
                          where, KO_MAX_DISKS);
  struct ko_disk *v = realloc (disks->v, (disks->n + 1) * sizeof *v);
  if (v == NULL)
    return ko_error_set (err, ENOMEM, "disks");
  disks->v = v;
  v[disks->n++] = *k;
  return 0;
}

/* The host's node of block device major:minor, by what sysfs names it. */
static char *
host_node (int64_t major, int64_t minor)
{
  char path[96], text[512];
  snprintf (path, sizeof path, "/sys/dev/block/%lld:%lld/uevent",
            (long long)major, (long long)minor);
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read (fd, text, sizeof text - 1);
  if (n <= 0)
    return NULL;
  text[n] = '\0';
  char *name = strstr (text, "DEVNAME=");
  if (name == NULL)
    return NULL;
  name += strlen ("DEVNAME=");
  name[strcspn (name, "\n")] = '\0';
  if (*name == '\0' || strstr (name, ".."))
    return NULL;
  char *node = NULL;
  return asprintf (&node, "/dev/%s", name) < 0 ? NULL : node;
}

/* Opens path for the VM: O_EXCL on a block device is the kernel's claim,
 * which fails while the host has it mounted (and keeps the host from
 * mounting it while the VM has it). */
static int
open_disk (struct ko_disk *k, const char *path, bool exclusive,
           const char *where, ko_error **err)
{
  int flags = (k->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY;
  if (exclusive && k->blockdev)
    flags |= O_EXCL;
  k->fd = open (path, flags);
  int ro = 0;
  /* a read-only block device opens for writing, and fails every write */
  if (k->fd >= 0 && k->blockdev && !k->readonly
      && ioctl (k->fd, BLKROGET, &ro) == 0 && ro)
    {
      close (k->fd);
      k->fd = -1;
      errno = EROFS;
    }
  if (k->fd >= 0)
    {
      struct stat st;
      if (fstat (k->fd, &st) == 0 && k->blockdev && S_ISBLK (st.st_mode)
          && st.st_rdev == k->rdev)
        return 0;
      if (fstat (k->fd, &st) == 0 && !k->blockdev && S_ISREG (st.st_mode))
        return 0;
      close (k->fd);
      k->fd = -1;
      return ko_error_setx (err, ENODEV, "config.json: %s: %s changed under us",
                            where, path);
    }
  int e = errno;
  if (e == EROFS || (e == EACCES && !k->readonly))
    return ko_error_setx (err, EROFS,
                          "config.json: %s: %s is read-only on the host, and "
                          "the container may write to it (make it read-only: "
                          "access \"r\" in linux.resources.devices, or the "
                          "\"ro\" mount option)",
                          where, path);
  if (e == EBUSY)
    return ko_error_setx (err, EBUSY,
                          "config.json: %s: %s is in use on the host (mounted "
                          "or claimed): the VM would write it behind the "
                          "host's back",
                          where, path);
  return ko_error_set (err, e, "config.json: %s: open %s", where, path);
}

/* Opens k->source and adds k to disks; on failure frees what k holds. */
static int
attach (struct ko_disks *disks, struct ko_disk *k, bool exclusive,
        const char *where, ko_error **err)
{
  if (open_disk (k, k->source, exclusive, where, err) == 0
      && add_disk (disks, k, where, err) == 0)
    return 0;
  free (k->source);
  if (k->fd >= 0)
    close (k->fd);
  return -1;
}

int
blockdev_add_device (struct ko_disks *disks, const oci_device *d, size_t idx,
                     bool readonly, const char *id, ko_error **err)
{
  char where[64];
  snprintf (where, sizeof where, "linux.devices[%zu]", idx);
  struct ko_disk k = { .fd = -1,
                       .readonly = readonly,
                       .blockdev = true,
                       .rdev = makedev (d->major, d->minor) };
  k.source = host_node (d->major, d->minor);
  struct stat st;
  if (k.source == NULL || stat (k.source, &st) < 0)
    {
      free (k.source);
      return ko_error_setx (err, ENODEV,
                            "config.json: %s: the host has no block device "
                            "%lld:%lld (for %s)",
                            where, (long long)d->major, (long long)d->minor,
                            d->path);
    }
  if (!S_ISBLK (st.st_mode) || st.st_rdev != k.rdev)
    {
      ko_error_setx (err, ENODEV,
                     "config.json: %s: %s is not the block device %lld:%lld",
                     where, k.source, (long long)d->major, (long long)d->minor);
      free (k.source);
      return -1;
    }
  blockdev_serial (k.serial, id, 'd', idx);
  return attach (disks, &k, false, where, err);
}

/* The annotation's value for this destination: "block" makes a regular
 * file a block volume. */
static const char *
volume_annotation (const oci_spec *spec, const char *dest)
{
  char key[4200];
  if (snprintf (key, sizeof key, "%s%s", KO_BLOCK_VOLUME_ANNOTATION, dest)
      >= (int)sizeof key)
    return NULL;
  return oci_map_get (&spec->annotations, key);
}

int
blockdev_add_volume (struct ko_disks *disks, const oci_spec *spec,
                     const oci_mount *m, size_t idx, bool bind, bool readonly,
                     const char *id, bool *is_disk, ko_error **err)
{
  char where[64];
  snprintf (where, sizeof where, "mounts[%zu]", idx);
  *is_disk = false;
  const char *ann = volume_annotation (spec, m->destination);
  if (ann && strcmp (ann, "block") != 0)
    return ko_error_setx (err, EINVAL,
                          "config.json: annotations: %s%s: \"%s\": the only "
                          "value is \"block\"",
                          KO_BLOCK_VOLUME_ANNOTATION, m->destination, ann);
  struct stat st;
  if (m->source == NULL || m->source[0] != '/' || stat (m->source, &st) < 0)
    {
      if (ann)
        return ko_error_set (err, m->source ? errno : EINVAL,
                             "config.json: %s.source: a block volume needs "
                             "an absolute host path, not \"%s\"",
                             where, m->source ? m->source : "");
      return 0;
    }
  if (!S_ISBLK (st.st_mode) && !(ann && S_ISREG (st.st_mode)))
    {
      if (ann)
        return ko_error_setx (err, EINVAL,
                              "config.json: %s.source: %s is neither a block "
                              "device nor a regular file",
                              where, m->source);
      return 0;
    }
  /* a bind of a host block device: its node, as with linux.devices */
  bool node = bind && S_ISBLK (st.st_mode);
  if (!node
      && (bind || m->type == NULL || *m->type == '\0'
          || strcmp (m->type, "none") == 0))
    return ko_error_setx (err, EINVAL,
                          "config.json: %s.type: a block volume (%s) needs "
                          "the filesystem to mount it as (ext4, xfs), not "
                          "\"%s\"",
                          where, m->source, m->type ? m->type : "");
  struct ko_disk k = { .fd = -1,
                       .readonly = readonly,
                       .blockdev = S_ISBLK (st.st_mode),
                       .rdev = S_ISBLK (st.st_mode) ? st.st_rdev : 0 };
  if ((k.source = strdup (m->source)) == NULL)
    return ko_error_set (err, ENOMEM, "mounts");
  blockdev_serial (k.serial, id, 'm', idx);
  if (attach (disks, &k, !node, where, err) < 0)
    return -1;
  *is_disk = true;
  return 0;
}

static int
throttle_list (struct ko_disks *disks, const oci_throttle_device *t, size_t n,
               int which, const char *where, const char *field,
               bool changed[KO_MAX_DISKS], ko_error **err)
{
  for (size_t i = 0; i < n; i++)
    {
      size_t j;
      for (j = 0; j < disks->n; j++)
        if (disks->v[j].blockdev
            && disks->v[j].rdev == makedev (t[i].major, t[i].minor))
          break;
      if (j == disks->n)
        return ko_error_setx (err, ENODEV,
                              "%s: blockIO.%s[%zu]: %lld:%lld is no disk of "
                              "the container's (a device or block volume): "
                              "the VM cannot limit it",
                              where, field, i, (long long)t[i].major,
                              (long long)t[i].minor);
      disks->v[j].limits[which] = t[i].rate;
      if (changed)
        changed[j] = true;
    }
  return 0;
}

int
blockdev_apply_throttles (struct ko_disks *disks, const oci_linux_resources *r,
                          const char *where, bool changed[KO_MAX_DISKS],
                          ko_error **err)
{
  const oci_block_io *b = r ? r->block_io : NULL;
  if (b == NULL)
    return 0;
  if (b->has_weight || b->has_leaf_weight || b->weight_device_len)
    log_warn ("%s: blockIO weights are not honoured on the host: QEMU gives "
              "a disk no proportional share (the guest's io.weight orders "
              "only the VM's own processes; the throttles hold)",
              where);
  return throttle_list (disks, b->throttle_read_bps_device,
                        b->throttle_read_bps_device_len, KO_THR_BPS_READ, where,
                        "throttleReadBpsDevice", changed, err)
                     < 0
                 || throttle_list (disks, b->throttle_write_bps_device,
                                   b->throttle_write_bps_device_len,
                                   KO_THR_BPS_WRITE, where,
                                   "throttleWriteBpsDevice", changed, err)
                        < 0
                 || throttle_list (disks, b->throttle_read_iops_device,
                                   b->throttle_read_iops_device_len,
                                   KO_THR_IOPS_READ, where,
                                   "throttleReadIOPSDevice", changed, err)
                        < 0
                 || throttle_list (disks, b->throttle_write_iops_device,
                                   b->throttle_write_iops_device_len,
                                   KO_THR_IOPS_WRITE, where,
                                   "throttleWriteIOPSDevice", changed, err)
                        < 0
             ? -1
             : 0;
}

/* ---- a block root filesystem ---- */

void
ko_mountinfo_clear (struct ko_mountinfo *m)
{
  if (m == NULL)
    return;
  free (m->root);
  free (m->point);
  free (m->opts);
  free (m->fstype);
  free (m->source);
  memset (m, 0, sizeof *m);
}

/* A copy of the field [s, e) with mountinfo's octal escapes (\040 for a
 * space, \134 for a backslash ...) undone. */
static char *
unescape (const char *s, const char *e)
{
  char *out = malloc ((size_t)(e - s) + 1), *o = out;
  if (out == NULL)
    return NULL;
  while (s < e)
    {
      if (*s == '\\' && e - s >= 4 && s[1] >= '0' && s[1] <= '3' && s[2] >= '0'
          && s[2] <= '7' && s[3] >= '0' && s[3] <= '7')
        {
          *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
          s += 4;
        }
      else
        *o++ = *s++;
    }
  *o = '\0';
  return out;
}

/* Splits the line [s, e) into at most max space-separated fields. */
static size_t
split (const char *s, const char *e, const char **f, const char **fe,
       size_t max)
{
  size_t n = 0;
  while (s < e && n < max)
    {
      while (s < e && *s == ' ')
        s++;
      if (s == e)
        break;
      f[n] = s;
      while (s < e && *s != ' ')
        s++;
      fe[n++] = s;
    }
  return n;
}

/* One line: "ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...] - TYPE SOURCE
 * SUPER". 0 when read, -1 when malformed. */
static int
parse_line (const char *s, const char *e, struct ko_mountinfo *m)
{
  const char *f[64], *fe[64];
  size_t n = split (s, e, f, fe, 64), dash;
  for (dash = 6; dash < n; dash++)
    if (fe[dash] - f[dash] == 1 && *f[dash] == '-')
      break;
  unsigned maj, min;
  char nums[32];
  if (n < 6 || dash + 2 >= n || fe[2] - f[2] >= (long)sizeof nums)
    return -1;
  memcpy (nums, f[2], (size_t)(fe[2] - f[2]));
  nums[fe[2] - f[2]] = '\0';
  char end;
  if (sscanf (nums, "%u:%u%c", &maj, &min, &end) != 2)
    return -1;
  memset (m, 0, sizeof *m);
  m->major = maj;
  m->minor = min;
  m->root = unescape (f[3], fe[3]);
  m->point = unescape (f[4], fe[4]);
  m->opts = unescape (f[5], fe[5]);
  m->fstype = unescape (f[dash + 1], fe[dash + 1]);
  m->source = unescape (f[dash + 2], fe[dash + 2]);
  if (!m->root || !m->point || !m->opts || !m->fstype || !m->source)
    {
      ko_mountinfo_clear (m);
      return -1;
    }
  return 0;
}

int
blockdev_mountinfo_find (const char *text, const char *point,
                         struct ko_mountinfo *m, char **other, ko_error **err)
{
  struct ko_mountinfo found = { 0 };
  bool have = false;
  size_t lineno = 0;
  *other = NULL;
  memset (m, 0, sizeof *m);
  /* first the mount at point, then the others of its device */
  for (int pass = 0; pass < 2; pass++)
    {
      lineno = 0;
      for (const char *s = text; *s;)
        {
          const char *e = strchr (s, '\n');
          if (e == NULL)
            e = s + strlen (s);
          lineno++;
          struct ko_mountinfo l;
          if (e > s && parse_line (s, e, &l) < 0)
            {
              ko_mountinfo_clear (&found);
              free (*other);
              *other = NULL;
              return ko_error_setx (
                  err, EINVAL, "mountinfo: line %zu: cannot be read", lineno);
            }
          if (e > s && pass == 0 && strcmp (l.point, point) == 0)
            {
              /* the last one is on top */
              ko_mountinfo_clear (&found);
              found = l;
              have = true;
            }
          else if (e > s && pass == 1 && *other == NULL
                   && l.major == found.major && l.minor == found.minor
                   && strcmp (l.point, point) != 0)
            {
              *other = l.point;
              l.point = NULL;
              ko_mountinfo_clear (&l);
            }
          else if (e > s)
            ko_mountinfo_clear (&l);
          s = *e ? e + 1 : e;
        }
      if (!have)
        return ko_error_setx (err, ENOENT, "%s is no mount point", point);
    }
  *m = found;
  return 0;
}

int
ko_mountinfo_each (const char *text,
                   int (*fn) (const struct ko_mountinfo *m, void *arg),
                   void *arg, ko_error **err)
{
  size_t lineno = 0;
  for (const char *s = text; *s;)
    {
      const char *e = strchr (s, '\n');
      if (e == NULL)
        e = s + strlen (s);
      lineno++;
      if (e > s)
        {
          struct ko_mountinfo l;
          if (parse_line (s, e, &l) < 0)
            return ko_error_setx (
                err, EINVAL, "mountinfo: line %zu: cannot be read", lineno);
          int r = fn (&l, arg);
          ko_mountinfo_clear (&l);
          if (r)
            return r;
        }
      s = *e ? e + 1 : e;
    }
  return 0;
}

unsigned long
blockdev_mount_flags (const char *opts)
{
  static const struct
  {
    const char *name;
    unsigned long flag;
  } known[]
      = { { "ro", MS_RDONLY },         { "nosuid", MS_NOSUID },
          { "nodev", MS_NODEV },       { "noexec", MS_NOEXEC },
          { "noatime", MS_NOATIME },   { "nodiratime", MS_NODIRATIME },
          { "relatime", MS_RELATIME }, { "strictatime", MS_STRICTATIME } };
  unsigned long flags = 0;
  for (const char *s = opts; s && *s;)
    {
      size_t len = strcspn (s, ",");
      for (size_t i = 0; i < KO_ARRAY_SIZE (known); i++)
        if (strlen (known[i].name) == len
            && strncmp (s, known[i].name, len) == 0)
          flags |= known[i].flag;
      s += len;
      if (*s == ',')
        s++;
    }
  return flags;
}

void
ko_rootfs_disk_clear (struct ko_rootfs_disk *r)
{
  if (r == NULL)
    return;
  free (r->point);
  memset (r, 0, sizeof *r);
}

char *
ko_mountinfo_read (ko_error **err)
{
  _cleanup_close_ int fd = open ("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ko_error_set (err, errno, "open /proc/self/mountinfo"), NULL;
  size_t len = 0, cap = 65536;
  char *text = malloc (cap);
  while (text)
    {
      ssize_t n = read (fd, text + len, cap - len - 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n < 0)
            {
              ko_error_set (err, errno, "read /proc/self/mountinfo");
              free (text);
              return NULL;
            }
          text[len] = '\0';
          return text;
        }
      len += (size_t)n;
      if (len + 1 == cap)
        {
          char *t = cap < (16u << 20) ? realloc (text, cap *= 2) : NULL;
          if (t == NULL)
            free (text);
          text = t;
        }
    }
  ko_error_set (err, ENOMEM, "/proc/self/mountinfo");
  return NULL;
}

/* Why the rootfs cannot be a disk: an error when the annotation asked for
 * one, else a note in the log and the share. */
static int not_block (bool forced, ko_error **err, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
static int
not_block (bool forced, ko_error **err, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  if (forced)
    return ko_error_setx (err, EINVAL,
                          "config.json: root.path: %s (annotation %s=block)",
                          msg, KO_ROOTFS_ANNOTATION);
  log_debug ("rootfs over virtio-fs: %s", msg);
  return 0;
}

int
blockdev_rootfs (struct ko_disks *disks, const oci_spec *spec,
                 const char *rootfs, const char *id, bool member,
                 struct ko_rootfs_disk *r, ko_error **err)
{
  memset (r, 0, sizeof *r);
  const char *ann = oci_map_get (&spec->annotations, KO_ROOTFS_ANNOTATION);
  const char *kata
      = oci_map_get (&spec->annotations, KO_ROOTFS_KATA_ANNOTATION);
  if (ann && strcmp (ann, "block") != 0 && strcmp (ann, "virtio-fs") != 0)
    return ko_error_setx (err, EINVAL,
                          "config.json: annotations: %s: \"%s\": expected "
                          "\"block\" or \"virtio-fs\"",
                          KO_ROOTFS_ANNOTATION, ann);
  if (kata && strcmp (kata, "true") != 0 && strcmp (kata, "false") != 0)
    return ko_error_setx (err, EINVAL,
                          "config.json: annotations: %s: \"%s\": expected "
                          "\"true\" or \"false\"",
                          KO_ROOTFS_KATA_ANNOTATION, kata);
  bool forced = ann && strcmp (ann, "block") == 0;
  if ((ann && !forced) || (!ann && kata && strcmp (kata, "true") == 0))
    return 0;
  _cleanup_free_ char *point = realpath (rootfs, NULL);
  if (point == NULL)
    return ko_error_set (err, errno, "config.json: root.path: %s", rootfs);
  _cleanup_free_ char *text = ko_mountinfo_read (err);
  if (text == NULL)
    return -1;
  struct ko_mountinfo m;
  _cleanup_free_ char *other = NULL;
  _cleanup_error_ ko_error *e = NULL;
  if (blockdev_mountinfo_find (text, point, &m, &other, &e) < 0)
    {
      if (e->status != ENOENT)
        return ko_error_setx (err, e->status, "/proc/self/%s", e->msg);
      return not_block (forced, err, "%s is not a mount point", point);
    }
  int ret = 0;
  char sys[64];
  struct stat st;
  snprintf (sys, sizeof sys, "/sys/dev/block/%u:%u", m.major, m.minor);
  if (strcmp (m.root, "/") != 0)
    ret = not_block (forced, err,
                     "%s is %s of the filesystem of %s, not all of it", point,
                     m.root, m.source);
  else if (stat (sys, &st) < 0)
    ret = not_block (forced, err, "%s is not on a block device (%s %s)", point,
                     m.fstype, m.source);
  else if (strcmp (m.fstype, "ext4") != 0 && strcmp (m.fstype, "xfs") != 0)
    ret = not_block (forced, err,
                     "%s is %s; the guest mounts ext4 and xfs disks", point,
                     m.fstype);
  else if (other)
    ret = not_block (forced, err,
                     "%s (%s) is also mounted at %s on the host, which would "
                     "go on using it",
                     point, m.source, other);
  else if (member && !forced)
    {
      /* hot-plugged only when asked: the pod VM's few root ports are kept
       * for the members' devices and volumes */
      log_debug ("rootfs over virtio-fs: %s is on %s, but a pod member's "
                 "rootfs is hot-plugged as a disk only with %s=block",
                 point, m.source, KO_ROOTFS_ANNOTATION);
    }
  else
    {
      /* read-write even for a read-only root: the container's mount
       * points are made in it before the agent remounts it read-only, as
       * runc makes them on the host */
      struct ko_disk k = { .fd = -1,
                           .readonly = false,
                           .blockdev = true,
                           .rdev = makedev (m.major, m.minor) };
      k.source = host_node (m.major, m.minor);
      if (k.source == NULL)
        ret = ko_error_setx (err, ENODEV,
                             "config.json: root.path: %s: the host has no "
                             "node for block device %u:%u",
                             point, m.major, m.minor);
      else
        {
          blockdev_serial (k.serial, id, 'r', 0);
          strcpy (r->serial, k.serial);
          if (attach (disks, &k, false, "root.path", err) < 0)
            ret = -1;
        }
      if (ret == 0)
        {
          snprintf (r->fstype, sizeof r->fstype, "%s", m.fstype);
          /* a filesystem copied from one image has its UUID: xfs refuses
           * a second one in the guest without nouuid */
          r->data = strcmp (m.fstype, "xfs") == 0 ? "nouuid" : NULL;
          r->guest_flags = 0;
          r->host_flags = blockdev_mount_flags (m.opts);
          r->point = take_ptr (point);
        }
      else
        r->serial[0] = '\0';
    }
  ko_mountinfo_clear (&m);
  return ret;
}

int
blockdev_rootfs_seal (struct ko_rootfs_disk *r, ko_error **err)
{
  if (r->serial[0] == '\0' || (r->host_flags & MS_RDONLY))
    return 0;
  /* the superblock goes read-only (every view of it): the host writes
   * nothing more, not even ext4's lazy inode table init */
  if (mount (NULL, r->point, NULL, MS_REMOUNT | MS_RDONLY | r->host_flags, NULL)
      < 0)
    return ko_error_set (err, errno,
                         "config.json: root.path: remount %s read-only for "
                         "the VM to own its disk%s",
                         r->point,
                         errno == EBUSY ? " (a file in it is open for "
                                          "writing on the host)"
                                        : "");
  r->sealed = true;
  return 0;
}

void
blockdev_rootfs_unseal (struct ko_rootfs_disk *r)
{
  if (!r->sealed)
    return;
  if (mount (NULL, r->point, NULL, MS_REMOUNT | (r->host_flags & ~MS_RDONLY),
             NULL)
      < 0)
    log_warn ("rootfs %s: remount read-write: %s", r->point, strerror (errno));
  r->sealed = false;
}
