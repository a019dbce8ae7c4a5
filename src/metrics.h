/* `kata-oci metrics`: every sandbox's metrics (or those of the ids named)
 * in the Prometheus text format, gathered at the moment they are asked
 * for: each monitor is asked at once (KO_MON_METRICS), all concurrently,
 * each within a bounded time. */
#ifndef KO_METRICS_H
#define KO_METRICS_H

#include "cli.h"
#include "error.h"
#include "proto.h"

/* How long a scrape waits for the monitors: the guest's deadline and a
 * margin for the monitor's own reads. */
#define KO_METRICS_TIMEOUT_MS 1500
/* --listen: the largest request and the longest time to send it */
#define KO_METRICS_MAX_REQUEST 8192
#define KO_METRICS_READ_MS 2000

/* Appends the exposition to out. ids: NULL-terminated (none: all).
 * warn: say on stderr which monitors did not answer. */
int metrics_gather (const char *root, char *const *ids, bool warn,
                    struct ko_buf *out, ko_error **err);
/* Serves GET /metrics on addr ("HOST:PORT", "[V6]:PORT") until SIGINT or
 * SIGTERM. */
int metrics_serve (const char *root, char *const *ids, const char *addr,
                   ko_error **err);

#endif
