#include "config.h"

#include "logsink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int
open_out (struct ko_logsink *s)
{
  s->out
      = openat (s->dirfd, s->name,
                O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  struct stat st;
  s->size = s->out >= 0 && fstat (s->out, &st) == 0 ? st.st_size : 0;
  return s->out;
}

int
logsink_open (struct ko_logsink *s, int dirfd, const char *name, int in,
              off_t cap)
{
  *s = (struct ko_logsink){
    .in = in, .out = -1, .dirfd = dirfd, .name = name, .cap = cap
  };
  fcntl (in, F_SETFL, fcntl (in, F_GETFL) | O_NONBLOCK);
  return open_out (s) < 0 ? -1 : 0;
}

static void
rotate (struct ko_logsink *s)
{
  char old[256];
  snprintf (old, sizeof old, "%s.1", s->name);
  close (s->out);
  renameat (s->dirfd, s->name, s->dirfd, old);
  open_out (s);
}

int
logsink_pump (struct ko_logsink *s)
{
  if (s->in < 0)
    return 0;
  char buf[16384];
  /* a bounded share of the loop per wake-up: the guest may never stop */
  for (int round = 0; round < 16; round++)
    {
      ssize_t n = read (s->in, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return 1;
      if (n <= 0)
        {
          close (s->in);
          s->in = -1;
          return 0;
        }
      if (s->size + n > s->cap)
        rotate (s);
      if (s->out >= 0 && write (s->out, buf, (size_t)n) == n)
        s->size += n;
    }
  return 1;
}

void
logsink_close (struct ko_logsink *s)
{
  if (s->in >= 0)
    close (s->in);
  if (s->out >= 0)
    close (s->out);
  s->in = s->out = -1;
}

bool
ko_ratelimit_ok (struct ko_ratelimit *r, uint64_t now_ms, uint64_t *held)
{
  if (r->started && now_ms - r->last_ms < r->interval_ms)
    {
      r->held++;
      return false;
    }
  *held = r->held;
  r->held = 0;
  r->last_ms = now_ms;
  r->started = true;
  return true;
}
