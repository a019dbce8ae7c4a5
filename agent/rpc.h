/* Inside the RPC layer: the containers and processes (registry.c), how they
 * are started (launch.c) and the handlers that use both (rpc.c). The rest
 * of the agent sees only agent.h. */
#ifndef AG_RPC_H
#define AG_RPC_H

#include "agent.h"
#include "msg.h"

#include <sched.h>

#define DEFAULT_NAMESPACES                                                     \
  (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID)
#define ALLOWED_NAMESPACES                                                     \
  (DEFAULT_NAMESPACES | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWUSER         \
   | CLONE_NEWTIME)

enum sync_kind
{
  OP_IDLE,
  OP_CREATE,
  OP_START,
  OP_EXEC
};

/* The read end of a child's close-on-exec sync pipe and the request waiting
 * on it. */
struct sync_op
{
  struct ko_watch w; /* data: the op */
  struct container *c;
  struct proc *p;
  enum sync_kind kind;
  uint32_t req;
};

struct container
{
  struct container *next;
  char *id;
  struct proc *procs; /* newest first; the init is last */
  struct proc *init;
  int start_fd; /* write end the blocked init reads; -1 once started */
  struct sync_op *sync;
  uint64_t namespaces;
  /* identity of its namespaces, to find every process of the container */
  dev_t ns_dev;
  ino_t pidns, mntns;
  /* holds the mount namespace: when the init exits, the kernel tears it
   * down with a synchronize_rcu_expedited, between the process's stdio
   * EOF and its exit status (about 3 ms under TCG). Held, that happens
   * when the container is freed, after the status is out. */
  int mntns_fd;
  /* a block rootfs: where the agent mounted its disk (under the share), to
   * detach when the container goes; NULL: none */
  char *rootfs_mount;
  /* it has disks (rootfs, volumes, devices): the guest's page cache holds
   * what it wrote until synced, and the VM may go right after its end */
  bool has_disks;
  bool paused;
  uint64_t oom_kills; /* memory.events oom_kill last reported */
  /* NOTIFY: its sd_notify socket's path in the container, and the socket */
  char *notify;
  struct ko_watch notify_w;
  uint64_t notify_sec; /* the second of the last datagram passed on */
  uint32_t notify_n;   /* and how many in it */
  /* RemoveContainer: its reply once every process is reaped */
  bool removing;
  uint32_t remove_req;
};

/* RemoveContainer's reply, once every process of c is reaped (rpc.c). */
void rpc_removed_check (struct container *c);

/* ---- registry.c: containers and their processes ---- */
struct container *container_find (const char *id);
/* A new container (its group already made), first in the list. */
struct container *container_new (const char *id, uint64_t namespaces);
/* Kills what is left of its processes, removes its group, forgets it. */
void container_free (struct container *c);
/* Records the namespaces of its init, once cloned. */
void container_set_init_ns (struct container *c, pid_t pid);
/* Every live process of the container; *out is malloc'd. */
size_t container_pids (struct container *c, pid_t **out);
void container_kill_all (struct container *c, int sig);
void containers_kill_all (int sig);
/* The list of containers (follow ->next). */
struct container *containers_first (void);
/* metrics.c: the guest-wide GM_* values. */
void guest_metrics_read (struct ko_msg_guest_metrics_reply *m);
/* The container's process by exec id (NULL: the init), or NULL. */
struct proc *proc_find (struct container *c, const char *exec_id);
struct proc *proc_new (struct container *c);
void proc_free (struct proc *p);
void proc_unlink (struct proc *p);
/* Kills what is left of a process that never started and forgets it; the
 * reaper ignores pids it does not know. */
void proc_abandon (struct proc *p);
/* Finds the process a request names, or fails saying which does not
 * exist. */
int proc_lookup (const char *container_id, const char *exec_id,
                 struct container **c, struct proc **p, ko_error **err);

/* ---- launch.c: starting the init and exec'd processes ---- */
/* Clones the init of c (already registered, with p its proc) for the
 * request m; the reply (its pid, or the error) comes from the sync pipe. */
int launch_init (struct container *c, struct proc *p,
                 const struct ko_msg_create_container *m, uint32_t req,
                 ko_error **err);
/* Starts the exec'd process p of c; the reply comes from the sync pipe. */
int launch_exec (struct container *c, struct proc *p,
                 const struct ko_process *kp, uint32_t req, ko_error **err);
void sync_op_free (struct sync_op *op);

/* ---- rpc.c: replies ---- */
void reply_ok (uint32_t req);
void reply_pid (uint32_t req, pid_t pid);
void reply_status (uint32_t req, int status);
void reply_errorx (uint32_t req, int status, const char *msg);

#endif
