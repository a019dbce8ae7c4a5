/* The typed messages of msg.h. Most of them are flat: a table of their
 * fields drives one encoder, one decoder and one clear (msg-fields.c).
 * CreateContainer and the resources are in msg-container.c; the network
 * messages, the pid list, the statistics and the credit have their own
 * code here. */
#include "msg-fields.h"
#include "util.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* One encode / decode / clear per flat message, from its table. */
#define CODEC_ENCODE_WITH(name, desc, nested)                                  \
  int ko_msg_##name##_encode (struct ko_buf *b, const struct ko_msg_##name *m) \
  {                                                                            \
    return ko_fields_encode (b, &desc, m, nested);                             \
  }
#define CODEC_ENCODE(name, desc) CODEC_ENCODE_WITH (name, desc, NULL)
#define CODEC_DECODE(name, desc)                                               \
  int ko_msg_##name##_decode (struct ko_tlv body, struct ko_msg_##name *m,     \
                              ko_error **err)                                  \
  {                                                                            \
    return ko_fields_decode_flat (body, &desc, m, err);                        \
  }
#define CODEC_CLEAR(name, desc)                                                \
  void ko_msg_##name##_clear (struct ko_msg_##name *m)                         \
  {                                                                            \
    ko_fields_clear (&desc, m);                                                \
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
  CODEC_ENCODE_WITH (name, desc, ko_fields_encode_big)                         \
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

static const struct mdesc guest_metrics_d
    = { sizeof (struct ko_msg_guest_metrics), 0, NULL };
CODEC_PLAIN (guest_metrics, guest_metrics_d)

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

#define T struct ko_msg_notify
static const struct fdesc notify_f[] = {
  FIELD (T, CONTAINER_ID, K_STR, REQ, container_id, "container id"),
  FIELD (T, NOTIFY_DATA, K_STR, REQ, data, "data"),
};
static const struct mdesc notify_d = MDESC (T, notify_f);
#undef T
CODEC (notify, notify_d)

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
ko_ps_info_encode (struct ko_buf *b, const struct ko_ps_info *i)
{
  int r = 0;
  if (i->has_uid)
    r |= ko_tlv_put_u32 (b, KO_TAG_PS_UID, i->uid);
  if (i->stat)
    r |= ko_tlv_put_str (b, KO_TAG_PS_STAT, i->stat);
  if (i->cmd)
    r |= ko_tlv_put_str (b, KO_TAG_PS_CMD, i->cmd);
  return r ? -1 : 0;
}

int
ko_msg_list_processes_reply_encode (struct ko_buf *b,
                                    const struct ko_msg_list_processes_reply *m)
{
  int r = 0;
  if (m->npids > KO_MAX_PIDS)
    return -1;
  for (size_t i = 0; i < m->npids; i++)
    {
      r |= ko_tlv_put_u32 (b, KO_TAG_PID, m->pids[i]);
      if (m->info && i < KO_MAX_PS_INFO)
        r |= ko_ps_info_encode (b, &m->info[i]);
    }
  if (m->uptime_ms)
    r |= ko_tlv_put_u64 (b, KO_TAG_PS_UPTIME, m->uptime_ms);
  return r ? -1 : 0;
}

/* ps fields are short: a stat line is under 400 bytes, a command line is
 * cut by the agent */
#define PS_TEXT_MAX 4096

void
ko_ps_info_free (struct ko_ps_info *info, size_t n)
{
  for (size_t i = 0; info && i < n; i++)
    {
      free (info[i].stat);
      free (info[i].cmd);
    }
  free (info);
}

int
ko_ps_info_take (const struct ko_field *f, struct ko_ps_info **info, size_t n,
                 uint64_t *uptime_ms, ko_error **err)
{
  if (f->tag == KO_TAG_PS_UPTIME)
    return ko_fields_len (f, "ps uptime", 8, err) < 0
               ? -1
               : ko_field_u64 (f, uptime_ms);
  if (n == 0)
    return ko_error_setx (err, EPROTO, "ps: a field before any pid");
  if (n > KO_MAX_PS_INFO)
    return ko_error_setx (err, EPROTO, "ps: more than %d processes described",
                          KO_MAX_PS_INFO);
  if (*info == NULL)
    {
      /* room for every pid to come: at most KO_MAX_PS_INFO */
      *info = calloc (KO_MAX_PS_INFO, sizeof **info);
      if (*info == NULL)
        return ko_error_set (err, ENOMEM, "ps");
    }
  struct ko_ps_info *i = &(*info)[n - 1];
  char **s = f->tag == KO_TAG_PS_STAT ? &i->stat : &i->cmd;
  if (f->tag == KO_TAG_PS_UID)
    {
      if (i->has_uid)
        return ko_error_setx (err, EPROTO, "ps: two uids for one pid");
      i->has_uid = true;
      return ko_fields_len (f, "ps uid", 4, err) < 0
                 ? -1
                 : ko_field_u32 (f, &i->uid);
    }
  if (*s)
    return ko_error_setx (err, EPROTO, "ps: a field twice for one pid");
  if (f->len > PS_TEXT_MAX)
    return ko_error_setx (err, EPROTO, "ps: %u bytes, more than %u", f->len,
                          PS_TEXT_MAX);
  return ko_fields_str (f, "ps", s, err);
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
      if (f.tag == KO_TAG_PS_UID || f.tag == KO_TAG_PS_STAT
          || f.tag == KO_TAG_PS_CMD || f.tag == KO_TAG_PS_UPTIME)
        {
          if (ko_ps_info_take (&f, &m->info, m->npids, &m->uptime_ms, err) < 0)
            goto fail;
          continue;
        }
      if (f.tag != KO_TAG_PID)
        continue;
      if (ko_fields_len (&f, "pid", 4, err) < 0)
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
  ko_ps_info_free (m->info,
                   m->npids < KO_MAX_PS_INFO ? m->npids : KO_MAX_PS_INFO);
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

void
ko_msg_guest_metrics_set (struct ko_msg_guest_metrics_reply *m, uint16_t tag,
                          uint64_t v)
{
  if (tag < KO_TAG_GM_MEM_TOTAL || tag > KO_TAG_GM_UPTIME_NS)
    return;
  m->v[tag - KO_TAG_GM_MEM_TOTAL] = v;
  m->has |= KO_GM_BIT (tag);
}

int
ko_msg_guest_metrics_add (struct ko_msg_guest_metrics_reply *m, const char *id,
                          const struct ko_msg_stats_container_reply *st)
{
  if (m->nctrs >= KO_GM_MAX_CONTAINERS)
    return -1;
  struct ko_guest_container *v = realloc (m->ctrs, (m->nctrs + 1) * sizeof *v);
  if (v == NULL)
    return -1;
  m->ctrs = v;
  if ((v[m->nctrs].id = strdup (id)) == NULL)
    return -1;
  v[m->nctrs++].stats = *st;
  return 0;
}

int
ko_msg_guest_metrics_reply_encode (struct ko_buf *b,
                                   const struct ko_msg_guest_metrics_reply *m)
{
  int r = 0;
  for (unsigned i = 0; i < KO_GM_N; i++)
    if (m->has & (1u << i))
      r |= ko_tlv_put_u64 (b, KO_TAG_GM_MEM_TOTAL + i, m->v[i]);
  for (size_t i = 0; i < m->nctrs && r == 0; i++)
    {
      if (m->ctrs[i].id == NULL)
        return -1;
      size_t off = ko_tlv_begin (b, KO_TAG_GM_CONTAINER);
      r |= ko_tlv_put_str (b, KO_TAG_CONTAINER_ID, m->ctrs[i].id);
      r |= ko_msg_stats_container_reply_encode (b, &m->ctrs[i].stats);
      ko_tlv_end (b, off);
    }
  return r ? -1 : 0;
}

/* One GM_CONTAINER: its id (required, once) and its statistics. */
static int
guest_container_decode (const struct ko_field *f,
                        struct ko_msg_guest_metrics_reply *m, ko_error **err)
{
  struct ko_tlv r = ko_field_nested (f);
  _cleanup_free_ char *id = NULL;
  struct ko_field g;
  int n;
  while ((n = ko_tlv_next (&r, &g)) > 0)
    if (g.tag == KO_TAG_CONTAINER_ID)
      {
        if (id != NULL || g.len > KO_GM_MAX_ID)
          return ko_error_setx (err, EPROTO, "container: bad id");
        if (ko_fields_str (&g, "container id", &id, err) < 0)
          return -1;
      }
  if (n < 0)
    return ko_error_setx (err, EPROTO, "container: truncated field");
  if (id == NULL)
    return ko_error_setx (err, EINVAL, "container: no container id");
  struct ko_msg_stats_container_reply st;
  if (ko_msg_stats_container_reply_decode (ko_field_nested (f), &st, err) < 0)
    return ko_error_wrap (err, "container %s", id);
  if (m->nctrs >= KO_GM_MAX_CONTAINERS)
    return ko_error_setx (err, EPROTO, "more than %d containers",
                          KO_GM_MAX_CONTAINERS);
  if (ko_msg_guest_metrics_add (m, id, &st) < 0)
    return ko_error_set (err, ENOMEM, "containers");
  return 0;
}

int
ko_msg_guest_metrics_reply_decode (struct ko_tlv body,
                                   struct ko_msg_guest_metrics_reply *m,
                                   ko_error **err)
{
  struct ko_field f;
  int n;
  memset (m, 0, sizeof *m);
  while ((n = ko_tlv_next (&body, &f)) > 0)
    {
      if (f.tag == KO_TAG_GM_CONTAINER)
        {
          if (guest_container_decode (&f, m, err) < 0)
            goto fail;
          continue;
        }
      if (f.tag < KO_TAG_GM_MEM_TOTAL || f.tag > KO_TAG_GM_UPTIME_NS)
        continue;
      uint64_t v;
      if (ko_field_u64 (&f, &v) < 0)
        {
          ko_error_setx (err, EPROTO, "metric %u: %u bytes, expected 8", f.tag,
                         f.len);
          goto fail;
        }
      ko_msg_guest_metrics_set (m, f.tag, v);
    }
  if (n == 0)
    return 0;
  ko_error_setx (err, EPROTO, "truncated field");
fail:
  ko_msg_guest_metrics_reply_clear (m);
  return -1;
}

void
ko_msg_guest_metrics_reply_clear (struct ko_msg_guest_metrics_reply *m)
{
  if (m == NULL)
    return;
  for (size_t i = 0; i < m->nctrs; i++)
    free (m->ctrs[i].id);
  free (m->ctrs);
  memset (m, 0, sizeof *m);
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
  [KO_M_REMOVE_CONTAINER] = &container_ref_d,
  [KO_M_GUEST_METRICS] = &guest_metrics_d,
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
    r = ko_fields_decode_flat (body, d, m, err);
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
    ko_fields_clear (d, m);
  else if (method == KO_M_CREATE_CONTAINER)
    ko_msg_create_container_clear (&m->create_container);
}

int
ko_msg_encode_request (struct ko_buf *b, uint16_t method,
                       const union ko_msg_request *m)
{
  switch (method)
    {
    case KO_M_CREATE_SANDBOX:
      return ko_msg_create_sandbox_encode (b, &m->create_sandbox);
    case KO_M_CREATE_CONTAINER:
      return ko_msg_create_container_encode (b, &m->create_container);
    case KO_M_START_CONTAINER:
    case KO_M_LIST_PROCESSES:
    case KO_M_STATS_CONTAINER:
    case KO_M_PAUSE_CONTAINER:
    case KO_M_RESUME_CONTAINER:
    case KO_M_REMOVE_CONTAINER:
      return ko_msg_container_ref_encode (b, &m->container_ref);
    case KO_M_EXEC_PROCESS:
      return ko_msg_exec_process_encode (b, &m->exec_process);
    case KO_M_SIGNAL_PROCESS:
      return ko_msg_signal_process_encode (b, &m->signal_process);
    case KO_M_WAIT_PROCESS:
    case KO_M_CLOSE_STDIN:
      return ko_msg_process_ref_encode (b, &m->process_ref);
    case KO_M_TTY_WIN_RESIZE:
      return ko_msg_tty_win_resize_encode (b, &m->tty_win_resize);
    case KO_M_UPDATE_CONTAINER:
      return ko_msg_update_container_encode (b, &m->update_container);
    case KO_M_UPDATE_INTERFACE:
      return ko_msg_update_interface_encode (b, &m->update_interface);
    case KO_M_UPDATE_ROUTES:
      return ko_msg_update_routes_encode (b, &m->update_routes);
    case KO_M_ONLINE_CPU_MEM:
      return ko_msg_online_cpu_mem_encode (b, &m->online_cpu_mem);
    case KO_M_DESTROY_SANDBOX:
      return ko_msg_destroy_sandbox_encode (b, &m->destroy_sandbox);
    case KO_M_GUEST_METRICS:
      return ko_msg_guest_metrics_encode (b, &m->guest_metrics);
    default:
      return -1;
    }
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
    case KO_M_GUEST_METRICS:
      r = ko_msg_guest_metrics_reply_decode (body, &m->guest_metrics, err);
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
  else if (method == KO_M_GUEST_METRICS)
    ko_msg_guest_metrics_reply_clear (&m->guest_metrics);
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
    case KO_E_NOTIFY:
      return "Notify";
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
    case KO_E_NOTIFY:
      r = ko_msg_notify_decode (body, &m->notify, err);
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
    case KO_E_NOTIFY:
      ko_msg_notify_clear (&m->notify);
      break;
    default:
      break;
    }
}
