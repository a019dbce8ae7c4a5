#include "config.h"

#include "psformat.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* --- columns --- */

enum ps_field
{
  F_PID,
  F_PPID,
  F_UID,
  F_USER,
  F_C,
  F_PCPU,
  F_STIME,
  F_TTY,
  F_TIME,
  F_BSDTIME,
  F_ETIME,
  F_STAT,
  F_STATE,
  F_COMM,
  F_ARGS,
  F_PGID,
  F_SID,
  F_NLWP,
};

/* procps's names for -o, its headers and widths; left: text columns */
static const struct
{
  const char *name;
  unsigned char field;
  const char *header;
  unsigned char width;
  bool left;
} columns[] = {
  { "pid", F_PID, "PID", 7, false },
  { "tgid", F_PID, "TGID", 7, false },
  { "ppid", F_PPID, "PPID", 7, false },
  { "uid", F_UID, "UID", 5, false },
  { "euid", F_UID, "EUID", 5, false },
  { "user", F_USER, "USER", 8, true },
  { "euser", F_USER, "EUSER", 8, true },
  { "uname", F_USER, "USER", 8, true },
  { "c", F_C, "C", 2, false },
  { "pcpu", F_PCPU, "%CPU", 4, false },
  { "%cpu", F_PCPU, "%CPU", 4, false },
  { "stime", F_STIME, "STIME", 5, true },
  { "start_time", F_STIME, "START", 5, true },
  { "tty", F_TTY, "TT", 8, true },
  { "tt", F_TTY, "TT", 8, true },
  { "tname", F_TTY, "TTY", 8, true },
  { "time", F_TIME, "TIME", 8, false },
  { "cputime", F_TIME, "TIME", 8, false },
  { "bsdtime", F_BSDTIME, "TIME", 6, false },
  { "etime", F_ETIME, "ELAPSED", 11, false },
  { "stat", F_STAT, "STAT", 4, true },
  { "s", F_STATE, "S", 1, true },
  { "state", F_STATE, "S", 1, true },
  { "comm", F_COMM, "COMMAND", 15, true },
  { "ucomm", F_COMM, "COMMAND", 15, true },
  { "ucmd", F_COMM, "CMD", 15, true },
  { "args", F_ARGS, "COMMAND", 27, true },
  { "cmd", F_ARGS, "CMD", 27, true },
  { "command", F_ARGS, "COMMAND", 27, true },
  { "pgid", F_PGID, "PGID", 7, false },
  { "pgrp", F_PGID, "PGRP", 7, false },
  { "sid", F_SID, "SID", 7, false },
  { "sess", F_SID, "SESS", 7, false },
  { "session", F_SID, "SESS", 7, false },
  { "nlwp", F_NLWP, "NLWP", 4, false },
  { "thcount", F_NLWP, "THCNT", 4, false },
};

static void
add_col (struct ko_ps_format *fmt, size_t c, const char *header, size_t hlen)
{
  struct ko_ps_col *col = &fmt->cols[fmt->ncols++];
  col->field = columns[c].field;
  col->width = columns[c].width;
  col->left = columns[c].left;
  if (header == NULL)
    {
      header = columns[c].header;
      hlen = strlen (header);
    }
  if (hlen >= sizeof col->header)
    hlen = sizeof col->header - 1;
  memcpy (col->header, header, hlen);
  col->header[hlen] = '\0';
}

/* The preset columns of -ef and -e -x, by name. */
static void
preset (struct ko_ps_format *fmt, const char *const *names,
        const char *const *headers, size_t n)
{
  fmt->ncols = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t c = 0; c < KO_ARRAY_SIZE (columns); c++)
      if (strcmp (columns[c].name, names[i]) == 0)
        {
          add_col (fmt, c, headers[i], strlen (headers[i]));
          break;
        }
}

/* "pid,comm" or "pid comm", each name with an optional =HEADER */
static int
add_list (struct ko_ps_format *fmt, const char *list, ko_error **err)
{
  const char *s = list;
  if (*s == '\0')
    return ko_error_setx (err, EINVAL, "ps: -o: an empty list of fields");
  while (*s)
    {
      size_t l = strcspn (s, ", ");
      const char *eq = memchr (s, '=', l);
      size_t nl = eq ? (size_t)(eq - s) : l;
      size_t c;
      for (c = 0; c < KO_ARRAY_SIZE (columns); c++)
        if (strlen (columns[c].name) == nl
            && strncasecmp (columns[c].name, s, nl) == 0)
          break;
      if (nl == 0 || c == KO_ARRAY_SIZE (columns))
        return ko_error_setx (
            err, EINVAL,
            "ps: -o: unknown field \"%.*s\" (known: pid, ppid, uid, user, "
            "c, pcpu, stime, tty, time, bsdtime, etime, stat, s, comm, "
            "args, cmd, command, pgid, sid, nlwp and their procps aliases)",
            (int)(nl > 64 ? 64 : nl), s);
      if (fmt->ncols == KO_PS_MAX_COLS)
        return ko_error_setx (err, EINVAL, "ps: -o: more than %d fields",
                              KO_PS_MAX_COLS);
      add_col (fmt, c, eq ? eq + 1 : NULL, eq ? l - nl - 1 : 0);
      s += l;
      while (*s == ',' || *s == ' ')
        s++;
    }
  return 0;
}

int
ko_ps_format_of (int argc, char *const *argv, struct ko_ps_format *fmt,
                 ko_error **err)
{
  /* the letters of every option, as procps takes -ef, -e -f, -fe ...;
   * o (or --format) takes a list, the rest of its word or the next one */
  bool f = false, x = false, other = false;
  memset (fmt, 0, sizeof *fmt);
  for (int i = 0; i < argc; i++)
    {
      const char *a = argv[i] + (argv[i][0] == '-');
      const char *list = NULL;
      if (*a == '\0')
        other = true;
      else if (strncmp (a, "-format", 7) == 0 && (a[7] == '\0' || a[7] == '='))
        {
          list = a[7] == '=' ? a + 8 : i + 1 < argc ? argv[++i] : NULL;
          if (list == NULL)
            return ko_error_setx (err, EINVAL,
                                  "ps: --format needs a list of fields");
          a = "";
        }
      for (; *a; a++)
        if (*a == 'e' || *a == 'A' || *a == 'a')
          ;
        else if (*a == 'f')
          f = true;
        else if (*a == 'x')
          x = true;
        else if (*a == 'o')
          {
            list = a[1] ? a + 1 : i + 1 < argc ? argv[++i] : NULL;
            if (list == NULL)
              return ko_error_setx (err, EINVAL,
                                    "ps: -o needs a list of fields");
            break;
          }
        else
          other = true;
      if (list && add_list (fmt, list, err) < 0)
        return -1;
    }
  if (!other && fmt->ncols)
    return 0;
  if (!other && !x && (argc == 0 || f))
    {
      static const char *const n[]
          = { "user", "pid", "ppid", "c", "stime", "tname", "time", "cmd" };
      static const char *const h[]
          = { "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD" };
      preset (fmt, n, h, KO_ARRAY_SIZE (n));
      return 0;
    }
  if (!other && !f && x)
    {
      static const char *const n[]
          = { "pid", "tname", "stat", "bsdtime", "command" };
      static const char *const h[]
          = { "PID", "TTY", "STAT", "TIME", "COMMAND" };
      preset (fmt, n, h, KO_ARRAY_SIZE (n));
      return 0;
    }
  char opts[256] = "";
  for (int i = 0; i < argc; i++)
    {
      size_t l = strlen (opts);
      snprintf (opts + l, sizeof opts - l, "%s%s", i ? " " : "", argv[i]);
    }
  return ko_error_setx (err, EINVAL,
                        "ps: ps options \"%s\": only runc's default (-ef), "
                        "-e -x and -o FIELDS are shown, the processes run in "
                        "the VM, out of the host's ps's sight",
                        opts);
}

/* [[DD-]hh:]mm:ss, as procps prints etime */
static void
elapsed (unsigned long long s, char *buf, size_t n)
{
  if (s >= 86400)
    snprintf (buf, n, "%llu-%02llu:%02llu:%02llu", s / 86400, s / 3600 % 24,
              s / 60 % 60, s % 60);
  else if (s >= 3600)
    snprintf (buf, n, "%02llu:%02llu:%02llu", s / 3600, s / 60 % 60, s % 60);
  else
    snprintf (buf, n, "%02llu:%02llu", s / 60, s % 60);
}

/* One process's value of each field ("?" for what the guest did not say). */
struct ps_vals
{
  char v[F_NLWP + 1][64];
  char args[80];
  const char *cmd; /* the command line, unsanitized, or NULL */
};

static void
ps_vals (const struct ko_mon_pids *p, size_t i, time_t now,
         bool (*user) (uint32_t uid, char *buf, size_t n), struct ps_vals *pv)
{
  for (size_t k = 0; k < KO_ARRAY_SIZE (pv->v); k++)
    snprintf (pv->v[k], sizeof pv->v[k], "?");
  pv->cmd = NULL;
  const struct ko_ps_info *in
      = p->info && i < KO_MAX_PS_INFO ? &p->info[i] : NULL;
  struct ko_ps_stat st;
  bool have = in && in->stat && ko_ps_parse_stat (in->stat, &st) == 0;
  snprintf (pv->v[F_PID], sizeof pv->v[0], "%u", p->pids[i]);
  if (in && in->has_uid)
    {
      snprintf (pv->v[F_UID], sizeof pv->v[0], "%u", in->uid);
      if (!(user && user (in->uid, pv->v[F_USER], sizeof pv->v[0])))
        snprintf (pv->v[F_USER], sizeof pv->v[0], "%u", in->uid);
    }
  if (have)
    {
      snprintf (pv->v[F_PPID], sizeof pv->v[0], "%u", st.ppid);
      snprintf (pv->v[F_PGID], sizeof pv->v[0], "%u", st.pgrp);
      snprintf (pv->v[F_SID], sizeof pv->v[0], "%u", st.session);
      snprintf (pv->v[F_NLWP], sizeof pv->v[0], "%u", st.threads);
      snprintf (pv->v[F_STATE], sizeof pv->v[0], "%c", st.state);
      snprintf (pv->v[F_COMM], sizeof pv->v[0], "%s", st.comm);
      tty_name (st.tty, pv->v[F_TTY], sizeof pv->v[0]);
      unsigned long long s = st.cpu_ticks / TICKS;
      snprintf (pv->v[F_BSDTIME], sizeof pv->v[0], "%llu:%02llu", s / 60,
                s % 60);
      if (s >= 86400)
        snprintf (pv->v[F_TIME], sizeof pv->v[0], "%llu-%02llu:%02llu:%02llu",
                  s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
      else
        snprintf (pv->v[F_TIME], sizeof pv->v[0], "%02llu:%02llu:%02llu",
                  s / 3600, s / 60 % 60, s % 60);
      snprintf (pv->v[F_STAT], sizeof pv->v[0], "%c%s%s%s", st.state,
                st.session == p->pids[i] ? "s" : "", st.threads > 1 ? "l" : "",
                st.tty && st.tpgid == st.pgrp ? "+" : "");
      /* how long ago it started, in the guest's clock */
      unsigned long long up = p->uptime_ms / 10; /* ticks */
      if (p->uptime_ms && st.start_ticks <= up)
        {
          unsigned long long age = up - st.start_ticks;
          unsigned long long pct = age ? st.cpu_ticks * 100 / age : 0;
          snprintf (pv->v[F_C], sizeof pv->v[0], "%llu", pct > 99 ? 99 : pct);
          unsigned long long permille = age ? st.cpu_ticks * 1000 / age : 0;
          snprintf (pv->v[F_PCPU], sizeof pv->v[0], "%llu.%llu", permille / 10,
                    permille % 10);
          elapsed (age / TICKS, pv->v[F_ETIME], sizeof pv->v[0]);
          time_t start = now - (time_t)(age / TICKS);
          struct tm tm;
          if (localtime_r (&start, &tm))
            strftime (pv->v[F_STIME], sizeof pv->v[0],
                      now - start < 86400 ? "%H:%M" : "%b%d", &tm);
        }
    }
  pv->cmd = in && in->cmd ? in->cmd : NULL;
  if (pv->cmd == NULL && have)
    {
      snprintf (pv->args, sizeof pv->args, "[%s]", st.comm);
      pv->cmd = pv->args;
    }
}

static void
put_cell (FILE *f, const struct ko_ps_col *c, const char *text, bool last,
          bool sanitize)
{
  int w = (int)c->width;
  if ((int)strlen (c->header) > w)
    w = (int)strlen (c->header);
  if (c->left && last)
    w = 0;
  int len = (int)strlen (text);
  if (!c->left)
    for (int k = len; k < w; k++)
      fputc (' ', f);
  if (sanitize)
    put_text (f, text);
  else
    fputs (text, f);
  if (c->left)
    for (int k = len; k < w; k++)
      fputc (' ', f);
  fputc (last ? '\n' : ' ', f);
}

void
ko_ps_print (FILE *f, const struct ko_ps_format *fmt,
             const struct ko_mon_pids *p, time_t now,
             bool (*user) (uint32_t uid, char *buf, size_t n))
{
  for (size_t c = 0; c < fmt->ncols; c++)
    put_cell (f, &fmt->cols[c], fmt->cols[c].header, c + 1 == fmt->ncols,
              false);
  for (size_t i = 0; i < p->n; i++)
    {
      struct ps_vals pv;
      ps_vals (p, i, now, user, &pv);
      for (size_t c = 0; c < fmt->ncols; c++)
        {
          const struct ko_ps_col *col = &fmt->cols[c];
          bool args = col->field == F_ARGS;
          put_cell (f, col, args ? (pv.cmd ? pv.cmd : "?") : pv.v[col->field],
                    c + 1 == fmt->ncols, args);
        }
    }
}
