/* A small QMP client: the monitor's connection to QEMU's qmp.sock, used for
 * memory hotplug. QEMU is trusted more than the guest, but what it says is
 * still parsed with bounds: a line of at most KO_QMP_LINE_MAX bytes holding
 * one JSON object, or the message is refused. */
#ifndef KO_QMP_H
#define KO_QMP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "proto.h"

#define KO_QMP_LINE_MAX (64 << 10)
#define KO_QMP_DESC_MAX 512 /* an error's desc is cut there */

enum qmp_kind
{
  QMP_GREETING, /* {"QMP": ...} when connected */
  QMP_RETURN,   /* {"return": ...}: the command succeeded */
  QMP_ERROR,    /* {"error": {"class", "desc"}} */
  QMP_EVENT,    /* {"event": NAME, "data": ...} */
};

struct qmp_msg
{
  enum qmp_kind kind;
  char *error;    /* QMP_ERROR: desc, printable */
  char *event;    /* QMP_EVENT: its name */
  char *device;   /* ACPI_DEVICE_OST: data.info.device; DEVICE_DELETED:
                     data.device; when present */
  int64_t status; /* ACPI_DEVICE_OST: data.info.status (0: success) */
};
void qmp_msg_clear (struct qmp_msg *m);

/* One message: a line without its line end. */
int qmp_parse (const char *line, size_t len, struct qmp_msg *m, ko_error **err);

struct ko_qmp
{
  int fd; /* non-blocking; -1 when closed */
  struct ko_buf in;
};

/* Connects to the socket at path; the greeting is read like any message. */
int qmp_connect (const char *path, struct ko_qmp *q, ko_error **err);
void qmp_close (struct ko_qmp *q);
/* Sends one command line (JSON without the line end); with fd >= 0, the
 * fd goes along (SCM_RIGHTS) for the command to take (add-fd). */
int qmp_send (struct ko_qmp *q, const char *json, int fd, ko_error **err);
/* The next message: 1 with *m, 0 when no whole line has arrived yet, -1 when
 * QEMU closed the connection or sent something malformed. */
int qmp_read (struct ko_qmp *q, struct qmp_msg *m, ko_error **err);

#endif
