/* Pods: which container of a pod a spec is (the engines' annotations),
 * what its namespace paths mean, how a sandbox is sized. */
#include "config.h"

#include "oci.h"
#include "pod.h"
#include "state.h"
#include "tap.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static oci_spec *
spec_of (const char *annotations, const char *namespaces)
{
  char json[4096];
  snprintf (json, sizeof json,
            "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
            " \"annotations\": {%s},"
            " \"linux\": {\"namespaces\": [%s]}}",
            annotations, namespaces);
  ko_error *err = NULL;
  oci_spec *s = oci_spec_parse_data (json, strlen (json), "config.json", &err);
  if (s == NULL)
    printf ("# %s\n", err->msg);
  ko_error_free (err);
  return s;
}

static void
classify (const char *annotations, const char *id, bool member,
          const char *sandbox, const char *what)
{
  oci_spec *s = spec_of (annotations, "");
  struct pod_info pi;
  pod_classify (s, id, &pi);
  ok (pi.member == member, "%s: %s", what,
      member ? "a member" : "a VM of its own");
  /* a pod's sandbox gets root ports for its members' disks */
  bool sandbox_type = strstr (annotations, "\"sandbox\"") != NULL;
  ok (pi.sandbox == sandbox_type, "%s: %s", what,
      sandbox_type ? "a pod's sandbox" : "not known as a pod's sandbox");
  is_str (pi.sandbox_id, sandbox, "%s: its sandbox", what);
  pod_info_clear (&pi);
  oci_spec_free (s);
}

static void
test_classify (void)
{
  classify ("", "c1", false, NULL, "no annotation (podman's infra)");
  classify ("\"io.kubernetes.cri-o.ContainerType\": \"sandbox\","
            "\"io.kubernetes.cri-o.SandboxID\": \"p1\"",
            "p1", false, NULL, "CRI-O's sandbox");
  classify ("\"io.kubernetes.cri-o.ContainerType\": \"container\","
            "\"io.kubernetes.cri-o.SandboxID\": \"p1\"",
            "c1", true, "p1", "CRI-O's container");
  classify ("\"io.kubernetes.cri.container-type\": \"container\","
            "\"io.kubernetes.cri.sandbox-id\": \"p2\"",
            "c2", true, "p2", "containerd's container");
  classify ("\"io.kubernetes.cri.container-type\": \"sandbox\","
            "\"io.kubernetes.cri.sandbox-id\": \"p2\"",
            "p2", false, NULL, "containerd's sandbox");
  classify ("\"io.kubernetes.cri-o.SandboxID\": \"infra\"", "c3", true, "infra",
            "podman 4.4's member: SandboxID alone");
  classify ("\"io.kubernetes.cri-o.SandboxID\": \"c4\"", "c4", false, NULL,
            "a sandbox id that is its own");
  classify ("\"io.kubernetes.cri-o.SandboxID\": \"\"", "c5", false, NULL,
            "an empty sandbox id");
}

static void
test_size (void)
{
  oci_spec *s = spec_of ("\"io.kubernetes.cri.sandbox-memory\": \"1073741824\","
                         "\"io.kubernetes.cri.sandbox-cpu-quota\": \"250000\","
                         "\"io.kubernetes.cri.sandbox-cpu-period\": \"100000\"",
                         "");
  int mb = 256, cpus = 1;
  pod_size_sandbox (s, &mb, &cpus);
  ok (mb >= 1024, "sandbox-memory 1 GiB: the VM holds it (%d MiB)", mb);
  is_int (cpus, 3, "a quota of 2.5 CPUs: 3 vCPUs");
  oci_spec_free (s);
  s = spec_of ("\"io.kubernetes.cri.sandbox-memory\": \"1048576\","
               "\"io.kubernetes.cri.sandbox-cpu-quota\": \"x\"",
               "");
  mb = 256;
  cpus = 2;
  pod_size_sandbox (s, &mb, &cpus);
  is_int (mb, 256, "a pod smaller than the VM: the VM as it is");
  is_int (cpus, 2, "a bad quota: ignored");
  oci_spec_free (s);
}

static void
test_namespaces (void)
{
  char self[64], json[512];
  snprintf (self, sizeof self, "/proc/%d/ns", (int)getpid ());
  /* a member whose paths are its sandbox's holder's (here: ours) */
  snprintf (json, sizeof json,
            "{\"type\": \"pid\"}, {\"type\": \"mount\"},"
            "{\"type\": \"network\", \"path\": \"%s/net\"},"
            "{\"type\": \"ipc\", \"path\": \"%s/ipc\"},"
            "{\"type\": \"uts\", \"path\": \"%s/uts\"}",
            self, self, self);
  oci_spec *s = spec_of ("\"io.kubernetes.cri-o.SandboxID\": \"sb\"", json);
  struct pod_info pi;
  pod_classify (s, "m", &pi);
  ko_error *err = NULL;
  ok (pod_namespaces (s, &pi, getpid (), &err) == 0, "member: the pod's paths");
  ok (pi.join_ns == (CLONE_NEWIPC | CLONE_NEWUTS),
      "member: shares IPC and UTS in the guest, not network (the VM's)");
  is_int (s->linux->namespaces_len, 2, "member: the shared entries dropped");
  char want[80];
  snprintf (want, sizeof want, "%s/ipc", self);
  is_str (pi.holder.ipc, want,
          "member: its holder joins the pod's IPC namespace");
  ok (pi.holder.new_pid && !pi.holder.pid,
      "member: a PID namespace of its own");
  pod_info_clear (&pi);
  oci_spec_free (s);
  ko_error_free (err);

  /* a path that is not the sandbox's */
  snprintf (json, sizeof json,
            "{\"type\": \"mount\"}, {\"type\": \"ipc\", \"path\": "
            "\"/nonexistent/ipc\"}");
  s = spec_of ("\"io.kubernetes.cri-o.SandboxID\": \"sb\"", json);
  pod_classify (s, "m", &pi);
  err = NULL;
  ok (pod_namespaces (s, &pi, getpid (), &err) < 0, "member: a foreign path");
  is_str (err ? err->msg : NULL,
          "config.json: linux.namespaces[1].path: /nonexistent/ipc is not a "
          "namespace of the pod's sandbox sb (io.kubernetes.cri-o.SandboxID): "
          "a container inside a VM can share only its pod's",
          "member: its message names the entry");
  is_int (err ? err->status : 0, ENOTSUP, "ENOTSUP");
  ko_error_free (err);
  pod_info_clear (&pi);
  oci_spec_free (s);

  /* a sandbox: the host's own IPC namespace stays for translate to refuse */
  snprintf (json, sizeof json, "{\"type\": \"ipc\", \"path\": \"%s/ipc\"}",
            self);
  s = spec_of ("", json);
  pod_classify (s, "sb", &pi);
  err = NULL;
  ok (pod_namespaces (s, &pi, 0, &err) == 0, "sandbox: paths read");
  ok (s->linux->namespaces[0].path != NULL,
      "sandbox: the host's IPC namespace is left to be refused");
  pod_info_clear (&pi);
  oci_spec_free (s);
}

static void
test_check_sandbox (void)
{
  struct pod_info pi = { .member = true,
                         .sandbox_id = "sb",
                         .key = "io.kubernetes.cri.sandbox-id" };
  ko_error *err = NULL;
  ok (pod_check_sandbox (&pi, NULL, NULL, &err) < 0, "no sandbox");
  is_str (err ? err->msg : NULL,
          "config.json: annotations: io.kubernetes.cri.sandbox-id: sandbox sb "
          "does not exist",
          "its message");
  ko_error_free (err);
  struct ko_state st = { 0 };
  err = NULL;
  ok (pod_check_sandbox (&pi, &st, "stopped", &err) < 0, "a stopped sandbox");
  is_str (err ? err->msg : NULL,
          "config.json: annotations: io.kubernetes.cri.sandbox-id: sandbox sb "
          "is stopped, not running",
          "its message");
  ko_error_free (err);
  st.sandbox = "other";
  err = NULL;
  ok (pod_check_sandbox (&pi, &st, "running", &err) < 0, "a member as sandbox");
  ko_error_free (err);
  st.sandbox = NULL;
  ok (pod_check_sandbox (&pi, &st, "running", NULL) == 0, "a running sandbox");
}

int
main (void)
{
  test_classify ();
  test_size ();
  test_namespaces ();
  test_check_sandbox ();
  return tap_done ();
}
