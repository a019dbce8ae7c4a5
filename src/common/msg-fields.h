/* Inside the typed messages (msg.c, msg-container.c): a message described
 * by a table of its fields gets its encoder, decoder and clear from the
 * functions here, so that every message gets the same checks. Not for use
 * outside src/common/msg*.c. */
#ifndef KO_MSG_FIELDS_H
#define KO_MSG_FIELDS_H

#include "msg.h"

#include <stddef.h>

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

/* Encodes a nested process or resources field: passed in by the few
 * encoders that have one, so that a binary that never sends one (the agent)
 * does not link their encoders. */
typedef int (*ko_fields_nested_fn) (struct ko_buf *b, const struct fdesc *f,
                                    const void *p);

/* A field the table does not name: 0 when taken, -1 on error; unknown tags
 * are the extra function's to skip. */
typedef int (*ko_fields_extra_fn) (void *m, const struct ko_field *f,
                                   ko_error **err);

/* Encodes the fields of m in table order; nested: the encoder of process
 * and resources fields (ko_fields_encode_big), NULL when m has none. */
int ko_fields_encode (struct ko_buf *b, const struct mdesc *d, const void *m,
                      ko_fields_nested_fn nested);
int ko_fields_encode_big (struct ko_buf *b, const struct fdesc *f,
                          const void *p);
/* Zeroes *m, then fills it from body; extra takes the fields the table
 * does not name (NULL: skipped). On failure the caller clears m. */
int ko_fields_decode (struct ko_tlv body, const struct mdesc *d, void *m,
                      ko_fields_extra_fn extra, ko_error **err);
/* ko_fields_decode without extra; on failure m is left cleared. */
int ko_fields_decode_flat (struct ko_tlv body, const struct mdesc *d, void *m,
                           ko_error **err);
/* Frees what the table's fields own and zeroes m (NULL accepted). */
void ko_fields_clear (const struct mdesc *d, void *m);
/* A string field: bounded, without NUL, copied into *out. */
int ko_fields_str (const struct ko_field *f, const char *name, char **out,
                   ko_error **err);
/* Fails unless the field has want bytes. */
int ko_fields_len (const struct ko_field *f, const char *name, uint32_t want,
                   ko_error **err);

#endif
