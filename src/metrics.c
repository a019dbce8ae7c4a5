#include "config.h"

#include "client.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "monproto.h"
#include "proc.h"
#include "prom.h"
#include "state.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---------- gathering ---------- */

static const char *const states[]
    = { "creating", "created", "running", "paused", "stopped", "unknown" };
#define NSTATES KO_ARRAY_SIZE (states)

struct sb_entry
{
  char *id;
  char *dir;
  struct ko_state st;
  bool named;
  int fd;
  struct ko_buf in;
  bool answered;
  struct ko_mon_metrics m;
  struct ko_prom_labels labels; /* sandbox_id and the pod's */
};

struct scrape
{
  struct sb_entry *sbs;
  size_t nsbs;
  uint64_t sandboxes[NSTATES], containers[NSTATES];
};

static size_t
state_index (const char *s)
{
  for (size_t i = 0; i + 1 < NSTATES; i++)
    if (strcmp (s, states[i]) == 0)
      return i;
  return NSTATES - 1;
}

static const char *
annotation (const struct ko_state *st, const char *const *keys)
{
  for (; *keys; keys++)
    for (char **a = st->annotations; a && a[0] && a[1]; a += 2)
      if (strcmp (a[0], *keys) == 0 && a[1][0])
        return a[1];
  return NULL;
}

/* The pod's name, namespace and uid as containerd's CRI, CRI-O and the
 * kubelet's labels pass them. */
static void
entry_labels (struct sb_entry *e)
{
  static const char *const name[]
      = { "io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name",
          "io.kubernetes.cri-o.KubeName", NULL };
  static const char *const ns[]
      = { "io.kubernetes.cri.sandbox-namespace", "io.kubernetes.pod.namespace",
          "io.kubernetes.cri-o.Namespace", NULL };
  static const char *const uid[]
      = { "io.kubernetes.cri.sandbox-uid", "io.kubernetes.pod.uid", NULL };
  ko_prom_labels_add (&e->labels, "sandbox_id", e->id);
  ko_prom_labels_add (&e->labels, "pod_name", annotation (&e->st, name));
  ko_prom_labels_add (&e->labels, "pod_namespace", annotation (&e->st, ns));
  ko_prom_labels_add (&e->labels, "pod_uid", annotation (&e->st, uid));
}

static void
scrape_free (struct scrape *s)
{
  for (size_t i = 0; i < s->nsbs; i++)
    {
      struct sb_entry *e = &s->sbs[i];
      free (e->id);
      free (e->dir);
      state_clear (&e->st);
      if (e->fd >= 0)
        close (e->fd);
      ko_buf_free (&e->in);
      ko_mon_metrics_clear (&e->m);
    }
  free (s->sbs);
  memset (s, 0, sizeof *s);
}

static struct sb_entry *
scrape_find (struct scrape *s, const char *id)
{
  for (size_t i = 0; i < s->nsbs; i++)
    if (strcmp (s->sbs[i].id, id) == 0)
      return &s->sbs[i];
  return NULL;
}

/* Every container of the root: counted by state; sandboxes kept. */
static int
scan_root (const char *root, struct scrape *s, ko_error **err)
{
  DIR *d = opendir (root);
  if (d == NULL)
    return errno == ENOENT ? 0 : ko_error_set (err, errno, "open %s", root);
  struct dirent *de;
  int r = 0;
  while ((de = readdir (d)) != NULL && r == 0)
    {
      if (de->d_name[0] == '.' || state_validate_id (de->d_name, NULL) < 0)
        continue;
      _cleanup_close_ int fd
          = openat (dirfd (d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      struct ko_state st = { 0 };
      if (fd < 0 || state_read (fd, &st, NULL) < 0)
        {
          /* a create in progress holds the lock and has no state yet */
          bool busy = fd >= 0 && flock (fd, LOCK_SH | LOCK_NB) < 0;
          s->containers[state_index (busy ? "creating" : "unknown")]++;
          continue;
        }
      size_t k = state_index (state_status (&st));
      s->containers[k]++;
      if (st.sandbox)
        {
          state_clear (&st);
          continue;
        }
      s->sandboxes[k]++;
      struct sb_entry *n = realloc (s->sbs, (s->nsbs + 1) * sizeof *n);
      if (n == NULL)
        {
          state_clear (&st);
          r = ko_error_set (err, ENOMEM, "metrics");
          break;
        }
      s->sbs = n;
      struct sb_entry *e = &n[s->nsbs++];
      memset (e, 0, sizeof *e);
      e->fd = -1;
      e->st = st;
      e->id = strdup (de->d_name);
      e->dir = state_dir_path (root, de->d_name);
      if (e->id == NULL || e->dir == NULL)
        r = ko_error_set (err, ENOMEM, "metrics");
      else
        entry_labels (e);
    }
  closedir (d);
  return r;
}

/* The ids named: each must be a container of the root; a pod member
 * stands for its sandbox. */
static int
mark_named (const char *root, struct scrape *s, char *const *ids,
            ko_error **err)
{
  for (; *ids; ids++)
    {
      _cleanup_close_ int fd = -1;
      _cleanup_state_ struct ko_state st = { 0 };
      if (state_validate_id (*ids, err) < 0)
        return -1;
      _cleanup_free_ char *dir = state_dir_path (root, *ids);
      if (dir == NULL)
        return ko_error_set (err, ENOMEM, "metrics");
      fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        return ko_error_setx (err, ENOENT, "container %s does not exist", *ids);
      if (state_read (fd, &st, err) < 0)
        return ko_error_wrap (err, "container %s", *ids);
      struct sb_entry *e = scrape_find (s, st.sandbox ? st.sandbox : *ids);
      if (e == NULL)
        return ko_error_setx (err, ENOENT,
                              "container %s: its sandbox %s does not exist",
                              *ids, st.sandbox);
      e->named = true;
    }
  return 0;
}

/* Asks every monitor at once and reads the answers as they come. */
static void
ask_monitors (struct scrape *s, bool only_named, bool warn)
{
  struct pollfd *pfd = calloc (s->nsbs ? s->nsbs : 1, sizeof *pfd);
  size_t *which = calloc (s->nsbs ? s->nsbs : 1, sizeof *which);
  if (pfd == NULL || which == NULL)
    goto out;
  for (size_t i = 0; i < s->nsbs; i++)
    {
      struct sb_entry *e = &s->sbs[i];
      _cleanup_error_ ko_error *err = NULL;
      if (only_named && !e->named)
        continue;
      if (!proc_alive (e->st.monitor_pid, e->st.monitor_start))
        {
          /* recorded as alive, gone now: killed */
          if (warn && e->st.status && strcmp (e->st.status, "stopped") != 0)
            log_warn ("sandbox %s: its monitor (pid %d) is gone: no metrics "
                      "(kata_monitor_up 0)",
                      e->id, (int)e->st.monitor_pid);
          continue;
        }
      e->fd = client_metrics_send (e->dir, &err);
      if (e->fd < 0 && warn)
        log_warn ("sandbox %s: %s", e->id, err->msg);
    }
  uint64_t end = ko_now_ms () + KO_METRICS_TIMEOUT_MS;
  for (;;)
    {
      size_t n = 0;
      for (size_t i = 0; i < s->nsbs; i++)
        if (s->sbs[i].fd >= 0)
          {
            pfd[n] = (struct pollfd){ .fd = s->sbs[i].fd, .events = POLLIN };
            which[n++] = i;
          }
      uint64_t now = ko_now_ms ();
      if (n == 0 || now >= end)
        break;
      if (poll (pfd, n, (int)(end - now)) < 0 && errno != EINTR)
        break;
      for (size_t j = 0; j < n; j++)
        {
          struct sb_entry *e = &s->sbs[which[j]];
          _cleanup_error_ ko_error *err = NULL;
          if (pfd[j].revents == 0)
            continue;
          int r = client_metrics_read (e->fd, &e->in, &e->m, &err);
          if (r == 0)
            continue;
          e->answered = r > 0;
          if (r < 0 && warn)
            log_warn ("sandbox %s: %s", e->id, err->msg);
          close (e->fd);
          e->fd = -1;
        }
    }
  for (size_t i = 0; i < s->nsbs; i++)
    if (s->sbs[i].fd >= 0 && warn)
      log_warn ("sandbox %s: no answer from the monitor", s->sbs[i].id);
out:
  free (pfd);
  free (which);
}

/* ---------- the exposition ---------- */

struct render
{
  struct scrape *s;
  bool only_named;
  struct ko_buf *out;
  ko_error **err;
};

static bool
selected (const struct render *r, const struct sb_entry *e)
{
  return !r->only_named || e->named;
}

#define FOR_SANDBOXES(r, e)                                                    \
  for (struct sb_entry *e = (r)->s->sbs; e < (r)->s->sbs + (r)->s->nsbs; e++)  \
    if (selected (r, e))

/* A sample whose labels are the sandbox's plus one more (name NULL: none). */
static int
sb_u64 (struct render *r, const struct sb_entry *e, const char *metric,
        const char *lname, const char *lvalue, uint64_t v, bool ns)
{
  struct ko_prom_labels l = e->labels;
  if (lname)
    ko_prom_labels_add (&l, lname, lvalue);
  return ns ? ko_prom_ns (r->out, metric, &l, v, r->err)
            : ko_prom_u64 (r->out, metric, &l, v, r->err);
}

static int
runtime_part (struct render *r)
{
  static const struct
  {
    const char *name, *help;
    size_t off;
  } fams[] = {
    { "kata_sandboxes", "Sandboxes (VMs) under the root, by state.",
      offsetof (struct scrape, sandboxes) },
    { "kata_containers",
      "Containers under the root (sandboxes and pod members), by state.",
      offsetof (struct scrape, containers) },
  };
  for (size_t f = 0; f < KO_ARRAY_SIZE (fams); f++)
    {
      const uint64_t *v = (const uint64_t *)((char *)r->s + fams[f].off);
      if (ko_prom_family (r->out, fams[f].name, "gauge", fams[f].help, r->err)
          < 0)
        return -1;
      for (size_t k = 0; k < NSTATES; k++)
        {
          struct ko_prom_labels l = { 0 };
          ko_prom_labels_add (&l, "state", states[k]);
          if (ko_prom_u64 (r->out, fams[f].name, &l, v[k], r->err) < 0)
            return -1;
        }
    }
  return 0;
}

static int
up_part (struct render *r)
{
  if (ko_prom_family (r->out, "kata_monitor_up", "gauge",
                      "1 when the sandbox's monitor answered this scrape, 0 "
                      "when it is not running or did not answer in time.",
                      r->err)
      < 0)
    return -1;
  FOR_SANDBOXES (r, e)
  if (sb_u64 (r, e, "kata_monitor_up", NULL, NULL, e->answered, false) < 0)
    return -1;
  if (ko_prom_family (r->out, "kata_guest_up", "gauge",
                      "1 when the guest agent answered this scrape within "
                      "500 ms (the kata_guest_* and kata_container_* "
                      "metrics come from that answer), else 0.",
                      r->err)
      < 0)
    return -1;
  FOR_SANDBOXES (r, e)
  if (sb_u64 (r, e, "kata_guest_up", NULL, NULL, e->answered && e->m.guest_up,
              false)
      < 0)
    return -1;
  return 0;
}

/* The host processes: a family per role and value. */
static int
process_part (struct render *r)
{
  static const struct
  {
    const char *role, *prefix, *what;
  } roles[] = {
    { "qemu", "kata_hypervisor", "the sandbox's QEMU" },
    { "virtiofsd", "kata_virtiofsd", "the sandbox's virtiofsd" },
    { "monitor", "kata_monitor", "the sandbox's monitor process" },
    { "holder", "kata_holder", "a container's holder process" },
  };
  static const struct
  {
    const char *suffix, *type, *help;
    bool ns;
  } vals[KO_PV_N] = {
    [KO_PV_RSS] = { "rss_bytes", "gauge", "Resident set size of %s.", false },
    [KO_PV_PSS] = { "pss_bytes", "gauge",
                    "Proportional set size of %s (/proc/PID/smaps_rollup): "
                    "its share of the host memory it uses.",
                    false },
    [KO_PV_CPU_USER_NS] = { "cpu_user_seconds_total", "counter",
                            "CPU time of %s in user mode.", true },
    [KO_PV_CPU_SYSTEM_NS] = { "cpu_system_seconds_total", "counter",
                              "CPU time of %s in kernel mode.", true },
    [KO_PV_THREADS] = { "threads", "gauge", "Threads of %s.", false },
    [KO_PV_FDS]
    = { "open_fds", "gauge", "Open file descriptors of %s.", false },
    [KO_PV_READ_BYTES] = { "io_read_bytes_total", "counter",
                           "Bytes %s read through system calls "
                           "(/proc/PID/io rchar).",
                           false },
    [KO_PV_WRITE_BYTES] = { "io_write_bytes_total", "counter",
                            "Bytes %s wrote through system calls "
                            "(/proc/PID/io wchar).",
                            false },
  };
  for (size_t ro = 0; ro < KO_ARRAY_SIZE (roles); ro++)
    for (unsigned k = 0; k < KO_PV_N; k++)
      {
        char name[96], help[256];
        snprintf (name, sizeof name, "%s_%s", roles[ro].prefix, vals[k].suffix);
        snprintf (help, sizeof help, vals[k].help, roles[ro].what);
        if (ko_prom_family (r->out, name, vals[k].type, help, r->err) < 0)
          return -1;
        FOR_SANDBOXES (r, e)
        for (size_t i = 0; e->answered && i < e->m.nprocs; i++)
          {
            const struct ko_mon_proc *p = &e->m.procs[i];
            if (strcmp (p->role, roles[ro].role) != 0 || !(p->has & (1u << k)))
              continue;
            if (sb_u64 (r, e, name, p->container_id ? "container_id" : NULL,
                        p->container_id, p->v[k], vals[k].ns)
                < 0)
              return -1;
          }
      }
  return 0;
}

static int
channel_part (struct render *r)
{
  static const struct
  {
    const char *name, *help;
    unsigned to, from;
  } fams[] = {
    { "kata_agent_channel_frames_total",
      "Frames on the channel to the guest agent, by direction.",
      KO_CHAN_FRAMES_OUT, KO_CHAN_FRAMES_IN },
    { "kata_agent_channel_bytes_total",
      "Bytes on the channel to the guest agent, by direction.",
      KO_CHAN_BYTES_OUT, KO_CHAN_BYTES_IN },
  };
  for (size_t f = 0; f < KO_ARRAY_SIZE (fams); f++)
    {
      if (ko_prom_family (r->out, fams[f].name, "counter", fams[f].help, r->err)
          < 0)
        return -1;
      FOR_SANDBOXES (r, e)
      if (e->answered
          && (sb_u64 (r, e, fams[f].name, "direction", "to_guest",
                      e->m.chan[fams[f].to], false)
                  < 0
              || sb_u64 (r, e, fams[f].name, "direction", "from_guest",
                         e->m.chan[fams[f].from], false)
                     < 0))
        return -1;
    }
  return 0;
}

static int
latency_part (struct render *r)
{
  const char *name = "kata_agent_request_duration_seconds";
  if (ko_prom_family (r->out, name, "histogram",
                      "Time from sending a request to the guest agent to its "
                      "answer, by request type, since the sandbox started.",
                      r->err)
      < 0)
    return -1;
  FOR_SANDBOXES (r, e)
  for (size_t i = 0; e->answered && i < e->m.nlat; i++)
    {
      const struct ko_mon_latency *lat = &e->m.lat[i];
      struct ko_prom_labels l = e->labels;
      ko_prom_labels_add (&l, "request", ko_method_name (lat->method));
      for (unsigned k = 0; k <= KO_MON_LAT_BUCKETS; k++)
        {
          char le[32];
          struct ko_prom_labels lb = l;
          if (k < KO_MON_LAT_BUCKETS)
            snprintf (le, sizeof le, "%g", ko_mon_lat_bounds_us[k] / 1e6);
          else
            snprintf (le, sizeof le, "+Inf");
          ko_prom_labels_add (&lb, "le", le);
          if (ko_prom_u64 (
                  r->out, "kata_agent_request_duration_seconds_bucket", &lb,
                  k < KO_MON_LAT_BUCKETS ? lat->buckets[k] : lat->count, r->err)
              < 0)
            return -1;
        }
      if (ko_prom_ns (r->out, "kata_agent_request_duration_seconds_sum", &l,
                      lat->sum_ns, r->err)
              < 0
          || ko_prom_u64 (r->out, "kata_agent_request_duration_seconds_count",
                          &l, lat->count, r->err)
                 < 0)
        return -1;
    }
  return 0;
}

static int
times_part (struct render *r)
{
  static const struct
  {
    const char *name, *help;
    size_t off;
    bool guest;
  } fams[] = {
    { "kata_sandbox_boot_seconds",
      "Time from the sandbox's create (its monitor's start) to its guest "
      "agent's hello.",
      offsetof (struct ko_mon_metrics, boot_ns), false },
    { "kata_sandbox_uptime_seconds", "Time since the sandbox's create.",
      offsetof (struct ko_mon_metrics, uptime_ns), false },
    { "kata_guest_metrics_request_seconds",
      "How long the guest agent took to answer this scrape's GuestMetrics "
      "request (the guest's share of the scrape).",
      offsetof (struct ko_mon_metrics, guest_ns), true },
  };
  for (size_t f = 0; f < KO_ARRAY_SIZE (fams); f++)
    {
      if (ko_prom_family (r->out, fams[f].name, "gauge", fams[f].help, r->err)
          < 0)
        return -1;
      FOR_SANDBOXES (r, e)
      {
        uint64_t v = *(const uint64_t *)((const char *)&e->m + fams[f].off);
        if (e->answered && (!fams[f].guest || e->m.guest_up)
            && sb_u64 (r, e, fams[f].name, NULL, NULL, v, true) < 0)
          return -1;
      }
    }
  return 0;
}

static int
network_part (struct render *r)
{
  static const struct
  {
    const char *name, *help;
  } fams[KO_NIC_N] = {
    [KO_NIC_RX_BYTES] = { "kata_network_receive_bytes_total",
                          "Bytes the host side of the sandbox's tap "
                          "received: what the guest sent." },
    [KO_NIC_RX_PACKETS] = { "kata_network_receive_packets_total",
                            "Packets the host side of the sandbox's tap "
                            "received: what the guest sent." },
    [KO_NIC_TX_BYTES] = { "kata_network_transmit_bytes_total",
                          "Bytes the host side of the sandbox's tap sent: "
                          "what the guest received." },
    [KO_NIC_TX_PACKETS] = { "kata_network_transmit_packets_total",
                            "Packets the host side of the sandbox's tap "
                            "sent: what the guest received." },
  };
  for (unsigned k = 0; k < KO_NIC_N; k++)
    {
      if (ko_prom_family (r->out, fams[k].name, "counter", fams[k].help, r->err)
          < 0)
        return -1;
      FOR_SANDBOXES (r, e)
      for (size_t i = 0; e->answered && i < e->m.nnics; i++)
        if (sb_u64 (r, e, fams[k].name, "interface", e->m.nics[i].name,
                    e->m.nics[i].v[k], false)
            < 0)
          return -1;
    }
  return 0;
}

static bool
guest_ok (const struct sb_entry *e)
{
  return e->answered && e->m.guest_up;
}

static int
guest_part (struct render *r)
{
  static const struct
  {
    const char *name, *type, *help;
    uint16_t tag;
    const char *lname, *lvalue;
    int unit; /* 0 plain, 1 ns as seconds, 2 thousandths */
  } fams[] = {
    { "kata_guest_memory_total_bytes", "gauge",
      "The guest's memory (/proc/meminfo MemTotal).", KO_TAG_GM_MEM_TOTAL },
    { "kata_guest_memory_free_bytes", "gauge",
      "The guest's free memory (MemFree).", KO_TAG_GM_MEM_FREE },
    { "kata_guest_memory_available_bytes", "gauge",
      "The guest's available memory (MemAvailable).", KO_TAG_GM_MEM_AVAILABLE },
    { "kata_guest_memory_cached_bytes", "gauge",
      "The guest's page cache (Cached).", KO_TAG_GM_MEM_CACHED },
    { "kata_guest_cpu_seconds_total", "counter",
      "CPU time of the guest's CPUs (all of them), by mode.",
      KO_TAG_GM_CPU_USER_NS, "mode", "user", 1 },
    { NULL, NULL, NULL, KO_TAG_GM_CPU_SYSTEM_NS, "mode", "system", 1 },
    { NULL, NULL, NULL, KO_TAG_GM_CPU_IDLE_NS, "mode", "idle", 1 },
    { NULL, NULL, NULL, KO_TAG_GM_CPU_IOWAIT_NS, "mode", "iowait", 1 },
    { "kata_guest_load1", "gauge", "The guest's 1-minute load average.",
      KO_TAG_GM_LOAD1, NULL, NULL, 2 },
    { "kata_guest_load5", "gauge", "The guest's 5-minute load average.",
      KO_TAG_GM_LOAD5, NULL, NULL, 2 },
    { "kata_guest_load15", "gauge", "The guest's 15-minute load average.",
      KO_TAG_GM_LOAD15, NULL, NULL, 2 },
    { "kata_guest_processes", "gauge",
      "Processes in the guest, the agent and kernel threads included.",
      KO_TAG_GM_PROCS },
    { "kata_guest_uptime_seconds", "gauge", "The guest kernel's uptime.",
      KO_TAG_GM_UPTIME_NS, NULL, NULL, 1 },
    { "kata_agent_rss_bytes", "gauge",
      "Resident set size of the guest agent (PID 1 in the guest).",
      KO_TAG_GM_AGENT_RSS },
  };
  const char *name = NULL;
  for (size_t f = 0; f < KO_ARRAY_SIZE (fams); f++)
    {
      if (fams[f].name)
        {
          name = fams[f].name;
          if (ko_prom_family (r->out, name, fams[f].type, fams[f].help, r->err)
              < 0)
            return -1;
        }
      unsigned k = fams[f].tag - KO_TAG_GM_MEM_TOTAL;
      FOR_SANDBOXES (r, e)
      {
        if (!guest_ok (e) || !(e->m.guest.has & (1u << k)))
          continue;
        uint64_t v = e->m.guest.v[k];
        int rc;
        if (fams[f].unit == 2)
          {
            struct ko_prom_labels l = e->labels;
            rc = ko_prom_double (r->out, name, &l, v / 1000.0, r->err);
          }
        else
          rc = sb_u64 (r, e, name, fams[f].lname, fams[f].lvalue, v,
                       fams[f].unit == 1);
        if (rc < 0)
          return -1;
      }
    }
  return 0;
}

static int
container_part (struct render *r)
{
  static const struct
  {
    const char *name, *type, *help;
    uint16_t tag;
    bool ns;
  } fams[] = {
    { "kata_container_cpu_user_seconds_total", "counter",
      "CPU time of the container's guest cgroup in user mode.",
      KO_TAG_STAT_CPU_USER_NS, true },
    { "kata_container_cpu_system_seconds_total", "counter",
      "CPU time of the container's guest cgroup in kernel mode.",
      KO_TAG_STAT_CPU_SYSTEM_NS, true },
    { "kata_container_memory_usage_bytes", "gauge",
      "Memory of the container's guest cgroup (memory.current).",
      KO_TAG_STAT_MEM_USAGE },
    { "kata_container_memory_limit_bytes", "gauge",
      "The memory limit of the container's guest cgroup (absent: none).",
      KO_TAG_STAT_MEM_LIMIT },
    { "kata_container_memory_anon_bytes", "gauge",
      "Anonymous memory of the container's guest cgroup (memory.stat "
      "anon).",
      KO_TAG_STAT_MEM_RSS },
    { "kata_container_memory_file_bytes", "gauge",
      "Page cache of the container's guest cgroup (memory.stat file).",
      KO_TAG_STAT_MEM_CACHE },
    { "kata_container_pids", "gauge",
      "Processes and threads in the container's guest cgroup.",
      KO_TAG_STAT_PIDS_CURRENT },
    { "kata_container_pids_limit", "gauge",
      "The pids limit of the container's guest cgroup (absent: none).",
      KO_TAG_STAT_PIDS_LIMIT },
    { "kata_container_oom_kills_total", "counter",
      "Processes of the container the guest's OOM killer killed.",
      KO_TAG_STAT_OOM_KILLS },
  };
  for (size_t f = 0; f < KO_ARRAY_SIZE (fams); f++)
    {
      if (ko_prom_family (r->out, fams[f].name, fams[f].type, fams[f].help,
                          r->err)
          < 0)
        return -1;
      unsigned k = fams[f].tag - KO_TAG_STAT_CPU_USAGE_NS;
      FOR_SANDBOXES (r, e)
      for (size_t i = 0; guest_ok (e) && i < e->m.guest.nctrs; i++)
        {
          const struct ko_guest_container *c = &e->m.guest.ctrs[i];
          if ((c->stats.has & (1u << k))
              && sb_u64 (r, e, fams[f].name, "container_id", c->id,
                         c->stats.v[k], fams[f].ns)
                     < 0)
            return -1;
        }
    }
  return 0;
}

static int
render (struct render *r, uint64_t started_ns)
{
  if (runtime_part (r) < 0 || up_part (r) < 0 || process_part (r) < 0
      || channel_part (r) < 0 || latency_part (r) < 0 || times_part (r) < 0
      || network_part (r) < 0 || guest_part (r) < 0 || container_part (r) < 0)
    return -1;
  if (ko_prom_family (r->out, "kata_scrape_duration_seconds", "gauge",
                      "How long this scrape took: reading the states, asking "
                      "every monitor (concurrently) and formatting.",
                      r->err)
      < 0)
    return -1;
  return ko_prom_ns (r->out, "kata_scrape_duration_seconds", NULL,
                     ko_now_ns () - started_ns, r->err);
}

int
metrics_gather (const char *root, char *const *ids, bool warn,
                struct ko_buf *out, ko_error **err)
{
  uint64_t started = ko_now_ns ();
  struct scrape s = { 0 };
  bool named = ids && ids[0];
  int rc = scan_root (root, &s, err);
  if (rc == 0 && named)
    rc = mark_named (root, &s, ids, err);
  if (rc == 0)
    {
      ask_monitors (&s, named, warn);
      struct render r = { &s, named, out, err };
      rc = render (&r, started);
    }
  scrape_free (&s);
  return rc;
}

/* ---------- --listen ---------- */

static volatile sig_atomic_t stop_serving;

static void
on_stop (int sig)
{
  (void)sig;
  stop_serving = 1;
}

static int
listen_on (const char *addr, ko_error **err)
{
  _cleanup_free_ char *host = strdup (addr);
  if (host == NULL)
    return ko_error_set (err, ENOMEM, "metrics");
  char *colon = strrchr (host, ':');
  if (colon == NULL || colon[1] == '\0' || colon == host)
    return ko_error_setx (err, EINVAL,
                          "metrics: --listen %s: expected HOST:PORT", addr);
  *colon = '\0';
  const char *port = colon + 1, *h = host;
  char *end;
  unsigned long pn = strtoul (port, &end, 10);
  if (*end || pn == 0 || pn > 65535)
    return ko_error_setx (err, EINVAL, "metrics: --listen %s: bad port \"%s\"",
                          addr, port);
  size_t hl = strlen (host);
  if (host[0] == '[' && hl > 2 && host[hl - 1] == ']')
    {
      host[hl - 1] = '\0';
      h = host + 1;
    }
  struct addrinfo hints = { .ai_family = AF_UNSPEC,
                            .ai_socktype = SOCK_STREAM,
                            .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
  struct addrinfo *ai = NULL;
  int g = getaddrinfo (h, port, &hints, &ai);
  if (g != 0)
    return ko_error_setx (err, EINVAL, "metrics: --listen %s: %s", addr,
                          gai_strerror (g));
  int fd = socket (ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0)
    ko_error_set (err, errno, "metrics: socket");
  else if (setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0
           || bind (fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen (fd, 16) < 0)
    {
      ko_error_set (err, errno, "metrics: listen on %s", addr);
      close (fd);
      fd = -1;
    }
  freeaddrinfo (ai);
  return fd;
}

static void
send_all (int fd, const void *p, size_t n)
{
  const char *c = p;
  while (n > 0)
    {
      ssize_t w = send (fd, c, n, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return;
      c += w;
      n -= (size_t)w;
    }
}

static void
respond (int fd, const char *status, const char *type, const void *body,
         size_t len, bool head)
{
  char hdr[256];
  int n = snprintf (hdr, sizeof hdr,
                    "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: "
                    "%zu\r\nConnection: close\r\n\r\n",
                    status, type, len);
  send_all (fd, hdr, (size_t)n);
  if (!head)
    send_all (fd, body, len);
}

static void
respond_text (int fd, const char *status)
{
  char body[64];
  int n = snprintf (body, sizeof body, "%s\n", status);
  respond (fd, status, "text/plain; charset=utf-8", body, (size_t)n, false);
}

/* Reads the request head within KO_METRICS_READ_MS and at most
 * KO_METRICS_MAX_REQUEST bytes: its length, 0 when too large, -1 when the
 * client went away or was too slow. */
static ssize_t
read_head (int fd, char *buf, size_t size)
{
  uint64_t end = ko_now_ms () + KO_METRICS_READ_MS;
  size_t len = 0;
  for (;;)
    {
      uint64_t now = ko_now_ms ();
      struct pollfd p = { .fd = fd, .events = POLLIN };
      if (now >= end || poll (&p, 1, (int)(end - now)) <= 0)
        return -1;
      ssize_t n = recv (fd, buf + len, size - 1 - len, MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n <= 0)
        return -1;
      len += (size_t)n;
      buf[len] = '\0';
      if (strstr (buf, "\r\n\r\n") || strstr (buf, "\n\n"))
        return (ssize_t)len;
      if (len >= size - 1)
        return 0;
    }
}

static void
serve_one (int fd, const char *root, char *const *ids)
{
  char buf[KO_METRICS_MAX_REQUEST + 1];
  ssize_t n = read_head (fd, buf, sizeof buf);
  if (n < 0)
    return;
  if (n == 0)
    return respond_text (fd, "431 Request Header Fields Too Large");
  char method[8], target[256], version[16];
  if (sscanf (buf, "%7s %255s %15s", method, target, version) != 3
      || strncmp (version, "HTTP/1.", 7) != 0)
    return respond_text (fd, "400 Bad Request");
  bool head = strcmp (method, "HEAD") == 0;
  if (strcmp (method, "GET") != 0 && !head)
    return respond_text (fd, "405 Method Not Allowed");
  size_t pl = strcspn (target, "?");
  if (pl != strlen ("/metrics") || strncmp (target, "/metrics", pl) != 0)
    return respond_text (fd, "404 Not Found");
  _cleanup_buf_ struct ko_buf out = { 0 };
  _cleanup_error_ ko_error *err = NULL;
  if (metrics_gather (root, ids, false, &out, &err) < 0)
    {
      log_error ("metrics: %s", err->msg);
      return respond_text (fd, "500 Internal Server Error");
    }
  respond (fd, "200 OK", KO_PROM_CONTENT_TYPE, out.data, out.len, head);
}

int
metrics_serve (const char *root, char *const *ids, const char *addr,
               ko_error **err)
{
  /* the ids must be known now: a typo fails at once, not at each scrape */
  if (ids && ids[0])
    {
      _cleanup_buf_ struct ko_buf probe = { 0 };
      struct scrape s = { 0 };
      int rc = scan_root (root, &s, err);
      if (rc == 0)
        rc = mark_named (root, &s, ids, err);
      scrape_free (&s);
      if (rc < 0)
        return -1;
    }
  _cleanup_close_ int lfd = listen_on (addr, err);
  if (lfd < 0)
    return -1;
  struct sigaction sa = { .sa_handler = on_stop };
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  signal (SIGPIPE, SIG_IGN);
  while (!stop_serving)
    {
      int c = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
      if (c < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE
              || errno == ENFILE)
            continue;
          return ko_error_set (err, errno, "metrics: accept");
        }
      serve_one (c, root, ids);
      shutdown (c, SHUT_WR);
      close (c);
    }
  return 0;
}
