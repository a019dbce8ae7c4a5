#include "config.h"

#include "confine.h"
#include "holder.h"
#include "oci.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int
holder_ns_from_spec (const struct oci_spec *spec, struct holder_ns *ns)
{
  memset (ns, 0, sizeof *ns);
  const oci_linux *l = spec ? spec->linux : NULL;
  for (size_t i = 0; l && i < l->namespaces_len; i++)
    {
      const oci_namespace *n = &l->namespaces[i];
      if (strcmp (n->type, "mount") == 0)
        {
          ns->new_mnt = true;
          continue;
        }
      char **path = strcmp (n->type, "network") == 0 ? &ns->net
                    : strcmp (n->type, "ipc") == 0   ? &ns->ipc
                    : strcmp (n->type, "uts") == 0   ? &ns->uts
                    : strcmp (n->type, "pid") == 0   ? &ns->pid
                                                     : NULL;
      if (path == NULL)
        continue;
      bool fresh = n->path == NULL || *n->path == '\0';
      if (path == &ns->net)
        ns->new_net = fresh;
      else if (path == &ns->ipc)
        ns->new_ipc = fresh;
      else if (path == &ns->uts)
        ns->new_uts = fresh;
      else
        ns->new_pid = fresh;
      free (*path);
      *path = fresh ? NULL : strdup (n->path);
      if (!fresh && *path == NULL)
        {
          holder_ns_clear (ns);
          return -1;
        }
    }
  return 0;
}

void
holder_ns_clear (struct holder_ns *ns)
{
  free (ns->net);
  free (ns->ipc);
  free (ns->uts);
  free (ns->pid);
  memset (ns, 0, sizeof *ns);
}

/* the mount namespace the process had at holder_init, or -1 */
static int outer_mntns = -1;

void
holder_init (void)
{
  if (outer_mntns < 0)
    outer_mntns = open ("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
}

static void
holder_forward (int sig)
{
  unsigned char b = (unsigned char)sig;
  int saved = errno;
  /* the monitor forwards it to the container's init */
  if (send (3, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
    { /* the monitor is gone: we exit at EOF */
    }
  errno = saved;
}

static int
join (const char *path, int type)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int r = setns (fd, type);
  close (fd);
  return r;
}

/* Tells the caller why the holder could not get ready, and exits. */
static _Noreturn void
holder_fail (const char *what, const char *path)
{
  char msg[512];
  int n
      = snprintf (msg, sizeof msg, "E%s %s: %s", what, path, strerror (errno));
  if (n > 0
      && write (3, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1)
             < 0)
    { /* the caller sees EOF */
    }
  _exit (255);
}

static void
enter_namespaces (const struct holder_ns *ns)
{
  const struct
  {
    const char *path;
    bool fresh;
    int type;
    const char *what;
  } v[] = { { ns->net, ns->new_net, CLONE_NEWNET, "network namespace" },
            { ns->ipc, ns->new_ipc, CLONE_NEWIPC, "IPC namespace" },
            { ns->uts, ns->new_uts, CLONE_NEWUTS, "UTS namespace" } };
  for (size_t i = 0; i < KO_ARRAY_SIZE (v); i++)
    {
      if (v[i].path && join (v[i].path, v[i].type) < 0)
        holder_fail (v[i].what, v[i].path);
      if (v[i].fresh && unshare (v[i].type) < 0)
        holder_fail (v[i].what, "(new)");
    }
}

static _Noreturn void
holder_main (const char *root, bool bind_root, const struct holder_ns *ns,
             int sock)
{
  int null = open ("/dev/null", O_RDWR);
  if (null >= 0)
    {
      dup2 (null, 0);
      dup2 (null, 1);
      dup2 (null, 2);
    }
  if (dup2 (sock, 3) < 0)
    _exit (255);
  /* no mount namespace in the spec: the caller's, not the monitor's own */
  if (!ns->new_mnt && outer_mntns >= 0 && setns (outer_mntns, CLONE_NEWNS) < 0)
    holder_fail ("mount namespace", "of kata-oci's caller");
  /* hold none of the container's stdio or the monitor's sockets */
  if (syscall (SYS_close_range, 4U, ~0U, 0U) < 0)
    for (int fd = 4; fd < 1024; fd++)
      close (fd);
  enter_namespaces (ns);
  if (ns->new_mnt
      && (unshare (CLONE_NEWNS) < 0
          || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
          || (bind_root && mount (root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
          || chdir (root) < 0 || syscall (SYS_pivot_root, ".", ".") < 0
          || umount2 (".", MNT_DETACH) < 0 || chdir ("/") < 0))
    holder_fail ("rootfs", root);
  if (!ns->new_mnt && chdir ("/") < 0)
    holder_fail ("directory", "/");
  if (confine_drop_all_caps () < 0)
    holder_fail ("drop capabilities in", root);
  /* ready: in its namespaces, on its root */
  unsigned char ready = 0;
  if (write (3, &ready, 1) != 1)
    _exit (255);
  int fwd[] = { KO_FORWARDED_SIGNALS };
  struct sigaction sa
      = { .sa_handler = holder_forward, .sa_flags = SA_RESTART };
  for (size_t i = 0; i < KO_ARRAY_SIZE (fwd); i++)
    sigaction (fwd[i], &sa, NULL);
  signal (SIGPIPE, SIG_IGN);
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

pid_t
holder_spawn (const char *root, bool bind_root, bool sibling,
              const struct holder_ns *ns, int *sock, ko_error **err)
{
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return ko_error_set (err, errno, "socketpair");
  /* a PID namespace is the children's: joined or made at the fork */
  int pidns = -1, self = -1;
  if (ns->pid)
    {
      self = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
      pidns = open (ns->pid, O_RDONLY | O_CLOEXEC);
      if (self < 0 || pidns < 0 || setns (pidns, CLONE_NEWPID) < 0)
        {
          int e = errno;
          if (self >= 0)
            close (self);
          if (pidns >= 0)
            close (pidns);
          close (sv[0]);
          close (sv[1]);
          return ko_error_set (err, e, "PID namespace %s", ns->pid);
        }
      close (pidns);
    }
  pid_t pid = (pid_t)syscall (SYS_clone,
                              SIGCHLD | (ns->new_pid ? CLONE_NEWPID : 0)
                                  | (sibling ? CLONE_PARENT : 0),
                              0, NULL, NULL, 0);
  int e = errno;
  if (pid == 0)
    {
      close (sv[0]);
      holder_main (root, bind_root, ns, sv[1]);
    }
  if (self >= 0)
    {
      setns (self, CLONE_NEWPID); /* our next children: ours again */
      close (self);
    }
  close (sv[1]);
  if (pid < 0)
    {
      close (sv[0]);
      return ko_error_set (err, e, "fork the holder");
    }
  char ready[512];
  ssize_t n;
  while ((n = read (sv[0], ready, sizeof ready - 1)) < 0 && errno == EINTR)
    ;
  if (n < 1 || ready[0] != 0)
    {
      close (sv[0]);
      if (!sibling) /* a sibling is our parent's to reap */
        waitpid (pid, NULL, 0);
      ready[n > 0 ? n : 0] = '\0';
      if (n > 1 && ready[0] == 'E')
        return ko_error_setx (err, EIO, "%s", ready + 1);
      return ko_error_setx (err, EIO,
                            "the container's pid on the host could not enter "
                            "its namespaces or its rootfs %s",
                            root);
    }
  *sock = sv[0];
  return pid;
}
