/* Fuzzes the monitor's stateful handling of what the guest sends: the
 * byte stream cut into frames at arbitrary points (mux_input, as the
 * channel's reader calls it), replies matched to outstanding calls of
 * every kind the monitor makes and decoded by their method's decoder
 * (ko_msg_decode_reply), events through ko_msg_decode_event, stdio DATA
 * against each stream's credit, CREDIT (ko_msg_credit_decode) for input
 * streams. The sandbox around it is the real mux.c and agent.c; only the
 * container's event sinks are stand-ins that count. Nothing may crash,
 * overread, leak, or let a stream exceed its window. */
#include "config.h"

#include "sandbox.h"
#include "util.h"

#include <errno.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct monitor_params params = { .id = "c" };
static struct container ctr = { .p = &params };
static unsigned exits, ooms, done_calls;
static size_t notifies;

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

/* what the monitor reads of a Notify: a whole NUL-terminated string */
void
ctr_on_notify (struct container *c, const char *data)
{
  (void)c;
  notifies += strlen (data);
}

/* Reads what the callbacks read of each reply: it is valid for as long as
 * the callback runs, and an error comes without one. */
static void
on_done (struct sandbox *sb, void *ctx, const union ko_msg_reply *reply,
         const ko_error *err)
{
  uint16_t method = (uint16_t)(uintptr_t)ctx;
  volatile uint64_t sum = 0;
  (void)sb;
  if ((err == NULL) == (reply == NULL))
    abort ();
  if (err)
    sum += strlen (err->msg);
  else if (method == KO_M_LIST_PROCESSES)
    for (size_t i = 0; i < reply->list_processes.npids; i++)
      sum += reply->list_processes.pids[i];
  else if (method == KO_M_STATS_CONTAINER)
    sum += KO_STAT_V (&reply->stats_container, MEM_USAGE);
  else if (method == KO_M_EXEC_PROCESS || method == KO_M_CREATE_CONTAINER)
    sum += reply->pid.pid;
  done_calls++;
}

/* The calls the monitor makes, each with its reply's decoder: ids 1 to 6
 * in this order. */
static const uint16_t methods[] = {
  KO_M_STATS_CONTAINER,  KO_M_LIST_PROCESSES,  KO_M_EXEC_PROCESS,
  KO_M_CREATE_CONTAINER, KO_M_START_CONTAINER, KO_M_SIGNAL_PROCESS,
};

static void
make_calls (struct sandbox *sb)
{
  static char id[] = "c", eid[] = "e", rootfs[] = "c/rootfs";
  union ko_msg_request m;
  for (size_t i = 0; i < KO_ARRAY_SIZE (methods); i++)
    {
      memset (&m, 0, sizeof m);
      switch (methods[i])
        {
        case KO_M_EXEC_PROCESS:
          m.exec_process.container_id = id;
          m.exec_process.exec_id = eid;
          break;
        case KO_M_CREATE_CONTAINER:
          m.create_container.container_id = id;
          m.create_container.rootfs = rootfs;
          break;
        case KO_M_SIGNAL_PROCESS:
          m.signal_process.container_id = id;
          m.signal_process.signal = 15;
          break;
        default:
          m.container_ref.container_id = id;
        }
      if (agent_call (sb, methods[i], &m, 1000, on_done,
                      (void *)(uintptr_t)methods[i], NULL)
          < 0)
        abort ();
    }
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
  done_calls = 0;
  make_calls (&sb);
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
  if (done_calls != KO_ARRAY_SIZE (methods))
    abort (); /* every call completes exactly once */
  mux_close (&sb);
  close (sv[1]);
  ko_loop_fini (&sb.loop);
  return 0;
}
