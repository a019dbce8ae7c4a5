/* The command table and what every command receives. */
#ifndef KO_CLI_H
#define KO_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct ko_global
{
  const char *root; /* --root */
  const char *log;
  const char *log_format;
  bool debug;
  bool systemd_cgroup;
};

struct ko_command
{
  const char *name;
  const char *args; /* e.g. "[options] <container-id>" */
  const char *summary;
  const char *options; /* help text for the options, may be NULL */
  /* Returns the exit status (>= 0) or -1 with *err set. */
  int (*run) (struct ko_global *g, int argc, char **argv, ko_error **err);
};

/* Each command file defines one of these. */
extern const struct ko_command cmd_create, cmd_start, cmd_state, cmd_kill,
    cmd_delete, cmd_run, cmd_exec, cmd_list, cmd_ps, cmd_pause, cmd_resume,
    cmd_events, cmd_update, cmd_spec, cmd_features, cmd_check, cmd_env,
    cmd_metrics;

/* Prints the command's help to stdout. */
void cli_print_help (const struct ko_command *c);
/* Handles -h/--help and checks the number of positional arguments;
 * returns 1 when help was printed, 0 to go on, -1 on error. */
/* The error for what getopt_long (with ":" after "+") returned as ch
 * for an option it did not take: "NAME: unknown option X", or "NAME:
 * option X: requires a value". Returns -1. */
int cli_bad_option (const char *name, int ch, char **argv, ko_error **err);
/* --preserve-fds's value: a number, else an error naming the command. */
int cli_preserve_fds (const char *name, const char *arg, int *n,
                      ko_error **err);
int cli_check_args (const struct ko_command *c, int nargs, int min, int max,
                    ko_error **err);
/* "ID" from argv[optind], validated. */
int cli_container_id (const struct ko_command *c, int argc, char **argv,
                      int optind_, const char **id, ko_error **err);
int cli_parse_signal (const char *s, int *sig, ko_error **err);
/* For commands whose only argument is the container id: handles --help
 * (returns 1) and the id (returns 0), or fails with -1. */
int cli_parse_id_only (const struct ko_command *c, int argc, char **argv,
                       const char **id, ko_error **err);

struct create_opts;
/* create and run share their flags; run adds -d. Returns 1 after --help. */
int cli_parse_create (const struct ko_command *c, int argc, char **argv,
                      struct create_opts *o, ko_error **err);

#endif
