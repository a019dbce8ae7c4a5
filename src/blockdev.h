/* Disks the VM gets: host block devices (linux.devices of type b, block
 * volumes) and block-volume files, each attached as a virtio-blk disk that
 * the guest finds by its serial. The host never mounts them. */
#ifndef KO_BLOCKDEV_H
#define KO_BLOCKDEV_H

#include "error.h"
#include "oci.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KO_MAX_DISKS 16
/* virtio-blk's serial holds 20 bytes */
#define KO_DISK_SERIAL_MAX 20
/* the annotation that makes a mount of a regular file a block volume:
 * io.katacontainers.volume.<destination> = "block" */
#define KO_BLOCK_VOLUME_ANNOTATION "io.katacontainers.volume."

/* Throttles QEMU applies on the disk, from linux.resources.blockIO;
 * 0 = none */
enum
{
  KO_THR_BPS_READ,
  KO_THR_BPS_WRITE,
  KO_THR_IOPS_READ,
  KO_THR_IOPS_WRITE,
  KO_THR_N
};

struct ko_disk
{
  char *source; /* host path, for messages */
  char serial[KO_DISK_SERIAL_MAX + 1];
  int fd; /* what QEMU inherits: O_RDWR, or O_RDONLY when read-only */
  bool readonly;
  bool blockdev; /* a host block device (else a regular file) */
  dev_t rdev;    /* its numbers; 0 for a file */
  uint64_t limits[KO_THR_N];
};

struct ko_disks
{
  struct ko_disk *v;
  size_t n;
};

/* Closes the fds and frees; accepts an empty list. */
void ko_disks_clear (struct ko_disks *d);

/* The serial of the container's disk number idx of kind ('d' for a
 * device, 'm' for a mount): unique in a pod, at most KO_DISK_SERIAL_MAX. */
void blockdev_serial (char out[KO_DISK_SERIAL_MAX + 1], const char *id,
                      char kind, size_t idx);

/* Whether the block device major:minor is attached read-write: false only
 * when linux.resources.devices, applied in order (the last rule naming an
 * access wins), lets the container read it and not write it. */
bool blockdev_writable (const oci_linux_resources *r, int64_t major,
                        int64_t minor);

/* linux.devices[idx] of type b: opens the host device of its numbers (read
 * and write unless readonly) and adds it to disks. Errors name the field. */
int blockdev_add_device (struct ko_disks *disks, const oci_device *d,
                         size_t idx, bool readonly, const char *id,
                         ko_error **err);

/* mounts[idx] whose source is a host block device, or a regular file the
 * block-volume annotation names: opened exclusively (a device the host has
 * mounted is refused) and added. A bind mount of a block device is its
 * node (bound from the guest disk), opened as linux.devices are. *is_disk
 * is false, with nothing done, for any other mount. */
int blockdev_add_volume (struct ko_disks *disks, const oci_spec *spec,
                         const oci_mount *m, size_t idx, bool bind,
                         bool readonly, const char *id, bool *is_disk,
                         ko_error **err);

/* ---- a block root filesystem ----
 *
 * When the bundle's rootfs is the mount point of a whole filesystem on a
 * host block device (a devicemapper or loop-backed ext4 or xfs, as the
 * devmapper and blockfile snapshotters make) that is mounted nowhere else,
 * the device goes to the VM as a disk and the container's init mounts it as
 * its rootfs; the host's mount is remounted read-only first (flushed, and
 * never written by the host while the guest owns the filesystem). The
 * annotation forces either path: "block" (an error when it cannot be) or
 * "virtio-fs"; Kata's disable_block_device_use=true means virtio-fs. */
#define KO_ROOTFS_ANNOTATION "io.kata-oci.rootfs"
#define KO_ROOTFS_KATA_ANNOTATION                                              \
  "io.katacontainers.config.hypervisor.disable_block_device_use"

/* One line of /proc/self/mountinfo, its strings unescaped. */
struct ko_mountinfo
{
  unsigned major, minor;
  char *root;   /* the path inside the filesystem that is mounted */
  char *point;  /* the mount point */
  char *opts;   /* per-mount options: rw,nosuid,... */
  char *fstype; /* ext4, xfs, ... */
  char *source;
};
void ko_mountinfo_clear (struct ko_mountinfo *m);

/* Pure: in mountinfo's text, the mount at point (the last, the one on top)
 * into *m, and in *other (to free) the mount point of another mount of the
 * same device, NULL when there is none. -1 (ENOENT) when point is no mount
 * point; EINVAL, naming the line, when a line cannot be read. */
int blockdev_mountinfo_find (const char *text, const char *point,
                             struct ko_mountinfo *m, char **other,
                             ko_error **err);

/* /proc/self/mountinfo as text, to free (bounded: 16 MiB is far more than
 * any host has). */
char *ko_mountinfo_read (ko_error **err);

/* Pure: calls fn on each line of mountinfo's text, in order, until fn
 * returns non-zero, which it returns; 0 after the last line. -1 (EINVAL,
 * naming the line) when a line cannot be read. */
int ko_mountinfo_each (const char *text,
                       int (*fn) (const struct ko_mountinfo *m, void *arg),
                       void *arg, ko_error **err);

/* Pure: MS_* per-mount flags of mountinfo's options (rw,nosuid,...). */
unsigned long blockdev_mount_flags (const char *opts);

/* What the guest needs of a block rootfs and how to seal the host's mount. */
struct ko_rootfs_disk
{
  char serial[KO_DISK_SERIAL_MAX + 1]; /* "" when the rootfs is shared */
  char fstype[16];
  const char *data;         /* fs options for the guest's mount, or NULL */
  uint64_t guest_flags;     /* MS_RDONLY when the root is read-only */
  char *point;              /* the host's mount point (to free) */
  unsigned long host_flags; /* its per-mount flags, for the remount */
  bool sealed;              /* remounted read-only by us */
};
void ko_rootfs_disk_clear (struct ko_rootfs_disk *r);

/* Decides whether rootfs (the host path) goes to the VM as a disk: when it
 * does, opens the device, adds it to disks and fills *r; when not, leaves
 * r->serial empty. A pod member's (hot-plugged into the running VM, on one
 * of its few root ports) only when the annotation asks. Errors name the
 * field and the annotation that asked. */
int blockdev_rootfs (struct ko_disks *disks, const oci_spec *spec,
                     const char *rootfs, const char *id, bool member,
                     struct ko_rootfs_disk *r, ko_error **err);

/* Remounts the host's mount of a block rootfs read-only (which flushes it):
 * from here on only the guest writes the filesystem. EBUSY (a file open
 * for writing on the host) is an error naming the mount. */
int blockdev_rootfs_seal (struct ko_rootfs_disk *r, ko_error **err);
/* Undoes the seal, for a create that fails before the VM has the disk. */
void blockdev_rootfs_unseal (struct ko_rootfs_disk *r);

/* linux.resources.blockIO's throttles onto the disks they name (by host
 * major:minor), marking them in changed[] when not NULL; a weight is logged
 * as not honoured. Errors name where. */
int blockdev_apply_throttles (struct ko_disks *disks,
                              const oci_linux_resources *r, const char *where,
                              bool changed[KO_MAX_DISKS], ko_error **err);

#endif
