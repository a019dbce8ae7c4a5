/* How a forked helper (the monitor of `create`, the relay of `exec -d`)
 * tells the CLI that forked it whether it got going: over a pipe, "OK" and
 * a pid, or "E" and the error message, then EOF. */
#ifndef KO_REPORT_H
#define KO_REPORT_H

#include <sys/types.h>

#include "error.h"

/* Both close *fd and set it to -1; a no-op when *fd < 0. */
void report_ok (int *fd, pid_t pid);
void report_error (int *fd, const char *msg);
/* Reads the report to EOF: 0 with *pid (0 when none was sent), or -1 with
 * the helper's message, or `what` when it said nothing. */
int report_read (int fd, pid_t *pid, const char *what, ko_error **err);

#endif
