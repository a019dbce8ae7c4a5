/* Device rules to a cgroup device program (devfilter.h). */
#include "devfilter.h"
#include "proto.h"
#include "util.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define ACC_R BPF_DEVCG_ACC_READ
#define ACC_W BPF_DEVCG_ACC_WRITE
#define ACC_M BPF_DEVCG_ACC_MKNOD
#define ACC_ALL (ACC_R | ACC_W | ACC_M)
#define ANY (-1)

/* One rule, after the spec's: type 'a', 'b' or 'c', ANY for a wildcard */
struct rule
{
  char type;
  int64_t major, minor;
  uint32_t access; /* ACC_* */
  bool allow;
};

/* What runc's specconv appends after the spec's rules (its AllowedDevices,
 * libcontainer/specconv): mknod of any device, then the devices every
 * container gets. */
static const struct rule default_rules[] = {
  { 'c', ANY, ANY, ACC_M, true }, { 'b', ANY, ANY, ACC_M, true },
  { 'c', 1, 3, ACC_ALL, true },   { 'c', 1, 8, ACC_ALL, true },
  { 'c', 1, 7, ACC_ALL, true },   { 'c', 5, 0, ACC_ALL, true },
  { 'c', 1, 5, ACC_ALL, true },   { 'c', 1, 9, ACC_ALL, true },
  { 'c', 5, 1, ACC_ALL, true },   { 'c', 136, ANY, ACC_ALL, true },
  { 'c', 5, 2, ACC_ALL, true },   { 'c', 10, 200, ACC_ALL, true },
};

/* The emulated devices cgroup: a default and the exceptions to it, one per
 * (type, major, minor), their access merged. */
struct emu
{
  bool default_allow;
  struct rule *v;
  size_t n;
};

static struct rule *
emu_find (struct emu *e, char type, int64_t major, int64_t minor)
{
  for (size_t i = 0; i < e->n; i++)
    if (e->v[i].type == type && e->v[i].major == major
        && e->v[i].minor == minor)
      return &e->v[i];
  return NULL;
}

static int
emu_add (struct emu *e, const struct rule *r)
{
  struct rule *x = emu_find (e, r->type, r->major, r->minor);
  if (x)
    {
      x->access |= r->access;
      return 0;
    }
  struct rule *nv = realloc (e->v, (e->n + 1) * sizeof *nv);
  if (nv == NULL)
    return -1;
  e->v = nv;
  e->v[e->n] = *r;
  e->v[e->n++].allow = !e->default_allow;
  return 0;
}

/* Takes r's access away from its exact exception. As runc does, refuses
 * when a wider wildcard exception keeps some of that access: the kernel's
 * cgroup v1 would silently ignore such a hole, and runc keeps v1's
 * meaning. */
static int
emu_remove (struct emu *e, const struct rule *r, const char *what,
            ko_error **err)
{
  const int64_t wild[3][2]
      = { { ANY, r->minor }, { r->major, ANY }, { ANY, ANY } };
  for (size_t i = 0; i < 3; i++)
    {
      if (wild[i][0] == r->major && wild[i][1] == r->minor)
        continue;
      struct rule *x = emu_find (e, r->type, wild[i][0], wild[i][1]);
      if (x && (x->access & r->access))
        return ko_error_setx (err, EINVAL,
                              "config.json: linux.resources.devices: %s "
                              "would punch a hole in the wildcard rule for "
                              "%c %lld:%lld (not supported, as with runc)",
                              what, x->type, (long long)x->major,
                              (long long)x->minor);
    }
  struct rule *x = emu_find (e, r->type, r->major, r->minor);
  if (x && (x->access &= ~r->access) == 0)
    *x = e->v[--e->n];
  return 0;
}

static int
emu_apply (struct emu *e, const struct rule *r, const char *what,
           ko_error **err)
{
  if (r->type == 'a')
    {
      free (e->v);
      e->v = NULL;
      e->n = 0;
      e->default_allow = r->allow;
      return 0;
    }
  /* an exception to the default is added; a rule like the default takes
   * one away */
  if (r->allow != e->default_allow)
    return emu_add (e, r) < 0 ? ko_error_set (err, ENOMEM, "device rules") : 0;
  return emu_remove (e, r, what, err);
}

static int
parse_access (const char *s, uint32_t *out)
{
  uint32_t a = 0;
  for (; s && *s; s++)
    if (*s == 'r')
      a |= ACC_R;
    else if (*s == 'w')
      a |= ACC_W;
    else if (*s == 'm')
      a |= ACC_M;
    else
      return -1;
  *out = a;
  return 0;
}

static int
spec_rule (const oci_device_cgroup *d, size_t i, struct rule *r, ko_error **err)
{
  const char *t = d->type ? d->type : "a";
  if (strlen (t) != 1 || !strchr ("abc", t[0]))
    return ko_error_setx (err, EINVAL,
                          "config.json: linux.resources.devices[%zu].type: "
                          "\"%s\" is not a, b or c",
                          i, t);
  if (parse_access (d->access, &r->access) < 0)
    return ko_error_setx (err, EINVAL,
                          "config.json: linux.resources.devices[%zu].access: "
                          "\"%s\" is not a subset of \"rwm\"",
                          i, d->access);
  r->type = t[0];
  r->major = d->has_major && d->major >= 0 ? d->major : ANY;
  r->minor = d->has_minor && d->minor >= 0 ? d->minor : ANY;
  if (r->major > UINT32_MAX || r->minor > UINT32_MAX)
    return ko_error_setx (err, EINVAL,
                          "config.json: linux.resources.devices[%zu]: major "
                          "or minor above %u",
                          i, UINT32_MAX);
  r->allow = d->allow;
  return 0;
}

/* ---- the program ---- */

struct prog
{
  struct bpf_insn v[KO_DEVFILTER_MAX_INSNS];
  size_t n;
  bool full;
};

static void
emit (struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off,
      int32_t imm)
{
  if (p->n == KO_DEVFILTER_MAX_INSNS)
    {
      p->full = true;
      return;
    }
  p->v[p->n++] = (struct bpf_insn){
    .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm
  };
}

/* 32-bit compares: the context's fields are u32, and BPF_JMP would
 * sign-extend an immediate above INT32_MAX */
#define JNE32_K (BPF_JMP32 | BPF_JNE | BPF_K)
#define JNE_X (BPF_JMP | BPF_JNE | BPF_X)

static void
emit_return (struct prog *p, bool allow)
{
  emit (p, BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, allow);
  emit (p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/* "if the request matches r, return its verdict": each test jumps to the
 * next rule, past this block's end */
static void
emit_rule (struct prog *p, const struct rule *r)
{
  size_t len = 3 + (r->access != ACC_ALL ? 3 : 0) + (r->major != ANY)
               + (r->minor != ANY);
  size_t end = p->n + len;
  emit (p, JNE32_K, BPF_REG_2, 0, (int16_t)(end - p->n - 1),
        r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
  if (r->access != ACC_ALL)
    {
      /* every access requested is in the rule's: (r3 & access) == r3 */
      emit (p, BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
      emit (p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int32_t)r->access);
      emit (p, JNE_X, BPF_REG_1, BPF_REG_3, (int16_t)(end - p->n - 1), 0);
    }
  if (r->major != ANY)
    emit (p, JNE32_K, BPF_REG_4, 0, (int16_t)(end - p->n - 1),
          (int32_t)(uint32_t)r->major);
  if (r->minor != ANY)
    emit (p, JNE32_K, BPF_REG_5, 0, (int16_t)(end - p->n - 1),
          (int32_t)(uint32_t)r->minor);
  emit_return (p, r->allow);
}

static void
emit_prologue (struct prog *p)
{
  /* r2 = type (low 16 bits of access_type), r3 = access (high 16),
   * r4 = major, r5 = minor */
  emit (p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0);
  emit (p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
  emit (p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 0, 0);
  emit (p, BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
  emit (p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0);
  emit (p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0);
}

/* A disk slot: the agent writes the guest disk's numbers over the
 * placeholders (which no real device has: majors are 12 bits) */
static void
emit_disk_slot (struct prog *p)
{
  emit (p, JNE32_K, BPF_REG_2, 0, 4, BPF_DEVCG_DEV_BLOCK);
  emit (p, JNE32_K, BPF_REG_4, 0, 3, -1);
  emit (p, JNE32_K, BPF_REG_5, 0, 2, -1);
  emit_return (p, true);
}

static int
emu_collect (struct emu *e, const oci_linux *l, ko_error **err)
{
  const oci_linux_resources *res = l ? l->resources : NULL;
  char what[64];
  for (size_t i = 0; res && i < res->devices_len; i++)
    {
      struct rule r;
      snprintf (what, sizeof what, "rule %zu", i);
      if (spec_rule (&res->devices[i], i, &r, err) < 0
          || emu_apply (e, &r, what, err) < 0)
        return -1;
    }
  /* linux.devices: allowed as runc does, but for block devices, which are
   * guest disks here with other numbers: their slots allow those */
  for (size_t i = 0; l && i < l->devices_len; i++)
    {
      const oci_device *d = &l->devices[i];
      if (!d->type || (d->type[0] != 'c' && d->type[0] != 'u'))
        continue;
      struct rule r = { 'c', d->major, d->minor, ACC_ALL, true };
      snprintf (what, sizeof what, "linux.devices[%zu]", i);
      if (emu_apply (e, &r, what, err) < 0)
        return -1;
    }
  for (size_t i = 0; i < KO_ARRAY_SIZE (default_rules); i++)
    {
      snprintf (what, sizeof what, "the default device %c %lld:%lld",
                default_rules[i].type, (long long)default_rules[i].major,
                (long long)default_rules[i].minor);
      if (emu_apply (e, &default_rules[i], what, err) < 0)
        return -1;
    }
  return 0;
}

int
devfilter_compile (const oci_linux *l, size_t ndisks, uint8_t **prog,
                   size_t *len, ko_error **err)
{
  struct emu e = { 0 };
  if (emu_collect (&e, l, err) < 0)
    {
      free (e.v);
      return -1;
    }
  if (e.default_allow && e.n == 0)
    {
      *prog = NULL;
      *len = 0;
      return 0;
    }
  struct prog *p = calloc (1, sizeof *p);
  if (p == NULL)
    {
      free (e.v);
      return ko_error_set (err, ENOMEM, "device rules");
    }
  emit_prologue (p);
  for (size_t i = 0; i < ndisks; i++)
    emit_disk_slot (p);
  for (size_t i = 0; i < e.n; i++)
    emit_rule (p, &e.v[i]);
  emit_return (p, e.default_allow);
  free (e.v);
  if (p->full)
    {
      free (p);
      return ko_error_setx (err, E2BIG,
                            "config.json: linux.resources.devices: too many "
                            "rules (the device program would pass %d "
                            "instructions)",
                            KO_DEVFILTER_MAX_INSNS);
    }
  *len = p->n * sizeof (struct bpf_insn);
  *prog = (uint8_t *)p; /* the instructions are its first member */
  return 0;
}
