#include "monproto.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int
bad (ko_error **err, const char *what, const struct ko_field *f)
{
  return ko_error_setx (err, EINVAL, "%s: malformed field %u", what, f->tag);
}

/* A string field seen once: a second one, a NUL or an oversize one is
 * malformed. */
static int
take_str (const struct ko_field *f, char **out, const char *what,
          ko_error **err)
{
  if (*out != NULL || ko_field_str (f, out) < 0)
    return bad (err, what, f);
  return 0;
}

static int
take_u32 (const struct ko_field *f, uint32_t *out, const char *what,
          ko_error **err)
{
  return ko_field_u32 (f, out) < 0 ? bad (err, what, f) : 0;
}

static int
take_u64 (const struct ko_field *f, uint64_t *out, const char *what,
          ko_error **err)
{
  return ko_field_u64 (f, out) < 0 ? bad (err, what, f) : 0;
}

static int
truncated (ko_error **err, const char *what)
{
  return ko_error_setx (err, EINVAL, "%s: truncated field", what);
}

/* ---- requests ---- */

int
ko_mon_target_encode (struct ko_buf *b, const struct ko_mon_target *m)
{
  return ko_tlv_put_str (b, KO_TAG_CONTAINER_ID, m->container_id);
}

int
ko_mon_target_decode (struct ko_tlv body, struct ko_mon_target *m,
                      ko_error **err)
{
  struct ko_mon_target out = { 0 };
  struct ko_field f;
  int r;
  while ((r = ko_tlv_next (&body, &f)) > 0)
    if (f.tag == KO_TAG_CONTAINER_ID
        && take_str (&f, &out.container_id, "request", err) < 0)
      goto fail;
  if (r < 0)
    {
      truncated (err, "request");
      goto fail;
    }
  *m = out;
  return 0;
fail:
  ko_mon_target_clear (&out);
  return -1;
}

void
ko_mon_target_clear (struct ko_mon_target *m)
{
  free (m->container_id);
  m->container_id = NULL;
}

int
ko_mon_kill_encode (struct ko_buf *b, const struct ko_mon_kill *m)
{
  if (ko_tlv_put_str (b, KO_TAG_CONTAINER_ID, m->container_id) < 0
      || ko_tlv_put_u32 (b, KO_TAG_SIGNAL, m->signal) < 0)
    return -1;
  return m->all ? ko_tlv_put_u32 (b, KO_TAG_ALL, 1) : 0;
}

int
ko_mon_kill_decode (struct ko_tlv body, struct ko_mon_kill *m, ko_error **err)
{
  struct ko_mon_kill out = { 0 };
  bool have_sig = false;
  uint32_t all = 0;
  struct ko_field f;
  int r;
  while ((r = ko_tlv_next (&body, &f)) > 0)
    {
      if (f.tag == KO_TAG_CONTAINER_ID)
        r = take_str (&f, &out.container_id, "kill", err);
      else if (f.tag == KO_TAG_SIGNAL)
        {
          r = take_u32 (&f, &out.signal, "kill", err);
          have_sig = true;
        }
      else if (f.tag == KO_TAG_ALL)
        r = take_u32 (&f, &all, "kill", err);
      else
        r = 0;
      if (r < 0)
        goto fail;
    }
  if (r < 0)
    {
      truncated (err, "kill");
      goto fail;
    }
  if (!have_sig || out.signal > 64)
    {
      ko_error_setx (err, EINVAL, "kill: %s",
                     have_sig ? "no such signal" : "no signal");
      goto fail;
    }
  out.all = all != 0;
  *m = out;
  return 0;
fail:
  ko_mon_kill_clear (&out);
  return -1;
}

void
ko_mon_kill_clear (struct ko_mon_kill *m)
{
  free (m->container_id);
  m->container_id = NULL;
}

int
ko_mon_exec_encode (struct ko_buf *b, const struct ko_mon_exec *m)
{
  if (ko_tlv_put_str (b, KO_TAG_CONTAINER_ID, m->container_id) < 0
      || ko_tlv_put_str (b, KO_TAG_EXEC_ID, m->exec_id) < 0
      || ko_process_encode (b, KO_TAG_PROCESS, &m->process) < 0
      || (m->detached && ko_tlv_put_u32 (b, KO_MON_TAG_DETACHED, 1) < 0))
    return -1;
  return ko_tlv_put_str (b, KO_MON_TAG_CONSOLE_SOCKET, m->console_socket);
}

int
ko_mon_exec_decode (struct ko_tlv body, struct ko_mon_exec *m, ko_error **err)
{
  struct ko_mon_exec out = { 0 };
  bool have_proc = false;
  struct ko_field f;
  int r;
  while ((r = ko_tlv_next (&body, &f)) > 0)
    {
      if (f.tag == KO_TAG_CONTAINER_ID)
        r = take_str (&f, &out.container_id, "exec", err);
      else if (f.tag == KO_TAG_EXEC_ID)
        r = take_str (&f, &out.exec_id, "exec", err);
      else if (f.tag == KO_MON_TAG_CONSOLE_SOCKET)
        r = take_str (&f, &out.console_socket, "exec", err);
      else if (f.tag == KO_MON_TAG_DETACHED)
        {
          uint32_t d = 0;
          r = take_u32 (&f, &d, "exec", err);
          out.detached = d != 0;
        }
      else if (f.tag == KO_TAG_PROCESS)
        {
          if (have_proc)
            r = bad (err, "exec", &f);
          else if ((r = ko_process_decode (&f, &out.process, err)) == 0)
            have_proc = true;
        }
      else
        r = 0;
      if (r < 0)
        goto fail;
    }
  if (r < 0)
    {
      truncated (err, "exec");
      goto fail;
    }
  if (out.exec_id == NULL || out.exec_id[0] == '\0' || !have_proc)
    {
      ko_error_setx (err, EINVAL, "exec: malformed request");
      goto fail;
    }
  *m = out;
  return 0;
fail:
  if (have_proc)
    ko_process_clear (&out.process);
  memset (&out.process, 0, sizeof out.process);
  ko_mon_exec_clear (&out);
  return -1;
}

void
ko_mon_exec_clear (struct ko_mon_exec *m)
{
  free (m->container_id);
  free (m->exec_id);
  free (m->console_socket);
  ko_process_clear (&m->process);
  memset (m, 0, sizeof *m);
}

/* ---- pods ---- */

static int
bind_encode (struct ko_buf *b, const struct ko_mon_bind *x)
{
  size_t off = ko_tlv_begin (b, KO_MON_TAG_BIND);
  if (ko_tlv_put_str (b, KO_MON_TAG_BIND_SOURCE, x->source) < 0
      || ko_tlv_put_str (b, KO_MON_TAG_BIND_DEST, x->dest) < 0
      || ko_tlv_put_str (b, KO_MON_TAG_BIND_CTR_DEST, x->ctr_dest) < 0
      || ko_tlv_put_u32 (b, KO_MON_TAG_BIND_READONLY, x->readonly) < 0)
    return -1;
  ko_tlv_end (b, off);
  return 0;
}

static int
bind_decode (const struct ko_field *bf, struct ko_mon_bind *x, ko_error **err)
{
  struct ko_tlv t = ko_field_nested (bf);
  struct ko_field f;
  uint32_t ro = 0;
  int r;
  memset (x, 0, sizeof *x);
  while ((r = ko_tlv_next (&t, &f)) > 0)
    {
      if (f.tag == KO_MON_TAG_BIND_SOURCE)
        r = take_str (&f, &x->source, "add: bind", err);
      else if (f.tag == KO_MON_TAG_BIND_DEST)
        r = take_str (&f, &x->dest, "add: bind", err);
      else if (f.tag == KO_MON_TAG_BIND_CTR_DEST)
        r = take_str (&f, &x->ctr_dest, "add: bind", err);
      else if (f.tag == KO_MON_TAG_BIND_READONLY)
        r = take_u32 (&f, &ro, "add: bind", err);
      else
        r = 0;
      if (r < 0)
        return -1;
    }
  x->readonly = ro > 2 ? 2 : (uint8_t)ro; /* KO_BIND_RW, _RO, _RRO */
  if (r < 0 || !x->source || !x->dest || !x->ctr_dest)
    return ko_error_setx (err, EINVAL, "add: bind: malformed");
  return 0;
}

static int
disk_encode (struct ko_buf *b, const struct ko_mon_disk *x)
{
  uint8_t lim[KO_MON_DISK_LIMITS * 8];
  for (size_t k = 0; k < KO_MON_DISK_LIMITS; k++)
    for (int j = 0; j < 8; j++)
      lim[k * 8 + j] = (uint8_t)(x->limits[k] >> (8 * j));
  size_t off = ko_tlv_begin (b, KO_MON_TAG_DISK);
  if (ko_tlv_put_str (b, KO_MON_TAG_DISK_SOURCE, x->source) < 0
      || ko_tlv_put_str (b, KO_MON_TAG_DISK_SERIAL, x->serial) < 0
      || ko_tlv_put_u32 (b, KO_MON_TAG_DISK_READONLY, x->readonly) < 0
      || ko_tlv_put_u32 (b, KO_MON_TAG_DISK_BLOCKDEV, x->blockdev) < 0
      || ko_tlv_put_u64 (b, KO_MON_TAG_DISK_RDEV, x->rdev) < 0
      || ko_tlv_put_bytes (b, KO_MON_TAG_DISK_LIMITS, lim, sizeof lim) < 0)
    return -1;
  ko_tlv_end (b, off);
  return 0;
}

/* A serial names QEMU objects and a sysfs file in the guest: letters,
 * digits, '-' and '_' only. */
static bool
serial_ok (const char *s)
{
  size_t n = strlen (s);
  if (n == 0 || n > KO_MON_DISK_SERIAL_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!(isalnum ((unsigned char)s[i]) || s[i] == '-' || s[i] == '_'))
      return false;
  return true;
}

static int
disk_decode (const struct ko_field *df, struct ko_mon_disk *x, ko_error **err)
{
  struct ko_tlv t = ko_field_nested (df);
  struct ko_field f;
  _cleanup_free_ char *serial = NULL;
  uint32_t ro = 0, bd = 0;
  bool have_limits = false;
  int r;
  memset (x, 0, sizeof *x);
  while ((r = ko_tlv_next (&t, &f)) > 0)
    {
      if (f.tag == KO_MON_TAG_DISK_SOURCE)
        r = take_str (&f, &x->source, "add: disk", err);
      else if (f.tag == KO_MON_TAG_DISK_SERIAL)
        r = take_str (&f, &serial, "add: disk", err);
      else if (f.tag == KO_MON_TAG_DISK_READONLY)
        r = take_u32 (&f, &ro, "add: disk", err);
      else if (f.tag == KO_MON_TAG_DISK_BLOCKDEV)
        r = take_u32 (&f, &bd, "add: disk", err);
      else if (f.tag == KO_MON_TAG_DISK_RDEV)
        r = take_u64 (&f, &x->rdev, "add: disk", err);
      else if (f.tag == KO_MON_TAG_DISK_LIMITS)
        {
          if (f.len != KO_MON_DISK_LIMITS * 8)
            r = bad (err, "add: disk", &f);
          else
            for (size_t k = 0; k < KO_MON_DISK_LIMITS; k++)
              {
                x->limits[k] = 0;
                for (int j = 0; j < 8; j++)
                  x->limits[k] |= (uint64_t)f.val[k * 8 + j] << (8 * j);
              }
          have_limits = true;
        }
      else
        r = 0;
      if (r < 0)
        return -1;
    }
  x->readonly = ro != 0;
  x->blockdev = bd != 0;
  if (r < 0 || !x->source || !serial || !have_limits)
    return ko_error_setx (err, EINVAL, "add: disk: malformed");
  if (!serial_ok (serial))
    return ko_error_setx (err, EINVAL, "add: disk %s: bad serial", x->source);
  memcpy (x->serial, serial, strlen (serial) + 1);
  return 0;
}

int
ko_mon_add_encode (struct ko_buf *b, const struct ko_mon_add *m)
{
  if (ko_tlv_put_str (b, KO_TAG_CONTAINER_ID, m->container_id) < 0
      || ko_tlv_put_str (b, KO_MON_TAG_STATE_DIR, m->state_dir) < 0
      || ko_tlv_put_str (b, KO_MON_TAG_BUNDLE, m->bundle) < 0
      || ko_tlv_put_str (b, KO_MON_TAG_HOST_ROOTFS, m->rootfs) < 0
      || ko_tlv_put_str (b, KO_TAG_HOSTNAME, m->hostname) < 0
      || ko_tlv_put_str (b, KO_MON_TAG_CONSOLE_SOCKET, m->console_socket) < 0
      || ko_tlv_put_u32 (b, KO_MON_TAG_HOLDER_PID, m->holder_pid) < 0
      || ko_process_encode (b, KO_TAG_PROCESS, &m->process) < 0
      || ko_tlv_put_bytes (b, KO_MON_TAG_CONTAINER_FIELDS, m->fields.data,
                           m->fields.len)
             < 0)
    return -1;
  for (size_t i = 0; i < m->nbinds; i++)
    if (bind_encode (b, &m->binds[i]) < 0)
      return -1;
  for (size_t i = 0; i < m->ndisks; i++)
    if (disk_encode (b, &m->disks[i]) < 0)
      return -1;
  return 0;
}

static int
add_field (struct ko_mon_add *m, const struct ko_field *f, bool *have_proc,
           ko_error **err)
{
  switch (f->tag)
    {
    case KO_TAG_CONTAINER_ID:
      return take_str (f, &m->container_id, "add", err);
    case KO_MON_TAG_STATE_DIR:
      return take_str (f, &m->state_dir, "add", err);
    case KO_MON_TAG_BUNDLE:
      return take_str (f, &m->bundle, "add", err);
    case KO_MON_TAG_HOST_ROOTFS:
      return take_str (f, &m->rootfs, "add", err);
    case KO_TAG_HOSTNAME:
      return take_str (f, &m->hostname, "add", err);
    case KO_MON_TAG_CONSOLE_SOCKET:
      return take_str (f, &m->console_socket, "add", err);
    case KO_MON_TAG_HOLDER_PID:
      return take_u32 (f, &m->holder_pid, "add", err);
    case KO_MON_TAG_CONTAINER_FIELDS:
      if (m->fields.len)
        return bad (err, "add", f);
      return ko_buf_append (&m->fields, f->val, f->len) < 0
                 ? ko_error_set (err, ENOMEM, "add")
                 : 0;
    case KO_TAG_PROCESS:
      if (*have_proc)
        return bad (err, "add", f);
      if (ko_process_decode (f, &m->process, err) < 0)
        return -1;
      *have_proc = true;
      return 0;
    case KO_MON_TAG_BIND:
      {
        if (m->nbinds >= KO_MON_MAX_BINDS)
          return ko_error_setx (err, E2BIG, "add: more than %d binds",
                                KO_MON_MAX_BINDS);
        struct ko_mon_bind *nb
            = realloc (m->binds, (m->nbinds + 1) * sizeof *nb);
        if (nb == NULL)
          return ko_error_set (err, ENOMEM, "add");
        m->binds = nb;
        if (bind_decode (f, &m->binds[m->nbinds], err) < 0)
          {
            struct ko_mon_bind *x = &m->binds[m->nbinds];
            free (x->source);
            free (x->dest);
            free (x->ctr_dest);
            return -1;
          }
        m->nbinds++;
        return 0;
      }
    case KO_MON_TAG_DISK:
      {
        if (m->ndisks >= KO_MON_MAX_DISKS)
          return ko_error_setx (err, E2BIG, "add: more than %d disks",
                                KO_MON_MAX_DISKS);
        struct ko_mon_disk *nd
            = realloc (m->disks, (m->ndisks + 1) * sizeof *nd);
        if (nd == NULL)
          return ko_error_set (err, ENOMEM, "add");
        m->disks = nd;
        if (disk_decode (f, &m->disks[m->ndisks], err) < 0)
          {
            free (m->disks[m->ndisks].source);
            return -1;
          }
        m->ndisks++;
        return 0;
      }
    }
  return 0;
}

int
ko_mon_add_decode (struct ko_tlv body, struct ko_mon_add *m, ko_error **err)
{
  struct ko_mon_add out = { 0 };
  bool have_proc = false;
  struct ko_field f;
  int r;
  while ((r = ko_tlv_next (&body, &f)) > 0)
    if (add_field (&out, &f, &have_proc, err) < 0)
      goto fail;
  if (r < 0)
    {
      truncated (err, "add");
      goto fail;
    }
  if (!out.container_id || !out.state_dir || !out.bundle || !out.rootfs
      || !have_proc || out.holder_pid == 0)
    {
      ko_error_setx (err, EINVAL, "add: malformed request");
      goto fail;
    }
  *m = out;
  return 0;
fail:
  if (!have_proc)
    memset (&out.process, 0, sizeof out.process);
  ko_mon_add_clear (&out);
  return -1;
}

void
ko_mon_add_clear (struct ko_mon_add *m)
{
  free (m->container_id);
  free (m->state_dir);
  free (m->bundle);
  free (m->rootfs);
  free (m->hostname);
  free (m->console_socket);
  ko_process_clear (&m->process);
  ko_buf_free (&m->fields);
  for (size_t i = 0; i < m->nbinds; i++)
    {
      free (m->binds[i].source);
      free (m->binds[i].dest);
      free (m->binds[i].ctr_dest);
    }
  free (m->binds);
  for (size_t i = 0; i < m->ndisks; i++)
    free (m->disks[i].source);
  free (m->disks);
  memset (m, 0, sizeof *m);
}

int
ko_mon_remove_encode (struct ko_buf *b, const struct ko_mon_remove *m)
{
  if (ko_tlv_put_str (b, KO_TAG_CONTAINER_ID, m->container_id) < 0)
    return -1;
  return ko_tlv_put_u32 (b, KO_MON_TAG_FORCE, m->force);
}

int
ko_mon_remove_decode (struct ko_tlv body, struct ko_mon_remove *m,
                      ko_error **err)
{
  struct ko_mon_remove out = { 0 };
  uint32_t force = 0;
  struct ko_field f;
  int r;
  while ((r = ko_tlv_next (&body, &f)) > 0)
    {
      if (f.tag == KO_TAG_CONTAINER_ID)
        r = take_str (&f, &out.container_id, "remove", err);
      else if (f.tag == KO_MON_TAG_FORCE)
        r = take_u32 (&f, &force, "remove", err);
      else
        r = 0;
      if (r < 0)
        goto fail;
    }
  if (r < 0 || out.container_id == NULL)
    {
      ko_error_setx (err, EINVAL, "remove: malformed request");
      goto fail;
    }
  out.force = force != 0;
  *m = out;
  return 0;
fail:
  ko_mon_remove_clear (&out);
  return -1;
}

void
ko_mon_remove_clear (struct ko_mon_remove *m)
{
  free (m->container_id);
  m->container_id = NULL;
}

int
ko_mon_resize_encode (struct ko_buf *b, const struct ko_mon_resize *m)
{
  if (ko_tlv_put_u32 (b, KO_TAG_ROWS, m->rows) < 0)
    return -1;
  return ko_tlv_put_u32 (b, KO_TAG_COLS, m->cols);
}

int
ko_mon_resize_decode (struct ko_tlv body, struct ko_mon_resize *m,
                      ko_error **err)
{
  struct ko_mon_resize out = { 0 };
  bool rows = false, cols = false;
  struct ko_field f;
  int r;
  while ((r = ko_tlv_next (&body, &f)) > 0)
    {
      if (f.tag == KO_TAG_ROWS)
        rows = (r = take_u32 (&f, &out.rows, "resize", err)) == 0;
      else if (f.tag == KO_TAG_COLS)
        cols = (r = take_u32 (&f, &out.cols, "resize", err)) == 0;
      if (r < 0)
        return -1;
    }
  if (r < 0)
    return truncated (err, "resize");
  if (!rows || !cols || out.rows > 65535 || out.cols > 65535)
    return ko_error_setx (err, EINVAL, "resize: rows and cols 0..65535");
  *m = out;
  return 0;
}

int
ko_mon_update_encode (struct ko_buf *b, const struct ko_mon_update *m)
{
  if (ko_tlv_put_str (b, KO_TAG_CONTAINER_ID, m->container_id) < 0)
    return -1;
  return ko_tlv_put_str (b, KO_TAG_VALUE, m->resources_json);
}

int
ko_mon_update_decode (struct ko_tlv body, struct ko_mon_update *m,
                      ko_error **err)
{
  struct ko_mon_update out = { 0 };
  struct ko_field f;
  int r;
  while ((r = ko_tlv_next (&body, &f)) > 0)
    {
      if (f.tag == KO_TAG_CONTAINER_ID)
        r = take_str (&f, &out.container_id, "update", err);
      else if (f.tag == KO_TAG_VALUE)
        r = take_str (&f, &out.resources_json, "update", err);
      else
        r = 0;
      if (r < 0)
        goto fail;
    }
  if (r < 0)
    {
      truncated (err, "update");
      goto fail;
    }
  if (out.resources_json == NULL)
    {
      ko_error_setx (err, EINVAL, "update: no resources");
      goto fail;
    }
  *m = out;
  return 0;
fail:
  ko_mon_update_clear (&out);
  return -1;
}

void
ko_mon_update_clear (struct ko_mon_update *m)
{
  free (m->container_id);
  free (m->resources_json);
  m->container_id = m->resources_json = NULL;
}

/* ---- replies and events ---- */

static int
one_u32_decode (struct ko_tlv body, uint16_t tag, uint32_t *v, const char *what,
                ko_error **err)
{
  bool have = false;
  uint32_t out = 0;
  struct ko_field f;
  int r;
  while ((r = ko_tlv_next (&body, &f)) > 0)
    if (f.tag == tag)
      {
        if (have || take_u32 (&f, &out, what, err) < 0)
          return have ? bad (err, what, &f) : -1;
        have = true;
      }
  if (r < 0)
    return truncated (err, what);
  if (!have)
    return ko_error_setx (err, EINVAL, "%s: missing field %u", what, tag);
  *v = out;
  return 0;
}

int
ko_mon_pid_encode (struct ko_buf *b, const struct ko_mon_pid *m)
{
  return ko_tlv_put_u32 (b, KO_TAG_PID, m->pid);
}

int
ko_mon_pid_decode (struct ko_tlv body, struct ko_mon_pid *m, ko_error **err)
{
  return one_u32_decode (body, KO_TAG_PID, &m->pid, "pid", err);
}

int
ko_mon_exit_encode (struct ko_buf *b, const struct ko_mon_exit *m)
{
  return ko_tlv_put_u32 (b, KO_TAG_STATUS, m->status);
}

int
ko_mon_exit_decode (struct ko_tlv body, struct ko_mon_exit *m, ko_error **err)
{
  return one_u32_decode (body, KO_TAG_STATUS, &m->status, "exit", err);
}

int
ko_mon_pids_encode (struct ko_buf *b, const struct ko_mon_pids *m)
{
  for (size_t i = 0; i < m->n; i++)
    if (ko_tlv_put_u32 (b, KO_TAG_PID, m->pids[i]) < 0
        || (m->info && i < KO_MAX_PS_INFO
            && ko_ps_info_encode (b, &m->info[i]) < 0))
      return -1;
  if (m->uptime_ms && ko_tlv_put_u64 (b, KO_TAG_PS_UPTIME, m->uptime_ms) < 0)
    return -1;
  return 0;
}

int
ko_mon_pids_decode (struct ko_tlv body, struct ko_mon_pids *m, ko_error **err)
{
  struct ko_mon_pids out = { 0 };
  size_t cap = 0;
  struct ko_field f;
  int r;
  while ((r = ko_tlv_next (&body, &f)) > 0)
    {
      if (f.tag == KO_TAG_PS_UID || f.tag == KO_TAG_PS_STAT
          || f.tag == KO_TAG_PS_CMD || f.tag == KO_TAG_PS_UPTIME)
        {
          if (ko_ps_info_take (&f, &out.info, out.n, &out.uptime_ms, err) < 0)
            goto fail;
          continue;
        }
      if (f.tag != KO_TAG_PID)
        continue;
      if (out.n >= KO_MON_MAX_PIDS)
        {
          ko_error_setx (err, E2BIG, "pids: more than %d", KO_MON_MAX_PIDS);
          goto fail;
        }
      if (out.n == cap)
        {
          cap = cap ? 2 * cap : 64;
          uint32_t *np = realloc (out.pids, cap * sizeof *np);
          if (np == NULL)
            {
              ko_error_set (err, ENOMEM, "pids");
              goto fail;
            }
          out.pids = np;
        }
      if (take_u32 (&f, &out.pids[out.n], "pids", err) < 0)
        goto fail;
      out.n++;
    }
  if (r < 0)
    {
      truncated (err, "pids");
      goto fail;
    }
  *m = out;
  return 0;
fail:
  ko_mon_pids_clear (&out);
  return -1;
}

void
ko_mon_pids_clear (struct ko_mon_pids *m)
{
  free (m->pids);
  ko_ps_info_free (m->info, m->n < KO_MAX_PS_INFO ? m->n : KO_MAX_PS_INFO);
  memset (m, 0, sizeof *m);
}

int
ko_mon_stats_encode (struct ko_buf *b, const struct ko_mon_stats *m)
{
  if (ko_msg_stats_container_reply_encode (b, &m->guest) < 0
      || ko_tlv_put_u64 (b, KO_MON_TAG_VM_RSS, m->vm_rss) < 0
      || ko_tlv_put_u64 (b, KO_MON_TAG_VM_CPU_NS, m->vm_cpu_ns) < 0)
    return -1;
  return ko_tlv_put_u64 (b, KO_MON_TAG_OOM_COUNT, m->oom_count);
}

int
ko_mon_stats_decode (struct ko_tlv body, struct ko_mon_stats *m, ko_error **err)
{
  struct ko_mon_stats out = { 0 };
  /* the guest's fields, the agent's decoder: it skips the monitor's */
  if (ko_msg_stats_container_reply_decode (body, &out.guest, err) < 0)
    return -1;
  struct ko_field f;
  int r;
  while ((r = ko_tlv_next (&body, &f)) > 0)
    {
      uint64_t *dst = f.tag == KO_MON_TAG_VM_RSS      ? &out.vm_rss
                      : f.tag == KO_MON_TAG_VM_CPU_NS ? &out.vm_cpu_ns
                      : f.tag == KO_MON_TAG_OOM_COUNT ? &out.oom_count
                                                      : NULL;
      if (dst && take_u64 (&f, dst, "stats", err) < 0)
        return -1;
    }
  if (r < 0)
    return truncated (err, "stats");
  *m = out;
  return 0;
}

/* ---- metrics ---- */

const uint64_t ko_mon_lat_bounds_us[KO_MON_LAT_BUCKETS]
    = { 500,   1000,   2500,   5000,   10000,   25000,
        50000, 100000, 250000, 500000, 1000000, 5000000 };

int
ko_mon_metrics_add_proc (struct ko_mon_metrics *m, const char *role,
                         const char *container_id, uint32_t pid, uint32_t has,
                         const uint64_t v[KO_PV_N])
{
  if (m->nprocs >= KO_MON_MAX_PROCS)
    return -1;
  struct ko_mon_proc *n = realloc (m->procs, (m->nprocs + 1) * sizeof *n);
  if (n == NULL)
    return -1;
  m->procs = n;
  struct ko_mon_proc *p = &n[m->nprocs];
  memset (p, 0, sizeof *p);
  p->role = strdup (role);
  p->container_id = container_id ? strdup (container_id) : NULL;
  if (p->role == NULL || (container_id && p->container_id == NULL))
    {
      free (p->role);
      free (p->container_id);
      return -1;
    }
  p->pid = pid;
  p->has = has & ((1u << KO_PV_N) - 1);
  memcpy (p->v, v, sizeof p->v);
  m->nprocs++;
  return 0;
}

int
ko_mon_metrics_encode (struct ko_buf *b, const struct ko_mon_metrics *m)
{
  int r = 0;
  for (size_t i = 0; i < m->nprocs; i++)
    {
      const struct ko_mon_proc *p = &m->procs[i];
      size_t off = ko_tlv_begin (b, KO_MON_TAG_MX_PROC);
      r |= ko_tlv_put_str (b, KO_MON_TAG_MX_ROLE, p->role);
      r |= ko_tlv_put_str (b, KO_TAG_CONTAINER_ID, p->container_id);
      r |= ko_tlv_put_u32 (b, KO_TAG_PID, p->pid);
      for (unsigned k = 0; k < KO_PV_N; k++)
        if (p->has & (1u << k))
          r |= ko_tlv_put_u64 (b, KO_MON_TAG_MX_PV_FIRST + k, p->v[k]);
      ko_tlv_end (b, off);
    }
  for (unsigned k = 0; k < KO_CHAN_N; k++)
    r |= ko_tlv_put_u64 (b, KO_MON_TAG_MX_CHAN_FIRST + k, m->chan[k]);
  r |= ko_tlv_put_u64 (b, KO_MON_TAG_MX_BOOT_NS, m->boot_ns);
  r |= ko_tlv_put_u64 (b, KO_MON_TAG_MX_UPTIME_NS, m->uptime_ns);
  r |= ko_tlv_put_u32 (b, KO_MON_TAG_MX_GUEST_UP, m->guest_up);
  r |= ko_tlv_put_u64 (b, KO_MON_TAG_MX_GUEST_NS, m->guest_ns);
  for (size_t i = 0; i < m->nlat; i++)
    {
      const struct ko_mon_latency *l = &m->lat[i];
      uint8_t raw[KO_MON_LAT_BUCKETS * 8];
      for (unsigned k = 0; k < KO_MON_LAT_BUCKETS; k++)
        for (unsigned j = 0; j < 8; j++)
          raw[k * 8 + j] = (uint8_t)(l->buckets[k] >> (8 * j));
      size_t off = ko_tlv_begin (b, KO_MON_TAG_MX_LATENCY);
      r |= ko_tlv_put_u32 (b, KO_MON_TAG_MX_LAT_METHOD, l->method);
      r |= ko_tlv_put_u64 (b, KO_MON_TAG_MX_LAT_COUNT, l->count);
      r |= ko_tlv_put_u64 (b, KO_MON_TAG_MX_LAT_SUM_NS, l->sum_ns);
      r |= ko_tlv_put_bytes (b, KO_MON_TAG_MX_LAT_BUCKETS, raw, sizeof raw);
      ko_tlv_end (b, off);
    }
  for (size_t i = 0; i < m->nnics; i++)
    {
      size_t off = ko_tlv_begin (b, KO_MON_TAG_MX_NIC);
      r |= ko_tlv_put_str (b, KO_MON_TAG_MX_NIC_NAME, m->nics[i].name);
      for (unsigned k = 0; k < KO_NIC_N; k++)
        r |= ko_tlv_put_u64 (b, KO_MON_TAG_MX_NIC_FIRST + k, m->nics[i].v[k]);
      ko_tlv_end (b, off);
    }
  if (m->guest_up)
    {
      size_t off = ko_tlv_begin (b, KO_MON_TAG_MX_GUEST);
      r |= ko_msg_guest_metrics_reply_encode (b, &m->guest);
      ko_tlv_end (b, off);
    }
  return r ? -1 : 0;
}

static int
proc_decode (const struct ko_field *f, struct ko_mon_metrics *m, ko_error **err)
{
  struct ko_tlv r = ko_field_nested (f);
  _cleanup_free_ char *role = NULL, *cid = NULL;
  uint32_t pid = 0, has = 0;
  uint64_t v[KO_PV_N] = { 0 };
  struct ko_field g;
  int n;
  while ((n = ko_tlv_next (&r, &g)) > 0)
    {
      int k = g.tag - KO_MON_TAG_MX_PV_FIRST;
      if (g.tag == KO_MON_TAG_MX_ROLE)
        n = take_str (&g, &role, "metrics: process", err);
      else if (g.tag == KO_TAG_CONTAINER_ID)
        n = take_str (&g, &cid, "metrics: process", err);
      else if (g.tag == KO_TAG_PID)
        n = take_u32 (&g, &pid, "metrics: process", err);
      else if (k >= 0 && k < KO_PV_N)
        {
          n = take_u64 (&g, &v[k], "metrics: process", err);
          has |= 1u << k;
        }
      if (n < 0)
        return -1;
    }
  if (n < 0)
    return truncated (err, "metrics: process");
  if (role == NULL)
    return ko_error_setx (err, EINVAL, "metrics: a process without a role");
  if (ko_mon_metrics_add_proc (m, role, cid, pid, has, v) < 0)
    return ko_error_setx (err, E2BIG, "metrics: more than %d processes",
                          KO_MON_MAX_PROCS);
  return 0;
}

static int
latency_decode (const struct ko_field *f, struct ko_mon_metrics *m,
                ko_error **err)
{
  struct ko_mon_latency l = { 0 };
  struct ko_tlv r = ko_field_nested (f);
  struct ko_field g;
  bool have_buckets = false;
  int n;
  while ((n = ko_tlv_next (&r, &g)) > 0)
    {
      if (g.tag == KO_MON_TAG_MX_LAT_METHOD)
        n = take_u32 (&g, &l.method, "metrics: latency", err);
      else if (g.tag == KO_MON_TAG_MX_LAT_COUNT)
        n = take_u64 (&g, &l.count, "metrics: latency", err);
      else if (g.tag == KO_MON_TAG_MX_LAT_SUM_NS)
        n = take_u64 (&g, &l.sum_ns, "metrics: latency", err);
      else if (g.tag == KO_MON_TAG_MX_LAT_BUCKETS)
        {
          if (g.len != KO_MON_LAT_BUCKETS * 8)
            return bad (err, "metrics: latency", &g);
          for (unsigned k = 0; k < KO_MON_LAT_BUCKETS; k++)
            for (unsigned j = 0; j < 8; j++)
              l.buckets[k] |= (uint64_t)g.val[k * 8 + j] << (8 * j);
          have_buckets = true;
        }
      if (n < 0)
        return -1;
    }
  if (n < 0)
    return truncated (err, "metrics: latency");
  /* cumulative buckets never fall and never pass the count */
  for (unsigned k = 0; have_buckets && k < KO_MON_LAT_BUCKETS; k++)
    if (l.buckets[k] > l.count || (k > 0 && l.buckets[k] < l.buckets[k - 1]))
      return ko_error_setx (err, EINVAL,
                            "metrics: latency of method %u: buckets out of "
                            "order",
                            l.method);
  if (!have_buckets)
    return ko_error_setx (err, EINVAL, "metrics: latency without buckets");
  if (m->nlat >= KO_MON_MAX_METHODS)
    return ko_error_setx (err, E2BIG, "metrics: more than %d methods",
                          KO_MON_MAX_METHODS);
  struct ko_mon_latency *nl = realloc (m->lat, (m->nlat + 1) * sizeof *nl);
  if (nl == NULL)
    return ko_error_set (err, ENOMEM, "metrics");
  m->lat = nl;
  nl[m->nlat++] = l;
  return 0;
}

static int
nic_decode (const struct ko_field *f, struct ko_mon_metrics *m, ko_error **err)
{
  if (m->nnics >= KO_MON_MAX_NICS)
    return ko_error_setx (err, E2BIG, "metrics: more than %d NICs",
                          KO_MON_MAX_NICS);
  struct ko_mon_nic *nic = &m->nics[m->nnics];
  memset (nic, 0, sizeof *nic);
  struct ko_tlv r = ko_field_nested (f);
  struct ko_field g;
  int n;
  while ((n = ko_tlv_next (&r, &g)) > 0)
    {
      int k = g.tag - KO_MON_TAG_MX_NIC_FIRST;
      if (g.tag == KO_MON_TAG_MX_NIC_NAME)
        {
          if (g.len == 0 || g.len >= KO_IFNAMSIZ || memchr (g.val, '\0', g.len))
            return bad (err, "metrics: NIC", &g);
          memcpy (nic->name, g.val, g.len);
          nic->name[g.len] = '\0';
        }
      else if (k >= 0 && k < KO_NIC_N
               && take_u64 (&g, &nic->v[k], "metrics: NIC", err) < 0)
        return -1;
    }
  if (n < 0)
    return truncated (err, "metrics: NIC");
  if (nic->name[0] == '\0')
    return ko_error_setx (err, EINVAL, "metrics: a NIC without a name");
  m->nnics++;
  return 0;
}

int
ko_mon_metrics_decode (struct ko_tlv body, struct ko_mon_metrics *m,
                       ko_error **err)
{
  struct ko_mon_metrics out = { 0 };
  struct ko_field f;
  uint32_t up = 0;
  bool have_guest = false;
  int r;
  while ((r = ko_tlv_next (&body, &f)) > 0)
    {
      int k = f.tag - KO_MON_TAG_MX_CHAN_FIRST;
      if (f.tag == KO_MON_TAG_MX_PROC)
        r = proc_decode (&f, &out, err);
      else if (k >= 0 && k < KO_CHAN_N)
        r = take_u64 (&f, &out.chan[k], "metrics", err);
      else if (f.tag == KO_MON_TAG_MX_BOOT_NS)
        r = take_u64 (&f, &out.boot_ns, "metrics", err);
      else if (f.tag == KO_MON_TAG_MX_UPTIME_NS)
        r = take_u64 (&f, &out.uptime_ns, "metrics", err);
      else if (f.tag == KO_MON_TAG_MX_GUEST_NS)
        r = take_u64 (&f, &out.guest_ns, "metrics", err);
      else if (f.tag == KO_MON_TAG_MX_GUEST_UP)
        r = take_u32 (&f, &up, "metrics", err);
      else if (f.tag == KO_MON_TAG_MX_LATENCY)
        r = latency_decode (&f, &out, err);
      else if (f.tag == KO_MON_TAG_MX_NIC)
        r = nic_decode (&f, &out, err);
      else if (f.tag == KO_MON_TAG_MX_GUEST)
        {
          if (have_guest)
            r = bad (err, "metrics", &f);
          else if ((r = ko_msg_guest_metrics_reply_decode (ko_field_nested (&f),
                                                           &out.guest, err))
                   == 0)
            have_guest = true;
          else
            ko_error_wrap (err, "metrics: guest");
        }
      if (r < 0)
        goto fail;
    }
  if (r < 0)
    {
      truncated (err, "metrics");
      goto fail;
    }
  if ((up != 0) != have_guest)
    {
      ko_error_setx (err, EINVAL, "metrics: the guest's part %s",
                     have_guest ? "without guest_up" : "is missing");
      goto fail;
    }
  out.guest_up = up != 0;
  *m = out;
  return 0;
fail:
  ko_mon_metrics_clear (&out);
  return -1;
}

void
ko_mon_metrics_clear (struct ko_mon_metrics *m)
{
  if (m == NULL)
    return;
  for (size_t i = 0; i < m->nprocs; i++)
    {
      free (m->procs[i].role);
      free (m->procs[i].container_id);
    }
  free (m->procs);
  free (m->lat);
  ko_msg_guest_metrics_reply_clear (&m->guest);
  memset (m, 0, sizeof *m);
}
