/* The one connection to the host: vsock when the VM has a vsock device,
 * else the virtio-serial port named KO_AGENT_SERIAL_NAME. Frames in, frames
 * out, with a bounded output queue. */
#define _GNU_SOURCE
#include "agent.h"
#include "agent-linux.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* DATA frames are queued only while less than this is pending; control
 * frames always are. Above IN_STOP pending bytes the agent stops reading
 * requests, so a host that does not read cannot make the agent grow. */
#define OUT_DATA_HIGH (128u << 10)
#define OUT_IN_STOP (512u << 10)
#define OUT_KEEP_CAP (16u << 10)
#define OUT_TRIM_IDLE_MS 200
#define SERIAL_RETRY_MS 10
#define SERIAL_RETRY_NS (SERIAL_RETRY_MS * 1000 * 1000)
#define SERIAL_FIND_TRIES 3000 /* x 10 ms */

enum channel_mode
{
  MODE_NONE,
  MODE_VSOCK,
  MODE_SERIAL
};

static struct
{
  enum channel_mode mode;
  struct ko_watch listen; /* vsock listening socket */
  struct ko_watch conn;   /* the connection / the serial port */
  struct ko_timer retry;  /* serial: looks again while the host is away */
  bool connected;
  /* input: header, then payload */
  uint8_t hdr[KO_FRAME_HDR_SIZE];
  size_t hdr_got;
  struct ko_frame_hdr h;
  uint8_t *payload;
  size_t pay_got;
  /* output: spliced DATA frames (`left` bytes in the staging pipes, see
   * "zero-copy output"), then the queue */
  struct
  {
    size_t left;
    bool active;
    int in_r, in_w;   /* a frame's payload, moved from the process's pipe */
    int out_r, out_w; /* whole frames, spliced to the port */
  } sp;
  bool splice_off; /* a splice failed once: copy from then on */
  struct ko_buf out;
  size_t out_off;
  size_t data_off; /* begin_data: where the frame starts */
} ch;

static size_t
out_pending (void)
{
  return ch.out.len - ch.out_off;
}

/* Nothing is waiting to be written: a spliced frame may start now. */
static bool
out_idle (void)
{
  return !ch.sp.active && out_pending () == 0;
}

bool
channel_connected (void)
{
  return ch.connected;
}

static void
update_interest (void)
{
  if (!ch.connected)
    return;
  uint32_t ev = 0;
  if (out_pending () < OUT_IN_STOP)
    ev |= EPOLLIN;
  if (!out_idle ())
    ev |= EPOLLOUT;
  /* 0 would unregister; EPOLLHUP/ERR are reported regardless */
  ag_watch_set_or_die (&ch.conn, ev ? ev : EPOLLRDHUP);
}

static void stage_close (void);

static void
reset_io (void)
{
  free (ch.payload);
  ch.payload = NULL;
  ch.hdr_got = ch.pay_got = 0;
  ko_buf_free (&ch.out);
  ch.out_off = 0;
  if (ch.sp.active)
    {
      /* bytes may be left in the staging pipes: start with new ones */
      stage_close ();
      ch.sp.active = false;
    }
}

static void
send_hello (void)
{
  struct ko_msg_hello m = { KO_PROTO_VERSION, KO_AGENT_VERSION };
  struct ko_buf b = { 0 };
  if (ko_msg_hello_encode (&b, &m) < 0)
    ag_fatal ("out of memory saying hello");
  channel_send_event (KO_E_HELLO, &b);
  ko_buf_free (&b);
}

static void
connected (void)
{
  ch.connected = true;
  reset_io ();
  streams_reset_credit ();
  if (ag_debug)
    {
      struct timespec t;
      clock_gettime (CLOCK_BOOTTIME, &t);
      ag_log ("host connected at %ld.%03ld s", (long)t.tv_sec,
              t.tv_nsec / 1000000);
    }
  send_hello ();
  update_interest ();
}

static void serial_wait_host (void);

static void
disconnected (const char *why)
{
  ag_log ("host connection lost (%s)", why);
  ch.connected = false;
  reset_io ();
  if (ch.mode == MODE_VSOCK)
    ko_watch_close (&ch.conn);
  else
    {
      ag_watch_set_or_die (&ch.conn, 0);
      serial_wait_host ();
    }
}

/* A frame the host should never send: there is no way to find the next
 * frame boundary, so drop the connection (vsock) or power off (serial). */
static void
protocol_error (const char *msg)
{
  ag_log ("malformed frame from the host: %s", msg);
  if (ch.mode == MODE_VSOCK)
    disconnected ("protocol error");
  else
    ag_fatal ("protocol error on the serial channel");
}

/* ---- output ---- */

void
channel_send_frame (uint32_t stream, uint8_t type, const void *p, size_t n)
{
  if (!ch.connected)
    return;
  if (ko_frame_append (&ch.out, stream, type, p, n) < 0)
    ag_fatal ("out of memory queueing a frame");
  update_interest ();
}

void
channel_send_reply (uint32_t id, const struct ko_buf *body)
{
  if (!ch.connected)
    return;
  if (ko_reply_append (&ch.out, id, 0, body) < 0)
    ag_fatal ("out of memory queueing a reply");
  update_interest ();
}

void
channel_send_error (uint32_t id, const ko_error *err)
{
  if (!ch.connected)
    return;
  ag_dbg ("request %u failed: %s", id, err->msg);
  if (ko_reply_error_append (&ch.out, id, err->status ? err->status : EIO,
                             err->msg)
      < 0)
    ag_fatal ("out of memory queueing a reply");
  update_interest ();
}

void
channel_send_event (uint16_t event, const struct ko_buf *body)
{
  if (!ch.connected)
    return;
  if (ko_event_append (&ch.out, event, body) < 0)
    ag_fatal ("out of memory queueing an event");
  update_interest ();
}

size_t
channel_data_room (void)
{
  if (!ch.connected || out_pending () >= OUT_DATA_HIGH)
    return 0;
  return OUT_DATA_HIGH - out_pending ();
}

uint8_t *
channel_begin_data (uint32_t stream, size_t max)
{
  ch.data_off = ch.out.len;
  if (ko_buf_reserve (&ch.out, KO_FRAME_HDR_SIZE + max) < 0)
    ag_fatal ("out of memory queueing data");
  struct ko_frame_hdr h = { .stream = stream, .type = KO_FRAME_DATA };
  ko_frame_hdr_encode (ch.out.data + ch.data_off, &h);
  return ch.out.data + ch.data_off + KO_FRAME_HDR_SIZE;
}

void
channel_commit_data (size_t len)
{
  if (len == 0)
    return;
  struct ko_frame_hdr h;
  uint8_t *hdr = ch.out.data + ch.data_off;
  h.stream = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16
             | (uint32_t)hdr[3] << 24;
  h.type = KO_FRAME_DATA;
  h.flags = 0;
  h.len = (uint32_t)len;
  ko_frame_hdr_encode (hdr, &h);
  ch.out.len = ch.data_off + KO_FRAME_HDR_SIZE + len;
  update_interest ();
}

/* ---- zero-copy output ----
 * virtio_console takes a splice's pages into the virtqueue without copying
 * them, but it sizes the buffer's scatterlist to every buffer the pipe
 * holds and then queues that whole list: a splice of fewer bytes than the
 * pipe holds queues empty entries, which QEMU rejects ("zero sized buffers
 * are not allowed") before it stops the port. So a frame is put together in
 * pipes of our own: its payload is moved (pages, not bytes) from the
 * process's pipe into `in`; its header is written to `out`, then the
 * payload moved after it; and `out`, holding exactly the frame, is spliced
 * to the port whole. One virtqueue buffer per frame. */

#define STAGE_OUT_SIZE (256u << 10) /* room for a header and all of `in` */

static void
stage_close (void)
{
  int *fds[] = { &ch.sp.in_r, &ch.sp.in_w, &ch.sp.out_r, &ch.sp.out_w };
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
    {
      if (*fds[i] >= 0)
        close (*fds[i]);
      *fds[i] = -1;
    }
}

static bool
stage_open (void)
{
  int a[2], b[2];
  if (pipe2 (a, O_NONBLOCK | O_CLOEXEC) < 0)
    return false;
  if (pipe2 (b, O_NONBLOCK | O_CLOEXEC) < 0)
    {
      close (a[0]);
      close (a[1]);
      return false;
    }
  ch.sp.in_r = a[0];
  ch.sp.in_w = a[1];
  ch.sp.out_r = b[0];
  ch.sp.out_w = b[1];
  if (fcntl (b[1], F_SETPIPE_SZ, STAGE_OUT_SIZE) < 0)
    {
      stage_close ();
      return false;
    }
  ag_dbg ("zero-copy output: staging pipes ready");
  return true;
}

/* Appends what pipe `fd` holds to the queue; false if it holds less than
 * `n` bytes. */
static bool
pipe_to_queue (int fd, size_t n)
{
  if (ko_buf_reserve (&ch.out, n) < 0)
    ag_fatal ("out of memory queueing data");
  while (n > 0)
    {
      ssize_t r = read (fd, ch.out.data + ch.out.len, n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return false;
      ch.out.len += r;
      n -= r;
    }
  return true;
}

/* A splice failed: turn splicing off, and copy the frame in progress (the
 * rest of it in `out`, then any payload still in `in`) to the queue, which
 * is empty while a spliced frame is in progress. */
static void
splice_failed (const char *what, size_t in_bytes)
{
  ag_log ("%s: copying from now on", what);
  ch.splice_off = true;
  int in_avail = 0;
  if (ioctl (ch.sp.in_r, FIONREAD, &in_avail) < 0)
    in_avail = 0;
  if (!pipe_to_queue (ch.sp.out_r, ch.sp.left - in_bytes)
      || (size_t)in_avail < in_bytes || !pipe_to_queue (ch.sp.in_r, in_bytes))
    ag_fatal ("the channel dropped part of a spliced frame");
  ch.sp.left = 0;
  ch.sp.active = false;
}

/* Writes what it can of the spliced frame in progress; returns -1 when the
 * connection is gone, else 0 (done, or the channel is full). */
static int
splice_some (void)
{
  while (ch.sp.left > 0)
    {
      ssize_t n = splice (ch.sp.out_r, NULL, ch.conn.fd, NULL, ch.sp.left,
                          SPLICE_F_NONBLOCK);
      if (n > 0)
        {
          ch.sp.left -= n;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return 0;
      if (n < 0 && errno != EINVAL && errno != ENOMEM)
        return -1; /* the connection */
      /* Refused (EINVAL, ENOMEM, or 0 from a pipe that holds the bytes):
       * the port either took nothing, or took the pages and dropped them
       * (virtio_console does that when it cannot queue the buffer), and
       * then the frame can never be completed. */
      splice_failed ("splice to the channel failed", 0);
      return 0;
    }
  ch.sp.active = false;
  return 0;
}

bool
channel_can_splice (void)
{
  return ch.connected && ch.mode == MODE_SERIAL && !ch.splice_off
         && !ag_no_splice;
}

bool
channel_splice_ready (void)
{
  return channel_can_splice () && out_idle ();
}

ssize_t
channel_splice_data (uint32_t stream, int fd, size_t max)
{
  if (!channel_can_splice ())
    return -1;
  if (!out_idle ())
    return 0;
  if (ch.sp.in_r < 0 && !stage_open ())
    return -1; /* maybe next time */
  ssize_t n;
  do
    n = splice (fd, NULL, ch.sp.in_w, NULL, max, SPLICE_F_NONBLOCK);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    {
      /* empty (EAGAIN) or EOF (0): the copy path tells which */
      if (n < 0 && errno != EAGAIN)
        {
          ag_log ("splice from a pipe failed (%s): copying from now on",
                  strerror (errno));
          ch.splice_off = true;
        }
      return -1;
    }
  uint8_t hdr[KO_FRAME_HDR_SIZE];
  struct ko_frame_hdr h
      = { .stream = stream, .type = KO_FRAME_DATA, .len = (uint32_t)n };
  ko_frame_hdr_encode (hdr, &h);
  if (write (ch.sp.out_w, hdr, sizeof hdr) != (ssize_t)sizeof hdr)
    {
      /* `out` is empty: only a failed page allocation gets here */
      ag_log ("cannot write to the staging pipe (%s): copying from now on",
              strerror (errno));
      ch.splice_off = true;
      if (ko_buf_append (&ch.out, hdr, sizeof hdr) < 0
          || !pipe_to_queue (ch.sp.in_r, n))
        ag_fatal ("lost %zd bytes of output", n);
      update_interest ();
      return n;
    }
  ch.sp.active = true;
  ch.sp.left = KO_FRAME_HDR_SIZE + (size_t)n;
  for (size_t moved = 0; moved < (size_t)n;)
    {
      ssize_t m = splice (ch.sp.in_r, NULL, ch.sp.out_w, NULL, n - moved,
                          SPLICE_F_NONBLOCK);
      if (m < 0 && errno == EINTR)
        continue;
      if (m <= 0)
        {
          splice_failed ("splice between pipes failed", n - moved);
          update_interest ();
          return n;
        }
      moved += m;
    }
  if (splice_some () < 0)
    disconnected (strerror (errno));
  else
    update_interest ();
  return n;
}

/* Writes what it can; returns -1 when the connection is gone. */
static int
flush_some (void)
{
  if (ch.sp.active)
    {
      if (splice_some () < 0)
        return -1;
      if (ch.sp.active)
        return 0;
    }
  while (out_pending () > 0)
    {
      ssize_t n = write (ch.conn.fd, ch.out.data + ch.out_off, out_pending ());
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN)
            break;
          return -1;
        }
      ch.out_off += n;
    }
  if (out_pending () == 0)
    ch.out.len = ch.out_off = 0; /* kept for the next frame: see trim */
  else if (ch.out_off >= (64u << 10))
    {
      memmove (ch.out.data, ch.out.data + ch.out_off, out_pending ());
      ch.out.len -= ch.out_off;
      ch.out_off = 0;
    }
  return 0;
}

/* A large output queue stays allocated while data flows (freeing it after
 * every flush cost an mmap, page faults and a munmap per frame: musl maps
 * blocks this size directly), and is given back once the loop has been idle
 * for OUT_TRIM_IDLE_MS. */
int
channel_trim_timeout (void)
{
  return ch.out.cap > OUT_KEEP_CAP && out_pending () == 0 ? OUT_TRIM_IDLE_MS
                                                          : -1;
}

void
channel_trim (void)
{
  if (out_pending () == 0 && ch.out.cap > OUT_KEEP_CAP)
    {
      ko_buf_free (&ch.out);
      ch.out_off = 0;
    }
}

void
channel_flush (int timeout_ms)
{
  struct timespec t0;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  while (ch.connected && !out_idle ())
    {
      if (flush_some () < 0)
        return;
      if (out_idle ())
        return;
      struct timespec t;
      clock_gettime (CLOCK_MONOTONIC, &t);
      long el
          = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
      if (el >= timeout_ms)
        return;
      struct pollfd pfd = { .fd = ch.conn.fd, .events = POLLOUT };
      poll (&pfd, 1, timeout_ms - el);
    }
}

/* ---- input ---- */

static void
dispatch_frame (void)
{
  const uint8_t *p = ch.payload;
  size_t n = ch.h.len;
  switch (ch.h.type)
    {
    case KO_FRAME_REQUEST:
      {
        uint32_t id;
        uint16_t method;
        struct ko_tlv body;
        if (ko_parse_request (p, n, &id, &method, &body) < 0)
          {
            protocol_error ("short request");
            return;
          }
        ag_dbg ("request %u %s", id, ko_method_name (method));
        rpc_dispatch (id, method, body);
        return;
      }
    case KO_FRAME_DATA:
      stream_on_data (ch.h.stream, p, n);
      return;
    case KO_FRAME_CREDIT:
      {
        struct ko_msg_credit c;
        struct ko_tlv payload = { p, n };
        if (ko_msg_credit_decode (payload, &c, NULL) < 0)
          {
            protocol_error ("malformed credit");
            return;
          }
        stream_on_credit (ch.h.stream, c.bytes);
        return;
      }
    default:
      protocol_error ("unexpected frame type from the host");
      return;
    }
}

/* Reads and dispatches what is available; returns -1 after a disconnect. */
static int
read_frames (void)
{
  for (int budget = 64; budget > 0 && ch.connected; budget--)
    {
      if (out_pending () >= OUT_IN_STOP)
        return 0;
      ssize_t n;
      if (ch.hdr_got < KO_FRAME_HDR_SIZE)
        {
          n = read (ch.conn.fd, ch.hdr + ch.hdr_got,
                    KO_FRAME_HDR_SIZE - ch.hdr_got);
          if (n > 0)
            {
              ch.hdr_got += n;
              if (ch.hdr_got < KO_FRAME_HDR_SIZE)
                continue;
              _cleanup_error_ ko_error *err = NULL;
              if (ko_frame_hdr_decode (ch.hdr, &ch.h, &err) < 0)
                {
                  protocol_error (err->msg);
                  return -1;
                }
              ch.pay_got = 0;
              if (ch.h.len > 0)
                {
                  ch.payload = malloc (ch.h.len);
                  if (ch.payload == NULL)
                    ag_fatal ("out of memory for a %u-byte frame", ch.h.len);
                  continue;
                }
            }
        }
      else
        {
          n = read (ch.conn.fd, ch.payload + ch.pay_got, ch.h.len - ch.pay_got);
          if (n > 0)
            {
              ch.pay_got += n;
              if (ch.pay_got < ch.h.len)
                continue;
            }
        }
      if (n == 0)
        {
          disconnected ("end of file");
          return -1;
        }
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN)
            return 0;
          disconnected (strerror (errno));
          return -1;
        }
      /* a whole frame */
      dispatch_frame ();
      free (ch.payload);
      ch.payload = NULL;
      ch.hdr_got = ch.pay_got = 0;
    }
  return 0;
}

static void
on_conn (struct ko_watch *w, uint32_t events)
{
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
    if (read_frames () < 0)
      return;
  if (!ch.connected)
    return;
  if (events & (EPOLLHUP | EPOLLERR) && !(events & EPOLLIN))
    {
      disconnected ("hang-up");
      return;
    }
  size_t before = out_pending ();
  if (flush_some () < 0)
    {
      disconnected (strerror (errno));
      return;
    }
  if (before >= OUT_DATA_HIGH / 2 && out_pending () < OUT_DATA_HIGH / 2)
    streams_resume ();
  else if (out_idle ())
    streams_resume ();
  update_interest ();
}

/* ---- vsock ---- */

static void
on_accept (struct ko_watch *w, uint32_t events)
{
  int fd = accept4 (w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    return;
  if (ch.conn.fd >= 0)
    {
      ag_log ("new host connection replaces the old one");
      ch.connected = false;
      ko_watch_close (&ch.conn);
    }
  ko_watch_init (&ch.conn, &ag_loop, fd, on_conn, NULL);
  connected ();
}

static bool
vsock_start (void)
{
  int dev = open ("/dev/vsock", O_RDONLY | O_CLOEXEC);
  if (dev < 0)
    return false;
  unsigned int cid = AG_VMADDR_CID_ANY;
  int r = ioctl (dev, AG_IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid);
  close (dev);
  if (r < 0 || cid == AG_VMADDR_CID_ANY || cid <= 2)
    return false;
  int fd = socket (AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  struct ag_sockaddr_vm sa = { .svm_family = AF_VSOCK,
                               .svm_port = KO_AGENT_VSOCK_PORT,
                               .svm_cid = AG_VMADDR_CID_ANY };
  if (bind (fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen (fd, 4) < 0)
    {
      ag_log ("vsock port %u: %s", KO_AGENT_VSOCK_PORT, strerror (errno));
      close (fd);
      return false;
    }
  ag_dbg ("listening on vsock cid %u port %u", cid, KO_AGENT_VSOCK_PORT);
  ch.mode = MODE_VSOCK;
  ko_watch_init (&ch.listen, &ag_loop, fd, on_accept, NULL);
  ag_watch_set_or_die (&ch.listen, EPOLLIN);
  return true;
}

/* ---- virtio-serial ---- */

static bool
serial_host_present (void)
{
  struct pollfd pfd = { .fd = ch.conn.fd, .events = POLLIN };
  if (poll (&pfd, 1, 0) < 0)
    return false;
  return !(pfd.revents & POLLHUP);
}

static void
serial_wait_host (void)
{
  ko_timer_arm (&ch.retry, ko_now_ms () + SERIAL_RETRY_MS);
}

static void
on_serial_retry (struct ko_timer *t)
{
  if (!serial_host_present ())
    serial_wait_host ();
  else
    connected ();
}

/* The port appears once the host's control messages are processed, a
 * little after the driver loads: poll for it. */
static char *
serial_find_port (void)
{
  for (int tries = 0; tries < SERIAL_FIND_TRIES; tries++)
    {
      DIR *d = opendir ("/sys/class/virtio-ports");
      struct dirent *e;
      while (d && (e = readdir (d)))
        {
          if (e->d_name[0] == '.')
            continue;
          char p[300], name[64];
          snprintf (p, sizeof p, "/sys/class/virtio-ports/%s/name", e->d_name);
          if (ag_read_str (p, name, sizeof name) > 0
              && strcmp (name, KO_AGENT_SERIAL_NAME) == 0)
            {
              char *dev;
              if (asprintf (&dev, "/dev/%s", e->d_name) < 0)
                ag_fatal ("out of memory");
              closedir (d);
              return dev;
            }
        }
      if (d)
        closedir (d);
      struct timespec ts = { .tv_nsec = SERIAL_RETRY_NS };
      nanosleep (&ts, NULL);
    }
  return NULL;
}

static void
serial_start (void)
{
  char *dev = serial_find_port ();
  if (dev == NULL)
    ag_fatal ("no vsock and no virtio-serial port named %s",
              KO_AGENT_SERIAL_NAME);
  int fd = -1;
  for (int tries = 0; tries < 100 && fd < 0; tries++)
    {
      fd = open (dev, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
      if (fd < 0 && errno == ENOENT)
        {
          /* devtmpfs node not there yet */
          struct timespec ts = { .tv_nsec = SERIAL_RETRY_NS };
          nanosleep (&ts, NULL);
          continue;
        }
      if (fd < 0)
        break;
    }
  if (fd < 0)
    ag_fatal ("open %s: %s", dev, strerror (errno));
  ag_dbg ("channel %s", dev);
  free (dev);
  ch.mode = MODE_SERIAL;
  ko_watch_init (&ch.conn, &ag_loop, fd, on_conn, NULL);
  ko_timer_init (&ch.retry, &ag_loop, on_serial_retry, NULL);
  if (serial_host_present ())
    connected ();
  else
    serial_wait_host ();
}

void
channel_start (void)
{
  ch.sp.in_r = ch.sp.in_w = ch.sp.out_r = ch.sp.out_w = -1;
  ko_watch_init (&ch.conn, &ag_loop, -1, on_conn, NULL);
  if (ag_serial_only || !vsock_start ())
    serial_start ();
}
