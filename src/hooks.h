/* OCI hooks, run on the host: each gets the state JSON on stdin, its own
 * args and env, and is killed after its timeout. */
#ifndef KO_HOOKS_H
#define KO_HOOKS_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "oci.h"

/* Remembers the caller's mount namespace (call before the monitor unshares
 * its own), so hooks run in the host's mounts, not the monitor's. */
void hooks_init (void);

/* Runs hooks[0..n) in order, stopping at the first failure: *err names the
 * kind ("prestart"), the hook's index and path and quotes its output. The
 * state document has id, status, pid (0: none), bundle and the
 * annotations. */
int hooks_run (const char *kind, const oci_hook *hooks, size_t n,
               const oci_spec *spec, const char *id, const char *status,
               pid_t pid, const char *bundle, ko_error **err);

/* The points of the lifecycle, for the monitor and delete. */
/* create: prestart, createRuntime, createContainer; the first failure
 * fails create. */
int hooks_on_create (const oci_spec *spec, const char *id, pid_t pid,
                     const char *bundle, ko_error **err);
/* start, before the container's process runs: startContainer. */
int hooks_on_start (const oci_spec *spec, const char *id, pid_t pid,
                    const char *bundle, ko_error **err);
/* poststart and poststop: a failure is only a warning (logged). */
void hooks_after_start (const oci_spec *spec, const char *id, pid_t pid,
                        const char *bundle);
void hooks_after_delete (const oci_spec *spec, const char *id,
                         const char *bundle);

#endif
