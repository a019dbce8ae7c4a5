/* Test helper playing conmon's part of the console-socket protocol: listen on
 * a unix socket, receive exactly one pty master with SCM_RIGHTS, then copy the
 * pty's output to stdout (and stdin to the pty) until the pty closes.
 * Usage: recvtty SOCKET [ROWSxCOLS]: with a size, the master is resized to
 * it once the first output arrived (the process has read its first size). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: recvtty SOCKET [ROWSxCOLS]\n");
      return 2;
    }
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf (sa.sun_path, sizeof sa.sun_path, "%s", argv[1]);
  int l = socket (AF_UNIX, SOCK_STREAM, 0);
  unlink (argv[1]);
  if (l < 0 || bind (l, (struct sockaddr *)&sa, sizeof sa) < 0
      || listen (l, 1) < 0)
    {
      perror ("recvtty: listen");
      return 1;
    }
  /* ready: tell the test */
  fprintf (stderr, "recvtty: listening\n");
  int c = accept (l, NULL, NULL);
  if (c < 0)
    return 1;
  char name[256];
  struct iovec iov = { name, sizeof name };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr a;
  } u;
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf };
  if (recvmsg (c, &msg, 0) < 0)
    {
      perror ("recvtty: recvmsg");
      return 1;
    }
  struct cmsghdr *cm = CMSG_FIRSTHDR (&msg);
  if (cm == NULL || cm->cmsg_type != SCM_RIGHTS)
    {
      fprintf (stderr, "recvtty: no fd received\n");
      return 1;
    }
  int pty;
  memcpy (&pty, CMSG_DATA (cm), sizeof pty);
  close (c);
  close (l);
  int rows = 0, cols = 0, resize = 0;
  if (argc > 2 && sscanf (argv[2], "%dx%d", &rows, &cols) == 2)
    resize = 1;
  int in_open = 1;
  for (;;)
    {
      struct pollfd p[2] = { { pty, POLLIN, 0 }, { 0, POLLIN, 0 } };
      int n = poll (p, in_open ? 2 : 1, 200);
      if (n <= 0)
        continue;
      if (p[0].revents)
        {
          char buf[4096];
          ssize_t r = read (pty, buf, sizeof buf);
          if (r <= 0)
            break;
          if (write (1, buf, r) < 0)
            break;
          if (resize)
            {
              struct winsize ws = { .ws_row = rows, .ws_col = cols };
              ioctl (pty, TIOCSWINSZ, &ws);
              resize = 0;
            }
        }
      if (in_open && p[1].revents)
        {
          char buf[4096];
          ssize_t r = read (0, buf, sizeof buf);
          if (r <= 0)
            in_open = 0;
          else if (write (pty, buf, r) < 0)
            break;
        }
    }
  return 0;
}
