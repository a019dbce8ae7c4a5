/* The RPC handlers and the table that dispatches to them. Each request is
 * decoded once by the shared codec (msg.h: ko_msg_decode_request, which
 * the fuzz target drives too); a handler receives the typed message. */
#define _GNU_SOURCE
#include "rpc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* A handler's result besides 0 (reply now with the body built in *reply)
 * and -1 (reply with *err): the reply comes later (sync pipe, exit). */
#define RPC_LATER 1

static bool share_mounted;

/* ---- replies ---- */

static void
reply_msg (uint32_t req, int r, const struct ko_buf *b)
{
  if (r < 0)
    ag_fatal ("out of memory encoding a reply");
  channel_send_reply (req, b);
}

void
reply_ok (uint32_t req)
{
  channel_send_reply (req, NULL);
}

void
reply_pid (uint32_t req, pid_t pid)
{
  struct ko_msg_pid_reply m = { (uint32_t)pid };
  struct ko_buf b = { 0 };
  reply_msg (req, ko_msg_pid_reply_encode (&b, &m), &b);
  ko_buf_free (&b);
}

void
reply_status (uint32_t req, int status)
{
  struct ko_msg_wait_process_reply m = { (uint32_t)status };
  struct ko_buf b = { 0 };
  reply_msg (req, ko_msg_wait_process_reply_encode (&b, &m), &b);
  ko_buf_free (&b);
}

void
reply_errorx (uint32_t req, int status, const char *msg)
{
  ko_error e = { .status = status, .msg = (char *)msg };
  channel_send_error (req, &e);
}

/* ---- CreateSandbox ---- */

/* Read-ahead on the share, in KiB. The default 128 KiB took 15 round
 * trips to virtiofsd (about 60 ms under TCG) to exec a 2 MB static
 * busybox, page fault by page fault; 2 MiB takes 6. */
#define SHARE_READAHEAD_KB "2048"

static void
share_readahead (void)
{
  struct stat st;
  if (stat (KO_GUEST_SHARE_DIR, &st) < 0)
    return;
  char p[96];
  snprintf (p, sizeof p, "/sys/class/bdi/%u:%u/read_ahead_kb",
            major (st.st_dev), minor (st.st_dev));
  if (ag_write_str (p, SHARE_READAHEAD_KB) < 0)
    ag_log ("%s: %s", p, strerror (errno)); /* only slower */
}

static int
create_sandbox (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
                ko_error **err)
{
  const struct ko_msg_create_sandbox *m = &u->create_sandbox;
  if (m->hostname && sethostname (m->hostname, strlen (m->hostname)) < 0)
    return ag_error_set (err, errno, "sethostname %s", m->hostname);
  /* the VM is the pod's network namespace: its loopback is up, as runc
   * brings up a new namespace's, so that its containers reach each
   * other on localhost */
  if (net_lo_up (err) < 0)
    return -1;
  if (m->share_tag && !share_mounted)
    {
      if (ko_mkdir_p (KO_GUEST_SHARE_DIR, 0755) < 0)
        return ag_error_set (err, errno, "mkdir %s", KO_GUEST_SHARE_DIR);
      if (mount (m->share_tag, KO_GUEST_SHARE_DIR, "virtiofs", MS_NODEV, NULL)
          < 0)
        return ag_error_set (err, errno, "mount virtio-fs %s on %s",
                             m->share_tag, KO_GUEST_SHARE_DIR);
      share_mounted = true;
      share_readahead ();
    }
  return 0;
}

/* ---- CreateContainer, StartContainer, ExecProcess ---- */

/* What the agent requires of a container beyond a well-formed message. */
static int
container_spec_check (const struct ko_msg_create_container *m,
                      struct ko_container_spec *s, ko_error **err)
{
  if (!ag_relpath_ok (m->rootfs))
    return ko_error_setx (
        err, EINVAL, "rootfs %s: must be a path inside the share", m->rootfs);
  if (s->rootfs_disk
      && (s->rootfs_disk_type == NULL || *s->rootfs_disk_type == '\0'))
    return ko_error_setx (err, EINVAL, "rootfs disk %s: no filesystem type",
                          s->rootfs_disk);
  if (!s->has_namespaces)
    s->namespaces = DEFAULT_NAMESPACES;
  /* the init mounts and pivots: never in the agent's own mount namespace */
  s->namespaces |= CLONE_NEWNS;
  if (s->namespaces & ~(uint64_t)ALLOWED_NAMESPACES)
    return ko_error_setx (err, EINVAL, "unsupported namespaces 0x%llx",
                          (unsigned long long)s->namespaces
                              & ~(unsigned long long)ALLOWED_NAMESPACES);
  if (!(s->namespaces & CLONE_NEWUSER))
    {
      /* The VM is the container's network namespace, as in Kata: it holds
       * nothing else, and the guest's has no device but lo (down), like a
       * new one. A new one costs about 15 ms of the start under TCG. Not
       * in a user namespace: only in a network namespace that namespace
       * owns can the container mount its own sysfs. */
      s->namespaces &= ~(uint64_t)CLONE_NEWNET;
      if (s->nuid_map || s->ngid_map)
        return ko_error_setx (err, EINVAL, "id maps without a user namespace");
      return 0;
    }
  if (s->nuid_map == 0 || s->ngid_map == 0)
    return ko_error_setx (err, EINVAL,
                          "a user namespace needs a uid and a gid map");
  if (ko_id_maps_check (s->uid_map, s->nuid_map, "uid map", err) < 0
      || ko_id_maps_check (s->gid_map, s->ngid_map, "gid map", err) < 0)
    return -1;
  return 0;
}

/* The id is free (or names a container that is gone), and the rootfs is a
 * directory of the mounted share. */
static int
container_place_check (const struct ko_msg_create_container *m, ko_error **err)
{
  struct container *old = container_find (m->container_id);
  if (old)
    {
      if (old->init && !old->init->reported)
        return ko_error_setx (err, EEXIST, "container %s already exists",
                              m->container_id);
      container_free (old);
    }
  if (!share_mounted)
    return ko_error_setx (err, ENOENT,
                          "rootfs %s: the share is not mounted "
                          "(CreateSandbox first)",
                          m->rootfs);
  _cleanup_free_ char *rootfs = NULL;
  struct stat st;
  if (asprintf (&rootfs, "%s/%s", KO_GUEST_SHARE_DIR, m->rootfs) < 0)
    return ag_error_set (err, ENOMEM, "rootfs");
  if (stat (rootfs, &st) < 0)
    return ag_error_set (err, errno, "rootfs %s", m->rootfs);
  if (!S_ISDIR (st.st_mode))
    return ag_error_set (err, ENOTDIR, "rootfs %s", m->rootfs);
  return 0;
}

static int
create_container (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
                  ko_error **err)
{
  struct ko_msg_create_container *m = &u->create_container;
  const char *id = m->container_id;
  if (container_spec_check (m, &m->spec, err) < 0
      || container_place_check (m, err) < 0 || cgroup_create (id, err) < 0)
    return -1;
  /* limits first: the group is still empty, nothing runs unconstrained */
  if ((m->spec.has_resources && cgroup_apply (id, &m->spec.resources, err) < 0)
      || cgroup_devices (id, &m->spec, err) < 0)
    {
      cgroup_remove (id);
      return -1;
    }
  struct container *c = container_new (id, m->spec.namespaces);
  if (c == NULL)
    {
      cgroup_remove (id);
      return ag_error_set (err, ENOMEM, "container");
    }
  struct proc *p = proc_new (c);
  if (p == NULL)
    {
      container_free (c);
      return ag_error_set (err, ENOMEM, "container");
    }
  c->init = p;
  /* the init's setup reads m->spec's too */
  if (m->spec.notify && (c->notify = strdup (m->spec.notify)) == NULL)
    {
      container_free (c);
      return ag_error_set (err, ENOMEM, "container");
    }
  c->has_disks = m->spec.rootfs_disk != NULL;
  for (size_t i = 0; i < m->spec.nmounts; i++)
    c->has_disks |= m->spec.mounts[i].disk != NULL;
  for (size_t i = 0; i < m->spec.ndevices; i++)
    c->has_disks |= m->spec.devices[i].disk != NULL;
  if (m->spec.rootfs_disk)
    {
      if (asprintf (&c->rootfs_mount, "%s/%s", KO_GUEST_DISK_ROOTFS_DIR,
                    m->rootfs)
          < 0)
        {
          c->rootfs_mount = NULL;
          container_free (c);
          return ag_error_set (err, ENOMEM, "rootfs");
        }
      if (ko_mkdir_p (c->rootfs_mount, 0700) < 0 && errno != EEXIST)
        {
          ag_error_set (err, errno, "rootfs: mkdir %s", c->rootfs_mount);
          free (c->rootfs_mount);
          c->rootfs_mount = NULL;
          container_free (c);
          return -1;
        }
      if (ag_disk_mount (m->spec.rootfs_disk, c->rootfs_mount,
                         m->spec.rootfs_disk_type, m->spec.rootfs_disk_flags,
                         m->spec.rootfs_disk_data, err)
          < 0)
        {
          free (c->rootfs_mount);
          c->rootfs_mount = NULL;
          container_free (c);
          return ko_error_wrap (err, "rootfs");
        }
    }
  if (launch_init (c, p, m, req, err) < 0)
    {
      container_free (c); /* kills the init */
      return -1;
    }
  return RPC_LATER;
}

static int
start_container (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
                 ko_error **err)
{
  struct container *c;
  struct proc *p;
  if (proc_lookup (u->container_ref.container_id, NULL, &c, &p, err) < 0)
    return -1;
  if (c->start_fd < 0)
    return ko_error_setx (err, EINVAL,
                          p->exited ? "container %s has exited"
                                    : "container %s is already started",
                          c->id);
  if (c->sync && c->sync->kind != OP_IDLE)
    return ko_error_setx (err, EBUSY, "container %s is busy", c->id);
  char b = 1;
  ssize_t n = write (c->start_fd, &b, 1);
  close (c->start_fd);
  c->start_fd = -1;
  if (n != 1)
    return ag_error_set (err, errno, "start container %s", c->id);
  if (c->sync == NULL)
    return 0;
  c->sync->kind = OP_START;
  c->sync->req = req;
  return RPC_LATER; /* the reply comes from on_sync */
}

static int
exec_process (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
              ko_error **err)
{
  struct ko_msg_exec_process *m = &u->exec_process;
  struct container *c = container_find (m->container_id);
  if (c == NULL)
    return ko_error_setx (err, ENOENT, "container %s does not exist",
                          m->container_id);
  if (c->init == NULL || c->init->exited)
    return ko_error_setx (err, ESRCH, "container %s is not running", c->id);
  if (c->paused)
    return ko_error_setx (err, EBUSY, "container %s is paused", c->id);
  struct proc *old = proc_find (c, m->exec_id);
  if (old)
    {
      if (!old->reported)
        return ko_error_setx (err, EEXIST, "exec %s already exists",
                              m->exec_id);
      proc_unlink (old);
      proc_free (old);
    }
  struct proc *p = proc_new (c);
  if (p == NULL)
    return ag_error_set (err, ENOMEM, "exec");
  p->exec_id = take_ptr (m->exec_id);
  if (launch_exec (c, p, &m->process, req, err) < 0)
    {
      proc_abandon (p);
      return -1;
    }
  return RPC_LATER;
}

/* ---- the other process requests ---- */

static int
signal_process (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
                ko_error **err)
{
  const struct ko_msg_signal_process *m = &u->signal_process;
  struct container *c;
  struct proc *p;
  if (m->signal == 0 || m->signal >= NSIG)
    return ko_error_setx (err, EINVAL, "bad signal %u", m->signal);
  if (proc_lookup (m->container_id, m->exec_id, &c, &p, err) < 0)
    return -1;
  if (m->all)
    {
      container_kill_all (c, (int)m->signal);
      return 0;
    }
  if (p->exited)
    return ko_error_setx (err, ESRCH, "process %d has already exited", p->pid);
  if (kill (p->pid, (int)m->signal) < 0)
    return ag_error_set (err, errno, "kill %d", p->pid);
  return 0;
}

static int
wait_process (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
              ko_error **err)
{
  struct container *c;
  struct proc *p;
  if (proc_lookup (u->process_ref.container_id, u->process_ref.exec_id, &c, &p,
                   err)
      < 0)
    return -1;
  if (p->reported)
    {
      reply_status (req, p->status);
      return RPC_LATER; /* just sent */
    }
  if (p->nwaiters >= 64)
    return ko_error_setx (err, EBUSY, "too many waiters");
  uint32_t *w = realloc (p->waiters, (p->nwaiters + 1) * sizeof *w);
  if (w == NULL)
    return ag_error_set (err, ENOMEM, "wait");
  w[p->nwaiters++] = req;
  p->waiters = w;
  return RPC_LATER; /* the reply comes with the exit */
}

static int
close_stdin (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
             ko_error **err)
{
  struct container *c;
  struct proc *p;
  if (proc_lookup (u->process_ref.container_id, u->process_ref.exec_id, &c, &p,
                   err)
      < 0)
    return -1;
  stream_close_input (p->in);
  return 0;
}

static int
tty_win_resize (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
                ko_error **err)
{
  const struct ko_msg_tty_win_resize *m = &u->tty_win_resize;
  struct container *c;
  struct proc *p;
  if (proc_lookup (m->container_id, m->exec_id, &c, &p, err) < 0)
    return -1;
  if (p->tty_fd < 0)
    return ko_error_setx (err, ENOTTY, "the process has no terminal");
  struct winsize ws = { .ws_row = m->rows, .ws_col = m->cols };
  if (ioctl (p->tty_fd, TIOCSWINSZ, &ws) < 0)
    return ag_error_set (err, errno, "resize the terminal");
  return 0;
}

/* ---- the container's cgroup ---- */

static struct container *
container_lookup (const char *id, ko_error **err)
{
  struct container *c = container_find (id);
  if (c == NULL)
    ko_error_setx (err, ENOENT, "container %s does not exist", id);
  return c;
}

/* What ps shows of a process, raw (the host parses it), after its PID. */
static int
ps_info (struct ko_buf *b, pid_t pid)
{
  char path[40], buf[512];
  struct stat st;
  int l = snprintf (path, sizeof path, "/proc/%d", (int)pid), r = 0;
  if (stat (path, &st) == 0)
    r |= ko_tlv_put_u32 (b, KO_TAG_PS_UID, st.st_uid);
  strcpy (path + l, "/stat");
  ssize_t n = ag_read_str (path, buf, sizeof buf);
  if (n > 0)
    r |= ko_tlv_put_bytes (b, KO_TAG_PS_STAT, buf, (size_t)n);
  /* the arguments, NUL-separated: cut, with spaces between */
  strcpy (path + l, "/cmdline");
  n = ag_read_str (path, buf, 256);
  while (n > 0 && buf[n - 1] == '\0')
    n--;
  for (ssize_t j = 0; j < n; j++)
    if (buf[j] == '\0')
      buf[j] = ' ';
  if (n > 0)
    r |= ko_tlv_put_bytes (b, KO_TAG_PS_CMD, buf, (size_t)n);
  return r;
}

static int
list_processes (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
                ko_error **err)
{
  struct container *c = container_lookup (u->container_ref.container_id, err);
  if (c == NULL)
    return -1;
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = container_pids (c, &pids);
  if (n > KO_MAX_PIDS)
    return ko_error_setx (err, E2BIG, "container %s: more than %d processes",
                          c->id, KO_MAX_PIDS);
  /* ko_msg_list_processes_reply's encoding, written here: what ps shows
   * of the first processes, as long as the reply stays far below a frame
   * (65536 pids alone take 640 KiB) */
  struct timespec now;
  clock_gettime (CLOCK_BOOTTIME, &now);
  int r = 0;
  for (size_t i = 0; i < n; i++)
    {
      r |= ko_tlv_put_u32 (reply, KO_TAG_PID, (uint32_t)pids[i]);
      if (i < KO_MAX_PS_INFO && reply->len < 256 * 1024)
        r |= ps_info (reply, pids[i]);
    }
  r |= ko_tlv_put_u64 (reply, KO_TAG_PS_UPTIME,
                       (uint64_t)now.tv_sec * 1000
                           + (uint64_t)now.tv_nsec / 1000000);
  if (r)
    return ag_error_set (err, ENOMEM, "processes");
  return 0;
}

static int
pause_resume (uint32_t req, union ko_msg_request *u, bool pause, ko_error **err)
{
  struct container *c;
  struct proc *p;
  if (proc_lookup (u->container_ref.container_id, NULL, &c, &p, err) < 0)
    return -1;
  if (p->exited)
    return ko_error_setx (err, ESRCH, "container %s is not running", c->id);
  if (cgroup_freeze (c->id, pause, err) < 0)
    return -1;
  c->paused = pause;
  return 0;
}

static int
pause_container (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
                 ko_error **err)
{
  return pause_resume (req, u, true, err);
}

static int
resume_container (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
                  ko_error **err)
{
  return pause_resume (req, u, false, err);
}

static int
update_container (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
                  ko_error **err)
{
  struct ko_msg_update_container *m = &u->update_container;
  if (container_lookup (m->container_id, err) == NULL)
    return -1;
  return cgroup_apply (m->container_id, &m->resources, err);
}

static int
stats_container (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
                 ko_error **err)
{
  struct ko_msg_stats_container_reply m = { 0 };
  const char *id = u->container_ref.container_id;
  if (container_lookup (id, err) == NULL || cgroup_stats (id, &m, err) < 0)
    return -1;
  if (ko_msg_stats_container_reply_encode (reply, &m) < 0)
    return ag_error_set (err, ENOMEM, "stats");
  return 0;
}

/* The guest and every container's cgroup; a container whose cgroup
 * cannot be read is listed without statistics. */
static int
guest_metrics (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
               ko_error **err)
{
  struct ko_msg_guest_metrics_reply m = { 0 };
  int r = 0;
  guest_metrics_read (&m);
  for (struct container *c = containers_first (); c && r == 0; c = c->next)
    {
      struct ko_msg_stats_container_reply st = { 0 };
      cgroup_stats (c->id, &st, NULL);
      r = ko_msg_guest_metrics_add (&m, c->id, &st);
    }
  if (r == 0)
    r = ko_msg_guest_metrics_reply_encode (reply, &m);
  ko_msg_guest_metrics_reply_clear (&m);
  return r < 0 ? ag_error_set (err, ENOMEM, "metrics") : 0;
}

/* ---- the sandbox ---- */

static int
online_cpu_mem (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
                ko_error **err)
{
  return memory_online (u->online_cpu_mem.memory_mb, err);
}

static int
update_interface (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
                  ko_error **err)
{
  return net_update_interface (&u->update_interface.iface, err);
}

static int
update_routes (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
               ko_error **err)
{
  const struct ko_msg_update_routes *m = &u->update_routes;
  return net_update_routes (m->routes, m->nroutes, err);
}

static int __attribute__ ((noreturn))
destroy_sandbox (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
                 ko_error **err)
{
  containers_kill_all (SIGKILL);
  sync ();
  reply_ok (req);
  channel_flush (2000);
  ag_dbg ("destroying the sandbox");
  ag_poweroff ();
}

/* Every process of the container reaped (or never started). */
static bool
container_done (const struct container *c)
{
  for (const struct proc *p = c->procs; p; p = p->next)
    if (p->pid > 0 && !p->exited)
      return false;
  return true;
}

/* A pod member leaves: its processes killed and reaped, then its group,
 * mounts (its namespace) and streams go. */
static int
remove_container (uint32_t req, union ko_msg_request *u, struct ko_buf *reply,
                  ko_error **err)
{
  struct container *c = container_lookup (u->container_ref.container_id, err);
  if (c == NULL)
    return -1;
  if (c->removing)
    return ko_error_setx (err, EBUSY, "container %s is being removed", c->id);
  container_kill_all (c, SIGKILL);
  if (container_done (c))
    {
      container_free (c);
      return 0;
    }
  c->removing = true;
  c->remove_req = req;
  return RPC_LATER; /* rpc_removed_check, once they are reaped */
}

void
rpc_removed_check (struct container *c)
{
  if (!c->removing || !container_done (c))
    return;
  uint32_t req = c->remove_req;
  container_free (c);
  reply_ok (req);
}

/* ---- dispatch ---- */

typedef int (*rpc_handler) (uint32_t req, union ko_msg_request *m,
                            struct ko_buf *reply, ko_error **err);

/* The handler of each method, by method. Its message is decoded and freed
 * by ko_msg_decode_request and ko_msg_request_clear for the same method
 * (the code the fuzz target drives). */
static const rpc_handler rpcs[] = {
  [KO_M_CREATE_SANDBOX] = create_sandbox,
  [KO_M_CREATE_CONTAINER] = create_container,
  [KO_M_START_CONTAINER] = start_container,
  [KO_M_EXEC_PROCESS] = exec_process,
  [KO_M_SIGNAL_PROCESS] = signal_process,
  [KO_M_WAIT_PROCESS] = wait_process,
  [KO_M_CLOSE_STDIN] = close_stdin,
  [KO_M_TTY_WIN_RESIZE] = tty_win_resize,
  [KO_M_LIST_PROCESSES] = list_processes,
  [KO_M_STATS_CONTAINER] = stats_container,
  [KO_M_PAUSE_CONTAINER] = pause_container,
  [KO_M_RESUME_CONTAINER] = resume_container,
  [KO_M_UPDATE_CONTAINER] = update_container,
  [KO_M_UPDATE_INTERFACE] = update_interface,
  [KO_M_UPDATE_ROUTES] = update_routes,
  [KO_M_DESTROY_SANDBOX] = destroy_sandbox,
  [KO_M_ONLINE_CPU_MEM] = online_cpu_mem,
  [KO_M_REMOVE_CONTAINER] = remove_container,
  [KO_M_GUEST_METRICS] = guest_metrics,
};

#ifdef KO_AGENT_TESTING
static void
test_oom_flood (const char *cid)
{
  struct ko_msg_oom ev = { (char *)(cid ? cid : "") };
  struct ko_buf b = { 0 };
  ko_msg_oom_encode (&b, &ev);
  for (unsigned i = 0; i < ag_test_oom_flood; i++)
    channel_send_event (KO_E_OOM, &b);
  ko_buf_free (&b);
}
#endif

void
rpc_dispatch (uint32_t id, uint16_t method, struct ko_tlv body)
{
  _cleanup_error_ ko_error *err = NULL;
  struct ko_buf reply = { 0 };
  union ko_msg_request m;
  rpc_handler handler = method < KO_ARRAY_SIZE (rpcs) ? rpcs[method] : NULL;
  int r;
#ifdef KO_AGENT_TESTING
  if (ag_test_ignore && method == ag_test_ignore)
    return;
#endif
  if (handler == NULL)
    r = ko_error_setx (&err, ENOSYS, "%s: not supported by the agent",
                       ko_method_name (method));
  else if ((r = ko_msg_decode_request (method, body, &m, &err)) == 0)
    {
#ifdef KO_AGENT_TESTING
      if (ag_test_oom_flood && method == KO_M_START_CONTAINER)
        test_oom_flood (m.container_ref.container_id);
#endif
      r = handler (id, &m, &reply, &err);
      ko_msg_request_clear (method, &m);
    }
  if (r < 0)
    {
      if (err == NULL)
        ko_error_setx (&err, EIO, "%s failed", ko_method_name (method));
      channel_send_error (id, err);
    }
  else if (r == 0)
    channel_send_reply (id, &reply);
  ko_buf_free (&reply);
}
