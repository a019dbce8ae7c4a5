#include "config.h"

#include "error.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1;
static bool log_json;
static bool log_debug_on;
static bool log_stderr = true;

int
log_init (const char *path, const char *format, bool debug, ko_error **err)
{
  if (format && strcmp (format, "json") == 0)
    log_json = true;
  else if (format && strcmp (format, "text") != 0)
    return ko_error_setx (err, EINVAL,
                          "--log-format: unknown format \"%s\" (text or json)",
                          format);
  log_debug_on = debug;
  if (path && *path)
    {
      log_fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
      if (log_fd < 0)
        return ko_error_set (err, errno, "open log file %s", path);
    }
  return 0;
}

void
log_set_stderr (bool on)
{
  log_stderr = on;
}

static const char *const level_names[]
    = { "debug", "info", "warning", "error" };

static void
json_escape (FILE *f, const char *s)
{
  for (; *s; s++)
    {
      unsigned char c = (unsigned char)*s;
      if (c == '"' || c == '\\')
        fprintf (f, "\\%c", c);
      else if (c == '\n')
        fputs ("\\n", f);
      else if (c == '\t')
        fputs ("\\t", f);
      else if (c < 0x20)
        fprintf (f, "\\u%04x", c);
      else
        fputc (c, f);
    }
}

void
ko_log (enum ko_log_level level, const char *fmt, ...)
{
  if (level == KO_LOG_DEBUG && !log_debug_on)
    return;
  char *msg = NULL;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  if (msg == NULL)
    return;

  if (log_fd >= 0)
    {
      char tbuf[64];
      struct timeval tv;
      struct tm tm;
      gettimeofday (&tv, NULL);
      gmtime_r (&tv.tv_sec, &tm);
      size_t n = strftime (tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S", &tm);
      snprintf (tbuf + n, sizeof tbuf - n, ".%06ldZ", (long)tv.tv_usec);
      char *line = NULL;
      size_t len = 0;
      FILE *f = open_memstream (&line, &len);
      if (f)
        {
          if (log_json)
            {
              fprintf (f, "{\"level\":\"%s\",\"msg\":\"", level_names[level]);
              json_escape (f, msg);
              fprintf (f, "\",\"time\":\"%s\"}\n", tbuf);
            }
          else
            fprintf (f, "time=\"%s\" level=%s msg=\"%s\"\n", tbuf,
                     level_names[level], msg);
          fclose (f);
          if (write (log_fd, line, len) < 0)
            { /* nowhere left to report it */
            }
          free (line);
        }
    }
  if (log_stderr && (level >= KO_LOG_WARN || log_fd < 0))
    {
      if (level >= KO_LOG_WARN)
        fprintf (stderr, "kata-oci: %s%s\n",
                 level == KO_LOG_WARN ? "warning: " : "", msg);
      else if (log_debug_on)
        fprintf (stderr, "kata-oci: debug: %s\n", msg);
    }
  free (msg);
}
