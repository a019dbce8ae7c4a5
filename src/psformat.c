#include "config.h"

#include "psformat.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
ko_ps_style_of (int argc, char *const *argv, enum ko_ps_style *style,
                ko_error **err)
{
  /* the letters of every option, as procps takes -ef, -e -f, -fe ... */
  bool e = false, f = false, x = false, other = false;
  for (int i = 0; i < argc; i++)
    {
      const char *a = argv[i] + (argv[i][0] == '-');
      if (*a == '\0')
        other = true;
      for (; *a; a++)
        if (*a == 'e' || *a == 'A' || *a == 'a')
          e = true;
        else if (*a == 'f')
          f = true;
        else if (*a == 'x')
          x = true;
        else
          other = true;
    }
  if (!other && !x && (argc == 0 || f))
    *style = KO_PS_FULL;
  else if (!other && !f && x)
    *style = KO_PS_BSD;
  else
    {
      char list[256] = "";
      for (int i = 0; i < argc; i++)
        {
          size_t l = strlen (list);
          snprintf (list + l, sizeof list - l, "%s%s", i ? " " : "", argv[i]);
        }
      return ko_error_setx (err, EINVAL,
                            "ps: ps options \"%s\": only runc's default (-ef) "
                            "and -e -x are shown, the processes run in the "
                            "VM, out of the host's ps's sight",
                            list);
    }
  (void)e;
  return 0;
}

/* the next space-separated number of *s; -1 when there is none */
static int
next_num (const char **s, long long *v)
{
  const char *p = *s;
  while (*p == ' ')
    p++;
  char *end;
  errno = 0;
  *v = strtoll (p, &end, 10);
  if (end == p || errno || (*end != ' ' && *end != '\0'))
    return -1;
  *s = end;
  return 0;
}

int
ko_ps_parse_stat (const char *line, struct ko_ps_stat *st)
{
  memset (st, 0, sizeof *st);
  const char *open = strchr (line, '('), *close = strrchr (line, ')');
  if (open == NULL || close == NULL || close < open || close[1] != ' '
      || close[2] == '\0' || close[3] != ' ')
    return -1;
  size_t n = (size_t)(close - open - 1);
  if (n >= sizeof st->comm)
    n = sizeof st->comm - 1;
  for (size_t i = 0; i < n; i++)
    {
      unsigned char c = (unsigned char)open[1 + i];
      st->comm[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
    }
  st->state = close[2] >= 0x21 && close[2] < 0x7f ? close[2] : '?';
  /* from field 4 (ppid) to 22 (starttime) */
  long long v[19];
  const char *p = close + 3;
  for (size_t i = 0; i < KO_ARRAY_SIZE (v); i++)
    if (next_num (&p, &v[i]) < 0)
      return -1;
  st->ppid = (unsigned)v[0];
  st->pgrp = (unsigned)v[1];
  st->session = (unsigned)v[2];
  st->tty = (unsigned)v[3];
  st->tpgid = (unsigned)v[4];
  if (v[10] < 0 || v[11] < 0 || v[18] < 0)
    return -1;
  st->cpu_ticks = (unsigned long long)v[10] + (unsigned long long)v[11];
  st->threads = (unsigned)v[16];
  st->start_ticks = (unsigned long long)v[18];
  return 0;
}

/* the guest's USER_HZ, as every Linux has it */
#define TICKS 100ULL

static void
tty_name (unsigned nr, char *buf, size_t n)
{
  unsigned major = (nr >> 8) & 0xfff,
           minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143)
    snprintf (buf, n, "pts/%u", (major - 136) * 256 + minor);
  else if (major == 4 && minor >= 64)
    snprintf (buf, n, "ttyS%u", minor - 64);
  else if (major == 4 && nr)
    snprintf (buf, n, "tty%u", minor);
  else if (major == 5 && minor == 1)
    snprintf (buf, n, "console");
  else
    snprintf (buf, n, "?");
}

/* a command line as the guest gave it, without control characters */
static void
put_text (FILE *f, const char *s)
{
  for (; *s; s++)
    {
      unsigned char c = (unsigned char)*s;
      fputc (c < 0x20 || c == 0x7f ? '?' : c, f);
    }
}

void
ko_ps_print (FILE *f, enum ko_ps_style style, const struct ko_mon_pids *p,
             time_t now, bool (*user) (uint32_t uid, char *buf, size_t n))
{
  if (style == KO_PS_FULL)
    fprintf (f, "%-8s %7s %7s %2s %-5s %-8s %8s %s\n", "UID", "PID", "PPID",
             "C", "STIME", "TTY", "TIME", "CMD");
  else
    fprintf (f, "%7s %-8s %-4s %6s %s\n", "PID", "TTY", "STAT", "TIME",
             "COMMAND");
  for (size_t i = 0; i < p->n; i++)
    {
      const struct ko_ps_info *in
          = p->info && i < KO_MAX_PS_INFO ? &p->info[i] : NULL;
      struct ko_ps_stat st;
      bool have = in && in->stat && ko_ps_parse_stat (in->stat, &st) == 0;
      char uid[64] = "?", ppid[16] = "?", c[8] = "?", stime[16] = "?",
           tty[16] = "?", cpu[32] = "?", stat[8] = "?";
      if (in && in->has_uid && !(user && user (in->uid, uid, sizeof uid)))
        snprintf (uid, sizeof uid, "%u", in->uid);
      if (have)
        {
          snprintf (ppid, sizeof ppid, "%u", st.ppid);
          tty_name (st.tty, tty, sizeof tty);
          unsigned long long s = st.cpu_ticks / TICKS;
          if (style == KO_PS_BSD)
            snprintf (cpu, sizeof cpu, "%llu:%02llu", s / 60, s % 60);
          else if (s >= 86400)
            snprintf (cpu, sizeof cpu, "%llu-%02llu:%02llu:%02llu", s / 86400,
                      s / 3600 % 24, s / 60 % 60, s % 60);
          else
            snprintf (cpu, sizeof cpu, "%02llu:%02llu:%02llu", s / 3600,
                      s / 60 % 60, s % 60);
          snprintf (stat, sizeof stat, "%c%s%s%s", st.state,
                    st.session == p->pids[i] ? "s" : "",
                    st.threads > 1 ? "l" : "",
                    st.tty && st.tpgid == st.pgrp ? "+" : "");
        }
      /* how long ago it started, in the guest's clock */
      unsigned long long up = p->uptime_ms / 10; /* ticks */
      if (have && p->uptime_ms && st.start_ticks <= up)
        {
          unsigned long long age = up - st.start_ticks;
          snprintf (c, sizeof c, "%llu",
                    age ? (st.cpu_ticks * 100 / age > 99
                               ? 99
                               : st.cpu_ticks * 100 / age)
                        : 0);
          time_t start = now - (time_t)(age / TICKS);
          struct tm tm;
          if (localtime_r (&start, &tm))
            strftime (stime, sizeof stime,
                      now - start < 86400 ? "%H:%M" : "%b%d", &tm);
        }
      char cmdbuf[80];
      const char *cmd = in && in->cmd ? in->cmd : NULL;
      if (cmd == NULL && have)
        {
          snprintf (cmdbuf, sizeof cmdbuf, "[%s]", st.comm);
          cmd = cmdbuf;
        }
      if (style == KO_PS_FULL)
        fprintf (f, "%-8s %7u %7s %2s %-5s %-8s %8s ", uid, p->pids[i], ppid, c,
                 stime, tty, cpu);
      else
        fprintf (f, "%7u %-8s %-4s %6s ", p->pids[i], tty, stat, cpu);
      put_text (f, cmd ? cmd : "?");
      fputc ('\n', f);
    }
}
