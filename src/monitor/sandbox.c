/* The sandbox: the VM, its helpers and the loop that serves it until its
 * container ends. Setup runs in order (share, holder, virtiofsd, QEMU,
 * the agent's hello, the container in the guest); from then on everything
 * is an event: the channel, the streams, monitor.sock, signals, timers. */
#include "config.h"

#include "cgroup.h"
#include "confine.h"
#include "console.h"
#include "hooks.h"
#include "holder.h"
#include "hypervisor.h"
#include "log.h"
#include "paths.h"
#include "proc.h"
#include "report.h"
#include "sandbox.h"
#include "unixsock.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/vm_sockets.h>

bool
sandbox_alive (const struct sandbox *sb)
{
  return !sb->vm_gone && !sb->mux.dead;
}

struct container *
sandbox_container (struct sandbox *sb, const char *id)
{
  if (id == NULL || *id == '\0')
    return sb->nctrs ? sb->ctrs[0] : NULL;
  for (size_t i = 0; i < sb->nctrs; i++)
    if (strcmp (sb->ctrs[i]->p->id, id) == 0)
      return sb->ctrs[i];
  return NULL;
}

void
sandbox_stop (struct sandbox *sb)
{
  sb->destroy_requested = true;
}

static void
on_grace_over (struct ko_timer *t)
{
  struct sandbox *sb = t->data;
  sb->grace_over = true;
}

/* The sandbox's life is its first container's. */
static bool
sandbox_over (struct sandbox *sb)
{
  if (sb->destroy_requested || !sandbox_alive (sb))
    return true;
  if (sb->nctrs == 0 || !sb->ctrs[0]->init_exited)
    return false;
  /* The sandbox's end is the pod's. Engines stop a pod by signalling
   * every container at once (podman pod stop): a member still running
   * gets a little time to end by itself, with its own status, before the
   * VM goes. */
  bool members = false;
  for (size_t i = 1; i < sb->nctrs; i++)
    members |= !sb->ctrs[i]->init_exited;
  if (!members || sb->grace_over)
    return true;
  if (!sb->grace.armed)
    {
      ko_timer_init (&sb->grace, &sb->loop, on_grace_over, sb);
      ko_timer_arm (&sb->grace, ko_now_ms () + KO_POD_GRACE_MS);
      ctr_record (sb->ctrs[0], "stopped");
      /* its pid ends now: its engine waits for that (podman kill of the
       * infra container times out otherwise), and its delete waits for
       * the members' grace (container_delete) */
      holder_release (sb->ctrs[0], sb->ctrs[0]->exit_status, true);
    }
  return false;
}

/* What is left to do once an event was handled. */
static void
after_event (struct sandbox *sb)
{
  for (size_t i = 0; i < sb->nctrs; i++)
    execs_finish (sb->ctrs[i]);
}

int
sandbox_wait (struct sandbox *sb, const bool *done, uint64_t deadline)
{
  while (!*done)
    {
      uint64_t now = ko_now_ms ();
      if (now >= deadline)
        return 0;
      uint64_t left = deadline - now;
      if (ko_loop_once (&sb->loop, left > 3600000 ? 3600000 : (int)left) < 0)
        return -1;
      after_event (sb);
    }
  return 1;
}

/* ---------- children and signals ---------- */

static bool
any_init_exited (struct sandbox *sb)
{
  return sb->nctrs && sb->ctrs[0]->init_exited;
}

void
sandbox_reap (struct sandbox *sb)
{
  /* only our helpers by pid: the holders are left for whoever waits for
   * them (conmon, a shim); their sockets say when they are gone */
  int status = 0;
  if (sb->qemu_pid > 0
      && waitpid (sb->qemu_pid, &status, WNOHANG) == sb->qemu_pid)
    {
      sb->qemu_status = status;
      sb->qemu_pid = 0;
      sb->vm_gone = true;
      if (!any_init_exited (sb) && !sb->destroy_requested)
        ko_log (sb->created ? KO_LOG_ERROR : KO_LOG_DEBUG,
                "container %s: qemu exited unexpectedly", sb->p->id);
      agent_fail_all (sb, EPIPE, "the VM stopped");
    }
  if (sb->virtiofsd_pid > 0
      && waitpid (sb->virtiofsd_pid, &status, WNOHANG) == sb->virtiofsd_pid)
    {
      sb->virtiofsd_pid = 0;
      /* the guest's root filesystem is gone: stop, as for QEMU */
      if (!any_init_exited (sb) && !sb->destroy_requested && !sb->vm_gone)
        {
          ko_log (sb->created ? KO_LOG_ERROR : KO_LOG_DEBUG,
                  "container %s: virtiofsd exited unexpectedly: "
                  "stopping the container",
                  sb->p->id);
          sandbox_stop (sb);
        }
    }
}

static void
on_signal (struct ko_watch *w, uint32_t events)
{
  struct sandbox *sb = w->data;
  struct container *c = sandbox_container (sb, NULL);
  struct signalfd_siginfo si;
  (void)events;
  while (read (w->fd, &si, sizeof si) == sizeof si)
    {
      switch (si.ssi_signo)
        {
        case SIGCHLD:
          sandbox_reap (sb);
          break;
        case SIGWINCH:
          if (c && c->tty_fd >= 0)
            {
              console_forward_winsize (c->tty_fd, c->p->id, &sb->mux.out);
              mux_flush (sb);
            }
          break;
        default:
          /* conmon forwards these to the pid it knows: ours */
          if (c && sandbox_alive (sb))
            ctr_signal (c, (int)si.ssi_signo);
          break;
        }
    }
}

static int
signals_setup (struct sandbox *sb, ko_error **err)
{
  sigset_t set;
  sigemptyset (&set);
  int sigs[] = { SIGCHLD, KO_FORWARDED_SIGNALS };
  for (size_t i = 0; i < KO_ARRAY_SIZE (sigs); i++)
    sigaddset (&set, sigs[i]);
  sigprocmask (SIG_BLOCK, &set, NULL);
  signal (SIGPIPE, SIG_IGN);
  int fd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0)
    return ko_error_set (err, errno, "signalfd");
  ko_watch_init (&sb->sig, &sb->loop, fd, on_signal, sb);
  ko_watch_set (&sb->sig, EPOLLIN);
  return 0;
}

/* ---------- the VM ---------- */

static int
connect_channel (struct sandbox *sb, ko_error **err)
{
  uint64_t end = ko_now_ms () + sb->p->settings.boot_timeout_ms;
  for (;;)
    {
      int fd = -1;
      if (sb->p->settings.vsock)
        {
          struct sockaddr_vm sa = { .svm_family = AF_VSOCK,
                                    .svm_cid = 3 + (getpid () % 100000),
                                    .svm_port = KO_AGENT_VSOCK_PORT };
          fd = socket (AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
          if (fd >= 0 && connect (fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            {
              mux_attach (sb, fd);
              return 0;
            }
        }
      else
        {
          fd = ko_unix_connect (sb->p->dir, KO_AGENT_SOCK, NULL);
          if (fd >= 0)
            {
              mux_attach (sb, fd);
              return 0;
            }
        }
      if (fd >= 0)
        close (fd);
      sandbox_reap (sb);
      if (sb->vm_gone)
        return -1; /* the caller reports QEMU's own words */
      if (ko_now_ms () >= end)
        return ko_error_setx (err, ETIMEDOUT,
                              "timed out connecting to the agent channel");
      usleep (10000);
    }
}

/* What the helpers wrote until now: they have exited, or may have. */
static void
sinks_drain (struct sandbox *sb)
{
  for (size_t i = 0; i < SINK_COUNT; i++)
    logsink_pump (&sb->sinks[i]);
}

static int
vm_failure (struct sandbox *sb, ko_error **err)
{
  sinks_drain (sb);
  const char *dir = sb->p->dir;
  _cleanup_free_ char *tail = hypervisor_log_tail (dir, KO_QEMU_LOG, 3);
  if (tail && *tail)
    return ko_error_setx (err, EIO, "qemu failed to start: %s", tail);
  int st = sb->qemu_status;
  if (WIFSIGNALED (st))
    return ko_error_setx (err, EIO,
                          "qemu failed to start: killed by signal %d (%s), "
                          "with no message",
                          WTERMSIG (st), strsignal (WTERMSIG (st)));
  if (WEXITSTATUS (st) == 0)
    {
      /* -no-reboot: the guest powered off or reset (a kernel panic, or
       * the agent's fatal error) before the agent said hello */
      _cleanup_free_ char *panic = hypervisor_guest_panic (dir);
      if (panic)
        return ko_error_setx (err, EIO,
                              "the guest kernel panicked before its agent "
                              "said hello: %s",
                              panic);
      _cleanup_free_ char *con = hypervisor_log_tail (dir, KO_CONSOLE_LOG, 3);
      return ko_error_setx (err, EIO,
                            "the guest stopped before its agent said hello "
                            "(guest console: %s)",
                            con && *con ? con : "empty");
    }
  return ko_error_setx (err, EIO,
                        "qemu failed to start: exit status %d, with no "
                        "message",
                        WEXITSTATUS (st));
}

static int
wait_hello (struct sandbox *sb, ko_error **err)
{
  uint64_t end = ko_now_ms () + sb->p->settings.boot_timeout_ms;
  while (!sb->hello)
    {
      if (sb->vm_gone)
        return vm_failure (sb, err);
      if (sb->mux.dead)
        {
          /* most often QEMU itself failed: give it a moment to be reaped */
          for (int i = 0; i < 20 && !sb->vm_gone; i++)
            {
              usleep (50000);
              sandbox_reap (sb);
            }
          if (sb->vm_gone)
            return vm_failure (sb, err);
          return ko_error_setx (err, EPIPE,
                                "the agent channel closed before the agent "
                                "said hello");
        }
      uint64_t now = ko_now_ms ();
      if (now >= end)
        {
          _cleanup_free_ char *tail
              = hypervisor_log_tail (sb->p->dir, KO_CONSOLE_LOG, 2);
          return ko_error_setx (err, ETIMEDOUT,
                                "timed out after %d s waiting for the guest "
                                "agent (guest console: %s)",
                                sb->p->settings.boot_timeout_ms / 1000,
                                tail && *tail ? tail : "empty");
        }
      /* back at once with the hello (the VM's death and the channel's
       * close are looked at every 100 ms) */
      sandbox_wait (sb, &sb->hello, now + (end - now > 100 ? 100 : end - now));
    }
  if (sb->agent_version != KO_PROTO_VERSION)
    return ko_error_setx (err, EPROTO,
                          "agent speaks protocol version %u, not %u",
                          sb->agent_version, KO_PROTO_VERSION);
  return 0;
}

/* Hostname and the share, then each passed interface's name, MTU and
 * addresses, then the routes. */
static int
sandbox_in_guest (struct sandbox *sb, ko_error **err)
{
  /* without a hostname in the spec the VM has the host's, as a container
   * of runc's sharing the host's UTS namespace has, and a new UTS namespace
   * copies it */
  char host_name[HOST_NAME_MAX + 1] = "";
  const char *name = sb->p->hostname;
  if (!name && gethostname (host_name, sizeof host_name - 1) == 0)
    name = host_name;
  union ko_msg_request m = { .create_sandbox = {
                                 .hostname = (char *)name,
                                 .share_tag = KO_SHARE_TAG,
                             } };
  int r = agent_call_sync (sb, KO_M_CREATE_SANDBOX, &m, err);
  for (size_t i = 0; r == 0 && i < sb->net.nlinks; i++)
    {
      m.update_interface.iface = sb->net.links[i].iface;
      r = agent_call_sync (sb, KO_M_UPDATE_INTERFACE, &m, err);
    }
  if (r < 0 || sb->net.nroutes == 0)
    return r;
  struct ko_msg_update_routes *rt = &m.update_routes;
  rt->nroutes = sb->net.nroutes;
  memcpy (rt->routes, sb->net.routes, rt->nroutes * sizeof rt->routes[0]);
  return agent_call_sync (sb, KO_M_UPDATE_ROUTES, &m, err);
}

static void
sink_on_event (struct ko_watch *w, uint32_t events)
{
  (void)events;
  /* at EOF it closes the fd: epoll forgets it */
  if (logsink_pump (w->data) == 0)
    w->fd = -1, w->events = 0;
}

/* Drains fd into the state dir's NAME, bounded (logsink.h). */
static int
sink_start (struct sandbox *sb, int which, const char *name, int fd,
            ko_error **err)
{
  struct ko_logsink *k = &sb->sinks[which];
  if (logsink_open (k, sb->ctrs[0]->dirfd, name, fd, KO_LOG_CAP) < 0)
    return ko_error_set (err, errno, "open %s", name);
  ko_watch_init (&sb->sink_w[which], &sb->loop, k->in, sink_on_event, k);
  ko_watch_set (&sb->sink_w[which], EPOLLIN);
  return 0;
}

/* The guest may make setuid/setgid files through the share only when its
 * container may (CAP_FSETID in its bounding set, as podman's defaults
 * have): see confine_virtiofsd. */
static bool
setid_allowed (const oci_spec *spec)
{
  const oci_capabilities *c
      = spec && spec->process ? spec->process->capabilities : NULL;
  for (size_t i = 0; c && i < c->bounding_len; i++)
    if (strcmp (c->bounding[i], "CAP_FSETID") == 0)
      return true;
  return false;
}

static int
start_virtiofsd (struct sandbox *sb, ko_error **err)
{
  struct monitor_params *p = sb->p;
  int vlog = -1;
  if (hypervisor_start_virtiofsd (&p->settings, p->dir, setid_allowed (p->spec),
                                  &sb->virtiofsd_pid, &vlog, err)
          < 0
      || sink_start (sb, SINK_VIRTIOFSD, KO_VIRTIOFSD_LOG, vlog, err) < 0)
    return ko_error_wrap (err, "virtiofsd");
  sb->virtiofsd_start = proc_start_time (sb->virtiofsd_pid);
  p->state.virtiofsd_pid = sb->virtiofsd_pid;
  p->state.virtiofsd_start = sb->virtiofsd_start;
  ctr_record (sb->ctrs[0], "creating");
  return 0;
}

static int
start_qemu (struct sandbox *sb, ko_error **err)
{
  struct monitor_params *p = sb->p;
  struct ko_vm_nic nics[KO_VM_MAX_NICS];
  for (size_t i = 0; i < sb->net.nlinks; i++)
    {
      nics[i].tap_fd = sb->net.links[i].tap_fd;
      memcpy (nics[i].mac, sb->net.links[i].iface.mac, 6);
    }
  struct ko_vm_config vm = { .nics = nics,
                             .nnics = sb->net.nlinks,
                             .disks = p->disks.v,
                             .ndisks = p->disks.n,
                             .id = p->id,
                             .dir = p->dir,
                             .memory_mb = p->memory_mb,
                             .max_memory_mb = sb->memhp.max_mb,
                             .memory_slots = sb->memhp.slots,
                             .root_ports = p->root_ports,
                             .vcpus = p->vcpus,
                             .vsock_cid = 3 + (getpid () % 100000),
                             .uid = KO_QEMU_ID_BASE + (uid_t)getpid () };
  struct ko_vm_fds vfds = { -1, -1 };
  int qr = hypervisor_start_qemu (&p->settings, &vm, &sb->qemu_pid, &vfds, err);
  if (qr == 0
      && (sink_start (sb, SINK_CONSOLE, KO_CONSOLE_LOG, vfds.console, err) < 0
          || sink_start (sb, SINK_QEMU, KO_QEMU_LOG, vfds.log, err) < 0))
    qr = -1;
  /* QEMU has its own copies: the taps and disks go away with it */
  for (size_t i = 0; i < p->disks.n; i++)
    if (p->disks.v[i].fd >= 0)
      {
        close (p->disks.v[i].fd);
        p->disks.v[i].fd = -1;
      }
  for (size_t i = 0; i < sb->net.nlinks; i++)
    if (sb->net.links[i].tap_fd >= 0)
      {
        close (sb->net.links[i].tap_fd);
        sb->net.links[i].tap_fd = -1;
      }
  if (qr < 0)
    return ko_error_wrap (err, "qemu");
  sb->qemu_start = proc_start_time (sb->qemu_pid);
  p->state.qemu_pid = sb->qemu_pid;
  p->state.qemu_start = sb->qemu_start;
  ctr_record (sb->ctrs[0], "creating");
  log_debug ("qemu %d and virtiofsd %d started", (int)sb->qemu_pid,
             (int)sb->virtiofsd_pid);
  return 0;
}

/* The host side: cgroup, share, holder, virtiofsd, network, QEMU. */
static int
setup_host (struct sandbox *sb, ko_error **err)
{
  struct monitor_params *p = sb->p;
  struct container *c = sb->ctrs[0];
  if (hypervisor_check_assets (&p->settings, err) < 0)
    return -1;
  /* before virtiofsd and QEMU start, so that they are inside too */
  if (cgroup_sandbox_enter (p->spec, p->memory_mb, err) < 0)
    return -1;
  /* and on the spec's CPUs, which they inherit */
  const oci_linux_resources *res
      = p->spec->linux ? p->spec->linux->resources : NULL;
  if (res && res->cpu && res->cpu->cpus && *res->cpu->cpus
      && cgroup_cpus_pin (res->cpu->cpus, err) < 0)
    return -1;
  if (share_prepare (sb, err) < 0 || share_add (c, err) < 0)
    return -1;
  if (holder_start (c, err) < 0 || start_virtiofsd (sb, err) < 0)
    return -1;
  /* hotplug may grow the VM up to the host's memory, or less if asked */
  int64_t cap = memhp_host_mb ();
  if (p->max_memory_mb > 0 && p->max_memory_mb < cap)
    cap = p->max_memory_mb;
  memhp_init (&sb->memhp, p->memory_mb, cap);
  /* the interfaces of the namespace the engine made, if it named one */
  if (p->netns_path && network_setup (p->netns_path, &sb->net, err) < 0)
    return -1;
  if (sb->net.nlinks > 0)
    {
      p->state.netns = strdup (p->netns_path);
      ctr_record (c, "creating");
    }
  return start_qemu (sb, err);
}

static int
sandbox_setup (struct sandbox *sb, ko_error **err)
{
  struct monitor_params *p = sb->p;
  struct container *c = sb->ctrs[0];
  if (ko_loop_init (&sb->loop) < 0)
    return ko_error_set (err, errno, "epoll");
  c->dirfd = open (p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (c->dirfd < 0)
    return ko_error_set (err, errno, "open %s", p->dir);
  /* from here on a delete finds what to stop, even if the CLI that
   * created us and then we are killed: each helper is recorded as it
   * starts */
  ctr_record (c, "creating");
  if (signals_setup (sb, err) < 0 || setup_host (sb, err) < 0)
    return -1;
  if (connect_channel (sb, err) < 0)
    return sb->vm_gone ? vm_failure (sb, err) : -1;
  if (wait_hello (sb, err) < 0)
    return -1;
  log_debug ("agent hello: protocol %u", sb->agent_version);
  int fds[3];
  for (int i = 0; i < 3; i++)
    fds[i] = fcntl (i, F_GETFD) >= 0 ? i : -1;
  if (ctr_setup_stdio (c, fds, err) < 0 || sandbox_in_guest (sb, err) < 0
      || ctr_create_in_guest (c, err) < 0)
    return -1;
  holder_add_volumes (c);
  log_debug ("container created in the guest");
  if (hooks_on_create (p->spec, p->id, c->holder_pid, p->state.bundle, err) < 0)
    return -1;
  if (server_listen (sb, err) < 0)
    return -1;
  ctr_record (c, "created");
  return 0;
}

/* Kills and reaps every child left but the holders: what our helpers
 * forked and left to us as their subreaper (virtiofsd's sandboxed half). */
static void
reap_strays (struct sandbox *sb)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/self/task/%d/children", (int)getpid ());
  _cleanup_fclose_ FILE *f = fopen (path, "re");
  int pid;
  while (f && fscanf (f, "%d", &pid) == 1)
    {
      bool holder = false;
      for (size_t i = 0; i < sb->nctrs; i++)
        holder |= pid == sb->ctrs[i]->holder_pid;
      if (holder)
        continue;
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
    }
}

/* Stops the VM and virtiofsd; waits for them. */
static void
sandbox_teardown (struct sandbox *sb)
{
  /* a detached container's holder outlives us (see holder.c); `run` in
   * the foreground and a failed create have no use for it. The guest is
   * disposable and virtio-fs writes are write-through (no writeback
   * cache), so there is nothing to flush: stop the VM now. All are
   * killed first and then reaped: their exits (QEMU's takes 10-20 ms to
   * free the guest's memory) overlap. */
  struct container *c = sb->nctrs ? sb->ctrs[0] : NULL;
  pid_t *kids[]
      = { c && c->holder_pid > 0 && (sb->p->foreground || !sb->created)
              ? &c->holder_pid
              : NULL,
          &sb->qemu_pid, &sb->virtiofsd_pid };
  for (size_t i = 0; i < KO_ARRAY_SIZE (kids); i++)
    if (kids[i] && *kids[i] > 0)
      kill (*kids[i], SIGKILL);
  for (size_t i = 0; i < KO_ARRAY_SIZE (kids); i++)
    if (kids[i] && *kids[i] > 0)
      {
        waitpid (*kids[i], NULL, 0);
        *kids[i] = 0;
      }
  sb->vm_gone = true;
  reap_strays (sb);
  /* every waiter hears of it before its connection goes */
  agent_fail_all (sb, EPIPE, "the VM stopped");
  hotplug_close (sb);
  for (size_t i = 0; i < sb->nctrs; i++)
    execs_free (sb->ctrs[i]);
  server_close (sb);
  mux_close (sb);
  sinks_drain (sb);
  for (size_t i = 0; i < SINK_COUNT; i++)
    {
      ko_watch_release (&sb->sink_w[i]);
      logsink_close (&sb->sinks[i]);
    }
  if (sb->p->netns_path)
    network_teardown (sb->p->netns_path, &sb->net);
  /* the namespace dies with us, but `run` removes the state dir first */
  for (size_t i = 0; i < sb->nctrs; i++)
    share_remove (sb->ctrs[i]);
  share_close (sb);
  cgroup_sandbox_remove (sb->p->spec); /* QEMU and virtiofsd have left it */
}

/* Until the container ends: relay, serve the CLI, follow the VM. */
static void
sandbox_loop (struct sandbox *sb)
{
  sb->serving = true;
  while (!sandbox_over (sb))
    {
      if (ko_loop_once (&sb->loop, -1) < 0)
        {
          log_error ("container %s: epoll: %s", sb->p->id, strerror (errno));
          break;
        }
      after_event (sb);
    }
  /* deliver what the guest already sent */
  uint64_t end = ko_now_ms () + 2000;
  while (mux_output_pending (sb) && !sb->destroy_requested)
    {
      uint64_t now = ko_now_ms ();
      if (now >= end)
        break;
      ko_loop_once (&sb->loop, (int)(end - now > 50 ? 50 : end - now));
      after_event (sb);
    }
}

/* From here on the monitor mostly relays stdio, and every page QEMU sends
 * wakes it. Under full load (2 host CPUs under TCG), a normal task's
 * wake-ups preempt QEMU's main thread while it holds QEMU's big lock, and
 * the vCPU then waits for that lock. SCHED_BATCH gets the monitor as much
 * CPU without preempting anyone on wake-up; what it forks from now on
 * (hooks) gets the normal policy back. */
static void
relay_as_batch (void)
{
  struct sched_param sp = { .sched_priority = 0 };
  if (sched_setscheduler (0, SCHED_BATCH | SCHED_RESET_ON_FORK, &sp) < 0)
    log_debug ("SCHED_BATCH: %s", strerror (errno));
}

struct autostart
{
  ko_error *res;
  bool done;
};

static void
on_autostarted (struct container *c, void *ctx, const ko_error *err)
{
  struct autostart *a = ctx;
  (void)c;
  if (err)
    ko_error_setx (&a->res, err->status, "%s", err->msg);
  else
    ko_error_setx (&a->res, 0, "ok");
  a->done = true;
}

/* `run`: start right after create, before anything else is served. */
static int
autostart (struct sandbox *sb, ko_error **err)
{
  struct autostart a = { NULL, false };
  ctr_start (sb->ctrs[0], on_autostarted, &a);
  /* back at once with the reply: a `true` has often exited by then */
  while (!a.done && sandbox_wait (sb, &a.done, ko_now_ms () + 100) >= 0)
    ;
  ko_error *res = a.res;
  if (res == NULL)
    return ko_error_setx (err, EIO, "start: the monitor's loop failed");
  if (res->status == 0)
    {
      ko_error_free (res);
      return 0;
    }
  *err = res;
  return -1;
}

static void
sandbox_init (struct sandbox *sb, struct container *c, struct monitor_params *p)
{
  *sb = (struct sandbox){ .p = p, .start_ns = ko_now_ns () };
  sb->loop.epfd = -1;
  sb->qmp.q.fd = -1;
  ko_watch_init (&sb->listen, &sb->loop, -1, NULL, sb);
  ko_watch_init (&sb->sig, &sb->loop, -1, NULL, sb);
  ko_watch_init (&sb->qmp.w, &sb->loop, -1, NULL, sb);
  mux_init (sb);
  for (size_t i = 0; i < SINK_COUNT; i++)
    {
      sb->sinks[i].in = sb->sinks[i].out = -1;
      ko_watch_init (&sb->sink_w[i], &sb->loop, -1, NULL, NULL);
    }
  *c = (struct container){
    .sb = sb, .p = p, .dirfd = -1, .holder_fd = -1, .tty_fd = -1
  };
  c->oom_log.interval_ms = 1000;
  ko_watch_init (&c->holder_w, &sb->loop, -1, NULL, c);
  sb->ctrs[sb->nctrs++] = c;
}

static void
sandbox_fini (struct sandbox *sb)
{
  ko_watch_close (&sb->sig);
  ko_loop_fini (&sb->loop);
  for (size_t i = 0; i < sb->nctrs; i++)
    if (sb->ctrs[i]->dirfd >= 0)
      close (sb->ctrs[i]->dirfd);
}

int
monitor_run (struct monitor_params *p, int report_fd, ko_error **err)
{
  struct sandbox sbx;
  struct container ctr;
  struct sandbox *sb = &sbx;
  sandbox_init (sb, &ctr, p);
  p->state.monitor_pid = getpid ();
  p->state.monitor_start = proc_start_time (getpid ());
  /* what the helpers fork comes back to us, to be reaped before we say
   * the container stopped (virtiofsd's sandboxed child) */
  prctl (PR_SET_CHILD_SUBREAPER, 1);
  hooks_init (); /* before setup unshares the mount namespace */
  holder_init ();
  if (sandbox_setup (sb, err) < 0 || (p->autostart && autostart (sb, err) < 0))
    {
      sandbox_teardown (sb);
      console_restore_stdin ();
      report_error (&report_fd, (*err)->msg);
      sandbox_fini (sb);
      return -1;
    }
  report_ok (&report_fd, ctr.holder_pid);
  sb->created = true;
  if (p->lock_fd >= 0)
    {
      close (p->lock_fd);
      p->lock_fd = -1;
    }
  if (!p->foreground)
    log_set_stderr (false);
  relay_as_batch ();
  sandbox_loop (sb);
  sandbox_teardown (sb);
  log_debug ("VM and virtiofsd stopped");
  console_restore_stdin ();
  /* the pod's members end with it; their streams went with mux_close */
  while (sb->nctrs > 1)
    {
      struct container *m = sb->ctrs[sb->nctrs - 1];
      m->in = m->out = m->err = NULL;
      ctr_finish (m);
      pod_member_free (m);
    }
  ctr_finish (&ctr);
  int status = ctr.exit_status;
  sandbox_fini (sb);
  return status;
}
