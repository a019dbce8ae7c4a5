#include "config.h"

#include "container.h"
#include "monitor.h"

#include <getopt.h>
#include <stddef.h>

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  const char *id;
  while ((c = getopt_long (argc, argv, "+h", opts, NULL)) != -1)
    switch (c)
      {
      case 'h':
        cli_print_help (&cmd_pause);
        return 0;
      default:
        return ko_error_setx (err, 22, "pause: unknown option %s",
                              argv[optind - 1]);
      }
  if (cli_container_id (&cmd_pause, argc, argv, optind, &id, err) < 0)
    return -1;
  return container_monitor_request (g, id, KO_MON_PAUSE, "running", NULL, err);
}

const struct ko_command cmd_pause = {
  .name = "pause",
  .args = "<container-id>",
  .summary = "pause all processes of a container (the whole VM)",
  .run = run,
};
