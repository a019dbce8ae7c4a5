#include "config.h"

#include "blockdev.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
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
