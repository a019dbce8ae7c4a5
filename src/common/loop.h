/* One epoll loop, shared by the monitor and the agent: descriptors with a
 * callback each, and one-shot timers. Events are dispatched one at a time,
 * so a callback may free any watch, its own included. Nothing runs the loop
 * from inside a callback: work that waits registers a callback and returns. */
#ifndef KO_LOOP_H
#define KO_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct ko_loop
{
  int epfd;
  struct ko_timer *timers; /* armed ones, soonest first */
};

struct ko_watch;
typedef void (*ko_watch_cb) (struct ko_watch *w, uint32_t events);
struct ko_watch
{
  struct ko_loop *loop;
  int fd;
  uint32_t events; /* the epoll interest; 0: not registered */
  ko_watch_cb cb;
  void *data;
};

struct ko_timer;
typedef void (*ko_timer_cb) (struct ko_timer *t);
struct ko_timer
{
  struct ko_loop *loop;
  uint64_t due; /* ko_now_ms () time */
  bool armed;
  ko_timer_cb cb;
  void *data;
  struct ko_timer *next;
};

/* CLOCK_MONOTONIC in milliseconds, and in nanoseconds. */
uint64_t ko_now_ms (void);
uint64_t ko_now_ns (void);

int ko_loop_init (struct ko_loop *l); /* -1 with errno */
void ko_loop_fini (struct ko_loop *l);
/* Waits at most timeout_ms (-1: no bound, but never past a timer) and runs
 * one ready watch, or every timer that is due. Returns 1 when something
 * ran, 0 when the time passed, -1 with errno on an epoll error. */
int ko_loop_once (struct ko_loop *l, int timeout_ms);

void ko_watch_init (struct ko_watch *w, struct ko_loop *l, int fd,
                    ko_watch_cb cb, void *data);
/* Sets the epoll interest; 0 unregisters. -1 with errno (EPERM: a regular
 * file, which epoll cannot watch). */
int ko_watch_set (struct ko_watch *w, uint32_t events);
/* Unregisters and closes the fd; fd becomes -1. Accepts a closed watch. */
void ko_watch_close (struct ko_watch *w);
/* Unregisters, leaves the fd open to its owner; fd becomes -1. */
int ko_watch_release (struct ko_watch *w);

void ko_timer_init (struct ko_timer *t, struct ko_loop *l, ko_timer_cb cb,
                    void *data);
/* (Re)arms t to fire once at due (ko_now_ms () time). */
void ko_timer_arm (struct ko_timer *t, uint64_t due);
void ko_timer_cancel (struct ko_timer *t);

#endif
