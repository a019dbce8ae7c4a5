/* monitor.sock: what the CLI asks a sandbox's monitor, with the framing of
 * the agent channel (proto.h): one REQUEST frame, one REPLY frame. Each
 * request and reply is a struct with one encode/decode pair, used by the
 * client (src/client.c) and the monitor (src/monitor/server.c).
 *
 * Every request may name its container (CONTAINER_ID); absent, it means
 * the sandbox's own container. The monitor checks the container's status
 * itself: the CLI does not hold the container's lock while it waits. */
#ifndef KO_MONPROTO_H
#define KO_MONPROTO_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "msg.h"
#include "proto.h"

enum ko_mon_method
{
  KO_MON_START = 1,   /* start the container init */
  KO_MON_KILL = 2,    /* ko_mon_kill */
  KO_MON_DESTROY = 3, /* stop the VM, clean up, exit */
  KO_MON_PAUSE = 4,
  KO_MON_RESUME = 5,
  KO_MON_PS = 6, /* reply: ko_mon_pids */
  /* Start a process in the container: ko_mon_exec; the caller's stdio fds
   * come with it (SCM_RIGHTS). Reply: ko_mon_pid. The connection stays
   * open: the caller may send KILL (ko_mon_kill, signal only) and RESIZE
   * (ko_mon_resize) on it, and gets EVENT ProcessExited (ko_mon_exit) at
   * the end. */
  KO_MON_EXEC = 7,
  KO_MON_RESIZE = 8,
  /* ko_mon_update: linux.resources as JSON. Applied in the guest
   * (UpdateContainer) and on the sandbox's host cgroup. */
  KO_MON_UPDATE = 9,
  /* Reply: ko_mon_stats: the agent's statistics, the VM's host-side usage
   * and the number of OOM kills seen. */
  KO_MON_STATS = 10,
  /* A pod member joins the sandbox: ko_mon_add; fds: the member's holder
   * socket (holder.h), then its stdin, stdout, stderr (none with a
   * terminal). Replies once the member is created in the guest. */
  KO_MON_ADD = 11,
  /* A member leaves: ko_mon_remove. Its processes are killed (FORCE) or
   * must have exited; its guest resources and share entries go. */
  KO_MON_REMOVE = 12,
  /* Reply: ko_mon_metrics: the sandbox's host processes, channel, agent
   * latency, NICs, and the guest's GuestMetrics when the agent answers
   * within KO_MON_GUEST_DEADLINE_MS (else guest_up is false). Changes
   * nothing; the monitor answers while it serves everything else. */
  KO_MON_METRICS = 13,
};

/* monitor.sock only (never on the guest channel) */
#define KO_MON_TAG_CONSOLE_SOCKET 1000
#define KO_MON_TAG_VM_RSS 1001    /* u64 bytes: QEMU's RSS on the host */
#define KO_MON_TAG_VM_CPU_NS 1002 /* u64: QEMU's CPU time on the host */
#define KO_MON_TAG_OOM_COUNT 1003 /* u64: OOM events from the guest */

#define KO_MON_TAG_STATE_DIR 1004        /* string */
#define KO_MON_TAG_BUNDLE 1005           /* string */
#define KO_MON_TAG_HOST_ROOTFS 1006      /* string */
#define KO_MON_TAG_HOLDER_PID 1007       /* u32 */
#define KO_MON_TAG_BIND 1008             /* nested: BIND_*; repeated */
#define KO_MON_TAG_BIND_SOURCE 1009      /* string: host path */
#define KO_MON_TAG_BIND_DEST 1010        /* string: relative to shared/ */
#define KO_MON_TAG_BIND_CTR_DEST 1011    /* string: the container's path */
#define KO_MON_TAG_BIND_READONLY 1012    /* u32 0/1 */
#define KO_MON_TAG_CONTAINER_FIELDS 1013 /* bytes: CreateContainer fields */
#define KO_MON_TAG_FORCE 1014            /* u32 0/1 */
/* u32 0/1: the caller is a detached relay whose pid stands for the process
 * (exec -d --pid-file): when it goes, the process goes */
#define KO_MON_TAG_DETACHED 1015
/* KO_MON_ADD: a member's disks, hot-plugged into the VM; their fds are the
 * request's last ones, one per disk, in order */
#define KO_MON_TAG_DISK 1016          /* nested: DISK_*; repeated */
#define KO_MON_TAG_DISK_SOURCE 1017   /* string: host path, for messages */
#define KO_MON_TAG_DISK_SERIAL 1018   /* string: the virtio-blk serial */
#define KO_MON_TAG_DISK_READONLY 1019 /* u32 0/1 */
#define KO_MON_TAG_DISK_BLOCKDEV                                               \
  1020                              /* u32 0/1: a block device, else a file    \
                                     */
#define KO_MON_TAG_DISK_RDEV 1021   /* u64: its numbers (blockIO names them) */
#define KO_MON_TAG_DISK_LIMITS 1022 /* KO_MON_DISK_LIMITS x u64 LE */

/* KO_MON_METRICS reply fields: 1400..1449 */
#define KO_MON_TAG_MX_PROC 1400 /* nested: a host process; repeated */
#define KO_MON_TAG_MX_ROLE 1401 /* string: qemu, virtiofsd, monitor, holder */
#define KO_MON_TAG_MX_PV_FIRST 1402    /* u64 ko_mon_proc values, in order */
#define KO_MON_TAG_MX_CHAN_FIRST 1420  /* u64 channel counters, in order */
#define KO_MON_TAG_MX_BOOT_NS 1424     /* u64: create to the agent's hello */
#define KO_MON_TAG_MX_UPTIME_NS 1425   /* u64: since the monitor started */
#define KO_MON_TAG_MX_GUEST_UP 1426    /* u32 0/1 */
#define KO_MON_TAG_MX_GUEST_NS 1427    /* u64: this scrape's GuestMetrics */
#define KO_MON_TAG_MX_LATENCY 1428     /* nested: LAT_*; repeated */
#define KO_MON_TAG_MX_LAT_METHOD 1429  /* u32 */
#define KO_MON_TAG_MX_LAT_COUNT 1430   /* u64 */
#define KO_MON_TAG_MX_LAT_SUM_NS 1431  /* u64 */
#define KO_MON_TAG_MX_LAT_BUCKETS 1432 /* KO_MON_LAT_BUCKETS x u64 LE */
#define KO_MON_TAG_MX_NIC 1433         /* nested: NIC_*; repeated */
#define KO_MON_TAG_MX_NIC_NAME 1434    /* string */
#define KO_MON_TAG_MX_NIC_FIRST 1435   /* u64 ko_mon_nic values, in order */
#define KO_MON_TAG_MX_GUEST 1440       /* nested: GuestMetrics' reply body */

#define KO_MON_MAX_PIDS 65536
#define KO_MON_MAX_BINDS 1024
/* a member's disks: as many as a container may have (blockdev.h) */
#define KO_MON_MAX_DISKS 16
#define KO_MON_DISK_LIMITS 4
#define KO_MON_DISK_SERIAL_MAX 20
/* fds with one request: a member's holder socket, stdio, disks */
#define KO_MON_MAX_FDS (4 + KO_MON_MAX_DISKS)

/* START, DESTROY, PAUSE, RESUME, PS, STATS */
struct ko_mon_target
{
  char *container_id; /* NULL: the sandbox's container */
};

struct ko_mon_kill
{
  char *container_id;
  uint32_t signal;
  bool all;
};

struct ko_mon_exec
{
  char *container_id;
  char *exec_id;
  struct ko_process process;
  char *console_socket; /* NULL: the fds are the process's stdio */
  bool detached;        /* KO_MON_TAG_DETACHED */
};

/* A pod member: what its create made ready, for the sandbox's monitor to
 * create it in the VM. */
struct ko_mon_add
{
  char *container_id;
  char *state_dir;
  char *bundle;
  char *rootfs; /* host path */
  char *hostname;
  char *console_socket;
  uint32_t holder_pid;
  struct ko_process process;
  struct ko_buf fields; /* CreateContainer's other fields (translate.c) */
  struct ko_mon_bind
  {
    char *source, *dest, *ctr_dest;
    uint8_t readonly; /* KO_BIND_* */
  } * binds;
  size_t nbinds;
  struct ko_mon_disk
  {
    char *source;
    char serial[KO_MON_DISK_SERIAL_MAX + 1];
    bool readonly, blockdev;
    uint64_t rdev;
    uint64_t limits[KO_MON_DISK_LIMITS];
  } * disks;
  size_t ndisks;
};

struct ko_mon_remove
{
  char *container_id;
  bool force;
};

struct ko_mon_resize
{
  uint32_t rows, cols;
};

struct ko_mon_update
{
  char *container_id;
  char *resources_json;
};

struct ko_mon_pid
{
  uint32_t pid;
};

struct ko_mon_exit
{
  uint32_t status; /* raw wait status */
};

/* ps: the guest's pids, and what ps shows of them when the agent said
 * (its ListProcesses reply, passed on as decoded) */
struct ko_mon_pids
{
  uint32_t *pids;
  size_t n;
  struct ko_ps_info *info; /* NULL, or one per pid (KO_MAX_PS_INFO at most) */
  uint64_t uptime_ms;      /* the guest's, 0: unknown */
};

/* The container's cgroup statistics in the guest (StatsContainer's reply,
 * as the agent sent it), the VM's usage on the host, the OOM events seen. */
struct ko_mon_stats
{
  struct ko_msg_stats_container_reply guest;
  uint64_t vm_rss, vm_cpu_ns, oom_count;
};

int ko_mon_target_encode (struct ko_buf *b, const struct ko_mon_target *m);
int ko_mon_target_decode (struct ko_tlv body, struct ko_mon_target *m,
                          ko_error **err);
void ko_mon_target_clear (struct ko_mon_target *m);

int ko_mon_kill_encode (struct ko_buf *b, const struct ko_mon_kill *m);
int ko_mon_kill_decode (struct ko_tlv body, struct ko_mon_kill *m,
                        ko_error **err);
void ko_mon_kill_clear (struct ko_mon_kill *m);

int ko_mon_exec_encode (struct ko_buf *b, const struct ko_mon_exec *m);
int ko_mon_exec_decode (struct ko_tlv body, struct ko_mon_exec *m,
                        ko_error **err);
void ko_mon_exec_clear (struct ko_mon_exec *m);

int ko_mon_add_encode (struct ko_buf *b, const struct ko_mon_add *m);
int ko_mon_add_decode (struct ko_tlv body, struct ko_mon_add *m,
                       ko_error **err);
void ko_mon_add_clear (struct ko_mon_add *m);

int ko_mon_remove_encode (struct ko_buf *b, const struct ko_mon_remove *m);
int ko_mon_remove_decode (struct ko_tlv body, struct ko_mon_remove *m,
                          ko_error **err);
void ko_mon_remove_clear (struct ko_mon_remove *m);

int ko_mon_resize_encode (struct ko_buf *b, const struct ko_mon_resize *m);
int ko_mon_resize_decode (struct ko_tlv body, struct ko_mon_resize *m,
                          ko_error **err);

int ko_mon_update_encode (struct ko_buf *b, const struct ko_mon_update *m);
int ko_mon_update_decode (struct ko_tlv body, struct ko_mon_update *m,
                          ko_error **err);
void ko_mon_update_clear (struct ko_mon_update *m);

int ko_mon_pid_encode (struct ko_buf *b, const struct ko_mon_pid *m);
int ko_mon_pid_decode (struct ko_tlv body, struct ko_mon_pid *m,
                       ko_error **err);

int ko_mon_exit_encode (struct ko_buf *b, const struct ko_mon_exit *m);
int ko_mon_exit_decode (struct ko_tlv body, struct ko_mon_exit *m,
                        ko_error **err);

int ko_mon_pids_encode (struct ko_buf *b, const struct ko_mon_pids *m);
int ko_mon_pids_decode (struct ko_tlv body, struct ko_mon_pids *m,
                        ko_error **err);
void ko_mon_pids_clear (struct ko_mon_pids *m);

int ko_mon_stats_encode (struct ko_buf *b, const struct ko_mon_stats *m);
int ko_mon_stats_decode (struct ko_tlv body, struct ko_mon_stats *m,
                         ko_error **err);

/* ---- KO_MON_METRICS ---- */
#define KO_MON_GUEST_DEADLINE_MS 500
#define KO_MON_MAX_PROCS 72 /* qemu, virtiofsd, the monitor, holders */
#define KO_MON_MAX_NICS 16
#define KO_MON_MAX_METHODS 64 /* request types with a latency histogram */
/* upper bounds of the latency buckets, in microseconds (+Inf is count) */
#define KO_MON_LAT_BUCKETS 12
extern const uint64_t ko_mon_lat_bounds_us[KO_MON_LAT_BUCKETS];

enum ko_mon_proc_value
{
  KO_PV_RSS, /* bytes */
  KO_PV_PSS, /* bytes, /proc/PID/smaps_rollup */
  KO_PV_CPU_USER_NS,
  KO_PV_CPU_SYSTEM_NS,
  KO_PV_THREADS,
  KO_PV_FDS,
  KO_PV_READ_BYTES,  /* /proc/PID/io read_bytes */
  KO_PV_WRITE_BYTES, /* write_bytes */
  KO_PV_N
};

struct ko_mon_proc
{
  char *role;         /* required */
  char *container_id; /* a holder's container */
  uint32_t pid;
  uint32_t has; /* 1 << KO_PV_* for every value present */
  uint64_t v[KO_PV_N];
};

enum
{
  KO_CHAN_FRAMES_OUT, /* host -> guest */
  KO_CHAN_FRAMES_IN,
  KO_CHAN_BYTES_OUT,
  KO_CHAN_BYTES_IN,
  KO_CHAN_N
};

struct ko_mon_latency
{
  uint32_t method;
  uint64_t count, sum_ns;
  uint64_t buckets[KO_MON_LAT_BUCKETS]; /* cumulative, as Prometheus */
};

enum
{
  KO_NIC_RX_BYTES,
  KO_NIC_RX_PACKETS,
  KO_NIC_TX_BYTES,
  KO_NIC_TX_PACKETS,
  KO_NIC_N
};

struct ko_mon_nic
{
  char name[KO_IFNAMSIZ]; /* the tap, host side */
  uint64_t v[KO_NIC_N];
};

struct ko_mon_metrics
{
  struct ko_mon_proc *procs;
  size_t nprocs;
  uint64_t chan[KO_CHAN_N];
  uint64_t boot_ns, uptime_ns, guest_ns;
  bool guest_up;
  struct ko_msg_guest_metrics_reply guest; /* when guest_up */
  struct ko_mon_latency *lat;
  size_t nlat;
  struct ko_mon_nic nics[KO_MON_MAX_NICS];
  size_t nnics;
};

/* Appends a process (taking copies of the strings): -1 when out of memory
 * or past KO_MON_MAX_PROCS. */
int ko_mon_metrics_add_proc (struct ko_mon_metrics *m, const char *role,
                             const char *container_id, uint32_t pid,
                             uint32_t has, const uint64_t v[KO_PV_N]);
int ko_mon_metrics_encode (struct ko_buf *b, const struct ko_mon_metrics *m);
int ko_mon_metrics_decode (struct ko_tlv body, struct ko_mon_metrics *m,
                           ko_error **err);
void ko_mon_metrics_clear (struct ko_mon_metrics *m);

/* An error reply's body is the agent's (ko_msg_error): read it with
 * ko_msg_reply_error. */

#endif
