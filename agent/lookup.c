/* Pure helpers shared by the agent and its unit tests. */
#include "agent.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
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
    return ko_error_setx (
        err, ENOENT, "exec: \"%s\": executable file not found in $PATH", "");
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

int
ag_id_map_format (const struct ko_id_map *v, size_t n, char *buf, size_t len)
{
  size_t off = 0;
  if (len == 0)
    return -1;
  buf[0] = '\0';
  for (size_t i = 0; i < n; i++)
    {
      int r = snprintf (buf + off, len - off, "%u %u %u\n", v[i].container_id,
                        v[i].host_id, v[i].size);
      if (r < 0 || (size_t)r >= len - off)
        return -1;
      off += (size_t)r;
    }
  return off > INT_MAX ? -1 : (int)off;
}

int
ag_uevent_devname (const char *uevent, char *out, size_t len)
{
  const char *l = uevent;
  while (l && *l && strncmp (l, "DEVNAME=", 8) != 0)
    {
      l = strchr (l, '\n');
      if (l)
        l++;
    }
  if (l == NULL || *l == '\0')
    return -1;
  l += 8;
  size_t n = strcspn (l, "\n");
  if (n == 0 || n >= len)
    return -1;
  memcpy (out, l, n);
  out[n] = '\0';
  return ag_relpath_ok (out) ? 0 : -1;
}

/* ---- resources: OCI linux.resources values to cgroup v2 files ---- */

static struct ag_cg_write *
plan_add (struct ag_cg_write *w, int *n, const char *file)
{
  struct ag_cg_write *e = &w[(*n)++];
  e->file = file;
  e->value = e->buf;
  return e;
}

/* "max" for a negative value, else the number */
static void
plan_num (struct ag_cg_write *w, int *n, const char *file, int64_t v)
{
  struct ag_cg_write *e = plan_add (w, n, file);
  if (v < 0)
    snprintf (e->buf, sizeof e->buf, "max");
  else
    snprintf (e->buf, sizeof e->buf, "%lld", (long long)v);
}

uint64_t
ag_shares_to_weight (uint64_t shares)
{
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t
ag_blkio_to_io_weight (uint64_t w)
{
  if (w < 10)
    w = 10;
  if (w > 1000)
    w = 1000;
  return 1 + (w - 10) * 9999 / 990;
}

int
ag_resources_plan (const struct ko_resources *r, int64_t cur_limit,
                   const char *cur_quota, struct ag_cg_write *w, ko_error **err)
{
  int n = 0;
  /* a 0 means "not set" for these, as runc reads them */
  bool limit = KO_R_HAS (r, MEM_LIMIT) && KO_R_V (r, MEM_LIMIT) != 0;
  bool swap = KO_R_HAS (r, MEM_SWAP) && KO_R_V (r, MEM_SWAP) != 0;
  bool quota = KO_R_HAS (r, CPU_QUOTA) && KO_R_V (r, CPU_QUOTA) != 0;
  bool period = KO_R_HAS (r, CPU_PERIOD) && KO_R_V (r, CPU_PERIOD) > 0;

  if (r->cpus && *r->cpus)
    plan_add (w, &n, "cpuset.cpus")->value = r->cpus;
  if (r->mems && *r->mems)
    plan_add (w, &n, "cpuset.mems")->value = r->mems;
  if (limit)
    plan_num (w, &n, "memory.max", KO_R_V (r, MEM_LIMIT));
  if (swap)
    {
      int64_t s = KO_R_V (r, MEM_SWAP);
      int64_t l = limit ? KO_R_V (r, MEM_LIMIT) : cur_limit;
      if (s > 0 && l < 0)
        return ko_error_setx (err, EINVAL,
                              "cgroup memory.swap.max: a swap limit needs a "
                              "memory limit");
      if (s > 0 && s < l)
        return ko_error_setx (err, EINVAL,
                              "cgroup memory.swap.max: memory+swap limit %lld "
                              "is below the memory limit %lld",
                              (long long)s, (long long)l);
      plan_num (w, &n, "memory.swap.max", s < 0 ? -1 : s - l);
    }
  if (KO_R_HAS (r, MEM_RESERVATION))
    plan_num (w, &n, "memory.low", KO_R_V (r, MEM_RESERVATION));
  if (KO_R_HAS (r, CPU_SHARES) && KO_R_V (r, CPU_SHARES) != 0)
    plan_num (w, &n, "cpu.weight",
              (int64_t)ag_shares_to_weight ((uint64_t)KO_R_V (r, CPU_SHARES)));
  if (quota || period)
    {
      /* the kernel keeps the period when only the quota is written */
      struct ag_cg_write *e = plan_add (w, &n, "cpu.max");
      int64_t q = KO_R_V (r, CPU_QUOTA);
      char qs[24];
      if (quota && q > 0)
        snprintf (qs, sizeof qs, "%lld", (long long)q);
      else
        snprintf (qs, sizeof qs, "%.20s",
                  quota || cur_quota == NULL ? "max" : cur_quota);
      if (period)
        snprintf (e->buf, sizeof e->buf, "%s %llu", qs,
                  (unsigned long long)KO_R_V (r, CPU_PERIOD));
      else
        snprintf (e->buf, sizeof e->buf, "%s", qs);
    }
  if (KO_R_HAS (r, PIDS_LIMIT))
    plan_num (w, &n, "pids.max",
              KO_R_V (r, PIDS_LIMIT) <= 0 ? -1 : KO_R_V (r, PIDS_LIMIT));
  /* after cpu.max: the kernel holds the burst to the quota */
  if (KO_R_HAS (r, CPU_BURST))
    plan_num (w, &n, "cpu.max.burst", KO_R_V (r, CPU_BURST));
  if (KO_R_HAS (r, CPU_IDLE))
    plan_num (w, &n, "cpu.idle", KO_R_V (r, CPU_IDLE));
  if (KO_R_HAS (r, BLKIO_WEIGHT) && KO_R_V (r, BLKIO_WEIGHT) != 0)
    plan_num (
        w, &n, "io.weight",
        (int64_t)ag_blkio_to_io_weight ((uint64_t)KO_R_V (r, BLKIO_WEIGHT)));
  return n;
}

/* ---- reading cgroup files ---- */

/* Decimal digits at s (no strtoull: musl's pulls in its stdio scanner,
 * pages the idle agent would otherwise never touch). NULL if none. */
static const char *
scan_u64 (const char *s, uint64_t *v)
{
  const char *p = s;
  *v = 0;
  for (; *p >= '0' && *p <= '9'; p++)
    *v = *v * 10 + (uint64_t)(*p - '0');
  return p == s ? NULL : p;
}

int
ag_cg_sum (const char *text, const char *key, uint64_t *sum)
{
  size_t kl = strlen (key);
  int found = 0;
  *sum = 0;
  /* word by word (no strstr: see scan_u64) */
  for (const char *s = text; *s; s++)
    {
      if (s != text && s[-1] != ' ' && s[-1] != '\n')
        continue;
      uint64_t v;
      if (strncmp (s, key, kl) == 0 && (s[kl] == ' ' || s[kl] == '=')
          && scan_u64 (s + kl + 1, &v))
        {
          *sum += v;
          found++;
        }
    }
  return found;
}

int
ag_cg_num (const char *text, uint64_t *out)
{
  if (strncmp (text, "max", 3) == 0)
    return 0;
  return scan_u64 (text, out) ? 1 : -1;
}

int
ag_next_u64 (const char **s, uint64_t *v)
{
  const char *p = *s;
  while (*p && (*p < '0' || *p > '9'))
    p++;
  const char *e = scan_u64 (p, v);
  if (e == NULL)
    return 0;
  *s = e;
  return 1;
}

/* ---- cpusets: the host's numbers against the VM's own ---- */

/* Sets the bits of a cpu or node list ("0-3,7"; empty is none) below
 * AG_CPUSET_BITS; larger numbers are valid but fall outside. -1 if s is
 * not such a list. */
static int
cpuset_bits (const char *s, uint64_t *bits)
{
  memset (bits, 0, AG_CPUSET_BITS / 8);
  while (*s == ' ' || *s == '\n')
    s++;
  while (*s)
    {
      uint64_t lo, hi;
      const char *e = scan_u64 (s, &lo);
      if (e == NULL || e - s > 9)
        return -1;
      hi = lo;
      if (*e == '-')
        {
          const char *f = scan_u64 (e + 1, &hi);
          if (f == NULL || f - e > 10 || hi < lo)
            return -1;
          e = f;
        }
      for (uint64_t c = lo; c <= hi && c < AG_CPUSET_BITS; c++)
        bits[c / 64] |= 1ull << (c % 64);
      if (*e != ',')
        {
          while (*e == ' ' || *e == '\n')
            e++;
          return *e ? -1 : 0;
        }
      s = e + 1;
      if (*s < '0' || *s > '9')
        return -1;
    }
  return 0;
}

int
ag_cpuset_fit (const char *want, const char *have, char *out, size_t len,
               ko_error **err)
{
  uint64_t w[AG_CPUSET_BITS / 64], h[AG_CPUSET_BITS / 64];
  if (cpuset_bits (want, w) < 0)
    return ko_error_setx (err, EINVAL, "\"%s\" is not a list of CPUs or nodes",
                          want);
  if (cpuset_bits (have, h) < 0)
    return ko_error_setx (err, EINVAL, "the VM's own list \"%s\" is unreadable",
                          have);
  size_t n = 0;
  out[0] = '\0';
  for (int c = 0; c < AG_CPUSET_BITS; c++)
    {
#define BIT(i) ((w[(i) / 64] & h[(i) / 64]) >> ((i) % 64) & 1)
      if (!BIT (c))
        continue;
      int e = c;
      while (e + 1 < AG_CPUSET_BITS && BIT (e + 1))
        e++;
#undef BIT
      int r = e > c ? snprintf (out + n, len - n, "%s%d-%d", n ? "," : "", c, e)
                    : snprintf (out + n, len - n, "%s%d", n ? "," : "", c);
      if (r < 0 || (size_t)r >= len - n)
        return ko_error_setx (err, ERANGE, "\"%s\": the list is too long",
                              want);
      n += (size_t)r;
      c = e;
    }
  return (int)n;
}
