#include "config.h"

#include "container.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  bool all = false;
  while ((c = getopt_long (argc, argv, "+:ah", opts, NULL)) != -1)
    switch (c)
      {
      case 'a':
        all = true;
        break;
      case 'h':
        cli_print_help (&cmd_kill);
        return 0;
      default:
        return cli_bad_option ("kill", c, argv, err);
      }
  if (cli_check_args (&cmd_kill, argc - optind, 1, 2, err) < 0)
    return -1;
  const char *id;
  if (cli_container_id (&cmd_kill, optind + 1, argv, optind, &id, err) < 0)
    return -1;
  int sig = SIGTERM;
  if (argc - optind == 2 && cli_parse_signal (argv[optind + 1], &sig, err) < 0)
    return -1;
  return container_kill (g, id, sig, all, err);
}

const struct ko_command cmd_kill = {
  .name = "kill",
  .args = "[options] <container-id> [signal]",
  .summary = "send a signal (default TERM) to the container's init process",
  .options = "  -a, --all     send the signal to all processes of the "
             "container\n",
  .run = run,
};
