/* Small helpers for the JSON the CLI prints with yajl (list, events). */
#ifndef KO_JSONGEN_H
#define KO_JSONGEN_H

#include <stdint.h>
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

#endif
