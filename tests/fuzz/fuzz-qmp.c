/* libFuzzer target: QMP messages as the monitor reads them from qmp.sock,
   one per line, during memory hotplug. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qmp.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *p = (const char *)data, *end = p + size;
  while (p < end)
    {
      const char *nl = memchr (p, '\n', (size_t)(end - p));
      size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
      struct qmp_msg m = { 0 };
      ko_error *err = NULL;
      if (qmp_parse (p, len, &m, &err) == 0)
        {
          /* what the monitor then looks at */
          if (m.kind == QMP_ERROR && strlen (m.error) > KO_QMP_DESC_MAX)
            __builtin_trap ();
          if (m.kind == QMP_EVENT && m.event == NULL)
            __builtin_trap ();
          qmp_msg_clear (&m);
        }
      else if (err == NULL)
        __builtin_trap ();
      ko_error_free (err);
      p += len + 1;
    }
  return 0;
}
