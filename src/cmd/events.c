#include "config.h"

#include "container.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* "5s", "500ms", "1m" or plain seconds, as runc's --interval */
static int
parse_interval (const char *s, int *ms, ko_error **err)
{
  char *end;
  double v = strtod (s, &end);
  double mul = 1000;
  if (strcmp (end, "ms") == 0)
    mul = 1;
  else if (strcmp (end, "m") == 0)
    mul = 60000;
  else if (*end && strcmp (end, "s") != 0)
    end = NULL;
  if (end == NULL || end == s || v <= 0 || v * mul > 86400000)
    return ko_error_setx (err, EINVAL,
                          "events: --interval: invalid duration "
                          "\"%s\"",
                          s);
  *ms = (int)(v * mul);
  if (*ms < 1)
    *ms = 1;
  return 0;
}

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  static const struct option opts[] = {
    { "stats", no_argument, NULL, 's' },
    { "interval", required_argument, NULL, 'i' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c, interval = 5000;
  bool stats = false;
  const char *id;
  while ((c = getopt_long (argc, argv, "+:h", opts, NULL)) != -1)
    switch (c)
      {
      case 's':
        stats = true;
        break;
      case 'i':
        if (parse_interval (optarg, &interval, err) < 0)
          return -1;
        break;
      case 'h':
        cli_print_help (&cmd_events);
        return 0;
      default:
        return cli_bad_option ("events", c, argv, err);
      }
  if (cli_container_id (&cmd_events, argc, argv, optind, &id, err) < 0)
    return -1;
  return container_events (g, id, stats, interval, err);
}

const struct ko_command cmd_events = {
  .name = "events",
  .args = "[options] <container-id>",
  .summary = "print container events (OOM, exit) and statistics as JSON",
  .options = "      --stats          print statistics once and exit\n"
             "      --interval D     statistics interval (default 5s)\n",
  .run = run,
};
