#include "config.h"

#include "cli.h"
#include "oci.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        cli_print_help (&cmd_features);
        return 0;
      default:
        return cli_bad_option ("features", c, argv, err);
      }
  if (cli_check_args (&cmd_features, argc - optind, 0, 0, err) < 0)
    return -1;
  oci_features *f = oci_features_new (err);
  if (f == NULL)
    return -1;
  oci_map_set (&f->annotations, "io.github.kata-oci.hypervisor", "qemu");
  oci_map_set (&f->annotations, "io.github.kata-oci.version", PACKAGE_VERSION);
  /* annotations that change what the runtime does (the VM's size, cache
   * mode, root ports, block rootfs and volumes): an engine should pass
   * them only from whom it trusts (runc lists its own here) */
  static const char *const unsafe[] = { "io.katacontainers.", "io.kata-oci." };
  char **v = calloc (KO_ARRAY_SIZE (unsafe) + 1, sizeof *v);
  f->potentially_unsafe_config_annotations = v;
  for (size_t i = 0; v && i < KO_ARRAY_SIZE (unsafe); i++)
    {
      if ((v[i] = strdup (unsafe[i])) == NULL)
        break;
      f->potentially_unsafe_config_annotations_len = i + 1;
    }
  if (v == NULL
      || f->potentially_unsafe_config_annotations_len != KO_ARRAY_SIZE (unsafe))
    {
      oci_features_free (f);
      return ko_error_set (err, ENOMEM, "features");
    }
  _cleanup_free_ char *json = oci_features_generate (f, err);
  oci_features_free (f);
  if (json == NULL)
    return -1;
  fputs (json, stdout);
  (void)g;
  return 0;
}

const struct ko_command cmd_features = {
  .name = "features",
  .args = "",
  .summary = "print the runtime-spec features document as JSON",
  .run = run,
};
