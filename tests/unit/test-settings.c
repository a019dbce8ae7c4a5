/* The configuration file: its lines, the environment over it, and every
 * way a file is refused (nothing of a refused file is applied). */
#include "config.h"

#include "settings.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/kot-settings.XXXXXX";
static char path[sizeof dir + 16];

static void
write_conf (const char *text)
{
  FILE *f = fopen (path, "w");
  if (f == NULL || fputs (text, f) < 0 || fclose (f) != 0)
    abort ();
}

static void
clear_env (void)
{
  static const char *const names[] = {
    "KATA_OCI_MEMORY_MB",       "KATA_OCI_VCPUS",  "KATA_OCI_KERNEL",
    "KATA_OCI_KERNEL_PARAMS",   "KATA_OCI_ACCEL",  "KATA_OCI_CHANNEL",
    "KATA_OCI_VIRTIO_FS_CACHE", "KATA_OCI_CONFIG", "KATA_OCI_BOOT_TIMEOUT"
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    unsetenv (names[i]);
}

/* apply must fail with exactly want, and set nothing */
static void
refused (const char *text, const char *want, const char *what)
{
  clear_env ();
  write_conf (text);
  ko_error *err = NULL;
  is_int (settings_config_apply (path, true, &err), -1, "%s: refused", what);
  char full[512];
  snprintf (full, sizeof full, "%s:%s", path, want);
  is_str (err ? err->msg : NULL, full, "%s: the error names file and line",
          what);
  ok (getenv ("KATA_OCI_MEMORY_MB") == NULL, "%s: nothing of the file applied",
      what);
  ko_error_free (err);
}

int
main (void)
{
  if (mkdtemp (dir) == NULL)
    return 1;
  snprintf (path, sizeof path, "%s/kata-oci.conf", dir);
  ko_error *err = NULL;

  /* a missing file: nothing, unless it was asked for */
  clear_env ();
  is_int (settings_config_apply (path, false, &err), 0,
          "a missing default file is no error");
  is_int (settings_config_apply (path, true, &err), -1,
          "a missing named file is an error");
  ok (err && strstr (err->msg, "configuration file ")
          && strstr (err->msg, "No such file or directory"),
      "it says which file and why: %s", err ? err->msg : "");
  ko_error_free (err);
  err = NULL;

  /* comments, blanks, spaces around the name and value, an empty value */
  write_conf ("# kata-oci\n"
              "\n"
              "  KATA_OCI_MEMORY_MB = 512  \n"
              "\tKATA_OCI_VCPUS=2\n"
              "KATA_OCI_KERNEL_PARAMS=quiet loglevel=3\n"
              "KATA_OCI_KERNEL=\n"
              "KATA_OCI_ACCEL=tcg\n"
              "KATA_OCI_CHANNEL=serial\n"
              "KATA_OCI_VIRTIO_FS_CACHE=never\n"
              "KATA_OCI_BOOT_TIMEOUT=10\n"
              "KATA_OCI_BOOT_TIMEOUT=20\n");
  setenv ("KATA_OCI_VCPUS", "4", 1);
  is_int (settings_config_apply (path, true, &err), 0, "a good file applies");
  is_str (getenv ("KATA_OCI_MEMORY_MB"), "512", "a setting the env lacks");
  is_str (getenv ("KATA_OCI_VCPUS"), "4", "the environment wins");
  is_str (getenv ("KATA_OCI_KERNEL_PARAMS"), "quiet loglevel=3",
          "a value with spaces and = in it");
  ok (getenv ("KATA_OCI_KERNEL") == NULL, "an empty value counts as unset");
  is_str (getenv ("KATA_OCI_BOOT_TIMEOUT"), "20", "the last line wins");

  /* through settings_load, with KATA_OCI_CONFIG */
  clear_env ();
  setenv ("KATA_OCI_CONFIG", path, 1);
  struct ko_settings s;
  settings_load (&s);
  is_str (s.config, path, "settings_load reads KATA_OCI_CONFIG's file");
  is_str (s.config_error, "", "and finds no error");
  is_int (s.memory_mb, 512, "memory from the file");
  is_int (s.vcpus, 2, "vCPUs from the file");
  is_str (s.fs_cache, "none", "the cache mode from the file");
  ok (!s.vsock, "the channel from the file");

  clear_env ();
  setenv ("KATA_OCI_CONFIG", "/nonexistent/kata-oci.conf", 1);
  settings_load (&s);
  is_str (s.config_error,
          "configuration file /nonexistent/kata-oci.conf: No such file or "
          "directory",
          "a missing KATA_OCI_CONFIG file is settings_load's error");

  /* refusals */
  refused ("KATA_OCI_MEMORY_MB=512\nnot a setting\n",
           "2: expected KATA_OCI_NAME=VALUE", "a line without =");
  refused ("KATA_OCI_MEMORY_MB=512\nKATA_OCI_MEMORY=1\n",
           "2: unknown setting \"KATA_OCI_MEMORY\" (see kata-oci-env(8))",
           "an unknown name");
  refused ("KATA_OCI_MEMORY_MB=512\nKATA_OCI_CONFIG=/x\n",
           "2: unknown setting \"KATA_OCI_CONFIG\" (see kata-oci-env(8))",
           "a file naming another file");
  refused ("KATA_OCI_MEMORY_MB=32\n",
           "1: KATA_OCI_MEMORY_MB: expected a whole number from 64 to "
           "1048576, not \"32\"",
           "a number out of range");
  refused ("KATA_OCI_MEMORY_MB=512\nKATA_OCI_VCPUS=2x\n",
           "2: KATA_OCI_VCPUS: expected a whole number from 1 to 256, not "
           "\"2x\"",
           "not a number");
  refused ("KATA_OCI_MEMORY_MB=512\nKATA_OCI_VIRTIO_FS_CACHE=sometimes\n",
           "2: KATA_OCI_VIRTIO_FS_CACHE: expected auto, always or none, not "
           "\"sometimes\"",
           "a cache mode");
  refused ("KATA_OCI_MEMORY_MB=512\nKATA_OCI_ACCEL=hvf\n",
           "2: KATA_OCI_ACCEL: expected kvm or tcg, not \"hvf\"",
           "an accelerator");
  refused ("KATA_OCI_MEMORY_MB=512\nKATA_OCI_CHANNEL=vsock\n",
           "2: KATA_OCI_CHANNEL: expected serial, not \"vsock\"", "a channel");
  char *longline = malloc (5000);
  memset (longline, 'x', 4999);
  longline[4999] = '\0';
  char *text = NULL;
  if (asprintf (&text, "KATA_OCI_MEMORY_MB=512\nKATA_OCI_KERNEL_PARAMS=%s\n",
                longline)
      < 0)
    abort ();
  refused (text, "2: a line longer than 4094 bytes", "a line too long");
  free (text);
  free (longline);

  /* an unreadable file: a directory */
  clear_env ();
  unlink (path);
  if (mkdir (path, 0700) < 0)
    abort ();
  is_int (settings_config_apply (path, false, &err), -1,
          "a file that cannot be read is an error");
  ko_error_free (err);
  rmdir (path);
  rmdir (dir);
  return tap_done ();
}
