/* Messages described by a table of their fields (msg-fields.h): one
 * encoder, one decoder and one clear for all of them. */
#include "msg-fields.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool *
has_flag (const struct fdesc *f, const void *m)
{
  return f->has ? (bool *)((char *)m + f->has - 1) : NULL;
}

int
ko_fields_encode_big (struct ko_buf *b, const struct fdesc *f, const void *p)
{
  return f->kind == K_PROCESS ? ko_process_encode (b, f->tag, p)
                              : ko_resources_encode (b, f->tag, p);
}

int
ko_fields_encode (struct ko_buf *b, const struct mdesc *d, const void *m,
                  ko_fields_nested_fn nested)
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

int
ko_fields_str (const struct ko_field *f, const char *name, char **out,
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

int
ko_fields_len (const struct ko_field *f, const char *name, uint32_t want,
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
      if (ko_fields_str (f, d->name, &s, err) < 0)
        return -1;
      free (*(char **)p);
      *(char **)p = s;
      break;
    case K_U32:
    case K_BOOL:
      if (ko_fields_len (f, d->name, 4, err) < 0)
        return -1;
      ko_field_u32 (f, &u);
      if (d->kind == K_BOOL)
        *(bool *)p = u != 0;
      else
        *(uint32_t *)p = u;
      break;
    case K_U64:
      if (ko_fields_len (f, d->name, 8, err) < 0)
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

/* Zeroes *m, then fills it. On failure the caller clears it. */
int
ko_fields_decode (struct ko_tlv body, const struct mdesc *d, void *m,
                  ko_fields_extra_fn extra, ko_error **err)
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

/* A whole flat message: on failure it is left cleared. */
int
ko_fields_decode_flat (struct ko_tlv body, const struct mdesc *d, void *m,
                       ko_error **err)
{
  if (ko_fields_decode (body, d, m, NULL, err) == 0)
    return 0;
  ko_fields_clear (d, m);
  return -1;
}

void
ko_fields_clear (const struct mdesc *d, void *m)
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
