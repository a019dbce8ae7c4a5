#include "config.h"

#include "exec.h"
#include "oci.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
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
    { "pidfd-socket", required_argument, NULL, 'F' },
    { "preserve-fds", required_argument, NULL, 'f' },
    { "process-label", required_argument, NULL, 'l' },
    { "apparmor", required_argument, NULL, 'a' },
    { "ignore-paused", no_argument, NULL, 'I' },
    { "cgroup", required_argument, NULL, 'G' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  struct exec_opts o = { 0 };
  _cleanup_free_ char **env = NULL, **gids = NULL, **caps = NULL,
                      **cgroups = NULL;
  size_t nenv = 0, ngids = 0, ncaps = 0, ncgroups = 0;
  env = calloc (1, sizeof (char *));
  gids = calloc (1, sizeof (char *));
  caps = calloc (1, sizeof (char *));
  cgroups = calloc (1, sizeof (char *));
  if (env == NULL || gids == NULL || caps == NULL || cgroups == NULL)
    return ko_error_set (err, ENOMEM, "exec");
  while ((c = getopt_long (argc, argv, "+:p:e:tu:g:c:dh", opts, NULL)) != -1)
    switch (c)
      {
      case 'p':
        o.process_file = optarg;
        break;
      case 'w':
        o.cwd = optarg;
        break;
      case 'C':
        o.console_socket = optarg;
        break;
      case 'e':
        if (strchr (optarg, '=') == NULL || optarg[0] == '=')
          return ko_error_setx (err, EINVAL,
                                "exec: --env %s: expected NAME=VALUE", optarg);
        if (ko_strv_push (&env, &nenv, optarg) < 0)
          return ko_error_set (err, ENOMEM, "exec");
        break;
      case 't':
        o.tty = true;
        break;
      case 'u':
        o.user = optarg;
        break;
      case 'g':
        if (ko_strv_push (&gids, &ngids, optarg) < 0)
          return ko_error_set (err, ENOMEM, "exec");
        break;
      case 'N':
        o.no_new_privs = true;
        break;
      case 'd':
        o.detach = true;
        break;
      case 'P':
        o.pid_file = optarg;
        break;
      case 'F':
        o.pidfd_socket = optarg;
        break;
      case 'c':
        if (ko_strv_push (&caps, &ncaps, optarg) < 0)
          return ko_error_set (err, ENOMEM, "exec");
        break;
      case 'f':
        {
          int nfds;
          if (cli_preserve_fds ("exec", optarg, &nfds, err) < 0)
            return -1;
        }
        break;
      case 'I':
        o.ignore_paused = true;
        break;
      case 'G':
        if (ko_strv_push (&cgroups, &ncgroups, optarg) < 0)
          return ko_error_set (err, ENOMEM, "exec");
        break;
      case 'l':
      case 'a':
        break;
      case 'h':
        cli_print_help (&cmd_exec);
        return 0;
      default:
        return cli_bad_option ("exec", c, argv, err);
      }
  if (cli_check_args (&cmd_exec, argc - optind, o.process_file ? 1 : 2, -1, err)
      < 0)
    return -1;
  o.id = argv[optind];
  if (state_validate_id (o.id, err) < 0)
    return -1;
  if (o.cwd && o.cwd[0] != '/')
    return ko_error_setx (err, EINVAL, "exec: --cwd: must be an absolute path");
  o.args = argv + optind + 1;
  o.env = env;
  o.add_gids = gids;
  o.caps = caps;
  o.cgroups = cgroups;
  return exec_run (g, &o, err);
}

const struct ko_command cmd_exec = {
  .name = "exec",
  .args = "[options] <container-id> [command [args...]]",
  .summary = "run another process in a running or created container",
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
    "      --pidfd-socket S     send a pidfd of the relay to this unix "
    "socket\n"
    "      --cgroup [CTL:]PATH  run it in this group below the container's "
    "(repeatable)\n"
    "      --ignore-paused      in a paused container, start the process "
    "once it\n"
    "                           is resumed instead of failing\n"
    "      --preserve-fds N     accepted; extra fds are not passed into a "
    "VM\n",
  .run = run,
};
