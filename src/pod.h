/* Pods: which container of a pod a spec is, and what its namespace paths
 * mean. A pod is one VM: its sandbox (pause, infra) container boots it,
 * every member runs in it.
 *
 *   CRI-O       io.kubernetes.cri-o.ContainerType = sandbox | container,
 *               io.kubernetes.cri-o.SandboxID
 *   containerd  io.kubernetes.cri.container-type = sandbox | container,
 *               io.kubernetes.cri.sandbox-id
 *   podman      members: SandboxID (and ContainerType = container before
 *               4.4); the infra container: nothing
 *
 * A spec with a sandbox id other than its own and no "sandbox" type is a
 * member; anything else has a VM of its own. */
#ifndef KO_POD_H
#define KO_POD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "holder.h"

struct oci_spec;
struct ko_state;

struct pod_info
{
  bool member;
  bool sandbox; /* the engine says it is a pod's sandbox (not podman) */
  const char *sandbox_id; /* a member's sandbox (points into the spec) */
  const char *key;        /* the annotation that named it */
  /* a member: CLONE_NEW* namespaces it shares with the sandbox's init in
   * the guest */
  uint64_t join_ns;
  /* where the container's holder goes (holder.h) */
  struct holder_ns holder;
};

void pod_classify (const struct oci_spec *spec, const char *id,
                   struct pod_info *pi);
void pod_info_clear (struct pod_info *pi);

/* Reads the namespace paths of the spec and leaves in it only what the
 * guest must make (translate.c refuses any path that remains but the
 * network's):
 * - a sandbox: a path to an IPC or UTS namespace that is not the host's
 *   (CRI-O's pinned ones) is the pod's: its holder joins it, the guest
 *   makes a fresh one;
 * - a member: a path to one of the sandbox's namespaces (its holder's:
 *   sandbox_holder) means sharing that namespace with the sandbox's init
 *   in the guest (join_ns); any other path is refused.
 * The holder's namespaces are taken first. */
int pod_namespaces (struct oci_spec *spec, struct pod_info *pi,
                    pid_t sandbox_holder, ko_error **err);

/* A sandbox's VM holds the whole pod: containerd's CRI passes the sum of
 * the pod's containers' limits (io.kubernetes.cri.sandbox-memory, bytes;
 * sandbox-cpu-quota and -period); the VM is at least that large. */
void pod_size_sandbox (const struct oci_spec *spec, int *memory_mb, int *vcpus);

/* A member's sandbox must exist and run (created, running or paused). */
int pod_check_sandbox (const struct pod_info *pi, const struct ko_state *sb,
                       const char *status, ko_error **err);

#endif
