/* The Prometheus text exposition encoder (src/prom.c) and the /proc
 * parsers the monitor's metrics use (src/proc.c): exact output, and what
 * each refuses. */
#include "proc.h"
#include "prom.h"
#include "tap.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* b as a string (NUL-terminated in place), then emptied by the caller */
static const char *
text (struct ko_buf *b)
{
  ko_buf_append (b, "", 1);
  b->len--;
  return (const char *)b->data;
}

/* errp, not the error: the call that sets it is an argument too */
static void
refused (int r, ko_error **errp, const char *msg, const char *what)
{
  ko_error *err = *errp;
  ok (r < 0, "%s is refused", what);
  is_str (err ? err->msg : NULL, msg, "its message");
  is_int (err ? err->status : 0, EINVAL, "EINVAL");
  ko_error_free (err);
}

static void
test_family (void)
{
  struct ko_buf b = { 0 };
  ok (ko_prom_family (&b, "kata_x_bytes", "gauge", "A \\ help\nline.", NULL)
          == 0,
      "a family");
  is_str (
      text (&b),
      "# HELP kata_x_bytes A \\\\ help\\nline.\n# TYPE kata_x_bytes gauge\n",
      "HELP escapes backslash and newline, then TYPE");
  ko_buf_free (&b);
  ko_error *err = NULL;
  refused (ko_prom_family (&b, "1x", "gauge", "h", &err), &err,
           "metric name \"1x\" is invalid", "a name starting with a digit");
  err = NULL;
  refused (ko_prom_family (&b, "a-b", "gauge", "h", &err), &err,
           "metric name \"a-b\" is invalid", "a name with a dash");
  err = NULL;
  refused (ko_prom_family (&b, "x", "summary", "h", &err), &err,
           "metric x: type \"summary\" is invalid", "an unknown type");
  err = NULL;
  refused (ko_prom_family (&b, "x", "counter", "", &err), &err,
           "metric x: no help text", "an empty help");
  is_int (b.len, 0, "nothing written on failure");
  ko_buf_free (&b);
}

static void
test_samples (void)
{
  struct ko_buf b = { 0 };
  struct ko_prom_labels l = { 0 };
  ko_prom_labels_add (&l, "sandbox_id", "s1");
  ko_prom_labels_add (&l, "pod_name", NULL); /* absent: left out */
  ko_prom_labels_add (&l, "v", "a\"b\\c\nd");
  ok (ko_prom_u64 (&b, "m_total", &l, 18446744073709551615ull, NULL) == 0,
      "a u64 sample");
  is_str (text (&b),
          "m_total{sandbox_id=\"s1\",v=\"a\\\"b\\\\c\\nd\"} "
          "18446744073709551615\n",
          "labels in order, values escaped, the full u64 range");
  ko_buf_free (&b);
  ko_prom_u64 (&b, "m", NULL, 0, NULL);
  is_str (text (&b), "m 0\n", "no labels: no braces");
  ko_buf_free (&b);
  struct ko_prom_labels none = { 0 };
  ko_prom_labels_add (&none, "a", NULL);
  ko_prom_u64 (&b, "m", &none, 1, NULL);
  is_str (text (&b), "m 1\n", "only absent labels: no braces");
  ko_buf_free (&b);
  ko_prom_ns (&b, "s", NULL, 1500000000, NULL);
  ko_prom_ns (&b, "s", NULL, 0, NULL);
  ko_prom_ns (&b, "s", NULL, 2000000000, NULL);
  ko_prom_ns (&b, "s", NULL, 1, NULL);
  is_str (text (&b), "s 1.5\ns 0\ns 2\ns 0.000000001\n",
          "nanoseconds as exact seconds");
  ko_buf_free (&b);
  ko_prom_double (&b, "d", NULL, 0.35, NULL);
  ko_prom_double (&b, "d", NULL, NAN, NULL);
  ko_prom_double (&b, "d", NULL, INFINITY, NULL);
  ko_prom_double (&b, "d", NULL, 0.1 + 0.2, NULL);
  is_str (text (&b), "d 0.35\nd NaN\nd +Inf\nd 0.30000000000000004\n",
          "doubles: shortest exact form, NaN and +Inf");
  ko_buf_free (&b);
  ko_error *err = NULL;
  struct ko_prom_labels bad = { 0 };
  ko_prom_labels_add (&bad, "__name", "x");
  refused (ko_prom_u64 (&b, "m", &bad, 1, &err), &err,
           "metric m: label name \"__name\" is invalid",
           "a reserved label name");
  ko_buf_free (&b);
  err = NULL;
  refused (ko_prom_u64 (&b, "m x", NULL, 1, &err), &err,
           "metric name \"m x\" is invalid", "a sample with a bad name");
  ko_buf_free (&b);
  struct ko_prom_labels full = { 0 };
  for (int i = 0; i < KO_PROM_MAX_LABELS; i++)
    ko_prom_labels_add (&full, "a", "b");
  ok (ko_prom_labels_add (&full, "a", "b") < 0, "a ninth label is refused");
  ok (ko_prom_name_ok ("a:b_c9") && !ko_prom_label_name_ok ("a:b"),
      "colons in metric names only");
}

static void
test_proc_parsers (void)
{
  uint64_t u, s, th, rss, v;
  long tick = sysconf (_SC_CLK_TCK);
  const char *stat = "123 (qemu (x) y) S 1 123 123 0 -1 4194560 100 0 0 0 "
                     "250 50 0 0 20 0 4 0 1000 300000000 1000 18446744073";
  ok (proc_parse_stat (stat, &u, &s, &th, &rss) == 0, "stat parses");
  is_int (u, 250 * (1000000000 / tick), "utime in ns");
  is_int (s, 50 * (1000000000 / tick), "stime in ns");
  is_int (th, 4, "threads");
  is_int (rss, 1000 * sysconf (_SC_PAGESIZE), "RSS in bytes");
  ok (proc_parse_stat ("123 (x) S 1", &u, &s, &th, &rss) < 0,
      "a short stat is refused");
  ok (proc_parse_stat ("no parenthesis", &u, &s, &th, &rss) < 0,
      "a stat without comm is refused");
  const char *smaps = "55d0-7ff [rollup]\nRss:     1000 kB\nPss:      "
                      "800 kB\nPss_Anon:  700 kB\n";
  ok (proc_parse_key (smaps, "Pss", &v) == 0 && v == 800 * 1024,
      "Pss in bytes (not Pss_Anon)");
  const char *io = "rchar: 1944703\nwchar: 2088\nsyscr: 5\n";
  ok (proc_parse_key (io, "wchar", &v) == 0 && v == 2088, "io: plain numbers");
  ok (proc_parse_key (io, "read_bytes", &v) < 0, "an absent key");
}

int
main (void)
{
  test_family ();
  test_samples ();
  test_proc_parsers ();
  return tap_done ();
}
