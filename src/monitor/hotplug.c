/* QEMU's QMP and what it is used for: growing the VM's memory for an
 * update. One connection, opened when first needed; commands go one at a
 * time, each with its deadline, and a device_add waits for the guest's
 * acknowledgement (ACPI _OST) too. All of it asynchronous: the monitor
 * serves everything else while the guest takes its memory. */
#include "config.h"

#include "cgroup.h"
#include "log.h"
#include "oci.h"
#include "paths.h"
#include "sandbox.h"
#include "translate.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

/* ---------- the QMP link ---------- */

enum
{
  LINK_CLOSED,
  LINK_GREETING,
  LINK_CAPS,
  LINK_READY
};

struct update_op
{
  struct cli_conn *conn; /* NULL: a growth for a joining member */
  vm_grown_cb grown;     /* then this is told instead */
  void *grown_ctx;
  struct container *c;
  oci_linux_resources *r;
  int sizes[KO_MEMHP_SLOTS];
  int n, i;
  struct qmp_cmd cmd;
  char mem[32], dimm[32];
  /* disks whose throttles the update changes, and their new limits */
  bool disk_changed[KO_MAX_DISKS];
  uint64_t disk_limits[KO_MAX_DISKS][KO_THR_N];
  size_t disk_i;
  struct update_op *next;
};

static void qmp_on_event (struct ko_watch *w, uint32_t events);
static void qmp_on_timer (struct ko_timer *t);

static void
qmp_link_fail (struct sandbox *sb, const ko_error *err)
{
  struct qmp_link *l = &sb->qmp;
  ko_watch_release (&l->w);
  qmp_close (&l->q);
  l->phase = LINK_CLOSED;
  if (l->timer.loop)
    ko_timer_cancel (&l->timer);
  /* what the callbacks submit goes to a new connection */
  struct qmp_cmd *q = l->queue;
  l->queue = l->tail = NULL;
  while (q)
    {
      struct qmp_cmd *c = q;
      q = c->next;
      c->cb (sb, c, err);
    }
}

static void
qmp_fail_msg (struct sandbox *sb, int status, const char *what, const char *msg)
{
  _cleanup_error_ ko_error *err = NULL;
  ko_error_setx (&err, status, "%s: %s", what, msg);
  qmp_link_fail (sb, err);
}

static int
qmp_send_line (struct sandbox *sb, const char *json, int fd)
{
  _cleanup_error_ ko_error *err = NULL;
  if (qmp_send (&sb->qmp.q, json, fd, &err) < 0)
    {
      qmp_link_fail (sb, err);
      return -1;
    }
  return 0;
}

/* Sends the head of the queue once the link is ready. */
static void
qmp_kick (struct sandbox *sb)
{
  struct qmp_link *l = &sb->qmp;
  struct qmp_cmd *c = l->queue;
  if (c == NULL)
    {
      /* idle: QEMU's events are of no interest until the next command */
      ko_timer_cancel (&l->timer);
      ko_watch_release (&l->w);
      qmp_close (&l->q);
      l->phase = LINK_CLOSED;
      return;
    }
  ko_timer_arm (&l->timer, c->deadline);
  if (l->phase == LINK_CLOSED)
    {
      char path[4096];
      snprintf (path, sizeof path, "%s/%s", sb->p->dir, KO_QMP_SOCK);
      _cleanup_error_ ko_error *err = NULL;
      if (qmp_connect (path, &l->q, &err) < 0)
        return qmp_link_fail (sb, err);
      ko_watch_init (&l->w, &sb->loop, l->q.fd, qmp_on_event, sb);
      ko_watch_set (&l->w, EPOLLIN);
      l->phase = LINK_GREETING;
      return;
    }
  if (l->phase == LINK_READY && !c->sent)
    {
      c->sent = true;
      qmp_send_line (sb, c->json, c->has_fd ? c->fd : -1);
    }
}

void
qmp_submit (struct sandbox *sb, struct qmp_cmd *c, uint64_t deadline)
{
  struct qmp_link *l = &sb->qmp;
  c->deadline = deadline;
  c->next = NULL;
  if (l->timer.loop == NULL)
    ko_timer_init (&l->timer, &sb->loop, qmp_on_timer, sb);
  if (l->tail)
    l->tail->next = c;
  else
    l->queue = c;
  l->tail = c;
  qmp_kick (sb);
}

static void
qmp_head_done (struct sandbox *sb, const ko_error *err)
{
  struct qmp_link *l = &sb->qmp;
  struct qmp_cmd *c = l->queue;
  l->queue = c->next;
  if (l->queue == NULL)
    l->tail = NULL;
  c->cb (sb, c, err);
  qmp_kick (sb);
}

static void
qmp_on_msg (struct sandbox *sb, const struct qmp_msg *msg)
{
  struct qmp_link *l = &sb->qmp;
  struct qmp_cmd *c = l->queue;
  if (l->phase == LINK_GREETING && msg->kind == QMP_GREETING)
    {
      l->phase = LINK_CAPS;
      qmp_send_line (sb, "{\"execute\": \"qmp_capabilities\"}", -1);
      return;
    }
  if (l->phase == LINK_CAPS && msg->kind != QMP_EVENT)
    {
      if (msg->kind != QMP_RETURN)
        return qmp_fail_msg (sb, EPROTO, "qmp_capabilities",
                             msg->error ? msg->error : "unexpected reply");
      l->phase = LINK_READY;
      return qmp_kick (sb);
    }
  if (l->phase != LINK_READY || c == NULL || !c->sent)
    return;
  if (msg->kind == QMP_EVENT)
    {
      if (c->ost_device[0] && msg->device
          && strcmp (msg->event, c->event ? c->event : "ACPI_DEVICE_OST") == 0
          && strcmp (msg->device, c->ost_device) == 0)
        {
          c->ost_done = true;
          c->ost_status = msg->status;
        }
    }
  else if (!c->replied)
    {
      c->replied = true;
      _cleanup_error_ ko_error *err = NULL;
      if (msg->kind == QMP_ERROR)
        ko_error_setx (&err, EIO, "%s: %s", c->what, msg->error);
      else if (msg->kind != QMP_RETURN)
        ko_error_setx (&err, EPROTO, "%s: QMP: unexpected reply", c->what);
      else
        c->ok = true;
      if (err)
        return qmp_head_done (sb, err);
    }
  if (c->replied && (c->ost_device[0] == '\0' || c->ost_done))
    qmp_head_done (sb, NULL);
}

static void
qmp_on_event (struct ko_watch *w, uint32_t events)
{
  struct sandbox *sb = w->data;
  (void)events;
  for (;;)
    {
      struct qmp_msg msg = { 0 };
      _cleanup_error_ ko_error *err = NULL;
      int r = qmp_read (&sb->qmp.q, &msg, &err);
      if (r < 0)
        return qmp_link_fail (sb, err);
      if (r == 0)
        return;
      qmp_on_msg (sb, &msg);
      qmp_msg_clear (&msg);
      if (sb->qmp.phase == LINK_CLOSED)
        return;
    }
}

static void
qmp_on_timer (struct ko_timer *t)
{
  struct sandbox *sb = t->data;
  struct qmp_cmd *c = sb->qmp.queue;
  if (c == NULL)
    return;
  /* what QEMU says later would be taken for the next command's: start
   * over with a new connection */
  qmp_fail_msg (sb, ETIMEDOUT, c->what,
                !c->replied ? "no answer from QEMU in time"
                : c->event  ? "the guest did not release the device in time"
                            : "the guest did not take the memory in time");
}

void
hotplug_close (struct sandbox *sb)
{
  _cleanup_error_ ko_error *err = NULL;
  ko_error_setx (&err, EPIPE, "the VM stopped");
  qmp_link_fail (sb, err);
  while (sb->updates)
    {
      /* not started yet */
      struct update_op *op = sb->updates;
      sb->updates = op->next;
      if (op->conn)
        cli_conn_reply (op->conn, err, NULL);
      else
        op->grown (op->grown_ctx, err);
      oci_linux_resources_free (op->r);
      free (op);
    }
}

/* ---------- update: grow the VM, then the guest, then the host ---------- */

static void update_next (struct sandbox *sb);

static void
update_end (struct update_op *op, const ko_error *err)
{
  struct sandbox *sb = op->c->sb;
  if (op->conn)
    cli_conn_reply (op->conn, err, NULL);
  else
    op->grown (op->grown_ctx, err);
  oci_linux_resources_free (op->r);
  free (op);
  sb->updating = false;
  update_next (sb);
}

static void
update_fail_grow (struct update_op *op, const ko_error *err)
{
  struct sandbox *sb = op->c->sb;
  oci_linux_resources mem_only = { .memory = op->r->memory };
  /* what the VM really has now */
  cgroup_sandbox_update (&mem_only, memhp_total_mb (&sb->memhp), NULL);
  _cleanup_error_ ko_error *e = NULL;
  ko_error_setx (&e, err->status, "memory limit %lld: %s",
                 (long long)op->r->memory->limit, err->msg);
  update_end (op, e);
}

static void throttle_next (struct update_op *op);

static void
on_throttled (struct sandbox *sb, struct qmp_cmd *cmd, const ko_error *err)
{
  struct update_op *op = cmd->ctx;
  (void)sb;
  if (err)
    {
      _cleanup_error_ ko_error *e = NULL;
      ko_error_setx (&e, err->status, "blockIO of disk %s: %s",
                     op->c->p->disks.v[op->disk_i].source, err->msg);
      return update_end (op, e);
    }
  memcpy (op->c->p->disks.v[op->disk_i].limits, op->disk_limits[op->disk_i],
          sizeof op->disk_limits[0]);
  op->disk_i++;
  throttle_next (op);
}

/* A new cpuset pins the VM's threads on the host: to it, or for a pod's
 * member to it and the CPUs the VM already has (the pod is one VM). */
static int
update_host_cpus (struct update_op *op, ko_error **err)
{
  const oci_cpu *c = op->r->cpu;
  if (c == NULL || c->cpus == NULL || *c->cpus == '\0')
    return 0;
  return op->c->sb->nctrs > 1 ? cgroup_cpus_widen (c->cpus, err)
                              : cgroup_cpus_repin (c->cpus, err);
}

/* Each disk's new limits go to its throttle group, one after the other;
 * then the host cgroup follows. */
static void
throttle_next (struct update_op *op)
{
  struct sandbox *sb = op->c->sb;
  const struct ko_disks *d = &op->c->p->disks;
  while (op->disk_i < d->n && !op->disk_changed[op->disk_i])
    op->disk_i++;
  if (op->disk_i >= d->n)
    {
      _cleanup_error_ ko_error *e = NULL;
      if (update_host_cpus (op, &e) == 0)
        cgroup_sandbox_update (op->r, memhp_total_mb (&sb->memhp), &e);
      return update_end (op, e);
    }
  char path[32], lim[160];
  disks_tg_path (op->c, op->disk_i, path, sizeof path);
  disks_limits_json (lim, sizeof lim, op->disk_limits[op->disk_i]);
  memset (&op->cmd, 0, sizeof op->cmd);
  snprintf (op->cmd.json, sizeof op->cmd.json,
            "{\"execute\": \"qom-set\", \"arguments\": "
            "{\"path\": \"%s\", \"property\": \"limits\", "
            "\"value\": %s}}",
            path, lim);
  op->cmd.what = "qom-set limits";
  op->cmd.cb = on_throttled;
  op->cmd.ctx = op;
  qmp_submit (sb, &op->cmd, ko_now_ms () + MON_CALL_TIMEOUT_MS);
}

static void
on_updated (struct sandbox *sb, void *ctx, const union ko_msg_reply *reply,
            const ko_error *err)
{
  struct update_op *op = ctx;
  (void)reply;
  if (err)
    return update_end (op, err);
  if (op->r->block_io)
    return throttle_next (op);
  /* the host side follows: same group, new limits, the memory one covering
   * the VM as it is now (a smaller limit leaves the VM's size alone) */
  _cleanup_error_ ko_error *e = NULL;
  if (update_host_cpus (op, &e) == 0)
    cgroup_sandbox_update (op->r, memhp_total_mb (&sb->memhp), &e);
  update_end (op, e);
}

static void
update_guest (struct update_op *op)
{
  _cleanup_error_ ko_error *err = NULL;
  union ko_msg_request m = { .update_container = {
                                 .container_id = (char *)op->c->p->id,
                             } };
  int r = translate_resources_fill (op->r, &m.update_container.resources);
  if (r < 0)
    ko_error_set (&err, ENOMEM, "update");
  else
    r = agent_call (op->c->sb, KO_M_UPDATE_CONTAINER, &m, MON_CALL_TIMEOUT_MS,
                    on_updated, op, &err);
  ko_resources_clear (&m.update_container.resources);
  if (r < 0)
    update_end (op, err);
}

/* The VM is large enough: an update goes on to the guest; a growth for a
 * joining member is done (the member is not in the guest yet). */
static void
grown (struct update_op *op)
{
  if (op->conn)
    update_guest (op);
  else
    update_end (op, NULL);
}

static void
on_online (struct sandbox *sb, void *ctx, const union ko_msg_reply *reply,
           const ko_error *err)
{
  struct update_op *op = ctx;
  (void)reply;
  if (err)
    return update_fail_grow (op, err);
  log_debug ("container %s: VM memory grown to %d MiB", op->c->p->id,
             memhp_total_mb (&sb->memhp));
  grown (op);
}

static void plug_next (struct update_op *op);

static void
on_object_del (struct sandbox *sb, struct qmp_cmd *cmd, const ko_error *err)
{
  (void)sb;
  (void)err;
  free (cmd);
}

static void
on_device_add (struct sandbox *sb, struct qmp_cmd *cmd, const ko_error *err)
{
  struct update_op *op = cmd->ctx;
  int size = op->sizes[op->i];
  if (cmd->ok)
    memhp_commit (&sb->memhp, size); /* in the VM, whatever the guest says */
  else if (cmd->replied)
    {
      /* the memory backend has no user: drop it (after this command) */
      struct qmp_cmd *del = calloc (1, sizeof *del);
      if (del && sb->qmp.phase == LINK_READY)
        {
          snprintf (del->json, sizeof del->json,
                    "{\"execute\": \"object-del\", \"arguments\": "
                    "{\"id\": \"%s\"}}",
                    op->mem);
          del->what = "object-del";
          del->cb = on_object_del;
          qmp_submit (sb, del, ko_now_ms () + 5000);
        }
      else
        free (del);
    }
  if (err)
    return update_fail_grow (op, err);
  if (cmd->ost_status != 0)
    {
      _cleanup_error_ ko_error *e = NULL;
      ko_error_setx (&e, EIO,
                     "the guest refused %d MiB of memory (ACPI _OST status "
                     "%lld)",
                     size, (long long)cmd->ost_status);
      return update_fail_grow (op, e);
    }
  op->i++;
  plug_next (op);
}

static void
on_object_add (struct sandbox *sb, struct qmp_cmd *cmd, const ko_error *err)
{
  struct update_op *op = cmd->ctx;
  if (err)
    return update_fail_grow (op, err);
  memset (&op->cmd, 0, sizeof op->cmd);
  snprintf (op->cmd.json, sizeof op->cmd.json,
            "{\"execute\": \"device_add\", \"arguments\": "
            "{\"driver\": \"pc-dimm\", \"id\": \"%s\", \"memdev\": \"%s\"}}",
            op->dimm, op->mem);
  op->cmd.what = "device_add";
  snprintf (op->cmd.ost_device, sizeof op->cmd.ost_device, "%s", op->dimm);
  op->cmd.cb = on_device_add;
  op->cmd.ctx = op;
  qmp_submit (sb, &op->cmd, ko_now_ms () + MON_CALL_TIMEOUT_MS);
}

/* DIMMs go one after the other: each must be in the guest before the
 * next, whose struct pages it may hold. */
static void
plug_next (struct update_op *op)
{
  struct sandbox *sb = op->c->sb;
  if (op->i == op->n)
    {
      _cleanup_error_ ko_error *err = NULL;
      union ko_msg_request m = { .online_cpu_mem = {
                                     (uint32_t)memhp_total_mb (&sb->memhp),
                                 } };
      if (agent_call (sb, KO_M_ONLINE_CPU_MEM, &m, MON_CALL_TIMEOUT_MS,
                      on_online, op, &err)
          < 0)
        update_fail_grow (op, err);
      return;
    }
  unsigned seq = sb->dimm_seq++;
  snprintf (op->mem, sizeof op->mem, "ko-mem%u", seq);
  snprintf (op->dimm, sizeof op->dimm, "ko-dimm%u", seq);
  memset (&op->cmd, 0, sizeof op->cmd);
  /* like the boot RAM: virtiofsd must be able to map it */
  snprintf (op->cmd.json, sizeof op->cmd.json,
            "{\"execute\": \"object-add\", \"arguments\": "
            "{\"qom-type\": \"memory-backend-memfd\", \"id\": \"%s\", "
            "\"size\": %llu, \"share\": true}}",
            op->mem, (unsigned long long)op->sizes[op->i] << 20);
  op->cmd.what = "object-add";
  op->cmd.cb = on_object_add;
  op->cmd.ctx = op;
  qmp_submit (sb, &op->cmd, ko_now_ms () + MON_CALL_TIMEOUT_MS);
}

/* The VM grows before the guest's limit does; it never shrinks. */
static void
update_begin (struct update_op *op)
{
  struct sandbox *sb = op->c->sb;
  const oci_linux_resources *r = op->r;
  _cleanup_error_ ko_error *err = NULL;
  sb->updating = true;
  if (r->memory == NULL || !r->memory->has_limit || r->memory->limit <= 0)
    return grown (op);
  if (memhp_plan (&sb->memhp, memhp_need_mb (r->memory->limit), op->sizes,
                  KO_MEMHP_SLOTS, &op->n, &err)
      < 0)
    {
      ko_error_wrap (&err, "memory limit %lld", (long long)r->memory->limit);
      return update_end (op, err);
    }
  if (op->n == 0)
    return grown (op);
  int target = memhp_total_mb (&sb->memhp);
  for (int i = 0; i < op->n; i++)
    target += op->sizes[i];
  /* the host cgroup first, so QEMU may use the new memory at once */
  oci_linux_resources mem_only = { .memory = r->memory };
  if (cgroup_sandbox_update (&mem_only, target, &err) < 0)
    {
      ko_error_wrap (&err, "memory limit %lld", (long long)r->memory->limit);
      return update_end (op, err);
    }
  plug_next (op);
}

static void
update_next (struct sandbox *sb)
{
  if (sb->updating || sb->updates == NULL)
    return;
  struct update_op *op = sb->updates;
  sb->updates = op->next;
  update_begin (op);
}

static void
update_queue (struct sandbox *sb, struct update_op *op)
{
  /* one at a time: each may grow the VM */
  struct update_op **pp = &sb->updates;
  while (*pp)
    pp = &(*pp)->next;
  *pp = op;
  update_next (sb);
}

void
vm_grow_for (struct container *c, int64_t limit_bytes, vm_grown_cb cb,
             void *ctx)
{
  _cleanup_error_ ko_error *err = NULL;
  struct update_op *op = calloc (1, sizeof *op);
  oci_linux_resources *r = calloc (1, sizeof *r);
  oci_memory *m = calloc (1, sizeof *m);
  if (op == NULL || r == NULL || m == NULL)
    {
      free (op), free (r), free (m);
      ko_error_set (&err, ENOMEM, "grow the VM");
      return cb (ctx, err);
    }
  m->has_limit = true;
  m->limit = limit_bytes;
  r->memory = m;
  *op = (struct update_op){ .grown = cb, .grown_ctx = ctx, .c = c, .r = r };
  update_queue (c->sb, op);
}

void
update_request (struct cli_conn *conn, struct container *c, const char *json)
{
  struct sandbox *sb = c->sb;
  _cleanup_error_ ko_error *err = NULL;
  oci_linux_resources *r
      = oci_linux_resources_parse_data (json, strlen (json), "resources", &err);
  if (r == NULL)
    return cli_conn_reply (conn, err, NULL);
  struct update_op *op = calloc (1, sizeof *op);
  if (op == NULL)
    {
      oci_linux_resources_free (r);
      ko_error_set (&err, ENOMEM, "update");
      return cli_conn_reply (conn, err, NULL);
    }
  op->conn = conn;
  op->c = c;
  op->r = r;
  /* throttles only on the container's disks, checked before anything
   * changes */
  const struct ko_disks *d = &c->p->disks;
  struct ko_disk tmp[KO_MAX_DISKS];
  struct ko_disks td = { tmp, d->n };
  if (d->n)
    memcpy (tmp, d->v, d->n * sizeof *tmp);
  if (blockdev_apply_throttles (&td, r, "resources", op->disk_changed, &err)
      < 0)
    {
      oci_linux_resources_free (r);
      free (op);
      return cli_conn_reply (conn, err, NULL);
    }
  for (size_t i = 0; i < d->n; i++)
    memcpy (op->disk_limits[i], tmp[i].limits, sizeof op->disk_limits[i]);
  update_queue (sb, op);
}
