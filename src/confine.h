/* What the host imposes on the helpers it starts for a sandbox, so that a
 * guest that takes over QEMU or drives virtiofsd as it likes stays inside
 * what its container was allowed. Called in the child between fork and
 * exec: they return -1 with errno set, and say why on stderr. */
#ifndef KO_CONFINE_H
#define KO_CONFINE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* QEMU runs as uid/gid KO_QEMU_ID_BASE + the monitor's pid: one of its own
 * per sandbox, so that two VMs cannot signal, trace or read each other. */
#define KO_QEMU_ID_BASE 1073741824u /* 2^30: far above any subuid range */
#define KO_QEMU_NOFILE 4096
#define KO_QEMU_NPROC 1024 /* threads of this uid: vCPUs, I/O workers */

/* QEMU's own seccomp filter, on top of ours */
#define KO_QEMU_SANDBOX                                                        \
  "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"

struct ko_jail
{
  uid_t uid;
  gid_t gid;
  gid_t extra_gid; /* the group of /dev/kvm, or (gid_t)-1 */
  /* host files QEMU reads, each bound read-only at its own path */
  const char *const *files;
  size_t nfiles;
  bool new_net; /* a network namespace of its own (no vsock) */
  bool kvm;     /* the host's /dev/kvm in the jail (else TCG: none) */
};

/* Enters QEMU's jail: private mount, IPC, UTS (and network) namespaces
 * whose root is a read-only tmpfs holding /usr, the few devices QEMU opens
 * and j->files; rlimits; no capabilities, no_new_privs, its own uid. */
int confine_qemu (const struct ko_jail *j);

/* virtiofsd's mount namespace, then its extra seccomp filter. share (the
 * shared directory, a mount of its own with shared propagation) is
 * read-only at its top in a namespace of virtiofsd's own: the guest
 * writes only in the rootfs and volumes bound beneath, never files of its
 * own on the host beside them; what the monitor binds later still
 * reaches it. The guest can never make a device node on the host, and
 * may set setuid/setgid bits only when setid_allowed (its container holds
 * CAP_FSETID). */
int confine_virtiofsd (const char *share, bool setid_allowed);

/* For a process that only waits (the holder): an empty capability
 * bounding set and capabilities, and no_new_privs. */
int confine_drop_all_caps (void);

/* "kata-oci check"'s words for each helper's confinement */
const char *confine_qemu_summary (void);
const char *confine_virtiofsd_summary (void);

#endif
