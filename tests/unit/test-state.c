/* The state store: ids, atomic writes, locking, liveness, parsing. */
#include "config.h"

#include "cli.h"
#include "proc.h"
#include "state.h"
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

static void
expect_bad_id (const char *id, const char *msg)
{
  ko_error *err = NULL;
  ok (state_validate_id (id, &err) < 0, "id \"%.20s\" refused", id);
  is_str (err ? err->msg : NULL, msg, "message for \"%.20s\"", id);
  is_int (err ? err->status : 0, EINVAL, "status EINVAL");
  ko_error_free (err);
}

static void
test_ids (void)
{
  const char *good[] = { "a", "abc-DEF_1.2+3", "..a", "a..b", "x.." };
  for (size_t i = 0; i < KO_ARRAY_SIZE (good); i++)
    ok (state_validate_id (good[i], NULL) == 0, "id \"%s\" accepted", good[i]);
  expect_bad_id ("", "container id cannot be empty");
  expect_bad_id (".", "invalid container id: .");
  expect_bad_id ("..", "invalid container id: ..");
  expect_bad_id ("a/b", "invalid container id: a/b: only letters, digits "
                        "and _+-. are allowed");
  expect_bad_id ("a b", "invalid container id: a b: only letters, digits "
                        "and _+-. are allowed");
  char long_id[200];
  memset (long_id, 'a', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  expect_bad_id (long_id, "invalid container id: longer than 128 characters");
}

static void
test_store (void)
{
  char root[] = "/tmp/ko-test-state-XXXXXX";
  ok (mkdtemp (root) != NULL, "temp root");
  int fd = -1;
  ko_error *err = NULL;
  ok (state_dir_create (root, "c1", &fd, &err) == 0, "create dir");
  struct ko_state st = { 0 };
  st.id = strdup ("c1");
  st.status = strdup ("created");
  st.bundle = strdup ("/b");
  st.monitor_pid = getpid ();
  st.monitor_start = proc_start_time (getpid ());
  st.has_exit_status = true;
  st.exit_status = 137;
  st.notify_socket = strdup ("@systemd/notify");
  st.annotations = calloc (3, sizeof (char *));
  st.annotations[0] = strdup ("k");
  st.annotations[1] = strdup ("v\"quoted\"");
  ok (state_write (fd, &st, &err) == 0, "write state");
  struct ko_state rd = { 0 };
  ok (state_read (fd, &rd, &err) == 0, "read state back");
  is_str (rd.id, "c1", "id");
  is_str (rd.status, "created", "status");
  is_str (rd.bundle, "/b", "bundle");
  is_int (rd.monitor_pid, getpid (), "monitor pid");
  ok (rd.has_exit_status && rd.exit_status == 137, "exit status");
  is_str (rd.annotations ? rd.annotations[1] : NULL, "v\"quoted\"",
          "annotation");
  is_str (rd.notify_socket, "@systemd/notify", "NOTIFY_SOCKET kept");
  is_str (state_status (&rd), "created", "live monitor: recorded status");
  rd.monitor_start += 1;
  is_str (state_status (&rd), "stopped", "pid reuse: start time differs");
  char *json = state_oci_json (&rd);
  ok (json && strstr (json, "\"status\": \"stopped\"")
          && strstr (json, "\"pid\": 0"),
      "OCI state of a stopped container");
  free (json);
  state_clear (&rd);

  /* no temp file left behind by the atomic write */
  char path[512];
  snprintf (path, sizeof path, "%s/c1/.state.json.%d", root, (int)getpid ());
  ok (access (path, F_OK) < 0, "no temp file left");

  /* a second create of the same id fails cleanly */
  int fd2 = -1;
  ok (state_dir_create (root, "c1", &fd2, &err) < 0, "duplicate id refused");
  is_str (err ? err->msg : NULL, "container with id exists: c1",
          "duplicate message");
  ko_error_free (err);
  err = NULL;

  /* the lock excludes others */
  int other = open (root, O_RDONLY);
  snprintf (path, sizeof path, "%s/c1", root);
  int o2 = open (path, O_RDONLY | O_DIRECTORY);
  ok (flock (o2, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK,
      "dir is locked while held");
  close (fd);
  ok (flock (o2, LOCK_EX | LOCK_NB) == 0, "lock released on close");
  close (o2);
  close (other);

  /* corrupt and missing state */
  ok (state_dir_open (root, "c1", &fd, &err) == 0, "open existing");
  snprintf (path, sizeof path, "%s/c1/state.json", root);
  FILE *f = fopen (path, "w");
  fputs ("{\"id\": ", f);
  fclose (f);
  ok (state_read (fd, &rd, &err) < 0, "corrupt state refused");
  ok (err && strncmp (err->msg, "state.json: corrupt: ", 21) == 0,
      "corrupt message: %s", err ? err->msg : "");
  ko_error_free (err);
  err = NULL;
  f = fopen (path, "w");
  fputs ("{\"status\": \"created\"}", f);
  fclose (f);
  ok (state_read (fd, &rd, &err) < 0, "state without id refused");
  is_str (err ? err->msg : NULL, "state.json: corrupt: missing id or status",
          "missing id message");
  ko_error_free (err);
  err = NULL;
  unlink (path);
  ok (state_read (fd, &rd, &err) < 0, "missing state refused");
  is_str (err ? err->msg : NULL, "state.json: missing", "missing message");
  ko_error_free (err);
  err = NULL;
  close (fd);
  ok (state_dir_open (root, "nosuch", &fd, &err) < 0, "missing container");
  is_str (err ? err->msg : NULL, "container nosuch does not exist",
          "missing container message");
  ko_error_free (err);
  err = NULL;
  ok (state_dir_remove (root, "c1", &err) == 0, "remove dir");
  snprintf (path, sizeof path, "%s/c1", root);
  ok (access (path, F_OK) < 0, "dir gone");
  state_clear (&st);
  rmdir (root);
}

/* Regression: removing a state dir must never empty a bind-mounted rootfs. */
static void
test_remove_stops_at_mounts (void)
{
  char root[] = "/tmp/ko-test-mnt-XXXXXX", user[] = "/tmp/ko-test-user-XXXXXX";
  ok (mkdtemp (root) && mkdtemp (user), "temp dirs");
  char path[512], keep[512];
  snprintf (keep, sizeof keep, "%s/precious", user);
  close (open (keep, O_CREAT | O_WRONLY, 0644));
  snprintf (path, sizeof path, "%s/c1", root);
  mkdir (path, 0700);
  snprintf (path, sizeof path, "%s/c1/shared", root);
  mkdir (path, 0700);
  snprintf (path, sizeof path, "%s/c1/shared/rootfs", root);
  mkdir (path, 0700);
  if (mount (user, path, NULL, MS_BIND, NULL) < 0)
    {
      ok (1, "# SKIP cannot bind mount here");
      return;
    }
  ko_error *err = NULL;
  ok (state_dir_remove (root, "c1", &err) < 0,
      "remove refuses to cross a mount");
  is_int (err ? err->status : 0, EBUSY, "status EBUSY");
  ko_error_free (err);
  ok (access (keep, F_OK) == 0, "the bind-mounted dir kept its files");
  ok (access (path, F_OK) == 0, "what is left keeps its name");
  ok (umount2 (path, MNT_DETACH) == 0, "the mount is where it was");
  ok (state_dir_remove (root, "c1", NULL) == 0, "remove works once unmounted");
  unlink (keep);
  rmdir (user);
  rmdir (root);
}

static void
test_liveness (void)
{
  pid_t p = fork ();
  if (p == 0)
    {
      pause ();
      _exit (0);
    }
  uint64_t st = proc_start_time (p);
  ok (st > 0, "child start time");
  ok (proc_alive (p, st), "child alive");
  ok (!proc_alive (p, st + 1), "wrong start time is not alive");
  kill (p, SIGKILL);
  waitpid (p, NULL, 0);
  ok (!proc_alive (p, st), "dead child not alive");
  is_int (proc_start_time (0), 0, "pid 0 has no start time");
}

static void
test_signals (void)
{
  int s = 0;
  ok (cli_parse_signal ("KILL", &s, NULL) == 0 && s == SIGKILL, "KILL");
  ok (cli_parse_signal ("SIGKILL", &s, NULL) == 0 && s == SIGKILL, "SIGKILL");
  ok (cli_parse_signal ("9", &s, NULL) == 0 && s == 9, "9");
  ok (cli_parse_signal ("term", &s, NULL) == 0 && s == SIGTERM, "term");
  ok (cli_parse_signal ("WINCH", &s, NULL) == 0 && s == SIGWINCH, "WINCH");
  ok (cli_parse_signal ("RTMIN+1", &s, NULL) == 0 && s == SIGRTMIN + 1,
      "RTMIN+1");
  /* 0: runc's liveness check, signalling nothing */
  ok (cli_parse_signal ("0", &s, NULL) == 0 && s == 0, "0");
  const char *bad[] = { "NOPE", "65", "-1", "", "9x" };
  for (size_t i = 0; i < KO_ARRAY_SIZE (bad); i++)
    {
      ko_error *err = NULL;
      char want[64];
      snprintf (want, sizeof want, "invalid signal: %s",
                *bad[i] ? bad[i] : "empty");
      ok (cli_parse_signal (bad[i], &s, &err) < 0, "signal \"%s\" refused",
          bad[i]);
      is_str (err ? err->msg : NULL, want, "message for \"%s\"", bad[i]);
      ko_error_free (err);
    }
}

static void
test_pid_file (void)
{
  char path[] = "/tmp/ko-test-pid-XXXXXX";
  int fd = mkstemp (path);
  close (fd);
  ok (write_pid_file (path, 4242, NULL) == 0, "pid file written");
  char buf[32] = "";
  fd = open (path, O_RDONLY);
  read (fd, buf, sizeof buf - 1);
  close (fd);
  is_str (buf, "4242", "pid file holds the decimal pid");
  unlink (path);
  ko_error *err = NULL;
  ok (write_pid_file ("/nonexistent/dir/pid", 1, &err) < 0,
      "pid file in a missing dir fails");
  is_str (err ? err->msg : NULL,
          "open pid file /nonexistent/dir/pid: No such file or directory",
          "pid file message");
  ko_error_free (err);
}

int
main (void)
{
  test_ids ();
  test_store ();
  test_remove_stops_at_mounts ();
  test_liveness ();
  test_signals ();
  test_pid_file ();
  return tap_done ();
}
