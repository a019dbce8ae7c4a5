#include "config.h"

#include "policy.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <unistd.h>

int
policy_cap_value (const char *name)
{
  cap_value_t v;
  /* cap_from_name also takes bare numbers and lower-case names without the
   * prefix: the spec only has CAP_ names */
  if (strncmp (name, "CAP_", 4) != 0 || cap_from_name (name, &v) < 0 || v < 0
      || v > 63)
    return -1;
  return v;
}

int
policy_caps (const oci_capabilities *c, const char *where, uint64_t out[5],
             ko_error **err)
{
  struct
  {
    const char *name;
    char *const *v;
    size_t n;
  } sets[5] = {
    { "bounding", c->bounding, c->bounding_len },
    { "effective", c->effective, c->effective_len },
    { "inheritable", c->inheritable, c->inheritable_len },
    { "permitted", c->permitted, c->permitted_len },
    { "ambient", c->ambient, c->ambient_len },
  };
  uint64_t masks[5] = { 0 };
  for (size_t s = 0; s < 5; s++)
    for (size_t i = 0; i < sets[s].n; i++)
      {
        const char *name = sets[s].v[i];
        int v = policy_cap_value (name);
        if (v < 0)
          return ko_error_setx (err, EINVAL,
                                "%s.%s[%zu]: unknown capability \"%s\"", where,
                                sets[s].name, i, name);
        masks[s] |= 1ull << v;
      }
  memcpy (out, masks, sizeof masks);
  return 0;
}

static const struct
{
  const char *name;
  uint32_t action;
  bool takes_errno;
} seccomp_actions[] = {
  { "SCMP_ACT_KILL", SCMP_ACT_KILL, false },
  { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL, false },
  { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
  { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
  { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO (0), true },
  { "SCMP_ACT_TRACE", SCMP_ACT_TRACE (0), true },
  { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
  { "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
};

/* Returns the libseccomp action, or -1 with *err naming the field. */
static int
seccomp_action (const char *name, bool has_errno, uint32_t errno_ret,
                const char *where, uint32_t *out, ko_error **err)
{
  if (strcmp (name, "SCMP_ACT_NOTIFY") == 0)
    return ko_error_setx (err, ENOTSUP,
                          "config.json: %s: SCMP_ACT_NOTIFY needs a seccomp "
                          "agent (listenerPath), which kata-oci does not "
                          "support",
                          where);
  for (size_t i = 0; i < KO_ARRAY_SIZE (seccomp_actions); i++)
    if (strcmp (name, seccomp_actions[i].name) == 0)
      {
        uint32_t a = seccomp_actions[i].action;
        if (seccomp_actions[i].takes_errno)
          {
            /* runc's rules: without errnoRet the syscall fails with EPERM;
             * errnoRet keeps its low 16 bits, and libseccomp takes errnos
             * below 4095 only */
            uint32_t e = has_errno ? errno_ret : EPERM;
            if ((a & 0xffff0000u) == SCMP_ACT_ERRNO (0)
                && (e & 0xffffu) >= 4095)
              return ko_error_setx (err, EINVAL,
                                    "config.json: %s: errnoRet %u is out of "
                                    "range (the errno must be below 4095)",
                                    where, e);
            a = (a & 0xffff0000u) | (e & 0xffffu);
          }
        *out = a;
        return 0;
      }
  return ko_error_setx (err, EINVAL,
                        "config.json: %s: unknown seccomp action \"%s\"", where,
                        name);
}

static const struct
{
  const char *name;
  enum scmp_compare op;
} seccomp_ops[] = {
  { "SCMP_CMP_NE", SCMP_CMP_NE },
  { "SCMP_CMP_LT", SCMP_CMP_LT },
  { "SCMP_CMP_LE", SCMP_CMP_LE },
  { "SCMP_CMP_EQ", SCMP_CMP_EQ },
  { "SCMP_CMP_GE", SCMP_CMP_GE },
  { "SCMP_CMP_GT", SCMP_CMP_GT },
  { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static const struct
{
  const char *name;
  uint32_t flag;
} seccomp_flags[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", 1 },
  { "SECCOMP_FILTER_FLAG_LOG", 2 },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", 4 },
};

static void
seccomp_releasep (scmp_filter_ctx *c)
{
  if (*c)
    seccomp_release (*c);
}

/* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64" */
static uint32_t
seccomp_arch (const char *name)
{
  char low[32];
  size_t n = strlen (name);
  if (strncmp (name, "SCMP_ARCH_", 10) != 0 || n - 10 >= sizeof low)
    return 0;
  for (size_t i = 10; i <= n; i++)
    low[i - 10] = (char)tolower ((unsigned char)name[i]);
  return seccomp_arch_resolve_name (low);
}

/* One seccomp rule with runc's meaning (libcontainer/seccomp): the operators
 * are checked for any rule that names a syscall; a rule with the default's
 * action, or for a syscall this libseccomp does not know, is left out
 * before its argument indexes are checked; conditions on distinct
 * arguments must all hold, but once one argument has several conditions
 * (which could never hold together) every condition becomes a rule of its
 * own, so any one of them matches. */
static int
add_syscall_rules (scmp_filter_ctx ctx, const oci_syscall *sc, size_t idx,
                   uint32_t def_action, ko_error **err)
{
  char where[64];
  snprintf (where, sizeof where, "linux.seccomp.syscalls[%zu]", idx);
  uint32_t action;
  char awhere[80];
  snprintf (awhere, sizeof awhere, "%s.action", where);
  if (seccomp_action (sc->action, sc->has_errno_ret, sc->errno_ret, awhere,
                      &action, err)
      < 0)
    return -1;
  if (sc->names_len == 0)
    return 0;
  _cleanup_free_ struct scmp_arg_cmp *cmp
      = calloc (sc->args_len ? sc->args_len : 1, sizeof *cmp);
  if (cmp == NULL)
    return ko_error_set (err, ENOMEM, "config.json: %s.args", where);
  for (size_t a = 0; a < sc->args_len; a++)
    {
      const oci_seccomp_arg *arg = &sc->args[a];
      size_t o;
      for (o = 0; o < KO_ARRAY_SIZE (seccomp_ops); o++)
        if (strcmp (arg->op, seccomp_ops[o].name) == 0)
          break;
      if (o == KO_ARRAY_SIZE (seccomp_ops))
        return ko_error_setx (err, EINVAL,
                              "config.json: %s.args[%zu].op: unknown "
                              "operator \"%s\"",
                              where, a, arg->op);
      cmp[a] = (struct scmp_arg_cmp){ .arg = arg->index,
                                      .op = seccomp_ops[o].op,
                                      .datum_a = arg->value,
                                      .datum_b = arg->value_two };
    }
  /* the action the filter takes anyway: libseccomp refuses such rules */
  if (action == def_action)
    return 0;
  bool checked = false, several = false;
  for (size_t i = 0; i < sc->names_len; i++)
    {
      int nr = seccomp_syscall_resolve_name (sc->names[i]);
      if (nr == __NR_SCMP_ERROR)
        continue; /* as runc: profiles name syscalls of newer kernels */
      if (!checked)
        {
          unsigned per_arg[6] = { 0 };
          for (size_t a = 0; a < sc->args_len; a++)
            {
              if (sc->args[a].index > 5)
                return ko_error_setx (err, EINVAL,
                                      "config.json: %s.args[%zu].index: %u is "
                                      "not a syscall argument (0 to 5)",
                                      where, a, sc->args[a].index);
              if (++per_arg[sc->args[a].index] > 1)
                several = true;
            }
          checked = true;
        }
      int r = 0;
      if (!several)
        r = seccomp_rule_add_array (ctx, action, nr, (unsigned)sc->args_len,
                                    cmp);
      else
        for (size_t a = 0; a < sc->args_len; a++)
          if ((r = seccomp_rule_add_array (ctx, action, nr, 1, &cmp[a])) < 0)
            break;
      if (r < 0)
        return ko_error_set (err, -r, "config.json: %s: rule for \"%s\"", where,
                             sc->names[i]);
    }
  return 0;
}

#define BPF_MAX_INSNS 4096 /* the kernel's limit for one program */

int
policy_seccomp (const oci_seccomp *s, uint8_t **bpf, size_t *len,
                uint32_t *flags, ko_error **err)
{
  if (s->listener_path)
    return ko_error_setx (err, ENOTSUP,
                          "config.json: linux.seccomp.listenerPath: seccomp "
                          "agents are not supported: the filter runs in the "
                          "VM and the listener on the host cannot receive "
                          "its notifications");
  uint32_t def;
  if (seccomp_action (s->default_action, s->has_default_errno_ret,
                      s->default_errno_ret, "linux.seccomp.defaultAction", &def,
                      err)
      < 0)
    return -1;
  uint32_t fl = 0;
  for (size_t i = 0; i < s->flags_len; i++)
    {
      size_t j;
      for (j = 0; j < KO_ARRAY_SIZE (seccomp_flags); j++)
        if (strcmp (s->flags[i], seccomp_flags[j].name) == 0)
          break;
      if (j == KO_ARRAY_SIZE (seccomp_flags))
        return ko_error_setx (err, EINVAL,
                              "config.json: linux.seccomp.flags[%zu]: "
                              "unsupported flag \"%s\"",
                              i, s->flags[i]);
      fl |= seccomp_flags[j].flag;
    }
  __attribute__ ((cleanup (seccomp_releasep))) scmp_filter_ctx ctx
      = seccomp_init (def);
  if (ctx == NULL)
    return ko_error_setx (err, EINVAL, "seccomp: cannot make a filter");
  for (size_t i = 0; i < s->architectures_len; i++)
    {
      uint32_t arch = seccomp_arch (s->architectures[i]);
      if (arch == 0)
        return ko_error_setx (err, EINVAL,
                              "config.json: linux.seccomp.architectures[%zu]: "
                              "unknown architecture \"%s\"",
                              i, s->architectures[i]);
      int r = seccomp_arch_add (ctx, arch);
      if (r < 0 && r != -EEXIST)
        return ko_error_set (
            err, -r, "config.json: linux.seccomp.architectures[%zu]", i);
    }
  for (size_t i = 0; i < s->syscalls_len; i++)
    if (add_syscall_rules (ctx, &s->syscalls[i], i, def, err) < 0)
      return -1;

  _cleanup_close_ int fd = memfd_create ("seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0)
    return ko_error_set (err, errno, "seccomp: memfd");
  int r = seccomp_export_bpf (ctx, fd);
  if (r < 0)
    return ko_error_set (err, -r, "seccomp: export the filter");
  off_t size = lseek (fd, 0, SEEK_END);
  if (size < 0)
    return ko_error_set (err, errno, "seccomp: export the filter");
  if (size == 0 || size % 8 != 0 || size > BPF_MAX_INSNS * 8)
    return ko_error_setx (err, E2BIG,
                          "config.json: linux.seccomp: the filter compiles to "
                          "%lld instructions; the kernel takes at most %d",
                          (long long)size / 8, BPF_MAX_INSNS);
  _cleanup_free_ uint8_t *buf = malloc ((size_t)size);
  if (buf == NULL)
    return ko_error_set (err, ENOMEM, "seccomp");
  if (pread (fd, buf, (size_t)size, 0) != size)
    return ko_error_set (err, errno ? errno : EIO, "seccomp: read the filter");
  *bpf = take_ptr (buf);
  *len = (size_t)size;
  *flags = fl;
  return 0;
}
