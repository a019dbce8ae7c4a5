/* The CLI's side of monitor.sock: one typed call per request. Nothing
 * outside this file and the monitor reads or writes the socket's frames. */
#ifndef KO_CLIENT_H
#define KO_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "monproto.h"

/* dir: the container's state dir; id: the container (NULL: the sandbox's
 * own). Each waits at most timeout_ms for the monitor's answer. */
int client_start (const char *dir, const char *id, int timeout_ms,
                  ko_error **err);
int client_kill (const char *dir, const char *id, int sig, bool all,
                 int timeout_ms, ko_error **err);
int client_destroy (const char *dir, const char *id, int timeout_ms,
                    ko_error **err);
int client_pause (const char *dir, const char *id, bool pause, int timeout_ms,
                  ko_error **err);
int client_ps (const char *dir, const char *id, struct ko_mon_pids *pids,
               int timeout_ms, ko_error **err);
int client_update (const char *dir, const char *id, const char *json,
                   int timeout_ms, ko_error **err);
int client_stats (const char *dir, const char *id, struct ko_mon_stats *st,
                  int timeout_ms, ko_error **err);

/* KO_MON_METRICS without waiting, to ask many monitors at once:
 * client_metrics_send returns the connection with the request sent;
 * client_metrics_read reads what has come: 1 with *m once the reply is
 * whole, 0 when more is to come (poll conn), -1 with *err. */
int client_metrics_send (const char *dir, ko_error **err);
int client_metrics_read (int conn, struct ko_buf *in, struct ko_mon_metrics *m,
                         ko_error **err);

/* A pod member joins the sandbox whose state dir is dir: fds are its
 * holder's socket and its stdio (monproto.h, KO_MON_ADD). */
int client_add (const char *dir, const struct ko_mon_add *req, const int *fds,
                int nfds, int timeout_ms, ko_error **err);
int client_remove (const char *dir, const char *id, bool force, int timeout_ms,
                   ko_error **err);

/* An exec session: the request with the caller's stdio fds; on success
 * *conn is the session's connection, *pid the process's guest pid, and in
 * holds what the session sent after the reply (pass it to
 * client_exec_wait: a short process's exit comes with the reply). */
int client_exec_open (const char *dir, const struct ko_mon_exec *req,
                      const int *fds, int nfds, int timeout_ms, int *conn,
                      uint32_t *pid, struct ko_buf *in, ko_error **err);
void client_exec_kill (int conn, int sig);
void client_exec_resize (int conn, uint32_t rows, uint32_t cols);
/* What the session sent: 1 with *status (raw wait status) at the
 * process's exit, 0 when more may come (call again when conn is
 * readable), -1 when the connection ended first. It looks at what in
 * holds before it reads (read: false to look only). */
int client_exec_wait (int conn, struct ko_buf *in, bool read, uint32_t *status);

#endif
