/* kata-oci wire protocol, shared by the host (monitor) and the guest agent.
 *
 * One byte stream (virtio-serial port or vsock) carries frames:
 *
 *   0       4      5      6        8        12
 *   +-------+------+------+--------+--------+------------------+
 *   |stream | type |flags |reserved| length | payload (length) |
 *   +-------+------+------+--------+--------+------------------+
 *   all integers little-endian; reserved is 0.
 *
 * Stream 0 is the control stream: REQUEST (host -> agent), REPLY
 * (agent -> host) matched by request id, and EVENT (agent -> host,
 * unsolicited). Streams >= 1 carry process stdio; the host allocates their ids
 * and names them in CreateContainer / ExecProcess. DATA with length 0 means
 * EOF.
 *
 * Flow control: every stdio stream starts with credit for its sender:
 * KO_OUTPUT_WINDOW bytes for a process's output (agent -> host),
 * KO_STREAM_WINDOW for its input (host -> agent). A sender never has more
 * unacknowledged DATA bytes in flight than its credit; the receiver returns
 * credit with a CREDIT frame (payload: u32 bytes) once it has written the
 * bytes to their destination. A reader that stops reading therefore stalls
 * only its stream.
 *
 * Message bodies are TLV fields (one struct and one codec per message: msg.h,
 * which both sides use): u16 tag, u32 length, value. Integers are
 * little-endian u32/u64; strings are bytes without a NUL (must not contain
 * NUL); a tag may repeat (lists); nested messages are TLV inside a value.
 * Unknown tags are skipped, so fields can be added without a new version;
 * retired tags and method ids are never reused.
 *
 * Version: the agent sends EVENT Hello {VERSION, AGENT_VERSION} as soon as the
 * channel is connected; the host refuses a different major version.
 */
#ifndef KO_PROTO_H
#define KO_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* 2: output windows grew to KO_OUTPUT_WINDOW; a version-1 host would see
 * a version-2 agent exceed its credit */
#define KO_PROTO_VERSION 2
#define KO_FRAME_HDR_SIZE 12
#define KO_FRAME_MAX_PAYLOAD (1u << 20) /* any frame; larger is malformed */
#define KO_DATA_MAX_PAYLOAD (64u << 10) /* one stdio DATA frame */
/* initial credit of an input stream (what the agent may have to hold for
 * a process that does not read) and of an output stream (what the monitor
 * may have to hold for a reader that does not read: larger, so that output
 * keeps flowing while credit makes its round trip through the VM) */
#define KO_STREAM_WINDOW (256u << 10)
#define KO_OUTPUT_WINDOW (1024u << 10)
#define KO_AGENT_VSOCK_PORT 1024
#define KO_AGENT_SERIAL_NAME "agent.channel.0"
#define KO_SHARE_TAG "kataShared"
#define KO_GUEST_SHARE_DIR "/run/kata/shared"
/* where the agent mounts a block rootfs (ROOTFS_DISK), at the ROOTFS path
 * under it: guest-local, not over the share, whose directories a virtio-fs
 * revalidation may replace (taking what is mounted on them along) */
#define KO_GUEST_DISK_ROOTFS_DIR "/run/kata/rootfs"

enum ko_frame_type
{
  KO_FRAME_REQUEST = 1, /* stream 0: u32 request id, u16 method, TLV body */
  KO_FRAME_REPLY = 2,   /* stream 0: u32 request id, u32 status (errno, 0 = ok),
                           TLV body; on error the body has TAG_ERROR */
  KO_FRAME_EVENT = 3,   /* stream 0: u16 event, TLV body */
  KO_FRAME_DATA = 4,    /* stream >= 1: bytes; length 0 = EOF */
  KO_FRAME_CREDIT = 5   /* stream >= 1: u32 more bytes the peer may send */
};

/* RPC methods (agent vocabulary). Each comment states the semantics. */
enum ko_method
{
  /* Hostname, then mount the virtio-fs share (tag KO_SHARE_TAG) at
   * KO_GUEST_SHARE_DIR. Body: HOSTNAME?, SHARE_TAG. */
  KO_M_CREATE_SANDBOX = 1,
  /* Fork the container init in new namespaces on ROOTFS (a path relative to
   * the share), set it up, resolve args[0], and leave it blocked before exec.
   * Body: CONTAINER_ID, ROOTFS, PROCESS (nested ko_process), and the
   * container fields below. With CLONE_NEWUSER in NAMESPACES, UID_MAP and
   * GID_MAP (both required) are written for the init before it does
   * anything else. Reply: PID (guest pid). */
  KO_M_CREATE_CONTAINER = 2,
  /* Let the blocked init exec. Body: CONTAINER_ID. */
  KO_M_START_CONTAINER = 3,
  /* Start another process in the container's namespaces. Body: CONTAINER_ID,
   * EXEC_ID, PROCESS. Reply: PID. */
  KO_M_EXEC_PROCESS = 4,
  /* Send SIGNAL to the process (EXEC_ID absent = init); ALL=1 signals every
   * process of the container. */
  KO_M_SIGNAL_PROCESS = 5,
  /* Reply when the process has exited: STATUS (raw wait status). */
  KO_M_WAIT_PROCESS = 6,
  KO_M_WRITE_STDIN = 7, /* retired before use: stdin travels as DATA frames */
  /* Close the process's stdin (same as an EOF DATA frame). */
  KO_M_CLOSE_STDIN = 8,
  /* Set the window size of the process's pty. Body: CONTAINER_ID, EXEC_ID?,
   * ROWS, COLS. */
  KO_M_TTY_WIN_RESIZE = 9,
  /* Reply: PID (repeated) of every process in the container. */
  KO_M_LIST_PROCESSES = 10,
  /* Reply: cgroup statistics of the container (STAT_* fields). */
  KO_M_STATS_CONTAINER = 11,
  KO_M_PAUSE_CONTAINER = 12,  /* freeze the container's cgroup */
  KO_M_RESUME_CONTAINER = 13, /* thaw it */
  /* Apply new resources (RESOURCES nested) to the container's cgroup. */
  KO_M_UPDATE_CONTAINER = 14,
  /* Configure the guest NIC whose MAC address is IF_MAC (one the host
   * gave the VM): name it IF_NAME, set IF_MTU, add every IF_ADDR, bring it
   * and lo up. Body: one ko_net_iface (IF_* fields). */
  KO_M_UPDATE_INTERFACE = 15,
  /* Add every ROUTE (nested ko_net_route) to the guest's main table, in
   * order; their devices were set up by UpdateInterface. */
  KO_M_UPDATE_ROUTES = 16,
  /* sync(), reply, then power off the VM. */
  KO_M_DESTROY_SANDBOX = 17,
  /* After memory hotplug: online every offline memory block, then fail
   * unless the guest has at least MEMORY_MB (the VM's memory) online. */
  KO_M_ONLINE_CPU_MEM = 18,
  /* A pod member leaves: SIGKILL every process of CONTAINER_ID, reap
   * them, free its cgroup, mounts and streams. Replies once it is gone;
   * no ProcessExited event follows. */
  KO_M_REMOVE_CONTAINER = 19,
  /* Reply: what the guest as a whole uses (GM_* fields: /proc/meminfo,
   * /proc/stat, /proc/loadavg, processes, the agent's RSS) and one
   * GM_CONTAINER per container (its cgroup's STAT_* fields). Reads only:
   * changes nothing in the guest. No body. */
  KO_M_GUEST_METRICS = 20,
};

enum ko_event
{
  KO_E_HELLO = 1, /* VERSION, AGENT_VERSION */
  /* A process ended. Sent only after its stdout and stderr streams have
   * reached EOF, so no output is lost. CONTAINER_ID, EXEC_ID? (absent for
   * init), PID, STATUS (raw wait status). */
  KO_E_PROCESS_EXITED = 2,
  KO_E_OOM = 3, /* CONTAINER_ID */
  /* A datagram the container's processes sent to its notify socket
   * (NOTIFY): CONTAINER_ID, NOTIFY_DATA (at most KO_NOTIFY_DATA_MAX bytes,
   * cut at a NUL) */
  KO_E_NOTIFY = 4,
};

enum ko_tag
{
  KO_TAG_ERROR = 1,          /* string: the error message */
  KO_TAG_VERSION = 2,        /* u32 */
  KO_TAG_AGENT_VERSION = 3,  /* string */
  KO_TAG_CONTAINER_ID = 4,   /* string */
  KO_TAG_EXEC_ID = 5,        /* string */
  KO_TAG_HOSTNAME = 6,       /* string */
  KO_TAG_SHARE_TAG = 7,      /* string */
  KO_TAG_ROOTFS = 8,         /* string, relative to the share */
  KO_TAG_PROCESS = 9,        /* nested ko_process */
  KO_TAG_PID = 10,           /* u32 */
  KO_TAG_STATUS = 11,        /* u32 raw wait status */
  KO_TAG_SIGNAL = 12,        /* u32 */
  KO_TAG_ALL = 13,           /* u32 0/1 */
  KO_TAG_ROWS = 14,          /* u32 */
  KO_TAG_COLS = 15,          /* u32 */
  KO_TAG_DOMAINNAME = 16,    /* string */
  KO_TAG_ROOT_READONLY = 17, /* u32 0/1 */
  KO_TAG_MOUNT = 18,         /* nested: M_* fields, repeated, in spec order */
  KO_TAG_MASKED_PATH = 19,   /* string, repeated */
  KO_TAG_READONLY_PATH = 20, /* string, repeated */
  KO_TAG_SYSCTL = 21,        /* nested: KEY, VALUE; repeated */
  KO_TAG_NAMESPACES = 22,    /* u64: CLONE_NEW* flags for the init */
  KO_TAG_DEVICE = 23,        /* nested: D_* fields, repeated */
  KO_TAG_ROOTFS_PROPAGATION = 24, /* u64 MS_* propagation flags */
  KO_TAG_PERSONALITY = 25,        /* u32 */
  KO_TAG_RESOURCES = 26,          /* nested: R_* fields */
  KO_TAG_UID_MAP = 27,   /* nested ko_id_map; repeated, <= KO_MAX_ID_MAPS */
  KO_TAG_GID_MAP = 28,   /* nested ko_id_map; repeated, <= KO_MAX_ID_MAPS */
  KO_TAG_MEMORY_MB = 29, /* u32: MiB */
  /* CreateContainer of a pod member: the CLONE_NEW* namespaces (IPC,
   * UTS, PID) it shares with the init of container JOIN_CONTAINER (the
   * pod's sandbox) instead of making its own */
  KO_TAG_JOIN_CONTAINER = 30, /* string */
  KO_TAG_JOIN_NS = 31,        /* u64 */
  /* a time namespace's offsets, as /proc/PID/timens_offsets takes them
   * ("monotonic S N\nboottime S N\n"); with CLONE_NEWTIME in NAMESPACES */
  KO_TAG_TIME_OFFSETS = 32, /* string */
  /* string: the path of an sd_notify socket in the container (absolute,
   * not in "/"): a tmpfs on its directory, and the datagram socket there
   * the agent reads; each datagram is a Notify event */
  KO_TAG_NOTIFY = 33,
  KO_TAG_NOTIFY_DATA = 34, /* string: a Notify event's datagram */

  /* ko_process fields */
  KO_TAG_P_ARG = 40,      /* string, repeated */
  KO_TAG_P_ENV = 41,      /* string, repeated */
  KO_TAG_P_CWD = 42,      /* string */
  KO_TAG_P_UID = 43,      /* u32 */
  KO_TAG_P_GID = 44,      /* u32 */
  KO_TAG_P_ADD_GID = 45,  /* u32, repeated */
  KO_TAG_P_UMASK = 46,    /* u32 (absent: 0022) */
  KO_TAG_P_TERMINAL = 47, /* u32 0/1 */
  KO_TAG_P_STDIN = 48,    /* u32 stream id (0/absent: /dev/null) */
  KO_TAG_P_STDOUT = 49,   /* u32 stream id; with TERMINAL the pty output */
  KO_TAG_P_STDERR = 50,   /* u32 stream id */
  KO_TAG_P_CAPS = 51,     /* 5 x u64: bounding, effective, inheritable,
                             permitted, ambient (absent: keep all) */
  KO_TAG_P_RLIMIT = 52,   /* nested: RL_TYPE u32, RL_SOFT u64, RL_HARD u64 */
  KO_TAG_P_NO_NEW_PRIVS = 53,  /* u32 0/1 */
  KO_TAG_P_OOM_SCORE_ADJ = 54, /* u32 holding an int32 */
  KO_TAG_P_SECCOMP = 55,       /* bytes: struct sock_filter[] (8 bytes each) */
  KO_TAG_P_SECCOMP_FLAGS = 56, /* u32 SECCOMP_FILTER_FLAG_* */
  KO_TAG_P_ROWS = 57,          /* u32 initial pty rows */
  KO_TAG_P_COLS = 58,          /* u32 initial pty cols */
  KO_TAG_P_SCHED = 59,         /* bytes: struct ko_sched_attr without size, LE:
                                  policy u32, flags u64, nice i32, priority u32,
                                  runtime, deadline, period u64 (44 bytes) */
  KO_TAG_P_IOPRIO = 60,        /* u32: ioprio_set(2)'s class << 13 | level */
  KO_TAG_P_CGROUP = 61,        /* string: exec --cgroup's group, below the
                                  container's (relative, cleaned, never ".."); an
                                  exec joins it instead of the container's own */

  /* nested field tags (inside MOUNT, SYSCTL, DEVICE, RLIMIT, ID maps) */
  KO_TAG_M_DEST = 70,        /* string */
  KO_TAG_M_TYPE = 71,        /* string */
  KO_TAG_M_SOURCE = 72,      /* string; for binds relative to the share */
  KO_TAG_M_FLAGS = 73,       /* u64 MS_*, and KO_MOUNT_COPYUP */
  KO_TAG_M_PROPAGATION = 74, /* u64 MS_* propagation */
  KO_TAG_M_DATA = 75,        /* string: fs-specific options */
  KO_TAG_KEY = 76,           /* string */
  KO_TAG_VALUE = 77,         /* string */
  KO_TAG_D_TYPE = 78,        /* u32 'c' 'b' 'u' 'p' */
  KO_TAG_D_PATH = 79,        /* string */
  KO_TAG_D_MAJOR = 80,       /* u64 */
  KO_TAG_D_MINOR = 81,       /* u64 */
  KO_TAG_D_MODE = 82,        /* u32 */
  KO_TAG_D_UID = 83,         /* u32 */
  KO_TAG_D_GID = 84,         /* u32 */
  KO_TAG_RL_TYPE = 85,       /* u32 RLIMIT_* */
  KO_TAG_RL_SOFT = 86,       /* u64 */
  KO_TAG_RL_HARD = 87,       /* u64 */
  KO_TAG_ID_CONTAINER = 88,  /* u32 */
  KO_TAG_ID_HOST = 89,       /* u32 */
  KO_TAG_ID_SIZE = 90,       /* u32 */

  /* RESOURCES fields (OCI linux.resources values as they are; the agent
   * converts them to the guest's cgroup v2 files). Absent = unchanged. */
  KO_TAG_R_MEM_LIMIT = 100,       /* u64 holding an int64; -1 = max */
  KO_TAG_R_MEM_RESERVATION = 101, /* u64 holding an int64 */
  KO_TAG_R_MEM_SWAP = 102,        /* u64 holding an int64: memory+swap */
  KO_TAG_R_CPU_SHARES = 103,      /* u64 */
  KO_TAG_R_CPU_QUOTA = 104,       /* u64 holding an int64; -1 = max */
  KO_TAG_R_CPU_PERIOD = 105,      /* u64 */
  KO_TAG_R_CPUSET_CPUS = 106,     /* string */
  KO_TAG_R_CPUSET_MEMS = 107,     /* string */
  KO_TAG_R_PIDS_LIMIT = 108,      /* u64 holding an int64; <= 0 = max */
  KO_TAG_R_BLKIO_WEIGHT = 109,    /* u32 */
  KO_TAG_R_CPU_IDLE = 110,        /* u64 holding an int64: cpu.idle */
  KO_TAG_R_CPU_BURST = 111,       /* u64: cpu.max.burst, microseconds */
  /* string: linux.resources.unified, lines "FILE=LINE\n" written in order,
   * each line on its own, to the container's group's cgroup v2 FILE after
   * everything else (FILE: CONTROLLER.PARAMETER, never a path) */
  KO_TAG_R_UNIFIED = 112,
  KO_TAG_R_LAST = KO_TAG_R_UNIFIED,

  /* StatsContainer reply fields, all u64 */
  KO_TAG_STAT_CPU_USAGE_NS = 120,
  KO_TAG_STAT_CPU_USER_NS = 121,
  KO_TAG_STAT_CPU_SYSTEM_NS = 122,
  KO_TAG_STAT_MEM_USAGE = 123,
  KO_TAG_STAT_MEM_LIMIT = 124, /* absent: no limit */
  KO_TAG_STAT_MEM_MAX_USAGE = 125,
  KO_TAG_STAT_MEM_CACHE = 126, /* memory.stat file */
  KO_TAG_STAT_MEM_RSS = 127,   /* memory.stat anon */
  KO_TAG_STAT_SWAP_USAGE = 128,
  KO_TAG_STAT_PIDS_CURRENT = 129,
  KO_TAG_STAT_PIDS_LIMIT = 130, /* absent: no limit */
  KO_TAG_STAT_IO_READ_BYTES = 131,
  KO_TAG_STAT_IO_WRITE_BYTES = 132,
  KO_TAG_STAT_OOM_KILLS = 133,

  /* UpdateInterface body (ko_net_iface) */
  KO_TAG_IF_NAME = 140,  /* string: the name in the guest */
  KO_TAG_IF_MAC = 141,   /* 6 bytes */
  KO_TAG_IF_MTU = 142,   /* u32 */
  KO_TAG_IF_ADDR = 143,  /* nested: A_* fields; repeated */
  KO_TAG_A_FAMILY = 144, /* u32 AF_INET or AF_INET6 */
  KO_TAG_A_ADDR = 145,   /* 4 or 16 bytes, network order */
  KO_TAG_A_PREFIX = 146, /* u32 prefix length */
  /* UpdateRoutes body */
  KO_TAG_ROUTE = 147,      /* nested: RT_* fields; repeated */
  KO_TAG_RT_FAMILY = 148,  /* u32 AF_INET or AF_INET6 */
  KO_TAG_RT_DST = 149,     /* 4 or 16 bytes; absent: the default route */
  KO_TAG_RT_DST_LEN = 150, /* u32 prefix length of RT_DST */
  KO_TAG_RT_GW = 151,      /* 4 or 16 bytes; absent: on-link */
  KO_TAG_RT_DEV = 152,     /* string: an IF_NAME */

  /* GuestMetrics reply fields, all u64 (160..189 are the metrics') */
  KO_TAG_GM_MEM_TOTAL = 160,     /* bytes: MemTotal */
  KO_TAG_GM_MEM_FREE = 161,      /* bytes: MemFree */
  KO_TAG_GM_MEM_AVAILABLE = 162, /* bytes: MemAvailable */
  KO_TAG_GM_MEM_CACHED = 163,    /* bytes: Cached */
  KO_TAG_GM_CPU_USER_NS = 164,   /* all CPUs: user + nice */
  KO_TAG_GM_CPU_SYSTEM_NS = 165, /* system + irq + softirq */
  KO_TAG_GM_CPU_IDLE_NS = 166,
  KO_TAG_GM_CPU_IOWAIT_NS = 167,
  KO_TAG_GM_LOAD1 = 168, /* load average x 1000 */
  KO_TAG_GM_LOAD5 = 169,
  KO_TAG_GM_LOAD15 = 170,
  KO_TAG_GM_PROCS = 171,     /* processes (not threads) */
  KO_TAG_GM_AGENT_RSS = 172, /* bytes */
  KO_TAG_GM_UPTIME_NS = 173,
  /* nested, repeated (<= KO_GM_MAX_CONTAINERS): CONTAINER_ID and the
   * STAT_* fields of its cgroup */
  KO_TAG_GM_CONTAINER = 180,

  /* Disks (virtio-blk) the host attached for the container */
  /* inside DEVICE: the node is the guest disk whose
   * /sys/block/NAME/serial is this, made with that disk's own numbers */
  KO_TAG_D_DISK = 190, /* string: a virtio-blk serial */
  /* inside MOUNT: the source is the guest disk with this serial */
  KO_TAG_M_DISK = 191, /* string: a virtio-blk serial */
  /* inside MOUNT: mount_setattr(2)'s attr_set (low 32 bits) and attr_clr
   * (high 32 bits), with AT_RECURSIVE, once the mount is made */
  KO_TAG_M_REC_ATTR = 194, /* u64 */

  /* CreateContainer: the container's device rules (linux.resources.devices,
   * linux.devices and runc's defaults), compiled on the host to a
   * BPF_PROG_TYPE_CGROUP_DEVICE program the agent attaches to the
   * container's cgroup; absent: every device is allowed */
  KO_TAG_DEVFILTER = 192, /* bytes: struct bpf_insn[] (8 bytes each) */
  /* repeated, in order: the serial of the disk whose guest numbers the
   * agent writes into disk slot N of DEVFILTER (see KO_DEVFILTER_SLOT) */
  KO_TAG_DEVFILTER_DISK = 193, /* string: a virtio-blk serial */

  /* CreateContainer: the rootfs is the filesystem on this disk (a block
   * device the host had mounted as the bundle's rootfs), which the agent
   * mounts at KO_GUEST_DISK_ROOTFS_DIR/ROOTFS for the init to bind as its
   * root, in place of the share's ROOTFS */
  KO_TAG_ROOTFS_DISK = 200,       /* string: a virtio-blk serial */
  KO_TAG_ROOTFS_DISK_TYPE = 201,  /* string: ext4, xfs; required with it */
  KO_TAG_ROOTFS_DISK_DATA = 202,  /* string: fs-specific options */
  KO_TAG_ROOTFS_DISK_FLAGS = 203, /* u64 MS_* (MS_RDONLY ...) */

  /* ListProcesses' reply: after each PID, what ps shows of it (each
   * optional), and once the guest's uptime they are measured against */
  KO_TAG_PS_UID = 210,    /* u32: the owner of /proc/PID (its euid) */
  KO_TAG_PS_STAT = 211,   /* string: /proc/PID/stat */
  KO_TAG_PS_CMD = 212,    /* string: /proc/PID/cmdline, NULs as spaces */
  KO_TAG_PS_UPTIME = 213, /* u64: the guest's CLOCK_BOOTTIME, ms */
};

/* In M_FLAGS, beyond the kernel's MS_* bits: tmpcopyup, what the rootfs
 * has at the destination is copied into the new (tmpfs) mount */
#define KO_MOUNT_COPYUP (1ULL << 40)

/* The device program's layout the agent relies on: KO_DEVFILTER_PROLOGUE
 * instructions load the context (r2 = type, r3 = access, r4 = major,
 * r5 = minor); then one slot of KO_DEVFILTER_SLOT instructions per
 * DEVFILTER_DISK: "if (r2 == BLOCK && r4 == MAJOR && r5 == MINOR) return 1"
 * with MAJOR at insn +1 and MINOR at insn +2, placeholders the agent
 * replaces with the guest disk's numbers (the host knows only its own). */
#define KO_DEVFILTER_PROLOGUE 6
#define KO_DEVFILTER_SLOT 5
#define KO_DEVFILTER_MAX_INSNS 4096
#define KO_DEVFILTER_MAX_DISKS 16

/* ---- frames ---- */
struct ko_frame_hdr
{
  uint32_t stream;
  uint8_t type;
  uint8_t flags;
  uint32_t len;
};
void ko_frame_hdr_encode (uint8_t out[KO_FRAME_HDR_SIZE],
                          const struct ko_frame_hdr *h);
/* Checks the header against the protocol's bounds (type known, reserved 0,
 * length within the limit for its type, stream 0 only for control frames).
 * Returns 0 or -1 with *err saying what is wrong. */
int ko_frame_hdr_decode (const uint8_t in[KO_FRAME_HDR_SIZE],
                         struct ko_frame_hdr *h, ko_error **err);

/* ---- growable buffer and TLV writer ---- */
struct ko_buf
{
  uint8_t *data;
  size_t len, cap;
};
void ko_buf_free (struct ko_buf *b);
#define _cleanup_buf_ __attribute__ ((cleanup (ko_buf_free)))
int ko_buf_reserve (struct ko_buf *b, size_t more); /* -1 on ENOMEM */
int ko_buf_append (struct ko_buf *b, const void *p, size_t n);
int ko_buf_put_u16 (struct ko_buf *b, uint16_t v);
int ko_buf_put_u32 (struct ko_buf *b, uint32_t v);
int ko_tlv_put_bytes (struct ko_buf *b, uint16_t tag, const void *p, size_t n);
int ko_tlv_put_str (struct ko_buf *b, uint16_t tag,
                    const char *s); /* NULL: skip */
int ko_tlv_put_u32 (struct ko_buf *b, uint16_t tag, uint32_t v);
int ko_tlv_put_u64 (struct ko_buf *b, uint16_t tag, uint64_t v);
/* Nested: begin returns an offset to pass to end, which fills in the length. */
size_t ko_tlv_begin (struct ko_buf *b, uint16_t tag);
void ko_tlv_end (struct ko_buf *b, size_t off);

/* Appends a whole frame (header + payload) to b. */
int ko_frame_append (struct ko_buf *b, uint32_t stream, uint8_t type,
                     const void *payload, size_t len);
/* Appends a REQUEST frame: u32 id, u16 method, body. */
int ko_request_append (struct ko_buf *b, uint32_t id, uint16_t method,
                       const struct ko_buf *body);
int ko_reply_append (struct ko_buf *b, uint32_t id, uint32_t status,
                     const struct ko_buf *body);
/* Error reply: status plus TAG_ERROR message. */
int ko_reply_error_append (struct ko_buf *b, uint32_t id, uint32_t status,
                           const char *msg);
int ko_event_append (struct ko_buf *b, uint16_t event,
                     const struct ko_buf *body);

/* ---- TLV reader (bounds-checked; input is hostile) ---- */
struct ko_tlv
{
  const uint8_t *p;
  size_t left;
};
struct ko_field
{
  uint16_t tag;
  uint32_t len;
  const uint8_t *val;
};
/* Returns 1 with the next field, 0 at the end, -1 on a truncated field. */
int ko_tlv_next (struct ko_tlv *r, struct ko_field *f);
int ko_field_u32 (const struct ko_field *f, uint32_t *out); /* len must be 4 */
int ko_field_u64 (const struct ko_field *f, uint64_t *out); /* len must be 8 */
/* malloc'd NUL-terminated copy; -1 if it holds a NUL or is too long. */
int ko_field_str (const struct ko_field *f, char **out);
struct ko_tlv ko_field_nested (const struct ko_field *f);

/* Splits control payloads. */
int ko_parse_request (const uint8_t *p, size_t n, uint32_t *id,
                      uint16_t *method, struct ko_tlv *body);
int ko_parse_reply (const uint8_t *p, size_t n, uint32_t *id, uint32_t *status,
                    struct ko_tlv *body);
int ko_parse_event (const uint8_t *p, size_t n, uint16_t *event,
                    struct ko_tlv *body);

/* ---- the process description, shared by CreateContainer and ExecProcess ----
 */
#define KO_MAX_STRINGS 4096 /* bound on args, env, gids, rlimits */
#define KO_MAX_STRING (64u << 10)
#define KO_NOTIFY_DATA_MAX 4096
/* Notify events a container may cause in a second; more are dropped */
#define KO_NOTIFY_PER_SEC 50

struct ko_rlimit
{
  uint32_t type;
  uint64_t soft, hard;
};

/* sched_setattr(2)'s struct sched_attr, as the kernel lays it out */
struct ko_sched_attr
{
  uint32_t size; /* 0: no scheduler set; else sizeof this */
  uint32_t policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime, deadline, period;
};
#define KO_SCHED_WIRE_LEN 44

struct ko_process
{
  char **args; /* NULL-terminated */
  size_t nargs;
  char **env; /* NULL-terminated */
  size_t nenv;
  char *cwd;
  uint32_t uid, gid;
  uint32_t *add_gids;
  size_t nadd_gids;
  bool has_umask;
  uint32_t umask;
  bool terminal;
  uint32_t rows, cols;
  uint32_t stdin_stream, stdout_stream, stderr_stream;
  bool has_caps;
  uint64_t caps[5]; /* bounding, effective, inheritable, permitted, ambient */
  struct ko_rlimit *rlimits;
  size_t nrlimits;
  bool no_new_privs;
  bool has_oom_score_adj;
  int32_t oom_score_adj;
  uint8_t *seccomp; /* sock_filter array */
  size_t seccomp_len;
  uint32_t seccomp_flags;
  struct ko_sched_attr sched;
  bool has_ioprio;
  uint32_t ioprio;
  char *cgroup; /* exec --cgroup, or NULL */
};

int ko_process_encode (struct ko_buf *b, uint16_t tag,
                       const struct ko_process *p);
int ko_process_decode (const struct ko_field *f, struct ko_process *p,
                       ko_error **err);
void ko_process_clear (struct ko_process *p);

/* ---- user namespace id maps (CreateContainer UID_MAP / GID_MAP) ---- */
/* Lines per map: the kernel's fast path (it takes up to 340 since 4.15) */
#define KO_MAX_ID_MAPS 5
#define KO_ID_LAST 4294967294u /* (uint32_t)-1 is not a valid id */

struct ko_id_map
{
  uint32_t container_id, host_id, size;
};

int ko_id_map_encode (struct ko_buf *b, uint16_t tag,
                      const struct ko_id_map *m);
/* All three fields are required. The ranges are checked by ko_id_maps_check
 * once the whole map is known. */
int ko_id_map_decode (const struct ko_field *f, struct ko_id_map *m,
                      ko_error **err);
/* What the kernel refuses when the map file is written, with the message
 * naming what[i] (what is e.g. "config.json: linux.uidMappings"): more than
 * KO_MAX_ID_MAPS lines, a size of 0, a range past KO_ID_LAST, ranges that
 * overlap on either side. */
int ko_id_maps_check (const struct ko_id_map *v, size_t n, const char *what,
                      ko_error **err);
/* Whether id (of the container side) falls in one of the ranges. */
bool ko_id_maps_contain (const struct ko_id_map *v, size_t n, uint32_t id);

/* ---- networking (UpdateInterface, UpdateRoutes) ---- */
#define KO_NET_MAX_ADDRS 16
#define KO_NET_MAX_ROUTES 64
#define KO_NET_MAX_IFACES 8
#define KO_IFNAMSIZ 16 /* IFNAMSIZ: 15 characters and the NUL */

struct ko_net_addr
{
  uint32_t family; /* AF_INET or AF_INET6 */
  uint8_t addr[16];
  uint32_t prefix;
};

struct ko_net_iface
{
  char name[KO_IFNAMSIZ];
  uint8_t mac[6];
  uint32_t mtu;
  struct ko_net_addr addrs[KO_NET_MAX_ADDRS];
  size_t naddrs;
};

struct ko_net_route
{
  uint32_t family;
  uint8_t dst[16]; /* zero with dst_len 0: the default route */
  uint32_t dst_len;
  bool has_gw;
  uint8_t gw[16];
  char dev[KO_IFNAMSIZ];
};

/* UpdateInterface's body: the IF_* fields. */
int ko_net_iface_encode (struct ko_buf *b, const struct ko_net_iface *i);
/* Checks every field (a name the kernel takes, a unicast MAC, an MTU of
 * 68..65535, address lengths and prefixes for their family, at most
 * KO_NET_MAX_ADDRS). *i is written only on success. */
int ko_net_iface_decode (struct ko_tlv body, struct ko_net_iface *i,
                         ko_error **err);
int ko_net_route_encode (struct ko_buf *b, uint16_t tag,
                         const struct ko_net_route *r);
int ko_net_route_decode (const struct ko_field *f, struct ko_net_route *r,
                         ko_error **err);
/* Whether s is a name the kernel takes for a network interface. */
bool ko_net_ifname_ok (const char *s);

const char *ko_method_name (uint16_t method);

#endif
