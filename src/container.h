/* Container operations behind the CLI verbs. Each takes the global options
 * and returns 0 (or an exit status) or -1 with *err set. */
#ifndef KO_CONTAINER_H
#define KO_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "error.h"

/* how long the CLI waits for its monitor's answer */
#define CLI_MONITOR_TIMEOUT_MS 60000
/* NOTIFY_SOCKET: a unix socket's path, its NUL in sun_path */
#define KO_NOTIFY_PATH_MAX 108

struct create_opts
{
  const char *id;
  const char *bundle;
  const char *console_socket;
  const char *pid_file;
  const char *pidfd_socket; /* runc's --pidfd-socket */
  bool no_pivot;
  bool no_new_keyring;
  int preserve_fds;
  bool run;    /* start right after create */
  bool detach; /* run -d */
  bool keep;   /* run --keep: the stopped container stays until delete */
};

int container_create (struct ko_global *g, const struct create_opts *o,
                      ko_error **err);
int container_start (struct ko_global *g, const char *id, ko_error **err);
int container_kill (struct ko_global *g, const char *id, int sig, bool all,
                    ko_error **err);
int container_delete (struct ko_global *g, const char *id, bool force,
                      ko_error **err);
int container_state (struct ko_global *g, const char *id, ko_error **err);
int container_list (struct ko_global *g, bool json, bool quiet, ko_error **err);
/* Freezes (pause) or thaws the container's processes. */
int container_pause (struct ko_global *g, const char *id, bool pause,
                     ko_error **err);
/* Prints the container's processes (in the guest): a table in the style
 * the ps options ask for (psformat.h; runc's -ef without any), or a JSON
 * array of their guest pids. A stopped container has none. */
int container_ps (struct ko_global *g, const char *id, bool json, int argc,
                  char **argv, ko_error **err);

/* Sends linux.resources (JSON) to a running or paused container. */
int container_update (struct ko_global *g, const char *id,
                      const char *resources_json, ko_error **err);
/* `events`: stats every interval_ms (once with stats_once), OOM and exit
 * events as JSON lines, until the container stops. */
int container_events (struct ko_global *g, const char *id, bool stats_once,
                      int interval_ms, ko_error **err);

/* The container's state, read under a shared lock (released before the
 * monitor is asked anything). */
struct ko_state;
int container_read_state (struct ko_global *g, const char *id,
                          struct ko_state *st, ko_error **err);

/* Fails unless the container exists and is in `status`. */
int container_check_status (struct ko_global *g, const char *id,
                            const char *status, ko_error **err);

#endif
