#include "config.h"

#include "container.h"
#include "oci.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  static const struct option opts[] = {
    { "resources", required_argument, NULL, 'r' },
    { "blkio-weight", required_argument, NULL, 1 },
    { "cpu-period", required_argument, NULL, 1 },
    { "cpu-quota", required_argument, NULL, 1 },
    { "cpu-rt-period", required_argument, NULL, 1 },
    { "cpu-rt-runtime", required_argument, NULL, 1 },
    { "cpu-share", required_argument, NULL, 1 },
    { "cpuset-cpus", required_argument, NULL, 1 },
    { "cpuset-mems", required_argument, NULL, 1 },
    { "kernel-memory", required_argument, NULL, 1 },
    { "kernel-memory-tcp", required_argument, NULL, 1 },
    { "memory", required_argument, NULL, 1 },
    { "memory-reservation", required_argument, NULL, 1 },
    { "memory-swap", required_argument, NULL, 1 },
    { "pids-limit", required_argument, NULL, 1 },
    { "l3-cache-schema", required_argument, NULL, 1 },
    { "mem-bw-schema", required_argument, NULL, 1 },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  const char *id, *resources = NULL;
  while ((c = getopt_long (argc, argv, "+r:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'r':
        resources = optarg;
        break;
      case 1:
        break;
      case 'h':
        cli_print_help (&cmd_update);
        return 0;
      default:
        return ko_error_setx (err, 22, "update: unknown option %s",
                              argv[optind - 1]);
      }
  if (cli_container_id (&cmd_update, argc, argv, optind, &id, err) < 0)
    return -1;
  if (resources)
    {
      oci_linux_resources *r
          = strcmp (resources, "-") == 0
                ? oci_linux_resources_parse_file ("/dev/stdin", err)
                : oci_linux_resources_parse_file (resources, err);
      if (r == NULL)
        return -1;
      oci_linux_resources_free (r);
    }
  if (container_check_status (g, id, "running", err) < 0)
    return -1;
  return ko_error_setx (err, ENOSYS, "update: not supported yet by this build");
}

const struct ko_command cmd_update = {
  .name = "update",
  .args = "[options] <container-id>",
  .summary = "update the resource limits of a container",
  .options
  = "  -r, --resources FILE   linux.resources JSON from FILE, or - for "
    "stdin\n"
    "      --blkio-weight N, --cpu-period N, --cpu-quota N, --cpu-rt-period "
    "N,\n"
    "      --cpu-rt-runtime N, --cpu-share N, --cpuset-cpus L, --cpuset-mems "
    "L,\n"
    "      --kernel-memory N, --kernel-memory-tcp N, --memory N,\n"
    "      --memory-reservation N, --memory-swap N, --pids-limit N,\n"
    "      --l3-cache-schema S, --mem-bw-schema S   as runc's\n",
  .run = run,
};
