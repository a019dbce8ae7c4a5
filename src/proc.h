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
/* Reads /proc/PID/NAME into buf, NUL-terminated: its length, or -1 when
 * the process or file is gone. */
ssize_t proc_read (pid_t pid, const char *name, char *buf, size_t size);
/* What a host process uses (KO_PV_* of monproto.h): /proc/PID/stat,
 * smaps_rollup, fd/ and io. *has gets a bit for every value read; 0 when
 * the process is gone. */
void proc_usage (pid_t pid, uint32_t *has, uint64_t v[]);
/* The parsers it uses, on a file's text (unit-tested): */
/* /proc/PID/stat: CPU user and system ns, threads, RSS bytes. */
int proc_parse_stat (const char *text, uint64_t *user_ns, uint64_t *sys_ns,
                     uint64_t *threads, uint64_t *rss);
/* A "Key: value" line of smaps_rollup or io: 0 with *out (a kB value of
 * smaps_rollup in bytes), -1 when absent. */
int proc_parse_key (const char *text, const char *key, uint64_t *out);

/* Writes a decimal pid to path via a temp file and rename. */
int write_pid_file (const char *path, pid_t pid, ko_error **err);

/* runc's --pidfd-socket: connects to the unix socket at path and sends a
 * pidfd of pid over it (SCM_RIGHTS), with kind ("standard" for a
 * container's pid, "setns" for an exec'd process's) as the message. */
int send_pidfd (const char *path, pid_t pid, const char *kind, ko_error **err);

#endif
