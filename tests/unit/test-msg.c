/* The typed messages (msg.h): every codec's round trip, the bytes old peers
 * sent and read, and each decoder's rejections with their messages. */
#define _GNU_SOURCE
#include "msg.h"
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>

static struct ko_tlv
tlv_of (const struct ko_buf *b)
{
  struct ko_tlv t = { b->data, b->len };
  return t;
}

static bool
same_bytes (const struct ko_buf *a, const struct ko_buf *b)
{
  return a->len == b->len
         && (a->len == 0 || memcmp (a->data, b->data, a->len) == 0);
}

/* Decodes b as a request of method, expecting failure with status and the
 * exact message. */
static void
expect_request_error (uint16_t method, const struct ko_buf *b, int status,
                      const char *msg)
{
  union ko_msg_request m;
  ko_error *err = NULL;
  ok (ko_msg_decode_request (method, tlv_of (b), &m, &err) < 0, "refused: %s",
      msg);
  is_str (err ? err->msg : NULL, msg, "message: %s", msg);
  is_int (err ? err->status : 0, status, "status of: %s", msg);
  ko_error_free (err);
}

/* ---- flat requests ---- */

static void
test_create_sandbox (void)
{
  struct ko_msg_create_sandbox m = { "host", KO_SHARE_TAG }, d;
  struct ko_buf b = { 0 }, old = { 0 }, again = { 0 };
  ok (ko_msg_create_sandbox_encode (&b, &m) == 0, "CreateSandbox encodes");
  ko_tlv_put_str (&old, KO_TAG_HOSTNAME, "host");
  ko_tlv_put_str (&old, KO_TAG_SHARE_TAG, KO_SHARE_TAG);
  ok (same_bytes (&b, &old), "CreateSandbox: the bytes the monitor sent");
  ok (ko_msg_create_sandbox_decode (tlv_of (&b), &d, NULL) == 0,
      "CreateSandbox decodes");
  is_str (d.hostname, "host", "hostname");
  is_str (d.share_tag, KO_SHARE_TAG, "share tag");
  ko_msg_create_sandbox_encode (&again, &d);
  ok (same_bytes (&b, &again), "CreateSandbox: decode + encode is identity");
  ko_msg_create_sandbox_clear (&d);
  ok (d.hostname == NULL, "clear resets");
  ko_msg_create_sandbox_clear (NULL);
  /* both fields are optional */
  struct ko_buf empty = { 0 };
  ok (ko_msg_create_sandbox_decode (tlv_of (&empty), &d, NULL) == 0
          && d.hostname == NULL && d.share_tag == NULL,
      "CreateSandbox: an empty body");
  ko_buf_free (&b);
  ko_buf_free (&old);
  ko_buf_free (&again);
}

static void
test_refs (void)
{
  struct ko_buf b = { 0 }, old = { 0 };
  struct ko_msg_container_ref c = { "ctr" }, cd;
  ok (ko_msg_container_ref_encode (&b, &c) == 0, "container ref encodes");
  ko_tlv_put_str (&old, KO_TAG_CONTAINER_ID, "ctr");
  ok (same_bytes (&b, &old), "container ref: the bytes of old");
  ok (ko_msg_container_ref_decode (tlv_of (&b), &cd, NULL) == 0
          && strcmp (cd.container_id, "ctr") == 0,
      "container ref round trip");
  ko_msg_container_ref_clear (&cd);
  /* an exec id in it is ignored (StartContainer never had one) */
  ko_tlv_put_str (&b, KO_TAG_EXEC_ID, "e");
  ok (ko_msg_container_ref_decode (tlv_of (&b), &cd, NULL) == 0,
      "container ref: other fields skipped");
  ko_msg_container_ref_clear (&cd);
  ko_buf_free (&b);
  ko_buf_free (&old);

  struct ko_msg_process_ref p = { "ctr", "e1" }, pd;
  ok (ko_msg_process_ref_encode (&b, &p) == 0, "process ref encodes");
  ok (ko_msg_process_ref_decode (tlv_of (&b), &pd, NULL) == 0
          && strcmp (pd.container_id, "ctr") == 0
          && strcmp (pd.exec_id, "e1") == 0,
      "process ref round trip");
  ko_msg_process_ref_clear (&pd);
  ko_buf_free (&b);
  p.exec_id = NULL;
  ko_msg_process_ref_encode (&b, &p);
  ok (ko_msg_process_ref_decode (tlv_of (&b), &pd, NULL) == 0
          && pd.exec_id == NULL,
      "process ref without exec id: the init");
  ko_msg_process_ref_clear (&pd);
  ko_buf_free (&b);

  /* a required string missing: the encoder refuses too */
  struct ko_msg_container_ref none = { NULL };
  ok (ko_msg_container_ref_encode (&b, &none) < 0,
      "encoding without a container id fails");
  ko_buf_free (&b);
  expect_request_error (KO_M_START_CONTAINER, &b, EINVAL,
                        "StartContainer: no container id");
  expect_request_error (KO_M_WAIT_PROCESS, &b, EINVAL,
                        "WaitProcess: no container id");
  ko_tlv_put_bytes (&b, KO_TAG_CONTAINER_ID, "a\0b", 3);
  expect_request_error (KO_M_PAUSE_CONTAINER, &b, EPROTO,
                        "PauseContainer: container id: holds a NUL byte");
  ko_buf_free (&b);
  char *big = malloc (KO_MAX_STRING + 2);
  memset (big, 'x', KO_MAX_STRING + 1);
  big[KO_MAX_STRING + 1] = '\0';
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, big);
  expect_request_error (KO_M_LIST_PROCESSES, &b, EPROTO,
                        "ListProcesses: container id: 65537 bytes, more "
                        "than 65536");
  free (big);
  ko_buf_free (&b);
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "ctr");
  b.len -= 1;
  expect_request_error (KO_M_CLOSE_STDIN, &b, EPROTO,
                        "CloseStdin: truncated field");
  ko_buf_free (&b);
}

static void
test_signal_and_resize (void)
{
  struct ko_buf b = { 0 }, old = { 0 };
  struct ko_msg_signal_process s = { "ctr", NULL, 15, true }, sd;
  ok (ko_msg_signal_process_encode (&b, &s) == 0, "SignalProcess encodes");
  ko_tlv_put_str (&old, KO_TAG_CONTAINER_ID, "ctr");
  ko_tlv_put_u32 (&old, KO_TAG_SIGNAL, 15);
  ko_tlv_put_u32 (&old, KO_TAG_ALL, 1);
  ok (same_bytes (&b, &old), "SignalProcess: the bytes of kill --all");
  ok (ko_msg_signal_process_decode (tlv_of (&b), &sd, NULL) == 0, "decodes");
  ok (sd.signal == 15 && sd.all && sd.exec_id == NULL, "signal, all, init");
  ko_msg_signal_process_clear (&sd);
  ko_buf_free (&b);
  ko_buf_free (&old);
  s = (struct ko_msg_signal_process){ "ctr", "e1", 9, false };
  ko_msg_signal_process_encode (&b, &s);
  ko_tlv_put_str (&old, KO_TAG_CONTAINER_ID, "ctr");
  ko_tlv_put_str (&old, KO_TAG_EXEC_ID, "e1");
  ko_tlv_put_u32 (&old, KO_TAG_SIGNAL, 9);
  ok (same_bytes (&b, &old), "SignalProcess: an exec's, no ALL field");
  ok (ko_msg_signal_process_decode (tlv_of (&b), &sd, NULL) == 0 && !sd.all
          && strcmp (sd.exec_id, "e1") == 0,
      "an exec's signal decodes");
  ko_msg_signal_process_clear (&sd);
  ko_buf_free (&b);
  ko_buf_free (&old);

  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "ctr");
  expect_request_error (KO_M_SIGNAL_PROCESS, &b, EINVAL,
                        "SignalProcess: no signal");
  ko_tlv_put_bytes (&b, KO_TAG_SIGNAL, "\x0f\0", 2);
  expect_request_error (KO_M_SIGNAL_PROCESS, &b, EPROTO,
                        "SignalProcess: signal: 2 bytes, expected 4");
  ko_buf_free (&b);
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "ctr");
  ko_tlv_put_u32 (&b, KO_TAG_SIGNAL, 9);
  ko_tlv_put_u64 (&b, KO_TAG_ALL, 1);
  expect_request_error (KO_M_SIGNAL_PROCESS, &b, EPROTO,
                        "SignalProcess: all: 8 bytes, expected 4");
  ko_buf_free (&b);

  struct ko_msg_tty_win_resize t = { "ctr", "e1", 50, 132 }, td;
  ok (ko_msg_tty_win_resize_encode (&b, &t) == 0, "TtyWinResize encodes");
  ok (ko_msg_tty_win_resize_decode (tlv_of (&b), &td, NULL) == 0
          && td.rows == 50 && td.cols == 132,
      "TtyWinResize round trip");
  ko_msg_tty_win_resize_clear (&td);
  ko_buf_free (&b);
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "ctr");
  ko_tlv_put_u32 (&b, KO_TAG_ROWS, 50);
  expect_request_error (KO_M_TTY_WIN_RESIZE, &b, EINVAL,
                        "TtyWinResize: no cols");
  ko_buf_free (&b);
}

static void
test_exec_process (void)
{
  char *args[] = { "sh", "-c", "true", NULL };
  struct ko_msg_exec_process m
      = { "ctr", "e1", { .args = args, .nargs = 3, .cwd = "/" } },
      d;
  struct ko_buf b = { 0 }, old = { 0 }, again = { 0 };
  ok (ko_msg_exec_process_encode (&b, &m) == 0, "ExecProcess encodes");
  ko_tlv_put_str (&old, KO_TAG_CONTAINER_ID, "ctr");
  ko_tlv_put_str (&old, KO_TAG_EXEC_ID, "e1");
  ko_process_encode (&old, KO_TAG_PROCESS, &m.process);
  ok (same_bytes (&b, &old), "ExecProcess: the bytes the monitor sent");
  ok (ko_msg_exec_process_decode (tlv_of (&b), &d, NULL) == 0,
      "ExecProcess decodes");
  is_str (d.process.args[2], "true", "its process");
  ko_msg_exec_process_encode (&again, &d);
  ok (same_bytes (&b, &again), "ExecProcess: decode + encode is identity");
  ko_msg_exec_process_clear (&d);
  ok (d.process.args == NULL && d.exec_id == NULL, "clear frees all");

  /* two processes are refused */
  ko_process_encode (&b, KO_TAG_PROCESS, &m.process);
  expect_request_error (KO_M_EXEC_PROCESS, &b, EPROTO,
                        "ExecProcess: process: given twice");
  ko_buf_free (&b);
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "ctr");
  ko_process_encode (&b, KO_TAG_PROCESS, &m.process);
  expect_request_error (KO_M_EXEC_PROCESS, &b, EINVAL,
                        "ExecProcess: no exec id");
  ko_buf_free (&b);
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "ctr");
  ko_tlv_put_str (&b, KO_TAG_EXEC_ID, "e1");
  expect_request_error (KO_M_EXEC_PROCESS, &b, EINVAL,
                        "ExecProcess: no process");
  struct ko_process noargs = { .cwd = "/" };
  ko_process_encode (&b, KO_TAG_PROCESS, &noargs);
  expect_request_error (KO_M_EXEC_PROCESS, &b, EINVAL,
                        "ExecProcess: process: no args");
  ko_buf_free (&b);
  ko_buf_free (&old);
  ko_buf_free (&again);
}

/* ---- resources, UpdateContainer ---- */

static void
test_resources (void)
{
  struct ko_msg_update_container m = { "ctr" }, d;
  ko_resources_set (&m.resources, KO_TAG_R_MEM_LIMIT, 64 << 20);
  ko_resources_set (&m.resources, KO_TAG_R_CPU_QUOTA, -1);
  ko_resources_set (&m.resources, KO_TAG_R_BLKIO_WEIGHT, 500);
  ko_resources_set (&m.resources, KO_TAG_R_CPUSET_CPUS, 3); /* ignored */
  ok (ko_resources_set_str (&m.resources, KO_TAG_R_CPUSET_CPUS, "0-1") == 0,
      "cpuset string set");
  ok (ko_resources_set_str (&m.resources, KO_TAG_R_MEM_LIMIT, "x") < 0,
      "a number tag takes no string");
  ok (ko_resources_set_str (&m.resources, KO_TAG_R_UNIFIED,
                            "memory.high=1000\n")
          == 0,
      "unified string set");
  struct ko_buf b = { 0 }, old = { 0 }, again = { 0 };
  ok (ko_msg_update_container_encode (&b, &m) == 0, "UpdateContainer encodes");
  /* what translate_resources wrote: tag order, blkio a u32 */
  ko_tlv_put_str (&old, KO_TAG_CONTAINER_ID, "ctr");
  size_t off = ko_tlv_begin (&old, KO_TAG_RESOURCES);
  ko_tlv_put_u64 (&old, KO_TAG_R_MEM_LIMIT, 64 << 20);
  ko_tlv_put_u64 (&old, KO_TAG_R_CPU_QUOTA, (uint64_t)-1);
  ko_tlv_put_str (&old, KO_TAG_R_CPUSET_CPUS, "0-1");
  ko_tlv_put_u32 (&old, KO_TAG_R_BLKIO_WEIGHT, 500);
  ko_tlv_put_str (&old, KO_TAG_R_UNIFIED, "memory.high=1000\n");
  ko_tlv_end (&old, off);
  ok (same_bytes (&b, &old), "UpdateContainer: the bytes of old");
  ok (ko_msg_update_container_decode (tlv_of (&b), &d, NULL) == 0,
      "UpdateContainer decodes");
  ok (KO_R_HAS (&d.resources, MEM_LIMIT)
          && KO_R_V (&d.resources, MEM_LIMIT) == 64 << 20,
      "memory limit");
  ok (KO_R_HAS (&d.resources, CPU_QUOTA)
          && KO_R_V (&d.resources, CPU_QUOTA) == -1,
      "quota -1");
  ok (!KO_R_HAS (&d.resources, CPU_PERIOD), "period absent");
  ok (KO_R_HAS (&d.resources, CPUSET_CPUS)
          && strcmp (d.resources.cpus, "0-1") == 0,
      "cpus");
  ok (KO_R_V (&d.resources, BLKIO_WEIGHT) == 500, "blkio weight");
  ok (KO_R_HAS (&d.resources, UNIFIED)
          && strcmp (d.resources.unified, "memory.high=1000\n") == 0,
      "unified");
  ko_msg_update_container_encode (&again, &d);
  ok (same_bytes (&b, &again), "UpdateContainer: decode + encode is identity");
  ko_msg_update_container_clear (&d);
  ko_resources_clear (&m.resources); /* its id is not malloc'd */
  ko_buf_free (&b);
  ko_buf_free (&again);

  /* an empty RESOURCES is still resources; missing is an error */
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "ctr");
  expect_request_error (KO_M_UPDATE_CONTAINER, &b, EINVAL,
                        "UpdateContainer: no resources");
  off = ko_tlv_begin (&b, KO_TAG_RESOURCES);
  ko_tlv_put_u32 (&b, KO_TAG_R_MEM_LIMIT, 5);
  ko_tlv_end (&b, off);
  expect_request_error (KO_M_UPDATE_CONTAINER, &b, EPROTO,
                        "UpdateContainer: resources: field 100 is malformed");
  ko_buf_free (&b);
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "ctr");
  off = ko_tlv_begin (&b, KO_TAG_RESOURCES);
  ko_tlv_put_u64 (&b, KO_TAG_R_MEM_LIMIT, 5);
  ko_tlv_end (&b, off);
  b.data[off + 2] -= 1; /* the nested body is cut short */
  expect_request_error (KO_M_UPDATE_CONTAINER, &b, EPROTO,
                        "UpdateContainer: resources: truncated field");
  ko_buf_free (&b);
  ko_buf_free (&old);
}

/* ---- CreateContainer ---- */

static void
fill_container (struct ko_msg_create_container *m, char **args)
{
  memset (m, 0, sizeof *m);
  m->container_id = strdup ("ctr");
  m->rootfs = strdup ("ctr/rootfs");
  m->hostname = strdup ("h");
  m->process.args = calloc (2, sizeof (char *));
  m->process.args[0] = strdup (args[0]);
  m->process.nargs = 1;
  m->process.cwd = strdup ("/");
  struct ko_container_spec *s = &m->spec;
  s->domainname = strdup ("example.org");
  s->root_readonly = true;
  struct ko_mount proc = { strdup ("/proc"), strdup ("proc"),
                           strdup ("proc"),  NULL,
                           MS_NOSUID,        0 };
  struct ko_mount bind
      = { strdup ("/data"), strdup ("bind"), strdup ("ctr/mounts/1"), NULL,
          MS_BIND | MS_REC, MS_PRIVATE };
  struct ko_mount tmp = { strdup ("/tmp"),
                          strdup ("tmpfs"),
                          strdup ("tmpfs"),
                          strdup ("size=1m"),
                          0,
                          0 };
  ko_container_spec_add_mount (s, &proc);
  ko_container_spec_add_mount (s, &bind);
  ko_container_spec_add_mount (s, &tmp);
  s->uid_map[0] = (struct ko_id_map){ 0, 100000, 65536 };
  s->nuid_map = 1;
  s->gid_map[0] = (struct ko_id_map){ 0, 100000, 65536 };
  s->gid_map[1] = (struct ko_id_map){ 65536, 50, 1 };
  s->ngid_map = 2;
  s->has_namespaces = true;
  s->namespaces = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUSER;
  struct ko_sysctl kv = { strdup ("net.ipv4.ip_forward"), strdup ("1") };
  ko_container_spec_add_sysctl (s, &kv);
  struct ko_device dev
      = { 'c', strdup ("/dev/fuse"), 10, 229, 0666, 0, 0, true, false, true };
  ko_container_spec_add_device (s, &dev);
  s->rootfs_propagation = MS_SLAVE | MS_REC;
  ko_container_spec_add_path (s, KO_TAG_MASKED_PATH, strdup ("/proc/kcore"));
  ko_container_spec_add_path (s, KO_TAG_READONLY_PATH, strdup ("/proc/sys"));
  s->has_personality = true;
  s->personality = 0; /* PER_LINUX: 0, and still sent */
  s->has_resources = true;
  ko_resources_set (&s->resources, KO_TAG_R_PIDS_LIMIT, 100);
}

/* The container fields as translate.c wrote them, field by field. */
static void
old_container_bytes (struct ko_buf *b, const struct ko_msg_create_container *m)
{
  ko_tlv_put_str (b, KO_TAG_CONTAINER_ID, "ctr");
  ko_tlv_put_str (b, KO_TAG_ROOTFS, "ctr/rootfs");
  ko_tlv_put_str (b, KO_TAG_HOSTNAME, "h");
  ko_process_encode (b, KO_TAG_PROCESS, &m->process);
  ko_tlv_put_str (b, KO_TAG_DOMAINNAME, "example.org");
  ko_tlv_put_u32 (b, KO_TAG_ROOT_READONLY, 1);
  size_t o = ko_tlv_begin (b, KO_TAG_MOUNT);
  ko_tlv_put_str (b, KO_TAG_M_DEST, "/proc");
  ko_tlv_put_str (b, KO_TAG_M_TYPE, "proc");
  ko_tlv_put_str (b, KO_TAG_M_SOURCE, "proc");
  ko_tlv_put_u64 (b, KO_TAG_M_FLAGS, MS_NOSUID);
  ko_tlv_end (b, o);
  o = ko_tlv_begin (b, KO_TAG_MOUNT);
  ko_tlv_put_str (b, KO_TAG_M_DEST, "/data");
  ko_tlv_put_str (b, KO_TAG_M_TYPE, "bind");
  ko_tlv_put_str (b, KO_TAG_M_SOURCE, "ctr/mounts/1");
  ko_tlv_put_u64 (b, KO_TAG_M_FLAGS, MS_BIND | MS_REC);
  ko_tlv_put_u64 (b, KO_TAG_M_PROPAGATION, MS_PRIVATE);
  ko_tlv_end (b, o);
  o = ko_tlv_begin (b, KO_TAG_MOUNT);
  ko_tlv_put_str (b, KO_TAG_M_DEST, "/tmp");
  ko_tlv_put_str (b, KO_TAG_M_TYPE, "tmpfs");
  ko_tlv_put_str (b, KO_TAG_M_SOURCE, "tmpfs");
  ko_tlv_put_str (b, KO_TAG_M_DATA, "size=1m");
  ko_tlv_put_u64 (b, KO_TAG_M_FLAGS, 0);
  ko_tlv_end (b, o);
  ko_id_map_encode (b, KO_TAG_UID_MAP, &m->spec.uid_map[0]);
  ko_id_map_encode (b, KO_TAG_GID_MAP, &m->spec.gid_map[0]);
  ko_id_map_encode (b, KO_TAG_GID_MAP, &m->spec.gid_map[1]);
  ko_tlv_put_u64 (b, KO_TAG_NAMESPACES, m->spec.namespaces);
  o = ko_tlv_begin (b, KO_TAG_SYSCTL);
  ko_tlv_put_str (b, KO_TAG_KEY, "net.ipv4.ip_forward");
  ko_tlv_put_str (b, KO_TAG_VALUE, "1");
  ko_tlv_end (b, o);
  o = ko_tlv_begin (b, KO_TAG_DEVICE);
  ko_tlv_put_u32 (b, KO_TAG_D_TYPE, 'c');
  ko_tlv_put_str (b, KO_TAG_D_PATH, "/dev/fuse");
  ko_tlv_put_u64 (b, KO_TAG_D_MAJOR, 10);
  ko_tlv_put_u64 (b, KO_TAG_D_MINOR, 229);
  ko_tlv_put_u32 (b, KO_TAG_D_MODE, 0666);
  ko_tlv_put_u32 (b, KO_TAG_D_GID, 0);
  ko_tlv_end (b, o);
  ko_tlv_put_u64 (b, KO_TAG_ROOTFS_PROPAGATION, MS_SLAVE | MS_REC);
  ko_tlv_put_str (b, KO_TAG_MASKED_PATH, "/proc/kcore");
  ko_tlv_put_str (b, KO_TAG_READONLY_PATH, "/proc/sys");
  ko_tlv_put_u32 (b, KO_TAG_PERSONALITY, 0);
  o = ko_tlv_begin (b, KO_TAG_RESOURCES);
  ko_tlv_put_u64 (b, KO_TAG_R_PIDS_LIMIT, 100);
  ko_tlv_end (b, o);
}

/* The disk fields: a device node and a mount on a guest disk. */
static void
test_disk_fields (void)
{
  struct ko_container_spec s = { 0 }, d = { 0 };
  struct ko_device dev = { .type = 'b',
                           .path = strdup ("/dev/xvdz"),
                           .major = 7,
                           .minor = 3,
                           .disk = strdup ("ko12345678d0") };
  struct ko_mount m = { .dest = strdup ("/data"),
                        .type = strdup ("ext4"),
                        .source = strdup ("ko12345678m1"),
                        .disk = strdup ("ko12345678m1") };
  ko_container_spec_add_device (&s, &dev);
  ko_container_spec_add_mount (&s, &m);
  struct ko_buf b = { 0 }, again = { 0 };
  ok (ko_container_spec_encode (&b, &s) == 0, "disk fields encode");
  ok (ko_container_spec_decode (tlv_of (&b), &d, NULL) == 0,
      "disk fields decode");
  is_str (d.devices[0].disk, "ko12345678d0", "device: disk serial");
  is_str (d.mounts[0].disk, "ko12345678m1", "mount: disk serial");
  ko_container_spec_encode (&again, &d);
  ok (same_bytes (&b, &again), "disk fields: decode + encode is identity");
  ko_buf_free (&b);
  ko_buf_free (&again);
  ko_container_spec_clear (&s);
  ko_container_spec_clear (&d);
}

/* an error's message, freed */
static char *
take_msg (ko_error **err)
{
  char *m = *err ? strdup ((*err)->msg) : NULL;
  ko_error_free (*err);
  *err = NULL;
  return m;
}

static void
test_devfilter_fields (void)
{
  struct ko_container_spec s = { 0 }, d = { 0 };
  uint8_t prog[16] = { 0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95 };
  s.devfilter = malloc (sizeof prog);
  memcpy (s.devfilter, prog, sizeof prog);
  s.devfilter_len = sizeof prog;
  ko_strv_push (&s.devfilter_disks, &s.ndevfilter_disks, strdup ("ko1d0"));
  ko_strv_push (&s.devfilter_disks, &s.ndevfilter_disks, strdup ("ko1m2"));
  struct ko_buf b = { 0 }, again = { 0 };
  ok (ko_container_spec_encode (&b, &s) == 0, "device program encodes");
  ok (ko_container_spec_decode (tlv_of (&b), &d, NULL) == 0,
      "device program decodes");
  ok (d.devfilter_len == sizeof prog
          && memcmp (d.devfilter, prog, sizeof prog) == 0,
      "device program: the bytes");
  ok (d.ndevfilter_disks == 2 && strcmp (d.devfilter_disks[1], "ko1m2") == 0,
      "device program: disk slots in order");
  ko_container_spec_encode (&again, &d);
  ok (same_bytes (&b, &again), "device program: decode + encode is identity");
  ko_buf_free (&b);
  ko_buf_free (&again);
  ko_container_spec_clear (&d);

  /* bounded and whole instructions, once */
  static const size_t bad[] = { 0, 12, 8 * KO_DEVFILTER_MAX_INSNS + 8 };
  uint8_t *big = calloc (1, 8 * KO_DEVFILTER_MAX_INSNS + 8);
  for (size_t i = 0; i < KO_ARRAY_SIZE (bad); i++)
    {
      ko_error *err = NULL;
      ko_tlv_put_bytes (&b, KO_TAG_DEVFILTER, big, bad[i]);
      ok (ko_container_spec_decode (tlv_of (&b), &d, &err) < 0,
          "a %zu-byte device program refused", bad[i]);
      char *m = take_msg (&err);
      ok (m && strstr (m, "bad device program"), "message: %s", m);
      free (m);
      ko_buf_free (&b);
    }
  ko_error *err = NULL;
  ko_tlv_put_bytes (&b, KO_TAG_DEVFILTER, big, 8);
  ko_tlv_put_bytes (&b, KO_TAG_DEVFILTER, big, 8);
  ok (ko_container_spec_decode (tlv_of (&b), &d, &err) < 0,
      "two device programs refused");
  free (take_msg (&err));
  ko_buf_free (&b);
  free (big);
  for (int i = 0; i <= KO_DEVFILTER_MAX_DISKS; i++)
    ko_tlv_put_str (&b, KO_TAG_DEVFILTER_DISK, "ko1d0");
  ok (ko_container_spec_decode (tlv_of (&b), &d, &err) < 0,
      "more than KO_DEVFILTER_MAX_DISKS slots refused");
  char *m = take_msg (&err);
  is_str (m, "device program: more than 16 disks", "disk slots bound");
  free (m);
  ko_buf_free (&b);
  ko_container_spec_clear (&s);
}

static void
test_rootfs_disk_fields (void)
{
  struct ko_container_spec s = { 0 }, d = { 0 };
  s.rootfs_disk = strdup ("ko1r0");
  s.rootfs_disk_type = strdup ("xfs");
  s.rootfs_disk_data = strdup ("nouuid");
  s.rootfs_disk_flags = MS_RDONLY;
  struct ko_buf b = { 0 };
  ok (ko_container_spec_encode (&b, &s) == 0, "rootfs disk encodes");
  ok (ko_container_spec_decode (tlv_of (&b), &d, NULL) == 0,
      "rootfs disk decodes");
  is_str (d.rootfs_disk, "ko1r0", "rootfs disk: serial");
  is_str (d.rootfs_disk_type, "xfs", "rootfs disk: type");
  is_str (d.rootfs_disk_data, "nouuid", "rootfs disk: data");
  ok (d.rootfs_disk_flags == MS_RDONLY, "rootfs disk: flags");
  ko_container_spec_clear (&d);
  ko_buf_free (&b);
  /* a serial holding a NUL is refused like any string */
  ko_tlv_put_bytes (&b, KO_TAG_ROOTFS_DISK, "ko\0r0", 5);
  ko_error *err = NULL;
  ok (ko_container_spec_decode (tlv_of (&b), &d, &err) < 0 && err,
      "rootfs disk: a serial with a NUL refused");
  char *m = take_msg (&err);
  ok (m && strstr (m, "rootfs disk"), "message names it: %s", m);
  free (m);
  ko_buf_free (&b);
  ko_container_spec_clear (&s);
}

static void
test_create_container (void)
{
  char *args[] = { "/bin/sh", NULL };
  struct ko_msg_create_container m, d;
  struct ko_buf b = { 0 }, old = { 0 }, again = { 0 }, spec = { 0 };
  fill_container (&m, args);
  ok (ko_msg_create_container_encode (&b, &m) == 0, "CreateContainer encodes");
  old_container_bytes (&old, &m);
  ok (same_bytes (&b, &old), "CreateContainer: the bytes of old, in order");
  /* the monitor's way: its own fields, then the spec's encoded apart */
  ok (ko_container_spec_encode (&spec, &m.spec) == 0, "spec encodes alone");
  ok (spec.len < b.len
          && memcmp (b.data + b.len - spec.len, spec.data, spec.len) == 0,
      "the spec's bytes end the message");
  ok (ko_msg_create_container_decode (tlv_of (&b), &d, NULL) == 0,
      "CreateContainer decodes");
  is_str (d.container_id, "ctr", "id");
  is_str (d.rootfs, "ctr/rootfs", "rootfs");
  is_str (d.hostname, "h", "hostname");
  is_str (d.process.args[0], "/bin/sh", "process");
  is_str (d.spec.domainname, "example.org", "domainname");
  ok (d.spec.root_readonly, "root readonly");
  is_int (d.spec.nmounts, 3, "three mounts");
  is_str (d.spec.mounts[1].dest, "/data", "mount order kept");
  ok (d.spec.mounts[1].propagation == MS_PRIVATE
          && d.spec.mounts[1].data == NULL,
      "bind mount fields");
  is_str (d.spec.mounts[2].data, "size=1m", "tmpfs data");
  ok (d.spec.nuid_map == 1 && d.spec.ngid_map == 2
          && d.spec.gid_map[1].host_id == 50,
      "id maps");
  ok (d.spec.has_namespaces && d.spec.namespaces == m.spec.namespaces,
      "namespaces");
  ok (d.spec.nsysctls == 1 && strcmp (d.spec.sysctls[0].value, "1") == 0,
      "sysctl");
  ok (d.spec.ndevices == 1 && d.spec.devices[0].has_mode
          && !d.spec.devices[0].has_uid && d.spec.devices[0].has_gid
          && d.spec.devices[0].minor == 229,
      "device");
  ok (d.spec.rootfs_propagation == (MS_SLAVE | MS_REC), "rootfs propagation");
  ok (d.spec.nmasked == 1 && d.spec.masked[1] == NULL && d.spec.nreadonly == 1,
      "masked and readonly paths");
  ok (d.spec.has_personality && d.spec.personality == 0, "personality 0");
  ok (d.spec.has_resources && KO_R_V (&d.spec.resources, PIDS_LIMIT) == 100,
      "resources");
  ko_msg_create_container_encode (&again, &d);
  ok (same_bytes (&b, &again), "CreateContainer: decode + encode is identity");
  ko_msg_create_container_clear (&d);
  ko_buf_free (&again);

  /* the monitor reads back the spec translate.c encoded, and sends it as
   * part of the whole message: the same bytes */
  struct ko_msg_create_container head = m;
  ok (ko_container_spec_decode (tlv_of (&spec), &head.spec, NULL) == 0,
      "the spec alone decodes");
  ko_msg_create_container_encode (&again, &head);
  ok (same_bytes (&b, &again), "spec: decode + encode is identity");
  ko_container_spec_clear (&head.spec);
  ko_buf_free (&again);
  /* a pod member's: the JOIN fields appended (member.c) */
  ko_tlv_put_str (&spec, KO_TAG_JOIN_CONTAINER, "pod");
  ko_tlv_put_u64 (&spec, KO_TAG_JOIN_NS, CLONE_NEWIPC);
  struct ko_container_spec sd;
  ok (ko_container_spec_decode (tlv_of (&spec), &sd, NULL) == 0
          && sd.join_container && strcmp (sd.join_container, "pod") == 0
          && sd.join_ns == CLONE_NEWIPC && sd.nmounts == 3,
      "a member's spec: the sandbox it joins");
  ko_container_spec_clear (&sd);
  /* NOTIFY appended as create finds NOTIFY_SOCKET (container.c): the
   * monitor's re-encoding keeps it */
  ko_tlv_put_str (&spec, KO_TAG_NOTIFY, "/run/notify/notify.sock");
  struct ko_buf re = { 0 };
  ok (ko_container_spec_decode (tlv_of (&spec), &sd, NULL) == 0 && sd.notify
          && strcmp (sd.notify, "/run/notify/notify.sock") == 0
          && ko_container_spec_encode (&re, &sd) == 0,
      "notify: decoded");
  ko_container_spec_clear (&sd);
  ok (ko_container_spec_decode (tlv_of (&re), &sd, NULL) == 0 && sd.notify
          && strcmp (sd.notify, "/run/notify/notify.sock") == 0,
      "notify: kept by the re-encoding");
  ko_container_spec_clear (&sd);
  ko_buf_free (&re);
  ko_buf_free (&spec);
  size_t o = ko_tlv_begin (&spec, KO_TAG_MOUNT);
  ko_tlv_put_str (&spec, KO_TAG_M_TYPE, "tmpfs");
  ko_tlv_end (&spec, o);
  ko_error *err = NULL;
  ok (ko_container_spec_decode (tlv_of (&spec), &sd, &err) < 0,
      "spec: a mount without a destination");
  is_str (err ? err->msg : NULL, "mount: no destination", "its message");
  ko_error_free (err);
  ko_buf_free (&spec);
  ko_msg_create_container_clear (&m);
  ko_msg_create_container_clear (NULL);

  /* absent optional fields stay absent */
  struct ko_msg_create_container bare
      = { "c", "c/rootfs", NULL, { .args = args, .nargs = 1 } };
  ko_buf_free (&b);
  ko_msg_create_container_encode (&b, &bare);
  ok (ko_msg_create_container_decode (tlv_of (&b), &d, NULL) == 0
          && !d.spec.has_namespaces && !d.spec.has_personality
          && !d.spec.has_resources && d.spec.nmounts == 0,
      "a bare container: nothing more");
  ko_msg_create_container_clear (&d);
  ko_buf_free (&b);
  ko_buf_free (&old);
}

/* A CreateContainer body with the required fields, then extra. */
static void
container_body (struct ko_buf *b, const char *id)
{
  char *args[] = { "sh", NULL };
  struct ko_process p = { .args = args, .nargs = 1 };
  ko_buf_free (b);
  ko_tlv_put_str (b, KO_TAG_CONTAINER_ID, id);
  ko_tlv_put_str (b, KO_TAG_ROOTFS, "r");
  ko_process_encode (b, KO_TAG_PROCESS, &p);
}

static void
test_create_container_rejects (void)
{
  struct ko_buf b = { 0 };
  container_body (&b, "");
  expect_request_error (KO_M_CREATE_CONTAINER, &b, EINVAL,
                        "CreateContainer: no container id");
  ko_buf_free (&b);
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "c");
  ko_tlv_put_str (&b, KO_TAG_ROOTFS, "r");
  expect_request_error (KO_M_CREATE_CONTAINER, &b, EINVAL,
                        "CreateContainer: no process");
  ko_buf_free (&b);
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "c");
  expect_request_error (KO_M_CREATE_CONTAINER, &b, EINVAL,
                        "CreateContainer: no rootfs");

  container_body (&b, "c");
  size_t o = ko_tlv_begin (&b, KO_TAG_MOUNT);
  ko_tlv_put_str (&b, KO_TAG_M_TYPE, "tmpfs");
  ko_tlv_end (&b, o);
  expect_request_error (KO_M_CREATE_CONTAINER, &b, EINVAL,
                        "CreateContainer: mount: no destination");
  container_body (&b, "c");
  o = ko_tlv_begin (&b, KO_TAG_MOUNT);
  ko_tlv_put_str (&b, KO_TAG_M_DEST, "/x");
  ko_tlv_put_u32 (&b, KO_TAG_M_FLAGS, 1);
  ko_tlv_end (&b, o);
  expect_request_error (KO_M_CREATE_CONTAINER, &b, EPROTO,
                        "CreateContainer: mount: flags: 4 bytes, expected 8");
  container_body (&b, "c");
  o = ko_tlv_begin (&b, KO_TAG_DEVICE);
  ko_tlv_put_u32 (&b, KO_TAG_D_TYPE, 'c');
  ko_tlv_end (&b, o);
  expect_request_error (KO_M_CREATE_CONTAINER, &b, EINVAL,
                        "CreateContainer: device: no path");
  container_body (&b, "c");
  o = ko_tlv_begin (&b, KO_TAG_DEVICE);
  ko_tlv_put_u32 (&b, KO_TAG_D_TYPE, 'b');
  ko_tlv_put_str (&b, KO_TAG_D_PATH, "/dev/xvdz");
  ko_tlv_put_bytes (&b, KO_TAG_D_DISK, "ko\0x", 4);
  ko_tlv_end (&b, o);
  expect_request_error (KO_M_CREATE_CONTAINER, &b, EPROTO,
                        "CreateContainer: device: disk: holds a NUL byte");
  container_body (&b, "c");
  o = ko_tlv_begin (&b, KO_TAG_MOUNT);
  ko_tlv_put_str (&b, KO_TAG_M_DEST, "/x");
  ko_tlv_put_bytes (&b, KO_TAG_M_DISK, "ko\0x", 4);
  ko_tlv_end (&b, o);
  expect_request_error (KO_M_CREATE_CONTAINER, &b, EPROTO,
                        "CreateContainer: mount: disk: holds a NUL byte");
  container_body (&b, "c");
  o = ko_tlv_begin (&b, KO_TAG_SYSCTL);
  ko_tlv_put_str (&b, KO_TAG_VALUE, "1");
  ko_tlv_end (&b, o);
  expect_request_error (KO_M_CREATE_CONTAINER, &b, EINVAL,
                        "CreateContainer: sysctl: no key");
  container_body (&b, "c");
  ko_tlv_put_bytes (&b, KO_TAG_MASKED_PATH, "/a\0", 3);
  expect_request_error (KO_M_CREATE_CONTAINER, &b, EPROTO,
                        "CreateContainer: path: holds a NUL byte");
  container_body (&b, "c");
  ko_tlv_put_u32 (&b, KO_TAG_NAMESPACES, 1);
  expect_request_error (KO_M_CREATE_CONTAINER, &b, EPROTO,
                        "CreateContainer: namespaces: 4 bytes, expected 8");
  container_body (&b, "c");
  struct ko_id_map idm = { 0, 1000, 1 };
  for (int i = 0; i <= KO_MAX_ID_MAPS; i++)
    ko_id_map_encode (&b, KO_TAG_GID_MAP, &idm);
  expect_request_error (KO_M_CREATE_CONTAINER, &b, EPROTO,
                        "CreateContainer: gid map: more than 5 lines");
  container_body (&b, "c");
  o = ko_tlv_begin (&b, KO_TAG_UID_MAP);
  ko_tlv_put_u32 (&b, KO_TAG_ID_HOST, 1);
  ko_tlv_end (&b, o);
  expect_request_error (KO_M_CREATE_CONTAINER, &b, EPROTO,
                        "CreateContainer: uid map: id map: needs container, "
                        "host and size");
  container_body (&b, "c");
  for (int i = 0; i < 2; i++)
    {
      o = ko_tlv_begin (&b, KO_TAG_RESOURCES);
      ko_tlv_end (&b, o);
    }
  expect_request_error (KO_M_CREATE_CONTAINER, &b, EPROTO,
                        "CreateContainer: resources: given twice");
  /* too many entries: 4097 masked paths */
  container_body (&b, "c");
  for (int i = 0; i <= KO_MAX_STRINGS; i++)
    ko_tlv_put_str (&b, KO_TAG_MASKED_PATH, "/p");
  expect_request_error (KO_M_CREATE_CONTAINER, &b, EPROTO,
                        "CreateContainer: field 19: more than 4096 entries");
  container_body (&b, "c");
  for (int i = 0; i <= KO_MAX_STRINGS; i++)
    {
      o = ko_tlv_begin (&b, KO_TAG_SYSCTL);
      ko_tlv_put_str (&b, KO_TAG_KEY, "k");
      ko_tlv_end (&b, o);
    }
  expect_request_error (KO_M_CREATE_CONTAINER, &b, EPROTO,
                        "CreateContainer: field 21: more than 4096 entries");
  /* cut anywhere: refused (or, at a field boundary, a missing field),
   * never a crash or a leak */
  char *args[] = { "/bin/sh", NULL };
  struct ko_msg_create_container m, d;
  fill_container (&m, args);
  ko_buf_free (&b);
  ko_msg_create_container_encode (&b, &m);
  int accepted = 0;
  for (size_t cut = 0; cut < b.len; cut++)
    {
      struct ko_tlv t = { b.data, cut };
      ko_error *err = NULL;
      if (ko_msg_create_container_decode (t, &d, &err) == 0)
        {
          accepted++;
          ko_msg_create_container_clear (&d);
        }
      ko_error_free (err);
    }
  /* a prefix ending after PROCESS at a top-level boundary is complete */
  ok (accepted > 0 && accepted < 20,
      "truncations: only whole-field prefixes "
      "decode (%d)",
      accepted);
  ko_msg_create_container_clear (&m);
  ko_buf_free (&b);
}

/* ---- the rest of the requests ---- */

static void
test_network_and_memory (void)
{
  struct ko_msg_update_interface i = { 0 }, id;
  strcpy (i.iface.name, "eth0");
  memcpy (i.iface.mac, "\x02\x00\x00\x00\x00\x01", 6);
  i.iface.mtu = 1500;
  i.iface.naddrs = 1;
  i.iface.addrs[0] = (struct ko_net_addr){ AF_INET, { 10, 0, 0, 2 }, 24 };
  struct ko_buf b = { 0 }, old = { 0 };
  ok (ko_msg_update_interface_encode (&b, &i) == 0, "UpdateInterface encodes");
  ko_net_iface_encode (&old, &i.iface);
  ok (same_bytes (&b, &old), "UpdateInterface: ko_net_iface's bytes");
  ok (ko_msg_update_interface_decode (tlv_of (&b), &id, NULL) == 0
          && strcmp (id.iface.name, "eth0") == 0 && id.iface.naddrs == 1,
      "UpdateInterface round trip");
  ko_buf_free (&b);
  ko_buf_free (&old);
  expect_request_error (KO_M_UPDATE_INTERFACE, &b, EPROTO,
                        "UpdateInterface: interface: needs name, MAC and MTU");

  static struct ko_msg_update_routes r, rd;
  r.nroutes = 2;
  r.routes[0] = (struct ko_net_route){ .family = AF_INET, .dev = "eth0" };
  r.routes[1] = (struct ko_net_route){ .family = AF_INET,
                                       .dst = { 10 },
                                       .dst_len = 8,
                                       .has_gw = true,
                                       .gw = { 10, 0, 0, 1 },
                                       .dev = "eth0" };
  ok (ko_msg_update_routes_encode (&b, &r) == 0, "UpdateRoutes encodes");
  ok (ko_msg_update_routes_decode (tlv_of (&b), &rd, NULL) == 0
          && rd.nroutes == 2 && rd.routes[1].dst_len == 8
          && rd.routes[1].has_gw,
      "UpdateRoutes round trip");
  ko_buf_free (&b);
  for (int k = 0; k <= KO_NET_MAX_ROUTES; k++)
    ko_net_route_encode (&b, KO_TAG_ROUTE, &r.routes[0]);
  expect_request_error (KO_M_UPDATE_ROUTES, &b, EPROTO,
                        "UpdateRoutes: more than 64 routes");
  ko_buf_free (&b);
  r.nroutes = KO_NET_MAX_ROUTES + 1;
  ok (ko_msg_update_routes_encode (&b, &r) < 0, "too many routes: not sent");
  ko_buf_free (&b);

  struct ko_msg_online_cpu_mem mem = { 2048 }, md;
  ok (ko_msg_online_cpu_mem_encode (&b, &mem) == 0, "OnlineCpuMem encodes");
  ko_tlv_put_u32 (&old, KO_TAG_MEMORY_MB, 2048);
  ok (same_bytes (&b, &old), "OnlineCpuMem: the bytes of old");
  ok (ko_msg_online_cpu_mem_decode (tlv_of (&b), &md, NULL) == 0
          && md.memory_mb == 2048,
      "OnlineCpuMem round trip");
  ko_buf_free (&b);
  ko_buf_free (&old);
  expect_request_error (KO_M_ONLINE_CPU_MEM, &b, EINVAL,
                        "OnlineCPUMem: no memory size");

  struct ko_msg_destroy_sandbox ds = { 0 }, dd;
  ok (ko_msg_destroy_sandbox_encode (&b, &ds) == 0 && b.len == 0,
      "DestroySandbox: an empty body");
  ok (ko_msg_destroy_sandbox_decode (tlv_of (&b), &dd, NULL) == 0,
      "DestroySandbox decodes");
  ko_buf_put_u16 (&b, 1);
  expect_request_error (KO_M_DESTROY_SANDBOX, &b, EPROTO,
                        "DestroySandbox: truncated field");
  ko_buf_free (&b);
  expect_request_error (KO_M_WRITE_STDIN, &b, ENOSYS,
                        "method 7: no such request");
  expect_request_error (999, &b, ENOSYS, "method 999: no such request");
}

/* ---- replies ---- */

static void
test_replies (void)
{
  struct ko_buf b = { 0 }, old = { 0 };
  union ko_msg_reply r;
  ko_error *err = NULL;

  struct ko_msg_pid_reply pid = { 42 };
  ok (ko_msg_pid_reply_encode (&b, &pid) == 0, "pid reply encodes");
  ko_tlv_put_u32 (&old, KO_TAG_PID, 42);
  ok (same_bytes (&b, &old), "pid reply: the bytes of old");
  ok (ko_msg_decode_reply (KO_M_EXEC_PROCESS, tlv_of (&b), &r, NULL) == 0
          && r.pid.pid == 42,
      "ExecProcess reply decodes");
  ko_buf_free (&b);
  ok (ko_msg_decode_reply (KO_M_CREATE_CONTAINER, tlv_of (&b), &r, &err) < 0,
      "a pid reply without a pid");
  is_str (err ? err->msg : NULL, "CreateContainer reply: no pid",
          "message names the reply");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&old);

  struct ko_msg_wait_process_reply w = { 0x0900 };
  ko_msg_wait_process_reply_encode (&b, &w);
  ok (ko_msg_decode_reply (KO_M_WAIT_PROCESS, tlv_of (&b), &r, NULL) == 0
          && r.wait_process.status == 0x0900,
      "WaitProcess reply round trip");
  ko_buf_free (&b);

  uint32_t pids[] = { 1, 7, 9 };
  struct ko_msg_list_processes_reply l = { pids, 3 };
  ok (ko_msg_list_processes_reply_encode (&b, &l) == 0, "pid list encodes");
  ok (ko_msg_decode_reply (KO_M_LIST_PROCESSES, tlv_of (&b), &r, NULL) == 0
          && r.list_processes.npids == 3 && r.list_processes.pids[2] == 9,
      "pid list round trip");
  ko_msg_reply_clear (KO_M_LIST_PROCESSES, &r);
  ko_buf_free (&b);
  for (int i = 0; i <= KO_MAX_PIDS; i++)
    ko_tlv_put_u32 (&b, KO_TAG_PID, i + 1);
  ok (ko_msg_list_processes_reply_decode (tlv_of (&b), &r.list_processes, &err)
          < 0,
      "more than KO_MAX_PIDS refused");
  is_str (err ? err->msg : NULL, "more than 65536 pids", "pid bound message");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);
  ko_tlv_put_u64 (&b, KO_TAG_PID, 1);
  ok (ko_msg_list_processes_reply_decode (tlv_of (&b), &r.list_processes, &err)
          < 0,
      "a u64 pid refused");
  is_str (err ? err->msg : NULL, "pid: 8 bytes, expected 4", "pid length");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);

  /* what ps shows, after each pid; the uptime once */
  struct ko_ps_info in[3] = { { true, 0, "1 (sh) S 0 1 1 0 -1 0", "sh -c x" },
                              { false, 0, NULL, NULL },
                              { true, 1000, NULL, "sleep 9" } };
  struct ko_msg_list_processes_reply li = { pids, 3, in, 12345 };
  ok (ko_msg_list_processes_reply_encode (&b, &li) == 0, "ps info encodes");
  ok (ko_msg_decode_reply (KO_M_LIST_PROCESSES, tlv_of (&b), &r, NULL) == 0
          && r.list_processes.npids == 3 && r.list_processes.info
          && r.list_processes.uptime_ms == 12345
          && r.list_processes.info[0].has_uid
          && r.list_processes.info[0].uid == 0
          && strcmp (r.list_processes.info[0].stat, "1 (sh) S 0 1 1 0 -1 0")
                 == 0
          && strcmp (r.list_processes.info[0].cmd, "sh -c x") == 0
          && !r.list_processes.info[1].has_uid
          && r.list_processes.info[1].stat == NULL
          && r.list_processes.info[2].uid == 1000
          && strcmp (r.list_processes.info[2].cmd, "sleep 9") == 0,
      "ps info round trip, each field with its pid");
  ko_msg_reply_clear (KO_M_LIST_PROCESSES, &r);
  ko_buf_free (&b);
  ko_tlv_put_str (&b, KO_TAG_PS_CMD, "x");
  ok (ko_msg_list_processes_reply_decode (tlv_of (&b), &r.list_processes, &err)
          < 0,
      "ps info before any pid refused");
  is_str (err ? err->msg : NULL, "ps: a field before any pid",
          "ps info order message");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);
  ko_tlv_put_u32 (&b, KO_TAG_PID, 5);
  ko_tlv_put_str (&b, KO_TAG_PS_STAT, "a");
  ko_tlv_put_str (&b, KO_TAG_PS_STAT, "b");
  ok (ko_msg_list_processes_reply_decode (tlv_of (&b), &r.list_processes, &err)
          < 0,
      "a ps field twice for one pid refused");
  is_str (err ? err->msg : NULL, "ps: a field twice for one pid",
          "ps field twice message");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);
  ko_tlv_put_u32 (&b, KO_TAG_PID, 5);
  ko_tlv_put_u32 (&b, KO_TAG_PS_UID, 1);
  ko_tlv_put_u32 (&b, KO_TAG_PS_UID, 2);
  ok (ko_msg_list_processes_reply_decode (tlv_of (&b), &r.list_processes, &err)
          < 0,
      "two uids for one pid refused");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);
  {
    char big[5000];
    memset (big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ko_tlv_put_u32 (&b, KO_TAG_PID, 5);
    ko_tlv_put_str (&b, KO_TAG_PS_CMD, big);
  }
  ok (ko_msg_list_processes_reply_decode (tlv_of (&b), &r.list_processes, &err)
          < 0,
      "a long ps field refused");
  is_str (err ? err->msg : NULL, "ps: 4999 bytes, more than 4096",
          "ps field bound message");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);
  ko_tlv_put_u32 (&b, KO_TAG_PID, 5);
  ko_tlv_put_bytes (&b, KO_TAG_PS_CMD, "a\0b", 3);
  ok (ko_msg_list_processes_reply_decode (tlv_of (&b), &r.list_processes, &err)
          < 0,
      "a ps field with a NUL refused");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);
  ko_tlv_put_u32 (&b, KO_TAG_PID, 5);
  ko_tlv_put_u32 (&b, KO_TAG_PS_UPTIME, 5);
  ok (ko_msg_list_processes_reply_decode (tlv_of (&b), &r.list_processes, &err)
          < 0,
      "a u32 uptime refused");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);

  struct ko_msg_stats_container_reply s = { 0 };
  ko_msg_stats_set (&s, KO_TAG_STAT_CPU_USAGE_NS, 5000);
  ko_msg_stats_set (&s, KO_TAG_STAT_PIDS_CURRENT, 3);
  ko_msg_stats_set (&s, KO_TAG_STAT_OOM_KILLS, 1);
  ko_msg_stats_set (&s, 999, 1); /* ignored */
  ok (ko_msg_stats_container_reply_encode (&b, &s) == 0, "stats encode");
  ko_tlv_put_u64 (&old, KO_TAG_STAT_CPU_USAGE_NS, 5000);
  ko_tlv_put_u64 (&old, KO_TAG_STAT_PIDS_CURRENT, 3);
  ko_tlv_put_u64 (&old, KO_TAG_STAT_OOM_KILLS, 1);
  ok (same_bytes (&b, &old), "stats: only what was read, in tag order");
  ok (ko_msg_decode_reply (KO_M_STATS_CONTAINER, tlv_of (&b), &r, NULL) == 0,
      "stats decode");
  ok (KO_STAT_V (&r.stats_container, CPU_USAGE_NS) == 5000
          && KO_STAT_HAS (&r.stats_container, PIDS_CURRENT)
          && !KO_STAT_HAS (&r.stats_container, MEM_LIMIT)
          && !KO_STAT_HAS (&r.stats_container, PIDS_LIMIT),
      "stats values and the missing limits");
  ko_buf_free (&b);
  ko_buf_free (&old);
  ko_tlv_put_u32 (&b, KO_TAG_STAT_MEM_LIMIT, 5);
  ok (ko_msg_stats_container_reply_decode (tlv_of (&b), &r.stats_container,
                                           &err)
          < 0,
      "a u32 statistic refused");
  is_str (err ? err->msg : NULL, "statistic 124: 4 bytes, expected 8",
          "statistic length");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);

  /* methods without a body: only well-formedness */
  ok (ko_msg_decode_reply (KO_M_START_CONTAINER, tlv_of (&b), &r, NULL) == 0,
      "an empty OK reply");
  ko_buf_put_u16 (&b, 3);
  ok (ko_msg_decode_reply (KO_M_START_CONTAINER, tlv_of (&b), &r, &err) < 0,
      "a truncated OK reply");
  is_str (err ? err->msg : NULL, "StartContainer reply: truncated field",
          "message");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);
}

static void
test_error_reply (void)
{
  struct ko_buf b = { 0 }, frame = { 0 }, old = { 0 };
  struct ko_msg_error e = { "mount /data: no such file\nor directory" }, d;
  ok (ko_msg_error_encode (&b, &e) == 0, "error encodes");
  ko_reply_error_append (&old, 7, ENOENT, e.msg);
  ko_reply_append (&frame, 7, ENOENT, &b);
  ok (same_bytes (&frame, &old), "error: ko_reply_error_append's bytes");
  ok (ko_msg_error_decode (tlv_of (&b), &d, NULL) == 0
          && strcmp (d.msg, e.msg) == 0,
      "error round trip");
  ko_msg_error_clear (&d);
  ko_error *err = NULL;
  ok (ko_msg_reply_error (ENOENT, tlv_of (&b), &err) < 0, "as an error");
  is_str (err ? err->msg : NULL, "mount /data: no such file or directory",
          "made printable");
  is_int (err ? err->status : 0, ENOENT, "its status");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);
  ko_msg_reply_error (70000, tlv_of (&b), &err);
  is_str (err ? err->msg : NULL, "agent error", "no message");
  is_int (err ? err->status : 0, EIO, "a status past errno: EIO");
  ko_error_free (err);
  err = NULL;
  ko_tlv_put_bytes (&b, KO_TAG_ERROR, "a\0", 2);
  ko_msg_reply_error (EPERM, tlv_of (&b), &err);
  is_str (err ? err->msg : NULL, "(malformed error message)", "malformed");
  ko_error_free (err);
  ko_buf_free (&b);
  ko_buf_free (&frame);
  ko_buf_free (&old);

  /* a message past the bound is cut, as before */
  char *big = malloc (KO_MAX_STRING + 11);
  memset (big, 'e', KO_MAX_STRING + 10);
  big[KO_MAX_STRING + 10] = '\0';
  e.msg = big;
  ko_msg_error_encode (&b, &e);
  ok (ko_msg_error_decode (tlv_of (&b), &d, NULL) == 0
          && strlen (d.msg) == KO_MAX_STRING,
      "a long message is cut to KO_MAX_STRING");
  ko_msg_error_clear (&d);
  free (big);
  ko_buf_free (&b);
}

/* ---- events and credit ---- */

static void
test_events (void)
{
  struct ko_buf b = { 0 }, old = { 0 };
  union ko_msg_event ev;
  ko_error *err = NULL;

  struct ko_msg_hello h = { KO_PROTO_VERSION, "1.2.3" };
  ok (ko_msg_hello_encode (&b, &h) == 0, "Hello encodes");
  ko_tlv_put_u32 (&old, KO_TAG_VERSION, KO_PROTO_VERSION);
  ko_tlv_put_str (&old, KO_TAG_AGENT_VERSION, "1.2.3");
  ok (same_bytes (&b, &old), "Hello: the agent's bytes");
  ok (ko_msg_decode_event (KO_E_HELLO, tlv_of (&b), &ev, NULL) == 0
          && ev.hello.version == KO_PROTO_VERSION
          && strcmp (ev.hello.agent_version, "1.2.3") == 0,
      "Hello round trip");
  ko_msg_event_clear (KO_E_HELLO, &ev);
  ko_buf_free (&b);
  ko_buf_free (&old);
  ok (ko_msg_decode_event (KO_E_HELLO, tlv_of (&b), &ev, &err) < 0,
      "Hello without a version");
  is_str (err ? err->msg : NULL, "Hello: no version", "message");
  ko_error_free (err);
  err = NULL;

  struct ko_msg_process_exited x = { "ctr", "e1", 77, 0x0100 };
  ok (ko_msg_process_exited_encode (&b, &x) == 0, "ProcessExited encodes");
  ko_tlv_put_str (&old, KO_TAG_CONTAINER_ID, "ctr");
  ko_tlv_put_str (&old, KO_TAG_EXEC_ID, "e1");
  ko_tlv_put_u32 (&old, KO_TAG_PID, 77);
  ko_tlv_put_u32 (&old, KO_TAG_STATUS, 0x0100);
  ok (same_bytes (&b, &old), "ProcessExited: the agent's bytes");
  ok (ko_msg_decode_event (KO_E_PROCESS_EXITED, tlv_of (&b), &ev, NULL) == 0
          && ev.process_exited.pid == 77 && ev.process_exited.status == 0x0100
          && strcmp (ev.process_exited.exec_id, "e1") == 0,
      "ProcessExited round trip");
  ko_msg_event_clear (KO_E_PROCESS_EXITED, &ev);
  ko_buf_free (&b);
  ko_buf_free (&old);
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "ctr");
  ko_tlv_put_u32 (&b, KO_TAG_PID, 77);
  ok (ko_msg_decode_event (KO_E_PROCESS_EXITED, tlv_of (&b), &ev, &err) < 0,
      "ProcessExited without a status");
  is_str (err ? err->msg : NULL, "ProcessExited: no status", "message");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);

  struct ko_msg_oom o = { "ctr" };
  ko_msg_oom_encode (&b, &o);
  ok (ko_msg_decode_event (KO_E_OOM, tlv_of (&b), &ev, NULL) == 0
          && strcmp (ev.oom.container_id, "ctr") == 0,
      "Oom round trip");
  ko_msg_event_clear (KO_E_OOM, &ev);
  ko_buf_free (&b);

  struct ko_msg_notify nt = { "ctr", "READY=1\nSTATUS=up" };
  ko_msg_notify_encode (&b, &nt);
  ok (ko_msg_decode_event (KO_E_NOTIFY, tlv_of (&b), &ev, NULL) == 0
          && strcmp (ev.notify.container_id, "ctr") == 0
          && strcmp (ev.notify.data, "READY=1\nSTATUS=up") == 0,
      "Notify round trip");
  ko_msg_event_clear (KO_E_NOTIFY, &ev);
  ko_buf_free (&b);
  /* from a hostile guest: no data, or a NUL in it */
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "ctr");
  ok (ko_msg_decode_event (KO_E_NOTIFY, tlv_of (&b), &ev, &err) < 0,
      "Notify without data refused");
  is_str (err ? err->msg : NULL, "Notify: no data", "its message");
  ko_error_free (err);
  err = NULL;
  ko_tlv_put_bytes (&b, KO_TAG_NOTIFY_DATA, "A\0B", 3);
  ok (ko_msg_decode_event (KO_E_NOTIFY, tlv_of (&b), &ev, &err) < 0,
      "Notify data with a NUL refused");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);
  ok (ko_msg_decode_event (9, tlv_of (&b), &ev, &err) < 0, "unknown event");
  is_int (err ? err->status : 0, ENOSYS, "unknown event: ENOSYS");
  ko_error_free (err);
  err = NULL;

  struct ko_msg_credit c = { 65536 }, cd;
  ok (ko_msg_credit_encode (&b, &c) == 0 && b.len == 4, "credit encodes");
  ok (memcmp (b.data, "\x00\x00\x01\x00", 4) == 0,
      "credit: a little-endian u32");
  ok (ko_msg_credit_decode (tlv_of (&b), &cd, NULL) == 0 && cd.bytes == 65536,
      "credit round trip");
  b.len = 3;
  ok (ko_msg_credit_decode (tlv_of (&b), &cd, &err) < 0, "short credit");
  is_str (err ? err->msg : NULL, "credit: 3 bytes, expected 4", "message");
  ko_error_free (err);
  ko_buf_free (&b);
}

/* Every method's request decodes through the dispatcher and clears. */
static void
test_every_request (void)
{
  char *args[] = { "sh", NULL };
  struct ko_msg_create_container cc;
  fill_container (&cc, args);
  struct ko_buf bodies[KO_M_REMOVE_CONTAINER + 1] = { 0 };
  ko_msg_create_sandbox_encode (
      &bodies[KO_M_CREATE_SANDBOX],
      &(struct ko_msg_create_sandbox){ "h", KO_SHARE_TAG });
  ko_msg_create_container_encode (&bodies[KO_M_CREATE_CONTAINER], &cc);
  struct ko_msg_container_ref ref = { "ctr" };
  uint16_t refs[]
      = { KO_M_START_CONTAINER, KO_M_LIST_PROCESSES,   KO_M_STATS_CONTAINER,
          KO_M_PAUSE_CONTAINER, KO_M_RESUME_CONTAINER, KO_M_REMOVE_CONTAINER };
  for (size_t i = 0; i < KO_ARRAY_SIZE (refs); i++)
    ko_msg_container_ref_encode (&bodies[refs[i]], &ref);
  ko_msg_exec_process_encode (
      &bodies[KO_M_EXEC_PROCESS],
      &(struct ko_msg_exec_process){ "ctr", "e", cc.process });
  ko_msg_signal_process_encode (
      &bodies[KO_M_SIGNAL_PROCESS],
      &(struct ko_msg_signal_process){ "ctr", NULL, 9, false });
  ko_msg_process_ref_encode (&bodies[KO_M_WAIT_PROCESS],
                             &(struct ko_msg_process_ref){ "ctr", "e" });
  ko_msg_process_ref_encode (&bodies[KO_M_CLOSE_STDIN],
                             &(struct ko_msg_process_ref){ "ctr", "e" });
  ko_msg_tty_win_resize_encode (
      &bodies[KO_M_TTY_WIN_RESIZE],
      &(struct ko_msg_tty_win_resize){ "ctr", NULL, 24, 80 });
  struct ko_msg_update_container up = { "ctr" };
  ko_msg_update_container_encode (&bodies[KO_M_UPDATE_CONTAINER], &up);
  struct ko_msg_update_interface ui = { { "eth0", { 2 }, 1500 } };
  ko_msg_update_interface_encode (&bodies[KO_M_UPDATE_INTERFACE], &ui);
  struct ko_msg_update_routes ur = { .nroutes = 0 };
  ko_msg_update_routes_encode (&bodies[KO_M_UPDATE_ROUTES], &ur);
  ko_msg_online_cpu_mem_encode (&bodies[KO_M_ONLINE_CPU_MEM],
                                &(struct ko_msg_online_cpu_mem){ 512 });
  int good = 0, want = 0;
  for (uint16_t m = KO_M_CREATE_SANDBOX; m <= KO_M_REMOVE_CONTAINER; m++)
    {
      if (m == KO_M_WRITE_STDIN)
        continue;
      want++;
      union ko_msg_request u;
      ko_error *err = NULL;
      struct ko_buf again = { 0 };
      if (ko_msg_decode_request (m, tlv_of (&bodies[m]), &u, &err) == 0)
        {
          if (ko_msg_encode_request (&again, m, &u) == 0
              && same_bytes (&again, &bodies[m]))
            good++;
          else
            printf ("# %s: encoded again, not the same\n", ko_method_name (m));
          ko_msg_request_clear (m, &u);
        }
      else
        printf ("# %s: %s\n", ko_method_name (m), err->msg);
      ko_error_free (err);
      ko_buf_free (&again);
      ko_buf_free (&bodies[m]);
    }
  is_int (good, want,
          "every request decodes through the dispatcher, and encodes "
          "again by method to the same bytes");
  struct ko_buf none = { 0 };
  ok (ko_msg_encode_request (&none, KO_M_WRITE_STDIN,
                             &(union ko_msg_request){ 0 })
              < 0
          && none.len == 0,
      "no request to encode for a retired method");
  ko_msg_create_container_clear (&cc);
}

/* GuestMetrics: the empty request, the reply's values and containers, and
 * what its decoder refuses. */
static void
test_guest_metrics (void)
{
  struct ko_buf b = { 0 };
  union ko_msg_request rq;
  ok (ko_msg_encode_request (&b, KO_M_GUEST_METRICS,
                             &(union ko_msg_request){ .guest_metrics = { 0 } })
              == 0
          && b.len == 0,
      "GuestMetrics: an empty request");
  ok (ko_msg_decode_request (KO_M_GUEST_METRICS, tlv_of (&b), &rq, NULL) == 0,
      "GuestMetrics: the agent decodes it");
  is_str (ko_method_name (KO_M_GUEST_METRICS), "GuestMetrics", "its name");

  struct ko_msg_guest_metrics_reply m = { 0 };
  ko_msg_guest_metrics_set (&m, KO_TAG_GM_MEM_TOTAL, 256ull << 20);
  ko_msg_guest_metrics_set (&m, KO_TAG_GM_LOAD1, 350);
  ko_msg_guest_metrics_set (&m, KO_TAG_GM_UPTIME_NS, 7);
  ko_msg_guest_metrics_set (&m, KO_TAG_STAT_MEM_USAGE, 1); /* not GM_: no */
  struct ko_msg_stats_container_reply st = { 0 };
  ko_msg_stats_set (&st, KO_TAG_STAT_MEM_USAGE, 4096);
  ok (ko_msg_guest_metrics_add (&m, "c1", &st) == 0
          && ko_msg_guest_metrics_add (
                 &m, "c2", &(struct ko_msg_stats_container_reply){ 0 })
                 == 0,
      "two containers");
  ok (ko_msg_guest_metrics_reply_encode (&b, &m) == 0, "reply encodes");
  union ko_msg_reply g;
  ok (ko_msg_decode_reply (KO_M_GUEST_METRICS, tlv_of (&b), &g, NULL) == 0,
      "reply decodes");
  is_int (g.guest_metrics.has, m.has, "the same values present");
  is_int (KO_GM_V (&g.guest_metrics, MEM_TOTAL), 256ull << 20, "memory");
  is_int (KO_GM_V (&g.guest_metrics, LOAD1), 350, "load");
  ok (!KO_GM_HAS (&g.guest_metrics, PROCS), "an absent value stays absent");
  is_int (g.guest_metrics.nctrs, 2, "two containers back");
  is_str (g.guest_metrics.ctrs[0].id, "c1", "first id");
  is_int (KO_STAT_V (&g.guest_metrics.ctrs[0].stats, MEM_USAGE), 4096,
          "its memory");
  is_str (g.guest_metrics.ctrs[1].id, "c2", "second id");
  is_int (g.guest_metrics.ctrs[1].stats.has, 0, "no statistics");
  ko_msg_reply_clear (KO_M_GUEST_METRICS, &g);
  ok (g.guest_metrics.ctrs == NULL, "clear frees the containers");
  ko_msg_guest_metrics_reply_clear (&m);
  ko_buf_free (&b);

  ko_error *err = NULL;
  /* a value of the wrong size */
  ko_tlv_put_u32 (&b, KO_TAG_GM_MEM_FREE, 1);
  ok (ko_msg_decode_reply (KO_M_GUEST_METRICS, tlv_of (&b), &g, &err) < 0,
      "a 4-byte metric is refused");
  is_str (err ? err->msg : NULL,
          "GuestMetrics reply: metric 161: 4 bytes, expected 8", "its message");
  is_int (err ? err->status : 0, EPROTO, "EPROTO");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);
  /* a container without an id */
  size_t off = ko_tlv_begin (&b, KO_TAG_GM_CONTAINER);
  ko_tlv_put_u64 (&b, KO_TAG_STAT_MEM_USAGE, 1);
  ko_tlv_end (&b, off);
  ok (ko_msg_decode_reply (KO_M_GUEST_METRICS, tlv_of (&b), &g, &err) < 0,
      "a container without an id is refused");
  is_str (err ? err->msg : NULL,
          "GuestMetrics reply: container: no container id", "its message");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);
  /* a container's statistic of the wrong size */
  off = ko_tlv_begin (&b, KO_TAG_GM_CONTAINER);
  ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "c");
  ko_tlv_put_u32 (&b, KO_TAG_STAT_MEM_USAGE, 1);
  ko_tlv_end (&b, off);
  ok (ko_msg_decode_reply (KO_M_GUEST_METRICS, tlv_of (&b), &g, &err) < 0,
      "a container's bad statistic is refused");
  is_str (err ? err->msg : NULL,
          "GuestMetrics reply: container c: statistic 123: 4 bytes, expected "
          "8",
          "its message");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);
  /* more containers than any sandbox has */
  for (int i = 0; i <= KO_GM_MAX_CONTAINERS; i++)
    {
      off = ko_tlv_begin (&b, KO_TAG_GM_CONTAINER);
      ko_tlv_put_str (&b, KO_TAG_CONTAINER_ID, "c");
      ko_tlv_end (&b, off);
    }
  ok (ko_msg_decode_reply (KO_M_GUEST_METRICS, tlv_of (&b), &g, &err) < 0,
      "65 containers are refused");
  is_str (err ? err->msg : NULL, "GuestMetrics reply: more than 64 containers",
          "its message");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);
  /* truncated */
  ko_tlv_put_u64 (&b, KO_TAG_GM_MEM_FREE, 1);
  b.len -= 3;
  ok (ko_msg_decode_reply (KO_M_GUEST_METRICS, tlv_of (&b), &g, &err) < 0,
      "a truncated reply is refused");
  is_str (err ? err->msg : NULL, "GuestMetrics reply: truncated field",
          "its message");
  ko_error_free (err);
  ko_buf_free (&b);
}

int
main (void)
{
  test_create_sandbox ();
  test_refs ();
  test_signal_and_resize ();
  test_exec_process ();
  test_resources ();
  test_create_container ();
  test_disk_fields ();
  test_devfilter_fields ();
  test_rootfs_disk_fields ();
  test_create_container_rejects ();
  test_network_and_memory ();
  test_replies ();
  test_error_reply ();
  test_events ();
  test_every_request ();
  test_guest_metrics ();
  return tap_done ();
}
