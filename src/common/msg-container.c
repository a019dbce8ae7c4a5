/* CreateContainer: its container-level fields (ko_container_spec) with
 * their lists, and the resources it shares with UpdateContainer. */
#include "msg-fields.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- resources ---- */

void
ko_resources_set (struct ko_resources *r, uint16_t tag, int64_t v)
{
  if (tag < KO_TAG_R_MEM_LIMIT || tag > KO_TAG_R_LAST
      || tag == KO_TAG_R_CPUSET_CPUS || tag == KO_TAG_R_CPUSET_MEMS
      || tag == KO_TAG_R_UNIFIED)
    return;
  r->v[tag - KO_TAG_R_MEM_LIMIT] = v;
  r->has |= KO_R_BIT (tag);
}

int
ko_resources_set_str (struct ko_resources *r, uint16_t tag, const char *s)
{
  char **dst = tag == KO_TAG_R_CPUSET_CPUS   ? &r->cpus
               : tag == KO_TAG_R_CPUSET_MEMS ? &r->mems
               : tag == KO_TAG_R_UNIFIED     ? &r->unified
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
      else if (t == KO_TAG_R_UNIFIED)
        rc |= ko_tlv_put_str (b, t, r->unified);
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
  if (g->tag == KO_TAG_R_CPUSET_CPUS || g->tag == KO_TAG_R_CPUSET_MEMS
      || g->tag == KO_TAG_R_UNIFIED)
    {
      char **dst = g->tag == KO_TAG_R_CPUSET_CPUS   ? &r->cpus
                   : g->tag == KO_TAG_R_CPUSET_MEMS ? &r->mems
                                                    : &r->unified;
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
    if (g.tag >= KO_TAG_R_MEM_LIMIT && g.tag <= KO_TAG_R_LAST
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
  free (r->unified);
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
  FIELD (T, M_DISK, K_STR, 0, disk, "disk"),
  FIELD (T, M_REC_ATTR, K_U64, NONZERO, rec_attr, "recursive attributes"),
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
  FIELD (T, D_DISK, K_STR, 0, disk, "disk"),
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
  FIELD (T, JOIN_CONTAINER, K_STR, 0, spec.join_container, "join container"),
  FIELD (T, JOIN_NS, K_U64, NONZERO, spec.join_ns, "join namespaces"),
  FIELD (T, TIME_OFFSETS, K_STR, 0, spec.time_offsets, "time offsets"),
  FIELD (T, NOTIFY, K_STR, 0, spec.notify, "notify"),
  FIELD (T, ROOTFS_DISK, K_STR, 0, spec.rootfs_disk, "rootfs disk"),
  FIELD (T, ROOTFS_DISK_TYPE, K_STR, 0, spec.rootfs_disk_type,
         "rootfs disk type"),
  FIELD (T, ROOTFS_DISK_DATA, K_STR, 0, spec.rootfs_disk_data,
         "rootfs disk data"),
  FIELD (T, ROOTFS_DISK_FLAGS, K_U64, NONZERO, spec.rootfs_disk_flags,
         "rootfs disk flags"),
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
  free (s->join_container);
  free (s->rootfs_disk);
  free (s->rootfs_disk_type);
  free (s->rootfs_disk_data);
  free (s->time_offsets);
  free (s->notify);
  for (size_t i = 0; i < s->nmounts; i++)
    ko_fields_clear (&mount_d, &s->mounts[i]);
  free (s->mounts);
  for (size_t i = 0; i < s->ndevices; i++)
    ko_fields_clear (&device_d, &s->devices[i]);
  free (s->devices);
  for (size_t i = 0; i < s->nsysctls; i++)
    ko_fields_clear (&sysctl_d, &s->sysctls[i]);
  free (s->sysctls);
  strv_clear (&s->masked, &s->nmasked);
  strv_clear (&s->readonly, &s->nreadonly);
  free (s->devfilter);
  strv_clear (&s->devfilter_disks, &s->ndevfilter_disks);
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
      ko_fields_clear (&mount_d, m);
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
      ko_fields_clear (&device_d, d);
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
      ko_fields_clear (&sysctl_d, kv);
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
  int r = ko_fields_encode (b, d, m, NULL);
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
  r |= ko_tlv_put_str (b, KO_TAG_JOIN_CONTAINER, s->join_container);
  if (s->join_ns)
    r |= ko_tlv_put_u64 (b, KO_TAG_JOIN_NS, s->join_ns);
  r |= ko_tlv_put_str (b, KO_TAG_TIME_OFFSETS, s->time_offsets);
  r |= ko_tlv_put_str (b, KO_TAG_NOTIFY, s->notify);
  if (s->devfilter)
    r |= ko_tlv_put_bytes (b, KO_TAG_DEVFILTER, s->devfilter, s->devfilter_len);
  r |= put_paths (b, KO_TAG_DEVFILTER_DISK, s->devfilter_disks,
                  s->ndevfilter_disks);
  r |= ko_tlv_put_str (b, KO_TAG_ROOTFS_DISK, s->rootfs_disk);
  r |= ko_tlv_put_str (b, KO_TAG_ROOTFS_DISK_TYPE, s->rootfs_disk_type);
  r |= ko_tlv_put_str (b, KO_TAG_ROOTFS_DISK_DATA, s->rootfs_disk_data);
  if (s->rootfs_disk_flags)
    r |= ko_tlv_put_u64 (b, KO_TAG_ROOTFS_DISK_FLAGS, s->rootfs_disk_flags);
  return r ? -1 : 0;
}

int
ko_msg_create_container_encode (struct ko_buf *b,
                                const struct ko_msg_create_container *m)
{
  if (ko_fields_encode (b, &create_container_head_d, m, ko_fields_encode_big)
      < 0)
    return -1;
  return ko_container_spec_encode (b, &m->spec);
}

/* Decodes a nested element of a table-described type into a new slot. */
static int
decode_nested (const struct ko_field *f, const struct mdesc *d, void *slot,
               const char *what, ko_error **err)
{
  if (ko_fields_decode (ko_field_nested (f), d, slot, NULL, err) == 0)
    return 0;
  ko_fields_clear (d, slot);
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

/* struct bpf_insn[]: whole instructions, bounded, at most once */
static int
set_devfilter (struct ko_container_spec *s, const struct ko_field *f,
               ko_error **err)
{
  if (s->devfilter || f->len == 0 || f->len % 8 != 0
      || f->len > 8 * KO_DEVFILTER_MAX_INSNS)
    return ko_error_setx (err, EPROTO,
                          "bad device program (%u bytes: whole 8-byte "
                          "instructions, at most %d, once)",
                          (unsigned)f->len, KO_DEVFILTER_MAX_INSNS);
  if ((s->devfilter = malloc (f->len)) == NULL)
    return ko_error_set (err, ENOMEM, "device program");
  memcpy (s->devfilter, f->val, f->len);
  s->devfilter_len = f->len;
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
      if (ko_fields_str (f, "path", &str, err) < 0)
        return -1;
      r = ko_container_spec_add_path (s, f->tag, str);
      break;
    case KO_TAG_DEVFILTER:
      return set_devfilter (s, f, err);
    case KO_TAG_DEVFILTER_DISK:
      if (s->ndevfilter_disks >= KO_DEVFILTER_MAX_DISKS)
        return ko_error_setx (err, EPROTO,
                              "device program: more than %d "
                              "disks",
                              KO_DEVFILTER_MAX_DISKS);
      if (ko_fields_str (f, "device program disk", &str, err) < 0)
        return -1;
      if (ko_strv_push (&s->devfilter_disks, &s->ndevfilter_disks, str) < 0)
        {
          free (str);
          return ko_error_set (err, ENOMEM, "device program");
        }
      return 0;
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
  if (ko_fields_decode (body, &create_container_d, m, create_container_list,
                        err)
      == 0)
    {
      if (*m->container_id != '\0')
        return 0;
      ko_error_setx (err, EINVAL, "no container id");
    }
  ko_msg_create_container_clear (m);
  return -1;
}

/* the spec's single fields: create_container_f after the message's own */
static const struct mdesc create_container_spec_d
    = { sizeof (struct ko_msg_create_container),
        KO_ARRAY_SIZE (create_container_f) - 4, create_container_f + 4 };

int
ko_container_spec_decode (struct ko_tlv body, struct ko_container_spec *s,
                          ko_error **err)
{
  struct ko_msg_create_container m;
  if (ko_fields_decode (body, &create_container_spec_d, &m,
                        create_container_list, err)
      < 0)
    {
      ko_msg_create_container_clear (&m);
      return -1;
    }
  *s = m.spec;
  return 0;
}

void
ko_msg_create_container_clear (struct ko_msg_create_container *m)
{
  if (m == NULL)
    return;
  ko_container_spec_clear (&m->spec);
  ko_fields_clear (&create_container_d, m);
}
