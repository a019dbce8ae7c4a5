#include "config.h"

#include "container.h"
#include "monitor.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  static const struct option opts[] = {
    { "stats", no_argument, NULL, 's' },
    { "interval", required_argument, NULL, 'i' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  const char *id;
  while ((c = getopt_long (argc, argv, "+h", opts, NULL)) != -1)
    switch (c)
      {
      case 's':
      case 'i':
        break;
      case 'h':
        cli_print_help (&cmd_events);
        return 0;
      default:
        return ko_error_setx (err, 22, "events: unknown option %s",
                              argv[optind - 1]);
      }
  if (cli_container_id (&cmd_events, argc, argv, optind, &id, err) < 0)
    return -1;
  if (container_check_status (g, id, "running", err) < 0)
    return -1;
  return ko_error_setx (err, ENOSYS, "events: not supported yet by this build");
}

const struct ko_command cmd_events = {
  .name = "events",
  .args = "[options] <container-id>",
  .summary = "print container events (OOM, exit) and statistics as JSON",
  .options = "      --stats          print statistics once and exit\n"
             "      --interval D     statistics interval (default 5s)\n",
  .run = run,
};
