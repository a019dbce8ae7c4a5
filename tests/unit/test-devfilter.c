/* linux.resources.devices -> cgroup device program: the rules' meaning
 * (runc's), checked by running the program in a small interpreter of the
 * instructions the compiler emits; the errors. */
#include "config.h"

#include "devfilter.h"
#include "proto.h"
#include "tap.h"
#include "util.h"

#include <linux/bpf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Runs prog on a request; -1 when it uses anything unexpected. */
static int
run (const uint8_t *prog, size_t len, char type, uint32_t access,
     uint32_t major, uint32_t minor)
{
  const struct bpf_insn *v = (const struct bpf_insn *)prog;
  size_t n = len / sizeof *v;
  uint32_t ctx[3] = { (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR)
                          | access << 16,
                      major, minor };
  uint64_t r[11] = { 0 };
  for (size_t pc = 0, steps = 0; pc < n && steps < 100000; pc++, steps++)
    {
      const struct bpf_insn *i = &v[pc];
      uint64_t *d = &r[i->dst_reg];
      uint64_t src = BPF_SRC (i->code) == BPF_X ? r[i->src_reg]
                                                : (uint64_t)(int64_t)i->imm;
      switch (i->code)
        {
        case BPF_LDX | BPF_MEM | BPF_W:
          if (i->src_reg != BPF_REG_1 || i->off % 4 || i->off > 8)
            return -1;
          *d = ctx[i->off / 4];
          break;
        case BPF_ALU | BPF_AND | BPF_K:
          *d = (uint32_t)(*d & src);
          break;
        case BPF_ALU | BPF_RSH | BPF_K:
          *d = (uint32_t)*d >> i->imm;
          break;
        case BPF_ALU | BPF_MOV | BPF_K:
        case BPF_ALU | BPF_MOV | BPF_X:
          *d = (uint32_t)src;
          break;
        case BPF_JMP32 | BPF_JNE | BPF_K:
          if ((uint32_t)*d != (uint32_t)src)
            pc += i->off;
          break;
        case BPF_JMP | BPF_JNE | BPF_X:
          if (*d != src)
            pc += i->off;
          break;
        case BPF_JMP | BPF_EXIT:
          return (int)r[0];
        default:
          return -1;
        }
    }
  return -1;
}

#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD

struct prog
{
  uint8_t *p;
  size_t len;
};

/* The program for config.json's linux section json (NULL: none), or an
 * error message in *msg. */
static int
compile (const char *linux_json, size_t ndisks, struct prog *out, char **msg)
{
  char *json = NULL;
  if (asprintf (&json, "{\"ociVersion\": \"1.0.2\", \"linux\": %s}",
                linux_json ? linux_json : "{}")
      < 0)
    return -1;
  ko_error *err = NULL;
  oci_spec *s = oci_spec_parse_data (json, strlen (json), "config.json", &err);
  free (json);
  int r = -1;
  *out = (struct prog){ 0 };
  if (s)
    r = devfilter_compile (s->linux, ndisks, &out->p, &out->len, &err);
  if (msg)
    *msg = err ? strdup (err->msg) : NULL;
  ko_error_free (err);
  oci_spec_free (s);
  return r;
}

static int
verdict (const struct prog *p, char type, uint32_t access, uint32_t major,
         uint32_t minor)
{
  if (p->p == NULL)
    return 1; /* no program: all allowed */
  return run (p->p, p->len, type, access, major, minor);
}

#define DENY_ALL "{\"allow\": false, \"access\": \"rwm\"}"

static void
test_deny_all (void)
{
  struct prog p;
  ok (compile ("{\"resources\": {\"devices\": [" DENY_ALL "]}}", 0, &p, NULL)
          == 0,
      "deny-all compiles");
  ok (p.p && p.len % 8 == 0, "a program of whole instructions");
  is_int (verdict (&p, 'c', R | W, 1, 3), 1, "null allowed (a default)");
  is_int (verdict (&p, 'c', R, 1, 9), 1, "urandom allowed");
  is_int (verdict (&p, 'c', R | W, 136, 7), 1, "a pts allowed (136:*)");
  is_int (verdict (&p, 'c', R | W, 5, 2), 1, "ptmx allowed");
  is_int (verdict (&p, 'c', R | W, 10, 200), 1, "tun allowed");
  is_int (verdict (&p, 'c', R, 1, 11), 0, "kmsg read denied");
  is_int (verdict (&p, 'c', W, 1, 1), 0, "mem write denied");
  is_int (verdict (&p, 'b', R, 254, 0), 0, "a guest disk denied");
  is_int (verdict (&p, 'c', M, 1, 11), 1, "mknod of any char device (runc)");
  is_int (verdict (&p, 'b', M, 8, 0), 1, "mknod of any block device (runc)");
  free (p.p);
}

static void
test_rules (void)
{
  struct prog p;
  /* allow null only, with no defaults would be hard: check a spec rule */
  compile ("{\"resources\": {\"devices\": [" DENY_ALL
           ", {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 11, "
           "\"access\": \"r\"}]}}",
           0, &p, NULL);
  is_int (verdict (&p, 'c', R, 1, 11), 1, "an allow rule: read allowed");
  is_int (verdict (&p, 'c', R | W, 1, 11), 0,
          "read+write not within the rule's access");
  is_int (verdict (&p, 'c', W, 1, 11), 0, "write denied");
  free (p.p);

  /* the last rule wins: an allow then a deny of the same device */
  compile ("{\"resources\": {\"devices\": [" DENY_ALL
           ", {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 11, "
           "\"access\": \"rw\"}, {\"allow\": false, \"type\": \"c\", "
           "\"major\": 1, \"minor\": 11, \"access\": \"w\"}]}}",
           0, &p, NULL);
  is_int (verdict (&p, 'c', R, 1, 11), 1, "allow rw then deny w: read");
  is_int (verdict (&p, 'c', W, 1, 11), 0, "allow rw then deny w: no write");
  free (p.p);

  /* an allow-all after the deny-all resets: no program at all */
  ok (compile ("{\"resources\": {\"devices\": [" DENY_ALL
               ", {\"allow\": true, \"access\": \"rwm\"}]}}",
               0, &p, NULL)
              == 0
          && p.p == NULL,
      "deny-all then allow-all: no program (everything allowed)");
  ok (compile (NULL, 0, &p, NULL) == 0 && p.p != NULL,
      "no rules at all: runc's deny-by-default and its defaults");
  is_int (verdict (&p, 'c', R, 1, 11), 0, "no rules: kmsg denied");
  is_int (verdict (&p, 'c', R, 1, 3), 1, "no rules: null allowed");
  free (p.p);

  /* wildcards */
  compile ("{\"resources\": {\"devices\": [" DENY_ALL
           ", {\"allow\": true, \"type\": \"b\", \"major\": 7, \"access\": "
           "\"rw\"}, {\"allow\": true, \"type\": \"c\", \"minor\": 11, "
           "\"access\": \"r\"}]}}",
           0, &p, NULL);
  is_int (verdict (&p, 'b', R | W, 7, 3), 1, "b 7:* allows 7:3");
  is_int (verdict (&p, 'b', R, 8, 3), 0, "b 7:* does not allow 8:3");
  is_int (verdict (&p, 'c', R, 7, 3), 0, "b 7:* does not allow c 7:3");
  is_int (verdict (&p, 'c', R, 99, 11), 1, "c *:11 allows 99:11");
  is_int (verdict (&p, 'c', R, 4294967295u, 11), 1,
          "a major above INT32_MAX is compared as u32");
  free (p.p);

  /* allow-all, then deny one device: the default is allow */
  compile ("{\"resources\": {\"devices\": [{\"allow\": true, \"access\": "
           "\"rwm\"}, {\"allow\": false, \"type\": \"c\", \"major\": 1, "
           "\"minor\": 11, \"access\": \"rw\"}]}}",
           0, &p, NULL);
  ok (p.p != NULL, "allow-all with an exception: a program");
  is_int (verdict (&p, 'c', R, 1, 11), 0, "the exception denied");
  is_int (verdict (&p, 'c', M, 1, 11), 1, "its mknod still allowed");
  is_int (verdict (&p, 'b', R, 254, 0), 1, "everything else allowed");
  free (p.p);
}

static void
test_linux_devices_and_disks (void)
{
  struct prog p;
  compile ("{\"resources\": {\"devices\": [" DENY_ALL "]}, \"devices\": ["
           "{\"type\": \"c\", \"path\": \"/dev/kot-null\", \"major\": 1, "
           "\"minor\": 11}, {\"type\": \"b\", \"path\": \"/dev/xvdz\", "
           "\"major\": 7, \"minor\": 0}]}",
           2, &p, NULL);
  is_int (verdict (&p, 'c', R | W, 1, 11), 1, "a linux.devices entry allowed");
  is_int (verdict (&p, 'b', R, 7, 0), 0,
          "a block device's host numbers are not allowed in the guest");
  /* the agent's patch of disk slot 1 */
  struct bpf_insn *v = (struct bpf_insn *)p.p;
  size_t at = KO_DEVFILTER_PROLOGUE + KO_DEVFILTER_SLOT;
  ok (v[at + 1].dst_reg == BPF_REG_4 && v[at + 2].dst_reg == BPF_REG_5,
      "disk slot 1: major and minor at their places");
  is_int (verdict (&p, 'b', R | W, 254, 16), 0, "before the patch: denied");
  v[at + 1].imm = 254;
  v[at + 2].imm = 16;
  is_int (verdict (&p, 'b', R | W | M, 254, 16), 1, "the patched disk allowed");
  is_int (verdict (&p, 'c', R, 254, 16), 0, "not a char device of its numbers");
  is_int (verdict (&p, 'b', R, 254, 0), 0, "not another disk");
  free (p.p);
}

static void
test_errors (void)
{
  struct prog p;
  char *msg;
  ok (compile ("{\"resources\": {\"devices\": [{\"allow\": true, \"type\": "
               "\"x\", \"access\": \"r\"}]}}",
               0, &p, &msg)
          < 0,
      "a bad type refused");
  is_str (msg,
          "config.json: linux.resources.devices[0].type: \"x\" is not a, b "
          "or c",
          "message");
  free (msg);
  ok (compile ("{\"resources\": {\"devices\": [{\"allow\": true, \"type\": "
               "\"c\", \"access\": \"rx\"}]}}",
               0, &p, &msg)
          < 0,
      "a bad access refused");
  is_str (msg,
          "config.json: linux.resources.devices[0].access: \"rx\" is not a "
          "subset of \"rwm\"",
          "message");
  free (msg);
  ok (compile ("{\"resources\": {\"devices\": [{\"allow\": false, \"type\": "
               "\"c\", \"major\": 4294967296, \"access\": \"r\"}]}}",
               0, &p, &msg)
          < 0,
      "a major above u32 refused");
  is_str (msg,
          "config.json: linux.resources.devices[0]: major or minor above "
          "4294967295",
          "message");
  free (msg);
  ok (compile ("{\"resources\": {\"devices\": [" DENY_ALL
               ", {\"allow\": true, \"type\": \"c\", \"major\": 1, "
               "\"access\": \"rw\"}, {\"allow\": false, \"type\": \"c\", "
               "\"major\": 1, \"minor\": 3, \"access\": \"w\"}]}}",
               0, &p, &msg)
          < 0,
      "a hole in a wildcard rule refused (as runc)");
  ok (msg
          && strstr (msg, "config.json: linux.resources.devices: rule 2 would "
                          "punch a hole in the wildcard rule for c 1:-1"),
      "message: %s", msg);
  free (msg);

  /* over-long: 900 distinct allow rules of 5 instructions each */
  size_t cap = 128 * 1024;
  char *j = malloc (cap);
  size_t o = (size_t)snprintf (j, cap, "{\"resources\": {\"devices\": [%s",
                               DENY_ALL);
  for (int i = 0; i < 900; i++)
    o += (size_t)snprintf (j + o, cap - o,
                           ", {\"allow\": true, \"type\": \"c\", \"major\": "
                           "%d, \"minor\": 1, \"access\": \"rwm\"}",
                           300 + i);
  snprintf (j + o, cap - o, "]}}");
  ok (compile (j, 0, &p, &msg) < 0, "an over-long rule list refused");
  is_str (msg,
          "config.json: linux.resources.devices: too many rules (the device "
          "program would pass 4096 instructions)",
          "message");
  free (msg);
  free (j);
}

int
main (void)
{
  test_deny_all ();
  test_rules ();
  test_linux_devices_and_disks ();
  test_errors ();
  return tap_done ();
}
