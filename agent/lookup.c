/* Pure helpers shared by the agent and its unit tests. */
#include "agent.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int
ag_error_set (ko_error **err, int status, const char *fmt, ...)
{
  char msg[768];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  if (status <= 0)
    return ko_error_setx (err, status, "%s", msg);
  char se[128];
  snprintf (se, sizeof se, "%s", strerror (status));
  se[0] = (char)tolower ((unsigned char)se[0]);
  return ko_error_setx (err, status, "%s: %s", msg, se);
}

const char *
ag_env_path (char *const *env)
{
  for (; env && *env; env++)
    if (strncmp (*env, "PATH=", 5) == 0)
      return *env + 5;
  return AG_DEFAULT_PATH;
}

/* 0 if p is an executable regular file, else an errno value. */
static int
check_executable (const char *p)
{
  struct stat st;
  if (stat (p, &st) < 0)
    return errno;
  if (!S_ISREG (st.st_mode) || (st.st_mode & 0111) == 0)
    return EACCES;
  return 0;
}

int
ag_find_executable (const char *arg0, const char *path, char **out,
                    ko_error **err)
{
  if (arg0 == NULL || *arg0 == '\0')
    return ko_error_setx (err, ENOENT,
                          "exec: \"\": executable file not found in $PATH");
  if (strchr (arg0, '/'))
    {
      int e = check_executable (arg0);
      if (e)
        return ag_error_set (err, e, "exec %s", arg0);
      char *s = strdup (arg0);
      if (s == NULL)
        return ag_error_set (err, ENOMEM, "exec %s", arg0);
      *out = s;
      return 0;
    }

  bool denied = false;
  size_t alen = strlen (arg0);
  const char *p = path ? path : AG_DEFAULT_PATH;
  for (;;)
    {
      const char *end = strchr (p, ':');
      size_t dlen = end ? (size_t)(end - p) : strlen (p);
      /* an empty element means the current directory */
      const char *dir = dlen ? p : ".";
      size_t n = dlen ? dlen : 1;
      char *cand = malloc (n + 1 + alen + 1);
      if (cand == NULL)
        return ag_error_set (err, ENOMEM, "exec: \"%s\"", arg0);
      memcpy (cand, dir, n);
      cand[n] = '/';
      memcpy (cand + n + 1, arg0, alen + 1);
      int e = check_executable (cand);
      if (e == 0)
        {
          *out = cand;
          return 0;
        }
      free (cand);
      if (e == EACCES)
        denied = true;
      if (end == NULL)
        break;
      p = end + 1;
    }
  if (denied)
    return ko_error_setx (err, EACCES, "exec: \"%s\": permission denied", arg0);
  return ko_error_setx (
      err, ENOENT, "exec: \"%s\": executable file not found in $PATH", arg0);
}

bool
ag_relpath_ok (const char *p)
{
  if (p == NULL || *p == '\0' || *p == '/')
    return false;
  for (const char *s = p; *s;)
    {
      const char *e = strchr (s, '/');
      size_t n = e ? (size_t)(e - s) : strlen (s);
      if (n == 2 && s[0] == '.' && s[1] == '.')
        return false;
      if (e == NULL)
        break;
      s = e + 1;
    }
  return true;
}
