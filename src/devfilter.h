/* The container's device rules compiled to a BPF_PROG_TYPE_CGROUP_DEVICE
 * program, as runc does on cgroup v2: linux.resources.devices in order,
 * then an allow-rwm rule per linux.devices entry and runc's default
 * devices, reduced the way runc's devices emulator does (an "a" rule
 * resets to allow-all or deny-all; other rules add to or take from the
 * exceptions to that default). The agent attaches the program to the
 * container's cgroup in the guest. */
#ifndef KO_DEVFILTER_H
#define KO_DEVFILTER_H

#include "error.h"
#include "oci.h"

#include <stddef.h>
#include <stdint.h>

/* Compiles l's rules (l may be NULL) to struct bpf_insn[] (*prog malloc'd,
 * *len bytes), with ndisks disk slots first (proto.h, KO_DEVFILTER_SLOT):
 * the container's nodes of guest disks, whose numbers only the agent
 * knows. *prog is NULL when the program would allow every device. Errors
 * name the config.json field. */
int devfilter_compile (const oci_linux *l, size_t ndisks, uint8_t **prog,
                       size_t *len, ko_error **err);

#endif
