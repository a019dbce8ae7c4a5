/* `events`: statistics, OOM and exit events of a container as JSON lines,
 * in runc's shape. */
#include "config.h"

#include "client.h"
#include "container.h"
#include "jsongen.h"
#include "loop.h"
#include "member.h"
#include "proc.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

/* runc's stats event shape, plus "vm": the sandbox's usage on the host. */
static void
print_stats (const char *id, const struct ko_mon_stats *st)
{
  const struct ko_msg_stats_container_reply *g = &st->guest;
  uint64_t vm_rss = st->vm_rss, vm_cpu = st->vm_cpu_ns;
  yajl_gen y = yajl_gen_alloc (NULL);
  yajl_gen_map_open (y);
  gen_kv (y, "type", "stats");
  gen_kv (y, "id", id);
  gen_key (y, "data");
  yajl_gen_map_open (y);
  gen_key (y, "cpu");
  yajl_gen_map_open (y);
  gen_key (y, "usage");
  yajl_gen_map_open (y);
  gen_u64 (y, "total", KO_STAT_V (g, CPU_USAGE_NS));
  gen_u64 (y, "user", KO_STAT_V (g, CPU_USER_NS));
  gen_u64 (y, "kernel", KO_STAT_V (g, CPU_SYSTEM_NS));
  yajl_gen_map_close (y);
  yajl_gen_map_close (y);
  gen_key (y, "memory");
  yajl_gen_map_open (y);
  gen_u64 (y, "cache", KO_STAT_V (g, MEM_CACHE));
  gen_key (y, "usage");
  yajl_gen_map_open (y);
  gen_u64 (y, "usage", KO_STAT_V (g, MEM_USAGE));
  if (KO_STAT_HAS (g, MEM_LIMIT))
    gen_u64 (y, "limit", KO_STAT_V (g, MEM_LIMIT));
  if (KO_STAT_HAS (g, MEM_MAX_USAGE))
    gen_u64 (y, "max", KO_STAT_V (g, MEM_MAX_USAGE));
  yajl_gen_map_close (y);
  gen_key (y, "swap");
  yajl_gen_map_open (y);
  gen_u64 (y, "usage", KO_STAT_V (g, SWAP_USAGE));
  yajl_gen_map_close (y);
  gen_key (y, "raw");
  yajl_gen_map_open (y);
  gen_u64 (y, "anon", KO_STAT_V (g, MEM_RSS));
  gen_u64 (y, "file", KO_STAT_V (g, MEM_CACHE));
  gen_u64 (y, "oom_kill", KO_STAT_V (g, OOM_KILLS));
  yajl_gen_map_close (y);
  yajl_gen_map_close (y);
  gen_key (y, "pids");
  yajl_gen_map_open (y);
  gen_u64 (y, "current", KO_STAT_V (g, PIDS_CURRENT));
  if (KO_STAT_HAS (g, PIDS_LIMIT))
    gen_u64 (y, "limit", KO_STAT_V (g, PIDS_LIMIT));
  yajl_gen_map_close (y);
  gen_key (y, "blkio");
  yajl_gen_map_open (y);
  gen_key (y, "ioServiceBytesRecursive");
  yajl_gen_array_open (y);
  const char *ops[] = { "Read", "Write" };
  uint64_t vals[]
      = { KO_STAT_V (g, IO_READ_BYTES), KO_STAT_V (g, IO_WRITE_BYTES) };
  for (int i = 0; i < 2; i++)
    {
      yajl_gen_map_open (y);
      gen_kv (y, "op", ops[i]);
      gen_u64 (y, "value", vals[i]);
      yajl_gen_map_close (y);
    }
  yajl_gen_array_close (y);
  yajl_gen_map_close (y);
  gen_key (y, "vm");
  yajl_gen_map_open (y);
  gen_u64 (y, "host_rss_bytes", vm_rss);
  gen_u64 (y, "host_cpu_ns", vm_cpu);
  yajl_gen_map_close (y);
  yajl_gen_map_close (y);
  yajl_gen_map_close (y);
  gen_print_free (y);
}

static void
print_event (const char *type, const char *id, const char *data_key,
             long long data_val)
{
  printf ("{\"type\":\"%s\",\"id\":\"%s\"", type, id);
  if (data_key)
    printf (",\"data\":{\"%s\":%lld}", data_key, data_val);
  printf ("}\n");
  fflush (stdout);
}

int
container_events (struct ko_global *g, const char *id, bool stats_once,
                  int interval_ms, ko_error **err)
{
  _cleanup_state_ struct ko_state cur = { 0 };
  if (container_read_state (g, id, &cur, err) < 0)
    return -1;
  if (strcmp (state_status (&cur), "running") != 0)
    return ko_error_setx (err, EINVAL, "container %s is %s, not running", id,
                          state_status (&cur));
  _cleanup_free_ char *dir = member_monitor_dir (g, &cur);
  uint64_t ooms = 0, next_stats = 0;
  for (;;)
    {
      struct ko_mon_stats st = { 0 };
      _cleanup_error_ ko_error *e = NULL;
      if (client_stats (dir, id, &st, CLI_MONITOR_TIMEOUT_MS, &e) < 0)
        {
          if (stats_once)
            return ko_error_setx (err, e->status, "events %s: %s", id, e->msg);
          /* the container has stopped: its last event, once its monitor
           * has recorded the exit status. Stats can fail a moment before
           * that (the guest's cgroup goes with the init); while the
           * monitor lives and has recorded nothing, ask again. */
          _cleanup_state_ struct ko_state last = { 0 };
          _cleanup_error_ ko_error *e2 = NULL;
          if (container_read_state (g, id, &last, &e2) < 0)
            return 0;
          if (!last.has_exit_status
              && strcmp (state_status (&last), "stopped") != 0
              && proc_alive (last.monitor_pid, last.monitor_start))
            {
              usleep (50000);
              continue;
            }
          print_event ("exit", id, "status",
                       last.has_exit_status ? last.exit_status : -1);
          return 0;
        }
      for (; ooms < st.oom_count; ooms++)
        print_event ("oom", id, NULL, 0);
      uint64_t now = ko_now_ms ();
      if (stats_once || now >= next_stats)
        {
          print_stats (id, &st);
          next_stats = now + interval_ms;
        }
      if (stats_once)
        return 0;
      usleep (interval_ms < 500 ? interval_ms * 1000 : 500000);
    }
}
