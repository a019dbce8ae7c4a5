/* The unix sockets of a state dir, at any length of the dir. sun_path
 * holds 108 bytes, and an engine's --root with 64-character ids can make
 * <root>/<id>/virtiofsd.sock longer. A path that does not fit is bound or
 * connected as /proc/self/fd/<fd of the dir>/<name>, which Linux resolves
 * like any other path; one that fits is used as it is. */
#ifndef KO_UNIXSOCK_H
#define KO_UNIXSOCK_H

#include "error.h"

#include <sys/types.h>

/* A listening SOCK_STREAM socket at dir/name (a stale one there is
 * replaced); the fd is close-on-exec. */
int ko_unix_listen (const char *dir, const char *name, ko_error **err);

/* A SOCK_STREAM socket connected to dir/name; close-on-exec. */
int ko_unix_connect (const char *dir, const char *name, ko_error **err);

/* One datagram to the SOCK_DGRAM socket at path (absolute, of any length
 * up to PATH_MAX), or at the abstract name NAME of "@NAME" (sd_notify's
 * NOTIFY_SOCKET forms); it does not block. */
int ko_unix_send_dgram (const char *path, const void *data, size_t len,
                        ko_error **err);

/* One sendmsg of len bytes of data with fd (SCM_RIGHTS): what it returns. */
ssize_t ko_unix_send_fd (int sock, int fd, const void *data, size_t len);

#endif
