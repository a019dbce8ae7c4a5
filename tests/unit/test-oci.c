/* libocispec: parsing, generating and the exact error messages. */
#include "oci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

#ifndef FIXTURES
#define FIXTURES "tests/unit/fixtures/oci"
#endif

static char *
fixture (const char *name)
{
  size_t n = strlen (FIXTURES) + strlen (name) + 2;
  char *p = malloc (n);
  if (p == NULL)
    abort ();
  snprintf (p, n, "%s/%s", FIXTURES, name);
  return p;
}

/* --- helpers: each negative test checks the status and the message --- */

typedef void *(*parse_fn) (const char *, size_t, const char *, ko_error **);
typedef void (*free_fn) (void *);

static void
expect_error (parse_fn parse, free_fn fr, const char *name, const char *json,
              const char *want)
{
  ko_error *err = NULL;
  void *doc = parse (json, strlen (json), name, &err);
  ok (doc == NULL && err != NULL, "rejected: %s", want);
  is_str (err ? err->msg : NULL, want, "message: %s", want);
  is_int (err ? err->status : -1, EINVAL, "status EINVAL: %s", want);
  fr (doc);
  ko_error_free (err);
}

static void
expect_spec_error (const char *json, const char *want)
{
  expect_error ((parse_fn)oci_spec_parse_data, (free_fn)oci_spec_free,
                "config.json", json, want);
}

/* Parses, generates, parses the output and generates again: both texts
   must be the same, so nothing the parser kept is lost by the generator. */
static void
check_round_trip (const oci_spec *s, const char *what)
{
  ko_error *err = NULL;
  _cleanup_free_ char *t1 = oci_spec_generate (s, &err);
  ok (t1 != NULL, "%s: generate", what);
  if (t1 == NULL)
    return;
  oci_spec *s2 = oci_spec_parse_data (t1, strlen (t1), "generated", &err);
  ok (s2 != NULL, "%s: generated text parses (%s)", what,
      err ? err->msg : "ok");
  if (s2 == NULL)
    {
      ko_error_free (err);
      return;
    }
  _cleanup_free_ char *t2 = oci_spec_generate (s2, &err);
  is_str (t2, t1, "%s: generate(parse(generate)) is stable", what);
  oci_spec_free (s2);
}

/* --- the spec's example config.json --- */

static void
test_example (void)
{
  _cleanup_free_ char *path = fixture ("config-example.json");
  ko_error *err = NULL;
  oci_spec *s = oci_spec_parse_file (path, &err);
  ok (s != NULL, "parse config-example.json (%s)", err ? err->msg : "ok");
  if (s == NULL)
    {
      ko_error_free (err);
      return;
    }
  is_str (s->oci_version, "1.2.0", "ociVersion");

  oci_process *p = s->process;
  ok (p && p->terminal, "process.terminal");
  ok (p->has_console_size && p->console_height == 25 && p->console_width == 80,
      "process.consoleSize");
  ok (p->user && p->user->uid == 1 && p->user->gid == 1 && p->user->has_umask
          && p->user->umask == 63,
      "process.user uid/gid/umask");
  ok (p->user->additional_gids_len == 2 && p->user->additional_gids[1] == 6,
      "process.user.additionalGids");
  ok (p->args_len == 1 && p->args[1] == NULL, "args are NULL-terminated");
  is_str (p->args[0], "sh", "process.args[0]");
  is_int (p->env_len, 2, "process.env length");
  is_str (p->cwd, "/", "process.cwd");
  ok (p->capabilities && p->capabilities->bounding_len == 3
          && p->capabilities->effective_len == 2
          && p->capabilities->inheritable_len == 3
          && p->capabilities->permitted_len == 3
          && p->capabilities->ambient_len == 1,
      "process.capabilities sets");
  is_str (p->capabilities->ambient[0], "CAP_NET_BIND_SERVICE",
          "process.capabilities.ambient[0]");
  ok (p->rlimits_len == 2 && p->rlimits[1].soft == 1024
          && p->rlimits[1].hard == 1024,
      "process.rlimits");
  is_str (p->rlimits[0].type, "RLIMIT_CORE", "process.rlimits[0].type");
  ok (p->no_new_privileges, "process.noNewPrivileges");
  is_str (p->apparmor_profile, "acme_secure_profile", "apparmorProfile");
  ok (p->has_oom_score_adj && p->oom_score_adj == 100, "oomScoreAdj");
  is_str (p->selinux_label, "system_u:system_r:svirt_lxc_net_t:s0:c124,c675",
          "selinuxLabel");

  ok (s->root && s->root->readonly, "root.readonly");
  is_str (s->root->path, "rootfs", "root.path");
  is_str (s->hostname, "slartibartfast", "hostname");
  is_str (s->domainname, "foobarbaz.test", "domainname");

  is_int (s->mounts_len, 8, "mounts length");
  is_str (s->mounts[2].destination, "/dev/pts", "mounts[2].destination");
  ok (s->mounts[2].options_len == 6 && s->mounts[2].options[6] == NULL,
      "mounts[2].options");
  ok (s->mounts[0].options == NULL && s->mounts[0].options_len == 0,
      "mounts[0] has no options");
  ok (s->mounts[7].uid_mappings_len == 1
          && s->mounts[7].uid_mappings[0].host_id == 1000
          && s->mounts[7].gid_mappings[0].size == 10,
      "mounts[7] id mappings");

  oci_hooks *h = s->hooks;
  ok (h && h->prestart_len == 2 && h->create_runtime_len == 1
          && h->create_container_len == 1 && h->start_container_len == 1
          && h->poststart_len == 1 && h->poststop_len == 1,
      "hooks: every kind");
  ok (h->prestart[0].args_len == 3 && h->prestart[0].env_len == 1
          && !h->prestart[0].has_timeout,
      "hooks.prestart[0]");
  ok (h->poststart[0].has_timeout && h->poststart[0].timeout == 5,
      "hooks.poststart[0].timeout");

  is_int (s->annotations.len, 3, "annotations length");
  is_str (s->annotations.keys[0], "com.example.key1",
          "annotations keep their order");
  is_str (oci_map_get (&s->annotations, "org.opencontainers.image.os"), "linux",
          "oci_map_get");

  oci_linux *l = s->linux;
  ok (l != NULL, "linux");
  is_int (l->namespaces_len, 8, "linux.namespaces length");
  is_str (l->namespaces[7].path, "/proc/1234/ns/time",
          "linux.namespaces[7].path");
  ok (l->uid_mappings_len == 1 && l->uid_mappings[0].host_id == 1000
          && l->uid_mappings[0].size == 32000,
      "linux.uidMappings");
  is_str (oci_map_get (&l->sysctl, "net.core.somaxconn"), "256",
          "linux.sysctl");
  is_str (l->cgroups_path, "/myRuntime/myContainer", "linux.cgroupsPath");
  is_str (l->rootfs_propagation, "slave", "linux.rootfsPropagation");
  is_str (l->mount_label, "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811",
          "linux.mountLabel");
  is_str (l->intel_rdt_clos_id, "guaranteed_group", "linux.intelRdt.closID");
  ok (l->personality && l->personality->flags_len == 0, "linux.personality");
  is_str (l->personality->domain, "LINUX32", "linux.personality.domain");
  ok (l->time_offsets_len == 2 && l->time_offsets[1].secs == -86400
          && l->time_offsets[1].nanosecs == 500,
      "linux.timeOffsets");
  is_str (l->time_offsets[1].clock, "boottime", "linux.timeOffsets key");

  ok (l->devices_len == 2 && l->devices[0].major == 10
          && l->devices[0].minor == 229 && l->devices[0].file_mode == 438
          && l->devices[0].has_uid && l->devices[0].gid == 0,
      "linux.devices[0]");
  is_str (l->devices[1].type, "b", "linux.devices[1].type");
  ok (l->masked_paths_len == 4 && l->readonly_paths_len == 6,
      "linux.maskedPaths, readonlyPaths");

  oci_linux_resources *r = l->resources;
  ok (r && r->memory && r->memory->limit == 536870912 && r->memory->kernel == -1
          && r->memory->has_swappiness && r->memory->swappiness == 0
          && r->memory->has_disable_oom_killer && !r->memory->disable_oom_killer
          && r->memory->check_before_update,
      "linux.resources.memory");
  ok (r->cpu && r->cpu->shares == 1024 && r->cpu->quota == 1000000
          && r->cpu->burst == 1000000 && r->cpu->realtime_period == 1000000
          && r->cpu->has_idle && r->cpu->idle == 0,
      "linux.resources.cpu");
  is_str (r->cpu->mems, "0-7", "linux.resources.cpu.mems");
  ok (r->has_pids_limit && r->pids_limit == 32771, "linux.resources.pids");
  ok (r->devices_len == 3 && !r->devices[0].allow && !r->devices[0].has_major
          && r->devices[1].allow && r->devices[1].minor == 229,
      "linux.resources.devices");
  ok (r->block_io && r->block_io->weight == 10
          && r->block_io->weight_device_len == 2
          && r->block_io->weight_device[0].leaf_weight == 300
          && !r->block_io->weight_device[1].has_leaf_weight
          && r->block_io->throttle_write_iops_device[0].rate == 300,
      "linux.resources.blockIO");
  ok (r->hugepage_limits_len == 2
          && r->hugepage_limits[0].limit == 9223372036854772000ULL,
      "linux.resources.hugepageLimits");
  ok (r->network && r->network->class_id == 1048577
          && r->network->priorities_len == 2
          && r->network->priorities[1].priority == 1000,
      "linux.resources.network");
  ok (r->rdma_len == 2 && r->rdma[0].hca_handles == 3
          && !r->rdma[1].has_hca_handles && r->rdma[1].hca_objects == 1000,
      "linux.resources.rdma");
  is_str (r->rdma[1].device, "mlx4_0", "linux.resources.rdma key");
  is_str (oci_map_get (&r->unified, "io.weight"), "default 100",
          "linux.resources.unified");

  oci_seccomp *sc = l->seccomp;
  ok (sc && sc->has_default_errno_ret && sc->default_errno_ret == 1
          && sc->architectures_len == 2 && sc->flags_len == 1
          && sc->syscalls_len == 2,
      "linux.seccomp");
  is_str (sc->listener_path, "/run/seccomp-agent.socket",
          "linux.seccomp.listenerPath");
  ok (sc->syscalls[0].has_errno_ret && sc->syscalls[0].errno_ret == 38
          && sc->syscalls[0].names_len == 2,
      "linux.seccomp.syscalls[0]");
  ok (sc->syscalls[1].args_len == 2
          && sc->syscalls[1].args[1].value == UINT64_MAX
          && sc->syscalls[1].args[1].has_value_two
          && sc->syscalls[1].args[1].value_two == 255
          && !sc->syscalls[1].args[0].has_value_two,
      "linux.seccomp.syscalls[1].args (values up to UINT64_MAX)");
  is_str (sc->syscalls[1].args[1].op, "SCMP_CMP_MASKED_EQ", "args[1].op");

  check_round_trip (s, "example");
  oci_spec_free (s);
}

static void
test_default (void)
{
  ko_error *err = NULL;
  oci_spec *s = oci_spec_new_default (false, &err);
  ok (s && s->process && s->process->terminal, "default: terminal");
  is_str (s->process->args[0], "sh", "default: runs sh");
  is_int (s->mounts_len, 7, "default: 7 mounts");
  is_str (s->mounts[6].destination, "/sys/fs/cgroup",
          "default: /sys/fs/cgroup");
  is_int (s->linux->namespaces_len, 5, "default: 5 namespaces");
  is_str (s->linux->namespaces[1].type, "network", "default: network ns");
  ok (s->linux->uid_mappings_len == 0, "default: no id mappings");
  check_round_trip (s, "default");
  oci_spec_free (s);

  s = oci_spec_new_default (true, &err);
  bool has_user = false, has_net = false;
  for (size_t i = 0; i < s->linux->namespaces_len; i++)
    {
      has_user |= strcmp (s->linux->namespaces[i].type, "user") == 0;
      has_net |= strcmp (s->linux->namespaces[i].type, "network") == 0;
    }
  ok (has_user && !has_net, "rootless: user ns, no network ns");
  ok (s->linux->uid_mappings_len == 1
          && s->linux->uid_mappings[0].container_id == 0
          && s->linux->uid_mappings[0].host_id == geteuid ()
          && s->linux->gid_mappings[0].host_id == getegid ()
          && s->linux->uid_mappings[0].size == 1,
      "rootless: 0 mapped to the caller");
  ok (s->linux->resources == NULL, "rootless: no cgroup resources");
  bool gid_opt = false;
  for (size_t i = 0; i < s->mounts[2].options_len; i++)
    gid_opt |= strncmp (s->mounts[2].options[i], "gid=", 4) == 0;
  ok (!gid_opt, "rootless: no gid= option on /dev/pts");
  check_round_trip (s, "rootless");
  oci_spec_free (s);
}

/* --- errors, one per kind --- */

#define V "\"ociVersion\":\"1.2.0\""
#define PROC(x) "{" V ",\"process\":{\"cwd\":\"/\",\"args\":[\"sh\"]," x "}}"

static void
test_errors (void)
{
  /* ociVersion: SemVer 2.0.0, major 1 */
  expect_spec_error ("{\"ociVersion\":\"invalid\"}",
                     "config.json: ociVersion: \"invalid\" is not a SemVer "
                     "2.0.0 version");
  expect_spec_error ("{\"ociVersion\":\"1.0\"}",
                     "config.json: ociVersion: \"1.0\" is not a SemVer 2.0.0 "
                     "version");
  expect_spec_error ("{\"ociVersion\":\"01.0.0\"}",
                     "config.json: ociVersion: \"01.0.0\" is not a SemVer "
                     "2.0.0 version");
  expect_spec_error ("{\"ociVersion\":\"1.0.0-\"}",
                     "config.json: ociVersion: \"1.0.0-\" is not a SemVer "
                     "2.0.0 version");
  expect_spec_error ("{\"ociVersion\":\"1.0.0-rc.01\"}",
                     "config.json: ociVersion: \"1.0.0-rc.01\" is not a "
                     "SemVer 2.0.0 version");
  expect_spec_error ("{\"ociVersion\":\"1.0.0+a..b\"}",
                     "config.json: ociVersion: \"1.0.0+a..b\" is not a "
                     "SemVer 2.0.0 version");
  expect_spec_error ("{\"ociVersion\":\"1.0.0 \"}",
                     "config.json: ociVersion: \"1.0.0 \" is not a SemVer "
                     "2.0.0 version");
  expect_spec_error ("{\"ociVersion\":\"\"}",
                     "config.json: ociVersion: \"\" is not a SemVer 2.0.0 "
                     "version");
  expect_spec_error ("{\"ociVersion\":\"2.0.0\"}",
                     "config.json: ociVersion: version 2.0.0 is not "
                     "supported: this runtime implements the runtime "
                     "specification 1.x");
  expect_spec_error ("{\"ociVersion\":\"0.6.0\"}",
                     "config.json: ociVersion: version 0.6.0 is not "
                     "supported: this runtime implements the runtime "
                     "specification 1.x");
  {
    static const char *const good[]
        = { "1.0.0",      "1.0.2-dev",     "1.2.0",
            "1.1.0-rc.1", "1.0.0+build.5", "1.0.0-rc5+dev",
            "1.10.100",   "1.0.0-0.3.7",   "1.0.0-x-y-z.--" };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
      {
        char json[128];
        ko_error *err = NULL;
        snprintf (json, sizeof json, "{\"ociVersion\":\"%s\"}", good[i]);
        oci_spec *s
            = oci_spec_parse_data (json, strlen (json), "config.json", &err);
        ok (s != NULL && err == NULL, "ociVersion %s accepted", good[i]);
        oci_spec_free (s);
        ko_error_free (err);
      }
  }

  /* bad JSON */
  expect_spec_error ("", "config.json: invalid JSON: parse error: premature "
                         "EOF");
  expect_spec_error ("{\"ociVersion\": \"1\",",
                     "config.json: invalid JSON: parse error: premature EOF");
  expect_spec_error ("{\"ociVersion\" 1}",
                     "config.json: invalid JSON: parse error: object key and "
                     "value must be separated by a colon (':')");
  expect_spec_error ("{" V "} {}",
                     "config.json: invalid JSON: parse error: trailing "
                     "garbage");
  expect_spec_error ("{\"a\": \"\xc3\x28\"}", "config.json: invalid JSON: "
                                              "lexical error: invalid bytes "
                                              "in UTF8 string");
  expect_spec_error ("{\"a\": \"x\\u0000y\"}",
                     "config.json: invalid JSON: NUL character in a string");
  {
    static const char with_nul[] = "{\"ociVersion\":\"1\0\"}";
    ko_error *err = NULL;
    oci_spec *s = oci_spec_parse_data (with_nul, sizeof with_nul - 1,
                                       "config.json", &err);
    ok (s == NULL, "a NUL byte is rejected");
    is_str (err ? err->msg : NULL,
            "config.json: invalid JSON: NUL byte in the input",
            "NUL byte message");
    ko_error_free (err);
  }
  {
    size_t depth = 100000;
    char *deep = malloc (2 * depth + 1);
    memset (deep, '[', depth);
    memset (deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    memcpy (deep, "{\"a\":", 5);
    expect_spec_error (deep, "config.json: invalid JSON: nesting too deep");
    free (deep);
  }

  /* not an object */
  expect_spec_error ("[]", "config.json: expected an object");
  expect_spec_error ("\"config\"", "config.json: expected an object");
  expect_spec_error ("null", "config.json: expected an object");

  /* each expected-type word */
  expect_spec_error ("{" V ",\"process\":[]}",
                     "config.json: process: expected an object");
  expect_spec_error ("{" V ",\"process\":{\"cwd\":\"/\",\"args\":\"sh\"}}",
                     "config.json: process.args: expected an array of "
                     "strings");
  expect_spec_error ("{" V ",\"process\":{\"cwd\":\"/\",\"args\":[\"sh\",1]}}",
                     "config.json: process.args: expected an array of "
                     "strings");
  expect_spec_error (PROC ("\"terminal\":\"yes\""),
                     "config.json: process.terminal: expected a boolean");
  expect_spec_error ("{" V ",\"mounts\":[{\"destination\":\"/a\"},{"
                     "\"destination\":\"/b\"},{\"destination\":7}]}",
                     "config.json: mounts[2].destination: expected a string");
  expect_spec_error ("{" V ",\"mounts\":{}}",
                     "config.json: mounts: expected an array");
  expect_spec_error ("{" V ",\"mounts\":[\"/proc\"]}",
                     "config.json: mounts[0]: expected an object");
  expect_spec_error ("{" V ",\"linux\":{\"resources\":{\"memory\":{"
                     "\"limit\":\"1G\"}}}}",
                     "config.json: linux.resources.memory.limit: expected an "
                     "integer");
  expect_spec_error ("{" V ",\"linux\":{\"resources\":{\"memory\":{"
                     "\"limit\":1.5}}}}",
                     "config.json: linux.resources.memory.limit: expected an "
                     "integer");
  expect_spec_error ("{" V ",\"linux\":{\"resources\":{\"cpu\":{"
                     "\"shares\":1e3}}}}",
                     "config.json: linux.resources.cpu.shares: expected an "
                     "integer");
  expect_spec_error (PROC ("\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":"
                           "[\"wheel\"]}"),
                     "config.json: process.user.additionalGids: expected an "
                     "array of integers");
  expect_spec_error ("{" V ",\"annotations\":{\"a\":\"b\",\"c\":1}}",
                     "config.json: annotations.c: expected a string");
  expect_spec_error ("{" V ",\"annotations\":[]}",
                     "config.json: annotations: expected an object");
  expect_spec_error ("{" V ",\"linux\":{\"sysctl\":{\"kernel.x\":true}}}",
                     "config.json: linux.sysctl.kernel.x: expected a string");

  /* missing required fields */
  expect_spec_error ("{}", "config.json: ociVersion: missing required field");
  expect_spec_error ("{\"ociVersion\":null}",
                     "config.json: ociVersion: missing required field");
  expect_spec_error ("{" V ",\"process\":{\"args\":[\"sh\"]}}",
                     "config.json: process.cwd: missing required field");
  expect_spec_error ("{" V ",\"process\":{\"cwd\":\"/\"}}",
                     "config.json: process.args: missing required field");
  expect_spec_error ("{" V ",\"process\":{\"cwd\":\"/\",\"args\":[]}}",
                     "config.json: process.args: must not be empty");
  expect_spec_error (PROC ("\"user\":{\"uid\":0}"),
                     "config.json: process.user.gid: missing required field");
  expect_spec_error (PROC ("\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\","
                           "\"soft\":1}]"),
                     "config.json: process.rlimits[0].hard: missing required "
                     "field");
  expect_spec_error ("{" V ",\"mounts\":[{\"type\":\"proc\"}]}",
                     "config.json: mounts[0].destination: missing required "
                     "field");
  expect_spec_error ("{" V ",\"hooks\":{\"poststop\":[{\"args\":[]}]}}",
                     "config.json: hooks.poststop[0].path: missing required "
                     "field");
  expect_spec_error ("{" V ",\"linux\":{\"namespaces\":[{\"path\":\"/x\"}]}}",
                     "config.json: linux.namespaces[0].type: missing required "
                     "field");
  expect_spec_error ("{" V ",\"linux\":{\"devices\":[{\"type\":\"c\"}]}}",
                     "config.json: linux.devices[0].path: missing required "
                     "field");
  expect_spec_error ("{" V ",\"linux\":{\"seccomp\":{}}}",
                     "config.json: linux.seccomp.defaultAction: missing "
                     "required field");
  expect_spec_error ("{" V ",\"linux\":{\"seccomp\":{\"defaultAction\":\"A\","
                     "\"syscalls\":[{\"names\":[\"read\"]}]}}}",
                     "config.json: linux.seccomp.syscalls[0].action: missing "
                     "required field");
  expect_spec_error ("{" V ",\"linux\":{\"uidMappings\":[{\"containerID\":0,"
                     "\"hostID\":1000}]}}",
                     "config.json: linux.uidMappings[0].size: missing "
                     "required field");
  expect_spec_error ("{" V ",\"root\":{\"readonly\":true}}",
                     "config.json: root.path: missing required field");

  /* out of range */
  expect_spec_error (PROC ("\"user\":{\"uid\":4294967296,\"gid\":0}"),
                     "config.json: process.user.uid: value out of range");
  expect_spec_error (PROC ("\"user\":{\"uid\":-1,\"gid\":0}"),
                     "config.json: process.user.uid: value out of range");
  expect_spec_error (PROC ("\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":"
                           "[1,-2]}"),
                     "config.json: process.user.additionalGids[1]: value out "
                     "of range");
  expect_spec_error ("{" V ",\"linux\":{\"resources\":{\"memory\":{"
                     "\"limit\":99999999999999999999999}}}}",
                     "config.json: linux.resources.memory.limit: value out of "
                     "range");
  expect_spec_error ("{" V ",\"linux\":{\"resources\":{\"memory\":{"
                     "\"swappiness\":-1}}}}",
                     "config.json: linux.resources.memory.swappiness: value "
                     "out of range");
  expect_spec_error ("{" V ",\"linux\":{\"resources\":{\"blockIO\":{"
                     "\"weight\":65536}}}}",
                     "config.json: linux.resources.blockIO.weight: value out "
                     "of range");
  expect_spec_error (PROC ("\"oomScoreAdj\":2147483648"),
                     "config.json: process.oomScoreAdj: value out of range");
  expect_spec_error ("{" V ",\"hooks\":{\"prestart\":[{\"path\":\"/h\","
                     "\"timeout\":0}]}}",
                     "config.json: hooks.prestart[0].timeout: value out of "
                     "range");
  expect_spec_error ("{" V ",\"linux\":{\"seccomp\":{\"defaultAction\":\"A\","
                     "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"B\","
                     "\"args\":[{\"index\":0,\"value\":18446744073709551616,"
                     "\"op\":\"SCMP_CMP_EQ\"}]}]}}}",
                     "config.json: linux.seccomp.syscalls[0].args[0].value: "
                     "value out of range");
}

static void
test_lenient (void)
{
  ko_error *err = NULL;
  const char *json
      = "// comments are allowed, like yajl_tree allows them\n"
        "{\"ociVersion\":\"1.0.0\",\"unknown\":{\"deep\":[[[1]]]},"
        "\"hostname\":null,\"process\":{\"cwd\":\"/\",\"args\":[\"a\"],"
        "\"future\":true},\"annotations\":{\"k\":\"1\",\"k\":\"2\"},"
        "\"linux\":{\"resources\":{\"memory\":{\"limit\":-1}}}}";
  oci_spec *s = oci_spec_parse_data (json, strlen (json), "config.json", &err);
  ok (s != NULL, "unknown fields are ignored (%s)", err ? err->msg : "ok");
  if (s == NULL)
    {
      ko_error_free (err);
      return;
    }
  ok (s->hostname == NULL, "null is the same as absent");
  is_str (oci_map_get (&s->annotations, "k"), "2",
          "a repeated key: the last value wins");
  ok (s->linux->resources->memory->has_limit
          && s->linux->resources->memory->limit == -1,
      "memory.limit may be -1");
  ok (!s->linux->resources->memory->has_swap, "absent swap has no flag");
  oci_spec_free (s);

  oci_map m = { 0 };
  oci_map_set (&m, "a", "1");
  oci_map_set (&m, "b", "2");
  oci_map_set (&m, "a", "3");
  ok (m.len == 2, "oci_map_set replaces");
  is_str (oci_map_get (&m, "a"), "3", "oci_map_set value");
  ok (oci_map_get (&m, "c") == NULL, "oci_map_get of an absent key");
  oci_map_clear (&m);
}

/* --- files --- */

static void
test_files (void)
{
  ko_error *err = NULL;
  oci_spec *s = oci_spec_parse_file ("/nonexistent/dir/config.json", &err);
  ok (s == NULL, "missing file");
  is_str (err ? err->msg : NULL,
          "open /nonexistent/dir/config.json: No such file or directory",
          "missing file: message");
  is_int (err ? err->status : 0, ENOENT, "missing file: status ENOENT");
  ko_error_free (err);
  err = NULL;

  s = oci_spec_parse_file (FIXTURES, &err);
  ok (s == NULL, "a directory");
  is_int (err ? err->status : 0, EISDIR, "a directory: status EISDIR");
  ko_error_free (err);
  err = NULL;

  _cleanup_free_ char *empty = fixture ("empty.json");
  s = oci_spec_parse_file (empty, &err);
  ok (s == NULL, "empty file");
  is_str (err ? err->msg : NULL,
          "empty.json: invalid JSON: parse error: premature EOF",
          "empty file is invalid JSON, named by its basename");
  is_int (err ? err->status : 0, EINVAL, "empty file: status EINVAL");
  ko_error_free (err);
  err = NULL;

  _cleanup_free_ char *bad = fixture ("bad-type.json");
  s = oci_spec_parse_file (bad, &err);
  ok (s == NULL, "bad-type.json");
  is_str (err ? err->msg : NULL,
          "bad-type.json: process.args: expected an array of strings",
          "bad-type.json: message");
  ko_error_free (err);
}

/* --- the other documents --- */

static void
test_process (void)
{
  ko_error *err = NULL;
  _cleanup_free_ char *path = fixture ("process.json");
  oci_process *p = oci_process_parse_file (path, &err);
  ok (p != NULL, "parse process.json (%s)", err ? err->msg : "ok");
  if (p == NULL)
    {
      ko_error_free (err);
      return;
    }
  ok (!p->terminal && p->args_len == 2 && p->user->uid == 1000
          && p->user->additional_gids_len == 2 && p->no_new_privileges
          && p->has_oom_score_adj && p->oom_score_adj == -500,
      "process fields");
  is_str (p->cwd, "/home/user", "process cwd");
  ok (p->scheduler && strcmp (p->scheduler->policy, "SCHED_BATCH") == 0
          && p->scheduler->nice == 5 && p->scheduler->flags_len == 1
          && p->scheduler->priority == 0 && p->scheduler->runtime == 0,
      "process scheduler");
  ok (p->io_priority && strcmp (p->io_priority->class, "IOPRIO_CLASS_IDLE") == 0
          && p->io_priority->priority == 0,
      "process ioPriority");
  _cleanup_free_ char *t1 = oci_process_generate (p, &err);
  ok (t1 && strstr (t1, "\"SCHED_FLAG_RESET_ON_FORK\"")
          && strstr (t1, "\"IOPRIO_CLASS_IDLE\""),
      "scheduler and ioPriority generated");
  oci_process *p2 = oci_process_parse_data (t1, strlen (t1), "gen", &err);
  _cleanup_free_ char *t2 = p2 ? oci_process_generate (p2, &err) : NULL;
  is_str (t2, t1, "process round trip");
  oci_process_free (p);
  oci_process_free (p2);

  expect_error ((parse_fn)oci_process_parse_data, (free_fn)oci_process_free,
                "process.json", "{\"args\":[\"sh\"]}",
                "process.json: cwd: missing required field");
  expect_error ((parse_fn)oci_process_parse_data, (free_fn)oci_process_free,
                "process.json",
                "{\"args\":[\"sh\"],\"cwd\":\"/\",\"scheduler\":"
                "{\"policy\":\"SCHED_RR\",\"priority\":\"high\"}}",
                "process.json: scheduler.priority: expected an integer");
  expect_error ((parse_fn)oci_process_parse_data, (free_fn)oci_process_free,
                "process.json",
                "{\"args\":[\"sh\"],\"cwd\":\"/\",\"ioPriority\":"
                "{\"priority\":1}}",
                "process.json: ioPriority.class: missing required field");
  expect_error ((parse_fn)oci_process_parse_data, (free_fn)oci_process_free,
                "process.json", "{\"cwd\":\"/\",\"args\":[]}",
                "process.json: args: must not be empty");
  expect_error ((parse_fn)oci_process_parse_data, (free_fn)oci_process_free,
                "process.json",
                "{\"cwd\":\"/\",\"args\":[\"a\"],\"consoleSize\":{\"height\":"
                "1}}",
                "process.json: consoleSize.width: missing required field");
}

static void
test_state (void)
{
  ko_error *err = NULL;
  _cleanup_free_ char *path = fixture ("state.json");
  oci_state *st = oci_state_parse_file (path, &err);
  ok (st != NULL, "parse state.json (%s)", err ? err->msg : "ok");
  if (st == NULL)
    {
      ko_error_free (err);
      return;
    }
  is_str (st->id, "oci-container1", "state id");
  is_str (st->status, "running", "state status");
  ok (st->has_pid && st->pid == 4422, "state pid");
  is_str (st->bundle, "/containers/redis", "state bundle");
  is_str (oci_map_get (&st->annotations, "myKey"), "myValue",
          "state annotations");
  _cleanup_free_ char *t1 = oci_state_generate (st, &err);
  oci_state *st2 = oci_state_parse_data (t1, strlen (t1), "gen", &err);
  _cleanup_free_ char *t2 = st2 ? oci_state_generate (st2, &err) : NULL;
  is_str (t2, t1, "state round trip");
  oci_state_free (st);
  oci_state_free (st2);

  oci_state built = { .oci_version = "1.2.0",
                      .id = "c1",
                      .status = "created",
                      .has_pid = true,
                      .pid = 7,
                      .bundle = "/b" };
  _cleanup_free_ char *t3 = oci_state_generate (&built, &err);
  is_str (t3,
          "{\n\t\"ociVersion\": \"1.2.0\",\n\t\"id\": \"c1\",\n\t\"status\": "
          "\"created\",\n\t\"pid\": 7,\n\t\"bundle\": \"/b\"\n}\n",
          "state generate text");

  expect_error ((parse_fn)oci_state_parse_data, (free_fn)oci_state_free,
                "state.json", "{\"ociVersion\":\"1.2.0\",\"status\":\"x\"}",
                "state.json: id: missing required field");
  expect_error ((parse_fn)oci_state_parse_data, (free_fn)oci_state_free,
                "state.json",
                "{\"ociVersion\":\"1.2.0\",\"id\":\"a\",\"status\":\"x\","
                "\"pid\":-5}",
                "state.json: pid: value out of range");
}

static void
test_resources (void)
{
  ko_error *err = NULL;
  const char *json = "{\"memory\":{\"limit\":134217728,\"swap\":268435456}}";
  oci_linux_resources *r = oci_linux_resources_parse_data (
      json, strlen (json), "resources.json", &err);
  ok (r && r->memory && r->memory->has_limit && r->memory->limit == 134217728
          && r->memory->has_swap && r->memory->swap == 268435456
          && !r->memory->has_reservation,
      "resources: memory limit and swap");
  ok (r && r->cpu == NULL && !r->has_pids_limit, "resources: nothing else");
  oci_linux_resources_free (r);

  _cleanup_free_ char *path = fixture ("resources.json");
  r = oci_linux_resources_parse_file (path, &err);
  ok (r && r->cpu && r->cpu->shares == 512 && r->cpu->quota == -1
          && r->has_pids_limit && r->pids_limit == -1,
      "resources.json: cpu and pids");
  _cleanup_free_ char *t1 = r ? oci_linux_resources_generate (r, &err) : NULL;
  oci_linux_resources *r2
      = t1 ? oci_linux_resources_parse_data (t1, strlen (t1), "gen", &err)
           : NULL;
  _cleanup_free_ char *t2 = r2 ? oci_linux_resources_generate (r2, &err) : NULL;
  is_str (t2, t1, "resources round trip");
  oci_linux_resources_free (r);
  oci_linux_resources_free (r2);

  expect_error ((parse_fn)oci_linux_resources_parse_data,
                (free_fn)oci_linux_resources_free, "resources.json",
                "{\"pids\":{\"limit\":\"max\"}}",
                "resources.json: pids.limit: expected an integer");
  expect_error ((parse_fn)oci_linux_resources_parse_data,
                (free_fn)oci_linux_resources_free, "resources.json",
                "{\"memory\":5}", "resources.json: memory: expected an object");
}

static void
test_features (void)
{
  ko_error *err = NULL;
  oci_features *f = oci_features_new (&err);
  ok (f && f->linux && f->linux->seccomp && f->hooks_len == 6, "features: new");
  oci_map_set (&f->annotations, "org.opencontainers.runc.version", "none");
  _cleanup_free_ char *t1 = oci_features_generate (f, &err);
  ok (t1 && strstr (t1, "\"ociVersionMax\": \"" OCI_VERSION "\""),
      "features: generate");
  ok (t1 && strstr (t1, "\"mountExtensions\": {\n\t\t\t\"idmap\""),
      "features: mountExtensions.idmap");
  oci_features *f2 = oci_features_parse_data (t1, strlen (t1), "gen", &err);
  _cleanup_free_ char *t2 = f2 ? oci_features_generate (f2, &err) : NULL;
  is_str (t2, t1, "features round trip");
  oci_features_free (f);
  oci_features_free (f2);

  expect_error ((parse_fn)oci_features_parse_data, (free_fn)oci_features_free,
                "features.json", "{\"ociVersionMin\":\"1.0.0\"}",
                "features.json: ociVersionMax: missing required field");
}

int
main (void)
{
  test_example ();
  test_default ();
  test_errors ();
  test_lenient ();
  test_files ();
  test_process ();
  test_state ();
  test_resources ();
  test_features ();
  return tap_done ();
}
