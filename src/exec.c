#include "config.h"

#include "console.h"
#include "exec.h"
#include "log.h"
#include "member.h"
#include "client.h"
#include "oci.h"
#include "loop.h"
#include "paths.h"
#include "proc.h"
#include "report.h"
#include "state.h"
#include "translate.h"
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
#include <uuid/uuid.h>

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
build_process (const struct exec_opts *o, const char *bundle, bool notify,
               ko_error **err)
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
  /* runc's sd_notify proxy is in the container's saved env */
  if (notify)
    env_set (p, "NOTIFY_SOCKET=/run/notify/notify.sock");
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

/* Starts the process and relays until it exits. report_fd (-d) learns "OK"
 * or "E<message>" once the process has started. Without -d, once it has
 * started, this process's pid goes to o's --pid-file and --pidfd-socket
 * (fg, NULL with -d: the parent names the relay). */
static int
relay (const char *dir, const struct ko_mon_exec *req, bool local_tty,
       int *report_fd, const struct exec_opts *fg, ko_error **err)
{
  /* signals become requests from here on */
  sigset_t set;
  sigemptyset (&set);
  int sigs[] = { KO_FORWARDED_SIGNALS };
  for (size_t i = 0; i < KO_ARRAY_SIZE (sigs); i++)
    sigaddset (&set, sigs[i]);
  sigprocmask (SIG_BLOCK, &set, NULL);
  _cleanup_close_ int sfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  int fds[3] = { 0, 1, 2 };
  _cleanup_close_ int conn = -1;
  uint32_t pid;
  struct ko_buf in = { 0 };
  if (client_exec_open (dir, req, fds, 3, 60000, &conn, &pid, &in, err) < 0)
    {
      ko_buf_free (&in);
      return -1;
    }
  report_ok (report_fd, 0);
  if (fg
      && ((fg->pid_file && write_pid_file (fg->pid_file, getpid (), err) < 0)
          || (fg->pidfd_socket
              && send_pidfd (fg->pidfd_socket, getpid (), "setns", err) < 0)))
    {
      ko_buf_free (&in);
      return -1;
    }
  struct winsize ws;
  if (local_tty)
    {
      console_raw_stdin ();
      if (ioctl (0, TIOCGWINSZ, &ws) == 0)
        client_exec_resize (conn, ws.ws_row, ws.ws_col);
    }
  int ret = -1;
  uint32_t status;
  /* a short process's exit may have come with the reply */
  if (client_exec_wait (conn, &in, false, &status) > 0)
    {
      console_restore_stdin ();
      ko_buf_free (&in);
      return ko_exit_code ((int)status);
    }
  for (;;)
    {
      struct pollfd p[2] = { { conn, POLLIN, 0 }, { sfd, POLLIN, 0 } };
      if (poll (p, 2, -1) < 0 && errno != EINTR)
        break;
      struct signalfd_siginfo si;
      while ((p[1].revents & POLLIN) && read (sfd, &si, sizeof si) == sizeof si)
        {
          if (si.ssi_signo != SIGWINCH)
            client_exec_kill (conn, (int)si.ssi_signo);
          else if (local_tty && ioctl (0, TIOCGWINSZ, &ws) == 0)
            client_exec_resize (conn, ws.ws_row, ws.ws_col);
        }
      if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      int r = client_exec_wait (conn, &in, true, &status);
      if (r < 0)
        {
          ko_error_setx (err, EPIPE,
                         "exec: the container stopped before the process "
                         "exited");
          break;
        }
      if (r > 0)
        {
          ret = ko_exit_code ((int)status);
          break;
        }
    }
  console_restore_stdin ();
  ko_buf_free (&in);
  return ret;
}

int
exec_run (struct ko_global *g, const struct exec_opts *o, ko_error **err)
{
  struct ko_state st = { 0 };
  for (;;)
    {
      _cleanup_close_ int dfd = -1;
      if (state_dir_open_shared (g->root, o->id, &dfd, err) < 0)
        return -1;
      if (state_read (dfd, &st, err) < 0)
        return ko_error_wrap (err, "container %s", o->id);
      /* --ignore-paused: runc's process would join the frozen cgroup and
       * wait there for the thaw. The guest's agent serves one spawn at a
       * time, and one stuck in a frozen group would hold up the resume
       * itself: the process is started after the resume instead, which
       * looks the same from outside. */
      if (!o->ignore_paused || strcmp (state_status (&st), "paused") != 0)
        break;
      state_clear (&st);
      usleep (50000);
    }
  /* a pod member's process runs in its sandbox's VM */
  _cleanup_free_ char *dir = member_monitor_dir (g, &st);
  const char *status = state_status (&st);
  /* as runc: a created container's namespaces are there to join */
  if (strcmp (status, "running") != 0 && strcmp (status, "created") != 0)
    {
      if (strcmp (status, "paused") == 0)
        ko_error_setx (err, EINVAL,
                       "cannot exec in a paused container (use "
                       "--ignore-paused to override)");
      else
        ko_error_setx (err, EINVAL, "cannot exec in a %s container", status);
      state_clear (&st);
      return -1;
    }
  oci_process *op = build_process (o, st.bundle ? st.bundle : "",
                                   st.notify_socket != NULL, err);
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
  if (r == 0 && o->cgroups && o->cgroups[0])
    {
      size_t n = 0;
      while (o->cgroups[n])
        n++;
      r = translate_exec_cgroup (o->cgroups, n, &kp.cgroup, err);
      if (r < 0)
        ko_process_clear (&kp);
    }
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
  /* unique in the container for as long as it lives, and then some */
  uuid_t u;
  char exec_id[64] = "exec-";
  uuid_generate_random (u);
  uuid_unparse_lower (u, exec_id + 5);
  uint32_t rows = kp.rows, cols = kp.cols;
  /* with -d the relay makes the pty itself (below) */
  /* a pod member's monitor is its sandbox's: name the container */
  struct ko_mon_exec req
      = { .container_id = (char *)o->id,
          .exec_id = exec_id,
          .process = kp,
          .console_socket
          = o->console_socket && !o->detach ? (char *)o->console_socket : NULL,
          .detached = o->detach };
  if (!o->detach)
    {
      int none = -1;
      r = relay (dir, &req, local_tty, &none, o, err);
      ko_process_clear (&kp);
      return r;
    }
  int pfd[2];
  if (pipe2 (pfd, O_CLOEXEC) < 0)
    {
      ko_process_clear (&kp);
      return ko_error_set (err, errno, "pipe");
    }
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0)
    {
      ko_process_clear (&kp);
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
        st = relay (dir, &req, o->console_socket != NULL, &pfd[1], NULL, &rerr);
      /* before the start: the parent hears it; after: just log */
      if (st < 0 && rerr)
        {
          if (pfd[1] >= 0)
            report_error (&pfd[1], rerr->msg);
          else
            log_error ("%s", rerr->msg);
        }
      _exit (st < 0 ? 255 : st);
    }
  close (pfd[1]);
  ko_process_clear (&kp);
  pid_t unused;
  r = report_read (pfd[0], &unused, "exec relay failed", err);
  close (pfd[0]);
  if (r < 0)
    {
      waitpid (pid, NULL, 0);
      return -1;
    }
  if ((o->pid_file && write_pid_file (o->pid_file, pid, err) < 0)
      || (o->pidfd_socket
          && send_pidfd (o->pidfd_socket, pid, "setns", err) < 0))
    {
      kill (pid, SIGKILL);
      return -1;
    }
  return 0;
}
