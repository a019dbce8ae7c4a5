#include "config.h"

#include "client.h"
#include "container.h"
#include "holder.h"
#include "log.h"
#include "member.h"
#include "monitor.h"
#include "pod.h"
#include "proc.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define MEMBER_ADD_TIMEOUT_MS 60000

int
member_sandbox (struct ko_global *g, const struct pod_info *pi,
                struct ko_state *sandbox, ko_error **err)
{
  _cleanup_close_ int dirfd = -1;
  _cleanup_error_ ko_error *e = NULL;
  if (state_dir_open_shared (g->root, pi->sandbox_id, &dirfd, &e) < 0
      || state_read (dirfd, sandbox, &e) < 0)
    {
      if (e->status == ENOENT)
        return pod_check_sandbox (pi, NULL, NULL, err);
      return ko_error_setx (err, e->status,
                            "config.json: annotations: %s: sandbox %s: %s",
                            pi->key, pi->sandbox_id, e->msg);
    }
  return pod_check_sandbox (pi, sandbox, state_status (sandbox), err);
}

int
member_fields (const struct pod_info *pi, struct ko_buf *fields,
               struct ko_state *st, ko_error **err)
{
  st->sandbox = strdup (pi->sandbox_id);
  if (st->sandbox == NULL)
    return ko_error_set (err, ENOMEM, "state");
  if (pi->join_ns
      && (ko_tlv_put_str (fields, KO_TAG_JOIN_CONTAINER, pi->sandbox_id) < 0
          || ko_tlv_put_u64 (fields, KO_TAG_JOIN_NS, pi->join_ns) < 0))
    return ko_error_set (err, ENOMEM, "container fields");
  return 0;
}

char *
member_monitor_dir (struct ko_global *g, const struct ko_state *st)
{
  return state_dir_path (g->root, st->sandbox ? st->sandbox : st->id);
}

/* The member's stdio: ours, unless a terminal (its pty goes to the
 * console socket, made by the monitor). */
static int
member_fds (const struct monitor_params *p, int sock, int *fds)
{
  int n = 0;
  fds[n++] = sock;
  if (p->process.terminal)
    return n;
  for (int i = 0; i < 3; i++)
    if (fcntl (i, F_GETFD) >= 0)
      fds[n++] = i;
    else
      return n; /* a gap: the monitor takes fewer streams */
  return n;
}

static int
member_add (const struct monitor_params *p, const char *sandbox_dir,
            pid_t holder, int sock, ko_error **err)
{
  struct ko_mon_add req = { .container_id = (char *)p->id,
                            .state_dir = (char *)p->dir,
                            .bundle = p->state.bundle,
                            .rootfs = (char *)p->rootfs,
                            .hostname = (char *)p->hostname,
                            .console_socket = (char *)p->console_socket,
                            .holder_pid = (uint32_t)holder,
                            .process = p->process,
                            .fields = p->container_tlv };
  struct ko_mon_bind *binds = calloc (p->nbinds + 1, sizeof *binds);
  if (binds == NULL)
    return ko_error_set (err, ENOMEM, "add");
  for (size_t i = 0; i < p->nbinds; i++)
    binds[i]
        = (struct ko_mon_bind){ p->binds[i].source, p->binds[i].dest,
                                p->binds[i].ctr_dest, p->binds[i].readonly };
  req.binds = binds;
  req.nbinds = p->nbinds;
  int fds[4];
  int nfds = member_fds (p, sock, fds);
  int r = client_add (sandbox_dir, &req, fds, nfds, MEMBER_ADD_TIMEOUT_MS, err);
  free (binds);
  return r;
}

/* `run` of a member in the foreground: its end is its holder's. */
static int
member_wait (struct ko_global *g, const char *id, pid_t holder)
{
  int st = 0;
  while (waitpid (holder, &st, 0) < 0 && errno == EINTR)
    ;
  _cleanup_error_ ko_error *e = NULL;
  if (container_delete (g, id, true, &e) < 0)
    log_warn ("%s", e->msg);
  return ko_exit_code (st);
}

int
member_create (struct ko_global *g, const struct create_opts *o,
               struct monitor_params *p, const struct pod_info *pi,
               const struct ko_state *sandbox, int dirfd, ko_error **err)
{
  _cleanup_free_ char *sbdir = state_dir_path (g->root, pi->sandbox_id);
  struct ko_state *st = &p->state;
  /* its VM's monitor, accelerator and channel are its sandbox's */
  st->monitor_pid = sandbox->monitor_pid;
  st->monitor_start = sandbox->monitor_start;
  free (st->accel);
  free (st->channel);
  st->accel = sandbox->accel ? strdup (sandbox->accel) : NULL;
  st->channel = sandbox->channel ? strdup (sandbox->channel) : NULL;
  int sock = -1;
  pid_t holder = -1;
  if (state_write (dirfd, st, err) < 0)
    goto fail;
  holder = holder_spawn (p->rootfs, true, &pi->holder, &sock, err);
  if (holder < 0)
    goto fail;
  st->holder_pid = holder;
  st->holder_start = proc_start_time (holder);
  if (state_write (dirfd, st, err) < 0
      || member_add (p, sbdir, holder, sock, err) < 0)
    goto fail;
  close (sock);
  sock = -1;
  if (o->pid_file && write_pid_file (o->pid_file, holder, err) < 0)
    goto fail_added;
  if (o->run && client_start (sbdir, o->id, MEMBER_ADD_TIMEOUT_MS, err) < 0)
    goto fail_added;
  if (o->run && !o->detach)
    {
      close (dirfd);
      return member_wait (g, o->id, holder);
    }
  return 0;
fail_added:
  client_remove (sbdir, o->id, true, MEMBER_ADD_TIMEOUT_MS, NULL);
fail:
  if (sock >= 0)
    close (sock);
  if (holder > 0)
    {
      kill (holder, SIGKILL);
      waitpid (holder, NULL, 0);
    }
  _cleanup_error_ ko_error *e2 = NULL;
  state_dir_remove (g->root, o->id, &e2);
  return -1;
}
