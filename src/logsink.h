/* Bounded logs of what the guest and the helpers write: a guest may write
 * to its console or send events as fast as it likes, and the state dir is
 * on a tmpfs (host RAM). */
#ifndef KO_LOGSINK_H
#define KO_LOGSINK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Each log keeps at most this much in NAME and as much in NAME.1: the
 * newest, as a ring of two files. */
#define KO_LOG_CAP (512 * 1024)

struct ko_logsink
{
  int in;  /* what we drain: a pipe or socket, non-blocking */
  int out; /* NAME in dirfd, append-only */
  int dirfd;
  const char *name;
  off_t size; /* of out */
  off_t cap;
};

/* Starts draining in (taken) into NAME in dirfd. */
int logsink_open (struct ko_logsink *s, int dirfd, const char *name, int in,
                  off_t cap);
/* Copies what in holds now, rotating NAME to NAME.1 at the cap. Returns 1
 * while in is open, 0 once it reached EOF (in is then closed). */
int logsink_pump (struct ko_logsink *s);
void logsink_close (struct ko_logsink *s);

/* At most one line per interval for a kind of guest-caused event; the
 * ones held back are counted and told with the next. */
struct ko_ratelimit
{
  uint64_t interval_ms;
  uint64_t last_ms;
  bool started;
  uint64_t held; /* events since the last line */
};

/* True when a line may be written at now_ms; *held then gets how many
 * events were held back before this one. */
bool ko_ratelimit_ok (struct ko_ratelimit *r, uint64_t now_ms, uint64_t *held);

#endif
