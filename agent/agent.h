/* kata-agent: PID 1 of the guest. One epoll loop serves the channel to the
 * host, the stdio pipes of every process and SIGCHLD. */
#ifndef AG_AGENT_H
#define AG_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "loop.h"
#include "msg.h"
#include "proto.h"

#ifndef KO_AGENT_VERSION
#define KO_AGENT_VERSION "0"
#endif

/* ---- main.c: logging, fatal errors, the loop ---- */
extern bool ag_debug;
extern bool ag_serial_only; /* agent.channel=serial: no vsock device */
extern bool ag_no_splice;   /* agent.nosplice: output is always copied */
extern bool ag_net; /* agent.net=1: the VM has NICs, their drivers loaded */
#ifdef KO_AGENT_TESTING
/* Only in the test build (kata-agent-test, never installed): a guest that
 * misbehaves on purpose, for the host's tests.
 *   agent.test.oom_flood=N  N OOM events right after StartContainer
 *   agent.test.ignore=M     never answer requests of method id M */
extern unsigned ag_test_oom_flood;
extern unsigned ag_test_ignore;
#endif
void ag_log (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
#define ag_dbg(...)                                                            \
  do                                                                           \
    {                                                                          \
      if (ag_debug)                                                            \
        ag_log (__VA_ARGS__);                                                  \
    }                                                                          \
  while (0)
/* Logs, syncs and powers the VM off. Never returns. */
void ag_fatal (const char *fmt, ...)
    __attribute__ ((format (printf, 1, 2), noreturn));
void ag_poweroff (void) __attribute__ ((noreturn));
/* Writes s to the existing file path (sysfs, procfs, cgroupfs): 0, or -1
 * with errno. */
int ag_write_str (const char *path, const char *s);
/* Reads at most n - 1 bytes of the file path (sysfs, procfs) into buf,
 * NUL-terminated, a trailing newline dropped: the length, or -1 with errno
 * (buf then holds ""). */
ssize_t ag_read_str (const char *path, char *buf, size_t n);

/* The one loop everything runs in (loop.h): descriptors are ko_watch
 * (their data the owner), idle work runs when it times out. */
extern struct ko_loop ag_loop;
/* ko_watch_set, fatal when epoll refuses: a descriptor the agent cannot
 * poll would leave whatever waits on it hanging. */
void ag_watch_set_or_die (struct ko_watch *w, uint32_t events);

/* fd of /dev/null, opened at boot, close-on-exec */
extern int ag_devnull;

/* ---- channel.c: the connection to the host ---- */
void channel_start (void);
bool channel_connected (void);
/* Appends a whole frame to the output queue (control frames always fit). */
void channel_send_frame (uint32_t stream, uint8_t type, const void *p,
                         size_t n);
void channel_send_reply (uint32_t id, const struct ko_buf *body);
void channel_send_error (uint32_t id, const ko_error *err);
void channel_send_event (uint16_t event, const struct ko_buf *body);
/* Room for stdio DATA: a reader may queue at most this many payload bytes. */
size_t channel_data_room (void);
/* Reserves a DATA frame of up to max payload bytes at the end of the output
 * queue; returns where to put the payload. channel_commit_data finalises it
 * with the real length (0 drops it). */
uint8_t *channel_begin_data (uint32_t stream, size_t max);
void channel_commit_data (size_t len);
/* Zero-copy output (the serial port takes pipe pages by splice):
 * channel_can_splice says whether to use it at all; channel_splice_ready
 * whether a frame can start now (nothing else is waiting to be written;
 * else streams_resume is called once that is so). channel_splice_data
 * sends a DATA frame of up to `max` bytes taken from the pipe `fd` and
 * returns its length; 0 when the channel is busy; -1 when nothing was
 * taken (the pipe is empty or at EOF, or splicing is off): read it. */
bool channel_can_splice (void);
bool channel_splice_ready (void);
ssize_t channel_splice_data (uint32_t stream, int fd, size_t max);
/* Blocks until the output queue is written (or timeout_ms). */
void channel_flush (int timeout_ms);
/* epoll timeout after which channel_trim frees an idle output queue */
int channel_trim_timeout (void);
void channel_trim (void);

/* ---- stream.c: stdio streams with credit-based flow control ---- */
enum stream_kind
{
  STREAM_IN,  /* host -> process (pipe write end / pty master) */
  STREAM_OUT, /* process -> host (pipe read end / pty master) */
};
struct proc;
struct stream
{
  struct ko_watch w; /* data: the stream */
  struct stream *next;
  struct proc *proc;
  uint32_t id;
  enum stream_kind kind;
  bool is_tty;
  bool is_pipe;    /* OUT: a pipe, so its bytes can be spliced */
  bool eof;        /* OUT: EOF read and sent; IN: fd closed */
  bool eof_wanted; /* IN: host sent EOF, close when drained */
  bool active;     /* registered in the loop */
  uint32_t credit; /* OUT: bytes the host still accepts */
  bool ending;     /* OUT: send `left` more bytes, then end */
  uint32_t left;
  struct ko_buf pending; /* IN: received, not yet written */
  size_t pending_off;
};
struct stream *stream_new (uint32_t id, enum stream_kind kind, int fd,
                           struct proc *p, bool is_tty);
/* Starts polling the fd (after the process has been set up). */
void stream_activate (struct stream *s);
void stream_free (struct stream *s);
bool stream_id_in_use (uint32_t id);
void stream_on_data (uint32_t id, const uint8_t *p, size_t n);
void stream_on_credit (uint32_t id, uint32_t n);
/* IN stream: close once the queued bytes are written. */
void stream_close_input (struct stream *s);
/* OUT stream of a process that has exited: sends what the pipe or pty
 * holds now, then EOF, even if a background child keeps it open. */
void stream_end_after_pending (struct stream *s);
/* Called when the channel has room again: resumes paused readers. */
void streams_resume (void);
/* Called on reconnect: the new host starts with fresh windows. */
void streams_reset_credit (void);

/* ---- rpc.c, registry.c, launch.c: the RPC handlers, containers and
 * processes (their internals: rpc.h) ---- */
struct container;
struct proc
{
  struct proc *next; /* in the container's list */
  struct container *c;
  char *exec_id; /* NULL for the init */
  pid_t pid;
  int status;
  bool exited;   /* reaped */
  bool reported; /* ProcessExited sent */
  bool failed;   /* never started: no event */
  struct stream *in, *out, *err;
  int tty_fd;        /* pty master for resizes, -1 */
  uint32_t *waiters; /* WaitProcess request ids */
  size_t nwaiters;
};
void rpc_dispatch (uint32_t id, uint16_t method, struct ko_tlv body);
void rpc_on_sigchld (void);
/* Sends OOM for every container whose oom_kill count grew. */
void rpc_check_oom (void);
/* A stream of p reached EOF (or closed): maybe report the exit. */
void proc_check_done (struct proc *p);

/* ---- spawn.c: the code that runs in the children ---- */
/* The child's ends of its stdio: fds 0, 1, 2 (may repeat), tty or not. */
struct ag_stdio
{
  int fd[3];
  bool tty;
};
/* Messages on the close-on-exec sync pipe, child -> agent. Each is one
 * write(): a type byte, then for 'E' a u32 errno and the text, for 'P' a
 * u32 pid. */
#define SYNC_READY 'R'
#define SYNC_ERROR 'E'
#define SYNC_PID 'P'
#define SYNC_MSG_MAX 1024

/* Sets the process's rlimits and oom_score_adj on pid (0: the caller). Done
 * while still privileged in the guest: inside a user namespace neither can
 * be raised any more. */
int ag_set_limits (pid_t pid, const struct ko_process *p, ko_error **err);
/* Body of the container init: namespaces are already new. It waits for one
 * byte on start_fd (the agent has then written its id maps, set its limits
 * and put it in its cgroup), sets itself up and waits for a second byte
 * (StartContainer) before exec. Never returns. */
/* A pod member's init: the pod sandbox's namespaces it joins (fds the
 * agent opened before the clone; -1: none), set in the child only. */
struct ag_join
{
  int ipc, uts;
};
extern struct ag_join ag_join;
void spawn_container_init (const struct ko_msg_create_container *m,
                           const struct ag_stdio *io, int sync_fd, int start_fd)
    __attribute__ ((noreturn));
/* Body of the exec helper: joins the group of id (unless in_group) and
 * the namespaces of init_pid, forks the process (a child of the agent via
 * CLONE_PARENT), reports its pid. */
void spawn_exec_helper (const char *id, pid_t init_pid, bool in_group,
                        const struct ko_process *proc,
                        const struct ag_stdio *io, int sync_fd)
    __attribute__ ((noreturn));
/* Writes s to the existing file path, failing with the step and the path
 * ("write /proc/self/oom_score_adj: invalid argument"). */
int ag_write_file (const char *path, const char *s, ko_error **err);
/* Raw clone(2) without a new stack: fork-like, with namespace flags. */
pid_t ag_clone (unsigned long flags);
/* ag_clone, but the child starts in the cgroup of container id with
 * clone3's CLONE_INTO_CGROUP: no migration afterwards, which costs a
 * synchronize_rcu in the kernel. *joined says whether it did; without
 * cgroups or on a kernel without it this is plain ag_clone. sub (exec
 * --cgroup): a group below the container's, relative, which the child
 * starts in or the call fails (-1, errno). */
pid_t ag_clone_into (unsigned long flags, const char *id, const char *sub,
                     bool *joined);

/* ---- rootfs.c: the container's root filesystem, in its init ---- */
/* Bind-mounts the rootfs (rootfs_rel, in the share), makes the spec's
 * mounts and devices (or the defaults), pivots into it, then sysctls,
 * masked and read-only paths. */
int rootfs_setup (const char *rootfs_rel, const struct ko_container_spec *spec,
                  ko_error **err);

/* ---- memory.c: hotplugged memory ---- */
/* Onlines the offline memory blocks; fails unless want_mb are online. */
int memory_online (uint32_t want_mb, ko_error **err);

/* ---- net.c: the NICs the host gave the VM, over rtnetlink ---- */
/* Finds the NIC whose MAC is i->mac (waiting up to about 1 s for its
 * driver), names it i->name, sets its MTU, adds its addresses and brings it
 * and lo up. A failure names the step: "interface eth0: add address
 * 10.88.0.5/16: File exists". */
int net_update_interface (const struct ko_net_iface *i, ko_error **err);
/* Brings lo up. */
int net_lo_up (ko_error **err);
/* Adds the routes to the main table in order, stopping at the first that
 * fails: "route default via 10.88.0.1 dev eth0: Network is unreachable". */
int net_update_routes (const struct ko_net_route *r, size_t n, ko_error **err);

/* ---- netlink.c: rtnetlink requests and acks (pure, unit-tested) ---- */
/* Room for the largest request: RTM_NEWROUTE with two IPv6 addresses is 76
 * bytes. */
#define AG_NL_MSG_MAX 128
struct ag_nlmsg
{
  _Alignas(4) uint8_t buf[AG_NL_MSG_MAX]; /* nlmsghdr, family header, attrs */
  size_t len;
};
/* Each builder makes a whole request (NLM_F_REQUEST | NLM_F_ACK; the caller
 * sets the sequence number) and returns -1 if an argument is out of range. */
/* RTM_NEWLINK: IFF_UP of link index set or cleared. */
void ag_nl_link_updown (struct ag_nlmsg *m, int index, bool up);
/* RTM_NEWLINK: rename link index (name NULL: keep) and set its MTU (0: keep).
 * The kernel renames only a link that is down. */
int ag_nl_link_set (struct ag_nlmsg *m, int index, const char *name,
                    uint32_t mtu);
/* RTM_NEWADDR, create and exclusive. IPv4: IFA_LOCAL and IFA_ADDRESS, and
 * the broadcast address below a prefix of 31; IPv6: without duplicate
 * address detection, so that it is usable at once. */
int ag_nl_addr (struct ag_nlmsg *m, int index, const struct ko_net_addr *a);
/* RTM_NEWROUTE, create and exclusive, to the main table via link oif: scope
 * universe with a gateway, link without. */
int ag_nl_route (struct ag_nlmsg *m, int oif, const struct ko_net_route *r);
/* Looks in the datagram p for the ack of request seq: 1 with *error (0 or
 * an errno) and msg the kernel's reason for it ("" if none; cut to msglen);
 * 0 if there is none; -1 if p is malformed. */
int ag_nl_ack (const void *p, size_t n, uint32_t seq, int *error, char *msg,
               size_t msglen);
/* An IPv4 or IPv6 address as inet_ntop writes it (which would add 750
 * bytes to the agent). */
#define AG_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */
void ag_addr_format (uint32_t family, const uint8_t *a,
                     char out[AG_ADDR_STRLEN]);

/* ---- cgroup.c: a cgroup v2 group per container ---- */
void cgroup_init (void);
bool cgroup_available (void);
int cgroup_create (const char *id, ko_error **err);
void cgroup_remove (const char *id);
/* Moves pid (0: the calling process) into the container's group. */
int cgroup_enter (const char *id, pid_t pid, ko_error **err);
/* The group of id opened as a directory (for ag_clone_into), or -1. */
int cgroup_open (const char *id);
size_t cgroup_pids (const char *id, pid_t **out);
/* Loads the container's device program (s->devfilter, its disk slots
 * given the guest disks' numbers) and attaches it to its group; nothing
 * without one. */
int cgroup_devices (const char *id, const struct ko_container_spec *s,
                    ko_error **err);
/* Freezes or thaws, and waits until that is done. */
int cgroup_freeze (const char *id, bool freeze, ko_error **err);
/* Applies the resources to the group (fitting its cpusets to the VM's); a
 * failed write fails with the file's name: "cgroup memory.max: invalid
 * argument". */
int cgroup_apply (const char *id, struct ko_resources *r, ko_error **err);
/* The statistics of the group that the guest kernel has. */
int cgroup_stats (const char *id, struct ko_msg_stats_container_reply *out,
                  ko_error **err);
/* memory.events oom_kill of the group (0 if unknown). */
uint64_t cgroup_oom_kills (const char *id);
/* Watches the group's memory.events: rpc_check_oom runs when it changes. */
void cgroup_watch_oom (const char *id);

/* ---- lookup.c: pure helpers (unit-tested on the host) ---- */
/* ko_error_set with the errno text as Go and runc print it ("no such file
 * or directory"): callers such as podman match those words. */
int ag_error_set (ko_error **err, int status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
#define AG_DEFAULT_PATH                                                        \
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* PATH= value from env, or the default. */
const char *ag_env_path (char *const *env);
/* Finds arg0 like execvp; on failure the message says it as runc does:
 * exec: "x": executable file not found in $PATH. *out is malloc'd. */
int ag_find_executable (const char *arg0, const char *path, char **out,
                        ko_error **err);
/* Checks a relative path for the share: no "..", not absolute, not empty. */
bool ag_relpath_ok (const char *p);
/* The text of /proc/PID/uid_map or gid_map ("0 100000 65536\n" a line),
 * written in one write(). Returns its length, or -1 if it does not fit. */
int ag_id_map_format (const struct ko_id_map *v, size_t n, char *buf,
                      size_t len);
/* DEVNAME of a sysfs uevent file ("DEVNAME=net/tun" -> "net/tun"). Returns
 * 0, or -1 when there is none, it does not fit or it holds "..". */
int ag_uevent_devname (const char *uevent, char *out, size_t len);

/* The guest node (/dev/NAME) and numbers of the virtio-blk disk whose
 * serial is serial, waiting up to 5 s for it to appear. */
int ag_disk_find (const char *serial, char *node, size_t len, dev_t *rdev,
                  ko_error **err);
/* Mounts the filesystem of disk serial (type, MS_* flags, data) at path,
 * in the agent's own namespace, where the container's init finds it: the
 * init runs in the container's cgroup, whose device rules need not let it
 * open the disk. */
int ag_disk_mount (const char *serial, const char *path, const char *type,
                   uint64_t flags, const char *data, ko_error **err);
/* Detaches what ag_disk_mount mounted at path (the container's namespace
 * keeps it until its last process is gone). */
void ag_disk_umount (const char *path);

/* One cgroup file write; value points at buf or at a string of the
 * resources. */
struct ag_cg_write
{
  const char *file, *value;
  char buf[48];
};
#define AG_CG_WRITES_MAX 11
/* The cgroup v2 writes for r, in order (at most AG_CG_WRITES_MAX). cur_limit
 * (memory.max now, -1 = max) serves a swap limit sent without a memory
 * limit; cur_quota (first word of cpu.max now) a period sent without a
 * quota. Returns the count, or -1 with *err. */
int ag_resources_plan (const struct ko_resources *r, int64_t cur_limit,
                       const char *cur_quota, struct ag_cg_write *w,
                       ko_error **err);
uint64_t ag_shares_to_weight (uint64_t shares);
uint64_t ag_blkio_to_io_weight (uint64_t blkio_weight);
/* A cpuset (cpuset.cpus or .mems) names the host's CPUs or memory nodes;
 * the VM has its own, numbered from 0. Writes to out the numbers of want
 * that are also in have (the VM's, as cpuset.cpus.effective lists them) as
 * a list, and returns its length: 0 when they share none. -1 with *err if
 * want is not a list. Numbers past AG_CPUSET_BITS are never the VM's. */
#define AG_CPUSET_BITS 1024
int ag_cpuset_fit (const char *want, const char *have, char *out, size_t len,
                   ko_error **err);
/* Sums the values of key in a flat-keyed cgroup file ("key value" lines,
 * or "key=value" words as in io.stat). Returns how many were found. */
int ag_cg_sum (const char *text, const char *key, uint64_t *sum);
/* A single-value file: 1 with *out, 0 for "max", -1 if unreadable. */
int ag_cg_num (const char *text, uint64_t *out);
/* The next decimal number in *s, past whatever is not a digit, with *s
 * moved past it: 1, or 0 at the end of the string. For /proc and sysfs
 * text: no sscanf or strtoul, whose stdio scanner (with its float parser)
 * is 13 KB of the agent's image, all of it resident. */
int ag_next_u64 (const char **s, uint64_t *v);

#endif
