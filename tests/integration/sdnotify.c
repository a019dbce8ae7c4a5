/* sdnotify MESSAGE: sends MESSAGE as one datagram to $NOTIFY_SOCKET (a
 * path, or @NAME for an abstract socket), as sd_notify(3) does. The tests
 * build it static, for a container's busybox rootfs. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  const char *path = getenv ("NOTIFY_SOCKET");
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  if (argc != 2 || path == NULL || strlen (path) >= sizeof a.sun_path)
    {
      fprintf (stderr, "usage: NOTIFY_SOCKET=PATH sdnotify MESSAGE\n");
      return 2;
    }
  size_t n = strlen (path);
  memcpy (a.sun_path, path, n);
  if (path[0] == '@')
    a.sun_path[0] = '\0';
  socklen_t len
      = offsetof (struct sockaddr_un, sun_path) + n + (path[0] != '@');
  int fd = socket (AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0
      || sendto (fd, argv[1], strlen (argv[1]), 0, (struct sockaddr *)&a, len)
             < 0)
    {
      perror ("sdnotify");
      return 1;
    }
  return 0;
}
