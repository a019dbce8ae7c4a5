#include "config.h"

#include "metrics.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  static const struct option opts[] = {
    { "listen", required_argument, NULL, 'l' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *listen = NULL;
  int c;
  while ((c = getopt_long (argc, argv, "+:l:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'l':
        listen = optarg;
        break;
      case 'h':
        cli_print_help (&cmd_metrics);
        return 0;
      default:
        return cli_bad_option ("metrics", c, argv, err);
      }
  char *const *ids = argv + optind;
  if (listen)
    return metrics_serve (g->root, ids, listen, err) < 0 ? -1 : 0;
  _cleanup_buf_ struct ko_buf out = { 0 };
  if (metrics_gather (g->root, ids, true, &out, err) < 0)
    return -1;
  if (fwrite (out.data, 1, out.len, stdout) != out.len || fflush (stdout))
    return ko_error_set (err, errno, "metrics: write");
  return 0;
}

const struct ko_command cmd_metrics = {
  .name = "metrics",
  .args = "[options] [<container-id>...]",
  .summary = "print every sandbox's metrics in Prometheus's text format",
  .options = "  -l, --listen ADDR:PORT  serve them on GET /metrics over HTTP\n",
  .run = run,
};
