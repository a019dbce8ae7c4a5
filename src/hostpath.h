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

/* The host kernel's own filesystems: proc, sysfs, cgroups, device nodes
 * (devtmpfs, devpts, or a tmpfs mounted at /dev), debugfs, bpf ... Shared
 * into the VM, virtiofsd (root on the host) would read and write them for
 * the guest: the host's settings, processes and device nodes' modes, past
 * the VM's boundary. */

/* Pure: in mountinfo's text, what the filesystem of device dev (an
 * st_dev) is when it is one of those: its type, or "the host's /dev";
 * NULL when it is storage, or not found. -1 in *bad with err set when the
 * text cannot be read. */
const char *hostpath_kernel_fs (const char *mountinfo, unsigned long dev,
                                int *bad, ko_error **err);

/* Pure: what to use in a VM instead of sharing a filesystem that
 * hostpath_kernel_fs named. */
const char *hostpath_kernel_fs_instead (const char *what);

/* In the caller's mount namespace, after path was bound (recursively) from
 * the host: -1 (EPERM, naming what) when the mount at path itself is on
 * one of the host kernel's filesystems; else unmounts (lazily) every mount
 * beneath path that is, so that the guest sees the directories under them
 * instead. */
int hostpath_share_check (const char *path, ko_error **err);

#endif
