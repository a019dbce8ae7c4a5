/* A container's holder, as the monitor sees it. */
#include "config.h"

#include "confine.h"
#include "holder.h"
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
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <unistd.h>

/* The monitor's side of a container's holder (holder.h): its socket
 * brings the signals conmon sent it, and its end; at the container's end
 * the monitor sends the exit status over it. */

static void
holder_on_event (struct ko_watch *w, uint32_t events)
{
  struct container *c = w->data;
  unsigned char buf[64];
  (void)events;
  ssize_t n = read (w->fd, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] > 0 && buf[i] < 65 && !c->sb->destroy_requested)
      ctr_signal (c, buf[i]);
  if (n > 0)
    return;
  /* gone: the container's pid is gone, so is the container */
  ko_watch_close (w);
  c->holder_gone = true;
  if (!c->init_exited && !c->sb->destroy_requested)
    {
      ko_log (c->sb->created ? KO_LOG_WARN : KO_LOG_DEBUG,
              "container %s: its pid %d was killed: stopping the container",
              c->p->id, (int)c->holder_pid);
      if (c == c->sb->ctrs[0])
        sandbox_stop (c->sb);
      else
        ctr_kill_all (c);
    }
}

void
holder_adopt (struct container *c, pid_t pid, int sock)
{
  c->holder_pid = pid;
  c->p->state.holder_pid = pid;
  c->p->state.holder_start = proc_start_time (pid);
  fcntl (sock, F_SETFL, fcntl (sock, F_GETFL) | O_NONBLOCK);
  ko_watch_init (&c->holder_w, &c->sb->loop, sock, holder_on_event, c);
  ko_watch_set (&c->holder_w, EPOLLIN);
}

int
holder_start (struct container *c, ko_error **err)
{
  char root[4096];
  snprintf (root, sizeof root, "%s/%s/%s/rootfs", c->sb->p->dir, KO_SHARED_DIR,
            c->p->id);
  int sock = -1;
  /* detached, our parent is the create that waits for our report */
  pid_t pid = holder_spawn (root, false, !c->sb->p->foreground,
                            &c->p->holder_ns, &sock, err);
  if (pid < 0)
    return -1;
  holder_adopt (c, pid, sock);
  ctr_record (c, "creating");
  return 0;
}

/* The container's end: its status to the holder, which exits with it once
 * the socket closes: at our exit for the sandbox's container (whoever
 * waits for its pid then finds the VM gone), now for a pod's member or
 * when now is set (the sandbox's container ended before its pod's
 * members: its engine learns of it at once, as from runc). */
void
holder_release (struct container *c, int status, bool now)
{
  int fd = ko_watch_release (&c->holder_w);
  if (fd < 0)
    return;
  unsigned char b = (unsigned char)status;
  if (send (fd, &b, 1, MSG_NOSIGNAL) != 1)
    { /* the holder is gone: nobody waits for this status */
    }
  if (!now && c->sb->nctrs && c->sb->ctrs[0] == c)
    c->holder_fd = fd; /* closed by our exit, after the cleanup */
  else
    close (fd);
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
