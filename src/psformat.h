/* ps's tables of a container's processes, which run in the guest: from
 * what the agent read of /proc (untrusted text, parsed and sanitized
 * here), the columns procps prints for runc's default (-ef), for -e -x
 * and for -o. */
#ifndef KO_PSFORMAT_H
#define KO_PSFORMAT_H

#include "error.h"
#include "monproto.h"

#include <stdio.h>
#include <time.h>

#define KO_PS_MAX_COLS 24

/* One column of the table: a field of procps's -o, its header, width and
 * alignment. */
struct ko_ps_col
{
  unsigned char field, width;
  bool left;
  char header[32];
};

struct ko_ps_format
{
  size_t ncols;
  struct ko_ps_col cols[KO_PS_MAX_COLS];
};

/* Pure: the columns ps options ask for: none is runc's default (-ef), -e
 * -x the BSD ones, -o (--format) LIST the fields it names, as procps reads
 * them (name[=HEADER], comma or space separated); an error naming the
 * options for any other (the host's ps cannot see the guest). */
int ko_ps_format_of (int argc, char *const *argv, struct ko_ps_format *fmt,
                     ko_error **err);

/* What /proc/PID/stat says that ps shows. */
struct ko_ps_stat
{
  char comm[64]; /* printable: anything else is '?' */
  char state;
  unsigned ppid, pgrp, session, tpgid, tty, threads;
  unsigned long long cpu_ticks;   /* utime + stime */
  unsigned long long start_ticks; /* since the guest booted */
};

/* Pure: parses a stat line; -1 when it is not one. */
int ko_ps_parse_stat (const char *line, struct ko_ps_stat *st);

/* Pure: prints the header, then one line per process (in p's order; "?"
 * for what the guest did not say). now: the host's time; user: the name of
 * a uid into buf (false: none, the number is printed). */
void ko_ps_print (FILE *f, const struct ko_ps_format *fmt,
                  const struct ko_mon_pids *p, time_t now,
                  bool (*user) (uint32_t uid, char *buf, size_t n));

#endif
