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

/* mount_setattr(2) */
struct ag_mount_attr
{
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};

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

/* bpf(2): <linux/bpf.h>, what loading and attaching a cgroup device
 * program needs */
#define AG_BPF_PROG_LOAD 5
#define AG_BPF_PROG_ATTACH 8
#define AG_BPF_PROG_TYPE_CGROUP_DEVICE 15
#define AG_BPF_CGROUP_DEVICE 6
#define AG_BPF_JNE32_K 0x56 /* BPF_JMP32 | BPF_JNE | BPF_K */
struct ag_bpf_insn
{
  uint8_t code;
  uint8_t regs; /* dst in the low nibble, src in the high one */
  int16_t off;
  int32_t imm;
};
struct ag_bpf_prog_load
{
  uint32_t prog_type, insn_cnt;
  uint64_t insns, license;
  uint32_t log_level, log_size;
  uint64_t log_buf;
  uint32_t kern_version, prog_flags;
};
struct ag_bpf_prog_attach
{
  uint32_t target_fd, attach_bpf_fd, attach_type, attach_flags;
};

/* rtnetlink(7): <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h>,
 * <linux/if_addr.h> */
#ifndef AF_NETLINK
#define AF_NETLINK 16
#endif
#define AG_NETLINK_ROUTE 0
#define AG_NETLINK_EXT_ACK 11 /* SOL_NETLINK option: error text in acks */
#define AG_NETLINK_CAP_ACK 10 /* ... and without the request echoed */
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
struct ag_nlmsghdr
{
  uint32_t nlmsg_len;
  uint16_t nlmsg_type, nlmsg_flags;
  uint32_t nlmsg_seq, nlmsg_pid;
};
struct ag_nlmsgerr
{
  int32_t error; /* negative errno, 0 for an ack */
  struct ag_nlmsghdr msg;
};
struct ag_rtattr
{
  uint16_t rta_len, rta_type;
};
#define AG_NL_ALIGN(n) (((n) + 3u) & ~3u)
#define AG_NLMSG_ERROR 2
#define AG_NLM_F_REQUEST 0x01
#define AG_NLM_F_ACK 0x04
#define AG_NLM_F_EXCL 0x200
#define AG_NLM_F_CREATE 0x400
#define AG_NLM_F_CAPPED 0x100   /* in an ack: the request is not echoed */
#define AG_NLM_F_ACK_TLVS 0x200 /* in an ack: NLMSGERR_ATTR_* follow */
#define AG_NLMSGERR_ATTR_MSG 1
#define AG_RTM_NEWLINK 16
#define AG_RTM_NEWADDR 20
#define AG_RTM_NEWROUTE 24
struct ag_ifinfomsg
{
  uint8_t ifi_family, ifi_pad;
  uint16_t ifi_type;
  int32_t ifi_index;
  uint32_t ifi_flags, ifi_change;
};
#define AG_IFLA_IFNAME 3
#define AG_IFLA_MTU 4
struct ag_ifaddrmsg
{
  uint8_t ifa_family, ifa_prefixlen, ifa_flags, ifa_scope;
  uint32_t ifa_index;
};
#define AG_IFA_ADDRESS 1
#define AG_IFA_LOCAL 2
#define AG_IFA_BROADCAST 4
#define AG_IFA_FLAGS 8
#define AG_IFA_F_NODAD 0x02
struct ag_rtmsg
{
  uint8_t rtm_family, rtm_dst_len, rtm_src_len, rtm_tos, rtm_table,
      rtm_protocol, rtm_scope, rtm_type;
  uint32_t rtm_flags;
};
#define AG_RTA_DST 1
#define AG_RTA_OIF 4
#define AG_RTA_GATEWAY 5
#define AG_RT_TABLE_MAIN 254
#define AG_RTPROT_BOOT 3
#define AG_RTN_UNICAST 1
#define AG_RT_SCOPE_UNIVERSE 0
#define AG_RT_SCOPE_LINK 253

#endif
