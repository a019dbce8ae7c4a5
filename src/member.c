#include "config.h"

#include "client.h"
#include "container.h"
#include "holder.h"
#include "hostpath.h"
#include "log.h"
#include "member.h"
#include "monitor.h"
#include "pod.h"
#include "proc.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/mount.h>
#include <unistd.h>

#define MEMBER_ADD_TIMEOUT_MS 60000
/* under the member's state dir, in the monitor's mount namespace */
#define MEMBER_MNT_DIR "mnt"

int
member_sandbox (struct ko_global *g, const struct pod_info *pi,
                struct ko_state *sandbox, ko_error **err)
{
  _cleanup_close_ int dirfd = -1;
  _cleanup_error_ ko_error *e = NULL;
  if (state_dir_open_shared (g->root, pi->sandbox_id, &dirfd, &e) < 0
      || state_read (dirfd, sandbox, &e) < 0)
    {
      if (e->status == ENOENT)
        return pod_check_sandbox (pi, NULL, NULL, err);
      return ko_error_setx (err, e->status,
                            "config.json: annotations: %s: sandbox %s: %s",
                            pi->key, pi->sandbox_id, e->msg);
    }
  return pod_check_sandbox (pi, sandbox, state_status (sandbox), err);
}

int
member_fields (const struct pod_info *pi, struct ko_buf *fields,
               struct ko_state *st, ko_error **err)
{
  st->sandbox = strdup (pi->sandbox_id);
  if (st->sandbox == NULL)
    return ko_error_set (err, ENOMEM, "state");
  if (pi->join_ns
      && (ko_tlv_put_str (fields, KO_TAG_JOIN_CONTAINER, pi->sandbox_id) < 0
          || ko_tlv_put_u64 (fields, KO_TAG_JOIN_NS, pi->join_ns) < 0))
    return ko_error_set (err, ENOMEM, "container fields");
  return 0;
}

char *
member_monitor_dir (struct ko_global *g, const struct ko_state *st)
{
  return state_dir_path (g->root, st->sandbox ? st->sandbox : st->id);
}

/* The member's stdio: ours, unless a terminal (its pty goes to the
 * console socket, made by the monitor). */
static int
member_fds (const struct monitor_params *p, int sock, int *fds)
{
  int n = 0;
  fds[n++] = sock;
  if (p->process.terminal)
    return n;
  for (int i = 0; i < 3; i++)
    if (fcntl (i, F_GETFD) >= 0)
      fds[n++] = i;
    else
      return n; /* a gap: the monitor takes fewer streams */
  return n;
}

/* Where the monitor finds a member's rootfs and volumes. The engine
 * mounts them (podman's and containerd's overlay rootfs) in its mount
 * namespace just before the member's create, long after the sandbox's
 * monitor made its private copy of that namespace: there the monitor
 * would see only the directories under them. So a child clones each one
 * here, where its path means what the engine meant, enters the monitor's
 * mount namespace and attaches the clones under the member's state dir
 * (mnt/rootfs, mnt/<n>), from where the monitor binds them into the
 * share. Removing the state dir on the host detaches them there too (the
 * kernel drops mounts whose mount point goes in another namespace). */
struct member_mounts
{
  char *rootfs;
  char **sources; /* one per bind */
  size_t n;
};

static void
member_mounts_clear (struct member_mounts *m)
{
  free (m->rootfs);
  for (size_t i = 0; m->sources && i < m->n; i++)
    free (m->sources[i]);
  free (m->sources);
  memset (m, 0, sizeof *m);
}

/* what the child reports when a step fails */
struct import_failure
{
  int err;
  int idx; /* -1: the rootfs, else the bind's index */
  char step[32];
};

static int
import_fail (int fd, int idx, const char *step)
{
  struct import_failure f = { .err = errno, .idx = idx };
  snprintf (f.step, sizeof f.step, "%s", step);
  if (write (fd, &f, sizeof f) != (ssize_t)sizeof f)
    { /* the parent sees a failure without its cause */
    }
  return 1;
}

static int
import_child (const struct monitor_params *p, int nsfd,
              const struct member_mounts *m, int report)
{
  size_t n = p->nbinds + 1;
  int *trees = calloc (n, sizeof *trees);
  if (trees == NULL)
    return import_fail (report, -1, "allocate");
  /* the rootfs as the create checked it (no symlink), the volumes as the
   * monitor would have bound them (following symlinks) */
  _cleanup_error_ ko_error *e = NULL;
  int rfd = hostpath_open_rootfs ("/", p->rootfs, &e);
  if (rfd < 0)
    {
      errno = e->status;
      return import_fail (report, -1, "open");
    }
  trees[0] = (int)syscall (SYS_open_tree, rfd, "",
                           AT_EMPTY_PATH | AT_RECURSIVE | OPEN_TREE_CLONE
                               | OPEN_TREE_CLOEXEC);
  if (trees[0] < 0)
    return import_fail (report, -1, "clone");
  for (size_t i = 1; i < n; i++)
    {
      trees[i]
          = (int)syscall (SYS_open_tree, AT_FDCWD, p->binds[i - 1].source,
                          AT_RECURSIVE | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
      if (trees[i] < 0)
        return import_fail (report, (int)i - 1, "clone");
    }
  if (setns (nsfd, CLONE_NEWNS) < 0)
    return import_fail (report, -1, "enter the monitor's namespace");
  char dir[4096];
  snprintf (dir, sizeof dir, "%s/%s", p->dir, MEMBER_MNT_DIR);
  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    return import_fail (report, -1, "mkdir");
  for (size_t i = 0; i < n; i++)
    {
      const char *target = i == 0 ? m->rootfs : m->sources[i - 1];
      int idx = (int)i - 1;
      struct stat st;
      if (fstat (trees[i], &st) < 0)
        return import_fail (report, idx, "stat");
      if (S_ISDIR (st.st_mode))
        {
          if (mkdir (target, 0700) < 0)
            return import_fail (report, idx, "mkdir");
        }
      else
        {
          int fd = open (target, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
          if (fd < 0)
            return import_fail (report, idx, "create");
          close (fd);
        }
      if (syscall (SYS_move_mount, trees[i], "", AT_FDCWD, target,
                   MOVE_MOUNT_F_EMPTY_PATH)
          < 0)
        return import_fail (report, idx, "attach");
    }
  return 0;
}

/* Attaches the member's rootfs and volumes in the mount namespace of the
 * sandbox's monitor (see struct member_mounts); *m gets their paths
 * there. */
static int
member_import (const struct monitor_params *p, const struct ko_state *sandbox,
               struct member_mounts *m, ko_error **err)
{
  memset (m, 0, sizeof *m);
  m->n = p->nbinds;
  m->sources = calloc (p->nbinds + 1, sizeof *m->sources);
  if (m->sources == NULL
      || asprintf (&m->rootfs, "%s/%s/rootfs", p->dir, MEMBER_MNT_DIR) < 0)
    {
      m->rootfs = NULL;
      member_mounts_clear (m);
      return ko_error_set (err, ENOMEM, "member mounts");
    }
  for (size_t i = 0; i < p->nbinds; i++)
    if (asprintf (&m->sources[i], "%s/%s/%zu", p->dir, MEMBER_MNT_DIR, i) < 0)
      {
        m->sources[i] = NULL;
        member_mounts_clear (m);
        return ko_error_set (err, ENOMEM, "member mounts");
      }
  char ns[64];
  snprintf (ns, sizeof ns, "/proc/%d/ns/mnt", (int)sandbox->monitor_pid);
  _cleanup_close_ int nsfd = open (ns, O_RDONLY | O_CLOEXEC);
  /* the namespace is the monitor's if the pid still is */
  if (nsfd < 0
      || proc_start_time (sandbox->monitor_pid) != sandbox->monitor_start)
    {
      member_mounts_clear (m);
      return ko_error_setx (err, ESRCH, "sandbox %s: its monitor is gone",
                            sandbox->id);
    }
  int pfd[2];
  if (pipe2 (pfd, O_CLOEXEC) < 0)
    {
      member_mounts_clear (m);
      return ko_error_set (err, errno, "pipe");
    }
  pid_t pid = fork ();
  if (pid == 0)
    {
      close (pfd[0]);
      _exit (import_child (p, nsfd, m, pfd[1]));
    }
  close (pfd[1]);
  struct import_failure f = { 0 };
  ssize_t got = pid < 0 ? -1 : read (pfd[0], &f, sizeof f);
  close (pfd[0]);
  int st = 0;
  if (pid > 0)
    while (waitpid (pid, &st, 0) < 0 && errno == EINTR)
      ;
  if (pid > 0 && got == 0 && WIFEXITED (st) && WEXITSTATUS (st) == 0)
    return 0;
  member_mounts_clear (m);
  if (pid < 0)
    return ko_error_set (err, errno, "fork");
  if (got != (ssize_t)sizeof f)
    return ko_error_setx (err, EIO,
                          "bring the rootfs and volumes into sandbox %s: "
                          "the helper failed",
                          sandbox->id);
  f.step[sizeof f.step - 1] = '\0';
  const char *what = f.idx < 0 || (size_t)f.idx >= p->nbinds
                         ? p->rootfs
                         : p->binds[f.idx].source;
  errno = f.err;
  return ko_error_set (err, f.err, "bring %s into sandbox %s: %s", what,
                       sandbox->id, f.step);
}

static int
member_add (const struct monitor_params *p, const struct member_mounts *m,
            const char *sandbox_dir, pid_t holder, int sock, ko_error **err)
{
  struct ko_mon_add req = { .container_id = (char *)p->id,
                            .state_dir = (char *)p->dir,
                            .bundle = p->state.bundle,
                            .rootfs = m->rootfs,
                            .hostname = (char *)p->hostname,
                            .console_socket = (char *)p->console_socket,
                            .holder_pid = (uint32_t)holder,
                            .process = p->process,
                            .fields = p->container_tlv };
  struct ko_mon_bind *binds = calloc (p->nbinds + 1, sizeof *binds);
  if (binds == NULL)
    return ko_error_set (err, ENOMEM, "add");
  for (size_t i = 0; i < p->nbinds; i++)
    binds[i]
        = (struct ko_mon_bind){ m->sources[i], p->binds[i].dest,
                                p->binds[i].ctr_dest, p->binds[i].readonly };
  req.binds = binds;
  req.nbinds = p->nbinds;
  /* its disks go with it, opened and checked here as for a VM of its own:
   * the monitor hot-plugs them before the agent creates it */
  struct ko_mon_disk disks[KO_MON_MAX_DISKS];
  int fds[KO_MON_MAX_FDS];
  int nfds = member_fds (p, sock, fds);
  if (p->disks.n > KO_MON_MAX_DISKS)
    {
      free (binds);
      return ko_error_setx (err, E2BIG, "more than %d disks", KO_MON_MAX_DISKS);
    }
  for (size_t i = 0; i < p->disks.n; i++)
    {
      const struct ko_disk *d = &p->disks.v[i];
      disks[i] = (struct ko_mon_disk){ .source = d->source,
                                       .readonly = d->readonly,
                                       .blockdev = d->blockdev,
                                       .rdev = d->rdev };
      memcpy (disks[i].serial, d->serial, sizeof disks[i].serial);
      memcpy (disks[i].limits, d->limits, sizeof disks[i].limits);
      fds[nfds++] = d->fd;
    }
  req.disks = disks;
  req.ndisks = p->disks.n;
  int r = client_add (sandbox_dir, &req, fds, nfds, MEMBER_ADD_TIMEOUT_MS, err);
  free (binds);
  return r;
}

/* `run` of a member in the foreground: its end is its holder's. */
static int
member_wait (struct ko_global *g, const char *id, pid_t holder)
{
  int st = 0;
  while (waitpid (holder, &st, 0) < 0 && errno == EINTR)
    ;
  _cleanup_error_ ko_error *e = NULL;
  if (container_delete (g, id, true, &e) < 0)
    log_warn ("%s", e->msg);
  return ko_exit_code (st);
}

int
member_create (struct ko_global *g, const struct create_opts *o,
               struct monitor_params *p, const struct pod_info *pi,
               const struct ko_state *sandbox, int dirfd, ko_error **err)
{
  _cleanup_free_ char *sbdir = state_dir_path (g->root, pi->sandbox_id);
  struct ko_state *st = &p->state;
  /* its VM's monitor, accelerator and channel are its sandbox's */
  st->monitor_pid = sandbox->monitor_pid;
  st->monitor_start = sandbox->monitor_start;
  free (st->accel);
  free (st->channel);
  st->accel = sandbox->accel ? strdup (sandbox->accel) : NULL;
  st->channel = sandbox->channel ? strdup (sandbox->channel) : NULL;
  int sock = -1;
  pid_t holder = -1;
  __attribute__ ((cleanup (member_mounts_clear))) struct member_mounts m
      = { 0 };
  if (state_write (dirfd, st, err) < 0
      || member_import (p, sandbox, &m, err) < 0)
    goto fail;
  holder = holder_spawn (p->rootfs, true, false, &pi->holder, &sock, err);
  if (holder < 0)
    goto fail;
  st->holder_pid = holder;
  st->holder_start = proc_start_time (holder);
  if (state_write (dirfd, st, err) < 0
      || member_add (p, &m, sbdir, holder, sock, err) < 0)
    goto fail;
  close (sock);
  sock = -1;
  if ((o->pid_file && write_pid_file (o->pid_file, holder, err) < 0)
      || (o->pidfd_socket
          && send_pidfd (o->pidfd_socket, holder, "standard", err) < 0))
    goto fail_added;
  /* with NOTIFY_SOCKET, start waits for READY=1 (container.c) */
  if (o->run
      && client_start (sbdir, o->id,
                       st->notify_socket ? INT_MAX : MEMBER_ADD_TIMEOUT_MS, err)
             < 0)
    goto fail_added;
  if (o->run && !o->detach)
    {
      close (dirfd);
      return member_wait (g, o->id, holder);
    }
  return 0;
fail_added:
  client_remove (sbdir, o->id, true, MEMBER_ADD_TIMEOUT_MS, NULL);
fail:
  if (sock >= 0)
    close (sock);
  if (holder > 0)
    {
      kill (holder, SIGKILL);
      waitpid (holder, NULL, 0);
    }
  _cleanup_error_ ko_error *e2 = NULL;
  state_dir_remove (g->root, o->id, &e2);
  return -1;
}

_Static_assert(KO_MON_MAX_DISKS == KO_MAX_DISKS
                   && KO_MON_DISK_LIMITS == KO_THR_N
                   && KO_MON_DISK_SERIAL_MAX == KO_DISK_SERIAL_MAX,
               "monproto.h's disk sizes are blockdev.h's");
