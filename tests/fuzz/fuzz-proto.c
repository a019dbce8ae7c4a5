/* Fuzzes the host-side decoding of what the guest sends: a byte stream cut
 * into frames, each control payload split and its TLV body walked, process
 * descriptions and id maps decoded. Nothing may crash, overread or leak. */
#include "proto.h"

#include <stdlib.h>
#include <string.h>

static void
walk (struct ko_tlv t, int depth)
{
  struct ko_field f;
  while (ko_tlv_next (&t, &f) > 0)
    {
      char *s = NULL;
      uint32_t u;
      uint64_t v;
      if (ko_field_str (&f, &s) == 0)
        free (s);
      ko_field_u32 (&f, &u);
      ko_field_u64 (&f, &v);
      if (f.tag == KO_TAG_PROCESS)
        {
          struct ko_process p;
          ko_error *err = NULL;
          if (ko_process_decode (&f, &p, &err) == 0)
            ko_process_clear (&p);
          ko_error_free (err);
        }
      else if (f.tag == KO_TAG_UID_MAP || f.tag == KO_TAG_GID_MAP)
        {
          struct ko_id_map m;
          ko_error *err = NULL;
          if (ko_id_map_decode (&f, &m, &err) == 0)
            ko_id_maps_check (&m, 1, "map", &err);
          ko_error_free (err);
        }
      else if (depth < 4)
        walk (ko_field_nested (&f), depth + 1);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  size_t off = 0;
  while (size - off >= KO_FRAME_HDR_SIZE)
    {
      struct ko_frame_hdr h;
      ko_error *err = NULL;
      if (ko_frame_hdr_decode (data + off, &h, &err) < 0)
        {
          ko_error_free (err);
          return 0;
        }
      if (size - off - KO_FRAME_HDR_SIZE < h.len)
        return 0;
      const uint8_t *p = data + off + KO_FRAME_HDR_SIZE;
      struct ko_tlv body;
      uint32_t id, status;
      uint16_t ev;
      if (h.type == KO_FRAME_REPLY
          && ko_parse_reply (p, h.len, &id, &status, &body) == 0)
        walk (body, 0);
      else if (h.type == KO_FRAME_EVENT
               && ko_parse_event (p, h.len, &ev, &body) == 0)
        walk (body, 0);
      else if (h.type == KO_FRAME_REQUEST
               && ko_parse_request (p, h.len, &id, &ev, &body) == 0)
        walk (body, 0);
      off += KO_FRAME_HDR_SIZE + h.len;
    }
  return 0;
}
