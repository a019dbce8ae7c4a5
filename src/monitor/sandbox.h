/* The monitor's insides. A sandbox is one VM: QEMU, virtiofsd, the one
 * channel to the agent (mux.c) and monitor.sock (server.c). It owns a list
 * of containers, each with its holder (holder.c), its stdio streams and its
 * exec sessions (exec.c). Requests to the guest are asynchronous
 * (agent.c): a handler registers a completion and returns to the loop, so
 * the monitor serves every other request, stream and timer meanwhile. */
#ifndef KO_SANDBOX_H
#define KO_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "logsink.h"
#include "loop.h"
#include "memhp.h"
#include "monitor.h"
#include "monproto.h"
#include "msg.h"
#include "network.h"
#include "proto.h"
#include "qmp.h"

#define MON_CALL_TIMEOUT_MS 30000
#define MON_MAX_STREAMS 192 /* the init and up to 63 execs */
#define MON_MAX_EXECS 63
#define MON_MAX_CONTAINERS 64 /* a pod: its sandbox and members */
#define MON_MAX_CONNS 64      /* CLI connections being served */
#define MON_CONN_READ_MS 5000 /* to send a whole request */

struct sandbox;
struct container;

/* ---------- mux.c: the channel and its streams ---------- */

struct stream
{
  struct sandbox *sb;
  uint32_t id;
  struct ko_watch w; /* w.fd: the host end */
  bool input;        /* host -> guest */
  bool pollable;     /* epoll can watch the fd */
  bool eof;          /* input: EOF sent; output: EOF received */
  bool closed;       /* fd given up (EOF flushed, or write error) */
  bool live;         /* the guest knows the stream: input may flow */
  int saved_flags;   /* the fd's flags before we made it non-blocking */
  uint32_t credit;   /* input: bytes we may send */
  uint32_t window;   /* output: bytes the agent may still send */
  uint32_t to_ack;   /* output: written, credit not yet returned */
  struct ko_buf pending;
  size_t pending_off;
};

struct mux
{
  struct ko_watch w; /* the channel */
  struct ko_buf out;
  size_t out_off;
  struct ko_buf in;
  bool dead;
  struct stream *streams[MON_MAX_STREAMS];
  size_t nstreams;
  uint32_t next_stream;
};

void mux_init (struct sandbox *sb);
void mux_attach (struct sandbox *sb, int fd);
/* Queues a frame and writes what the channel takes now. */
void mux_send (struct sandbox *sb, uint32_t stream, uint8_t type,
               const void *payload, size_t len);
void mux_flush (struct sandbox *sb);
/* What the guest sent: frames are checked and dispatched; a malformed one
 * ends the channel. Exposed for the fuzz target. */
void mux_input (struct sandbox *sb, const uint8_t *p, size_t n);
/* The channel is unusable: logged once, closed, every call fails. */
void mux_fail (struct sandbox *sb, const char *why);
void mux_close (struct sandbox *sb);
/* Whether output from the guest still waits to be written. */
bool mux_output_pending (struct sandbox *sb);
uint32_t mux_new_stream_ids (struct sandbox *sb, uint32_t n);

/* fd < 0: a stream whose data is dropped (input: EOF at once). */
struct stream *stream_add (struct sandbox *sb, uint32_t id, int fd, bool input);
void stream_set_live (struct stream *s);
void stream_remove (struct stream *s);
bool stream_done (const struct stream *s); /* NULL, or closed */

/* ---------- agent.c: calls to the guest ---------- */

/* err NULL: success, reply holds the reply decoded by the method's decoder
 * (msg.h; valid during the call only). Otherwise reply is NULL and err the
 * guest's error, a malformed reply's (EPROTO), ETIMEDOUT or EPIPE. */
typedef void (*agent_done_cb) (struct sandbox *sb, void *ctx,
                               const union ko_msg_reply *reply,
                               const ko_error *err);

struct agent_call
{
  uint32_t id;
  uint16_t method;
  uint64_t sent_ns; /* for the latency histogram */
  uint64_t deadline;
  int timeout_ms;
  agent_done_cb cb;
  void *ctx;
  struct agent_call *next;
};

/* Sends the request of method: req's member for it (msg.h's union, encoded
 * by ko_msg_encode_request). 0: cb runs exactly once later, never from
 * inside this call. -1 with *err: the request could not be sent, cb never
 * runs. */
int agent_call (struct sandbox *sb, uint16_t method,
                const union ko_msg_request *req, int timeout_ms,
                agent_done_cb cb, void *ctx, ko_error **err);
/* A request whose reply nobody waits for. */
void agent_send (struct sandbox *sb, uint16_t method,
                 const union ko_msg_request *req);
/* For setup, before the sandbox serves anything: runs the loop until the
 * reply. */
int agent_call_sync (struct sandbox *sb, uint16_t method,
                     const union ko_msg_request *req, ko_error **err);
/* What the guest sent on stream 0 (mux.c): decoded here. */
void agent_on_reply (struct sandbox *sb, uint32_t id, uint32_t status,
                     struct ko_tlv body);
void agent_on_event (struct sandbox *sb, uint16_t event, struct ko_tlv body);
/* Fails every outstanding call (the channel or the VM is gone). */
void agent_fail_all (struct sandbox *sb, int status, const char *why);

/* ---------- server.c: monitor.sock ---------- */

struct cli_conn
{
  struct sandbox *sb;
  struct ko_watch w;
  struct ko_timer deadline;
  struct ko_buf in;
  int fds[KO_MON_MAX_FDS];
  int nfds;
  uint32_t req_id;
  uint16_t method;
  struct container *ctr; /* what the request is about */
  bool busy;             /* the request is being served */
  struct cli_conn *next;
};

int server_listen (struct sandbox *sb, ko_error **err);
void server_close (struct sandbox *sb);
/* Answers the request and frees the connection: err NULL: body (may be
 * NULL) is the reply. */
void cli_conn_reply (struct cli_conn *c, const ko_error *err,
                     const struct ko_buf *body);
/* Takes the connection's socket (the exec session keeps it); the
 * connection is freed. */
int cli_conn_take (struct cli_conn *c);

/* ---------- ctr.c: a container in the sandbox ---------- */

struct exec_proc;

struct container
{
  struct sandbox *sb;
  struct monitor_params *p; /* its id, spec, process, state */
  int dirfd;                /* its state dir */
  bool init_exited;
  int exit_status;
  pid_t holder_pid;
  struct ko_watch holder_w; /* its socket (holder.h) */
  int holder_fd;            /* the sandbox's: closed by the monitor's exit */
  bool holder_gone;         /* exited; left unreaped for conmon */
  int tty_fd;               /* host pty slave when a console socket is used */
  struct stream *in, *out, *err;
  struct exec_proc *execs[MON_MAX_EXECS];
  size_t nexecs;
  uint64_t oom_count;
  struct ko_ratelimit oom_log;
  bool starting; /* a start is in flight */
  /* NOTIFY_SOCKET (c->p->state.notify_socket): READY=1 came; the start
   * that waits for it */
  bool ready;
  void *ready_op;
  uint64_t notify_sec; /* conmon's relay: the second of the last datagram */
  uint32_t notify_n;   /* and how many in it */
  bool member;         /* of a pod, in its sandbox's VM (pod.c) */
  bool removing;       /* RemoveContainer is in flight */
  bool adding;         /* a member's add is in flight (its disks...) */
  struct cli_conn *remove_after_add; /* a forced remove, once added */
  struct ko_mon_add *add; /* a member's: what its params point into */
  /* a member's disks (c->p->disks), hot-plugged (diskplug.c) */
  struct plugged_disk
  {
    int fd;        /* the monitor's copy, until QEMU has it */
    int slot;      /* its root port; -1: none */
    unsigned done; /* DISK_* steps QEMU has done */
  } pdisks[KO_MAX_DISKS];
  size_t npdisks;
};

const char *ctr_status (const struct container *c);
void ctr_record (struct container *c, const char *status);
int ctr_setup_stdio (struct container *c, const int fds[3], ko_error **err);
/* CreateContainer for c: cb runs once it is answered (maybe at once). */
void ctr_create (struct container *c, agent_done_cb cb, void *ctx);
/* The same, for setup: synchronous. */
int ctr_create_in_guest (struct container *c, ko_error **err);
typedef void (*ctr_done_cb) (struct container *c, void *ctx,
                             const ko_error *err);
/* startContainer hooks, StartContainer, poststart hooks. */
void ctr_start (struct container *c, ctr_done_cb cb, void *ctx);
void ctr_on_exit (struct container *c, const char *exec_id, uint32_t status);
void ctr_on_oom (struct container *c);
/* A datagram the container sent to its notify socket. */
void ctr_on_notify (struct container *c, const char *data);
void ctr_signal (struct container *c, int sig);
/* SIGKILL to every process of the container. */
void ctr_kill_all (struct container *c);
void ctr_finish (struct container *c);
/* A start waiting for READY=1 ends with success: c's init is gone (a
 * member removed from a running pod), as at its exit. */
void ctr_ready_gone (struct container *c);
/* A start waiting for READY=1 ends with an error: c is going. */
void ctr_ready_abandon (struct container *c);

/* ---------- session.c: exec sessions ---------- */

void exec_request (struct cli_conn *conn, struct container *c,
                   struct ko_mon_exec *req);
bool exec_on_exit (struct container *c, const char *exec_id, uint32_t status);
/* Tells the callers of execs that ended, once their output is out. */
void execs_finish (struct container *c);
void execs_free (struct container *c);

/* ---------- hotplug.c: QMP and memory ---------- */

struct qmp_cmd;
struct update_op;
typedef void (*qmp_done_cb) (struct sandbox *sb, struct qmp_cmd *cmd,
                             const ko_error *err);

/* One QMP command; the queue runs them one at a time. cb runs once: err
 * NULL when QEMU returned and the awaited event (if any) came. */
struct qmp_cmd
{
  char json[512];
  const char *what;    /* for messages */
  char ost_device[32]; /* "": no event to wait for after the reply */
  const char *event;   /* the event naming ost_device; NULL: ACPI_DEVICE_OST */
  bool has_fd;         /* fd goes along with the command (add-fd) */
  int fd;
  bool sent, replied, ok, ost_done;
  int64_t ost_status;
  uint64_t deadline;
  qmp_done_cb cb;
  void *ctx;
  struct qmp_cmd *next;
};
/* Queues c (owned by the caller until its cb ran). */
void qmp_submit (struct sandbox *sb, struct qmp_cmd *c, uint64_t deadline);
struct qmp_link
{
  struct ko_qmp q;
  struct ko_watch w;
  int phase; /* 0 closed, 1 greeting, 2 capabilities, 3 ready */
  struct qmp_cmd *queue, *tail;
  struct ko_timer timer;
};

/* linux.resources as JSON: the VM grows first if the memory limit needs
 * it, then the guest, then the host cgroup. Replies on conn. */
void update_request (struct cli_conn *conn, struct container *c,
                     const char *json);
void hotplug_close (struct sandbox *sb);
/* Grows the VM so that it holds containers limited to limit_bytes in
 * all (never shrinks), queued with the updates; cb gets the outcome. */
typedef void (*vm_grown_cb) (void *ctx, const ko_error *err);
void vm_grow_for (struct container *c, int64_t limit_bytes, vm_grown_cb cb,
                  void *ctx);

/* ---------- diskplug.c: a member's disks ---------- */

enum
{
  DISK_FD = 1,   /* add-fd */
  DISK_TG = 2,   /* the throttle group */
  DISK_FILE = 4, /* the file or host_device node */
  DISK_THR = 8,  /* the throttle node */
  DISK_DEV = 16, /* the virtio-blk-pci device */
};
/* fdsets of hot-plugged disks: after the boot disks' (1..KO_MAX_DISKS) */
#define KO_HP_FDSET(slot) (100 + (slot))

typedef void (*disks_done_cb) (struct container *c, void *ctx,
                               const ko_error *err);
/* Plugs c's disks, one after the other; when one fails, what was plugged
 * is unplugged before cb gets the error, which names the disk. */
void disks_plug (struct container *c, disks_done_cb cb, void *ctx);
/* Unplugs what is plugged: device_del, waiting for the guest to let it
 * go, then the nodes, the throttle group and the fdset. cb gets the first
 * error (what failed stays, its root port taken). */
void disks_unplug (struct container *c, disks_done_cb cb, void *ctx);
/* Closes the fds not handed to QEMU (the VM is gone). */
void disks_close (struct container *c);
/* ThrottleLimits' JSON of limits[KO_THR_N]. */
void disks_limits_json (char *out, size_t len, const uint64_t *limits);
/* The QOM path of the throttle group of c's disk i. */
void disks_tg_path (const struct container *c, size_t i, char *out, size_t len);

/* ---------- holder.c ---------- */

int holder_start (struct container *c, ko_error **err);
/* A holder forked by someone else (a member's, by its create). */
void holder_adopt (struct container *c, pid_t pid, int sock);
void holder_release (struct container *c, int status, bool now);
void holder_add_volumes (struct container *c);

/* ---------- share.c ---------- */

int share_prepare (struct sandbox *sb, ko_error **err);
int share_add (struct container *c, ko_error **err);
void share_remove (struct container *c);
void share_close (struct sandbox *sb);

/* ---------- pod.c: members ---------- */

void pod_add (struct cli_conn *conn, struct ko_tlv body);
void pod_remove (struct cli_conn *conn, struct container *c,
                 struct ko_tlv body);
/* A member's init exited: it is stopped, its holder told. */
void pod_member_exited (struct container *c);
/* Frees a member that left (its guest side is gone). */
void pod_member_free (struct container *c);

/* ---------- metrics.c ---------- */

/* KO_MON_METRICS: the host side at once, the guest's within
 * KO_MON_GUEST_DEADLINE_MS; replies on conn. */
void metrics_request (struct cli_conn *conn);

/* ---------- sandbox.c ---------- */

enum
{
  SINK_CONSOLE,
  SINK_QEMU,
  SINK_VIRTIOFSD,
  SINK_COUNT
};

struct sandbox
{
  struct monitor_params *p;
  struct ko_loop loop;
  struct mux mux;
  /* calls to the agent */
  struct agent_call *calls;
  uint32_t next_id;
  struct ko_timer calls_timer;
  bool hello;
  uint32_t agent_version;
  /* monitor.sock */
  struct ko_watch listen;
  struct cli_conn *conns;
  size_t nconns;
  struct ko_watch sig;
  pid_t qemu_pid, virtiofsd_pid;
  uint64_t qemu_start, virtiofsd_start;
  bool vm_gone;
  int qemu_status; /* its wait status, once vm_gone */
  bool destroy_requested;
  bool created; /* before, failures are reported once, by the create error */
  bool serving; /* setup is over: no synchronous call from now on */
  struct ko_memhp memhp; /* the VM's memory, as booted and as plugged */
  unsigned dimm_seq;     /* QOM ids: never reused, even after a failure */
  struct qmp_link qmp;
  uint32_t ports_used; /* root ports holding a member's disk (diskplug.c) */
  bool updating;       /* one update at a time: they may grow the VM */
  struct update_op *updates; /* waiting for their turn */
  struct ko_network net;     /* the interfaces passed into the VM */
  struct ko_logsink sinks[SINK_COUNT];
  struct ko_watch sink_w[SINK_COUNT];
  struct container *ctrs[MON_MAX_CONTAINERS];
  size_t nctrs;
  struct ko_timer grace; /* the sandbox's init ended, members run */
  bool grace_over;
  /* metrics: what the channel carried, the agent's answer times by
   * method, the monitor's start and the agent's hello (monotonic ns) */
  uint64_t chan[KO_CHAN_N];
  struct ko_mon_latency lat[KO_MON_MAX_METHODS];
  uint64_t start_ns, hello_ns;
};

bool sandbox_alive (const struct sandbox *sb);
/* The container named id (NULL or "": the sandbox's own). */
struct container *sandbox_container (struct sandbox *sb, const char *id);
/* Stop: the loop ends once the current event is handled. */
void sandbox_stop (struct sandbox *sb);
void sandbox_reap (struct sandbox *sb);
/* Runs the loop until *done or the deadline; setup only. */
int sandbox_wait (struct sandbox *sb, const bool *done, uint64_t deadline);

#endif
