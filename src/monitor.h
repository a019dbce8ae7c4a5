/* The per-sandbox monitor: owns QEMU and virtiofsd, the one channel to the
 * agent (multiplexed), the host ends of the container's stdio, and
 * monitor.sock for the CLI. */
#ifndef KO_MONITOR_H
#define KO_MONITOR_H

#include <stdbool.h>

#include "error.h"
#include "proto.h"
#include "settings.h"
#include "state.h"

/* Requests the CLI sends on monitor.sock (REQUEST frames, same framing as the
 * agent channel). */
enum ko_mon_method
{
  KO_MON_START = 1,   /* start the container init */
  KO_MON_KILL = 2,    /* SIGNAL, ALL */
  KO_MON_DESTROY = 3, /* stop the VM, clean up, exit */
  KO_MON_PAUSE = 4,
  KO_MON_RESUME = 5,
  KO_MON_PS = 6, /* reply: PID, repeated */
  /* Start a process in the container: EXEC_ID, PROCESS, CONSOLE_SOCKET?;
   * the caller's stdio fds come with it (SCM_RIGHTS). Reply: PID. The
   * connection stays open: the caller may send KILL (SIGNAL) and RESIZE
   * (ROWS, COLS) on it, and gets EVENT ProcessExited (STATUS) at the end. */
  KO_MON_EXEC = 7,
  KO_MON_RESIZE = 8,
  /* New resources: VALUE holds linux.resources as JSON. Applied in the
   * guest (UpdateContainer) and on the sandbox's host cgroup. */
  KO_MON_UPDATE = 9,
  /* Reply: the agent's STAT_* fields plus the VM's host-side usage and the
   * number of OOM kills seen (KO_MON_TAG_*). */
  KO_MON_STATS = 10,
};

/* monitor.sock only (never on the guest channel) */
#define KO_MON_TAG_CONSOLE_SOCKET 1000
#define KO_MON_TAG_VM_RSS 1001    /* u64 bytes: QEMU's RSS on the host */
#define KO_MON_TAG_VM_CPU_NS 1002 /* u64: QEMU's CPU time on the host */
#define KO_MON_TAG_OOM_COUNT 1003 /* u64: OOM events from the guest */

/* A host path bind-mounted into the share, in the monitor's private mount
 * namespace, before virtiofsd starts. */
struct share_bind
{
  char *source;   /* host path (file or directory) */
  char *dest;     /* path relative to <dir>/shared/ */
  char *ctr_dest; /* where the container sees it */
  bool readonly;  /* also read-only on the host side */
};

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
  struct ko_process process;   /* stream ids are filled in by the monitor */
  struct ko_buf container_tlv; /* extra CreateContainer fields */
  struct ko_state state;       /* what to record once created */
  struct share_bind *binds;    /* volumes: filled by translate_container */
  size_t nbinds;
  /* the parsed config.json: still valid in the forked monitor (hooks) */
  const struct oci_spec *spec;
  /* the locked state dir of a foreground `run`: released once created */
  int lock_fd;
};

/* Runs a sandbox to its end. When report_fd >= 0 (create), it writes "" on
 * success or the error message once the container is created, then closes it.
 * Returns the container's exit status (code or 128+signal), or -1 with *err
 * when the sandbox could not be created. */
int monitor_run (struct monitor_params *p, int report_fd, ko_error **err);

/* CLI side: one request to a monitor, waiting for the reply. */
int monitor_call (const char *dir, uint16_t method, const struct ko_buf *body,
                  struct ko_buf *reply, int timeout_ms, ko_error **err);

#endif
