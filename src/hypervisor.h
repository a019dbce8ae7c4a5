/* Starting QEMU and virtiofsd for a sandbox. The QEMU command line lives in
 * one readable place: hypervisor_qemu_argv(). */
#ifndef KO_HYPERVISOR_H
#define KO_HYPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "blockdev.h"
#include "error.h"
#include "settings.h"

/* A virtio-net NIC on a tap device the monitor opened */
struct ko_vm_nic
{
  int tap_fd;
  unsigned char mac[6];
};

struct ko_vm_config
{
  const char *id;
  const char *dir; /* the state dir */
  int memory_mb;
  int max_memory_mb; /* with memory_slots: what hotplug may grow it to */
  int memory_slots;  /* 0: no hotplug */
  int vcpus;
  unsigned vsock_cid; /* used when settings->vsock */
  const struct ko_vm_nic *nics;
  size_t nnics;                /* at most KO_VM_MAX_NICS */
  const struct ko_disk *disks; /* virtio-blk disks, their fds open */
  size_t ndisks;               /* at most KO_MAX_DISKS */
  int root_ports;              /* pcie-root-ports rp0.. for hot-plugged disks */
  uid_t uid;                   /* QEMU's own uid and gid (confine.h) */
};

/* What the monitor reads of a started QEMU */
struct ko_vm_fds
{
  int console; /* the guest's serial console */
  int log;     /* QEMU's stdout and stderr */
};

#define KO_VM_MAX_NICS 8
/* A pod's sandbox VM gets KO_VM_POD_ROOT_PORTS PCIe root ports, each taking
 * one member's disk hot-plugged later (tests/bench/README.md: what they
 * cost); the annotation sets 0 to KO_VM_MAX_ROOT_PORTS for any VM. */
#define KO_VM_POD_ROOT_PORTS 4
#define KO_VM_MAX_ROOT_PORTS 16
#define KO_VM_ROOT_PORTS_ANNOTATION                                            \
  "io.katacontainers.config.hypervisor.pcie_root_port"
/* QEMU's fds, less 3: what it serves and reaches, handed to it */
enum
{
  KO_VM_FD_CHANNEL,  /* the agent socket it listens on, or /dev/vhost-vsock */
  KO_VM_FD_QMP,      /* the QMP socket it listens on */
  KO_VM_FD_VIRTIOFS, /* connected to virtiofsd */
  KO_VM_FD_CONSOLE,  /* the serial console's stream to the monitor */
  KO_VM_FIXED_FDS
};
/* The fd QEMU finds NIC i's tap on */
#define KO_VM_NIC_FD(i) (3 + KO_VM_FIXED_FDS + (int)(i))
/* The fd QEMU finds disk i on, after the NICs' */
#define KO_VM_DISK_FD(vm, i) (KO_VM_NIC_FD ((vm)->nnics) + (int)(i))

/* NULL-terminated argv for QEMU; free with ko_strv_free. */
char **hypervisor_qemu_argv (const struct ko_settings *s,
                             const struct ko_vm_config *vm);
/* Starts virtiofsd on <dir>/shared, listening on <dir>/virtiofsd.sock;
 * *log_fd reads its stdout and stderr. setid_allowed: the guest may make
 * setuid/setgid files (confine.h). */
int hypervisor_start_virtiofsd (const struct ko_settings *s, const char *dir,
                                bool setid_allowed, pid_t *pid, int *log_fd,
                                ko_error **err);
/* Starts QEMU confined (confine.h), serving <dir>/agent.sock (or vsock)
 * and <dir>/qmp.sock, connected to virtiofsd. */
int hypervisor_start_qemu (const struct ko_settings *s,
                           const struct ko_vm_config *vm, pid_t *pid,
                           struct ko_vm_fds *out, ko_error **err);
/* The guest kernel's last "Kernel panic - not syncing: ..." line in its
 * console log, made printable (malloc'd), or NULL. */
char *hypervisor_guest_panic (const char *dir);
/* The last lines of a log file in dir, for error messages (malloc'd). */
char *hypervisor_log_tail (const char *dir, const char *name, int lines);
/* Checks that the kernel, initrd, qemu and virtiofsd exist. */
int hypervisor_check_assets (const struct ko_settings *s, ko_error **err);

/* Whether QEMU, as its own unprivileged user (confine.h), can use path:
 * mode R_OK (an image: readable by others too) or X_OK (a program). */
int hypervisor_check_file (const char *what, const char *path, int mode,
                           ko_error **err);

#endif
