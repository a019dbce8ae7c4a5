/* kata-oci: a runc-compatible OCI runtime that runs every container in its
 * own QEMU virtual machine. This file holds the command table, the global
 * flags, and the only place that prints errors. */
#include "config.h"

#include "commit.h"

#include "cli.h"
#include "log.h"
#include "paths.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct ko_command *const commands[] = {
  &cmd_create, &cmd_start, &cmd_state,    &cmd_kill,  &cmd_delete, &cmd_run,
  &cmd_exec,   &cmd_list,  &cmd_ps,       &cmd_pause, &cmd_resume, &cmd_events,
  &cmd_update, &cmd_spec,  &cmd_features, &cmd_check, &cmd_env,    &cmd_metrics,
};

static void
print_version (void)
{
  printf ("kata-oci version %s\ncommit: %s\nspec: 1.2.0\n", PACKAGE_VERSION,
          KO_GIT_COMMIT);
}

static void
print_usage (FILE *f)
{
  fprintf (f, "Usage: kata-oci [global options] <command> [options] [args]\n\n"
              "kata-oci is an OCI runtime that runs each container in its own "
              "QEMU virtual machine.\n\nCommands:\n");
  for (size_t i = 0; i < KO_ARRAY_SIZE (commands); i++)
    fprintf (f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
  fprintf (f,
           "\nGlobal options:\n"
           "  --root DIR           state root (default " KO_DEFAULT_ROOT ")\n"
           "  --log FILE           also log to FILE\n"
           "  --log-format FORMAT  text (default) or json\n"
           "  --debug              log debug messages\n"
           "  --systemd-cgroup     the caller's systemd cgroup driver: refuse\n"
           "                       slice:prefix:name cgroupsPaths\n"
           "  --rootless VALUE     true, false or auto: accepted (kata-oci "
           "runs as root)\n"
           "  --criu PATH          accepted (checkpoint is not supported)\n"
           "  -h, --help           show this help\n"
           "  -v, --version        show the version\n");
}

int
main (int argc, char **argv)
{
  struct ko_global g = { .root = KO_DEFAULT_ROOT, .log_format = "text" };
  _cleanup_error_ ko_error *err = NULL;
  static const struct option opts[] = {
    { "root", required_argument, NULL, 'r' },
    { "log", required_argument, NULL, 'l' },
    { "log-format", required_argument, NULL, 'f' },
    { "debug", no_argument, NULL, 'd' },
    { "systemd-cgroup", no_argument, NULL, 's' },
    { "rootless", required_argument, NULL, 'R' },
    { "criu", required_argument, NULL, 'c' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'v' },
    { NULL, 0, NULL, 0 },
  };
  /* podman runs some commands with no PATH: keep children findable */
  if (getenv ("PATH") == NULL)
    setenv ("PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
  signal (SIGPIPE, SIG_IGN);

  int c;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+:hv", opts, NULL)) != -1)
    switch (c)
      {
      case 'r':
        g.root = optarg;
        break;
      case 'l':
        g.log = optarg;
        break;
      case 'f':
        g.log_format = optarg;
        break;
      case 'd':
        g.debug = true;
        break;
      case 's':
        g.systemd_cgroup = true;
        break;
      case 'R':
        /* runc's: whether to ignore cgroup permission errors. The monitor
         * runs as root; the value is checked, and has no other effect */
        if (strcmp (optarg, "true") != 0 && strcmp (optarg, "false") != 0
            && strcmp (optarg, "auto") != 0)
          {
            fprintf (stderr,
                     "kata-oci: --rootless %s: expected true, false or "
                     "auto\n",
                     optarg);
            return 1;
          }
        break;
      case 'c':
        /* runc's path to criu: accepted for callers that always pass it;
         * checkpoint and restore are not supported */
        break;
      case 'h':
        print_usage (stdout);
        return 0;
      case 'v':
        print_version ();
        return 0;
      case ':':
        fprintf (stderr, "kata-oci: global option %s: requires a value\n",
                 argv[optind - 1]);
        return 1;
      default:
        fprintf (stderr, "kata-oci: unknown global option %s\n",
                 argv[optind - 1]);
        print_usage (stderr);
        return 1;
      }
  if (log_init (g.log, g.log_format, g.debug, &err) < 0)
    {
      fprintf (stderr, "kata-oci: %s\n", err->msg);
      return 1;
    }
  if (optind >= argc)
    {
      print_usage (stderr);
      return 1;
    }
  const char *name = argv[optind];
  if (strcmp (name, "help") == 0)
    {
      print_usage (stdout);
      return 0;
    }
  if (strcmp (name, "version") == 0)
    {
      print_version ();
      return 0;
    }
  if (strcmp (name, "checkpoint") == 0 || strcmp (name, "restore") == 0)
    {
      /* runc's commands, with CRIU: a container's processes live in its
       * VM's kernel, out of the host's reach */
      log_error ("%s: not supported: the container's processes run in a "
                 "VM's kernel, which CRIU on the host cannot reach",
                 name);
      return 1;
    }
  for (size_t i = 0; i < KO_ARRAY_SIZE (commands); i++)
    if (strcmp (commands[i]->name, name) == 0)
      {
        argc -= optind;
        argv += optind;
        optind = 0; /* reset getopt for the command's own options */
        opterr = 0;
        int r = commands[i]->run (&g, argc, argv, &err);
        if (r < 0)
          {
            log_error ("%s", err ? err->msg : "unknown error");
            return 1;
          }
        return r;
      }
  log_error ("unknown command \"%s\": see kata-oci --help", name);
  return 1;
}
