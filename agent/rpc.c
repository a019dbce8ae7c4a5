/* The RPC handlers, the containers and processes they manage, reaping and
 * ProcessExited. */
#define _GNU_SOURCE
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "util.h"

#define DEFAULT_NAMESPACES                                                     \
  (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID)
#define ALLOWED_NAMESPACES                                                     \
  (DEFAULT_NAMESPACES | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWUSER)
#define KEEP_EXITED_EXECS 16
#define EXEC_PID_TIMEOUT_MS 10000

enum sync_kind
{
  OP_IDLE,
  OP_CREATE,
  OP_START,
  OP_EXEC
};

/* The read end of a child's close-on-exec sync pipe and the request waiting
 * on it. */
struct sync_op
{
  struct ag_watch w; /* first */
  struct container *c;
  struct proc *p;
  enum sync_kind kind;
  uint32_t req;
};

struct container
{
  struct container *next;
  char *id;
  struct proc *procs; /* newest first; the init is last */
  struct proc *init;
  int start_fd; /* write end the blocked init reads; -1 once started */
  struct sync_op *sync;
  uint64_t namespaces;
  /* identity of its namespaces, to find every process of the container */
  dev_t ns_dev;
  ino_t pidns, mntns;
  /* holds the mount namespace: when the init exits, the kernel tears it
   * down with a synchronize_rcu_expedited, between the process's stdio
   * EOF and its exit status (about 3 ms under TCG). Held, that happens
   * when the container is freed, after the status is out. */
  int mntns_fd;
  bool paused;
  uint64_t oom_kills; /* memory.events oom_kill last reported */
};

static struct container *containers;
static bool share_mounted;

static void sync_op_free (struct sync_op *op);

/* ---- helpers ---- */

static struct container *
container_find (const char *id)
{
  for (struct container *c = containers; c; c = c->next)
    if (strcmp (c->id, id) == 0)
      return c;
  return NULL;
}

static struct proc *
proc_find (struct container *c, const char *exec_id)
{
  if (exec_id == NULL)
    return c->init;
  for (struct proc *p = c->procs; p; p = p->next)
    if (p->exec_id && strcmp (p->exec_id, exec_id) == 0)
      return p;
  return NULL;
}

static void
proc_free (struct proc *p)
{
  if (p == NULL)
    return;
  stream_free (p->in);
  stream_free (p->out);
  stream_free (p->err);
  if (p->tty_fd >= 0)
    close (p->tty_fd);
  free (p->waiters);
  free (p->exec_id);
  free (p);
}

static void
proc_unlink (struct proc *p)
{
  struct container *c = p->c;
  for (struct proc **pp = &c->procs; *pp; pp = &(*pp)->next)
    if (*pp == p)
      {
        *pp = p->next;
        break;
      }
  if (c->init == p)
    c->init = NULL;
}

/* Kills what is left of a process that never started and forgets it; the
 * reaper ignores pids it does not know. */
static void
proc_abandon (struct proc *p)
{
  if (p->pid > 0 && !p->exited)
    kill (p->pid, SIGKILL);
  proc_unlink (p);
  proc_free (p);
}

static void
container_free (struct container *c)
{
  for (struct container **pp = &containers; *pp; pp = &(*pp)->next)
    if (*pp == c)
      {
        *pp = c->next;
        break;
      }
  while (c->procs)
    proc_abandon (c->procs);
  if (c->start_fd >= 0)
    close (c->start_fd);
  sync_op_free (c->sync);
  cgroup_remove (c->id);
  if (c->mntns_fd >= 0)
    close (c->mntns_fd);
  free (c->id);
  free (c);
}

static void
ns_ids (pid_t pid, dev_t *dev, ino_t *pidns, ino_t *mntns, int *mntns_fd)
{
  char p[64];
  struct stat st;
  snprintf (p, sizeof p, "/proc/%d/ns/pid", pid);
  if (stat (p, &st) == 0)
    {
      *dev = st.st_dev;
      *pidns = st.st_ino;
    }
  snprintf (p, sizeof p, "/proc/%d/ns/mnt", pid);
  *mntns_fd = open (p, O_RDONLY | O_CLOEXEC);
  if (*mntns_fd >= 0 && fstat (*mntns_fd, &st) == 0)
    *mntns = st.st_ino;
}

/* Every live process of the container: the members of its pid namespace
 * (or mount namespace when it has no pid namespace of its own). */
static size_t
container_pids (struct container *c, pid_t **out)
{
  if (cgroup_available ())
    return cgroup_pids (c->id, out);
  pid_t *v = NULL;
  size_t n = 0, cap = 0;
  bool by_pid = c->namespaces & CLONE_NEWPID;
  bool by_mnt = !by_pid && (c->namespaces & CLONE_NEWNS);
  ino_t want = by_pid ? c->pidns : c->mntns;
  DIR *d = (by_pid || by_mnt) && want ? opendir ("/proc") : NULL;
  struct dirent *e;
  while (d && (e = readdir (d)))
    {
      char *end;
      long pid = strtol (e->d_name, &end, 10);
      if (*end || pid <= 1)
        continue;
      char p[64];
      struct stat st;
      snprintf (p, sizeof p, "/proc/%ld/ns/%s", pid, by_pid ? "pid" : "mnt");
      if (stat (p, &st) < 0 || st.st_ino != want || st.st_dev != c->ns_dev)
        continue;
      if (n == cap)
        {
          cap = cap ? 2 * cap : 16;
          pid_t *nv = realloc (v, cap * sizeof *v);
          if (nv == NULL)
            break;
          v = nv;
        }
      v[n++] = (pid_t)pid;
    }
  if (d)
    closedir (d);
  if (!by_pid && !by_mnt)
    for (struct proc *p = c->procs; p; p = p->next)
      if (!p->exited && p->pid > 0)
        {
          pid_t *nv = realloc (v, (n + 1) * sizeof *v);
          if (nv == NULL)
            break;
          v = nv;
          v[n++] = p->pid;
        }
  *out = v;
  return n;
}

static void
container_kill_all (struct container *c, int sig)
{
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = container_pids (c, &pids);
  for (size_t i = 0; i < n; i++)
    kill (pids[i], sig);
  for (struct proc *p = c->procs; p; p = p->next)
    if (!p->exited && p->pid > 0)
      kill (p->pid, sig);
}

/* ---- request parsing ---- */

static int
field_str (const struct ko_field *f, char **dst, ko_error **err)
{
  char *s;
  if (ko_field_str (f, &s) < 0)
    return ko_error_setx (err, EPROTO, "field %u: bad string", f->tag);
  free (*dst);
  *dst = s;
  return 0;
}

static int
field_u32 (const struct ko_field *f, uint32_t *dst, ko_error **err)
{
  if (ko_field_u32 (f, dst) < 0)
    return ko_error_setx (err, EPROTO, "field %u: bad u32", f->tag);
  return 0;
}

static int
field_u64 (const struct ko_field *f, uint64_t *dst, ko_error **err)
{
  if (ko_field_u64 (f, dst) < 0)
    return ko_error_setx (err, EPROTO, "field %u: bad u64", f->tag);
  return 0;
}

/* Grows a vector by one zeroed element; bounded. */
static void *
vec_push (void *v, size_t *n, size_t size, ko_error **err)
{
  if (*n >= KO_MAX_STRINGS)
    {
      ko_error_setx (err, EPROTO, "too many list entries");
      return NULL;
    }
  uint8_t *nv = realloc (v, (*n + 1) * size);
  if (nv == NULL)
    {
      ko_error_set (err, ENOMEM, "request");
      return NULL;
    }
  memset (nv + *n * size, 0, size);
  (*n)++;
  return nv;
}

static int
parse_mount (const struct ko_field *f, struct ag_mount *m, ko_error **err)
{
  struct ko_tlv r = ko_field_nested (f);
  struct ko_field g;
  int n;
  while ((n = ko_tlv_next (&r, &g)) > 0)
    {
      int rc = 0;
      switch (g.tag)
        {
        case KO_TAG_M_DEST:
          rc = field_str (&g, &m->dest, err);
          break;
        case KO_TAG_M_TYPE:
          rc = field_str (&g, &m->type, err);
          break;
        case KO_TAG_M_SOURCE:
          rc = field_str (&g, &m->source, err);
          break;
        case KO_TAG_M_DATA:
          rc = field_str (&g, &m->data, err);
          break;
        case KO_TAG_M_FLAGS:
          rc = field_u64 (&g, &m->flags, err);
          break;
        case KO_TAG_M_PROPAGATION:
          rc = field_u64 (&g, &m->propagation, err);
          break;
        }
      if (rc < 0)
        return ko_error_wrap (err, "mount");
    }
  if (n < 0)
    return ko_error_setx (err, EPROTO, "mount: truncated field");
  if (m->dest == NULL)
    return ko_error_setx (err, EINVAL, "mount: no destination");
  return 0;
}

static int
parse_device (const struct ko_field *f, struct ag_device *d, ko_error **err)
{
  struct ko_tlv r = ko_field_nested (f);
  struct ko_field g;
  int n;
  while ((n = ko_tlv_next (&r, &g)) > 0)
    {
      int rc = 0;
      switch (g.tag)
        {
        case KO_TAG_D_TYPE:
          rc = field_u32 (&g, &d->type, err);
          break;
        case KO_TAG_D_PATH:
          rc = field_str (&g, &d->path, err);
          break;
        case KO_TAG_D_MAJOR:
          rc = field_u64 (&g, &d->major, err);
          break;
        case KO_TAG_D_MINOR:
          rc = field_u64 (&g, &d->minor, err);
          break;
        case KO_TAG_D_MODE:
          rc = field_u32 (&g, &d->mode, err);
          d->has_mode = true;
          break;
        case KO_TAG_D_UID:
          rc = field_u32 (&g, &d->uid, err);
          d->has_uid = true;
          break;
        case KO_TAG_D_GID:
          rc = field_u32 (&g, &d->gid, err);
          d->has_gid = true;
          break;
        }
      if (rc < 0)
        return ko_error_wrap (err, "device");
    }
  if (n < 0)
    return ko_error_setx (err, EPROTO, "device: truncated field");
  if (d->path == NULL)
    return ko_error_setx (err, EINVAL, "device: no path");
  return 0;
}

static int
parse_kv (const struct ko_field *f, struct ag_kv *kv, ko_error **err)
{
  struct ko_tlv r = ko_field_nested (f);
  struct ko_field g;
  int n;
  while ((n = ko_tlv_next (&r, &g)) > 0)
    {
      if (g.tag == KO_TAG_KEY && field_str (&g, &kv->key, err) < 0)
        return -1;
      if (g.tag == KO_TAG_VALUE && field_str (&g, &kv->value, err) < 0)
        return -1;
    }
  if (n < 0 || kv->key == NULL)
    return ko_error_setx (err, EPROTO, "sysctl: bad entry");
  return 0;
}

static int
push_id_map (const struct ko_field *f, struct ko_id_map *v, size_t *n,
             ko_error **err)
{
  if (*n >= KO_MAX_ID_MAPS)
    return ko_error_setx (err, EPROTO, "%s map: more than %d lines",
                          f->tag == KO_TAG_UID_MAP ? "uid" : "gid",
                          KO_MAX_ID_MAPS);
  if (ko_id_map_decode (f, &v[*n], err) < 0)
    return -1;
  (*n)++;
  return 0;
}

static int
push_str (const struct ko_field *f, char ***v, size_t *n, ko_error **err)
{
  char **nv = vec_push (*v, n, sizeof **v, err);
  if (nv == NULL)
    return -1;
  *v = nv;
  return field_str (f, &nv[*n - 1], err);
}

void
ag_container_spec_clear (struct ag_container_spec *s)
{
  free (s->id);
  free (s->rootfs);
  free (s->hostname);
  free (s->domainname);
  for (size_t i = 0; i < s->nmounts; i++)
    {
      free (s->mounts[i].dest);
      free (s->mounts[i].type);
      free (s->mounts[i].source);
      free (s->mounts[i].data);
    }
  free (s->mounts);
  for (size_t i = 0; i < s->nmasked; i++)
    free (s->masked[i]);
  free (s->masked);
  for (size_t i = 0; i < s->nreadonly; i++)
    free (s->readonly[i]);
  free (s->readonly);
  for (size_t i = 0; i < s->nsysctls; i++)
    {
      free (s->sysctls[i].key);
      free (s->sysctls[i].value);
    }
  free (s->sysctls);
  for (size_t i = 0; i < s->ndevices; i++)
    free (s->devices[i].path);
  free (s->devices);
  ko_process_clear (&s->proc);
  memset (s, 0, sizeof *s);
}

static void
spec_cleanup (struct ag_container_spec *s)
{
  ag_container_spec_clear (s);
}

/* Fields shared by every request that names a process. */
struct target
{
  char *container_id, *exec_id;
  uint32_t signal, all, rows, cols;
  bool has_signal;
};

static void
target_cleanup (struct target *t)
{
  free (t->container_id);
  free (t->exec_id);
}

static int
parse_target (struct ko_tlv body, struct target *t, ko_error **err)
{
  struct ko_field f;
  int n;
  while ((n = ko_tlv_next (&body, &f)) > 0)
    {
      int rc = 0;
      switch (f.tag)
        {
        case KO_TAG_CONTAINER_ID:
          rc = field_str (&f, &t->container_id, err);
          break;
        case KO_TAG_EXEC_ID:
          rc = field_str (&f, &t->exec_id, err);
          break;
        case KO_TAG_SIGNAL:
          rc = field_u32 (&f, &t->signal, err);
          t->has_signal = true;
          break;
        case KO_TAG_ALL:
          rc = field_u32 (&f, &t->all, err);
          break;
        case KO_TAG_ROWS:
          rc = field_u32 (&f, &t->rows, err);
          break;
        case KO_TAG_COLS:
          rc = field_u32 (&f, &t->cols, err);
          break;
        }
      if (rc < 0)
        return -1;
    }
  if (n < 0)
    return ko_error_setx (err, EPROTO, "truncated field");
  if (t->container_id == NULL)
    return ko_error_setx (err, EINVAL, "no container id");
  return 0;
}

static int
find_target (const struct target *t, struct container **c, struct proc **p,
             ko_error **err)
{
  *c = container_find (t->container_id);
  if (*c == NULL)
    return ko_error_setx (err, ENOENT, "container %s does not exist",
                          t->container_id);
  *p = proc_find (*c, t->exec_id);
  if (*p == NULL)
    return t->exec_id
               ? ko_error_setx (err, ENOENT,
                                "exec %s of container %s does not "
                                "exist",
                                t->exec_id, t->container_id)
               : ko_error_setx (err, ENOENT, "container %s has no init process",
                                t->container_id);
  return 0;
}

/* ---- stdio ---- */

struct stdio_setup
{
  struct ag_stdio io;
  int close_after[4]; /* the child's ends, closed once it is forked */
};

static void
stdio_setup_cleanup (struct stdio_setup *s)
{
  for (int i = 0; i < 4; i++)
    if (s->close_after[i] >= 0)
      close (s->close_after[i]);
}

static int
check_stream_ids (const struct ko_process *kp, ko_error **err)
{
  uint32_t ids[3] = { kp->stdin_stream, kp->stdout_stream, kp->stderr_stream };
  for (int i = 0; i < 3; i++)
    {
      if (ids[i] == 0)
        continue;
      if (stream_id_in_use (ids[i]))
        return ko_error_setx (err, EEXIST, "stream %u is already in use",
                              ids[i]);
      if (i == 0 && (ids[0] == ids[1] || ids[0] == ids[2]))
        return ko_error_setx (err, EINVAL, "stream %u is both input and output",
                              ids[0]);
    }
  return 0;
}

/* A process's output pipe holds OUTPUT_PIPE_SIZE: a writer of large blocks
 * (dd bs=1M) then hands over a whole block at once instead of waking the
 * agent every 64 KiB; under TCG each switch flushes the soft TLB. A 256 MiB
 * dd then ran in 5.1 s instead of 5.8 s, boot included. The pages are only used
 * while the host reads slower than the process writes, and are charged to the
 * process. */
#define OUTPUT_PIPE_SIZE (1 << 20)

static void
grow_pipe (int fd)
{
  if (fcntl (fd, F_SETPIPE_SZ, OUTPUT_PIPE_SIZE) < 0)
    ag_dbg ("output pipe of %d bytes: %s", OUTPUT_PIPE_SIZE, strerror (errno));
}

/* Creates pipes or a pty for kp and the streams that serve them (not yet
 * active). */
static int
stdio_prepare (const struct ko_process *kp, struct proc *p,
               struct stdio_setup *s, ko_error **err)
{
  for (int i = 0; i < 4; i++)
    s->close_after[i] = -1;
  for (int i = 0; i < 3; i++)
    s->io.fd[i] = ag_devnull;
  s->io.tty = kp->terminal;
  if (check_stream_ids (kp, err) < 0)
    return -1;

  if (kp->terminal)
    {
      if (kp->stdout_stream == 0)
        return ko_error_setx (err, EINVAL, "a terminal needs a stdout stream");
      int master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
      if (master < 0)
        return ag_error_set (err, errno, "open /dev/ptmx");
      p->tty_fd = master;
      int unlock = 0;
      if (ioctl (master, TIOCSPTLCK, &unlock) < 0)
        return ag_error_set (err, errno, "unlock the pty");
      int slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
      if (slave < 0)
        return ag_error_set (err, errno, "open the pty slave");
      s->close_after[0] = slave;
      if (kp->rows || kp->cols)
        {
          struct winsize ws = { .ws_row = kp->rows, .ws_col = kp->cols };
          ioctl (master, TIOCSWINSZ, &ws);
        }
      for (int i = 0; i < 3; i++)
        s->io.fd[i] = slave;
      int o = fcntl (master, F_DUPFD_CLOEXEC, 3);
      if (o < 0
          || !(p->out = stream_new (kp->stdout_stream, STREAM_OUT, o, p, true)))
        return ag_error_set (err, errno ? errno : ENOMEM, "stdout stream");
      if (kp->stdin_stream)
        {
          int i = fcntl (master, F_DUPFD_CLOEXEC, 3);
          if (i < 0
              || !(p->in
                   = stream_new (kp->stdin_stream, STREAM_IN, i, p, true)))
            return ag_error_set (err, errno ? errno : ENOMEM, "stdin stream");
        }
      return 0;
    }

  int fds[2];
  if (kp->stdin_stream)
    {
      if (pipe2 (fds, O_CLOEXEC) < 0)
        return ag_error_set (err, errno, "pipe");
      s->close_after[0] = fds[0];
      s->io.fd[0] = fds[0];
      if (!(p->in = stream_new (kp->stdin_stream, STREAM_IN, fds[1], p, false)))
        {
          close (fds[1]);
          return ag_error_set (err, ENOMEM, "stdin stream");
        }
    }
  if (kp->stdout_stream)
    {
      if (pipe2 (fds, O_CLOEXEC) < 0)
        return ag_error_set (err, errno, "pipe");
      s->close_after[1] = fds[1];
      s->io.fd[1] = fds[1];
      if (kp->stderr_stream == kp->stdout_stream)
        s->io.fd[2] = fds[1];
      grow_pipe (fds[0]);
      if (!(p->out
            = stream_new (kp->stdout_stream, STREAM_OUT, fds[0], p, false)))
        {
          close (fds[0]);
          return ag_error_set (err, ENOMEM, "stdout stream");
        }
    }
  if (kp->stderr_stream && kp->stderr_stream != kp->stdout_stream)
    {
      if (pipe2 (fds, O_CLOEXEC) < 0)
        return ag_error_set (err, errno, "pipe");
      s->close_after[2] = fds[1];
      s->io.fd[2] = fds[1];
      grow_pipe (fds[0]);
      if (!(p->err
            = stream_new (kp->stderr_stream, STREAM_OUT, fds[0], p, false)))
        {
          close (fds[0]);
          return ag_error_set (err, ENOMEM, "stderr stream");
        }
    }
  return 0;
}

static void
proc_activate_streams (struct proc *p)
{
  if (p->in)
    stream_activate (p->in);
  if (p->out)
    stream_activate (p->out);
  if (p->err)
    stream_activate (p->err);
}

static void
reply_pid (uint32_t req, pid_t pid)
{
  struct ko_buf b = { 0 };
  ko_tlv_put_u32 (&b, KO_TAG_PID, (uint32_t)pid);
  channel_send_reply (req, &b);
  ko_buf_free (&b);
}

static void
reply_ok (uint32_t req)
{
  channel_send_reply (req, NULL);
}

static void
reply_status (uint32_t req, int status)
{
  struct ko_buf b = { 0 };
  ko_tlv_put_u32 (&b, KO_TAG_STATUS, (uint32_t)status);
  channel_send_reply (req, &b);
  ko_buf_free (&b);
}

static void
reply_errorx (uint32_t req, int status, const char *msg)
{
  ko_error e = { .status = status, .msg = (char *)msg };
  channel_send_error (req, &e);
}

/* ---- the sync pipe ---- */

/* Reads one message. Returns its type, 0 at EOF, -1 on a broken message. */
static int
sync_read (int fd, ko_error **err, pid_t *pid)
{
  uint8_t h[3];
  ssize_t n;
  do
    n = read (fd, h, sizeof h);
  while (n < 0 && errno == EINTR);
  if (n == 0)
    return 0;
  if (n != (ssize_t)sizeof h)
    return -1;
  size_t len = h[1] | (size_t)h[2] << 8;
  uint8_t buf[SYNC_MSG_MAX];
  if (len > sizeof buf || (len && read (fd, buf, len) != (ssize_t)len))
    return -1;
  uint32_t v = 0;
  if (len >= 4)
    v = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16
        | (uint32_t)buf[3] << 24;
  if (h[0] == SYNC_ERROR)
    ko_error_setx (err, (int)v, "%.*s", (int)(len >= 4 ? len - 4 : 0),
                   (const char *)buf + 4);
  if (h[0] == SYNC_PID)
    *pid = (pid_t)v;
  return h[0];
}

static void
sync_op_free (struct sync_op *op)
{
  if (op == NULL)
    return;
  if (op->c && op->c->sync == op)
    op->c->sync = NULL;
  ag_watch_close (&op->w);
  free (op);
}

static void
on_sync (struct ag_watch *w, uint32_t events)
{
  struct sync_op *op = (struct sync_op *)w;
  struct container *c = op->c;
  struct proc *p = op->p;
  _cleanup_error_ ko_error *err = NULL;
  pid_t pid = 0;
  int t = sync_read (w->fd, &err, &pid);
  if (t == SYNC_READY && op->kind == OP_CREATE)
    {
      ag_dbg ("container %s created, pid %d", c->id, p->pid);
      op->kind = OP_IDLE;
      proc_activate_streams (p);
      reply_pid (op->req, p->pid);
      return;
    }
  if (t == SYNC_ERROR)
    {
      enum sync_kind kind = op->kind;
      op->kind = OP_IDLE;
      if (kind == OP_IDLE)
        {
          ag_log ("container %s: %s", c->id, err->msg);
          return;
        }
      channel_send_error (op->req, err);
      if (kind == OP_CREATE)
        container_free (c); /* frees op */
      else if (kind == OP_EXEC)
        {
          proc_abandon (p);
          sync_op_free (op);
        }
      return;
    }
  if (t > 0)
    return; /* a message out of place: ignore */

  /* EOF (or a broken message): the child exec'd or died */
  switch (op->kind)
    {
    case OP_CREATE:
      reply_errorx (op->req, ECHILD, "container init exited during setup");
      container_free (c);
      return;
    case OP_START:
      ag_dbg ("container %s started", c->id);
      reply_ok (op->req);
      break;
    case OP_EXEC:
      ag_dbg ("exec %s started, pid %d", p->exec_id, p->pid);
      proc_activate_streams (p);
      reply_pid (op->req, p->pid);
      break;
    case OP_IDLE:
      break;
    }
  sync_op_free (op);
}

static struct sync_op *
sync_op_new (struct container *c, struct proc *p, int fd, enum sync_kind kind,
             uint32_t req)
{
  struct sync_op *op = calloc (1, sizeof *op);
  if (op == NULL)
    return NULL;
  op->c = c;
  op->p = p;
  op->kind = kind;
  op->req = req;
  ag_watch_init (&op->w, fd, on_sync);
  ag_watch_set (&op->w, EPOLLIN);
  return op;
}

static struct proc *
proc_new (struct container *c)
{
  struct proc *p = calloc (1, sizeof *p);
  if (p == NULL)
    return NULL;
  p->c = c;
  p->tty_fd = -1;
  p->next = c->procs;
  c->procs = p;
  return p;
}

/* ---- ProcessExited ---- */

static void
prune_execs (struct container *c)
{
  size_t kept = 0;
  for (struct proc **pp = &c->procs; *pp;)
    {
      struct proc *p = *pp;
      if (p->exec_id && p->reported && ++kept > KEEP_EXITED_EXECS)
        {
          *pp = p->next;
          proc_free (p);
          continue;
        }
      pp = &p->next;
    }
}

void
proc_check_done (struct proc *p)
{
  if (!p->exited || p->reported || p->failed)
    return;
  if (p->exec_id)
    {
      /* as with runc, exec ends when its process does: a background child
       * holding stdout must not keep it (and podman exec) waiting. What
       * the process wrote is in the pipe (or pty) now; send that, then EOF.
       * The init needs none of this: its pid namespace dies with it. */
      stream_end_after_pending (p->out);
      stream_end_after_pending (p->err);
      if (p->reported)
        return; /* an EOF just now reported it */
    }
  if ((p->out && !p->out->eof) || (p->err && !p->err->eof))
    return;
  p->reported = true;
  struct ko_buf b = { 0 };
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, p->c->id);
  ko_tlv_put_str (&b, KO_TAG_EXEC_ID, p->exec_id);
  ko_tlv_put_u32 (&b, KO_TAG_PID, (uint32_t)p->pid);
  ko_tlv_put_u32 (&b, KO_TAG_STATUS, (uint32_t)p->status);
  channel_send_event (KO_E_PROCESS_EXITED, &b);
  ko_buf_free (&b);
  ag_dbg ("%s %s exited, status 0x%x", p->exec_id ? "exec" : "container",
          p->exec_id ? p->exec_id : p->c->id, p->status);
  for (size_t i = 0; i < p->nwaiters; i++)
    reply_status (p->waiters[i], p->status);
  free (p->waiters);
  p->waiters = NULL;
  p->nwaiters = 0;
  stream_free (p->in);
  stream_free (p->out);
  stream_free (p->err);
  p->in = p->out = p->err = NULL;
  if (p->tty_fd >= 0)
    close (p->tty_fd);
  p->tty_fd = -1;
  prune_execs (p->c);
}

static struct proc *
proc_by_pid (pid_t pid)
{
  for (struct container *c = containers; c; c = c->next)
    for (struct proc *p = c->procs; p; p = p->next)
      if (p->pid == pid && !p->exited)
        return p;
  return NULL;
}

/* OOM when the group's oom_kill count grew since the last look. */
static void
container_check_oom (struct container *c)
{
  uint64_t n = cgroup_oom_kills (c->id);
  if (n <= c->oom_kills)
    return;
  c->oom_kills = n;
  struct ko_buf b = { 0 };
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, c->id);
  channel_send_event (KO_E_OOM, &b);
  ko_buf_free (&b);
  ag_dbg ("container %s: OOM kill (%llu so far)", c->id, (unsigned long long)n);
}

void
rpc_check_oom (void)
{
  for (struct container *c = containers; c; c = c->next)
    container_check_oom (c);
}

void
rpc_on_sigchld (void)
{
  for (;;)
    {
      int st;
      pid_t pid = waitpid (-1, &st, WNOHANG | __WALL);
      if (pid <= 0)
        break;
      struct proc *p = proc_by_pid (pid);
      if (p == NULL)
        continue; /* an exec helper, an abandoned child, an orphan */
      p->exited = true;
      p->status = st;
      struct container *c = p->c;
      /* the kernel counts an OOM kill before it sends the SIGKILL: report
       * it before the exit */
      if (WIFSIGNALED (st) && WTERMSIG (st) == SIGKILL)
        container_check_oom (c);
      if (p == c->init)
        {
          /* the kernel empties a pid namespace whose init dies; without
           * one, the agent does */
          container_kill_all (c, SIGKILL);
          if (c->start_fd >= 0)
            close (c->start_fd);
          c->start_fd = -1;
        }
      proc_check_done (p);
    }
}

/* ---- handlers ---- */

/* Read-ahead on the share, in KiB. The default 128 KiB took 15 round
 * trips to virtiofsd (about 60 ms under TCG) to exec a 2 MB static
 * busybox, page fault by page fault; 2 MiB takes 6. */
#define SHARE_READAHEAD_KB "2048"

static void
share_readahead (void)
{
  struct stat st;
  if (stat (KO_GUEST_SHARE_DIR, &st) < 0)
    return;
  char p[96];
  snprintf (p, sizeof p, "/sys/class/bdi/%u:%u/read_ahead_kb",
            major (st.st_dev), minor (st.st_dev));
  if (ag_write_str (p, SHARE_READAHEAD_KB) < 0)
    ag_log ("%s: %s", p, strerror (errno)); /* only slower */
}

static int
create_sandbox (struct ko_tlv body, struct ko_buf *reply, ko_error **err)
{
  _cleanup_free_ char *hostname = NULL;
  _cleanup_free_ char *tag = NULL;
  struct ko_field f;
  int n;
  while ((n = ko_tlv_next (&body, &f)) > 0)
    {
      if (f.tag == KO_TAG_HOSTNAME && field_str (&f, &hostname, err) < 0)
        return -1;
      if (f.tag == KO_TAG_SHARE_TAG && field_str (&f, &tag, err) < 0)
        return -1;
    }
  if (n < 0)
    return ko_error_setx (err, EPROTO, "truncated field");
  if (hostname && sethostname (hostname, strlen (hostname)) < 0)
    return ag_error_set (err, errno, "sethostname %s", hostname);
  if (tag && !share_mounted)
    {
      if (ko_mkdir_p (KO_GUEST_SHARE_DIR, 0755) < 0)
        return ag_error_set (err, errno, "mkdir %s", KO_GUEST_SHARE_DIR);
      if (mount (tag, KO_GUEST_SHARE_DIR, "virtiofs", MS_NODEV, NULL) < 0)
        return ag_error_set (err, errno, "mount virtio-fs %s on %s", tag,
                             KO_GUEST_SHARE_DIR);
      share_mounted = true;
      share_readahead ();
    }
  return 0;
}

static int
parse_container (struct ko_tlv body, struct ag_container_spec *s,
                 ko_error **err)
{
  struct ko_field f;
  int n;
  bool has_proc = false;
  s->namespaces = DEFAULT_NAMESPACES;
  while ((n = ko_tlv_next (&body, &f)) > 0)
    {
      int rc = 0;
      uint32_t u;
      switch (f.tag)
        {
        case KO_TAG_CONTAINER_ID:
          rc = field_str (&f, &s->id, err);
          break;
        case KO_TAG_ROOTFS:
          rc = field_str (&f, &s->rootfs, err);
          break;
        case KO_TAG_HOSTNAME:
          rc = field_str (&f, &s->hostname, err);
          break;
        case KO_TAG_DOMAINNAME:
          rc = field_str (&f, &s->domainname, err);
          break;
        case KO_TAG_ROOT_READONLY:
          rc = field_u32 (&f, &u, err);
          s->root_readonly = u != 0;
          break;
        case KO_TAG_NAMESPACES:
          rc = field_u64 (&f, &s->namespaces, err);
          break;
        case KO_TAG_ROOTFS_PROPAGATION:
          rc = field_u64 (&f, &s->rootfs_propagation, err);
          break;
        case KO_TAG_PERSONALITY:
          rc = field_u32 (&f, &s->personality, err);
          s->has_personality = true;
          break;
        case KO_TAG_PROCESS:
          if (has_proc)
            return ko_error_setx (err, EPROTO, "two processes");
          rc = ko_process_decode (&f, &s->proc, err);
          has_proc = rc == 0;
          break;
        case KO_TAG_MOUNT:
          {
            struct ag_mount *v
                = vec_push (s->mounts, &s->nmounts, sizeof *v, err);
            if (v == NULL)
              return -1;
            s->mounts = v;
            s->has_mounts = true;
            rc = parse_mount (&f, &v[s->nmounts - 1], err);
            break;
          }
        case KO_TAG_DEVICE:
          {
            struct ag_device *v
                = vec_push (s->devices, &s->ndevices, sizeof *v, err);
            if (v == NULL)
              return -1;
            s->devices = v;
            rc = parse_device (&f, &v[s->ndevices - 1], err);
            break;
          }
        case KO_TAG_SYSCTL:
          {
            struct ag_kv *v
                = vec_push (s->sysctls, &s->nsysctls, sizeof *v, err);
            if (v == NULL)
              return -1;
            s->sysctls = v;
            rc = parse_kv (&f, &v[s->nsysctls - 1], err);
            break;
          }
        case KO_TAG_MASKED_PATH:
          rc = push_str (&f, &s->masked, &s->nmasked, err);
          break;
        case KO_TAG_READONLY_PATH:
          rc = push_str (&f, &s->readonly, &s->nreadonly, err);
          break;
        case KO_TAG_UID_MAP:
          rc = push_id_map (&f, s->uid_map, &s->nuid_map, err);
          break;
        case KO_TAG_GID_MAP:
          rc = push_id_map (&f, s->gid_map, &s->ngid_map, err);
          break;
        }
      if (rc < 0)
        return -1;
    }
  if (n < 0)
    return ko_error_setx (err, EPROTO, "truncated field");
  if (s->id == NULL || *s->id == '\0')
    return ko_error_setx (err, EINVAL, "no container id");
  if (!has_proc)
    return ko_error_setx (err, EINVAL, "no process");
  if (s->rootfs == NULL || !ag_relpath_ok (s->rootfs))
    return ko_error_setx (err, EINVAL,
                          "rootfs %s: must be a path inside the share",
                          s->rootfs ? s->rootfs : "(none)");
  /* the init mounts and pivots: never in the agent's own mount namespace */
  s->namespaces |= CLONE_NEWNS;
  if (s->namespaces & ~(uint64_t)ALLOWED_NAMESPACES)
    return ko_error_setx (err, EINVAL, "unsupported namespaces 0x%llx",
                          (unsigned long long)s->namespaces
                              & ~(unsigned long long)ALLOWED_NAMESPACES);
  if (!(s->namespaces & CLONE_NEWUSER))
    {
      /* The VM is the container's network namespace, as in Kata: it holds
       * nothing else, and the guest's has no device but lo (down), like a
       * new one. A new one costs about 15 ms of the start under TCG. Not
       * in a user namespace: only in a network namespace that namespace
       * owns can the container mount its own sysfs. */
      s->namespaces &= ~(uint64_t)CLONE_NEWNET;
      if (s->nuid_map || s->ngid_map)
        return ko_error_setx (err, EINVAL, "id maps without a user namespace");
      return 0;
    }
  if (s->nuid_map == 0 || s->ngid_map == 0)
    return ko_error_setx (err, EINVAL,
                          "a user namespace needs a uid and a gid map");
  if (ko_id_maps_check (s->uid_map, s->nuid_map, "uid map", err) < 0
      || ko_id_maps_check (s->gid_map, s->ngid_map, "gid map", err) < 0)
    return -1;
  return 0;
}

static int
write_id_map (pid_t pid, const char *file, const struct ko_id_map *v, size_t n,
              ko_error **err)
{
  char path[64], text[KO_MAX_ID_MAPS * 33 + 1];
  snprintf (path, sizeof path, "/proc/%d/%s", (int)pid, file);
  int len = ag_id_map_format (v, n, text, sizeof text);
  if (len < 0)
    return ko_error_setx (err, EINVAL, "%s: too long", file);
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, text, (size_t)len) != len)
    return ag_error_set (err, errno, "write %s", path);
  return 0;
}

/* What the agent does for the init before letting it set itself up: its id
 * maps (written by us, the privileged parent, so setgroups stays allowed,
 * as with runc), the limits it could no longer raise inside a user
 * namespace, and last its cgroup, so that an earlier failure leaves the
 * group empty for container_free to remove. */
static int
init_prepare (const struct ag_container_spec *s, pid_t pid, bool in_group,
              ko_error **err)
{
  if ((s->namespaces & CLONE_NEWUSER)
      && (write_id_map (pid, "uid_map", s->uid_map, s->nuid_map, err) < 0
          || write_id_map (pid, "gid_map", s->gid_map, s->ngid_map, err) < 0))
    return -1;
  if (ag_set_limits (pid, &s->proc, err) < 0)
    return -1;
  return in_group ? 0 : cgroup_enter (s->id, pid, err);
}

/* Applies every RESOURCES field of body to the group of id. */
static int
apply_resources (const char *id, struct ko_tlv body, ko_error **err)
{
  struct ko_field f;
  while (ko_tlv_next (&body, &f) > 0)
    if (f.tag == KO_TAG_RESOURCES && cgroup_apply (id, &f, err) < 0)
      return -1;
  return 0;
}

static int
create_container (uint32_t req, struct ko_tlv body, ko_error **err)
{
  __attribute__ ((cleanup (spec_cleanup))) struct ag_container_spec spec
      = { 0 };
  if (parse_container (body, &spec, err) < 0)
    return -1;
  struct container *old = container_find (spec.id);
  if (old)
    {
      if (old->init && !old->init->reported)
        return ko_error_setx (err, EEXIST, "container %s already exists",
                              spec.id);
      container_free (old);
    }
  if (!share_mounted)
    return ko_error_setx (err, ENOENT,
                          "rootfs %s: the share is not mounted "
                          "(CreateSandbox first)",
                          spec.rootfs);
  _cleanup_free_ char *rootfs = NULL;
  struct stat st;
  if (asprintf (&rootfs, "%s/%s", KO_GUEST_SHARE_DIR, spec.rootfs) < 0)
    return ag_error_set (err, ENOMEM, "rootfs");
  if (stat (rootfs, &st) < 0)
    return ag_error_set (err, errno, "rootfs %s", spec.rootfs);
  if (!S_ISDIR (st.st_mode))
    return ag_error_set (err, ENOTDIR, "rootfs %s", spec.rootfs);

  if (cgroup_create (spec.id, err) < 0)
    return -1;
  /* limits first: the group is still empty, nothing runs unconstrained */
  if (apply_resources (spec.id, body, err) < 0)
    {
      cgroup_remove (spec.id);
      return -1;
    }
  struct container *c = calloc (1, sizeof *c);
  if (c == NULL || (c->id = strdup (spec.id)) == NULL)
    {
      free (c);
      cgroup_remove (spec.id);
      return ag_error_set (err, ENOMEM, "container");
    }
  c->oom_kills = cgroup_oom_kills (c->id);
  cgroup_watch_oom (c->id);
  c->start_fd = -1;
  c->mntns_fd = -1;
  c->namespaces = spec.namespaces;
  c->next = containers;
  containers = c;

  struct proc *p = proc_new (c);
  if (p == NULL)
    {
      container_free (c);
      return ag_error_set (err, ENOMEM, "container");
    }
  c->init = p;
  __attribute__ ((cleanup (stdio_setup_cleanup))) struct stdio_setup io;
  int syncp[2] = { -1, -1 }, startp[2] = { -1, -1 };
  if (stdio_prepare (&spec.proc, p, &io, err) < 0
      || pipe2 (syncp, O_CLOEXEC) < 0 || pipe2 (startp, O_CLOEXEC) < 0)
    {
      if (!*err)
        ag_error_set (err, errno, "pipe");
      for (int i = 0; i < 2; i++)
        {
          if (syncp[i] >= 0)
            close (syncp[i]);
          if (startp[i] >= 0)
            close (startp[i]);
        }
      container_free (c);
      return -1;
    }
  io.close_after[3] = syncp[1];
  c->start_fd = startp[1];

  /* the init unshares its cgroup namespace itself, once in its group */
  bool in_group;
  pid_t pid
      = ag_clone_into ((spec.namespaces & ~(uint64_t)CLONE_NEWCGROUP) | SIGCHLD,
                       spec.id, &in_group);
  if (pid == 0)
    spawn_container_init (&spec, &io.io, syncp[1], startp[0]);
  int saved = errno;
  close (startp[0]);
  if (pid < 0)
    {
      close (syncp[0]);
      container_free (c);
      return ag_error_set (err, saved, "clone");
    }
  p->pid = pid;
  if (init_prepare (&spec, pid, in_group, err) < 0
      || write (c->start_fd, "", 1) != 1)
    {
      if (!*err)
        ag_error_set (err, errno, "start the container init");
      close (syncp[0]);
      container_free (c); /* kills the init */
      return -1;
    }
  ns_ids (pid, &c->ns_dev, &c->pidns, &c->mntns, &c->mntns_fd);
  c->sync = sync_op_new (c, p, syncp[0], OP_CREATE, req);
  if (c->sync == NULL)
    {
      close (syncp[0]);
      container_free (c);
      return ag_error_set (err, ENOMEM, "container");
    }
  return 0; /* the reply comes from on_sync */
}

static int
start_container (uint32_t req, struct ko_tlv body, ko_error **err)
{
  __attribute__ ((cleanup (target_cleanup))) struct target t = { 0 };
  struct container *c;
  struct proc *p;
  if (parse_target (body, &t, err) < 0)
    return -1;
  free (t.exec_id);
  t.exec_id = NULL;
  if (find_target (&t, &c, &p, err) < 0)
    return -1;
  if (c->start_fd < 0)
    return ko_error_setx (err, EINVAL,
                          p->exited ? "container %s has exited"
                                    : "container %s is already started",
                          c->id);
  if (c->sync && c->sync->kind != OP_IDLE)
    return ko_error_setx (err, EBUSY, "container %s is busy", c->id);
  char b = 1;
  ssize_t n = write (c->start_fd, &b, 1);
  close (c->start_fd);
  c->start_fd = -1;
  if (n != 1)
    return ag_error_set (err, errno, "start container %s", c->id);
  if (c->sync == NULL)
    {
      reply_ok (req);
      return 0;
    }
  c->sync->kind = OP_START;
  c->sync->req = req;
  return 0; /* the reply comes from on_sync */
}

static int
exec_process (uint32_t req, struct ko_tlv body, ko_error **err)
{
  __attribute__ ((cleanup (target_cleanup))) struct target t = { 0 };
  struct ko_process kp = { 0 };
  bool has_proc = false;
  struct ko_field f;
  int n;
  struct ko_tlv scan = body;
  while ((n = ko_tlv_next (&scan, &f)) > 0)
    if (f.tag == KO_TAG_PROCESS && !has_proc)
      {
        if (ko_process_decode (&f, &kp, err) < 0)
          return -1;
        has_proc = true;
      }
  if (parse_target (body, &t, err) < 0)
    goto fail;
  if (!has_proc || t.exec_id == NULL)
    {
      ko_error_setx (err, EINVAL, "exec: needs an exec id and a process");
      goto fail;
    }
  struct container *c = container_find (t.container_id);
  if (c == NULL)
    {
      ko_error_setx (err, ENOENT, "container %s does not exist",
                     t.container_id);
      goto fail;
    }
  if (c->init == NULL || c->init->exited)
    {
      ko_error_setx (err, ESRCH, "container %s is not running", c->id);
      goto fail;
    }
  if (c->paused)
    {
      ko_error_setx (err, EBUSY, "container %s is paused", c->id);
      goto fail;
    }
  struct proc *old = proc_find (c, t.exec_id);
  if (old)
    {
      if (!old->reported)
        {
          ko_error_setx (err, EEXIST, "exec %s already exists", t.exec_id);
          goto fail;
        }
      proc_unlink (old);
      proc_free (old);
    }
  struct proc *p = proc_new (c);
  if (p == NULL)
    {
      ag_error_set (err, ENOMEM, "exec");
      goto fail;
    }
  p->exec_id = t.exec_id;
  t.exec_id = NULL;
  {
    __attribute__ ((cleanup (stdio_setup_cleanup))) struct stdio_setup io;
    int syncp[2];
    if (stdio_prepare (&kp, p, &io, err) < 0)
      {
        proc_abandon (p);
        goto fail;
      }
    if (pipe2 (syncp, O_CLOEXEC) < 0)
      {
        ag_error_set (err, errno, "pipe");
        proc_abandon (p);
        goto fail;
      }
    bool in_group;
    pid_t helper = ag_clone_into (SIGCHLD, c->id, &in_group);
    if (helper == 0)
      spawn_exec_helper (c->id, c->init->pid, in_group, &kp, &io.io, syncp[1]);
    int saved = errno;
    close (syncp[1]);
    if (helper < 0)
      {
        close (syncp[0]);
        ag_error_set (err, saved, "clone");
        proc_abandon (p);
        goto fail;
      }
    /* the helper answers at once with the pid or an error: wait for it
     * here, so the process is known before its SIGCHLD can arrive */
    struct pollfd pfd = { .fd = syncp[0], .events = POLLIN };
    pid_t pid = 0;
    int type = -1;
    if (poll (&pfd, 1, EXEC_PID_TIMEOUT_MS) == 1)
      type = sync_read (syncp[0], err, &pid);
    if (type != SYNC_PID || pid <= 0)
      {
        close (syncp[0]);
        kill (helper, SIGKILL);
        if (!*err)
          ko_error_setx (err, ECHILD, "exec %s: the helper failed", p->exec_id);
        proc_abandon (p);
        goto fail;
      }
    p->pid = pid;
    if (!sync_op_new (c, p, syncp[0], OP_EXEC, req))
      {
        close (syncp[0]);
        ag_error_set (err, ENOMEM, "exec");
        proc_abandon (p);
        goto fail;
      }
  }
  ko_process_clear (&kp);
  return 0;
fail:
  ko_process_clear (&kp);
  return -1;
}

static int
signal_process (struct ko_tlv body, ko_error **err)
{
  __attribute__ ((cleanup (target_cleanup))) struct target t = { 0 };
  struct container *c;
  struct proc *p;
  if (parse_target (body, &t, err) < 0)
    return -1;
  if (!t.has_signal || t.signal == 0 || t.signal >= NSIG)
    return ko_error_setx (err, EINVAL, "bad signal %u", t.signal);
  if (find_target (&t, &c, &p, err) < 0)
    return -1;
  if (t.all)
    {
      container_kill_all (c, (int)t.signal);
      return 0;
    }
  if (p->exited)
    return ko_error_setx (err, ESRCH, "process %d has already exited", p->pid);
  if (kill (p->pid, (int)t.signal) < 0)
    return ag_error_set (err, errno, "kill %d", p->pid);
  return 0;
}

static int
wait_process (uint32_t req, struct ko_tlv body, ko_error **err)
{
  __attribute__ ((cleanup (target_cleanup))) struct target t = { 0 };
  struct container *c;
  struct proc *p;
  if (parse_target (body, &t, err) < 0 || find_target (&t, &c, &p, err) < 0)
    return -1;
  if (p->reported)
    {
      reply_status (req, p->status);
      return 0;
    }
  if (p->nwaiters >= 64)
    return ko_error_setx (err, EBUSY, "too many waiters");
  uint32_t *w = realloc (p->waiters, (p->nwaiters + 1) * sizeof *w);
  if (w == NULL)
    return ag_error_set (err, ENOMEM, "wait");
  w[p->nwaiters++] = req;
  p->waiters = w;
  return 0;
}

static int
close_stdin (struct ko_tlv body, ko_error **err)
{
  __attribute__ ((cleanup (target_cleanup))) struct target t = { 0 };
  struct container *c;
  struct proc *p;
  if (parse_target (body, &t, err) < 0 || find_target (&t, &c, &p, err) < 0)
    return -1;
  stream_close_input (p->in);
  return 0;
}

static int
tty_win_resize (struct ko_tlv body, ko_error **err)
{
  __attribute__ ((cleanup (target_cleanup))) struct target t = { 0 };
  struct container *c;
  struct proc *p;
  if (parse_target (body, &t, err) < 0 || find_target (&t, &c, &p, err) < 0)
    return -1;
  if (p->tty_fd < 0)
    return ko_error_setx (err, ENOTTY, "the process has no terminal");
  struct winsize ws = { .ws_row = t.rows, .ws_col = t.cols };
  if (ioctl (p->tty_fd, TIOCSWINSZ, &ws) < 0)
    return ag_error_set (err, errno, "resize the terminal");
  return 0;
}

static int
list_processes (struct ko_tlv body, struct ko_buf *reply, ko_error **err)
{
  __attribute__ ((cleanup (target_cleanup))) struct target t = { 0 };
  if (parse_target (body, &t, err) < 0)
    return -1;
  struct container *c = container_find (t.container_id);
  if (c == NULL)
    return ko_error_setx (err, ENOENT, "container %s does not exist",
                          t.container_id);
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = container_pids (c, &pids);
  for (size_t i = 0; i < n; i++)
    ko_tlv_put_u32 (reply, KO_TAG_PID, (uint32_t)pids[i]);
  return 0;
}

static int
pause_resume (struct ko_tlv body, bool pause, ko_error **err)
{
  __attribute__ ((cleanup (target_cleanup))) struct target t = { 0 };
  struct container *c;
  struct proc *p;
  if (parse_target (body, &t, err) < 0)
    return -1;
  free (t.exec_id);
  t.exec_id = NULL;
  if (find_target (&t, &c, &p, err) < 0)
    return -1;
  if (p->exited)
    return ko_error_setx (err, ESRCH, "container %s is not running", c->id);
  if (cgroup_freeze (c->id, pause, err) < 0)
    return -1;
  c->paused = pause;
  return 0;
}

static int
update_container (struct ko_tlv body, ko_error **err)
{
  __attribute__ ((cleanup (target_cleanup))) struct target t = { 0 };
  if (parse_target (body, &t, err) < 0)
    return -1;
  if (container_find (t.container_id) == NULL)
    return ko_error_setx (err, ENOENT, "container %s does not exist",
                          t.container_id);
  return apply_resources (t.container_id, body, err);
}

static int
online_cpu_mem (struct ko_tlv body, ko_error **err)
{
  struct ko_field f;
  uint32_t want_mb = 0;
  int n;
  while ((n = ko_tlv_next (&body, &f)) > 0)
    if (f.tag == KO_TAG_MEMORY_MB && field_u32 (&f, &want_mb, err) < 0)
      return -1;
  if (n < 0)
    return ko_error_setx (err, EPROTO, "truncated field");
  return memory_online (want_mb, err);
}

static int
update_interface (struct ko_tlv body, ko_error **err)
{
  struct ko_net_iface i;
  if (ko_net_iface_decode (body, &i, err) < 0)
    return -1;
  return net_update_interface (&i, err);
}

static int
update_routes (struct ko_tlv body, ko_error **err)
{
  struct ko_net_route r[KO_NET_MAX_ROUTES];
  struct ko_field f;
  size_t nr = 0;
  int n;
  while ((n = ko_tlv_next (&body, &f)) > 0)
    {
      if (f.tag != KO_TAG_ROUTE)
        continue;
      if (nr == KO_NET_MAX_ROUTES)
        return ko_error_setx (err, EPROTO, "more than %d routes",
                              KO_NET_MAX_ROUTES);
      if (ko_net_route_decode (&f, &r[nr], err) < 0)
        return -1;
      nr++;
    }
  if (n < 0)
    return ko_error_setx (err, EPROTO, "truncated field");
  return net_update_routes (r, nr, err);
}

static int
stats_container (struct ko_tlv body, struct ko_buf *reply, ko_error **err)
{
  __attribute__ ((cleanup (target_cleanup))) struct target t = { 0 };
  if (parse_target (body, &t, err) < 0)
    return -1;
  if (container_find (t.container_id) == NULL)
    return ko_error_setx (err, ENOENT, "container %s does not exist",
                          t.container_id);
  return cgroup_stats (t.container_id, reply, err);
}

static void __attribute__ ((noreturn)) destroy_sandbox (uint32_t req)
{
  for (struct container *c = containers; c; c = c->next)
    container_kill_all (c, SIGKILL);
  sync ();
  reply_ok (req);
  channel_flush (2000);
  ag_dbg ("destroying the sandbox");
  ag_poweroff ();
}

#ifdef KO_AGENT_TESTING
static void
test_oom_flood (struct ko_tlv body)
{
  struct ko_field f;
  _cleanup_free_ char *cid = NULL;
  while (ko_tlv_next (&body, &f) > 0)
    if (f.tag == KO_TAG_CONTAINER_ID && cid == NULL)
      ko_field_str (&f, &cid);
  struct ko_buf b = { 0 };
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, cid ? cid : "");
  for (unsigned i = 0; i < ag_test_oom_flood; i++)
    channel_send_event (KO_E_OOM, &b);
  ko_buf_free (&b);
}
#endif

void
rpc_dispatch (uint32_t id, uint16_t method, struct ko_tlv body)
{
  _cleanup_error_ ko_error *err = NULL;
  struct ko_buf reply = { 0 };
  int r;
  bool async = false;
#ifdef KO_AGENT_TESTING
  if (ag_test_ignore && method == ag_test_ignore)
    return;
  if (ag_test_oom_flood && method == KO_M_START_CONTAINER)
    test_oom_flood (body);
#endif
  switch (method)
    {
    case KO_M_CREATE_SANDBOX:
      r = create_sandbox (body, &reply, &err);
      break;
    case KO_M_CREATE_CONTAINER:
      r = create_container (id, body, &err);
      async = true;
      break;
    case KO_M_START_CONTAINER:
      r = start_container (id, body, &err);
      async = true;
      break;
    case KO_M_EXEC_PROCESS:
      r = exec_process (id, body, &err);
      async = true;
      break;
    case KO_M_SIGNAL_PROCESS:
      r = signal_process (body, &err);
      break;
    case KO_M_WAIT_PROCESS:
      r = wait_process (id, body, &err);
      async = true;
      break;
    case KO_M_CLOSE_STDIN:
      r = close_stdin (body, &err);
      break;
    case KO_M_TTY_WIN_RESIZE:
      r = tty_win_resize (body, &err);
      break;
    case KO_M_LIST_PROCESSES:
      r = list_processes (body, &reply, &err);
      break;
    case KO_M_PAUSE_CONTAINER:
    case KO_M_RESUME_CONTAINER:
      r = pause_resume (body, method == KO_M_PAUSE_CONTAINER, &err);
      break;
    case KO_M_UPDATE_CONTAINER:
      r = update_container (body, &err);
      break;
    case KO_M_STATS_CONTAINER:
      r = stats_container (body, &reply, &err);
      break;
    case KO_M_ONLINE_CPU_MEM:
      r = online_cpu_mem (body, &err);
      break;
    case KO_M_UPDATE_INTERFACE:
      r = update_interface (body, &err);
      break;
    case KO_M_UPDATE_ROUTES:
      r = update_routes (body, &err);
      break;
    case KO_M_DESTROY_SANDBOX:
      destroy_sandbox (id);
    default:
      r = ko_error_setx (&err, ENOSYS, "%s: not supported by the agent",
                         ko_method_name (method));
      break;
    }
  if (r < 0)
    {
      if (err == NULL)
        ko_error_setx (&err, EIO, "%s failed", ko_method_name (method));
      channel_send_error (id, err);
    }
  else if (!async)
    channel_send_reply (id, &reply);
  ko_buf_free (&reply);
}
