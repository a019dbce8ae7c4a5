#include "config.h"

#include "container.h"

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  const char *id;
  int r = cli_parse_id_only (&cmd_pause, argc, argv, &id, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  return container_pause (g, id, true, err);
}

const struct ko_command cmd_pause = {
  .name = "pause",
  .args = "<container-id>",
  .summary
  = "pause all processes of a container (its cgroup in the guest is frozen)",
  .run = run,
};
