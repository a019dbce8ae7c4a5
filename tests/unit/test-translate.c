/* config.json -> what the agent is sent: capabilities, seccomp (compiled and
 * run in a child), mounts, namespaces, sysctl, devices, and every error. */
#include "config.h"

#include "cgroup.h"
#include "hypervisor.h"
#include "monitor.h"
#include "network.h"
#include "oci.h"
#include "policy.h"
#include "tap.h"
#include "translate.h"
#include "blockdev.h"
#include "hostpath.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

static char bundle[] = "/tmp/kot-unit.XXXXXX";

struct result
{
  struct ko_process proc;
  struct ko_buf tlv;
  struct share_bind *binds;
  size_t nbinds;
  struct ko_disks disks;
  char *err;
};

static void
result_clear (struct result *r)
{
  ko_process_clear (&r->proc);
  ko_buf_free (&r->tlv);
  for (size_t i = 0; i < r->nbinds; i++)
    {
      free (r->binds[i].source);
      free (r->binds[i].dest);
      free (r->binds[i].ctr_dest);
    }
  free (r->binds);
  ko_disks_clear (&r->disks);
  free (r->err);
  memset (r, 0, sizeof *r);
}

/* translate_container's host_devices (KATA_OCI_PRIVILEGED_HOST_DEVICES) */
static bool opt_host_devices;

/* Translates a config.json made of the minimal spec plus extra top-level
 * members (",\"mounts\": [...]") and process members. */
static int
translate (const char *proc_extra, const char *extra, struct result *r)
{
  char *json = NULL;
  memset (r, 0, sizeof *r);
  if (asprintf (&json,
                "{\"ociVersion\": \"1.2.0\", \"process\": {\"args\": "
                "[\"sh\"], \"cwd\": \"/\"%s}, \"root\": {\"path\": "
                "\"rootfs\"}%s}",
                proc_extra ? proc_extra : "", extra ? extra : "")
      < 0)
    abort ();
  ko_error *err = NULL;
  oci_spec *spec
      = oci_spec_parse_data (json, strlen (json), "config.json", &err);
  free (json);
  int rc = -1;
  if (spec && translate_process (spec->process, &r->proc, &err) == 0
      && translate_seccomp (spec, &r->proc, &err) == 0
      && translate_container (spec, bundle, "ctr", opt_host_devices, NULL,
                              &r->tlv, &r->binds, &r->nbinds, &r->disks, &err)
             == 0)
    rc = 0;
  if (err)
    r->err = strdup (err->msg);
  ko_error_free (err);
  oci_spec_free (spec);
  return rc;
}

static void
expect_error (const char *proc_extra, const char *extra, const char *want,
              const char *what)
{
  struct result r;
  int rc = translate (proc_extra, extra, &r);
  ok (rc < 0, "%s: fails", what);
  ok (r.err && strstr (r.err, want), "%s: message", what);
  if (!(r.err && strstr (r.err, want)))
    printf ("#   got  \"%s\"\n#   want \"...%s...\"\n",
            r.err ? r.err : "(none)", want);
  result_clear (&r);
}

/* ---- TLV helpers ---- */

static int
count_tag (const struct ko_buf *b, uint16_t tag)
{
  struct ko_tlv t = { b->data, b->len };
  struct ko_field f;
  int n = 0;
  while (ko_tlv_next (&t, &f) > 0)
    n += f.tag == tag;
  return n;
}

static int
find_u64 (const struct ko_buf *b, uint16_t tag, uint64_t *v)
{
  struct ko_tlv t = { b->data, b->len };
  struct ko_field f;
  while (ko_tlv_next (&t, &f) > 0)
    if (f.tag == tag)
      return ko_field_u64 (&f, v);
  return -1;
}

/* The nth MOUNT's field (string into *s or u64 into *v). */
static int
mount_field (const struct ko_buf *b, int nth, uint16_t tag, char **s,
             uint64_t *v)
{
  struct ko_tlv t = { b->data, b->len };
  struct ko_field f;
  while (ko_tlv_next (&t, &f) > 0)
    {
      if (f.tag != KO_TAG_MOUNT || nth-- > 0)
        continue;
      struct ko_tlv m = ko_field_nested (&f);
      struct ko_field g;
      while (ko_tlv_next (&m, &g) > 0)
        if (g.tag == tag)
          return s ? ko_field_str (&g, s) : ko_field_u64 (&g, v);
      return -1;
    }
  return -1;
}

/* ---- process ---- */

static void
test_caps (void)
{
  struct result r;
  int rc = translate (", \"capabilities\": {\"bounding\": [\"CAP_KILL\", "
                      "\"CAP_SYS_ADMIN\"], \"effective\": [\"CAP_KILL\"], "
                      "\"inheritable\": [\"CAP_CHOWN\"], \"permitted\": "
                      "[\"CAP_KILL\"], \"ambient\": [\"CAP_NET_RAW\"]}",
                      NULL, &r);
  is_int (rc, 0, "caps: translated");
  ok (r.proc.has_caps, "caps: sent");
  is_int (r.proc.caps[0], (1ull << 5) | (1ull << 21), "caps: bounding mask");
  is_int (r.proc.caps[1], 1ull << 5, "caps: effective mask");
  is_int (r.proc.caps[2], 1ull << 0, "caps: inheritable mask");
  is_int (r.proc.caps[3], 1ull << 5, "caps: permitted mask");
  is_int (r.proc.caps[4], 0,
          "caps: ambient NET_RAW, neither permitted nor inheritable, is not "
          "sent");
  result_clear (&r);

  /* runc spec: ambient with no inheritable set; runc starts it */
  const char *runc_caps = "\"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
                          "\"CAP_NET_BIND_SERVICE\"], \"effective\": "
                          "[\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
                          "\"CAP_NET_BIND_SERVICE\"], \"permitted\": "
                          "[\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
                          "\"CAP_NET_BIND_SERVICE\"], \"ambient\": "
                          "[\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
                          "\"CAP_NET_BIND_SERVICE\"]";
  char json[1024];
  snprintf (json, sizeof json, ", \"capabilities\": {%s}", runc_caps);
  is_int (translate (json, NULL, &r), 0, "caps: runc spec's set translates");
  is_int (r.proc.caps[3], (1ull << 29) | (1ull << 5) | (1ull << 10),
          "caps: runc spec's permitted set");
  is_int (r.proc.caps[4], 0,
          "caps: without inheritable, no ambient capability is sent");
  result_clear (&r);
  snprintf (json, sizeof json,
            ", \"capabilities\": {%s, \"inheritable\": [\"CAP_KILL\"]}",
            runc_caps);
  is_int (translate (json, NULL, &r), 0, "caps: runc spec's set + KILL");
  is_int (r.proc.caps[4], 1ull << 5,
          "caps: the ambient ones also inheritable and permitted are sent");
  result_clear (&r);

  translate (NULL, NULL, &r);
  ok (!r.proc.has_caps, "caps: absent means untouched");
  result_clear (&r);

  expect_error (", \"capabilities\": {\"bounding\": [\"CAP_KILL\", "
                "\"CAP_CHOWN\", \"CAP_BOGUS\"]}",
                NULL,
                "config.json: process.capabilities.bounding[2]: unknown "
                "capability \"CAP_BOGUS\"",
                "caps: unknown name");
  expect_error (", \"capabilities\": {\"ambient\": [\"21\"]}", NULL,
                "process.capabilities.ambient[0]: unknown capability \"21\"",
                "caps: a number is not a name");
  expect_error (", \"capabilities\": {\"effective\": [\"sys_admin\"]}", NULL,
                "process.capabilities.effective[0]: unknown capability",
                "caps: a name without CAP_");
}

static void
test_process_errors (void)
{
  {
    ko_error *e = NULL;
    const char *j1 = "{\"cpu\": {\"idle\": 2}}";
    oci_linux_resources *lr
        = oci_linux_resources_parse_data (j1, strlen (j1), "resources", &e);
    ok (lr && translate_check_resources (lr, "update", &e) < 0 && e
            && strstr (e->msg, "update: cpu.idle: 2: expected 0 or 1"),
        "cpu.idle other than 0 or 1 fails");
    ko_error_free (e);
    e = NULL;
    oci_linux_resources_free (lr);
    const char *j2 = "{\"cpu\": {\"idle\": 1, \"burst\": 5000}}";
    lr = oci_linux_resources_parse_data (j2, strlen (j2), "resources", &e);
    struct ko_resources kr;
    ok (lr && translate_check_resources (lr, "update", &e) == 0
            && translate_resources_fill (lr, &kr) == 0
            && KO_R_HAS (&kr, CPU_IDLE) && KO_R_V (&kr, CPU_IDLE) == 1
            && KO_R_HAS (&kr, CPU_BURST) && KO_R_V (&kr, CPU_BURST) == 5000,
        "cpu.idle and cpu.burst are sent");
    if (lr)
      ko_resources_clear (&kr);
    ko_error_free (e);
    oci_linux_resources_free (lr);
  }
  expect_error (", \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 8, "
                "\"hard\": 8}, {\"type\": \"RLIMIT_CORE\", \"soft\": 0, "
                "\"hard\": 0}, {\"type\": \"RLIMIT_NOFILE\", \"soft\": 9, "
                "\"hard\": 9}]",
                NULL,
                "config.json: process.rlimits[2]: RLIMIT_NOFILE again (also "
                "rlimits[0])",
                "rlimit type twice");
  expect_error (", \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": "
                "18446744073709551615, \"hard\": 18446744073709551615}]",
                NULL,
                "config.json: process.rlimits[0]: RLIMIT_NOFILE hard limit "
                "18446744073709551615 is above the guest's fs.nr_open "
                "(1048576)",
                "RLIMIT_NOFILE above nr_open");
  {
    struct result r;
    ok (translate (", \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", "
                   "\"soft\": 1048576, \"hard\": 1048576}]",
                   NULL, &r)
            == 0,
        "RLIMIT_NOFILE at nr_open is fine");
    result_clear (&r);
  }
  expect_error (", \"env\": [\"PATH=/bin\", \"NOVALUE\"]", NULL,
                "config.json: process.env[1]: \"NOVALUE\" is not NAME=VALUE",
                "env entry without =");
  expect_error (", \"env\": [\"=x\"]", NULL,
                "config.json: process.env[0]: \"=x\" is not NAME=VALUE (the "
                "name is empty)",
                "env entry without a name");
  {
    struct result r;
    ok (translate (", \"env\": [\"EMPTY=\", \"A=b=c\"]", NULL, &r) == 0,
        "env: an empty value and a value with = are fine");
    result_clear (&r);
  }
  expect_error (", \"oomScoreAdj\": 1001", NULL,
                "config.json: process.oomScoreAdj: 1001 is outside -1000 to "
                "1000",
                "oomScoreAdj out of range");
  expect_error (", \"rlimits\": [{\"type\": \"RLIMIT_BOGUS\", \"soft\": 1, "
                "\"hard\": 1}]",
                NULL,
                "config.json: process.rlimits[0].type: unknown rlimit "
                "\"RLIMIT_BOGUS\"",
                "rlimit unknown");
  /* process.scheduler and process.ioPriority (runtime-spec 1.2) */
  static const struct
  {
    const char *extra, *msg;
  } sched_bad[] = {
    { ", \"scheduler\": {\"policy\": \"SCHED_BOGUS\"}",
      "config.json: process.scheduler.policy: unknown policy \"SCHED_BOGUS\"" },
    { ", \"scheduler\": {\"policy\": \"SCHED_ISO\"}",
      "config.json: process.scheduler.policy: SCHED_ISO is not implemented "
      "by Linux" },
    { ", \"scheduler\": {\"policy\": \"SCHED_OTHER\", \"nice\": 20}",
      "config.json: process.scheduler.nice: 20 is outside -20 to 19" },
    { ", \"scheduler\": {\"policy\": \"SCHED_BATCH\", \"priority\": 5}",
      "config.json: process.scheduler.priority: 5: only SCHED_FIFO and "
      "SCHED_RR take one" },
    { ", \"scheduler\": {\"policy\": \"SCHED_FIFO\"}",
      "config.json: process.scheduler.priority: 0: SCHED_FIFO and SCHED_RR "
      "take 1 to 99" },
    { ", \"scheduler\": {\"policy\": \"SCHED_RR\", \"priority\": 100}",
      "config.json: process.scheduler.priority: 100: SCHED_FIFO and "
      "SCHED_RR take 1 to 99" },
    { ", \"scheduler\": {\"policy\": \"SCHED_IDLE\", \"runtime\": 1000}",
      "config.json: process.scheduler: runtime, deadline and period are "
      "SCHED_DEADLINE's only" },
    { ", \"scheduler\": {\"policy\": \"SCHED_OTHER\", \"flags\": "
      "[\"SCHED_FLAG_NOPE\"]}",
      "config.json: process.scheduler.flags[0]: unknown flag "
      "\"SCHED_FLAG_NOPE\"" },
    { ", \"scheduler\": {\"policy\": \"SCHED_OTHER\", \"flags\": "
      "[\"SCHED_FLAG_RECLAIM\", \"SCHED_FLAG_UTIL_CLAMP_MIN\"]}",
      "config.json: process.scheduler.flags[1]: SCHED_FLAG_UTIL_CLAMP_MIN "
      "needs a utilization value" },
    { ", \"scheduler\": {\"nice\": 1}",
      "config.json: process.scheduler.policy: missing required field" },
    { ", \"ioPriority\": {\"class\": \"IOPRIO_CLASS_NONE\"}",
      "config.json: process.ioPriority.class: unknown class "
      "\"IOPRIO_CLASS_NONE\"" },
    { ", \"ioPriority\": {\"class\": \"IOPRIO_CLASS_BE\", \"priority\": 8}",
      "config.json: process.ioPriority.priority: 8 is outside 0 to 7" },
    { ", \"ioPriority\": {\"class\": \"IOPRIO_CLASS_BE\", \"priority\": "
      "-1}",
      "config.json: process.ioPriority.priority: -1 is outside 0 to 7" },
  };
  for (size_t i = 0; i < sizeof sched_bad / sizeof sched_bad[0]; i++)
    expect_error (sched_bad[i].extra, NULL, sched_bad[i].msg,
                  sched_bad[i].msg + 13);
  struct result r;
  int rc = translate (", \"scheduler\": {\"policy\": \"SCHED_DEADLINE\", "
                      "\"flags\": [\"SCHED_FLAG_RESET_ON_FORK\", "
                      "\"SCHED_FLAG_DL_OVERRUN\"], \"runtime\": 1000000, "
                      "\"deadline\": 2000000, \"period\": 3000000}, "
                      "\"ioPriority\": {\"class\": \"IOPRIO_CLASS_RT\", "
                      "\"priority\": 3}",
                      NULL, &r);
  is_int (rc, 0, "scheduler, ioPriority: translated");
  ok (r.proc.sched.size == 48 && r.proc.sched.policy == 6
          && r.proc.sched.flags == 0x5 && r.proc.sched.runtime == 1000000
          && r.proc.sched.deadline == 2000000 && r.proc.sched.period == 3000000,
      "SCHED_DEADLINE sent as sched_setattr's attributes");
  ok (r.proc.has_ioprio && r.proc.ioprio == (1u << 13 | 3),
      "IOPRIO_CLASS_RT 3 sent as ioprio_set's value");
  result_clear (&r);
  rc = translate (", \"scheduler\": {\"policy\": \"SCHED_RR\", "
                  "\"priority\": 99, \"nice\": -20}",
                  NULL, &r);
  is_int (rc, 0, "SCHED_RR: translated");
  ok (r.proc.sched.policy == 2 && r.proc.sched.priority == 99
          && r.proc.sched.nice == -20 && !r.proc.has_ioprio,
      "SCHED_RR 99 nice -20 sent, no ioPriority");
  result_clear (&r);
  rc = translate (NULL, NULL, &r);
  ok (rc == 0 && r.proc.sched.size == 0 && !r.proc.has_ioprio,
      "no scheduler, no ioPriority: none sent");
  result_clear (&r);
  rc = translate (", \"oomScoreAdj\": -500, \"noNewPrivileges\": true, "
                  "\"user\": {\"uid\": 1000, \"gid\": 100, \"umask\": 63, "
                  "\"additionalGids\": [5, 6]}",
                  NULL, &r);
  is_int (rc, 0, "process fields: translated");
  ok (r.proc.has_oom_score_adj && r.proc.oom_score_adj == -500,
      "oomScoreAdj sent");
  ok (r.proc.no_new_privs, "noNewPrivileges sent");
  ok (r.proc.uid == 1000 && r.proc.gid == 100 && r.proc.nadd_gids == 2
          && r.proc.has_umask && r.proc.umask == 63,
      "user sent");
  result_clear (&r);
}

/* ---- seccomp ---- */

/* Installs the compiled filter in a child and reports what getpgid(arg)
 * returned there (arg1 goes in the unused second argument): 0 (success),
 * else the errno. */
static int
run_filter2 (const struct ko_process *p, long arg, long arg1)
{
  int pfd[2];
  if (pipe (pfd) < 0)
    return -1;
  pid_t pid = fork ();
  if (pid == 0)
    {
      struct sock_fprog prog
          = { .len = p->seccomp_len / 8, .filter = (void *)p->seccomp };
      int e = 0;
      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0
          || syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        e = 1000;
      else if (syscall (SYS_getpgid, arg, arg1) < 0)
        e = errno;
      if (write (pfd[1], &e, sizeof e) < 0)
        _exit (1);
      _exit (0);
    }
  close (pfd[1]);
  int e = -1;
  if (read (pfd[0], &e, sizeof e) != sizeof e)
    e = -1;
  close (pfd[0]);
  waitpid (pid, NULL, 0);
  return e;
}

static int
run_filter (const struct ko_process *p, long arg)
{
  return run_filter2 (p, arg, 0);
}

static void
filter_case (const char *args, long match, long nomatch, const char *what)
{
  char *extra = NULL;
  if (asprintf (&extra,
                ", \"linux\": {\"seccomp\": {\"defaultAction\": "
                "\"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
                "[\"getpgid\"], \"action\": \"SCMP_ACT_ERRNO\", "
                "\"errnoRet\": %d, \"args\": [%s]}]}}",
                ENOMSG, args)
      < 0)
    abort ();
  struct result r;
  int rc = translate (NULL, extra, &r);
  free (extra);
  is_int (rc, 0, "seccomp %s: compiles", what);
  if (rc == 0)
    {
      is_int (run_filter (&r.proc, match), ENOMSG, "seccomp %s: matches", what);
      is_int (run_filter (&r.proc, nomatch), ESRCH,
              "seccomp %s: does not match", what);
    }
  result_clear (&r);
}

#define SECCOMP_WITH(body) ", \"linux\": {\"seccomp\": {" body "}}"

/* Profiles runc accepts, with runc's meaning (see add_syscall_rules). */
static void
test_seccomp_as_runc (void)
{
  struct result r;
  /* CRI-O's default profile: clone fails when any of 7 namespace flags is
   * set, 7 conditions on argument 0 */
  char args[1024] = "";
  for (int b = 24; b <= 30; b++)
    snprintf (args + strlen (args), sizeof args - strlen (args),
              "%s{\"index\": 0, \"value\": %d, \"valueTwo\": %d, \"op\": "
              "\"SCMP_CMP_MASKED_EQ\"}",
              b > 24 ? ", " : "", 1 << b, 1 << b);
  char *extra = NULL;
  if (asprintf (&extra,
                SECCOMP_WITH ("\"defaultAction\": \"SCMP_ACT_ALLOW\", "
                              "\"architectures\": [\"SCMP_ARCH_X86_64\", "
                              "\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"], "
                              "\"syscalls\": [{\"names\": [\"getpgid\"], "
                              "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": "
                              "%d, \"args\": [%s]}]"),
                ENOMSG, args)
      < 0)
    abort ();
  int rc = translate (NULL, extra, &r);
  free (extra);
  is_int (rc, 0, "seccomp: 7 conditions on one argument compile");
  if (rc == 0)
    {
      bool all = true;
      for (int b = 24; b <= 30; b++)
        all = all && run_filter (&r.proc, (1L << b) | 1) == ENOMSG;
      ok (all, "seccomp 7 conditions: each one matches alone");
      is_int (run_filter (&r.proc, 0xffffff), ESRCH,
              "seccomp 7 conditions: none holds, no match");
    }
  result_clear (&r);

  /* once one argument has several conditions, a condition on another
   * argument is one more alternative, not a further requirement */
  rc = translate (
      NULL,
      SECCOMP_WITH ("\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
                    "[{\"names\": [\"getpgid\"], \"action\": "
                    "\"SCMP_ACT_ERRNO\", \"errnoRet\": 42, \"args\": "
                    "[{\"index\": 0, \"value\": 4000000, \"op\": "
                    "\"SCMP_CMP_EQ\"}, {\"index\": 0, \"value\": 4000002, "
                    "\"op\": \"SCMP_CMP_EQ\"}, {\"index\": 1, \"value\": 5, "
                    "\"op\": \"SCMP_CMP_EQ\"}]}]"),
      &r);
  is_int (rc, 0, "seccomp: mixed conditions compile");
  if (rc == 0)
    {
      is_int (run_filter2 (&r.proc, 4000000, 0), ENOMSG,
              "seccomp mixed: the repeated argument's first value matches");
      is_int (run_filter2 (&r.proc, 4000001, 5), ENOMSG,
              "seccomp mixed: the other argument's condition alone matches");
      is_int (run_filter2 (&r.proc, 4000001, 0), ESRCH,
              "seccomp mixed: no condition holds, no match");
    }
  result_clear (&r);

  /* errnoRet keeps its low 16 bits */
  rc = translate (NULL,
                  SECCOMP_WITH ("\"defaultAction\": \"SCMP_ACT_ERRNO\", "
                                "\"defaultErrnoRet\": 65537, \"syscalls\": "
                                "[{\"names\": [\"write\", \"exit\", "
                                "\"exit_group\"], \"action\": "
                                "\"SCMP_ACT_ALLOW\"}]"),
                  &r);
  is_int (rc, 0, "seccomp: errnoRet above 16 bits compiles");
  if (rc == 0)
    is_int (run_filter (&r.proc, 1), 1,
            "seccomp: errnoRet 65537 fails the syscall with errno 1");
  result_clear (&r);
  expect_error (NULL,
                SECCOMP_WITH ("\"defaultAction\": \"SCMP_ACT_ERRNO\", "
                              "\"defaultErrnoRet\": 70000"),
                "linux.seccomp.defaultAction: errnoRet 70000 is out of range",
                "seccomp errno out of range");
  expect_error (NULL,
                SECCOMP_WITH ("\"defaultAction\": \"SCMP_ACT_ALLOW\", "
                              "\"syscalls\": [{\"names\": [\"read\"], "
                              "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": "
                              "4095}]"),
                "linux.seccomp.syscalls[0].action: errnoRet 4095 is out of "
                "range",
                "seccomp rule errno out of range");

  /* what runc leaves out before it looks at the argument indexes */
  const char *accepted[][2] = {
    { "\"syscalls\": [{\"names\": [\"getpgid\"], \"action\": "
      "\"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 9, \"value\": 1, "
      "\"op\": \"SCMP_CMP_EQ\"}]}]",
      "a rule with the default action and a bad index" },
    { "\"syscalls\": [{\"names\": [\"no_such_syscall\"], \"action\": "
      "\"SCMP_ACT_KILL\", \"args\": [{\"index\": 9, \"value\": 1, "
      "\"op\": \"SCMP_CMP_EQ\"}]}]",
      "an unknown syscall with a bad index" },
    { "\"syscalls\": [{\"names\": [], \"action\": \"SCMP_ACT_KILL\", "
      "\"args\": [{\"index\": 9, \"value\": 1, \"op\": \"SCMP_CMP_ABOUT\"}]}]",
      "a rule naming no syscall" },
  };
  for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++)
    {
      if (asprintf (&extra,
                    SECCOMP_WITH ("\"defaultAction\": \"SCMP_ACT_ALLOW\", %s"),
                    accepted[i][0])
          < 0)
        abort ();
      rc = translate (NULL, extra, &r);
      free (extra);
      is_int (rc, 0, "seccomp: %s compiles, as in runc", accepted[i][1]);
      result_clear (&r);
    }

  /* ... and what it checks before */
  expect_error (NULL,
                SECCOMP_WITH ("\"defaultAction\": \"SCMP_ACT_ALLOW\", "
                              "\"syscalls\": [{\"names\": [\"read\"], "
                              "\"action\": \"SCMP_ACT_ALLOW\", \"args\": "
                              "[{\"index\": 0, \"value\": 1, \"op\": "
                              "\"SCMP_CMP_ABOUT\"}]}]"),
                "config.json: linux.seccomp.syscalls[0].args[0].op: unknown "
                "operator \"SCMP_CMP_ABOUT\"",
                "seccomp unknown operator in a rule with the default action");
  expect_error (NULL,
                SECCOMP_WITH ("\"defaultAction\": \"SCMP_ACT_ALLOW\", "
                              "\"syscalls\": [{\"names\": [\"getpgid\"], "
                              "\"action\": \"SCMP_ACT_ERRNO\", \"args\": "
                              "[{\"index\": 0, \"value\": 1, \"op\": "
                              "\"SCMP_CMP_EQ\"}, {\"index\": 0, \"value\": 2, "
                              "\"op\": \"SCMP_CMP_EQ\"}, {\"index\": 7, "
                              "\"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]"),
                "config.json: linux.seccomp.syscalls[0].args[2].index: 7 is "
                "not a syscall argument",
                "seccomp bad index among repeated conditions");

  /* any number of conditions, but not a filter the kernel refuses */
  struct ko_buf many = { 0 };
  const char *head = ", \"linux\": {\"seccomp\": {\"defaultAction\": "
                     "\"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
                     "[\"getpgid\"], \"action\": \"SCMP_ACT_ERRNO\", "
                     "\"args\": [";
  ko_buf_append (&many, head, strlen (head));
  for (int i = 0; i < 5000; i++)
    {
      char c[96];
      int n = snprintf (c, sizeof c,
                        "%s{\"index\": 0, \"value\": %d, \"op\": "
                        "\"SCMP_CMP_EQ\"}",
                        i ? ", " : "", 5000000 + i);
      ko_buf_append (&many, c, (size_t)n);
    }
  ko_buf_append (&many, "]}]}}", 6);
  expect_error (NULL, (const char *)many.data,
                "config.json: linux.seccomp: the filter compiles to ",
                "seccomp: 5000 conditions make too long a filter");
  ko_buf_free (&many);
}

static void
test_seccomp (void)
{
  struct result r;
  int rc = translate (NULL,
                      ", \"linux\": {\"seccomp\": {\"defaultAction\": "
                      "\"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38, "
                      "\"architectures\": [\"SCMP_ARCH_X86_64\", "
                      "\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"], \"flags\": "
                      "[\"SECCOMP_FILTER_FLAG_LOG\"], \"syscalls\": "
                      "[{\"names\": [\"read\", \"write\", \"exit\", "
                      "\"exit_group\", \"no_such_syscall\"], \"action\": "
                      "\"SCMP_ACT_ALLOW\"}]}}",
                      &r);
  is_int (rc, 0, "seccomp default errno: compiles");
  ok (r.proc.seccomp_len > 0 && r.proc.seccomp_len % 8 == 0,
      "seccomp: BPF bytes");
  is_int (r.proc.seccomp_flags, 2, "seccomp: SECCOMP_FILTER_FLAG_LOG");
  if (rc == 0)
    is_int (run_filter (&r.proc, 1), 38, "seccomp: defaultErrnoRet applies");
  result_clear (&r);

  /* ERRNO without errnoRet is EPERM */
  rc = translate (NULL,
                  ", \"linux\": {\"seccomp\": {\"defaultAction\": "
                  "\"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
                  "[\"getpgid\"], \"action\": \"SCMP_ACT_ERRNO\"}]}}",
                  &r);
  if (rc == 0)
    is_int (run_filter (&r.proc, 1), EPERM, "seccomp: ERRNO defaults to EPERM");
  result_clear (&r);

  filter_case ("{\"index\": 0, \"value\": 4000000, \"op\": \"SCMP_CMP_EQ\"}",
               4000000, 4000001, "SCMP_CMP_EQ");
  filter_case ("{\"index\": 0, \"value\": 4000000, \"op\": \"SCMP_CMP_NE\"}",
               4000001, 4000000, "SCMP_CMP_NE");
  filter_case ("{\"index\": 0, \"value\": 4000000, \"op\": \"SCMP_CMP_LT\"}",
               3999999, 4000000, "SCMP_CMP_LT");
  filter_case ("{\"index\": 0, \"value\": 4000000, \"op\": \"SCMP_CMP_LE\"}",
               4000000, 4000001, "SCMP_CMP_LE");
  filter_case ("{\"index\": 0, \"value\": 4000000, \"op\": \"SCMP_CMP_GE\"}",
               4000000, 3999999, "SCMP_CMP_GE");
  filter_case ("{\"index\": 0, \"value\": 4000000, \"op\": \"SCMP_CMP_GT\"}",
               4000001, 4000000, "SCMP_CMP_GT");
  filter_case ("{\"index\": 0, \"value\": 240, \"valueTwo\": 16, \"op\": "
               "\"SCMP_CMP_MASKED_EQ\"}",
               0x400010, 0x400030, "SCMP_CMP_MASKED_EQ");
  filter_case ("{\"index\": 0, \"value\": 4000000, \"op\": \"SCMP_CMP_EQ\"}, "
               "{\"index\": 0, \"value\": 4000002, \"op\": \"SCMP_CMP_EQ\"}",
               4000002, 4000001, "two conditions on one argument (either)");
  filter_case ("{\"index\": 0, \"value\": 4000000, \"op\": \"SCMP_CMP_GE\"}, "
               "{\"index\": 1, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}",
               4000000, 3000000, "conditions on two arguments (both)");

  expect_error (NULL,
                SECCOMP_WITH ("\"defaultAction\": \"SCMP_ACT_ALLOW\", "
                              "\"listenerPath\": \"/run/agent.sock\""),
                "config.json: linux.seccomp.listenerPath: seccomp agents are "
                "not supported",
                "seccomp listenerPath");
  expect_error (NULL, SECCOMP_WITH ("\"defaultAction\": \"SCMP_ACT_BOGUS\""),
                "config.json: linux.seccomp.defaultAction: unknown seccomp "
                "action \"SCMP_ACT_BOGUS\"",
                "seccomp unknown default action");
  expect_error (NULL, SECCOMP_WITH ("\"defaultAction\": \"SCMP_ACT_NOTIFY\""),
                "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY needs a "
                "seccomp agent",
                "seccomp notify");
  expect_error (
      NULL,
      SECCOMP_WITH ("\"defaultAction\": \"SCMP_ACT_ALLOW\", "
                    "\"syscalls\": [{\"names\": [\"read\"], "
                    "\"action\": \"SCMP_ACT_KILL\"}, {\"names\": "
                    "[\"read\"], \"action\": \"SCMP_ACT_SOMETIMES\"}]"),
      "config.json: linux.seccomp.syscalls[1].action: unknown "
      "seccomp action \"SCMP_ACT_SOMETIMES\"",
      "seccomp unknown rule action");
  expect_error (NULL,
                SECCOMP_WITH ("\"defaultAction\": \"SCMP_ACT_ALLOW\", "
                              "\"syscalls\": [{\"names\": [\"read\"], "
                              "\"action\": \"SCMP_ACT_ERRNO\", \"args\": "
                              "[{\"index\": 0, \"value\": 1, \"op\": "
                              "\"SCMP_CMP_ABOUT\"}]}]"),
                "config.json: linux.seccomp.syscalls[0].args[0].op: unknown "
                "operator \"SCMP_CMP_ABOUT\"",
                "seccomp unknown operator");
  expect_error (NULL,
                SECCOMP_WITH ("\"defaultAction\": \"SCMP_ACT_ALLOW\", "
                              "\"syscalls\": [{\"names\": [\"read\"], "
                              "\"action\": \"SCMP_ACT_ERRNO\", \"args\": "
                              "[{\"index\": 6, \"value\": 1, \"op\": "
                              "\"SCMP_CMP_EQ\"}]}]"),
                "config.json: linux.seccomp.syscalls[0].args[0].index: 6 is "
                "not a syscall argument",
                "seccomp argument index");
  expect_error (NULL,
                SECCOMP_WITH ("\"defaultAction\": \"SCMP_ACT_ALLOW\", "
                              "\"architectures\": [\"SCMP_ARCH_VAX\"]"),
                "config.json: linux.seccomp.architectures[0]: unknown "
                "architecture \"SCMP_ARCH_VAX\"",
                "seccomp unknown architecture");
  expect_error (
      NULL,
      SECCOMP_WITH ("\"defaultAction\": \"SCMP_ACT_ALLOW\", "
                    "\"flags\": [\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"]"),
      "config.json: linux.seccomp.flags[0]: unsupported flag "
      "\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"",
      "seccomp unknown flag");
  test_seccomp_as_runc ();
}

/* ---- mounts ---- */

static void
test_mounts (void)
{
  char *extra = NULL;
  if (asprintf (&extra,
                ", \"mounts\": [{\"destination\": \"/proc\", \"type\": "
                "\"proc\", \"source\": \"proc\"}, {\"destination\": "
                "\"/data\", \"type\": \"bind\", \"source\": \"%s/vol\", "
                "\"options\": [\"rbind\", \"ro\", \"nosuid\", \"nodev\", "
                "\"noexec\", \"rslave\"]}, {\"destination\": \"/t\", "
                "\"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": "
                "[\"size=1m\", \"mode=700\", \"nosuid\"]}, {\"destination\": "
                "\"/rel\", \"type\": \"none\", \"source\": \"vol\", "
                "\"options\": [\"bind\", \"rw\"]}]",
                bundle)
      < 0)
    abort ();
  struct result r;
  int rc = translate (NULL, extra, &r);
  free (extra);
  is_int (rc, 0, "mounts: translated");
  is_int (count_tag (&r.tlv, KO_TAG_MOUNT), 4, "mounts: all four, in order");
  char *s = NULL;
  uint64_t v = 0;
  mount_field (&r.tlv, 0, KO_TAG_M_DEST, &s, NULL);
  is_str (s, "/proc", "mounts[0]: /proc first");
  free (s);
  s = NULL;
  mount_field (&r.tlv, 1, KO_TAG_M_SOURCE, &s, NULL);
  is_str (s, "ctr/mounts/1", "bind: source is share-relative");
  free (s);
  s = NULL;
  mount_field (&r.tlv, 1, KO_TAG_M_FLAGS, NULL, &v);
  is_int (v, MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
          "bind: flags");
  mount_field (&r.tlv, 1, KO_TAG_M_PROPAGATION, NULL, &v);
  is_int (v, MS_SLAVE | MS_REC, "bind: propagation rslave");
  mount_field (&r.tlv, 2, KO_TAG_M_DATA, &s, NULL);
  is_str (s, "size=1m,mode=700", "tmpfs: size and mode as data");
  free (s);
  s = NULL;
  is_int (r.nbinds, 2, "two host paths go into the share");
  if (r.nbinds == 2)
    {
      char want[128];
      snprintf (want, sizeof want, "%s/vol", bundle);
      is_str (r.binds[0].source, want, "bind: host source");
      is_str (r.binds[0].dest, "ctr/mounts/1", "bind: share path");
      is_str (r.binds[0].ctr_dest, "/data", "bind: container path");
      is_str (r.binds[1].ctr_dest, "/rel", "bind: relative: container path");
      ok (r.binds[0].readonly == KO_BIND_RO,
          "bind: ro also on the host side (not recursive)");
      is_str (r.binds[1].source, want, "bind: relative source is in bundle");
      ok (!r.binds[1].readonly, "bind: rw");
    }
  result_clear (&r);

  expect_error (NULL,
                ", \"mounts\": [{\"destination\": \"/x\", \"type\": \"bind\", "
                "\"source\": \"/nonexistent-kot\"}]",
                "config.json: mounts[0].source /nonexistent-kot: No such file",
                "bind: missing source");
  expect_error (NULL,
                ", \"mounts\": [{\"destination\": \"/x\", \"type\": "
                "\"ext4\", \"source\": \"/dev/sda1\"}]",
                "config.json: mounts[0].type: \"ext4\" cannot be mounted in "
                "the VM",
                "mount: host filesystem type");
  expect_error (NULL,
                ", \"mounts\": [{\"destination\": \"x\", \"type\": "
                "\"tmpfs\"}]",
                "config.json: mounts[0].destination: must be an absolute "
                "path",
                "mount: relative destination");
  expect_error (NULL,
                ", \"mounts\": [{\"destination\": \"/x\", \"type\": "
                "\"tmpfs\", \"options\": [\"idmap\"]}]",
                "config.json: mounts[0].options[0]: \"idmap\" is not "
                "supported",
                "mount: idmap option");
  expect_error (NULL,
                ", \"mounts\": [{\"destination\": \"/x\", \"type\": "
                "\"bind\", \"source\": \"/dev/null\"}]",
                "config.json: mounts[0].source: /dev/null is neither a "
                "directory nor a regular file",
                "bind: a device node");
  /* the host kernel's own filesystems (this test runs on a Linux host,
   * which has all three mounted) */
  expect_error (NULL,
                ", \"mounts\": [{\"destination\": \"/x\", \"type\": "
                "\"bind\", \"source\": \"/sys\"}]",
                "config.json: mounts[0].source: /sys is on the host's sysfs, "
                "the host kernel's own: shared into the VM, the guest would "
                "reach the host past it; use a mount of type \"sysfs\"",
                "bind: the host's sysfs");
  expect_error (NULL,
                ", \"mounts\": [{\"destination\": \"/x\", \"type\": "
                "\"bind\", \"source\": \"/proc/sys/kernel\"}]",
                "config.json: mounts[0].source: /proc/sys/kernel is on the "
                "host's proc",
                "bind: a directory of the host's proc");
  expect_error (NULL,
                ", \"mounts\": [{\"destination\": \"/x\", \"type\": "
                "\"bind\", \"source\": \"/proc/cpuinfo\"}]",
                "config.json: mounts[0].source: /proc/cpuinfo is on the "
                "host's proc",
                "bind: a file of the host's proc");
}

/* runc's recursive options, the flags it knows beyond mount(8)'s */
static void
test_mount_options (void)
{
  uint32_t set = 0, clr = 0;
  ok (translate_rec_attr ("rro", &set, &clr) && set == MOUNT_ATTR_RDONLY
          && clr == 0,
      "rro: sets RDONLY");
  ok (translate_rec_attr ("rrw", &set, &clr) && set == 0
          && clr == MOUNT_ATTR_RDONLY,
      "rrw after rro: the last wins, RDONLY cleared");
  set = clr = 0;
  ok (translate_rec_attr ("rnoatime", &set, &clr) && set == MOUNT_ATTR_NOATIME
          && clr == MOUNT_ATTR__ATIME,
      "rnoatime: the mode, with all of _ATIME cleared");
  ok (translate_rec_attr ("rstrictatime", &set, &clr)
          && set == MOUNT_ATTR_STRICTATIME && clr == MOUNT_ATTR__ATIME,
      "rstrictatime after rnoatime: one mode only");
  ok (translate_rec_attr ("ratime", &set, &clr) && set == MOUNT_ATTR_RELATIME
          && clr == MOUNT_ATTR__ATIME,
      "ratime: relatime, as mount(2) without noatime");
  ok (!translate_rec_attr ("ro", &set, &clr)
          && !translate_rec_attr ("rfoo", &set, &clr),
      "ro and rfoo are not recursive attributes");

  char *extra = NULL;
  if (asprintf (&extra,
                ", \"mounts\": [{\"destination\": \"/data\", \"type\": "
                "\"bind\", \"source\": \"%s/vol\", \"options\": "
                "[\"rbind\", \"rro\", \"rnosuid\", \"rdev\", "
                "\"nosymfollow\", \"tmpcopyup\"]}, {\"destination\": \"/t\", "
                "\"type\": "
                "\"tmpfs\", \"options\": [\"defaults\", \"iversion\", "
                "\"rnoexec\", \"size=1m\", \"tmpcopyup\"]}]",
                bundle)
      < 0)
    abort ();
  struct result r;
  int rc = translate (NULL, extra, &r);
  free (extra);
  is_int (rc, 0, "recursive options: translated");
  uint64_t v = 0;
  mount_field (&r.tlv, 0, KO_TAG_M_REC_ATTR, NULL, &v);
  is_int (v,
          (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID)
              | (uint64_t)MOUNT_ATTR_NODEV << 32,
          "bind: attr_set low, attr_clr high");
  v = 0;
  mount_field (&r.tlv, 0, KO_TAG_M_FLAGS, NULL, &v);
  is_int (v, MS_BIND | MS_REC | MS_NOSYMFOLLOW,
          "bind: nosymfollow a flag; no tmpcopyup (tmpfs only, as runc)");
  ok (r.nbinds == 1 && r.binds[0].readonly == KO_BIND_RRO,
      "bind: rro is recursive on the host side too");
  char *s = NULL;
  mount_field (&r.tlv, 1, KO_TAG_M_DATA, &s, NULL);
  is_str (s, "size=1m", "tmpfs: defaults and iversion are not data");
  free (s);
  v = 0;
  mount_field (&r.tlv, 1, KO_TAG_M_FLAGS, NULL, &v);
  is_int (v, MS_I_VERSION | KO_MOUNT_COPYUP,
          "tmpfs: iversion a flag, tmpcopyup asked of the guest");
  v = 0;
  mount_field (&r.tlv, 1, KO_TAG_M_REC_ATTR, NULL, &v);
  is_int (v, MOUNT_ATTR_NOEXEC, "tmpfs: rnoexec");
  result_clear (&r);
  expect_error (NULL,
                ", \"mounts\": [{\"destination\": \"/x\", \"type\": "
                "\"tmpfs\", \"options\": [\"rw\", \"remount\"]}]",
                "config.json: mounts[0].options[1]: \"remount\" is not "
                "supported",
                "mount: remount option");
}

static void
test_kernel_fs (void)
{
  const char *text
      = "21 1 254:1 / / rw - ext4 /dev/vda1 rw\n"
        "22 21 0:5 / /dev rw,nosuid - tmpfs tmpfs rw\n"
        "23 22 0:6 / /dev/shm rw - tmpfs shm rw\n"
        "24 21 0:7 / /proc rw - proc proc rw\n"
        "25 21 0:8 / /sys rw - sysfs sysfs rw\n"
        "26 25 0:9 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "27 21 0:10 / /mnt/dev2 rw - devtmpfs udev rw\n"
        "28 21 0:11 / /sys/kernel/debug rw - debugfs debugfs rw\n"
        "29 21 0:5 /pts /mnt/devbind rw - tmpfs tmpfs rw\n";
  int bad;
  ko_error *err = NULL;
  const char *w;
  ok ((w = hostpath_kernel_fs (text, makedev (254, 1), &bad, &err)) == NULL
          && bad == 0,
      "kernel fs: ext4 is storage");
  ok ((w = hostpath_kernel_fs (text, makedev (0, 6), &bad, &err)) == NULL,
      "kernel fs: a tmpfs at /dev/shm is storage");
  ok ((w = hostpath_kernel_fs (text, makedev (0, 5), &bad, &err))
          && strcmp (w, "the host's /dev") == 0,
      "kernel fs: the tmpfs at /dev holds the host's device nodes");
  ok ((w = hostpath_kernel_fs (text, makedev (0, 7), &bad, &err))
          && strcmp (w, "proc") == 0
          && strstr (hostpath_kernel_fs_instead (w), "\"proc\""),
      "kernel fs: proc, and what to use instead");
  ok ((w = hostpath_kernel_fs (text, makedev (0, 9), &bad, &err))
          && strcmp (w, "cgroup") == 0,
      "kernel fs: a cgroup hierarchy");
  ok ((w = hostpath_kernel_fs (text, makedev (0, 10), &bad, &err))
          && strcmp (w, "devtmpfs") == 0
          && strstr (hostpath_kernel_fs_instead (w), "linux.devices"),
      "kernel fs: devtmpfs wherever it is mounted");
  ok ((w = hostpath_kernel_fs (text, makedev (0, 11), &bad, &err))
          && strcmp (w, "debugfs") == 0 && !hostpath_kernel_fs_instead (w),
      "kernel fs: debugfs, with nothing instead");
  ok (hostpath_kernel_fs (text, makedev (9, 9), &bad, &err) == NULL && bad == 0,
      "kernel fs: a device no mount names");
  ok (hostpath_kernel_fs ("1 2 x:y / / rw - ext4 /dev/x rw\n", makedev (0, 7),
                          &bad, &err)
              == NULL
          && bad < 0 && err && err->status == EINVAL
          && strstr (err->msg, "line 1: cannot be read"),
      "kernel fs: an unreadable mountinfo is an error");
  ko_error_free (err);
}

/* ---- linux ---- */

/* ---- disks ---- */

#define RULE(allow, type, maj, min, access)                                    \
  "{\"allow\": " #allow ", \"type\": \"" type "\", \"major\": " #maj           \
  ", \"minor\": " #min ", \"access\": \"" access "\"}"

/* A spec parsed from fmt with its one %s filled in, or NULL. */
static oci_spec *
spec_of (const char *fmt, const char *arg)
{
  char *json = NULL;
  if (asprintf (&json, fmt, arg) < 0)
    abort ();
  oci_spec *spec
      = oci_spec_parse_data (json, strlen (json), "config.json", NULL);
  free (json);
  return spec;
}

static bool
writable (const char *rules)
{
  oci_spec *spec = spec_of ("{\"ociVersion\": \"1.2.0\", \"linux\": "
                            "{\"resources\": {\"devices\": [%s]}}}",
                            rules);
  bool w = spec && blockdev_writable (spec->linux->resources, 7, 3);
  oci_spec_free (spec);
  return w;
}

static void
test_disks (void)
{
  ok (writable (""), "disk: no rule naming it: read-write");
  ok (writable (RULE (false, "a", -1, -1, "rwm")),
      "disk: all denied: the entry's own access, as runc");
  ok (writable (
          RULE (false, "a", -1, -1, "rwm") "," RULE (true, "b", 7, 3, "rwm")),
      "disk: podman's deny all, then --device");
  ok (!writable (
          RULE (false, "a", -1, -1, "rwm") "," RULE (true, "b", 7, 3, "r")),
      "disk: --device ...:r is read-only");
  ok (writable (RULE (false, "a", -1, -1, "rwm") "," RULE (
          true, "b", 7, 4, "rwm") "," RULE (true, "b", 7, 3, "rw")),
      "disk: another device's rule does not count");
  ok (!writable (
          RULE (true, "b", 7, 3, "rwm") "," RULE (false, "b", 7, -1, "w")),
      "disk: a later deny of w wins");
  ok (writable (RULE (true, "b", 7, 3, "r") "," RULE (true, "b", 7, 3, "w")),
      "disk: r then w: read-write");
  ok (writable (RULE (false, "c", -1, -1, "rwm")),
      "disk: a rule of character devices does not name it");
  char a[KO_DISK_SERIAL_MAX + 1], b[KO_DISK_SERIAL_MAX + 1];
  blockdev_serial (a,
                   "a-very-long-container-id-of-64-characters-0123456789abcdef",
                   'd', 999);
  blockdev_serial (b, "other", 'd', 999);
  ok (strlen (a) <= KO_DISK_SERIAL_MAX && strcmp (a, b) != 0,
      "disk serial: fits virtio-blk's 20 bytes, differs by container");
  expect_error (
      NULL,
      ", \"linux\": {\"resources\": {\"blockIO\": "
      "{\"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, "
      "\"rate\": 1048576}]}}}",
      "config.json: linux.resources: blockIO.throttleReadBpsDevice[0]: "
      "8:0 is no disk of the container's",
      "blockIO: a throttle on a device the VM lacks is refused");
  expect_error (NULL,
                ", \"annotations\": {\"io.katacontainers.volume./data\": "
                "\"direct\"}, \"mounts\": [{\"destination\": \"/data\", "
                "\"type\": \"ext4\", \"source\": \"/nonexistent\"}]",
                "config.json: annotations: io.katacontainers.volume./data: "
                "\"direct\": the only value is \"block\"",
                "block volume: unknown annotation value");
  expect_error (NULL,
                ", \"annotations\": {\"io.katacontainers.volume./data\": "
                "\"block\"}, \"mounts\": [{\"destination\": \"/data\", "
                "\"type\": \"ext4\", \"source\": \"/nonexistent/disk.img\"}]",
                "config.json: mounts[0].source: a block volume needs an "
                "absolute host path",
                "block volume: missing file");
  expect_error (NULL,
                ", \"annotations\": {\"io.katacontainers.volume./data\": "
                "\"block\"}, \"mounts\": [{\"destination\": \"/data\", "
                "\"type\": \"ext4\", \"source\": \"/tmp\"}]",
                "config.json: mounts[0].source: /tmp is neither a block device "
                "nor a regular file",
                "block volume: a directory");
  expect_error (NULL,
                ", \"annotations\": {\"io.katacontainers.volume./data\": "
                "\"block\"}, \"mounts\": [{\"destination\": \"/data\", "
                "\"type\": \"bind\", \"source\": \"/etc/hostname\"}]",
                "config.json: mounts[0].type: a block volume (/etc/hostname) "
                "needs the filesystem to mount it as",
                "block volume: no filesystem type");
}

static void
test_linux (void)
{
  struct result r;
  int rc = translate (
      NULL,
      ", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": "
      "\"network\", \"path\": \"/proc/1/ns/net\"}, {\"type\": \"ipc\"}], "
      "\"sysctl\": {\"kernel.shmmax\": \"4096\", \"fs.mqueue.msg_max\": "
      "\"20\", \"net.ipv4.ping_group_range\": \"0 0\"}, \"devices\": "
      "[{\"type\": \"c\", \"path\": \"/dev/kot\", "
      "\"major\": 1, \"minor\": 3, \"fileMode\": 432, \"uid\": 5, \"gid\": "
      "6}], \"rootfsPropagation\": \"rslave\", \"maskedPaths\": "
      "[\"/proc/kcore\"], \"readonlyPaths\": [\"/proc/sys\"], "
      "\"personality\": {\"domain\": \"LINUX32\"}}",
      &r);
  is_int (rc, 0, "linux: translated");
  uint64_t v = 0;
  find_u64 (&r.tlv, KO_TAG_NAMESPACES, &v);
  is_int (v, CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNS,
          "namespaces: pid, ipc, mount (a network path: the guest's own)");
  /* with a network path, net.* keys go to the guest's namespace, which
   * has that namespace's interfaces (podman's bridge network sends one) */
  is_int (count_tag (&r.tlv, KO_TAG_SYSCTL), 3, "sysctl: all three keys");
  is_int (count_tag (&r.tlv, KO_TAG_DEVICE), 1, "devices: one");
  find_u64 (&r.tlv, KO_TAG_ROOTFS_PROPAGATION, &v);
  is_int (v, MS_SLAVE | MS_REC, "rootfsPropagation");
  is_int (count_tag (&r.tlv, KO_TAG_MASKED_PATH), 1, "maskedPaths");
  is_int (count_tag (&r.tlv, KO_TAG_READONLY_PATH), 1, "readonlyPaths");
  is_int (count_tag (&r.tlv, KO_TAG_PERSONALITY), 1, "personality");
  result_clear (&r);

  expect_error (NULL,
                ", \"linux\": {\"namespaces\": [{\"type\": \"ipc\", "
                "\"path\": \"/proc/1/ns/ipc\"}]}",
                "config.json: linux.namespaces[0].path: /proc/1/ns/ipc is a "
                "host namespace, which a container inside a VM cannot join",
                "namespaces: host path");
  expect_error (NULL,
                ", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, "
                "{\"type\": \"pid\"}]}",
                "config.json: linux.namespaces[1]: \"pid\" is listed twice",
                "namespaces: duplicate");
  expect_error (NULL, ", \"linux\": {\"namespaces\": [{\"type\": \"bogus\"}]}",
                "config.json: linux.namespaces[0].type: unknown namespace "
                "\"bogus\"",
                "namespaces: unknown");
  expect_error (NULL,
                ", \"linux\": {\"uidMappings\": [{\"containerID\": 0, "
                "\"hostID\": 1000, \"size\": 1}]}",
                "config.json: linux.uidMappings: id mappings need a user "
                "namespace in linux.namespaces",
                "uid mappings without a user namespace");
  expect_error (NULL,
                ", \"linux\": {\"gidMappings\": [{\"containerID\": 0, "
                "\"hostID\": 1000, \"size\": 1}]}",
                "config.json: linux.gidMappings: id mappings need a user "
                "namespace in linux.namespaces",
                "gid mappings without a user namespace");
  expect_error (NULL,
                ", \"linux\": {\"namespaces\": [{\"type\": \"ipc\"}], "
                "\"sysctl\": {\"vm.swappiness\": \"10\"}}",
                "config.json: linux.sysctl: \"vm.swappiness\" is not a "
                "namespaced key",
                "sysctl: not namespaced");
  expect_error (NULL,
                ", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}], "
                "\"sysctl\": {\"net.ipv4.ip_forward\": \"1\"}}",
                "config.json: linux.sysctl: \"net.ipv4.ip_forward\" needs a "
                "private network namespace",
                "sysctl: needs its namespace");
  expect_error (NULL,
                ", \"linux\": {\"devices\": [{\"type\": \"x\", \"path\": "
                "\"/dev/x\"}]}",
                "config.json: linux.devices[0].type: unknown device type "
                "\"x\"",
                "devices: unknown type");
  expect_error (NULL,
                ", \"linux\": {\"devices\": [{\"type\": \"c\", \"path\": "
                "\"/dev/x\"}]}",
                "config.json: linux.devices[0]: a \"c\" device needs major "
                "and minor",
                "devices: no numbers");
  expect_error (NULL,
                ", \"linux\": {\"devices\": [{\"type\": \"b\", \"path\": "
                "\"/dev/xvdz\", \"major\": 7, \"minor\": 1048575}]}",
                "config.json: linux.devices[0]: the host has no block device "
                "7:1048575 (for /dev/xvdz)",
                "devices: a block device the host lacks is refused");
  expect_error (NULL,
                ", \"linux\": {\"devices\": [{\"type\": \"b\", \"path\": "
                "\"/dev/xvdz\", \"major\": 1, \"minor\": 3}]}",
                "config.json: linux.devices[0]: the host has no block device "
                "1:3",
                "devices: a character device given as b is refused");
  /* a privileged container's host block devices stay out of the VM,
   * unless KATA_OCI_PRIVILEGED_HOST_DEVICES: a device the host lacks shows
   * which */
  {
    static const char *const privileged[]
        = { "\"io.podman.annotations.privileged\": \"TRUE\"",
            "\"io.podman.annotations.privileged\": \"true\"" };
    for (size_t i = 0; i < 2; i++)
      {
        char *extra = NULL;
        if (asprintf (&extra,
                      ", \"annotations\": {%s}, \"linux\": {\"devices\": "
                      "[{\"type\": \"b\", \"path\": \"/dev/xvdz\", "
                      "\"major\": 7, \"minor\": 1048575}, {\"type\": \"c\", "
                      "\"path\": \"/dev/null\", \"major\": 1, \"minor\": 3}]}",
                      privileged[i])
            < 0)
          abort ();
        struct result r;
        is_int (translate (NULL, extra, &r), 0,
                "devices: privileged (%zu): the host's block device left out",
                i);
        is_int (count_tag (&r.tlv, KO_TAG_DEVICE), 1,
                "devices: privileged (%zu): the character device kept", i);
        is_int (r.disks.n, 0, "devices: privileged (%zu): no disk", i);
        result_clear (&r);
        opt_host_devices = true;
        is_int (translate (NULL, extra, &r), -1,
                "devices: privileged (%zu), with host devices: passed in", i);
        ok (r.err && strstr (r.err, "the host has no block device 7:1048575"),
            "devices: privileged (%zu), with host devices: message", i);
        result_clear (&r);
        opt_host_devices = false;
        free (extra);
      }
  }
  /* CRI-O's pod-level mark (only on the sandbox's infra container) is not
   * a container's */
  expect_error (
      NULL,
      ", \"annotations\": {\"io.kubernetes.cri-o.PrivilegedRuntime\": "
      "\"true\"}, \"linux\": {\"devices\": [{\"type\": \"b\", "
      "\"path\": \"/dev/xvdz\", \"major\": 7, \"minor\": "
      "1048575}]}",
      "config.json: linux.devices[0]: the host has no block device",
      "devices: CRI-O's privileged pod: the block device is passed in");
  expect_error (NULL,
                ", \"annotations\": {\"io.podman.annotations.privileged\": "
                "\"FALSE\"}, \"linux\": {\"devices\": [{\"type\": \"b\", "
                "\"path\": \"/dev/xvdz\", \"major\": 7, \"minor\": "
                "1048575}]}",
                "config.json: linux.devices[0]: the host has no block device",
                "devices: not privileged: the block device is passed in");
  expect_error (NULL,
                ", \"linux\": {\"devices\": [{\"type\": \"c\", \"path\": "
                "\"dev/x\", \"major\": 1, \"minor\": 3}]}",
                "config.json: linux.devices[0].path: must be an absolute path",
                "devices: relative path");
  /* a time namespace and its offsets, as /proc/PID/timens_offsets takes
   * them */
  {
    struct result t;
    int trc = translate (
        NULL,
        ", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": "
        "\"time\"}], \"timeOffsets\": {\"monotonic\": {\"secs\": 86400}, "
        "\"boottime\": {\"secs\": 5, \"nanosecs\": 7}}}",
        &t);
    is_int (trc, 0, "time namespace: translated");
    uint64_t tv = 0;
    find_u64 (&t.tlv, KO_TAG_NAMESPACES, &tv);
    ok (tv & 0x80, "time namespace: CLONE_NEWTIME");
    is_int (count_tag (&t.tlv, KO_TAG_TIME_OFFSETS), 1, "time offsets sent");
    result_clear (&t);
  }
  expect_error (NULL,
                ", \"linux\": {\"timeOffsets\": {\"monotonic\": {\"secs\": "
                "1}}}",
                "config.json: linux.timeOffsets: set, but linux.namespaces "
                "has no time namespace",
                "timeOffsets without a time namespace");
  expect_error (NULL,
                ", \"linux\": {\"namespaces\": [{\"type\": \"time\"}], "
                "\"timeOffsets\": {\"realtime\": {\"secs\": 1}}}",
                "config.json: linux.timeOffsets.realtime: unknown clock "
                "(monotonic or boottime)",
                "timeOffsets: realtime cannot be offset");
  expect_error (NULL,
                ", \"linux\": {\"namespaces\": [{\"type\": \"time\"}], "
                "\"timeOffsets\": {\"boottime\": {\"nanosecs\": "
                "1000000000}}}",
                "config.json: linux.timeOffsets.boottime.nanosecs: "
                "1000000000 is not below 1000000000",
                "timeOffsets: nanosecs out of range");
  expect_error (NULL,
                ", \"linux\": {\"namespaces\": [{\"type\": \"time\"}], "
                "\"timeOffsets\": {\"monotonic\": {\"secs\": -1}}}",
                "config.json: linux.timeOffsets.monotonic.secs: -1: the VM "
                "has just booted, and its clock may not go below zero",
                "timeOffsets: a negative offset");
  expect_error (NULL,
                ", \"linux\": {\"namespaces\": [{\"type\": \"time\", "
                "\"path\": \"/proc/1/ns/time\"}]}",
                "config.json: linux.namespaces[0].path: /proc/1/ns/time is a "
                "host namespace, which a container inside a VM cannot join",
                "time namespace path refused");
  expect_error (NULL, ", \"linux\": {\"rootfsPropagation\": \"sideways\"}",
                "config.json: linux.rootfsPropagation: unknown propagation "
                "\"sideways\"",
                "rootfsPropagation unknown");
  expect_error (NULL, ", \"linux\": {\"personality\": {\"domain\": \"SVR4\"}}",
                "config.json: linux.personality.domain: unknown domain "
                "\"SVR4\"",
                "personality unknown");
  expect_error (NULL, ", \"linux\": {\"maskedPaths\": [\"proc/kcore\"]}",
                "config.json: linux.maskedPaths[0]: must be an absolute path",
                "maskedPaths relative");
  expect_error (NULL, ", \"linux\": {\"readonlyPaths\": [\"proc\"]}",
                "config.json: linux.readonlyPaths[0]: must be an absolute "
                "path",
                "readonlyPaths relative");
}

/* ---- user namespace ---- */

#define USERNS ", \"linux\": {\"namespaces\": [{\"type\": \"user\"}]"
#define MAP(c, h, n)                                                           \
  "{\"containerID\": " #c ", \"hostID\": " #h ", \"size\": " #n "}"
/* UIDS (MAP (...) "," MAP (...)) */
#define UIDS(maps) ", \"uidMappings\": [" maps "]"
#define GIDS(maps) ", \"gidMappings\": [" maps "]"
#define GID0 GIDS (MAP (0, 100000, 65536))
#define UID0 UIDS (MAP (0, 100000, 65536))

/* The nth field with tag, decoded as an id map. */
static int
id_map_field (const struct ko_buf *b, uint16_t tag, int nth,
              struct ko_id_map *m)
{
  struct ko_tlv t = { b->data, b->len };
  struct ko_field f;
  while (ko_tlv_next (&t, &f) > 0)
    if (f.tag == tag && nth-- == 0)
      return ko_id_map_decode (&f, m, NULL);
  return -1;
}

static void
test_userns (void)
{
  struct result r;
  int rc = translate (", \"user\": {\"uid\": 1000, \"gid\": 1000, "
                      "\"additionalGids\": [5]}",
                      USERNS UIDS (MAP (0, 100000, 65536) "," MAP (
                          70000, 300000, 10)) GIDS (MAP (0, 200000, 65536)) "}",
                      &r);
  is_int (rc, 0, "userns: translated");
  uint64_t v = 0;
  find_u64 (&r.tlv, KO_TAG_NAMESPACES, &v);
  is_int (v, CLONE_NEWUSER | CLONE_NEWNS, "userns: CLONE_NEWUSER sent");
  is_int (count_tag (&r.tlv, KO_TAG_UID_MAP), 2, "userns: two uid lines");
  is_int (count_tag (&r.tlv, KO_TAG_GID_MAP), 1, "userns: one gid line");
  struct ko_id_map m = { 0 };
  ok (id_map_field (&r.tlv, KO_TAG_UID_MAP, 1, &m) == 0
          && m.container_id == 70000 && m.host_id == 300000 && m.size == 10,
      "userns: the second uid line, in order");
  ok (id_map_field (&r.tlv, KO_TAG_GID_MAP, 0, &m) == 0 && m.container_id == 0
          && m.host_id == 200000 && m.size == 65536,
      "userns: the gid line");
  result_clear (&r);

  expect_error (NULL,
                ", \"linux\": {\"namespaces\": [{\"type\": \"user\", "
                "\"path\": \"/proc/1/ns/user\"}]" UID0 GID0 "}",
                "config.json: linux.namespaces[0].path: /proc/1/ns/user is a "
                "host namespace, which a container inside a VM cannot join",
                "userns: a path cannot be joined");
  expect_error (NULL, USERNS GID0 "}",
                "config.json: linux.uidMappings: a user namespace needs uid "
                "mappings",
                "userns: no uid mappings");
  expect_error (NULL, USERNS UID0 "}",
                "config.json: linux.gidMappings: a user namespace needs gid "
                "mappings",
                "userns: no gid mappings");
  expect_error (
      NULL,
      USERNS UIDS (
          MAP (0, 1000, 1) "," MAP (1, 2000, 1) "," MAP (2, 3000, 1) "," MAP (
              3, 4000, 1) "," MAP (4, 5000, 1) "," MAP (5, 6000, 1)) GID0 "}",
      "config.json: linux.uidMappings: 6 mappings, at most 5",
      "userns: too many lines");
  expect_error (NULL, USERNS UIDS (MAP (0, 100000, 0)) GID0 "}",
                "config.json: linux.uidMappings[0].size: must be greater than "
                "0",
                "userns: size 0");
  expect_error (
      NULL,
      USERNS UID0 GIDS (MAP (0, 100000, 1) "," MAP (4294967295, 200000, 1)) "}",
      "config.json: linux.gidMappings[1]: containerID 4294967295 + "
      "size 1 goes past the last id 4294967294",
      "userns: containerID range past the last id");
  expect_error (NULL, USERNS UIDS (MAP (0, 4294967290, 10)) GID0 "}",
                "config.json: linux.uidMappings[0]: hostID 4294967290 + size "
                "10 goes past the last id 4294967294",
                "userns: hostID range past the last id");
  expect_error (
      NULL, USERNS UIDS (MAP (0, 100000, 100) "," MAP (99, 300000, 1)) GID0 "}",
      "config.json: linux.uidMappings[1]: its containerID range "
      "overlaps that of [0]",
      "userns: containerID ranges overlap");
  expect_error (
      NULL,
      USERNS UID0 GIDS (MAP (0, 100000, 100) "," MAP (1000, 100099, 1)) "}",
      "config.json: linux.gidMappings[1]: its hostID range "
      "overlaps that of [0]",
      "userns: hostID ranges overlap");
  expect_error (", \"user\": {\"uid\": 70000, \"gid\": 0}",
                USERNS UID0 GID0 "}",
                "config.json: process.user.uid: 70000 is not mapped by "
                "linux.uidMappings",
                "userns: process uid not mapped");
  expect_error (", \"user\": {\"uid\": 0, \"gid\": 70000}",
                USERNS UID0 GID0 "}",
                "config.json: process.user.gid: 70000 is not mapped by "
                "linux.gidMappings",
                "userns: process gid not mapped");
  expect_error (", \"user\": {\"uid\": 0, \"gid\": 0, \"additionalGids\": "
                "[5, 70000]}",
                USERNS UID0 GID0 "}",
                "config.json: process.user.additionalGids[1]: 70000 is not "
                "mapped by linux.gidMappings",
                "userns: an additional gid not mapped");
  expect_error (NULL, USERNS UIDS (MAP (1, 100000, 10)) GID0 "}",
                "config.json: process.user.uid: 0 is not mapped by "
                "linux.uidMappings",
                "userns: no process.user means uid 0, which must be mapped");
}

static void
test_cgroup (void)
{
  const char *json
      = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"r\"}, "
        "\"linux\": {\"cgroupsPath\": \"%s\", \"resources\": "
        "{\"memory\": {\"limit\": 268435456}, \"cpu\": {\"quota\": "
        "150000, \"period\": 100000}}}}";
  char buf[512];
  snprintf (buf, sizeof buf, json, "/kot/a");
  ko_error *err = NULL;
  oci_spec *spec = oci_spec_parse_data (buf, strlen (buf), "config.json", &err);
  ok (spec != NULL, "cgroup: spec parses");
  int mb = 2048, cpus = 1;
  cgroup_size_vm (spec, &mb, &cpus);
  is_int (mb, 256 + KO_GUEST_HEADROOM_MB, "VM memory: limit plus headroom");
  is_int (cpus, 2, "VM vCPUs: quota / period rounded up");
  is_int (cgroup_sandbox_check (spec, false, &err), 0,
          "cgroupsPath: absolute ok");
  oci_spec_free (spec);

  /* containerd without its systemd driver: one relative name, as runc's
   * cgroupfs manager takes it; refused only under --systemd-cgroup */
  const char *colon = "test.slice:cri-containerd:0123456789abcdef";
  snprintf (buf, sizeof buf, json, colon);
  spec = oci_spec_parse_data (buf, strlen (buf), "config.json", &err);
  is_int (cgroup_sandbox_check (spec, false, &err), 0,
          "cgroupsPath slice:prefix:name: a cgroupfs path");
  ko_error_free (err);
  err = NULL;
  is_int (cgroup_sandbox_check (spec, true, &err), -1,
          "cgroupsPath slice:prefix:name: refused under --systemd-cgroup");
  ok (err
          && strstr (err->msg, "config.json: linux.cgroupsPath: "
                               "\"test.slice:cri-containerd:0123456789abcdef\" "
                               "is a systemd slice path (--systemd-cgroup); "
                               "kata-oci has no systemd cgroup driver"),
      "cgroupsPath slice:prefix:name: --systemd-cgroup message");
  ko_error_free (err);
  err = NULL;
  oci_spec_free (spec);
  snprintf (buf, sizeof buf, json, "/kot/b");
  spec = oci_spec_parse_data (buf, strlen (buf), "config.json", &err);
  is_int (cgroup_sandbox_check (spec, true, &err), 0,
          "cgroupsPath: a plain path under --systemd-cgroup stays cgroupfs");
  oci_spec_free (spec);

  const char *clean[][2] = {
    { "/a/../../etc", "/etc" },
    { "test.slice:cri-containerd:x", "test.slice:cri-containerd:x" },
    { "a//b/./c/", "a/b/c" },
    { "../../a/b/..", "a" },
    { "/../x/", "/x" },
    { "a/..", "." },
    { "//", "/" },
  };
  for (size_t i = 0; i < sizeof clean / sizeof clean[0]; i++)
    {
      char out[64] = "unset";
      int rc = cgroup_clean_path (clean[i][0], out, sizeof out);
      ok (rc == 0 && strcmp (out, clean[i][1]) == 0,
          "cgroup path \"%s\" cleans to \"%s\" (got \"%s\")", clean[i][0],
          clean[i][1], out);
    }
  char small[8];
  is_int (cgroup_clean_path ("/abcdefgh", small, sizeof small), -1,
          "cgroup path: too long for the buffer");

  char longp[PATH_MAX + 16];
  memset (longp, 'a', sizeof longp - 1);
  longp[sizeof longp - 1] = '\0';
  const char *bad[][2] = {
    { "/a/..", "\"/a/..\" names no group of the sandbox's own (it is the "
               "root group)" },
    { "x/../.", "\"x/../.\" names no group of the sandbox's own (it is the "
                "group kata-oci runs in)" },
    { longp, "is too long" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      char *b2 = NULL;
      if (asprintf (&b2, json, bad[i][0]) < 0)
        abort ();
      spec = oci_spec_parse_data (b2, strlen (b2), "config.json", &err);
      free (b2);
      is_int (cgroup_sandbox_check (spec, false, &err), -1,
              "cgroupsPath %.20s: refused", bad[i][0]);
      ok (err && strstr (err->msg, "config.json: linux.cgroupsPath: ")
              && strstr (err->msg, bad[i][1]),
          "cgroupsPath %.20s: message", bad[i][0]);
      if (err && !strstr (err->msg, bad[i][1]))
        printf ("#   got \"%.200s\"\n", err->msg);
      ko_error_free (err);
      err = NULL;
      oci_spec_free (spec);
    }
}

/* the virtio-fs cache mode: KATA_OCI_VIRTIO_FS_CACHE and the annotation */
static void
test_fs_cache (void)
{
  is_str (settings_fs_cache ("auto"), "auto", "cache auto");
  is_str (settings_fs_cache ("always"), "always", "cache always");
  is_str (settings_fs_cache ("none"), "none", "cache none");
  is_str (settings_fs_cache ("never"), "none", "cache never is Kata's none");
  ok (settings_fs_cache ("") == NULL, "cache \"\": refused");
  ok (settings_fs_cache ("Always") == NULL, "cache Always: refused");
  ok (settings_fs_cache ("metadata") == NULL, "cache metadata: refused");

  struct ko_settings s;
  ko_error *err = NULL;
  unsetenv ("KATA_OCI_VIRTIO_FS_CACHE");
  settings_load (&s);
  is_str (s.fs_cache, "auto", "cache: auto by default");
  ok (s.fs_cache_bad == NULL, "cache: default is valid");
  setenv ("KATA_OCI_VIRTIO_FS_CACHE", "never", 1);
  settings_load (&s);
  is_str (s.fs_cache, "none", "cache: from the environment");
  setenv ("KATA_OCI_VIRTIO_FS_CACHE", "sometimes", 1);
  settings_load (&s);
  is_str (s.fs_cache_bad, "sometimes", "cache: a bad value is kept");
  is_int (hypervisor_check_assets (&s, &err), -1, "cache: bad value refused");
  ok (err
          && strcmp (err->msg, "KATA_OCI_VIRTIO_FS_CACHE: expected auto, "
                               "always or none, not \"sometimes\"")
                 == 0,
      "cache: bad value message");
  ko_error_free (err);
  unsetenv ("KATA_OCI_VIRTIO_FS_CACHE");
}

static void
check_resources (const char *json, const char *want)
{
  ko_error *err = NULL;
  oci_linux_resources *r
      = oci_linux_resources_parse_data (json, strlen (json), "r", &err);
  ok (r != NULL, "resources parse: %s", json);
  int rc = r ? translate_check_resources (r, "update", &err) : -1;
  if (want == NULL)
    ok (rc == 0, "resources accepted: %s", json);
  else
    {
      ok (rc < 0, "resources refused: %s", json);
      is_str (err ? err->msg : NULL, want, "message for %s", json);
      is_int (err ? err->status : 0, EINVAL, "status for %s", json);
    }
  ko_error_free (err);
  oci_linux_resources_free (r);
}

static void
test_resources_checks (void)
{
  check_resources ("{\"memory\": {\"limit\": -1}}", NULL);
  check_resources ("{\"unified\": {\"memory.high\": \"1\", "
                   "\"cgroup.max.depth\": \"3\", \"io.max\": \"8:0 rbps=1\"}}",
                   NULL);
  check_resources ("{\"unified\": {\"a/b\": \"1\"}}",
                   "update: unified: \"a/b\": must be a file name (no "
                   "slashes)");
  check_resources ("{\"unified\": {\"memoryhigh\": \"1\"}}",
                   "update: unified: \"memoryhigh\": must be in the form "
                   "CONTROLLER.PARAMETER");
  check_resources ("{\"unified\": {\".high\": \"1\"}}",
                   "update: unified: \".high\": must be in the form "
                   "CONTROLLER.PARAMETER");
  check_resources ("{\"unified\": {\"memory.Hi gh\": \"1\"}}",
                   "update: unified: \"memory.Hi gh\": must be in the form "
                   "CONTROLLER.PARAMETER");
  check_resources ("{\"unified\": {\"cgroup.procs\": \"1\"}}",
                   "update: unified: \"cgroup.procs\": not a resource (the "
                   "runtime manages it)");
  {
    /* what the agent gets: FILE=LINE, one line each */
    const char *json = "{\"pids\": {\"limit\": 5}, \"unified\": "
                       "{\"io.max\": \"8:0 rbps=1\\n8:16 wbps=2\\n\", "
                       "\"memory.high\": \"\"}}";
    oci_linux_resources *r
        = oci_linux_resources_parse_data (json, strlen (json), "r", NULL);
    struct ko_resources k = { 0 };
    ok (r && translate_resources_fill (r, &k) == 0 && k.unified
            && strcmp (k.unified, "io.max=8:0 rbps=1\nio.max=8:16 wbps=2\n"
                                  "memory.high=\n")
                   == 0
            && KO_R_HAS (&k, PIDS_LIMIT),
        "unified: a line each: %s", k.unified ? k.unified : "(none)");
    ko_resources_clear (&k);
    oci_linux_resources_free (r);
  }
  check_resources ("{\"memory\": {\"limit\": 6291456}}", NULL);
  check_resources ("{\"memory\": {\"swap\": -1, \"reservation\": 0}}", NULL);
  check_resources ("{\"memory\": {\"limit\": 1}}",
                   "update: memory.limit: 1: expected -1 (no limit) or at "
                   "least 6291456 bytes (6 MiB): below that the container is "
                   "OOM-killed at once");
  check_resources ("{\"memory\": {\"limit\": -2}}",
                   "update: memory.limit: -2: expected -1 (no limit) or at "
                   "least 6291456 bytes (6 MiB): below that the container is "
                   "OOM-killed at once");
  check_resources ("{\"memory\": {\"reservation\": -5}}",
                   "update: memory.reservation: -5: expected -1 (none) or a "
                   "size in bytes");
  check_resources ("{\"memory\": {\"swap\": -3}}",
                   "update: memory.swap: -3: expected -1 (no limit) or a size "
                   "in bytes");
  /* cpu.cpus: the host CPUs the VM is pinned to */
  check_resources ("{\"cpu\": {\"cpus\": \"0\"}}", NULL);
  check_resources ("{\"cpu\": {\"cpus\": \"0-\"}}",
                   "update: cpu.cpus: \"0-\" is not a CPU list (such as "
                   "0-3,6)");
  check_resources ("{\"cpu\": {\"cpus\": \"0,,1\"}}",
                   "update: cpu.cpus: \"0,,1\" is not a CPU list (such as "
                   "0-3,6)");
  check_resources ("{\"cpu\": {\"cpus\": \"3-1\"}}",
                   "update: cpu.cpus: \"3-1\" is not a CPU list (such as "
                   "0-3,6)");
  check_resources ("{\"cpu\": {\"cpus\": \" 0\"}}",
                   "update: cpu.cpus: \" 0\" is not a CPU list (such as "
                   "0-3,6)");
  check_resources ("{\"cpu\": {\"cpus\": \"0-99999\"}}",
                   "update: cpu.cpus: \"0-99999\": CPUs go up to 1023");
  {
    /* a CPU the host does not have online: the message names those it has
     * (no test machine has a thousand) */
    const char *json = "{\"cpu\": {\"cpus\": \"1000\"}}";
    const char *want = "update: cpu.cpus: \"1000\" names CPUs this host does "
                       "not have online (it has 0";
    oci_linux_resources *r
        = oci_linux_resources_parse_data (json, strlen (json), "update", NULL);
    ko_error *err = NULL;
    ok (r && translate_check_resources (r, "update", &err) < 0 && err
            && strncmp (err->msg, want, strlen (want)) == 0,
        "cpu.cpus beyond the host's CPUs: %s", err ? err->msg : "");
    ko_error_free (err);
    oci_linux_resources_free (r);
  }
  {
    cpu_set_t set;
    ok (cgroup_cpus_parse ("0-2,5,7-8", "x", &set, NULL) == 0
            && CPU_COUNT (&set) == 6 && CPU_ISSET (5, &set)
            && !CPU_ISSET (3, &set) && CPU_ISSET (8, &set),
        "cpu list 0-2,5,7-8");
    is_int (cgroup_cpus_count ("1,3"), 2, "cpu count 1,3");
    is_int (cgroup_cpus_count ("x"), 0, "cpu count of a bad list");
    is_int (cgroup_cpus_count (""), 0, "cpu count of an empty list");
  }
}

/* ---- exec --cgroup ---- */

static void
exec_cgroup (const char *a, const char *b, const char *want_sub,
             const char *want_err)
{
  char *args[] = { (char *)a, (char *)b, NULL };
  size_t n = b ? 2 : 1;
  char *sub = (char *)"unset";
  ko_error *err = NULL;
  int r = translate_exec_cgroup (args, n, &sub, &err);
  if (want_err)
    {
      ok (r < 0, "exec --cgroup %s%s%s refused", a, b ? " " : "", b ? b : "");
      is_str (err ? err->msg : NULL, want_err, "its message");
    }
  else
    {
      ok (r == 0, "exec --cgroup %s%s%s", a, b ? " " : "", b ? b : "");
      is_str (sub, want_sub, "sub-group of %s", a);
      free (sub);
    }
  ko_error_free (err);
}

static void
test_exec_cgroup (void)
{
  exec_cgroup ("/", NULL, NULL, NULL);
  exec_cgroup ("", NULL, NULL, NULL);
  exec_cgroup ("a/b", NULL, "a/b", NULL);
  exec_cgroup ("/a//./b/", NULL, "a/b", NULL);
  exec_cgroup ("a/../b", NULL, "b", NULL);
  exec_cgroup ("cpu:a", NULL, "a", NULL);
  exec_cgroup ("cpu,memory:a", "pids:a", "a", NULL);
  exec_cgroup ("memory:/", "/", NULL, NULL);
  {
    char longp[PATH_MAX + 16];
    memset (longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    exec_cgroup (longp, NULL, NULL, "exec: --cgroup: path too long");
  }
  exec_cgroup ("a/b/../../c/./", NULL, "c", NULL);
  exec_cgroup ("../\x01/x", NULL, NULL,
               "exec: --cgroup ../\x01/x: a control character in the path");
  exec_cgroup ("..", NULL, NULL,
               "exec: --cgroup ..: outside the container's cgroup");
  exec_cgroup ("a/../..", NULL, NULL,
               "exec: --cgroup a/../..: outside the container's cgroup");
  exec_cgroup ("waaaaat:/", NULL, NULL,
               "exec: --cgroup waaaaat:/: unknown controller \"waaaaat\" "
               "(the guest's cgroup v2 has cpuset, cpu, io, memory, hugetlb, "
               "pids, rdma and misc)");
  exec_cgroup (":a", NULL, NULL,
               "exec: --cgroup :a: unknown controller \"\" (the guest's "
               "cgroup v2 has cpuset, cpu, io, memory, hugetlb, pids, rdma "
               "and misc)");
  exec_cgroup ("cpu,:a", NULL, NULL,
               "exec: --cgroup cpu,:a: unknown controller \"\" (the guest's "
               "cgroup v2 has cpuset, cpu, io, memory, hugetlb, pids, rdma "
               "and misc)");
  exec_cgroup ("cpu:a", "memory:b", NULL,
               "exec: --cgroup cpu:a and --cgroup memory:b: with cgroup v2 "
               "every controller is in the same group");
}

/* ---- networking: what the VM gets from a network path ---- */

/* translate_network_path of a spec with these linux.namespaces */
static char *
network_path_of (const char *namespaces)
{
  oci_spec *spec = spec_of ("{\"ociVersion\": \"1.2.0\", \"root\": "
                            "{\"path\": \"rootfs\"}, \"linux\": "
                            "{\"namespaces\": %s}}",
                            namespaces);
  const char *p = spec ? translate_network_path (spec) : NULL;
  char *r = p ? strdup (p) : NULL;
  oci_spec_free (spec);
  return r;
}

static void
test_network (void)
{
  char *p = network_path_of (
      "[{\"type\": \"pid\"}, {\"type\": \"network\", \"path\": "
      "\"/run/netns/cni-1\"}]");
  is_str (p, "/run/netns/cni-1", "network path: found for the monitor");
  free (p);
  p = network_path_of ("[{\"type\": \"network\"}]");
  ok (p == NULL, "network without a path: nothing passed in");
  free (p);
  p = network_path_of ("[{\"type\": \"network\", \"path\": \"\"}]");
  ok (p == NULL, "network with an empty path: nothing passed in");
  free (p);

  /* on-link routes first, so that gateways are reachable when theirs are
   * added; the kernel's order kept otherwise */
  struct ko_net_route rt[4] = {
    { .family = AF_INET, .has_gw = true, .dev = "a" },
    { .family = AF_INET, .dst_len = 24, .dev = "b" },
    { .family = AF_INET6, .has_gw = true, .dev = "c" },
    { .family = AF_INET6, .dst_len = 64, .dev = "d" },
  };
  network_sort_routes (rt, 4);
  ok (strcmp (rt[0].dev, "b") == 0 && strcmp (rt[1].dev, "d") == 0
          && strcmp (rt[2].dev, "a") == 0 && strcmp (rt[3].dev, "c") == 0,
      "routes: on-link first, stable");
  network_sort_routes (rt, 0);
  ok (1, "routes: none to sort");
}

static void
test_mountinfo (void)
{
  static const char text[]
      = "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
        "40 22 7:0 / /run/c\\040d/rootfs rw,nosuid,noatime shared:9 - ext4 "
        "/dev/loop0 rw\n"
        "41 22 7:1 /sub /mnt/part ro,relatime - xfs /dev/loop1 ro\n"
        "42 40 0:50 / /run/c\\040d/rootfs ro,nodev - tmpfs tmpfs rw\n"
        "43 22 7:2 / /mnt/a rw - ext4 /dev/loop2 rw\n"
        "44 22 7:2 / /mnt/b rw - ext4 /dev/loop2 rw\n"
        "45 22 7:3 / /mnt/opt rw master:3 shared:4 - xfs /dev/loop3 rw\n";
  struct ko_mountinfo m;
  char *other = NULL;
  ko_error *err = NULL;
  ok (blockdev_mountinfo_find (text, "/mnt/part", &m, &other, &err) == 0
          && m.major == 7 && m.minor == 1 && strcmp (m.root, "/sub") == 0
          && strcmp (m.fstype, "xfs") == 0 && other == NULL,
      "mountinfo: a bind of part of a filesystem: its root");
  ko_mountinfo_clear (&m);
  ok (blockdev_mountinfo_find (text, "/run/c d/rootfs", &m, &other, &err) == 0
          && strcmp (m.fstype, "tmpfs") == 0 && m.major == 0,
      "mountinfo: escapes undone; the last mount on a point is on top");
  ko_mountinfo_clear (&m);
  free (other);
  other = NULL;
  ok (blockdev_mountinfo_find (text, "/mnt/a", &m, &other, &err) == 0 && other
          && strcmp (other, "/mnt/b") == 0
          && strcmp (m.source, "/dev/loop2") == 0,
      "mountinfo: another mount of the same device is named");
  ko_mountinfo_clear (&m);
  free (other);
  other = NULL;
  ok (blockdev_mountinfo_find (text, "/mnt/opt", &m, &other, &err) == 0
          && strcmp (m.fstype, "xfs") == 0
          && strcmp (m.source, "/dev/loop3") == 0 && other == NULL,
      "mountinfo: optional fields before the separator");
  ko_mountinfo_clear (&m);
  ok (blockdev_mountinfo_find (text, "/mnt", &m, &other, &err) < 0 && err
          && err->status == ENOENT && other == NULL,
      "mountinfo: no mount point: ENOENT");
  ko_error_free (err);
  err = NULL;
  ok (blockdev_mountinfo_find ("22 1 254:1 / / rw shared:1 ext4 /dev/vda1\n",
                               "/", &m, &other, &err)
              < 0
          && err && err->status == EINVAL
          && strstr (err->msg, "line 1: cannot be read"),
      "mountinfo: a line without its separator is an error");
  ko_error_free (err);
  err = NULL;
  ok (blockdev_mountinfo_find ("1 2 x:y / / rw - ext4 /dev/x rw\n", "/", &m,
                               &other, &err)
              < 0
          && err && err->status == EINVAL,
      "mountinfo: bad device numbers are an error");
  ko_error_free (err);
  ok (blockdev_mount_flags ("rw,nosuid,nodev,noexec,relatime")
          == (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME),
      "mount flags: per-mount options");
  ok (blockdev_mount_flags ("ro,noatime,nodiratime,rootcontext=x")
          == (MS_RDONLY | MS_NOATIME | MS_NODIRATIME),
      "mount flags: unknown options ignored");
  ok (blockdev_mount_flags ("") == 0 && blockdev_mount_flags (NULL) == 0,
      "mount flags: none");
}

int
main (void)
{
  if (mkdtemp (bundle) == NULL)
    return 99;
  char vol[128];
  snprintf (vol, sizeof vol, "%s/vol", bundle);
  mkdir (vol, 0755);
  test_caps ();
  test_process_errors ();
  test_seccomp ();
  test_mounts ();
  test_mount_options ();
  test_linux ();
  test_disks ();
  test_mountinfo ();
  test_kernel_fs ();
  test_userns ();
  test_cgroup ();
  test_fs_cache ();
  test_resources_checks ();
  test_exec_cgroup ();
  test_network ();
  rmdir (vol);
  rmdir (bundle);
  return tap_done ();
}
