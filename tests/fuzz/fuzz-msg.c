/* Fuzzes the typed message decoders (msg.h) through exactly the functions
 * the daemons call: ko_msg_decode_request and ko_msg_request_clear, as the
 * agent's dispatch does for every request; ko_msg_decode_reply,
 * ko_msg_decode_event, ko_msg_reply_error and ko_msg_credit_decode, as the
 * monitor does for what the guest sends. Nothing may crash, overread or
 * leak, and whatever decodes must encode to bytes that decode and encode
 * to the same bytes again through ko_msg_encode_request, the monitor's
 * encoder.
 *
 * Input: a kind byte (0 request, 1 reply, 2 event, 3 error reply, 4
 * credit), a u16 method or event (little-endian), then the body. */
#include "msg.h"

#include <stdlib.h>
#include <string.h>

static int
encode_reply (struct ko_buf *b, uint16_t method, const union ko_msg_reply *m)
{
  switch (method)
    {
    case KO_M_CREATE_CONTAINER:
    case KO_M_EXEC_PROCESS:
      return ko_msg_pid_reply_encode (b, &m->pid);
    case KO_M_WAIT_PROCESS:
      return ko_msg_wait_process_reply_encode (b, &m->wait_process);
    case KO_M_LIST_PROCESSES:
      return ko_msg_list_processes_reply_encode (b, &m->list_processes);
    case KO_M_STATS_CONTAINER:
      return ko_msg_stats_container_reply_encode (b, &m->stats_container);
    case KO_M_GUEST_METRICS:
      return ko_msg_guest_metrics_reply_encode (b, &m->guest_metrics);
    default:
      return 0; /* no body */
    }
}

static int
encode_event (struct ko_buf *b, uint16_t event, const union ko_msg_event *m)
{
  switch (event)
    {
    case KO_E_HELLO:
      return ko_msg_hello_encode (b, &m->hello);
    case KO_E_PROCESS_EXITED:
      return ko_msg_process_exited_encode (b, &m->process_exited);
    case KO_E_OOM:
      return ko_msg_oom_encode (b, &m->oom);
    default:
      abort ();
    }
}

static void
same (const struct ko_buf *a, const struct ko_buf *b)
{
  if (a->len != b->len || (a->len && memcmp (a->data, b->data, a->len) != 0))
    abort (); /* the codec is not its own inverse */
}

/* decode -> encode (b1) -> decode -> encode (b2): b1 == b2 */
static void
request (uint16_t method, struct ko_tlv body)
{
  union ko_msg_request m;
  ko_error *err = NULL;
  struct ko_buf b1 = { 0 }, b2 = { 0 };
  if (ko_msg_decode_request (method, body, &m, &err) < 0)
    {
      ko_error_free (err);
      return;
    }
  if (ko_msg_encode_request (&b1, method, &m) < 0)
    abort ();
  ko_msg_request_clear (method, &m);
  struct ko_tlv again = { b1.data, b1.len };
  if (ko_msg_decode_request (method, again, &m, NULL) < 0)
    abort ();
  ko_msg_encode_request (&b2, method, &m);
  ko_msg_request_clear (method, &m);
  same (&b1, &b2);
  ko_buf_free (&b1);
  ko_buf_free (&b2);
}

static void
reply (uint16_t method, struct ko_tlv body)
{
  union ko_msg_reply m;
  ko_error *err = NULL;
  struct ko_buf b1 = { 0 }, b2 = { 0 };
  if (ko_msg_decode_reply (method, body, &m, &err) < 0)
    {
      ko_error_free (err);
      return;
    }
  if (encode_reply (&b1, method, &m) < 0)
    abort ();
  ko_msg_reply_clear (method, &m);
  struct ko_tlv again = { b1.data, b1.len };
  if (ko_msg_decode_reply (method, again, &m, NULL) < 0)
    abort ();
  encode_reply (&b2, method, &m);
  ko_msg_reply_clear (method, &m);
  same (&b1, &b2);
  ko_buf_free (&b1);
  ko_buf_free (&b2);
}

static void
event (uint16_t ev, struct ko_tlv body)
{
  union ko_msg_event m;
  ko_error *err = NULL;
  struct ko_buf b1 = { 0 }, b2 = { 0 };
  if (ko_msg_decode_event (ev, body, &m, &err) < 0)
    {
      ko_error_free (err);
      return;
    }
  if (encode_event (&b1, ev, &m) < 0)
    abort ();
  ko_msg_event_clear (ev, &m);
  struct ko_tlv again = { b1.data, b1.len };
  if (ko_msg_decode_event (ev, again, &m, NULL) < 0)
    abort ();
  encode_event (&b2, ev, &m);
  ko_msg_event_clear (ev, &m);
  same (&b1, &b2);
  ko_buf_free (&b1);
  ko_buf_free (&b2);
}

static void
error_reply (uint16_t status, struct ko_tlv body)
{
  struct ko_msg_error e;
  ko_error *err = NULL;
  if (ko_msg_error_decode (body, &e, &err) == 0)
    ko_msg_error_clear (&e);
  ko_error_free (err);
  err = NULL;
  ko_msg_reply_error (status, body, &err);
  if (err == NULL || err->msg == NULL)
    abort (); /* always an error with a message */
  for (const char *c = err->msg; *c; c++)
    if ((unsigned char)*c < 0x20)
      abort (); /* the guest's words are made printable */
  ko_error_free (err);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 3)
    return 0;
  uint16_t id = (uint16_t)(data[1] | data[2] << 8);
  struct ko_tlv body = { data + 3, size - 3 };
  switch (data[0] % 5)
    {
    case 0:
      request (id, body);
      break;
    case 1:
      reply (id, body);
      break;
    case 2:
      event (id, body);
      break;
    case 3:
      error_reply (id, body);
      break;
    case 4:
      {
        struct ko_msg_credit c;
        ko_error *err = NULL;
        ko_msg_credit_decode (body, &c, &err);
        ko_error_free (err);
        break;
      }
    }
  return 0;
}
