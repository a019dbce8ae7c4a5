/* A pod member, on the CLI's side: it gets no VM of its own; its create
 * forks its holder and asks the sandbox's monitor to run it in the pod's
 * VM (KO_MON_ADD), and every later command goes to that monitor. */
#ifndef KO_MEMBER_H
#define KO_MEMBER_H

#include "cli.h"
#include "error.h"

struct create_opts;
struct monitor_params;
struct pod_info;
struct ko_buf;
struct ko_state;

/* The member's sandbox: its state, which must say it runs. */
int member_sandbox (struct ko_global *g, const struct pod_info *pi,
                    struct ko_state *sandbox, ko_error **err);
/* What CreateContainer of a member adds (the namespaces it shares) and
 * what its state records (its sandbox). */
int member_fields (const struct pod_info *pi, struct ko_buf *fields,
                   struct ko_state *st, ko_error **err);
/* Creates the member (its state dir is made and locked: dirfd); removes
 * the dir again on failure. */
int member_create (struct ko_global *g, const struct create_opts *o,
                   struct monitor_params *p, const struct pod_info *pi,
                   const struct ko_state *sandbox, int dirfd, ko_error **err);
/* The state dir of the monitor that runs the container: its sandbox's
 * for a member. malloc'd. */
char *member_monitor_dir (struct ko_global *g, const struct ko_state *st);

#endif
