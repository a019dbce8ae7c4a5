#include "config.h"

#include "console.h"
#include "unixsock.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>

int
console_make_pty (const char *socket_path, uint32_t rows, uint32_t cols,
                  bool ctty, int *slave_fd, ko_error **err)
{
  _cleanup_close_ int master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return ko_error_set (err, errno, "open pty");
  if (grantpt (master) < 0 || unlockpt (master) < 0)
    return ko_error_set (err, errno, "unlock pty");
  char name[128];
  if (ptsname_r (master, name, sizeof name) != 0)
    return ko_error_set (err, errno, "ptsname");
  /* no O_NOCTTY: as a session leader this makes it our controlling tty */
  int slave = open (name, O_RDWR | O_CLOEXEC | (ctty ? 0 : O_NOCTTY));
  if (slave < 0)
    return ko_error_set (err, errno, "open %s", name);
  if (ctty)
    ioctl (slave, TIOCSCTTY, 0);
  struct termios t;
  if (tcgetattr (slave, &t) == 0)
    {
      cfmakeraw (&t);
      tcsetattr (slave, TCSANOW, &t);
    }
  if (rows && cols)
    {
      struct winsize ws = { .ws_row = rows, .ws_col = cols };
      ioctl (master, TIOCSWINSZ, &ws);
    }
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen (socket_path) >= sizeof sa.sun_path)
    {
      close (slave);
      return ko_error_setx (err, ENAMETOOLONG,
                            "console socket path too long: %s", socket_path);
    }
  strcpy (sa.sun_path, socket_path);
  _cleanup_close_ int sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || connect (sock, (struct sockaddr *)&sa, sizeof sa) < 0)
    {
      int e = errno;
      close (slave);
      return ko_error_set (err, e, "connect to console socket %s", socket_path);
    }
  if (ko_unix_send_fd (sock, master, "/dev/ptmx", strlen ("/dev/ptmx")) < 0)
    {
      int e = errno;
      close (slave);
      return ko_error_set (err, e, "send pty to console socket %s",
                           socket_path);
    }
  *slave_fd = slave;
  return 0;
}

void
console_forward_winsize (int tty_fd, const char *id, struct ko_buf *out)
{
  struct winsize ws;
  if (ioctl (tty_fd, TIOCGWINSZ, &ws) < 0)
    return;
  struct ko_buf b = { 0 };
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, id);
  ko_tlv_put_u32 (&b, KO_TAG_ROWS, ws.ws_row);
  ko_tlv_put_u32 (&b, KO_TAG_COLS, ws.ws_col);
  /* request id 0: fire and forget */
  ko_request_append (out, 0, KO_M_TTY_WIN_RESIZE, &b);
  ko_buf_free (&b);
}

static struct termios saved;
static int saved_valid;

void
console_raw_stdin (void)
{
  if (!isatty (0) || tcgetattr (0, &saved) < 0)
    return;
  saved_valid = 1;
  struct termios t = saved;
  cfmakeraw (&t);
  tcsetattr (0, TCSANOW, &t);
}

void
console_restore_stdin (void)
{
  if (saved_valid)
    tcsetattr (0, TCSANOW, &saved);
  saved_valid = 0;
}
