/* Typed messages of the agent protocol (proto.h), shared by the host and the
 * agent: for every request, reply body and event a struct and ONE encode /
 * decode pair, so that neither side walks TLV fields itself.
 *
 * Encoders write the TLV body only (ko_request_append, ko_reply_append and
 * ko_event_append frame it) in the order the protocol has always used, so
 * old and new peers interoperate byte for byte. They return 0, or -1 when
 * out of memory or when a required field is NULL.
 *
 * Decoders take hostile input: every field is bounds-checked, a required
 * field missing (EINVAL), a field of the wrong length, a string holding a NUL
 * or longer than KO_MAX_STRING, a list longer than its bound, a repeated
 * single field or a truncated body (EPROTO) fails with *err naming the field
 * ("no exec id", "signal: 2 bytes, expected 4"). Unknown tags are skipped;
 * a repeated scalar keeps its last value. On failure the struct owns
 * nothing: there is nothing to clear. ko_msg_decode_request / _reply /
 * _event prefix the message's name ("ExecProcess: no exec id").
 *
 * Each _clear frees what a decode (or a caller filling the struct with
 * malloc'd memory) put there and zeroes the struct; NULL is accepted.
 */
#ifndef KO_MSG_H
#define KO_MSG_H

#include "proto.h"

/* ---- pieces of CreateContainer ---- */

/* MOUNT, in spec order */
struct ko_mount
{
  char *dest;   /* M_DEST, required */
  char *type;   /* M_TYPE */
  char *source; /* M_SOURCE; for binds relative to the share */
  char *data;   /* M_DATA, NULL: none */
  uint64_t flags;
  uint64_t propagation; /* 0: none (not sent) */
  char *disk;           /* M_DISK: the source is this guest disk */
  uint64_t rec_attr;    /* M_REC_ATTR: MOUNT_ATTR_* to set | to clear << 32,
                           applied with AT_RECURSIVE last; 0: none */
};

/* DEVICE */
struct ko_device
{
  uint32_t type; /* 'c' 'b' 'u' 'p'; required */
  char *path;    /* required */
  uint64_t major, minor;
  uint32_t mode, uid, gid;
  bool has_mode, has_uid, has_gid;
  char *disk; /* D_DISK: the guest disk whose node this is */
};

/* SYSCTL */
struct ko_sysctl
{
  char *key;   /* required */
  char *value; /* NULL: "" */
};

/* RESOURCES: OCI linux.resources values as they are. A field absent leaves
 * the cgroup's value unchanged. */
#define KO_RESOURCES_N (KO_TAG_R_LAST - KO_TAG_R_MEM_LIMIT + 1)
struct ko_resources
{
  uint32_t has;              /* KO_R_BIT (tag) for every field present */
  int64_t v[KO_RESOURCES_N]; /* numbers, by tag - KO_TAG_R_MEM_LIMIT */
  char *cpus, *mems;         /* R_CPUSET_CPUS and R_CPUSET_MEMS */
  char *unified;             /* R_UNIFIED */
};
#define KO_R_BIT(tag) (1u << ((tag)-KO_TAG_R_MEM_LIMIT))
/* by name: KO_R_HAS (r, MEM_LIMIT), KO_R_V (r, CPU_QUOTA) */
#define KO_R_HAS(r, name) (((r)->has & KO_R_BIT (KO_TAG_R_##name)) != 0)
#define KO_R_V(r, name) ((r)->v[KO_TAG_R_##name - KO_TAG_R_MEM_LIMIT])
/* Sets a number (any R_* tag but the two cpuset strings). */
void ko_resources_set (struct ko_resources *r, uint16_t tag, int64_t v);
/* Sets R_CPUSET_CPUS, R_CPUSET_MEMS or R_UNIFIED to a copy of s: -1 when
 * out of memory. */
int ko_resources_set_str (struct ko_resources *r, uint16_t tag, const char *s);
/* A nested field of the given tag (RESOURCES), its fields in tag order. */
int ko_resources_encode (struct ko_buf *b, uint16_t tag,
                         const struct ko_resources *r);
int ko_resources_decode (const struct ko_field *f, struct ko_resources *r,
                         ko_error **err);
void ko_resources_clear (struct ko_resources *r);

/* What config.json says of the container beyond its process: the fields of
 * CreateContainer after the process. The host compiles it once (translate.c);
 * encoded, it follows the message's own fields. */
struct ko_container_spec
{
  char *domainname;
  char *notify; /* NOTIFY: the sd_notify socket's path, or NULL */
  bool root_readonly;
  struct ko_mount *mounts; /* none: the agent's default mounts */
  size_t nmounts;
  /* with CLONE_NEWUSER in namespaces: both maps (ko_id_maps_check) */
  struct ko_id_map uid_map[KO_MAX_ID_MAPS], gid_map[KO_MAX_ID_MAPS];
  size_t nuid_map, ngid_map;
  bool has_namespaces; /* absent: the agent's defaults */
  uint64_t namespaces; /* CLONE_NEW* */
  struct ko_sysctl *sysctls;
  size_t nsysctls;
  struct ko_device *devices;
  size_t ndevices;
  uint64_t rootfs_propagation; /* MS_*; 0: none (not sent) */
  char **masked;               /* NULL-terminated */
  size_t nmasked;
  char **readonly; /* NULL-terminated */
  size_t nreadonly;
  bool has_personality;
  uint32_t personality;
  bool has_resources;
  struct ko_resources resources;
  /* a pod member: the namespaces (CLONE_NEWIPC, UTS, PID) it shares with
   * the init of container join_container, the pod's sandbox */
  char *join_container;
  uint64_t join_ns;
  char *time_offsets; /* NULL: none (a time namespace keeps the VM's) */
  /* the device program (KO_TAG_DEVFILTER), NULL: none; and the serials of
   * its disk slots, in order */
  uint8_t *devfilter;
  size_t devfilter_len;
  char **devfilter_disks; /* NULL-terminated */
  size_t ndevfilter_disks;
  /* the rootfs is this guest disk's filesystem (ROOTFS_DISK*), NULL: the
   * share's ROOTFS */
  char *rootfs_disk;
  char *rootfs_disk_type; /* required with rootfs_disk */
  char *rootfs_disk_data; /* NULL: none */
  uint64_t rootfs_disk_flags;
};
/* Appends the container-level fields alone (what the monitor appends after
 * CONTAINER_ID, ROOTFS, HOSTNAME and PROCESS). */
int ko_container_spec_encode (struct ko_buf *b,
                              const struct ko_container_spec *s);
/* Decodes what ko_container_spec_encode wrote (the monitor reads back what
 * translate.c encoded at create), with CreateContainer's checks. */
int ko_container_spec_decode (struct ko_tlv body, struct ko_container_spec *s,
                              ko_error **err);
void ko_container_spec_clear (struct ko_container_spec *s);
/* Append an element, taking its malloc'd strings: -1 when out of memory
 * or past KO_MAX_STRINGS entries, the strings freed then too. */
int ko_container_spec_add_mount (struct ko_container_spec *s,
                                 struct ko_mount *m);
int ko_container_spec_add_device (struct ko_container_spec *s,
                                  struct ko_device *d);
int ko_container_spec_add_sysctl (struct ko_container_spec *s,
                                  struct ko_sysctl *kv);
/* tag: KO_TAG_MASKED_PATH or KO_TAG_READONLY_PATH */
int ko_container_spec_add_path (struct ko_container_spec *s, uint16_t tag,
                                char *path);

/* ---- requests (host -> agent), one per method ---- */

/* CreateSandbox */
struct ko_msg_create_sandbox
{
  char *hostname;  /* NULL: keep the guest's */
  char *share_tag; /* NULL: mount no share */
};
int ko_msg_create_sandbox_encode (struct ko_buf *b,
                                  const struct ko_msg_create_sandbox *m);
int ko_msg_create_sandbox_decode (struct ko_tlv body,
                                  struct ko_msg_create_sandbox *m,
                                  ko_error **err);
void ko_msg_create_sandbox_clear (struct ko_msg_create_sandbox *m);

/* CreateContainer. Reply: ko_msg_pid_reply. */
struct ko_msg_create_container
{
  char *container_id;        /* required, not empty */
  char *rootfs;              /* required: relative to the share */
  char *hostname;            /* NULL: the guest's */
  struct ko_process process; /* required */
  struct ko_container_spec spec;
};
int ko_msg_create_container_encode (struct ko_buf *b,
                                    const struct ko_msg_create_container *m);
int ko_msg_create_container_decode (struct ko_tlv body,
                                    struct ko_msg_create_container *m,
                                    ko_error **err);
void ko_msg_create_container_clear (struct ko_msg_create_container *m);

/* The body of StartContainer, ListProcesses, StatsContainer,
 * PauseContainer, ResumeContainer and RemoveContainer: the container
 * alone. */
struct ko_msg_container_ref
{
  char *container_id; /* required */
};
int ko_msg_container_ref_encode (struct ko_buf *b,
                                 const struct ko_msg_container_ref *m);
int ko_msg_container_ref_decode (struct ko_tlv body,
                                 struct ko_msg_container_ref *m,
                                 ko_error **err);
void ko_msg_container_ref_clear (struct ko_msg_container_ref *m);

/* The body of WaitProcess and CloseStdin: a process of the container.
 * WaitProcess's reply: ko_msg_wait_process_reply. */
struct ko_msg_process_ref
{
  char *container_id; /* required */
  char *exec_id;      /* NULL: the init */
};
int ko_msg_process_ref_encode (struct ko_buf *b,
                               const struct ko_msg_process_ref *m);
int ko_msg_process_ref_decode (struct ko_tlv body, struct ko_msg_process_ref *m,
                               ko_error **err);
void ko_msg_process_ref_clear (struct ko_msg_process_ref *m);

/* ExecProcess. Reply: ko_msg_pid_reply. */
struct ko_msg_exec_process
{
  char *container_id;        /* required */
  char *exec_id;             /* required */
  struct ko_process process; /* required */
};
int ko_msg_exec_process_encode (struct ko_buf *b,
                                const struct ko_msg_exec_process *m);
int ko_msg_exec_process_decode (struct ko_tlv body,
                                struct ko_msg_exec_process *m, ko_error **err);
void ko_msg_exec_process_clear (struct ko_msg_exec_process *m);

/* SignalProcess */
struct ko_msg_signal_process
{
  char *container_id; /* required */
  char *exec_id;      /* NULL: the init */
  uint32_t signal;    /* required */
  bool all;           /* every process of the container */
};
int ko_msg_signal_process_encode (struct ko_buf *b,
                                  const struct ko_msg_signal_process *m);
int ko_msg_signal_process_decode (struct ko_tlv body,
                                  struct ko_msg_signal_process *m,
                                  ko_error **err);
void ko_msg_signal_process_clear (struct ko_msg_signal_process *m);

/* TtyWinResize */
struct ko_msg_tty_win_resize
{
  char *container_id;  /* required */
  char *exec_id;       /* NULL: the init */
  uint32_t rows, cols; /* both required */
};
int ko_msg_tty_win_resize_encode (struct ko_buf *b,
                                  const struct ko_msg_tty_win_resize *m);
int ko_msg_tty_win_resize_decode (struct ko_tlv body,
                                  struct ko_msg_tty_win_resize *m,
                                  ko_error **err);
void ko_msg_tty_win_resize_clear (struct ko_msg_tty_win_resize *m);

/* UpdateContainer */
struct ko_msg_update_container
{
  char *container_id;            /* required */
  struct ko_resources resources; /* required */
};
int ko_msg_update_container_encode (struct ko_buf *b,
                                    const struct ko_msg_update_container *m);
int ko_msg_update_container_decode (struct ko_tlv body,
                                    struct ko_msg_update_container *m,
                                    ko_error **err);
void ko_msg_update_container_clear (struct ko_msg_update_container *m);

/* UpdateInterface: the IF_* fields (ko_net_iface_decode's checks). */
struct ko_msg_update_interface
{
  struct ko_net_iface iface;
};
int ko_msg_update_interface_encode (struct ko_buf *b,
                                    const struct ko_msg_update_interface *m);
int ko_msg_update_interface_decode (struct ko_tlv body,
                                    struct ko_msg_update_interface *m,
                                    ko_error **err);

/* UpdateRoutes: at most KO_NET_MAX_ROUTES, in order. */
struct ko_msg_update_routes
{
  struct ko_net_route routes[KO_NET_MAX_ROUTES];
  size_t nroutes;
};
int ko_msg_update_routes_encode (struct ko_buf *b,
                                 const struct ko_msg_update_routes *m);
int ko_msg_update_routes_decode (struct ko_tlv body,
                                 struct ko_msg_update_routes *m,
                                 ko_error **err);

/* OnlineCpuMem */
struct ko_msg_online_cpu_mem
{
  uint32_t memory_mb; /* required: what must be online afterwards */
};
int ko_msg_online_cpu_mem_encode (struct ko_buf *b,
                                  const struct ko_msg_online_cpu_mem *m);
int ko_msg_online_cpu_mem_decode (struct ko_tlv body,
                                  struct ko_msg_online_cpu_mem *m,
                                  ko_error **err);

/* DestroySandbox: no fields (a body must still be well-formed). */
struct ko_msg_destroy_sandbox
{
  char unused;
};
int ko_msg_destroy_sandbox_encode (struct ko_buf *b,
                                   const struct ko_msg_destroy_sandbox *m);
int ko_msg_destroy_sandbox_decode (struct ko_tlv body,
                                   struct ko_msg_destroy_sandbox *m,
                                   ko_error **err);

/* GuestMetrics: no fields. Reply: ko_msg_guest_metrics_reply. */
struct ko_msg_guest_metrics
{
  char unused;
};
int ko_msg_guest_metrics_encode (struct ko_buf *b,
                                 const struct ko_msg_guest_metrics *m);
int ko_msg_guest_metrics_decode (struct ko_tlv body,
                                 struct ko_msg_guest_metrics *m,
                                 ko_error **err);

/* Any request, by method: what the agent's dispatch decodes into. */
union ko_msg_request
{
  struct ko_msg_create_sandbox create_sandbox;
  struct ko_msg_create_container create_container;
  struct ko_msg_container_ref container_ref; /* Start, List, Stats, Pause,
                                                Resume, Remove */
  struct ko_msg_exec_process exec_process;
  struct ko_msg_signal_process signal_process;
  struct ko_msg_process_ref process_ref; /* Wait, CloseStdin */
  struct ko_msg_tty_win_resize tty_win_resize;
  struct ko_msg_update_container update_container;
  struct ko_msg_update_interface update_interface;
  struct ko_msg_update_routes update_routes;
  struct ko_msg_online_cpu_mem online_cpu_mem;
  struct ko_msg_destroy_sandbox destroy_sandbox;
  struct ko_msg_guest_metrics guest_metrics;
};
/* Decodes the body of a request of method into the union member above.
 * ENOSYS for a method without a request (retired or unknown). */
int ko_msg_decode_request (uint16_t method, struct ko_tlv body,
                           union ko_msg_request *m, ko_error **err);
void ko_msg_request_clear (uint16_t method, union ko_msg_request *m);
/* Encodes the union member of method (the host's side of
 * ko_msg_decode_request): -1 for a method without a request too. */
int ko_msg_encode_request (struct ko_buf *b, uint16_t method,
                           const union ko_msg_request *m);

/* ---- replies (agent -> host) ---- */

/* CreateContainer, ExecProcess */
struct ko_msg_pid_reply
{
  uint32_t pid; /* required */
};
int ko_msg_pid_reply_encode (struct ko_buf *b,
                             const struct ko_msg_pid_reply *m);
int ko_msg_pid_reply_decode (struct ko_tlv body, struct ko_msg_pid_reply *m,
                             ko_error **err);

/* WaitProcess */
struct ko_msg_wait_process_reply
{
  uint32_t status; /* required: raw wait status */
};
int
ko_msg_wait_process_reply_encode (struct ko_buf *b,
                                  const struct ko_msg_wait_process_reply *m);
int ko_msg_wait_process_reply_decode (struct ko_tlv body,
                                      struct ko_msg_wait_process_reply *m,
                                      ko_error **err);

/* ListProcesses: at most KO_MAX_PIDS */
#define KO_MAX_PIDS 65536
/* What ps shows of a process, as the guest said it (untrusted text: the
 * host parses and sanitizes it before printing). */
struct ko_ps_info
{
  bool has_uid;
  uint32_t uid;
  char *stat; /* NULL: unknown */
  char *cmd;  /* NULL: unknown */
};
/* At most this many processes are described (their pids are all sent) */
#define KO_MAX_PS_INFO 4096
struct ko_msg_list_processes_reply
{
  uint32_t *pids;
  size_t npids;
  struct ko_ps_info *info; /* NULL, or npids of them */
  uint64_t uptime_ms;      /* 0: not sent */
};
/* Shared by the agent's and the monitor's codecs: one process's info after
 * its PID, and the decoding of one PS_* field into info[n - 1] (a field
 * before any PID, or twice for one, is an error). */
int ko_ps_info_encode (struct ko_buf *b, const struct ko_ps_info *i);
int ko_ps_info_take (const struct ko_field *f, struct ko_ps_info **info,
                     size_t n, uint64_t *uptime_ms, ko_error **err);
void ko_ps_info_free (struct ko_ps_info *info, size_t n);
int ko_msg_list_processes_reply_encode (
    struct ko_buf *b, const struct ko_msg_list_processes_reply *m);
int ko_msg_list_processes_reply_decode (struct ko_tlv body,
                                        struct ko_msg_list_processes_reply *m,
                                        ko_error **err);
void ko_msg_list_processes_reply_clear (struct ko_msg_list_processes_reply *m);

/* StatsContainer: the STAT_* values the agent could read; any may be
 * missing (the guest kernel lacks the file), and MEM_LIMIT and PIDS_LIMIT
 * are missing for "no limit". */
#define KO_STATS_N (KO_TAG_STAT_OOM_KILLS - KO_TAG_STAT_CPU_USAGE_NS + 1)
struct ko_msg_stats_container_reply
{
  uint32_t has;           /* KO_STAT_BIT (tag) for every value present */
  uint64_t v[KO_STATS_N]; /* by tag - KO_TAG_STAT_CPU_USAGE_NS */
};
#define KO_STAT_BIT(tag) (1u << ((tag)-KO_TAG_STAT_CPU_USAGE_NS))
/* by name: KO_STAT_HAS (s, MEM_LIMIT), KO_STAT_V (s, CPU_USAGE_NS) */
#define KO_STAT_HAS(s, name)                                                   \
  (((s)->has & KO_STAT_BIT (KO_TAG_STAT_##name)) != 0)
#define KO_STAT_V(s, name)                                                     \
  ((s)->v[KO_TAG_STAT_##name - KO_TAG_STAT_CPU_USAGE_NS])
/* Sets the value of a STAT_* tag (others are ignored). */
void ko_msg_stats_set (struct ko_msg_stats_container_reply *m, uint16_t tag,
                       uint64_t v);
int ko_msg_stats_container_reply_encode (
    struct ko_buf *b, const struct ko_msg_stats_container_reply *m);
int ko_msg_stats_container_reply_decode (struct ko_tlv body,
                                         struct ko_msg_stats_container_reply *m,
                                         ko_error **err);

/* GuestMetrics: the GM_* values the agent could read (any may be
 * missing) and every container's cgroup statistics, at most
 * KO_GM_MAX_CONTAINERS of them, each id at most KO_GM_MAX_ID bytes. */
#define KO_GM_N (KO_TAG_GM_UPTIME_NS - KO_TAG_GM_MEM_TOTAL + 1)
#define KO_GM_MAX_CONTAINERS 64
#define KO_GM_MAX_ID 1024
struct ko_guest_container
{
  char *id;
  struct ko_msg_stats_container_reply stats;
};
struct ko_msg_guest_metrics_reply
{
  uint32_t has;        /* KO_GM_BIT (tag) for every value present */
  uint64_t v[KO_GM_N]; /* by tag - KO_TAG_GM_MEM_TOTAL */
  struct ko_guest_container *ctrs;
  size_t nctrs;
};
#define KO_GM_BIT(tag) (1u << ((tag)-KO_TAG_GM_MEM_TOTAL))
#define KO_GM_HAS(m, name) (((m)->has & KO_GM_BIT (KO_TAG_GM_##name)) != 0)
#define KO_GM_V(m, name) ((m)->v[KO_TAG_GM_##name - KO_TAG_GM_MEM_TOTAL])
/* Sets the value of a GM_* tag (others are ignored). */
void ko_msg_guest_metrics_set (struct ko_msg_guest_metrics_reply *m,
                               uint16_t tag, uint64_t v);
/* Appends a container (taking a copy of id): -1 when out of memory or
 * past KO_GM_MAX_CONTAINERS. */
int ko_msg_guest_metrics_add (struct ko_msg_guest_metrics_reply *m,
                              const char *id,
                              const struct ko_msg_stats_container_reply *st);
int
ko_msg_guest_metrics_reply_encode (struct ko_buf *b,
                                   const struct ko_msg_guest_metrics_reply *m);
int ko_msg_guest_metrics_reply_decode (struct ko_tlv body,
                                       struct ko_msg_guest_metrics_reply *m,
                                       ko_error **err);
void ko_msg_guest_metrics_reply_clear (struct ko_msg_guest_metrics_reply *m);

/* An OK reply's body, by the method it answers. */
union ko_msg_reply
{
  struct ko_msg_pid_reply pid; /* CreateContainer, ExecProcess */
  struct ko_msg_wait_process_reply wait_process;
  struct ko_msg_list_processes_reply list_processes;
  struct ko_msg_stats_container_reply stats_container;
  struct ko_msg_guest_metrics_reply guest_metrics;
};
/* Methods without a reply body only check that it is well-formed. */
int ko_msg_decode_reply (uint16_t method, struct ko_tlv body,
                         union ko_msg_reply *m, ko_error **err);
void ko_msg_reply_clear (uint16_t method, union ko_msg_reply *m);

/* The body of an error reply (its status is in the frame). */
struct ko_msg_error
{
  char *msg; /* NULL: none given */
};
/* Cuts the message at KO_MAX_STRING bytes, as ko_reply_error_append does. */
int ko_msg_error_encode (struct ko_buf *b, const struct ko_msg_error *m);
int ko_msg_error_decode (struct ko_tlv body, struct ko_msg_error *m,
                         ko_error **err);
void ko_msg_error_clear (struct ko_msg_error *m);
/* An error reply as the caller's error: the guest's message made printable
 * ("agent error" when it gave none, "(malformed error message)" when it is
 * not a string), the status when it is an errno (< 4096), else EIO.
 * Always returns -1. */
int ko_msg_reply_error (uint32_t status, struct ko_tlv body, ko_error **err);

/* ---- events (agent -> host) ---- */

/* Hello */
struct ko_msg_hello
{
  uint32_t version;    /* required: KO_PROTO_VERSION */
  char *agent_version; /* NULL: not given */
};
int ko_msg_hello_encode (struct ko_buf *b, const struct ko_msg_hello *m);
int ko_msg_hello_decode (struct ko_tlv body, struct ko_msg_hello *m,
                         ko_error **err);
void ko_msg_hello_clear (struct ko_msg_hello *m);

/* ProcessExited */
struct ko_msg_process_exited
{
  char *container_id; /* required */
  char *exec_id;      /* NULL: the init */
  uint32_t pid;       /* required */
  uint32_t status;    /* required: raw wait status */
};
int ko_msg_process_exited_encode (struct ko_buf *b,
                                  const struct ko_msg_process_exited *m);
int ko_msg_process_exited_decode (struct ko_tlv body,
                                  struct ko_msg_process_exited *m,
                                  ko_error **err);
void ko_msg_process_exited_clear (struct ko_msg_process_exited *m);

/* Oom */
struct ko_msg_oom
{
  char *container_id; /* required */
};
int ko_msg_oom_encode (struct ko_buf *b, const struct ko_msg_oom *m);
int ko_msg_oom_decode (struct ko_tlv body, struct ko_msg_oom *m,
                       ko_error **err);
void ko_msg_oom_clear (struct ko_msg_oom *m);

/* Notify */
struct ko_msg_notify
{
  char *container_id; /* required */
  char *data;         /* required */
};
int ko_msg_notify_encode (struct ko_buf *b, const struct ko_msg_notify *m);
int ko_msg_notify_decode (struct ko_tlv body, struct ko_msg_notify *m,
                          ko_error **err);
void ko_msg_notify_clear (struct ko_msg_notify *m);

union ko_msg_event
{
  struct ko_msg_hello hello;
  struct ko_msg_process_exited process_exited;
  struct ko_msg_oom oom;
  struct ko_msg_notify notify;
};
/* ENOSYS for an unknown event (a newer agent's: the caller may skip it). */
int ko_msg_decode_event (uint16_t event, struct ko_tlv body,
                         union ko_msg_event *m, ko_error **err);
void ko_msg_event_clear (uint16_t event, union ko_msg_event *m);
const char *ko_event_name (uint16_t event);

/* ---- the CREDIT frame's payload (not TLV: a bare u32) ---- */
struct ko_msg_credit
{
  uint32_t bytes;
};
int ko_msg_credit_encode (struct ko_buf *b, const struct ko_msg_credit *m);
/* payload: the frame's payload (ko_tlv only as a pointer and length) */
int ko_msg_credit_decode (struct ko_tlv payload, struct ko_msg_credit *m,
                          ko_error **err);

#endif
