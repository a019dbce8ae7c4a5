/* Cleanup attributes and ownership helpers used on both sides. */
#ifndef KO_UTIL_H
#define KO_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static inline void
ko_freep (void *p)
{
  free (*(void **)p);
}
static inline void
ko_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}
static inline void
ko_fclosep (FILE **f)
{
  if (*f)
    fclose (*f);
}
static inline void
ko_strv_free (char **v)
{
  if (v == NULL)
    return;
  for (char **p = v; *p; p++)
    free (*p);
  free (v);
}
static inline void
ko_strv_freep (char ***v)
{
  ko_strv_free (*v);
}

/* mkdir -p: the directory and its missing parents. */
static inline int
ko_mkdir_p (const char *path, mode_t mode)
{
  char *p = strdup (path);
  if (p == NULL)
    return -1;
  int r = 0;
  for (char *s = p + 1; *s && r == 0; s++)
    if (*s == '/')
      {
        *s = '\0';
        if (mkdir (p, mode) < 0 && errno != EEXIST)
          r = -1;
        *s = '/';
      }
  if (r == 0 && mkdir (p, mode) < 0 && errno != EEXIST)
    r = -1;
  int saved = errno;
  free (p);
  errno = saved;
  return r;
}

/* Appends s to a NULL-terminated vector of n strings (taking it). */
static inline int
ko_strv_push (char ***v, size_t *n, char *s)
{
  char **nv = (char **)realloc (*v, (*n + 2) * sizeof *nv);
  if (nv == NULL)
    return -1;
  nv[(*n)++] = s;
  nv[*n] = NULL;
  *v = nv;
  return 0;
}

/* Little-endian integers: the wire protocol's (proto.h). */
static inline void
ko_put_le16 (uint8_t *p, uint16_t v)
{
  p[0] = v;
  p[1] = v >> 8;
}
static inline void
ko_put_le32 (uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = v >> (8 * i);
}
static inline void
ko_put_le64 (uint8_t *p, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    p[i] = v >> (8 * i);
}
static inline uint16_t
ko_get_le16 (const uint8_t *p)
{
  return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t
ko_get_le32 (const uint8_t *p)
{
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16)
         | ((uint32_t)p[3] << 24);
}
static inline uint64_t
ko_get_le64 (const uint8_t *p)
{
  return (uint64_t)ko_get_le32 (p) | ((uint64_t)ko_get_le32 (p + 4) << 32);
}

#define _cleanup_free_ __attribute__ ((cleanup (ko_freep)))
#define _cleanup_close_ __attribute__ ((cleanup (ko_closep)))
#define _cleanup_fclose_ __attribute__ ((cleanup (ko_fclosep)))
#define _cleanup_strv_ __attribute__ ((cleanup (ko_strv_freep)))

/* Hands ownership out of a cleanup-attributed local. */
#define take_ptr(p)                                                            \
  ({                                                                           \
    __typeof__ (p) _tp = (p);                                                  \
    (p) = NULL;                                                                \
    _tp;                                                                       \
  })
#define take_fd(fd)                                                            \
  ({                                                                           \
    int _tf = (fd);                                                            \
    (fd) = -1;                                                                 \
    _tf;                                                                       \
  })

#define KO_ARRAY_SIZE(a) (sizeof (a) / sizeof ((a)[0]))

/* A wait status as a shell and conmon see it: the exit code, 128 plus the
 * signal that killed it, or 255. */
static inline int
ko_exit_code (int wait_status)
{
  if (WIFEXITED (wait_status))
    return WEXITSTATUS (wait_status);
  if (WIFSIGNALED (wait_status))
    return 128 + WTERMSIG (wait_status);
  return 255;
}

/* What conmon and people send the pid of a container or exec, and the
 * runtime forwards to the process in the guest */
#define KO_FORWARDED_SIGNALS                                                   \
  SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH

#endif
