#include "config.h"

#include "container.h"

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  const char *id;
  int r = cli_parse_id_only (&cmd_resume, argc, argv, &id, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  return container_pause (g, id, false, err);
}

const struct ko_command cmd_resume = {
  .name = "resume",
  .args = "<container-id>",
  .summary = "resume a paused container",
  .run = run,
};
