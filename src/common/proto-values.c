/* The values of proto.h that several messages nest: the process
 * description, id maps, NICs and routes. Their encoders, and decoders that
 * check every field (the guest's input on the host, the host's in the
 * guest). Framing and the TLV reader and writer are proto.c's. */
#include "proto.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- ko_process ---- */

static int
put_strv (struct ko_buf *b, uint16_t tag, char *const *v)
{
  for (; v && *v; v++)
    if (ko_tlv_put_str (b, tag, *v) < 0)
      return -1;
  return 0;
}

int
ko_process_encode (struct ko_buf *b, uint16_t tag, const struct ko_process *p)
{
  size_t off = ko_tlv_begin (b, tag);
  int r = 0;
  if (off == (size_t)-1)
    return -1;
  r |= put_strv (b, KO_TAG_P_ARG, p->args);
  r |= put_strv (b, KO_TAG_P_ENV, p->env);
  r |= ko_tlv_put_str (b, KO_TAG_P_CWD, p->cwd);
  r |= ko_tlv_put_u32 (b, KO_TAG_P_UID, p->uid);
  r |= ko_tlv_put_u32 (b, KO_TAG_P_GID, p->gid);
  for (size_t i = 0; i < p->nadd_gids; i++)
    r |= ko_tlv_put_u32 (b, KO_TAG_P_ADD_GID, p->add_gids[i]);
  if (p->has_umask)
    r |= ko_tlv_put_u32 (b, KO_TAG_P_UMASK, p->umask);
  r |= ko_tlv_put_u32 (b, KO_TAG_P_TERMINAL, p->terminal);
  if (p->rows)
    r |= ko_tlv_put_u32 (b, KO_TAG_P_ROWS, p->rows);
  if (p->cols)
    r |= ko_tlv_put_u32 (b, KO_TAG_P_COLS, p->cols);
  if (p->stdin_stream)
    r |= ko_tlv_put_u32 (b, KO_TAG_P_STDIN, p->stdin_stream);
  if (p->stdout_stream)
    r |= ko_tlv_put_u32 (b, KO_TAG_P_STDOUT, p->stdout_stream);
  if (p->stderr_stream)
    r |= ko_tlv_put_u32 (b, KO_TAG_P_STDERR, p->stderr_stream);
  if (p->has_caps)
    {
      uint8_t caps[40];
      for (int i = 0; i < 5; i++)
        ko_put_le64 (caps + 8 * i, p->caps[i]);
      r |= ko_tlv_put_bytes (b, KO_TAG_P_CAPS, caps, sizeof caps);
    }
  for (size_t i = 0; i < p->nrlimits; i++)
    {
      size_t o = ko_tlv_begin (b, KO_TAG_P_RLIMIT);
      r |= ko_tlv_put_u32 (b, KO_TAG_RL_TYPE, p->rlimits[i].type);
      r |= ko_tlv_put_u64 (b, KO_TAG_RL_SOFT, p->rlimits[i].soft);
      r |= ko_tlv_put_u64 (b, KO_TAG_RL_HARD, p->rlimits[i].hard);
      ko_tlv_end (b, o);
    }
  if (p->no_new_privs)
    r |= ko_tlv_put_u32 (b, KO_TAG_P_NO_NEW_PRIVS, 1);
  if (p->has_oom_score_adj)
    r |= ko_tlv_put_u32 (b, KO_TAG_P_OOM_SCORE_ADJ, (uint32_t)p->oom_score_adj);
  if (p->seccomp_len)
    {
      r |= ko_tlv_put_bytes (b, KO_TAG_P_SECCOMP, p->seccomp, p->seccomp_len);
      r |= ko_tlv_put_u32 (b, KO_TAG_P_SECCOMP_FLAGS, p->seccomp_flags);
    }
  if (p->sched.size)
    {
      uint8_t v[KO_SCHED_WIRE_LEN];
      ko_put_le32 (v, p->sched.policy);
      ko_put_le64 (v + 4, p->sched.flags);
      ko_put_le32 (v + 12, (uint32_t)p->sched.nice);
      ko_put_le32 (v + 16, p->sched.priority);
      ko_put_le64 (v + 20, p->sched.runtime);
      ko_put_le64 (v + 28, p->sched.deadline);
      ko_put_le64 (v + 36, p->sched.period);
      r |= ko_tlv_put_bytes (b, KO_TAG_P_SCHED, v, sizeof v);
    }
  if (p->has_ioprio)
    r |= ko_tlv_put_u32 (b, KO_TAG_P_IOPRIO, p->ioprio);
  if (p->cgroup)
    r |= ko_tlv_put_str (b, KO_TAG_P_CGROUP, p->cgroup);
  ko_tlv_end (b, off);
  return r ? -1 : 0;
}

static int
strv_push (char ***v, size_t *n, char *s)
{
  if (*n >= KO_MAX_STRINGS)
    return -1;
  return ko_strv_push (v, n, s);
}

static int
process_field (struct ko_process *p, const struct ko_field *f, ko_error **err)
{
  uint32_t u = 0;
  char *s = NULL;
  switch (f->tag)
    {
    case KO_TAG_P_ARG:
    case KO_TAG_P_ENV:
      if (ko_field_str (f, &s) < 0)
        return ko_error_setx (err, EPROTO, "process: bad string");
      if (strv_push (f->tag == KO_TAG_P_ARG ? &p->args : &p->env,
                     f->tag == KO_TAG_P_ARG ? &p->nargs : &p->nenv, s)
          < 0)
        {
          free (s);
          return ko_error_setx (err, EPROTO, "process: too many strings");
        }
      return 0;
    case KO_TAG_P_CWD:
    case KO_TAG_P_CGROUP:
      {
        char **d = f->tag == KO_TAG_P_CWD ? &p->cwd : &p->cgroup;
        free (*d);
        *d = NULL;
        if (ko_field_str (f, d) < 0)
          return ko_error_setx (err, EPROTO, "process: bad %s",
                                f->tag == KO_TAG_P_CWD ? "cwd" : "cgroup");
        return 0;
      }
    case KO_TAG_P_ADD_GID:
      {
        if (ko_field_u32 (f, &u) < 0 || p->nadd_gids >= KO_MAX_STRINGS)
          return ko_error_setx (err, EPROTO, "process: bad additional gid");
        uint32_t *g = realloc (p->add_gids, (p->nadd_gids + 1) * sizeof *g);
        if (g == NULL)
          return ko_error_set (err, ENOMEM, "process");
        g[p->nadd_gids++] = u;
        p->add_gids = g;
        return 0;
      }
    case KO_TAG_P_CAPS:
      if (f->len != 40)
        return ko_error_setx (err, EPROTO, "process: bad capabilities");
      for (int i = 0; i < 5; i++)
        p->caps[i] = ko_get_le64 (f->val + 8 * i);
      p->has_caps = true;
      return 0;
    case KO_TAG_P_SCHED:
      if (f->len != KO_SCHED_WIRE_LEN)
        return ko_error_setx (err, EPROTO, "process: bad scheduler");
      p->sched.size = sizeof p->sched;
      p->sched.policy = ko_get_le32 (f->val);
      p->sched.flags = ko_get_le64 (f->val + 4);
      p->sched.nice = (int32_t)ko_get_le32 (f->val + 12);
      p->sched.priority = ko_get_le32 (f->val + 16);
      p->sched.runtime = ko_get_le64 (f->val + 20);
      p->sched.deadline = ko_get_le64 (f->val + 28);
      p->sched.period = ko_get_le64 (f->val + 36);
      return 0;
    case KO_TAG_P_RLIMIT:
      {
        struct ko_rlimit rl = { 0 };
        struct ko_tlv r = ko_field_nested (f);
        struct ko_field g;
        int n, seen = 0;
        while ((n = ko_tlv_next (&r, &g)) > 0)
          {
            if (g.tag == KO_TAG_RL_TYPE && ko_field_u32 (&g, &rl.type) == 0)
              seen |= 1;
            else if (g.tag == KO_TAG_RL_SOFT
                     && ko_field_u64 (&g, &rl.soft) == 0)
              seen |= 2;
            else if (g.tag == KO_TAG_RL_HARD
                     && ko_field_u64 (&g, &rl.hard) == 0)
              seen |= 4;
          }
        if (n < 0 || seen != 7 || p->nrlimits >= KO_MAX_STRINGS)
          return ko_error_setx (err, EPROTO, "process: bad rlimit");
        struct ko_rlimit *v
            = realloc (p->rlimits, (p->nrlimits + 1) * sizeof *v);
        if (v == NULL)
          return ko_error_set (err, ENOMEM, "process");
        v[p->nrlimits++] = rl;
        p->rlimits = v;
        return 0;
      }
    case KO_TAG_P_SECCOMP:
      if (f->len == 0 || f->len % 8 != 0 || f->len > 8 * 4096)
        return ko_error_setx (err, EPROTO, "process: bad seccomp program");
      free (p->seccomp);
      p->seccomp = malloc (f->len);
      if (p->seccomp == NULL)
        return ko_error_set (err, ENOMEM, "process");
      memcpy (p->seccomp, f->val, f->len);
      p->seccomp_len = f->len;
      return 0;
    default:
      break;
    }

  /* the remaining fields are all u32 */
  uint32_t *dst = NULL;
  bool *flag = NULL;
  switch (f->tag)
    {
    case KO_TAG_P_UID:
      dst = &p->uid;
      break;
    case KO_TAG_P_GID:
      dst = &p->gid;
      break;
    case KO_TAG_P_UMASK:
      dst = &p->umask;
      flag = &p->has_umask;
      break;
    case KO_TAG_P_ROWS:
      dst = &p->rows;
      break;
    case KO_TAG_P_COLS:
      dst = &p->cols;
      break;
    case KO_TAG_P_STDIN:
      dst = &p->stdin_stream;
      break;
    case KO_TAG_P_STDOUT:
      dst = &p->stdout_stream;
      break;
    case KO_TAG_P_STDERR:
      dst = &p->stderr_stream;
      break;
    case KO_TAG_P_SECCOMP_FLAGS:
      dst = &p->seccomp_flags;
      break;
    case KO_TAG_P_IOPRIO:
      dst = &p->ioprio;
      flag = &p->has_ioprio;
      break;
    case KO_TAG_P_TERMINAL:
    case KO_TAG_P_NO_NEW_PRIVS:
    case KO_TAG_P_OOM_SCORE_ADJ:
      if (ko_field_u32 (f, &u) < 0)
        return ko_error_setx (err, EPROTO, "process: bad field %u", f->tag);
      if (f->tag == KO_TAG_P_TERMINAL)
        p->terminal = u != 0;
      else if (f->tag == KO_TAG_P_NO_NEW_PRIVS)
        p->no_new_privs = u != 0;
      else
        {
          p->oom_score_adj = (int32_t)u;
          p->has_oom_score_adj = true;
        }
      return 0;
    default:
      return 0; /* unknown: skipped */
    }
  if (ko_field_u32 (f, dst) < 0)
    return ko_error_setx (err, EPROTO, "process: bad field %u", f->tag);
  if (flag)
    *flag = true;
  return 0;
}

int
ko_process_decode (const struct ko_field *f, struct ko_process *p,
                   ko_error **err)
{
  struct ko_tlv r = ko_field_nested (f);
  struct ko_field g;
  int n;
  memset (p, 0, sizeof *p);
  while ((n = ko_tlv_next (&r, &g)) > 0)
    if (process_field (p, &g, err) < 0)
      {
        ko_process_clear (p);
        return -1;
      }
  if (n < 0)
    {
      ko_process_clear (p);
      return ko_error_setx (err, EPROTO, "process: truncated field");
    }
  if (p->nargs == 0)
    {
      ko_process_clear (p);
      return ko_error_setx (err, EINVAL, "process: no args");
    }
  return 0;
}

void
ko_process_clear (struct ko_process *p)
{
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->nargs; i++)
    free (p->args[i]);
  for (size_t i = 0; i < p->nenv; i++)
    free (p->env[i]);
  free (p->args);
  free (p->env);
  free (p->cwd);
  free (p->cgroup);
  free (p->add_gids);
  free (p->rlimits);
  free (p->seccomp);
  memset (p, 0, sizeof *p);
}

/* ---- id maps ---- */

int
ko_id_map_encode (struct ko_buf *b, uint16_t tag, const struct ko_id_map *m)
{
  size_t off = ko_tlv_begin (b, tag);
  if (off == (size_t)-1)
    return -1;
  int r = ko_tlv_put_u32 (b, KO_TAG_ID_CONTAINER, m->container_id);
  r |= ko_tlv_put_u32 (b, KO_TAG_ID_HOST, m->host_id);
  r |= ko_tlv_put_u32 (b, KO_TAG_ID_SIZE, m->size);
  ko_tlv_end (b, off);
  return r ? -1 : 0;
}

int
ko_id_map_decode (const struct ko_field *f, struct ko_id_map *m, ko_error **err)
{
  struct ko_tlv r = ko_field_nested (f);
  struct ko_field g;
  struct ko_id_map t = { 0 };
  int n, seen = 0;
  while ((n = ko_tlv_next (&r, &g)) > 0)
    {
      uint32_t *dst = g.tag == KO_TAG_ID_CONTAINER ? &t.container_id
                      : g.tag == KO_TAG_ID_HOST    ? &t.host_id
                      : g.tag == KO_TAG_ID_SIZE    ? &t.size
                                                   : NULL;
      if (dst == NULL)
        continue; /* unknown: skipped */
      if (ko_field_u32 (&g, dst) < 0)
        return ko_error_setx (err, EPROTO, "id map: bad field %u", g.tag);
      seen |= 1 << (g.tag - KO_TAG_ID_CONTAINER);
    }
  if (n < 0)
    return ko_error_setx (err, EPROTO, "id map: truncated field");
  if (seen != 7)
    return ko_error_setx (err, EPROTO,
                          "id map: needs container, host and "
                          "size");
  *m = t;
  return 0;
}

static bool
ranges_overlap (uint32_t a, uint32_t size_a, uint32_t b, uint32_t size_b)
{
  return (uint64_t)a < (uint64_t)b + size_b
         && (uint64_t)b < (uint64_t)a + size_a;
}

int
ko_id_maps_check (const struct ko_id_map *v, size_t n, const char *what,
                  ko_error **err)
{
  if (n > KO_MAX_ID_MAPS)
    return ko_error_setx (err, EINVAL, "%s: %zu mappings, at most %d", what, n,
                          KO_MAX_ID_MAPS);
  for (size_t i = 0; i < n; i++)
    {
      if (v[i].size == 0)
        return ko_error_setx (err, EINVAL,
                              "%s[%zu].size: must be greater than 0", what, i);
      if ((uint64_t)v[i].container_id + v[i].size - 1 > KO_ID_LAST)
        return ko_error_setx (err, EINVAL,
                              "%s[%zu]: containerID %u + size %u goes past "
                              "the last id %u",
                              what, i, v[i].container_id, v[i].size,
                              KO_ID_LAST);
      if ((uint64_t)v[i].host_id + v[i].size - 1 > KO_ID_LAST)
        return ko_error_setx (err, EINVAL,
                              "%s[%zu]: hostID %u + size %u goes past the "
                              "last id %u",
                              what, i, v[i].host_id, v[i].size, KO_ID_LAST);
      for (size_t j = 0; j < i; j++)
        {
          if (ranges_overlap (v[i].container_id, v[i].size, v[j].container_id,
                              v[j].size))
            return ko_error_setx (err, EINVAL,
                                  "%s[%zu]: its containerID range overlaps "
                                  "that of [%zu]",
                                  what, i, j);
          if (ranges_overlap (v[i].host_id, v[i].size, v[j].host_id, v[j].size))
            return ko_error_setx (err, EINVAL,
                                  "%s[%zu]: its hostID range overlaps that "
                                  "of [%zu]",
                                  what, i, j);
        }
    }
  return 0;
}

bool
ko_id_maps_contain (const struct ko_id_map *v, size_t n, uint32_t id)
{
  for (size_t i = 0; i < n; i++)
    if (id >= v[i].container_id && id - v[i].container_id < v[i].size)
      return true;
  return false;
}

/* ---- networking ---- */

static size_t
family_len (uint32_t family)
{
  return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

bool
ko_net_ifname_ok (const char *s)
{
  size_t n = strlen (s);
  if (n == 0 || n >= KO_IFNAMSIZ || strcmp (s, ".") == 0
      || strcmp (s, "..") == 0)
    return false;
  for (; *s; s++)
    if (*s == '/' || *s == ':' || *s <= ' ' || *s == 0x7f)
      return false;
  return true;
}

int
ko_net_iface_encode (struct ko_buf *b, const struct ko_net_iface *i)
{
  int r = ko_tlv_put_str (b, KO_TAG_IF_NAME, i->name);
  r |= ko_tlv_put_bytes (b, KO_TAG_IF_MAC, i->mac, 6);
  r |= ko_tlv_put_u32 (b, KO_TAG_IF_MTU, i->mtu);
  for (size_t k = 0; k < i->naddrs; k++)
    {
      const struct ko_net_addr *a = &i->addrs[k];
      size_t off = ko_tlv_begin (b, KO_TAG_IF_ADDR);
      if (off == (size_t)-1)
        return -1;
      r |= ko_tlv_put_u32 (b, KO_TAG_A_FAMILY, a->family);
      r |= ko_tlv_put_bytes (b, KO_TAG_A_ADDR, a->addr, family_len (a->family));
      r |= ko_tlv_put_u32 (b, KO_TAG_A_PREFIX, a->prefix);
      ko_tlv_end (b, off);
    }
  return r ? -1 : 0;
}

/* An address of the family's length into out (16 bytes, zero-padded). */
static int
net_field_addr (const struct ko_field *f, uint32_t family, uint8_t out[16])
{
  size_t n = family_len (family);
  if (n == 0 || f->len != n)
    return -1;
  memset (out, 0, 16);
  memcpy (out, f->val, n);
  return 0;
}

/* An interface name field into out, NUL-terminated: 1 to 15 bytes, no
 * NUL. */
static int
net_field_name (const struct ko_field *f, char out[KO_IFNAMSIZ])
{
  if (f->len == 0 || f->len >= KO_IFNAMSIZ
      || memchr (f->val, '\0', f->len) != NULL)
    return -1;
  memcpy (out, f->val, f->len);
  out[f->len] = '\0';
  return 0;
}

static int
net_addr_decode (const struct ko_field *f, struct ko_net_addr *a,
                 ko_error **err)
{
  struct ko_tlv r = ko_field_nested (f);
  struct ko_field g;
  const struct ko_field *addr = NULL;
  struct ko_field addr_f;
  bool has_family = false, has_prefix = false;
  int n;
  memset (a, 0, sizeof *a);
  while ((n = ko_tlv_next (&r, &g)) > 0)
    if (g.tag == KO_TAG_A_FAMILY)
      {
        if (ko_field_u32 (&g, &a->family) < 0)
          return ko_error_setx (err, EPROTO, "interface address: bad family");
        has_family = true;
      }
    else if (g.tag == KO_TAG_A_PREFIX)
      {
        if (ko_field_u32 (&g, &a->prefix) < 0)
          return ko_error_setx (err, EPROTO, "interface address: bad prefix");
        has_prefix = true;
      }
    else if (g.tag == KO_TAG_A_ADDR)
      {
        addr_f = g;
        addr = &addr_f;
      }
  if (n < 0)
    return ko_error_setx (err, EPROTO, "interface address: truncated field");
  if (!has_family || !has_prefix || addr == NULL)
    return ko_error_setx (err, EPROTO,
                          "interface address: needs family, address and "
                          "prefix");
  if (family_len (a->family) == 0)
    return ko_error_setx (err, EPROTO, "interface address: unknown family %u",
                          a->family);
  if (net_field_addr (addr, a->family, a->addr) < 0)
    return ko_error_setx (err, EPROTO,
                          "interface address: %u bytes for family %u",
                          addr->len, a->family);
  if (a->prefix > family_len (a->family) * 8)
    return ko_error_setx (
        err, EPROTO, "interface address: prefix %u is too long", a->prefix);
  return 0;
}

int
ko_net_iface_decode (struct ko_tlv body, struct ko_net_iface *out,
                     ko_error **err)
{
  struct ko_field f;
  bool has_mac = false, has_mtu = false;
  int n;
  struct ko_net_iface t, *i = &t;
  memset (i, 0, sizeof *i);
  while ((n = ko_tlv_next (&body, &f)) > 0)
    switch (f.tag)
      {
      case KO_TAG_IF_NAME:
        if (net_field_name (&f, i->name) < 0)
          return ko_error_setx (err, EPROTO, "interface: bad name");
        if (!ko_net_ifname_ok (i->name))
          return ko_error_setx (err, EPROTO,
                                "interface: \"%s\" is not an interface name",
                                i->name);
        break;
      case KO_TAG_IF_MAC:
        if (f.len != 6)
          return ko_error_setx (err, EPROTO, "interface: a MAC has 6 bytes");
        memcpy (i->mac, f.val, 6);
        has_mac = true;
        break;
      case KO_TAG_IF_MTU:
        if (ko_field_u32 (&f, &i->mtu) < 0 || i->mtu < 68 || i->mtu > 65535)
          return ko_error_setx (err, EPROTO,
                                "interface: MTU must be 68 to 65535");
        has_mtu = true;
        break;
      case KO_TAG_IF_ADDR:
        if (i->naddrs == KO_NET_MAX_ADDRS)
          return ko_error_setx (err, EPROTO,
                                "interface: more than %d addresses",
                                KO_NET_MAX_ADDRS);
        if (net_addr_decode (&f, &i->addrs[i->naddrs], err) < 0)
          return -1;
        i->naddrs++;
        break;
      default:
        break; /* unknown: skipped */
      }
  if (n < 0)
    return ko_error_setx (err, EPROTO, "interface: truncated field");
  if (i->name[0] == '\0' || !has_mac || !has_mtu)
    return ko_error_setx (err, EPROTO, "interface: needs name, MAC and MTU");
  if (i->mac[0] & 1)
    return ko_error_setx (err, EPROTO, "interface: not a unicast MAC");
  *out = t;
  return 0;
}

int
ko_net_route_encode (struct ko_buf *b, uint16_t tag,
                     const struct ko_net_route *rt)
{
  size_t off = ko_tlv_begin (b, tag);
  if (off == (size_t)-1)
    return -1;
  size_t n = family_len (rt->family);
  int r = ko_tlv_put_u32 (b, KO_TAG_RT_FAMILY, rt->family);
  if (rt->dst_len > 0)
    {
      r |= ko_tlv_put_bytes (b, KO_TAG_RT_DST, rt->dst, n);
      r |= ko_tlv_put_u32 (b, KO_TAG_RT_DST_LEN, rt->dst_len);
    }
  if (rt->has_gw)
    r |= ko_tlv_put_bytes (b, KO_TAG_RT_GW, rt->gw, n);
  r |= ko_tlv_put_str (b, KO_TAG_RT_DEV, rt->dev);
  ko_tlv_end (b, off);
  return r ? -1 : 0;
}

int
ko_net_route_decode (const struct ko_field *f, struct ko_net_route *out,
                     ko_error **err)
{
  struct ko_tlv r = ko_field_nested (f);
  struct ko_field g, dst = { 0 }, gw = { 0 };
  bool has_family = false, has_dst = false;
  int n;
  struct ko_net_route t, *rt = &t;
  memset (rt, 0, sizeof *rt);
  while ((n = ko_tlv_next (&r, &g)) > 0)
    switch (g.tag)
      {
      case KO_TAG_RT_FAMILY:
        if (ko_field_u32 (&g, &rt->family) < 0)
          return ko_error_setx (err, EPROTO, "route: bad family");
        has_family = true;
        break;
      case KO_TAG_RT_DST:
        dst = g;
        has_dst = true;
        break;
      case KO_TAG_RT_DST_LEN:
        if (ko_field_u32 (&g, &rt->dst_len) < 0)
          return ko_error_setx (err, EPROTO, "route: bad prefix");
        break;
      case KO_TAG_RT_GW:
        gw = g;
        rt->has_gw = true;
        break;
      case KO_TAG_RT_DEV:
        if (net_field_name (&g, rt->dev) < 0)
          return ko_error_setx (err, EPROTO, "route: bad device name");
        break;
      default:
        break;
      }
  if (n < 0)
    return ko_error_setx (err, EPROTO, "route: truncated field");
  if (!has_family || family_len (rt->family) == 0)
    return ko_error_setx (err, EPROTO, "route: needs AF_INET or AF_INET6");
  if (!ko_net_ifname_ok (rt->dev))
    return ko_error_setx (err, EPROTO, "route: needs a device");
  if (has_dst != (rt->dst_len > 0)
      || (has_dst && net_field_addr (&dst, rt->family, rt->dst) < 0)
      || rt->dst_len > family_len (rt->family) * 8)
    return ko_error_setx (err, EPROTO, "route: bad destination");
  if (rt->has_gw && net_field_addr (&gw, rt->family, rt->gw) < 0)
    return ko_error_setx (err, EPROTO, "route: bad gateway");
  *out = t;
  return 0;
}
