/* /init of the raw-channel initrd (throughput.sh): loads the virtio modules
 * listed in /lib/modules/load-order, finds the virtio-serial port named
 * agent.channel.0, waits for the host to send "<MiB>\n", writes that many
 * MiB to the port as fast as it can, waits for the host to hang up and
 * powers off. Progress and errors go to the console ("CHAN: ...").
 * With "<MiB> pipe\n" the bytes take the container's path minus the
 * multiplexer: a child writes 1 MiB blocks of zeros read from /dev/zero
 * (as dd does) into a pipe, and we copy the pipe to the port in 64 KiB
 * reads (without frames or credit).
 * With "<MiB> dd\n" we are dd itself with the port as its output: each
 * 1 MiB block is read from /dev/zero, then written to the port. That is the
 * container's workload with nothing between it and the channel. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PORT_NAME "agent.channel.0"
#define MODDIR "/lib/modules"

static void
off (void)
{
  sync ();
  reboot (RB_POWER_OFF);
  _exit (1);
}

static void
fail (const char *what)
{
  dprintf (2, "CHAN: %s: %s\n", what, strerror (errno));
  off ();
}

static double
now (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void
nap (long ms)
{
  struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
  nanosleep (&t, NULL);
}

static char buf[1 << 20];

int
main (void)
{
  mount ("dev", "/dev", "devtmpfs", 0, "mode=0755");
  int c = open ("/dev/console", O_WRONLY);
  if (c >= 0 && c != 2)
    dup2 (c, 2);
  mount ("proc", "/proc", "proc", 0, NULL);
  mount ("sys", "/sys", "sysfs", 0, NULL);

  FILE *f = fopen (MODDIR "/load-order", "r");
  char line[256];
  while (f && fgets (line, sizeof line, f))
    {
      line[strcspn (line, "\r\n")] = '\0';
      if (!line[0])
        continue;
      char p[512];
      snprintf (p, sizeof p, MODDIR "/%s", line);
      int fd = open (p, O_RDONLY | O_CLOEXEC);
      if (fd < 0
          || (syscall (SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST))
        dprintf (2, "CHAN: module %s: %s\n", line, strerror (errno));
      if (fd >= 0)
        close (fd);
    }

  char dev[300] = "";
  for (int tries = 0; tries < 2000 && !dev[0]; tries++)
    {
      DIR *d = opendir ("/sys/class/virtio-ports");
      struct dirent *e;
      while (d && (e = readdir (d)))
        {
          if (e->d_name[0] == '.')
            continue;
          char p[300], name[64];
          snprintf (p, sizeof p, "/sys/class/virtio-ports/%s/name", e->d_name);
          int fd = open (p, O_RDONLY);
          ssize_t n = fd < 0 ? -1 : read (fd, name, sizeof name - 1);
          if (fd >= 0)
            close (fd);
          if (n <= 0)
            continue;
          name[n] = '\0';
          name[strcspn (name, "\n")] = '\0';
          if (strcmp (name, PORT_NAME) == 0)
            snprintf (dev, sizeof dev, "/dev/%s", e->d_name);
        }
      if (d)
        closedir (d);
      if (!dev[0])
        nap (5);
    }
  if (!dev[0])
    {
      errno = ENOENT;
      fail ("no virtio-serial port named " PORT_NAME);
    }
  int fd = -1;
  for (int tries = 0; tries < 2000 && fd < 0; tries++)
    {
      fd = open (dev, O_RDWR | O_NOCTTY);
      if (fd < 0 && errno != ENOENT)
        fail (dev);
      if (fd < 0)
        nap (5);
    }
  if (fd < 0)
    fail (dev);

  /* the host connects, then sends the size in MiB */
  char req[32];
  size_t got = 0;
  while (got < sizeof req - 1 && (got == 0 || req[got - 1] != '\n'))
    {
      ssize_t n = read (fd, req + got, sizeof req - 1 - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        fail ("read request");
      if (n == 0)
        {
          nap (5); /* host not connected yet */
          continue;
        }
      got += n;
    }
  req[got] = '\0';
  long long mib = atoll (req);
  memset (buf, 'x', sizeof buf);
  double t0 = now ();
  unsigned long long left = (unsigned long long)mib << 20, sent = 0;
  if (strstr (req, "pipe"))
    {
      int pfd[2];
      if (pipe (pfd) < 0)
        fail ("pipe");
      pid_t pid = fork ();
      if (pid < 0)
        fail ("fork");
      if (pid == 0)
        {
          close (pfd[0]);
          int z = open ("/dev/zero", O_RDONLY);
          for (long long i = 0; i < mib; i++)
            {
              size_t off = 0;
              if (read (z, buf, sizeof buf) != (ssize_t)sizeof buf)
                _exit (1);
              while (off < sizeof buf)
                {
                  ssize_t n = write (pfd[1], buf + off, sizeof buf - off);
                  if (n <= 0)
                    _exit (1);
                  off += n;
                }
            }
          _exit (0);
        }
      close (pfd[1]);
      static char chunk[64 << 10];
      for (;;)
        {
          ssize_t n = read (pfd[0], chunk, sizeof chunk);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            fail ("read pipe");
          if (n == 0)
            break;
          for (ssize_t o = 0; o < n;)
            {
              ssize_t w = write (fd, chunk + o, n - o);
              if (w < 0 && errno == EINTR)
                continue;
              if (w <= 0)
                fail ("write");
              o += w;
            }
          sent += n;
        }
      left = 0;
    }
  int zero = -1;
  if (strstr (req, "dd") && (zero = open ("/dev/zero", O_RDONLY)) < 0)
    fail ("/dev/zero");
  while (left)
    {
      size_t off = sent % sizeof buf;
      if (zero >= 0 && off == 0 && read (zero, buf, sizeof buf) != sizeof buf)
        fail ("read /dev/zero");
      size_t len = sizeof buf - off;
      if (len > left)
        len = left;
      ssize_t n = write (fd, buf + off, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        fail ("write");
      left -= n;
      sent += n;
    }
  double t1 = now ();
  dprintf (2, "CHAN: wrote %llu bytes in %.3f s (guest clock)\n", sent,
           t1 - t0);
  /* wait (bounded) until the host has read everything and hung up */
  struct pollfd p = { .fd = fd, .events = POLLIN };
  for (int i = 0; i < 300; i++)
    {
      if (poll (&p, 1, 100) > 0)
        {
          if (p.revents & (POLLHUP | POLLERR))
            break;
          if (read (fd, buf, sizeof buf) <= 0)
            break;
        }
    }
  off ();
  return 0;
}
