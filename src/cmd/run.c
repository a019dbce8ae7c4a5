#include "config.h"

#include "container.h"

#include <getopt.h>
#include <stdlib.h>

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  struct create_opts o = { .run = true };
  static const struct option opts[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "console-socket", required_argument, NULL, 'c' },
    { "pid-file", required_argument, NULL, 'p' },
    { "no-pivot", no_argument, NULL, 'P' },
    { "no-new-keyring", no_argument, NULL, 'K' },
    { "preserve-fds", required_argument, NULL, 'f' },
    { "detach", no_argument, NULL, 'd' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  while ((c = getopt_long (argc, argv, "+b:dh", opts, NULL)) != -1)
    switch (c)
      {
      case 'b':
        o.bundle = optarg;
        break;
      case 'c':
        o.console_socket = optarg;
        break;
      case 'p':
        o.pid_file = optarg;
        break;
      case 'P':
        o.no_pivot = true;
        break;
      case 'K':
        o.no_new_keyring = true;
        break;
      case 'f':
        o.preserve_fds = atoi (optarg);
        break;
      case 'd':
        o.detach = true;
        break;
      case 'h':
        cli_print_help (&cmd_run);
        return 0;
      default:
        return ko_error_setx (err, 22, "run: unknown option %s",
                              argv[optind - 1]);
      }
  if (cli_container_id (&cmd_run, argc, argv, optind, &o.id, err) < 0)
    return -1;
  return container_create (g, &o, err);
}

const struct ko_command cmd_run = {
  .name = "run",
  .args = "[options] <container-id>",
  .summary = "create and start a container; without -d, wait for it and "
             "exit with its status",
  .options = "  -b, --bundle DIR         bundle directory (default: .)\n"
             "      --console-socket S   send the pty master to this unix "
             "socket\n"
             "      --pid-file FILE      write the monitor's pid to FILE\n"
             "  -d, --detach             detach from the container\n"
             "      --no-pivot           accepted (the guest always pivots)\n"
             "      --no-new-keyring     accepted\n"
             "      --preserve-fds N     accepted; extra fds are not passed "
             "into a VM\n",
  .run = run,
};
