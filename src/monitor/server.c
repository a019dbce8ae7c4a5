/* monitor.sock: the CLI's requests. Each connection carries one request
 * (an exec's stays open for its session); it is read without blocking,
 * within MON_CONN_READ_MS, and served while the loop goes on: a request
 * that waits for the guest holds only its own connection. */
#include "config.h"

#include "log.h"
#include "paths.h"
#include "proc.h"
#include "sandbox.h"
#include "unixsock.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

static void conn_free (struct cli_conn *c);

static void
listen_update (struct sandbox *sb)
{
  ko_watch_set (&sb->listen, sb->nconns < MON_MAX_CONNS ? EPOLLIN : 0);
}

static void
conn_unlink (struct cli_conn *c)
{
  struct sandbox *sb = c->sb;
  for (struct cli_conn **pp = &sb->conns; *pp; pp = &(*pp)->next)
    if (*pp == c)
      {
        *pp = c->next;
        sb->nconns--;
        break;
      }
  listen_update (sb);
}

static void
conn_free (struct cli_conn *c)
{
  conn_unlink (c);
  ko_watch_close (&c->w);
  ko_timer_cancel (&c->deadline);
  for (int i = 0; i < c->nfds; i++)
    close (c->fds[i]);
  ko_buf_free (&c->in);
  free (c);
}

int
cli_conn_take (struct cli_conn *c)
{
  int fd = ko_watch_release (&c->w);
  c->nfds = 0; /* the caller took them */
  conn_free (c);
  return fd;
}

void
cli_conn_reply (struct cli_conn *c, const ko_error *err,
                const struct ko_buf *body)
{
  struct ko_buf out = { 0 };
  if (err)
    ko_reply_error_append (&out, c->req_id, err->status ? err->status : EIO,
                           err->msg);
  else
    ko_reply_append (&out, c->req_id, 0, body);
  /* small, and the caller is waiting for it: a bounded blocking write */
  int fd = c->w.fd;
  struct timeval tv = { .tv_sec = 1 };
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK);
  size_t off = 0;
  while (off < out.len)
    {
      ssize_t n = send (fd, out.data + off, out.len - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break; /* the caller is gone */
      off += n;
    }
  ko_buf_free (&out);
  conn_free (c);
}

static void __attribute__ ((format (printf, 3, 4)))
reply_error (struct cli_conn *c, int status, const char *fmt, ...)
{
  _cleanup_free_ char *msg = NULL;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  _cleanup_error_ ko_error *err = NULL;
  ko_error_setx (&err, status, "%s", msg ? msg : "out of memory");
  cli_conn_reply (c, err, NULL);
}

/* ---------- the requests ---------- */

static void
on_agent_reply (struct sandbox *sb, void *ctx, const union ko_msg_reply *reply,
                const ko_error *err)
{
  (void)sb;
  (void)reply;
  cli_conn_reply (ctx, err, NULL);
}

/* Sends the request; cb answers the connection. */
static void
forward (struct cli_conn *c, uint16_t method, const union ko_msg_request *m,
         agent_done_cb cb)
{
  _cleanup_error_ ko_error *err = NULL;
  if (agent_call (c->sb, method, m, MON_CALL_TIMEOUT_MS, cb, c, &err) < 0)
    cli_conn_reply (c, err, NULL);
}

/* A request about the container alone (ko_msg_container_ref). */
static void
forward_ref (struct cli_conn *c, uint16_t method, agent_done_cb cb)
{
  union ko_msg_request m = { .container_ref = { (char *)c->ctr->p->id } };
  forward (c, method, &m, cb);
}

static void
on_started (struct container *ctr, void *ctx, const ko_error *err)
{
  (void)ctr;
  cli_conn_reply (ctx, err, NULL);
}

static void
serve_start (struct cli_conn *c, struct container *ctr)
{
  if (strcmp (ctr_status (ctr), "created") != 0 || ctr->starting)
    return reply_error (c, EINVAL, "container %s is %s, not created",
                        ctr->p->id,
                        ctr->starting ? "starting" : ctr_status (ctr));
  ctr_start (ctr, on_started, c);
}

static void
serve_kill (struct cli_conn *c, struct container *ctr, struct ko_tlv body)
{
  struct ko_mon_kill k;
  _cleanup_error_ ko_error *err = NULL;
  if (ko_mon_kill_decode (body, &k, &err) < 0)
    return cli_conn_reply (c, err, NULL);
  if (ctr->init_exited)
    {
      ko_mon_kill_clear (&k);
      return reply_error (c, ESRCH, "container %s is not running", ctr->p->id);
    }
  union ko_msg_request m = { .signal_process = {
                                 .container_id = (char *)ctr->p->id,
                                 .signal = k.signal,
                                 .all = k.all,
                             } };
  ko_mon_kill_clear (&k);
  forward (c, KO_M_SIGNAL_PROCESS, &m, on_agent_reply);
}

static void
on_paused (struct sandbox *sb, void *ctx, const union ko_msg_reply *reply,
           const ko_error *err)
{
  struct cli_conn *c = ctx;
  (void)sb;
  (void)reply;
  if (err == NULL && !c->ctr->init_exited)
    ctr_record (c->ctr, c->method == KO_MON_PAUSE ? "paused" : "running");
  cli_conn_reply (c, err, NULL);
}

static void
serve_pause (struct cli_conn *c, struct container *ctr, bool pause)
{
  const char *want = pause ? "running" : "paused";
  if (strcmp (ctr_status (ctr), want) != 0)
    return reply_error (c, EINVAL, "container %s is %s, not %s", ctr->p->id,
                        ctr_status (ctr), want);
  forward_ref (c, pause ? KO_M_PAUSE_CONTAINER : KO_M_RESUME_CONTAINER,
               on_paused);
}

static void
on_ps (struct sandbox *sb, void *ctx, const union ko_msg_reply *reply,
       const ko_error *err)
{
  (void)sb;
  if (err)
    return cli_conn_reply (ctx, err, NULL);
  /* the pids as decoded: the guest's words pass on only well-formed */
  struct ko_mon_pids pids
      = { reply->list_processes.pids, reply->list_processes.npids,
          reply->list_processes.info, reply->list_processes.uptime_ms };
  _cleanup_buf_ struct ko_buf b = { 0 };
  ko_mon_pids_encode (&b, &pids);
  cli_conn_reply (ctx, NULL, &b);
}

/* QEMU's resident memory and CPU time, from /proc. */
static void
vm_host_usage (pid_t pid, uint64_t *rss, uint64_t *cpu_ns)
{
  char buf[1024];
  uint64_t user, sys, threads;
  *rss = *cpu_ns = 0;
  if (proc_read (pid, "stat", buf, sizeof buf) > 0
      && proc_parse_stat (buf, &user, &sys, &threads, rss) == 0)
    *cpu_ns = user + sys;
}

static void
on_stats (struct sandbox *sb, void *ctx, const union ko_msg_reply *reply,
          const ko_error *err)
{
  struct cli_conn *c = ctx;
  if (err)
    return cli_conn_reply (c, err, NULL);
  struct ko_mon_stats st
      = { .guest = reply->stats_container, .oom_count = c->ctr->oom_count };
  vm_host_usage (sb->qemu_pid, &st.vm_rss, &st.vm_cpu_ns);
  _cleanup_buf_ struct ko_buf b = { 0 };
  ko_mon_stats_encode (&b, &st);
  cli_conn_reply (c, NULL, &b);
}

static void
serve_update (struct cli_conn *c, struct container *ctr, struct ko_tlv body)
{
  struct ko_mon_update u;
  _cleanup_error_ ko_error *err = NULL;
  if (ko_mon_update_decode (body, &u, &err) < 0)
    return cli_conn_reply (c, err, NULL);
  update_request (c, ctr, u.resources_json);
  ko_mon_update_clear (&u);
}

static void
serve_exec (struct cli_conn *c, struct container *ctr, struct ko_tlv body)
{
  struct ko_mon_exec e;
  _cleanup_error_ ko_error *err = NULL;
  if (ko_mon_exec_decode (body, &e, &err) < 0)
    return cli_conn_reply (c, err, NULL);
  exec_request (c, ctr, &e);
  ko_mon_exec_clear (&e);
}

/* The request's container, from its CONTAINER_ID (absent: the sandbox's). */
static struct container *
request_container (struct cli_conn *c, struct ko_tlv body)
{
  struct ko_mon_target t;
  _cleanup_error_ ko_error *err = NULL;
  if (ko_mon_target_decode (body, &t, &err) < 0)
    {
      cli_conn_reply (c, err, NULL);
      return NULL;
    }
  struct container *ctr = sandbox_container (c->sb, t.container_id);
  if (ctr == NULL)
    reply_error (c, ENOENT, "container %s is not in this sandbox",
                 t.container_id);
  ko_mon_target_clear (&t);
  return ctr;
}

static void
dispatch (struct cli_conn *c, uint16_t method, struct ko_tlv body)
{
  struct sandbox *sb = c->sb;
  c->method = method;
  if (method == KO_MON_ADD)
    return pod_add (c, body);
  struct container *ctr = request_container (c, body);
  if (ctr == NULL)
    return;
  c->ctr = ctr;
  c->method = method;
  if (method != KO_MON_EXEC)
    for (int i = 0; i < c->nfds; i++)
      close (c->fds[i]);
  if (method != KO_MON_EXEC)
    c->nfds = 0;
  switch (method)
    {
    case KO_MON_START:
      return serve_start (c, ctr);
    case KO_MON_KILL:
      return serve_kill (c, ctr, body);
    case KO_MON_DESTROY:
      if (ctr->member)
        return reply_error (
            c, EINVAL, "container %s is a pod member: remove it", ctr->p->id);
      sandbox_stop (sb);
      return cli_conn_reply (c, NULL, NULL);
    case KO_MON_PAUSE:
    case KO_MON_RESUME:
      return serve_pause (c, ctr, method == KO_MON_PAUSE);
    case KO_MON_PS:
      return forward_ref (c, KO_M_LIST_PROCESSES, on_ps);
    case KO_MON_STATS:
      return forward_ref (c, KO_M_STATS_CONTAINER, on_stats);
    case KO_MON_UPDATE:
      return serve_update (c, ctr, body);
    case KO_MON_EXEC:
      return serve_exec (c, ctr, body);
    case KO_MON_REMOVE:
      return pod_remove (c, ctr, body);
    case KO_MON_METRICS:
      return metrics_request (c);
    default:
      return reply_error (c, ENOSYS, "monitor: unsupported request %u", method);
    }
}

/* ---------- connections ---------- */

/* Reads what is there; 1 once the request is whole, 0 for more, -1 when
 * the caller went away or sent something malformed. */
static int
conn_read (struct cli_conn *c)
{
  if (ko_buf_reserve (&c->in, 4096) < 0)
    return -1;
  union
  {
    char buf[CMSG_SPACE (KO_MON_MAX_FDS * sizeof (int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = { c->in.data + c->in.len, 4096 };
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf };
  ssize_t n = recvmsg (c->w.fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return 0;
  if (n <= 0)
    return -1;
  for (struct cmsghdr *m = CMSG_FIRSTHDR (&msg); m; m = CMSG_NXTHDR (&msg, m))
    if (m->cmsg_level == SOL_SOCKET && m->cmsg_type == SCM_RIGHTS)
      {
        int k = (m->cmsg_len - CMSG_LEN (0)) / sizeof (int);
        int *p = (int *)CMSG_DATA (m);
        for (int i = 0; i < k; i++)
          if (c->nfds < KO_MON_MAX_FDS)
            c->fds[c->nfds++] = p[i];
          else
            close (p[i]);
      }
  c->in.len += n;
  if (c->in.len < KO_FRAME_HDR_SIZE)
    return 0;
  struct ko_frame_hdr h;
  if (ko_frame_hdr_decode (c->in.data, &h, NULL) < 0
      || h.type != KO_FRAME_REQUEST)
    return -1;
  return c->in.len >= KO_FRAME_HDR_SIZE + h.len ? 1 : 0;
}

static void
conn_on_event (struct ko_watch *w, uint32_t events)
{
  struct cli_conn *c = w->data;
  (void)events;
  int r = conn_read (c);
  if (r < 0)
    return conn_free (c);
  if (r == 0)
    return;
  struct ko_frame_hdr h;
  ko_frame_hdr_decode (c->in.data, &h, NULL);
  uint16_t method;
  struct ko_tlv body;
  if (ko_parse_request (c->in.data + KO_FRAME_HDR_SIZE, h.len, &c->req_id,
                        &method, &body)
      < 0)
    return conn_free (c);
  c->busy = true;
  ko_watch_set (&c->w, 0);
  ko_timer_cancel (&c->deadline);
  dispatch (c, method, body);
}

static void
conn_on_deadline (struct ko_timer *t)
{
  conn_free (t->data);
}

static void
listen_on_event (struct ko_watch *w, uint32_t events)
{
  struct sandbox *sb = w->data;
  (void)events;
  int fd = accept4 (w->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0)
    return;
  struct cli_conn *c = calloc (1, sizeof *c);
  if (c == NULL)
    {
      close (fd);
      return;
    }
  c->sb = sb;
  ko_watch_init (&c->w, &sb->loop, fd, conn_on_event, c);
  ko_timer_init (&c->deadline, &sb->loop, conn_on_deadline, c);
  c->next = sb->conns;
  sb->conns = c;
  sb->nconns++;
  listen_update (sb);
  ko_timer_arm (&c->deadline, ko_now_ms () + MON_CONN_READ_MS);
  ko_watch_set (&c->w, EPOLLIN);
}

int
server_listen (struct sandbox *sb, ko_error **err)
{
  /* any length of state dir (unixsock.h) */
  int fd = ko_unix_listen (sb->p->dir, KO_MONITOR_SOCK, err);
  if (fd < 0)
    return -1;
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
  ko_watch_init (&sb->listen, &sb->loop, fd, listen_on_event, sb);
  listen_update (sb);
  return 0;
}

void
server_close (struct sandbox *sb)
{
  while (sb->conns)
    conn_free (sb->conns);
  if (sb->listen.fd >= 0)
    {
      char path[4096];
      snprintf (path, sizeof path, "%s/%s", sb->p->dir, KO_MONITOR_SOCK);
      unlink (path);
    }
  ko_watch_close (&sb->listen);
}
