#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
vformat (const char *fmt, va_list ap)
{
  char *s = NULL;
  if (vasprintf (&s, fmt, ap) < 0)
    return NULL;
  return s;
}

static int
error_new (ko_error **err, int status, int add_strerror, const char *fmt,
           va_list ap)
{
  if (err == NULL || *err != NULL)
    return -1;
  ko_error *e = calloc (1, sizeof *e);
  if (e == NULL)
    return -1;
  char *msg = vformat (fmt, ap);
  e->status = status;
  if (msg != NULL && add_strerror && status > 0)
    {
      char *full = NULL;
      if (asprintf (&full, "%s: %s", msg, strerror (status)) >= 0)
        {
          free (msg);
          msg = full;
        }
    }
  e->msg = msg ? msg : strdup ("out of memory");
  *err = e;
  return -1;
}

int
ko_error_set (ko_error **err, int status, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  error_new (err, status, 1, fmt, ap);
  va_end (ap);
  return -1;
}

int
ko_error_setx (ko_error **err, int status, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  error_new (err, status, 0, fmt, ap);
  va_end (ap);
  return -1;
}

int
ko_error_wrap (ko_error **err, const char *fmt, ...)
{
  if (err == NULL || *err == NULL)
    return -1;
  va_list ap;
  va_start (ap, fmt);
  char *ctx = vformat (fmt, ap);
  va_end (ap);
  char *full = NULL;
  if (ctx != NULL && asprintf (&full, "%s: %s", ctx, (*err)->msg) >= 0)
    {
      free ((*err)->msg);
      (*err)->msg = full;
    }
  free (ctx);
  return -1;
}

void
ko_error_free (ko_error *err)
{
  if (err == NULL)
    return;
  free (err->msg);
  free (err);
}
