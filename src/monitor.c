/* The monitor: one epoll loop that multiplexes the agent channel, the
 * container's stdio, monitor.sock and signals. Everything read from the
 * channel is hostile: frames are bounds-checked, a stream may not exceed the
 * credit it was given, and a malformed frame ends the sandbox. */
#include "config.h"

#include "cgroup.h"
#include "confine.h"
#include "console.h"
#include "hooks.h"
#include "hostpath.h"
#include "hypervisor.h"
#include "log.h"
#include "logsink.h"
#include "memhp.h"
#include "monitor.h"
#include "network.h"
#include "paths.h"
#include "proc.h"
#include "qmp.h"
#include "translate.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/vm_sockets.h>

#define MON_CALL_TIMEOUT_MS 30000
#define MON_MAX_STREAMS 192 /* the init and up to 63 execs */
#define MON_MAX_EXECS 63

enum handler_kind
{
  H_CHANNEL,
  H_LISTEN,
  H_SIGNAL,
  H_STREAM_IN,
  H_STREAM_OUT,
  H_EXEC_CONN,
  H_QMP, /* readable: the code waiting on QMP reads it */
  H_SINK /* a helper's output or the guest console, to a bounded log */
};

struct handler
{
  enum handler_kind kind;
  void *obj;
};

struct stream
{
  uint32_t id;
  int fd;
  bool input;      /* host -> guest */
  bool pollable;   /* registered with epoll */
  bool watching;   /* epoll interest currently set */
  bool eof;        /* input: EOF sent; output: EOF received */
  bool closed;     /* fd given up (EOF flushed, or write error) */
  bool live;       /* the guest knows the stream: input may flow */
  int saved_flags; /* the fd's flags before we made it non-blocking */
  uint32_t credit; /* input: bytes we may send */
  uint32_t window; /* output: bytes the agent may still send */
  uint32_t to_ack; /* output: written, credit not yet returned */
  struct ko_buf pending;
  size_t pending_off;
  struct handler h;
};

struct exec_proc
{
  char *exec_id;
  int conn; /* the caller's connection: exit status goes there */
  struct ko_buf conn_in;
  struct handler h;
  struct stream *in, *out, *err;
  int tty_fd;
  bool exited;
  uint32_t status; /* raw wait status */
};

struct monitor
{
  struct monitor_params *p;
  int epfd;
  int chan;
  struct ko_buf chan_out;
  size_t chan_out_off;
  struct ko_buf chan_in;
  bool chan_dead;
  int listen_fd;
  bool listen_registered;
  int sigfd;
  pid_t qemu_pid, virtiofsd_pid, holder_pid;
  int holder_fd;    /* write end: the container's status, then EOF */
  bool holder_gone; /* exited; left unreaped for conmon (see below) */
  uint64_t qemu_start, virtiofsd_start;
  struct stream *streams[MON_MAX_STREAMS];
  size_t nstreams;
  uint32_t next_stream;
  struct exec_proc *execs[MON_MAX_EXECS];
  size_t nexecs;
  struct handler h_chan, h_listen, h_sig;
  int tty_fd; /* host pty slave when a console socket is used */
  /* the one outstanding synchronous call */
  uint32_t next_id;
  uint32_t wait_id;
  bool wait_done;
  uint32_t wait_status;
  struct ko_buf wait_body;
  int in_call;
  bool hello;
  uint32_t agent_version;
  bool init_exited;
  int exit_status;
  bool destroy_requested;
  bool created; /* before, failures are reported once, by the create error */
  uint64_t oom_count;
  bool vm_gone;
  int qemu_status; /* its wait status, once vm_gone */
  int dirfd;
  struct ko_memhp memhp; /* the VM's memory, as booted and as plugged */
  unsigned dimm_seq;     /* QOM ids: never reused, even after a failure */
  struct handler h_qmp;
  struct ko_network net; /* the interfaces passed into the VM */
  /* the guest console, QEMU's and virtiofsd's output */
  struct ko_logsink sinks[3];
  struct handler h_sinks[3];
  struct ko_ratelimit oom_log;
};

enum
{
  SINK_CONSOLE,
  SINK_QEMU,
  SINK_VIRTIOFSD
};

static void mon_fatal_channel (struct monitor *m, const char *why);

/* ---------- helpers ---------- */

static int
set_nonblock (int fd)
{
  int fl = fcntl (fd, F_GETFL);
  if (fl < 0)
    return -1;
  return fcntl (fd, F_SETFL, fl | O_NONBLOCK);
}

static void
epoll_set (struct monitor *m, int fd, struct handler *h, uint32_t events,
           bool *registered)
{
  struct epoll_event ev = { .events = events, .data.ptr = h };
  if (*registered)
    epoll_ctl (m->epfd, EPOLL_CTL_MOD, fd, &ev);
  else if (epoll_ctl (m->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
    *registered = true;
}

static struct stream *
stream_find (struct monitor *m, uint32_t id)
{
  for (size_t i = 0; i < m->nstreams; i++)
    if (m->streams[i]->id == id)
      return m->streams[i];
  return NULL;
}

static void
chan_queue_frame (struct monitor *m, uint32_t stream, uint8_t type,
                  const void *payload, size_t len)
{
  if (ko_frame_append (&m->chan_out, stream, type, payload, len) < 0)
    mon_fatal_channel (m, "out of memory queueing a frame");
}

/* ---------- channel output ---------- */

static void
chan_update_interest (struct monitor *m)
{
  if (m->chan < 0)
    return;
  bool registered = true;
  uint32_t ev = EPOLLIN;
  if (m->chan_out.len > m->chan_out_off)
    ev |= EPOLLOUT;
  epoll_set (m, m->chan, &m->h_chan, ev, &registered);
}

static void
chan_flush (struct monitor *m)
{
  while (m->chan >= 0 && m->chan_out.len > m->chan_out_off)
    {
      ssize_t n = write (m->chan, m->chan_out.data + m->chan_out_off,
                         m->chan_out.len - m->chan_out_off);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN)
            break;
          mon_fatal_channel (m, strerror (errno));
          return;
        }
      m->chan_out_off += n;
    }
  if (m->chan_out_off == m->chan_out.len)
    m->chan_out.len = m->chan_out_off = 0;
  else if (m->chan_out_off > (1u << 20))
    {
      memmove (m->chan_out.data, m->chan_out.data + m->chan_out_off,
               m->chan_out.len - m->chan_out_off);
      m->chan_out.len -= m->chan_out_off;
      m->chan_out_off = 0;
    }
  chan_update_interest (m);
}

/* ---------- stdio streams ---------- */

static void
stream_update_interest (struct monitor *m, struct stream *s)
{
  if (!s->pollable || s->closed)
    return;
  uint32_t ev = 0;
  if (s->input)
    ev = (!s->eof && s->credit > 0) ? EPOLLIN : 0;
  else
    ev = s->pending.len > s->pending_off ? EPOLLOUT : 0;
  bool reg = s->watching;
  if (ev == 0 && s->watching)
    {
      epoll_ctl (m->epfd, EPOLL_CTL_DEL, s->fd, NULL);
      s->watching = false;
      return;
    }
  if (ev)
    {
      epoll_set (m, s->fd, &s->h, ev, &reg);
      s->watching = reg;
    }
}

static void
stream_close (struct monitor *m, struct stream *s)
{
  if (s->closed)
    return;
  if (s->watching)
    epoll_ctl (m->epfd, EPOLL_CTL_DEL, s->fd, NULL);
  s->watching = false;
  s->closed = true;
  if (s->saved_flags >= 0)
    fcntl (s->fd, F_SETFL, s->saved_flags);
  /* fds 0-2 stay open: they may be the caller's (run in the foreground) */
  if (s->fd > 2)
    close (s->fd);
  s->fd = -1;
}

static void
stream_send_credit (struct monitor *m, struct stream *s, bool force)
{
  if (s->to_ack == 0 || (!force && s->to_ack < KO_OUTPUT_WINDOW / 4))
    return;
  uint8_t b[4];
  uint32_t v = s->to_ack;
  b[0] = v;
  b[1] = v >> 8;
  b[2] = v >> 16;
  b[3] = v >> 24;
  chan_queue_frame (m, s->id, KO_FRAME_CREDIT, b, 4);
  s->window += v;
  s->to_ack = 0;
}

/* Reads stdin and sends it while there is credit. */
static void
stream_pump_input (struct monitor *m, struct stream *s)
{
  uint8_t buf[KO_DATA_MAX_PAYLOAD];
  while (!s->eof && !s->closed && s->credit > 0)
    {
      size_t want = s->credit < sizeof buf ? s->credit : sizeof buf;
      ssize_t n = read (s->fd, buf, want);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        break;
      if (n <= 0)
        {
          /* EOF, or EIO on a pty whose master went away */
          chan_queue_frame (m, s->id, KO_FRAME_DATA, NULL, 0);
          s->eof = true;
          stream_close (m, s);
          break;
        }
      chan_queue_frame (m, s->id, KO_FRAME_DATA, buf, n);
      s->credit -= n;
      if (!s->pollable)
        continue;
    }
  stream_update_interest (m, s);
  chan_flush (m);
}

/* Writes output to the stream's fd until it would block; returns the bytes
 * written, which count as acknowledged. A write error closes the stream. */
static size_t
stream_write_out (struct monitor *m, struct stream *s, const uint8_t *p,
                  size_t len)
{
  size_t done = 0;
  while (done < len && !s->closed)
    {
      ssize_t n = write (s->fd, p + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        break;
      if (n < 0)
        {
          log_debug ("stream %u: write: %s", s->id, strerror (errno));
          stream_close (m, s);
          break;
        }
      done += n;
    }
  s->to_ack += done;
  return done;
}

/* Writes what the guest sent; returns credit as the bytes leave. */
static void
stream_flush_output (struct monitor *m, struct stream *s)
{
  if (s->pending.len > s->pending_off)
    s->pending_off += stream_write_out (m, s, s->pending.data + s->pending_off,
                                        s->pending.len - s->pending_off);
  if (s->closed)
    {
      /* nobody to write to: drop, but keep the guest flowing */
      s->to_ack += s->pending.len - s->pending_off;
      s->pending_off = s->pending.len;
    }
  bool drained = s->pending_off == s->pending.len;
  if (drained)
    s->pending.len = s->pending_off = 0;
  stream_send_credit (m, s, drained);
  if (drained && s->eof && !s->closed)
    stream_close (m, s);
  stream_update_interest (m, s);
  chan_flush (m);
}

static struct stream *
stream_add (struct monitor *m, uint32_t id, int fd, bool input)
{
  if (m->nstreams >= MON_MAX_STREAMS)
    return NULL;
  struct stream *s = calloc (1, sizeof *s);
  if (s == NULL)
    return NULL;
  m->streams[m->nstreams++] = s;
  s->id = id;
  s->fd = fd;
  s->input = input;
  s->credit = input ? KO_STREAM_WINDOW : 0;
  s->window = input ? 0 : KO_OUTPUT_WINDOW;
  s->h.kind = input ? H_STREAM_IN : H_STREAM_OUT;
  s->h.obj = s;
  s->saved_flags = -1;
  if (fd < 0)
    {
      s->closed = true;
      return s;
    }
  struct epoll_event ev = { .events = 0, .data.ptr = &s->h };
  if (epoll_ctl (m->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
    {
      /* a pipe, socket or tty: non-blocking and event driven */
      epoll_ctl (m->epfd, EPOLL_CTL_DEL, fd, NULL);
      s->saved_flags = fcntl (fd, F_GETFL);
      set_nonblock (fd);
      s->pollable = true;
    }
  /* else a regular file or /dev/null: always ready, used synchronously */
  return s;
}

/* Once the guest knows the stream, input may flow. */
static void
stream_set_live (struct monitor *m, struct stream *s)
{
  s->live = true;
  if (s->input)
    stream_update_interest (m, s);
}

static void
stream_remove (struct monitor *m, struct stream *s)
{
  stream_close (m, s);
  for (size_t i = 0; i < m->nstreams; i++)
    if (m->streams[i] == s)
      {
        m->streams[i] = m->streams[--m->nstreams];
        break;
      }
  ko_buf_free (&s->pending);
  free (s);
}

/* ---------- frames from the guest ---------- */

/* held: the OOM events seen since the last line, not counting this one */
static void
oom_log_line (struct monitor *m, uint64_t held)
{
  if (held)
    log_warn ("container %s: out of memory in the guest: %llu more events "
              "since the last report",
              m->p->id, (unsigned long long)held);
  else
    log_warn ("container %s: out of memory in the guest", m->p->id);
}

static void
handle_event (struct monitor *m, uint16_t event, struct ko_tlv body)
{
  struct ko_field f;
  int r;
  if (event == KO_E_HELLO)
    {
      while ((r = ko_tlv_next (&body, &f)) > 0)
        if (f.tag == KO_TAG_VERSION)
          ko_field_u32 (&f, &m->agent_version);
      m->hello = true;
      return;
    }
  if (event == KO_E_PROCESS_EXITED)
    {
      struct ko_tlv body0 = body;
      bool is_init = true;
      uint32_t status = 0;
      bool have_status = false;
      while ((r = ko_tlv_next (&body, &f)) > 0)
        {
          if (f.tag == KO_TAG_EXEC_ID)
            is_init = false;
          else if (f.tag == KO_TAG_STATUS && ko_field_u32 (&f, &status) == 0)
            have_status = true;
        }
      if (r < 0 || !have_status)
        {
          mon_fatal_channel (m, "malformed ProcessExited event");
          return;
        }
      if (!is_init)
        {
          struct ko_tlv again = body0;
          char *eid = NULL;
          while (ko_tlv_next (&again, &f) > 0)
            if (f.tag == KO_TAG_EXEC_ID && eid == NULL)
              ko_field_str (&f, &eid);
          for (size_t i = 0; eid && i < m->nexecs; i++)
            if (strcmp (m->execs[i]->exec_id, eid) == 0)
              {
                m->execs[i]->exited = true;
                m->execs[i]->status = status;
              }
          free (eid);
          return;
        }
      if (is_init && !m->init_exited)
        {
          m->init_exited = true;
          m->exit_status = ko_exit_code ((int)status);
          log_debug ("container init exited: %d", m->exit_status);
        }
      return;
    }
  if (event == KO_E_OOM)
    {
      uint64_t held;
      m->oom_count++;
      /* the guest decides how often: one line a second at most */
      if (ko_ratelimit_ok (&m->oom_log, now_ms (), &held))
        oom_log_line (m, held);
    }
}

static void
handle_frame (struct monitor *m, const struct ko_frame_hdr *h,
              const uint8_t *payload)
{
  struct ko_tlv body;
  switch (h->type)
    {
    case KO_FRAME_REPLY:
      {
        uint32_t id, status;
        if (ko_parse_reply (payload, h->len, &id, &status, &body) < 0)
          return mon_fatal_channel (m, "malformed reply");
        if (m->in_call && id == m->wait_id)
          {
            m->wait_done = true;
            m->wait_status = status;
            m->wait_body.len = 0;
            ko_buf_append (&m->wait_body, body.p, body.left);
          }
        return;
      }
    case KO_FRAME_EVENT:
      {
        uint16_t ev;
        if (ko_parse_event (payload, h->len, &ev, &body) < 0)
          return mon_fatal_channel (m, "malformed event");
        return handle_event (m, ev, body);
      }
    case KO_FRAME_DATA:
      {
        struct stream *s = stream_find (m, h->stream);
        if (s == NULL || s->input || s->eof)
          return mon_fatal_channel (m, "data on an unknown or closed stream");
        if (h->len == 0)
          {
            s->eof = true;
            stream_flush_output (m, s);
            return;
          }
        if (h->len > s->window)
          return mon_fatal_channel (m, "stream exceeded its credit");
        s->window -= h->len;
        size_t done = 0;
        if (s->pending.len == s->pending_off)
          done = stream_write_out (m, s, payload, h->len);
        if (done < h->len
            && ko_buf_append (&s->pending, payload + done, h->len - done) < 0)
          return mon_fatal_channel (m, "out of memory");
        stream_flush_output (m, s);
        return;
      }
    case KO_FRAME_CREDIT:
      {
        struct stream *s = stream_find (m, h->stream);
        uint32_t v = payload[0] | (payload[1] << 8) | (payload[2] << 16)
                     | ((uint32_t)payload[3] << 24);
        if (s == NULL || !s->input)
          return mon_fatal_channel (m, "credit for an unknown stream");
        if (v > 16 * KO_STREAM_WINDOW || s->credit + v > 16 * KO_STREAM_WINDOW)
          return mon_fatal_channel (m, "credit overflow");
        s->credit += v;
        stream_pump_input (m, s);
        return;
      }
    default:
      return mon_fatal_channel (m, "unexpected frame type");
    }
}

static void
chan_on_readable (struct monitor *m)
{
  for (;;)
    {
      if (ko_buf_reserve (&m->chan_in, 65536) < 0)
        return mon_fatal_channel (m, "out of memory");
      ssize_t n = read (m->chan, m->chan_in.data + m->chan_in.len, 65536);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        break;
      if (n <= 0)
        return mon_fatal_channel (m, n == 0 ? "agent closed the channel"
                                            : strerror (errno));
      m->chan_in.len += n;
      size_t off = 0;
      while (m->chan_in.len - off >= KO_FRAME_HDR_SIZE && !m->chan_dead)
        {
          struct ko_frame_hdr h;
          _cleanup_error_ ko_error *err = NULL;
          if (ko_frame_hdr_decode (m->chan_in.data + off, &h, &err) < 0)
            return mon_fatal_channel (m, err->msg);
          if (m->chan_in.len - off < KO_FRAME_HDR_SIZE + (size_t)h.len)
            break;
          handle_frame (m, &h, m->chan_in.data + off + KO_FRAME_HDR_SIZE);
          off += KO_FRAME_HDR_SIZE + h.len;
        }
      if (m->chan_dead)
        return;
      memmove (m->chan_in.data, m->chan_in.data + off, m->chan_in.len - off);
      m->chan_in.len -= off;
      if ((size_t)n < 65536)
        break;
    }
}

static void
mon_fatal_channel (struct monitor *m, const char *why)
{
  if (m->chan_dead)
    return;
  m->chan_dead = true;
  if (!m->destroy_requested && !m->init_exited)
    ko_log (m->created ? KO_LOG_ERROR : KO_LOG_DEBUG,
            "container %s: agent channel: %s", m->p->id, why);
  if (m->chan >= 0)
    {
      epoll_ctl (m->epfd, EPOLL_CTL_DEL, m->chan, NULL);
      close (m->chan);
      m->chan = -1;
    }
}

/* ---------- children and signals ---------- */

static void
reap_children (struct monitor *m)
{
  /* only our helpers by pid: the holder is left for whoever waits for it */
  pid_t kids[] = { m->qemu_pid, m->virtiofsd_pid };
  for (size_t i = 0; i < KO_ARRAY_SIZE (kids); i++)
    {
      pid_t pid = kids[i];
      int status = 0;
      if (pid <= 0 || waitpid (pid, &status, WNOHANG) != pid)
        continue;
      if (pid == m->qemu_pid)
        {
          m->qemu_status = status;
          m->qemu_pid = 0;
          m->vm_gone = true;
          if (!m->init_exited && !m->destroy_requested)
            ko_log (m->created ? KO_LOG_ERROR : KO_LOG_DEBUG,
                    "container %s: qemu exited unexpectedly", m->p->id);
        }
      else if (pid == m->virtiofsd_pid)
        {
          m->virtiofsd_pid = 0;
          /* the guest's root filesystem is gone: stop, as for QEMU */
          if (!m->init_exited && !m->destroy_requested && !m->vm_gone)
            {
              ko_log (m->created ? KO_LOG_ERROR : KO_LOG_DEBUG,
                      "container %s: virtiofsd exited unexpectedly: "
                      "stopping the container",
                      m->p->id);
              m->destroy_requested = true;
            }
        }
    }
  /* The holder is the --pid-file process: its status belongs to conmon
   * (or containerd's shim), which reaps it once we have exited. Look
   * without reaping. If it died, the container's pid is gone: stop. */
  siginfo_t si = { 0 };
  if (m->holder_pid > 0 && !m->holder_gone
      && waitid (P_PID, (id_t)m->holder_pid, &si, WEXITED | WNOHANG | WNOWAIT)
             == 0
      && si.si_pid == m->holder_pid)
    {
      m->holder_gone = true;
      if (!m->init_exited && !m->destroy_requested)
        {
          ko_log (m->created ? KO_LOG_WARN : KO_LOG_DEBUG,
                  "container %s: its pid %d was killed: stopping the "
                  "container",
                  m->p->id, (int)m->holder_pid);
          m->destroy_requested = true;
        }
    }
}

static void mon_request_signal (struct monitor *m, int sig);

static void
on_signal (struct monitor *m)
{
  struct signalfd_siginfo si;
  while (read (m->sigfd, &si, sizeof si) == sizeof si)
    {
      switch (si.ssi_signo)
        {
        case SIGCHLD:
          reap_children (m);
          break;
        case SIGTERM:
        case SIGINT:
        case SIGQUIT:
        case SIGHUP:
        case SIGUSR1:
        case SIGUSR2:
          /* conmon forwards these to the pid it knows: ours */
          mon_request_signal (m, (int)si.ssi_signo);
          break;
        case SIGWINCH:
          if (m->tty_fd >= 0)
            console_forward_winsize (m->tty_fd, m->p->id, &m->chan_out);
          chan_flush (m);
          break;
        }
    }
}

/* ---------- the loop ---------- */

static void handle_cli (struct monitor *m);
static void exec_on_conn (struct monitor *m, struct exec_proc *e);
static void execs_finish (struct monitor *m);

static void
loop_once (struct monitor *m, int timeout_ms)
{
  struct epoll_event evs[16];
  /* non-pollable stdin (a file) is read whenever there is credit */
  for (size_t i = 0; i < m->nstreams; i++)
    {
      struct stream *s = m->streams[i];
      if (s->live && s->input && !s->pollable && !s->closed && !s->eof
          && s->credit)
        {
          stream_pump_input (m, s);
          timeout_ms = 0;
        }
    }
  int n = epoll_wait (m->epfd, evs, 16, timeout_ms);
  for (int i = 0; i < n; i++)
    {
      struct handler *h = evs[i].data.ptr;
      switch (h->kind)
        {
        case H_CHANNEL:
          if (m->chan < 0)
            break;
          if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            chan_on_readable (m);
          if (m->chan >= 0 && (evs[i].events & EPOLLOUT))
            chan_flush (m);
          break;
        case H_LISTEN:
          if (m->in_call)
            {
              /* one request at a time: look again after this call */
              epoll_ctl (m->epfd, EPOLL_CTL_DEL, m->listen_fd, NULL);
              m->listen_registered = false;
            }
          else
            handle_cli (m);
          break;
        case H_SIGNAL:
          on_signal (m);
          break;
        case H_STREAM_IN:
          stream_pump_input (m, h->obj);
          break;
        case H_STREAM_OUT:
          stream_flush_output (m, h->obj);
          break;
        case H_EXEC_CONN:
          exec_on_conn (m, h->obj);
          break;
        case H_QMP:
          break;
        case H_SINK:
          logsink_pump (h->obj); /* at EOF it closes the fd: epoll forgets it */
          break;
        }
    }
  execs_finish (m);
}

static bool
vm_alive (struct monitor *m)
{
  return !m->vm_gone && !m->chan_dead;
}

/* A synchronous call is over: CLI requests are served again. */
static void
call_end (struct monitor *m)
{
  m->in_call--;
  if (!m->in_call && !m->listen_registered && m->listen_fd >= 0)
    epoll_set (m, m->listen_fd, &m->h_listen, EPOLLIN, &m->listen_registered);
}

/* Sends a request to the agent and runs the loop until its reply. */
static int
mon_call (struct monitor *m, uint16_t method, const struct ko_buf *body,
          int timeout_ms, ko_error **err)
{
  if (!vm_alive (m))
    return ko_error_setx (err, EPIPE, "%s: the VM is gone",
                          ko_method_name (method));
  uint32_t id = ++m->next_id;
  if (ko_request_append (&m->chan_out, id, method, body) < 0)
    return ko_error_set (err, ENOMEM, "%s", ko_method_name (method));
  chan_flush (m);
  m->wait_id = id;
  m->wait_done = false;
  m->in_call++;
  uint64_t end = now_ms () + timeout_ms;
  while (!m->wait_done && vm_alive (m))
    {
      uint64_t now = now_ms ();
      if (now >= end)
        break;
      loop_once (m, (int)(end - now));
    }
  call_end (m);
  if (!m->wait_done)
    {
      if (!vm_alive (m))
        return ko_error_setx (err, EPIPE, "%s: the VM stopped",
                              ko_method_name (method));
      return ko_error_setx (err, ETIMEDOUT,
                            "%s: no answer from the agent after %d s",
                            ko_method_name (method), timeout_ms / 1000);
    }
  if (m->wait_status != 0)
    {
      struct ko_tlv r = { m->wait_body.data, m->wait_body.len };
      struct ko_field f;
      _cleanup_free_ char *msg = NULL;
      while (ko_tlv_next (&r, &f) > 0)
        if (f.tag == KO_TAG_ERROR && msg == NULL)
          {
            /* the guest's words: bounded, and made printable */
            if (ko_field_str (&f, &msg) < 0)
              msg = strdup ("(malformed error message)");
          }
      if (msg)
        for (char *c = msg; *c; c++)
          if ((unsigned char)*c < 0x20)
            *c = ' ';
      int status = m->wait_status < 4096 ? (int)m->wait_status : EIO;
      return ko_error_setx (err, status, "%s", msg ? msg : "agent error");
    }
  return 0;
}

static void
mon_request_signal (struct monitor *m, int sig)
{
  if (!vm_alive (m) || m->init_exited)
    return;
  struct ko_buf b = { 0 };
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, m->p->id);
  ko_tlv_put_u32 (&b, KO_TAG_SIGNAL, (uint32_t)sig);
  /* fire and forget: the reply is matched by nobody and dropped */
  ko_request_append (&m->chan_out, ++m->next_id, KO_M_SIGNAL_PROCESS, &b);
  ko_buf_free (&b);
  chan_flush (m);
}

/* ---------- state ---------- */

static void
record_status (struct monitor *m, const char *status)
{
  _cleanup_error_ ko_error *err = NULL;
  free (m->p->state.status);
  m->p->state.status = strdup (status);
  if (m->init_exited)
    {
      m->p->state.has_exit_status = true;
      m->p->state.exit_status = m->exit_status;
    }
  if (state_write (m->dirfd, &m->p->state, &err) < 0)
    log_warn ("container %s: %s", m->p->id, err->msg);
}

/* ---------- requests from the CLI ---------- */

/* Reads one REQUEST frame; fds sent with it (SCM_RIGHTS) land in fds. */
static int
cli_read_request (int fd, struct ko_buf *in, uint32_t *id, uint16_t *method,
                  struct ko_tlv *body, int *fds, int *nfds)
{
  uint64_t end = now_ms () + 5000;
  struct ko_frame_hdr h;
  *nfds = 0;
  for (;;)
    {
      if (in->len >= KO_FRAME_HDR_SIZE)
        {
          if (ko_frame_hdr_decode (in->data, &h, NULL) < 0
              || h.type != KO_FRAME_REQUEST)
            return -1;
          if (in->len >= KO_FRAME_HDR_SIZE + h.len)
            return ko_parse_request (in->data + KO_FRAME_HDR_SIZE, h.len, id,
                                     method, body);
        }
      uint64_t now = now_ms ();
      if (now >= end)
        return -1;
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      if (poll (&pfd, 1, (int)(end - now)) <= 0)
        return -1;
      if (ko_buf_reserve (in, 4096) < 0)
        return -1;
      union
      {
        char buf[CMSG_SPACE (3 * sizeof (int))];
        struct cmsghdr align;
      } u;
      struct iovec iov = { in->data + in->len, 4096 };
      struct msghdr msg = { .msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = u.buf,
                            .msg_controllen = sizeof u.buf };
      ssize_t n = recvmsg (fd, &msg, MSG_CMSG_CLOEXEC);
      if (n <= 0)
        return -1;
      for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c;
           c = CMSG_NXTHDR (&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
          {
            int k = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
            int *p = (int *)CMSG_DATA (c);
            for (int i = 0; i < k; i++)
              if (*nfds < 3)
                fds[(*nfds)++] = p[i];
              else
                close (p[i]);
          }
      in->len += n;
    }
}

static void
cli_reply (int fd, uint32_t id, int r, ko_error *err, const struct ko_buf *body)
{
  struct ko_buf out = { 0 };
  if (r < 0)
    ko_reply_error_append (&out, id, err && err->status ? err->status : EIO,
                           err ? err->msg : "error");
  else
    ko_reply_append (&out, id, 0, body);
  size_t off = 0;
  while (off < out.len)
    {
      ssize_t n = write (fd, out.data + off, out.len - off);
      if (n <= 0)
        break;
      off += n;
    }
  ko_buf_free (&out);
}

static int
do_start (struct monitor *m, ko_error **err)
{
  if (hooks_on_start (m->p->spec, m->p->id, m->holder_pid, m->p->state.bundle,
                      err)
      < 0)
    {
      /* the spec: a failing startContainer hook stops the container */
      m->destroy_requested = true;
      return -1;
    }
  struct ko_buf b = { 0 };
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, m->p->id);
  int r = mon_call (m, KO_M_START_CONTAINER, &b, MON_CALL_TIMEOUT_MS, err);
  ko_buf_free (&b);
  if (r < 0)
    return -1;
  log_debug ("container started");
  if (!m->init_exited)
    record_status (m, "running");
  hooks_after_start (m->p->spec, m->p->id, m->holder_pid, m->p->state.bundle);
  return 0;
}

static void
exec_free (struct monitor *m, struct exec_proc *e)
{
  if (e->conn >= 0)
    {
      epoll_ctl (m->epfd, EPOLL_CTL_DEL, e->conn, NULL);
      close (e->conn);
    }
  struct stream *ss[] = { e->in, e->out, e->err };
  for (int i = 0; i < 3; i++)
    if (ss[i])
      stream_remove (m, ss[i]);
  if (e->tty_fd >= 0)
    close (e->tty_fd);
  ko_buf_free (&e->conn_in);
  free (e->exec_id);
  free (e);
}

static int
exec_start (struct monitor *m, int conn, struct ko_tlv body, int *fds, int nfds,
            struct ko_buf *reply, ko_error **err)
{
  struct ko_field f;
  struct ko_process proc = { 0 };
  bool have_proc = false;
  _cleanup_free_ char *console = NULL;
  struct exec_proc *e = calloc (1, sizeof *e);
  int r = -1;
  if (e == NULL)
    goto out;
  e->conn = -1;
  e->tty_fd = -1;
  e->h = (struct handler){ H_EXEC_CONN, e };
  while (ko_tlv_next (&body, &f) > 0)
    {
      if (f.tag == KO_TAG_EXEC_ID && e->exec_id == NULL)
        ko_field_str (&f, &e->exec_id);
      else if (f.tag == KO_MON_TAG_CONSOLE_SOCKET && console == NULL)
        ko_field_str (&f, &console);
      else if (f.tag == KO_TAG_PROCESS && !have_proc)
        {
          if (ko_process_decode (&f, &proc, err) < 0)
            goto out;
          have_proc = true;
        }
    }
  if (e->exec_id == NULL || !have_proc)
    {
      ko_error_setx (err, EINVAL, "exec: malformed request");
      goto out;
    }
  if (m->init_exited || strcmp (m->p->state.status, "running") != 0)
    {
      ko_error_setx (err, EINVAL, "cannot exec in a %s container",
                     m->init_exited ? "stopped" : m->p->state.status);
      goto out;
    }
  for (size_t i = 0; i < m->nexecs; i++)
    if (strcmp (m->execs[i]->exec_id, e->exec_id) == 0)
      {
        ko_error_setx (err, EEXIST, "exec id %s is in use", e->exec_id);
        goto out;
      }
  if (m->nexecs >= MON_MAX_EXECS)
    {
      ko_error_setx (err, EAGAIN, "too many exec sessions (%d)", MON_MAX_EXECS);
      goto out;
    }
  uint32_t base = m->next_stream;
  m->next_stream += 3;
  int in_fd = nfds > 0 ? fds[0] : -1, out_fd = nfds > 1 ? fds[1] : -1,
      err_fd = nfds > 2 ? fds[2] : -1;
  if (proc.terminal && console)
    {
      if (console_make_pty (console, proc.rows, proc.cols, false, &e->tty_fd,
                            err)
          < 0)
        goto out;
      for (int i = 0; i < nfds; i++)
        close (fds[i]);
      nfds = 0;
      in_fd = dup (e->tty_fd);
      out_fd = dup (e->tty_fd);
      err_fd = -1;
    }
  e->in = stream_add (m, base, in_fd, true);
  e->out = stream_add (m, base + 1, out_fd, false);
  if (!proc.terminal)
    e->err = stream_add (m, base + 2, err_fd, false);
  else if (err_fd >= 0)
    close (err_fd);
  nfds = 0; /* the streams own them now */
  if (e->in == NULL || e->out == NULL || (!proc.terminal && e->err == NULL))
    {
      ko_error_setx (err, EAGAIN, "exec: too many streams");
      goto out;
    }
  proc.stdin_stream = base;
  proc.stdout_stream = base + 1;
  proc.stderr_stream = proc.terminal ? 0 : base + 2;
  struct ko_buf b = { 0 };
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, m->p->id);
  ko_tlv_put_str (&b, KO_TAG_EXEC_ID, e->exec_id);
  ko_process_encode (&b, KO_TAG_PROCESS, &proc);
  r = mon_call (m, KO_M_EXEC_PROCESS, &b, MON_CALL_TIMEOUT_MS, err);
  ko_buf_free (&b);
  if (r < 0)
    goto out;
  struct ko_tlv t = { m->wait_body.data, m->wait_body.len };
  uint32_t pid = 0;
  while (ko_tlv_next (&t, &f) > 0)
    if (f.tag == KO_TAG_PID)
      ko_field_u32 (&f, &pid);
  ko_tlv_put_u32 (reply, KO_TAG_PID, pid);
  stream_set_live (m, e->in);
  stream_set_live (m, e->out);
  if (e->err)
    stream_set_live (m, e->err);
  e->conn = conn;
  bool reg = false;
  epoll_set (m, conn, &e->h, EPOLLIN, &reg);
  m->execs[m->nexecs++] = e;
  e = NULL;
  r = 0;
out:
  for (int i = 0; i < nfds; i++)
    close (fds[i]);
  if (have_proc)
    ko_process_clear (&proc);
  if (e)
    exec_free (m, e);
  return r;
}

/* KILL and RESIZE from the caller of an exec, or its end. */
static void
exec_on_conn (struct monitor *m, struct exec_proc *e)
{
  if (ko_buf_reserve (&e->conn_in, 4096) < 0)
    return;
  ssize_t n = read (e->conn, e->conn_in.data + e->conn_in.len, 4096);
  if (n <= 0)
    {
      /* the caller went away; the process goes on, as with runc */
      epoll_ctl (m->epfd, EPOLL_CTL_DEL, e->conn, NULL);
      close (e->conn);
      e->conn = -1;
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
      struct ko_field f;
      if (ko_parse_request (e->conn_in.data + off + KO_FRAME_HDR_SIZE, h.len,
                            &id, &method, &body)
              == 0
          && !e->exited)
        {
          struct ko_buf b = { 0 };
          ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, m->p->id);
          ko_tlv_put_str (&b, KO_TAG_EXEC_ID, e->exec_id);
          while (ko_tlv_next (&body, &f) > 0)
            if (f.tag == KO_TAG_SIGNAL || f.tag == KO_TAG_ROWS
                || f.tag == KO_TAG_COLS)
              ko_tlv_put_bytes (&b, f.tag, f.val, f.len);
          if (method == KO_MON_KILL)
            ko_request_append (&m->chan_out, 0, KO_M_SIGNAL_PROCESS, &b);
          else if (method == KO_MON_RESIZE)
            ko_request_append (&m->chan_out, 0, KO_M_TTY_WIN_RESIZE, &b);
          ko_buf_free (&b);
          chan_flush (m);
        }
      off += KO_FRAME_HDR_SIZE + h.len;
    }
  memmove (e->conn_in.data, e->conn_in.data + off, e->conn_in.len - off);
  e->conn_in.len -= off;
}

/* An exec that exited and whose output is delivered: tell its caller. */
static void
execs_finish (struct monitor *m)
{
  for (size_t i = 0; i < m->nexecs;)
    {
      struct exec_proc *e = m->execs[i];
      bool done = e->exited && (e->out == NULL || e->out->closed)
                  && (e->err == NULL || e->err->closed);
      if (!done)
        {
          i++;
          continue;
        }
      if (e->conn >= 0)
        {
          struct ko_buf b = { 0 }, frame = { 0 };
          ko_tlv_put_u32 (&b, KO_TAG_STATUS, e->status);
          ko_event_append (&frame, KO_E_PROCESS_EXITED, &b);
          if (write (e->conn, frame.data, frame.len) < 0)
            { /* the caller is gone */
            }
          ko_buf_free (&b);
          ko_buf_free (&frame);
        }
      m->execs[i] = m->execs[--m->nexecs];
      exec_free (m, e);
    }
}

/* ---------- memory hotplug ---------- */

/* What a QMP exchange waits for: the command's reply and, for device_add,
 * the guest's acknowledgement of the device (ACPI _OST). */
struct qmp_wait
{
  const char *what; /* for messages */
  enum qmp_kind want;
  bool replied, ok;
  const char *ost_device;
  bool ost_done;
  int64_t ost_status;
};

/* Sends cmd (none: just wait for the greeting) and runs the loop until w is
 * satisfied or the deadline passes. */
static int
qmp_exchange (struct monitor *m, struct ko_qmp *q, const char *cmd,
              struct qmp_wait *w, uint64_t deadline, ko_error **err)
{
  if (cmd && qmp_send (q, cmd, err) < 0)
    return ko_error_wrap (err, "%s", w->what);
  int ret = 0;
  m->in_call++;
  for (;;)
    {
      struct qmp_msg msg = { 0 };
      int r = qmp_read (q, &msg, err);
      if (r < 0)
        {
          ret = ko_error_wrap (err, "%s", w->what);
          break;
        }
      if (r > 0)
        {
          if (msg.kind == QMP_EVENT)
            {
              if (w->ost_device && msg.device
                  && strcmp (msg.event, "ACPI_DEVICE_OST") == 0
                  && strcmp (msg.device, w->ost_device) == 0)
                {
                  w->ost_done = true;
                  w->ost_status = msg.status;
                }
            }
          else if (!w->replied)
            {
              w->replied = true;
              if (msg.kind == QMP_ERROR)
                ret = ko_error_setx (err, EIO, "%s: %s", w->what, msg.error);
              else if (msg.kind != w->want)
                ret = ko_error_setx (err, EPROTO, "%s: QMP: unexpected reply",
                                     w->what);
              else
                w->ok = true;
            }
          qmp_msg_clear (&msg);
          if (ret < 0)
            break;
          continue;
        }
      if (w->replied && (w->ost_device == NULL || w->ost_done))
        break;
      uint64_t now = now_ms ();
      if (now >= deadline)
        {
          ret = ko_error_setx (err, ETIMEDOUT, "%s: %s", w->what,
                               w->replied
                                   ? "the guest did not take the memory in time"
                                   : "no answer from QEMU in time");
          break;
        }
      loop_once (m, (int)(deadline - now));
    }
  call_end (m);
  return ret;
}

/* Plugs DIMMs of sizes[] (MiB) one after the other: each must be in the
 * guest before the next, whose struct pages it may hold. */
static int
plug_dimms (struct monitor *m, const int *sizes, int n, ko_error **err)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", m->p->dir, KO_QMP_SOCK);
  struct ko_qmp q = { .fd = -1 };
  if (qmp_connect (path, &q, err) < 0)
    return ko_error_wrap (err, "memory hotplug");
  bool reg = false;
  epoll_set (m, q.fd, &m->h_qmp, EPOLLIN, &reg);
  uint64_t deadline = now_ms () + MON_CALL_TIMEOUT_MS;
  struct qmp_wait greet = { .what = "QMP", .want = QMP_GREETING };
  struct qmp_wait caps = { .what = "qmp_capabilities", .want = QMP_RETURN };
  int r = qmp_exchange (m, &q, NULL, &greet, deadline, err);
  if (r == 0)
    r = qmp_exchange (m, &q, "{\"execute\": \"qmp_capabilities\"}", &caps,
                      deadline, err);
  for (int i = 0; r == 0 && i < n; i++)
    {
      unsigned seq = m->dimm_seq++;
      char cmd[512], mem[32], dimm[32];
      snprintf (mem, sizeof mem, "ko-mem%u", seq);
      snprintf (dimm, sizeof dimm, "ko-dimm%u", seq);
      /* like the boot RAM: virtiofsd must be able to map it */
      snprintf (cmd, sizeof cmd,
                "{\"execute\": \"object-add\", \"arguments\": "
                "{\"qom-type\": \"memory-backend-memfd\", \"id\": \"%s\", "
                "\"size\": %llu, \"share\": true}}",
                mem, (unsigned long long)sizes[i] << 20);
      struct qmp_wait add = { .what = "object-add", .want = QMP_RETURN };
      r = qmp_exchange (m, &q, cmd, &add, deadline, err);
      if (r < 0)
        break;
      snprintf (cmd, sizeof cmd,
                "{\"execute\": \"device_add\", \"arguments\": "
                "{\"driver\": \"pc-dimm\", \"id\": \"%s\", "
                "\"memdev\": \"%s\"}}",
                dimm, mem);
      struct qmp_wait dev
          = { .what = "device_add", .want = QMP_RETURN, .ost_device = dimm };
      r = qmp_exchange (m, &q, cmd, &dev, deadline, err);
      if (dev.ok)
        /* in the VM now, whatever the guest makes of it */
        memhp_commit (&m->memhp, sizes[i]);
      else if (dev.replied)
        {
          struct qmp_wait del = { .what = "object-del", .want = QMP_RETURN };
          snprintf (cmd, sizeof cmd,
                    "{\"execute\": \"object-del\", \"arguments\": "
                    "{\"id\": \"%s\"}}",
                    mem);
          qmp_exchange (m, &q, cmd, &del, deadline, NULL);
        }
      if (r == 0 && dev.ost_status != 0)
        r = ko_error_setx (err, EIO,
                           "the guest refused %d MiB of memory (ACPI _OST "
                           "status %lld)",
                           sizes[i], (long long)dev.ost_status);
    }
  epoll_ctl (m->epfd, EPOLL_CTL_DEL, q.fd, NULL);
  qmp_close (&q);
  return r;
}
/* Grows the VM until it holds need_mb: the host cgroup first, so QEMU may
 * use the new memory at once, then the DIMMs, then the guest checks that it
 * has them online. Never shrinks. */
static int
vm_grow (struct monitor *m, const oci_linux_resources *r, int64_t need_mb,
         ko_error **err)
{
  int sizes[KO_MEMHP_SLOTS], n;
  if (memhp_plan (&m->memhp, need_mb, sizes, KO_MEMHP_SLOTS, &n, err) < 0)
    return -1;
  if (n == 0)
    return 0;
  int target = memhp_total_mb (&m->memhp);
  for (int i = 0; i < n; i++)
    target += sizes[i];
  /* the memory limit only: the others follow the guest's */
  oci_linux_resources mem_only = { .memory = r->memory };
  if (cgroup_sandbox_update (&mem_only, target, err) < 0)
    return -1;
  int ret = plug_dimms (m, sizes, n, err);
  if (ret == 0)
    {
      struct ko_buf b = { 0 };
      ko_tlv_put_u32 (&b, KO_TAG_MEMORY_MB,
                      (uint32_t)memhp_total_mb (&m->memhp));
      ret = mon_call (m, KO_M_ONLINE_CPU_MEM, &b, MON_CALL_TIMEOUT_MS, err);
      ko_buf_free (&b);
    }
  if (ret < 0)
    /* what the VM really has now */
    cgroup_sandbox_update (&mem_only, memhp_total_mb (&m->memhp), NULL);
  else
    log_debug ("container %s: VM memory grown to %d MiB", m->p->id,
               memhp_total_mb (&m->memhp));
  return ret;
}

static int
do_update (struct monitor *m, struct ko_tlv body, ko_error **err)
{
  struct ko_field f;
  _cleanup_free_ char *json = NULL;
  while (ko_tlv_next (&body, &f) > 0)
    if (f.tag == KO_TAG_VALUE && json == NULL && ko_field_str (&f, &json) < 0)
      return ko_error_setx (err, EINVAL, "update: bad request");
  if (json == NULL)
    return ko_error_setx (err, EINVAL, "update: no resources");
  oci_linux_resources *r
      = oci_linux_resources_parse_data (json, strlen (json), "resources", err);
  if (r == NULL)
    return -1;
  int ret = 0;
  /* the VM grows before the guest's limit does */
  if (r->memory && r->memory->has_limit && r->memory->limit > 0
      && vm_grow (m, r, memhp_need_mb (r->memory->limit), err) < 0)
    ret = ko_error_wrap (err, "memory limit %lld", (long long)r->memory->limit);
  if (ret == 0)
    {
      struct ko_buf b = { 0 };
      ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, m->p->id);
      translate_resources (r, &b);
      ret = mon_call (m, KO_M_UPDATE_CONTAINER, &b, MON_CALL_TIMEOUT_MS, err);
      ko_buf_free (&b);
    }
  /* the host side follows: same group, new limits, the memory one covering
   * the VM as it is now (a smaller limit leaves the VM's size alone) */
  if (ret == 0)
    ret = cgroup_sandbox_update (r, memhp_total_mb (&m->memhp), err);
  oci_linux_resources_free (r);
  return ret;
}

/* QEMU's resident memory and CPU time, from /proc. */
static void
vm_host_usage (pid_t pid, uint64_t *rss, uint64_t *cpu_ns)
{
  char path[64], buf[1024];
  *rss = *cpu_ns = 0;
  snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  if (n <= 0)
    return;
  buf[n] = '\0';
  char *p = strrchr (buf, ')');
  unsigned long long ut = 0, st = 0, rsspages = 0;
  /* after ")": state(3) ... utime(14) stime(15) ... rss(24) */
  if (p
      && sscanf (p + 2,
                 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d "
                 "%*d %*d %*d %*d %*d %*u %*u %llu",
                 &ut, &st, &rsspages)
             == 3)
    {
      long tick = sysconf (_SC_CLK_TCK);
      *cpu_ns = (ut + st) * (1000000000ull / (tick > 0 ? tick : 100));
      *rss = rsspages * (uint64_t)sysconf (_SC_PAGESIZE);
    }
}

static int
do_stats (struct monitor *m, struct ko_buf *reply, ko_error **err)
{
  struct ko_buf b = { 0 };
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, m->p->id);
  int r = mon_call (m, KO_M_STATS_CONTAINER, &b, MON_CALL_TIMEOUT_MS, err);
  ko_buf_free (&b);
  if (r < 0)
    return -1;
  /* pass on only well-formed statistics: the guest's words */
  struct ko_tlv t = { m->wait_body.data, m->wait_body.len };
  struct ko_field f;
  uint64_t v;
  while (ko_tlv_next (&t, &f) > 0)
    if (f.tag >= KO_TAG_STAT_CPU_USAGE_NS && f.tag <= KO_TAG_STAT_OOM_KILLS
        && ko_field_u64 (&f, &v) == 0)
      ko_tlv_put_u64 (reply, f.tag, v);
  uint64_t rss, cpu;
  vm_host_usage (m->qemu_pid, &rss, &cpu);
  ko_tlv_put_u64 (reply, KO_MON_TAG_VM_RSS, rss);
  ko_tlv_put_u64 (reply, KO_MON_TAG_VM_CPU_NS, cpu);
  ko_tlv_put_u64 (reply, KO_MON_TAG_OOM_COUNT, m->oom_count);
  return 0;
}

static void
handle_cli (struct monitor *m)
{
  _cleanup_close_ int fd = accept4 (m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0)
    return;
  struct ko_buf in = { 0 }, reply = { 0 };
  uint32_t id;
  uint16_t method;
  struct ko_tlv body;
  _cleanup_error_ ko_error *err = NULL;
  int fds[3], nfds = 0;
  if (cli_read_request (fd, &in, &id, &method, &body, fds, &nfds) < 0)
    {
      for (int i = 0; i < nfds; i++)
        close (fds[i]);
      ko_buf_free (&in);
      return;
    }
  if (method == KO_MON_EXEC)
    {
      int conn = take_fd (fd);
      if (exec_start (m, conn, body, fds, nfds, &reply, &err) < 0)
        {
          cli_reply (conn, id, -1, err, NULL);
          close (conn);
        }
      else
        cli_reply (conn, id, 0, NULL, &reply);
      ko_buf_free (&in);
      ko_buf_free (&reply);
      return;
    }
  for (int i = 0; i < nfds; i++)
    close (fds[i]);
  int r = 0;
  struct ko_field f;
  switch (method)
    {
    case KO_MON_START:
      if (strcmp (m->p->state.status, "created") != 0)
        r = ko_error_setx (&err, EINVAL, "container %s is %s, not created",
                           m->p->id, m->p->state.status);
      else
        r = do_start (m, &err);
      break;
    case KO_MON_KILL:
      {
        uint32_t sig = SIGTERM, all = 0;
        while (ko_tlv_next (&body, &f) > 0)
          if (f.tag == KO_TAG_SIGNAL)
            ko_field_u32 (&f, &sig);
          else if (f.tag == KO_TAG_ALL)
            ko_field_u32 (&f, &all);
        struct ko_buf b = { 0 };
        ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, m->p->id);
        ko_tlv_put_u32 (&b, KO_TAG_SIGNAL, sig);
        if (all)
          ko_tlv_put_u32 (&b, KO_TAG_ALL, 1);
        r = mon_call (m, KO_M_SIGNAL_PROCESS, &b, MON_CALL_TIMEOUT_MS, &err);
        ko_buf_free (&b);
        break;
      }
    case KO_MON_DESTROY:
      m->destroy_requested = true;
      break;
    case KO_MON_PAUSE:
    case KO_MON_RESUME:
      {
        bool pause = method == KO_MON_PAUSE;
        const char *want = pause ? "running" : "paused";
        if (strcmp (m->p->state.status, want) != 0)
          {
            r = ko_error_setx (&err, EINVAL, "container %s is %s, not %s",
                               m->p->id, m->p->state.status, want);
            break;
          }
        struct ko_buf b = { 0 };
        ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, m->p->id);
        r = mon_call (m, pause ? KO_M_PAUSE_CONTAINER : KO_M_RESUME_CONTAINER,
                      &b, MON_CALL_TIMEOUT_MS, &err);
        ko_buf_free (&b);
        if (r == 0)
          record_status (m, pause ? "paused" : "running");
        break;
      }
    case KO_MON_PS:
      {
        struct ko_buf b = { 0 };
        ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, m->p->id);
        r = mon_call (m, KO_M_LIST_PROCESSES, &b, MON_CALL_TIMEOUT_MS, &err);
        ko_buf_free (&b);
        if (r == 0)
          {
            /* pass on only well-formed pids: the guest's words */
            struct ko_tlv t = { m->wait_body.data, m->wait_body.len };
            uint32_t pid;
            size_t n = 0;
            while (ko_tlv_next (&t, &f) > 0 && n < 65536)
              if (f.tag == KO_TAG_PID && ko_field_u32 (&f, &pid) == 0)
                {
                  ko_tlv_put_u32 (&reply, KO_TAG_PID, pid);
                  n++;
                }
          }
        break;
      }
    case KO_MON_UPDATE:
      r = do_update (m, body, &err);
      break;
    case KO_MON_STATS:
      r = do_stats (m, &reply, &err);
      break;
    default:
      r = ko_error_setx (&err, ENOSYS, "monitor: unsupported request %u",
                         method);
    }
  cli_reply (fd, id, r, err, &reply);
  ko_buf_free (&in);
  ko_buf_free (&reply);
}

/* ---------- setup ---------- */

/* mkdir -p for a path under the share (made by us: no symlinks to follow) */
static int
mkdir_parents (char *path)
{
  for (char *s = path + 1; *s; s++)
    if (*s == '/')
      {
        *s = '\0';
        int r = mkdir (path, 0755);
        *s = '/';
        if (r < 0 && errno != EEXIST)
          return -1;
      }
  return 0;
}

/* virtiofsd opens what the guest names: never a host device node, and
 * nothing on the share gains privileges when run on the host. path is one
 * of the share's mount points. */
static int
share_harden (const char *path, ko_error **err)
{
  struct mount_attr a = { .attr_set = MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID };
  if (syscall (SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &a, sizeof a)
      < 0)
    return ko_error_set (err, errno, "make %s nodev,nosuid", path);
  return 0;
}

static int
share_bind_one (const char *dir, const struct share_bind *b, ko_error **err)
{
  char path[4096];
  struct stat st;
  if (strstr (b->dest, "..") || b->dest[0] == '/')
    return ko_error_setx (err, EINVAL, "bad share path %s", b->dest);
  snprintf (path, sizeof path, "%s/%s/%s", dir, KO_SHARED_DIR, b->dest);
  if (stat (b->source, &st) < 0)
    return ko_error_set (err, errno, "mount source %s", b->source);
  if (mkdir_parents (path) < 0)
    return ko_error_set (err, errno, "mkdir %s", path);
  if (S_ISDIR (st.st_mode))
    {
      if (mkdir (path, 0755) < 0 && errno != EEXIST)
        return ko_error_set (err, errno, "mkdir %s", path);
    }
  else
    {
      int fd = open (path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0)
        return ko_error_set (err, errno, "create %s", path);
      close (fd);
    }
  if (mount (b->source, path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return ko_error_set (err, errno, "bind %s", b->source);
  if (b->readonly
      && mount (NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC,
                NULL)
             < 0)
    return ko_error_set (err, errno, "remount %s read-only", b->source);
  return share_harden (path, err);
}

static int
prepare_share (struct monitor *m, ko_error **err)
{
  const char *dir = m->p->dir;
  char path[4096];
  /* a private mount namespace: the share's bind mounts live and die with the
   * monitor and virtiofsd, so no host mount can ever be left behind */
  if (unshare (CLONE_NEWNS) < 0)
    return ko_error_set (err, errno, "unshare mount namespace");
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return ko_error_set (err, errno, "make mounts private");
  /* 0711: in the guest, a container in a user namespace sets up its mounts
   * as the namespace's root, which is not the guest's and must still pass
   * through to its rootfs; nobody may list. The state dir above keeps the
   * host's other users out. */
  snprintf (path, sizeof path, "%s/%s", dir, KO_SHARED_DIR);
  if ((mkdir (path, 0711) < 0 && errno != EEXIST) || chmod (path, 0711) < 0)
    return ko_error_set (err, errno, "mkdir %s", path);
  snprintf (path, sizeof path, "%s/%s/%s", dir, KO_SHARED_DIR, m->p->id);
  if ((mkdir (path, 0711) < 0 && errno != EEXIST) || chmod (path, 0711) < 0)
    return ko_error_set (err, errno, "mkdir %s", path);
  strncat (path, "/rootfs", sizeof path - strlen (path) - 1);
  if (mkdir (path, 0755) < 0 && errno != EEXIST)
    return ko_error_set (err, errno, "mkdir %s", path);
  /* resolved again, with no symlink, and bound from the fd: what was
   * checked at create is what the guest gets */
  _cleanup_close_ int rfd = hostpath_open_rootfs ("/", m->p->rootfs, err);
  if (rfd < 0)
    return -1;
  char fdpath[64];
  snprintf (fdpath, sizeof fdpath, "/proc/self/fd/%d", rfd);
  if (mount (fdpath, path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return ko_error_set (err, errno, "bind rootfs %s", m->p->rootfs);
  if (share_harden (path, err) < 0)
    return -1;
  for (size_t i = 0; i < m->p->nbinds; i++)
    if (share_bind_one (dir, &m->p->binds[i], err) < 0)
      return -1;
  return 0;
}

/* The holder: the pid `state` reports and, for a detached container,
 * the pid in --pid-file. It is parked in a mount namespace whose root is
 * the container's rootfs (the share's bind mount), so tools that enter
 * that pid's mount namespace to copy files (podman cp) write into the
 * container, not into the host as they would through the monitor.
 *
 * As conmon's waitee it lives exactly as long as the container: the
 * monitor writes the container's exit status to its pipe and exits; the
 * holder exits with that status at the pipe's EOF, i.e. once the monitor
 * has cleaned up. The signals conmon forwards to it go to the monitor,
 * which forwards them to the container's init. */
static pid_t holder_monitor;

static void
holder_forward (int sig)
{
  /* once reparented, our parent is no longer the monitor */
  if (getppid () == holder_monitor)
    kill (holder_monitor, sig);
}

static _Noreturn void
holder_main (const char *root, int status_fd)
{
  int null = open ("/dev/null", O_RDWR);
  if (null >= 0)
    {
      dup2 (null, 0);
      dup2 (null, 1);
      dup2 (null, 2);
    }
  if (dup2 (status_fd, 3) < 0)
    _exit (255);
  /* hold none of the container's stdio or the monitor's sockets */
  if (syscall (SYS_close_range, 4U, ~0U, 0U) < 0)
    for (int fd = 4; fd < 1024; fd++)
      close (fd);
  if (unshare (CLONE_NEWNS) < 0
      || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
      || chdir (root) < 0 || syscall (SYS_pivot_root, ".", ".") < 0
      || umount2 (".", MNT_DETACH) < 0 || chdir ("/") < 0
      || confine_drop_all_caps () < 0)
    _exit (255);
  int fwd[] = { KO_FORWARDED_SIGNALS };
  struct sigaction sa
      = { .sa_handler = holder_forward, .sa_flags = SA_RESTART };
  for (size_t i = 0; i < KO_ARRAY_SIZE (fwd); i++)
    sigaction (fwd[i], &sa, NULL);
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  unsigned char st = 255; /* the monitor died without a word */
  bool got = false;
  for (;;)
    {
      unsigned char b;
      ssize_t n = read (3, &b, 1);
      if (n == 1 && !got)
        {
          st = b;
          got = true;
        }
      else if (n == 0 || (n < 0 && errno != EINTR))
        _exit (st);
    }
}

static int
start_rootfs_holder (struct monitor *m, ko_error **err)
{
  char root[4096];
  snprintf (root, sizeof root, "%s/%s/%s/rootfs", m->p->dir, KO_SHARED_DIR,
            m->p->id);
  int pfd[2];
  if (pipe2 (pfd, O_CLOEXEC) < 0)
    return ko_error_set (err, errno, "pipe");
  holder_monitor = getpid ();
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (pfd[0]);
      close (pfd[1]);
      return ko_error_set (err, errno, "fork");
    }
  if (pid == 0)
    {
      close (pfd[1]);
      holder_main (root, pfd[0]);
    }
  close (pfd[0]);
  m->holder_fd = pfd[1];
  m->holder_pid = pid;
  m->p->state.holder_pid = pid;
  m->p->state.holder_start = proc_start_time (pid);
  record_status (m, "creating");
  return 0;
}

/* The child of holder_add_volumes: clones each volume's share mount
 * (here, in the monitor's namespace), enters the holder's and attaches
 * each clone at its container path, resolved inside the rootfs. Returns
 * how many were left out, or -1. */
static int
holder_volumes_child (struct monitor *m)
{
  size_t n = m->p->nbinds;
  int *trees = calloc (n, sizeof *trees);
  if (trees == NULL)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      char path[4096];
      snprintf (path, sizeof path, "%s/%s/%s", m->p->dir, KO_SHARED_DIR,
                m->p->binds[i].dest);
      /* a detached copy keeps its read-only flag, and can be attached in
       * another namespace, which a plain bind cannot */
      trees[i]
          = (int)syscall (SYS_open_tree, AT_FDCWD, path,
                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
      if (trees[i] < 0)
        return -1;
    }
  char ns[64];
  snprintf (ns, sizeof ns, "/proc/%d/ns/mnt", (int)m->holder_pid);
  int nsfd = open (ns, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0 || setns (nsfd, CLONE_NEWNS) < 0)
    return -1;
  /* setns made the holder's root (the rootfs) ours */
  int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return -1;
  int left = 0;
  for (size_t i = 0; i < n; i++)
    {
      /* the rootfs is the container's to shape: its symlinks resolve
       * inside it, never to a host path */
      struct open_how how
          = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
      int dfd = (int)syscall (SYS_openat2, root, m->p->binds[i].ctr_dest, &how,
                              sizeof how);
      if (dfd < 0
          || syscall (SYS_move_mount, trees[i], "", dfd, "",
                      MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
                 < 0)
        left++; /* e.g. under a tmpfs of the guest: not in the rootfs */
      if (dfd >= 0)
        close (dfd);
    }
  return left;
}

/* Gives the holder's mount namespace the container's volumes at their
 * container paths. podman cp into a running container writes through that
 * namespace (see holder_main): without them a file meant for a volume
 * would land in the rootfs under it. The guest has made the mount points
 * through virtio-fs by now. A child does the work, as setns would move
 * the monitor itself. Best effort: a volume left out misroutes podman cp,
 * nothing else. */
static void
holder_add_volumes (struct monitor *m)
{
  if (m->p->nbinds == 0 || m->holder_pid <= 0)
    return;
  pid_t pid = fork ();
  if (pid == 0)
    {
      int left = holder_volumes_child (m);
      _exit (left < 0 ? 255 : left > 254 ? 254 : left);
    }
  int st = 0;
  if (pid > 0 && waitpid (pid, &st, 0) == pid && WIFEXITED (st)
      && WEXITSTATUS (st) == 0)
    return;
  if (pid > 0 && WIFEXITED (st) && WEXITSTATUS (st) < 255)
    log_debug ("%d volume(s) not under the rootfs (a guest filesystem "
               "holds their mount point): not in the holder's namespace",
               WEXITSTATUS (st));
  else
    log_warn ("the volumes are not in the --pid-file process's mount "
              "namespace: podman cp into them will miss them");
}

static int
connect_channel (struct monitor *m, ko_error **err)
{
  uint64_t end = now_ms () + m->p->settings.boot_timeout_ms;
  for (;;)
    {
      int fd = -1;
      if (m->p->settings.vsock)
        {
          struct sockaddr_vm sa = { .svm_family = AF_VSOCK,
                                    .svm_cid = 3 + (getpid () % 100000),
                                    .svm_port = KO_AGENT_VSOCK_PORT };
          fd = socket (AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
          if (fd >= 0 && connect (fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            {
              m->chan = fd;
              return 0;
            }
        }
      else
        {
          struct sockaddr_un sa = { .sun_family = AF_UNIX };
          snprintf (sa.sun_path, sizeof sa.sun_path, "%s/%s", m->p->dir,
                    KO_AGENT_SOCK);
          fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
          if (fd >= 0 && connect (fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            {
              m->chan = fd;
              return 0;
            }
        }
      if (fd >= 0)
        close (fd);
      reap_children (m);
      if (m->vm_gone)
        return -1; /* the caller reports QEMU's own words */
      if (now_ms () >= end)
        return ko_error_setx (err, ETIMEDOUT,
                              "timed out connecting to the agent channel");
      usleep (10000);
    }
}

/* What the helpers wrote until now: they have exited, or may have. */
static void
sinks_drain (struct monitor *m)
{
  for (size_t i = 0; i < KO_ARRAY_SIZE (m->sinks); i++)
    logsink_pump (&m->sinks[i]);
}

static int
vm_failure (struct monitor *m, ko_error **err)
{
  sinks_drain (m);
  _cleanup_free_ char *tail = hypervisor_log_tail (m->p->dir, KO_QEMU_LOG, 3);
  if (tail && *tail)
    return ko_error_setx (err, EIO, "qemu failed to start: %s", tail);
  int st = m->qemu_status;
  if (WIFSIGNALED (st))
    return ko_error_setx (err, EIO,
                          "qemu failed to start: killed by signal %d (%s), "
                          "with no message",
                          WTERMSIG (st), strsignal (WTERMSIG (st)));
  if (WEXITSTATUS (st) == 0)
    {
      /* -no-reboot: the guest powered off or reset (a kernel panic, or
       * the agent's fatal error) before the agent said hello */
      _cleanup_free_ char *panic = hypervisor_guest_panic (m->p->dir);
      if (panic)
        return ko_error_setx (err, EIO,
                              "the guest kernel panicked before its agent "
                              "said hello: %s",
                              panic);
      _cleanup_free_ char *con
          = hypervisor_log_tail (m->p->dir, KO_CONSOLE_LOG, 3);
      return ko_error_setx (err, EIO,
                            "the guest stopped before its agent said hello "
                            "(guest console: %s)",
                            con && *con ? con : "empty");
    }
  return ko_error_setx (err, EIO,
                        "qemu failed to start: exit status %d, with no "
                        "message",
                        WEXITSTATUS (st));
}

static int
wait_hello (struct monitor *m, ko_error **err)
{
  uint64_t end = now_ms () + m->p->settings.boot_timeout_ms;
  while (!m->hello)
    {
      if (m->vm_gone)
        return vm_failure (m, err);
      if (m->chan_dead)
        {
          /* most often QEMU itself failed: give it a moment to be reaped */
          for (int i = 0; i < 20 && !m->vm_gone; i++)
            {
              usleep (50000);
              reap_children (m);
            }
          if (m->vm_gone)
            return vm_failure (m, err);
        }
      if (m->chan_dead)
        return ko_error_setx (err, EPIPE,
                              "the agent channel closed before the agent "
                              "said hello");
      uint64_t now = now_ms ();
      if (now >= end)
        {
          _cleanup_free_ char *tail
              = hypervisor_log_tail (m->p->dir, KO_CONSOLE_LOG, 2);
          return ko_error_setx (err, ETIMEDOUT,
                                "timed out after %d s waiting for the guest "
                                "agent (guest console: %s)",
                                m->p->settings.boot_timeout_ms / 1000,
                                tail && *tail ? tail : "empty");
        }
      loop_once (m, (int)(end - now > 100 ? 100 : end - now));
    }
  if (m->agent_version != KO_PROTO_VERSION)
    return ko_error_setx (err, EPROTO,
                          "agent speaks protocol version %u, not %u",
                          m->agent_version, KO_PROTO_VERSION);
  return 0;
}

/* The guest takes each passed interface's name, MTU and addresses, then
 * the routes. */
static int
network_in_guest (struct monitor *m, ko_error **err)
{
  struct ko_buf b = { 0 };
  for (size_t i = 0; i < m->net.nlinks; i++)
    {
      ko_net_iface_encode (&b, &m->net.links[i].iface);
      int r = mon_call (m, KO_M_UPDATE_INTERFACE, &b, MON_CALL_TIMEOUT_MS, err);
      ko_buf_free (&b);
      if (r < 0)
        return -1;
    }
  if (m->net.nroutes == 0)
    return 0;
  for (size_t i = 0; i < m->net.nroutes; i++)
    ko_net_route_encode (&b, KO_TAG_ROUTE, &m->net.routes[i]);
  int r = mon_call (m, KO_M_UPDATE_ROUTES, &b, MON_CALL_TIMEOUT_MS, err);
  ko_buf_free (&b);
  return r;
}

static int
create_in_guest (struct monitor *m, ko_error **err)
{
  struct ko_buf b = { 0 };
  ko_tlv_put_str (&b, KO_TAG_HOSTNAME, m->p->hostname);
  ko_tlv_put_str (&b, KO_TAG_SHARE_TAG, KO_SHARE_TAG);
  int r = mon_call (m, KO_M_CREATE_SANDBOX, &b, MON_CALL_TIMEOUT_MS, err);
  ko_buf_free (&b);
  if (r < 0 || network_in_guest (m, err) < 0)
    return -1;

  char rootfs[512];
  snprintf (rootfs, sizeof rootfs, "%s/rootfs", m->p->id);
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, m->p->id);
  ko_tlv_put_str (&b, KO_TAG_ROOTFS, rootfs);
  ko_tlv_put_str (&b, KO_TAG_HOSTNAME, m->p->hostname);
  ko_process_encode (&b, KO_TAG_PROCESS, &m->p->process);
  ko_buf_append (&b, m->p->container_tlv.data, m->p->container_tlv.len);
  r = mon_call (m, KO_M_CREATE_CONTAINER, &b, MON_CALL_TIMEOUT_MS, err);
  ko_buf_free (&b);
  if (r < 0)
    return -1;
  /* only now may stdin flow: data for a stream the agent does not know yet
   * would be dropped */
  for (size_t i = 0; i < m->nstreams; i++)
    stream_set_live (m, m->streams[i]);
  return 0;
}

static int
listen_monitor_sock (struct monitor *m, ko_error **err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf (sa.sun_path, sizeof sa.sun_path, "%s/%s", m->p->dir,
            KO_MONITOR_SOCK);
  m->listen_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (m->listen_fd < 0)
    return ko_error_set (err, errno, "socket");
  unlink (sa.sun_path);
  if (bind (m->listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0
      || listen (m->listen_fd, 8) < 0)
    return ko_error_set (err, errno, "listen on %s", sa.sun_path);
  epoll_set (m, m->listen_fd, &m->h_listen, EPOLLIN, &m->listen_registered);
  return 0;
}

static int
setup_stdio (struct monitor *m, ko_error **err)
{
  struct ko_process *pr = &m->p->process;
  if (pr->terminal)
    {
      int in_fd = 0, out_fd = 1;
      if (m->p->console_socket)
        {
          if (console_make_pty (m->p->console_socket, pr->rows, pr->cols, true,
                                &m->tty_fd, err)
              < 0)
            return -1;
          in_fd = dup (m->tty_fd);
          out_fd = dup (m->tty_fd);
          if (in_fd < 0 || out_fd < 0)
            return ko_error_set (err, errno, "dup");
          fcntl (in_fd, F_SETFD, FD_CLOEXEC);
          fcntl (out_fd, F_SETFD, FD_CLOEXEC);
        }
      else if (m->p->foreground)
        console_raw_stdin ();
      pr->stdin_stream = 1;
      pr->stdout_stream = 2;
      pr->stderr_stream = 0;
      stream_add (m, 1, in_fd, true);
      stream_add (m, 2, out_fd, false);
      return 0;
    }
  pr->stdin_stream = 1;
  pr->stdout_stream = 2;
  pr->stderr_stream = 3;
  stream_add (m, 1, fcntl (0, F_GETFD) >= 0 ? 0 : -1, true);
  stream_add (m, 2, fcntl (1, F_GETFD) >= 0 ? 1 : -1, false);
  stream_add (m, 3, fcntl (2, F_GETFD) >= 0 ? 2 : -1, false);
  return 0;
}

/* Drains fd into the state dir's NAME, bounded (logsink.h). */
static int
sink_start (struct monitor *m, int which, const char *name, int fd,
            ko_error **err)
{
  struct ko_logsink *k = &m->sinks[which];
  if (logsink_open (k, m->dirfd, name, fd, KO_LOG_CAP) < 0)
    return ko_error_set (err, errno, "open %s", name);
  m->h_sinks[which] = (struct handler){ H_SINK, k };
  bool reg = false;
  epoll_set (m, k->in, &m->h_sinks[which], EPOLLIN, &reg);
  return 0;
}

/* The guest may make setuid/setgid files through the share only when its
 * container may (CAP_FSETID in its bounding set, as podman's defaults
 * have): see confine_virtiofsd. */
static bool
setid_allowed (const oci_spec *spec)
{
  const oci_capabilities *c
      = spec && spec->process ? spec->process->capabilities : NULL;
  for (size_t i = 0; c && i < c->bounding_len; i++)
    if (strcmp (c->bounding[i], "CAP_FSETID") == 0)
      return true;
  return false;
}

static int
monitor_setup (struct monitor *m, ko_error **err)
{
  struct monitor_params *p = m->p;
  m->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (m->epfd < 0)
    return ko_error_set (err, errno, "epoll");
  m->dirfd = open (p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (m->dirfd < 0)
    return ko_error_set (err, errno, "open %s", p->dir);
  /* from here on a delete finds what to stop, even if the CLI that
   * created us and then we are killed: each helper is recorded as it
   * starts */
  record_status (m, "creating");

  sigset_t set;
  sigemptyset (&set);
  int sigs[] = { SIGCHLD, KO_FORWARDED_SIGNALS };
  for (size_t i = 0; i < KO_ARRAY_SIZE (sigs); i++)
    sigaddset (&set, sigs[i]);
  sigprocmask (SIG_BLOCK, &set, NULL);
  m->sigfd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (m->sigfd < 0)
    return ko_error_set (err, errno, "signalfd");
  bool reg = false;
  epoll_set (m, m->sigfd, &m->h_sig, EPOLLIN, &reg);

  if (hypervisor_check_assets (&p->settings, err) < 0)
    return -1;
  /* before virtiofsd and QEMU start, so that they are inside too */
  if (cgroup_sandbox_enter (p->spec, p->memory_mb, err) < 0)
    return -1;
  if (prepare_share (m, err) < 0)
    return -1;
  if (start_rootfs_holder (m, err) < 0)
    return -1;
  int vlog = -1;
  if (hypervisor_start_virtiofsd (&p->settings, p->dir, setid_allowed (p->spec),
                                  &m->virtiofsd_pid, &vlog, err)
          < 0
      || sink_start (m, SINK_VIRTIOFSD, KO_VIRTIOFSD_LOG, vlog, err) < 0)
    return ko_error_wrap (err, "virtiofsd");
  m->virtiofsd_start = proc_start_time (m->virtiofsd_pid);
  p->state.virtiofsd_pid = m->virtiofsd_pid;
  p->state.virtiofsd_start = m->virtiofsd_start;
  record_status (m, "creating");
  /* hotplug may grow the VM up to the host's memory, or less if asked */
  int64_t cap = memhp_host_mb ();
  if (p->max_memory_mb > 0 && p->max_memory_mb < cap)
    cap = p->max_memory_mb;
  memhp_init (&m->memhp, p->memory_mb, cap);
  /* the interfaces of the namespace the engine made, if it named one */
  struct ko_vm_nic nics[KO_VM_MAX_NICS];
  if (p->netns_path && network_setup (p->netns_path, &m->net, err) < 0)
    return -1;
  if (m->net.nlinks > 0)
    {
      p->state.netns = strdup (p->netns_path);
      record_status (m, "creating");
    }
  for (size_t i = 0; i < m->net.nlinks; i++)
    {
      nics[i].tap_fd = m->net.links[i].tap_fd;
      memcpy (nics[i].mac, m->net.links[i].iface.mac, 6);
    }
  struct ko_vm_config vm = { .nics = nics,
                             .nnics = m->net.nlinks,
                             .id = p->id,
                             .dir = p->dir,
                             .memory_mb = p->memory_mb,
                             .max_memory_mb = m->memhp.max_mb,
                             .memory_slots = m->memhp.slots,
                             .vcpus = p->vcpus,
                             .vsock_cid = 3 + (getpid () % 100000),
                             .uid = KO_QEMU_ID_BASE + (uid_t)getpid () };
  struct ko_vm_fds vfds = { -1, -1 };
  int qr = hypervisor_start_qemu (&p->settings, &vm, &m->qemu_pid, &vfds, err);
  if (qr == 0
      && (sink_start (m, SINK_CONSOLE, KO_CONSOLE_LOG, vfds.console, err) < 0
          || sink_start (m, SINK_QEMU, KO_QEMU_LOG, vfds.log, err) < 0))
    qr = -1;
  /* QEMU has its own copies: the taps go away with it */
  for (size_t i = 0; i < m->net.nlinks; i++)
    if (m->net.links[i].tap_fd >= 0)
      {
        close (m->net.links[i].tap_fd);
        m->net.links[i].tap_fd = -1;
      }
  if (qr < 0)
    return ko_error_wrap (err, "qemu");
  m->qemu_start = proc_start_time (m->qemu_pid);
  p->state.qemu_pid = m->qemu_pid;
  p->state.qemu_start = m->qemu_start;
  record_status (m, "creating");

  log_debug ("qemu %d and virtiofsd %d started", (int)m->qemu_pid,
             (int)m->virtiofsd_pid);
  if (connect_channel (m, err) < 0)
    return m->vm_gone ? vm_failure (m, err) : -1;
  set_nonblock (m->chan);
  bool creg = false;
  epoll_set (m, m->chan, &m->h_chan, EPOLLIN, &creg);
  if (wait_hello (m, err) < 0)
    return -1;
  log_debug ("agent hello: protocol %u", m->agent_version);
  if (setup_stdio (m, err) < 0)
    return -1;
  if (create_in_guest (m, err) < 0)
    return -1;
  holder_add_volumes (m);
  log_debug ("container created in the guest");
  if (hooks_on_create (p->spec, p->id, m->holder_pid, p->state.bundle, err) < 0)
    return -1;
  if (listen_monitor_sock (m, err) < 0)
    return -1;
  record_status (m, "created");
  return 0;
}

/* Kills and reaps every child left but the holder: what our helpers
 * forked and left to us as their subreaper (virtiofsd's sandboxed half). */
static void
reap_strays (struct monitor *m)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/self/task/%d/children", (int)getpid ());
  _cleanup_fclose_ FILE *f = fopen (path, "re");
  int pid;
  while (f && fscanf (f, "%d", &pid) == 1)
    if (pid != m->holder_pid)
      {
        kill (pid, SIGKILL);
        waitpid (pid, NULL, 0);
      }
}

/* Stops the VM and virtiofsd; waits for them. */
static void
monitor_teardown (struct monitor *m)
{
  /* a detached container's holder outlives us (see holder_main); `run`
   * in the foreground and a failed create have no use for it. The guest
   * is disposable and virtio-fs writes are write-through (no writeback
   * cache), so there is nothing to flush: stop the VM now. All are
   * killed first and then reaped: their exits (QEMU's takes 10-20 ms to
   * free the guest's memory) overlap. */
  pid_t *kids[] = { m->holder_pid > 0 && (m->p->foreground || !m->created)
                        ? &m->holder_pid
                        : NULL,
                    &m->qemu_pid, &m->virtiofsd_pid };
  for (size_t i = 0; i < KO_ARRAY_SIZE (kids); i++)
    if (kids[i] && *kids[i] > 0)
      kill (*kids[i], SIGKILL);
  for (size_t i = 0; i < KO_ARRAY_SIZE (kids); i++)
    if (kids[i] && *kids[i] > 0)
      {
        waitpid (*kids[i], NULL, 0);
        *kids[i] = 0;
      }
  reap_strays (m);
  if (m->chan >= 0)
    close (m->chan);
  m->chan = -1;
  sinks_drain (m);
  for (size_t i = 0; i < KO_ARRAY_SIZE (m->sinks); i++)
    logsink_close (&m->sinks[i]);
  if (m->oom_log.held)
    oom_log_line (m, m->oom_log.held);
  if (m->p->netns_path)
    network_teardown (m->p->netns_path, &m->net);
  /* the namespace dies with us, but `run` removes the state dir first */
  char path[4096];
  snprintf (path, sizeof path, "%s/%s/%s/rootfs", m->p->dir, KO_SHARED_DIR,
            m->p->id);
  umount2 (path, MNT_DETACH);
  for (size_t i = 0; i < m->p->nbinds; i++)
    {
      snprintf (path, sizeof path, "%s/%s/%s", m->p->dir, KO_SHARED_DIR,
                m->p->binds[i].dest);
      umount2 (path, MNT_DETACH);
    }
  cgroup_sandbox_remove (m->p->spec); /* QEMU and virtiofsd have left it */
}

/* Until the container ends: relay, serve the CLI, follow the VM. */
static void
monitor_loop (struct monitor *m)
{
  while (!m->init_exited && !m->destroy_requested && vm_alive (m))
    loop_once (m, -1);
  /* deliver what the guest already sent */
  uint64_t end = now_ms () + 2000;
  for (;;)
    {
      bool busy = false;
      for (size_t i = 0; i < m->nstreams; i++)
        {
          struct stream *s = m->streams[i];
          if (!s->input && !s->closed && s->pending.len > s->pending_off)
            busy = true;
        }
      if (!busy || now_ms () >= end || m->destroy_requested)
        break;
      loop_once (m, 50);
    }
}

/* Tells the CLI that forked us: "OK" and the pid for --pid-file, or "E"
 * and the error message. */
static void
report (int *fd, const char *errmsg, pid_t pid)
{
  if (*fd < 0)
    return;
  struct ko_buf b = { 0 };
  if (errmsg)
    {
      ko_buf_append (&b, "E", 1);
      ko_buf_append (&b, errmsg, strlen (errmsg));
    }
  else
    {
      char ok[32];
      int n = snprintf (ok, sizeof ok, "OK%d", (int)pid);
      ko_buf_append (&b, ok, (size_t)n);
    }
  if (write (*fd, b.data, b.len) != (ssize_t)b.len)
    { /* the CLI is gone: nobody to tell */
    }
  ko_buf_free (&b);
  close (*fd);
  *fd = -1;
}

/* From here on the monitor mostly relays stdio, and every page QEMU sends
 * wakes it. Under full load (2 host CPUs under TCG), a normal task's
 * wake-ups preempt QEMU's main thread while it holds QEMU's big lock, and
 * the vCPU then waits for that lock. SCHED_BATCH gets the monitor as much
 * CPU without preempting anyone on wake-up; what it forks from now on
 * (hooks) gets the normal policy back. */
static void
relay_as_batch (void)
{
  struct sched_param sp = { .sched_priority = 0 };
  if (sched_setscheduler (0, SCHED_BATCH | SCHED_RESET_ON_FORK, &sp) < 0)
    log_debug ("SCHED_BATCH: %s", strerror (errno));
}

int
monitor_run (struct monitor_params *p, int report_fd, ko_error **err)
{
  struct monitor mm = { .p = p,
                        .epfd = -1,
                        .chan = -1,
                        .listen_fd = -1,
                        .sigfd = -1,
                        .tty_fd = -1,
                        .holder_fd = -1,
                        .dirfd = -1 };
  struct monitor *m = &mm;
  m->h_chan = (struct handler){ H_CHANNEL, m };
  m->h_listen = (struct handler){ H_LISTEN, m };
  m->h_sig = (struct handler){ H_SIGNAL, m };
  m->h_qmp = (struct handler){ H_QMP, m };
  m->next_stream = 4;
  for (size_t i = 0; i < KO_ARRAY_SIZE (m->sinks); i++)
    m->sinks[i].in = m->sinks[i].out = -1;
  m->oom_log.interval_ms = 1000;

  p->state.monitor_pid = getpid ();
  p->state.monitor_start = proc_start_time (getpid ());
  /* what the helpers fork comes back to us, to be reaped before we say
   * the container stopped (virtiofsd's sandboxed child) */
  prctl (PR_SET_CHILD_SUBREAPER, 1);
  hooks_init (); /* before monitor_setup unshares the mount namespace */
  if (monitor_setup (m, err) < 0)
    {
      monitor_teardown (m);
      console_restore_stdin ();
      if (report_fd >= 0)
        {
          report (&report_fd, (*err)->msg, 0);
          return -1;
        }
      return -1;
    }
  if (p->autostart)
    {
      if (do_start (m, err) < 0)
        {
          monitor_teardown (m);
          console_restore_stdin ();
          report (&report_fd, (*err)->msg, 0);
          return -1;
        }
    }
  report (&report_fd, NULL, m->holder_pid);
  m->created = true;
  if (p->lock_fd >= 0)
    {
      close (p->lock_fd);
      p->lock_fd = -1;
    }
  if (!p->foreground)
    log_set_stderr (false);
  relay_as_batch ();
  monitor_loop (m);
  monitor_teardown (m);
  log_debug ("VM and virtiofsd stopped");
  console_restore_stdin ();
  if (!m->init_exited)
    {
      /* the VM went away under the container, or delete -f */
      m->init_exited = true;
      m->exit_status = 128 + SIGKILL;
    }
  record_status (m, "stopped");
  if (m->listen_fd >= 0)
    {
      char path[4096];
      snprintf (path, sizeof path, "%s/%s", p->dir, KO_MONITOR_SOCK);
      unlink (path);
    }
  if (m->holder_fd >= 0)
    {
      /* the holder exits with it when our exit closes the pipe */
      unsigned char b = (unsigned char)m->exit_status;
      if (write (m->holder_fd, &b, 1) != 1)
        { /* the holder is gone: nobody waits for this status */
        }
    }
  return m->exit_status;
}

/* ---------- the CLI's side ---------- */

int
monitor_call (const char *dir, uint16_t method, const struct ko_buf *body,
              struct ko_buf *reply, int timeout_ms, ko_error **err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf (sa.sun_path, sizeof sa.sun_path, "%s/%s", dir, KO_MONITOR_SOCK);
  _cleanup_close_ int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return ko_error_set (err, errno, "socket");
  if (connect (fd, (struct sockaddr *)&sa, sizeof sa) < 0)
    return ko_error_set (err, errno, "connect to the monitor");
  struct ko_buf out = { 0 };
  ko_request_append (&out, 1, method, body);
  ssize_t n = write (fd, out.data, out.len);
  ko_buf_free (&out);
  if (n < 0)
    return ko_error_set (err, errno, "send to the monitor");
  struct ko_buf in = { 0 };
  uint64_t end = now_ms () + timeout_ms;
  int ret = -1;
  for (;;)
    {
      if (in.len >= KO_FRAME_HDR_SIZE)
        {
          struct ko_frame_hdr h;
          if (ko_frame_hdr_decode (in.data, &h, err) < 0)
            break;
          if (in.len >= KO_FRAME_HDR_SIZE + h.len)
            {
              uint32_t id, status;
              struct ko_tlv b;
              if (h.type != KO_FRAME_REPLY
                  || ko_parse_reply (in.data + KO_FRAME_HDR_SIZE, h.len, &id,
                                     &status, &b)
                         < 0)
                {
                  ko_error_setx (err, EPROTO, "bad reply from the monitor");
                  break;
                }
              if (status)
                {
                  struct ko_field f;
                  _cleanup_free_ char *msg = NULL;
                  while (ko_tlv_next (&b, &f) > 0)
                    if (f.tag == KO_TAG_ERROR && msg == NULL)
                      ko_field_str (&f, &msg);
                  ko_error_setx (err, (int)status, "%s",
                                 msg ? msg : "monitor error");
                  break;
                }
              if (reply)
                ko_buf_append (reply, b.p, b.left);
              ret = 0;
              break;
            }
        }
      uint64_t now = now_ms ();
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      if (now >= end || poll (&pfd, 1, (int)(end - now)) <= 0)
        {
          ko_error_setx (err, ETIMEDOUT, "no answer from the monitor");
          break;
        }
      if (ko_buf_reserve (&in, 4096) < 0)
        {
          ko_error_set (err, ENOMEM, "monitor reply");
          break;
        }
      n = read (fd, in.data + in.len, 4096);
      if (n <= 0)
        {
          ko_error_setx (err, EPIPE, "the monitor closed the connection");
          break;
        }
      in.len += n;
    }
  ko_buf_free (&in);
  return ret;
}
