/* Code that runs in the children the agent forks: the container init
 * (its root filesystem: rootfs.c; then the process setup, blocked until
 * StartContainer) and the exec helper (setns, then the process setup).
 * Errors go back to the agent on the close-on-exec sync pipe. */
#define _GNU_SOURCE
#include "agent.h"
#include "agent-linux.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* fds in the child after setup_fds */
#define SYNC_FD 3
#define START_FD 4

pid_t
ag_clone (unsigned long flags)
{
  /* x86-64 argument order: flags, stack, parent_tid, child_tid, tls */
  return (pid_t)syscall (SYS_clone, flags, NULL, NULL, NULL, 0);
}

pid_t
ag_clone_into (unsigned long flags, const char *id, const char *sub,
               bool *joined)
{
  *joined = false;
  int fd = cgroup_open (id);
  if (sub)
    {
      /* exec --cgroup: that group or nothing */
      int s = -1;
      errno = EINVAL;
      if (fd >= 0 && ag_relpath_ok (sub))
        s = openat (fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (fd >= 0)
        close (fd);
      if ((fd = s) < 0)
        return -1;
    }
  if (fd >= 0)
    {
      struct ag_clone_args a
          = { .flags = (flags & ~0xffUL) | AG_CLONE_INTO_CGROUP,
              .exit_signal = flags & 0xff,
              .cgroup = (uint64_t)fd };
      pid_t pid = (pid_t)syscall (SYS_clone3, &a, sizeof a);
      close (fd); /* in the child too */
      if (pid >= 0)
        {
          *joined = true;
          return pid;
        }
      /* a kernel without clone3 or CLONE_INTO_CGROUP (before 5.7), or a
       * group that refuses: the caller's cgroup.procs write then says why */
      if (sub)
        return -1;
    }
  return ag_clone (flags);
}

static void
sync_send (int type, int status, const char *msg)
{
  uint8_t buf[SYNC_MSG_MAX];
  size_t mlen = msg ? strlen (msg) : 0;
  size_t max = sizeof buf - 3 - 4;
  if (mlen > max)
    mlen = max;
  size_t len = type == SYNC_ERROR ? 4 + mlen : type == SYNC_PID ? 4 : 0;
  buf[0] = type;
  buf[1] = len;
  buf[2] = len >> 8;
  uint32_t v = (uint32_t)status;
  for (int i = 0; i < 4; i++)
    buf[3 + i] = v >> (8 * i);
  if (type == SYNC_ERROR)
    memcpy (buf + 7, msg, mlen);
  if (write (SYNC_FD, buf, 3 + len) < 0)
    {
      /* the agent is gone; nothing to tell */
    }
}

static void __attribute__ ((noreturn)) child_fail (ko_error *err)
{
  sync_send (SYNC_ERROR, err->status, err->msg);
  _exit (err->status == EACCES ? 126 : 127);
}

/* Moves the fds the child needs to 0-4 and closes every other one: the
 * agent's fds (the channel, other containers' pipes) must not leak into a
 * container, not even before exec. */
static void
setup_fds (const struct ag_stdio *io, int sync_fd, int start_fd)
{
  int hi[5];
  int src[5] = { io->fd[0], io->fd[1], io->fd[2], sync_fd, start_fd };
  for (int i = 0; i < 5; i++)
    hi[i] = src[i] < 0 ? -1 : fcntl (src[i], F_DUPFD, 100);
  /* sync first, so failures below can be reported */
  dup3 (hi[3], SYNC_FD, O_CLOEXEC);
  if (hi[4] >= 0)
    dup3 (hi[4], START_FD, O_CLOEXEC);
  for (int i = 0; i < 3; i++)
    dup2 (hi[i], i);
  syscall (SYS_close_range, hi[4] >= 0 ? 5 : 4, ~0u, 0);
  if (hi[4] < 0)
    close (START_FD);
}

static void
reset_signals (void)
{
  sigset_t all;
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  for (int s = 1; s < NSIG; s++)
    signal (s, SIG_DFL);
}

static int
setup_tty (const struct ag_stdio *io, ko_error **err)
{
  if (setsid () < 0)
    return ag_error_set (err, errno, "setsid");
  if (io->tty && ioctl (0, TIOCSCTTY, 0) < 0)
    return ag_error_set (err, errno, "set the controlling terminal");
  return 0;
}

/* ---- the process ---- */

int
ag_write_file (const char *path, const char *s, ko_error **err)
{
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return ag_error_set (err, errno, "open %s", path);
  size_t n = strlen (s);
  if (write (fd, s, n) != (ssize_t)n)
    return ag_error_set (err, errno, "write %s", path);
  return 0;
}

static int
install_seccomp (const struct ko_process *p, ko_error **err)
{
  if (p->seccomp_len == 0)
    return 0;
  struct ag_sock_fprog prog
      = { .len = p->seccomp_len / 8, .filter = p->seccomp };
  if (syscall (SYS_seccomp, AG_SECCOMP_SET_MODE_FILTER, p->seccomp_flags, &prog)
      < 0)
    return ag_error_set (err, errno, "install the seccomp filter");
  return 0;
}

static int
drop_bounding (uint64_t keep, ko_error **err)
{
  for (int c = 0; c < 64; c++)
    {
      if (keep & (1ull << c))
        continue;
      if (prctl (PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
        {
          if (errno == EINVAL)
            break; /* past the last capability */
          return ag_error_set (err, errno, "drop capability %d", c);
        }
    }
  return 0;
}

static int
set_caps (const uint64_t caps[5], ko_error **err)
{
  struct ag_cap_header h = { .version = AG_CAP_V3 };
  struct ag_cap_data d[2];
  for (int i = 0; i < 2; i++)
    {
      d[i].effective = caps[1] >> (32 * i);
      d[i].inheritable = caps[2] >> (32 * i);
      d[i].permitted = caps[3] >> (32 * i);
    }
  if (syscall (SYS_capset, &h, d) < 0)
    return ag_error_set (err, errno, "capset");
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0
      && errno != EINVAL)
    return ag_error_set (err, errno, "clear ambient capabilities");
  for (int c = 0; c < 64; c++)
    if ((caps[4] & (1ull << c))
        && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      return ag_error_set (err, errno, "raise ambient capability %d", c);
  return 0;
}

int
ag_set_limits (pid_t pid, const struct ko_process *p, ko_error **err)
{
  for (size_t i = 0; i < p->nrlimits; i++)
    {
      struct rlimit rl = { p->rlimits[i].soft, p->rlimits[i].hard };
      if (prlimit (pid, (int)p->rlimits[i].type, &rl, NULL) < 0)
        return ag_error_set (err, errno, "setrlimit %u", p->rlimits[i].type);
    }
  if (p->has_oom_score_adj)
    {
      char path[48], v[16];
      if (pid)
        snprintf (path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
      else
        snprintf (path, sizeof path, "/proc/self/oom_score_adj");
      snprintf (v, sizeof v, "%d", p->oom_score_adj);
      if (ag_write_file (path, v, err) < 0)
        return -1;
    }
  return 0;
}

/* Blocks until the agent writes a byte on fd; false if it closed it. */
static bool
wait_byte (int fd)
{
  char b;
  ssize_t n;
  do
    n = read (fd, &b, 1);
  while (n < 0 && errno == EINTR);
  return n == 1;
}

/* Everything between the namespaces and execve (the limits are set
 * already). wait_fd >= 0: block there until the agent says start. */
static void __attribute__ ((noreturn))
run_process (const struct ko_process *p, int wait_fd)
{
  _cleanup_error_ ko_error *err = NULL;
  const char *cwd = p->cwd && *p->cwd ? p->cwd : "/";
  if (chdir (cwd) < 0)
    {
      ag_error_set (&err, errno, "chdir %s", cwd);
      child_fail (err);
    }
  _cleanup_free_ char *exe = NULL;
  if (ag_find_executable (p->args[0], ag_env_path (p->env), &exe, &err) < 0)
    child_fail (err);

  /* without no_new_privs, installing a filter needs CAP_SYS_ADMIN: do it
   * while still root */
  if (!p->no_new_privs && install_seccomp (p, &err) < 0)
    child_fail (err);
  if (p->has_caps)
    {
      if (drop_bounding (p->caps[0], &err) < 0)
        child_fail (err);
      if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        {
          ag_error_set (&err, errno, "keep capabilities");
          child_fail (err);
        }
    }
  /* while the process is still root: a real-time policy, a negative nice
   * or the real-time I/O class need CAP_SYS_NICE or CAP_SYS_ADMIN, which
   * the user may not keep (runc sets them before its capabilities too) */
  if ((p->sched.size && syscall (SYS_sched_setattr, 0, &p->sched, 0) < 0)
      || (p->has_ioprio
          && syscall (SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, p->ioprio)
                 < 0))
    {
      ag_error_set (&err, errno, "process.scheduler/ioPriority");
      child_fail (err);
    }
  gid_t gids[p->nadd_gids + 1];
  for (size_t i = 0; i < p->nadd_gids; i++)
    gids[i] = p->add_gids[i];
  /* raw system calls: the child is single-threaded, and musl's wrappers
   * bring its all-threads machinery (__synccall) into the agent's image */
  if (syscall (SYS_setgroups, p->nadd_gids, gids) < 0)
    {
      ag_error_set (&err, errno, "setgroups");
      child_fail (err);
    }
  if (syscall (SYS_setgid, p->gid) < 0)
    {
      ag_error_set (&err, errno, "setgid %u", p->gid);
      child_fail (err);
    }
  if (syscall (SYS_setuid, p->uid) < 0)
    {
      ag_error_set (&err, errno, "setuid %u", p->uid);
      child_fail (err);
    }
  if (p->has_caps)
    {
      prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0);
      if (set_caps (p->caps, &err) < 0)
        child_fail (err);
    }
  umask (p->has_umask ? p->umask & 0777 : 022);
  if (p->no_new_privs && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    {
      ag_error_set (&err, errno, "set no_new_privs");
      child_fail (err);
    }

  if (wait_fd >= 0)
    {
      sync_send (SYNC_READY, 0, NULL);
      if (!wait_byte (wait_fd))
        _exit (0); /* the container went away before it started */
      close (wait_fd);
    }
  if (p->no_new_privs && install_seccomp (p, &err) < 0)
    child_fail (err);
  execve (exe, p->args, p->env ? p->env : (char *[]){ NULL });
  ag_error_set (&err, errno, "exec %s", exe);
  child_fail (err);
}

/* Be the user namespace's root if it has one, so that what the setup makes
 * in the rootfs (mount points) belongs to the container, not to the guest's
 * root, whose uid 0 the namespace does not map; and drop the agent's
 * groups. The maps are written: the agent did that first. */
static int
become_userns_root (const struct ko_container_spec *spec, ko_error **err)
{
  /* raw system calls, as in run_process: no __synccall in the image */
  if (syscall (SYS_setgroups, 0, NULL) < 0)
    return ag_error_set (err, errno, "setgroups");
  if (ko_id_maps_contain (spec->gid_map, spec->ngid_map, 0)
      && syscall (SYS_setresgid, 0, 0, 0) < 0)
    return ag_error_set (err, errno, "setresgid 0");
  if (ko_id_maps_contain (spec->uid_map, spec->nuid_map, 0)
      && syscall (SYS_setresuid, 0, 0, 0) < 0)
    return ag_error_set (err, errno, "setresuid 0");
  return 0;
}

struct ag_join ag_join = { -1, -1 };

void
spawn_container_init (const struct ko_msg_create_container *m,
                      const struct ag_stdio *io, int sync_fd, int start_fd)
{
  const struct ko_container_spec *spec = &m->spec;
  _cleanup_error_ ko_error *err = NULL;
  /* before setup_fds closes them: the pod's IPC and UTS namespaces */
  int join_errno = 0;
  if ((ag_join.ipc >= 0 && setns (ag_join.ipc, CLONE_NEWIPC) < 0)
      || (ag_join.uts >= 0 && setns (ag_join.uts, CLONE_NEWUTS) < 0))
    join_errno = errno;
  setup_fds (io, sync_fd, start_fd);
  if (join_errno)
    {
      ag_error_set (&err, join_errno, "join the pod's namespaces");
      child_fail (err);
    }
  reset_signals ();
  umask (0);
  if (!wait_byte (START_FD))
    _exit (0); /* the agent gave up on us */
  if ((spec->namespaces & CLONE_NEWUSER) && become_userns_root (spec, &err) < 0)
    child_fail (err);
  /* now that the agent has put us in the group, so that it is the
   * namespace's root */
  if ((spec->namespaces & CLONE_NEWCGROUP) && unshare (CLONE_NEWCGROUP) < 0)
    {
      ag_error_set (&err, errno, "unshare the cgroup namespace");
      child_fail (err);
    }
  /* a time namespace for our children, its offsets, then we enter it:
   * the offsets are fixed once a process is in */
  if (spec->namespaces & CLONE_NEWTIME)
    {
      int fd = -1;
      if (unshare (CLONE_NEWTIME) < 0
          || (spec->time_offsets
              && ag_write_str ("/proc/self/timens_offsets", spec->time_offsets)
                     < 0)
          || (fd
              = open ("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC))
                 < 0
          || setns (fd, CLONE_NEWTIME) < 0)
        {
          ag_error_set (&err, errno, "time namespace (linux.timeOffsets)");
          child_fail (err);
        }
      close (fd);
    }
  if (setup_tty (io, &err) < 0 || rootfs_setup (m->rootfs, spec, &err) < 0)
    child_fail (err);
  /* a pod member sharing the UTS namespace has the pod's names */
  bool own_uts = !(spec->join_ns & CLONE_NEWUTS);
  if (own_uts && m->hostname
      && sethostname (m->hostname, strlen (m->hostname)) < 0)
    {
      ag_error_set (&err, errno, "sethostname");
      child_fail (err);
    }
  if (own_uts && spec->domainname
      && setdomainname (spec->domainname, strlen (spec->domainname)) < 0)
    {
      ag_error_set (&err, errno, "setdomainname");
      child_fail (err);
    }
  if (spec->has_personality && personality (spec->personality) < 0)
    {
      ag_error_set (&err, errno, "personality 0x%x", spec->personality);
      child_fail (err);
    }
  run_process (&m->process, START_FD);
}

static const struct
{
  const char *name;
  int type;
} ns_order[] = {
  /* user first, as runc and nsenter do: the others belong to it, and in it
   * we hold the capabilities to join them. mnt last: after it, /proc/<pid>
   * is the container's /proc */
  { "user", CLONE_NEWUSER }, { "cgroup", CLONE_NEWCGROUP },
  { "ipc", CLONE_NEWIPC },   { "uts", CLONE_NEWUTS },
  { "net", CLONE_NEWNET },   { "pid", CLONE_NEWPID },
  { "time", CLONE_NEWTIME }, { "mnt", CLONE_NEWNS },
};

void
spawn_exec_helper (const char *id, pid_t init_pid, bool in_group,
                   const struct ko_process *proc, const struct ag_stdio *io,
                   int sync_fd)
{
  _cleanup_error_ ko_error *err = NULL;
  setup_fds (io, sync_fd, -1);
  reset_signals ();
  if (!in_group && cgroup_enter (id, 0, &err) < 0)
    child_fail (err);
  int fds[KO_ARRAY_SIZE (ns_order)];
  for (size_t i = 0; i < KO_ARRAY_SIZE (ns_order); i++)
    {
      char p[64], self[64];
      struct stat a, b;
      fds[i] = -1;
      snprintf (p, sizeof p, "/proc/%d/ns/%s", init_pid, ns_order[i].name);
      snprintf (self, sizeof self, "/proc/self/ns/%s", ns_order[i].name);
      if (stat (p, &a) < 0)
        {
          if (errno == ENOENT
              && (ns_order[i].type == CLONE_NEWCGROUP
                  || ns_order[i].type == CLONE_NEWTIME))
            continue;
          ag_error_set (&err, errno, "container process %d", init_pid);
          child_fail (err);
        }
      if (stat (self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
        continue; /* shared with the agent */
      fds[i] = open (p, O_RDONLY | O_CLOEXEC);
      if (fds[i] < 0)
        {
          ag_error_set (&err, errno, "open %s", p);
          child_fail (err);
        }
    }
  /* while still privileged in the guest: a user namespace cannot raise them.
   * Not dumpable, so that the container (root in its user namespace) cannot
   * ptrace this copy of the agent before exec. */
  if (ag_set_limits (0, proc, &err) < 0)
    child_fail (err);
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  for (size_t i = 0; i < KO_ARRAY_SIZE (ns_order); i++)
    if (fds[i] >= 0 && setns (fds[i], ns_order[i].type) < 0)
      {
        ag_error_set (&err, errno, "join the %s namespace", ns_order[i].name);
        child_fail (err);
      }
  for (size_t i = 0; i < KO_ARRAY_SIZE (ns_order); i++)
    if (fds[i] >= 0)
      close (fds[i]);

  /* CLONE_PARENT: the process is the agent's child, so the agent reaps it
   * and learns its status */
  pid_t pid = ag_clone (CLONE_PARENT);
  if (pid < 0)
    {
      ag_error_set (&err, errno, "clone");
      child_fail (err);
    }
  if (pid == 0)
    {
      if (setup_tty (io, &err) < 0)
        child_fail (err);
      run_process (proc, -1);
    }
  sync_send (SYNC_PID, pid, NULL);
  _exit (0);
}
