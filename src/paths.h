/* Names of the files in a sandbox's state dir, and default locations. */
#ifndef KO_PATHS_H
#define KO_PATHS_H

#define KO_DEFAULT_ROOT "/run/kata-oci"
#define KO_STATE_FILE "state.json"
#define KO_MONITOR_SOCK "monitor.sock"
#define KO_QMP_SOCK "qmp.sock"
#define KO_AGENT_SOCK "agent.sock"
#define KO_VIRTIOFSD_SOCK "virtiofsd.sock"
#define KO_SHARED_DIR "shared"
#define KO_CONSOLE_LOG "console.log"
#define KO_QEMU_LOG "qemu.log"
#define KO_VIRTIOFSD_LOG "virtiofsd.log"
#define KO_ID_MAX 128
/* Room past the state dir for the longest path kata-oci makes in it
 * (shared/<id>/mounts/<n>) or beside it (.deleting-<id>-<pid>). */
#define KO_STATE_NAMES_MAX 256

#endif
