#include "config.h"

#include "cli.h"
#include "confine.h"
#include "hypervisor.h"
#include "settings.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
item (const char *what, const char *path, int mode, const char *missing)
{
  _cleanup_error_ ko_error *e = NULL;
  bool ok = hypervisor_check_file (what, path, mode, &e) == 0;
  /* there, but QEMU's own user cannot read it */
  if (!ok && access (path, mode) == 0)
    {
      printf ("%-16s %-40s %s\n", what, path,
              "unreadable: QEMU's own user cannot read it (chmod o+r)");
      return 1;
    }
  printf ("%-16s %-40s %s%s%s\n", what, path, ok ? "found" : "missing",
          ok ? "" : ": ", ok ? "" : missing);
  return ok ? 0 : 1;
}

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
        cli_print_help (&cmd_check);
        return 0;
      default:
        return cli_bad_option ("check", c, argv, err);
      }
  if (cli_check_args (&cmd_check, argc - optind, 0, 0, err) < 0)
    return -1;
  struct ko_settings s;
  settings_load (&s);
  int missing = 0;
  printf ("%-16s %-40s %s\n", "config file", s.config ? s.config : "none",
          s.config_error[0] ? "invalid"
          : s.config        ? "read: the environment overrides it"
                            : "none at " KO_CONFIG_FILE ": the defaults");
  char kvm_line[512];
  if (s.kvm_note)
    snprintf (kvm_line, sizeof kvm_line,
              "found, but %s: QEMU runs under TCG (software emulation)",
              s.kvm_note);
  printf ("%-16s %-40s %s\n", "/dev/kvm", "/dev/kvm",
          s.kvm        ? "found: VMs use KVM"
          : s.kvm_note ? kvm_line
                       : "missing: QEMU runs under TCG (software emulation): "
                         "slower, everything works the same");
  printf ("%-16s %-40s %s\n", "/dev/vhost-vsock", "/dev/vhost-vsock",
          s.vsock ? "found: the agent channel is vsock"
                  : "missing: the agent channel is virtio-serial on a unix "
                    "socket");
  /* only containers with a network namespace path need it */
  printf ("%-16s %-40s %s\n", "/dev/net/tun", "/dev/net/tun",
          access ("/dev/net/tun", R_OK | W_OK) == 0
              ? "found: the interfaces of a container's network namespace "
                "reach its VM through taps"
              : "missing: a container given a network namespace path cannot "
                "be created");
  missing += item ("qemu", s.qemu, X_OK, "apt-get install qemu-system-x86");
  missing += item ("virtiofsd", s.virtiofsd, X_OK,
                   "apt-get install qemu-system-common");
  missing += item ("guest kernel", s.kernel, R_OK, "run make && make install");
  char info[256];
  printf ("%-16s %-40s %s\n", "kernel info", "",
          settings_kernel_info (s.kernel, info, sizeof info));
  missing += item ("guest initrd", s.initrd, R_OK, "run make && make install");
  if (s.firmware)
    missing += item ("guest firmware", s.firmware, R_OK,
                     "unset KATA_OCI_FIRMWARE for the default");
  else
    printf ("%-16s %-40s %s\n", "guest firmware", KO_FIRMWARE_QEMU_DEFAULT,
            "QEMU's own (SeaBIOS)");
  if (s.fs_cache_bad)
    printf ("%-16s %-40s %s\n", "virtio-fs cache", s.fs_cache_bad,
            "invalid: KATA_OCI_VIRTIO_FS_CACHE is auto, always or none");
  else
    printf ("%-16s %-40s %s\n", "virtio-fs cache", s.fs_cache,
            strcmp (s.fs_cache, "auto") == 0
                ? "host changes are seen when a file is opened"
            : strcmp (s.fs_cache, "always") == 0
                ? "the guest keeps what it read: host changes may go unseen"
                : "nothing cached in the guest: every read goes to the host");
  printf ("accel: %s\nchannel: %s\n", s.kvm ? "kvm" : "tcg",
          s.vsock ? "vsock" : "virtio-serial");
  printf ("qemu confinement: %s\n", confine_qemu_summary ());
  printf ("virtiofsd confinement: %s\n", confine_virtiofsd_summary ());
  (void)g;
  if (s.config_error[0])
    return ko_error_setx (err, EINVAL, "check: %s", s.config_error);
  if (s.fs_cache_bad && !missing)
    return settings_fs_cache_error ("check: KATA_OCI_VIRTIO_FS_CACHE",
                                    s.fs_cache_bad, err);
  if (missing)
    return ko_error_setx (err, ENOENT, "check: %d required component%s missing",
                          missing, missing == 1 ? " is" : "s are");
  return 0;
}

const struct ko_command cmd_check = {
  .name = "check",
  .args = "",
  .summary = "check this host: KVM or TCG, vsock or virtio-serial, qemu, "
             "virtiofsd, guest kernel, initrd and firmware",
  .run = run,
};
