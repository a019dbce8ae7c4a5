/* Logging as runc does it: --log FILE, --log-format text|json (one JSON
 * object per line with level, msg and time). Library code logs only at debug;
 * the command layer logs errors, which also go to stderr. */
#ifndef KO_LOG_H
#define KO_LOG_H

#include <stdbool.h>

#include "error.h"

enum ko_log_level
{
  KO_LOG_DEBUG,
  KO_LOG_INFO,
  KO_LOG_WARN,
  KO_LOG_ERROR
};

int log_init (const char *path, const char *format, bool debug, ko_error **err);
void ko_log (enum ko_log_level level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/* Errors go to the log file and to stderr; warnings too. */
#define log_debug(...) ko_log (KO_LOG_DEBUG, __VA_ARGS__)
#define log_info(...) ko_log (KO_LOG_INFO, __VA_ARGS__)
#define log_warn(...) ko_log (KO_LOG_WARN, __VA_ARGS__)
#define log_error(...) ko_log (KO_LOG_ERROR, __VA_ARGS__)
/* The monitor keeps logging to the file after the caller's stderr is gone. */
void log_set_stderr (bool on);

#endif
