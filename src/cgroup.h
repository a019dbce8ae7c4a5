/* The sandbox's cgroup on the host (linux.cgroupsPath). The monitor joins
 * it before it starts virtiofsd and QEMU, so the whole VM is inside, with
 * the spec's memory, cpu and pids limits plus the VM's own overhead.
 * cgroup v1 (each controller at /sys/fs/cgroup/<name>) and v2. */
#ifndef KO_CGROUP_H
#define KO_CGROUP_H

#include "error.h"
#include <sched.h>
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

/* linux.resources.cpu.cpus on the host: the VM's processes and threads
 * (monitor, QEMU and its vCPUs, virtiofsd, holders) may run only on those
 * CPUs, as runc's container would (the guest's own cpuset, in the VM's
 * CPU numbers, is another matter: translate.c and the agent). Done with
 * sched_setaffinity, which children and new threads inherit, so it holds
 * with or without linux.cgroupsPath and under cgroup v1 or v2; QEMU's
 * seccomp sandbox (resourcecontrol=deny) keeps it from undoing it.
 *
 * cgroup_cpus_parse reads a cpuset list ("0-3,6"), as the kernel's
 * cpuset.cpus does, into set (which it clears); where names the field in
 * errors. */
int cgroup_cpus_parse (const char *list, const char *where, cpu_set_t *set,
                       ko_error **err);
/* The CPUs of list that this process may use, in set; an error naming
 * where when it names none of them (or a CPU the host does not have). */
int cgroup_cpus_allowed (const char *list, const char *where, cpu_set_t *set,
                         ko_error **err);
/* Pins the calling process (before it starts the VM's helpers). */
int cgroup_cpus_pin (const char *list, ko_error **err);
/* Pins every thread of the calling process and of its descendants. */
int cgroup_cpus_repin (const char *list, ko_error **err);
/* A pod member's CPUs: the VM's pinning widens to hold them too (a pod is
 * one VM; Kata pins it to the union of its containers' cpusets). */
int cgroup_cpus_widen (const char *list, ko_error **err);
/* The number of CPUs in a valid list, 0 when it is not one. */
int cgroup_cpus_count (const char *list);

/* Leaves the group (for its parent) and removes it; best effort. */
void cgroup_sandbox_remove (const oci_spec *spec);

#endif
