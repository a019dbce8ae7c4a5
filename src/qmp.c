#include "config.h"

#include "qmp.h"
#include "unixsock.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

void
qmp_msg_clear (struct qmp_msg *m)
{
  free (m->error);
  free (m->event);
  free (m->device);
  memset (m, 0, sizeof *m);
}

static yajl_val
get (yajl_val root, yajl_type type, const char *a, const char *b, const char *c)
{
  const char *path[] = { a, b, c, NULL };
  return yajl_tree_get (root, path, type);
}

/* A bounded, printable copy of QEMU's words. */
static char *
printable (const char *s)
{
  size_t n = strnlen (s, KO_QMP_DESC_MAX);
  char *out = strndup (s, n);
  if (out)
    for (char *c = out; *c; c++)
      if ((unsigned char)*c < 0x20 || *c == 0x7f)
        *c = ' ';
  return out;
}

int
qmp_parse (const char *line, size_t len, struct qmp_msg *m, ko_error **err)
{
  if (len > KO_QMP_LINE_MAX)
    return ko_error_setx (err, EPROTO, "QMP: a message of %zu bytes", len);
  if (memchr (line, '\0', len))
    return ko_error_setx (err, EPROTO, "QMP: a NUL byte in a message");
  _cleanup_free_ char *copy = strndup (line, len);
  if (copy == NULL)
    return ko_error_set (err, ENOMEM, "QMP");
  char ebuf[128] = "";
  yajl_val root = yajl_tree_parse (copy, ebuf, sizeof ebuf);
  if (root == NULL || !YAJL_IS_OBJECT (root))
    {
      yajl_tree_free (root);
      return ko_error_setx (err, EPROTO, "QMP: not a JSON object");
    }
  struct qmp_msg r = { 0 };
  yajl_val v;
  int ret = 0;
  if (get (root, yajl_t_any, "return", NULL, NULL))
    r.kind = QMP_RETURN;
  else if (get (root, yajl_t_object, "error", NULL, NULL))
    {
      r.kind = QMP_ERROR;
      v = get (root, yajl_t_string, "error", "desc", NULL);
      r.error = printable (v ? YAJL_GET_STRING (v) : "(no description)");
      if (r.error == NULL)
        ret = ko_error_set (err, ENOMEM, "QMP");
    }
  else if ((v = get (root, yajl_t_string, "event", NULL, NULL)) != NULL)
    {
      r.kind = QMP_EVENT;
      r.event = printable (YAJL_GET_STRING (v));
      v = get (root, yajl_t_string, "data", "info", "device");
      /* DEVICE_DELETED names it one level up */
      if (v == NULL)
        v = get (root, yajl_t_string, "data", "device", NULL);
      if (v)
        r.device = printable (YAJL_GET_STRING (v));
      v = get (root, yajl_t_number, "data", "info", "status");
      if (v && YAJL_IS_INTEGER (v))
        r.status = YAJL_GET_INTEGER (v);
      if (r.event == NULL)
        ret = ko_error_set (err, ENOMEM, "QMP");
    }
  else if (get (root, yajl_t_object, "QMP", NULL, NULL))
    r.kind = QMP_GREETING;
  else
    ret = ko_error_setx (err, EPROTO, "QMP: an unknown message");
  yajl_tree_free (root);
  if (ret < 0)
    {
      qmp_msg_clear (&r);
      return -1;
    }
  *m = r;
  return 0;
}

int
qmp_connect (const char *path, struct ko_qmp *q, ko_error **err)
{
  /* any length: ko_unix_connect goes through the directory's fd */
  const char *slash = strrchr (path, '/');
  _cleanup_free_ char *dir
      = slash == NULL
            ? strdup (".")
            : strndup (path, slash == path ? 1 : (size_t)(slash - path));
  if (dir == NULL)
    return ko_error_set (err, ENOMEM, "QMP");
  _cleanup_close_ int fd = ko_unix_connect (dir, slash ? slash + 1 : path, err);
  if (fd < 0)
    return -1;
  int fl = fcntl (fd, F_GETFL);
  if (fl < 0 || fcntl (fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return ko_error_set (err, errno, "QMP socket");
  q->fd = take_fd (fd);
  q->in = (struct ko_buf){ 0 };
  return 0;
}

void
qmp_close (struct ko_qmp *q)
{
  if (q->fd >= 0)
    close (q->fd);
  q->fd = -1;
  ko_buf_free (&q->in);
}

static int send_rest (struct ko_qmp *q, const char *line, ko_error **err);

int
qmp_send (struct ko_qmp *q, const char *json, int fd, ko_error **err)
{
  _cleanup_free_ char *line = NULL;
  if (asprintf (&line, "%s\n", json) < 0)
    return ko_error_set (err, ENOMEM, "QMP");
  if (fd >= 0)
    {
      /* with the command's first bytes: QEMU keeps the fd that came with
       * what it read last */
      ssize_t w;
      do
        {
          w = ko_unix_send_fd (q->fd, fd, line, 1);
          if (w < 0 && errno == EAGAIN)
            {
              struct pollfd pfd = { .fd = q->fd, .events = POLLOUT };
              if (poll (&pfd, 1, 5000) <= 0)
                return ko_error_setx (err, ETIMEDOUT,
                                      "QMP: QEMU does not read");
            }
        }
      while (w < 0 && (errno == EAGAIN || errno == EINTR));
      if (w < 0)
        return ko_error_set (err, errno, "QMP: send");
      return send_rest (q, line + 1, err);
    }
  return send_rest (q, line, err);
}

static int
send_rest (struct ko_qmp *q, const char *line, ko_error **err)
{
  /* commands are small: the socket buffer takes them whole, or QEMU is
   * stuck and a short wait says so */
  size_t len = strlen (line), off = 0;
  while (off < len)
    {
      ssize_t w = send (q->fd, line + off, len - off, MSG_NOSIGNAL);
      if (w < 0 && errno == EAGAIN)
        {
          struct pollfd pfd = { .fd = q->fd, .events = POLLOUT };
          if (poll (&pfd, 1, 5000) <= 0)
            return ko_error_setx (err, ETIMEDOUT, "QMP: QEMU does not read");
          continue;
        }
      if (w < 0)
        return ko_error_set (err, errno, "QMP: send");
      off += (size_t)w;
    }
  return 0;
}

int
qmp_read (struct ko_qmp *q, struct qmp_msg *m, ko_error **err)
{
  for (;;)
    {
      uint8_t *nl = q->in.len ? memchr (q->in.data, '\n', q->in.len) : NULL;
      if (nl)
        {
          size_t n = (size_t)(nl - q->in.data);
          size_t line = n && q->in.data[n - 1] == '\r' ? n - 1 : n;
          int r = qmp_parse ((const char *)q->in.data, line, m, err);
          memmove (q->in.data, nl + 1, q->in.len - n - 1);
          q->in.len -= n + 1;
          return r < 0 ? -1 : 1;
        }
      if (q->in.len > KO_QMP_LINE_MAX)
        return ko_error_setx (err, EPROTO, "QMP: a line longer than %d bytes",
                              KO_QMP_LINE_MAX);
      char buf[4096];
      ssize_t r = read (q->fd, buf, sizeof buf);
      if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
      if (r < 0)
        return ko_error_set (err, errno, "QMP: read");
      if (r == 0)
        return ko_error_setx (err, EPIPE, "QMP: QEMU closed the connection");
      if (ko_buf_append (&q->in, buf, (size_t)r) < 0)
        return ko_error_set (err, ENOMEM, "QMP");
    }
}
