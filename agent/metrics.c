/* GuestMetrics: what the guest as a whole uses, read from /proc. Reads
 * only; a file the kernel lacks leaves its values out. */
#include "agent.h"
#include "rpc.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* /proc/meminfo: "Key:   123 kB" lines */
static void
meminfo (struct ko_msg_guest_metrics_reply *m, char *buf, size_t n)
{
  static const struct
  {
    char key[16];
    uint16_t tag;
  } keys[] = {
    { "MemTotal:", KO_TAG_GM_MEM_TOTAL },
    { "MemFree:", KO_TAG_GM_MEM_FREE },
    { "MemAvailable:", KO_TAG_GM_MEM_AVAILABLE },
    { "Cached:", KO_TAG_GM_MEM_CACHED },
  };
  if (ag_read_str ("/proc/meminfo", buf, n) < 0)
    return;
  for (char *line = buf; line && *line;)
    {
      char *next = strchr (line, '\n');
      if (next)
        *next++ = '\0';
      for (size_t i = 0; i < KO_ARRAY_SIZE (keys); i++)
        {
          size_t k = strlen (keys[i].key);
          const char *p = line + k;
          uint64_t kb;
          if (strncmp (line, keys[i].key, k) == 0 && ag_next_u64 (&p, &kb))
            ko_msg_guest_metrics_set (m, keys[i].tag, kb * 1024);
        }
      line = next;
    }
}

/* /proc/stat's first line: "cpu user nice system idle iowait irq softirq" in
 * clock ticks */
static void
cpu_times (struct ko_msg_guest_metrics_reply *m, char *buf, size_t n)
{
  uint64_t v[7];
  if (ag_read_str ("/proc/stat", buf, n) < 0 || strncmp (buf, "cpu ", 4) != 0)
    return;
  const char *p = buf;
  for (size_t i = 0; i < KO_ARRAY_SIZE (v); i++)
    if (!ag_next_u64 (&p, &v[i]))
      return;
  /* /proc/stat counts in USER_HZ, 100 on Linux (sysconf's constant,
   * without sysconf's code in the agent's image) */
  uint64_t ns = 1000000000ull / 100;
  ko_msg_guest_metrics_set (m, KO_TAG_GM_CPU_USER_NS, (v[0] + v[1]) * ns);
  ko_msg_guest_metrics_set (m, KO_TAG_GM_CPU_SYSTEM_NS,
                            (v[2] + v[5] + v[6]) * ns);
  ko_msg_guest_metrics_set (m, KO_TAG_GM_CPU_IDLE_NS, v[3] * ns);
  ko_msg_guest_metrics_set (m, KO_TAG_GM_CPU_IOWAIT_NS, v[4] * ns);
}

static void
load_uptime (struct ko_msg_guest_metrics_reply *m, char *buf, size_t n)
{
  /* "1.00 0.50 0.25 ...": two decimals, as the kernel prints them */
  uint64_t l[6];
  const char *p = buf;
  if (ag_read_str ("/proc/loadavg", buf, n) >= 0 && ag_next_u64 (&p, &l[0])
      && ag_next_u64 (&p, &l[1]) && ag_next_u64 (&p, &l[2])
      && ag_next_u64 (&p, &l[3]) && ag_next_u64 (&p, &l[4])
      && ag_next_u64 (&p, &l[5]))
    {
      ko_msg_guest_metrics_set (m, KO_TAG_GM_LOAD1, l[0] * 1000 + l[1] * 10);
      ko_msg_guest_metrics_set (m, KO_TAG_GM_LOAD5, l[2] * 1000 + l[3] * 10);
      ko_msg_guest_metrics_set (m, KO_TAG_GM_LOAD15, l[4] * 1000 + l[5] * 10);
    }
  /* "seconds.centiseconds ..." */
  uint64_t s, cs;
  p = buf;
  if (ag_read_str ("/proc/uptime", buf, n) >= 0 && ag_next_u64 (&p, &s)
      && ag_next_u64 (&p, &cs))
    ko_msg_guest_metrics_set (m, KO_TAG_GM_UPTIME_NS,
                              s * 1000000000ull + cs * 10000000ull);
  /* "size resident ..." */
  uint64_t pages;
  p = buf;
  if (ag_read_str ("/proc/self/statm", buf, n) >= 0 && ag_next_u64 (&p, &pages)
      && ag_next_u64 (&p, &pages))
    ko_msg_guest_metrics_set (m, KO_TAG_GM_AGENT_RSS,
                              pages * (uint64_t)getpagesize ());
}

static void
processes (struct ko_msg_guest_metrics_reply *m)
{
  DIR *d = opendir ("/proc");
  if (d == NULL)
    return;
  uint64_t n = 0;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    if (de->d_name[0] >= '1' && de->d_name[0] <= '9')
      n++;
  closedir (d);
  ko_msg_guest_metrics_set (m, KO_TAG_GM_PROCS, n);
}

void
guest_metrics_read (struct ko_msg_guest_metrics_reply *m)
{
  char buf[4096];
  meminfo (m, buf, sizeof buf);
  cpu_times (m, buf, sizeof buf);
  load_uptime (m, buf, sizeof buf);
  processes (m);
}
