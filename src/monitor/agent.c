/* Calls to the guest agent. Each request gets an id and a completion;
 * replies are matched by id, each call has its own deadline, and when the
 * channel or the VM goes, every outstanding call fails. Nothing waits:
 * the loop goes on serving everything else meanwhile. Requests, replies
 * and events are the typed messages of msg.h: nothing here or in the
 * callers walks TLV fields. */
#include "config.h"

#include "log.h"
#include "sandbox.h"
#include "util.h"

#include <errno.h>
#include <string.h>

static void calls_rearm (struct sandbox *sb);

/* An answer (success or the guest's error) in the method's histogram. */
static void
latency_record (struct sandbox *sb, const struct agent_call *c)
{
  if (c->method >= KO_MON_MAX_METHODS)
    return;
  struct ko_mon_latency *l = &sb->lat[c->method];
  uint64_t ns = ko_now_ns () - c->sent_ns;
  l->method = c->method;
  l->count++;
  l->sum_ns += ns;
  for (unsigned k = 0; k < KO_MON_LAT_BUCKETS; k++)
    if (ns <= ko_mon_lat_bounds_us[k] * 1000)
      l->buckets[k]++;
}

static void
call_complete (struct sandbox *sb, struct agent_call *c,
               const union ko_msg_reply *reply, const ko_error *err)
{
  c->cb (sb, c->ctx, reply, err);
  free (c);
}

static void
call_fail (struct sandbox *sb, struct agent_call *c, int status,
           const char *why)
{
  _cleanup_error_ ko_error *err = NULL;
  ko_error_setx (&err, status, "%s: %s", ko_method_name (c->method), why);
  call_complete (sb, c, NULL, err);
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
      char why[64];
      snprintf (why, sizeof why, "no answer from the agent after %d s",
                c->timeout_ms / 1000);
      call_fail (sb, c, ETIMEDOUT, why);
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

/* Frames the request of method, encoded from its message, onto the
 * channel's queue. */
static int
queue_request (struct sandbox *sb, uint32_t id, uint16_t method,
               const union ko_msg_request *req, ko_error **err)
{
  _cleanup_buf_ struct ko_buf body = { 0 };
  if (ko_msg_encode_request (&body, method, req) < 0)
    return ko_error_setx (err, ENOMEM, "%s: cannot encode the request",
                          ko_method_name (method));
  if (ko_request_append (&sb->mux.out, id, method, &body) < 0)
    return ko_error_set (err, ENOMEM, "%s", ko_method_name (method));
  sb->chan[KO_CHAN_FRAMES_OUT]++;
  return 0;
}

int
agent_call (struct sandbox *sb, uint16_t method,
            const union ko_msg_request *req, int timeout_ms, agent_done_cb cb,
            void *ctx, ko_error **err)
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
  c->sent_ns = ko_now_ns ();
  c->deadline = ko_now_ms () + (uint64_t)timeout_ms;
  c->timeout_ms = timeout_ms;
  c->cb = cb;
  c->ctx = ctx;
  if (queue_request (sb, c->id, method, req, err) < 0)
    {
      free (c);
      return -1;
    }
  c->next = sb->calls;
  sb->calls = c;
  calls_rearm (sb);
  mux_flush (sb);
  return 0;
}

void
agent_send (struct sandbox *sb, uint16_t method,
            const union ko_msg_request *req)
{
  _cleanup_error_ ko_error *err = NULL;
  if (!sandbox_alive (sb))
    return;
  if (queue_request (sb, 0, method, req, &err) < 0)
    return mux_fail (sb, err->msg);
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
  latency_record (sb, c);
  _cleanup_error_ ko_error *err = NULL;
  if (status)
    {
      ko_msg_reply_error (status, body, &err);
      return call_complete (sb, c, NULL, err);
    }
  /* a malformed reply fails its call alone: the frames around it were
   * well-formed */
  union ko_msg_reply reply;
  uint16_t method = c->method;
  if (ko_msg_decode_reply (method, body, &reply, &err) < 0)
    return call_complete (sb, c, NULL, err);
  call_complete (sb, c, &reply, NULL);
  ko_msg_reply_clear (method, &reply);
}

void
agent_fail_all (struct sandbox *sb, int status, const char *why)
{
  while (sb->calls)
    {
      struct agent_call *c = sb->calls;
      sb->calls = c->next;
      call_fail (sb, c, status, why);
    }
  calls_rearm (sb);
}

/* ---------- synchronous calls, for setup ---------- */

struct sync_call
{
  bool done;
  ko_error *err;
};

static void
sync_done (struct sandbox *sb, void *ctx, const union ko_msg_reply *reply,
           const ko_error *err)
{
  struct sync_call *s = ctx;
  (void)sb;
  (void)reply;
  s->done = true;
  if (err)
    ko_error_setx (&s->err, err->status, "%s", err->msg);
}

int
agent_call_sync (struct sandbox *sb, uint16_t method,
                 const union ko_msg_request *req, ko_error **err)
{
  struct sync_call s = { 0 };
  if (sb->serving)
    return ko_error_setx (err, EDEADLK,
                          "%s: a synchronous call while "
                          "serving",
                          ko_method_name (method));
  if (agent_call (sb, method, req, MON_CALL_TIMEOUT_MS, sync_done, &s, err) < 0)
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

/* An event that does not decode: an unknown one is a newer agent's; a
 * Hello without a version is an agent of no version we speak (setup says
 * so); a lost exit would leave a container running forever in the host's
 * eyes. */
static void
on_bad_event (struct sandbox *sb, uint16_t event, const ko_error *err)
{
  log_debug ("container %s: agent event: %s", sb->p->id, err->msg);
  if (event == KO_E_HELLO)
    {
      sb->agent_version = 0;
      sb->hello = true;
    }
  else if (event == KO_E_PROCESS_EXITED)
    mux_fail (sb, err->msg);
}

void
agent_on_event (struct sandbox *sb, uint16_t event, struct ko_tlv body)
{
  union ko_msg_event m;
  _cleanup_error_ ko_error *err = NULL;
  if (ko_msg_decode_event (event, body, &m, &err) < 0)
    return on_bad_event (sb, event, err);
  struct container *c;
  switch (event)
    {
    case KO_E_HELLO:
      sb->agent_version = m.hello.version;
      sb->hello = true;
      sb->hello_ns = ko_now_ns ();
      break;
    case KO_E_PROCESS_EXITED:
      c = sandbox_container (sb, m.process_exited.container_id);
      if (c)
        ctr_on_exit (c, m.process_exited.exec_id, m.process_exited.status);
      break;
    case KO_E_OOM:
      c = sandbox_container (sb, m.oom.container_id);
      if (c)
        ctr_on_oom (c);
      break;
    case KO_E_NOTIFY:
      c = sandbox_container (sb, m.notify.container_id);
      if (c)
        ctr_on_notify (c, m.notify.data);
      break;
    }
  ko_msg_event_clear (event, &m);
}
