/* nothp PROGRAM ARG...: runs PROGRAM with transparent huge pages disabled
 * (prctl PR_SET_THP_DISABLE, inherited across exec), as kata-oci's monitor
 * does for the QEMU it spawns. Under TCG this alone changes boot time by
 * most of a second, so the bare VMs must match. */
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  if (argc < 2)
    return 2;
  if (prctl (PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
    perror ("nothp: prctl");
  execvp (argv[1], argv + 1);
  perror (argv[1]);
  return 127;
}
