/* Exec sessions: a process started in a running container, its stdio
 * streams, and the caller's connection, which stays open for KILL and
 * RESIZE and gets the exit status at the end. */
#include "config.h"

#include "console.h"
#include "log.h"
#include "sandbox.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct exec_proc
{
  struct container *c;
  char *exec_id;
  struct cli_conn *pending; /* until ExecProcess is answered */
  struct ko_watch conn;     /* then the caller's connection */
  struct ko_buf conn_in;
  struct stream *in, *out, *err;
  int tty_fd;
  bool started;
  bool exited;
  bool detached;   /* the caller's pid stands for the process */
  uint32_t status; /* raw wait status */
};

static void
exec_free (struct exec_proc *e)
{
  ko_watch_close (&e->conn);
  struct stream *ss[] = { e->in, e->out, e->err };
  for (int i = 0; i < 3; i++)
    if (ss[i])
      stream_remove (ss[i]);
  if (e->tty_fd >= 0)
    close (e->tty_fd);
  ko_buf_free (&e->conn_in);
  free (e->exec_id);
  free (e);
}

static void
exec_unlink (struct exec_proc *e)
{
  struct container *c = e->c;
  for (size_t i = 0; i < c->nexecs; i++)
    if (c->execs[i] == e)
      {
        c->execs[i] = c->execs[--c->nexecs];
        return;
      }
}

static void
exec_signal (struct exec_proc *e, uint32_t sig)
{
  union ko_msg_request m = { .signal_process = {
                                 .container_id = (char *)e->c->p->id,
                                 .exec_id = e->exec_id,
                                 .signal = sig,
                             } };
  agent_send (e->c->sb, KO_M_SIGNAL_PROCESS, &m);
}

/* A KILL or RESIZE from the caller, for the guest. */
static void
exec_forward (struct exec_proc *e, uint16_t method, struct ko_tlv body)
{
  struct sandbox *sb = e->c->sb;
  char *cid = (char *)e->c->p->id;
  struct ko_mon_kill k;
  struct ko_mon_resize rs;
  if (method == KO_MON_KILL && ko_mon_kill_decode (body, &k, NULL) == 0)
    {
      exec_signal (e, k.signal);
      ko_mon_kill_clear (&k);
    }
  else if (method == KO_MON_RESIZE
           && ko_mon_resize_decode (body, &rs, NULL) == 0)
    {
      union ko_msg_request m = { .tty_win_resize = {
                                     .container_id = cid,
                                     .exec_id = e->exec_id,
                                     .rows = rs.rows,
                                     .cols = rs.cols,
                                 } };
      agent_send (sb, KO_M_TTY_WIN_RESIZE, &m);
    }
}

/* KILL and RESIZE from the caller, or its end. */
static void
exec_on_conn (struct ko_watch *w, uint32_t events)
{
  struct exec_proc *e = w->data;
  (void)events;
  if (ko_buf_reserve (&e->conn_in, 4096) < 0)
    return;
  ssize_t n = read (w->fd, e->conn_in.data + e->conn_in.len, 4096);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      /* the caller went away. A foreground exec's process goes on, as
       * runc's does when runc exec is killed; a detached relay's pid is
       * the process's for the engine (exec -d --pid-file), so a SIGKILL
       * to that pid (containerd's ExecSync timeout, conmon's) must end
       * the process, as it would end runc's */
      ko_watch_close (w);
      if (e->detached && e->started && !e->exited)
        exec_signal (e, SIGKILL);
      return;
    }
  e->conn_in.len += n;
  size_t off = 0;
  while (e->conn_in.len - off >= KO_FRAME_HDR_SIZE)
    {
      struct ko_frame_hdr h;
      if (ko_frame_hdr_decode (e->conn_in.data + off, &h, NULL) < 0
          || h.type != KO_FRAME_REQUEST)
        {
          e->conn_in.len = 0;
          return;
        }
      if (e->conn_in.len - off < KO_FRAME_HDR_SIZE + h.len)
        break;
      uint32_t id;
      uint16_t method;
      struct ko_tlv body;
      if (ko_parse_request (e->conn_in.data + off + KO_FRAME_HDR_SIZE, h.len,
                            &id, &method, &body)
              == 0
          && !e->exited)
        exec_forward (e, method, body);
      off += KO_FRAME_HDR_SIZE + h.len;
    }
  memmove (e->conn_in.data, e->conn_in.data + off, e->conn_in.len - off);
  e->conn_in.len -= off;
}

static void
on_exec_reply (struct sandbox *sb, void *ctx, const union ko_msg_reply *reply,
               const ko_error *err)
{
  struct exec_proc *e = ctx;
  struct cli_conn *conn = e->pending;
  e->pending = NULL;
  (void)sb;
  if (err)
    {
      exec_unlink (e);
      exec_free (e);
      return cli_conn_reply (conn, err, NULL);
    }
  struct ko_mon_pid pid = { reply->pid.pid };
  struct ko_buf b = { 0 };
  ko_mon_pid_encode (&b, &pid);
  /* the reply first, on the socket the session keeps */
  uint32_t req_id = conn->req_id;
  int fd = cli_conn_take (conn);
  struct ko_buf frame = { 0 };
  ko_reply_append (&frame, req_id, 0, &b);
  if (send (fd, frame.data, frame.len, MSG_NOSIGNAL) < 0)
    { /* the caller is gone: the process goes on */
    }
  ko_buf_free (&frame);
  ko_buf_free (&b);
  e->started = true;
  ko_watch_init (&e->conn, &e->c->sb->loop, fd, exec_on_conn, e);
  ko_watch_set (&e->conn, EPOLLIN);
  struct stream *ss[] = { e->in, e->out, e->err };
  for (int i = 0; i < 3; i++)
    if (ss[i])
      stream_set_live (ss[i]);
}

static int
exec_check (struct container *c, const struct ko_mon_exec *req, ko_error **err)
{
  if (c->init_exited
      || (strcmp (ctr_status (c), "running") != 0
          && strcmp (ctr_status (c), "created") != 0))
    return ko_error_setx (err, EINVAL, "cannot exec in a %s container",
                          c->init_exited ? "stopped" : ctr_status (c));
  for (size_t i = 0; i < c->nexecs; i++)
    if (strcmp (c->execs[i]->exec_id, req->exec_id) == 0)
      return ko_error_setx (err, EEXIST, "exec id %s is in use", req->exec_id);
  if (c->nexecs >= MON_MAX_EXECS)
    return ko_error_setx (err, EAGAIN, "too many exec sessions (%d)",
                          MON_MAX_EXECS);
  return 0;
}

/* The streams: the caller's fds, or a pty given to its console socket. */
static int
exec_streams (struct exec_proc *e, struct ko_mon_exec *req, int *fds, int nfds,
              ko_error **err)
{
  struct sandbox *sb = e->c->sb;
  struct ko_process *proc = &req->process;
  uint32_t base = mux_new_stream_ids (sb, 3);
  int in_fd = nfds > 0 ? fds[0] : -1, out_fd = nfds > 1 ? fds[1] : -1,
      err_fd = nfds > 2 ? fds[2] : -1;
  if (proc->terminal && req->console_socket)
    {
      for (int i = 0; i < nfds; i++)
        close (fds[i]);
      if (console_make_pty (req->console_socket, proc->rows, proc->cols, false,
                            &e->tty_fd, err)
          < 0)
        return -1;
      in_fd = fcntl (e->tty_fd, F_DUPFD_CLOEXEC, 3);
      out_fd = fcntl (e->tty_fd, F_DUPFD_CLOEXEC, 3);
      err_fd = -1;
    }
  e->in = stream_add (sb, base, in_fd, true);
  e->out = stream_add (sb, base + 1, out_fd, false);
  if (!proc->terminal)
    e->err = stream_add (sb, base + 2, err_fd, false);
  else if (err_fd >= 0)
    close (err_fd);
  if (e->in == NULL || e->out == NULL || (!proc->terminal && e->err == NULL))
    return ko_error_setx (err, EAGAIN, "exec: too many streams");
  proc->stdin_stream = base;
  proc->stdout_stream = base + 1;
  proc->stderr_stream = proc->terminal ? 0 : base + 2;
  return 0;
}

void
exec_request (struct cli_conn *conn, struct container *c,
              struct ko_mon_exec *req)
{
  _cleanup_error_ ko_error *err = NULL;
  struct exec_proc *e = NULL;
  if (exec_check (c, req, &err) < 0)
    goto fail;
  e = calloc (1, sizeof *e);
  if (e == NULL || (e->exec_id = strdup (req->exec_id)) == NULL)
    {
      ko_error_set (&err, ENOMEM, "exec");
      goto fail;
    }
  e->c = c;
  e->tty_fd = -1;
  e->detached = req->detached;
  ko_watch_init (&e->conn, &c->sb->loop, -1, exec_on_conn, e);
  int nfds = conn->nfds;
  conn->nfds = 0; /* the streams own them now */
  if (exec_streams (e, req, conn->fds, nfds, &err) < 0)
    goto fail;
  union ko_msg_request m = { .exec_process = {
                                 .container_id = (char *)c->p->id,
                                 .exec_id = e->exec_id,
                                 .process = req->process,
                             } };
  e->pending = conn;
  if (agent_call (c->sb, KO_M_EXEC_PROCESS, &m, MON_CALL_TIMEOUT_MS,
                  on_exec_reply, e, &err)
      < 0)
    goto fail;
  c->execs[c->nexecs++] = e;
  return;
fail:
  for (int i = 0; i < conn->nfds; i++)
    close (conn->fds[i]);
  conn->nfds = 0;
  if (e)
    exec_free (e);
  cli_conn_reply (conn, err, NULL);
}

bool
exec_on_exit (struct container *c, const char *exec_id, uint32_t status)
{
  for (size_t i = 0; i < c->nexecs; i++)
    if (strcmp (c->execs[i]->exec_id, exec_id) == 0)
      {
        c->execs[i]->exited = true;
        c->execs[i]->status = status;
        return true;
      }
  return false;
}

void
execs_finish (struct container *c)
{
  for (size_t i = 0; i < c->nexecs;)
    {
      struct exec_proc *e = c->execs[i];
      if (!e->started || !e->exited || !stream_done (e->out)
          || !stream_done (e->err))
        {
          i++;
          continue;
        }
      if (e->conn.fd >= 0)
        {
          struct ko_buf b = { 0 }, frame = { 0 };
          struct ko_mon_exit x = { e->status };
          ko_mon_exit_encode (&b, &x);
          ko_event_append (&frame, KO_E_PROCESS_EXITED, &b);
          if (send (e->conn.fd, frame.data, frame.len, MSG_NOSIGNAL) < 0)
            { /* the caller is gone */
            }
          ko_buf_free (&b);
          ko_buf_free (&frame);
        }
      c->execs[i] = c->execs[--c->nexecs];
      exec_free (e);
    }
}

/* At the end: the agent calls have failed by now (no pending reply). */
void
execs_free (struct container *c)
{
  while (c->nexecs)
    {
      struct exec_proc *e = c->execs[--c->nexecs];
      if (e->pending)
        {
          _cleanup_error_ ko_error *err = NULL;
          ko_error_setx (&err, EPIPE, "exec: the container stopped");
          cli_conn_reply (e->pending, err, NULL);
        }
      exec_free (e);
    }
}
