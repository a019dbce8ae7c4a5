/* The agent's snprintf against the C library's, format by format: its
 * source included here under other names (ag_test_snprintf), so both are
 * in this program. */
#include <limits.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "tap.h"

#define snprintf ag_test_snprintf
#define vsnprintf ag_test_vsnprintf
#include "format.c"
#undef snprintf
#undef vsnprintf

#define SAME(...)                                                              \
  do                                                                           \
    {                                                                          \
      char _w[128], _g[128];                                                   \
      int _wn = snprintf (_w, sizeof _w, __VA_ARGS__);                         \
      int _gn = ag_test_snprintf (_g, sizeof _g, __VA_ARGS__);                 \
      is_str (_g, _w, "%s", #__VA_ARGS__);                                     \
      is_int (_gn, _wn, "%s: length", #__VA_ARGS__);                           \
    }                                                                          \
  while (0)

int
main (void)
{
  SAME ("plain");
  SAME ("%s/%s", "/sys/block", "vda");
  SAME ("%d %d %d", 0, -1, INT_MIN);
  SAME ("%u %u", 0u, UINT_MAX);
  SAME ("%ld %lld %llu", LONG_MIN, LLONG_MAX, ULLONG_MAX);
  SAME ("%zu %zd", (size_t)SIZE_MAX, (ssize_t)-5);
  SAME ("%x %X %llx %02x %02x", 255u, 0xabcu, 0xdeadbeefcafeull, 7u, 0xabu);
  SAME ("%03ld.%03ld", 5L, 123L);
  SAME ("%.15s|%.20s|%.*s", "0123456789abcdefgh", "short", 3, "abcdef");
  SAME ("%c%c%%", 'a', 'b');
  SAME ("[%5d|%-5d|%05d|%-5s|%5s]", 42, 42, -42, "ab", "ab");
  SAME ("%*d|%-*d", 6, 7, 6, 7);
  SAME ("%.0d|%.3d|%hhu|%hd", 0, 5, 300, 70000);
  SAME ("%o %p", 8u, (void *)0x1234);
  SAME ("%" PRIu64 " %" PRId64, UINT64_MAX, INT64_MIN);
  SAME ("%s", "");

  char small[8];
  is_int (ag_test_snprintf (small, sizeof small, "%s", "truncated text"), 14,
          "truncated: the whole length");
  is_str (small, "truncat", "truncated: what fits, NUL-terminated");
  is_int (ag_test_snprintf (NULL, 0, "%d-%s", 12, "ab"), 5,
          "no buffer: the length only");
  return tap_done ();
}
