/* uring: sets up an io_uring and runs one NOP through it, printing
 * "io_uring ok", or what failed (ENOSYS: the kernel has no io_uring). The
 * tests build it static, for a container's busybox rootfs; musl has no
 * io_uring wrappers, so the rings are mapped by hand. */
#include <errno.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int
fail (const char *what)
{
  printf ("io_uring: %s: %s\n", what, strerror (errno));
  return 1;
}

int
main (void)
{
  struct io_uring_params p;
  memset (&p, 0, sizeof p);
  int fd = (int)syscall (__NR_io_uring_setup, 2, &p);
  if (fd < 0)
    return fail ("io_uring_setup");
  size_t sq_len = p.sq_off.array + p.sq_entries * sizeof (unsigned);
  size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof (struct io_uring_cqe);
  char *sq = mmap (NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                   IORING_OFF_SQ_RING);
  char *cq = mmap (NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                   IORING_OFF_CQ_RING);
  struct io_uring_sqe *sqes
      = mmap (NULL, p.sq_entries * sizeof *sqes, PROT_READ | PROT_WRITE,
              MAP_SHARED, fd, IORING_OFF_SQES);
  if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
    return fail ("mmap");
  memset (&sqes[0], 0, sizeof sqes[0]);
  sqes[0].opcode = IORING_OP_NOP;
  sqes[0].user_data = 42;
  unsigned *tail = (unsigned *)(sq + p.sq_off.tail);
  unsigned *mask = (unsigned *)(sq + p.sq_off.ring_mask);
  ((unsigned *)(sq + p.sq_off.array))[*tail & *mask] = 0;
  __atomic_store_n (tail, *tail + 1, __ATOMIC_RELEASE);
  if (syscall (__NR_io_uring_enter, fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0)
      < 0)
    return fail ("io_uring_enter");
  unsigned head
      = __atomic_load_n ((unsigned *)(cq + p.cq_off.head), __ATOMIC_ACQUIRE);
  struct io_uring_cqe *cqe = (struct io_uring_cqe *)(cq + p.cq_off.cqes)
                             + (head & *(unsigned *)(cq + p.cq_off.ring_mask));
  if (cqe->user_data != 42 || cqe->res != 0)
    {
      errno = cqe->res < 0 ? -cqe->res : EPROTO;
      return fail ("nop");
    }
  printf ("io_uring ok\n");
  return 0;
}
