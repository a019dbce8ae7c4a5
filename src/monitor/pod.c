/* Pod members: containers that join the sandbox's VM after it booted.
 * The member's create made its state dir and its holder; here its rootfs
 * and volumes are bound into the share (virtiofsd sees them through mount
 * propagation), its stdio becomes streams on the one channel, and the
 * agent creates it. Its end (exit, or removal) leaves the VM running. */
#include "config.h"

#include "cgroup.h"

#include "console.h"
#include "hooks.h"
#include "log.h"
#include "memhp.h"
#include "oci.h"
#include "sandbox.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void
member_params_free (struct monitor_params *p)
{
  if (p == NULL)
    return;
  free (p->binds);
  ko_disks_clear (&p->disks);
  state_clear (&p->state);
  oci_spec_free ((oci_spec *)p->spec);
  free (p);
}

void
pod_member_free (struct container *c)
{
  struct sandbox *sb = c->sb;
  for (size_t i = 0; i < sb->nctrs; i++)
    if (sb->ctrs[i] == c)
      {
        memmove (&sb->ctrs[i], &sb->ctrs[i + 1],
                 (sb->nctrs - i - 1) * sizeof sb->ctrs[0]);
        sb->nctrs--;
        break;
      }
  ctr_ready_abandon (c);
  execs_free (c);
  disks_close (c);
  struct stream *ss[] = { c->in, c->out, c->err };
  for (size_t i = 0; i < KO_ARRAY_SIZE (ss); i++)
    if (ss[i])
      stream_remove (ss[i]);
  ko_watch_close (&c->holder_w);
  if (c->tty_fd >= 0)
    close (c->tty_fd);
  if (c->dirfd >= 0)
    close (c->dirfd);
  member_params_free (c->p);
  if (c->add)
    ko_mon_add_clear (c->add);
  free (c->add);
  free (c);
}

/* The member's params point into its request, which it keeps. */
static struct container *
member_new (struct sandbox *sb, struct ko_mon_add *req, ko_error **err)
{
  struct container *c = calloc (1, sizeof *c);
  struct monitor_params *p = calloc (1, sizeof *p);
  struct ko_mon_add *add = malloc (sizeof *add);
  if (c == NULL || p == NULL || add == NULL)
    {
      free (c), free (p), free (add);
      ko_error_set (err, ENOMEM, "add");
      return NULL;
    }
  *add = *req;
  memset (req, 0, sizeof *req);
  *c = (struct container){
    .sb = sb, .p = p, .dirfd = -1, .tty_fd = -1, .member = true, .add = add
  };
  c->oom_log.interval_ms = 1000;
  for (size_t i = 0; i < KO_MAX_DISKS; i++)
    c->pdisks[i] = (struct plugged_disk){ .fd = -1, .slot = -1 };
  ko_watch_init (&c->holder_w, &sb->loop, -1, NULL, c);
  p->id = add->container_id;
  p->dir = add->state_dir;
  p->rootfs = add->rootfs;
  p->hostname = add->hostname;
  p->console_socket = add->console_socket;
  p->settings = sb->p->settings;
  p->process = add->process;
  p->container_tlv = add->fields;
  return c;
}

static int
member_load (struct container *c, ko_error **err)
{
  struct monitor_params *p = c->p;
  struct ko_mon_add *a = c->add;
  c->dirfd = open (p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (c->dirfd < 0)
    return ko_error_set (err, errno, "open %s", p->dir);
  if (state_read (c->dirfd, &p->state, err) < 0)
    return -1;
  _cleanup_free_ char *cfg = NULL;
  if (asprintf (&cfg, "%s/config.json", a->bundle) < 0)
    return ko_error_set (err, ENOMEM, "add");
  /* for its hooks */
  p->spec = oci_spec_parse_file (cfg, err);
  if (p->spec == NULL)
    return -1;
  p->binds = calloc (a->nbinds + 1, sizeof *p->binds);
  if (p->binds == NULL)
    return ko_error_set (err, ENOMEM, "add");
  for (size_t i = 0; i < a->nbinds; i++)
    {
      if (strstr (a->binds[i].dest, "..") || a->binds[i].dest[0] == '/'
          || strncmp (a->binds[i].dest, p->id, strlen (p->id)) != 0)
        return ko_error_setx (err, EINVAL, "add: bad share path %s",
                              a->binds[i].dest);
      p->binds[i]
          = (struct share_bind){ a->binds[i].source, a->binds[i].dest,
                                 a->binds[i].ctr_dest, a->binds[i].readonly };
    }
  p->nbinds = a->nbinds;
  /* its disks as its create opened them; the fds come with the request */
  if (a->ndisks > KO_MAX_DISKS)
    return ko_error_setx (err, E2BIG, "add: more than %d disks", KO_MAX_DISKS);
  p->disks.v = calloc (a->ndisks + 1, sizeof *p->disks.v);
  if (p->disks.v == NULL)
    return ko_error_set (err, ENOMEM, "add");
  for (size_t i = 0; i < a->ndisks; i++)
    {
      const struct ko_mon_disk *x = &a->disks[i];
      struct ko_disk *d = &p->disks.v[i];
      *d = (struct ko_disk){ .source = strdup (x->source),
                             .fd = -1,
                             .readonly = x->readonly,
                             .blockdev = x->blockdev,
                             .rdev = (dev_t)x->rdev };
      p->disks.n++;
      if (d->source == NULL)
        return ko_error_set (err, ENOMEM, "add");
      memcpy (d->serial, x->serial, sizeof d->serial);
      memcpy (d->limits, x->limits, sizeof d->limits);
    }
  return 0;
}

static void member_remove (struct container *c, struct cli_conn *conn,
                           const ko_error *reply_err);

/* ---------- add ---------- */

struct add_op
{
  struct cli_conn *conn;
  struct container *c;
  ko_error *err; /* a failure, answered once its disks are unplugged */
};

static void
add_failed (struct container *c, void *ctx, const ko_error *unplug_err)
{
  struct add_op *op = ctx;
  _cleanup_error_ ko_error *e = NULL;
  if (unplug_err)
    ko_error_setx (&e, op->err->status, "%s (and %s)", op->err->msg,
                   unplug_err->msg);
  share_remove (c);
  cli_conn_reply (op->conn, e ? e : op->err, NULL);
  /* a forced remove that waited: it is gone */
  if (c->remove_after_add)
    cli_conn_reply (c->remove_after_add, NULL, NULL);
  pod_member_free (c);
  ko_error_free (op->err);
  free (op);
}

/* What was plugged for it goes first. */
static void
add_fail (struct add_op *op, const ko_error *err)
{
  ko_error_setx (&op->err, err->status, "%s", err->msg);
  disks_unplug (op->c, add_failed, op);
}

static void
on_member_created (struct sandbox *sb, void *ctx,
                   const union ko_msg_reply *reply, const ko_error *err)
{
  struct add_op *op = ctx;
  struct container *c = op->c;
  (void)sb;
  (void)reply;
  if (err)
    return add_fail (op, err);
  c->adding = false;
  struct cli_conn *waiting = take_ptr (c->remove_after_add);
  if (waiting)
    {
      /* removed before anything runs in it */
      cli_conn_reply (op->conn, NULL, NULL);
      free (op);
      return member_remove (c, waiting, NULL);
    }
  struct stream *ss[] = { c->in, c->out, c->err };
  for (size_t i = 0; i < KO_ARRAY_SIZE (ss); i++)
    if (ss[i])
      stream_set_live (ss[i]);
  holder_add_volumes (c);
  _cleanup_error_ ko_error *e = NULL;
  if (hooks_on_create (c->p->spec, c->p->id, c->holder_pid, c->p->state.bundle,
                       &e)
      < 0)
    {
      /* it is in the guest: the failure removes it again */
      member_remove (c, op->conn, e);
      free (op);
      return;
    }
  const oci_linux_resources *res
      = c->p->spec && c->p->spec->linux ? c->p->spec->linux->resources : NULL;
  _cleanup_error_ ko_error *pe = NULL;
  if (res && res->cpu && res->cpu->cpus && *res->cpu->cpus
      && cgroup_cpus_widen (res->cpu->cpus, &pe) < 0)
    log_warn ("pod member %s: %s", c->p->id, pe->msg);
  ctr_record (c, "created");
  log_debug ("pod member %s created", c->p->id);
  cli_conn_reply (op->conn, NULL, NULL);
  free (op);
}

static int
add_check (struct sandbox *sb, const struct ko_mon_add *req, ko_error **err)
{
  if (sb->destroy_requested || !sandbox_alive (sb) || sb->ctrs[0]->init_exited)
    return ko_error_setx (err, EINVAL, "sandbox %s is stopping", sb->p->id);
  if (sandbox_container (sb, req->container_id))
    return ko_error_setx (err, EEXIST, "container %s is in the pod already",
                          req->container_id);
  if (sb->nctrs >= MON_MAX_CONTAINERS)
    return ko_error_setx (err, EAGAIN, "sandbox %s holds %d containers",
                          sb->p->id, MON_MAX_CONTAINERS);
  return 0;
}

static int64_t
memory_limit (const struct container *c)
{
  const oci_spec *s = c->p->spec;
  const oci_linux_resources *r = s && s->linux ? s->linux->resources : NULL;
  return r && r->memory && r->memory->has_limit && r->memory->limit > 0
             ? r->memory->limit
             : 0;
}

/* What the pod's containers may use in all: the sum of their limits. */
static int64_t
pod_memory_limit (struct sandbox *sb)
{
  int64_t sum = 0;
  for (size_t i = 0; i < sb->nctrs; i++)
    if (!sb->ctrs[i]->init_exited)
      sum += memory_limit (sb->ctrs[i]);
  return sum;
}

static void
on_grown (void *ctx, const ko_error *err)
{
  struct add_op *op = ctx;
  if (err)
    {
      _cleanup_error_ ko_error *e = NULL;
      ko_error_setx (&e, err->status, "the pod's VM: %s", err->msg);
      return add_fail (op, e);
    }
  ctr_create (op->c, on_member_created, op);
}

static void
on_plugged (struct container *c, void *ctx, const ko_error *err)
{
  struct add_op *op = ctx;
  struct sandbox *sb = c->sb;
  if (err)
    {
      /* nothing of them is left: answered at once */
      _cleanup_error_ ko_error *e = NULL;
      ko_error_setx (&e, err->status, "%s", err->msg);
      op->err = take_ptr (e);
      return add_failed (c, op, NULL);
    }
  /* the VM holds every member's memory limit, as it holds the one of a
   * container of its own: it grows first when it must */
  int64_t pod = pod_memory_limit (sb);
  if (memory_limit (c) > 0 && memhp_need_mb (pod) > memhp_total_mb (&sb->memhp))
    return vm_grow_for (c, pod, on_grown, op);
  ctr_create (c, on_member_created, op);
}

/* What it gets from its create: the holder's socket, its stdio, then
 * one fd per disk. */
static int
member_stdio (struct container *c, struct cli_conn *conn, ko_error **err)
{
  int ndisks = (int)c->p->disks.n;
  if (conn->nfds < 1 + ndisks || conn->nfds - 1 - ndisks > 3)
    return ko_error_setx (err, EINVAL,
                          "add: %d fds for a holder socket, stdio and %d "
                          "disks",
                          conn->nfds, ndisks);
  holder_adopt (c, (pid_t)c->add->holder_pid, conn->fds[0]);
  int nstdio = conn->nfds - 1 - ndisks;
  int fds[3] = { -1, -1, -1 };
  for (int i = 0; i < nstdio; i++)
    fds[i] = conn->fds[1 + i];
  for (int i = 0; i < ndisks; i++)
    c->pdisks[i].fd = conn->fds[1 + nstdio + i];
  c->npdisks = (size_t)ndisks;
  conn->nfds = 0;
  return ctr_setup_stdio (c, fds, err);
}

void
pod_add (struct cli_conn *conn, struct ko_tlv body)
{
  struct sandbox *sb = conn->sb;
  struct ko_mon_add req;
  _cleanup_error_ ko_error *err = NULL;
  if (ko_mon_add_decode (body, &req, &err) < 0)
    return cli_conn_reply (conn, err, NULL);
  if (add_check (sb, &req, &err) < 0)
    {
      ko_mon_add_clear (&req);
      return cli_conn_reply (conn, err, NULL);
    }
  struct container *c = member_new (sb, &req, &err);
  if (c == NULL)
    {
      ko_mon_add_clear (&req);
      return cli_conn_reply (conn, err, NULL);
    }
  sb->ctrs[sb->nctrs++] = c;
  struct add_op *op = calloc (1, sizeof *op);
  if (op == NULL)
    ko_error_set (&err, ENOMEM, "add");
  if (op == NULL || member_load (c, &err) < 0
      || member_stdio (c, conn, &err) < 0 || share_add (c, &err) < 0)
    {
      free (op);
      share_remove (c);
      cli_conn_reply (conn, err, NULL);
      return pod_member_free (c);
    }
  *op = (struct add_op){ conn, c, NULL };
  c->adding = true;
  ctr_record (c, "creating");
  /* its disks are in the VM before the agent looks for them */
  disks_plug (c, on_plugged, op);
}

/* ---------- exit and removal ---------- */

void
pod_member_exited (struct container *c)
{
  ctr_record (c, "stopped");
  holder_release (c, c->exit_status, false);
}

struct remove_op
{
  struct cli_conn *conn;
  struct container *c;
  ko_error *reply_err; /* what to answer once it is gone */
};

static void
on_unplugged (struct container *c, void *ctx, const ko_error *err)
{
  struct remove_op *op = ctx;
  /* a disk QEMU still holds is the delete's failure: the host device
   * stays busy */
  if (err && op->reply_err == NULL && sandbox_alive (c->sb))
    ko_error_setx (&op->reply_err, err->status, "%s", err->msg);
  share_remove (c);
  cli_conn_reply (op->conn, op->reply_err, NULL);
  pod_member_free (c);
  ko_error_free (op->reply_err);
  free (op);
}

static void
on_removed (struct sandbox *sb, void *ctx, const union ko_msg_reply *reply,
            const ko_error *err)
{
  struct remove_op *op = ctx;
  struct container *c = op->c;
  (void)sb;
  (void)reply;
  if (err && sandbox_alive (c->sb))
    {
      c->removing = false;
      cli_conn_reply (op->conn, err, NULL);
      ko_error_free (op->reply_err);
      free (op);
      return;
    }
  /* gone from the guest (or the guest is gone) */
  if (!c->init_exited)
    {
      c->init_exited = true;
      c->exit_status = 128 + 9;
    }
  /* removed from a running pod before its exit event came: a start
   * waiting for READY=1 ends as at the exit (the VM's end is an error:
   * pod_member_free) */
  if (sandbox_alive (c->sb))
    ctr_ready_gone (c);
  pod_member_exited (c);
  /* its mounts went with it: the guest lets its disks go */
  disks_unplug (c, on_unplugged, op);
}

static void
member_remove (struct container *c, struct cli_conn *conn,
               const ko_error *reply_err)
{
  _cleanup_error_ ko_error *err = NULL;
  struct remove_op *op = calloc (1, sizeof *op);
  if (op == NULL)
    {
      ko_error_set (&err, ENOMEM, "remove");
      return cli_conn_reply (conn, err, NULL);
    }
  *op = (struct remove_op){ conn, c, NULL };
  if (reply_err)
    ko_error_setx (&op->reply_err, reply_err->status, "%s", reply_err->msg);
  c->removing = true;
  union ko_msg_request m = { .container_ref = { (char *)c->p->id } };
  if (agent_call (c->sb, KO_M_REMOVE_CONTAINER, &m, MON_CALL_TIMEOUT_MS,
                  on_removed, op, &err)
      < 0)
    {
      /* the VM is gone: nothing of it is left in the guest */
      on_removed (c->sb, op, NULL, NULL);
    }
}

void
pod_remove (struct cli_conn *conn, struct container *c, struct ko_tlv body)
{
  struct ko_mon_remove req;
  _cleanup_error_ ko_error *err = NULL;
  if (ko_mon_remove_decode (body, &req, &err) < 0)
    return cli_conn_reply (conn, err, NULL);
  bool force = req.force;
  ko_mon_remove_clear (&req);
  if (!c->member)
    ko_error_setx (&err, EINVAL,
                   "container %s is the pod's sandbox: delete it to stop "
                   "the pod",
                   c->p->id);
  else if (c->removing || c->remove_after_add)
    ko_error_setx (&err, EBUSY, "container %s is being removed", c->p->id);
  else if (!c->init_exited && !force)
    ko_error_setx (&err, EBUSY, "container %s is not stopped", c->p->id);
  if (err)
    return cli_conn_reply (conn, err, NULL);
  if (c->adding)
    {
      /* its disks are being plugged, or the agent creates it: the removal
       * follows (a create killed halfway, then delete --force) */
      c->remove_after_add = conn;
      return;
    }
  member_remove (c, conn, NULL);
}
