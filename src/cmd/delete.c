#include "config.h"

#include "container.h"

#include <errno.h>
#include <getopt.h>

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  bool force = false;
  const char *id;
  while ((c = getopt_long (argc, argv, "+:fh", opts, NULL)) != -1)
    switch (c)
      {
      case 'f':
        force = true;
        break;
      case 'h':
        cli_print_help (&cmd_delete);
        return 0;
      default:
        return cli_bad_option ("delete", c, argv, err);
      }
  if (cli_container_id (&cmd_delete, argc, argv, optind, &id, err) < 0)
    return -1;
  return container_delete (g, id, force, err);
}

const struct ko_command cmd_delete = {
  .name = "delete",
  .args = "[options] <container-id>",
  .summary = "delete a container: stop its VM and remove its state",
  .options = "  -f, --force   delete even a running container (it is "
             "killed)\n",
  .run = run,
};
