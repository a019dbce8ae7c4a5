#include "config.h"

#include "settings.h"
#include "hypervisor.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every setting, with what its value may be: any text, a whole number in
 * [min, max], or one of a few words. */
enum setting_kind
{
  SET_TEXT,
  SET_INT,
  SET_FS_CACHE,
  SET_ACCEL,
  SET_CHANNEL,
};

static const struct setting
{
  const char *name;
  enum setting_kind kind;
  int min, max;
} settings[] = {
  { "KATA_OCI_QEMU", SET_TEXT, 0, 0 },
  { "KATA_OCI_VIRTIOFSD", SET_TEXT, 0, 0 },
  { "KATA_OCI_KERNEL", SET_TEXT, 0, 0 },
  { "KATA_OCI_INITRD", SET_TEXT, 0, 0 },
  { "KATA_OCI_FIRMWARE", SET_TEXT, 0, 0 },
  { "KATA_OCI_KERNEL_PARAMS", SET_TEXT, 0, 0 },
  { "KATA_OCI_VIRTIO_FS_CACHE", SET_FS_CACHE, 0, 0 },
  { "KATA_OCI_MEMORY_MB", SET_INT, 64, 1 << 20 },
  { "KATA_OCI_VCPUS", SET_INT, 1, 256 },
  { "KATA_OCI_ROOT_PORTS", SET_INT, 0, KO_VM_MAX_ROOT_PORTS },
  { "KATA_OCI_BOOT_TIMEOUT", SET_INT, 1, 3600 },
  { "KATA_OCI_PRIVILEGED_HOST_DEVICES", SET_INT, 0, 1 },
  { "KATA_OCI_ACCEL", SET_ACCEL, 0, 0 },
  { "KATA_OCI_CHANNEL", SET_CHANNEL, 0, 0 },
};

static const struct setting *
setting_find (const char *name)
{
  for (size_t i = 0; i < KO_ARRAY_SIZE (settings); i++)
    if (strcmp (settings[i].name, name) == 0)
      return &settings[i];
  return NULL;
}

static bool
int_parse (const char *v, int min, int max, int *out)
{
  char *end;
  errno = 0;
  long n = strtol (v, &end, 10);
  if (end == v || *end || errno || n < min || n > max)
    return false;
  *out = (int)n;
  return true;
}

static const char *
env_or (const char *name, const char *def)
{
  const char *v = getenv (name);
  return v && *v ? v : def;
}

/* A whole number in the setting's range; anything else in the environment
 * is ignored (kata-oci-env(8)) */
static int
env_int (const char *name, int def)
{
  const struct setting *k = setting_find (name);
  const char *v = getenv (name);
  int n;
  if (k == NULL || v == NULL || !int_parse (v, k->min, k->max, &n))
    return def;
  return n;
}

/* NULL when v may be k's value, else what it should be */
static const char *
setting_check (const struct setting *k, const char *v, char *buf, size_t n)
{
  int i;
  switch (k->kind)
    {
    case SET_TEXT:
      return NULL;
    case SET_INT:
      if (int_parse (v, k->min, k->max, &i))
        return NULL;
      snprintf (buf, n, "a whole number from %d to %d", k->min, k->max);
      return buf;
    case SET_FS_CACHE:
      return settings_fs_cache (v) ? NULL : "auto, always or none";
    case SET_ACCEL:
      return strcmp (v, "kvm") == 0 || strcmp (v, "tcg") == 0 ? NULL
                                                              : "kvm or tcg";
    case SET_CHANNEL:
      return strcmp (v, "serial") == 0 ? NULL : "serial";
    }
  return NULL;
}

static char *
trim (char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen (s);
  while (n && strchr (" \t\r\n", s[n - 1]))
    s[--n] = '\0';
  return s;
}

/* One line: 0 with *name and *value set (*name NULL for a blank or a
 * comment), or -1 with the reason in *err. */
static int
config_line (const char *path, unsigned no, char *line, char **name,
             char **value, ko_error **err)
{
  char *s = trim (line);
  *name = *value = NULL;
  if (*s == '\0' || *s == '#')
    return 0;
  char *eq = strchr (s, '=');
  if (eq == NULL)
    return ko_error_setx (err, EINVAL, "%s:%u: expected KATA_OCI_NAME=VALUE",
                          path, no);
  *eq = '\0';
  *name = trim (s);
  *value = trim (eq + 1);
  const struct setting *k = setting_find (*name);
  if (k == NULL)
    return ko_error_setx (err, EINVAL,
                          "%s:%u: unknown setting \"%s\" (see kata-oci-env(8))",
                          path, no, *name);
  char why[64];
  const char *want
      = **value ? setting_check (k, *value, why, sizeof why) : NULL;
  if (want)
    return ko_error_setx (err, EINVAL, "%s:%u: %s: expected %s, not \"%s\"",
                          path, no, *name, want, *value);
  return 0;
}

int
settings_config_apply (const char *path, bool must_exist, ko_error **err)
{
  _cleanup_fclose_ FILE *f = fopen (path, "re");
  if (f == NULL)
    {
      if (errno == ENOENT && !must_exist)
        return 0;
      return ko_error_set (err, errno, "configuration file %s", path);
    }
  /* the environment wins (an empty value counts as unset) */
  bool env_set[KO_ARRAY_SIZE (settings)];
  for (size_t i = 0; i < KO_ARRAY_SIZE (settings); i++)
    env_set[i] = *env_or (settings[i].name, "") != '\0';
  /* checked whole first: a bad file changes nothing */
  char line[4096];
  for (int pass = 0; pass < 2; pass++)
    {
      rewind (f);
      unsigned no = 0;
      while (fgets (line, sizeof line, f))
        {
          no++;
          if (strchr (line, '\n') == NULL && !feof (f))
            return ko_error_setx (err, EINVAL,
                                  "%s:%u: a line longer than %zu bytes", path,
                                  no, sizeof line - 2);
          char *name, *value;
          if (config_line (path, no, line, &name, &value, err) < 0)
            return -1;
          if (pass == 1 && name && *value
              && !env_set[setting_find (name) - settings])
            setenv (name, value, 1);
        }
      if (ferror (f))
        return ko_error_set (err, EIO, "read %s", path);
    }
  return 0;
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
  const char *path = env_or ("KATA_OCI_CONFIG", NULL);
  ko_error *err = NULL;
  s->config = NULL;
  s->config_error[0] = '\0';
  if (settings_config_apply (path ? path : KO_CONFIG_FILE, path != NULL, &err)
      < 0)
    {
      snprintf (s->config_error, sizeof s->config_error, "%s", err->msg);
      ko_error_free (err);
    }
  if (path || access (KO_CONFIG_FILE, F_OK) == 0)
    s->config = path ? path : KO_CONFIG_FILE;
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
  s->memory_mb = env_int ("KATA_OCI_MEMORY_MB", 256);
  s->vcpus = env_int ("KATA_OCI_VCPUS", 1);
  s->root_ports = env_int ("KATA_OCI_ROOT_PORTS", 0);
  s->boot_timeout_ms = env_int ("KATA_OCI_BOOT_TIMEOUT", 60) * 1000;
  s->privileged_host_devices
      = env_int ("KATA_OCI_PRIVILEGED_HOST_DEVICES", 0) == 1;
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
  printf ("config=%s\n", s->config ? s->config : "none");
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
