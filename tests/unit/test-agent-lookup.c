/* Pure agent logic: args[0] lookup through PATH, share-relative paths, the
 * Go-style error texts podman matches, id map text, sysfs device names. */
#include "agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

static char dir[64];

static void
make_file (const char *name, mode_t mode)
{
  char p[128];
  snprintf (p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen (p, "w");
  if (f)
    fclose (f);
  chmod (p, mode);
}

static void
test_id_map_format (void)
{
  struct ko_id_map v[KO_MAX_ID_MAPS]
      = { { 0, 100000, 65536 }, { 65536, 4294967294u, 1 } };
  char buf[KO_MAX_ID_MAPS * 33 + 1];
  is_int (ag_id_map_format (v, 2, buf, sizeof buf), 34, "id map: length");
  is_str (buf, "0 100000 65536\n65536 4294967294 1\n", "id map: text");
  for (int i = 0; i < KO_MAX_ID_MAPS; i++)
    v[i] = (struct ko_id_map){ 4294967290u, 4294967290u, 4294967290u };
  ok (ag_id_map_format (v, KO_MAX_ID_MAPS, buf, sizeof buf) > 0,
      "id map: the longest map fits the agent's buffer");
  ok (ag_id_map_format (v, 2, buf, 20) < 0, "id map: too long for buf");
  is_int (ag_id_map_format (v, 0, buf, sizeof buf), 0, "id map: empty");
}

static void
test_uevent_devname (void)
{
  char name[16];
  ok (ag_uevent_devname ("MAJOR=1\nMINOR=3\nDEVNAME=null\nDEVMODE=0666\n", name,
                         sizeof name)
          == 0,
      "uevent: DEVNAME found");
  is_str (name, "null", "uevent: the name");
  ok (ag_uevent_devname ("DEVNAME=net/tun", name, sizeof name) == 0
          && strcmp (name, "net/tun") == 0,
      "uevent: first line, no newline, a sub directory");
  ok (ag_uevent_devname ("MAJOR=1\nMINOR=3\n", name, sizeof name) < 0,
      "uevent: no DEVNAME");
  ok (ag_uevent_devname ("XDEVNAME=x\n", name, sizeof name) < 0,
      "uevent: only at the start of a line");
  ok (ag_uevent_devname ("DEVNAME=../etc/passwd\n", name, sizeof name) < 0,
      "uevent: .. refused");
  ok (ag_uevent_devname ("DEVNAME=\n", name, sizeof name) < 0,
      "uevent: empty refused");
  ok (ag_uevent_devname ("DEVNAME=a-much-too-long-name\n", name, sizeof name)
          < 0,
      "uevent: too long refused");
}

static void
find (const char *arg0, const char *path, const char *want,
      const char *want_err, int want_status)
{
  char *out = NULL;
  ko_error *err = NULL;
  int r = ag_find_executable (arg0, path, &out, &err);
  if (want)
    {
      is_int (r, 0, "%s: found", arg0);
      is_str (out, want, "%s: path", arg0);
    }
  else
    {
      is_int (r, -1, "%s: not found", arg0);
      is_str (err ? err->msg : NULL, want_err, "%s: message", arg0);
      is_int (err ? err->status : -1, want_status, "%s: status", arg0);
    }
  free (out);
  ko_error_free (err);
}

int
main (void)
{
  snprintf (dir, sizeof dir, "/tmp/test-agent-lookup.XXXXXX");
  if (mkdtemp (dir) == NULL)
    return 1;
  char sub[96], path[256], want[128];
  snprintf (sub, sizeof sub, "%s/sub", dir);
  mkdir (sub, 0755);
  make_file ("tool", 0755);
  make_file ("data", 0644);
  make_file ("sub/tool2", 0755);

  snprintf (path, sizeof path, "/nonexistent:%s:%s", sub, dir);
  snprintf (want, sizeof want, "%s/tool", dir);
  find ("tool", path, want, NULL, 0);
  snprintf (want, sizeof want, "%s/tool2", sub);
  find ("tool2", path, want, NULL, 0);
  find ("nosuch", path, NULL,
        "exec: \"nosuch\": executable file not found in $PATH", ENOENT);
  find ("data", path, NULL, "exec: \"data\": permission denied", EACCES);
  find ("", path, NULL, "exec: \"\": executable file not found in $PATH",
        ENOENT);

  snprintf (want, sizeof want, "%s/tool", dir);
  find (want, "/x", want, NULL, 0);
  char missing[128];
  snprintf (missing, sizeof missing, "%s/missing", dir);
  char msg[256];
  snprintf (msg, sizeof msg, "exec %s: no such file or directory", missing);
  find (missing, "/x", NULL, msg, ENOENT);
  char data[128];
  snprintf (data, sizeof data, "%s/data", dir);
  snprintf (msg, sizeof msg, "exec %s: permission denied", data);
  find (data, "/x", NULL, msg, EACCES);
  snprintf (msg, sizeof msg, "exec %s: permission denied", sub);
  find (sub, "/x", NULL, msg, EACCES);

  /* an empty PATH element is the current directory */
  if (chdir (dir) == 0)
    find ("tool", "/nonexistent:", "./tool", NULL, 0);

  char *env1[] = { "HOME=/", "PATH=/a:/b", NULL };
  char *env2[] = { "HOME=/", "XPATH=/x", NULL };
  is_str (ag_env_path (env1), "/a:/b", "PATH from the env");
  is_str (ag_env_path (env2), AG_DEFAULT_PATH, "default PATH");
  is_str (ag_env_path (NULL), AG_DEFAULT_PATH, "no env");

  ok (ag_relpath_ok ("rootfs"), "relative path");
  ok (ag_relpath_ok ("a/b/c"), "nested path");
  ok (ag_relpath_ok ("a/..b"), "..b is a name");
  ok (!ag_relpath_ok ("/abs"), "absolute refused");
  ok (!ag_relpath_ok (".."), ".. refused");
  ok (!ag_relpath_ok ("a/../b"), "inner .. refused");
  ok (!ag_relpath_ok ("a/.."), "trailing .. refused");
  ok (!ag_relpath_ok (""), "empty refused");
  ok (!ag_relpath_ok (NULL), "NULL refused");

  ko_error *err = NULL;
  ag_error_set (&err, ENOENT, "mount %s", "/data");
  is_str (err->msg, "mount /data: no such file or directory",
          "lower-case errno text");
  ko_error_free (err);
  err = NULL;
  ag_error_set (&err, 0, "plain");
  is_str (err->msg, "plain", "no errno, no suffix");
  ko_error_free (err);

  test_id_map_format ();
  test_uevent_devname ();

  unlink (want);
  snprintf (path, sizeof path, "%s/tool", dir);
  unlink (path);
  unlink (data);
  snprintf (path, sizeof path, "%s/tool2", sub);
  unlink (path);
  rmdir (sub);
  rmdir (dir);
  return tap_done ();
}
