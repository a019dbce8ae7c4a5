#include "config.h"

#include "container.h"

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  const char *id;
  int r = cli_parse_id_only (&cmd_state, argc, argv, &id, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  return container_state (g, id, err);
}

const struct ko_command cmd_state = {
  .name = "state",
  .args = "<container-id>",
  .summary = "print the state of a container as JSON",
  .run = run,
};
