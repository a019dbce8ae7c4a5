/* stdio streams: process output -> DATA frames within the host's credit,
 * DATA frames -> process input, with CREDIT returned once written. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Output reads smaller than this wait for the channel to drain instead. */
#define MIN_READ 4096
/* Spliced frames sent per wake-up of one stream, before the loop goes on
 * to the others. */
#define SPLICE_BURST 4

static struct stream *streams;

static struct stream *
stream_find (uint32_t id)
{
  for (struct stream *s = streams; s; s = s->next)
    if (s->id == id)
      return s;
  return NULL;
}

static void
send_credit (uint32_t id, uint32_t n)
{
  struct ko_msg_credit m = { n };
  struct ko_buf b = { 0 };
  if (ko_msg_credit_encode (&b, &m) < 0)
    ag_fatal ("out of memory sending credit");
  channel_send_frame (id, KO_FRAME_CREDIT, b.data, b.len);
  ko_buf_free (&b);
}

/* Whether the stream's output goes to the channel by splice. */
static bool
use_splice (const struct stream *s)
{
  return s->is_pipe && channel_can_splice ();
}

static void
out_update (struct stream *s)
{
  if (!s->active || s->eof)
    return;
  bool can;
  if (use_splice (s))
    can = s->credit > 0 && channel_splice_ready ();
  else
    {
      size_t room = channel_data_room ();
      size_t want = s->credit < MIN_READ ? s->credit : MIN_READ;
      can = s->credit > 0 && room >= want && room > 0;
    }
  ag_watch_set_or_die (&s->w, can ? EPOLLIN : 0);
}

static void
in_update (struct stream *s)
{
  if (!s->active || s->eof)
    return;
  ag_watch_set_or_die (&s->w, s->pending.len > s->pending_off ? EPOLLOUT : 0);
}

static void
out_eof (struct stream *s)
{
  s->eof = true;
  ko_watch_close (&s->w);
  channel_send_frame (s->id, KO_FRAME_DATA, NULL, 0);
  if (s->proc)
    proc_check_done (s->proc);
}

/* Accounts for n bytes sent; true when that ended the stream (its process
 * is gone and the bytes it left are all sent). */
static bool
out_sent (struct stream *s, size_t n)
{
  s->credit -= n;
  if (!s->ending)
    return false;
  s->left = n >= s->left ? 0 : s->left - (uint32_t)n;
  if (s->left > 0)
    return false;
  out_eof (s);
  return true;
}

/* Copies what the pipe or pty holds into the channel's queue, or sees EOF. */
static void
copy_out (struct stream *s)
{
  struct ko_watch *w = &s->w;
  size_t max = s->credit;
  size_t room = channel_data_room ();
  if (max > KO_DATA_MAX_PAYLOAD)
    max = KO_DATA_MAX_PAYLOAD;
  if (max > room)
    max = room;
  if (max == 0)
    {
      out_update (s);
      return;
    }
  uint8_t *buf = channel_begin_data (s->id, max);
  ssize_t n = read (w->fd, buf, max);
  if (n > 0)
    {
      channel_commit_data (n);
      if (!out_sent (s, n))
        out_update (s);
      return;
    }
  channel_commit_data (0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  /* 0: the writers are gone; EIO: a pty whose slave side is closed */
  out_eof (s);
}

/* Sends what the pipe holds, within the credit, as frames whose payload
 * goes to the serial port as the pipe's pages (splice): no copy in the
 * agent, and none into a kernel buffer either. */
static void
splice_out (struct stream *s)
{
  for (int i = 0; i < SPLICE_BURST && s->credit > 0; i++)
    {
      size_t max = s->credit;
      if (max > KO_DATA_MAX_PAYLOAD)
        max = KO_DATA_MAX_PAYLOAD;
      if (s->ending && max > s->left)
        max = s->left;
      ssize_t n = channel_splice_data (s->id, s->w.fd, max);
      if (n < 0)
        {
          copy_out (s); /* EOF, empty, or splicing is off */
          return;
        }
      if (n == 0)
        break; /* the channel is busy: resumed when it is not */
      if (out_sent (s, n))
        return;
    }
  out_update (s);
}

static void
on_out (struct ko_watch *w, uint32_t events)
{
  struct stream *s = w->data;
  if (use_splice (s))
    splice_out (s);
  else
    copy_out (s);
}

static void
in_close (struct stream *s)
{
  s->eof = true;
  ko_watch_close (&s->w);
  ko_buf_free (&s->pending);
  s->pending_off = 0;
}

/* Writes queued input; returns the bytes written. */
static size_t
in_write (struct stream *s, const uint8_t *p, size_t n)
{
  size_t done = 0;
  while (done < n)
    {
      ssize_t w = write (s->w.fd, p + done, n - done);
      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno != EAGAIN)
            {
              /* the reader is gone: what is left will never be read */
              return (size_t)-1;
            }
          break;
        }
      done += w;
    }
  return done;
}

static void
on_in (struct ko_watch *w, uint32_t events)
{
  struct stream *s = w->data;
  size_t left = s->pending.len - s->pending_off;
  size_t n = in_write (s, s->pending.data + s->pending_off, left);
  if (n == (size_t)-1)
    {
      send_credit (s->id, left);
      in_close (s);
      return;
    }
  s->pending_off += n;
  if (n)
    send_credit (s->id, n);
  if (s->pending_off == s->pending.len)
    {
      ko_buf_free (&s->pending);
      s->pending_off = 0;
      if (s->eof_wanted)
        {
          in_close (s);
          return;
        }
    }
  in_update (s);
}

struct stream *
stream_new (uint32_t id, enum stream_kind kind, int fd, struct proc *p,
            bool is_tty)
{
  struct stream *s = calloc (1, sizeof *s);
  if (s == NULL)
    return NULL;
  s->id = id;
  s->kind = kind;
  s->proc = p;
  s->is_tty = is_tty;
  s->credit = kind == STREAM_OUT ? KO_OUTPUT_WINDOW : 0;
  struct stat st;
  s->is_pipe
      = kind == STREAM_OUT && fstat (fd, &st) == 0 && S_ISFIFO (st.st_mode);
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
  ko_watch_init (&s->w, &ag_loop, fd, kind == STREAM_OUT ? on_out : on_in, s);
  s->next = streams;
  streams = s;
  return s;
}

bool
stream_id_in_use (uint32_t id)
{
  return stream_find (id) != NULL;
}

void
stream_activate (struct stream *s)
{
  s->active = true;
  if (s->kind == STREAM_OUT)
    out_update (s);
  else
    in_update (s);
}

void
stream_free (struct stream *s)
{
  if (s == NULL)
    return;
  for (struct stream **pp = &streams; *pp; pp = &(*pp)->next)
    if (*pp == s)
      {
        *pp = s->next;
        break;
      }
  ko_watch_close (&s->w);
  ko_buf_free (&s->pending);
  free (s);
}

void
stream_on_data (uint32_t id, const uint8_t *p, size_t n)
{
  struct stream *s = stream_find (id);
  if (s == NULL || s->kind != STREAM_IN || s->eof || s->eof_wanted)
    {
      /* input for a process that is gone or closed its stdin: give the
       * credit back so the host never stalls on it */
      if (n)
        send_credit (id, n);
      return;
    }
  if (n == 0)
    {
      s->eof_wanted = true;
      if (s->pending.len == s->pending_off)
        in_close (s);
      return;
    }
  if (s->pending.len - s->pending_off + n > KO_STREAM_WINDOW)
    {
      ag_log ("stream %u: host sent beyond its credit; input dropped", id);
      send_credit (id, n);
      return;
    }
  size_t done = 0;
  if (s->pending.len == s->pending_off && s->active)
    {
      done = in_write (s, p, n);
      if (done == (size_t)-1)
        {
          send_credit (id, n);
          in_close (s);
          return;
        }
      if (done)
        send_credit (id, done);
    }
  if (done < n)
    {
      if (s->pending_off > 0 && s->pending_off == s->pending.len)
        s->pending.len = s->pending_off = 0;
      if (ko_buf_append (&s->pending, p + done, n - done) < 0)
        ag_fatal ("out of memory for stdin");
    }
  in_update (s);
}

void
stream_end_after_pending (struct stream *s)
{
  if (s == NULL || s->kind != STREAM_OUT || s->eof || s->ending)
    return;
  int n = 0;
  if (ioctl (s->w.fd, FIONREAD, &n) < 0 || n < 0)
    n = 0;
  s->ending = true;
  s->left = (uint32_t)n;
  if (n == 0)
    out_eof (s);
}

void
stream_on_credit (uint32_t id, uint32_t n)
{
  struct stream *s = stream_find (id);
  if (s == NULL || s->kind != STREAM_OUT)
    return;
  uint64_t c = (uint64_t)s->credit + n;
  /* a confused host cannot make us read unboundedly ahead */
  s->credit = c > 16 * (uint64_t)KO_OUTPUT_WINDOW ? 16 * KO_OUTPUT_WINDOW
                                                  : (uint32_t)c;
  out_update (s);
}

void
stream_close_input (struct stream *s)
{
  if (s == NULL || s->kind != STREAM_IN || s->eof)
    return;
  s->eof_wanted = true;
  if (s->pending.len == s->pending_off)
    in_close (s);
}

void
streams_resume (void)
{
  for (struct stream *s = streams; s; s = s->next)
    if (s->kind == STREAM_OUT)
      out_update (s);
}

void
streams_reset_credit (void)
{
  for (struct stream *s = streams; s; s = s->next)
    if (s->kind == STREAM_OUT)
      s->credit = KO_OUTPUT_WINDOW;
}
