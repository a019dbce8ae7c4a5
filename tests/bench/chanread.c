/* Host side of the raw-channel benchmark (throughput.sh): connects to the
 * QEMU chardev socket of the virtio-serial port (retrying until it exists),
 * asks the guest for MIB MiB (with "pipe": fed through a pipe; with "dd":
 * read from /dev/zero block by block, as dd does; see
 * chanwrite.c), reads them and prints
 *   "<bytes> <seconds from request to last byte> <seconds to first byte>
 *    <MiB/s from the end of the first read to the last byte>".
 * With "-" as SOCKET it reads standard input instead (no request sent):
 * the multiplexer's side, `kata-oci run ... | chanread - MIB TIMEOUT`. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double
now (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static char buf[1 << 20];

int
main (int argc, char **argv)
{
  if (argc != 4
      && !(argc == 5
           && (strcmp (argv[4], "pipe") == 0 || strcmp (argv[4], "dd") == 0)))
    {
      fprintf (stderr,
               "usage: chanread SOCKET|- MIB TIMEOUT-SECONDS [pipe|dd]\n");
      return 2;
    }
  long long mib = atoll (argv[2]);
  double deadline = now () + atof (argv[3]);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf (sa.sun_path, sizeof sa.sun_path, "%s", argv[1]);
  bool from_stdin = strcmp (argv[1], "-") == 0;
  int fd = from_stdin ? 0 : -1;
  while (fd < 0)
    {
      fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (connect (fd, (struct sockaddr *)&sa, sizeof sa) == 0)
        break;
      close (fd);
      fd = -1;
      if (now () > deadline)
        {
          fprintf (stderr, "chanread: connect %s: %s\n", argv[1],
                   strerror (errno));
          return 1;
        }
      usleep (10000);
    }
  struct timeval tv = { 5, 0 };
  if (!from_stdin)
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char req[32];
  int l = snprintf (req, sizeof req, "%lld%s%s\n", mib, argc == 5 ? " " : "",
                    argc == 5 ? argv[4] : "");
  double t0 = now (), tfirst = 0;
  unsigned long long first = 0;
  if (!from_stdin && write (fd, req, l) != l)
    {
      perror ("chanread: write");
      return 1;
    }
  unsigned long long want = (unsigned long long)mib << 20, got = 0;
  while (got < want)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0
          && (errno == EINTR
              || ((errno == EAGAIN || errno == EWOULDBLOCK)
                  && now () < deadline)))
        continue;
      if (n <= 0)
        {
          fprintf (stderr, "chanread: read after %llu bytes: %s\n", got,
                   n == 0 ? "EOF" : strerror (errno));
          return 1;
        }
      if (got == 0)
        {
          tfirst = now ();
          first = n;
        }
      got += n;
    }
  double t1 = now ();
  printf ("%llu %.6f %.6f %.1f\n", got, t1 - t0, tfirst - t0,
          t1 > tfirst ? (got - first) / 1048576.0 / (t1 - tfirst) : 0.0);
  close (fd);
  return 0;
}
