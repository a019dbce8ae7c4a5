/* The holder: a container's pid on the host, the one `state` reports and
 * --pid-file names. It is parked in a mount namespace whose root is the
 * container's rootfs, so tools that enter that pid's mount namespace to
 * copy files (podman cp) write into the container; and in the network,
 * IPC, UTS and PID namespaces the spec asks for (the engine's, or fresh
 * ones), so that the paths engines derive from it (/proc/PID/ns/...) lead
 * to the pod's namespaces and never to the host's.
 *
 * As conmon's (or a shim's) waitee it lives exactly as long as the
 * container: over its socket the monitor sends the container's exit
 * status, then closes it; the holder exits with that status (255 when
 * the monitor died without a word). The signals it gets (conmon forwards
 * SIGTERM and the like to it) go back over the socket, one byte each, for
 * the monitor to forward to the container's init. */
#ifndef KO_HOLDER_H
#define KO_HOLDER_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

struct oci_spec;

/* Where the holder lives. A path joins that namespace; new makes a fresh
 * one; neither leaves the caller's. The paths are malloc'd. */
struct holder_ns
{
  char *net, *ipc, *uts, *pid;
  bool new_net, new_ipc, new_uts, new_pid;
  /* the spec lists a mount namespace: the holder gets its own, rooted on
   * the rootfs; otherwise it stays in the caller's, as runc's container
   * would */
  bool new_mnt;
};

/* From linux.namespaces: each network, ipc, uts, pid and mount entry. -1
 * when out of memory. */
int holder_ns_from_spec (const struct oci_spec *spec, struct holder_ns *ns);
void holder_ns_clear (struct holder_ns *ns);

/* Remembers the caller's mount namespace, for holders of specs without a
 * mount namespace to stay in (call before the caller unshares its own). */
void holder_init (void);

/* Forks the holder. root: the rootfs, which the holder makes its root;
 * bind_root: it is not a mount point yet (the holder binds it over
 * itself). sibling: the holder is our parent's child, not ours
 * (CLONE_PARENT): a detached monitor's parent is the create that waits
 * for it, whose exit hands the holder to whoever waits for its pid
 * (conmon, a shim: subreapers), which then sees its exit whenever it
 * comes, also while the monitor lives on. *sock gets the caller's end of
 * the holder's socket. */
pid_t holder_spawn (const char *root, bool bind_root, bool sibling,
                    const struct holder_ns *ns, int *sock, ko_error **err);

#endif
