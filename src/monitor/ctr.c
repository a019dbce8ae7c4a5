/* A container in the sandbox: its status, its stdio, its creation and
 * start in the guest, its end. */
#include "config.h"

#include "console.h"
#include "hooks.h"
#include "log.h"
#include "sandbox.h"
#include "state.h"
#include "unixsock.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *
ctr_status (const struct container *c)
{
  return c->p->state.status ? c->p->state.status : "creating";
}

void
ctr_record (struct container *c, const char *status)
{
  _cleanup_error_ ko_error *err = NULL;
  struct ko_state *st = &c->p->state;
  char *s = strdup (status);
  if (s == NULL)
    return;
  free (st->status);
  st->status = s;
  if (c->init_exited)
    {
      st->has_exit_status = true;
      st->exit_status = c->exit_status;
    }
  if (state_write (c->dirfd, st, &err) < 0)
    log_warn ("container %s: %s", c->p->id, err->msg);
}

/* The init's stdio: fds (the caller's 0, 1, 2, or a member's, -1 where
 * there is none), or a pty whose master goes to the console socket. */
int
ctr_setup_stdio (struct container *c, const int fds[3], ko_error **err)
{
  struct sandbox *sb = c->sb;
  struct ko_process *pr = &c->p->process;
  uint32_t base = mux_new_stream_ids (sb, 3);
  pr->stdin_stream = base;
  pr->stdout_stream = base + 1;
  pr->stderr_stream = pr->terminal ? 0 : base + 2;
  if (!pr->terminal)
    {
      c->in = stream_add (sb, base, fds[0], true);
      c->out = stream_add (sb, base + 1, fds[1], false);
      c->err = stream_add (sb, base + 2, fds[2], false);
    }
  else
    {
      int in_fd = fds[0], out_fd = fds[1];
      if (fds[2] > 2)
        close (fds[2]);
      if (c->p->console_socket)
        {
          for (int i = 0; i < 2; i++)
            if (fds[i] > 2)
              close (fds[i]);
          if (console_make_pty (c->p->console_socket, pr->rows, pr->cols, true,
                                &c->tty_fd, err)
              < 0)
            return -1;
          in_fd = fcntl (c->tty_fd, F_DUPFD_CLOEXEC, 3);
          out_fd = fcntl (c->tty_fd, F_DUPFD_CLOEXEC, 3);
          if (in_fd < 0 || out_fd < 0)
            return ko_error_set (err, errno, "dup");
        }
      else if (c->p->foreground)
        console_raw_stdin ();
      c->in = stream_add (sb, base, in_fd, true);
      c->out = stream_add (sb, base + 1, out_fd, false);
    }
  if (c->in == NULL || c->out == NULL || (!pr->terminal && c->err == NULL))
    return ko_error_setx (err, EAGAIN, "too many streams");
  return 0;
}

/* CreateContainer for c: its own fields, then its spec as translate.c
 * encoded it at create (a member's with the JOIN fields member.c added),
 * read back with the agent's checks. m borrows c's strings and rootfs;
 * the caller clears m->create_container.spec. */
static int
create_request (struct container *c, char *rootfs, size_t len,
                union ko_msg_request *m, ko_error **err)
{
  struct monitor_params *p = c->p;
  struct ko_msg_create_container *cc = &m->create_container;
  struct ko_tlv fields = { p->container_tlv.data, p->container_tlv.len };
  memset (m, 0, sizeof *m);
  if (ko_container_spec_decode (fields, &cc->spec, err) < 0)
    return ko_error_wrap (err, "container %s", p->id);
  snprintf (rootfs, len, "%s/rootfs", p->id);
  cc->container_id = (char *)p->id;
  cc->rootfs = rootfs;
  cc->hostname = (char *)p->hostname;
  cc->process = p->process;
  return 0;
}

void
ctr_create (struct container *c, agent_done_cb cb, void *ctx)
{
  _cleanup_error_ ko_error *err = NULL;
  union ko_msg_request m;
  char rootfs[512];
  int r = create_request (c, rootfs, sizeof rootfs, &m, &err);
  if (r == 0)
    r = agent_call (c->sb, KO_M_CREATE_CONTAINER, &m, MON_CALL_TIMEOUT_MS, cb,
                    ctx, &err);
  ko_container_spec_clear (&m.create_container.spec);
  if (r < 0)
    cb (c->sb, ctx, NULL, err);
}

/* Setup's: the sandbox's own container, before anything is served. */
int
ctr_create_in_guest (struct container *c, ko_error **err)
{
  union ko_msg_request m;
  char rootfs[512];
  int r = create_request (c, rootfs, sizeof rootfs, &m, err);
  if (r == 0)
    r = agent_call_sync (c->sb, KO_M_CREATE_CONTAINER, &m, err);
  ko_container_spec_clear (&m.create_container.spec);
  if (r < 0)
    return -1;
  /* only now may stdin flow: data for a stream the agent does not know yet
   * would be dropped */
  struct stream *ss[] = { c->in, c->out, c->err };
  for (size_t i = 0; i < KO_ARRAY_SIZE (ss); i++)
    if (ss[i])
      stream_set_live (ss[i]);
  return 0;
}

/* ---------- start ---------- */

struct start_op
{
  struct container *c;
  ctr_done_cb cb;
  void *ctx;
};

static void
start_finish (struct start_op *op, const ko_error *err)
{
  op->c->starting = false;
  op->cb (op->c, op->ctx, err);
  free (op);
}

/* Ends the start waiting for READY=1 (NOTIFY_SOCKET), if one is. */
static void
ready_finish (struct container *c, const ko_error *err)
{
  struct start_op *op = c->ready_op;
  c->ready_op = NULL;
  if (op)
    start_finish (op, err);
}

static void
on_start_reply (struct sandbox *sb, void *ctx, const union ko_msg_reply *reply,
                const ko_error *err)
{
  struct start_op *op = ctx;
  struct container *c = op->c;
  (void)sb;
  (void)reply;
  if (err == NULL)
    {
      log_debug ("container %s started", c->p->id);
      if (!c->init_exited)
        ctr_record (c, "running");
      hooks_after_start (c->p->spec, c->p->id, c->holder_pid,
                         c->p->state.bundle);
      if (c->p->state.notify_socket && !c->ready && !c->init_exited)
        {
          log_debug ("container %s: waiting for READY=1", c->p->id);
          c->ready_op = op;
          return;
        }
    }
  start_finish (op, err);
}

/* A datagram to path (ko_unix_send_dgram); a failure is only logged: the
 * container goes on */
static void
notify_send (struct container *c, const char *path, const char *msg, size_t len)
{
  _cleanup_error_ ko_error *err = NULL;
  if (ko_unix_send_dgram (path, msg, len, &err) < 0)
    log_warn ("container %s: sd_notify: %s", c->p->id, err->msg);
}

static bool
has_line (const char *data, const char *line)
{
  size_t n = strlen (line);
  for (const char *l = data; l; l = strchr (l, '\n'), l = l ? l + 1 : NULL)
    if (strncmp (l, line, n) == 0 && (l[n] == '\n' || l[n] == '\0'))
      return true;
  return false;
}

void
ctr_on_notify (struct container *c, const char *data)
{
  const struct ko_state *st = &c->p->state;
  if (st->notify_relay)
    {
      /* conmon's socket, which podman bound into the container: all of it,
       * as the container would have sent it there under runc */
      uint64_t sec = ko_now_ms () / 1000;
      if (sec != c->notify_sec)
        c->notify_sec = sec, c->notify_n = 0;
      if (++c->notify_n <= KO_NOTIFY_PER_SEC)
        notify_send (c, st->notify_relay, data,
                     strnlen (data, KO_NOTIFY_DATA_MAX));
      return;
    }
  /* runc's proxy: READY=1 once, with the pid state reports; the start
   * that waits for it ends */
  if (st->notify_socket == NULL || c->ready || !has_line (data, "READY=1"))
    return;
  c->ready = true;
  char msg[64];
  int m
      = snprintf (msg, sizeof msg, "READY=1\nMAINPID=%d\n", (int)c->holder_pid);
  notify_send (c, st->notify_socket, msg, (size_t)m);
  log_debug ("container %s: READY=1 passed on to %s", c->p->id,
             st->notify_socket);
  ready_finish (c, NULL);
}

void
ctr_start (struct container *c, ctr_done_cb cb, void *ctx)
{
  _cleanup_error_ ko_error *err = NULL;
  struct start_op *op = calloc (1, sizeof *op);
  if (op == NULL)
    {
      ko_error_set (&err, ENOMEM, "start");
      return cb (c, ctx, err);
    }
  *op = (struct start_op){ c, cb, ctx };
  c->starting = true;
  if (hooks_on_start (c->p->spec, c->p->id, c->holder_pid, c->p->state.bundle,
                      &err)
      < 0)
    {
      /* the spec: a failing startContainer hook stops the container */
      sandbox_stop (c->sb);
      return start_finish (op, err);
    }
  union ko_msg_request m = { .container_ref = { (char *)c->p->id } };
  if (agent_call (c->sb, KO_M_START_CONTAINER, &m, MON_CALL_TIMEOUT_MS,
                  on_start_reply, op, &err)
      < 0)
    start_finish (op, err);
}

/* ---------- events ---------- */

void
ctr_on_exit (struct container *c, const char *exec_id, uint32_t status)
{
  if (exec_id)
    {
      exec_on_exit (c, exec_id, status);
      return;
    }
  if (c->init_exited)
    return;
  c->init_exited = true;
  c->exit_status = ko_exit_code ((int)status);
  log_debug ("container %s: init exited: %d", c->p->id, c->exit_status);
  /* it never said READY=1: start ends all the same, as runc's does */
  ready_finish (c, NULL);
  /* a member ends alone; the sandbox's container ends the pod */
  if (c->member)
    pod_member_exited (c);
}

/* held: the OOM events seen since the last line, not counting this one */
static void
oom_log_line (struct container *c, uint64_t held)
{
  if (held)
    log_warn ("container %s: out of memory in the guest: %llu more events "
              "since the last report",
              c->p->id, (unsigned long long)held);
  else
    log_warn ("container %s: out of memory in the guest", c->p->id);
}

/* conmon's mark of an OOM-killed container: an empty file "oom" in the
 * bundle, which podman and CRI-O read when the container exits (its
 * OOMKilled). conmon sees OOM kills in the host cgroup of the pid it
 * watches, the holder's, where the guest's never show: the monitor makes
 * the mark itself. Written before the exit is passed on: the agent reports
 * an OOM kill before the exit it caused. */
static void
oom_mark_bundle (struct container *c)
{
  const char *bundle = c->p->state.bundle;
  if (bundle == NULL || *bundle == '\0')
    return;
  _cleanup_free_ char *path = NULL;
  if (asprintf (&path, "%s/oom", bundle) < 0)
    return;
  int fd = open (path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                 0644);
  if (fd < 0)
    log_warn ("container %s: %s: %s", c->p->id, path, strerror (errno));
  else
    close (fd);
}

void
ctr_on_oom (struct container *c)
{
  uint64_t held;
  if (c->oom_count++ == 0)
    oom_mark_bundle (c);
  /* the guest decides how often: one line a second at most */
  if (ko_ratelimit_ok (&c->oom_log, ko_now_ms (), &held))
    oom_log_line (c, held);
}

void
ctr_signal (struct container *c, int sig)
{
  if (c->init_exited)
    return;
  union ko_msg_request m = { .signal_process = {
                                 .container_id = (char *)c->p->id,
                                 .signal = (uint32_t)sig,
                             } };
  agent_send (c->sb, KO_M_SIGNAL_PROCESS, &m);
}

void
ctr_kill_all (struct container *c)
{
  union ko_msg_request m = { .signal_process = {
                                 .container_id = (char *)c->p->id,
                                 .signal = SIGKILL,
                                 .all = true,
                             } };
  agent_send (c->sb, KO_M_SIGNAL_PROCESS, &m);
}

void
ctr_ready_gone (struct container *c)
{
  ready_finish (c, NULL);
}

void
ctr_ready_abandon (struct container *c)
{
  if (c->ready_op == NULL)
    return;
  _cleanup_error_ ko_error *err = NULL;
  ko_error_setx (&err, ESRCH, "container %s went away before it sent READY=1",
                 c->p->id);
  ready_finish (c, err);
}

/* The container is over (the VM is down): its status, its holder's. */
void
ctr_finish (struct container *c)
{
  ctr_ready_abandon (c);
  execs_free (c);
  if (c->oom_log.held)
    oom_log_line (c, c->oom_log.held);
  if (!c->init_exited)
    {
      /* the VM went away under the container, or delete -f */
      c->init_exited = true;
      c->exit_status = 128 + 9;
    }
  ctr_record (c, "stopped");
  if (c->tty_fd >= 0)
    close (c->tty_fd);
  c->tty_fd = -1;
  holder_release (c, c->exit_status, false);
}
