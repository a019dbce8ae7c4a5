#include "proto.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void
ko_frame_hdr_encode (uint8_t out[KO_FRAME_HDR_SIZE],
                     const struct ko_frame_hdr *h)
{
  ko_put_le32 (out, h->stream);
  out[4] = h->type;
  out[5] = h->flags;
  ko_put_le16 (out + 6, 0);
  ko_put_le32 (out + 8, h->len);
}

int
ko_frame_hdr_decode (const uint8_t in[KO_FRAME_HDR_SIZE],
                     struct ko_frame_hdr *h, ko_error **err)
{
  struct ko_frame_hdr t = {
    .stream = ko_get_le32 (in),
    .type = in[4],
    .flags = in[5],
    .len = ko_get_le32 (in + 8),
  };
  if (ko_get_le16 (in + 6) != 0)
    return ko_error_setx (err, EPROTO, "frame: reserved bits set");
  switch (t.type)
    {
    case KO_FRAME_REQUEST:
    case KO_FRAME_REPLY:
    case KO_FRAME_EVENT:
      if (t.stream != 0)
        return ko_error_setx (err, EPROTO, "frame: control frame on stream %u",
                              t.stream);
      if (t.len > KO_FRAME_MAX_PAYLOAD)
        return ko_error_setx (err, EPROTO, "frame: length %u exceeds %u", t.len,
                              KO_FRAME_MAX_PAYLOAD);
      break;
    case KO_FRAME_DATA:
      if (t.stream == 0)
        return ko_error_setx (err, EPROTO, "frame: data on stream 0");
      if (t.len > KO_DATA_MAX_PAYLOAD)
        return ko_error_setx (err, EPROTO, "frame: data length %u exceeds %u",
                              t.len, KO_DATA_MAX_PAYLOAD);
      break;
    case KO_FRAME_CREDIT:
      if (t.stream == 0)
        return ko_error_setx (err, EPROTO, "frame: credit on stream 0");
      if (t.len != 4)
        return ko_error_setx (err, EPROTO, "frame: credit length %u", t.len);
      break;
    default:
      return ko_error_setx (err, EPROTO, "frame: unknown type %u", t.type);
    }
  *h = t;
  return 0;
}

void
ko_buf_free (struct ko_buf *b)
{
  if (b == NULL)
    return;
  free (b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

int
ko_buf_reserve (struct ko_buf *b, size_t more)
{
  if (b->len + more < b->len)
    return -1;
  if (b->len + more <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + more)
    cap *= 2;
  uint8_t *p = realloc (b->data, cap);
  if (p == NULL)
    return -1;
  b->data = p;
  b->cap = cap;
  return 0;
}

int
ko_buf_append (struct ko_buf *b, const void *p, size_t n)
{
  if (ko_buf_reserve (b, n) < 0)
    return -1;
  if (n)
    memcpy (b->data + b->len, p, n);
  b->len += n;
  return 0;
}

int
ko_buf_put_u16 (struct ko_buf *b, uint16_t v)
{
  uint8_t t[2];
  ko_put_le16 (t, v);
  return ko_buf_append (b, t, 2);
}

int
ko_buf_put_u32 (struct ko_buf *b, uint32_t v)
{
  uint8_t t[4];
  ko_put_le32 (t, v);
  return ko_buf_append (b, t, 4);
}

int
ko_tlv_put_bytes (struct ko_buf *b, uint16_t tag, const void *p, size_t n)
{
  if (n > UINT32_MAX || ko_buf_reserve (b, 6 + n) < 0)
    return -1;
  ko_buf_put_u16 (b, tag);
  ko_buf_put_u32 (b, (uint32_t)n);
  return ko_buf_append (b, p, n);
}

int
ko_tlv_put_str (struct ko_buf *b, uint16_t tag, const char *s)
{
  if (s == NULL)
    return 0;
  return ko_tlv_put_bytes (b, tag, s, strlen (s));
}

int
ko_tlv_put_u32 (struct ko_buf *b, uint16_t tag, uint32_t v)
{
  uint8_t t[4];
  ko_put_le32 (t, v);
  return ko_tlv_put_bytes (b, tag, t, 4);
}

int
ko_tlv_put_u64 (struct ko_buf *b, uint16_t tag, uint64_t v)
{
  uint8_t t[8];
  ko_put_le64 (t, v);
  return ko_tlv_put_bytes (b, tag, t, 8);
}

size_t
ko_tlv_begin (struct ko_buf *b, uint16_t tag)
{
  size_t off = b->len;
  if (ko_buf_put_u16 (b, tag) < 0 || ko_buf_put_u32 (b, 0) < 0)
    return (size_t)-1;
  return off;
}

void
ko_tlv_end (struct ko_buf *b, size_t off)
{
  if (off == (size_t)-1 || off + 6 > b->len)
    return;
  ko_put_le32 (b->data + off + 2, (uint32_t)(b->len - off - 6));
}

int
ko_frame_append (struct ko_buf *b, uint32_t stream, uint8_t type,
                 const void *payload, size_t len)
{
  if (len > KO_FRAME_MAX_PAYLOAD)
    return -1;
  uint8_t hdr[KO_FRAME_HDR_SIZE];
  struct ko_frame_hdr h
      = { .stream = stream, .type = type, .len = (uint32_t)len };
  ko_frame_hdr_encode (hdr, &h);
  if (ko_buf_reserve (b, sizeof hdr + len) < 0)
    return -1;
  ko_buf_append (b, hdr, sizeof hdr);
  return ko_buf_append (b, payload, len);
}

/* Control frames: a small fixed prefix, then the TLV body. */
static int
control_append (struct ko_buf *b, uint8_t type, const uint8_t *prefix,
                size_t plen, const struct ko_buf *body)
{
  size_t blen = body ? body->len : 0;
  if (plen + blen > KO_FRAME_MAX_PAYLOAD)
    return -1;
  uint8_t hdr[KO_FRAME_HDR_SIZE];
  struct ko_frame_hdr h = { .stream = 0, .type = type, .len = plen + blen };
  ko_frame_hdr_encode (hdr, &h);
  if (ko_buf_reserve (b, sizeof hdr + plen + blen) < 0)
    return -1;
  ko_buf_append (b, hdr, sizeof hdr);
  ko_buf_append (b, prefix, plen);
  return ko_buf_append (b, body ? body->data : NULL, blen);
}

int
ko_request_append (struct ko_buf *b, uint32_t id, uint16_t method,
                   const struct ko_buf *body)
{
  uint8_t p[6];
  ko_put_le32 (p, id);
  ko_put_le16 (p + 4, method);
  return control_append (b, KO_FRAME_REQUEST, p, sizeof p, body);
}

int
ko_reply_append (struct ko_buf *b, uint32_t id, uint32_t status,
                 const struct ko_buf *body)
{
  uint8_t p[8];
  ko_put_le32 (p, id);
  ko_put_le32 (p + 4, status);
  return control_append (b, KO_FRAME_REPLY, p, sizeof p, body);
}

int
ko_reply_error_append (struct ko_buf *b, uint32_t id, uint32_t status,
                       const char *msg)
{
  struct ko_buf body = { 0 };
  size_t n = strlen (msg ? msg : "");
  if (n > KO_MAX_STRING)
    n = KO_MAX_STRING;
  int r = ko_tlv_put_bytes (&body, KO_TAG_ERROR, msg ? msg : "", n);
  if (r == 0)
    r = ko_reply_append (b, id, status ? status : EIO, &body);
  ko_buf_free (&body);
  return r;
}

int
ko_event_append (struct ko_buf *b, uint16_t event, const struct ko_buf *body)
{
  uint8_t p[2];
  ko_put_le16 (p, event);
  return control_append (b, KO_FRAME_EVENT, p, sizeof p, body);
}

int
ko_tlv_next (struct ko_tlv *r, struct ko_field *f)
{
  if (r->left == 0)
    return 0;
  if (r->left < 6)
    return -1;
  uint32_t len = ko_get_le32 (r->p + 2);
  if (len > r->left - 6)
    return -1;
  f->tag = ko_get_le16 (r->p);
  f->len = len;
  f->val = r->p + 6;
  r->p += 6 + (size_t)len;
  r->left -= 6 + (size_t)len;
  return 1;
}

int
ko_field_u32 (const struct ko_field *f, uint32_t *out)
{
  if (f->len != 4)
    return -1;
  *out = ko_get_le32 (f->val);
  return 0;
}

int
ko_field_u64 (const struct ko_field *f, uint64_t *out)
{
  if (f->len != 8)
    return -1;
  *out = ko_get_le64 (f->val);
  return 0;
}

int
ko_field_str (const struct ko_field *f, char **out)
{
  if (f->len > KO_MAX_STRING || memchr (f->val, 0, f->len) != NULL)
    return -1;
  char *s = malloc (f->len + 1);
  if (s == NULL)
    return -1;
  memcpy (s, f->val, f->len);
  s[f->len] = '\0';
  *out = s;
  return 0;
}

struct ko_tlv
ko_field_nested (const struct ko_field *f)
{
  struct ko_tlv r = { .p = f->val, .left = f->len };
  return r;
}

int
ko_parse_request (const uint8_t *p, size_t n, uint32_t *id, uint16_t *method,
                  struct ko_tlv *body)
{
  if (n < 6)
    return -1;
  *id = ko_get_le32 (p);
  *method = ko_get_le16 (p + 4);
  body->p = p + 6;
  body->left = n - 6;
  return 0;
}

int
ko_parse_reply (const uint8_t *p, size_t n, uint32_t *id, uint32_t *status,
                struct ko_tlv *body)
{
  if (n < 8)
    return -1;
  *id = ko_get_le32 (p);
  *status = ko_get_le32 (p + 4);
  body->p = p + 8;
  body->left = n - 8;
  return 0;
}

int
ko_parse_event (const uint8_t *p, size_t n, uint16_t *event,
                struct ko_tlv *body)
{
  if (n < 2)
    return -1;
  *event = ko_get_le16 (p);
  body->p = p + 2;
  body->left = n - 2;
  return 0;
}

const char *
ko_method_name (uint16_t method)
{
  static const char *const names[] = {
    [KO_M_CREATE_SANDBOX] = "CreateSandbox",
    [KO_M_CREATE_CONTAINER] = "CreateContainer",
    [KO_M_START_CONTAINER] = "StartContainer",
    [KO_M_EXEC_PROCESS] = "ExecProcess",
    [KO_M_SIGNAL_PROCESS] = "SignalProcess",
    [KO_M_WAIT_PROCESS] = "WaitProcess",
    [KO_M_WRITE_STDIN] = "WriteStdin",
    [KO_M_CLOSE_STDIN] = "CloseStdin",
    [KO_M_TTY_WIN_RESIZE] = "TtyWinResize",
    [KO_M_LIST_PROCESSES] = "ListProcesses",
    [KO_M_STATS_CONTAINER] = "StatsContainer",
    [KO_M_PAUSE_CONTAINER] = "PauseContainer",
    [KO_M_RESUME_CONTAINER] = "ResumeContainer",
    [KO_M_UPDATE_CONTAINER] = "UpdateContainer",
    [KO_M_UPDATE_INTERFACE] = "UpdateInterface",
    [KO_M_UPDATE_ROUTES] = "UpdateRoutes",
    [KO_M_DESTROY_SANDBOX] = "DestroySandbox",
    [KO_M_ONLINE_CPU_MEM] = "OnlineCPUMem",
    [KO_M_REMOVE_CONTAINER] = "RemoveContainer",
    [KO_M_GUEST_METRICS] = "GuestMetrics",
  };
  if (method < (sizeof names / sizeof names[0]) && names[method])
    return names[method];
  return "Unknown";
}
