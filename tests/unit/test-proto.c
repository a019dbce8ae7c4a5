/* The wire protocol: frame headers, TLV, the process description. */
#include "proto.h"
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void
test_header_roundtrip (void)
{
  uint8_t b[KO_FRAME_HDR_SIZE];
  struct ko_frame_hdr h = { .stream = 7, .type = KO_FRAME_DATA, .len = 100 },
                      g = { 0 };
  ko_frame_hdr_encode (b, &h);
  ok (ko_frame_hdr_decode (b, &g, NULL) == 0, "data header decodes");
  is_int (g.stream, 7, "stream id");
  is_int (g.type, KO_FRAME_DATA, "type");
  is_int (g.len, 100, "length");
}

static void
expect_bad_header (uint32_t stream, uint8_t type, uint32_t len, const char *msg)
{
  uint8_t b[KO_FRAME_HDR_SIZE];
  struct ko_frame_hdr h = { .stream = stream, .type = type, .len = len }, g;
  ko_frame_hdr_encode (b, &h);
  ko_error *err = NULL;
  ok (ko_frame_hdr_decode (b, &g, &err) < 0, "rejects: %s", msg);
  is_str (err ? err->msg : NULL, msg, "message for %s", msg);
  is_int (err ? err->status : 0, EPROTO, "status EPROTO");
  ko_error_free (err);
}

static void
test_bad_headers (void)
{
  expect_bad_header (0, 99, 0, "frame: unknown type 99");
  expect_bad_header (1, KO_FRAME_REQUEST, 4,
                     "frame: control frame on stream 1");
  expect_bad_header (0, KO_FRAME_DATA, 4, "frame: data on stream 0");
  expect_bad_header (3, KO_FRAME_DATA, KO_DATA_MAX_PAYLOAD + 1,
                     "frame: data length 65537 exceeds 65536");
  expect_bad_header (0, KO_FRAME_REPLY, KO_FRAME_MAX_PAYLOAD + 1,
                     "frame: length 1048577 exceeds 1048576");
  expect_bad_header (2, KO_FRAME_CREDIT, 8, "frame: credit length 8");
  expect_bad_header (0, KO_FRAME_CREDIT, 4, "frame: credit on stream 0");
  uint8_t b[KO_FRAME_HDR_SIZE]
      = { 1, 0, 0, 0, KO_FRAME_DATA, 0, 1, 0, 0, 0, 0, 0 };
  struct ko_frame_hdr g;
  ko_error *err = NULL;
  ok (ko_frame_hdr_decode (b, &g, &err) < 0, "reserved bits rejected");
  is_str (err ? err->msg : NULL, "frame: reserved bits set",
          "reserved message");
  ko_error_free (err);
}

static void
test_tlv (void)
{
  struct ko_buf b = { 0 };
  ko_tlv_put_str (&b, 1, "hello");
  ko_tlv_put_u32 (&b, 2, 0xdeadbeef);
  ko_tlv_put_u64 (&b, 3, 0x0102030405060708ull);
  size_t o = ko_tlv_begin (&b, 4);
  ko_tlv_put_str (&b, 5, "inner");
  ko_tlv_end (&b, o);
  ko_tlv_put_str (&b, 6, NULL); /* skipped */
  struct ko_tlv r = { b.data, b.len };
  struct ko_field f;
  char *s = NULL;
  uint32_t u = 0;
  uint64_t v = 0;
  ok (ko_tlv_next (&r, &f) == 1 && f.tag == 1, "string field");
  ok (ko_field_str (&f, &s) == 0, "string decodes");
  is_str (s, "hello", "string value");
  free (s);
  ok (ko_tlv_next (&r, &f) == 1 && ko_field_u32 (&f, &u) == 0, "u32 field");
  is_int (u, 0xdeadbeef, "u32 value");
  ok (ko_field_u64 (&f, &v) < 0, "u32 field is not a u64");
  ok (ko_tlv_next (&r, &f) == 1 && ko_field_u64 (&f, &v) == 0, "u64 field");
  ok (v == 0x0102030405060708ull, "u64 value");
  ok (ko_tlv_next (&r, &f) == 1 && f.tag == 4, "nested field");
  struct ko_tlv in = ko_field_nested (&f);
  struct ko_field g;
  ok (ko_tlv_next (&in, &g) == 1 && g.tag == 5, "inner field");
  ok (ko_field_str (&g, &s) == 0 && strcmp (s, "inner") == 0, "inner value");
  free (s);
  ok (ko_tlv_next (&in, &g) == 0, "inner end");
  ok (ko_tlv_next (&r, &f) == 0, "end (NULL string skipped)");

  /* truncation anywhere is an error, never an overread */
  int bad = 0;
  for (size_t cut = 1; cut < b.len; cut++)
    {
      struct ko_tlv t = { b.data, cut };
      int n;
      while ((n = ko_tlv_next (&t, &f)) > 0)
        ;
      if (n == 0 && cut != 6 + 5 && cut != 6 + 5 + 10 && cut != 6 + 5 + 10 + 14)
        bad++;
    }
  is_int (bad, 0, "every truncation is detected");
  /* a string holding a NUL is refused */
  struct ko_buf z = { 0 };
  ko_tlv_put_bytes (&z, 1, "a\0b", 3);
  struct ko_tlv zr = { z.data, z.len };
  ko_tlv_next (&zr, &f);
  ok (ko_field_str (&f, &s) < 0, "string with NUL refused");
  ko_buf_free (&z);
  ko_buf_free (&b);
}

static void
test_process (void)
{
  char *args[] = { "sh", "-c", "echo hi", NULL };
  char *env[] = { "PATH=/bin", NULL };
  uint32_t gids[] = { 10, 20 };
  struct ko_rlimit rl[] = { { 7, 1024, 2048 } };
  uint8_t prog[16] = { 6, 0, 0, 0, 0, 0, 0xff, 0x7f };
  struct ko_process p = { .args = args,
                          .nargs = 3,
                          .env = env,
                          .nenv = 1,
                          .cwd = "/tmp",
                          .uid = 1000,
                          .gid = 100,
                          .add_gids = gids,
                          .nadd_gids = 2,
                          .has_umask = true,
                          .umask = 077,
                          .terminal = true,
                          .rows = 24,
                          .cols = 80,
                          .stdin_stream = 1,
                          .stdout_stream = 2,
                          .has_caps = true,
                          .caps = { 1, 2, 3, 4, 5 },
                          .rlimits = rl,
                          .nrlimits = 1,
                          .no_new_privs = true,
                          .has_oom_score_adj = true,
                          .oom_score_adj = -500,
                          .seccomp = prog,
                          .seccomp_len = 16,
                          .sched = { .size = 48,
                                     .policy = 6,
                                     .flags = 1,
                                     .nice = -3,
                                     .priority = 0,
                                     .runtime = 10,
                                     .deadline = 20,
                                     .period = 30 },
                          .has_ioprio = true,
                          .ioprio = 3 << 13,
                          .cgroup = "sub/deeper" };
  struct ko_buf b = { 0 };
  ok (ko_process_encode (&b, KO_TAG_PROCESS, &p) == 0, "process encodes");
  struct ko_tlv r = { b.data, b.len };
  struct ko_field f;
  ko_tlv_next (&r, &f);
  struct ko_process q;
  ko_error *err = NULL;
  ok (ko_process_decode (&f, &q, &err) == 0, "process decodes");
  is_int (q.nargs, 3, "args");
  is_str (q.args[2], "echo hi", "arg value");
  ok (q.args[3] == NULL, "args NULL-terminated");
  is_str (q.env[0], "PATH=/bin", "env");
  is_str (q.cwd, "/tmp", "cwd");
  is_int (q.uid, 1000, "uid");
  is_int (q.gid, 100, "gid");
  is_int (q.nadd_gids, 2, "additional gids");
  is_int (q.add_gids[1], 20, "gid value");
  ok (q.has_umask && q.umask == 077, "umask");
  ok (q.terminal && q.rows == 24 && q.cols == 80, "terminal and size");
  ok (q.stdin_stream == 1 && q.stdout_stream == 2 && q.stderr_stream == 0,
      "streams");
  ok (q.has_caps && q.caps[4] == 5, "caps");
  ok (q.nrlimits == 1 && q.rlimits[0].hard == 2048, "rlimits");
  ok (q.no_new_privs, "no_new_privs");
  ok (q.has_oom_score_adj && q.oom_score_adj == -500, "oom_score_adj");
  ok (q.seccomp_len == 16 && q.seccomp[6] == 0xff, "seccomp program");
  ok (q.sched.size == sizeof q.sched && q.sched.size == 48
          && q.sched.policy == 6 && q.sched.flags == 1 && q.sched.nice == -3
          && q.sched.runtime == 10 && q.sched.deadline == 20
          && q.sched.period == 30,
      "scheduler: sched_setattr's attributes, size set");
  ok (q.has_ioprio && q.ioprio == 3 << 13, "I/O priority");
  is_str (q.cgroup, "sub/deeper", "exec --cgroup's group");
  ko_process_clear (&q);
  ko_buf_free (&b);

  /* no args */
  struct ko_process e = { .cwd = "/" };
  ko_process_encode (&b, KO_TAG_PROCESS, &e);
  r = (struct ko_tlv){ b.data, b.len };
  ko_tlv_next (&r, &f);
  ok (ko_process_decode (&f, &q, &err) < 0, "process without args refused");
  is_str (err ? err->msg : NULL, "process: no args", "no-args message");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);

  /* a group with a NUL in it */
  ko_tlv_put_bytes (&b, KO_TAG_P_CGROUP, "a\0b", 3);
  struct ko_field badcg
      = { .tag = KO_TAG_PROCESS, .len = b.len, .val = b.data };
  ok (ko_process_decode (&badcg, &q, &err) < 0, "a NUL in the cgroup refused");
  is_str (err ? err->msg : NULL, "process: bad cgroup", "cgroup message");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);

  /* a bad seccomp length */
  ko_tlv_put_bytes (&b, KO_TAG_P_SECCOMP, "1234567", 7);
  struct ko_field bad = { .tag = KO_TAG_PROCESS, .len = b.len, .val = b.data };
  ok (ko_process_decode (&bad, &q, &err) < 0, "odd seccomp length refused");
  is_str (err ? err->msg : NULL, "process: bad seccomp program",
          "seccomp message");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);

  /* a scheduler of the wrong length */
  ko_tlv_put_str (&b, KO_TAG_P_ARG, "x");
  ko_tlv_put_bytes (&b, KO_TAG_P_SCHED, "12345678", 8);
  bad = (struct ko_field){ .tag = KO_TAG_PROCESS, .len = b.len, .val = b.data };
  ok (ko_process_decode (&bad, &q, &err) < 0, "short scheduler refused");
  is_str (err ? err->msg : NULL, "process: bad scheduler", "scheduler message");
  ko_error_free (err);
  err = NULL;
  ko_buf_free (&b);

  /* a wrong-size u32 */
  ko_tlv_put_str (&b, KO_TAG_P_ARG, "x");
  ko_tlv_put_bytes (&b, KO_TAG_P_UID, "12", 2);
  bad = (struct ko_field){ .tag = KO_TAG_PROCESS, .len = b.len, .val = b.data };
  ok (ko_process_decode (&bad, &q, &err) < 0, "short uid refused");
  is_str (err ? err->msg : NULL, "process: bad field 43", "uid message");
  ko_error_free (err);
  ko_buf_free (&b);
}

/* Decodes the first field of b as an id map. */
static int
decode_id_map (const struct ko_buf *b, struct ko_id_map *m, ko_error **err)
{
  struct ko_tlv r = { b->data, b->len };
  struct ko_field f;
  if (ko_tlv_next (&r, &f) != 1)
    return -2;
  return ko_id_map_decode (&f, m, err);
}

static void
expect_bad_id_map (const struct ko_buf *b, const char *msg)
{
  struct ko_id_map m = { 7, 7, 7 };
  ko_error *err = NULL;
  ok (decode_id_map (b, &m, &err) == -1, "id map refused: %s", msg);
  is_str (err ? err->msg : NULL, msg, "id map message");
  is_int (err ? err->status : 0, EPROTO, "id map status EPROTO");
  ok (m.container_id == 7 && m.host_id == 7 && m.size == 7,
      "id map: nothing written on failure");
  ko_error_free (err);
}

static void
test_id_map (void)
{
  struct ko_buf b = { 0 };
  struct ko_id_map in = { 0, 100000, 65536 }, out = { 0 };
  ok (ko_id_map_encode (&b, KO_TAG_UID_MAP, &in) == 0, "id map encodes");
  ok (decode_id_map (&b, &out, NULL) == 0, "id map decodes");
  ok (out.container_id == 0 && out.host_id == 100000 && out.size == 65536,
      "id map round trip");
  ko_buf_free (&b);

  /* every field is required */
  size_t off = ko_tlv_begin (&b, KO_TAG_UID_MAP);
  ko_tlv_put_u32 (&b, KO_TAG_ID_CONTAINER, 0);
  ko_tlv_put_u32 (&b, KO_TAG_ID_HOST, 1000);
  ko_tlv_end (&b, off);
  expect_bad_id_map (&b, "id map: needs container, host and size");
  ko_buf_free (&b);

  /* a u32 of the wrong size */
  off = ko_tlv_begin (&b, KO_TAG_GID_MAP);
  ko_tlv_put_u32 (&b, KO_TAG_ID_CONTAINER, 0);
  ko_tlv_put_u32 (&b, KO_TAG_ID_HOST, 1000);
  ko_tlv_put_u64 (&b, KO_TAG_ID_SIZE, 1);
  ko_tlv_end (&b, off);
  expect_bad_id_map (&b, "id map: bad field 90");
  ko_buf_free (&b);

  /* a field cut short inside the nested value */
  off = ko_tlv_begin (&b, KO_TAG_UID_MAP);
  ko_tlv_put_u32 (&b, KO_TAG_ID_CONTAINER, 0);
  ko_buf_put_u16 (&b, KO_TAG_ID_HOST);
  ko_buf_put_u32 (&b, 4);
  ko_tlv_end (&b, off);
  expect_bad_id_map (&b, "id map: truncated field");
  ko_buf_free (&b);

  /* unknown fields are skipped, as everywhere */
  off = ko_tlv_begin (&b, KO_TAG_UID_MAP);
  ko_tlv_put_u32 (&b, 999, 1);
  ko_tlv_put_u32 (&b, KO_TAG_ID_CONTAINER, 1);
  ko_tlv_put_u32 (&b, KO_TAG_ID_HOST, 2);
  ko_tlv_put_u32 (&b, KO_TAG_ID_SIZE, 3);
  ko_tlv_end (&b, off);
  ok (decode_id_map (&b, &out, NULL) == 0 && out.container_id == 1
          && out.host_id == 2 && out.size == 3,
      "id map: unknown field skipped");
  ko_buf_free (&b);
}

static void
expect_bad_id_maps (const struct ko_id_map *v, size_t n, const char *msg)
{
  ko_error *err = NULL;
  ok (ko_id_maps_check (v, n, "m", &err) < 0, "id maps refused: %s", msg);
  is_str (err ? err->msg : NULL, msg, "id maps message");
  is_int (err ? err->status : 0, EINVAL, "id maps status EINVAL");
  ko_error_free (err);
}

static void
test_id_maps_check (void)
{
  struct ko_id_map ok3[] = { { 0, 100000, 1000 },
                             { 1000, 200000, 1000 },
                             { 4294967293u, 300000, 2 } };
  ok (ko_id_maps_check (ok3, 3, "m", NULL) == 0, "id maps: good ones pass");
  ok (ko_id_maps_check (ok3, 0, "m", NULL) == 0, "id maps: none passes");
  ok (ko_id_maps_contain (ok3, 3, 0) && ko_id_maps_contain (ok3, 3, 1999)
          && ko_id_maps_contain (ok3, 3, 4294967294u),
      "id maps: contain the ends of ranges");
  ok (!ko_id_maps_contain (ok3, 3, 2000)
          && !ko_id_maps_contain (ok3, 3, 4294967295u)
          && !ko_id_maps_contain (ok3, 0, 0),
      "id maps: not what lies outside");

  struct ko_id_map six[6];
  for (int i = 0; i < 6; i++)
    six[i] = (struct ko_id_map){ i * 10u, 1000 + i * 10u, 10 };
  ok (ko_id_maps_check (six, 5, "m", NULL) == 0, "id maps: five lines pass");
  expect_bad_id_maps (six, 6, "m: 6 mappings, at most 5");

  struct ko_id_map zero[] = { { 0, 1000, 1 }, { 5, 2000, 0 } };
  expect_bad_id_maps (zero, 2, "m[1].size: must be greater than 0");

  struct ko_id_map cover[] = { { 4294967290u, 1000, 6 } };
  expect_bad_id_maps (cover, 1,
                      "m[0]: containerID 4294967290 + size 6 goes past the "
                      "last id 4294967294");
  struct ko_id_map wrap[] = { { 0, 1000, 4294967295u } };
  expect_bad_id_maps (wrap, 1,
                      "m[0]: hostID 1000 + size 4294967295 goes past the "
                      "last id 4294967294");

  struct ko_id_map cont[] = { { 0, 1000, 10 }, { 9, 5000, 10 } };
  expect_bad_id_maps (cont, 2,
                      "m[1]: its containerID range overlaps that of [0]");
  struct ko_id_map host[] = { { 0, 1000, 10 }, { 100, 995, 10 } };
  expect_bad_id_maps (host, 2, "m[1]: its hostID range overlaps that of [0]");
}

static void
test_control (void)
{
  struct ko_buf b = { 0 }, body = { 0 };
  ko_tlv_put_str (&body, KO_TAG_CONTAINER_ID, "c1");
  ko_request_append (&b, 42, KO_M_START_CONTAINER, &body);
  struct ko_frame_hdr h;
  ok (ko_frame_hdr_decode (b.data, &h, NULL) == 0, "request header");
  uint32_t id;
  uint16_t method;
  struct ko_tlv t;
  ok (ko_parse_request (b.data + KO_FRAME_HDR_SIZE, h.len, &id, &method, &t)
          == 0,
      "request parses");
  ok (id == 42 && method == KO_M_START_CONTAINER, "request id and method");
  b.len = 0;
  ko_reply_error_append (&b, 42, ENOENT, "exec: \"x\": not found");
  ko_frame_hdr_decode (b.data, &h, NULL);
  uint32_t status;
  ok (ko_parse_reply (b.data + KO_FRAME_HDR_SIZE, h.len, &id, &status, &t) == 0,
      "reply parses");
  is_int (status, ENOENT, "reply status");
  struct ko_field f;
  char *msg = NULL;
  ok (ko_tlv_next (&t, &f) == 1 && f.tag == KO_TAG_ERROR
          && ko_field_str (&f, &msg) == 0,
      "reply carries the message");
  is_str (msg, "exec: \"x\": not found", "message text");
  free (msg);
  ok (ko_parse_reply (b.data, 3, &id, &status, &t) < 0, "short reply refused");
  ok (ko_parse_request (b.data, 5, &id, &method, &t) < 0,
      "short request refused");
  ok (ko_parse_event (b.data, 1, &method, &t) < 0, "short event refused");
  is_str (ko_method_name (KO_M_DESTROY_SANDBOX), "DestroySandbox",
          "method names");
  is_str (ko_method_name (KO_M_ONLINE_CPU_MEM), "OnlineCPUMem",
          "the newest method has a name");
  is_str (ko_method_name (999), "Unknown", "unknown method name");
  ko_buf_free (&b);
  ko_buf_free (&body);
}

/* ---- networking: UpdateInterface and UpdateRoutes bodies ---- */

static struct ko_net_iface
sample_iface (void)
{
  struct ko_net_iface i = { .name = "eth0",
                            .mac = { 0x0a, 0x58, 0x0a, 0x58, 0, 5 },
                            .mtu = 1400,
                            .naddrs = 2 };
  i.addrs[0] = (struct ko_net_addr){ AF_INET, { 10, 88, 0, 5 }, 16 };
  i.addrs[1] = (struct ko_net_addr){ AF_INET6, { 0xfd, 0 }, 64 };
  i.addrs[1].addr[15] = 5;
  return i;
}

static void
expect_bad_iface (const struct ko_buf *b, const char *msg)
{
  struct ko_net_iface out = { .mtu = 7 };
  ko_error *err = NULL;
  struct ko_tlv r = { b->data, b->len };
  ok (ko_net_iface_decode (r, &out, &err) == -1, "interface refused: %s", msg);
  is_str (err ? err->msg : NULL, msg, "interface message");
  is_int (err ? err->status : 0, EPROTO, "interface status EPROTO");
  is_int (out.mtu, 7, "interface: nothing written on failure");
  ko_error_free (err);
}

static void
test_net_iface (void)
{
  struct ko_buf b = { 0 };
  struct ko_net_iface in = sample_iface (), out;
  ok (ko_net_iface_encode (&b, &in) == 0, "interface encodes");
  struct ko_tlv r = { b.data, b.len };
  ok (ko_net_iface_decode (r, &out, NULL) == 0, "interface decodes");
  is_str (out.name, "eth0", "interface: name");
  ok (memcmp (out.mac, in.mac, 6) == 0, "interface: MAC");
  is_int (out.mtu, 1400, "interface: MTU");
  is_int (out.naddrs, 2, "interface: two addresses");
  ok (out.addrs[0].family == AF_INET && out.addrs[0].prefix == 16
          && memcmp (out.addrs[0].addr, in.addrs[0].addr, 16) == 0,
      "interface: the IPv4 address");
  ok (out.addrs[1].family == AF_INET6 && out.addrs[1].prefix == 64
          && memcmp (out.addrs[1].addr, in.addrs[1].addr, 16) == 0,
      "interface: the IPv6 address");
  ko_buf_free (&b);

  struct ko_net_iface t;
#define BAD_IFACE(stmt, msg)                                                   \
  do                                                                           \
    {                                                                          \
      t = sample_iface ();                                                     \
      stmt;                                                                    \
      ko_net_iface_encode (&b, &t);                                            \
      expect_bad_iface (&b, msg);                                              \
      ko_buf_free (&b);                                                        \
    }                                                                          \
  while (0)
  BAD_IFACE (strcpy (t.name, "a/b"),
             "interface: \"a/b\" is not an interface name");
  BAD_IFACE (strcpy (t.name, ".."),
             "interface: \"..\" is not an interface name");
  BAD_IFACE (t.mtu = 67, "interface: MTU must be 68 to 65535");
  BAD_IFACE (t.mtu = 65536, "interface: MTU must be 68 to 65535");
  BAD_IFACE (t.mac[0] = 1, "interface: not a unicast MAC");
  BAD_IFACE (t.addrs[0].prefix = 33,
             "interface address: prefix 33 is too long");
  BAD_IFACE (t.addrs[1].prefix = 129,
             "interface address: prefix 129 is too long");
  BAD_IFACE (t.addrs[0].family = 99, "interface address: unknown family 99");
#undef BAD_IFACE

  /* fields the encoder never writes wrong, written by hand */
  ko_tlv_put_str (&b, KO_TAG_IF_NAME, "eth0");
  ko_tlv_put_bytes (&b, KO_TAG_IF_MAC, "\x02\x00\x00\x00\x00", 5);
  expect_bad_iface (&b, "interface: a MAC has 6 bytes");
  ko_buf_free (&b);
  ko_tlv_put_str (&b, KO_TAG_IF_NAME, "eth0");
  ko_tlv_put_u32 (&b, KO_TAG_IF_MTU, 1500);
  expect_bad_iface (&b, "interface: needs name, MAC and MTU");
  ko_buf_free (&b);
  ko_tlv_put_str (&b, KO_TAG_IF_NAME, "a-name-too-long-for-linux");
  expect_bad_iface (&b, "interface: bad name");
  ko_buf_free (&b);
  t = sample_iface ();
  t.naddrs = 0;
  ko_net_iface_encode (&b, &t);
  size_t off = ko_tlv_begin (&b, KO_TAG_IF_ADDR);
  ko_tlv_put_u32 (&b, KO_TAG_A_FAMILY, AF_INET);
  ko_tlv_put_bytes (&b, KO_TAG_A_ADDR, "\x0a\x00\x00\x01\x00", 5);
  ko_tlv_put_u32 (&b, KO_TAG_A_PREFIX, 8);
  ko_tlv_end (&b, off);
  expect_bad_iface (&b, "interface address: 5 bytes for family 2");
  ko_buf_free (&b);
  t = sample_iface ();
  t.naddrs = 0;
  ko_net_iface_encode (&b, &t);
  for (int k = 0; k <= KO_NET_MAX_ADDRS; k++)
    {
      off = ko_tlv_begin (&b, KO_TAG_IF_ADDR);
      ko_tlv_put_u32 (&b, KO_TAG_A_FAMILY, AF_INET);
      ko_tlv_put_bytes (&b, KO_TAG_A_ADDR, "\x0a\x00\x00\x01", 4);
      ko_tlv_put_u32 (&b, KO_TAG_A_PREFIX, 8);
      ko_tlv_end (&b, off);
    }
  expect_bad_iface (&b, "interface: more than 16 addresses");
  ko_buf_free (&b);
}

/* Decodes the first field of b as a route. */
static int
decode_route (const struct ko_buf *b, struct ko_net_route *rt, ko_error **err)
{
  struct ko_tlv r = { b->data, b->len };
  struct ko_field f;
  if (ko_tlv_next (&r, &f) != 1)
    return -2;
  return ko_net_route_decode (&f, rt, err);
}

static void
expect_bad_route (const struct ko_buf *b, const char *msg)
{
  struct ko_net_route out = { .dst_len = 7 };
  ko_error *err = NULL;
  ok (decode_route (b, &out, &err) == -1, "route refused: %s", msg);
  is_str (err ? err->msg : NULL, msg, "route message");
  is_int (out.dst_len, 7, "route: nothing written on failure");
  ko_error_free (err);
}

static void
test_net_route (void)
{
  struct ko_buf b = { 0 };
  struct ko_net_route def = { .family = AF_INET,
                              .has_gw = true,
                              .gw = { 10, 88, 0, 1 },
                              .dev = "eth0" },
                      net6 = { .family = AF_INET6,
                               .dst = { 0xfd, 0x01 },
                               .dst_len = 48,
                               .dev = "eth1" },
                      out;
  ok (ko_net_route_encode (&b, KO_TAG_ROUTE, &def) == 0
          && decode_route (&b, &out, NULL) == 0,
      "default route: round trip");
  ok (out.family == AF_INET && out.dst_len == 0 && out.has_gw
          && memcmp (out.gw, def.gw, 16) == 0 && strcmp (out.dev, "eth0") == 0,
      "default route: fields");
  ko_buf_free (&b);
  ok (ko_net_route_encode (&b, KO_TAG_ROUTE, &net6) == 0
          && decode_route (&b, &out, NULL) == 0,
      "on-link IPv6 route: round trip");
  ok (out.family == AF_INET6 && out.dst_len == 48 && !out.has_gw
          && memcmp (out.dst, net6.dst, 16) == 0
          && strcmp (out.dev, "eth1") == 0,
      "on-link IPv6 route: fields");
  ko_buf_free (&b);

  struct ko_net_route t = def;
  t.family = 7;
  ko_net_route_encode (&b, KO_TAG_ROUTE, &t);
  expect_bad_route (&b, "route: needs AF_INET or AF_INET6");
  ko_buf_free (&b);
  t = def;
  t.dev[0] = '\0';
  ko_net_route_encode (&b, KO_TAG_ROUTE, &t);
  expect_bad_route (&b, "route: bad device name");
  ko_buf_free (&b);
  t = def;
  strcpy (t.dev, "a/b");
  ko_net_route_encode (&b, KO_TAG_ROUTE, &t);
  expect_bad_route (&b, "route: needs a device");
  ko_buf_free (&b);
  t = def;
  t.dst_len = 33;
  ko_net_route_encode (&b, KO_TAG_ROUTE, &t);
  expect_bad_route (&b, "route: bad destination");
  ko_buf_free (&b);
  /* a gateway of the other family's length */
  size_t off = ko_tlv_begin (&b, KO_TAG_ROUTE);
  ko_tlv_put_u32 (&b, KO_TAG_RT_FAMILY, AF_INET6);
  ko_tlv_put_bytes (&b, KO_TAG_RT_GW, def.gw, 4);
  ko_tlv_put_str (&b, KO_TAG_RT_DEV, "eth0");
  ko_tlv_end (&b, off);
  expect_bad_route (&b, "route: bad gateway");
  ko_buf_free (&b);
  /* a destination without its prefix length */
  off = ko_tlv_begin (&b, KO_TAG_ROUTE);
  ko_tlv_put_u32 (&b, KO_TAG_RT_FAMILY, AF_INET);
  ko_tlv_put_bytes (&b, KO_TAG_RT_DST, def.gw, 4);
  ko_tlv_put_str (&b, KO_TAG_RT_DEV, "eth0");
  ko_tlv_end (&b, off);
  expect_bad_route (&b, "route: bad destination");
  ko_buf_free (&b);
  ok (ko_net_ifname_ok ("eth0") && ko_net_ifname_ok ("tap0_kata")
          && !ko_net_ifname_ok ("") && !ko_net_ifname_ok ("a b")
          && !ko_net_ifname_ok ("a:1") && !ko_net_ifname_ok (".")
          && !ko_net_ifname_ok ("0123456789abcdef"),
      "interface names: what the kernel takes");
}

int
main (void)
{
  test_header_roundtrip ();
  test_bad_headers ();
  test_tlv ();
  test_process ();
  test_id_map ();
  test_id_maps_check ();
  test_net_iface ();
  test_net_route ();
  test_control ();
  return tap_done ();
}
