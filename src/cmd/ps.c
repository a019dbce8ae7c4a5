#include "config.h"

#include "container.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  const char *id;
  bool json = false;
  while ((c = getopt_long (argc, argv, "+:f:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'f':
        json = strcmp (optarg, "json") == 0;
        if (!json && strcmp (optarg, "table") != 0)
          return ko_error_setx (
              err, EINVAL, "ps: invalid format \"%s\" (table or json)", optarg);
        break;
      case 'h':
        cli_print_help (&cmd_ps);
        return 0;
      default:
        return cli_bad_option ("ps", c, argv, err);
      }
  /* runc ps [options] <container-id> [ps options] */
  if (optind >= argc)
    return cli_container_id (&cmd_ps, argc, argv, optind, &id, err);
  if (cli_container_id (&cmd_ps, optind + 1, argv, optind, &id, err) < 0)
    return -1;
  int first = optind + 1;
  if (first < argc && strcmp (argv[first], "--") == 0)
    first++;
  return container_ps (g, id, json, argc - first, argv + first, err);
}

const struct ko_command cmd_ps = {
  .name = "ps",
  .args = "[options] <container-id> [ps options]",
  .summary = "list the processes running in a container",
  .options = "  -f, --format F   table (default) or json\n"
             "  ps options       -ef (default), -e -x or -o FIELDS: the "
             "table's columns\n",
  .run = run,
};
