/* From config.json to what the agent is sent: the process description and
 * the container fields. Everything the VM cannot honour is an error here, at
 * create, never silently dropped. */
#ifndef KO_TRANSLATE_H
#define KO_TRANSLATE_H

#include "blockdev.h"
#include "error.h"
#include "oci.h"
#include "msg.h"

#include <stdbool.h>

int translate_process (const oci_process *op, struct ko_process *p,
                       ko_error **err);
/* linux.seccomp compiled to BPF into p (nothing when absent). */
int translate_seccomp (const oci_spec *spec, struct ko_process *p,
                       ko_error **err);
/* linux.resources as the agent takes them (for CreateContainer and
 * UpdateContainer); the agent turns them into cgroup v2 files. -1 when out
 * of memory. */
int translate_resources_fill (const oci_linux_resources *r,
                              struct ko_resources *out);
/* how read-only a bind is (the share's bind on the host too) */
enum
{
  KO_BIND_RW = 0,
  KO_BIND_RO = 1,  /* the mount itself */
  KO_BIND_RRO = 2, /* it and every mount beneath it (rro) */
};
/* Recursive mount option name (rro, rnosuid, ratime ...) -> MOUNT_ATTR_*
 * to set and to clear; false when name is not one. */
bool translate_rec_attr (const char *name, uint32_t *set, uint32_t *clr);
/* A host path bind-mounted into the share, in the monitor's private mount
 * namespace, before virtiofsd starts. */
struct share_bind
{
  char *source;     /* host path (file or directory) */
  char *dest;       /* path relative to <dir>/shared/ */
  char *ctr_dest;   /* where the container sees it */
  uint8_t readonly; /* KO_BIND_*: also read-only on the host side */
};
/* linux.namespaces' network path (the namespace whose interfaces the VM
 * takes), or NULL. */
const char *translate_network_path (const oci_spec *spec);
/* Docker's floor too: a limit below it OOM-kills the container at once */
#define KO_MIN_MEMORY_LIMIT (6 * 1024 * 1024)
/* Refuses resource values that have no meaning (memory.limit -2 or 1),
 * naming where they came from. */
int translate_check_resources (const oci_linux_resources *r, const char *where,
                               ko_error **err);
/* Fails, naming what, when a message of len bytes is more than the agent
 * takes in one request. */
int translate_check_message (const char *what, size_t len, ko_error **err);

/* runc's exec --cgroup arguments (each "path" or "ctl[,ctl...]:path") as
 * one group below the container's: *sub gets it relative and cleaned
 * (malloc'd), or NULL for the container's own. The guest has cgroup v2
 * alone, so every controller named must be one of its and every path the
 * same; a path above the container's group is refused. */
int translate_exec_cgroup (char *const *args, size_t n, char **sub,
                           ko_error **err);
/* Frees what translate_container listed. */
void binds_free (struct share_bind *binds, size_t n);
/* The container-level fields of CreateContainer (*out, to clear with
 * ko_container_spec_clear), the host paths to bind into the share
 * (relative to <dir>/shared/), and the disks to attach (*disks, opened
 * here; to clear with ko_disks_clear). Every config.json value the VM cannot
 * honour fails here, naming it. */
/* A privileged container of podman's (io.podman.annotations.privileged):
 * podman lists every device of the host in linux.devices; unless
 * host_devices (below), its block devices stay out of the VM, and the
 * container has the guest's devices, as a privileged container of Kata's
 * has. (The CRI engines mark no container privileged: their
 * privileged_without_host_devices keeps the host's devices out.) */
bool translate_privileged (const oci_spec *spec);
int translate_container_spec (const oci_spec *spec, const char *bundle,
                              const char *id, bool host_devices,
                              struct ko_container_spec *out,
                              struct share_bind **binds, size_t *nbinds,
                              struct ko_disks *disks, ko_error **err);
/* The same, encoded (ko_container_spec_encode) onto b: what the monitor
 * appends to CreateContainer after its own fields; rd, when not NULL and
 * its serial set, makes the rootfs that disk's filesystem. */
int translate_container (const oci_spec *spec, const char *bundle,
                         const char *id, bool host_devices,
                         const struct ko_rootfs_disk *rd, struct ko_buf *b,
                         struct share_bind **binds, size_t *nbinds,
                         struct ko_disks *disks, ko_error **err);

#endif
