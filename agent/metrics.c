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
          unsigned long long kb;
          if (strncmp (line, keys[i].key, k) == 0
              && sscanf (line + k, "%llu", &kb) == 1)
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
  unsigned long long v[7];
  if (ag_read_str ("/proc/stat", buf, n) < 0
      || sscanf (buf, "cpu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                 &v[2], &v[3], &v[4], &v[5], &v[6])
             != 7)
    return;
  long hz = sysconf (_SC_CLK_TCK);
  uint64_t ns = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
  ko_msg_guest_metrics_set (m, KO_TAG_GM_CPU_USER_NS, (v[0] + v[1]) * ns);
  ko_msg_guest_metrics_set (m, KO_TAG_GM_CPU_SYSTEM_NS,
                            (v[2] + v[5] + v[6]) * ns);
  ko_msg_guest_metrics_set (m, KO_TAG_GM_CPU_IDLE_NS, v[3] * ns);
  ko_msg_guest_metrics_set (m, KO_TAG_GM_CPU_IOWAIT_NS, v[4] * ns);
}

static void
load_uptime (struct ko_msg_guest_metrics_reply *m, char *buf, size_t n)
{
  unsigned a, b, c, d, e, f;
  if (ag_read_str ("/proc/loadavg", buf, n) >= 0
      && sscanf (buf, "%u.%u %u.%u %u.%u", &a, &b, &c, &d, &e, &f) == 6)
    {
      /* two decimals, as the kernel prints them */
      ko_msg_guest_metrics_set (m, KO_TAG_GM_LOAD1, a * 1000ull + b * 10);
      ko_msg_guest_metrics_set (m, KO_TAG_GM_LOAD5, c * 1000ull + d * 10);
      ko_msg_guest_metrics_set (m, KO_TAG_GM_LOAD15, e * 1000ull + f * 10);
    }
  unsigned long long s;
  unsigned cs;
  if (ag_read_str ("/proc/uptime", buf, n) >= 0
      && sscanf (buf, "%llu.%u", &s, &cs) == 2)
    ko_msg_guest_metrics_set (m, KO_TAG_GM_UPTIME_NS,
                              s * 1000000000ull + cs * 10000000ull);
  unsigned long long pages;
  if (ag_read_str ("/proc/self/statm", buf, n) >= 0
      && sscanf (buf, "%*u %llu", &pages) == 1)
    ko_msg_guest_metrics_set (m, KO_TAG_GM_AGENT_RSS,
                              pages * (uint64_t)sysconf (_SC_PAGESIZE));
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
