/* ps's tables (psformat.h): the styles ps options ask for, stat lines as a
 * hostile guest may send them, and the columns printed. */
#include "config.h"

#include "psformat.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* the headers a format prints, space-separated */
static char *
headers (int argc, char **argv)
{
  struct ko_ps_format fmt;
  ko_error *err = NULL;
  if (ko_ps_format_of (argc, argv, &fmt, &err) < 0)
    {
      char *m = strdup (err->msg);
      ko_error_free (err);
      return m;
    }
  char *out = calloc (1, 512);
  for (size_t i = 0; i < fmt.ncols; i++)
    {
      strcat (out, i ? " " : "");
      strcat (out, fmt.cols[i].header);
    }
  return out;
}

static void
expect_headers (int argc, char **argv, const char *want, const char *what)
{
  char *got = headers (argc, argv);
  is_str (got, want, "format: %s", what);
  free (got);
}

static void
test_styles (void)
{
  const char *full = "UID PID PPID C STIME TTY TIME CMD",
             *bsd = "PID TTY STAT TIME COMMAND";
  expect_headers (0, NULL, full, "none is runc's -ef");
  char *ef[] = { "-ef" }, *e_f[] = { "-e", "-f" }, *ex[] = { "-e", "-x" },
       *x[] = { "-ex" }, *aux[] = { "aux" }, *empty[] = { "-" };
  expect_headers (1, ef, full, "-ef");
  expect_headers (2, e_f, full, "-e -f");
  expect_headers (2, ex, bsd, "-e -x");
  expect_headers (1, x, bsd, "-ex");
  expect_headers (1, aux,
                  "ps: ps options \"aux\": only runc's default (-ef), -e -x "
                  "and -o FIELDS are shown, the processes run in the VM, out "
                  "of the host's ps's sight",
                  "aux (u: user columns) refused, naming the options");
  expect_headers (1, empty,
                  "ps: ps options \"-\": only runc's default (-ef), -e -x and "
                  "-o FIELDS are shown, the processes run in the VM, out of "
                  "the host's ps's sight",
                  "a lone - refused");
  /* -o, as procps reads it */
  char *o[] = { "-o", "pid,comm" }, *eo[] = { "-eo", "pid,ppid,args" },
       *oo[] = { "-opid", "-o", "user=WHO,etime" },
       *sp[] = { "-o", "pid  stat" }, *fo[] = { "--format", "pid,tty" },
       *feq[] = { "--format=uid" }, *bsdo[] = { "axo", "pid,nlwp,pcpu" },
       *up[] = { "-o", "PID,Comm" };
  expect_headers (2, o, "PID COMMAND", "-o pid,comm");
  expect_headers (2, eo, "PID PPID COMMAND", "-eo pid,ppid,args");
  expect_headers (3, oo, "PID WHO ELAPSED", "-opid -o user=WHO,etime");
  expect_headers (2, sp, "PID STAT", "-o with spaces");
  expect_headers (2, fo, "PID TT", "--format LIST");
  expect_headers (1, feq, "UID", "--format=LIST");
  expect_headers (2, bsdo, "PID NLWP %CPU", "BSD axo");
  expect_headers (2, up, "PID COMMAND", "field names in any case");
  char *bad[] = { "-o", "pid,bogus" }, *none[] = { "-o" },
       *emptyl[] = { "-o", "" }, *nof[] = { "--format" },
       *many[] = { "-o", "pid,pid,pid,pid,pid,pid,pid,pid,pid,pid,pid,pid,"
                         "pid,pid,pid,pid,pid,pid,pid,pid,pid,pid,pid,pid,"
                         "pid" };
  expect_headers (2, bad,
                  "ps: -o: unknown field \"bogus\" (known: pid, ppid, uid, "
                  "user, c, pcpu, stime, tty, time, bsdtime, etime, stat, s, "
                  "comm, args, cmd, command, pgid, sid, nlwp and their procps "
                  "aliases)",
                  "an unknown field refused, named");
  expect_headers (1, none, "ps: -o needs a list of fields", "-o alone");
  expect_headers (2, emptyl, "ps: -o: an empty list of fields", "-o \"\"");
  expect_headers (1, nof, "ps: --format needs a list of fields",
                  "--format alone");
  expect_headers (2, many, "ps: -o: more than 24 fields", "too many fields");
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
print_with (int argc, char **argv, const struct ko_mon_pids *p, time_t now)
{
  struct ko_ps_format fmt;
  if (ko_ps_format_of (argc, argv, &fmt, NULL) < 0)
    return NULL;
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&out, &len);
  ko_ps_print (f, &fmt, p, now, names);
  fclose (f);
  return out;
}

static char *FULL_ARGS[] = { "-ef" }, *BSD_ARGS[] = { "-e", "-x" };
#define print(style, p, now)                                                   \
  ((style) ? print_with (2, BSD_ARGS, p, now)                                  \
           : print_with (1, FULL_ARGS, p, now))
enum
{
  KO_PS_FULL,
  KO_PS_BSD
};

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
  /* -o: the fields asked for, in their order; the last one unpadded */
  {
    char *o[] = { "-o", "pid,user,uid,ppid,pgid,sid,nlwp,s,stat,time,etime,"
                        "pcpu,comm=NAME,args" };
    in[0].cmd = "sleep 100";
    p.uptime_ms = 20000;
    p.n = 2;
    out = print_with (2, o, &p, now);
    is_str (out,
            "    PID USER       UID    PPID    PGID     SID NLWP S STAT     "
            "TIME     ELAPSED %CPU NAME            COMMAND\n"
            "     42 root         0       1      42      42    3 S Ssl+ "
            "00:00:04       00:10 40.0 my (odd) cmd    sleep 100\n"
            "     43 1000      1000       ?       ?       ?    ? ? ?           "
            "?           ?    ? ?               evil?]0;title?\n",
            "-o: every field, unknowns as ?, control characters replaced");
    free (out);
  }
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
