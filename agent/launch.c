/* Starting processes: the init of a container and exec'd processes, their
 * stdio (pipes or a pty, and the streams that serve them), and the
 * close-on-exec sync pipe through which each child reports its setup. */
#define _GNU_SOURCE
#include "rpc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "util.h"

#define EXEC_PID_TIMEOUT_MS 10000

/* ---- stdio ---- */

struct stdio_setup
{
  struct ag_stdio io;
  int close_after[4]; /* the child's ends, closed once it is forked */
};

static void
stdio_setup_cleanup (struct stdio_setup *s)
{
  for (int i = 0; i < 4; i++)
    if (s->close_after[i] >= 0)
      close (s->close_after[i]);
}

static int
check_stream_ids (const struct ko_process *kp, ko_error **err)
{
  uint32_t ids[3] = { kp->stdin_stream, kp->stdout_stream, kp->stderr_stream };
  for (int i = 0; i < 3; i++)
    {
      if (ids[i] == 0)
        continue;
      if (stream_id_in_use (ids[i]))
        return ko_error_setx (err, EEXIST, "stream %u is already in use",
                              ids[i]);
      if (i == 0 && (ids[0] == ids[1] || ids[0] == ids[2]))
        return ko_error_setx (err, EINVAL, "stream %u is both input and output",
                              ids[0]);
    }
  return 0;
}

/* A process's output pipe holds OUTPUT_PIPE_SIZE: a writer of large blocks
 * (dd bs=1M) then hands over a whole block at once instead of waking the
 * agent every 64 KiB; under TCG each switch flushes the soft TLB. A 256 MiB
 * dd then ran in 5.1 s instead of 5.8 s, boot included. The pages are only used
 * while the host reads slower than the process writes, and are charged to the
 * process. */
#define OUTPUT_PIPE_SIZE (1 << 20)

static void
grow_pipe (int fd)
{
  if (fcntl (fd, F_SETPIPE_SZ, OUTPUT_PIPE_SIZE) < 0)
    ag_dbg ("output pipe of %d bytes: %s", OUTPUT_PIPE_SIZE, strerror (errno));
}

/* A pty: the child's fds 0, 1 and 2 on its slave, the streams on the
 * master. */
static int
stdio_prepare_tty (const struct ko_process *kp, struct proc *p,
                   struct stdio_setup *s, ko_error **err)
{
  if (kp->stdout_stream == 0)
    return ko_error_setx (err, EINVAL, "a terminal needs a stdout stream");
  int master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return ag_error_set (err, errno, "open /dev/ptmx");
  p->tty_fd = master;
  int unlock = 0;
  if (ioctl (master, TIOCSPTLCK, &unlock) < 0)
    return ag_error_set (err, errno, "unlock the pty");
  int slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return ag_error_set (err, errno, "open the pty slave");
  s->close_after[0] = slave;
  if (kp->rows || kp->cols)
    {
      struct winsize ws = { .ws_row = kp->rows, .ws_col = kp->cols };
      ioctl (master, TIOCSWINSZ, &ws);
    }
  for (int i = 0; i < 3; i++)
    s->io.fd[i] = slave;
  int o = fcntl (master, F_DUPFD_CLOEXEC, 3);
  if (o < 0
      || !(p->out = stream_new (kp->stdout_stream, STREAM_OUT, o, p, true)))
    return ag_error_set (err, errno ? errno : ENOMEM, "stdout stream");
  if (kp->stdin_stream)
    {
      int i = fcntl (master, F_DUPFD_CLOEXEC, 3);
      if (i < 0
          || !(p->in = stream_new (kp->stdin_stream, STREAM_IN, i, p, true)))
        return ag_error_set (err, errno ? errno : ENOMEM, "stdin stream");
    }
  return 0;
}

/* Creates pipes or a pty for kp and the streams that serve them (not yet
 * active). */
static int
stdio_prepare (const struct ko_process *kp, struct proc *p,
               struct stdio_setup *s, ko_error **err)
{
  for (int i = 0; i < 4; i++)
    s->close_after[i] = -1;
  for (int i = 0; i < 3; i++)
    s->io.fd[i] = ag_devnull;
  s->io.tty = kp->terminal;
  if (check_stream_ids (kp, err) < 0)
    return -1;

  if (kp->terminal)
    return stdio_prepare_tty (kp, p, s, err);

  int fds[2];
  if (kp->stdin_stream)
    {
      if (pipe2 (fds, O_CLOEXEC) < 0)
        return ag_error_set (err, errno, "pipe");
      s->close_after[0] = fds[0];
      s->io.fd[0] = fds[0];
      if (!(p->in = stream_new (kp->stdin_stream, STREAM_IN, fds[1], p, false)))
        {
          close (fds[1]);
          return ag_error_set (err, ENOMEM, "stdin stream");
        }
    }
  if (kp->stdout_stream)
    {
      if (pipe2 (fds, O_CLOEXEC) < 0)
        return ag_error_set (err, errno, "pipe");
      s->close_after[1] = fds[1];
      s->io.fd[1] = fds[1];
      if (kp->stderr_stream == kp->stdout_stream)
        s->io.fd[2] = fds[1];
      grow_pipe (fds[0]);
      if (!(p->out
            = stream_new (kp->stdout_stream, STREAM_OUT, fds[0], p, false)))
        {
          close (fds[0]);
          return ag_error_set (err, ENOMEM, "stdout stream");
        }
    }
  if (kp->stderr_stream && kp->stderr_stream != kp->stdout_stream)
    {
      if (pipe2 (fds, O_CLOEXEC) < 0)
        return ag_error_set (err, errno, "pipe");
      s->close_after[2] = fds[1];
      s->io.fd[2] = fds[1];
      grow_pipe (fds[0]);
      if (!(p->err
            = stream_new (kp->stderr_stream, STREAM_OUT, fds[0], p, false)))
        {
          close (fds[0]);
          return ag_error_set (err, ENOMEM, "stderr stream");
        }
    }
  return 0;
}

static void
proc_activate_streams (struct proc *p)
{
  if (p->in)
    stream_activate (p->in);
  if (p->out)
    stream_activate (p->out);
  if (p->err)
    stream_activate (p->err);
}

/* ---- the sync pipe ---- */

/* Reads one message. Returns its type, 0 at EOF, -1 on a broken message. */
static int
sync_read (int fd, ko_error **err, pid_t *pid)
{
  uint8_t h[3];
  ssize_t n;
  do
    n = read (fd, h, sizeof h);
  while (n < 0 && errno == EINTR);
  if (n == 0)
    return 0;
  if (n != (ssize_t)sizeof h)
    return -1;
  size_t len = h[1] | (size_t)h[2] << 8;
  uint8_t buf[SYNC_MSG_MAX];
  if (len > sizeof buf || (len && read (fd, buf, len) != (ssize_t)len))
    return -1;
  uint32_t v = 0;
  if (len >= 4)
    v = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16
        | (uint32_t)buf[3] << 24;
  if (h[0] == SYNC_ERROR)
    ko_error_setx (err, (int)v, "%.*s", (int)(len >= 4 ? len - 4 : 0),
                   (const char *)buf + 4);
  if (h[0] == SYNC_PID)
    *pid = (pid_t)v;
  return h[0];
}

void
sync_op_free (struct sync_op *op)
{
  if (op == NULL)
    return;
  if (op->c && op->c->sync == op)
    op->c->sync = NULL;
  ko_watch_close (&op->w);
  free (op);
}

/* sd_notify: each datagram on the container's socket goes to the host,
 * which passes it on (runc's READY=1, or all of it to conmon's socket) */
static void
on_notify (struct ko_watch *w, uint32_t events)
{
  struct container *c = w->data;
  char buf[KO_NOTIFY_DATA_MAX + 1];
  ssize_t n = recv (w->fd, buf, sizeof buf - 1, MSG_DONTWAIT);
  uint64_t sec = ko_now_ms () / 1000;
  if (sec != c->notify_sec)
    c->notify_sec = sec, c->notify_n = 0;
  /* a flood stays in the guest: the channel carries its neighbours too */
  if (n <= 0 || ++c->notify_n > KO_NOTIFY_PER_SEC)
    return;
  buf[n] = '\0';
  struct ko_msg_notify ev = { c->id, buf };
  struct ko_buf b = { 0 };
  if (ko_msg_notify_encode (&b, &ev) < 0)
    ag_fatal ("out of memory sending Notify");
  channel_send_event (KO_E_NOTIFY, &b);
  ko_buf_free (&b);
}

static int
notify_open (struct container *c, pid_t pid, ko_error **err)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  if (snprintf (a.sun_path, sizeof a.sun_path, "/proc/%d/root%s", (int)pid,
                c->notify)
      >= (int)sizeof a.sun_path)
    return ag_error_set (err, ENAMETOOLONG, "notify socket %s", c->notify);
  int fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ko_watch_init (&c->notify_w, &ag_loop, fd, on_notify, c);
  /* anyone in the container may notify, as with runc */
  if (fd < 0 || bind (fd, (struct sockaddr *)&a, sizeof a) < 0
      || chmod (a.sun_path, 0777) < 0
      || ko_watch_set (&c->notify_w, EPOLLIN) < 0)
    return ag_error_set (err, errno, "notify socket %s", c->notify);
  return 0;
}

static void
on_sync (struct ko_watch *w, uint32_t events)
{
  struct sync_op *op = w->data;
  struct container *c = op->c;
  struct proc *p = op->p;
  _cleanup_error_ ko_error *err = NULL;
  pid_t pid = 0;
  int t = sync_read (w->fd, &err, &pid);
  if (t == SYNC_READY && op->kind == OP_CREATE)
    {
      ag_dbg ("container %s created, pid %d", c->id, p->pid);
      if (c->notify && notify_open (c, p->pid, &err) < 0)
        {
          channel_send_error (op->req, err);
          container_free (c); /* frees op */
          return;
        }
      op->kind = OP_IDLE;
      proc_activate_streams (p);
      reply_pid (op->req, p->pid);
      return;
    }
  if (t == SYNC_ERROR)
    {
      enum sync_kind kind = op->kind;
      op->kind = OP_IDLE;
      if (kind == OP_IDLE)
        {
          ag_log ("container %s: %s", c->id, err->msg);
          return;
        }
      channel_send_error (op->req, err);
      if (kind == OP_CREATE)
        container_free (c); /* frees op */
      else if (kind == OP_EXEC)
        {
          proc_abandon (p);
          sync_op_free (op);
        }
      return;
    }
  if (t > 0)
    return; /* a message out of place: ignore */

  /* EOF (or a broken message): the child exec'd or died */
  switch (op->kind)
    {
    case OP_CREATE:
      reply_errorx (op->req, ECHILD, "container init exited during setup");
      container_free (c);
      return;
    case OP_START:
      ag_dbg ("container %s started", c->id);
      reply_ok (op->req);
      break;
    case OP_EXEC:
      ag_dbg ("exec %s started, pid %d", p->exec_id, p->pid);
      proc_activate_streams (p);
      reply_pid (op->req, p->pid);
      break;
    case OP_IDLE:
      break;
    }
  sync_op_free (op);
}

static struct sync_op *
sync_op_new (struct container *c, struct proc *p, int fd, enum sync_kind kind,
             uint32_t req)
{
  struct sync_op *op = calloc (1, sizeof *op);
  if (op == NULL)
    return NULL;
  op->c = c;
  op->p = p;
  op->kind = kind;
  op->req = req;
  ko_watch_init (&op->w, &ag_loop, fd, on_sync, op);
  ag_watch_set_or_die (&op->w, EPOLLIN);
  return op;
}

/* ---- the init ---- */

static int
write_id_map (pid_t pid, const char *file, const struct ko_id_map *v, size_t n,
              ko_error **err)
{
  char path[64], text[KO_MAX_ID_MAPS * 33 + 1];
  snprintf (path, sizeof path, "/proc/%d/%s", (int)pid, file);
  int len = ag_id_map_format (v, n, text, sizeof text);
  if (len < 0)
    return ko_error_setx (err, EINVAL, "%s: too long", file);
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, text, (size_t)len) != len)
    return ag_error_set (err, errno, "write %s", path);
  return 0;
}

/* What the agent does for the init before letting it set itself up: its id
 * maps (written by us, the privileged parent, so setgroups stays allowed,
 * as with runc), the limits it could no longer raise inside a user
 * namespace, and last its cgroup, so that an earlier failure leaves the
 * group empty for container_free to remove. */
static int
init_prepare (const struct ko_msg_create_container *m, pid_t pid, bool in_group,
              ko_error **err)
{
  const struct ko_container_spec *s = &m->spec;
  if ((s->namespaces & CLONE_NEWUSER)
      && (write_id_map (pid, "uid_map", s->uid_map, s->nuid_map, err) < 0
          || write_id_map (pid, "gid_map", s->gid_map, s->ngid_map, err) < 0))
    return -1;
  if (ag_set_limits (pid, &m->process, err) < 0)
    return -1;
  return in_group ? 0 : cgroup_enter (m->container_id, pid, err);
}

static void
close_pipe (int p[2])
{
  for (int i = 0; i < 2; i++)
    if (p[i] >= 0)
      close (p[i]);
}

/* A pod member shares namespaces with its sandbox's init: IPC and UTS
 * are joined by the child, PID by us around the clone (a PID namespace is
 * the children's). */
struct join
{
  int ipc, uts, pid, self_pid;
};

static void
join_close (struct join *j)
{
  int *v[] = { &j->ipc, &j->uts, &j->pid, &j->self_pid };
  for (size_t i = 0; i < KO_ARRAY_SIZE (v); i++)
    if (*v[i] >= 0)
      {
        close (*v[i]);
        *v[i] = -1;
      }
}

static int
join_open (const struct ko_container_spec *s, struct join *j, ko_error **err)
{
  *j = (struct join){ -1, -1, -1, -1 };
  if (s->join_ns == 0)
    return 0;
  struct container *sb
      = s->join_container ? container_find (s->join_container) : NULL;
  if (sb == NULL || sb->init == NULL || sb->init->exited)
    return ko_error_setx (err, ESRCH, "the pod's sandbox %s is not running",
                          s->join_container ? s->join_container : "");
  const struct
  {
    uint64_t flag;
    const char *name;
    int *fd;
  } v[] = { { CLONE_NEWIPC, "ipc", &j->ipc },
            { CLONE_NEWUTS, "uts", &j->uts },
            { CLONE_NEWPID, "pid", &j->pid } };
  for (size_t i = 0; i < KO_ARRAY_SIZE (v); i++)
    {
      if (!(s->join_ns & v[i].flag))
        continue;
      char path[64];
      snprintf (path, sizeof path, "/proc/%d/ns/%s", (int)sb->init->pid,
                v[i].name);
      *v[i].fd = open (path, O_RDONLY | O_CLOEXEC);
      if (*v[i].fd < 0)
        {
          join_close (j);
          return ag_error_set (err, errno, "open %s", path);
        }
    }
  if (j->pid >= 0
      && ((j->self_pid = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)) < 0
          || setns (j->pid, CLONE_NEWPID) < 0))
    {
      join_close (j);
      return ag_error_set (err, errno, "enter the pod's PID namespace");
    }
  return 0;
}

int
launch_init (struct container *c, struct proc *p,
             const struct ko_msg_create_container *m, uint32_t req,
             ko_error **err)
{
  __attribute__ ((cleanup (stdio_setup_cleanup))) struct stdio_setup io;
  int syncp[2] = { -1, -1 }, startp[2] = { -1, -1 };
  if (stdio_prepare (&m->process, p, &io, err) < 0
      || pipe2 (syncp, O_CLOEXEC) < 0 || pipe2 (startp, O_CLOEXEC) < 0)
    {
      if (!*err)
        ag_error_set (err, errno, "pipe");
      close_pipe (syncp);
      close_pipe (startp);
      return -1;
    }
  io.close_after[3] = syncp[1];
  c->start_fd = startp[1];

  struct join j;
  if (join_open (&m->spec, &j, err) < 0)
    {
      close_pipe (syncp);
      close_pipe (startp);
      c->start_fd = -1;
      return -1;
    }
  /* the init unshares its cgroup namespace itself, once in its group,
   * and its time namespace, whose offsets must be set before it enters */
  bool in_group;
  uint64_t ns = m->spec.namespaces
                & ~(m->spec.join_ns | CLONE_NEWCGROUP | CLONE_NEWTIME);
  pid_t pid = ag_clone_into (ns | SIGCHLD, m->container_id, NULL, &in_group);
  if (pid == 0)
    {
      ag_join = (struct ag_join){ j.ipc, j.uts };
      spawn_container_init (m, &io.io, syncp[1], startp[0]);
    }
  int saved = errno;
  if (j.self_pid >= 0 && setns (j.self_pid, CLONE_NEWPID) < 0)
    ag_fatal ("back to the agent's PID namespace: %s", strerror (errno));
  join_close (&j);
  close (startp[0]);
  if (pid < 0)
    {
      close (syncp[0]);
      return ag_error_set (err, saved, "clone");
    }
  p->pid = pid;
  if (init_prepare (m, pid, in_group, err) < 0
      || write (c->start_fd, "", 1) != 1)
    {
      if (!*err)
        ag_error_set (err, errno, "start the container init");
      close (syncp[0]);
      return -1; /* freeing the container kills the init */
    }
  container_set_init_ns (c, pid);
  c->sync = sync_op_new (c, p, syncp[0], OP_CREATE, req);
  if (c->sync == NULL)
    {
      close (syncp[0]);
      return ag_error_set (err, ENOMEM, "container");
    }
  return 0; /* the reply comes from on_sync */
}

int
launch_exec (struct container *c, struct proc *p, const struct ko_process *kp,
             uint32_t req, ko_error **err)
{
  __attribute__ ((cleanup (stdio_setup_cleanup))) struct stdio_setup io;
  int syncp[2];
  if (stdio_prepare (kp, p, &io, err) < 0)
    return -1;
  if (pipe2 (syncp, O_CLOEXEC) < 0)
    return ag_error_set (err, errno, "pipe");
  bool in_group;
  pid_t helper = ag_clone_into (SIGCHLD, c->id, kp->cgroup, &in_group);
  if (helper == 0)
    spawn_exec_helper (c->id, c->init->pid, in_group, kp, &io.io, syncp[1]);
  int saved = errno;
  close (syncp[1]);
  if (helper < 0)
    {
      close (syncp[0]);
      if (kp->cgroup)
        return ag_error_set (err, saved, "exec --cgroup %s", kp->cgroup);
      return ag_error_set (err, saved, "clone");
    }
  /* the helper answers at once with the pid or an error: wait for it
   * here, so the process is known before its SIGCHLD can arrive */
  struct pollfd pfd = { .fd = syncp[0], .events = POLLIN };
  pid_t pid = 0;
  int type = -1;
  if (poll (&pfd, 1, EXEC_PID_TIMEOUT_MS) == 1)
    type = sync_read (syncp[0], err, &pid);
  if (type != SYNC_PID || pid <= 0)
    {
      close (syncp[0]);
      kill (helper, SIGKILL);
      if (!*err)
        ko_error_setx (err, ECHILD, "exec %s: the helper failed", p->exec_id);
      return -1;
    }
  p->pid = pid;
  if (!sync_op_new (c, p, syncp[0], OP_EXEC, req))
    {
      close (syncp[0]);
      return ag_error_set (err, ENOMEM, "exec");
    }
  return 0; /* the reply comes from on_sync */
}
