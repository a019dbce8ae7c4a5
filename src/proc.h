/* Process helpers: start times (to defeat pid reuse), liveness, waiting. */
#ifndef KO_PROC_H
#define KO_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Start time of pid in clock ticks since boot (field 22 of /proc/pid/stat),
 * or 0 when the process does not exist. */
uint64_t proc_start_time (pid_t pid);
/* Alive only if pid exists with the recorded start time. */
bool proc_alive (pid_t pid, uint64_t start_time);
/* Waits up to timeout_ms for a process (not necessarily our child) to go. */
bool proc_wait_gone (pid_t pid, uint64_t start_time, int timeout_ms);
/* SIGKILL pid if it is still the recorded process, then wait for it. */
void proc_kill_recorded (pid_t pid, uint64_t start_time);
/* Writes a decimal pid to path via a temp file and rename. */
int write_pid_file (const char *path, pid_t pid, ko_error **err);

#endif
