/* Small helpers for the JSON the CLI prints with yajl (list, events). */
#ifndef KO_JSONGEN_H
#define KO_JSONGEN_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>

static inline void
gen_key (yajl_gen y, const char *k)
{
  yajl_gen_string (y, (const unsigned char *)k, strlen (k));
}

static inline void
gen_kv (yajl_gen y, const char *k, const char *v)
{
  gen_key (y, k);
  yajl_gen_string (y, (const unsigned char *)(v ? v : ""), v ? strlen (v) : 0);
}

static inline void
gen_u64 (yajl_gen y, const char *k, uint64_t v)
{
  gen_key (y, k);
  yajl_gen_integer (y, (long long)v);
}

/* Prints what y made as one line on stdout, then frees y. */
static inline void
gen_print_free (yajl_gen y)
{
  const unsigned char *buf;
  size_t len;
  yajl_gen_get_buf (y, &buf, &len);
  printf ("%.*s\n", (int)len, buf);
  fflush (stdout);
  yajl_gen_free (y);
}

#endif
