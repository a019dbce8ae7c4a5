/* Kernel ABI definitions musl's headers lack (musl-gcc sees no linux/
 * headers). Values are from the kernel's UAPI. */
#ifndef AG_AGENT_LINUX_H
#define AG_AGENT_LINUX_H

#include <stdint.h>
#include <sys/socket.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define AG_VMADDR_CID_ANY 0xFFFFFFFFu
#define AG_IOCTL_VM_SOCKETS_GET_LOCAL_CID 0x7b9 /* _IO(7, 0xb9) */
struct ag_sockaddr_vm
{
  sa_family_t svm_family;
  unsigned short svm_reserved1;
  unsigned int svm_port;
  unsigned int svm_cid;
  uint8_t svm_flags;
  unsigned char svm_zero[3];
};

/* openat2(2) */
struct ag_open_how
{
  uint64_t flags, mode, resolve;
};
#define AG_RESOLVE_NO_MAGICLINKS 0x02
#define AG_RESOLVE_IN_ROOT 0x10
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* clone3(2) */
struct ag_clone_args
{
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size,
      tls, set_tid, set_tid_size, cgroup;
};
#define AG_CLONE_INTO_CGROUP 0x200000000ULL
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

/* capget/capset(2) */
#define AG_CAP_V3 0x20080522
struct ag_cap_header
{
  uint32_t version;
  int pid;
};
struct ag_cap_data
{
  uint32_t effective, permitted, inheritable;
};

/* seccomp(2) */
#define AG_SECCOMP_SET_MODE_FILTER 1
#ifndef SYS_seccomp
#define SYS_seccomp 317
#endif
struct ag_sock_fprog
{
  unsigned short len;
  void *filter;
};

#endif
