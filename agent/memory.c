/* Memory the host hotplugged: the kernel onlines it itself
 * (memhp_default_state=online); this onlines whatever it left offline and
 * checks that the guest really has the VM's memory. */
#define _GNU_SOURCE
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MEMORY_SYSFS "/sys/devices/system/memory"

static ssize_t
read_small (const char *path, char *buf, size_t n)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t r = read (fd, buf, n - 1);
  close (fd);
  buf[r > 0 ? r : 0] = '\0';
  return r;
}

int
memory_online (uint32_t want_mb, ko_error **err)
{
  char buf[64];
  if (read_small (MEMORY_SYSFS "/block_size_bytes", buf, sizeof buf) <= 0)
    return ko_error_set (err, errno, "%s/block_size_bytes", MEMORY_SYSFS);
  uint64_t block = strtoull (buf, NULL, 16);
  if (block == 0)
    return ko_error_setx (err, EIO, "%s/block_size_bytes: \"%s\"", MEMORY_SYSFS,
                          buf);
  DIR *d = opendir (MEMORY_SYSFS);
  if (d == NULL)
    return ko_error_set (err, errno, "%s", MEMORY_SYSFS);
  uint64_t online = 0;
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    {
      unsigned n;
      char p[sizeof MEMORY_SYSFS + 32];
      if (sscanf (e->d_name, "memory%u", &n) != 1)
        continue;
      snprintf (p, sizeof p, MEMORY_SYSFS "/memory%u/state", n);
      if (read_small (p, buf, sizeof buf) <= 0)
        continue;
      if (strncmp (buf, "offline", 7) == 0)
        {
          int fd = open (p, O_WRONLY | O_CLOEXEC);
          if (fd >= 0 && write (fd, "online", 6) == 6)
            strcpy (buf, "online");
          else
            ag_log ("memory%u: online: %s", n, strerror (errno));
          if (fd >= 0)
            close (fd);
        }
      if (strncmp (buf, "online", 6) == 0)
        online++;
    }
  closedir (d);
  /* boot memory fills its last block partly, a hotplugged DIMM its blocks
   * wholly: a missing DIMM block always shows */
  uint64_t online_mb = online * (block >> 20);
  if (online_mb < want_mb)
    return ko_error_setx (err, ENOMEM,
                          "the guest has %" PRIu64 " MiB of memory online, "
                          "not the VM's %" PRIu32 " MiB: hotplugged memory "
                          "did not come online (see the guest kernel log)",
                          online_mb, want_mb);
  return 0;
}
