/* The state store: /run/kata-oci/<id>/state.json (root follows --root).
 * Writes are a temp file plus rename; every command locks the dir. */
#ifndef KO_STATE_H
#define KO_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct ko_state
{
  char *id;
  char *bundle;
  char *rootfs;
  char *status;  /* as recorded: creating, created, running, paused, stopped */
  char *created; /* RFC 3339 */
  char *owner;
  pid_t monitor_pid;
  uint64_t monitor_start;
  pid_t qemu_pid;
  uint64_t qemu_start;
  pid_t virtiofsd_pid;
  uint64_t virtiofsd_start;
  /* the rootfs holder: the pid `state` reports (see monitor/holder.c) */
  pid_t holder_pid;
  uint64_t holder_start;
  bool has_exit_status;
  int exit_status; /* code, or 128+signal */
  char *config_digest;
  char *accel;        /* kvm or tcg */
  char *channel;      /* vsock or virtio-serial */
  char **annotations; /* key, value, key, value, ..., NULL */
  /* the network namespace whose interfaces this sandbox redirected to
   * its VM: a delete after a killed monitor removes the redirects */
  char *netns;
  /* a pod member: the id of the sandbox container whose VM (and monitor,
   * whose pid is monitor_pid) it runs in; NULL for a sandbox */
  char *sandbox;
  /* NOTIFY_SOCKET as create found it: start waits for the container's
   * READY=1 and passes it there (runc's sd_notify proxy); NULL: none */
  char *notify_socket;
  /* podman --sdnotify=container: conmon's socket, which the spec binds into
   * the container; every datagram the container sends is passed there */
  char *notify_relay;
};

int state_validate_id (const char *id, ko_error **err);
/* malloc'd "<root>/<id>" */
char *state_dir_path (const char *root, const char *id);
/* Makes the dir (and root) and returns it opened and locked. Fails with
 * "container with id exists: ID" when it is already there. */
int state_dir_create (const char *root, const char *id, int *dirfd,
                      ko_error **err);
/* Opens and locks an existing dir: "container ID does not exist" if absent. */
int state_dir_open (const char *root, const char *id, int *dirfd,
                    ko_error **err);
/* The same with a shared lock: for commands that only read the state. */
int state_dir_open_shared (const char *root, const char *id, int *dirfd,
                           ko_error **err);
int state_lock (int dirfd, ko_error **err);
/* Removes the dir and everything below it. */
int state_dir_remove (const char *root, const char *id, ko_error **err);

int state_write (int dirfd, const struct ko_state *st, ko_error **err);
int state_read (int dirfd, struct ko_state *st, ko_error **err);
/* Parses a state.json text; name prefixes error messages. */
int state_parse (const char *data, size_t len, const char *name,
                 struct ko_state *st, ko_error **err);
char *state_generate (const struct ko_state *st);
void state_clear (struct ko_state *st);
static inline void
state_clearp (struct ko_state *s)
{
  state_clear (s);
}
#define _cleanup_state_ __attribute__ ((cleanup (state_clearp)))

/* The effective status: the recorded one, unless the monitor is gone, in
 * which case the container has stopped. */
const char *state_status (const struct ko_state *st);
/* OCI state document (runc's shape) for `state`. */
char *state_oci_json (const struct ko_state *st);
/* Current time in RFC 3339 with nanoseconds, malloc'd. */
char *state_now_rfc3339 (void);

#endif
