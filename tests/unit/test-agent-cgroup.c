/* Pure agent logic for cgroups: OCI linux.resources to cgroup v2 writes,
 * and reading flat-keyed cgroup files. */
#include "agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* Builds a RESOURCES field from tag/value pairs (strings for cpuset). */
struct rb
{
  struct ko_buf b;
  size_t off;
};

static void
rb_begin (struct rb *r)
{
  memset (r, 0, sizeof *r);
  r->off = ko_tlv_begin (&r->b, KO_TAG_RESOURCES);
}

static struct ko_field
rb_field (struct rb *r)
{
  ko_tlv_end (&r->b, r->off);
  struct ko_tlv t = { r->b.data, r->b.len };
  struct ko_field f = { 0 };
  ko_tlv_next (&t, &f);
  return f;
}

/* Runs the plan and joins it as "file=value;..." (or "error: msg"). */
static char out[1024];

static const char *
plan (struct rb *r, int64_t cur_limit, const char *cur_quota)
{
  struct ko_field f = rb_field (r);
  struct ko_resources res = { 0 };
  ko_error *err = NULL;
  struct ag_cg_write w[AG_CG_WRITES_MAX];
  out[0] = '\0';
  int n = ko_resources_decode (&f, &res, &err);
  if (n == 0)
    n = ag_resources_plan (&res, cur_limit, cur_quota, w, &err);
  if (n < 0)
    snprintf (out, sizeof out, "error: %s", err->msg);
  for (int i = 0; i < n; i++)
    {
      size_t l = strlen (out);
      snprintf (out + l, sizeof out - l, "%s%s=%s", i ? ";" : "", w[i].file,
                w[i].value);
    }
  ko_error_free (err);
  ko_resources_clear (&res);
  ko_buf_free (&r->b);
  return out;
}

/* ag_cpuset_fit's list, or "error: msg" */
static const char *
fit (const char *want, const char *have)
{
  static char buf[512];
  ko_error *err = NULL;
  char out[64];
  if (ag_cpuset_fit (want, have, out, sizeof out, &err) < 0)
    snprintf (buf, sizeof buf, "error: %s", err->msg);
  else
    snprintf (buf, sizeof buf, "%s", out);
  ko_error_free (err);
  return buf;
}

static void
test_cpuset_fit (void)
{
  is_str (fit ("0-1", "0\n"), "0", "cpus 0-1 on a 1-vCPU VM: 0");
  is_str (fit ("0-1", "0-1\n"), "0-1", "cpus 0-1 on a 2-vCPU VM: both");
  is_str (fit ("0", "0\n"), "0", "mems 0 on a 1-node VM");
  is_str (fit ("2-3,7", "0-3\n"), "2-3", "the part the VM has");
  is_str (fit ("1,3,5,6", "0-7"), "1,3,5-6", "runs join, singles stay");
  is_str (fit ("4-7", "0-1\n"), "", "none of them the VM's: empty");
  is_str (fit ("0-4095", "0-1\n"), "0-1", "past the map is never the VM's");
  is_str (fit ("3-1", "0-3"), "error: \"3-1\" is not a list of CPUs or nodes",
          "a backwards range fails as the kernel's would");
  is_str (fit ("0,a", "0-3"), "error: \"0,a\" is not a list of CPUs or nodes",
          "a word in the list fails");
  is_str (fit ("0-1,", "0-1"), "error: \"0-1,\" is not a list of CPUs or nodes",
          "a trailing comma fails");
  is_str (fit (" 0 - 1", "0-1"),
          "error: \" 0 - 1\" is not a list of CPUs or nodes",
          "spaces inside a range fail");
  is_str (fit ("0 1", "0-1"), "error: \"0 1\" is not a list of CPUs or nodes",
          "a space between numbers fails");
  is_str (fit ("", "0-1"), "", "an empty list is none");
  char wide[16];
  ko_error *err = NULL;
  is_int (ag_cpuset_fit ("0,2,4,6,8,10,12,14,16,18", "0-1023", wide,
                         sizeof wide, &err),
          -1, "a list too long for the buffer fails");
  is_int (err ? err->status : 0, ERANGE, "... with ERANGE");
  ko_error_free (err);
}

int
main (void)
{
  struct rb r;

  rb_begin (&r);
  is_str (plan (&r, -1, "max"), "", "empty resources: no writes");

  rb_begin (&r);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_MEM_LIMIT, 64 << 20);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_MEM_RESERVATION, 32 << 20);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_MEM_SWAP, 96 << 20);
  is_str (plan (&r, -1, "max"),
          "memory.max=67108864;memory.swap.max=33554432;"
          "memory.low=33554432",
          "memory: limit, swap = memory+swap - limit, low");

  rb_begin (&r);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_MEM_LIMIT, (uint64_t)-1);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_MEM_SWAP, (uint64_t)-1);
  is_str (plan (&r, 1000, "max"), "memory.max=max;memory.swap.max=max",
          "memory: -1 is max");

  rb_begin (&r);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_MEM_SWAP, 3000);
  is_str (plan (&r, 1000, "max"), "memory.swap.max=2000",
          "swap alone: against the current memory.max");

  rb_begin (&r);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_MEM_SWAP, 3000);
  is_str (plan (&r, -1, "max"),
          "error: cgroup memory.swap.max: a swap limit needs a memory limit",
          "swap without any memory limit");

  rb_begin (&r);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_MEM_LIMIT, 2000);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_MEM_SWAP, 1000);
  ok (strncmp (plan (&r, -1, "max"), "error: cgroup memory.swap.max:", 30) == 0,
      "swap below the limit: %s", out);

  rb_begin (&r);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_MEM_LIMIT, 0);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_CPU_SHARES, 0);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_CPU_QUOTA, 0);
  ko_tlv_put_u32 (&r.b, KO_TAG_R_BLKIO_WEIGHT, 0);
  is_str (plan (&r, -1, "max"), "", "zeros mean unset");

  rb_begin (&r);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_CPU_SHARES, 1024);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_CPU_QUOTA, 50000);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_CPU_PERIOD, 100000);
  is_str (plan (&r, -1, "max"), "cpu.weight=39;cpu.max=50000 100000",
          "cpu: shares 1024 -> weight 39, quota and period");

  rb_begin (&r);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_CPU_QUOTA, (uint64_t)-1);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_CPU_PERIOD, 250000);
  is_str (plan (&r, -1, "20000"), "cpu.max=max 250000", "cpu: quota -1");

  rb_begin (&r);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_CPU_PERIOD, 250000);
  is_str (plan (&r, -1, "20000"), "cpu.max=20000 250000",
          "cpu: period alone keeps the quota");

  rb_begin (&r);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_CPU_QUOTA, 30000);
  is_str (plan (&r, -1, "max"), "cpu.max=30000",
          "cpu: quota alone keeps the period");

  is_int (ag_shares_to_weight (2), 1, "shares 2");
  is_int (ag_shares_to_weight (262144), 10000, "shares 262144");
  is_int (ag_shares_to_weight (1), 1, "shares 1 clamps");
  is_int (ag_shares_to_weight (1u << 30), 10000, "huge shares clamp");
  is_int (ag_blkio_to_io_weight (10), 1, "blkio 10");
  is_int (ag_blkio_to_io_weight (500), 4950, "blkio 500");
  is_int (ag_blkio_to_io_weight (1000), 10000, "blkio 1000");

  rb_begin (&r);
  ko_tlv_put_str (&r.b, KO_TAG_R_CPUSET_CPUS, "0-1");
  ko_tlv_put_str (&r.b, KO_TAG_R_CPUSET_MEMS, "0");
  ko_tlv_put_u64 (&r.b, KO_TAG_R_PIDS_LIMIT, 0);
  ko_tlv_put_u32 (&r.b, KO_TAG_R_BLKIO_WEIGHT, 500);
  is_str (plan (&r, -1, "max"),
          "cpuset.cpus=0-1;cpuset.mems=0;pids.max=max;io.weight=4950",
          "cpuset, pids <= 0 is max, io weight");

  rb_begin (&r);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_PIDS_LIMIT, 100);
  is_str (plan (&r, -1, "max"), "pids.max=100", "pids limit");

  rb_begin (&r);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_CPU_IDLE, 1);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_CPU_BURST, 20000);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_CPU_QUOTA, 50000);
  is_str (plan (&r, -1, "max"), "cpu.max=50000;cpu.max.burst=20000;cpu.idle=1",
          "cpu idle and burst: the burst after the quota it is held to");

  rb_begin (&r);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_CPU_IDLE, 0);
  ko_tlv_put_u64 (&r.b, KO_TAG_R_CPU_BURST, 0);
  is_str (plan (&r, -1, "max"), "cpu.max.burst=0;cpu.idle=0",
          "cpu idle and burst 0 are written (they turn the feature off)");

  rb_begin (&r);
  ko_tlv_put_u32 (&r.b, KO_TAG_R_MEM_LIMIT, 5);
  ok (strncmp (plan (&r, -1, "max"), "error: resources: field 100", 27) == 0,
      "a u32 where a u64 belongs: %s", out);

  const char *stat = "anon 4096\nfile 8192\nkernel 0\nanon_thp 0\n"
                     "file_mapped 100\n";
  uint64_t v;
  is_int (ag_cg_sum (stat, "file", &v), 1, "memory.stat: file once");
  is_int (v, 8192, "memory.stat: file");
  is_int (ag_cg_sum (stat, "anon", &v), 1, "memory.stat: anon once");
  is_int (v, 4096, "memory.stat: anon, not anon_thp");
  is_int (ag_cg_sum (stat, "shmem", &v), 0, "memory.stat: missing key");
  const char *p = "0.25 1.50 12/345", *dev = "254:16";
  uint64_t w[5];
  int got = 0;
  while (got < 5 && ag_next_u64 (&p, &w[got]))
    got++;
  is_int (got, 5, "next number: five in /proc/loadavg-like text");
  ok (w[0] == 0 && w[1] == 25 && w[2] == 1 && w[3] == 50 && w[4] == 12,
      "next number: 0 25 1 50 12");
  is_str (p, "/345", "next number: stops past the last one read");
  ok (ag_next_u64 (&dev, &w[0]) && ag_next_u64 (&dev, &w[1]) && w[0] == 254
          && w[1] == 16 && *dev == '\0',
      "next number: a device's major:minor");
  const char *io = "254:0 rbytes=1000 wbytes=20 rios=3 wios=1\n"
                   "8:0 rbytes=24 wbytes=5 rios=1 wios=1 dbytes=0\n";
  ag_cg_sum (io, "rbytes", &v);
  is_int (v, 1024, "io.stat: rbytes summed");
  ag_cg_sum (io, "wbytes", &v);
  is_int (v, 25, "io.stat: wbytes summed");
  const char *ev = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\n"
                   "oom_group_kill 7\n";
  ag_cg_sum (ev, "oom_kill", &v);
  is_int (v, 1, "memory.events: oom_kill, not oom_group_kill");
  ag_cg_sum ("usage_usec 1500\nuser_usec 1000\n", "usage_usec", &v);
  is_int (v, 1500, "cpu.stat usage_usec");
  is_int (ag_cg_num ("max\n", &v), 0, "max");
  is_int (ag_cg_num ("67108864\n", &v), 1, "number");
  is_int (v, 67108864, "number value");
  is_int (ag_cg_num ("", &v), -1, "empty");

  test_cpuset_fit ();
  return tap_done ();
}
