#include "config.h"

#include "memhp.h"
#include "oci.h"
#include "pod.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const type_keys[] = { "io.kubernetes.cri-o.ContainerType",
                                         "io.kubernetes.cri.container-type" };
static const char *const sandbox_keys[]
    = { "io.kubernetes.cri-o.SandboxID", "io.kubernetes.cri.sandbox-id" };

void
pod_classify (const struct oci_spec *spec, const char *id, struct pod_info *pi)
{
  memset (pi, 0, sizeof *pi);
  const char *type = NULL;
  for (size_t i = 0; i < KO_ARRAY_SIZE (type_keys) && !type; i++)
    type = oci_map_get (&spec->annotations, type_keys[i]);
  for (size_t i = 0; i < KO_ARRAY_SIZE (sandbox_keys) && !pi->sandbox_id; i++)
    if ((pi->sandbox_id = oci_map_get (&spec->annotations, sandbox_keys[i])))
      pi->key = sandbox_keys[i];
  pi->sandbox = type && strcmp (type, "sandbox") == 0;
  if (pi->sandbox || pi->sandbox_id == NULL || *pi->sandbox_id == '\0'
      || strcmp (pi->sandbox_id, id) == 0)
    {
      pi->sandbox_id = NULL;
      pi->key = NULL;
      return;
    }
  pi->member = true;
}

void
pod_info_clear (struct pod_info *pi)
{
  holder_ns_clear (&pi->holder);
}

static const struct
{
  const char *type, *proc;
  uint64_t flag;
} kinds[] = {
  { "network", "net", CLONE_NEWNET },
  { "ipc", "ipc", CLONE_NEWIPC },
  { "uts", "uts", CLONE_NEWUTS },
  { "pid", "pid", CLONE_NEWPID },
};

static bool
same_ns (const char *a, const char *b)
{
  struct stat x, y;
  return stat (a, &x) == 0 && stat (b, &y) == 0 && x.st_ino == y.st_ino
         && x.st_dev == y.st_dev;
}

static void
drop_namespace (oci_linux *l, size_t i)
{
  free (l->namespaces[i].type);
  free (l->namespaces[i].path);
  memmove (&l->namespaces[i], &l->namespaces[i + 1],
           (l->namespaces_len - i - 1) * sizeof l->namespaces[0]);
  l->namespaces_len--;
}

int
pod_namespaces (struct oci_spec *spec, struct pod_info *pi,
                pid_t sandbox_holder, ko_error **err)
{
  if (holder_ns_from_spec (spec, &pi->holder) < 0)
    return ko_error_set (err, ENOMEM, "namespaces");
  oci_linux *l = spec->linux;
  /* idx: the entry's index in config.json, as entries are dropped */
  for (size_t i = 0, idx = 0; l && i < l->namespaces_len; i++, idx++)
    {
      oci_namespace *n = &l->namespaces[i];
      size_t k;
      for (k = 0; k < KO_ARRAY_SIZE (kinds); k++)
        if (strcmp (n->type, kinds[k].type) == 0)
          break;
      if (n->path == NULL || *n->path == '\0' || k == KO_ARRAY_SIZE (kinds))
        continue;
      char self[64], pods[64];
      snprintf (self, sizeof self, "/proc/self/ns/%s", kinds[k].proc);
      snprintf (pods, sizeof pods, "/proc/%d/ns/%s", (int)sandbox_holder,
                kinds[k].proc);
      if (pi->member)
        {
          if (!same_ns (n->path, pods))
            return ko_error_setx (err, ENOTSUP,
                                  "config.json: linux.namespaces[%zu].path: "
                                  "%s is not a namespace of the pod's "
                                  "sandbox %s (%s): a container inside a VM "
                                  "can share only its pod's",
                                  idx, n->path, pi->sandbox_id, pi->key);
          /* the VM is the pod's network namespace already */
          if (kinds[k].flag != CLONE_NEWNET)
            pi->join_ns |= kinds[k].flag;
          drop_namespace (l, i--);
          continue;
        }
      /* a sandbox: the pod's own IPC and UTS namespaces, pinned by the
       * engine; the network one goes into the VM (network.c) */
      if ((kinds[k].flag == CLONE_NEWIPC || kinds[k].flag == CLONE_NEWUTS)
          && !same_ns (n->path, self))
        {
          free (n->path);
          n->path = NULL;
        }
    }
  return 0;
}

static int64_t
annotation_i64 (const struct oci_spec *spec, const char *key)
{
  const char *v = oci_map_get (&spec->annotations, key);
  if (v == NULL || *v == '\0')
    return 0;
  char *end;
  errno = 0;
  long long n = strtoll (v, &end, 10);
  return *end || errno || n < 0 ? 0 : (int64_t)n;
}

void
pod_size_sandbox (const struct oci_spec *spec, int *memory_mb, int *vcpus)
{
  int64_t mem = annotation_i64 (spec, "io.kubernetes.cri.sandbox-memory");
  if (mem > 0)
    {
      int64_t mb = memhp_need_mb (mem);
      if (mb > *memory_mb)
        *memory_mb = mb > (1 << 20) ? (1 << 20) : (int)mb;
    }
  int64_t quota = annotation_i64 (spec, "io.kubernetes.cri.sandbox-cpu-quota");
  int64_t period
      = annotation_i64 (spec, "io.kubernetes.cri.sandbox-cpu-period");
  if (quota > 0 && period > 0)
    {
      int64_t n = (quota + period - 1) / period;
      if (n > *vcpus)
        *vcpus = n > 256 ? 256 : (int)n;
    }
}

int
pod_check_sandbox (const struct pod_info *pi, const struct ko_state *sb,
                   const char *status, ko_error **err)
{
  if (sb == NULL)
    return ko_error_setx (err, ENOENT,
                          "config.json: annotations: %s: sandbox %s does not "
                          "exist",
                          pi->key, pi->sandbox_id);
  if (strcmp (status, "created") != 0 && strcmp (status, "running") != 0
      && strcmp (status, "paused") != 0)
    return ko_error_setx (err, EINVAL,
                          "config.json: annotations: %s: sandbox %s is %s, "
                          "not running",
                          pi->key, pi->sandbox_id, status);
  if (sb->sandbox)
    return ko_error_setx (err, EINVAL,
                          "config.json: annotations: %s: %s is a member of "
                          "sandbox %s, not a sandbox",
                          pi->key, pi->sandbox_id, sb->sandbox);
  return 0;
}
