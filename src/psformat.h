/* ps's tables of a container's processes, which run in the guest: from
 * what the agent read of /proc (untrusted text, parsed and sanitized
 * here), the columns procps prints for runc's default (-ef) and for
 * -e -x. */
#ifndef KO_PSFORMAT_H
#define KO_PSFORMAT_H

#include "error.h"
#include "monproto.h"

#include <stdio.h>
#include <time.h>

enum ko_ps_style
{
  KO_PS_FULL, /* -ef: UID PID PPID C STIME TTY TIME CMD */
  KO_PS_BSD,  /* -e -x: PID TTY STAT TIME COMMAND */
};

/* Pure: the style ps options ask for (none: runc's default, -ef); an error
 * naming them for any other (the host's ps cannot see the guest). */
int ko_ps_style_of (int argc, char *const *argv, enum ko_ps_style *style,
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
void ko_ps_print (FILE *f, enum ko_ps_style style, const struct ko_mon_pids *p,
                  time_t now, bool (*user) (uint32_t uid, char *buf, size_t n));

#endif
