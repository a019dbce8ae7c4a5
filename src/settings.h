/* The effective configuration: compiled-in defaults, overridden by the
 * configuration file's KATA_OCI_* lines, those by KATA_OCI_* environment
 * variables and, per container, by annotations. */
#ifndef KO_SETTINGS_H
#define KO_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* The configuration file read when KATA_OCI_CONFIG names none */
#define KO_CONFIG_FILE "/etc/kata-oci/kata-oci.conf"

/* KATA_OCI_FIRMWARE's value for "no -bios: QEMU's default firmware" */
#define KO_FIRMWARE_QEMU_DEFAULT "qemu-default"

struct ko_settings
{
  const char *qemu;
  const char *virtiofsd;
  const char *kernel;
  const char *initrd;
  const char *firmware;      /* -bios image; NULL: QEMU's own (SeaBIOS) */
  const char *kernel_params; /* extra guest kernel parameters */
  /* virtiofsd's cache=: "auto", "always" or "none" */
  const char *fs_cache;
  /* KATA_OCI_VIRTIO_FS_CACHE when it is none of those: create fails */
  const char *fs_cache_bad;
  int memory_mb;
  int vcpus;
  /* PCIe root ports of a VM no annotation marks a pod's sandbox (a lone
   * container's, podman's infra container's): for members' disks */
  int root_ports;
  int boot_timeout_ms; /* until the agent's hello */
  /* a privileged container's VM gets the host's block devices too
   * (translate_privileged) */
  bool privileged_host_devices;
  bool kvm; /* /dev/kvm usable */
  /* why /dev/kvm, which is there, is not used; NULL when it is, or is
   * missing, or TCG is forced */
  const char *kvm_note;
  bool vsock; /* /dev/vhost-vsock usable */
  /* the configuration file read, or NULL (none there) */
  const char *config;
  /* why that file is refused ("" when it is not): create, check and env
   * fail with it */
  char config_error[512];
};

void settings_load (struct ko_settings *s);
/* Reads a configuration file: KATA_OCI_NAME=VALUE lines (the names and
 * values of kata-oci-env(8)), blank lines and # comments. Each setting
 * the environment does not set already is put there, for settings_load.
 * A missing file is no error unless must_exist. An unreadable file, a
 * line of another shape, an unknown name or a bad value fails, naming
 * the file and line; then nothing of the file is applied. */
int settings_config_apply (const char *path, bool must_exist, ko_error **err);
/* Whether QEMU can run an ordinary guest with KVM: /dev/kvm opens and
 * answers KVM's API version, hardware virtualization is behind it (not
 * checked when forced), and its mode lets QEMU's own user open it through
 * its group. When it is there but unusable, *note says why. */
bool settings_kvm_usable (bool forced, const char **note);
/* The virtio-fs cache mode a value names ("none" also as Kata's "never"),
 * or NULL. */
const char *settings_fs_cache (const char *v);
/* The error for a value that names no cache mode, where said where: -1. */
int settings_fs_cache_error (const char *where, const char *v, ko_error **err);
/* Which kernel this is and where its config came from: the first line of
 * KERNEL.info, the file installed beside it, or a note that there is none.
 * Returns buf. */
const char *settings_kernel_info (const char *kernel, char *buf, size_t size);
/* Prints `kata-oci env`. */
void settings_print (const struct ko_settings *s, const char *root);

#endif
