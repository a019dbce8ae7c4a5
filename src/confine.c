#include "config.h"

#include "confine.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/securebits.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif

/* Says why on stderr (QEMU's and virtiofsd's log) and fails. */
static int
fail (const char *what, const char *arg)
{
  int e = errno;
  dprintf (2, "kata-oci: confining: %s%s%s: %s\n", what, arg ? " " : "",
           arg ? arg : "", strerror (e));
  errno = e;
  return -1;
}

/* ---------- virtiofsd ---------- */

struct mode_rule
{
  int nr;
  unsigned mode_arg;  /* which argument holds the mode */
  int creat_flag_arg; /* -1, or the argument whose O_CREAT makes it count */
};

static int
deny_mode_bits (scmp_filter_ctx ctx, const struct mode_rule *r,
                scmp_datum_t mask, scmp_datum_t value)
{
  struct scmp_arg_cmp c[2];
  unsigned n = 0;
  c[n++] = SCMP_CMP (r->mode_arg, SCMP_CMP_MASKED_EQ, mask, value);
  if (r->creat_flag_arg >= 0)
    c[n++] = SCMP_CMP ((unsigned)r->creat_flag_arg, SCMP_CMP_MASKED_EQ, O_CREAT,
                       O_CREAT);
  return seccomp_rule_add_array (ctx, SCMP_ACT_ERRNO (EPERM), r->nr, n, c);
}

/* A read-only view of the share's top for virtiofsd: a slave copy (the
 * monitor's later binds still propagate into it) whose top mount alone is
 * read-only; the binds beneath keep their own flags. */
static int
share_read_only (const char *share)
{
  struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV
                                      | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC };
  if (unshare (CLONE_NEWNS) < 0)
    return fail ("unshare mount namespace", NULL);
  if (mount (NULL, share, NULL, MS_SLAVE, NULL) < 0)
    return fail ("make slave", share);
  if (syscall (SYS_mount_setattr, AT_FDCWD, share, 0, &a, sizeof a) < 0)
    return fail ("make read-only", share);
  return 0;
}

int
confine_virtiofsd (const char *share, bool setid_allowed)
{
  static const struct mode_rule mknods[] = {
    { __NR_mknod, 1, -1 },
    { __NR_mknodat, 2, -1 },
  };
  static const struct mode_rule modes[] = {
    { __NR_chmod, 1, -1 },     { __NR_fchmod, 1, -1 }, { __NR_fchmodat, 2, -1 },
    { __NR_fchmodat2, 2, -1 }, { __NR_creat, 1, -1 },  { __NR_open, 2, 1 },
    { __NR_openat, 3, 2 },     { __NR_mknod, 1, -1 },  { __NR_mknodat, 2, -1 },
  };
  if (share_read_only (share) < 0)
    return -1;
  /* virtiofsd makes a file as its caller (setresuid to the guest's uid,
   * for the new file's owner), and that change would clear its effective
   * capabilities: container root in a user namespace (a uid other than 0)
   * could not create in a directory owned by another of its uids, nor in
   * its own read-only one, which the guest kernel had just allowed it
   * (CAP_DAC_OVERRIDE), as runc does. The guest kernel checks every
   * access before it asks (virtio-fs is default_permissions), and a
   * hostile guest can ask as uid 0 anyway: keeping the capabilities
   * gives the guest nothing it did not have. */
  if (prctl (PR_SET_SECUREBITS,
             SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED, 0, 0, 0)
      < 0)
    return fail ("virtiofsd's securebits", NULL);
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
  if (ctx == NULL)
    return fail ("seccomp_init", NULL);
  int r = 0;
  /* a device node on a shared directory would name a host device */
  for (size_t i = 0; r == 0 && i < KO_ARRAY_SIZE (mknods); i++)
    {
      r = deny_mode_bits (ctx, &mknods[i], S_IFMT, S_IFCHR);
      if (r == 0)
        r = deny_mode_bits (ctx, &mknods[i], S_IFMT, S_IFBLK);
    }
  for (size_t i = 0; r == 0 && !setid_allowed && i < KO_ARRAY_SIZE (modes); i++)
    {
      r = deny_mode_bits (ctx, &modes[i], S_ISUID, S_ISUID);
      if (r == 0)
        r = deny_mode_bits (ctx, &modes[i], S_ISGID, S_ISGID);
    }
  /* its flags and mode sit behind a pointer no filter can read */
  if (r == 0)
    r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), __NR_openat2, 0);
  if (r == 0)
    r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 1);
  if (r == 0)
    r = seccomp_load (ctx);
  seccomp_release (ctx);
  if (r < 0)
    {
      errno = -r;
      return fail ("virtiofsd's seccomp filter", NULL);
    }
  return 0;
}

const char *
confine_virtiofsd_summary (void)
{
  return "no device nodes and no file capabilities from the guest, setuid "
         "and setgid bits only for a container with CAP_FSETID (capabilities "
         "and a seccomp filter); the shared rootfs and volumes are nodev, "
         "nosuid, and the share's top read-only";
}

/* ---------- QEMU ---------- */

const char *
confine_qemu_summary (void)
{
  return "uid/gid of its own (1073741824 + the monitor's pid), no "
         "capabilities, no_new_privs, seccomp (-sandbox " KO_QEMU_SANDBOX
         "), private mount/IPC/UTS namespaces (network "
         "too, without vsock) "
         "with a read-only root holding /usr, device nodes of its own and the "
         "guest "
         "images, rlimits nofile 4096 nproc 1024 core 0";
}

static int
bind_fd (int fd, const char *target, unsigned long long attrs)
{
  char src[64];
  snprintf (src, sizeof src, "/proc/self/fd/%d", fd);
  if (mount (src, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return fail ("bind", target);
  struct mount_attr a = { .attr_set = attrs };
  if (attrs
      && syscall (SYS_mount_setattr, AT_FDCWD, target, AT_RECURSIVE, &a,
                  sizeof a)
             < 0)
    return fail ("mount_setattr", target);
  return 0;
}

/* mkdir -p of path's parents, relative to the jail's root (the cwd) */
static int
make_parents (const char *path)
{
  char p[4096];
  snprintf (p, sizeof p, "%s", path + (path[0] == '/'));
  for (char *s = p; *s; s++)
    if (*s == '/')
      {
        *s = '\0';
        if (mkdir (p, 0755) < 0 && errno != EEXIST)
          return fail ("mkdir", p);
        *s = '/';
      }
  return 0;
}

/* Binds the host object fd stands for at path inside the jail. */
static int
mirror (int fd, const char *path, unsigned long long attrs)
{
  struct stat st;
  if (fstat (fd, &st) < 0 || make_parents (path) < 0)
    return fail ("stat", path);
  const char *rel = path + (path[0] == '/');
  if (S_ISDIR (st.st_mode)
          ? mkdir (rel, 0755) < 0 && errno != EEXIST
          : mknod (rel, S_IFREG | 0644, 0) < 0 && errno != EEXIST)
    return fail ("create", path);
  return bind_fd (fd, rel, attrs);
}

static int
drop_bounding_set (void)
{
  for (int c = 0; prctl (PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
    if (prctl (PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
      return fail ("drop capability bounding set", NULL);
  return 0;
}

static int
clear_caps (void)
{
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2] = { { 0 } };
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0
      || syscall (SYS_capset, &h, d) < 0)
    return fail ("capset", NULL);
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return fail ("no_new_privs", NULL);
  return 0;
}

int
confine_drop_all_caps (void)
{
  return drop_bounding_set () < 0 ? -1 : clear_caps ();
}

static int
drop_privileges (const struct ko_jail *j)
{
  if (drop_bounding_set () < 0)
    return -1;
  struct rlimit nofile;
  if (getrlimit (RLIMIT_NOFILE, &nofile) == 0
      && nofile.rlim_max > KO_QEMU_NOFILE)
    {
      nofile.rlim_cur = nofile.rlim_max = KO_QEMU_NOFILE;
      setrlimit (RLIMIT_NOFILE, &nofile);
    }
  struct rlimit nproc = { KO_QEMU_NPROC, KO_QEMU_NPROC }, core = { 0, 0 };
  if (setrlimit (RLIMIT_NPROC, &nproc) < 0
      || setrlimit (RLIMIT_CORE, &core) < 0)
    return fail ("setrlimit", NULL);
  gid_t extra = j->extra_gid;
  if (setgroups (extra != (gid_t)-1 ? 1 : 0, &extra) < 0
      || setresgid (j->gid, j->gid, j->gid) < 0
      || setresuid (j->uid, j->uid, j->uid) < 0)
    return fail ("set uid/gid", NULL);
  /* the uid change emptied the permitted, effective and ambient sets;
   * this empties the inheritable one */
  if (clear_caps () < 0)
    return -1;
  /* a credential change cleared it */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  return 0;
}

/* The top-level names that lead into /usr on a merged-/usr host, or are
 * directories of their own elsewhere. */
static const char *const usr_links[]
    = { "bin", "sbin", "lib", "lib32", "lib64", "libx32" };
/* What QEMU opens in /dev: nodes of the jail's own, whatever the modes of
 * the host's (a host /dev/null left 0644 once made QEMU's image locking
 * fall back to a kind that let it attach one disk twice) ... */
static const struct
{
  const char *name;
  unsigned major, minor;
} dev_nodes[] = {
  { "dev/null", 1, 3 },
  { "dev/zero", 1, 5 },
  { "dev/urandom", 1, 9 },
  { "dev/random", 1, 8 },
};
/* ... but /dev/kvm, whose group and mode are the host's policy */
static const char *const devices[] = { "/dev/kvm" };

/* A tmpfs at the jail's /dev with the nodes above, read-only. */
static int
make_dev (void)
{
  if (mkdir ("dev", 0755) < 0
      || mount ("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC,
                "mode=0755,size=16k,nr_inodes=16")
             < 0)
    return fail ("mount the jail's /dev", NULL);
  for (size_t i = 0; i < KO_ARRAY_SIZE (dev_nodes); i++)
    if (mknod (dev_nodes[i].name, S_IFCHR | 0666,
               makedev (dev_nodes[i].major, dev_nodes[i].minor))
            < 0
        || chmod (dev_nodes[i].name, 0666) < 0)
      return fail ("mknod", dev_nodes[i].name);
  return 0;
}

int
confine_qemu (const struct ko_jail *j)
{
  int ns = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
  if (j->new_net)
    ns |= CLONE_NEWNET;
  if (unshare (ns) < 0)
    return fail ("unshare", NULL);
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return fail ("make mounts private", NULL);
  /* open everything (in the new namespace, so that it can be bound)
   * before the jail's tmpfs may cover some of it */
  int usr = open ("/usr", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (usr < 0)
    return fail ("open", "/usr");
  int top[KO_ARRAY_SIZE (usr_links)];
  char target[KO_ARRAY_SIZE (usr_links)][256];
  for (size_t i = 0; i < KO_ARRAY_SIZE (usr_links); i++)
    {
      char p[64];
      snprintf (p, sizeof p, "/%s", usr_links[i]);
      ssize_t n = readlink (p, target[i], sizeof target[i] - 1);
      target[i][n > 0 ? n : 0] = '\0';
      top[i] = n > 0 ? -1 : open (p, O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
  int dev[KO_ARRAY_SIZE (devices)];
  for (size_t i = 0; i < KO_ARRAY_SIZE (devices); i++)
    dev[i] = j->kvm ? open (devices[i], O_PATH | O_CLOEXEC) : -1;
  int *files = calloc (j->nfiles + 1, sizeof *files);
  if (files == NULL)
    return fail ("calloc", NULL);
  for (size_t i = 0; i < j->nfiles; i++)
    if ((files[i] = open (j->files[i], O_PATH | O_CLOEXEC)) < 0)
      return fail ("open", j->files[i]);

  if (mount ("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
             "mode=0755,size=64k,nr_inodes=256")
          < 0
      || chdir ("/tmp") < 0)
    return fail ("mount the jail's root", NULL);
  const unsigned long long ro
      = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (mirror (usr, "/usr", ro) < 0 || make_dev () < 0)
    return -1;
  for (size_t i = 0; i < KO_ARRAY_SIZE (usr_links); i++)
    if (target[i][0] && symlink (target[i], usr_links[i]) < 0)
      return fail ("symlink", usr_links[i]);
    else if (top[i] >= 0 && mirror (top[i], usr_links[i], ro) < 0)
      return -1;
  for (size_t i = 0; i < KO_ARRAY_SIZE (devices); i++)
    if (dev[i] >= 0
        && mirror (dev[i], devices[i], MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC)
               < 0)
      return -1;
  for (size_t i = 0; i < j->nfiles; i++)
    if (mirror (files[i], j->files[i], ro) < 0)
      return -1;
  if (mount (NULL, ".", NULL,
             MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
                 | MS_NOEXEC,
             NULL)
          < 0
      || mount (NULL, "dev", NULL,
                MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL)
             < 0
      || syscall (SYS_pivot_root, ".", ".") < 0 || umount2 (".", MNT_DETACH) < 0
      || chdir ("/") < 0)
    return fail ("enter the jail", NULL);
  return drop_privileges (j);
}
