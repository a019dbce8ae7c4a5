/* Memory hotplug sizing: how far a VM may grow and in which DIMMs. Pure
 * logic; the monitor plugs the DIMMs over QMP and the agent checks that the
 * guest has them online. Memory is never unplugged. */
#ifndef KO_MEMHP_H
#define KO_MEMHP_H

#include <stdint.h>

#include "error.h"

/* The guest's memory block (x86, boot memory below 64 GiB): every DIMM is
 * whole blocks, or the guest cannot add it. */
#define KO_MEMHP_BLOCK_MB 128
#define KO_MEMHP_SLOTS 8
/* Above this the guest may pick larger memory blocks: no hotplug. */
#define KO_MEMHP_MAX_BOOT_MB (64 << 10)
/* The guest's struct pages for a DIMM take 1/64 of it and come from memory it
 * already has. The first DIMM of an update is one block, whose struct pages
 * live inside it (memmap_on_memory), so it can be added even when the
 * container has used all of its limit; each further one is at most this
 * many times what the update has plugged so far. */
#define KO_MEMHP_GROWTH 32

struct ko_memhp
{
  int boot_mb;    /* -m */
  int max_mb;     /* maxmem; boot_mb when there is no hotplug */
  int slots;      /* DIMM slots; 0: no hotplug */
  int used;       /* DIMMs plugged */
  int plugged_mb; /* their total */
};

/* Guest RAM a container memory limit needs: the limit in MiB, rounded up,
 * plus the guest's headroom (KO_GUEST_HEADROOM_MB). */
int64_t memhp_need_mb (int64_t limit_bytes);

/* A VM that boots with boot_mb and may grow up to cap_mb (the host's memory,
 * or what the annotation asks, whichever is less): max_mb is boot_mb plus
 * whole blocks, and there is no hotplug when not one block fits. */
void memhp_init (struct ko_memhp *h, int boot_mb, int64_t cap_mb);

/* The host's MemTotal in MiB (0 when unreadable: no hotplug). */
int64_t memhp_host_mb (void);

/* The VM's memory now. */
static inline int
memhp_total_mb (const struct ko_memhp *h)
{
  return h->boot_mb + h->plugged_mb;
}

/* The DIMM sizes (MiB), in plug order, that let the VM hold need_mb; *n = 0
 * when it already does. Fails, naming the limit, when need_mb is above
 * max_mb or needs more slots than are left (or than cap). */
int memhp_plan (const struct ko_memhp *h, int64_t need_mb, int *sizes, int cap,
                int *n, ko_error **err);

/* Records one plugged DIMM. */
void memhp_commit (struct ko_memhp *h, int size_mb);

#endif
