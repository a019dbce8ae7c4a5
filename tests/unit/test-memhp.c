/* Memory hotplug sizing (DIMM plans, slots, the maximum) and QMP message
 * parsing, with every error path. */
#include "config.h"

#include "cgroup.h"
#include "memhp.h"
#include "qmp.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void
test_need (void)
{
  is_int (memhp_need_mb (64 << 20), 64 + KO_GUEST_HEADROOM_MB,
          "need: a MiB-aligned limit plus the headroom");
  is_int (memhp_need_mb ((64 << 20) + 1), 65 + KO_GUEST_HEADROOM_MB,
          "need: a part of a MiB counts as one");
  is_int (memhp_need_mb (0), 0, "need: no limit, no need");
  is_int (memhp_need_mb (-1), 0, "need: -1 (unlimited) needs nothing");
  is_int (memhp_need_mb (INT64_MAX),
          (INT64_MAX >> 20) + 1 + KO_GUEST_HEADROOM_MB,
          "need: the largest limit does not overflow");
}

static void
test_init (void)
{
  struct ko_memhp h;
  memhp_init (&h, 192, 24105);
  is_int (h.max_mb, 192 + 23808, "init: max is boot plus whole blocks");
  is_int (h.slots, KO_MEMHP_SLOTS, "init: slots");
  is_int (memhp_total_mb (&h), 192, "init: nothing plugged");
  memhp_init (&h, 192, 192 + KO_MEMHP_BLOCK_MB - 1);
  is_int (h.slots, 0, "init: not one block of room, no hotplug");
  is_int (h.max_mb, 192, "init: then max is the boot size");
  memhp_init (&h, 4096, 1024);
  is_int (h.slots, 0, "init: a cap below the boot size, no hotplug");
  memhp_init (&h, 192, 0);
  is_int (h.slots, 0, "init: an unknown host size (0), no hotplug");
  memhp_init (&h, KO_MEMHP_MAX_BOOT_MB, 1 << 20);
  is_int (h.slots, 0, "init: a 64 GiB boot may have larger blocks, no hotplug");
  memhp_init (&h, 256, INT64_MAX >> 20);
  ok (h.max_mb <= (1 << 20) && h.max_mb > (1 << 20) - KO_MEMHP_BLOCK_MB,
      "init: max stays within 1 TiB (%d)", h.max_mb);
  is_int ((h.max_mb - 256) % KO_MEMHP_BLOCK_MB, 0,
          "init: and is whole blocks above the boot size");
}

static void
test_plan (void)
{
  struct ko_memhp h;
  int sizes[KO_MEMHP_SLOTS], n = -1;
  ko_error *err = NULL;
  memhp_init (&h, 192, 24105);

  ok (memhp_plan (&h, 192, sizes, KO_MEMHP_SLOTS, &n, &err) == 0 && n == 0,
      "plan: the VM already holds it");
  ok (memhp_plan (&h, 100, sizes, KO_MEMHP_SLOTS, &n, &err) == 0 && n == 0,
      "plan: a smaller need never unplugs");
  ok (memhp_plan (&h, 193, sizes, KO_MEMHP_SLOTS, &n, &err) == 0 && n == 1
          && sizes[0] == KO_MEMHP_BLOCK_MB,
      "plan: one MiB more is one block");
  ok (memhp_plan (&h, 1152, sizes, KO_MEMHP_SLOTS, &n, &err) == 0 && n == 2
          && sizes[0] == 128 && sizes[1] == 896,
      "plan: a block first, then the rest (%d: %d %d)", n, sizes[0], sizes[1]);
  ok (memhp_plan (&h, 192 + 128 + 4096 + 1, sizes, KO_MEMHP_SLOTS, &n, &err)
              == 0
          && n == 3 && sizes[0] == 128 && sizes[1] == 128 * KO_MEMHP_GROWTH
          && sizes[2] == 128,
      "plan: each DIMM at most %d times what came before it", KO_MEMHP_GROWTH);
  ok (memhp_plan (&h, h.max_mb, sizes, KO_MEMHP_SLOTS, &n, &err) == 0 && n == 3,
      "plan: up to the maximum exactly");
  int sum = 0;
  for (int i = 0; i < n; i++)
    sum += sizes[i] % KO_MEMHP_BLOCK_MB == 0 ? sizes[i] : -1000000;
  is_int (192 + sum, h.max_mb, "plan: whole blocks that add up to the max");

  /* repeated updates add only the difference */
  memhp_plan (&h, 1152, sizes, KO_MEMHP_SLOTS, &n, &err);
  for (int i = 0; i < n; i++)
    memhp_commit (&h, sizes[i]);
  /* 960 MiB more is 7.5 blocks: 8 */
  is_int (memhp_total_mb (&h), 192 + 1024, "commit: the VM holds the need");
  is_int (h.used, 2, "commit: slots used");
  ok (memhp_plan (&h, 1216, sizes, KO_MEMHP_SLOTS, &n, &err) == 0 && n == 0,
      "plan after growth: a smaller limit plugs nothing");
  ok (memhp_plan (&h, 1217, sizes, KO_MEMHP_SLOTS, &n, &err) == 0 && n == 1
          && sizes[0] == 128,
      "plan after growth: only the difference");

  /* errors, each with its message, and nothing written */
  sizes[0] = -7;
  n = -7;
  ok (memhp_plan (&h, h.max_mb + 1, sizes, KO_MEMHP_SLOTS, &n, &err) < 0,
      "plan: above the maximum fails");
  ok (err && err->status == EINVAL
          && strstr (err->msg, "needs 24001 MiB of guest memory, above the "
                               "VM's maximum of 24000 MiB"),
      "plan: the message names the need and the maximum (%s)",
      err ? err->msg : "");
  ok (sizes[0] == -7 && n == -7, "plan: a failure writes no out-parameter");
  ko_error_free (err);
  err = NULL;

  struct ko_memhp full = h;
  full.used = full.slots;
  ok (memhp_plan (&full, 1217, sizes, KO_MEMHP_SLOTS, &n, &err) < 0 && err
          && err->status == ENOSPC
          && strstr (err->msg, "more than the 0 memory slots left (of 8)"),
      "plan: no slot left fails clearly (%s)", err ? err->msg : "");
  ko_error_free (err);
  err = NULL;
  full.used = full.slots - 1;
  ok (memhp_plan (&full, 1216 + 129, sizes, KO_MEMHP_SLOTS, &n, &err) < 0 && err
          && strstr (err->msg, "the 1 memory slots left"),
      "plan: a need that takes more slots than are left fails (%s)",
      err ? err->msg : "");
  ko_error_free (err);
  err = NULL;
  ok (memhp_plan (&h, 1216 + 129, sizes, 1, &n, &err) < 0,
      "plan: the caller's array bounds the slots too");
  ko_error_free (err);
  err = NULL;

  struct ko_memhp fixed;
  memhp_init (&fixed, 4096, 1024);
  ok (memhp_plan (&fixed, 5000, sizes, KO_MEMHP_SLOTS, &n, &err) < 0 && err
          && strstr (err->msg, "the VM's memory is fixed at 4096 MiB"),
      "plan: no hotplug says so (%s)", err ? err->msg : "");
  ko_error_free (err);
  err = NULL;
  ok (memhp_plan (&fixed, 4000, sizes, KO_MEMHP_SLOTS, &n, &err) == 0 && n == 0,
      "plan: no hotplug, and no need");
}

static int
parse (const char *s, struct qmp_msg *m, char **errmsg)
{
  ko_error *err = NULL;
  memset (m, 0, sizeof *m);
  int r = qmp_parse (s, strlen (s), m, &err);
  *errmsg = err ? strdup (err->msg) : NULL;
  ko_error_free (err);
  return r;
}

static void
test_qmp (void)
{
  struct qmp_msg m;
  char *e = NULL;
  ok (parse ("{\"QMP\": {\"version\": {}, \"capabilities\": [\"oob\"]}}", &m,
             &e)
              == 0
          && m.kind == QMP_GREETING,
      "qmp: the greeting");
  qmp_msg_clear (&m);
  ok (parse ("{\"return\": {}}", &m, &e) == 0 && m.kind == QMP_RETURN,
      "qmp: a return");
  qmp_msg_clear (&m);
  ok (parse ("{\"return\": [1, 2]}", &m, &e) == 0 && m.kind == QMP_RETURN,
      "qmp: a return of any type");
  qmp_msg_clear (&m);
  ok (parse ("{\"error\": {\"class\": \"GenericError\", \"desc\": \"no "
             "slot\\nleft\"}}",
             &m, &e)
              == 0
          && m.kind == QMP_ERROR && strcmp (m.error, "no slot left") == 0,
      "qmp: an error, its desc made printable (%s)", m.error);
  qmp_msg_clear (&m);
  ok (parse ("{\"error\": {\"class\": \"GenericError\"}}", &m, &e) == 0
          && m.kind == QMP_ERROR && strcmp (m.error, "(no description)") == 0,
      "qmp: an error without desc");
  qmp_msg_clear (&m);
  ok (parse ("{\"timestamp\": {\"seconds\": 1}, \"event\": "
             "\"ACPI_DEVICE_OST\", \"data\": {\"info\": {\"device\": "
             "\"ko-dimm0\", \"source\": 1, \"status\": 0, \"slot\": \"0\"}}}",
             &m, &e)
              == 0
          && m.kind == QMP_EVENT && strcmp (m.event, "ACPI_DEVICE_OST") == 0
          && m.device && strcmp (m.device, "ko-dimm0") == 0 && m.status == 0,
      "qmp: ACPI_DEVICE_OST with its device and status");
  qmp_msg_clear (&m);
  ok (parse ("{\"event\": \"ACPI_DEVICE_OST\", \"data\": {\"info\": "
             "{\"device\": \"ko-dimm1\", \"status\": 2}}}",
             &m, &e)
              == 0
          && m.status == 2,
      "qmp: a failure status");
  qmp_msg_clear (&m);
  ok (parse ("{\"event\": \"RESUME\"}", &m, &e) == 0 && m.kind == QMP_EVENT
          && m.device == NULL,
      "qmp: an event without data");
  qmp_msg_clear (&m);
  ok (parse ("{\"event\": \"X\", \"data\": {\"info\": {\"device\": 5}}}", &m,
             &e)
              == 0
          && m.device == NULL,
      "qmp: a device that is not a string is ignored");
  qmp_msg_clear (&m);
  ok (parse ("{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": "
             "\"hp-blk3\", \"path\": \"/machine/peripheral/hp-blk3\"}}",
             &m, &e)
              == 0
          && strcmp (m.event, "DEVICE_DELETED") == 0 && m.device
          && strcmp (m.device, "hp-blk3") == 0,
      "qmp: DEVICE_DELETED names its device");
  qmp_msg_clear (&m);
  ok (parse ("{\"event\": \"DEVICE_DELETED\", \"data\": {\"path\": "
             "\"/machine/peripheral/hp-blk3/virtio-backend\"}}",
             &m, &e)
              == 0
          && m.device == NULL,
      "qmp: DEVICE_DELETED of a backend, without a device: none");
  qmp_msg_clear (&m);

  /* refused, with the reason */
  ok (parse ("[1]", &m, &e) < 0 && e && strstr (e, "not a JSON object"),
      "qmp: an array is refused (%s)", e);
  free (e);
  ok (parse ("{\"return\": ", &m, &e) < 0 && e
          && strstr (e, "not a JSON object"),
      "qmp: truncated JSON is refused");
  free (e);
  ok (parse ("{\"hello\": 1}", &m, &e) < 0 && e
          && strstr (e, "an unknown message"),
      "qmp: an unknown object is refused (%s)", e);
  free (e);
  ok (parse ("{\"event\": 5}", &m, &e) < 0 && e
          && strstr (e, "an unknown message"),
      "qmp: an event name that is not a string is refused");
  free (e);
  ko_error *err = NULL;
  ok (qmp_parse ("{\"return\": {}}\0x", 16, &m, &err) < 0 && err
          && strstr (err->msg, "NUL byte"),
      "qmp: a NUL byte is refused (%s)", err ? err->msg : "");
  ko_error_free (err);
  err = NULL;
  size_t big = KO_QMP_LINE_MAX + 1;
  char *huge = malloc (big);
  memset (huge, ' ', big);
  ok (qmp_parse (huge, big, &m, &err) < 0 && err
          && strstr (err->msg, "a message of"),
      "qmp: an overlong message is refused (%s)", err ? err->msg : "");
  ko_error_free (err);
  free (huge);
  /* a long desc is cut */
  char line[KO_QMP_DESC_MAX * 2 + 64];
  int k = snprintf (line, sizeof line, "{\"error\": {\"desc\": \"");
  memset (line + k, 'a', KO_QMP_DESC_MAX * 2);
  strcpy (line + k + KO_QMP_DESC_MAX * 2, "\"}}");
  ok (parse (line, &m, &e) == 0 && strlen (m.error) == KO_QMP_DESC_MAX,
      "qmp: a long desc is cut to %d bytes", KO_QMP_DESC_MAX);
  qmp_msg_clear (&m);
}

int
main (void)
{
  test_need ();
  test_init ();
  test_plan ();
  test_qmp ();
  return tap_done ();
}
