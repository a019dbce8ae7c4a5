#include "config.h"

#include "container.h"

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  const char *id;
  int r = cli_parse_id_only (&cmd_start, argc, argv, &id, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  return container_start (g, id, err);
}

const struct ko_command cmd_start = {
  .name = "start",
  .args = "<container-id>",
  .summary = "start a created container",
  .run = run,
};
