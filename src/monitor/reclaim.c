/* The sandbox's operations that run in the CLI, not in the monitor:
 * what must hold before one is started, and what is left to reclaim when
 * its monitor was killed. */
#include "config.h"

#include "cgroup.h"
#include "hypervisor.h"
#include "monitor.h"
#include "network.h"
#include "proc.h"

int
monitor_preflight (const struct monitor_params *p, ko_error **err)
{
  if (cgroup_sandbox_check (p->spec, p->systemd_cgroup, err) < 0)
    return -1;
  return hypervisor_check_assets (&p->settings, err);
}

void
monitor_reclaim (const struct ko_state *st)
{
  proc_kill_recorded (st->holder_pid, st->holder_start);
  /* a pod member's monitor and VM are its sandbox's */
  if (st->sandbox)
    return;
  proc_kill_recorded (st->monitor_pid, st->monitor_start);
  proc_kill_recorded (st->qemu_pid, st->qemu_start);
  proc_kill_recorded (st->virtiofsd_pid, st->virtiofsd_start);
  if (st->netns)
    network_reclaim (st->netns);
}

void
monitor_reclaim_cgroup (const struct oci_spec *spec)
{
  cgroup_sandbox_remove (spec);
}
