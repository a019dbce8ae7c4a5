/* The state document (`kata-oci state`, hooks' stdin) and the features
 * document (`kata-oci features`). */
#include "oci-spec-internal.h"

#include <limits.h>
#include <stdlib.h>

/* --- state --- */

static int
state_parse (oci_parser *p, yajl_val v, oci_state *st)
{
  if (oci_get_string (p, v, "ociVersion", true, &st->oci_version) < 0
      || oci_get_string (p, v, "id", true, &st->id) < 0
      || oci_get_string (p, v, "status", true, &st->status) < 0
      || oci_get_int (p, v, "pid", false, &st->has_pid, 0, &st->pid) < 0
      || oci_get_string (p, v, "bundle", false, &st->bundle) < 0
      || oci_get_map (p, v, "annotations", &st->annotations) < 0)
    return -1;
  return 0;
}

void
oci_state_free (oci_state *st)
{
  if (st == NULL)
    return;
  free (st->oci_version);
  free (st->id);
  free (st->status);
  free (st->bundle);
  oci_map_clear (&st->annotations);
  free (st);
}

oci_state *
oci_state_parse_data (const char *data, size_t len, const char *name,
                      ko_error **err)
{
  return oci_document_parse (data, len, name, sizeof (oci_state),
                             (oci_parse_fn)state_parse,
                             (void (*) (void *))oci_state_free, err);
}

oci_state *
oci_state_parse_file (const char *path, ko_error **err)
{
  return oci_document_parse_file (path, sizeof (oci_state),
                                  (oci_parse_fn)state_parse,
                                  (void (*) (void *))oci_state_free, err);
}

char *
oci_state_generate (const oci_state *st, ko_error **err)
{
  oci_gen g;
  oci_gen_init (&g);
  oci_gen_open (&g, NULL);
  oci_gen_string (&g, "ociVersion", st->oci_version);
  oci_gen_string (&g, "id", st->id);
  oci_gen_string (&g, "status", st->status);
  if (st->has_pid)
    oci_gen_i64 (&g, "pid", st->pid);
  oci_gen_string_opt (&g, "bundle", st->bundle);
  oci_gen_string_opt (&g, "rootfs", st->rootfs);
  oci_gen_string_opt (&g, "created", st->created);
  oci_gen_string_opt (&g, "owner", st->owner);
  oci_gen_map (&g, "annotations", &st->annotations);
  oci_gen_close (&g);
  return oci_gen_finish (&g, "state", err);
}

/* --- features --- */

static int
cgroup_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_features_cgroup *c = out;
  if (oci_get_bool (p, v, "v1", &c->has_v1, &c->v1) < 0
      || oci_get_bool (p, v, "v2", &c->has_v2, &c->v2) < 0
      || oci_get_bool (p, v, "systemd", &c->has_systemd, &c->systemd) < 0
      || oci_get_bool (p, v, "systemdUser", &c->has_systemd_user,
                       &c->systemd_user)
             < 0
      || oci_get_bool (p, v, "rdma", &c->has_rdma, &c->rdma) < 0)
    return -1;
  return 0;
}

static int
fseccomp_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_features_seccomp *s = out;
  if (oci_get_bool (p, v, "enabled", &s->has_enabled, &s->enabled) < 0
      || oci_get_strv (p, v, "actions", false, &s->actions, &s->actions_len) < 0
      || oci_get_strv (p, v, "operators", false, &s->operators,
                       &s->operators_len)
             < 0
      || oci_get_strv (p, v, "archs", false, &s->archs, &s->archs_len) < 0
      || oci_get_strv (p, v, "knownFlags", false, &s->known_flags,
                       &s->known_flags_len)
             < 0
      || oci_get_strv (p, v, "supportedFlags", false, &s->supported_flags,
                       &s->supported_flags_len)
             < 0)
    return -1;
  return 0;
}

static int
enabled_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_features_enabled *e = out;
  return oci_get_bool (p, v, "enabled", &e->has_enabled, &e->enabled);
}

static int
mount_extensions_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_features_linux *l = out;
  return oci_get_object (p, v, "idmap", false, sizeof (oci_features_enabled),
                         enabled_parse, (void **)&l->idmap_mounts);
}

static int
flinux_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_features_linux *l = out;
  yajl_val ext = oci_obj_get (v, "mountExtensions");
  if (oci_get_strv (p, v, "namespaces", false, &l->namespaces,
                    &l->namespaces_len)
          < 0
      || oci_get_strv (p, v, "capabilities", false, &l->capabilities,
                       &l->capabilities_len)
             < 0
      || oci_get_object (p, v, "cgroup", false, sizeof (oci_features_cgroup),
                         cgroup_parse, (void **)&l->cgroup)
             < 0
      || oci_get_object (p, v, "seccomp", false, sizeof (oci_features_seccomp),
                         fseccomp_parse, (void **)&l->seccomp)
             < 0
      || oci_get_object (p, v, "apparmor", false, sizeof (oci_features_enabled),
                         enabled_parse, (void **)&l->apparmor)
             < 0
      || oci_get_object (p, v, "selinux", false, sizeof (oci_features_enabled),
                         enabled_parse, (void **)&l->selinux)
             < 0
      || oci_get_object (p, v, "intelRdt", false, sizeof (oci_features_enabled),
                         enabled_parse, (void **)&l->intel_rdt)
             < 0)
    return -1;
  if (ext)
    {
      size_t mark = oci_path_push_key (p, "mountExtensions");
      int r = YAJL_IS_OBJECT (ext) ? mount_extensions_parse (p, ext, l)
                                   : oci_fail (p, "expected an object");
      oci_path_pop (p, mark);
      return r;
    }
  return 0;
}

static int
features_parse (oci_parser *p, yajl_val v, oci_features *f)
{
  if (oci_get_string (p, v, "ociVersionMin", true, &f->oci_version_min) < 0
      || oci_get_string (p, v, "ociVersionMax", true, &f->oci_version_max) < 0
      || oci_get_strv (p, v, "hooks", false, &f->hooks, &f->hooks_len) < 0
      || oci_get_strv (p, v, "mountOptions", false, &f->mount_options,
                       &f->mount_options_len)
             < 0
      || oci_get_object (p, v, "linux", false, sizeof (oci_features_linux),
                         flinux_parse, (void **)&f->linux)
             < 0
      || oci_get_map (p, v, "annotations", &f->annotations) < 0
      || oci_get_strv (p, v, "potentiallyUnsafeConfigAnnotations", false,
                       &f->potentially_unsafe_config_annotations,
                       &f->potentially_unsafe_config_annotations_len)
             < 0)
    return -1;
  return 0;
}

void
oci_features_free (oci_features *f)
{
  if (f == NULL)
    return;
  free (f->oci_version_min);
  free (f->oci_version_max);
  oci_strv_free_n (f->hooks, f->hooks_len);
  oci_strv_free_n (f->mount_options, f->mount_options_len);
  oci_features_linux *l = f->linux;
  if (l)
    {
      oci_strv_free_n (l->namespaces, l->namespaces_len);
      oci_strv_free_n (l->capabilities, l->capabilities_len);
      free (l->cgroup);
      oci_features_seccomp *s = l->seccomp;
      if (s)
        {
          oci_strv_free_n (s->actions, s->actions_len);
          oci_strv_free_n (s->operators, s->operators_len);
          oci_strv_free_n (s->archs, s->archs_len);
          oci_strv_free_n (s->known_flags, s->known_flags_len);
          oci_strv_free_n (s->supported_flags, s->supported_flags_len);
          free (s);
        }
      free (l->apparmor);
      free (l->selinux);
      free (l->intel_rdt);
      free (l->idmap_mounts);
      free (l);
    }
  oci_map_clear (&f->annotations);
  oci_strv_free_n (f->potentially_unsafe_config_annotations,
                   f->potentially_unsafe_config_annotations_len);
  free (f);
}

oci_features *
oci_features_parse_data (const char *data, size_t len, const char *name,
                         ko_error **err)
{
  return oci_document_parse (data, len, name, sizeof (oci_features),
                             (oci_parse_fn)features_parse,
                             (void (*) (void *))oci_features_free, err);
}

oci_features *
oci_features_parse_file (const char *path, ko_error **err)
{
  return oci_document_parse_file (path, sizeof (oci_features),
                                  (oci_parse_fn)features_parse,
                                  (void (*) (void *))oci_features_free, err);
}

static void
gen_enabled (oci_gen *g, const char *key, const oci_features_enabled *e)
{
  if (e == NULL)
    return;
  oci_gen_open (g, key);
  if (e->has_enabled)
    oci_gen_bool (g, "enabled", e->enabled);
  oci_gen_close (g);
}

static void
gen_opt_bool (oci_gen *g, const char *key, bool has, bool v)
{
  if (has)
    oci_gen_bool (g, key, v);
}

static void
flinux_gen (oci_gen *g, const oci_features_linux *l)
{
  oci_gen_open (g, "linux");
  oci_gen_strv (g, "namespaces", l->namespaces, l->namespaces_len, false);
  oci_gen_strv (g, "capabilities", l->capabilities, l->capabilities_len, false);
  if (l->cgroup)
    {
      const oci_features_cgroup *c = l->cgroup;
      oci_gen_open (g, "cgroup");
      gen_opt_bool (g, "v1", c->has_v1, c->v1);
      gen_opt_bool (g, "v2", c->has_v2, c->v2);
      gen_opt_bool (g, "systemd", c->has_systemd, c->systemd);
      gen_opt_bool (g, "systemdUser", c->has_systemd_user, c->systemd_user);
      gen_opt_bool (g, "rdma", c->has_rdma, c->rdma);
      oci_gen_close (g);
    }
  if (l->seccomp)
    {
      const oci_features_seccomp *s = l->seccomp;
      oci_gen_open (g, "seccomp");
      gen_opt_bool (g, "enabled", s->has_enabled, s->enabled);
      oci_gen_strv (g, "actions", s->actions, s->actions_len, false);
      oci_gen_strv (g, "operators", s->operators, s->operators_len, false);
      oci_gen_strv (g, "archs", s->archs, s->archs_len, false);
      oci_gen_strv (g, "knownFlags", s->known_flags, s->known_flags_len, false);
      oci_gen_strv (g, "supportedFlags", s->supported_flags,
                    s->supported_flags_len, false);
      oci_gen_close (g);
    }
  gen_enabled (g, "apparmor", l->apparmor);
  gen_enabled (g, "selinux", l->selinux);
  gen_enabled (g, "intelRdt", l->intel_rdt);
  if (l->idmap_mounts)
    {
      oci_gen_open (g, "mountExtensions");
      gen_enabled (g, "idmap", l->idmap_mounts);
      oci_gen_close (g);
    }
  oci_gen_close (g);
}

char *
oci_features_generate (const oci_features *f, ko_error **err)
{
  oci_gen g;
  oci_gen_init (&g);
  oci_gen_open (&g, NULL);
  oci_gen_string (&g, "ociVersionMin", f->oci_version_min);
  oci_gen_string (&g, "ociVersionMax", f->oci_version_max);
  oci_gen_strv (&g, "hooks", f->hooks, f->hooks_len, false);
  oci_gen_strv (&g, "mountOptions", f->mount_options, f->mount_options_len,
                false);
  if (f->linux)
    flinux_gen (&g, f->linux);
  oci_gen_map (&g, "annotations", &f->annotations);
  oci_gen_strv (&g, "potentiallyUnsafeConfigAnnotations",
                f->potentially_unsafe_config_annotations,
                f->potentially_unsafe_config_annotations_len, false);
  oci_gen_close (&g);
  return oci_gen_finish (&g, "features", err);
}
