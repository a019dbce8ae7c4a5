#include "config.h"

#include "container.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  bool json = false, quiet = false;
  while ((c = getopt_long (argc, argv, "+:f:qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'f':
        if (strcmp (optarg, "json") == 0)
          json = true;
        else if (strcmp (optarg, "table") != 0)
          return ko_error_setx (err, EINVAL,
                                "list: invalid format \"%s\" (table or json)",
                                optarg);
        break;
      case 'q':
        quiet = true;
        break;
      case 'h':
        cli_print_help (&cmd_list);
        return 0;
      default:
        return cli_bad_option ("list", c, argv, err);
      }
  if (cli_check_args (&cmd_list, argc - optind, 0, 0, err) < 0)
    return -1;
  return container_list (g, json, quiet, err);
}

const struct ko_command cmd_list = {
  .name = "list",
  .args = "[options]",
  .summary = "list the containers in the state root",
  .options = "  -f, --format F   table (default) or json\n"
             "  -q, --quiet      print only the ids\n",
  .run = run,
};
