/* Terminals: the console-socket protocol (one pty master sent with
 * SCM_RIGHTS) and the foreground `run` terminal. */
#ifndef KO_CONSOLE_H
#define KO_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "proto.h"

/* Makes a host pty, sends its master to the console socket, and returns the
 * slave (raw mode: the guest's pty does the line discipline). The slave
 * becomes our controlling terminal so that a resize of the master reaches
 * us as SIGWINCH. */
int console_make_pty (const char *socket_path, uint32_t rows, uint32_t cols,
                      bool ctty, int *slave_fd, ko_error **err);
/* Queues a TtyWinResize for the init with the tty's current size. */
void console_forward_winsize (int tty_fd, const char *id, struct ko_buf *out);
/* `run` with a terminal and no console socket: raw mode on our stdin. */
void console_raw_stdin (void);
void console_restore_stdin (void);

#endif
