#include "config.h"

#include "confine.h"
#include "hypervisor.h"
#include "log.h"
#include "paths.h"
#include "proto.h"
#include "unixsock.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
#define A(...) argv_add (&v, &n, __VA_ARGS__)
  A ("%s", s->qemu);
  A ("-name");
  A ("kata-oci-%s", vm->id);
  A ("-machine");
  /* without the chipset devices q35 adds by default that no guest here
   * uses (the AHCI controller, the SMBus controller, VMware's I/O port):
   * less for QEMU to allocate and for the guest to probe */
  A ("q35,sata=off,smbus=off,vmport=off");
  A ("-accel");
  /* Under TCG a smaller translation cache: QEMU's largest private
   * allocation, filled to its size by every VM (boot and agent translate
   * more than 32 MB of code). 16 MB: 16 MB less per VM than 32 for a bare
   * boot that costs about the same CPU; 8 MB saves 8 MB more but flushes
   * the cache during boot (about 30% more CPU to boot, tests/bench). */
  A ("%s", s->kvm ? "kvm" : "tcg,tb-size=16");
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
  /* console=ttyS0: kernel and agent messages go to the console log (the
   * host looks there for a panic); quiet: only warnings, each line costs
   * time on an emulated UART; panic=-1 reboot=t: a panicked guest resets at
   * once by triple fault, which -no-reboot turns into QEMU's exit.
   * agent.channel=serial: the agent skips the vsock modules (about 30 ms
   * of its boot under TCG) and looks for the port straight away.
   * Hotplugged memory comes online by itself; a one-block DIMM carries its
   * own struct pages, so it fits even when the guest's memory is all used.
   * With memory possible above 4 GiB the kernel would set aside 64 MiB of
   * bounce buffers (swiotlb), touched at boot: no device here needs them.
   * Two cuts in the boot of Debian's kernel (about 0.35 s and 0.13 s of
   * every start under TCG), both settings it leaves on for hosts where
   * they matter; the project's kernel builds neither self-tests nor
   * tracing, so both are no-ops there:
   * - cryptomgr.notests: the crypto self-tests of every algorithm built
   *   in; the guest uses none for the container (modules are unsigned,
   *   virtio-fs and the channel are not encrypted). Kata does the same.
   * - initcall_blacklist=tracer_init_tracefs: tracefs's files for every
   *   trace event (tens of thousands of inodes, also about 9 MB of slab);
   *   nothing traces the guest kernel.
   * no_timer_check: the IO-APIC timer check can fail on a vCPU that the
   * host is slow to schedule; about 1 boot in 9 panicked ("IO-APIC +
   * timer doesn't work!") with 20 VMs booting at once under TCG, none of
   * 40 with it.
   * percpu_alloc=page: percpu memory in page-sized units. With the
   * default 2 MB units, the second percpu chunk (every guest needs one)
   * comes with a 4 MB array of memory-cgroup pointers, one per 4 bytes
   * of the chunk, zeroed at boot: 4 MB less guest memory touched per VM
   * (VmallocUsed 4.3 MB -> 0.4 MB), for percpu data mapped with 4 KB
   * pages instead of one 2 MB page.
   * Two cuts under TCG only (KVM has neither cost):
   * - noreplace-smp: with one vCPU the kernel otherwise rewrites every
   *   LOCK prefix of its text to a NOP at boot, and TCG retranslates code
   *   it writes to: about 100 ms of boot for the project's kernel. The
   *   prefixes stay, which costs nothing with one vCPU under TCG.
   * - nolapic_timer with one vCPU: the kernel otherwise spends 100 ms
   *   polling the local APIC timer against the HPET to calibrate it (no
   *   TSC deadline timer under TCG); the HPET is then the tick, and one
   *   vCPU needs no broadcast. With more vCPUs each needs its own timer. */
  A ("console=ttyS0 quiet panic=-1 reboot=t cryptomgr.notests "
     "initcall_blacklist=tracer_init_tracefs no_timer_check percpu_alloc=page"
     "%s%s%s%s%s%s",
     s->kvm           ? ""
     : vm->vcpus == 1 ? " noreplace-smp nolapic_timer"
                      : " noreplace-smp",
     s->vsock ? "" : " agent.channel=serial",
     /* the agent loads virtio_net only then: no cost without a network */
     vm->nnics > 0 ? " agent.net=1" : "",
     vm->memory_slots > 0 ? " memhp_default_state=online "
                            "memory_hotplug.memmap_on_memory=1 swiotlb=noforce"
                          : "",
     *s->kernel_params ? " " : "", s->kernel_params);
  A ("-chardev");
  A ("socket,id=console,fd=%d", 3 + KO_VM_FD_CONSOLE);
  A ("-serial");
  A ("chardev:console");
  A ("-chardev");
  A ("socket,id=vfs,fd=%d", 3 + KO_VM_FD_VIRTIOFS);
  A ("-device");
  A ("vhost-user-fs-pci,chardev=vfs,tag=%s", KO_SHARE_TAG);
  if (s->vsock)
    {
      A ("-device");
      A ("vhost-vsock-pci,guest-cid=%u,vhostfd=%d", vm->vsock_cid,
         3 + KO_VM_FD_CHANNEL);
    }
  else
    {
      A ("-device");
      /* the guest driver sets up two virtqueues per possible port; port 0
       * is kept for a console, ours is port 1 */
      A ("virtio-serial-pci,id=serial0,max_ports=2");
      A ("-chardev");
      A ("socket,id=agent,fd=%d,server=on,wait=off", 3 + KO_VM_FD_CHANNEL);
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
  for (size_t i = 0; i < vm->ndisks; i++)
    {
      const struct ko_disk *d = &vm->disks[i];
      static const char *const limit[KO_THR_N]
          = { "x-bps-read", "x-bps-write", "x-iops-read", "x-iops-write" };
      /* QEMU opens nothing by path: the disk is the fd it inherits, named
       * /dev/fdset/N, opened read-only or read-write as the disk is */
      A ("-add-fd");
      A ("fd=%d,set=%zu", KO_VM_DISK_FD (vm, i), i + 1);
      /* a throttle group per disk, always there so that `update` can set
       * limits on a disk that had none */
      struct ko_buf tg = { 0 };
      char one[64];
      for (int k = 0; k < KO_THR_N; k++)
        if (d->limits[k])
          {
            int len = snprintf (one, sizeof one, ",%s=%llu", limit[k],
                                (unsigned long long)d->limits[k]);
            ko_buf_append (&tg, one, (size_t)len);
          }
      ko_buf_append (&tg, "", 1);
      A ("-object");
      A ("throttle-group,id=tg%zu%s", i, (char *)tg.data);
      ko_buf_free (&tg);
      A ("-blockdev");
      A ("driver=%s,node-name=disk%zu,filename=/dev/fdset/%zu,read-only=%s,"
         "aio=threads",
         d->blockdev ? "host_device" : "file", i, i + 1,
         d->readonly ? "on" : "off");
      A ("-blockdev");
      A ("driver=throttle,node-name=thr%zu,throttle-group=tg%zu,file=disk%zu,"
         "read-only=%s",
         i, i, i, d->readonly ? "on" : "off");
      A ("-device");
      /* the guest finds the disk by its serial (/sys/block/NAME/serial) */
      A ("virtio-blk-pci,id=blk%zu,drive=thr%zu,serial=%s", i, i, d->serial);
    }
  /* empty slots for a pod's members' disks (hotplug.c); no I/O window:
   * virtio-pci devices need none, and 4 KiB each would run out at 16 */
  for (int i = 0; i < vm->root_ports; i++)
    {
      A ("-device");
      A ("pcie-root-port,id=rp%d,bus=pcie.0,chassis=%d,io-reserve=0", i, i + 1);
    }
  /* never inflated: there for free page reporting, through which the guest
   * hands back the memory it frees (the agent loads the driver once idle) */
  A ("-device");
  A ("virtio-balloon-pci,id=balloon0,free-page-reporting=on");
  A ("-chardev");
  A ("socket,id=qmp,fd=%d,server=on,wait=off", 3 + KO_VM_FD_QMP);
  A ("-mon");
  A ("chardev=qmp,mode=control");
  A ("-sandbox");
  A ("%s", KO_QEMU_SANDBOX);
#undef A
  return v;
}

/* How a helper is started: its fds, its log, what confines it. */
struct spawn_spec
{
  char **argv;
  const int *keep; /* keep[i] becomes fd 3 + i */
  size_t nkeep;
  int log_fd; /* its stdout and stderr: a pipe the monitor drains */
  int (*confine) (const void *arg);
  const void *confine_arg;
};

#define SPAWN_MAX_KEEP (KO_VM_FIXED_FDS + KO_VM_MAX_NICS + KO_MAX_DISKS)

/* In the child between fork and exec: stdio, death signal, confinement,
 * exec. Whatever fails says so on stderr, which the monitor logs. */
static _Noreturn void
exec_child (const struct spawn_spec *sp)
{
  sigset_t all;
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  /* if the monitor dies, the VM and virtiofsd die with it: nothing leaks */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  prctl (PR_SET_THP_DISABLE, 1, 0, 0, 0);
  /* glibc gives each thread that allocates its own heap arena (QEMU's
   * vCPU thread: about 3 MB touched); one arena is shared by all: 1.3 MB
   * less PSS per idle QEMU. The monitor is single-threaded: setenv is
   * safe here. */
  setenv ("MALLOC_ARENA_MAX", "1", 1);
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0 || dup2 (null, 0) < 0 || dup2 (sp->log_fd, 1) < 0
      || dup2 (sp->log_fd, 2) < 0)
    _exit (127);
  /* keep[i] becomes fd 3 + i: first out of that range, then into it */
  int high[SPAWN_MAX_KEEP];
  for (size_t i = 0; i < sp->nkeep; i++)
    if ((high[i] = fcntl (sp->keep[i], F_DUPFD_CLOEXEC, 3 + (int)sp->nkeep))
        < 0)
      _exit (127);
  for (size_t i = 0; i < sp->nkeep; i++)
    if (dup2 (high[i], 3 + (int)i) < 0)
      _exit (127);
  if (sp->confine && sp->confine (sp->confine_arg) < 0)
    _exit (127);
  execv (sp->argv[0], sp->argv);
  dprintf (2, "exec %s: %s\n", sp->argv[0], strerror (errno));
  _exit (127);
}

static int
spawn (const struct spawn_spec *sp, pid_t *pid, ko_error **err)
{
  if (sp->nkeep > SPAWN_MAX_KEEP)
    return ko_error_setx (err, E2BIG, "too many fds for a helper");
  pid_t p = fork ();
  if (p < 0)
    return ko_error_set (err, errno, "fork");
  if (p == 0)
    exec_child (sp);
  *pid = p;
  return 0;
}

static int
log_pipe (int fds[2], ko_error **err)
{
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return ko_error_set (err, errno, "pipe");
  return 0;
}

struct virtiofsd_confinement
{
  const char *share;
  bool setid_allowed;
};

static int
virtiofsd_confine (const void *arg)
{
  const struct virtiofsd_confinement *c = arg;
  return confine_virtiofsd (c->share, c->setid_allowed);
}

int
hypervisor_start_virtiofsd (const struct ko_settings *s, const char *dir,
                            bool setid_allowed, pid_t *pid, int *log_fd,
                            ko_error **err)
{
  /* we listen ourselves and hand the socket over, so QEMU never races
   * virtiofsd's startup */
  _cleanup_close_ int lfd = ko_unix_listen (dir, KO_VIRTIOFSD_SOCK, err);
  if (lfd < 0)
    return -1;
  _cleanup_free_ char *source = NULL;
  char cache[32];
  if (asprintf (&source, "source=%s/%s", dir, KO_SHARED_DIR) < 0)
    return ko_error_set (err, ENOMEM, "virtiofsd");
  struct virtiofsd_confinement conf = { .share = source + strlen ("source="),
                                        .setid_allowed = setid_allowed };
  snprintf (cache, sizeof cache, "cache=%s", s->fs_cache);
  /* --rlimit-nofile=0: hosts without CAP_SYS_RESOURCE cannot raise it.
   * modcaps: no device nodes ever (a node on a shared directory names a
   * host device), no file capabilities; setuid/setgid bits only as its
   * seccomp filter allows (confine_virtiofsd) */
  char *argv[] = { (char *)s->virtiofsd,
                   "--fd=3",
                   "-o",
                   source,
                   "-o",
                   cache,
                   "-o",
                   setid_allowed ? "modcaps=-mknod:-setfcap"
                                 : "modcaps=-mknod:-setfcap:-fsetid",
                   "--rlimit-nofile=0",
                   "--thread-pool-size=1",
                   NULL };
  int lp[2];
  if (log_pipe (lp, err) < 0)
    return -1;
  struct spawn_spec sp = { .argv = argv,
                           .keep = &lfd,
                           .nkeep = 1,
                           .log_fd = lp[1],
                           .confine = virtiofsd_confine,
                           .confine_arg = &conf };
  int r = spawn (&sp, pid, err);
  close (lp[1]);
  if (r < 0)
    close (lp[0]);
  else
    *log_fd = lp[0];
  return r;
}

static int
qemu_confine (const void *arg)
{
  return confine_qemu (arg);
}

/* The host files QEMU reads that the jail's /usr does not hold. */
static size_t
jail_files (const struct ko_settings *s, const char **f)
{
  const char *all[]
      = { s->qemu, s->kernel, s->initrd, s->firmware, "/etc/ld.so.cache" };
  size_t n = 0;
  for (size_t i = 0; i < KO_ARRAY_SIZE (all); i++)
    if (all[i] && all[i][0] == '/' && strncmp (all[i], "/usr/", 5) != 0
        && access (all[i], F_OK) == 0)
      f[n++] = all[i];
  return n;
}

int
hypervisor_start_qemu (const struct ko_settings *s,
                       const struct ko_vm_config *vm, pid_t *pid,
                       struct ko_vm_fds *out, ko_error **err)
{
  if (vm->nnics > KO_VM_MAX_NICS)
    return ko_error_setx (err, E2BIG, "more than %d network interfaces",
                          KO_VM_MAX_NICS);
  if (vm->ndisks > KO_MAX_DISKS)
    return ko_error_setx (err, E2BIG, "more than %d disks", KO_MAX_DISKS);
  if (vm->root_ports < 0 || vm->root_ports > KO_VM_MAX_ROOT_PORTS)
    return ko_error_setx (err, E2BIG, "more than %d PCIe root ports",
                          KO_VM_MAX_ROOT_PORTS);
  _cleanup_strv_ char **argv = hypervisor_qemu_argv (s, vm);
  if (argv == NULL)
    return ko_error_set (err, ENOMEM, "qemu command line");
  struct ko_buf line = { 0 };
  for (char **a = argv; *a; a++)
    {
      ko_buf_append (&line, *a, strlen (*a));
      ko_buf_append (&line, a[1] ? " " : "", 1);
    }
  log_debug ("qemu: %s", (char *)line.data);
  ko_buf_free (&line);

  /* QEMU reaches nothing by path: every socket and device it uses is
   * handed to it, at the fds hypervisor_qemu_argv names */
  int keep[SPAWN_MAX_KEEP];
  for (size_t i = 0; i < KO_ARRAY_SIZE (keep); i++)
    keep[i] = -1;
  int console[2] = { -1, -1 }, lp[2] = { -1, -1 }, r = -1;
  keep[KO_VM_FD_CHANNEL] = s->vsock
                               ? open ("/dev/vhost-vsock", O_RDWR | O_CLOEXEC)
                               : ko_unix_listen (vm->dir, KO_AGENT_SOCK, err);
  if (keep[KO_VM_FD_CHANNEL] < 0)
    {
      if (s->vsock)
        ko_error_set (err, errno, "open /dev/vhost-vsock");
      goto out;
    }
  if ((keep[KO_VM_FD_QMP] = ko_unix_listen (vm->dir, KO_QMP_SOCK, err)) < 0
      || (keep[KO_VM_FD_VIRTIOFS]
          = ko_unix_connect (vm->dir, KO_VIRTIOFSD_SOCK, err))
             < 0)
    goto out;
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0)
    {
      ko_error_set (err, errno, "socketpair");
      goto out;
    }
  keep[KO_VM_FD_CONSOLE] = console[1];
  for (size_t i = 0; i < vm->nnics; i++)
    keep[KO_VM_NIC_FD (i) - 3] = vm->nics[i].tap_fd;
  for (size_t i = 0; i < vm->ndisks; i++)
    keep[KO_VM_DISK_FD (vm, i) - 3] = vm->disks[i].fd;
  if (log_pipe (lp, err) < 0)
    goto out;
  const char *files[8];
  struct stat kvm;
  struct ko_jail jail
      = { .uid = vm->uid,
          .gid = vm->uid,
          .extra_gid
          = s->kvm && stat ("/dev/kvm", &kvm) == 0 ? kvm.st_gid : (gid_t)-1,
          .files = files,
          .nfiles = jail_files (s, files),
          .new_net = !s->vsock,
          .kvm = s->kvm };
  struct spawn_spec sp = { .argv = argv,
                           .keep = keep,
                           .nkeep = KO_VM_FIXED_FDS + vm->nnics + vm->ndisks,
                           .log_fd = lp[1],
                           .confine = qemu_confine,
                           .confine_arg = &jail };
  if ((r = spawn (&sp, pid, err)) < 0)
    goto out;
  out->console = take_fd (console[0]);
  out->log = take_fd (lp[0]);
out:
  for (int i = 0; i < KO_VM_FIXED_FDS; i++)
    if (keep[i] >= 0)
      close (keep[i]);
  if (console[0] >= 0)
    close (console[0]);
  if (lp[0] >= 0)
    close (lp[0]);
  if (lp[1] >= 0)
    close (lp[1]);
  return r;
}

char *
hypervisor_guest_panic (const char *dir)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", dir, KO_CONSOLE_LOG);
  _cleanup_fclose_ FILE *f = fopen (path, "re");
  if (f == NULL)
    return NULL;
  char line[1024];
  char *found = NULL;
  while (fgets (line, sizeof line, f))
    {
      char *p = strstr (line, "Kernel panic - not syncing:");
      if (p == NULL)
        continue;
      p[strcspn (p, "\r\n")] = '\0';
      for (char *c = p; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
          *c = ' ';
      free (found);
      found = strdup (p);
    }
  return found;
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

int
hypervisor_check_file (const char *what, const char *path, int mode,
                       ko_error **err)
{
  if (access (path, mode) < 0)
    return ko_error_set (err, errno, "%s %s", what, path);
  /* QEMU reads the guest's images as a uid of its own (confine.h) */
  struct stat st;
  if (mode == R_OK && stat (path, &st) == 0 && !(st.st_mode & S_IROTH))
    return ko_error_setx (err, EACCES,
                          "%s %s: not readable by others (mode %04o), and "
                          "QEMU reads it as an unprivileged user of its own: "
                          "chmod o+r it",
                          what, path, (unsigned)(st.st_mode & 07777));
  return 0;
}

int
hypervisor_check_assets (const struct ko_settings *s, ko_error **err)
{
  if (s->config_error[0])
    return ko_error_setx (err, EINVAL, "%s", s->config_error);
  if (s->fs_cache_bad)
    return settings_fs_cache_error ("KATA_OCI_VIRTIO_FS_CACHE", s->fs_cache_bad,
                                    err);
  if (hypervisor_check_file ("guest kernel", s->kernel, R_OK, err) < 0
      || hypervisor_check_file ("guest initrd", s->initrd, R_OK, err) < 0
      || (s->firmware
          && hypervisor_check_file ("guest firmware", s->firmware, R_OK, err)
                 < 0)
      || hypervisor_check_file ("qemu", s->qemu, X_OK, err) < 0
      || hypervisor_check_file ("virtiofsd", s->virtiofsd, X_OK, err) < 0)
    return -1;
  return 0;
}
