/* The disks the host attached (virtio-blk), found by their serial. */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

/* The first line of a small sysfs file, without its newline. */
static int
read_line (const char *path, char *out, size_t len)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read (fd, out, len - 1);
  close (fd);
  if (n < 0)
    return -1;
  out[n] = '\0';
  out[strcspn (out, "\n")] = '\0';
  return 0;
}

static int
find_once (const char *serial, char *name, size_t len, dev_t *rdev)
{
  DIR *d = opendir ("/sys/block");
  if (d == NULL)
    return -1;
  struct dirent *e;
  int r = -1;
  while (r < 0 && (e = readdir (d)) != NULL)
    {
      char path[300], text[64];
      const char *p = text;
      uint64_t maj, min;
      if (e->d_name[0] == '.')
        continue;
      snprintf (path, sizeof path, "/sys/block/%s/serial", e->d_name);
      if (read_line (path, text, sizeof text) < 0 || strcmp (text, serial))
        continue;
      snprintf (path, sizeof path, "/sys/block/%s/dev", e->d_name);
      if (read_line (path, text, sizeof text) < 0 || !ag_next_u64 (&p, &maj)
          || !ag_next_u64 (&p, &min) || strlen (e->d_name) >= len)
        continue;
      strcpy (name, e->d_name);
      *rdev = makedev ((unsigned)maj, (unsigned)min);
      r = 0;
    }
  closedir (d);
  return r;
}

int
ag_disk_find (const char *serial, char *node, size_t len, dev_t *rdev,
              ko_error **err)
{
  char name[64];
  if (serial == NULL || *serial == '\0' || strchr (serial, '/'))
    return ag_error_set (err, EINVAL, "disk: bad serial");
  /* a disk plugged at boot is there before the agent runs; a hot-plugged
   * one appears once the guest has probed it */
  for (int i = 0; i < 100; i++)
    {
      if (find_once (serial, name, sizeof name, rdev) == 0)
        {
          struct stat st;
          if (snprintf (node, len, "/dev/%s", name) >= (int)len)
            return ag_error_set (err, ENAMETOOLONG, "disk %s", serial);
          /* devtmpfs makes the node; make it if it is late */
          if (stat (node, &st) < 0 && mknod (node, S_IFBLK | 0600, *rdev) < 0
              && errno != EEXIST)
            return ag_error_set (err, errno, "disk %s: mknod %s", serial, node);
          return 0;
        }
      struct timespec ts = { 0, 50 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
  return ag_error_set (err, ENODEV,
                       "disk %s: no such virtio-blk disk in the VM", serial);
}

/* what a rootfs disk's mount may carry (no bind, move or remount) */
#define DISK_MOUNT_FLAGS                                                       \
  (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME   \
   | MS_RELATIME | MS_STRICTATIME | MS_SYNCHRONOUS | MS_DIRSYNC)

int
ag_disk_mount (const char *serial, const char *path, const char *type,
               uint64_t flags, const char *data, ko_error **err)
{
  char node[160];
  dev_t rdev;
  if (ag_disk_find (serial, node, sizeof node, &rdev, err) < 0)
    return -1;
  if (mount (node, path, type, (unsigned long)(flags & DISK_MOUNT_FLAGS), data)
      < 0)
    return ag_error_set (err, errno, "mount disk %s (%s, %s) at %s", serial,
                         node, type, path);
  return 0;
}

void
ag_disk_umount (const char *path)
{
  umount2 (path, MNT_DETACH);
  rmdir (path);
}
