/* Memory the host hotplugged: the kernel onlines it itself
 * (memhp_default_state=online); this onlines whatever it left offline and
 * checks that the guest really has the VM's memory. */
#define _GNU_SOURCE
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MEMORY_SYSFS "/sys/devices/system/memory"

/* block_size_bytes is hex without 0x. By hand: sscanf and strtoull would
 * add about 13 KB to the agent, and its idle RSS. */
static uint64_t
parse_hex (const char *s)
{
  uint64_t v = 0;
  for (; *s && *s != '\n'; s++)
    {
      int d = *s >= '0' && *s <= '9'   ? *s - '0'
              : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
                                       : -1;
      if (d < 0 || v >> 60)
        return 0;
      v = v << 4 | (uint64_t)d;
    }
  return v;
}

/* "memory<decimal>": a memory block's directory */
static bool
is_block (const char *name)
{
  if (strncmp (name, "memory", 6) != 0 || name[6] == '\0')
    return false;
  for (const char *c = name + 6; *c; c++)
    if (*c < '0' || *c > '9')
      return false;
  return true;
}

int
memory_online (uint32_t want_mb, ko_error **err)
{
  char buf[64];
  if (ag_read_str (MEMORY_SYSFS "/block_size_bytes", buf, sizeof buf) <= 0)
    return ko_error_set (err, errno, "%s/block_size_bytes", MEMORY_SYSFS);
  uint64_t block = parse_hex (buf);
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
      char p[sizeof MEMORY_SYSFS + NAME_MAX + 8];
      if (!is_block (e->d_name)
          || (size_t)snprintf (p, sizeof p, MEMORY_SYSFS "/%s/state", e->d_name)
                 >= sizeof p
          || ag_read_str (p, buf, sizeof buf) <= 0)
        continue;
      if (strncmp (buf, "offline", 7) == 0)
        {
          if (ag_write_str (p, "online") == 0)
            strcpy (buf, "online");
          else
            ag_log ("%s: online: %s", e->d_name, strerror (errno));
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
