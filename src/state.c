#include "config.h"

#include "oci.h"
#include "paths.h"
#include "proc.h"
#include "state.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

int
state_validate_id (const char *id, ko_error **err)
{
  if (id == NULL || *id == '\0')
    return ko_error_setx (err, EINVAL, "container id cannot be empty");
  size_t n = strlen (id);
  if (n > KO_ID_MAX)
    return ko_error_setx (err, EINVAL,
                          "invalid container id: longer than %d characters",
                          KO_ID_MAX);
  if (strcmp (id, ".") == 0 || strcmp (id, "..") == 0)
    return ko_error_setx (err, EINVAL, "invalid container id: %s", id);
  for (const char *p = id; *p; p++)
    {
      char c = *p;
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-'
            || c == '.'))
        return ko_error_setx (err, EINVAL,
                              "invalid container id: %s: only letters, "
                              "digits and _+-. are allowed",
                              id);
    }
  return 0;
}

char *
state_dir_path (const char *root, const char *id)
{
  char *p = NULL;
  if (asprintf (&p, "%s/%s", root, id) < 0)
    return NULL;
  return p;
}

static int
lock_as (int dirfd, int how, ko_error **err)
{
  while (flock (dirfd, how) < 0)
    if (errno != EINTR)
      return ko_error_set (err, errno, "lock state dir");
  return 0;
}

int
state_lock (int dirfd, ko_error **err)
{
  return lock_as (dirfd, LOCK_EX, err);
}

int
state_dir_create (const char *root, const char *id, int *dirfd, ko_error **err)
{
  if (ko_mkdir_p (root, 0700) < 0)
    return ko_error_set (err, errno, "create state root %s", root);
  _cleanup_free_ char *dir = state_dir_path (root, id);
  if (mkdir (dir, 0700) < 0)
    {
      if (errno == EEXIST)
        return ko_error_setx (err, EEXIST, "container with id exists: %s", id);
      return ko_error_set (err, errno, "create state dir %s", dir);
    }
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ko_error_set (err, errno, "open %s", dir);
  if (state_lock (fd, err) < 0)
    {
      close (fd);
      return -1;
    }
  *dirfd = fd;
  return 0;
}

static int
dir_open (const char *root, const char *id, int how, int *dirfd, ko_error **err)
{
  _cleanup_free_ char *dir = state_dir_path (root, id);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return ko_error_setx (err, ENOENT, "container %s does not exist", id);
      return ko_error_set (err, errno, "open %s", dir);
    }
  if (lock_as (fd, how, err) < 0)
    {
      close (fd);
      return -1;
    }
  *dirfd = fd;
  return 0;
}

int
state_dir_open (const char *root, const char *id, int *dirfd, ko_error **err)
{
  return dir_open (root, id, LOCK_EX, dirfd, err);
}

int
state_dir_open_shared (const char *root, const char *id, int *dirfd,
                       ko_error **err)
{
  return dir_open (root, id, LOCK_SH, dirfd, err);
}

/* The mount id of a path relative to dirfd, or 0 when unknown. */
static uint64_t
mount_id_at (int dirfd, const char *name)
{
  struct statx sx;
  if (statx (dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0
      || !(sx.stx_mask & STATX_MNT_ID))
    return 0;
  return sx.stx_mnt_id;
}

/* Removes a tree without ever crossing into another mount: the state dir
 * holds bind mounts of the user's rootfs and volumes while a sandbox runs,
 * and those must never be emptied. A mount point found below fails the
 * removal with EBUSY instead. */
static int
remove_tree_at (int parent, const char *name, uint64_t mnt_id)
{
  int fd
      = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return unlinkat (parent, name, 0);
  uint64_t here = mount_id_at (parent, name);
  if (here == 0 || (mnt_id != 0 && here != mnt_id))
    {
      close (fd);
      errno = EBUSY;
      return -1;
    }
  DIR *d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return -1;
    }
  int ret = 0;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      int r;
      if (de->d_type == DT_DIR)
        r = remove_tree_at (dirfd (d), de->d_name, here);
      else
        r = unlinkat (dirfd (d), de->d_name, 0);
      if (r < 0 && errno != ENOENT)
        ret = -1;
    }
  int e = errno;
  closedir (d);
  if (ret < 0)
    {
      errno = e;
      return -1;
    }
  return unlinkat (parent, name, AT_REMOVEDIR);
}

int
state_dir_remove (const char *root, const char *id, ko_error **err)
{
  _cleanup_close_ int rfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0)
    return ko_error_set (err, errno, "open %s", root);
  /* out of sight first, in one step: state and list never see a
   * half-removed container, and the id is free at once */
  char gone[KO_ID_MAX + 64];
  snprintf (gone, sizeof gone, ".deleting-%s-%d", id, (int)getpid ());
  const char *name = renameat (rfd, id, rfd, gone) == 0 ? gone : id;
  if (remove_tree_at (rfd, name, mount_id_at (rfd, ".")) < 0 && errno != ENOENT)
    {
      int e = errno;
      /* what is left stays where the next delete looks for it */
      if (name == gone)
        renameat (rfd, gone, rfd, id);
      return ko_error_set (err, e, "remove state dir %s/%s", root, id);
    }
  return 0;
}

/* ---- JSON ---- */

static void
gen_str (yajl_gen g, const char *k, const char *v)
{
  if (v == NULL)
    return;
  yajl_gen_string (g, (const unsigned char *)k, strlen (k));
  yajl_gen_string (g, (const unsigned char *)v, strlen (v));
}

static void
gen_int (yajl_gen g, const char *k, long long v)
{
  yajl_gen_string (g, (const unsigned char *)k, strlen (k));
  yajl_gen_integer (g, v);
}

static void
gen_annotations (yajl_gen g, char **a)
{
  if (a == NULL || a[0] == NULL)
    return;
  yajl_gen_string (g, (const unsigned char *)"annotations", 11);
  yajl_gen_map_open (g);
  for (; a[0] && a[1]; a += 2)
    gen_str (g, a[0], a[1]);
  yajl_gen_map_close (g);
}

static char *
gen_finish (yajl_gen g)
{
  const unsigned char *buf;
  size_t len;
  char *out = NULL;
  if (yajl_gen_get_buf (g, &buf, &len) == yajl_gen_status_ok)
    {
      out = malloc (len + 1);
      if (out)
        {
          memcpy (out, buf, len);
          out[len] = '\0';
        }
    }
  yajl_gen_free (g);
  return out;
}

char *
state_generate (const struct ko_state *st)
{
  yajl_gen g = yajl_gen_alloc (NULL);
  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  gen_str (g, "ociVersion", OCI_VERSION);
  gen_str (g, "id", st->id);
  gen_str (g, "status", st->status);
  gen_str (g, "bundle", st->bundle);
  gen_str (g, "rootfs", st->rootfs);
  gen_str (g, "created", st->created);
  gen_str (g, "owner", st->owner);
  gen_int (g, "monitorPid", st->monitor_pid);
  gen_int (g, "monitorStart", (long long)st->monitor_start);
  gen_int (g, "qemuPid", st->qemu_pid);
  gen_int (g, "qemuStart", (long long)st->qemu_start);
  gen_int (g, "virtiofsdPid", st->virtiofsd_pid);
  gen_int (g, "virtiofsdStart", (long long)st->virtiofsd_start);
  gen_int (g, "holderPid", st->holder_pid);
  gen_int (g, "holderStart", (long long)st->holder_start);
  if (st->has_exit_status)
    gen_int (g, "exitStatus", st->exit_status);
  gen_str (g, "configDigest", st->config_digest);
  gen_str (g, "accel", st->accel);
  gen_str (g, "channel", st->channel);
  gen_str (g, "netns", st->netns);
  gen_str (g, "sandbox", st->sandbox);
  gen_str (g, "notifySocket", st->notify_socket);
  gen_str (g, "notifyRelay", st->notify_relay);
  gen_annotations (g, st->annotations);
  yajl_gen_map_close (g);
  return gen_finish (g);
}

int
state_write (int dirfd, const struct ko_state *st, ko_error **err)
{
  _cleanup_free_ char *json = state_generate (st);
  if (json == NULL)
    return ko_error_set (err, ENOMEM, "generate state");
  char tmp[64];
  snprintf (tmp, sizeof tmp, ".%s.%d", KO_STATE_FILE, (int)getpid ());
  _cleanup_close_ int fd
      = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return ko_error_set (err, errno, "write state");
  size_t len = strlen (json);
  /* The rename makes the change atomic for readers. No fsync: the state
   * describes processes and a VM that a host crash ends anyway (runc does
   * not sync either), and where the root is on disk rather than tmpfs each
   * sync cost several ms of every create, start and exit. */
  if (write (fd, json, len) != (ssize_t)len)
    {
      int e = errno;
      unlinkat (dirfd, tmp, 0);
      return ko_error_set (err, e, "write state");
    }
  if (renameat (dirfd, tmp, dirfd, KO_STATE_FILE) < 0)
    {
      int e = errno;
      unlinkat (dirfd, tmp, 0);
      return ko_error_set (err, e, "rename state");
    }
  return 0;
}

static const char *
tree_str (yajl_val root, const char *key)
{
  const char *path[] = { key, NULL };
  yajl_val v = yajl_tree_get (root, path, yajl_t_string);
  return v ? YAJL_GET_STRING (v) : NULL;
}

static int
tree_int (yajl_val root, const char *key, long long *out)
{
  const char *path[] = { key, NULL };
  yajl_val v = yajl_tree_get (root, path, yajl_t_number);
  if (v == NULL || !YAJL_IS_INTEGER (v))
    return -1;
  *out = YAJL_GET_INTEGER (v);
  return 0;
}

static char *
dup_or_null (const char *s)
{
  return s ? strdup (s) : NULL;
}

int
state_parse (const char *data, size_t len, const char *name,
             struct ko_state *st, ko_error **err)
{
  char ebuf[256] = "";
  _cleanup_free_ char *copy = strndup (data, len);
  if (copy == NULL)
    return ko_error_set (err, ENOMEM, "%s", name);
  yajl_val root = yajl_tree_parse (copy, ebuf, sizeof ebuf);
  if (root == NULL)
    {
      char *nl = strchr (ebuf, '\n');
      if (nl)
        *nl = '\0';
      return ko_error_setx (err, EINVAL, "%s: corrupt: %s", name,
                            *ebuf ? ebuf : "invalid JSON");
    }
  memset (st, 0, sizeof *st);
  const char *id = tree_str (root, "id");
  const char *status = tree_str (root, "status");
  if (!YAJL_IS_OBJECT (root) || id == NULL || status == NULL)
    {
      yajl_tree_free (root);
      return ko_error_setx (err, EINVAL, "%s: corrupt: missing id or status",
                            name);
    }
  st->id = strdup (id);
  st->status = strdup (status);
  st->bundle = dup_or_null (tree_str (root, "bundle"));
  st->rootfs = dup_or_null (tree_str (root, "rootfs"));
  st->created = dup_or_null (tree_str (root, "created"));
  st->owner = dup_or_null (tree_str (root, "owner"));
  st->config_digest = dup_or_null (tree_str (root, "configDigest"));
  st->accel = dup_or_null (tree_str (root, "accel"));
  st->channel = dup_or_null (tree_str (root, "channel"));
  st->netns = dup_or_null (tree_str (root, "netns"));
  st->sandbox = dup_or_null (tree_str (root, "sandbox"));
  st->notify_socket = dup_or_null (tree_str (root, "notifySocket"));
  st->notify_relay = dup_or_null (tree_str (root, "notifyRelay"));
  long long v;
  if (tree_int (root, "monitorPid", &v) == 0)
    st->monitor_pid = (pid_t)v;
  if (tree_int (root, "monitorStart", &v) == 0)
    st->monitor_start = (uint64_t)v;
  if (tree_int (root, "qemuPid", &v) == 0)
    st->qemu_pid = (pid_t)v;
  if (tree_int (root, "qemuStart", &v) == 0)
    st->qemu_start = (uint64_t)v;
  if (tree_int (root, "virtiofsdPid", &v) == 0)
    st->virtiofsd_pid = (pid_t)v;
  if (tree_int (root, "virtiofsdStart", &v) == 0)
    st->virtiofsd_start = (uint64_t)v;
  if (tree_int (root, "holderPid", &v) == 0)
    st->holder_pid = (pid_t)v;
  if (tree_int (root, "holderStart", &v) == 0)
    st->holder_start = (uint64_t)v;
  if (tree_int (root, "exitStatus", &v) == 0)
    {
      st->has_exit_status = true;
      st->exit_status = (int)v;
    }
  const char *apath[] = { "annotations", NULL };
  yajl_val ann = yajl_tree_get (root, apath, yajl_t_object);
  if (ann && YAJL_GET_OBJECT (ann)->len > 0)
    {
      size_t n = YAJL_GET_OBJECT (ann)->len;
      st->annotations = calloc (2 * n + 1, sizeof (char *));
      size_t j = 0;
      for (size_t i = 0; st->annotations && i < n; i++)
        {
          yajl_val val = YAJL_GET_OBJECT (ann)->values[i];
          const char *sv = YAJL_IS_STRING (val) ? YAJL_GET_STRING (val) : NULL;
          if (sv == NULL)
            continue;
          st->annotations[j++] = strdup (YAJL_GET_OBJECT (ann)->keys[i]);
          st->annotations[j++] = strdup (sv);
        }
    }
  yajl_tree_free (root);
  return 0;
}

int
state_read (int dirfd, struct ko_state *st, ko_error **err)
{
  _cleanup_close_ int fd = openat (dirfd, KO_STATE_FILE, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return ko_error_setx (err, ENOENT, "state.json: missing");
      return ko_error_set (err, errno, "state.json");
    }
  char buf[65536];
  size_t len = 0;
  ssize_t n;
  while ((n = read (fd, buf + len, sizeof buf - 1 - len)) > 0)
    len += n;
  if (n < 0)
    return ko_error_set (err, errno, "state.json");
  if (len == sizeof buf - 1)
    return ko_error_setx (err, EFBIG, "state.json: corrupt: too large");
  return state_parse (buf, len, "state.json", st, err);
}

void
state_clear (struct ko_state *st)
{
  if (st == NULL)
    return;
  free (st->id);
  free (st->bundle);
  free (st->rootfs);
  free (st->status);
  free (st->created);
  free (st->owner);
  free (st->config_digest);
  free (st->accel);
  free (st->channel);
  free (st->netns);
  free (st->sandbox);
  free (st->notify_socket);
  free (st->notify_relay);
  ko_strv_free (st->annotations);
  memset (st, 0, sizeof *st);
}

const char *
state_status (const struct ko_state *st)
{
  if (st->status == NULL)
    return "stopped";
  if (strcmp (st->status, "stopped") == 0)
    return "stopped";
  /* a create in progress, before its monitor recorded itself */
  if (st->monitor_pid == 0 && strcmp (st->status, "creating") == 0)
    return "creating";
  if (!proc_alive (st->monitor_pid, st->monitor_start))
    return "stopped";
  return st->status;
}

char *
state_oci_json (const struct ko_state *st)
{
  const char *status = state_status (st);
  bool stopped = strcmp (status, "stopped") == 0;
  /* the holder's mount namespace shows the container's rootfs, which is
   * what callers that enter /proc/<pid>/ns/mnt (podman cp) must see */
  oci_state o = { .oci_version = (char *)OCI_VERSION,
                  .id = st->id,
                  .status = (char *)status,
                  .has_pid = true,
                  .pid = stopped          ? 0
                         : st->holder_pid ? st->holder_pid
                                          : st->monitor_pid,
                  .bundle = st->bundle,
                  .rootfs = st->rootfs,
                  .created = st->created,
                  .owner = st->owner ? st->owner : "" };
  size_t n = 0;
  for (char **a = st->annotations; a && a[0] && a[1]; a += 2)
    n++;
  o.annotations.len = n;
  o.annotations.keys = calloc (n + 1, sizeof (char *));
  o.annotations.values = calloc (n + 1, sizeof (char *));
  char *out = NULL;
  if (o.annotations.keys && o.annotations.values)
    {
      for (size_t i = 0; i < n; i++)
        {
          o.annotations.keys[i] = st->annotations[2 * i];
          o.annotations.values[i] = st->annotations[2 * i + 1];
        }
      out = oci_state_generate (&o, NULL);
    }
  free (o.annotations.keys);
  free (o.annotations.values);
  return out;
}

char *
state_now_rfc3339 (void)
{
  struct timespec ts;
  struct tm tm;
  char buf[64];
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  size_t n = strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
  return strdup (buf);
}
