/* blockio FILE MIB seq|rand read|write: I/O on FILE (a regular file or a
 * block device), O_DIRECT when the filesystem takes it. seq: MIB MiB in
 * 1 MiB requests; rand: 4 KiB requests at random aligned offsets within
 * the first MIB MiB, for 2 s. Writes end with an fsync, which counts.
 * Prints "MiB/s IOPS direct|cached". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int
main (int argc, char **argv)
{
  if (argc != 5)
    return fprintf (stderr, "usage: blockio FILE MIB seq|rand read|write\n"), 2;
  long mib = atol (argv[2]);
  int seq = strcmp (argv[3], "seq") == 0;
  int wr = strcmp (argv[4], "write") == 0;
  int flags = (wr ? O_RDWR | O_CREAT : O_RDONLY);
  int direct = 1;
  int fd = open (argv[1], flags | O_DIRECT, 0644);
  if (fd < 0)
    {
      direct = 0;
      fd = open (argv[1], flags, 0644);
    }
  if (fd < 0 || mib <= 0)
    return perror (argv[1]), 1;
  size_t bs = seq ? 1 << 20 : 4096;
  void *buf;
  if (posix_memalign (&buf, 4096, bs))
    return 1;
  memset (buf, 0x5a, bs);
  long blocks = mib * (1 << 20) / (long)bs, ops = 0;
  srandom (42);
  double t0 = now (), t;
  for (;;)
    {
      off_t off = seq ? (off_t)ops * bs : (off_t)(random () % blocks) * bs;
      ssize_t n = wr ? pwrite (fd, buf, bs, off) : pread (fd, buf, bs, off);
      if (n != (ssize_t)bs)
        return perror (wr ? "pwrite" : "pread"), 1;
      ops++;
      t = now ();
      if (seq ? ops == blocks : t - t0 >= 2.0)
        break;
    }
  if (wr && fsync (fd) < 0)
    return perror ("fsync"), 1;
  t = now () - t0;
  printf ("%.1f %.0f %s\n", ops * (double)bs / (1 << 20) / t, ops / t,
          direct ? "direct" : "cached");
  return 0;
}
