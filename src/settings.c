#include "config.h"

#include "settings.h"
#include "hypervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *
env_or (const char *name, const char *def)
{
  const char *v = getenv (name);
  return v && *v ? v : def;
}

static int
env_int (const char *name, int def, int min, int max)
{
  const char *v = getenv (name);
  if (v == NULL || *v == '\0')
    return def;
  char *end;
  long n = strtol (v, &end, 10);
  if (*end || n < min || n > max)
    return def;
  return (int)n;
}

static bool
dev_usable (const char *path)
{
  int fd = open (path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return false;
  close (fd);
  return true;
}

static bool
module_loaded (const char *name)
{
  char p[64];
  snprintf (p, sizeof p, "/sys/module/%s", name);
  return access (p, F_OK) == 0;
}

bool
settings_kvm_usable (bool forced, const char **note)
{
  *note = NULL;
  struct stat st;
  if (stat ("/dev/kvm", &st) < 0)
    return false;
  int fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    {
      *note = "cannot be opened read-write";
      return false;
    }
  int api = ioctl (fd, KVM_GET_API_VERSION, 0);
  close (fd);
  if (api != KVM_API_VERSION)
    {
      *note = "answers no KVM API version 12";
      return false;
    }
  /* KVM's own module loaded, and neither vendor's: software nested KVM.
   * PVM (kvm_pvm) runs only guest kernels built for it; an ordinary
   * guest stops at the first instruction it cannot emulate ("KVM
   * internal error"). KATA_OCI_ACCEL=kvm skips this test. */
  if (!forced && module_loaded ("kvm") && !module_loaded ("kvm_intel")
      && !module_loaded ("kvm_amd"))
    {
      *note = module_loaded ("kvm_pvm")
                  ? "it is PVM (kvm_pvm), which runs only guest kernels "
                    "built for it"
                  : "no hardware virtualization behind it (neither kvm_intel "
                    "nor kvm_amd is loaded)";
      return false;
    }
  /* QEMU opens it as its own user, in the device's group */
  if ((st.st_mode & 0060) != 0060 && (st.st_mode & 0006) != 0006)
    {
      *note = "only root may open it, and QEMU runs as a user of its own: "
              "make it group read-write (chmod 0660 and a kvm group, as udev "
              "sets it) to use KVM";
      return false;
    }
  return true;
}

const char *
settings_fs_cache (const char *v)
{
  if (strcmp (v, "auto") == 0)
    return "auto";
  if (strcmp (v, "always") == 0)
    return "always";
  if (strcmp (v, "none") == 0 || strcmp (v, "never") == 0)
    return "none";
  return NULL;
}

int
settings_fs_cache_error (const char *where, const char *v, ko_error **err)
{
  return ko_error_setx (
      err, EINVAL, "%s: expected auto, always or none, not \"%s\"", where, v);
}

void
settings_load (struct ko_settings *s)
{
  s->qemu = env_or ("KATA_OCI_QEMU", KO_QEMU_PATH);
  s->virtiofsd = env_or ("KATA_OCI_VIRTIOFSD", KO_VIRTIOFSD_PATH);
  s->kernel = env_or ("KATA_OCI_KERNEL", KO_DATADIR "/vmlinux");
  s->initrd = env_or ("KATA_OCI_INITRD", KO_DATADIR "/initrd.img");
  /* qboot by default: it only loads the kernel and ACPI tables where
   * SeaBIOS runs a whole POST, about 80 ms of every boot under TCG. Where
   * it is not installed, QEMU's default firmware. */
  const char *fw = env_or ("KATA_OCI_FIRMWARE", NULL);
  if (fw == NULL)
    s->firmware
        = access (KO_FIRMWARE_PATH, R_OK) == 0 ? KO_FIRMWARE_PATH : NULL;
  else
    s->firmware = strcmp (fw, KO_FIRMWARE_QEMU_DEFAULT) == 0 ? NULL : fw;
  s->kernel_params = env_or ("KATA_OCI_KERNEL_PARAMS", "");
  /* close-to-open consistency with the host by default, as Kata's */
  const char *cache = env_or ("KATA_OCI_VIRTIO_FS_CACHE", "auto");
  s->fs_cache = settings_fs_cache (cache);
  s->fs_cache_bad = s->fs_cache ? NULL : cache;
  if (s->fs_cache == NULL)
    s->fs_cache = "auto";
  s->memory_mb = env_int ("KATA_OCI_MEMORY_MB", 256, 64, 1 << 20);
  s->vcpus = env_int ("KATA_OCI_VCPUS", 1, 1, 256);
  s->root_ports = env_int ("KATA_OCI_ROOT_PORTS", 0, 0, KO_VM_MAX_ROOT_PORTS);
  s->boot_timeout_ms = env_int ("KATA_OCI_BOOT_TIMEOUT", 60, 1, 3600) * 1000;
  s->privileged_host_devices
      = env_int ("KATA_OCI_PRIVILEGED_HOST_DEVICES", 0, 0, 1) == 1;
  const char *force = getenv ("KATA_OCI_ACCEL");
  /* forced TCG: /dev/kvm is not even looked at */
  s->kvm_note = NULL;
  s->kvm = force && *force && *force != 'k'
               ? false
               : settings_kvm_usable (force && *force == 'k', &s->kvm_note);
  s->vsock = dev_usable ("/dev/vhost-vsock");
  const char *ch = getenv ("KATA_OCI_CHANNEL");
  if (ch && *ch == 's')
    s->vsock = false;
}

const char *
settings_kernel_info (const char *kernel, char *buf, size_t size)
{
  char path[4096];
  snprintf (path, sizeof path, "%s.info", kernel);
  FILE *f = fopen (path, "re");
  bool ok = f && fgets (buf, (int)size, f);
  if (f)
    fclose (f);
  if (!ok)
    snprintf (buf, size, "unknown: no %s", path);
  buf[strcspn (buf, "\n")] = '\0';
  return buf;
}

void
settings_print (const struct ko_settings *s, const char *root)
{
  char info[256];
  printf ("root=%s\n", root);
  printf ("qemu=%s\n", s->qemu);
  printf ("virtiofsd=%s\n", s->virtiofsd);
  printf ("kernel=%s\n", s->kernel);
  printf ("kernel_info=%s\n",
          settings_kernel_info (s->kernel, info, sizeof info));
  printf ("initrd=%s\n", s->initrd);
  printf ("firmware=%s\n",
          s->firmware ? s->firmware : KO_FIRMWARE_QEMU_DEFAULT);
  printf ("kernel_params=%s\n", s->kernel_params);
  printf ("virtio_fs_cache=%s\n",
          s->fs_cache_bad ? s->fs_cache_bad : s->fs_cache);
  printf ("memory_mb=%d\n", s->memory_mb);
  printf ("vcpus=%d\n", s->vcpus);
  printf ("root_ports=%d\n", s->root_ports);
  printf ("privileged_host_devices=%d\n", s->privileged_host_devices);
  printf ("boot_timeout_s=%d\n", s->boot_timeout_ms / 1000);
  printf ("accel=%s\n", s->kvm ? "kvm" : "tcg");
  printf ("channel=%s\n", s->vsock ? "vsock" : "virtio-serial");
}
