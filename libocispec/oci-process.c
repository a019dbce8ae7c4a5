/* process: config.json's "process", and `exec --process` documents. */
#include "oci-spec-internal.h"

#include <limits.h>
#include <stdlib.h>

static int
id_mapping_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_id_mapping *m = out;
  if (oci_get_u32 (p, v, "containerID", true, NULL, &m->container_id) < 0
      || oci_get_u32 (p, v, "hostID", true, NULL, &m->host_id) < 0
      || oci_get_u32 (p, v, "size", true, NULL, &m->size) < 0)
    return -1;
  return 0;
}

int
oci_get_id_mappings (oci_parser *p, yajl_val obj, const char *key,
                     oci_id_mapping **out, size_t *len)
{
  return oci_get_array (p, obj, key, false, sizeof **out, id_mapping_parse,
                        (void **)out, len);
}

void
oci_free_id_mappings (oci_id_mapping *m, size_t len)
{
  oci_free_array (m, len, sizeof *m, NULL);
}

void
oci_gen_id_mappings (oci_gen *g, const char *key, const oci_id_mapping *m,
                     size_t len)
{
  if (len == 0)
    return;
  oci_gen_open_array (g, key);
  for (size_t i = 0; i < len; i++)
    {
      oci_gen_open (g, NULL);
      oci_gen_u64 (g, "containerID", m[i].container_id);
      oci_gen_u64 (g, "hostID", m[i].host_id);
      oci_gen_u64 (g, "size", m[i].size);
      oci_gen_close (g);
    }
  oci_gen_close_array (g);
}

/* --- parse --- */

static int
console_size_parse (oci_parser *p, yajl_val v, oci_process *proc)
{
  yajl_val cs = oci_obj_get (v, "consoleSize");
  if (cs == NULL)
    return 0;
  size_t mark = oci_path_push_key (p, "consoleSize");
  int r = -1;
  if (!YAJL_IS_OBJECT (cs))
    oci_fail (p, "expected an object");
  else if (oci_get_u32 (p, cs, "height", true, NULL, &proc->console_height) == 0
           && oci_get_u32 (p, cs, "width", true, NULL, &proc->console_width)
                  == 0)
    r = 0;
  oci_path_pop (p, mark);
  proc->has_console_size = r == 0;
  return r;
}

static int
user_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_user *u = out;
  if (oci_get_u32 (p, v, "uid", true, NULL, &u->uid) < 0
      || oci_get_u32 (p, v, "gid", true, NULL, &u->gid) < 0
      || oci_get_u32 (p, v, "umask", false, &u->has_umask, &u->umask) < 0
      || oci_get_u32v (p, v, "additionalGids", &u->additional_gids,
                       &u->additional_gids_len)
             < 0)
    return -1;
  return 0;
}

static int
capabilities_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_capabilities *c = out;
  if (oci_get_strv (p, v, "bounding", false, &c->bounding, &c->bounding_len) < 0
      || oci_get_strv (p, v, "effective", false, &c->effective,
                       &c->effective_len)
             < 0
      || oci_get_strv (p, v, "inheritable", false, &c->inheritable,
                       &c->inheritable_len)
             < 0
      || oci_get_strv (p, v, "permitted", false, &c->permitted,
                       &c->permitted_len)
             < 0
      || oci_get_strv (p, v, "ambient", false, &c->ambient, &c->ambient_len)
             < 0)
    return -1;
  return 0;
}

static int
rlimit_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_rlimit *rl = out;
  if (oci_get_string (p, v, "type", true, &rl->type) < 0
      || oci_get_u64 (p, v, "soft", true, NULL, UINT64_MAX, &rl->soft) < 0
      || oci_get_u64 (p, v, "hard", true, NULL, UINT64_MAX, &rl->hard) < 0)
    return -1;
  return 0;
}

static void
rlimit_fini (void *e)
{
  oci_rlimit *rl = e;
  free (rl->type);
}

static int
scheduler_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_scheduler *s = out;
  if (oci_get_string (p, v, "policy", true, &s->policy) < 0
      || oci_get_int (p, v, "nice", false, NULL, INT_MIN, &s->nice) < 0
      || oci_get_int (p, v, "priority", false, NULL, INT_MIN, &s->priority) < 0
      || oci_get_strv (p, v, "flags", false, &s->flags, &s->flags_len) < 0
      || oci_get_u64 (p, v, "runtime", false, NULL, UINT64_MAX, &s->runtime) < 0
      || oci_get_u64 (p, v, "deadline", false, NULL, UINT64_MAX, &s->deadline)
             < 0
      || oci_get_u64 (p, v, "period", false, NULL, UINT64_MAX, &s->period) < 0)
    return -1;
  return 0;
}

static int
io_priority_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_io_priority *io = out;
  if (oci_get_string (p, v, "class", true, &io->class) < 0
      || oci_get_int (p, v, "priority", false, NULL, INT_MIN, &io->priority)
             < 0)
    return -1;
  return 0;
}

int
oci_process_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_process *proc = out;
  if (oci_get_bool (p, v, "terminal", NULL, &proc->terminal) < 0
      || console_size_parse (p, v, proc) < 0
      || oci_get_object (p, v, "user", false, sizeof (oci_user), user_parse,
                         (void **)&proc->user)
             < 0
      || oci_get_strv (p, v, "args", true, &proc->args, &proc->args_len) < 0)
    return -1;
  if (proc->args_len == 0)
    {
      size_t mark = oci_path_push_key (p, "args");
      oci_fail (p, "must not be empty");
      oci_path_pop (p, mark);
      return -1;
    }
  if (oci_get_strv (p, v, "env", false, &proc->env, &proc->env_len) < 0
      || oci_get_string (p, v, "cwd", true, &proc->cwd) < 0
      || oci_get_object (p, v, "capabilities", false, sizeof (oci_capabilities),
                         capabilities_parse, (void **)&proc->capabilities)
             < 0
      || oci_get_array (p, v, "rlimits", false, sizeof (oci_rlimit),
                        rlimit_parse, (void **)&proc->rlimits,
                        &proc->rlimits_len)
             < 0
      || oci_get_bool (p, v, "noNewPrivileges", NULL, &proc->no_new_privileges)
             < 0
      || oci_get_string (p, v, "apparmorProfile", false,
                         &proc->apparmor_profile)
             < 0
      || oci_get_int (p, v, "oomScoreAdj", false, &proc->has_oom_score_adj,
                      INT_MIN, &proc->oom_score_adj)
             < 0
      || oci_get_string (p, v, "selinuxLabel", false, &proc->selinux_label) < 0
      || oci_get_object (p, v, "scheduler", false, sizeof (oci_scheduler),
                         scheduler_parse, (void **)&proc->scheduler)
             < 0
      || oci_get_object (p, v, "ioPriority", false, sizeof (oci_io_priority),
                         io_priority_parse, (void **)&proc->io_priority)
             < 0)
    return -1;
  return 0;
}

/* --- free --- */

static void
capabilities_free (oci_capabilities *c)
{
  if (c == NULL)
    return;
  oci_strv_free_n (c->bounding, c->bounding_len);
  oci_strv_free_n (c->effective, c->effective_len);
  oci_strv_free_n (c->inheritable, c->inheritable_len);
  oci_strv_free_n (c->permitted, c->permitted_len);
  oci_strv_free_n (c->ambient, c->ambient_len);
  free (c);
}

void
oci_process_free (oci_process *proc)
{
  if (proc == NULL)
    return;
  if (proc->user)
    free (proc->user->additional_gids);
  free (proc->user);
  oci_strv_free_n (proc->args, proc->args_len);
  oci_strv_free_n (proc->env, proc->env_len);
  free (proc->cwd);
  capabilities_free (proc->capabilities);
  oci_free_array (proc->rlimits, proc->rlimits_len, sizeof (oci_rlimit),
                  rlimit_fini);
  free (proc->apparmor_profile);
  free (proc->selinux_label);
  if (proc->scheduler)
    {
      free (proc->scheduler->policy);
      oci_strv_free_n (proc->scheduler->flags, proc->scheduler->flags_len);
      free (proc->scheduler);
    }
  if (proc->io_priority)
    free (proc->io_priority->class);
  free (proc->io_priority);
  free (proc);
}

/* --- generate --- */

void
oci_process_gen (oci_gen *g, const char *key, const oci_process *proc)
{
  oci_gen_open (g, key);
  if (proc->terminal)
    oci_gen_bool (g, "terminal", true);
  if (proc->has_console_size)
    {
      oci_gen_open (g, "consoleSize");
      oci_gen_u64 (g, "height", proc->console_height);
      oci_gen_u64 (g, "width", proc->console_width);
      oci_gen_close (g);
    }
  if (proc->user)
    {
      const oci_user *u = proc->user;
      oci_gen_open (g, "user");
      oci_gen_u64 (g, "uid", u->uid);
      oci_gen_u64 (g, "gid", u->gid);
      if (u->has_umask)
        oci_gen_u64 (g, "umask", u->umask);
      oci_gen_u32v (g, "additionalGids", u->additional_gids,
                    u->additional_gids_len);
      oci_gen_close (g);
    }
  oci_gen_strv (g, "args", proc->args, proc->args_len, true);
  oci_gen_strv (g, "env", proc->env, proc->env_len, false);
  oci_gen_string (g, "cwd", proc->cwd);
  if (proc->capabilities)
    {
      const oci_capabilities *c = proc->capabilities;
      oci_gen_open (g, "capabilities");
      oci_gen_strv (g, "bounding", c->bounding, c->bounding_len, false);
      oci_gen_strv (g, "effective", c->effective, c->effective_len, false);
      oci_gen_strv (g, "inheritable", c->inheritable, c->inheritable_len,
                    false);
      oci_gen_strv (g, "permitted", c->permitted, c->permitted_len, false);
      oci_gen_strv (g, "ambient", c->ambient, c->ambient_len, false);
      oci_gen_close (g);
    }
  if (proc->rlimits_len)
    {
      oci_gen_open_array (g, "rlimits");
      for (size_t i = 0; i < proc->rlimits_len; i++)
        {
          oci_gen_open (g, NULL);
          oci_gen_string (g, "type", proc->rlimits[i].type);
          oci_gen_u64 (g, "hard", proc->rlimits[i].hard);
          oci_gen_u64 (g, "soft", proc->rlimits[i].soft);
          oci_gen_close (g);
        }
      oci_gen_close_array (g);
    }
  if (proc->no_new_privileges)
    oci_gen_bool (g, "noNewPrivileges", true);
  oci_gen_string_opt (g, "apparmorProfile", proc->apparmor_profile);
  if (proc->has_oom_score_adj)
    oci_gen_i64 (g, "oomScoreAdj", proc->oom_score_adj);
  oci_gen_string_opt (g, "selinuxLabel", proc->selinux_label);
  if (proc->scheduler)
    {
      const oci_scheduler *sc = proc->scheduler;
      oci_gen_open (g, "scheduler");
      oci_gen_string (g, "policy", sc->policy);
      if (sc->nice)
        oci_gen_i64 (g, "nice", sc->nice);
      if (sc->priority)
        oci_gen_i64 (g, "priority", sc->priority);
      oci_gen_strv (g, "flags", sc->flags, sc->flags_len, false);
      if (sc->runtime)
        oci_gen_u64 (g, "runtime", sc->runtime);
      if (sc->deadline)
        oci_gen_u64 (g, "deadline", sc->deadline);
      if (sc->period)
        oci_gen_u64 (g, "period", sc->period);
      oci_gen_close (g);
    }
  if (proc->io_priority)
    {
      oci_gen_open (g, "ioPriority");
      oci_gen_string (g, "class", proc->io_priority->class);
      oci_gen_i64 (g, "priority", proc->io_priority->priority);
      oci_gen_close (g);
    }
  oci_gen_close (g);
}

/* --- standalone documents --- */

oci_process *
oci_process_parse_data (const char *data, size_t len, const char *name,
                        ko_error **err)
{
  return oci_document_parse (data, len, name, sizeof (oci_process),
                             (oci_parse_fn)oci_process_parse,
                             (void (*) (void *))oci_process_free, err);
}

oci_process *
oci_process_parse_file (const char *path, ko_error **err)
{
  return oci_document_parse_file (path, sizeof (oci_process),
                                  (oci_parse_fn)oci_process_parse,
                                  (void (*) (void *))oci_process_free, err);
}

char *
oci_process_generate (const oci_process *proc, ko_error **err)
{
  oci_gen g;
  oci_gen_init (&g);
  oci_process_gen (&g, NULL, proc);
  return oci_gen_finish (&g, "process", err);
}
