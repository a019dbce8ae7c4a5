#include "config.h"

#include "container.h"

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  struct create_opts o = { .run = false };
  int r = cli_parse_create (&cmd_create, argc, argv, &o, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  return container_create (g, &o, err);
}

const struct ko_command cmd_create = {
  .name = "create",
  .args = "[options] <container-id>",
  .summary = "create a container: boot its VM and prepare its process",
  .options = "  -b, --bundle DIR         bundle directory (default: .)\n"
             "      --console-socket S   send the pty master to this unix "
             "socket\n"
             "      --pid-file FILE      write the container's pid to FILE\n"
             "      --pidfd-socket S     send a pidfd of that pid to this "
             "unix socket\n"
             "      --no-pivot           accepted (the guest always pivots)\n"
             "      --no-new-keyring     accepted\n"
             "      --preserve-fds N     accepted; extra fds are not passed "
             "into a VM\n",
  .run = run,
};
