/* The holder: a container's pid on the host. */
#include "config.h"

#include "confine.h"
#include "hostpath.h"
#include "log.h"
#include "paths.h"
#include "sandbox.h"
#include "proc.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <unistd.h>

/* The holder: the pid `state` reports and, for a detached container,
 * the pid in --pid-file. It is parked in a mount namespace whose root is
 * the container's rootfs (the share's bind mount), so tools that enter
 * that pid's mount namespace to copy files (podman cp) write into the
 * container, not into the host as they would through the monitor.
 *
 * As conmon's waitee it lives exactly as long as the container: the
 * monitor writes the container's exit status to its pipe and exits; the
 * holder exits with that status at the pipe's EOF, i.e. once the monitor
 * has cleaned up. The signals conmon forwards to it go to the monitor,
 * which forwards them to the container's init. */
static pid_t holder_monitor;

static void
holder_forward (int sig)
{
  /* once reparented, our parent is no longer the monitor */
  if (getppid () == holder_monitor)
    kill (holder_monitor, sig);
}

static _Noreturn void
holder_main (const char *root, int status_fd)
{
  int null = open ("/dev/null", O_RDWR);
  if (null >= 0)
    {
      dup2 (null, 0);
      dup2 (null, 1);
      dup2 (null, 2);
    }
  if (dup2 (status_fd, 3) < 0)
    _exit (255);
  /* hold none of the container's stdio or the monitor's sockets */
  if (syscall (SYS_close_range, 4U, ~0U, 0U) < 0)
    for (int fd = 4; fd < 1024; fd++)
      close (fd);
  if (unshare (CLONE_NEWNS) < 0
      || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
      || chdir (root) < 0 || syscall (SYS_pivot_root, ".", ".") < 0
      || umount2 (".", MNT_DETACH) < 0 || chdir ("/") < 0
      || confine_drop_all_caps () < 0)
    _exit (255);
  int fwd[] = { KO_FORWARDED_SIGNALS };
  struct sigaction sa
      = { .sa_handler = holder_forward, .sa_flags = SA_RESTART };
  for (size_t i = 0; i < KO_ARRAY_SIZE (fwd); i++)
    sigaction (fwd[i], &sa, NULL);
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  unsigned char st = 255; /* the monitor died without a word */
  bool got = false;
  for (;;)
    {
      unsigned char b;
      ssize_t n = read (3, &b, 1);
      if (n == 1 && !got)
        {
          st = b;
          got = true;
        }
      else if (n == 0 || (n < 0 && errno != EINTR))
        _exit (st);
    }
}

int
holder_start (struct container *c, ko_error **err)
{
  char root[4096];
  snprintf (root, sizeof root, "%s/%s/%s/rootfs", c->sb->p->dir, KO_SHARED_DIR,
            c->p->id);
  int pfd[2];
  if (pipe2 (pfd, O_CLOEXEC) < 0)
    return ko_error_set (err, errno, "pipe");
  holder_monitor = getpid ();
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (pfd[0]);
      close (pfd[1]);
      return ko_error_set (err, errno, "fork");
    }
  if (pid == 0)
    {
      close (pfd[1]);
      holder_main (root, pfd[0]);
    }
  close (pfd[0]);
  c->holder_fd = pfd[1];
  c->holder_pid = pid;
  c->p->state.holder_pid = pid;
  c->p->state.holder_start = proc_start_time (pid);
  ctr_record (c, "creating");
  return 0;
}

/* The child of holder_add_volumes: clones each volume's share mount
 * (here, in the monitor's namespace), enters the holder's and attaches
 * each clone at its container path, resolved inside the rootfs. Returns
 * how many were left out, or -1. */
static int
holder_volumes_child (struct container *c)
{
  size_t n = c->p->nbinds;
  int *trees = calloc (n, sizeof *trees);
  if (trees == NULL)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      char path[4096];
      snprintf (path, sizeof path, "%s/%s/%s", c->sb->p->dir, KO_SHARED_DIR,
                c->p->binds[i].dest);
      /* a detached copy keeps its read-only flag, and can be attached in
       * another namespace, which a plain bind cannot */
      trees[i]
          = (int)syscall (SYS_open_tree, AT_FDCWD, path,
                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
      if (trees[i] < 0)
        return -1;
    }
  char ns[64];
  snprintf (ns, sizeof ns, "/proc/%d/ns/mnt", (int)c->holder_pid);
  int nsfd = open (ns, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0 || setns (nsfd, CLONE_NEWNS) < 0)
    return -1;
  /* setns made the holder's root (the rootfs) ours */
  int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return -1;
  int left = 0;
  for (size_t i = 0; i < n; i++)
    {
      /* the rootfs is the container's to shape: its symlinks resolve
       * inside it, never to a host path */
      struct open_how how
          = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
      int dfd = (int)syscall (SYS_openat2, root, c->p->binds[i].ctr_dest, &how,
                              sizeof how);
      if (dfd < 0
          || syscall (SYS_move_mount, trees[i], "", dfd, "",
                      MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
                 < 0)
        left++; /* e.g. under a tmpfs of the guest: not in the rootfs */
      if (dfd >= 0)
        close (dfd);
    }
  return left;
}

/* Gives the holder's mount namespace the container's volumes at their
 * container paths. podman cp into a running container writes through that
 * namespace (see holder_main): without them a file meant for a volume
 * would land in the rootfs under it. The guest has made the mount points
 * through virtio-fs by now. A child does the work, as setns would move
 * the monitor itself. Best effort: a volume left out misroutes podman cp,
 * nothing else. */
void
holder_add_volumes (struct container *c)
{
  if (c->p->nbinds == 0 || c->holder_pid <= 0)
    return;
  pid_t pid = fork ();
  if (pid == 0)
    {
      int left = holder_volumes_child (c);
      _exit (left < 0 ? 255 : left > 254 ? 254 : left);
    }
  int st = 0;
  if (pid > 0 && waitpid (pid, &st, 0) == pid && WIFEXITED (st)
      && WEXITSTATUS (st) == 0)
    return;
  if (pid > 0 && WIFEXITED (st) && WEXITSTATUS (st) < 255)
    log_debug ("%d volume(s) not under the rootfs (a guest filesystem "
               "holds their mount point): not in the holder's namespace",
               WEXITSTATUS (st));
  else
    log_warn ("the volumes are not in the --pid-file process's mount "
              "namespace: podman cp into them will miss them");
}

