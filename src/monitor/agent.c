/* Calls to the guest agent. Each request gets an id and a completion;
 * replies are matched by id, each call has its own deadline, and when the
 * channel or the VM goes, every outstanding call fails. Nothing waits:
 * the loop goes on serving everything else meanwhile. */
#include "config.h"

#include "log.h"
#include "sandbox.h"
#include "util.h"

#include <errno.h>
#include <string.h>

static void calls_rearm (struct sandbox *sb);

static void
call_complete (struct sandbox *sb, struct agent_call *c, struct ko_tlv body,
               const ko_error *err)
{
  c->cb (sb, c->ctx, body, err);
  free (c);
}

static struct agent_call *
call_unlink (struct sandbox *sb, uint32_t id)
{
  for (struct agent_call **pp = &sb->calls; *pp; pp = &(*pp)->next)
    if ((*pp)->id == id)
      {
        struct agent_call *c = *pp;
        *pp = c->next;
        return c;
      }
  return NULL;
}

static void
calls_on_timer (struct ko_timer *t)
{
  struct sandbox *sb = t->data;
  uint64_t now = ko_now_ms ();
  for (;;)
    {
      struct agent_call *c = sb->calls;
      while (c && c->deadline > now)
        c = c->next;
      if (c == NULL)
        break;
      call_unlink (sb, c->id);
      _cleanup_error_ ko_error *err = NULL;
      ko_error_setx (&err, ETIMEDOUT, "%s: no answer from the agent after %d s",
                     ko_method_name (c->method), c->timeout_ms / 1000);
      struct ko_tlv none = { NULL, 0 };
      call_complete (sb, c, none, err);
    }
  calls_rearm (sb);
}

static void
calls_rearm (struct sandbox *sb)
{
  if (sb->calls_timer.loop == NULL)
    ko_timer_init (&sb->calls_timer, &sb->loop, calls_on_timer, sb);
  uint64_t first = UINT64_MAX;
  for (struct agent_call *c = sb->calls; c; c = c->next)
    if (c->deadline < first)
      first = c->deadline;
  if (first == UINT64_MAX)
    ko_timer_cancel (&sb->calls_timer);
  else
    ko_timer_arm (&sb->calls_timer, first);
}

int
agent_call (struct sandbox *sb, uint16_t method, const struct ko_buf *body,
            int timeout_ms, agent_done_cb cb, void *ctx, ko_error **err)
{
  if (!sandbox_alive (sb))
    return ko_error_setx (err, EPIPE, "%s: the VM is gone",
                          ko_method_name (method));
  struct agent_call *c = calloc (1, sizeof *c);
  if (c == NULL)
    return ko_error_set (err, ENOMEM, "%s", ko_method_name (method));
  c->id = ++sb->next_id;
  if (c->id == 0) /* 0 is for requests whose reply nobody reads */
    c->id = ++sb->next_id;
  c->method = method;
  c->deadline = ko_now_ms () + (uint64_t)timeout_ms;
  c->timeout_ms = timeout_ms;
  c->cb = cb;
  c->ctx = ctx;
  if (ko_request_append (&sb->mux.out, c->id, method, body) < 0)
    {
      free (c);
      return ko_error_set (err, ENOMEM, "%s", ko_method_name (method));
    }
  c->next = sb->calls;
  sb->calls = c;
  calls_rearm (sb);
  mux_flush (sb);
  return 0;
}

void
agent_send (struct sandbox *sb, uint16_t method, const struct ko_buf *body)
{
  if (!sandbox_alive (sb))
    return;
  if (ko_request_append (&sb->mux.out, 0, method, body) < 0)
    return mux_fail (sb, "out of memory queueing a request");
  mux_flush (sb);
}

void
agent_on_reply (struct sandbox *sb, uint32_t id, uint32_t status,
                struct ko_tlv body)
{
  struct agent_call *c = id ? call_unlink (sb, id) : NULL;
  if (c == NULL)
    return; /* fire and forget, or one that timed out */
  calls_rearm (sb);
  if (status == 0)
    return call_complete (sb, c, body, NULL);
  _cleanup_free_ char *msg = ko_reply_error_message (body);
  _cleanup_error_ ko_error *err = NULL;
  ko_error_setx (&err, status < 4096 ? (int)status : EIO, "%s",
                 msg ? msg : "agent error");
  call_complete (sb, c, body, err);
}

void
agent_fail_all (struct sandbox *sb, int status, const char *why)
{
  while (sb->calls)
    {
      struct agent_call *c = sb->calls;
      sb->calls = c->next;
      _cleanup_error_ ko_error *err = NULL;
      ko_error_setx (&err, status, "%s: %s", ko_method_name (c->method), why);
      struct ko_tlv none = { NULL, 0 };
      call_complete (sb, c, none, err);
    }
  calls_rearm (sb);
}

/* ---------- synchronous calls, for setup ---------- */

struct sync_call
{
  bool done;
  struct ko_buf *reply;
  ko_error *err;
};

static void
sync_done (struct sandbox *sb, void *ctx, struct ko_tlv reply,
           const ko_error *err)
{
  struct sync_call *s = ctx;
  (void)sb;
  s->done = true;
  if (err)
    ko_error_setx (&s->err, err->status, "%s", err->msg);
  else if (s->reply)
    ko_buf_append (s->reply, reply.p, reply.left);
}

int
agent_call_sync (struct sandbox *sb, uint16_t method, const struct ko_buf *body,
                 struct ko_buf *reply, ko_error **err)
{
  struct sync_call s = { .reply = reply };
  if (sb->serving)
    return ko_error_setx (err, EDEADLK,
                          "%s: a synchronous call while "
                          "serving",
                          ko_method_name (method));
  if (agent_call (sb, method, body, MON_CALL_TIMEOUT_MS, sync_done, &s, err)
      < 0)
    return -1;
  /* the call's own deadline ends it: never past it */
  sandbox_wait (sb, &s.done, UINT64_MAX);
  if (!s.done)
    {
      /* the loop broke down: the call is still registered with &s */
      agent_fail_all (sb, EIO, "the monitor's loop failed");
    }
  if (s.err)
    {
      *err = s.err;
      return -1;
    }
  return 0;
}

/* ---------- events ---------- */

static void
on_process_exited (struct sandbox *sb, struct ko_tlv body)
{
  struct ko_field f;
  _cleanup_free_ char *cid = NULL, *eid = NULL;
  uint32_t status = 0;
  bool have_status = false, bad = false;
  int r;
  while ((r = ko_tlv_next (&body, &f)) > 0)
    {
      if (f.tag == KO_TAG_CONTAINER_ID && cid == NULL)
        bad |= ko_field_str (&f, &cid) < 0;
      else if (f.tag == KO_TAG_EXEC_ID && eid == NULL)
        bad |= ko_field_str (&f, &eid) < 0;
      else if (f.tag == KO_TAG_STATUS)
        have_status = ko_field_u32 (&f, &status) == 0;
    }
  if (r < 0 || !have_status || bad)
    return mux_fail (sb, "malformed ProcessExited event");
  struct container *c = sandbox_container (sb, cid);
  if (c)
    ctr_on_exit (c, eid, status);
}

void
agent_on_event (struct sandbox *sb, uint16_t event, struct ko_tlv body)
{
  struct ko_field f;
  if (event == KO_E_HELLO)
    {
      while (ko_tlv_next (&body, &f) > 0)
        if (f.tag == KO_TAG_VERSION)
          ko_field_u32 (&f, &sb->agent_version);
      sb->hello = true;
      return;
    }
  if (event == KO_E_PROCESS_EXITED)
    return on_process_exited (sb, body);
  if (event == KO_E_OOM)
    {
      _cleanup_free_ char *cid = NULL;
      while (cid == NULL && ko_tlv_next (&body, &f) > 0)
        if (f.tag == KO_TAG_CONTAINER_ID && ko_field_str (&f, &cid) < 0)
          return;
      struct container *c = sandbox_container (sb, cid);
      if (c)
        ctr_on_oom (c);
    }
}
