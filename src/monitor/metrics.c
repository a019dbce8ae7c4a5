/* KO_MON_METRICS: what the sandbox costs and does. The host side (its
 * processes from /proc, the channel, the agent's answer times, the taps)
 * is read at once; the guest's side is one GuestMetrics call with a short
 * deadline, so that a silent guest delays a scrape by at most
 * KO_MON_GUEST_DEADLINE_MS and never holds anything else. Reads only. */
#include "config.h"

#include "log.h"
#include "proc.h"
#include "sandbox.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct metrics_op
{
  struct cli_conn *conn;
  struct ko_mon_metrics m;
  uint64_t asked_ns;
};

static void
add_proc (struct ko_mon_metrics *m, const char *role, const char *cid,
          pid_t pid)
{
  uint32_t has;
  uint64_t v[KO_PV_N] = { 0 };
  if (pid <= 0)
    return;
  proc_usage (pid, &has, v);
  if (has)
    ko_mon_metrics_add_proc (m, role, cid, (uint32_t)pid, has, v);
}

/* The taps' counters, as the pod's network namespace sees them: through
 * /proc/PID/net/dev of the sandbox's holder, which stands in it. */
static void
add_nics (struct sandbox *sb, struct ko_mon_metrics *m)
{
  struct container *c = sb->ctrs[0];
  if (sb->net.nlinks == 0 || c == NULL || c->holder_pid <= 0)
    return;
  char buf[8192];
  if (proc_read (c->holder_pid, "net/dev", buf, sizeof buf) <= 0)
    return;
  for (char *l = strchr (buf, '\n'); l && m->nnics < KO_MON_MAX_NICS;
       l = strchr (l + 1, '\n'))
    {
      char name[KO_IFNAMSIZ + 1];
      unsigned long long rb, rp, tb, tp;
      /* "  tap0: rxbytes rxpackets errs drop fifo frame compressed
       * multicast txbytes txpackets ..." */
      if (sscanf (l + 1,
                  " %16[^:]: %llu %llu %*u %*u %*u %*u %*u %*u %llu %llu", name,
                  &rb, &rp, &tb, &tp)
          != 5)
        continue;
      for (size_t i = 0; i < sb->net.nlinks; i++)
        if (strcmp (name, sb->net.links[i].tap_name) == 0)
          {
            struct ko_mon_nic *nic = &m->nics[m->nnics++];
            memcpy (nic->name, sb->net.links[i].tap_name, sizeof nic->name);
            nic->v[KO_NIC_RX_BYTES] = rb;
            nic->v[KO_NIC_RX_PACKETS] = rp;
            nic->v[KO_NIC_TX_BYTES] = tb;
            nic->v[KO_NIC_TX_PACKETS] = tp;
            break;
          }
    }
}

static void
host_side (struct sandbox *sb, struct ko_mon_metrics *m)
{
  add_proc (m, "qemu", NULL, sb->vm_gone ? 0 : sb->qemu_pid);
  add_proc (m, "virtiofsd", NULL, sb->virtiofsd_pid);
  add_proc (m, "monitor", NULL, getpid ());
  for (size_t i = 0; i < sb->nctrs; i++)
    {
      struct container *c = sb->ctrs[i];
      if (!c->holder_gone)
        add_proc (m, "holder", c->p->id, c->holder_pid);
    }
  add_nics (sb, m);
  memcpy (m->chan, sb->chan, sizeof m->chan);
  uint64_t now = ko_now_ns ();
  m->uptime_ns = now - sb->start_ns;
  m->boot_ns = sb->hello_ns ? sb->hello_ns - sb->start_ns : 0;
  for (unsigned k = 0; k < KO_MON_MAX_METHODS; k++)
    if (sb->lat[k].count)
      {
        struct ko_mon_latency *l = realloc (m->lat, (m->nlat + 1) * sizeof *l);
        if (l == NULL)
          break;
        m->lat = l;
        l[m->nlat++] = sb->lat[k];
      }
}

static void
op_reply (struct metrics_op *op)
{
  _cleanup_buf_ struct ko_buf b = { 0 };
  _cleanup_error_ ko_error *err = NULL;
  if (ko_mon_metrics_encode (&b, &op->m) < 0)
    ko_error_setx (&err, ENOMEM, "metrics: cannot encode the reply");
  cli_conn_reply (op->conn, err, err ? NULL : &b);
  ko_mon_metrics_clear (&op->m);
  free (op);
}

static void
on_guest (struct sandbox *sb, void *ctx, const union ko_msg_reply *reply,
          const ko_error *err)
{
  struct metrics_op *op = ctx;
  (void)sb;
  op->m.guest_ns = ko_now_ns () - op->asked_ns;
  if (err == NULL)
    {
      /* a copy: the reply is agent.c's, valid during this call only */
      const struct ko_msg_guest_metrics_reply *g = &reply->guest_metrics;
      op->m.guest.has = g->has;
      memcpy (op->m.guest.v, g->v, sizeof g->v);
      for (size_t i = 0; i < g->nctrs; i++)
        ko_msg_guest_metrics_add (&op->m.guest, g->ctrs[i].id,
                                  &g->ctrs[i].stats);
      op->m.guest_up = true;
    }
  else
    log_debug ("container %s: metrics: %s", sb->p->id, err->msg);
  op_reply (op);
}

void
metrics_request (struct cli_conn *conn)
{
  struct sandbox *sb = conn->sb;
  struct metrics_op *op = calloc (1, sizeof *op);
  _cleanup_error_ ko_error *err = NULL;
  if (op == NULL)
    {
      ko_error_setx (&err, ENOMEM, "metrics");
      return cli_conn_reply (conn, err, NULL);
    }
  op->conn = conn;
  op->asked_ns = ko_now_ns ();
  /* the guest first: it works while the host side is read */
  union ko_msg_request req = { .guest_metrics = { 0 } };
  bool asked = sb->hello
               && agent_call (sb, KO_M_GUEST_METRICS, &req,
                              KO_MON_GUEST_DEADLINE_MS, on_guest, op, &err)
                      == 0;
  host_side (sb, &op->m);
  if (!asked)
    op_reply (op); /* the VM is gone: the host side alone */
}
