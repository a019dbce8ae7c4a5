#include "loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

uint64_t
ko_now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t
ko_now_ms (void)
{
  return ko_now_ns () / 1000000;
}

int
ko_loop_init (struct ko_loop *l)
{
  l->timers = NULL;
  l->epfd = epoll_create1 (EPOLL_CLOEXEC);
  return l->epfd < 0 ? -1 : 0;
}

void
ko_loop_fini (struct ko_loop *l)
{
  while (l->timers)
    ko_timer_cancel (l->timers);
  if (l->epfd >= 0)
    close (l->epfd);
  l->epfd = -1;
}

static void
run_due_timers (struct ko_loop *l)
{
  uint64_t now = ko_now_ms ();
  /* a callback may arm or cancel any timer: take the head each time */
  while (l->timers && l->timers->due <= now)
    {
      struct ko_timer *t = l->timers;
      l->timers = t->next;
      t->armed = false;
      t->next = NULL;
      t->cb (t);
    }
}

int
ko_loop_once (struct ko_loop *l, int timeout_ms)
{
  if (l->timers)
    {
      uint64_t now = ko_now_ms ();
      uint64_t left = l->timers->due > now ? l->timers->due - now : 0;
      if (timeout_ms < 0 || left < (uint64_t)timeout_ms)
        timeout_ms = (int)(left > 86400000 ? 86400000 : left);
    }
  struct epoll_event ev;
  int n = epoll_wait (l->epfd, &ev, 1, timeout_ms);
  if (n < 0)
    return errno == EINTR ? 1 : -1;
  if (n == 1)
    {
      struct ko_watch *w = ev.data.ptr;
      w->cb (w, ev.events);
      return 1;
    }
  if (l->timers && l->timers->due <= ko_now_ms ())
    {
      run_due_timers (l);
      return 1;
    }
  return 0;
}

void
ko_watch_init (struct ko_watch *w, struct ko_loop *l, int fd, ko_watch_cb cb,
               void *data)
{
  w->loop = l;
  w->fd = fd;
  w->events = 0;
  w->cb = cb;
  w->data = data;
}

int
ko_watch_set (struct ko_watch *w, uint32_t events)
{
  if (w->fd < 0 || events == w->events)
    return 0;
  struct epoll_event ev = { .events = events, .data.ptr = w };
  int op = w->events == 0 ? EPOLL_CTL_ADD
           : events == 0  ? EPOLL_CTL_DEL
                          : EPOLL_CTL_MOD;
  if (epoll_ctl (w->loop->epfd, op, w->fd, &ev) < 0)
    return -1;
  w->events = events;
  return 0;
}

int
ko_watch_release (struct ko_watch *w)
{
  int fd = w->fd;
  if (fd >= 0 && w->events)
    epoll_ctl (w->loop->epfd, EPOLL_CTL_DEL, fd, NULL);
  w->events = 0;
  w->fd = -1;
  return fd;
}

void
ko_watch_close (struct ko_watch *w)
{
  int fd = ko_watch_release (w);
  if (fd >= 0)
    close (fd);
}

void
ko_timer_init (struct ko_timer *t, struct ko_loop *l, ko_timer_cb cb,
               void *data)
{
  t->loop = l;
  t->due = 0;
  t->armed = false;
  t->cb = cb;
  t->data = data;
  t->next = NULL;
}

void
ko_timer_cancel (struct ko_timer *t)
{
  if (!t->armed)
    return;
  for (struct ko_timer **pp = &t->loop->timers; *pp; pp = &(*pp)->next)
    if (*pp == t)
      {
        *pp = t->next;
        break;
      }
  t->armed = false;
  t->next = NULL;
}

void
ko_timer_arm (struct ko_timer *t, uint64_t due)
{
  ko_timer_cancel (t);
  t->due = due;
  struct ko_timer **pp = &t->loop->timers;
  while (*pp && (*pp)->due <= due)
    pp = &(*pp)->next;
  t->next = *pp;
  *pp = t;
  t->armed = true;
}
