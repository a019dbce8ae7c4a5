/* config.json: the top level, root, mounts, hooks and linux. */
#include "oci-spec-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- root, mounts, hooks --- */

static int
root_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_root *r = out;
  if (oci_get_string (p, v, "path", true, &r->path) < 0
      || oci_get_bool (p, v, "readonly", NULL, &r->readonly) < 0)
    return -1;
  return 0;
}

static int
mount_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_mount *m = out;
  if (oci_get_string (p, v, "destination", true, &m->destination) < 0
      || oci_get_string (p, v, "type", false, &m->type) < 0
      || oci_get_string (p, v, "source", false, &m->source) < 0
      || oci_get_strv (p, v, "options", false, &m->options, &m->options_len) < 0
      || oci_get_id_mappings (p, v, "uidMappings", &m->uid_mappings,
                              &m->uid_mappings_len)
             < 0
      || oci_get_id_mappings (p, v, "gidMappings", &m->gid_mappings,
                              &m->gid_mappings_len)
             < 0)
    return -1;
  return 0;
}

static void
mount_fini (void *e)
{
  oci_mount *m = e;
  free (m->destination);
  free (m->type);
  free (m->source);
  oci_strv_free_n (m->options, m->options_len);
  oci_free_id_mappings (m->uid_mappings, m->uid_mappings_len);
  oci_free_id_mappings (m->gid_mappings, m->gid_mappings_len);
}

static int
hook_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_hook *h = out;
  if (oci_get_string (p, v, "path", true, &h->path) < 0
      || oci_get_strv (p, v, "args", false, &h->args, &h->args_len) < 0
      || oci_get_strv (p, v, "env", false, &h->env, &h->env_len) < 0
      || oci_get_int (p, v, "timeout", false, &h->has_timeout, 1, &h->timeout)
             < 0)
    return -1;
  return 0;
}

static void
hook_fini (void *e)
{
  oci_hook *h = e;
  free (h->path);
  oci_strv_free_n (h->args, h->args_len);
  oci_strv_free_n (h->env, h->env_len);
}

#define HOOKS(key, field)                                                      \
  oci_get_array (p, v, key, false, sizeof (oci_hook), hook_parse,              \
                 (void **)&h->field, &h->field##_len)

static int
hooks_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_hooks *h = out;
  if (HOOKS ("prestart", prestart) < 0
      || HOOKS ("createRuntime", create_runtime) < 0
      || HOOKS ("createContainer", create_container) < 0
      || HOOKS ("startContainer", start_container) < 0
      || HOOKS ("poststart", poststart) < 0 || HOOKS ("poststop", poststop) < 0)
    return -1;
  return 0;
}

#define FREE_HOOKS(field)                                                      \
  oci_free_array (h->field, h->field##_len, sizeof (oci_hook), hook_fini)

static void
hooks_free (oci_hooks *h)
{
  if (h == NULL)
    return;
  FREE_HOOKS (prestart);
  FREE_HOOKS (create_runtime);
  FREE_HOOKS (create_container);
  FREE_HOOKS (start_container);
  FREE_HOOKS (poststart);
  FREE_HOOKS (poststop);
  free (h);
}

/* --- linux --- */

static int
namespace_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_namespace *ns = out;
  if (oci_get_string (p, v, "type", true, &ns->type) < 0
      || oci_get_string (p, v, "path", false, &ns->path) < 0)
    return -1;
  return 0;
}

static void
namespace_fini (void *e)
{
  oci_namespace *ns = e;
  free (ns->type);
  free (ns->path);
}

static int
time_offset_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_time_offset *t = out;
  if (oci_get_i64 (p, v, "secs", false, &t->has_secs, INT64_MIN, INT64_MAX,
                   &t->secs)
          < 0
      || oci_get_u32 (p, v, "nanosecs", false, &t->has_nanosecs, &t->nanosecs)
             < 0)
    return -1;
  return 0;
}

static void
time_offset_fini (void *e)
{
  oci_time_offset *t = e;
  free (t->clock);
}

static int
seccomp_arg_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_seccomp_arg *a = out;
  if (oci_get_u32 (p, v, "index", true, NULL, &a->index) < 0
      || oci_get_u64 (p, v, "value", true, NULL, UINT64_MAX, &a->value) < 0
      || oci_get_u64 (p, v, "valueTwo", false, &a->has_value_two, UINT64_MAX,
                      &a->value_two)
             < 0
      || oci_get_string (p, v, "op", true, &a->op) < 0)
    return -1;
  return 0;
}

static void
seccomp_arg_fini (void *e)
{
  oci_seccomp_arg *a = e;
  free (a->op);
}

static int
syscall_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_syscall *s = out;
  if (oci_get_strv (p, v, "names", true, &s->names, &s->names_len) < 0
      || oci_get_string (p, v, "action", true, &s->action) < 0
      || oci_get_u32 (p, v, "errnoRet", false, &s->has_errno_ret, &s->errno_ret)
             < 0
      || oci_get_array (p, v, "args", false, sizeof (oci_seccomp_arg),
                        seccomp_arg_parse, (void **)&s->args, &s->args_len)
             < 0)
    return -1;
  return 0;
}

static void
syscall_fini (void *e)
{
  oci_syscall *s = e;
  oci_strv_free_n (s->names, s->names_len);
  free (s->action);
  oci_free_array (s->args, s->args_len, sizeof (oci_seccomp_arg),
                  seccomp_arg_fini);
}

static int
seccomp_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_seccomp *s = out;
  if (oci_get_string (p, v, "defaultAction", true, &s->default_action) < 0
      || oci_get_u32 (p, v, "defaultErrnoRet", false, &s->has_default_errno_ret,
                      &s->default_errno_ret)
             < 0
      || oci_get_strv (p, v, "architectures", false, &s->architectures,
                       &s->architectures_len)
             < 0
      || oci_get_strv (p, v, "flags", false, &s->flags, &s->flags_len) < 0
      || oci_get_string (p, v, "listenerPath", false, &s->listener_path) < 0
      || oci_get_string (p, v, "listenerMetadata", false, &s->listener_metadata)
             < 0
      || oci_get_array (p, v, "syscalls", false, sizeof (oci_syscall),
                        syscall_parse, (void **)&s->syscalls, &s->syscalls_len)
             < 0)
    return -1;
  return 0;
}

static void
seccomp_free (oci_seccomp *s)
{
  if (s == NULL)
    return;
  free (s->default_action);
  oci_strv_free_n (s->architectures, s->architectures_len);
  oci_strv_free_n (s->flags, s->flags_len);
  free (s->listener_path);
  free (s->listener_metadata);
  oci_free_array (s->syscalls, s->syscalls_len, sizeof (oci_syscall),
                  syscall_fini);
  free (s);
}

static int
device_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_device *d = out;
  if (oci_get_string (p, v, "type", true, &d->type) < 0
      || oci_get_string (p, v, "path", true, &d->path) < 0
      || oci_get_i64 (p, v, "major", false, &d->has_major, INT64_MIN, INT64_MAX,
                      &d->major)
             < 0
      || oci_get_i64 (p, v, "minor", false, &d->has_minor, INT64_MIN, INT64_MAX,
                      &d->minor)
             < 0
      || oci_get_u32 (p, v, "fileMode", false, &d->has_file_mode, &d->file_mode)
             < 0
      || oci_get_u32 (p, v, "uid", false, &d->has_uid, &d->uid) < 0
      || oci_get_u32 (p, v, "gid", false, &d->has_gid, &d->gid) < 0)
    return -1;
  return 0;
}

static void
device_fini (void *e)
{
  oci_device *d = e;
  free (d->type);
  free (d->path);
}

static int
personality_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_personality *pe = out;
  if (oci_get_string (p, v, "domain", true, &pe->domain) < 0
      || oci_get_strv (p, v, "flags", false, &pe->flags, &pe->flags_len) < 0)
    return -1;
  return 0;
}

static int
intel_rdt_parse (oci_parser *p, yajl_val v, oci_linux *l)
{
  yajl_val rdt = oci_obj_get (v, "intelRdt");
  if (rdt == NULL)
    return 0;
  size_t mark = oci_path_push_key (p, "intelRdt");
  int r = YAJL_IS_OBJECT (rdt)
              ? oci_get_string (p, rdt, "closID", false, &l->intel_rdt_clos_id)
              : oci_fail (p, "expected an object");
  oci_path_pop (p, mark);
  return r;
}

static int
linux_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_linux *l = out;
  if (oci_get_array (p, v, "namespaces", false, sizeof (oci_namespace),
                     namespace_parse, (void **)&l->namespaces,
                     &l->namespaces_len)
          < 0
      || oci_get_id_mappings (p, v, "uidMappings", &l->uid_mappings,
                              &l->uid_mappings_len)
             < 0
      || oci_get_id_mappings (p, v, "gidMappings", &l->gid_mappings,
                              &l->gid_mappings_len)
             < 0
      || oci_get_object_map (p, v, "timeOffsets", sizeof (oci_time_offset),
                             time_offset_parse, (void **)&l->time_offsets,
                             &l->time_offsets_len)
             < 0
      || oci_get_map (p, v, "sysctl", &l->sysctl) < 0
      || oci_get_object (p, v, "resources", false, sizeof (oci_linux_resources),
                         oci_linux_resources_parse, (void **)&l->resources)
             < 0
      || oci_get_string (p, v, "cgroupsPath", false, &l->cgroups_path) < 0
      || oci_get_string (p, v, "rootfsPropagation", false,
                         &l->rootfs_propagation)
             < 0
      || oci_get_object (p, v, "seccomp", false, sizeof (oci_seccomp),
                         seccomp_parse, (void **)&l->seccomp)
             < 0
      || oci_get_array (p, v, "devices", false, sizeof (oci_device),
                        device_parse, (void **)&l->devices, &l->devices_len)
             < 0
      || oci_get_strv (p, v, "maskedPaths", false, &l->masked_paths,
                       &l->masked_paths_len)
             < 0
      || oci_get_strv (p, v, "readonlyPaths", false, &l->readonly_paths,
                       &l->readonly_paths_len)
             < 0
      || oci_get_string (p, v, "mountLabel", false, &l->mount_label) < 0
      || intel_rdt_parse (p, v, l) < 0
      || oci_get_object (p, v, "personality", false, sizeof (oci_personality),
                         personality_parse, (void **)&l->personality)
             < 0)
    return -1;
  return 0;
}

static void
linux_free (oci_linux *l)
{
  if (l == NULL)
    return;
  oci_free_array (l->namespaces, l->namespaces_len, sizeof (oci_namespace),
                  namespace_fini);
  oci_free_id_mappings (l->uid_mappings, l->uid_mappings_len);
  oci_free_id_mappings (l->gid_mappings, l->gid_mappings_len);
  oci_free_array (l->time_offsets, l->time_offsets_len,
                  sizeof (oci_time_offset), time_offset_fini);
  oci_map_clear (&l->sysctl);
  oci_linux_resources_free (l->resources);
  free (l->cgroups_path);
  free (l->rootfs_propagation);
  seccomp_free (l->seccomp);
  oci_free_array (l->devices, l->devices_len, sizeof (oci_device), device_fini);
  oci_strv_free_n (l->masked_paths, l->masked_paths_len);
  oci_strv_free_n (l->readonly_paths, l->readonly_paths_len);
  free (l->mount_label);
  free (l->intel_rdt_clos_id);
  if (l->personality)
    {
      free (l->personality->domain);
      oci_strv_free_n (l->personality->flags, l->personality->flags_len);
    }
  free (l->personality);
  free (l);
}

/* --- the document --- */

/* One dot-separated identifier of a SemVer 2.0.0 pre-release (numeric:
   digits without a leading zero) or build (any [0-9A-Za-z-]+) part; returns
   its end, or NULL when it is empty or has another character. */
static const char *
semver_ident (const char *s, bool numeric_no_zero)
{
  const char *b = s;
  bool digits = true;
  for (; *s != '\0' && *s != '.' && *s != '+'; s++)
    {
      if (*s >= '0' && *s <= '9')
        continue;
      if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '-'))
        return NULL;
      digits = false;
    }
  if (s == b || (numeric_no_zero && digits && *b == '0' && s - b > 1))
    return NULL;
  return s;
}

/* MAJOR.MINOR.PATCH[-pre][+build], SemVer 2.0.0; *major set. */
static bool
semver_valid (const char *v, unsigned long *major)
{
  const char *s = v;
  for (int i = 0; i < 3; i++)
    {
      const char *b = s;
      unsigned long n = 0;
      while (*s >= '0' && *s <= '9')
        {
          if (n > 100000000UL)
            return false;
          n = n * 10 + (unsigned long)(*s++ - '0');
        }
      if (s == b || (*b == '0' && s - b > 1))
        return false;
      if (i == 0)
        *major = n;
      if (i < 2 && *s++ != '.')
        return false;
    }
  if (*s == '-')
    do
      if ((s = semver_ident (s + 1, true)) == NULL)
        return false;
    while (*s == '.');
  if (*s == '+')
    do
      if ((s = semver_ident (s + 1, false)) == NULL)
        return false;
    while (*s == '.');
  return *s == '\0';
}

/* The spec: ociVersion "MUST be in SemVer v2.0.0 format"; a runtime MUST
   refuse values it does not support, and this one implements 1.x. */
static int
check_oci_version (oci_parser *p, const char *v)
{
  unsigned long major = 0;
  size_t mark = oci_path_push_key (p, "ociVersion");
  char what[160];
  if (!semver_valid (v, &major))
    snprintf (what, sizeof what, "\"%.64s%s\" is not a SemVer 2.0.0 version", v,
              strlen (v) > 64 ? "..." : "");
  else if (major != 1)
    snprintf (what, sizeof what,
              "version %.64s%s is not supported: this runtime implements the "
              "runtime specification 1.x",
              v, strlen (v) > 64 ? "..." : "");
  else
    {
      oci_path_pop (p, mark);
      return 0;
    }
  return oci_fail (p, what);
}

static int
spec_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_spec *s = out;
  if (oci_get_string (p, v, "ociVersion", true, &s->oci_version) < 0
      || check_oci_version (p, s->oci_version) < 0
      || oci_get_object (p, v, "process", false, sizeof (oci_process),
                         oci_process_parse, (void **)&s->process)
             < 0
      || oci_get_object (p, v, "root", false, sizeof (oci_root), root_parse,
                         (void **)&s->root)
             < 0
      || oci_get_string (p, v, "hostname", false, &s->hostname) < 0
      || oci_get_string (p, v, "domainname", false, &s->domainname) < 0
      || oci_get_array (p, v, "mounts", false, sizeof (oci_mount), mount_parse,
                        (void **)&s->mounts, &s->mounts_len)
             < 0
      || oci_get_object (p, v, "hooks", false, sizeof (oci_hooks), hooks_parse,
                         (void **)&s->hooks)
             < 0
      || oci_get_map (p, v, "annotations", &s->annotations) < 0
      || oci_get_object (p, v, "linux", false, sizeof (oci_linux), linux_parse,
                         (void **)&s->linux)
             < 0)
    return -1;
  return 0;
}

void
oci_spec_free (oci_spec *s)
{
  if (s == NULL)
    return;
  free (s->oci_version);
  oci_process_free (s->process);
  if (s->root)
    free (s->root->path);
  free (s->root);
  free (s->hostname);
  free (s->domainname);
  oci_free_array (s->mounts, s->mounts_len, sizeof (oci_mount), mount_fini);
  hooks_free (s->hooks);
  oci_map_clear (&s->annotations);
  linux_free (s->linux);
  free (s);
}

oci_spec *
oci_spec_parse_data (const char *data, size_t len, const char *name,
                     ko_error **err)
{
  return oci_document_parse (data, len, name, sizeof (oci_spec),
                             (oci_parse_fn)spec_parse,
                             (void (*) (void *))oci_spec_free, err);
}

oci_spec *
oci_spec_parse_file (const char *path, ko_error **err)
{
  return oci_document_parse_file (path, sizeof (oci_spec),
                                  (oci_parse_fn)spec_parse,
                                  (void (*) (void *))oci_spec_free, err);
}

/* --- generate --- */

static void
hooks_gen_one (oci_gen *g, const char *key, const oci_hook *h, size_t len)
{
  if (len == 0)
    return;
  oci_gen_open_array (g, key);
  for (size_t i = 0; i < len; i++)
    {
      oci_gen_open (g, NULL);
      oci_gen_string (g, "path", h[i].path);
      oci_gen_strv (g, "args", h[i].args, h[i].args_len, false);
      oci_gen_strv (g, "env", h[i].env, h[i].env_len, false);
      if (h[i].has_timeout)
        oci_gen_i64 (g, "timeout", h[i].timeout);
      oci_gen_close (g);
    }
  oci_gen_close_array (g);
}

static void
hooks_gen (oci_gen *g, const oci_hooks *h)
{
  oci_gen_open (g, "hooks");
  hooks_gen_one (g, "prestart", h->prestart, h->prestart_len);
  hooks_gen_one (g, "createRuntime", h->create_runtime, h->create_runtime_len);
  hooks_gen_one (g, "createContainer", h->create_container,
                 h->create_container_len);
  hooks_gen_one (g, "startContainer", h->start_container,
                 h->start_container_len);
  hooks_gen_one (g, "poststart", h->poststart, h->poststart_len);
  hooks_gen_one (g, "poststop", h->poststop, h->poststop_len);
  oci_gen_close (g);
}

static void
mounts_gen (oci_gen *g, const oci_mount *m, size_t len)
{
  oci_gen_open_array (g, "mounts");
  for (size_t i = 0; i < len; i++)
    {
      oci_gen_open (g, NULL);
      oci_gen_string (g, "destination", m[i].destination);
      oci_gen_string_opt (g, "type", m[i].type);
      oci_gen_string_opt (g, "source", m[i].source);
      oci_gen_strv (g, "options", m[i].options, m[i].options_len, false);
      oci_gen_id_mappings (g, "uidMappings", m[i].uid_mappings,
                           m[i].uid_mappings_len);
      oci_gen_id_mappings (g, "gidMappings", m[i].gid_mappings,
                           m[i].gid_mappings_len);
      oci_gen_close (g);
    }
  oci_gen_close_array (g);
}

static void
seccomp_gen (oci_gen *g, const oci_seccomp *s)
{
  oci_gen_open (g, "seccomp");
  oci_gen_string (g, "defaultAction", s->default_action);
  if (s->has_default_errno_ret)
    oci_gen_u64 (g, "defaultErrnoRet", s->default_errno_ret);
  oci_gen_strv (g, "architectures", s->architectures, s->architectures_len,
                false);
  oci_gen_strv (g, "flags", s->flags, s->flags_len, false);
  oci_gen_string_opt (g, "listenerPath", s->listener_path);
  oci_gen_string_opt (g, "listenerMetadata", s->listener_metadata);
  if (s->syscalls_len)
    {
      oci_gen_open_array (g, "syscalls");
      for (size_t i = 0; i < s->syscalls_len; i++)
        {
          const oci_syscall *sc = &s->syscalls[i];
          oci_gen_open (g, NULL);
          oci_gen_strv (g, "names", sc->names, sc->names_len, true);
          oci_gen_string (g, "action", sc->action);
          if (sc->has_errno_ret)
            oci_gen_u64 (g, "errnoRet", sc->errno_ret);
          if (sc->args_len)
            {
              oci_gen_open_array (g, "args");
              for (size_t j = 0; j < sc->args_len; j++)
                {
                  const oci_seccomp_arg *a = &sc->args[j];
                  oci_gen_open (g, NULL);
                  oci_gen_u64 (g, "index", a->index);
                  oci_gen_u64 (g, "value", a->value);
                  if (a->has_value_two)
                    oci_gen_u64 (g, "valueTwo", a->value_two);
                  oci_gen_string (g, "op", a->op);
                  oci_gen_close (g);
                }
              oci_gen_close_array (g);
            }
          oci_gen_close (g);
        }
      oci_gen_close_array (g);
    }
  oci_gen_close (g);
}

static void
devices_gen (oci_gen *g, const oci_device *d, size_t len)
{
  oci_gen_open_array (g, "devices");
  for (size_t i = 0; i < len; i++)
    {
      oci_gen_open (g, NULL);
      oci_gen_string (g, "path", d[i].path);
      oci_gen_string (g, "type", d[i].type);
      if (d[i].has_major)
        oci_gen_i64 (g, "major", d[i].major);
      if (d[i].has_minor)
        oci_gen_i64 (g, "minor", d[i].minor);
      if (d[i].has_file_mode)
        oci_gen_u64 (g, "fileMode", d[i].file_mode);
      if (d[i].has_uid)
        oci_gen_u64 (g, "uid", d[i].uid);
      if (d[i].has_gid)
        oci_gen_u64 (g, "gid", d[i].gid);
      oci_gen_close (g);
    }
  oci_gen_close_array (g);
}

static void
linux_gen (oci_gen *g, const oci_linux *l)
{
  oci_gen_open (g, "linux");
  oci_gen_id_mappings (g, "uidMappings", l->uid_mappings, l->uid_mappings_len);
  oci_gen_id_mappings (g, "gidMappings", l->gid_mappings, l->gid_mappings_len);
  oci_gen_map (g, "sysctl", &l->sysctl);
  if (l->resources)
    oci_linux_resources_gen (g, "resources", l->resources);
  oci_gen_string_opt (g, "cgroupsPath", l->cgroups_path);
  if (l->namespaces_len)
    {
      oci_gen_open_array (g, "namespaces");
      for (size_t i = 0; i < l->namespaces_len; i++)
        {
          oci_gen_open (g, NULL);
          oci_gen_string (g, "type", l->namespaces[i].type);
          oci_gen_string_opt (g, "path", l->namespaces[i].path);
          oci_gen_close (g);
        }
      oci_gen_close_array (g);
    }
  if (l->time_offsets_len)
    {
      oci_gen_open (g, "timeOffsets");
      for (size_t i = 0; i < l->time_offsets_len; i++)
        {
          const oci_time_offset *t = &l->time_offsets[i];
          oci_gen_open (g, t->clock ? t->clock : "");
          if (t->has_secs)
            oci_gen_i64 (g, "secs", t->secs);
          if (t->has_nanosecs)
            oci_gen_u64 (g, "nanosecs", t->nanosecs);
          oci_gen_close (g);
        }
      oci_gen_close (g);
    }
  if (l->devices_len)
    devices_gen (g, l->devices, l->devices_len);
  if (l->seccomp)
    seccomp_gen (g, l->seccomp);
  oci_gen_string_opt (g, "rootfsPropagation", l->rootfs_propagation);
  oci_gen_strv (g, "maskedPaths", l->masked_paths, l->masked_paths_len, false);
  oci_gen_strv (g, "readonlyPaths", l->readonly_paths, l->readonly_paths_len,
                false);
  oci_gen_string_opt (g, "mountLabel", l->mount_label);
  if (l->intel_rdt_clos_id)
    {
      oci_gen_open (g, "intelRdt");
      oci_gen_string (g, "closID", l->intel_rdt_clos_id);
      oci_gen_close (g);
    }
  if (l->personality)
    {
      oci_gen_open (g, "personality");
      oci_gen_string (g, "domain", l->personality->domain);
      oci_gen_strv (g, "flags", l->personality->flags,
                    l->personality->flags_len, false);
      oci_gen_close (g);
    }
  oci_gen_close (g);
}

char *
oci_spec_generate (const oci_spec *s, ko_error **err)
{
  oci_gen g;
  oci_gen_init (&g);
  oci_gen_open (&g, NULL);
  oci_gen_string (&g, "ociVersion", s->oci_version);
  if (s->process)
    oci_process_gen (&g, "process", s->process);
  if (s->root)
    {
      oci_gen_open (&g, "root");
      oci_gen_string (&g, "path", s->root->path);
      if (s->root->readonly)
        oci_gen_bool (&g, "readonly", true);
      oci_gen_close (&g);
    }
  oci_gen_string_opt (&g, "hostname", s->hostname);
  oci_gen_string_opt (&g, "domainname", s->domainname);
  if (s->mounts_len)
    mounts_gen (&g, s->mounts, s->mounts_len);
  if (s->hooks)
    hooks_gen (&g, s->hooks);
  oci_gen_map (&g, "annotations", &s->annotations);
  if (s->linux)
    linux_gen (&g, s->linux);
  oci_gen_close (&g);
  return oci_gen_finish (&g, "config.json", err);
}
