#include "config.h"

#include "container.h"
#include "oci.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  static const struct option opts[] = {
    { "process", required_argument, NULL, 'p' },
    { "console-socket", required_argument, NULL, 'C' },
    { "cwd", required_argument, NULL, 'w' },
    { "env", required_argument, NULL, 'e' },
    { "tty", no_argument, NULL, 't' },
    { "user", required_argument, NULL, 'u' },
    { "additional-gids", required_argument, NULL, 'g' },
    { "cap", required_argument, NULL, 'c' },
    { "no-new-privs", no_argument, NULL, 'N' },
    { "detach", no_argument, NULL, 'd' },
    { "pid-file", required_argument, NULL, 'P' },
    { "preserve-fds", required_argument, NULL, 'f' },
    { "process-label", required_argument, NULL, 'l' },
    { "apparmor", required_argument, NULL, 'a' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  const char *process = NULL, *cwd = NULL;
  while ((c = getopt_long (argc, argv, "+p:e:tu:g:c:dh", opts, NULL)) != -1)
    switch (c)
      {
      case 'p':
        process = optarg;
        break;
      case 'w':
        cwd = optarg;
        break;
      case 'C':
      case 'e':
      case 't':
      case 'u':
      case 'g':
      case 'c':
      case 'N':
      case 'd':
      case 'P':
      case 'f':
      case 'l':
      case 'a':
        break;
      case 'h':
        cli_print_help (&cmd_exec);
        return 0;
      default:
        return ko_error_setx (err, 22, "exec: unknown option %s",
                              argv[optind - 1]);
      }
  if (cli_check_args (&cmd_exec, argc - optind, process ? 1 : 2, -1, err) < 0)
    return -1;
  const char *id = argv[optind];
  if (state_validate_id (id, err) < 0)
    return -1;
  if (cwd && cwd[0] != '/')
    return ko_error_setx (err, EINVAL, "exec: --cwd: must be an absolute path");
  if (process)
    {
      oci_process *p = oci_process_parse_file (process, err);
      if (p == NULL)
        return -1;
      oci_process_free (p);
    }
  _cleanup_free_ char *dir = state_dir_path (g->root, id);
  _cleanup_close_ int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ko_error_setx (err, ENOENT, "container %s does not exist", id);
  struct ko_state st = { 0 };
  if (state_read (fd, &st, err) < 0)
    return ko_error_wrap (err, "container %s", id);
  const char *status = state_status (&st);
  bool running = strcmp (status, "running") == 0;
  state_clear (&st);
  if (!running)
    return ko_error_setx (err, EINVAL, "cannot exec in a %s container", status);
  return ko_error_setx (err, ENOSYS,
                        "exec: not supported yet by this build of kata-oci");
}

const struct ko_command cmd_exec = {
  .name = "exec",
  .args = "[options] <container-id> [command [args...]]",
  .summary = "run another process in a running container",
  .options
  = "  -p, --process FILE       the process as an OCI process JSON file\n"
    "      --console-socket S   send the pty master to this unix socket\n"
    "      --cwd DIR            working directory\n"
    "  -e, --env K=V            set an environment variable (repeatable)\n"
    "  -t, --tty                allocate a pseudo-terminal\n"
    "  -u, --user UID[:GID]     run as this user\n"
    "  -g, --additional-gids G  an additional group (repeatable)\n"
    "  -c, --cap CAP            add a capability (repeatable)\n"
    "      --no-new-privs       set no_new_privs\n"
    "  -d, --detach             detach; a relay process waits for it\n"
    "      --pid-file FILE      write the relay's pid to FILE\n"
    "      --preserve-fds N     accepted; extra fds are not passed into a "
    "VM\n",
  .run = run,
};
