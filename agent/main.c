/* PID 1 duties: early mounts, modules, switching away from the initramfs,
 * reaping, logging, power off; and the epoll loop everything runs in. */
#define _GNU_SOURCE
#include "agent.h"
#include "agent-linux.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define MODULE_DIR "/lib/modules"
/* idle time before the initramfs is freed */
#define INITRAMFS_IDLE_MS 100

bool ag_debug;
bool ag_serial_only; /* agent.channel=serial on the kernel command line */
bool ag_no_splice;   /* agent.nosplice: copy process output, never splice */
bool ag_net;         /* agent.net=1: the host gave the VM NICs */
#ifdef KO_AGENT_TESTING
unsigned ag_test_oom_flood;
unsigned ag_test_ignore;
#endif
int ag_devnull = -1;
static int console_fd = 2;
struct ko_loop ag_loop = { .epfd = -1 };

void
ag_log (const char *fmt, ...)
{
  char buf[512];
  struct timespec t;
  clock_gettime (CLOCK_BOOTTIME, &t);
  /* the guest's uptime: the console log then shows where boot time goes */
  int n = snprintf (buf, sizeof buf,
                    "kata-agent[%lld.%03ld]: ", (long long)t.tv_sec,
                    t.tv_nsec / 1000000);
  va_list ap;
  va_start (ap, fmt);
  int m = vsnprintf (buf + n, sizeof buf - n - 1, fmt, ap);
  va_end (ap);
  if (m < 0)
    m = 0;
  n += (size_t)m < sizeof buf - n - 1 ? (size_t)m : sizeof buf - n - 2;
  buf[n++] = '\n';
  if (write (console_fd, buf, n) < 0)
    {
      /* nowhere else to say it */
    }
}

int
ag_write_str (const char *path, const char *s)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = write (fd, s, strlen (s));
  int saved = errno;
  close (fd);
  errno = saved;
  return n == (ssize_t)strlen (s) ? 0 : -1;
}

ssize_t
ag_read_str (const char *path, char *buf, size_t n)
{
  buf[0] = '\0';
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t r = read (fd, buf, n - 1);
  int saved = errno;
  close (fd);
  errno = saved;
  if (r < 0)
    return -1;
  if (r > 0 && buf[r - 1] == '\n')
    r--;
  buf[r] = '\0';
  return r;
}

void
ag_poweroff (void)
{
  sync ();
  reboot (RB_POWER_OFF);
  /* without ACPI power off, a reset ends the VM too (QEMU -no-reboot) */
  reboot (RB_AUTOBOOT);
  for (;;)
    pause ();
}

void
ag_fatal (const char *fmt, ...)
{
  char buf[400];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  ag_log ("fatal: %s; powering off", buf);
  ag_poweroff ();
}

void
ag_watch_set_or_die (struct ko_watch *w, uint32_t events)
{
  if (ko_watch_set (w, events) < 0)
    ag_fatal ("epoll_ctl fd %d: %s", w->fd, strerror (errno));
}

/* ---- boot ---- */

static void
mount_or_die (const char *src, const char *dst, const char *type,
              unsigned long flags, const char *data)
{
  mkdir (dst, 0755);
  if (mount (src, dst, type, flags, data) < 0 && errno != EBUSY)
    ag_fatal ("mount %s on %s: %s", type, dst, strerror (errno));
}

static void
setup_console (void)
{
  int fd = open ("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return;
  /* the kernel gives init the console as 0-2 when it can; make sure */
  if (fcntl (0, F_GETFD) < 0 || fcntl (1, F_GETFD) < 0
      || fcntl (2, F_GETFD) < 0)
    {
      dup2 (fd, 0);
      dup2 (fd, 1);
      dup2 (fd, 2);
    }
  console_fd = fd;
}

static void
read_cmdline (void)
{
  char buf[1024];
  int fd = open ("/proc/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return;
  buf[n] = '\0';
  for (char *t = strtok (buf, " \n"); t; t = strtok (NULL, " \n"))
    {
      if (strcmp (t, "agent.debug") == 0 || strcmp (t, "agent.debug=1") == 0)
        ag_debug = true;
      else if (strcmp (t, "agent.channel=serial") == 0)
        ag_serial_only = true;
      else if (strcmp (t, "agent.nosplice") == 0)
        ag_no_splice = true;
      else if (strcmp (t, "agent.net=1") == 0)
        ag_net = true;
#ifdef KO_AGENT_TESTING
      else if (strncmp (t, "agent.test.oom_flood=", 21) == 0)
        ag_test_oom_flood = (unsigned)strtoul (t + 21, NULL, 10);
      else if (strncmp (t, "agent.test.ignore=", 18) == 0)
        ag_test_ignore = (unsigned)strtoul (t + 18, NULL, 10);
#endif
    }
}

/* Loads the modules a list in the initramfs names (dependencies first):
 * root is the initramfs (AT_FDCWD while it is still /), list a path
 * relative to it. */
static void
load_modules (int root, const char *list)
{
  const char *dir = root == AT_FDCWD ? MODULE_DIR : MODULE_DIR + 1;
  char path[192];
  snprintf (path, sizeof path, "%s/%s", dir, list);
  /* one name a line: a few hundred bytes (no stdio: its FILE code would
   * be a page of the resident image for this one read) */
  char list_text[1024];
  int lfd = openat (root, path, O_RDONLY | O_CLOEXEC);
  ssize_t len = lfd >= 0 ? read (lfd, list_text, sizeof list_text - 1) : -1;
  if (len < 0)
    {
      if (errno != ENOENT)
        ag_log ("read %s: %s", path, strerror (errno));
      else
        ag_dbg ("no %s: the kernel has its drivers built in", path);
      if (lfd >= 0)
        close (lfd);
      return;
    }
  close (lfd);
  if ((size_t)len == sizeof list_text - 1)
    ag_log ("%s: only its first %zu bytes read", path, sizeof list_text - 1);
  list_text[len] = '\0';
  char *save = NULL;
  for (char *line = strtok_r (list_text, "\r\n", &save); line;
       line = strtok_r (NULL, "\r\n", &save))
    {
      if (strchr (line, '/') || strlen (line) > 127)
        continue;
      /* the host said there is no vsock device: its modules are dead weight */
      if (ag_serial_only
          && (strncmp (line, "vsock", 5) == 0
              || strncmp (line, "vmw_vsock", 9) == 0))
        continue;
      snprintf (path, sizeof path, "%s/%s", dir, line);
      int fd = openat (root, path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          ag_log ("module %s: %s", line, strerror (errno));
          continue;
        }
      if (syscall (SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
        ag_log ("finit_module %s: %s", line, strerror (errno));
      else
        ag_dbg ("loaded %s", line);
      close (fd);
    }
}

/* Whether the VM has a virtio device of this type: its id as sysfs shows
 * it, "0x0005" for the balloon. */
static bool
virtio_device_present (const char *id)
{
  DIR *d = opendir ("/sys/bus/virtio/devices");
  if (d == NULL)
    return false;
  bool found = false;
  struct dirent *e;
  while (!found && (e = readdir (d)))
    {
      char p[300], v[16];
      snprintf (p, sizeof p, "/sys/bus/virtio/devices/%s/device", e->d_name);
      found = e->d_name[0] != '.' && ag_read_str (p, v, sizeof v) > 0
              && strcmp (v, id) == 0;
    }
  closedir (d);
  return found;
}

#define VIRTIO_ID_BALLOON "0x0005"

/* The balloon driver, from load-idle: the host gives the VM a balloon
 * device only for its free page reporting, which hands the pages the guest
 * frees back to the host (about 12 MB of an idle sandbox's memory under
 * TCG, mostly what the boot freed). Not needed to run a container, so it
 * loads once the agent is idle. Reporting starts at 4 KiB: the default, a
 * 2 MiB pageblock, finds little free in a small guest. */
static void
load_idle_modules (int root)
{
  if (!virtio_device_present (VIRTIO_ID_BALLOON))
    return;
  load_modules (root, "load-idle");
  if (ag_write_str ("/sys/module/page_reporting/parameters/"
                    "page_reporting_order",
                    "0")
      < 0)
    ag_log ("page_reporting_order: %s", strerror (errno));
  else
    ag_dbg ("free page reporting from 4 KiB");
}

/* The initramfs, once switched away from: its files still take about
 * 1 MB of guest memory until free_initramfs. */
static int old_root = -1;

/* Loads the modules for later (load_idle_modules), then deletes the
 * initramfs's files (its pages go back to the guest). Done when the agent
 * is first idle for a while, not on the way to the first container: it
 * costs about 4 ms under TCG, plus the balloon driver's load. */
static void
free_initramfs (void)
{
  if (old_root < 0)
    return;
  load_idle_modules (old_root);
  int fd
      = openat (old_root, MODULE_DIR + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  if (d)
    {
      struct dirent *e;
      while ((e = readdir (d)))
        if (e->d_name[0] != '.')
          unlinkat (dirfd (d), e->d_name, 0);
      closedir (d);
    }
  else if (fd >= 0)
    close (fd);
  unlinkat (old_root, MODULE_DIR + 1, AT_REMOVEDIR);
  unlinkat (old_root, "lib", AT_REMOVEDIR);
  unlinkat (old_root, "init", 0);
  close (old_root);
  old_root = -1;
  ag_dbg ("initramfs freed");
}

/* Moves / to a fresh tmpfs: pivot_root(2) refuses to pivot away from the
 * initramfs, and containers need pivot_root. */
static void
switch_root (void)
{
  old_root = open ("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  mount_or_die ("root", "/newroot", "tmpfs", MS_NOSUID, "mode=0755");
  static const char *const dirs[]
      = { "/newroot/dev", "/newroot/proc", "/newroot/sys", "/newroot/run",
          "/newroot/tmp" };
  for (size_t i = 0; i < KO_ARRAY_SIZE (dirs); i++)
    mkdir (dirs[i], 0755);
  chmod ("/newroot/tmp", 01777);
  if (mount ("/dev", "/newroot/dev", NULL, MS_MOVE, NULL) < 0
      || mount ("/proc", "/newroot/proc", NULL, MS_MOVE, NULL) < 0)
    ag_fatal ("move /dev and /proc: %s", strerror (errno));
  if (chdir ("/newroot") < 0 || mount (".", "/", NULL, MS_MOVE, NULL) < 0
      || chroot (".") < 0 || chdir ("/") < 0)
    ag_fatal ("switch root: %s", strerror (errno));
}

static void
boot (void)
{
  mount_or_die ("dev", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  setup_console ();
  mount_or_die ("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                NULL);
  read_cmdline ();
  ag_dbg ("version %s", KO_AGENT_VERSION);
  load_modules (AT_FDCWD, "load-order");
  /* only a VM with NICs pays for their driver's load and probe */
  if (ag_net)
    load_modules (AT_FDCWD, "load-net");
  switch_root ();
  mount_or_die ("sys", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  cgroup_init ();
  mount_or_die ("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                "mode=0620,ptmxmode=0666");
  mount_or_die ("run", "/run", "tmpfs", MS_NOSUID | MS_NODEV,
                "mode=0755,size=16m");
  ag_devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (ag_devnull < 0)
    ag_fatal ("open /dev/null: %s", strerror (errno));
  ag_dbg ("modules loaded, root switched");
}

static struct ko_watch sigchld_watch;

static void
on_signal (struct ko_watch *w, uint32_t events)
{
  struct signalfd_siginfo si;
  while (read (w->fd, &si, sizeof si) == sizeof si)
    ;
  rpc_on_sigchld ();
}

int
main (int argc, char **argv)
{
  if (getpid () != 1)
    {
      static const char msg[] = "kata-agent: runs only as PID 1 of the guest\n";
      ssize_t w = write (STDERR_FILENO, msg, sizeof msg - 1);
      (void)w;
      return 1;
    }
  boot ();

  sigset_t mask;
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  signal (SIGPIPE, SIG_IGN);
  int sfd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0 || ko_loop_init (&ag_loop) < 0)
    ag_fatal ("signalfd/epoll: %s", strerror (errno));
  ko_watch_init (&sigchld_watch, &ag_loop, sfd, on_signal, NULL);
  ag_watch_set_or_die (&sigchld_watch, EPOLLIN);

  channel_start ();

  for (;;)
    {
      /* idle work: once nothing happened for this long */
      int timeout = channel_trim_timeout ();
      if (old_root >= 0 && (timeout < 0 || timeout > INITRAMFS_IDLE_MS))
        timeout = INITRAMFS_IDLE_MS;
      int r = ko_loop_once (&ag_loop, timeout);
      if (r < 0)
        ag_fatal ("epoll_wait: %s", strerror (errno));
      if (r == 0)
        {
          free_initramfs ();
          channel_trim ();
        }
    }
}
