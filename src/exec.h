/* `exec`: a process in a running container, relayed by the CLI process
 * itself or, with -d, by a detached relay whose pid goes to --pid-file. */
#ifndef KO_EXEC_H
#define KO_EXEC_H

#include <stdbool.h>

#include "cli.h"
#include "error.h"

struct exec_opts
{
  const char *id;
  const char *process_file;
  char **args; /* NULL-terminated, when no process file */
  char **env;  /* -e K=V, NULL-terminated */
  const char *cwd;
  const char *user; /* uid[:gid] */
  char **add_gids;
  char **caps;    /* --cap, NULL-terminated */
  char **cgroups; /* --cgroup, NULL-terminated */
  bool tty;
  bool no_new_privs;
  bool detach;
  bool ignore_paused; /* wait out a pause instead of failing */
  const char *pid_file;
  const char *pidfd_socket;
  const char *console_socket;
};

/* Returns the process's exit status (code or 128+signal), 0 for -d. */
int exec_run (struct ko_global *g, const struct exec_opts *o, ko_error **err);

#endif
