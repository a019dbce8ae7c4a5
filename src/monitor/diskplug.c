/* A pod member's disks, hot-plugged into the running VM: each goes to a
 * free PCIe root port of the sandbox's VM (hypervisor.c made them at
 * boot). Per disk, through QMP: add-fd (the fd its create opened, passed
 * on), a throttle group, the file or host_device node on /dev/fdset/N, a
 * throttle node, and the virtio-blk-pci device with the disk's serial, by
 * which the agent finds it. Undone in reverse order at the member's end,
 * or when any step fails, so that QEMU holds nothing of it afterwards. */
#include "config.h"

#include "hypervisor.h"
#include "log.h"
#include "sandbox.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* the guest must give the device back: ACPI eject is quick, but a guest
 * under load takes its time */
#define UNPLUG_TIMEOUT_MS 20000

struct plug_op
{
  struct container *c;
  bool unplug;
  size_t i;       /* the disk */
  unsigned cur;   /* the step sent */
  unsigned tried; /* unplug: the steps of disk i already tried */
  ko_error *err;
  disks_done_cb cb;
  void *ctx;
  struct qmp_cmd cmd;
};

/* The steps in the order they are done; each is undone only once the
 * ones built on it are gone. */
static const struct
{
  unsigned st, needs_gone;
} steps[] = {
  { DISK_FD, DISK_FILE }, { DISK_TG, DISK_THR }, { DISK_FILE, DISK_THR },
  { DISK_THR, DISK_DEV }, { DISK_DEV, 0 },
};

static void plug_next (struct plug_op *op);
static void unplug_next (struct plug_op *op);

static void
op_end (struct plug_op *op)
{
  disks_done_cb cb = op->cb;
  struct container *c = op->c;
  void *ctx = op->ctx;
  ko_error *err = op->err;
  free (op);
  cb (c, ctx, err);
  ko_error_free (err);
}

/* From a failure at disk op->i on: undo it and the ones before. */
static void
plug_undo (struct plug_op *op)
{
  op->unplug = true;
  op->tried = 0;
  unplug_next (op);
}

static void
on_step (struct sandbox *sb, struct qmp_cmd *cmd, const ko_error *err)
{
  struct plug_op *op = cmd->ctx;
  struct plugged_disk *pd = &op->c->pdisks[op->i];
  const struct ko_disk *d = &op->c->p->disks.v[op->i];
  (void)sb;
  if (!op->unplug)
    {
      if (err)
        {
          ko_error_setx (&op->err, err->status, "disk %s: %s", d->source,
                         err->msg);
          return plug_undo (op);
        }
      pd->done |= op->cur;
      if (op->cur == DISK_FD && pd->fd >= 0)
        {
          /* QEMU has its own copy now */
          close (pd->fd);
          pd->fd = -1;
        }
      return plug_next (op);
    }
  if (err)
    {
      log_warn ("container %s: unplug disk %s: %s", op->c->p->id, d->source,
                err->msg);
      if (op->err == NULL)
        ko_error_setx (&op->err, err->status, "unplug disk %s: %s", d->source,
                       err->msg);
    }
  else
    pd->done &= ~op->cur;
  unplug_next (op);
}

static void submit (struct plug_op *op, unsigned st, const char *what,
                    const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static void
submit (struct plug_op *op, unsigned st, const char *what, const char *fmt, ...)
{
  struct plugged_disk *pd = &op->c->pdisks[op->i];
  memset (&op->cmd, 0, sizeof op->cmd);
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (op->cmd.json, sizeof op->cmd.json, fmt, ap);
  va_end (ap);
  op->cmd.what = what;
  op->cmd.cb = on_step;
  op->cmd.ctx = op;
  op->cur = st;
  int timeout = MON_CALL_TIMEOUT_MS;
  if (st == DISK_FD && !op->unplug)
    {
      op->cmd.has_fd = true;
      op->cmd.fd = pd->fd;
    }
  if (st == DISK_DEV && op->unplug)
    {
      /* done when QEMU says the guest let it go */
      op->cmd.event = "DEVICE_DELETED";
      snprintf (op->cmd.ost_device, sizeof op->cmd.ost_device, "hp-blk%d",
                pd->slot);
      timeout = UNPLUG_TIMEOUT_MS;
    }
  qmp_submit (op->c->sb, &op->cmd, ko_now_ms () + (uint64_t)timeout);
}

static int
take_slot (struct container *c, size_t i, ko_error **err)
{
  struct sandbox *sb = c->sb;
  int n = sb->p->root_ports;
  for (int s = 0; s < n; s++)
    if (!(sb->ports_used & (1u << s)))
      {
        sb->ports_used |= 1u << s;
        c->pdisks[i].slot = s;
        return 0;
      }
  if (n == 0)
    return ko_error_setx (err, ENOSPC,
                          "disk %s: the pod's VM has no PCIe root port to "
                          "plug it into (only a sandbox that the "
                          "io.kubernetes.cri-o.ContainerType or "
                          "io.kubernetes.cri.container-type annotation "
                          "names gets some; its annotation %s sets how "
                          "many, and KATA_OCI_ROOT_PORTS for a VM without "
                          "them, such as podman's infra container's)",
                          c->p->disks.v[i].source, KO_VM_ROOT_PORTS_ANNOTATION);
  return ko_error_setx (err, ENOSPC,
                        "disk %s: no free PCIe root port in the pod's VM "
                        "(%d, all in use; the sandbox's annotation %s sets "
                        "how many)",
                        c->p->disks.v[i].source, n,
                        KO_VM_ROOT_PORTS_ANNOTATION);
}

static void
plug_send (struct plug_op *op, unsigned st)
{
  struct plugged_disk *pd = &op->c->pdisks[op->i];
  const struct ko_disk *d = &op->c->p->disks.v[op->i];
  int s = pd->slot;
  const char *ro = d->readonly ? "true" : "false";
  char lim[160];
  switch (st)
    {
    case DISK_FD:
      return submit (op, st, "add-fd",
                     "{\"execute\": \"add-fd\", \"arguments\": "
                     "{\"fdset-id\": %d, \"opaque\": \"%s\"}}",
                     KO_HP_FDSET (s), d->serial);
    case DISK_TG:
      disks_limits_json (lim, sizeof lim, d->limits);
      return submit (op, st, "object-add throttle-group",
                     "{\"execute\": \"object-add\", \"arguments\": "
                     "{\"qom-type\": \"throttle-group\", \"id\": "
                     "\"hp-tg%d\", \"limits\": %s}}",
                     s, lim);
    case DISK_FILE:
      return submit (op, st, "blockdev-add",
                     "{\"execute\": \"blockdev-add\", \"arguments\": "
                     "{\"driver\": \"%s\", \"node-name\": \"hp-file%d\", "
                     "\"filename\": \"/dev/fdset/%d\", \"read-only\": %s, "
                     "\"aio\": \"threads\"}}",
                     d->blockdev ? "host_device" : "file", s, KO_HP_FDSET (s),
                     ro);
    case DISK_THR:
      return submit (op, st, "blockdev-add throttle",
                     "{\"execute\": \"blockdev-add\", \"arguments\": "
                     "{\"driver\": \"throttle\", \"node-name\": "
                     "\"hp-thr%d\", \"throttle-group\": \"hp-tg%d\", "
                     "\"file\": \"hp-file%d\", \"read-only\": %s}}",
                     s, s, s, ro);
    default:
      return submit (op, st, "device_add",
                     "{\"execute\": \"device_add\", \"arguments\": "
                     "{\"driver\": \"virtio-blk-pci\", \"id\": "
                     "\"hp-blk%d\", \"drive\": \"hp-thr%d\", \"serial\": "
                     "\"%s\", \"bus\": \"rp%d\"}}",
                     s, s, d->serial, s);
    }
}

static void
plug_next (struct plug_op *op)
{
  struct container *c = op->c;
  for (; op->i < c->npdisks; op->i++)
    {
      struct plugged_disk *pd = &c->pdisks[op->i];
      _cleanup_error_ ko_error *err = NULL;
      if (pd->slot < 0 && take_slot (c, op->i, &err) < 0)
        {
          ko_error_setx (&op->err, err->status, "%s", err->msg);
          return plug_undo (op);
        }
      for (size_t k = 0; k < KO_ARRAY_SIZE (steps); k++)
        if (!(pd->done & steps[k].st))
          return plug_send (op, steps[k].st);
      log_debug ("container %s: disk %s plugged on rp%d", c->p->id,
                 c->p->disks.v[op->i].source, pd->slot);
    }
  op_end (op);
}

static void
unplug_send (struct plug_op *op, unsigned st)
{
  int s = op->c->pdisks[op->i].slot;
  switch (st)
    {
    case DISK_DEV:
      return submit (op, st, "device_del",
                     "{\"execute\": \"device_del\", \"arguments\": "
                     "{\"id\": \"hp-blk%d\"}}",
                     s);
    case DISK_THR:
    case DISK_FILE:
      return submit (op, st, "blockdev-del",
                     "{\"execute\": \"blockdev-del\", \"arguments\": "
                     "{\"node-name\": \"hp-%s%d\"}}",
                     st == DISK_THR ? "thr" : "file", s);
    case DISK_TG:
      return submit (op, st, "object-del",
                     "{\"execute\": \"object-del\", \"arguments\": "
                     "{\"id\": \"hp-tg%d\"}}",
                     s);
    default:
      return submit (op, st, "remove-fd",
                     "{\"execute\": \"remove-fd\", \"arguments\": "
                     "{\"fdset-id\": %d}}",
                     KO_HP_FDSET (s));
    }
}

/* Disk op->i's steps newest first, then the disk before; a step that
 * failed leaves what is built under it (QEMU would refuse), and its root
 * port taken. */
static void
unplug_next (struct plug_op *op)
{
  struct container *c = op->c;
  for (;;)
    {
      struct plugged_disk *pd = &c->pdisks[op->i];
      for (size_t k = KO_ARRAY_SIZE (steps); k-- > 0;)
        {
          unsigned st = steps[k].st;
          if (!(pd->done & st) || (op->tried & st))
            continue;
          op->tried |= st;
          if (!(pd->done & steps[k].needs_gone))
            return unplug_send (op, st);
        }
      if (pd->fd >= 0)
        close (pd->fd);
      pd->fd = -1;
      if (pd->slot >= 0 && pd->done == 0)
        {
          c->sb->ports_used &= ~(1u << pd->slot);
          pd->slot = -1;
        }
      if (op->i == 0)
        return op_end (op);
      op->i--;
      op->tried = 0;
    }
}

static void
start (struct container *c, bool unplug, disks_done_cb cb, void *ctx)
{
  struct plug_op *op = calloc (1, sizeof *op);
  if (op == NULL)
    {
      _cleanup_error_ ko_error *err = NULL;
      ko_error_set (&err, ENOMEM, "disks");
      return cb (c, ctx, err);
    }
  *op = (struct plug_op){ .c = c, .unplug = unplug, .cb = cb, .ctx = ctx };
  if (unplug && c->sb->vm_gone)
    {
      /* QEMU took all of it along */
      disks_close (c);
      for (size_t i = 0; i < c->npdisks; i++)
        c->pdisks[i].done = 0;
    }
  if (c->npdisks == 0)
    return op_end (op);
  if (!unplug)
    return plug_next (op);
  op->i = c->npdisks - 1;
  unplug_next (op);
}

void
disks_plug (struct container *c, disks_done_cb cb, void *ctx)
{
  start (c, false, cb, ctx);
}

void
disks_unplug (struct container *c, disks_done_cb cb, void *ctx)
{
  start (c, true, cb, ctx);
}

void
disks_close (struct container *c)
{
  for (size_t i = 0; i < c->npdisks; i++)
    if (c->pdisks[i].fd >= 0)
      {
        close (c->pdisks[i].fd);
        c->pdisks[i].fd = -1;
      }
}

void
disks_limits_json (char *out, size_t len, const uint64_t *l)
{
  snprintf (out, len,
            "{\"bps-read\": %llu, \"bps-write\": %llu, \"iops-read\": "
            "%llu, \"iops-write\": %llu}",
            (unsigned long long)l[KO_THR_BPS_READ],
            (unsigned long long)l[KO_THR_BPS_WRITE],
            (unsigned long long)l[KO_THR_IOPS_READ],
            (unsigned long long)l[KO_THR_IOPS_WRITE]);
}

void
disks_tg_path (const struct container *c, size_t i, char *out, size_t len)
{
  if (c->member && i < c->npdisks)
    snprintf (out, len, "/objects/hp-tg%d", c->pdisks[i].slot);
  else
    snprintf (out, len, "/objects/tg%zu", i);
}
