/* linux.resources: inside config.json, and alone for `update --resources`. */
#include "oci-spec-internal.h"

#include <stdlib.h>

/* --- parse --- */

static int
device_cgroup_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_device_cgroup *d = out;
  if (oci_get_bool (p, v, "allow", NULL, &d->allow) < 0
      || oci_get_string (p, v, "type", false, &d->type) < 0
      || oci_get_i64 (p, v, "major", false, &d->has_major, INT64_MIN, INT64_MAX,
                      &d->major)
             < 0
      || oci_get_i64 (p, v, "minor", false, &d->has_minor, INT64_MIN, INT64_MAX,
                      &d->minor)
             < 0
      || oci_get_string (p, v, "access", false, &d->access) < 0)
    return -1;
  return 0;
}

static void
device_cgroup_fini (void *e)
{
  oci_device_cgroup *d = e;
  free (d->type);
  free (d->access);
}

#define I64(key, field)                                                        \
  oci_get_i64 (p, v, key, false, &m->has_##field, INT64_MIN, INT64_MAX,        \
               &m->field)
#define U64(key, field)                                                        \
  oci_get_u64 (p, v, key, false, &m->has_##field, UINT64_MAX, &m->field)
#define BOOL(key, field) oci_get_bool (p, v, key, &m->has_##field, &m->field)

static int
memory_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_memory *m = out;
  if (I64 ("limit", limit) < 0 || I64 ("reservation", reservation) < 0
      || I64 ("swap", swap) < 0 || I64 ("kernel", kernel) < 0
      || I64 ("kernelTCP", kernel_tcp) < 0 || U64 ("swappiness", swappiness) < 0
      || BOOL ("disableOOMKiller", disable_oom_killer) < 0
      || BOOL ("useHierarchy", use_hierarchy) < 0
      || BOOL ("checkBeforeUpdate", check_before_update) < 0)
    return -1;
  return 0;
}

static int
cpu_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_cpu *m = out;
  if (U64 ("shares", shares) < 0 || I64 ("quota", quota) < 0
      || U64 ("burst", burst) < 0 || U64 ("period", period) < 0
      || I64 ("realtimeRuntime", realtime_runtime) < 0
      || U64 ("realtimePeriod", realtime_period) < 0
      || oci_get_string (p, v, "cpus", false, &m->cpus) < 0
      || oci_get_string (p, v, "mems", false, &m->mems) < 0
      || I64 ("idle", idle) < 0)
    return -1;
  return 0;
}

static int
weight_device_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_weight_device *m = out;
  if (oci_get_i64 (p, v, "major", true, NULL, INT64_MIN, INT64_MAX, &m->major)
          < 0
      || oci_get_i64 (p, v, "minor", true, NULL, INT64_MIN, INT64_MAX,
                      &m->minor)
             < 0
      || oci_get_u16 (p, v, "weight", false, &m->has_weight, &m->weight) < 0
      || oci_get_u16 (p, v, "leafWeight", false, &m->has_leaf_weight,
                      &m->leaf_weight)
             < 0)
    return -1;
  return 0;
}

static int
throttle_device_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_throttle_device *m = out;
  if (oci_get_i64 (p, v, "major", true, NULL, INT64_MIN, INT64_MAX, &m->major)
          < 0
      || oci_get_i64 (p, v, "minor", true, NULL, INT64_MIN, INT64_MAX,
                      &m->minor)
             < 0
      || oci_get_u64 (p, v, "rate", true, NULL, UINT64_MAX, &m->rate) < 0)
    return -1;
  return 0;
}

#define THROTTLE(key, field)                                                   \
  oci_get_array (p, v, key, false, sizeof (oci_throttle_device),               \
                 throttle_device_parse, (void **)&m->field, &m->field##_len)

static int
block_io_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_block_io *m = out;
  if (oci_get_u16 (p, v, "weight", false, &m->has_weight, &m->weight) < 0
      || oci_get_u16 (p, v, "leafWeight", false, &m->has_leaf_weight,
                      &m->leaf_weight)
             < 0
      || oci_get_array (p, v, "weightDevice", false, sizeof (oci_weight_device),
                        weight_device_parse, (void **)&m->weight_device,
                        &m->weight_device_len)
             < 0
      || THROTTLE ("throttleReadBpsDevice", throttle_read_bps_device) < 0
      || THROTTLE ("throttleWriteBpsDevice", throttle_write_bps_device) < 0
      || THROTTLE ("throttleReadIOPSDevice", throttle_read_iops_device) < 0
      || THROTTLE ("throttleWriteIOPSDevice", throttle_write_iops_device) < 0)
    return -1;
  return 0;
}

static int
hugepage_limit_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_hugepage_limit *m = out;
  if (oci_get_string (p, v, "pageSize", true, &m->page_size) < 0
      || oci_get_u64 (p, v, "limit", true, NULL, UINT64_MAX, &m->limit) < 0)
    return -1;
  return 0;
}

static void
hugepage_limit_fini (void *e)
{
  oci_hugepage_limit *m = e;
  free (m->page_size);
}

static int
priority_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_interface_priority *m = out;
  if (oci_get_string (p, v, "name", true, &m->name) < 0
      || oci_get_u32 (p, v, "priority", true, NULL, &m->priority) < 0)
    return -1;
  return 0;
}

static void
priority_fini (void *e)
{
  oci_interface_priority *m = e;
  free (m->name);
}

static int
network_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_network *m = out;
  if (oci_get_u32 (p, v, "classID", false, &m->has_class_id, &m->class_id) < 0
      || oci_get_array (p, v, "priorities", false,
                        sizeof (oci_interface_priority), priority_parse,
                        (void **)&m->priorities, &m->priorities_len)
             < 0)
    return -1;
  return 0;
}

static int
rdma_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_rdma *m = out;
  if (oci_get_u32 (p, v, "hcaHandles", false, &m->has_hca_handles,
                   &m->hca_handles)
          < 0
      || oci_get_u32 (p, v, "hcaObjects", false, &m->has_hca_objects,
                      &m->hca_objects)
             < 0)
    return -1;
  return 0;
}

static void
rdma_fini (void *e)
{
  oci_rdma *m = e;
  free (m->device);
}

static int
pids_parse (oci_parser *p, yajl_val v, oci_linux_resources *r)
{
  yajl_val pids = oci_obj_get (v, "pids");
  if (pids == NULL)
    return 0;
  size_t mark = oci_path_push_key (p, "pids");
  int ret = YAJL_IS_OBJECT (pids)
                ? oci_get_i64 (p, pids, "limit", true, &r->has_pids_limit,
                               INT64_MIN, INT64_MAX, &r->pids_limit)
                : oci_fail (p, "expected an object");
  oci_path_pop (p, mark);
  return ret;
}

int
oci_linux_resources_parse (oci_parser *p, yajl_val v, void *out)
{
  oci_linux_resources *r = out;
  if (oci_get_array (p, v, "devices", false, sizeof (oci_device_cgroup),
                     device_cgroup_parse, (void **)&r->devices, &r->devices_len)
          < 0
      || oci_get_object (p, v, "memory", false, sizeof (oci_memory),
                         memory_parse, (void **)&r->memory)
             < 0
      || oci_get_object (p, v, "cpu", false, sizeof (oci_cpu), cpu_parse,
                         (void **)&r->cpu)
             < 0
      || pids_parse (p, v, r) < 0
      || oci_get_object (p, v, "blockIO", false, sizeof (oci_block_io),
                         block_io_parse, (void **)&r->block_io)
             < 0
      || oci_get_array (p, v, "hugepageLimits", false,
                        sizeof (oci_hugepage_limit), hugepage_limit_parse,
                        (void **)&r->hugepage_limits, &r->hugepage_limits_len)
             < 0
      || oci_get_object (p, v, "network", false, sizeof (oci_network),
                         network_parse, (void **)&r->network)
             < 0
      || oci_get_object_map (p, v, "rdma", sizeof (oci_rdma), rdma_parse,
                             (void **)&r->rdma, &r->rdma_len)
             < 0
      || oci_get_map (p, v, "unified", &r->unified) < 0)
    return -1;
  return 0;
}

/* --- free --- */

static void
block_io_free (oci_block_io *b)
{
  if (b == NULL)
    return;
  free (b->weight_device);
  free (b->throttle_read_bps_device);
  free (b->throttle_write_bps_device);
  free (b->throttle_read_iops_device);
  free (b->throttle_write_iops_device);
  free (b);
}

void
oci_linux_resources_free (oci_linux_resources *r)
{
  if (r == NULL)
    return;
  oci_free_array (r->devices, r->devices_len, sizeof (oci_device_cgroup),
                  device_cgroup_fini);
  free (r->memory);
  if (r->cpu)
    {
      free (r->cpu->cpus);
      free (r->cpu->mems);
    }
  free (r->cpu);
  block_io_free (r->block_io);
  oci_free_array (r->hugepage_limits, r->hugepage_limits_len,
                  sizeof (oci_hugepage_limit), hugepage_limit_fini);
  if (r->network)
    oci_free_array (r->network->priorities, r->network->priorities_len,
                    sizeof (oci_interface_priority), priority_fini);
  free (r->network);
  oci_free_array (r->rdma, r->rdma_len, sizeof (oci_rdma), rdma_fini);
  oci_map_clear (&r->unified);
  free (r);
}

/* --- generate --- */

#define GEN_OPT_I64(key, field)                                                \
  do                                                                           \
    {                                                                          \
      if (m->has_##field)                                                      \
        oci_gen_i64 (g, key, m->field);                                        \
    }                                                                          \
  while (0)
#define GEN_OPT_U64(key, field)                                                \
  do                                                                           \
    {                                                                          \
      if (m->has_##field)                                                      \
        oci_gen_u64 (g, key, m->field);                                        \
    }                                                                          \
  while (0)
#define GEN_OPT_BOOL(key, field)                                               \
  do                                                                           \
    {                                                                          \
      if (m->has_##field)                                                      \
        oci_gen_bool (g, key, m->field);                                       \
    }                                                                          \
  while (0)

static void
memory_gen (oci_gen *g, const oci_memory *m)
{
  oci_gen_open (g, "memory");
  GEN_OPT_I64 ("limit", limit);
  GEN_OPT_I64 ("reservation", reservation);
  GEN_OPT_I64 ("swap", swap);
  GEN_OPT_I64 ("kernel", kernel);
  GEN_OPT_I64 ("kernelTCP", kernel_tcp);
  GEN_OPT_U64 ("swappiness", swappiness);
  GEN_OPT_BOOL ("disableOOMKiller", disable_oom_killer);
  GEN_OPT_BOOL ("useHierarchy", use_hierarchy);
  GEN_OPT_BOOL ("checkBeforeUpdate", check_before_update);
  oci_gen_close (g);
}

static void
cpu_gen (oci_gen *g, const oci_cpu *m)
{
  oci_gen_open (g, "cpu");
  GEN_OPT_U64 ("shares", shares);
  GEN_OPT_I64 ("quota", quota);
  GEN_OPT_U64 ("burst", burst);
  GEN_OPT_U64 ("period", period);
  GEN_OPT_I64 ("realtimeRuntime", realtime_runtime);
  GEN_OPT_U64 ("realtimePeriod", realtime_period);
  oci_gen_string_opt (g, "cpus", m->cpus);
  oci_gen_string_opt (g, "mems", m->mems);
  GEN_OPT_I64 ("idle", idle);
  oci_gen_close (g);
}

static void
throttle_gen (oci_gen *g, const char *key, const oci_throttle_device *d,
              size_t len)
{
  if (len == 0)
    return;
  oci_gen_open_array (g, key);
  for (size_t i = 0; i < len; i++)
    {
      oci_gen_open (g, NULL);
      oci_gen_i64 (g, "major", d[i].major);
      oci_gen_i64 (g, "minor", d[i].minor);
      oci_gen_u64 (g, "rate", d[i].rate);
      oci_gen_close (g);
    }
  oci_gen_close_array (g);
}

static void
block_io_gen (oci_gen *g, const oci_block_io *m)
{
  oci_gen_open (g, "blockIO");
  GEN_OPT_U64 ("weight", weight);
  GEN_OPT_U64 ("leafWeight", leaf_weight);
  if (m->weight_device_len)
    {
      oci_gen_open_array (g, "weightDevice");
      for (size_t i = 0; i < m->weight_device_len; i++)
        {
          const oci_weight_device *d = &m->weight_device[i];
          oci_gen_open (g, NULL);
          oci_gen_i64 (g, "major", d->major);
          oci_gen_i64 (g, "minor", d->minor);
          if (d->has_weight)
            oci_gen_u64 (g, "weight", d->weight);
          if (d->has_leaf_weight)
            oci_gen_u64 (g, "leafWeight", d->leaf_weight);
          oci_gen_close (g);
        }
      oci_gen_close_array (g);
    }
  throttle_gen (g, "throttleReadBpsDevice", m->throttle_read_bps_device,
                m->throttle_read_bps_device_len);
  throttle_gen (g, "throttleWriteBpsDevice", m->throttle_write_bps_device,
                m->throttle_write_bps_device_len);
  throttle_gen (g, "throttleReadIOPSDevice", m->throttle_read_iops_device,
                m->throttle_read_iops_device_len);
  throttle_gen (g, "throttleWriteIOPSDevice", m->throttle_write_iops_device,
                m->throttle_write_iops_device_len);
  oci_gen_close (g);
}

static void
network_gen (oci_gen *g, const oci_network *m)
{
  oci_gen_open (g, "network");
  GEN_OPT_U64 ("classID", class_id);
  if (m->priorities_len)
    {
      oci_gen_open_array (g, "priorities");
      for (size_t i = 0; i < m->priorities_len; i++)
        {
          oci_gen_open (g, NULL);
          oci_gen_string (g, "name", m->priorities[i].name);
          oci_gen_u64 (g, "priority", m->priorities[i].priority);
          oci_gen_close (g);
        }
      oci_gen_close_array (g);
    }
  oci_gen_close (g);
}

void
oci_linux_resources_gen (oci_gen *g, const char *key,
                         const oci_linux_resources *r)
{
  oci_gen_open (g, key);
  if (r->devices_len)
    {
      oci_gen_open_array (g, "devices");
      for (size_t i = 0; i < r->devices_len; i++)
        {
          const oci_device_cgroup *d = &r->devices[i];
          oci_gen_open (g, NULL);
          oci_gen_bool (g, "allow", d->allow);
          oci_gen_string_opt (g, "type", d->type);
          if (d->has_major)
            oci_gen_i64 (g, "major", d->major);
          if (d->has_minor)
            oci_gen_i64 (g, "minor", d->minor);
          oci_gen_string_opt (g, "access", d->access);
          oci_gen_close (g);
        }
      oci_gen_close_array (g);
    }
  if (r->memory)
    memory_gen (g, r->memory);
  if (r->cpu)
    cpu_gen (g, r->cpu);
  if (r->has_pids_limit)
    {
      oci_gen_open (g, "pids");
      oci_gen_i64 (g, "limit", r->pids_limit);
      oci_gen_close (g);
    }
  if (r->block_io)
    block_io_gen (g, r->block_io);
  if (r->hugepage_limits_len)
    {
      oci_gen_open_array (g, "hugepageLimits");
      for (size_t i = 0; i < r->hugepage_limits_len; i++)
        {
          oci_gen_open (g, NULL);
          oci_gen_string (g, "pageSize", r->hugepage_limits[i].page_size);
          oci_gen_u64 (g, "limit", r->hugepage_limits[i].limit);
          oci_gen_close (g);
        }
      oci_gen_close_array (g);
    }
  if (r->network)
    network_gen (g, r->network);
  if (r->rdma_len)
    {
      oci_gen_open (g, "rdma");
      for (size_t i = 0; i < r->rdma_len; i++)
        {
          const oci_rdma *m = &r->rdma[i];
          oci_gen_open (g, m->device ? m->device : "");
          GEN_OPT_U64 ("hcaHandles", hca_handles);
          GEN_OPT_U64 ("hcaObjects", hca_objects);
          oci_gen_close (g);
        }
      oci_gen_close (g);
    }
  oci_gen_map (g, "unified", &r->unified);
  oci_gen_close (g);
}

/* --- standalone documents --- */

oci_linux_resources *
oci_linux_resources_parse_data (const char *data, size_t len, const char *name,
                                ko_error **err)
{
  return oci_document_parse (data, len, name, sizeof (oci_linux_resources),
                             (oci_parse_fn)oci_linux_resources_parse,
                             (void (*) (void *))oci_linux_resources_free, err);
}

oci_linux_resources *
oci_linux_resources_parse_file (const char *path, ko_error **err)
{
  return oci_document_parse_file (path, sizeof (oci_linux_resources),
                                  (oci_parse_fn)oci_linux_resources_parse,
                                  (void (*) (void *))oci_linux_resources_free,
                                  err);
}

char *
oci_linux_resources_generate (const oci_linux_resources *r, ko_error **err)
{
  oci_gen g;
  oci_gen_init (&g);
  oci_linux_resources_gen (&g, NULL, r);
  return oci_gen_finish (&g, "resources", err);
}
