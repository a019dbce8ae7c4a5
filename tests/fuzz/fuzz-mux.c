/* Fuzzes the monitor's stateful handling of what the guest sends: the
 * byte stream cut into frames at arbitrary points (mux_input, as the
 * channel's reader calls it), replies matched to outstanding calls,
 * events, stdio DATA against each stream's credit, CREDIT for input
 * streams. The sandbox around it is the real mux.c and agent.c; only the
 * container's event sinks are stand-ins that count. Nothing may crash,
 * overread, leak, or let a stream exceed its window. */
#include "config.h"

#include "sandbox.h"

#include <errno.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct monitor_params params = { .id = "c" };
static struct container ctr = { .p = &params };
static unsigned exits, ooms, done_calls;

bool
sandbox_alive (const struct sandbox *sb)
{
  return !sb->mux.dead;
}

struct container *
sandbox_container (struct sandbox *sb, const char *id)
{
  (void)sb;
  return id == NULL || strcmp (id, "c") == 0 ? &ctr : NULL;
}

int
sandbox_wait (struct sandbox *sb, const bool *done, uint64_t deadline)
{
  (void)sb;
  (void)deadline;
  return *done;
}

void
ctr_on_exit (struct container *c, const char *exec_id, uint32_t status)
{
  (void)c;
  (void)exec_id;
  (void)status;
  exits++;
}

void
ctr_on_oom (struct container *c)
{
  (void)c;
  ooms++;
}

static void
on_done (struct sandbox *sb, void *ctx, struct ko_tlv reply,
         const ko_error *err)
{
  (void)sb;
  (void)ctx;
  (void)err;
  /* the reply's body is readable for as long as the callback runs */
  volatile uint8_t sum = 0;
  for (size_t i = 0; i < reply.left; i++)
    sum += reply.p[i];
  done_calls++;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct sandbox sb = { .p = &params };
  if (ko_loop_init (&sb.loop) < 0)
    return 0;
  mux_init (&sb);
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    abort ();
  mux_attach (&sb, sv[0]);
  /* the init's stdin (a file: read at once), stdout, stderr; an exec's */
  stream_add (&sb, 1, open ("/dev/null", O_RDONLY | O_CLOEXEC), true);
  stream_add (&sb, 2, open ("/dev/null", O_WRONLY | O_CLOEXEC), false);
  stream_add (&sb, 3, open ("/dev/null", O_WRONLY | O_CLOEXEC), false);
  int p[2];
  if (pipe2 (p, O_CLOEXEC) == 0)
    {
      stream_add (&sb, 4, p[0], true);
      stream_add (&sb, 5, p[1], false);
    }
  for (size_t i = 0; i < sb.mux.nstreams; i++)
    stream_set_live (sb.mux.streams[i]);
  for (int i = 0; i < 3; i++)
    agent_call (&sb, KO_M_STATS_CONTAINER, NULL, 1000, on_done, NULL, NULL);
  /* the first byte picks how the stream is cut */
  size_t chunk = size ? (data[0] % 64) + 1 : 1;
  size_t off = size ? 1 : 0;
  while (off < size && !sb.mux.dead)
    {
      size_t n = size - off < chunk ? size - off : chunk;
      mux_input (&sb, data + off, n);
      off += n;
      /* what the monitor sent back (credit, EOF) is drained by "the guest" */
      char sink[65536];
      while (recv (sv[1], sink, sizeof sink, MSG_DONTWAIT) > 0)
        ;
    }
  for (size_t i = 0; i < sb.mux.nstreams; i++)
    {
      struct stream *s = sb.mux.streams[i];
      if (!s->input && s->window > KO_OUTPUT_WINDOW)
        abort (); /* credit is only ever returned for what was written */
    }
  agent_fail_all (&sb, EPIPE, "done");
  mux_close (&sb);
  close (sv[1]);
  ko_loop_fini (&sb.loop);
  return 0;
}
