#include "config.h"

#include "hypervisor.h"
#include "log.h"
#include "paths.h"
#include "proto.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int
argv_add (char ***v, size_t *n, const char *fmt, ...)
{
  char *s = NULL;
  va_list ap;
  va_start (ap, fmt);
  int r = vasprintf (&s, fmt, ap);
  va_end (ap);
  if (r < 0)
    return -1;
  char **nv = realloc (*v, (*n + 2) * sizeof *nv);
  if (nv == NULL)
    {
      free (s);
      return -1;
    }
  nv[(*n)++] = s;
  nv[*n] = NULL;
  *v = nv;
  return 0;
}

char **
hypervisor_qemu_argv (const struct ko_settings *s,
                      const struct ko_vm_config *vm)
{
  char **v = NULL;
  size_t n = 0;
  const char *d = vm->dir;
#define A(...) argv_add (&v, &n, __VA_ARGS__)
  A ("%s", s->qemu);
  A ("-name");
  A ("kata-oci-%s", vm->id);
  A ("-machine");
  A ("q35");
  A ("-accel");
  /* under TCG a smaller translation cache: QEMU's largest private allocation */
  A ("%s", s->kvm ? "kvm" : "tcg,tb-size=32");
  A ("-cpu");
  /* Under TCG, without the "fast string" hints: with erms or fsrm the guest
   * kernel copies and clears memory with rep movsb/stosb, which TCG runs one
   * byte per loop; with rep_good alone it uses the 8-byte forms. That made
   * stdout through the channel about twice as fast and boot faster. */
  A ("%s", s->kvm ? "host" : "max,erms=off,fsrm=off");
  A ("-m");
  /* room for pc-dimms: costs address space only, nothing resident */
  if (vm->memory_slots > 0 && vm->max_memory_mb > vm->memory_mb)
    A ("%dM,slots=%d,maxmem=%dM", vm->memory_mb, vm->memory_slots,
       vm->max_memory_mb);
  else
    A ("%dM", vm->memory_mb);
  A ("-smp");
  A ("%d", vm->vcpus);
  A ("-nodefaults");
  A ("-no-user-config");
  A ("-display");
  A ("none");
  A ("-no-reboot");
  /* virtio-fs needs guest memory that virtiofsd can map */
  A ("-object");
  A ("memory-backend-memfd,id=mem,size=%dM,share=on", vm->memory_mb);
  A ("-numa");
  A ("node,memdev=mem");
  if (s->firmware)
    {
      A ("-bios");
      A ("%s", s->firmware);
    }
  A ("-kernel");
  A ("%s", s->kernel);
  A ("-initrd");
  A ("%s", s->initrd);
  A ("-append");
  /* agent.channel=serial: the agent skips the vsock modules (about 30 ms
   * of its boot under TCG) and looks for the port straight away.
   * Hotplugged memory comes online by itself; a one-block DIMM carries its
   * own struct pages, so it fits even when the guest's memory is all used.
   * With memory possible above 4 GiB the kernel would set aside 64 MiB of
   * bounce buffers (swiotlb), touched at boot: no device here needs them.
   * Two cuts in the guest kernel's own boot (about 0.35 s and 0.13 s of
   * every start under TCG), both settings Debian's kernel leaves on for
   * hosts where they matter:
   * - cryptomgr.notests: the crypto self-tests of every algorithm built
   *   in; the guest uses none for the container (modules are unsigned,
   *   virtio-fs and the channel are not encrypted). Kata does the same.
   * - initcall_blacklist=tracer_init_tracefs: tracefs's files for every
   *   trace event (tens of thousands of inodes, also about 9 MB of slab);
   *   nothing traces the guest kernel. */
  A ("console=ttyS0 quiet panic=-1 reboot=t cryptomgr.notests "
     "initcall_blacklist=tracer_init_tracefs%s%s%s%s%s",
     s->vsock ? "" : " agent.channel=serial",
     /* the agent loads virtio_net only then: no cost without a network */
     vm->nnics > 0 ? " agent.net=1" : "",
     vm->memory_slots > 0 ? " memhp_default_state=online "
                            "memory_hotplug.memmap_on_memory=1 swiotlb=noforce"
                          : "",
     *s->kernel_params ? " " : "", s->kernel_params);
  A ("-chardev");
  A ("file,id=console,path=%s/%s", d, KO_CONSOLE_LOG);
  A ("-serial");
  A ("chardev:console");
  A ("-chardev");
  A ("socket,id=vfs,path=%s/%s", d, KO_VIRTIOFSD_SOCK);
  A ("-device");
  A ("vhost-user-fs-pci,chardev=vfs,tag=%s", KO_SHARE_TAG);
  if (s->vsock)
    {
      A ("-device");
      A ("vhost-vsock-pci,guest-cid=%u", vm->vsock_cid);
    }
  else
    {
      A ("-device");
      /* the guest driver sets up two virtqueues per possible port; port 0
       * is kept for a console, ours is port 1 */
      A ("virtio-serial-pci,id=serial0,max_ports=2");
      A ("-chardev");
      A ("socket,id=agent,path=%s/%s,server=on,wait=off", d, KO_AGENT_SOCK);
      A ("-device");
      A ("virtserialport,chardev=agent,name=%s", KO_AGENT_SERIAL_NAME);
    }
  for (size_t i = 0; i < vm->nnics; i++)
    {
      const unsigned char *m = vm->nics[i].mac;
      A ("-netdev");
      A ("tap,id=net%zu,fd=%d", i, KO_VM_NIC_FD (i));
      A ("-device");
      /* romfile=: no PXE option ROM to load, the guest boots no network */
      A ("virtio-net-pci,netdev=net%zu,mac=%02x:%02x:%02x:%02x:%02x:%02x,"
         "romfile=",
         i, m[0], m[1], m[2], m[3], m[4], m[5]);
    }
  /* never inflated: there for free page reporting, through which the guest
   * hands back the memory it frees (the agent loads the driver once idle) */
  A ("-device");
  A ("virtio-balloon-pci,id=balloon0,free-page-reporting=on");
  A ("-qmp");
  A ("unix:%s/%s,server=on,wait=off", d, KO_QMP_SOCK);
#undef A
  return v;
}

/* In the child between fork and exec: stdio, death signal, exec. */
static void
exec_child (const char *dir, const char *logname, char **argv, const int *keep,
            size_t nkeep)
{
  sigset_t all;
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  /* if the monitor dies, the VM and virtiofsd die with it: nothing leaks */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  prctl (PR_SET_THP_DISABLE, 1, 0, 0, 0);
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", dir, logname);
  int log = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (null < 0 || log < 0)
    _exit (127);
  dup2 (null, 0);
  dup2 (log, 1);
  dup2 (log, 2);
  /* keep[i] becomes fd 3 + i: first out of that range, then into it */
  int high[KO_VM_MAX_NICS + 1];
  for (size_t i = 0; i < nkeep; i++)
    if ((high[i] = fcntl (keep[i], F_DUPFD_CLOEXEC, 3 + (int)nkeep)) < 0)
      _exit (127);
  for (size_t i = 0; i < nkeep; i++)
    if (dup2 (high[i], 3 + (int)i) < 0)
      _exit (127);
  execv (argv[0], argv);
  dprintf (2, "exec %s: %s\n", argv[0], strerror (errno));
  _exit (127);
}

/* Starts argv with keep[i] as its fd 3 + i. */
static int
spawn (const char *dir, const char *logname, char **argv, const int *keep,
       size_t nkeep, pid_t *pid, ko_error **err)
{
  pid_t p = fork ();
  if (p < 0)
    return ko_error_set (err, errno, "fork");
  if (p == 0)
    exec_child (dir, logname, argv, keep, nkeep);
  *pid = p;
  return 0;
}

int
hypervisor_start_virtiofsd (const struct ko_settings *s, const char *dir,
                            pid_t *pid, ko_error **err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if ((size_t)snprintf (sa.sun_path, sizeof sa.sun_path, "%s/%s", dir,
                        KO_VIRTIOFSD_SOCK)
      >= sizeof sa.sun_path)
    return ko_error_setx (err, ENAMETOOLONG,
                          "state dir %s is too long for a unix socket", dir);
  /* we listen ourselves and hand the socket over, so QEMU never races
   * virtiofsd's startup */
  _cleanup_close_ int lfd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0)
    return ko_error_set (err, errno, "socket");
  unlink (sa.sun_path);
  if (bind (lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen (lfd, 1) < 0)
    return ko_error_set (err, errno, "listen on %s", sa.sun_path);
  char source[4096], cache[32];
  snprintf (source, sizeof source, "source=%s/%s", dir, KO_SHARED_DIR);
  snprintf (cache, sizeof cache, "cache=%s", s->fs_cache);
  /* --rlimit-nofile=0: hosts without CAP_SYS_RESOURCE cannot raise it */
  char *argv[] = { (char *)s->virtiofsd,
                   "--fd=3",
                   "-o",
                   source,
                   "-o",
                   cache,
                   "--rlimit-nofile=0",
                   "--thread-pool-size=1",
                   NULL };
  return spawn (dir, KO_VIRTIOFSD_LOG, argv, &lfd, 1, pid, err);
}

int
hypervisor_start_qemu (const struct ko_settings *s,
                       const struct ko_vm_config *vm, pid_t *pid,
                       ko_error **err)
{
  _cleanup_strv_ char **argv = hypervisor_qemu_argv (s, vm);
  if (argv == NULL)
    return ko_error_set (err, ENOMEM, "qemu command line");
  struct ko_buf line = { 0 };
  for (char **a = argv; *a; a++)
    {
      ko_buf_append (&line, *a, strlen (*a));
      ko_buf_append (&line, a[1] ? " " : "", a[1] ? 1 : 1);
    }
  log_debug ("qemu: %s", (char *)line.data);
  ko_buf_free (&line);
  if (vm->nnics > KO_VM_MAX_NICS)
    return ko_error_setx (err, E2BIG, "more than %d network interfaces",
                          KO_VM_MAX_NICS);
  int taps[KO_VM_MAX_NICS];
  for (size_t i = 0; i < vm->nnics; i++)
    taps[i] = vm->nics[i].tap_fd;
  return spawn (vm->dir, KO_QEMU_LOG, argv, taps, vm->nnics, pid, err);
}

char *
hypervisor_log_tail (const char *dir, const char *name, int lines)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", dir, name);
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  char buf[4096];
  off_t size = lseek (fd, 0, SEEK_END);
  off_t start = size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 : 0;
  ssize_t n = pread (fd, buf, sizeof buf - 1, start);
  if (n <= 0)
    return NULL;
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
    buf[--n] = '\0';
  char *p = buf + n;
  for (int l = 0; p > buf; p--)
    if (p[-1] == '\n' && ++l == lines)
      break;
  /* one line for messages: newlines become "; " */
  char *out = malloc (strlen (p) * 2 + 1), *o = out;
  if (out == NULL)
    return NULL;
  for (; *p; p++)
    if (*p == '\r')
      continue;
    else if (*p == '\n')
      {
        *o++ = ';';
        *o++ = ' ';
      }
    else
      *o++ = *p;
  *o = '\0';
  return out;
}

static int
check_file (const char *what, const char *path, int mode, ko_error **err)
{
  if (access (path, mode) < 0)
    return ko_error_set (err, errno, "%s %s", what, path);
  return 0;
}

int
hypervisor_check_assets (const struct ko_settings *s, ko_error **err)
{
  if (s->fs_cache_bad)
    return settings_fs_cache_error ("KATA_OCI_VIRTIO_FS_CACHE", s->fs_cache_bad,
                                    err);
  if (check_file ("guest kernel", s->kernel, R_OK, err) < 0
      || check_file ("guest initrd", s->initrd, R_OK, err) < 0
      || (s->firmware
          && check_file ("guest firmware", s->firmware, R_OK, err) < 0)
      || check_file ("qemu", s->qemu, X_OK, err) < 0
      || check_file ("virtiofsd", s->virtiofsd, X_OK, err) < 0)
    return -1;
  return 0;
}
