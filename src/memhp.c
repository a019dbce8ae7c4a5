#include "config.h"

#include "cgroup.h"
#include "memhp.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

int64_t
memhp_need_mb (int64_t limit_bytes)
{
  if (limit_bytes <= 0)
    return 0;
  return (limit_bytes >> 20) + ((limit_bytes & ((1 << 20) - 1)) != 0)
         + KO_GUEST_HEADROOM_MB;
}

int64_t
memhp_host_mb (void)
{
  _cleanup_fclose_ FILE *f = fopen ("/proc/meminfo", "re");
  char line[256];
  int64_t kb = 0;
  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "MemTotal: %" SCNd64 " kB", &kb) == 1)
      break;
  return kb > 0 ? kb >> 10 : 0;
}

void
memhp_init (struct ko_memhp *h, int boot_mb, int64_t cap_mb)
{
  *h = (struct ko_memhp){ .boot_mb = boot_mb, .max_mb = boot_mb };
  if (boot_mb >= KO_MEMHP_MAX_BOOT_MB || cap_mb - boot_mb < KO_MEMHP_BLOCK_MB)
    return;
  int64_t room = (cap_mb - boot_mb) / KO_MEMHP_BLOCK_MB * KO_MEMHP_BLOCK_MB;
  /* -m takes MiB in an int here; 1 TiB is the VM size limit anyway */
  if (room > (1 << 20) - (int64_t)boot_mb)
    room = ((1 << 20) - boot_mb) / KO_MEMHP_BLOCK_MB * KO_MEMHP_BLOCK_MB;
  if (room < KO_MEMHP_BLOCK_MB)
    return;
  h->max_mb = boot_mb + (int)room;
  h->slots = KO_MEMHP_SLOTS;
}

int
memhp_plan (const struct ko_memhp *h, int64_t need_mb, int *sizes, int cap,
            int *n, ko_error **err)
{
  int total = memhp_total_mb (h);
  if (need_mb <= total)
    {
      *n = 0;
      return 0;
    }
  if (h->slots == 0)
    return ko_error_setx (err, EINVAL,
                          "needs %lld MiB of guest memory; the VM's memory "
                          "is fixed at %d MiB (no memory hotplug)",
                          (long long)need_mb, total);
  if (need_mb > h->max_mb)
    return ko_error_setx (err, EINVAL,
                          "needs %lld MiB of guest memory, above the VM's "
                          "maximum of %d MiB",
                          (long long)need_mb, h->max_mb);
  /* max_mb - total is whole blocks, so rounding up stays within it */
  int64_t left = need_mb - total;
  left = (left + KO_MEMHP_BLOCK_MB - 1) / KO_MEMHP_BLOCK_MB * KO_MEMHP_BLOCK_MB;
  int free_slots = h->slots - h->used;
  if (free_slots > cap)
    free_slots = cap;
  if (free_slots > KO_MEMHP_SLOTS)
    free_slots = KO_MEMHP_SLOTS;
  int plan[KO_MEMHP_SLOTS], k = 0;
  int64_t added = 0;
  while (left > 0)
    {
      if (k == free_slots)
        return ko_error_setx (err, ENOSPC,
                              "needs %lld MiB of guest memory, more than the "
                              "%d memory slots left (of %d) can add to the "
                              "VM's %d MiB",
                              (long long)need_mb, h->slots - h->used, h->slots,
                              total);
      int64_t step = k == 0 ? KO_MEMHP_BLOCK_MB : added * KO_MEMHP_GROWTH;
      if (step > left)
        step = left;
      plan[k++] = (int)step;
      added += step;
      left -= step;
    }
  for (int i = 0; i < k; i++)
    sizes[i] = plan[i];
  *n = k;
  return 0;
}

void
memhp_commit (struct ko_memhp *h, int size_mb)
{
  h->used++;
  h->plugged_mb += size_mb;
}
