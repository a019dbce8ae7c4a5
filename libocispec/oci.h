/* OCI runtime-spec 1.2 (Linux) documents: config.json (oci_spec), a process
 * (oci_process, also `exec --process`), the state document (oci_state), the
 * features document (oci_features) and linux.resources (oci_linux_resources,
 * also `update --resources`).
 *
 * Conventions:
 * - optional strings are NULL when absent; optional sub-objects are pointers,
 *   NULL when absent;
 * - optional scalars come with a presence flag: `bool has_x; T x;`;
 * - arrays are `T *x; size_t x_len;`; string arrays parsed or built here are
 *   also NULL-terminated, so they can go to execve as they are;
 * - string maps (annotations, sysctl, unified) keep the document's order;
 * - unknown fields are ignored; every *_free accepts NULL.
 *
 * Parse errors have status EINVAL and say where: "config.json:
 * process.args: expected an array of strings". */
#ifndef KO_OCI_H
#define KO_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* GNU C predefines `linux` as 1; the spec's field is called linux. */
#ifdef linux
#undef linux
#endif

#define OCI_VERSION "1.2.0"

typedef struct oci_map
{
  char **keys;
  char **values;
  size_t len;
} oci_map;

/* The value for key (the last one when the document repeated it), or NULL. */
const char *oci_map_get (const oci_map *m, const char *key);
/* Replaces the value of key, or appends it. */
void oci_map_set (oci_map *m, const char *key, const char *value);
void oci_map_clear (oci_map *m);

typedef struct oci_id_mapping
{
  uint32_t container_id;
  uint32_t host_id;
  uint32_t size;
} oci_id_mapping;

/* --- process --- */

typedef struct oci_user
{
  uint32_t uid;
  uint32_t gid;
  bool has_umask;
  uint32_t umask;
  uint32_t *additional_gids;
  size_t additional_gids_len;
} oci_user;

typedef struct oci_capabilities
{
  char **bounding;
  size_t bounding_len;
  char **effective;
  size_t effective_len;
  char **inheritable;
  size_t inheritable_len;
  char **permitted;
  size_t permitted_len;
  char **ambient;
  size_t ambient_len;
} oci_capabilities;

typedef struct oci_rlimit
{
  char *type;
  uint64_t soft;
  uint64_t hard;
} oci_rlimit;

/* process.scheduler (runtime-spec 1.2): sched_setattr(2)'s fields */
typedef struct oci_scheduler
{
  char *policy; /* required: "SCHED_OTHER", ... */
  int nice;
  int priority;
  char **flags;
  size_t flags_len;
  uint64_t runtime, deadline, period; /* ns, SCHED_DEADLINE's */
} oci_scheduler;

/* process.ioPriority (runtime-spec 1.2): ioprio_set(2)'s */
typedef struct oci_io_priority
{
  char *class; /* required: "IOPRIO_CLASS_RT", "_BE" or "_IDLE" */
  int priority;
} oci_io_priority;

typedef struct oci_process
{
  bool terminal;
  bool has_console_size;
  uint32_t console_height;
  uint32_t console_width;
  oci_user *user;
  char **args; /* required, non-empty */
  size_t args_len;
  char **env;
  size_t env_len;
  char *cwd; /* required */
  oci_capabilities *capabilities;
  oci_rlimit *rlimits;
  size_t rlimits_len;
  bool no_new_privileges;
  char *apparmor_profile;
  bool has_oom_score_adj;
  int oom_score_adj;
  char *selinux_label;
  oci_scheduler *scheduler;
  oci_io_priority *io_priority;
} oci_process;

/* --- root, mounts, hooks --- */

typedef struct oci_root
{
  char *path; /* required */
  bool readonly;
} oci_root;

typedef struct oci_mount
{
  char *destination; /* required */
  char *type;
  char *source;
  char **options;
  size_t options_len;
  oci_id_mapping *uid_mappings;
  size_t uid_mappings_len;
  oci_id_mapping *gid_mappings;
  size_t gid_mappings_len;
} oci_mount;

typedef struct oci_hook
{
  char *path; /* required */
  char **args;
  size_t args_len;
  char **env;
  size_t env_len;
  bool has_timeout;
  int timeout; /* seconds, > 0 */
} oci_hook;

typedef struct oci_hooks
{
  oci_hook *prestart;
  size_t prestart_len;
  oci_hook *create_runtime;
  size_t create_runtime_len;
  oci_hook *create_container;
  size_t create_container_len;
  oci_hook *start_container;
  size_t start_container_len;
  oci_hook *poststart;
  size_t poststart_len;
  oci_hook *poststop;
  size_t poststop_len;
} oci_hooks;

/* --- linux.resources --- */

typedef struct oci_device_cgroup
{
  bool allow;
  char *type;
  bool has_major;
  int64_t major;
  bool has_minor;
  int64_t minor;
  char *access;
} oci_device_cgroup;

typedef struct oci_memory
{
  bool has_limit;
  int64_t limit;
  bool has_reservation;
  int64_t reservation;
  bool has_swap;
  int64_t swap;
  bool has_kernel;
  int64_t kernel;
  bool has_kernel_tcp;
  int64_t kernel_tcp;
  bool has_swappiness;
  uint64_t swappiness;
  bool has_disable_oom_killer;
  bool disable_oom_killer;
  bool has_use_hierarchy;
  bool use_hierarchy;
  bool has_check_before_update;
  bool check_before_update;
} oci_memory;

typedef struct oci_cpu
{
  bool has_shares;
  uint64_t shares;
  bool has_quota;
  int64_t quota;
  bool has_burst;
  uint64_t burst;
  bool has_period;
  uint64_t period;
  bool has_realtime_runtime;
  int64_t realtime_runtime;
  bool has_realtime_period;
  uint64_t realtime_period;
  char *cpus;
  char *mems;
  bool has_idle;
  int64_t idle;
} oci_cpu;

typedef struct oci_weight_device
{
  int64_t major; /* required */
  int64_t minor; /* required */
  bool has_weight;
  uint16_t weight;
  bool has_leaf_weight;
  uint16_t leaf_weight;
} oci_weight_device;

typedef struct oci_throttle_device
{
  int64_t major; /* required */
  int64_t minor; /* required */
  uint64_t rate; /* required */
} oci_throttle_device;

typedef struct oci_block_io
{
  bool has_weight;
  uint16_t weight;
  bool has_leaf_weight;
  uint16_t leaf_weight;
  oci_weight_device *weight_device;
  size_t weight_device_len;
  oci_throttle_device *throttle_read_bps_device;
  size_t throttle_read_bps_device_len;
  oci_throttle_device *throttle_write_bps_device;
  size_t throttle_write_bps_device_len;
  oci_throttle_device *throttle_read_iops_device;
  size_t throttle_read_iops_device_len;
  oci_throttle_device *throttle_write_iops_device;
  size_t throttle_write_iops_device_len;
} oci_block_io;

typedef struct oci_hugepage_limit
{
  char *page_size; /* required; JSON "pageSize" */
  uint64_t limit;  /* required */
} oci_hugepage_limit;

typedef struct oci_interface_priority
{
  char *name;        /* required */
  uint32_t priority; /* required */
} oci_interface_priority;

typedef struct oci_network
{
  bool has_class_id;
  uint32_t class_id;
  oci_interface_priority *priorities;
  size_t priorities_len;
} oci_network;

typedef struct oci_rdma
{
  char *device; /* the map key */
  bool has_hca_handles;
  uint32_t hca_handles;
  bool has_hca_objects;
  uint32_t hca_objects;
} oci_rdma;

typedef struct oci_linux_resources
{
  oci_device_cgroup *devices;
  size_t devices_len;
  oci_memory *memory;
  oci_cpu *cpu;
  bool has_pids_limit; /* "pids": {"limit": N} */
  int64_t pids_limit;
  oci_block_io *block_io;
  oci_hugepage_limit *hugepage_limits;
  size_t hugepage_limits_len;
  oci_network *network;
  oci_rdma *rdma;
  size_t rdma_len;
  oci_map unified;
} oci_linux_resources;

/* --- linux --- */

typedef struct oci_namespace
{
  char *type; /* required */
  char *path;
} oci_namespace;

typedef struct oci_seccomp_arg
{
  uint32_t index; /* required */
  uint64_t value; /* required */
  bool has_value_two;
  uint64_t value_two;
  char *op; /* required */
} oci_seccomp_arg;

typedef struct oci_syscall
{
  char **names; /* required */
  size_t names_len;
  char *action; /* required */
  bool has_errno_ret;
  uint32_t errno_ret;
  oci_seccomp_arg *args;
  size_t args_len;
} oci_syscall;

typedef struct oci_seccomp
{
  char *default_action; /* required */
  bool has_default_errno_ret;
  uint32_t default_errno_ret;
  char **architectures;
  size_t architectures_len;
  char **flags;
  size_t flags_len;
  char *listener_path;
  char *listener_metadata;
  oci_syscall *syscalls;
  size_t syscalls_len;
} oci_seccomp;

typedef struct oci_device
{
  char *type; /* required */
  char *path; /* required */
  bool has_major;
  int64_t major;
  bool has_minor;
  int64_t minor;
  bool has_file_mode;
  uint32_t file_mode;
  bool has_uid;
  uint32_t uid;
  bool has_gid;
  uint32_t gid;
} oci_device;

typedef struct oci_personality
{
  char *domain; /* required */
  char **flags;
  size_t flags_len;
} oci_personality;

typedef struct oci_time_offset
{
  char *clock; /* the map key: "monotonic", "boottime" */
  bool has_secs;
  int64_t secs;
  bool has_nanosecs;
  uint32_t nanosecs;
} oci_time_offset;

typedef struct oci_linux
{
  oci_namespace *namespaces;
  size_t namespaces_len;
  oci_id_mapping *uid_mappings;
  size_t uid_mappings_len;
  oci_id_mapping *gid_mappings;
  size_t gid_mappings_len;
  oci_time_offset *time_offsets;
  size_t time_offsets_len;
  oci_map sysctl;
  oci_linux_resources *resources;
  char *cgroups_path;
  char *rootfs_propagation;
  oci_seccomp *seccomp;
  oci_device *devices;
  size_t devices_len;
  char **masked_paths;
  size_t masked_paths_len;
  char **readonly_paths;
  size_t readonly_paths_len;
  char *mount_label;
  char *intel_rdt_clos_id; /* "intelRdt": {"closID": ...}; other keys dropped */
  oci_personality *personality;
} oci_linux;

/* --- config.json --- */

typedef struct oci_spec
{
  char *oci_version; /* required */
  oci_process *process;
  oci_root *root;
  char *hostname;
  char *domainname;
  oci_mount *mounts;
  size_t mounts_len;
  oci_hooks *hooks;
  oci_map annotations;
  oci_linux *linux;
} oci_spec;

/* `name` prefixes error messages; parse_file uses the file's basename. */
oci_spec *oci_spec_parse_file (const char *path, ko_error **err);
oci_spec *oci_spec_parse_data (const char *data, size_t len, const char *name,
                               ko_error **err);
/* Tab-indented JSON text ending with a newline, malloc'd. */
char *oci_spec_generate (const oci_spec *s, ko_error **err);
void oci_spec_free (oci_spec *s);
/* What `kata-oci spec` writes, like `runc spec [--rootless]`. */
oci_spec *oci_spec_new_default (bool rootless, ko_error **err);

oci_process *oci_process_parse_file (const char *path, ko_error **err);
oci_process *oci_process_parse_data (const char *data, size_t len,
                                     const char *name, ko_error **err);
char *oci_process_generate (const oci_process *p, ko_error **err);
void oci_process_free (oci_process *p);

oci_linux_resources *oci_linux_resources_parse_file (const char *path,
                                                     ko_error **err);
oci_linux_resources *oci_linux_resources_parse_data (const char *data,
                                                     size_t len,
                                                     const char *name,
                                                     ko_error **err);
char *oci_linux_resources_generate (const oci_linux_resources *r,
                                    ko_error **err);
void oci_linux_resources_free (oci_linux_resources *r);

/* --- state --- */

typedef struct oci_state
{
  char *oci_version; /* required */
  char *id;          /* required */
  char *status;      /* required: "creating", "created", "running", "stopped" */
  bool has_pid;
  int pid;
  char *bundle;
  oci_map annotations;
  /* what runc's `state` adds (generated when set, never parsed) */
  char *rootfs, *created, *owner;
} oci_state;

oci_state *oci_state_parse_file (const char *path, ko_error **err);
oci_state *oci_state_parse_data (const char *data, size_t len, const char *name,
                                 ko_error **err);
char *oci_state_generate (const oci_state *st, ko_error **err);
void oci_state_free (oci_state *st);

/* --- features (runtime-spec features.md) --- */

typedef struct oci_features_cgroup
{
  bool has_v1;
  bool v1;
  bool has_v2;
  bool v2;
  bool has_systemd;
  bool systemd;
  bool has_systemd_user;
  bool systemd_user;
  bool has_rdma;
  bool rdma;
} oci_features_cgroup;

typedef struct oci_features_seccomp
{
  bool has_enabled;
  bool enabled;
  char **actions;
  size_t actions_len;
  char **operators;
  size_t operators_len;
  char **archs;
  size_t archs_len;
  char **known_flags;
  size_t known_flags_len;
  char **supported_flags;
  size_t supported_flags_len;
} oci_features_seccomp;

/* apparmor, selinux, intelRdt, mountExtensions.idmap: {"enabled": bool} */
typedef struct oci_features_enabled
{
  bool has_enabled;
  bool enabled;
} oci_features_enabled;

typedef struct oci_features_linux
{
  char **namespaces;
  size_t namespaces_len;
  char **capabilities;
  size_t capabilities_len;
  oci_features_cgroup *cgroup;
  oci_features_seccomp *seccomp;
  oci_features_enabled *apparmor;
  oci_features_enabled *selinux;
  oci_features_enabled *intel_rdt;
  oci_features_enabled *idmap_mounts; /* mountExtensions.idmap */
} oci_features_linux;

typedef struct oci_features
{
  char *oci_version_min; /* required */
  char *oci_version_max; /* required */
  char **hooks;
  size_t hooks_len;
  char **mount_options;
  size_t mount_options_len;
  oci_features_linux *linux;
  oci_map annotations;
  char **potentially_unsafe_config_annotations;
  size_t potentially_unsafe_config_annotations_len;
} oci_features;

/* What this library understands: every hook, mount option, namespace,
 * capability, seccomp action/operator/arch it can carry; cgroup v2 only;
 * apparmor, selinux, intelRdt and idmap mounts disabled. The caller adjusts
 * fields (and annotations) to what the runtime really does. */
oci_features *oci_features_new (ko_error **err);
oci_features *oci_features_parse_data (const char *data, size_t len,
                                       const char *name, ko_error **err);
oci_features *oci_features_parse_file (const char *path, ko_error **err);
char *oci_features_generate (const oci_features *f, ko_error **err);
void oci_features_free (oci_features *f);

#endif
