#include "config.h"

#include "hooks.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOOK_OUTPUT_MAX 4096

static int host_mntns = -1;

void
hooks_init (void)
{
  if (host_mntns < 0)
    host_mntns = open ("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
}

static char *
state_json (const oci_spec *spec, const char *id, const char *status, pid_t pid,
            const char *bundle, ko_error **err)
{
  oci_state st = { .oci_version = (char *)OCI_VERSION,
                   .id = (char *)id,
                   .status = (char *)status,
                   .has_pid = pid > 0,
                   .pid = pid,
                   .bundle = (char *)bundle };
  if (spec)
    st.annotations = spec->annotations;
  return oci_state_generate (&st, err);
}

static void __attribute__ ((noreturn))
hook_child (const oci_hook *h, int in_fd, int out_fd, char *const *inherit)
{
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  for (int s = 1; s < NSIG; s++)
    signal (s, SIG_DFL);
  if (host_mntns >= 0 && setns (host_mntns, CLONE_NEWNS) < 0)
    _exit (126);
  if (dup2 (in_fd, 0) < 0 || dup2 (out_fd, 1) < 0 || dup2 (out_fd, 2) < 0)
    _exit (126);
  syscall (SYS_close_range, 3, ~0u, 0);
  char *argv0[] = { h->path, NULL };
  char *envp0[] = { NULL };
  execve (h->path, h->args_len ? h->args : argv0,
          h->env_len ? h->env
          : inherit  ? inherit
                     : envp0);
  dprintf (2, "exec %s: %s", h->path, strerror (errno));
  _exit (127);
}

/* Collects the hook's output until it closes it (or the deadline passes),
 * then waits for it. Returns the wait status, or -1 on timeout. */
static int
hook_wait (pid_t pid, int out_fd, int timeout_s, char *buf, size_t *len)
{
  uint64_t end = timeout_s > 0 ? ko_now_ms () + (uint64_t)timeout_s * 1000 : 0;
  bool timed_out = false;
  for (;;)
    {
      int wait_ms = -1;
      if (end)
        {
          uint64_t now = ko_now_ms ();
          if (now >= end)
            {
              timed_out = true;
              break;
            }
          wait_ms = (int)(end - now);
        }
      struct pollfd pfd = { .fd = out_fd, .events = POLLIN };
      int r = poll (&pfd, 1, wait_ms);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        continue;
      char tmp[512];
      ssize_t n = read (out_fd, tmp, sizeof tmp);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      size_t room = HOOK_OUTPUT_MAX - 1 - *len;
      size_t take = (size_t)n < room ? (size_t)n : room;
      memcpy (buf + *len, tmp, take);
      *len += take;
    }
  if (timed_out)
    {
      /* the hook's whole process group: a shell's children too */
      kill (-pid, SIGKILL);
      kill (pid, SIGKILL);
    }
  int st;
  while (waitpid (pid, &st, 0) < 0 && errno == EINTR)
    ;
  return timed_out ? -1 : st;
}

static int
run_one (const char *kind, size_t idx, const oci_hook *h, const char *json,
         char *const *inherit, ko_error **err)
{
  int in[2], out[2];
  if (pipe2 (in, O_CLOEXEC) < 0)
    return ko_error_set (err, errno, "%s hook: pipe", kind);
  if (pipe2 (out, O_CLOEXEC) < 0)
    {
      close (in[0]);
      close (in[1]);
      return ko_error_set (err, errno, "%s hook: pipe", kind);
    }
  pid_t pid = fork ();
  if (pid == 0)
    {
      setpgid (0, 0);
      hook_child (h, in[0], out[1], inherit);
    }
  int saved = errno;
  close (in[0]);
  close (out[1]);
  if (pid < 0)
    {
      close (in[1]);
      close (out[0]);
      return ko_error_set (err, saved, "%s hook: fork", kind);
    }
  /* small enough for the pipe buffer: a hook that never reads stdin does
   * not block us (SIGPIPE is ignored if it exits first) */
  size_t jl = strlen (json), off = 0;
  fcntl (in[1], F_SETFL, O_NONBLOCK);
  while (off < jl)
    {
      ssize_t n = write (in[1], json + off, jl - off);
      if (n <= 0)
        break;
      off += (size_t)n;
    }
  close (in[1]);
  char buf[HOOK_OUTPUT_MAX];
  size_t len = 0;
  int st = hook_wait (pid, out[0], h->has_timeout ? h->timeout : 0, buf, &len);
  close (out[0]);
  while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
    len--;
  buf[len] = '\0';
  if (st == -1)
    return ko_error_setx (err, ETIMEDOUT,
                          "%s hook %zu (%s): timed out after %d s%s%s", kind,
                          idx, h->path, h->timeout, len ? ": " : "", buf);
  if (WIFEXITED (st) && WEXITSTATUS (st) == 0)
    return 0;
  if (WIFSIGNALED (st))
    return ko_error_setx (err, EIO, "%s hook %zu (%s): killed by signal %d%s%s",
                          kind, idx, h->path, WTERMSIG (st), len ? ": " : "",
                          buf);
  return ko_error_setx (err, EIO, "%s hook %zu (%s): exit status %d%s%s", kind,
                        idx, h->path, WEXITSTATUS (st), len ? ": " : "", buf);
}

int
hooks_run (const char *kind, const oci_hook *hooks, size_t n,
           const oci_spec *spec, const char *id, const char *status, pid_t pid,
           const char *bundle, ko_error **err)
{
  if (n == 0)
    return 0;
  _cleanup_free_ char *json = state_json (spec, id, status, pid, bundle, err);
  if (json == NULL)
    return -1;
  /* the two hooks the spec runs "in the container namespace" get, without
   * an env of their own, the container process's, as runc's do (they run
   * in runc init, whose environment that is by then) */
  char *const *inherit = NULL;
  if ((strcmp (kind, "createContainer") == 0
       || strcmp (kind, "startContainer") == 0)
      && spec && spec->process && spec->process->env_len)
    inherit = spec->process->env;
  for (size_t i = 0; i < n; i++)
    if (run_one (kind, i, &hooks[i], json, inherit, err) < 0)
      return -1;
  return 0;
}

#define HOOKS(spec, kind)                                                      \
  ((spec) && (spec)->hooks ? (spec)->hooks->kind : NULL),                      \
      ((spec) && (spec)->hooks ? (spec)->hooks->kind##_len : 0)

int
hooks_on_create (const oci_spec *spec, const char *id, pid_t pid,
                 const char *bundle, ko_error **err)
{
  /* prestart gets "created", as crun gives it and runtime-tools' hooks_stdin
     test expects (the hook once ran at start); runc says "creating". The
     two create-time hooks the spec added later get "creating", as in runc. */
  if (hooks_run ("prestart", HOOKS (spec, prestart), spec, id, "created", pid,
                 bundle, err)
          < 0
      || hooks_run ("createRuntime", HOOKS (spec, create_runtime), spec, id,
                    "creating", pid, bundle, err)
             < 0
      || hooks_run ("createContainer", HOOKS (spec, create_container), spec, id,
                    "creating", pid, bundle, err)
             < 0)
    return -1;
  return 0;
}

int
hooks_on_start (const oci_spec *spec, const char *id, pid_t pid,
                const char *bundle, ko_error **err)
{
  return hooks_run ("startContainer", HOOKS (spec, start_container), spec, id,
                    "created", pid, bundle, err);
}

void
hooks_after_start (const oci_spec *spec, const char *id, pid_t pid,
                   const char *bundle)
{
  _cleanup_error_ ko_error *err = NULL;
  if (hooks_run ("poststart", HOOKS (spec, poststart), spec, id, "running", pid,
                 bundle, &err)
      < 0)
    log_warn ("container %s: %s", id, err->msg);
}

void
hooks_after_delete (const oci_spec *spec, const char *id, const char *bundle)
{
  _cleanup_error_ ko_error *err = NULL;
  if (hooks_run ("poststop", HOOKS (spec, poststop), spec, id, "stopped", 0,
                 bundle, &err)
      < 0)
    log_warn ("container %s: %s", id, err->msg);
}
