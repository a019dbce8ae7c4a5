#include "config.h"

#include "cli.h"
#include "settings.h"

#include <errno.h>
#include <getopt.h>

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  while ((c = getopt_long (argc, argv, "+:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'h':
        cli_print_help (&cmd_env);
        return 0;
      default:
        return cli_bad_option ("env", c, argv, err);
      }
  if (cli_check_args (&cmd_env, argc - optind, 0, 0, err) < 0)
    return -1;
  struct ko_settings s;
  settings_load (&s);
  if (s.config_error[0])
    return ko_error_setx (err, EINVAL, "env: %s", s.config_error);
  settings_print (&s, g->root);
  return 0;
}

const struct ko_command cmd_env = {
  .name = "env",
  .args = "",
  .summary = "print the effective configuration (" KO_CONFIG_FILE
             ", overridden by KATA_OCI_* variables)",
  .run = run,
};
