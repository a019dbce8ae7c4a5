#include "config.h"

#include "console.h"
#include "exec.h"
#include "log.h"
#include "monitor.h"
#include "oci.h"
#include "paths.h"
#include "proc.h"
#include "state.h"
#include "translate.h"
#include "unixsock.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

static int
parse_u32 (const char *s, uint32_t *out)
{
  char *end;
  errno = 0;
  unsigned long v = strtoul (s, &end, 10);
  if (errno || *s == '\0' || *end || v > UINT32_MAX)
    return -1;
  *out = (uint32_t)v;
  return 0;
}

/* Appends a copy of s to the NULL-terminated vector *v of *n strings. */
static int
push_dup (char ***v, size_t *n, const char *s)
{
  char *d = strdup (s);
  if (d == NULL || ko_strv_push (v, n, d) < 0)
    {
      free (d);
      return -1;
    }
  return 0;
}

/* Sets or replaces NAME=... in a NULL-terminated env held by p. */
static int
env_set (oci_process *p, const char *kv)
{
  const char *eq = strchr (kv, '=');
  size_t klen = eq ? (size_t)(eq - kv) : strlen (kv);
  for (size_t i = 0; i < p->env_len; i++)
    if (strncmp (p->env[i], kv, klen) == 0 && p->env[i][klen] == '=')
      {
        free (p->env[i]);
        p->env[i] = strdup (kv);
        return p->env[i] ? 0 : -1;
      }
  return push_dup (&p->env, &p->env_len, kv);
}

/* The process: --process FILE, or the container's own process with the
 * command line's args and overrides (as runc does). */
static oci_process *
build_process (const struct exec_opts *o, const char *bundle, ko_error **err)
{
  if (o->process_file)
    return oci_process_parse_file (o->process_file, err);
  _cleanup_free_ char *cfg = NULL;
  if (asprintf (&cfg, "%s/config.json", bundle) < 0)
    return NULL;
  oci_spec *spec = oci_spec_parse_file (cfg, err);
  if (spec == NULL)
    return NULL;
  oci_process *p = spec->process;
  spec->process = NULL;
  oci_spec_free (spec);
  if (p == NULL)
    {
      ko_error_setx (err, EINVAL, "config.json: process: missing");
      return NULL;
    }
  for (size_t i = 0; i < p->args_len; i++)
    free (p->args[i]);
  free (p->args);
  p->args_len = 0;
  for (char **a = o->args; *a; a++)
    p->args_len++;
  p->args = calloc (p->args_len + 1, sizeof (char *));
  for (size_t i = 0; p->args && i < p->args_len; i++)
    p->args[i] = strdup (o->args[i]);
  p->terminal = o->tty;
  p->has_console_size = false;
  if (o->cwd)
    {
      free (p->cwd);
      p->cwd = strdup (o->cwd);
    }
  for (char **e = o->env; e && *e; e++)
    env_set (p, *e);
  if (o->no_new_privs)
    p->no_new_privileges = true;
  if (o->user || o->add_gids[0])
    {
      if (p->user == NULL)
        p->user = calloc (1, sizeof *p->user);
      if (p->user == NULL)
        goto nomem;
    }
  if (o->user)
    {
      _cleanup_free_ char *u = strdup (o->user);
      char *colon = u ? strchr (u, ':') : NULL;
      if (colon)
        *colon = '\0';
      if (u == NULL || parse_u32 (u, &p->user->uid) < 0
          || (colon && parse_u32 (colon + 1, &p->user->gid) < 0))
        {
          oci_process_free (p);
          ko_error_setx (err, EINVAL,
                         "exec: --user: expected UID[:GID] as numbers, not "
                         "\"%s\"",
                         o->user);
          return NULL;
        }
    }
  for (char **g = o->add_gids; *g; g++)
    {
      uint32_t gid;
      if (parse_u32 (*g, &gid) < 0)
        {
          ko_error_setx (err, EINVAL,
                         "exec: --additional-gids: \"%s\" is not a number", *g);
          oci_process_free (p);
          return NULL;
        }
      uint32_t *ng = realloc (p->user->additional_gids,
                              (p->user->additional_gids_len + 1) * sizeof *ng);
      if (ng == NULL)
        goto nomem;
      ng[p->user->additional_gids_len++] = gid;
      p->user->additional_gids = ng;
    }
  /* runc: --cap adds to the bounding, effective and permitted sets, and to
   * the ambient set when the process has inheritable ones (ambient needs
   * inheritable); an unknown name fails later, where every set is checked */
  if (o->caps[0] && p->capabilities == NULL)
    {
      p->capabilities = calloc (1, sizeof *p->capabilities);
      if (p->capabilities == NULL)
        goto nomem;
    }
  for (char **c = o->caps; *c; c++)
    {
      oci_capabilities *pc = p->capabilities;
      if (push_dup (&pc->bounding, &pc->bounding_len, *c) < 0
          || push_dup (&pc->effective, &pc->effective_len, *c) < 0
          || push_dup (&pc->permitted, &pc->permitted_len, *c) < 0
          || (pc->inheritable
              && push_dup (&pc->ambient, &pc->ambient_len, *c) < 0))
        goto nomem;
    }
  return p;
nomem:
  oci_process_free (p);
  ko_error_set (err, ENOMEM, "exec");
  return NULL;
}

static int
send_request (int fd, const struct ko_buf *req, const int *fds, int nfds)
{
  union
  {
    char buf[CMSG_SPACE (3 * sizeof (int))];
    struct cmsghdr align;
  } u;
  memset (&u, 0, sizeof u);
  struct iovec iov = { req->data, req->len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (nfds > 0)
    {
      msg.msg_control = u.buf;
      msg.msg_controllen = CMSG_SPACE (nfds * sizeof (int));
      struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (nfds * sizeof (int));
      memcpy (CMSG_DATA (c), fds, nfds * sizeof (int));
    }
  return sendmsg (fd, &msg, MSG_NOSIGNAL) == (ssize_t)req->len ? 0 : -1;
}

/* Reads one frame from fd into buf (blocking, with a timeout). */
static int
read_frame (int fd, struct ko_buf *in, struct ko_frame_hdr *h, int timeout_ms)
{
  uint64_t end = timeout_ms < 0 ? 0 : now_ms () + timeout_ms;
  for (;;)
    {
      if (in->len >= KO_FRAME_HDR_SIZE)
        {
          if (ko_frame_hdr_decode (in->data, h, NULL) < 0)
            return -1;
          if (in->len >= KO_FRAME_HDR_SIZE + h->len)
            return 1;
        }
      int wait = -1;
      if (timeout_ms >= 0)
        {
          uint64_t now = now_ms ();
          if (now >= end)
            return -1;
          wait = (int)(end - now);
        }
      struct pollfd p = { fd, POLLIN, 0 };
      if (poll (&p, 1, wait) <= 0)
        return -1;
      if (ko_buf_reserve (in, 4096) < 0)
        return -1;
      ssize_t n = read (fd, in->data + in->len, 4096);
      if (n <= 0)
        return 0;
      in->len += n;
    }
}

static void
send_small (int conn, uint16_t method, uint16_t tag1, uint32_t v1,
            uint16_t tag2, uint32_t v2)
{
  struct ko_buf b = { 0 }, f = { 0 };
  ko_tlv_put_u32 (&b, tag1, v1);
  if (tag2)
    ko_tlv_put_u32 (&b, tag2, v2);
  ko_request_append (&f, 0, method, &b);
  if (write (conn, f.data, f.len) < 0)
    { /* the monitor is gone: the wait below sees it */
    }
  ko_buf_free (&b);
  ko_buf_free (&f);
}

/* Starts the process and relays until it exits. report_fd (-d) learns "OK"
 * or "E<message>" once the process has started. */
static int
relay (const char *dir, const struct ko_buf *req, bool local_tty, int report_fd,
       ko_error **err)
{
  _cleanup_close_ int conn = ko_unix_connect (dir, KO_MONITOR_SOCK, err);
  if (conn < 0)
    return ko_error_wrap (err, "connect to the monitor");
  /* signals become requests from here on */
  sigset_t set;
  sigemptyset (&set);
  int sigs[] = { KO_FORWARDED_SIGNALS };
  for (size_t i = 0; i < KO_ARRAY_SIZE (sigs); i++)
    sigaddset (&set, sigs[i]);
  sigprocmask (SIG_BLOCK, &set, NULL);
  _cleanup_close_ int sfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  int fds[3] = { 0, 1, 2 };
  if (send_request (conn, req, fds, 3) < 0)
    return ko_error_set (err, errno, "send to the monitor");
  struct ko_buf in = { 0 };
  struct ko_frame_hdr h;
  int r = read_frame (conn, &in, &h, 60000);
  if (r <= 0 || h.type != KO_FRAME_REPLY)
    {
      ko_buf_free (&in);
      return ko_error_setx (err, EPIPE, "no answer from the monitor");
    }
  uint32_t id, status;
  struct ko_tlv body;
  ko_parse_reply (in.data + KO_FRAME_HDR_SIZE, h.len, &id, &status, &body);
  if (status)
    {
      struct ko_field f;
      _cleanup_free_ char *msg = NULL;
      while (ko_tlv_next (&body, &f) > 0)
        if (f.tag == KO_TAG_ERROR && msg == NULL)
          ko_field_str (&f, &msg);
      ko_buf_free (&in);
      return ko_error_setx (err, (int)status, "%s", msg ? msg : "exec failed");
    }
  size_t used = KO_FRAME_HDR_SIZE + h.len;
  memmove (in.data, in.data + used, in.len - used);
  in.len -= used;
  if (report_fd >= 0)
    {
      if (write (report_fd, "OK", 2) < 0)
        { /* the parent is gone */
        }
      close (report_fd);
    }
  if (local_tty)
    {
      console_raw_stdin ();
      struct winsize ws;
      if (ioctl (0, TIOCGWINSZ, &ws) == 0)
        send_small (conn, KO_MON_RESIZE, KO_TAG_ROWS, ws.ws_row, KO_TAG_COLS,
                    ws.ws_col);
    }
  int ret = -1;
  for (;;)
    {
      struct pollfd p[2] = { { conn, POLLIN, 0 }, { sfd, POLLIN, 0 } };
      if (in.len == 0 && poll (p, 2, -1) < 0 && errno != EINTR)
        break;
      if (p[1].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          while (read (sfd, &si, sizeof si) == sizeof si)
            {
              struct winsize ws;
              if (si.ssi_signo == SIGWINCH)
                {
                  if (local_tty && ioctl (0, TIOCGWINSZ, &ws) == 0)
                    send_small (conn, KO_MON_RESIZE, KO_TAG_ROWS, ws.ws_row,
                                KO_TAG_COLS, ws.ws_col);
                }
              else
                send_small (conn, KO_MON_KILL, KO_TAG_SIGNAL, si.ssi_signo, 0,
                            0);
            }
        }
      if (in.len || (p[0].revents & (POLLIN | POLLHUP)))
        {
          r = read_frame (conn, &in, &h, 1000);
          if (r == 0)
            {
              ko_error_setx (err, EPIPE,
                             "exec: the container stopped before the process "
                             "exited");
              break;
            }
          if (r < 0)
            continue;
          uint16_t ev;
          struct ko_field f;
          uint32_t ws = 0;
          if (h.type == KO_FRAME_EVENT
              && ko_parse_event (in.data + KO_FRAME_HDR_SIZE, h.len, &ev, &body)
                     == 0
              && ev == KO_E_PROCESS_EXITED)
            {
              while (ko_tlv_next (&body, &f) > 0)
                if (f.tag == KO_TAG_STATUS)
                  ko_field_u32 (&f, &ws);
              ret = ko_exit_code ((int)ws);
              break;
            }
          used = KO_FRAME_HDR_SIZE + h.len;
          memmove (in.data, in.data + used, in.len - used);
          in.len -= used;
        }
    }
  console_restore_stdin ();
  ko_buf_free (&in);
  return ret;
}

int
exec_run (struct ko_global *g, const struct exec_opts *o, ko_error **err)
{
  _cleanup_free_ char *dir = state_dir_path (g->root, o->id);
  _cleanup_close_ int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return ko_error_setx (err, ENOENT, "container %s does not exist", o->id);
  struct ko_state st = { 0 };
  if (state_read (dfd, &st, err) < 0)
    return ko_error_wrap (err, "container %s", o->id);
  const char *status = state_status (&st);
  if (strcmp (status, "running") != 0)
    {
      ko_error_setx (err, EINVAL, "cannot exec in a %s container", status);
      state_clear (&st);
      return -1;
    }
  oci_process *op = build_process (o, st.bundle ? st.bundle : "", err);
  /* the container's seccomp filter applies to exec'd processes too */
  _cleanup_free_ char *cfg = NULL;
  oci_spec *spec = NULL;
  if (op && asprintf (&cfg, "%s/config.json", st.bundle ? st.bundle : "") > 0)
    spec = oci_spec_parse_file (cfg, err);
  state_clear (&st);
  if (op == NULL || spec == NULL)
    {
      oci_process_free (op);
      return -1;
    }
  if (op->terminal && o->console_socket == NULL && o->detach)
    {
      oci_process_free (op);
      oci_spec_free (spec);
      return ko_error_setx (err, EINVAL,
                            "cannot allocate tty if kata-oci will detach "
                            "without setting console socket");
    }
  if (!op->terminal && o->console_socket)
    {
      oci_process_free (op);
      oci_spec_free (spec);
      return ko_error_setx (err, EINVAL,
                            "cannot use console socket if kata-oci will not "
                            "allocate tty");
    }
  struct ko_process kp;
  int r = translate_process (op, &kp, err);
  if (r == 0 && translate_seccomp (spec, &kp, err) < 0)
    {
      ko_process_clear (&kp);
      r = -1;
    }
  if (r == 0)
    {
      struct ko_buf whole = { 0 };
      ko_process_encode (&whole, KO_TAG_PROCESS, &kp);
      r = translate_check_message ("the process", whole.len + 512, err);
      ko_buf_free (&whole);
      if (r < 0)
        ko_process_clear (&kp);
    }
  bool local_tty = op->terminal && o->console_socket == NULL && isatty (0);
  oci_process_free (op);
  oci_spec_free (spec);
  if (r < 0)
    return -1;
  char exec_id[64];
  snprintf (exec_id, sizeof exec_id, "exec-%d-%llu", (int)getpid (),
            (unsigned long long)now_ms ());
  struct ko_buf body = { 0 }, req = { 0 };
  ko_tlv_put_str (&body, KO_TAG_EXEC_ID, exec_id);
  ko_process_encode (&body, KO_TAG_PROCESS, &kp);
  uint32_t rows = kp.rows, cols = kp.cols;
  ko_process_clear (&kp);
  /* with -d the relay makes the pty itself (below) */
  if (o->console_socket && !o->detach)
    ko_tlv_put_str (&body, KO_MON_TAG_CONSOLE_SOCKET, o->console_socket);
  ko_request_append (&req, 1, KO_MON_EXEC, &body);
  ko_buf_free (&body);

  if (!o->detach)
    {
      r = relay (dir, &req, local_tty, -1, err);
      ko_buf_free (&req);
      return r;
    }
  int pfd[2];
  if (pipe2 (pfd, O_CLOEXEC) < 0)
    {
      ko_buf_free (&req);
      return ko_error_set (err, errno, "pipe");
    }
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0)
    {
      ko_buf_free (&req);
      return ko_error_set (err, errno, "fork");
    }
  if (pid == 0)
    {
      /* the detached relay: lives as long as the process, exits with it */
      close (pfd[0]);
      setsid ();
      log_set_stderr (false);
      _cleanup_error_ ko_error *rerr = NULL;
      /* the pty is the relay's controlling tty: a TIOCSWINSZ on the master
       * (conmon resizing) sends it SIGWINCH, which it forwards */
      int slave = -1, st = -1;
      if (o->console_socket
          && console_make_pty (o->console_socket, rows, cols, true, &slave,
                               &rerr)
                 == 0)
        {
          dup2 (slave, 0);
          dup2 (slave, 1);
          dup2 (slave, 2);
          if (slave > 2)
            close (slave);
        }
      if (o->console_socket == NULL || slave >= 0)
        st = relay (dir, &req, o->console_socket != NULL, pfd[1], &rerr);
      if (st < 0 && rerr)
        {
          /* before the start: tell the parent; after: just log */
          char *m = NULL;
          if (asprintf (&m, "E%s", rerr->msg) > 0)
            {
              if (write (pfd[1], m, strlen (m)) < 0)
                log_error ("%s", rerr->msg);
              free (m);
            }
        }
      _exit (st < 0 ? 255 : st);
    }
  close (pfd[1]);
  ko_buf_free (&req);
  char buf[4096];
  size_t len = 0;
  ssize_t n;
  while (len < sizeof buf - 1
         && (n = read (pfd[0], buf + len, sizeof buf - 1 - len)) > 0)
    {
      len += n;
      if (len >= 2 && memcmp (buf, "OK", 2) == 0)
        break;
    }
  close (pfd[0]);
  buf[len] = '\0';
  if (len < 2 || memcmp (buf, "OK", 2) != 0)
    {
      waitpid (pid, NULL, 0);
      return ko_error_setx (err, EIO, "%s",
                            buf[0] == 'E' ? buf + 1 : "exec relay failed");
    }
  if (o->pid_file && write_pid_file (o->pid_file, pid, err) < 0)
    {
      kill (pid, SIGKILL);
      return -1;
    }
  return 0;
}
