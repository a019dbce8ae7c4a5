/* The per-sandbox monitor's entry point (src/monitor/): it owns QEMU and
 * virtiofsd, the one channel to the agent (multiplexed), the host ends of
 * the containers' stdio, and monitor.sock, whose requests are in
 * monproto.h and whose client is client.h. */
#ifndef KO_MONITOR_H
#define KO_MONITOR_H

#include <stdbool.h>

#include "error.h"
#include "holder.h"
#include "proto.h"
#include "settings.h"
#include "state.h"
#include "translate.h"

/* How long a pod's members may take to end once its sandbox's init has
 * (the monitor's grace; a delete of that container waits for it). */
#define KO_POD_GRACE_MS 10000

struct monitor_params
{
  const char *id;
  const char *dir;    /* state dir */
  const char *rootfs; /* host path of the container's rootfs */
  const char *hostname;
  const char *console_socket;
  /* linux.namespaces' network path: its interfaces go into the VM */
  const char *netns_path;
  bool foreground; /* `run` without -d: the CLI process is the monitor */
  bool autostart;  /* `run`: start right after create */
  struct ko_settings settings;
  int memory_mb, vcpus;
  int max_memory_mb; /* what hotplug may grow the VM to; 0: host memory */
  int root_ports;    /* for members' disks: a pod's sandbox only */
  struct ko_process process;   /* stream ids are filled in by the monitor */
  struct ko_buf container_tlv; /* extra CreateContainer fields */
  struct ko_state state;       /* what to record once created */
  struct share_bind *binds;    /* volumes: filled by translate_container */
  size_t nbinds;
  /* disks (virtio-blk), their host fds open: filled by translate_container */
  struct ko_disks disks;
  /* the rootfs as a disk (its serial set) or over the share */
  struct ko_rootfs_disk rootfs_disk;
  /* the parsed config.json: still valid in the forked monitor (hooks) */
  const struct oci_spec *spec;
  /* the locked state dir of a foreground `run`: released once created */
  int lock_fd;
  /* the namespaces of the container's holder (pod.c takes them from the
   * spec before it leaves only what the guest makes) */
  struct holder_ns holder_ns;
  bool systemd_cgroup; /* --systemd-cgroup */
};

/* Runs a sandbox to its end. When report_fd >= 0 (create), it writes "" on
 * success or the error message once the container is created, then closes it.
 * Returns the container's exit status (code or 128+signal), or -1 with *err
 * when the sandbox could not be created. */
int monitor_run (struct monitor_params *p, int report_fd, ko_error **err);

/* What must hold before a sandbox is started (assets, host cgroup). */
int monitor_preflight (const struct monitor_params *p, ko_error **err);
/* After a monitor was killed: its recorded processes (checked against
 * their start times) and the network namespace's qdiscs. */
void monitor_reclaim (const struct ko_state *st);
/* The sandbox's host cgroup, normally gone with the monitor. */
void monitor_reclaim_cgroup (const struct oci_spec *spec);

#endif
