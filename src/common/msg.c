/* The typed messages of msg.h. Most of them are flat: a table of their
 * fields drives one encoder, one decoder and one clear, so that every
 * message gets the same checks. CreateContainer's lists, the resources,
 * the statistics, the pid list and the credit have their own code. */
#include "msg.h"
#include "util.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- field tables ---- */

enum kind
{
  K_STR,       /* char *: NULL is absent */
  K_U32,       /* uint32_t */
  K_U64,       /* uint64_t */
  K_BOOL,      /* bool: a u32 0/1, sent only when true */
  K_PROCESS,   /* struct ko_process, nested; at most once */
  K_RESOURCES, /* struct ko_resources, nested; at most once */
};

enum
{
  REQ = 1,     /* decoding fails without it; encoding a NULL string too */
  NONZERO = 2, /* a number sent only when it is not 0 */
};

struct fdesc
{
  uint16_t tag;
  uint8_t kind, flags;
  uint16_t off;
  uint16_t has; /* 1 + offset of a bool saying it is present; 0: none */
  const char *name;
};

struct mdesc
{
  size_t size;
  size_t n;
  const struct fdesc *f;
};

#define FIELD(T, tag, kind, flags, member, name)                               \
  {                                                                            \
    KO_TAG_##tag, kind, flags, offsetof (T, member), 0, name                   \
  }
#define FIELD_HAS(T, tag, kind, member, has, name)                             \
  {                                                                            \
    KO_TAG_##tag, kind, 0, offsetof (T, member), offsetof (T, has) + 1, name   \
  }
#define MDESC(T, fields)                                                       \
  {                                                                            \
    sizeof (T), KO_ARRAY_SIZE (fields), fields                                 \
  }

static bool *
has_flag (const struct fdesc *f, const void *m)
{
  return f->has ? (bool *)((char *)m + f->has - 1) : NULL;
}

/* Encodes a nested process or resources field: passed in by the few
 * encoders that have one, so that a binary that never sends one (the agent)
 * does not link their encoders. */
typedef int (*nested_fn) (struct ko_buf *b, const struct fdesc *f,
                          const void *p);

static int
encode_big (struct ko_buf *b, const struct fdesc *f, const void *p)
{
  return f->kind == K_PROCESS ? ko_process_encode (b, f->tag, p)
                              : ko_resources_encode (b, f->tag, p);
}

static int
encode_fields (struct ko_buf *b, const struct mdesc *d, const void *m,
               nested_fn nested)
{
  int r = 0;
  for (size_t i = 0; i < d->n; i++)
    {
      const struct fdesc *f = &d->f[i];
      const void *p = (const char *)m + f->off;
      const bool *has = has_flag (f, m);
      if (has && !*has)
        continue;
      switch (f->kind)
        {
        case K_STR:
          if (*(char *const *)p == NULL && (f->flags & REQ))
            return -1;
          r |= ko_tlv_put_str (b, f->tag, *(char *const *)p);
          break;
        case K_U32:
          if (!(f->flags & NONZERO) || *(const uint32_t *)p)
            r |= ko_tlv_put_u32 (b, f->tag, *(const uint32_t *)p);
          break;
        case K_U64:
          if (!(f->flags & NONZERO) || *(const uint64_t *)p)
            r |= ko_tlv_put_u64 (b, f->tag, *(const uint64_t *)p);
          break;
        case K_BOOL:
          if (*(const bool *)p)
            r |= ko_tlv_put_u32 (b, f->tag, 1);
          break;
        case K_PROCESS:
        case K_RESOURCES:
          r |= nested ? nested (b, f, p) : -1;
          break;
        }
    }
  return r ? -1 : 0;
}

static int
field_str (const struct ko_field *f, const char *name, char **out,
           ko_error **err)
{
  if (f->len > KO_MAX_STRING)
    return ko_error_setx (err, EPROTO, "%s: %u bytes, more than %u", name,
                          f->len, KO_MAX_STRING);
  if (memchr (f->val, '\0', f->len) != NULL)
    return ko_error_setx (err, EPROTO, "%s: holds a NUL byte", name);
  if (ko_field_str (f, out) < 0)
    return ko_error_set (err, ENOMEM, "%s", name);
  return 0;
}

static int
field_len (const struct ko_field *f, const char *name, uint32_t want,
           ko_error **err)
{
  if (f->len != want)
    return ko_error_setx (err, EPROTO, "%s: %u bytes, expected %u", name,
                          f->len, want);
  return 0;
}

static int
decode_field (const struct fdesc *d, void *m, const struct ko_field *f,
              ko_error **err)
{
  void *p = (char *)m + d->off;
  uint32_t u = 0;
  char *s;
  switch (d->kind)
    {
    case K_STR:
      if (field_str (f, d->name, &s, err) < 0)
        return -1;
      free (*(char **)p);
      *(char **)p = s;
      break;
    case K_U32:
    case K_BOOL:
      if (field_len (f, d->name, 4, err) < 0)
        return -1;
      ko_field_u32 (f, &u);
      if (d->kind == K_BOOL)
        *(bool *)p = u != 0;
      else
        *(uint32_t *)p = u;
      break;
    case K_U64:
      if (field_len (f, d->name, 8, err) < 0)
        return -1;
      ko_field_u64 (f, p);
      break;
    case K_PROCESS:
      if (ko_process_decode (f, p, err) < 0)
        return -1;
      break;
    case K_RESOURCES:
      if (ko_resources_decode (f, p, err) < 0)
        return -1;
      break;
    }
  bool *has = has_flag (d, m);
  if (has)
    *has = true;
  return 0;
}

/* A field the table does not name: 0 when taken, -1 on error; unknown tags
 * are the extra function's to skip. */
typedef int (*extra_fn) (void *m, const struct ko_field *f, ko_error **err);

/* Zeroes *m, then fills it. On failure the caller clears it. */
static int
decode_fields (struct ko_tlv body, const struct mdesc *d, void *m,
               extra_fn extra, ko_error **err)
{
  struct ko_field f;
  uint32_t seen = 0;
  int n;
  memset (m, 0, d->size);
  while ((n = ko_tlv_next (&body, &f)) > 0)
    {
      size_t i = 0;
      while (i < d->n && d->f[i].tag != f.tag)
        i++;
      if (i == d->n)
        {
          if (extra && extra (m, &f, err) < 0)
            return -1;
          continue;
        }
      const struct fdesc *fd = &d->f[i];
      if ((seen & (1u << i))
          && (fd->kind == K_PROCESS || fd->kind == K_RESOURCES))
        return ko_error_setx (err, EPROTO, "%s: given twice", fd->name);
      if (decode_field (fd, m, &f, err) < 0)
        return -1;
      seen |= 1u << i;
    }
  if (n < 0)
    return ko_error_setx (err, EPROTO, "truncated field");
  for (size_t i = 0; i < d->n; i++)
    if ((d->f[i].flags & REQ) && !(seen & (1u << i)))
      return ko_error_setx (err, EINVAL, "no %s", d->f[i].name);
  return 0;
}

static void clear_fields (const struct mdesc *d, void *m);

/* A whole flat message: on failure it is left cleared. */
static int
decode_flat (struct ko_tlv body, const struct mdesc *d, void *m, ko_error **err)
{
  if (decode_fields (body, d, m, NULL, err) == 0)
    return 0;
  clear_fields (d, m);
  return -1;
}

static void
clear_fields (const struct mdesc *d, void *m)
{
  if (m == NULL)
    return;
  for (size_t i = 0; i < d->n; i++)
    {
      void *p = (char *)m + d->f[i].off;
      switch (d->f[i].kind)
        {
        case K_STR:
          free (*(char **)p);
          *(char **)p = NULL;
          break;
        case K_PROCESS:
          ko_process_clear (p);
          break;
        case K_RESOURCES:
          ko_resources_clear (p);
          break;
        default:
          break;
        }
    }
  memset (m, 0, d->size);
}

/* One encode / decode / clear per flat message, from its table. */
#define CODEC_ENCODE_WITH(name, desc, nested)                                  \
  int ko_msg_##name##_encode (struct ko_buf *b, const struct ko_msg_##name *m) \
  {                                                                            \
    return encode_fields (b, &desc, m, nested);                                \
  }
#define CODEC_ENCODE(name, desc) CODEC_ENCODE_WITH (name, desc, NULL)
#define CODEC_DECODE(name, desc)                                               \
  int ko_msg_##name##_decode (struct ko_tlv body, struct ko_msg_##name *m,     \
                              ko_error **err)                                  \
  {                                                                            \
    return decode_flat (body, &desc, m, err);                                  \
  }
#define CODEC_CLEAR(name, desc)                                                \
  void ko_msg_##name##_clear (struct ko_msg_##name *m)                         \
  {                                                                            \
    clear_fields (&desc, m);                                                   \
  }
#define CODEC(name, desc)                                                      \
  CODEC_ENCODE (name, desc)                                                    \
  CODEC_DECODE (name, desc)                                                    \
  CODEC_CLEAR (name, desc)
#define CODEC_PLAIN(name, desc)                                                \
  CODEC_ENCODE (name, desc)                                                    \
  CODEC_DECODE (name, desc)
/* with a nested process or resources field */
#define CODEC_BIG(name, desc)                                                  \
  CODEC_ENCODE_WITH (name, desc, encode_big)                                   \
  CODEC_DECODE (name, desc)                                                    \
  CODEC_CLEAR (name, desc)

/* ---- flat requests ---- */

#define T struct ko_msg_create_sandbox
static const struct fdesc create_sandbox_f[] = {
  FIELD (T, HOSTNAME, K_STR, 0, hostname, "hostname"),
  FIELD (T, SHARE_TAG, K_STR, 0, share_tag, "share tag"),
};
static const struct mdesc create_sandbox_d = MDESC (T, create_sandbox_f);
#undef T
CODEC (create_sandbox, create_sandbox_d)

#define T struct ko_msg_container_ref
static const struct fdesc container_ref_f[] = {
  FIELD (T, CONTAINER_ID, K_STR, REQ, container_id, "container id"),
};
static const struct mdesc container_ref_d = MDESC (T, container_ref_f);
#undef T
CODEC (container_ref, container_ref_d)

#define T struct ko_msg_process_ref
static const struct fdesc process_ref_f[] = {
  FIELD (T, CONTAINER_ID, K_STR, REQ, container_id, "container id"),
  FIELD (T, EXEC_ID, K_STR, 0, exec_id, "exec id"),
};
static const struct mdesc process_ref_d = MDESC (T, process_ref_f);
#undef T
CODEC (process_ref, process_ref_d)

#define T struct ko_msg_exec_process
static const struct fdesc exec_process_f[] = {
  FIELD (T, CONTAINER_ID, K_STR, REQ, container_id, "container id"),
  FIELD (T, EXEC_ID, K_STR, REQ, exec_id, "exec id"),
  FIELD (T, PROCESS, K_PROCESS, REQ, process, "process"),
};
static const struct mdesc exec_process_d = MDESC (T, exec_process_f);
#undef T
CODEC_BIG (exec_process, exec_process_d)

#define T struct ko_msg_signal_process
static const struct fdesc signal_process_f[] = {
  FIELD (T, CONTAINER_ID, K_STR, REQ, container_id, "container id"),
  FIELD (T, EXEC_ID, K_STR, 0, exec_id, "exec id"),
  FIELD (T, SIGNAL, K_U32, REQ, signal, "signal"),
  FIELD (T, ALL, K_BOOL, 0, all, "all"),
};
static const struct mdesc signal_process_d = MDESC (T, signal_process_f);
#undef T
CODEC (signal_process, signal_process_d)

#define T struct ko_msg_tty_win_resize
static const struct fdesc tty_win_resize_f[] = {
  FIELD (T, CONTAINER_ID, K_STR, REQ, container_id, "container id"),
  FIELD (T, EXEC_ID, K_STR, 0, exec_id, "exec id"),
  FIELD (T, ROWS, K_U32, REQ, rows, "rows"),
  FIELD (T, COLS, K_U32, REQ, cols, "cols"),
};
static const struct mdesc tty_win_resize_d = MDESC (T, tty_win_resize_f);
#undef T
CODEC (tty_win_resize, tty_win_resize_d)

#define T struct ko_msg_update_container
static const struct fdesc update_container_f[] = {
  FIELD (T, CONTAINER_ID, K_STR, REQ, container_id, "container id"),
  FIELD (T, RESOURCES, K_RESOURCES, REQ, resources, "resources"),
};
static const struct mdesc update_container_d = MDESC (T, update_container_f);
#undef T
CODEC_BIG (update_container, update_container_d)

#define T struct ko_msg_online_cpu_mem
static const struct fdesc online_cpu_mem_f[] = {
  FIELD (T, MEMORY_MB, K_U32, REQ, memory_mb, "memory size"),
};
static const struct mdesc online_cpu_mem_d = MDESC (T, online_cpu_mem_f);
#undef T
CODEC_PLAIN (online_cpu_mem, online_cpu_mem_d)

static const struct mdesc destroy_sandbox_d
    = { sizeof (struct ko_msg_destroy_sandbox), 0, NULL };
CODEC_PLAIN (destroy_sandbox, destroy_sandbox_d)

/* ---- flat replies and events ---- */

#define T struct ko_msg_pid_reply
static const struct fdesc pid_reply_f[] = {
  FIELD (T, PID, K_U32, REQ, pid, "pid"),
};
static const struct mdesc pid_reply_d = MDESC (T, pid_reply_f);
#undef T
CODEC_PLAIN (pid_reply, pid_reply_d)

#define T struct ko_msg_wait_process_reply
static const struct fdesc wait_process_reply_f[] = {
  FIELD (T, STATUS, K_U32, REQ, status, "status"),
};
static const struct mdesc wait_process_reply_d
    = MDESC (T, wait_process_reply_f);
#undef T
CODEC_PLAIN (wait_process_reply, wait_process_reply_d)

#define T struct ko_msg_error
static const struct fdesc error_f[] = {
  FIELD (T, ERROR, K_STR, 0, msg, "message"),
};
static const struct mdesc error_d = MDESC (T, error_f);
#undef T
CODEC_DECODE (error, error_d)
CODEC_CLEAR (error, error_d)

#define T struct ko_msg_hello
static const struct fdesc hello_f[] = {
  FIELD (T, VERSION, K_U32, REQ, version, "version"),
  FIELD (T, AGENT_VERSION, K_STR, 0, agent_version, "agent version"),
};
static const struct mdesc hello_d = MDESC (T, hello_f);
#undef T
CODEC (hello, hello_d)

#define T struct ko_msg_process_exited
static const struct fdesc process_exited_f[] = {
  FIELD (T, CONTAINER_ID, K_STR, REQ, container_id, "container id"),
  FIELD (T, EXEC_ID, K_STR, 0, exec_id, "exec id"),
  FIELD (T, PID, K_U32, REQ, pid, "pid"),
  FIELD (T, STATUS, K_U32, REQ, status, "status"),
};
static const struct mdesc process_exited_d = MDESC (T, process_exited_f);
#undef T
CODEC (process_exited, process_exited_d)

#define T struct ko_msg_oom
static const struct fdesc oom_f[] = {
  FIELD (T, CONTAINER_ID, K_STR, REQ, container_id, "container id"),
};
static const struct mdesc oom_d = MDESC (T, oom_f);
#undef T
CODEC (oom, oom_d)

int
ko_msg_error_encode (struct ko_buf *b, const struct ko_msg_error *m)
{
  const char *s = m->msg ? m->msg : "";
  size_t n = strlen (s);
  return ko_tlv_put_bytes (b, KO_TAG_ERROR, s,
                           n > KO_MAX_STRING ? KO_MAX_STRING : n);
}

int
ko_msg_reply_error (uint32_t status, struct ko_tlv body, ko_error **err)
{
  struct ko_msg_error e;
  const char *msg = "agent error";
  if (ko_msg_error_decode (body, &e, NULL) < 0)
    msg = "(malformed error message)";
  else if (e.msg)
    {
      /* the guest's words: made printable */
      for (char *c = e.msg; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
          *c = ' ';
      msg = e.msg;
    }
  ko_error_setx (err, status && status < 4096 ? (int)status : EIO, "%s", msg);
  ko_msg_error_clear (&e);
  return -1;
}

/* ---- resources ---- */

void
ko_resources_set (struct ko_resources *r, uint16_t tag, int64_t v)
{
  if (tag < KO_TAG_R_MEM_LIMIT || tag > KO_TAG_R_BLKIO_WEIGHT
      || tag == KO_TAG_R_CPUSET_CPUS || tag == KO_TAG_R_CPUSET_MEMS)
    return;
  r->v[tag - KO_TAG_R_MEM_LIMIT] = v;
  r->has |= KO_R_BIT (tag);
}

int
ko_resources_set_str (struct ko_resources *r, uint16_t tag, const char *s)
{
  char **dst = tag == KO_TAG_R_CPUSET_CPUS   ? &r->cpus
               : tag == KO_TAG_R_CPUSET_MEMS ? &r->mems
                                             : NULL;
  char *c = dst ? strdup (s) : NULL;
  if (c == NULL)
    return -1;
  free (*dst);
  *dst = c;
  r->has |= KO_R_BIT (tag);
  return 0;
}

int
ko_resources_encode (struct ko_buf *b, uint16_t tag,
                     const struct ko_resources *r)
{
  size_t off = ko_tlv_begin (b, tag);
  int rc = 0;
  if (off == (size_t)-1)
    return -1;
  for (unsigned i = 0; i < KO_RESOURCES_N; i++)
    {
      uint16_t t = KO_TAG_R_MEM_LIMIT + i;
      if (!(r->has & KO_R_BIT (t)))
        continue;
      if (t == KO_TAG_R_CPUSET_CPUS)
        rc |= ko_tlv_put_str (b, t, r->cpus);
      else if (t == KO_TAG_R_CPUSET_MEMS)
        rc |= ko_tlv_put_str (b, t, r->mems);
      else if (t == KO_TAG_R_BLKIO_WEIGHT)
        rc |= ko_tlv_put_u32 (b, t, (uint32_t)r->v[i]);
      else
        rc |= ko_tlv_put_u64 (b, t, (uint64_t)r->v[i]);
    }
  ko_tlv_end (b, off);
  return rc ? -1 : 0;
}

static int
resources_field (struct ko_resources *r, const struct ko_field *g,
                 ko_error **err)
{
  unsigned i = g->tag - KO_TAG_R_MEM_LIMIT;
  int rc;
  uint32_t u32;
  uint64_t u64 = 0;
  if (g->tag == KO_TAG_R_CPUSET_CPUS || g->tag == KO_TAG_R_CPUSET_MEMS)
    {
      char **dst = g->tag == KO_TAG_R_CPUSET_CPUS ? &r->cpus : &r->mems;
      free (*dst);
      *dst = NULL;
      rc = ko_field_str (g, dst);
    }
  else if (g->tag == KO_TAG_R_BLKIO_WEIGHT)
    {
      rc = ko_field_u32 (g, &u32);
      u64 = u32;
    }
  else
    rc = ko_field_u64 (g, &u64);
  if (rc < 0)
    return ko_error_setx (err, EPROTO, "resources: field %u is malformed",
                          g->tag);
  r->v[i] = (int64_t)u64;
  r->has |= 1u << i;
  return 0;
}

int
ko_resources_decode (const struct ko_field *f, struct ko_resources *out,
                     ko_error **err)
{
  struct ko_tlv t = ko_field_nested (f);
  struct ko_field g;
  struct ko_resources r = { 0 };
  int n;
  while ((n = ko_tlv_next (&t, &g)) > 0)
    if (g.tag >= KO_TAG_R_MEM_LIMIT && g.tag <= KO_TAG_R_BLKIO_WEIGHT
        && resources_field (&r, &g, err) < 0)
      {
        ko_resources_clear (&r);
        return -1;
      }
  if (n < 0)
    {
      ko_resources_clear (&r);
      return ko_error_setx (err, EPROTO, "resources: truncated field");
    }
  *out = r;
  return 0;
}

void
ko_resources_clear (struct ko_resources *r)
{
  if (r == NULL)
    return;
  free (r->cpus);
  free (r->mems);
  memset (r, 0, sizeof *r);
}

/* ---- CreateContainer ---- */

#define T struct ko_mount
static const struct fdesc mount_f[] = {
  FIELD (T, M_DEST, K_STR, REQ, dest, "destination"),
  FIELD (T, M_TYPE, K_STR, 0, type, "type"),
  FIELD (T, M_SOURCE, K_STR, 0, source, "source"),
  FIELD (T, M_DATA, K_STR, 0, data, "data"),
  FIELD (T, M_FLAGS, K_U64, 0, flags, "flags"),
  FIELD (T, M_PROPAGATION, K_U64, NONZERO, propagation, "propagation"),
};
static const struct mdesc mount_d = MDESC (T, mount_f);
#undef T

#define T struct ko_device
static const struct fdesc device_f[] = {
  FIELD (T, D_TYPE, K_U32, REQ, type, "type"),
  FIELD (T, D_PATH, K_STR, REQ, path, "path"),
  FIELD (T, D_MAJOR, K_U64, 0, major, "major"),
  FIELD (T, D_MINOR, K_U64, 0, minor, "minor"),
  FIELD_HAS (T, D_MODE, K_U32, mode, has_mode, "mode"),
  FIELD_HAS (T, D_UID, K_U32, uid, has_uid, "uid"),
  FIELD_HAS (T, D_GID, K_U32, gid, has_gid, "gid"),
};
static const struct mdesc device_d = MDESC (T, device_f);
#undef T

#define T struct ko_sysctl
static const struct fdesc sysctl_f[] = {
  FIELD (T, KEY, K_STR, REQ, key, "key"),
  FIELD (T, VALUE, K_STR, 0, value, "value"),
};
static const struct mdesc sysctl_d = MDESC (T, sysctl_f);
#undef T

/* The message's own fields and the spec's single ones; the lists are
 * create_container_list's. Encoded in two parts, in the protocol's order. */
#define T struct ko_msg_create_container
static const struct fdesc create_container_f[] = {
  FIELD (T, CONTAINER_ID, K_STR, REQ, container_id, "container id"),
  FIELD (T, ROOTFS, K_STR, REQ, rootfs, "rootfs"),
  FIELD (T, HOSTNAME, K_STR, 0, hostname, "hostname"),
  FIELD (T, PROCESS, K_PROCESS, REQ, process, "process"),
  FIELD (T, DOMAINNAME, K_STR, 0, spec.domainname, "domainname"),
  FIELD (T, ROOT_READONLY, K_BOOL, 0, spec.root_readonly, "root readonly"),
  FIELD_HAS (T, NAMESPACES, K_U64, spec.namespaces, spec.has_namespaces,
             "namespaces"),
  FIELD (T, ROOTFS_PROPAGATION, K_U64, NONZERO, spec.rootfs_propagation,
         "rootfs propagation"),
  FIELD_HAS (T, PERSONALITY, K_U32, spec.personality, spec.has_personality,
             "personality"),
  FIELD_HAS (T, RESOURCES, K_RESOURCES, spec.resources, spec.has_resources,
             "resources"),
};
static const struct mdesc create_container_d = MDESC (T, create_container_f);
#undef T
/* the first four: the message's own, before the spec */
static const struct mdesc create_container_head_d
    = { sizeof (struct ko_msg_create_container), 4, create_container_f };

static void
strv_clear (char ***v, size_t *n)
{
  for (size_t i = 0; i < *n; i++)
    free ((*v)[i]);
  free (*v);
  *v = NULL;
  *n = 0;
}

void
ko_container_spec_clear (struct ko_container_spec *s)
{
  if (s == NULL)
    return;
  free (s->domainname);
  for (size_t i = 0; i < s->nmounts; i++)
    clear_fields (&mount_d, &s->mounts[i]);
  free (s->mounts);
  for (size_t i = 0; i < s->ndevices; i++)
    clear_fields (&device_d, &s->devices[i]);
  free (s->devices);
  for (size_t i = 0; i < s->nsysctls; i++)
    clear_fields (&sysctl_d, &s->sysctls[i]);
  free (s->sysctls);
  strv_clear (&s->masked, &s->nmasked);
  strv_clear (&s->readonly, &s->nreadonly);
  ko_resources_clear (&s->resources);
  memset (s, 0, sizeof *s);
}

/* Room for one more element at the end of *v (bounded). */
static void *
vec_grow (void *v, size_t n, size_t size)
{
  if (n >= KO_MAX_STRINGS)
    return NULL;
  return realloc (v, (n + 1) * size);
}

int
ko_container_spec_add_mount (struct ko_container_spec *s, struct ko_mount *m)
{
  struct ko_mount *v = vec_grow (s->mounts, s->nmounts, sizeof *v);
  if (v == NULL)
    {
      clear_fields (&mount_d, m);
      return -1;
    }
  v[s->nmounts++] = *m;
  s->mounts = v;
  return 0;
}

int
ko_container_spec_add_device (struct ko_container_spec *s, struct ko_device *d)
{
  struct ko_device *v = vec_grow (s->devices, s->ndevices, sizeof *v);
  if (v == NULL)
    {
      clear_fields (&device_d, d);
      return -1;
    }
  v[s->ndevices++] = *d;
  s->devices = v;
  return 0;
}

int
ko_container_spec_add_sysctl (struct ko_container_spec *s, struct ko_sysctl *kv)
{
  struct ko_sysctl *v = vec_grow (s->sysctls, s->nsysctls, sizeof *v);
  if (v == NULL)
    {
      clear_fields (&sysctl_d, kv);
      return -1;
    }
  v[s->nsysctls++] = *kv;
  s->sysctls = v;
  return 0;
}

int
ko_container_spec_add_path (struct ko_container_spec *s, uint16_t tag,
                            char *path)
{
  bool masked = tag == KO_TAG_MASKED_PATH;
  size_t *n = masked ? &s->nmasked : &s->nreadonly;
  if (*n < KO_MAX_STRINGS
      && ko_strv_push (masked ? &s->masked : &s->readonly, n, path) == 0)
    return 0;
  free (path);
  return -1;
}

static int
put_paths (struct ko_buf *b, uint16_t tag, char *const *v, size_t n)
{
  int r = 0;
  for (size_t i = 0; i < n; i++)
    r |= ko_tlv_put_str (b, tag, v[i]);
  return r;
}

/* A nested element of a table-described type. */
static int
encode_nested (struct ko_buf *b, uint16_t tag, const struct mdesc *d,
               const void *m)
{
  size_t off = ko_tlv_begin (b, tag);
  if (off == (size_t)-1)
    return -1;
  int r = encode_fields (b, d, m, NULL);
  ko_tlv_end (b, off);
  return r;
}

int
ko_container_spec_encode (struct ko_buf *b, const struct ko_container_spec *s)
{
  int r = ko_tlv_put_str (b, KO_TAG_DOMAINNAME, s->domainname);
  if (s->root_readonly)
    r |= ko_tlv_put_u32 (b, KO_TAG_ROOT_READONLY, 1);
  for (size_t i = 0; i < s->nmounts; i++)
    r |= encode_nested (b, KO_TAG_MOUNT, &mount_d, &s->mounts[i]);
  for (size_t i = 0; i < s->nuid_map; i++)
    r |= ko_id_map_encode (b, KO_TAG_UID_MAP, &s->uid_map[i]);
  for (size_t i = 0; i < s->ngid_map; i++)
    r |= ko_id_map_encode (b, KO_TAG_GID_MAP, &s->gid_map[i]);
  if (s->has_namespaces)
    r |= ko_tlv_put_u64 (b, KO_TAG_NAMESPACES, s->namespaces);
  for (size_t i = 0; i < s->nsysctls; i++)
    r |= encode_nested (b, KO_TAG_SYSCTL, &sysctl_d, &s->sysctls[i]);
  for (size_t i = 0; i < s->ndevices; i++)
    r |= encode_nested (b, KO_TAG_DEVICE, &device_d, &s->devices[i]);
  if (s->rootfs_propagation)
    r |= ko_tlv_put_u64 (b, KO_TAG_ROOTFS_PROPAGATION, s->rootfs_propagation);
  r |= put_paths (b, KO_TAG_MASKED_PATH, s->masked, s->nmasked);
  r |= put_paths (b, KO_TAG_READONLY_PATH, s->readonly, s->nreadonly);
  if (s->has_personality)
    r |= ko_tlv_put_u32 (b, KO_TAG_PERSONALITY, s->personality);
  if (s->has_resources)
    r |= ko_resources_encode (b, KO_TAG_RESOURCES, &s->resources);
  return r ? -1 : 0;
}

int
ko_msg_create_container_encode (struct ko_buf *b,
                                const struct ko_msg_create_container *m)
{
  if (encode_fields (b, &create_container_head_d, m, encode_big) < 0)
    return -1;
  return ko_container_spec_encode (b, &m->spec);
}

/* Decodes a nested element of a table-described type into a new slot. */
static int
decode_nested (const struct ko_field *f, const struct mdesc *d, void *slot,
               const char *what, ko_error **err)
{
  if (decode_fields (ko_field_nested (f), d, slot, NULL, err) == 0)
    return 0;
  clear_fields (d, slot);
  return ko_error_wrap (err, "%s", what);
}

static int
add_id_map (const struct ko_field *f, struct ko_id_map *v, size_t *n,
            ko_error **err)
{
  const char *what = f->tag == KO_TAG_UID_MAP ? "uid" : "gid";
  if (*n >= KO_MAX_ID_MAPS)
    return ko_error_setx (err, EPROTO, "%s map: more than %d lines", what,
                          KO_MAX_ID_MAPS);
  if (ko_id_map_decode (f, &v[*n], err) < 0)
    return ko_error_wrap (err, "%s map", what);
  (*n)++;
  return 0;
}

static int
create_container_list (void *msg, const struct ko_field *f, ko_error **err)
{
  struct ko_container_spec *s = &((struct ko_msg_create_container *)msg)->spec;
  union
  {
    struct ko_mount m;
    struct ko_device d;
    struct ko_sysctl kv;
  } e;
  char *str;
  int r = 0;
  switch (f->tag)
    {
    case KO_TAG_MOUNT:
      if (decode_nested (f, &mount_d, &e.m, "mount", err) < 0)
        return -1;
      r = ko_container_spec_add_mount (s, &e.m);
      break;
    case KO_TAG_DEVICE:
      if (decode_nested (f, &device_d, &e.d, "device", err) < 0)
        return -1;
      r = ko_container_spec_add_device (s, &e.d);
      break;
    case KO_TAG_SYSCTL:
      if (decode_nested (f, &sysctl_d, &e.kv, "sysctl", err) < 0)
        return -1;
      r = ko_container_spec_add_sysctl (s, &e.kv);
      break;
    case KO_TAG_MASKED_PATH:
    case KO_TAG_READONLY_PATH:
      if (field_str (f, "path", &str, err) < 0)
        return -1;
      r = ko_container_spec_add_path (s, f->tag, str);
      break;
    case KO_TAG_UID_MAP:
      return add_id_map (f, s->uid_map, &s->nuid_map, err);
    case KO_TAG_GID_MAP:
      return add_id_map (f, s->gid_map, &s->ngid_map, err);
    default:
      return 0; /* unknown: skipped */
    }
  if (r < 0)
    return ko_error_setx (err, EPROTO, "field %u: more than %d entries", f->tag,
                          KO_MAX_STRINGS);
  return 0;
}

int
ko_msg_create_container_decode (struct ko_tlv body,
                                struct ko_msg_create_container *m,
                                ko_error **err)
{
  if (decode_fields (body, &create_container_d, m, create_container_list, err)
      == 0)
    {
      if (*m->container_id != '\0')
        return 0;
      ko_error_setx (err, EINVAL, "no container id");
    }
  ko_msg_create_container_clear (m);
  return -1;
}

void
ko_msg_create_container_clear (struct ko_msg_create_container *m)
{
  if (m == NULL)
    return;
  ko_container_spec_clear (&m->spec);
  clear_fields (&create_container_d, m);
}

/* ---- UpdateInterface, UpdateRoutes ---- */

int
ko_msg_update_interface_encode (struct ko_buf *b,
                                const struct ko_msg_update_interface *m)
{
  return ko_net_iface_encode (b, &m->iface);
}

int
ko_msg_update_interface_decode (struct ko_tlv body,
                                struct ko_msg_update_interface *m,
                                ko_error **err)
{
  memset (m, 0, sizeof *m);
  return ko_net_iface_decode (body, &m->iface, err);
}

int
ko_msg_update_routes_encode (struct ko_buf *b,
                             const struct ko_msg_update_routes *m)
{
  int r = 0;
  if (m->nroutes > KO_NET_MAX_ROUTES)
    return -1;
  for (size_t i = 0; i < m->nroutes; i++)
    r |= ko_net_route_encode (b, KO_TAG_ROUTE, &m->routes[i]);
  return r ? -1 : 0;
}

int
ko_msg_update_routes_decode (struct ko_tlv body, struct ko_msg_update_routes *m,
                             ko_error **err)
{
  struct ko_field f;
  int n;
  m->nroutes = 0;
  while ((n = ko_tlv_next (&body, &f)) > 0)
    {
      if (f.tag != KO_TAG_ROUTE)
        continue;
      if (m->nroutes == KO_NET_MAX_ROUTES)
        return ko_error_setx (err, EPROTO, "more than %d routes",
                              KO_NET_MAX_ROUTES);
      if (ko_net_route_decode (&f, &m->routes[m->nroutes], err) < 0)
        {
          m->nroutes = 0;
          return -1;
        }
      m->nroutes++;
    }
  if (n < 0)
    {
      m->nroutes = 0;
      return ko_error_setx (err, EPROTO, "truncated field");
    }
  return 0;
}

/* ---- ListProcesses and StatsContainer replies ---- */

int
ko_msg_list_processes_reply_encode (struct ko_buf *b,
                                    const struct ko_msg_list_processes_reply *m)
{
  int r = 0;
  if (m->npids > KO_MAX_PIDS)
    return -1;
  for (size_t i = 0; i < m->npids; i++)
    r |= ko_tlv_put_u32 (b, KO_TAG_PID, m->pids[i]);
  return r ? -1 : 0;
}

int
ko_msg_list_processes_reply_decode (struct ko_tlv body,
                                    struct ko_msg_list_processes_reply *m,
                                    ko_error **err)
{
  struct ko_field f;
  size_t cap = 0;
  int n;
  memset (m, 0, sizeof *m);
  while ((n = ko_tlv_next (&body, &f)) > 0)
    {
      if (f.tag != KO_TAG_PID)
        continue;
      if (field_len (&f, "pid", 4, err) < 0)
        goto fail;
      if (m->npids == KO_MAX_PIDS)
        {
          ko_error_setx (err, EPROTO, "more than %d pids", KO_MAX_PIDS);
          goto fail;
        }
      if (m->npids == cap)
        {
          cap = cap ? 2 * cap : 64;
          uint32_t *v = realloc (m->pids, cap * sizeof *v);
          if (v == NULL)
            {
              ko_error_set (err, ENOMEM, "pids");
              goto fail;
            }
          m->pids = v;
        }
      ko_field_u32 (&f, &m->pids[m->npids++]);
    }
  if (n == 0)
    return 0;
  ko_error_setx (err, EPROTO, "truncated field");
fail:
  ko_msg_list_processes_reply_clear (m);
  return -1;
}

void
ko_msg_list_processes_reply_clear (struct ko_msg_list_processes_reply *m)
{
  if (m == NULL)
    return;
  free (m->pids);
  memset (m, 0, sizeof *m);
}

void
ko_msg_stats_set (struct ko_msg_stats_container_reply *m, uint16_t tag,
                  uint64_t v)
{
  if (tag < KO_TAG_STAT_CPU_USAGE_NS || tag > KO_TAG_STAT_OOM_KILLS)
    return;
  m->v[tag - KO_TAG_STAT_CPU_USAGE_NS] = v;
  m->has |= KO_STAT_BIT (tag);
}

int
ko_msg_stats_container_reply_encode (
    struct ko_buf *b, const struct ko_msg_stats_container_reply *m)
{
  int r = 0;
  for (unsigned i = 0; i < KO_STATS_N; i++)
    if (m->has & (1u << i))
      r |= ko_tlv_put_u64 (b, KO_TAG_STAT_CPU_USAGE_NS + i, m->v[i]);
  return r ? -1 : 0;
}

int
ko_msg_stats_container_reply_decode (struct ko_tlv body,
                                     struct ko_msg_stats_container_reply *m,
                                     ko_error **err)
{
  struct ko_field f;
  int n;
  memset (m, 0, sizeof *m);
  while ((n = ko_tlv_next (&body, &f)) > 0)
    {
      if (f.tag < KO_TAG_STAT_CPU_USAGE_NS || f.tag > KO_TAG_STAT_OOM_KILLS)
        continue;
      uint64_t v;
      if (ko_field_u64 (&f, &v) < 0)
        {
          memset (m, 0, sizeof *m);
          return ko_error_setx (err, EPROTO,
                                "statistic %u: %u bytes, "
                                "expected 8",
                                f.tag, f.len);
        }
      ko_msg_stats_set (m, f.tag, v);
    }
  if (n < 0)
    {
      memset (m, 0, sizeof *m);
      return ko_error_setx (err, EPROTO, "truncated field");
    }
  return 0;
}

/* ---- credit ---- */

int
ko_msg_credit_encode (struct ko_buf *b, const struct ko_msg_credit *m)
{
  return ko_buf_put_u32 (b, m->bytes);
}

int
ko_msg_credit_decode (struct ko_tlv payload, struct ko_msg_credit *m,
                      ko_error **err)
{
  if (payload.left != 4)
    return ko_error_setx (err, EPROTO, "credit: %zu bytes, expected 4",
                          payload.left);
  struct ko_field f = { .len = 4, .val = payload.p };
  ko_field_u32 (&f, &m->bytes);
  return 0;
}

/* ---- by method and by event ---- */

/* The flat requests' tables, by method; the others are decoded by their
 * own functions. */
static const struct mdesc *const request_d[] = {
  [KO_M_CREATE_SANDBOX] = &create_sandbox_d,
  [KO_M_START_CONTAINER] = &container_ref_d,
  [KO_M_EXEC_PROCESS] = &exec_process_d,
  [KO_M_SIGNAL_PROCESS] = &signal_process_d,
  [KO_M_WAIT_PROCESS] = &process_ref_d,
  [KO_M_CLOSE_STDIN] = &process_ref_d,
  [KO_M_TTY_WIN_RESIZE] = &tty_win_resize_d,
  [KO_M_LIST_PROCESSES] = &container_ref_d,
  [KO_M_STATS_CONTAINER] = &container_ref_d,
  [KO_M_PAUSE_CONTAINER] = &container_ref_d,
  [KO_M_RESUME_CONTAINER] = &container_ref_d,
  [KO_M_UPDATE_CONTAINER] = &update_container_d,
  [KO_M_DESTROY_SANDBOX] = &destroy_sandbox_d,
  [KO_M_ONLINE_CPU_MEM] = &online_cpu_mem_d,
};

static const struct mdesc *
request_desc (uint16_t method)
{
  return method < KO_ARRAY_SIZE (request_d) ? request_d[method] : NULL;
}

int
ko_msg_decode_request (uint16_t method, struct ko_tlv body,
                       union ko_msg_request *m, ko_error **err)
{
  const struct mdesc *d = request_desc (method);
  int r;
  if (d)
    r = decode_flat (body, d, m, err);
  else if (method == KO_M_CREATE_CONTAINER)
    r = ko_msg_create_container_decode (body, &m->create_container, err);
  else if (method == KO_M_UPDATE_INTERFACE)
    r = ko_msg_update_interface_decode (body, &m->update_interface, err);
  else if (method == KO_M_UPDATE_ROUTES)
    r = ko_msg_update_routes_decode (body, &m->update_routes, err);
  else
    return ko_error_setx (err, ENOSYS, "method %u: no such request", method);
  return r < 0 ? ko_error_wrap (err, "%s", ko_method_name (method)) : 0;
}

void
ko_msg_request_clear (uint16_t method, union ko_msg_request *m)
{
  const struct mdesc *d = request_desc (method);
  if (d)
    clear_fields (d, m);
  else if (method == KO_M_CREATE_CONTAINER)
    ko_msg_create_container_clear (&m->create_container);
}

int
ko_msg_decode_reply (uint16_t method, struct ko_tlv body, union ko_msg_reply *m,
                     ko_error **err)
{
  int r;
  switch (method)
    {
    case KO_M_CREATE_CONTAINER:
    case KO_M_EXEC_PROCESS:
      r = ko_msg_pid_reply_decode (body, &m->pid, err);
      break;
    case KO_M_WAIT_PROCESS:
      r = ko_msg_wait_process_reply_decode (body, &m->wait_process, err);
      break;
    case KO_M_LIST_PROCESSES:
      r = ko_msg_list_processes_reply_decode (body, &m->list_processes, err);
      break;
    case KO_M_STATS_CONTAINER:
      r = ko_msg_stats_container_reply_decode (body, &m->stats_container, err);
      break;
    default:
      {
        struct ko_field f;
        int n;
        memset (m, 0, sizeof *m);
        while ((n = ko_tlv_next (&body, &f)) > 0)
          ;
        r = n < 0 ? ko_error_setx (err, EPROTO, "truncated field") : 0;
      }
    }
  return r < 0 ? ko_error_wrap (err, "%s reply", ko_method_name (method)) : 0;
}

void
ko_msg_reply_clear (uint16_t method, union ko_msg_reply *m)
{
  if (method == KO_M_LIST_PROCESSES)
    ko_msg_list_processes_reply_clear (&m->list_processes);
}

const char *
ko_event_name (uint16_t event)
{
  switch (event)
    {
    case KO_E_HELLO:
      return "Hello";
    case KO_E_PROCESS_EXITED:
      return "ProcessExited";
    case KO_E_OOM:
      return "Oom";
    default:
      return "Unknown";
    }
}

int
ko_msg_decode_event (uint16_t event, struct ko_tlv body, union ko_msg_event *m,
                     ko_error **err)
{
  int r;
  switch (event)
    {
    case KO_E_HELLO:
      r = ko_msg_hello_decode (body, &m->hello, err);
      break;
    case KO_E_PROCESS_EXITED:
      r = ko_msg_process_exited_decode (body, &m->process_exited, err);
      break;
    case KO_E_OOM:
      r = ko_msg_oom_decode (body, &m->oom, err);
      break;
    default:
      return ko_error_setx (err, ENOSYS, "event %u: unknown", event);
    }
  return r < 0 ? ko_error_wrap (err, "%s", ko_event_name (event)) : 0;
}

void
ko_msg_event_clear (uint16_t event, union ko_msg_event *m)
{
  switch (event)
    {
    case KO_E_HELLO:
      ko_msg_hello_clear (&m->hello);
      break;
    case KO_E_PROCESS_EXITED:
      ko_msg_process_exited_clear (&m->process_exited);
      break;
    case KO_E_OOM:
      ko_msg_oom_clear (&m->oom);
      break;
    default:
      break;
    }
}
