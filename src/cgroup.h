/* The sandbox's cgroup on the host (linux.cgroupsPath). The monitor joins
 * it before it starts virtiofsd and QEMU, so the whole VM is inside, with
 * the spec's memory, cpu and pids limits plus the VM's own overhead.
 * cgroup v1 (each controller at /sys/fs/cgroup/<name>) and v2. */
#ifndef KO_CGROUP_H
#define KO_CGROUP_H

#include "error.h"
#include <stdbool.h>
#include <stddef.h>
#include "oci.h"

/* What the VM itself costs on top of its guest RAM (QEMU, virtiofsd, the
 * monitor), and the threads it runs. */
#define KO_VM_OVERHEAD_MB 256
#define KO_VM_OVERHEAD_PIDS 512
/* Guest RAM on top of the container's limit: guest kernel and agent. */
#define KO_GUEST_HEADROOM_MB 128

/* Sizes the VM from linux.resources (memory limit + headroom, vCPUs =
 * quota / period rounded up); leaves the values alone when absent. */
void cgroup_size_vm (const oci_spec *spec, int *memory_mb, int *vcpus);

/* Checks linux.cgroupsPath (at create, before anything starts). Under
 * the cgroupfs driver any string is a path, as in runc; under the systemd
 * one (--systemd-cgroup) a "slice:prefix:name" is refused: kata-oci has no
 * systemd driver. */
int cgroup_sandbox_check (const oci_spec *spec, bool systemd_driver,
                          ko_error **err);

/* runc's CleanPath: "." and ".." resolved lexically, never above the top
 * ("/" or "." when nothing is left); a relative path stays relative. */
int cgroup_clean_path (const char *path, char *out, size_t n);

/* Moves the calling process into linux.cgroupsPath (nothing when absent),
 * creating it and writing the limits; guest_mb is the VM's RAM. */
int cgroup_sandbox_enter (const oci_spec *spec, int guest_mb, ko_error **err);

/* New limits for the groups this process joined (nothing when none):
 * those r sets, the memory one covering a VM of guest_mb. */
int cgroup_sandbox_update (const oci_linux_resources *r, int guest_mb,
                           ko_error **err);

/* Leaves the group (for its parent) and removes it; best effort. */
void cgroup_sandbox_remove (const oci_spec *spec);

#endif
