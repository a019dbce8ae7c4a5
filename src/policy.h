/* Policy compiled on the host, applied in the guest: capability names to
 * bit masks (libcap) and the seccomp section to a BPF program
 * (libseccomp). The agent installs both with plain syscalls. */
#ifndef KO_POLICY_H
#define KO_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "oci.h"

/* A capability's number (CAP_KILL -> 5), or -1 for an unknown name. */
int policy_cap_value (const char *name);
/* The five sets in wire order: bounding, effective, inheritable, permitted,
 * ambient. where prefixes messages ("config.json: process.capabilities"). */
int policy_caps (const oci_capabilities *c, const char *where, uint64_t out[5],
                 ko_error **err);

/* Compiles linux.seccomp to struct sock_filter[] (malloc'd, *len bytes) and
 * the SECCOMP_FILTER_FLAG_* bits for seccomp(2). */
int policy_seccomp (const oci_seccomp *s, uint8_t **bpf, size_t *len,
                    uint32_t *flags, ko_error **err);

#endif
