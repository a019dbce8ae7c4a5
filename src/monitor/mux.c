/* The one channel to the agent and the stdio streams it carries.
 * Everything read from the channel is hostile: frames are bounds-checked,
 * a stream may not exceed the credit it was given, and a malformed frame
 * ends the channel. */
#include "config.h"

#include "log.h"
#include "sandbox.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static void chan_on_event (struct ko_watch *w, uint32_t events);

void
mux_init (struct sandbox *sb)
{
  ko_watch_init (&sb->mux.w, &sb->loop, -1, chan_on_event, sb);
  sb->mux.next_stream = 1;
}

static void
chan_update_interest (struct sandbox *sb)
{
  struct mux *x = &sb->mux;
  if (x->w.fd < 0)
    return;
  ko_watch_set (&x->w, EPOLLIN | (x->out.len > x->out_off ? EPOLLOUT : 0));
}

void
mux_flush (struct sandbox *sb)
{
  struct mux *x = &sb->mux;
  while (x->w.fd >= 0 && x->out.len > x->out_off)
    {
      ssize_t n
          = write (x->w.fd, x->out.data + x->out_off, x->out.len - x->out_off);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN)
            break;
          mux_fail (sb, strerror (errno));
          return;
        }
      x->out_off += n;
      sb->chan[KO_CHAN_BYTES_OUT] += (uint64_t)n;
    }
  if (x->out_off == x->out.len)
    x->out.len = x->out_off = 0;
  else if (x->out_off > (1u << 20))
    {
      memmove (x->out.data, x->out.data + x->out_off, x->out.len - x->out_off);
      x->out.len -= x->out_off;
      x->out_off = 0;
    }
  chan_update_interest (sb);
}

void
mux_send (struct sandbox *sb, uint32_t stream, uint8_t type,
          const void *payload, size_t len)
{
  if (sb->mux.dead)
    return;
  if (ko_frame_append (&sb->mux.out, stream, type, payload, len) < 0)
    return mux_fail (sb, "out of memory queueing a frame");
  sb->chan[KO_CHAN_FRAMES_OUT]++;
  mux_flush (sb);
}

uint32_t
mux_new_stream_ids (struct sandbox *sb, uint32_t n)
{
  uint32_t base = sb->mux.next_stream;
  sb->mux.next_stream += n;
  return base;
}

/* ---------- stdio streams ---------- */

static struct stream *
stream_find (struct sandbox *sb, uint32_t id)
{
  for (size_t i = 0; i < sb->mux.nstreams; i++)
    if (sb->mux.streams[i]->id == id)
      return sb->mux.streams[i];
  return NULL;
}

static void
stream_update_interest (struct stream *s)
{
  if (!s->pollable || s->closed)
    return;
  uint32_t ev;
  if (s->input)
    ev = (s->live && !s->eof && s->credit > 0) ? EPOLLIN : 0;
  else
    ev = s->pending.len > s->pending_off ? EPOLLOUT : 0;
  ko_watch_set (&s->w, ev);
}

static void
stream_close (struct stream *s)
{
  if (s->closed)
    return;
  s->closed = true;
  int fd = ko_watch_release (&s->w);
  if (fd < 0)
    return;
  if (s->saved_flags >= 0)
    fcntl (fd, F_SETFL, s->saved_flags);
  /* fds 0-2 stay open: they may be the caller's (run in the foreground) */
  if (fd > 2)
    close (fd);
}

bool
stream_done (const struct stream *s)
{
  return s == NULL || s->closed;
}

static void
stream_send_credit (struct stream *s, bool force)
{
  if (s->to_ack == 0 || (!force && s->to_ack < KO_OUTPUT_WINDOW / 4))
    return;
  struct ko_msg_credit m = { s->to_ack };
  _cleanup_buf_ struct ko_buf b = { 0 };
  if (ko_msg_credit_encode (&b, &m) < 0)
    return mux_fail (s->sb, "out of memory");
  mux_send (s->sb, s->id, KO_FRAME_CREDIT, b.data, b.len);
  s->window += m.bytes;
  s->to_ack = 0;
}

/* Reads stdin and sends it while there is credit; a regular file or
 * /dev/null (not pollable) is read to the end of the credit at once. */
static void
stream_pump_input (struct stream *s)
{
  uint8_t buf[KO_DATA_MAX_PAYLOAD];
  while (s->live && !s->eof && !s->closed && s->credit > 0 && !s->sb->mux.dead)
    {
      size_t want = s->credit < sizeof buf ? s->credit : sizeof buf;
      ssize_t n = read (s->w.fd, buf, want);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        break;
      if (n <= 0)
        {
          /* EOF, or EIO on a pty whose master went away */
          mux_send (s->sb, s->id, KO_FRAME_DATA, NULL, 0);
          s->eof = true;
          stream_close (s);
          break;
        }
      mux_send (s->sb, s->id, KO_FRAME_DATA, buf, n);
      s->credit -= n;
    }
  stream_update_interest (s);
}

/* Writes output to the stream's fd until it would block; returns the bytes
 * written, which count as acknowledged. A write error closes the stream. */
static size_t
stream_write_out (struct stream *s, const uint8_t *p, size_t len)
{
  size_t done = 0;
  while (done < len && !s->closed)
    {
      ssize_t n = write (s->w.fd, p + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        break;
      if (n < 0)
        {
          log_debug ("stream %u: write: %s", s->id, strerror (errno));
          stream_close (s);
          break;
        }
      done += n;
    }
  s->to_ack += done;
  return done;
}

/* Writes what the guest sent; returns credit as the bytes leave. */
static void
stream_flush_output (struct stream *s)
{
  if (s->pending.len > s->pending_off)
    s->pending_off += stream_write_out (s, s->pending.data + s->pending_off,
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
  stream_send_credit (s, drained);
  if (drained && s->eof && !s->closed)
    stream_close (s);
  stream_update_interest (s);
}

static void
stream_on_event (struct ko_watch *w, uint32_t events)
{
  struct stream *s = w->data;
  (void)events;
  if (s->input)
    stream_pump_input (s);
  else
    stream_flush_output (s);
}

struct stream *
stream_add (struct sandbox *sb, uint32_t id, int fd, bool input)
{
  struct mux *x = &sb->mux;
  if (x->nstreams >= MON_MAX_STREAMS)
    return NULL;
  struct stream *s = calloc (1, sizeof *s);
  if (s == NULL)
    return NULL;
  x->streams[x->nstreams++] = s;
  s->sb = sb;
  s->id = id;
  s->input = input;
  s->credit = input ? KO_STREAM_WINDOW : 0;
  s->window = input ? 0 : KO_OUTPUT_WINDOW;
  s->saved_flags = -1;
  ko_watch_init (&s->w, &sb->loop, fd, stream_on_event, s);
  if (fd < 0)
    {
      s->closed = true;
      return s;
    }
  /* a pipe, socket or tty: non-blocking and event driven; a regular file
   * or /dev/null, which epoll refuses, is always ready */
  if (ko_watch_set (&s->w, EPOLLIN) == 0)
    {
      ko_watch_set (&s->w, 0);
      s->saved_flags = fcntl (fd, F_GETFL);
      fcntl (fd, F_SETFL, s->saved_flags | O_NONBLOCK);
      s->pollable = true;
    }
  return s;
}

/* Once the guest knows the stream, input may flow. */
void
stream_set_live (struct stream *s)
{
  s->live = true;
  if (s->input)
    stream_pump_input (s);
}

void
stream_remove (struct stream *s)
{
  struct mux *x = &s->sb->mux;
  stream_close (s);
  for (size_t i = 0; i < x->nstreams; i++)
    if (x->streams[i] == s)
      {
        x->streams[i] = x->streams[--x->nstreams];
        break;
      }
  ko_buf_free (&s->pending);
  free (s);
}

bool
mux_output_pending (struct sandbox *sb)
{
  for (size_t i = 0; i < sb->mux.nstreams; i++)
    {
      struct stream *s = sb->mux.streams[i];
      if (!s->input && !s->closed && s->pending.len > s->pending_off)
        return true;
    }
  return false;
}

/* ---------- frames from the guest ---------- */

static void
on_data (struct sandbox *sb, const struct ko_frame_hdr *h, const uint8_t *p)
{
  struct stream *s = stream_find (sb, h->stream);
  if (s == NULL || s->input || s->eof)
    return mux_fail (sb, "data on an unknown or closed stream");
  if (h->len == 0)
    {
      s->eof = true;
      stream_flush_output (s);
      return;
    }
  if (h->len > s->window)
    return mux_fail (sb, "stream exceeded its credit");
  s->window -= h->len;
  size_t done = 0;
  if (s->pending.len == s->pending_off)
    done = stream_write_out (s, p, h->len);
  if (done < h->len && ko_buf_append (&s->pending, p + done, h->len - done) < 0)
    return mux_fail (sb, "out of memory");
  stream_flush_output (s);
}

static void
on_credit (struct sandbox *sb, const struct ko_frame_hdr *h, const uint8_t *p)
{
  struct stream *s = stream_find (sb, h->stream);
  struct ko_tlv payload = { p, h->len };
  struct ko_msg_credit m;
  _cleanup_error_ ko_error *err = NULL;
  if (ko_msg_credit_decode (payload, &m, &err) < 0)
    return mux_fail (sb, err->msg);
  if (s == NULL || !s->input)
    return mux_fail (sb, "credit for an unknown stream");
  uint32_t v = m.bytes;
  if (v > 16 * KO_STREAM_WINDOW || s->credit + v > 16 * KO_STREAM_WINDOW)
    return mux_fail (sb, "credit overflow");
  s->credit += v;
  stream_pump_input (s);
}

static void
handle_frame (struct sandbox *sb, const struct ko_frame_hdr *h,
              const uint8_t *payload)
{
  struct ko_tlv body;
  switch (h->type)
    {
    case KO_FRAME_REPLY:
      {
        uint32_t id, status;
        if (ko_parse_reply (payload, h->len, &id, &status, &body) < 0)
          return mux_fail (sb, "malformed reply");
        return agent_on_reply (sb, id, status, body);
      }
    case KO_FRAME_EVENT:
      {
        uint16_t ev;
        if (ko_parse_event (payload, h->len, &ev, &body) < 0)
          return mux_fail (sb, "malformed event");
        return agent_on_event (sb, ev, body);
      }
    case KO_FRAME_DATA:
      return on_data (sb, h, payload);
    case KO_FRAME_CREDIT:
      return on_credit (sb, h, payload);
    default:
      return mux_fail (sb, "unexpected frame type");
    }
}

/* Handles every whole frame in x->in, keeps the rest. */
static void
mux_parse (struct sandbox *sb)
{
  struct mux *x = &sb->mux;
  size_t off = 0;
  while (x->in.len - off >= KO_FRAME_HDR_SIZE && !x->dead)
    {
      struct ko_frame_hdr h;
      _cleanup_error_ ko_error *err = NULL;
      if (ko_frame_hdr_decode (x->in.data + off, &h, &err) < 0)
        return mux_fail (sb, err->msg);
      if (x->in.len - off < KO_FRAME_HDR_SIZE + (size_t)h.len)
        break;
      sb->chan[KO_CHAN_FRAMES_IN]++;
      handle_frame (sb, &h, x->in.data + off + KO_FRAME_HDR_SIZE);
      off += KO_FRAME_HDR_SIZE + h.len;
    }
  if (x->dead)
    return;
  memmove (x->in.data, x->in.data + off, x->in.len - off);
  x->in.len -= off;
}

void
mux_input (struct sandbox *sb, const uint8_t *p, size_t n)
{
  if (sb->mux.dead || ko_buf_append (&sb->mux.in, p, n) < 0)
    return;
  mux_parse (sb);
}

#define CHAN_READ (64u << 10)

static void
chan_on_event (struct ko_watch *w, uint32_t events)
{
  struct sandbox *sb = w->data;
  struct mux *x = &sb->mux;
  /* straight into the input buffer; a few reads a turn while the guest
   * keeps it full, so that a busy channel costs few epoll rounds */
  for (int i = 0; i < 4 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)); i++)
    {
      if (ko_buf_reserve (&x->in, CHAN_READ) < 0)
        return mux_fail (sb, "out of memory");
      ssize_t n = read (w->fd, x->in.data + x->in.len, CHAN_READ);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        break;
      if (n <= 0)
        return mux_fail (sb, n == 0 ? "agent closed the channel"
                                    : strerror (errno));
      x->in.len += (size_t)n;
      sb->chan[KO_CHAN_BYTES_IN] += (uint64_t)n;
      mux_parse (sb);
      if (x->dead || (size_t)n < CHAN_READ)
        break;
    }
  if (x->w.fd >= 0 && (events & EPOLLOUT))
    mux_flush (sb);
}

void
mux_attach (struct sandbox *sb, int fd)
{
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
  sb->mux.w.fd = fd;
  chan_update_interest (sb);
}

void
mux_fail (struct sandbox *sb, const char *why)
{
  struct mux *x = &sb->mux;
  if (x->dead)
    return;
  x->dead = true;
  bool expected = sb->destroy_requested || sb->vm_gone;
  for (size_t i = 0; i < sb->nctrs && !expected; i++)
    expected = sb->ctrs[i]->init_exited;
  if (!expected)
    ko_log (sb->created ? KO_LOG_ERROR : KO_LOG_DEBUG,
            "container %s: agent channel: %s", sb->p->id, why);
  ko_watch_close (&x->w);
  agent_fail_all (sb, EPIPE, "the VM stopped");
}

void
mux_close (struct sandbox *sb)
{
  ko_watch_close (&sb->mux.w);
  sb->mux.dead = true;
  while (sb->mux.nstreams)
    stream_remove (sb->mux.streams[0]);
  ko_buf_free (&sb->mux.in);
  ko_buf_free (&sb->mux.out);
}
