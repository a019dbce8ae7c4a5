/* monitor.sock's messages (monproto.h) and the loop (loop.h): each codec
 * round trip, and what each decoder refuses. */
#include "loop.h"
#include "monproto.h"
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static struct ko_tlv
body_of (const struct ko_buf *b)
{
  return (struct ko_tlv){ b->data, b->len };
}

static void
test_target (void)
{
  struct ko_buf b = { 0 };
  struct ko_mon_target t = { "ctr-1" }, g = { 0 };
  ko_mon_target_encode (&b, &t);
  ok (ko_mon_target_decode (body_of (&b), &g, NULL) == 0, "target decodes");
  is_str (g.container_id, "ctr-1", "target: container id");
  ko_mon_target_clear (&g);
  ko_buf_free (&b);
  struct ko_mon_target none = { NULL };
  ko_mon_target_encode (&b, &none);
  ok (ko_mon_target_decode (body_of (&b), &g, NULL) == 0 && !g.container_id,
      "target: no id means the sandbox's container");
  ko_buf_free (&b);
  /* a repeated id is malformed */
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "a");
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "b");
  ko_error *err = NULL;
  ok (ko_mon_target_decode (body_of (&b), &g, &err) < 0, "target: two ids");
  is_str (err ? err->msg : NULL, "request: malformed field 4", "its message");
  is_int (err ? err->status : 0, EINVAL, "EINVAL");
  ko_error_free (err);
  ko_buf_free (&b);
}

static void
test_kill (void)
{
  struct ko_buf b = { 0 };
  struct ko_mon_kill k = { "c", 15, true }, g;
  ko_mon_kill_encode (&b, &k);
  ok (ko_mon_kill_decode (body_of (&b), &g, NULL) == 0, "kill decodes");
  is_str (g.container_id, "c", "kill: id");
  is_int (g.signal, 15, "kill: signal");
  ok (g.all, "kill: all");
  ko_mon_kill_clear (&g);
  ko_buf_free (&b);
  ko_error *err = NULL;
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "c");
  ok (ko_mon_kill_decode (body_of (&b), &g, &err) < 0, "kill: no signal");
  is_str (err ? err->msg : NULL, "kill: no signal", "its message");
  ko_error_free (err);
  err = NULL;
  ko_tlv_put_u32 (&b, KO_TAG_SIGNAL, 65);
  ok (ko_mon_kill_decode (body_of (&b), &g, &err) < 0, "kill: signal 65");
  is_str (err ? err->msg : NULL, "kill: no such signal", "its message");
  ko_error_free (err);
  ko_buf_free (&b);
  err = NULL;
  ko_tlv_put_bytes (&b, KO_TAG_SIGNAL, "ab", 2);
  ok (ko_mon_kill_decode (body_of (&b), &g, &err) < 0, "kill: short signal");
  is_str (err ? err->msg : NULL, "kill: malformed field 12", "its message");
  ko_error_free (err);
  ko_buf_free (&b);
}

static void
test_exec (void)
{
  char *args[] = { "sh", "-c", "echo hi", NULL };
  struct ko_mon_exec e = { .container_id = "c",
                           .exec_id = "exec-1",
                           .console_socket = "/run/c.sock" },
                     g;
  e.process.args = args;
  e.process.nargs = 3;
  e.process.cwd = "/";
  e.process.terminal = true;
  e.process.rows = 24;
  struct ko_buf b = { 0 };
  ok (ko_mon_exec_encode (&b, &e) == 0, "exec encodes");
  ok (ko_mon_exec_decode (body_of (&b), &g, NULL) == 0, "exec decodes");
  is_str (g.exec_id, "exec-1", "exec: exec id");
  is_str (g.console_socket, "/run/c.sock", "exec: console socket");
  is_int (g.process.nargs, 3, "exec: args");
  is_str (g.process.args[2], "echo hi", "exec: third arg");
  ok (g.process.terminal && g.process.rows == 24, "exec: terminal, rows");
  ok (!g.detached, "exec: not detached unless said");
  ko_mon_exec_clear (&g);
  ko_buf_free (&b);
  e.detached = true;
  ko_mon_exec_encode (&b, &e);
  ok (ko_mon_exec_decode (body_of (&b), &g, NULL) == 0 && g.detached,
      "exec: detached");
  ko_mon_exec_clear (&g);
  ko_buf_free (&b);
  e.detached = false;
  /* a detached flag of the wrong size */
  ko_mon_exec_encode (&b, &e);
  ko_tlv_put_u64 (&b, KO_MON_TAG_DETACHED, 1);
  ko_error *derr = NULL;
  ok (ko_mon_exec_decode (body_of (&b), &g, &derr) < 0, "exec: bad detached");
  is_str (derr ? derr->msg : NULL, "exec: malformed field 1015", "its message");
  ko_error_free (derr);
  ko_buf_free (&b);
  /* no process */
  ko_tlv_put_str (&b, KO_TAG_EXEC_ID, "x");
  ko_error *err = NULL;
  ok (ko_mon_exec_decode (body_of (&b), &g, &err) < 0, "exec: no process");
  is_str (err ? err->msg : NULL, "exec: malformed request", "its message");
  ko_error_free (err);
  ko_buf_free (&b);
  /* an exec id with a NUL */
  ko_tlv_put_bytes (&b, KO_TAG_EXEC_ID, "a\0b", 3);
  err = NULL;
  ok (ko_mon_exec_decode (body_of (&b), &g, &err) < 0, "exec: NUL in id");
  is_str (err ? err->msg : NULL, "exec: malformed field 5", "its message");
  ko_error_free (err);
  ko_buf_free (&b);
  /* truncated */
  ko_mon_exec_encode (&b, &e);
  struct ko_tlv cut = { b.data, b.len - 3 };
  err = NULL;
  ok (ko_mon_exec_decode (cut, &g, &err) < 0, "exec: truncated");
  ok (err != NULL, "exec: truncated says so");
  ko_error_free (err);
  ko_buf_free (&b);
}

static void
test_resize_update (void)
{
  struct ko_buf b = { 0 };
  struct ko_mon_resize r = { 50, 132 }, rg;
  ko_mon_resize_encode (&b, &r);
  ok (ko_mon_resize_decode (body_of (&b), &rg, NULL) == 0 && rg.rows == 50
          && rg.cols == 132,
      "resize round trip");
  ko_buf_free (&b);
  ko_tlv_put_u32 (&b, KO_TAG_ROWS, 70000);
  ko_tlv_put_u32 (&b, KO_TAG_COLS, 1);
  ko_error *err = NULL;
  ok (ko_mon_resize_decode (body_of (&b), &rg, &err) < 0, "resize: 70000 rows");
  is_str (err ? err->msg : NULL, "resize: rows and cols 0..65535",
          "its message");
  ko_error_free (err);
  ko_buf_free (&b);

  struct ko_mon_update u = { "c", "{\"pids\":{\"limit\":5}}" }, ug;
  ko_mon_update_encode (&b, &u);
  ok (ko_mon_update_decode (body_of (&b), &ug, NULL) == 0, "update decodes");
  is_str (ug.resources_json, "{\"pids\":{\"limit\":5}}", "update: json");
  ko_mon_update_clear (&ug);
  ko_buf_free (&b);
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "c");
  err = NULL;
  ok (ko_mon_update_decode (body_of (&b), &ug, &err) < 0, "update: no json");
  is_str (err ? err->msg : NULL, "update: no resources", "its message");
  ko_error_free (err);
  ko_buf_free (&b);
}

static struct ko_mon_add
add_base (void)
{
  static char *args[] = { "true", NULL };
  struct ko_mon_add a = { .container_id = "m1",
                          .state_dir = "/run/k/m1",
                          .bundle = "/b",
                          .rootfs = "/b/rootfs",
                          .holder_pid = 42 };
  a.process.args = args;
  a.process.nargs = 1;
  a.process.cwd = "/";
  return a;
}

/* decodes b, which must fail with a message containing want */
static void
add_refused (const struct ko_buf *b, const char *want, const char *what)
{
  struct ko_mon_add g;
  ko_error *err = NULL;
  ok (ko_mon_add_decode (body_of (b), &g, &err) < 0 && err
          && strstr (err->msg, want),
      "add: %s (%s)", what, err ? err->msg : "accepted");
  ok (err && err->status == (strstr (want, "more than") ? E2BIG : EINVAL),
      "add: %s: its status", what);
  ko_error_free (err);
}

static void
test_add_disks (void)
{
  struct ko_mon_disk d[2] = {
    { .source = "/dev/loop3",
      .serial = "ko-m1-d0",
      .blockdev = true,
      .rdev = 0x703,
      .limits = { 1, 2, 3, 1ull << 40 } },
    { .source = "/tmp/vol", .serial = "ko-m1-m1", .readonly = true },
  };
  struct ko_mon_add a = add_base (), g;
  a.disks = d;
  a.ndisks = 2;
  struct ko_buf b = { 0 };
  ok (ko_mon_add_encode (&b, &a) == 0, "add with disks encodes");
  ok (ko_mon_add_decode (body_of (&b), &g, NULL) == 0, "add decodes");
  is_int (g.ndisks, 2, "add: two disks");
  if (g.ndisks == 2)
    {
      is_str (g.disks[0].source, "/dev/loop3", "add: disk source");
      is_str (g.disks[0].serial, "ko-m1-d0", "add: disk serial");
      ok (g.disks[0].blockdev && !g.disks[0].readonly
              && g.disks[0].rdev == 0x703,
          "add: a block device, read-write, its numbers");
      ok (g.disks[0].limits[0] == 1 && g.disks[0].limits[3] == 1ull << 40,
          "add: its limits, 64 bits");
      ok (!g.disks[1].blockdev && g.disks[1].readonly, "add: a read-only file");
    }
  ko_mon_add_clear (&g);
  ko_buf_free (&b);

  /* what the decoder refuses */
  struct ko_mon_disk bad = d[0];
  memcpy (bad.serial, "a/b", 4);
  a.disks = &bad;
  a.ndisks = 1;
  ko_mon_add_encode (&b, &a);
  add_refused (&b, "add: disk /dev/loop3: bad serial", "a serial with '/'");
  ko_buf_free (&b);
  bad.serial[0] = '\0';
  ko_mon_add_encode (&b, &a);
  add_refused (&b, "bad serial", "an empty serial");
  ko_buf_free (&b);

  struct ko_mon_disk many[KO_MON_MAX_DISKS + 1];
  for (size_t i = 0; i <= KO_MON_MAX_DISKS; i++)
    many[i] = d[1];
  a.disks = many;
  a.ndisks = KO_MON_MAX_DISKS + 1;
  ko_mon_add_encode (&b, &a);
  add_refused (&b, "add: more than 16 disks", "17 disks");
  ko_buf_free (&b);

  /* a disk without its limits, and limits of the wrong size */
  a = add_base ();
  ko_mon_add_encode (&b, &a);
  size_t off = ko_tlv_begin (&b, KO_MON_TAG_DISK);
  ko_tlv_put_str (&b, KO_MON_TAG_DISK_SOURCE, "/x");
  ko_tlv_put_str (&b, KO_MON_TAG_DISK_SERIAL, "s");
  ko_tlv_end (&b, off);
  add_refused (&b, "add: disk: malformed", "no limits");
  ko_buf_free (&b);
  ko_mon_add_encode (&b, &a);
  off = ko_tlv_begin (&b, KO_MON_TAG_DISK);
  ko_tlv_put_str (&b, KO_MON_TAG_DISK_SOURCE, "/x");
  ko_tlv_put_str (&b, KO_MON_TAG_DISK_SERIAL, "s");
  ko_tlv_put_bytes (&b, KO_MON_TAG_DISK_LIMITS, "12345678", 8);
  ko_tlv_end (&b, off);
  add_refused (&b, "add: disk", "limits of 8 bytes");
  ko_buf_free (&b);
  ko_mon_add_encode (&b, &a);
  off = ko_tlv_begin (&b, KO_MON_TAG_DISK);
  ko_tlv_put_str (&b, KO_MON_TAG_DISK_SERIAL, "s");
  ko_tlv_put_bytes (&b, KO_MON_TAG_DISK_LIMITS, many, 32);
  ko_tlv_end (&b, off);
  add_refused (&b, "add: disk: malformed", "no source");
  ko_buf_free (&b);
}

static void
test_replies (void)
{
  struct ko_buf b = { 0 };
  struct ko_mon_pid p = { 42 }, pg;
  ko_mon_pid_encode (&b, &p);
  ok (ko_mon_pid_decode (body_of (&b), &pg, NULL) == 0 && pg.pid == 42,
      "pid round trip");
  ko_buf_free (&b);
  ko_error *err = NULL;
  ok (ko_mon_pid_decode (body_of (&b), &pg, &err) < 0, "pid: missing");
  is_str (err ? err->msg : NULL, "pid: missing field 10", "its message");
  ko_error_free (err);

  struct ko_mon_exit x = { 0x0900 }, xg;
  ko_mon_exit_encode (&b, &x);
  ok (ko_mon_exit_decode (body_of (&b), &xg, NULL) == 0 && xg.status == 0x900,
      "exit round trip");
  ko_mon_exit_encode (&b, &x);
  err = NULL;
  ok (ko_mon_exit_decode (body_of (&b), &xg, &err) < 0, "exit: twice");
  ko_error_free (err);
  ko_buf_free (&b);

  uint32_t v[] = { 1, 7, 99 };
  struct ko_mon_pids ps = { v, 3 }, pgs;
  ko_mon_pids_encode (&b, &ps);
  ok (ko_mon_pids_decode (body_of (&b), &pgs, NULL) == 0 && pgs.n == 3
          && pgs.pids[2] == 99,
      "pids round trip");
  ko_mon_pids_clear (&pgs);
  ko_buf_free (&b);
  struct ko_ps_info in[3] = { { true, 0, "1 (sh) S", "sh" },
                              { false, 0, NULL, NULL },
                              { false, 0, NULL, "top" } };
  struct ko_mon_pids pi = { v, 3, in, 777 };
  ko_mon_pids_encode (&b, &pi);
  ok (ko_mon_pids_decode (body_of (&b), &pgs, NULL) == 0 && pgs.n == 3
          && pgs.uptime_ms == 777 && pgs.info && pgs.info[0].has_uid
          && strcmp (pgs.info[0].stat, "1 (sh) S") == 0
          && pgs.info[1].cmd == NULL && strcmp (pgs.info[2].cmd, "top") == 0,
      "pids with ps info round trip");
  ko_mon_pids_clear (&pgs);
  ko_buf_free (&b);
  ko_tlv_put_str (&b, KO_TAG_PS_STAT, "x");
  err = NULL;
  ok (ko_mon_pids_decode (body_of (&b), &pgs, &err) < 0,
      "pids: ps info before any pid");
  ko_error_free (err);
  ko_buf_free (&b);
  for (int i = 0; i <= KO_MON_MAX_PIDS; i++)
    ko_tlv_put_u32 (&b, KO_TAG_PID, (uint32_t)i);
  err = NULL;
  ok (ko_mon_pids_decode (body_of (&b), &pgs, &err) < 0, "pids: too many");
  is_str (err ? err->msg : NULL, "pids: more than 65536", "its message");
  is_int (err ? err->status : 0, E2BIG, "E2BIG");
  ko_error_free (err);
  ko_buf_free (&b);

  struct ko_mon_stats st = { 0 }, sg;
  ko_msg_stats_set (&st.guest, KO_TAG_STAT_MEM_USAGE, 1 << 20);
  st.vm_rss = 123;
  st.oom_count = 2;
  ko_mon_stats_encode (&b, &st);
  ok (ko_mon_stats_decode (body_of (&b), &sg, NULL) == 0, "stats decode");
  ok (KO_STAT_HAS (&sg.guest, MEM_USAGE)
          && KO_STAT_V (&sg.guest, MEM_USAGE) == 1 << 20,
      "stats: memory usage");
  ok (!KO_STAT_HAS (&sg.guest, MEM_LIMIT), "stats: no limit reported");
  ok (sg.vm_rss == 123 && sg.oom_count == 2, "stats: vm and oom");
  ko_buf_free (&b);
  ko_tlv_put_u32 (&b, KO_TAG_STAT_MEM_USAGE, 5);
  err = NULL;
  ok (ko_mon_stats_decode (body_of (&b), &sg, &err) < 0,
      "stats: a u32 where a u64 belongs");
  is_str (err ? err->msg : NULL, "statistic 123: 4 bytes, expected 8",
          "its message");
  ko_error_free (err);
  ko_buf_free (&b);

  /* an error reply from the monitor: the agent's shape, one decoder */
  ko_tlv_put_str (&b, KO_TAG_ERROR, "line1\nline2");
  err = NULL;
  ok (ko_msg_reply_error (EBUSY, body_of (&b), &err) < 0, "error reply");
  is_str (err ? err->msg : NULL, "line1 line2", "error message made printable");
  is_int (err ? err->status : 0, EBUSY, "its status");
  ko_error_free (err);
  ko_buf_free (&b);
}

/* ---- the loop ---- */

static int fired[3];

static void
on_timer (struct ko_timer *t)
{
  fired[(intptr_t)t->data]++;
}

static int reads;

static void
on_read (struct ko_watch *w, uint32_t events)
{
  char c;
  (void)events;
  if (read (w->fd, &c, 1) == 1)
    reads++;
}

static void
test_loop (void)
{
  struct ko_loop l;
  ok (ko_loop_init (&l) == 0, "loop init");
  struct ko_timer a, b, c;
  ko_timer_init (&a, &l, on_timer, (void *)0);
  ko_timer_init (&b, &l, on_timer, (void *)1);
  ko_timer_init (&c, &l, on_timer, (void *)2);
  uint64_t now = ko_now_ms ();
  ko_timer_arm (&b, now + 40);
  ko_timer_arm (&a, now + 10);
  ko_timer_arm (&c, now + 20);
  ko_timer_cancel (&c);
  while (ko_loop_once (&l, 200) > 0 && !fired[1])
    ;
  ok (fired[0] == 1 && fired[1] == 1 && fired[2] == 0,
      "timers fire once, in order; a cancelled one never");
  ok (ko_now_ms () - now >= 40, "not before they are due");
  int p[2];
  ok (pipe (p) == 0, "pipe");
  struct ko_watch w;
  ko_watch_init (&w, &l, p[0], on_read, NULL);
  ok (ko_watch_set (&w, EPOLLIN) == 0, "watch a pipe");
  ok (write (p[1], "xy", 2) == 2, "write");
  ko_loop_once (&l, 100);
  ko_loop_once (&l, 100);
  is_int (reads, 2, "one event per turn: both bytes read");
  is_int (ko_loop_once (&l, 10), 0, "nothing left: the time passes");
  ok (ko_watch_set (&w, 0) == 0 && w.events == 0, "unwatch");
  ko_watch_close (&w);
  ok (w.fd == -1, "closed");
  close (p[1]);
  struct ko_watch f;
  ko_watch_init (&f, &l, STDIN_FILENO, on_read, NULL);
  int devnull = open ("/dev/null", 0);
  f.fd = devnull;
  ok (ko_watch_set (&f, EPOLLIN) < 0 && errno == EPERM,
      "a regular file or /dev/null cannot be watched: EPERM");
  close (devnull);
  ko_loop_fini (&l);
}

/* Decodes b as metrics, expecting failure with the exact message. */
static void
metrics_refused (struct ko_buf *b, const char *msg, const char *what)
{
  struct ko_mon_metrics m;
  ko_error *err = NULL;
  ok (ko_mon_metrics_decode (body_of (b), &m, &err) < 0, "metrics: %s", what);
  is_str (err ? err->msg : NULL, msg, "its message");
  ko_error_free (err);
  ko_buf_free (b);
}

static void
test_metrics (void)
{
  struct ko_buf b = { 0 };
  struct ko_mon_metrics m = { 0 }, g;
  uint64_t v[KO_PV_N] = { [KO_PV_PSS] = 100 << 20, [KO_PV_THREADS] = 4 };
  ok (ko_mon_metrics_add_proc (&m, "qemu", NULL, 42,
                               1u << KO_PV_PSS | 1u << KO_PV_THREADS, v)
              == 0
          && ko_mon_metrics_add_proc (&m, "holder", "c1", 43, 0, v) == 0,
      "metrics: two processes");
  m.chan[KO_CHAN_BYTES_IN] = 105;
  m.boot_ns = 2000000000;
  m.uptime_ns = 5;
  m.guest_up = true;
  ko_msg_guest_metrics_set (&m.guest, KO_TAG_GM_PROCS, 30);
  struct ko_mon_latency lat
      = { .method = KO_M_STATS_CONTAINER, .count = 3, .sum_ns = 9 };
  for (unsigned k = 0; k < KO_MON_LAT_BUCKETS; k++)
    lat.buckets[k] = k < 2 ? 1 : 3;
  m.lat = &lat;
  m.nlat = 1;
  strcpy (m.nics[0].name, "tap0_kata");
  m.nics[0].v[KO_NIC_TX_PACKETS] = 7;
  m.nnics = 1;
  ok (ko_mon_metrics_encode (&b, &m) == 0, "metrics encode");
  m.lat = NULL;
  m.nlat = 0;
  ko_mon_metrics_clear (&m);
  ok (ko_mon_metrics_decode (body_of (&b), &g, NULL) == 0, "metrics decode");
  is_int (g.nprocs, 2, "metrics: processes");
  is_str (g.procs[0].role, "qemu", "role");
  is_int (g.procs[0].pid, 42, "pid");
  is_int (g.procs[0].v[KO_PV_PSS], 100 << 20, "PSS");
  is_int (g.procs[0].has, 1u << KO_PV_PSS | 1u << KO_PV_THREADS,
          "only the values read");
  is_str (g.procs[1].container_id, "c1", "a holder's container");
  is_int (g.chan[KO_CHAN_BYTES_IN], 105, "channel bytes");
  is_int (g.boot_ns, 2000000000, "boot time");
  ok (g.guest_up, "guest up");
  is_int (KO_GM_V (&g.guest, PROCS), 30, "the guest's part");
  is_int (g.nlat, 1, "one histogram");
  is_int (g.lat[0].method, KO_M_STATS_CONTAINER, "its method");
  is_int (g.lat[0].buckets[KO_MON_LAT_BUCKETS - 1], 3, "its last bucket");
  is_int (g.lat[0].buckets[0], 1, "its first bucket");
  is_int (g.nnics, 1, "one NIC");
  is_str (g.nics[0].name, "tap0_kata", "its name");
  is_int (g.nics[0].v[KO_NIC_TX_PACKETS], 7, "its packets");
  ko_mon_metrics_clear (&g);
  ok (g.procs == NULL && g.lat == NULL, "clear frees");
  ko_buf_free (&b);

  /* a silent guest: no guest part */
  struct ko_mon_metrics host_only = { 0 };
  ko_mon_metrics_encode (&b, &host_only);
  ok (ko_mon_metrics_decode (body_of (&b), &g, NULL) == 0 && !g.guest_up,
      "metrics: the host side alone");
  ko_mon_metrics_clear (&g);
  ko_buf_free (&b);

  ko_tlv_put_u32 (&b, KO_MON_TAG_MX_GUEST_UP, 1);
  metrics_refused (&b, "metrics: the guest's part is missing",
                   "guest up without its part");
  size_t off = ko_tlv_begin (&b, KO_MON_TAG_MX_PROC);
  ko_tlv_put_u32 (&b, KO_TAG_PID, 1);
  ko_tlv_end (&b, off);
  metrics_refused (&b, "metrics: a process without a role",
                   "a process without a role");
  off = ko_tlv_begin (&b, KO_MON_TAG_MX_PROC);
  ko_tlv_put_str (&b, KO_MON_TAG_MX_ROLE, "qemu");
  ko_tlv_put_u32 (&b, KO_MON_TAG_MX_PV_FIRST, 1);
  ko_tlv_end (&b, off);
  metrics_refused (&b, "metrics: process: malformed field 1402",
                   "a 4-byte value");
  for (int i = 0; i <= KO_MON_MAX_PROCS; i++)
    {
      off = ko_tlv_begin (&b, KO_MON_TAG_MX_PROC);
      ko_tlv_put_str (&b, KO_MON_TAG_MX_ROLE, "holder");
      ko_tlv_end (&b, off);
    }
  metrics_refused (&b, "metrics: more than 72 processes", "73 processes");
  off = ko_tlv_begin (&b, KO_MON_TAG_MX_LATENCY);
  ko_tlv_put_u64 (&b, KO_MON_TAG_MX_LAT_COUNT, 1);
  ko_tlv_put_bytes (&b, KO_MON_TAG_MX_LAT_BUCKETS, "12345678", 8);
  ko_tlv_end (&b, off);
  metrics_refused (&b, "metrics: latency: malformed field 1432",
                   "buckets of the wrong size");
  uint8_t raw[KO_MON_LAT_BUCKETS * 8] = { 0 };
  raw[0] = 2; /* the first bucket above the count */
  off = ko_tlv_begin (&b, KO_MON_TAG_MX_LATENCY);
  ko_tlv_put_u32 (&b, KO_MON_TAG_MX_LAT_METHOD, 11);
  ko_tlv_put_u64 (&b, KO_MON_TAG_MX_LAT_COUNT, 1);
  ko_tlv_put_bytes (&b, KO_MON_TAG_MX_LAT_BUCKETS, raw, sizeof raw);
  ko_tlv_end (&b, off);
  metrics_refused (&b, "metrics: latency of method 11: buckets out of order",
                   "a bucket above the count");
  off = ko_tlv_begin (&b, KO_MON_TAG_MX_NIC);
  ko_tlv_put_str (&b, KO_MON_TAG_MX_NIC_NAME, "a-name-of-16-chr");
  ko_tlv_end (&b, off);
  metrics_refused (&b, "metrics: NIC: malformed field 1434",
                   "a NIC name too long");
  off = ko_tlv_begin (&b, KO_MON_TAG_MX_GUEST);
  ko_tlv_put_u32 (&b, KO_TAG_GM_MEM_FREE, 1);
  ko_tlv_end (&b, off);
  ko_tlv_put_u32 (&b, KO_MON_TAG_MX_GUEST_UP, 1);
  metrics_refused (&b, "metrics: guest: metric 161: 4 bytes, expected 8",
                   "a malformed guest part");
  ko_tlv_put_u64 (&b, KO_MON_TAG_MX_BOOT_NS, 1);
  b.len--;
  metrics_refused (&b, "metrics: truncated field", "truncated");
}

int
main (void)
{
  test_target ();
  test_kill ();
  test_exec ();
  test_resize_update ();
  test_add_disks ();
  test_replies ();
  test_loop ();
  test_metrics ();
  return tap_done ();
}
