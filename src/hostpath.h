/* Host paths named by config.json, resolved so that a symlink in a bundle
 * can never hand the VM a part of the host it did not name. */
#ifndef KO_HOSTPATH_H
#define KO_HOSTPATH_H

#include "error.h"

#include <stddef.h>

/* Opens the container's rootfs (O_PATH): an absolute path, or one relative
 * to the bundle, with no symlink anywhere in it (runc refuses those too:
 * "invalid rootfs: not an absolute path, or a symlink"). Errors name
 * config.json's root.path. */
int hostpath_open_rootfs (const char *bundle, const char *path, ko_error **err);

/* Opens a bind mount's source (O_PATH). An absolute source is the caller's
 * own host path and resolves as runc resolves it; a relative one must stay
 * beneath the bundle, symlinks included. Errors name mounts[idx].source. */
int hostpath_open_source (const char *bundle, const char *path, size_t idx,
                          ko_error **err);

/* The path an O_PATH fd stands for, as the kernel sees it; NULL on error. */
char *hostpath_of_fd (int fd);

#endif
