#include "config.h"

#include "cli.h"
#include "oci.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  static const struct option opts[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "rootless", no_argument, NULL, 'r' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  const char *bundle = ".";
  bool rootless = false;
  while ((c = getopt_long (argc, argv, "+:b:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'b':
        bundle = optarg;
        break;
      case 'r':
        rootless = true;
        break;
      case 'h':
        cli_print_help (&cmd_spec);
        return 0;
      default:
        return cli_bad_option ("spec", c, argv, err);
      }
  if (cli_check_args (&cmd_spec, argc - optind, 0, 0, err) < 0)
    return -1;
  _cleanup_free_ char *path = NULL;
  if (asprintf (&path, "%s/config.json", bundle) < 0)
    return ko_error_set (err, ENOMEM, "spec");
  oci_spec *spec = oci_spec_new_default (rootless, err);
  if (spec == NULL)
    return -1;
  _cleanup_free_ char *json = oci_spec_generate (spec, err);
  oci_spec_free (spec);
  if (json == NULL)
    return -1;
  /* like runc: never overwrite an existing config.json */
  _cleanup_close_ int fd
      = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      if (errno == EEXIST)
        return ko_error_setx (err, EEXIST, "File %s exists. Remove it first",
                              path);
      return ko_error_set (err, errno, "create %s", path);
    }
  size_t len = strlen (json);
  if (write (fd, json, len) != (ssize_t)len)
    return ko_error_set (err, errno, "write %s", path);
  (void)g;
  return 0;
}

const struct ko_command cmd_spec = {
  .name = "spec",
  .args = "[options]",
  .summary = "write a default config.json into the bundle",
  .options = "  -b, --bundle DIR   where to write config.json (default: .)\n"
             "      --rootless     a spec for a rootless container\n",
  .run = run,
};
