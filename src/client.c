#include "config.h"

#include "client.h"
#include "loop.h"
#include "paths.h"
#include "unixsock.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

static int
connect_monitor (const char *dir, ko_error **err)
{
  /* any length of state dir (unixsock.h) */
  int fd = ko_unix_connect (dir, KO_MONITOR_SOCK, err);
  if (fd < 0)
    return ko_error_wrap (err, "connect to the monitor");
  return fd;
}

static int
send_request (int fd, uint16_t method, const struct ko_buf *body,
              const int *fds, int nfds, ko_error **err)
{
  struct ko_buf req = { 0 };
  if (nfds > KO_MON_MAX_FDS)
    return ko_error_setx (err, E2BIG, "request: %d fds, more than %d", nfds,
                          KO_MON_MAX_FDS);
  if (ko_request_append (&req, 1, method, body) < 0)
    return ko_error_set (err, ENOMEM, "request");
  union
  {
    char buf[CMSG_SPACE (KO_MON_MAX_FDS * sizeof (int))];
    struct cmsghdr align;
  } u;
  memset (&u, 0, sizeof u);
  struct iovec iov = { req.data, req.len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (nfds > 0)
    {
      msg.msg_control = u.buf;
      msg.msg_controllen = CMSG_SPACE (nfds * sizeof (int));
      struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (nfds * sizeof (int));
      memcpy (CMSG_DATA (c), fds, nfds * sizeof (int));
    }
  ssize_t n = sendmsg (fd, &msg, MSG_NOSIGNAL);
  /* the rest of a large request, without fds */
  size_t off = n > 0 ? (size_t)n : 0;
  while (n >= 0 && off < req.len)
    if ((n = send (fd, req.data + off, req.len - off, MSG_NOSIGNAL)) > 0)
      off += n;
  ko_buf_free (&req);
  if (n < 0)
    return ko_error_set (err, errno, "send to the monitor");
  return 0;
}

/* Reads one whole frame into in (which may hold more after it). */
static int
read_frame (int fd, struct ko_buf *in, struct ko_frame_hdr *h, int timeout_ms,
            ko_error **err)
{
  uint64_t end = ko_now_ms () + timeout_ms;
  for (;;)
    {
      if (in->len >= KO_FRAME_HDR_SIZE)
        {
          if (ko_frame_hdr_decode (in->data, h, err) < 0)
            return -1;
          if (in->len >= KO_FRAME_HDR_SIZE + h->len)
            return 0;
        }
      uint64_t now = ko_now_ms ();
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      if (now >= end || poll (&pfd, 1, (int)(end - now)) == 0)
        return ko_error_setx (err, ETIMEDOUT, "no answer from the monitor");
      if (ko_buf_reserve (in, 4096) < 0)
        return ko_error_set (err, ENOMEM, "monitor reply");
      ssize_t n = read (fd, in->data + in->len, 4096);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return ko_error_setx (err, EPIPE,
                              "the monitor closed the connection "
                              "before it answered: its sandbox "
                              "stopped");
      in->len += n;
    }
}

/* Reads the reply: 0 with its body in *body (pointing into in). */
static int
read_reply (int fd, struct ko_buf *in, struct ko_tlv *body, int timeout_ms,
            ko_error **err)
{
  struct ko_frame_hdr h;
  if (read_frame (fd, in, &h, timeout_ms, err) < 0)
    return -1;
  uint32_t id, status;
  if (h.type != KO_FRAME_REPLY
      || ko_parse_reply (in->data + KO_FRAME_HDR_SIZE, h.len, &id, &status,
                         body)
             < 0)
    return ko_error_setx (err, EPROTO, "bad reply from the monitor");
  /* the monitor's error replies have the agent's shape */
  return status ? ko_msg_reply_error (status, *body, err) : 0;
}

/* One request, one reply; decode (may be NULL) reads the reply's body. */
static int
call (const char *dir, uint16_t method, const struct ko_buf *body,
      int timeout_ms, int (*decode) (struct ko_tlv, void *, ko_error **),
      void *out, ko_error **err)
{
  _cleanup_close_ int fd = connect_monitor (dir, err);
  if (fd < 0)
    return -1;
  if (send_request (fd, method, body, NULL, 0, err) < 0)
    return -1;
  struct ko_buf in = { 0 };
  struct ko_tlv reply;
  int r = read_reply (fd, &in, &reply, timeout_ms, err);
  if (r == 0 && decode)
    r = decode (reply, out, err);
  ko_buf_free (&in);
  return r;
}

static int
call_target (const char *dir, const char *id, uint16_t method, int timeout_ms,
             ko_error **err)
{
  struct ko_buf b = { 0 };
  struct ko_mon_target t = { (char *)id };
  ko_mon_target_encode (&b, &t);
  int r = call (dir, method, &b, timeout_ms, NULL, NULL, err);
  ko_buf_free (&b);
  return r;
}

int
client_start (const char *dir, const char *id, int timeout_ms, ko_error **err)
{
  return call_target (dir, id, KO_MON_START, timeout_ms, err);
}

int
client_destroy (const char *dir, const char *id, int timeout_ms, ko_error **err)
{
  return call_target (dir, id, KO_MON_DESTROY, timeout_ms, err);
}

int
client_pause (const char *dir, const char *id, bool pause, int timeout_ms,
              ko_error **err)
{
  return call_target (dir, id, pause ? KO_MON_PAUSE : KO_MON_RESUME, timeout_ms,
                      err);
}

int
client_kill (const char *dir, const char *id, int sig, bool all, int timeout_ms,
             ko_error **err)
{
  struct ko_buf b = { 0 };
  struct ko_mon_kill k = { (char *)id, (uint32_t)sig, all };
  ko_mon_kill_encode (&b, &k);
  int r = call (dir, KO_MON_KILL, &b, timeout_ms, NULL, NULL, err);
  ko_buf_free (&b);
  return r;
}

static int
decode_pids (struct ko_tlv body, void *out, ko_error **err)
{
  return ko_mon_pids_decode (body, out, err);
}

int
client_ps (const char *dir, const char *id, struct ko_mon_pids *pids,
           int timeout_ms, ko_error **err)
{
  struct ko_buf b = { 0 };
  struct ko_mon_target t = { (char *)id };
  ko_mon_target_encode (&b, &t);
  int r = call (dir, KO_MON_PS, &b, timeout_ms, decode_pids, pids, err);
  ko_buf_free (&b);
  return r;
}

int
client_update (const char *dir, const char *id, const char *json,
               int timeout_ms, ko_error **err)
{
  struct ko_buf b = { 0 };
  struct ko_mon_update u = { (char *)id, (char *)json };
  ko_mon_update_encode (&b, &u);
  int r = call (dir, KO_MON_UPDATE, &b, timeout_ms, NULL, NULL, err);
  ko_buf_free (&b);
  return r;
}

static int
decode_stats (struct ko_tlv body, void *out, ko_error **err)
{
  return ko_mon_stats_decode (body, out, err);
}

int
client_stats (const char *dir, const char *id, struct ko_mon_stats *st,
              int timeout_ms, ko_error **err)
{
  struct ko_buf b = { 0 };
  struct ko_mon_target t = { (char *)id };
  ko_mon_target_encode (&b, &t);
  int r = call (dir, KO_MON_STATS, &b, timeout_ms, decode_stats, st, err);
  ko_buf_free (&b);
  return r;
}

/* ---------- metrics, of many sandboxes at once ---------- */

int
client_metrics_send (const char *dir, ko_error **err)
{
  struct ko_buf b = { 0 };
  int fd = connect_monitor (dir, err);
  if (fd < 0)
    return -1;
  if (send_request (fd, KO_MON_METRICS, &b, NULL, 0, err) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

int
client_metrics_read (int conn, struct ko_buf *in, struct ko_mon_metrics *m,
                     ko_error **err)
{
  for (;;)
    {
      struct ko_frame_hdr h;
      if (in->len >= KO_FRAME_HDR_SIZE)
        {
          if (ko_frame_hdr_decode (in->data, &h, err) < 0)
            return -1;
          if (in->len >= KO_FRAME_HDR_SIZE + h.len)
            break;
        }
      if (ko_buf_reserve (in, 16384) < 0)
        return ko_error_set (err, ENOMEM, "monitor reply");
      ssize_t n = recv (conn, in->data + in->len, 16384, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return 0;
      if (n <= 0)
        return ko_error_setx (err, EPIPE, "the monitor closed the connection");
      in->len += n;
    }
  struct ko_tlv body;
  if (read_reply (conn, in, &body, 0, err) < 0
      || ko_mon_metrics_decode (body, m, err) < 0)
    return -1;
  return 1;
}

/* ---------- pods ---------- */

int
client_add (const char *dir, const struct ko_mon_add *req, const int *fds,
            int nfds, int timeout_ms, ko_error **err)
{
  _cleanup_close_ int fd = connect_monitor (dir, err);
  if (fd < 0)
    return -1;
  struct ko_buf b = { 0 };
  if (ko_mon_add_encode (&b, req) < 0)
    {
      ko_buf_free (&b);
      return ko_error_set (err, ENOMEM, "add");
    }
  int r = send_request (fd, KO_MON_ADD, &b, fds, nfds, err);
  ko_buf_free (&b);
  if (r < 0)
    return -1;
  struct ko_buf in = { 0 };
  struct ko_tlv reply;
  r = read_reply (fd, &in, &reply, timeout_ms, err);
  ko_buf_free (&in);
  return r;
}

int
client_remove (const char *dir, const char *id, bool force, int timeout_ms,
               ko_error **err)
{
  struct ko_buf b = { 0 };
  struct ko_mon_remove m = { (char *)id, force };
  ko_mon_remove_encode (&b, &m);
  int r = call (dir, KO_MON_REMOVE, &b, timeout_ms, NULL, NULL, err);
  ko_buf_free (&b);
  return r;
}

/* ---------- exec sessions ---------- */

int
client_exec_open (const char *dir, const struct ko_mon_exec *req,
                  const int *fds, int nfds, int timeout_ms, int *conn,
                  uint32_t *pid, struct ko_buf *in, ko_error **err)
{
  _cleanup_close_ int fd = connect_monitor (dir, err);
  if (fd < 0)
    return -1;
  struct ko_buf b = { 0 };
  if (ko_mon_exec_encode (&b, req) < 0)
    {
      ko_buf_free (&b);
      return ko_error_set (err, ENOMEM, "exec");
    }
  int r = send_request (fd, KO_MON_EXEC, &b, fds, nfds, err);
  ko_buf_free (&b);
  if (r < 0)
    return -1;
  struct ko_tlv reply;
  struct ko_mon_pid p;
  r = read_reply (fd, in, &reply, timeout_ms, err);
  if (r == 0)
    r = ko_mon_pid_decode (reply, &p, err);
  if (r < 0)
    return -1;
  /* keep what came after the reply */
  struct ko_frame_hdr h;
  ko_frame_hdr_decode (in->data, &h, NULL);
  size_t used = KO_FRAME_HDR_SIZE + h.len;
  memmove (in->data, in->data + used, in->len - used);
  in->len -= used;
  *pid = p.pid;
  *conn = take_fd (fd);
  return 0;
}

static void
send_on_session (int conn, uint16_t method, const struct ko_buf *b)
{
  struct ko_buf f = { 0 };
  ko_request_append (&f, 0, method, b);
  if (send (conn, f.data, f.len, MSG_NOSIGNAL) < 0)
    { /* the monitor is gone: client_exec_wait sees it */
    }
  ko_buf_free (&f);
}

void
client_exec_kill (int conn, int sig)
{
  struct ko_buf b = { 0 };
  struct ko_mon_kill k = { NULL, (uint32_t)sig, false };
  ko_mon_kill_encode (&b, &k);
  send_on_session (conn, KO_MON_KILL, &b);
  ko_buf_free (&b);
}

void
client_exec_resize (int conn, uint32_t rows, uint32_t cols)
{
  struct ko_buf b = { 0 };
  struct ko_mon_resize rs = { rows, cols };
  ko_mon_resize_encode (&b, &rs);
  send_on_session (conn, KO_MON_RESIZE, &b);
  ko_buf_free (&b);
}

int
client_exec_wait (int conn, struct ko_buf *in, bool rd, uint32_t *status)
{
  if (rd)
    {
      if (ko_buf_reserve (in, 4096) < 0)
        return -1;
      ssize_t n = read (conn, in->data + in->len, 4096);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
      if (n <= 0)
        return -1;
      in->len += n;
    }
  while (in->len >= KO_FRAME_HDR_SIZE)
    {
      struct ko_frame_hdr h;
      if (ko_frame_hdr_decode (in->data, &h, NULL) < 0)
        return -1;
      if (in->len < KO_FRAME_HDR_SIZE + h.len)
        return 0;
      uint16_t ev;
      struct ko_tlv body;
      struct ko_mon_exit x;
      if (h.type == KO_FRAME_EVENT
          && ko_parse_event (in->data + KO_FRAME_HDR_SIZE, h.len, &ev, &body)
                 == 0
          && ev == KO_E_PROCESS_EXITED
          && ko_mon_exit_decode (body, &x, NULL) == 0)
        {
          *status = x.status;
          return 1;
        }
      size_t used = KO_FRAME_HDR_SIZE + h.len;
      memmove (in->data, in->data + used, in->len - used);
      in->len -= used;
    }
  return 0;
}
