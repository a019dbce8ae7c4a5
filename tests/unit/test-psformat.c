/* ps's tables (psformat.h): the styles ps options ask for, stat lines as a
 * hostile guest may send them, and the columns printed. */
#include "config.h"

#include "psformat.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void
test_styles (void)
{
  enum ko_ps_style s = KO_PS_BSD;
  ko_error *err = NULL;
  ok (ko_ps_style_of (0, NULL, &s, &err) == 0 && s == KO_PS_FULL,
      "style: none is runc's -ef");
  char *ef[] = { "-ef" }, *e_f[] = { "-e", "-f" }, *ex[] = { "-e", "-x" },
       *x[] = { "-ex" }, *aux[] = { "aux" }, *o[] = { "-o", "pid" },
       *empty[] = { "-" };
  ok (ko_ps_style_of (1, ef, &s, &err) == 0 && s == KO_PS_FULL, "style: -ef");
  ok (ko_ps_style_of (2, e_f, &s, &err) == 0 && s == KO_PS_FULL,
      "style: -e -f");
  ok (ko_ps_style_of (2, ex, &s, &err) == 0 && s == KO_PS_BSD, "style: -e -x");
  ok (ko_ps_style_of (1, x, &s, &err) == 0 && s == KO_PS_BSD, "style: -ex");
  ok (ko_ps_style_of (1, aux, &s, &err) < 0 && err && err->status == EINVAL,
      "style: aux (u: user columns) refused");
  ko_error_free (err);
  err = NULL;
  ok (ko_ps_style_of (2, o, &s, &err) < 0 && err
          && strstr (err->msg, "ps: ps options \"-o pid\": only runc's "
                               "default (-ef) and -e -x are shown"),
      "style: -o refused, naming the options");
  ko_error_free (err);
  err = NULL;
  ok (ko_ps_style_of (1, empty, &s, &err) < 0, "style: a lone - refused");
  ko_error_free (err);
}

static const char *LINE
    = "42 (my (odd) cmd) S 1 42 42 34816 42 4194560 100 0 0 0 250 150 0 0 20 "
      "0 3 0 1000 2000000 100 18446744073709551615 1 1 0 0 0";

static void
test_parse (void)
{
  struct ko_ps_stat st;
  ok (ko_ps_parse_stat (LINE, &st) == 0, "stat: parses");
  is_str (st.comm, "my (odd) cmd", "stat: comm up to the last paren");
  ok (st.state == 'S' && st.ppid == 1 && st.pgrp == 42 && st.session == 42
          && st.tty == 34816 && st.tpgid == 42 && st.threads == 3,
      "stat: state, ppid, groups, tty, threads");
  ok (st.cpu_ticks == 400 && st.start_ticks == 1000,
      "stat: cpu time and start");
  ok (ko_ps_parse_stat ("42 (x\x1b[2J) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
                        "5",
                        &st)
              == 0
          && strcmp (st.comm, "x?[2J") == 0,
      "stat: control characters in comm are replaced");
  ok (ko_ps_parse_stat ("42 sh S 1", &st) < 0, "stat: no parens refused");
  ok (ko_ps_parse_stat ("42 (sh) S 1 2 3", &st) < 0,
      "stat: too few fields refused");
  ok (ko_ps_parse_stat ("42 (sh) S 1 1 1 0 -1 0 0 0 0 0 x 0 0 0 20 0 1 0 5",
                        &st)
          < 0,
      "stat: a word for a number refused");
  ok (ko_ps_parse_stat ("42 (sh) S 1 1 1 0 -1 0 0 0 0 0 -5 0 0 0 20 0 1 0 5",
                        &st)
          < 0,
      "stat: a negative cpu time refused");
  ok (ko_ps_parse_stat ("42 (sh)", &st) < 0, "stat: nothing after comm");
}

static bool
names (uint32_t uid, char *buf, size_t n)
{
  if (uid != 0)
    return false;
  snprintf (buf, n, "root");
  return true;
}

static char *
print (enum ko_ps_style style, const struct ko_mon_pids *p, time_t now)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&out, &len);
  ko_ps_print (f, style, p, now, names);
  fclose (f);
  return out;
}

static void
test_print (void)
{
  setenv ("TZ", "UTC", 1);
  uint32_t pids[] = { 42, 43, 44 };
  struct ko_ps_info in[3] = { { true, 0, (char *)LINE, "sleep 100" },
                              { true, 1000, NULL, "evil\x1b]0;title\x07" },
                              { false, 0, NULL, NULL } };
  /* the guest up 20 s: process 42 started at 10 s, 4 s of CPU since */
  struct ko_mon_pids p = { pids, 3, in, 20000 };
  time_t now = 86400 + 3600 * 10 + 60 * 30; /* 1970-01-02 10:30 UTC */
  char *out = print (KO_PS_FULL, &p, now);
  is_str (out,
          "UID          PID    PPID  C STIME TTY          TIME CMD\n"
          "root          42       1 40 10:29 pts/0    00:00:04 sleep 100\n"
          "1000          43       ?  ? ?     ?               ? "
          "evil?]0;title?\n"
          "?             44       ?  ? ?     ?               ? ?\n",
          "-ef: runc's columns; unknowns as ?, control characters replaced");
  free (out);
  out = print (KO_PS_BSD, &p, now);
  is_str (out,
          "    PID TTY      STAT   TIME COMMAND\n"
          "     42 pts/0    Ssl+   0:04 sleep 100\n"
          "     43 ?        ?         ? evil?]0;title?\n"
          "     44 ?        ?         ? ?\n",
          "-e -x: BSD columns, STAT with session leader, threads, foreground");
  free (out);
  /* no command line: [comm]; started days ago: the date */
  in[0].cmd = NULL;
  p.uptime_ms = 3ULL * 86400 * 1000;
  struct ko_mon_pids one = { pids, 1, in, p.uptime_ms };
  out = print (KO_PS_FULL, &one, now + 9 * 86400); /* Jan 11, up since 8th */
  ok (out && strstr (out, " [my (odd) cmd]\n") && strstr (out, " Jan08 "),
      "-ef: [comm] without a command line, the day for an old start");
  free (out);
  /* pids only (an agent that sent no info) */
  struct ko_mon_pids bare = { pids, 2, NULL, 0 };
  out = print (KO_PS_FULL, &bare, now);
  ok (out && strstr (out, "\n?             43       ?"),
      "-ef: pids alone still print");
  free (out);
  struct ko_mon_pids none = { NULL, 0, NULL, 0 };
  out = print (KO_PS_FULL, &none, now);
  is_str (out, "UID          PID    PPID  C STIME TTY          TIME CMD\n",
          "no process: the header alone");
  free (out);
}

int
main (void)
{
  test_styles ();
  test_parse ();
  test_print ();
  return tap_done ();
}
