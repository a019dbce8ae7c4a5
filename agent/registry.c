/* The containers of the guest and their processes: the registry, what
 * finds every process of a container, reaping, and the ProcessExited and
 * Oom events. */
#define _GNU_SOURCE
#include "rpc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define KEEP_EXITED_EXECS 16

static struct container *containers;

struct container *
container_find (const char *id)
{
  for (struct container *c = containers; c; c = c->next)
    if (strcmp (c->id, id) == 0)
      return c;
  return NULL;
}

struct proc *
proc_find (struct container *c, const char *exec_id)
{
  if (exec_id == NULL)
    return c->init;
  for (struct proc *p = c->procs; p; p = p->next)
    if (p->exec_id && strcmp (p->exec_id, exec_id) == 0)
      return p;
  return NULL;
}

void
proc_free (struct proc *p)
{
  if (p == NULL)
    return;
  stream_free (p->in);
  stream_free (p->out);
  stream_free (p->err);
  if (p->tty_fd >= 0)
    close (p->tty_fd);
  free (p->waiters);
  free (p->exec_id);
  free (p);
}

void
proc_unlink (struct proc *p)
{
  struct container *c = p->c;
  for (struct proc **pp = &c->procs; *pp; pp = &(*pp)->next)
    if (*pp == p)
      {
        *pp = p->next;
        break;
      }
  if (c->init == p)
    c->init = NULL;
}

void
proc_abandon (struct proc *p)
{
  if (p->pid > 0 && !p->exited)
    kill (p->pid, SIGKILL);
  proc_unlink (p);
  proc_free (p);
}

void
container_free (struct container *c)
{
  for (struct container **pp = &containers; *pp; pp = &(*pp)->next)
    if (*pp == c)
      {
        *pp = c->next;
        break;
      }
  while (c->procs)
    proc_abandon (c->procs);
  if (c->start_fd >= 0)
    close (c->start_fd);
  sync_op_free (c->sync);
  ko_watch_close (&c->notify_w);
  free (c->notify);
  cgroup_remove (c->id);
  if (c->mntns_fd >= 0)
    close (c->mntns_fd);
  if (c->rootfs_mount)
    ag_disk_umount (c->rootfs_mount);
  free (c->rootfs_mount);
  free (c->id);
  free (c);
}

struct container *
container_new (const char *id, uint64_t namespaces)
{
  struct container *c = calloc (1, sizeof *c);
  if (c == NULL || (c->id = strdup (id)) == NULL)
    {
      free (c);
      return NULL;
    }
  c->oom_kills = cgroup_oom_kills (c->id);
  cgroup_watch_oom (c->id);
  c->start_fd = -1;
  c->mntns_fd = -1;
  ko_watch_init (&c->notify_w, &ag_loop, -1, NULL, c);
  c->namespaces = namespaces;
  c->next = containers;
  containers = c;
  return c;
}

void
container_set_init_ns (struct container *c, pid_t pid)
{
  char p[64];
  struct stat st;
  snprintf (p, sizeof p, "/proc/%d/ns/pid", pid);
  if (stat (p, &st) == 0)
    {
      c->ns_dev = st.st_dev;
      c->pidns = st.st_ino;
    }
  snprintf (p, sizeof p, "/proc/%d/ns/mnt", pid);
  c->mntns_fd = open (p, O_RDONLY | O_CLOEXEC);
  if (c->mntns_fd >= 0 && fstat (c->mntns_fd, &st) == 0)
    c->mntns = st.st_ino;
}

int
proc_lookup (const char *container_id, const char *exec_id,
             struct container **c, struct proc **p, ko_error **err)
{
  *c = container_find (container_id);
  if (*c == NULL)
    return ko_error_setx (err, ENOENT, "container %s does not exist",
                          container_id);
  *p = proc_find (*c, exec_id);
  if (*p == NULL)
    return exec_id
               ? ko_error_setx (err, ENOENT,
                                "exec %s of container %s does not exist",
                                exec_id, container_id)
               : ko_error_setx (err, ENOENT, "container %s has no init process",
                                container_id);
  return 0;
}

/* Every live process of the container: the members of its pid namespace
 * (or mount namespace when it has no pid namespace of its own). */
size_t
container_pids (struct container *c, pid_t **out)
{
  if (cgroup_available ())
    return cgroup_pids (c->id, out);
  pid_t *v = NULL;
  size_t n = 0, cap = 0;
  bool by_pid = c->namespaces & CLONE_NEWPID;
  bool by_mnt = !by_pid && (c->namespaces & CLONE_NEWNS);
  ino_t want = by_pid ? c->pidns : c->mntns;
  DIR *d = (by_pid || by_mnt) && want ? opendir ("/proc") : NULL;
  struct dirent *e;
  while (d && (e = readdir (d)))
    {
      const char *end = e->d_name;
      uint64_t num;
      if (e->d_name[0] < '1' || e->d_name[0] > '9' || !ag_next_u64 (&end, &num)
          || *end || num <= 1 || num > INT32_MAX)
        continue;
      pid_t pid = (pid_t)num;
      char p[64];
      struct stat st;
      snprintf (p, sizeof p, "/proc/%d/ns/%s", (int)pid,
                by_pid ? "pid" : "mnt");
      if (stat (p, &st) < 0 || st.st_ino != want || st.st_dev != c->ns_dev)
        continue;
      if (n == cap)
        {
          cap = cap ? 2 * cap : 16;
          pid_t *nv = realloc (v, cap * sizeof *v);
          if (nv == NULL)
            break;
          v = nv;
        }
      v[n++] = pid;
    }
  if (d)
    closedir (d);
  if (!by_pid && !by_mnt)
    for (struct proc *p = c->procs; p; p = p->next)
      if (!p->exited && p->pid > 0)
        {
          pid_t *nv = realloc (v, (n + 1) * sizeof *v);
          if (nv == NULL)
            break;
          v = nv;
          v[n++] = p->pid;
        }
  *out = v;
  return n;
}

void
container_kill_all (struct container *c, int sig)
{
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = container_pids (c, &pids);
  for (size_t i = 0; i < n; i++)
    kill (pids[i], sig);
  for (struct proc *p = c->procs; p; p = p->next)
    if (!p->exited && p->pid > 0)
      kill (p->pid, sig);
}

struct container *
containers_first (void)
{
  return containers;
}

void
containers_kill_all (int sig)
{
  for (struct container *c = containers; c; c = c->next)
    container_kill_all (c, sig);
}

struct proc *
proc_new (struct container *c)
{
  struct proc *p = calloc (1, sizeof *p);
  if (p == NULL)
    return NULL;
  p->c = c;
  p->tty_fd = -1;
  p->next = c->procs;
  c->procs = p;
  return p;
}

/* ---- ProcessExited ---- */

static void
prune_execs (struct container *c)
{
  size_t kept = 0;
  for (struct proc **pp = &c->procs; *pp;)
    {
      struct proc *p = *pp;
      if (p->exec_id && p->reported && ++kept > KEEP_EXITED_EXECS)
        {
          *pp = p->next;
          proc_free (p);
          continue;
        }
      pp = &p->next;
    }
}

void
proc_check_done (struct proc *p)
{
  if (!p->exited || p->reported || p->failed)
    return;
  if (p->exec_id)
    {
      /* as with runc, exec ends when its process does: a background child
       * holding stdout must not keep it (and podman exec) waiting. What
       * the process wrote is in the pipe (or pty) now; send that, then EOF.
       * The init needs none of this: its pid namespace dies with it. */
      stream_end_after_pending (p->out);
      stream_end_after_pending (p->err);
      if (p->reported)
        return; /* an EOF just now reported it */
    }
  if ((p->out && !p->out->eof) || (p->err && !p->err->eof))
    return;
  /* the host stops the VM once it hears of the init's end: what the
   * container wrote to its disks must be on them first */
  if (p->exec_id == NULL && p->c->has_disks)
    sync ();
  p->reported = true;
  struct ko_msg_process_exited ev
      = { p->c->id, p->exec_id, (uint32_t)p->pid, (uint32_t)p->status };
  struct ko_buf b = { 0 };
  if (ko_msg_process_exited_encode (&b, &ev) < 0)
    ag_fatal ("out of memory sending ProcessExited");
  channel_send_event (KO_E_PROCESS_EXITED, &b);
  ko_buf_free (&b);
  ag_dbg ("%s %s exited, status 0x%x", p->exec_id ? "exec" : "container",
          p->exec_id ? p->exec_id : p->c->id, p->status);
  for (size_t i = 0; i < p->nwaiters; i++)
    reply_status (p->waiters[i], p->status);
  free (p->waiters);
  p->waiters = NULL;
  p->nwaiters = 0;
  stream_free (p->in);
  stream_free (p->out);
  stream_free (p->err);
  p->in = p->out = p->err = NULL;
  if (p->tty_fd >= 0)
    close (p->tty_fd);
  p->tty_fd = -1;
  prune_execs (p->c);
}

static struct proc *
proc_by_pid (pid_t pid)
{
  for (struct container *c = containers; c; c = c->next)
    for (struct proc *p = c->procs; p; p = p->next)
      if (p->pid == pid && !p->exited)
        return p;
  return NULL;
}

/* OOM when the group's oom_kill count grew since the last look. */
static void
container_check_oom (struct container *c)
{
  uint64_t n = cgroup_oom_kills (c->id);
  if (n <= c->oom_kills)
    return;
  c->oom_kills = n;
  struct ko_msg_oom ev = { c->id };
  struct ko_buf b = { 0 };
  if (ko_msg_oom_encode (&b, &ev) < 0)
    ag_fatal ("out of memory sending Oom");
  channel_send_event (KO_E_OOM, &b);
  ko_buf_free (&b);
  ag_dbg ("container %s: OOM kill (%llu so far)", c->id, (unsigned long long)n);
}

void
rpc_check_oom (void)
{
  for (struct container *c = containers; c; c = c->next)
    container_check_oom (c);
}

void
rpc_on_sigchld (void)
{
  for (;;)
    {
      int st;
      pid_t pid = waitpid (-1, &st, WNOHANG | __WALL);
      if (pid <= 0)
        break;
      struct proc *p = proc_by_pid (pid);
      if (p == NULL)
        continue; /* an exec helper, an abandoned child, an orphan */
      p->exited = true;
      p->status = st;
      struct container *c = p->c;
      /* the kernel counts an OOM kill before it sends the SIGKILL: report
       * it before the exit */
      if (WIFSIGNALED (st) && WTERMSIG (st) == SIGKILL)
        container_check_oom (c);
      if (p == c->init)
        {
          /* the kernel empties a pid namespace whose init dies; without
           * one, the agent does */
          container_kill_all (c, SIGKILL);
          if (c->start_fd >= 0)
            close (c->start_fd);
          c->start_fd = -1;
        }
      proc_check_done (p);
      rpc_removed_check (c); /* may free c and p */
    }
}
