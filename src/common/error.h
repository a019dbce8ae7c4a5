/* One error type end to end, on the host and in the agent: a status (an errno
 * value, or 0) plus a message. Built where the failure happens, wrapped with
 * context on the way up, printed only by the command layer. */
#ifndef KO_ERROR_H
#define KO_ERROR_H

#include <stdarg.h>

typedef struct ko_error
{
  int status; /* errno value, 0 when there is none */
  char *msg;
} ko_error;

/* Sets *err (when err is non-NULL and *err is NULL) and returns -1, so that
 * failing is one line: `return ko_error_set (err, errno, "open %s", p);`.
 * A non-zero status appends ": strerror(status)" to the message. */
int ko_error_set (ko_error **err, int status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* Same, without the strerror suffix: for messages that already say it all. */
int ko_error_setx (ko_error **err, int status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* Prefixes context: "context: old message". Returns -1. */
int ko_error_wrap (ko_error **err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
void ko_error_free (ko_error *err);
static inline void
ko_error_freep (ko_error **e)
{
  ko_error_free (*e);
}
#define _cleanup_error_ __attribute__ ((cleanup (ko_error_freep)))

#endif
