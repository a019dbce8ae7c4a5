#include "config.h"

#include "monitor.h"
#include "translate.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static char **
strv_dup (char *const *v, size_t n, size_t *out_n)
{
  char **r = calloc (n + 1, sizeof *r);
  if (r == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if ((r[i] = strdup (v[i])) == NULL)
      {
        ko_strv_free (r);
        return NULL;
      }
  *out_n = n;
  return r;
}

static const struct
{
  const char *name;
  int type;
} rlimit_names[] = {
  { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },
  { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },
  { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
  { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_STACK", RLIMIT_STACK },
};

int
translate_process (const oci_process *op, struct ko_process *p,
                   ko_error **err)
{
  memset (p, 0, sizeof *p);
  p->args = strv_dup (op->args, op->args_len, &p->nargs);
  p->env = strv_dup (op->env, op->env_len, &p->nenv);
  p->cwd = strdup (op->cwd ? op->cwd : "/");
  if (p->args == NULL || p->env == NULL || p->cwd == NULL)
    goto nomem;
  if (op->cwd && op->cwd[0] != '/')
    {
      ko_process_clear (p);
      return ko_error_setx (err, EINVAL,
                            "config.json: process.cwd: must be an absolute "
                            "path, not \"%s\"",
                            op->cwd);
    }
  if (op->user)
    {
      p->uid = op->user->uid;
      p->gid = op->user->gid;
      p->has_umask = op->user->has_umask;
      p->umask = op->user->umask;
      if (op->user->additional_gids_len)
        {
          p->add_gids = calloc (op->user->additional_gids_len,
                                sizeof *p->add_gids);
          if (p->add_gids == NULL)
            goto nomem;
          memcpy (p->add_gids, op->user->additional_gids,
                  op->user->additional_gids_len * sizeof *p->add_gids);
          p->nadd_gids = op->user->additional_gids_len;
        }
    }
  p->terminal = op->terminal;
  if (op->has_console_size)
    {
      p->rows = op->console_height;
      p->cols = op->console_width;
    }
  if (op->rlimits_len)
    {
      p->rlimits = calloc (op->rlimits_len, sizeof *p->rlimits);
      if (p->rlimits == NULL)
        goto nomem;
      for (size_t i = 0; i < op->rlimits_len; i++)
        {
          size_t j;
          for (j = 0; j < KO_ARRAY_SIZE (rlimit_names); j++)
            if (strcmp (op->rlimits[i].type, rlimit_names[j].name) == 0)
              break;
          if (j == KO_ARRAY_SIZE (rlimit_names))
            {
              char *t = strdup (op->rlimits[i].type);
              ko_process_clear (p);
              ko_error_setx (err, EINVAL,
                             "config.json: process.rlimits[%zu].type: "
                             "unknown rlimit \"%s\"",
                             i, t ? t : "");
              free (t);
              return -1;
            }
          if (op->rlimits[i].soft > op->rlimits[i].hard)
            {
              ko_process_clear (p);
              return ko_error_setx (err, EINVAL,
                                    "config.json: process.rlimits[%zu]: soft "
                                    "limit exceeds hard limit",
                                    i);
            }
          p->rlimits[i].type = rlimit_names[j].type;
          p->rlimits[i].soft = op->rlimits[i].soft;
          p->rlimits[i].hard = op->rlimits[i].hard;
        }
      p->nrlimits = op->rlimits_len;
    }
  p->no_new_privs = op->no_new_privileges;
  p->has_oom_score_adj = op->has_oom_score_adj;
  p->oom_score_adj = op->oom_score_adj;
  return 0;
nomem:
  ko_process_clear (p);
  return ko_error_set (err, ENOMEM, "process");
}

int
translate_container (const oci_spec *spec, const char *bundle,
                     const char *id, struct ko_buf *b,
                     struct share_bind **binds, size_t *nbinds,
                     ko_error **err)
{
  *binds = NULL;
  *nbinds = 0;
  if (spec->domainname)
    ko_tlv_put_str (b, KO_TAG_DOMAINNAME, spec->domainname);
  if (spec->root && spec->root->readonly)
    ko_tlv_put_u32 (b, KO_TAG_ROOT_READONLY, 1);
  return 0;
}
