/* Test helper playing conmon's part of waiting for a container: become a
 * child subreaper, run COMMAND (e.g. `kata-oci create --pid-file PIDFILE`),
 * then wait for the pid in PIDFILE, which is not our child, and write how
 * it ended to RESULT: "exit N" or "signal N". Other orphans are reaped
 * silently. COMMAND keeps our stdio.
 * Usage: reaper PIDFILE RESULT COMMAND [ARG...] */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  if (argc < 4)
    {
      fprintf (stderr, "usage: reaper PIDFILE RESULT COMMAND [ARG...]\n");
      return 2;
    }
  if (prctl (PR_SET_CHILD_SUBREAPER, 1) < 0)
    {
      perror ("reaper: PR_SET_CHILD_SUBREAPER");
      return 2;
    }
  pid_t cmd = fork ();
  if (cmd < 0)
    {
      perror ("reaper: fork");
      return 2;
    }
  if (cmd == 0)
    {
      execvp (argv[3], argv + 3);
      perror ("reaper: exec");
      _exit (127);
    }
  int st;
  if (waitpid (cmd, &st, 0) < 0 || !WIFEXITED (st) || WEXITSTATUS (st) != 0)
    {
      fprintf (stderr, "reaper: %s failed\n", argv[3]);
      return 2;
    }
  FILE *f = fopen (argv[1], "r");
  int want = 0;
  if (f == NULL || fscanf (f, "%d", &want) != 1 || want <= 0)
    {
      fprintf (stderr, "reaper: no pid in %s\n", argv[1]);
      return 2;
    }
  fclose (f);
  for (;;)
    {
      pid_t pid = waitpid (-1, &st, 0);
      if (pid < 0)
        {
          if (errno == EINTR)
            continue;
          fprintf (stderr, "reaper: pid %d was never reaped here\n", want);
          return 2;
        }
      if (pid != want)
        continue;
      FILE *out = fopen (argv[2], "w");
      if (out == NULL)
        {
          perror ("reaper: open result");
          return 2;
        }
      if (WIFEXITED (st))
        fprintf (out, "exit %d\n", WEXITSTATUS (st));
      else
        fprintf (out, "signal %d\n", WTERMSIG (st));
      fclose (out);
      /* the rest leave on their own: reap them too */
      while (waitpid (-1, &st, 0) > 0 || errno == EINTR)
        ;
      return 0;
    }
}
