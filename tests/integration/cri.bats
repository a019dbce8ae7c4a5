#!/usr/bin/env bats
# What CRI engines send that runc accepts: CRI-O's seccomp profile with
# several conditions on one argument, containerd's slice:prefix:name
# cgroupsPath under the cgroupfs driver, and a state root of the engine's
# choosing with 64-character ids.

load helpers

setup() { setup_common; }
teardown() {
  teardown_common
  # the long root's parents, under the test's own mktemp dir
  if [ -n "${ORIG_ROOT:-}" ]; then rm -rf "$ORIG_ROOT"; fi
}

@test "seccomp: several conditions on one argument are alternatives, as in runc" {
  # like CRI-O's clone rule: 7 conditions on argument 1 of kill (the
  # signal), and one on argument 0 (the pid), which becomes one more
  # alternative rather than a further requirement
  edit_spec '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
      "args": [{"index": 1, "value": 1, "op": "SCMP_CMP_EQ"},
               {"index": 1, "value": 10, "op": "SCMP_CMP_EQ"},
               {"index": 1, "value": 12, "op": "SCMP_CMP_EQ"},
               {"index": 1, "value": 15, "op": "SCMP_CMP_EQ"},
               {"index": 1, "value": 20, "op": "SCMP_CMP_EQ"},
               {"index": 1, "value": 28, "op": "SCMP_CMP_EQ"},
               {"index": 1, "value": 9, "op": "SCMP_CMP_EQ"},
               {"index": 0, "value": 4000000, "op": "SCMP_CMP_EQ"}]}]}'
  # (set_args takes one line per argument)
  set_args "$BUNDLE" sh -c 'for s in HUP USR1 USR2 TERM TSTP WINCH KILL; do kill -$s $$; echo "$s=$?"; done; kill -0 $$; echo "zero=$?"; kill -CONT $$; echo "cont=$?"; kill -0 4000000; echo "pid=$?"; kill -0 4000001; echo "otherpid=$?"'
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -eq 0 ]
  for s in HUP USR1 USR2 TERM TSTP WINCH KILL; do
    [[ "$output" == *"$s=1"* ]]
  done
  [[ "$output" == *"zero=0"* ]]
  [[ "$output" == *"cont=0"* ]]
  [[ "$output" == *"Operation not permitted"* ]]
  [[ "$output" == *"pid=1"* ]]
  [[ "$output" == *"No such process"* ]]
  [[ "$output" == *"otherpid=1"* ]]
  [ "$(grep -c 'Operation not permitted' <<<"$output")" -eq 8 ]
}

# The group a relative cgroupsPath lands in: under the caller's own memory
# group in v1, under the parent of its group in v2 (runc's cgroupfs driver).
relative_group() {
  if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
    local own
    own=$(sed -n 's/^0:://p' /proc/self/cgroup)
    own=$(dirname "$own")
    echo "/sys/fs/cgroup${own%/}/$1"
  else
    local own
    own=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup)
    echo "/sys/fs/cgroup/memory${own%/}/$1"
  fi
}

@test "cgroupsPath slice:prefix:name without --systemd-cgroup: one relative group, as in runc" {
  cg="kot.slice:cri-containerd:$ID"
  edit_spec '.linux.cgroupsPath = "'"$cg"'" | .linux.resources.memory = {"limit": 134217728}'
  set_args "$BUNDLE" sleep 1000
  # the container keeps create's stdout: a file, not bats' pipe
  ko create --bundle "$BUNDLE" "$ID" </dev/null >"$WORK/out" 2>&1 || { cat "$WORK/out"; false; }
  dir=$(relative_group "$cg")
  echo "group: $dir"
  [ -d "$dir" ]
  monitor=$(jq -r .monitorPid "$TEST_ROOT/$ID/state.json")
  grep -qx "$monitor" "$dir/cgroup.procs"
  if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
    [ "$(cat "$dir/memory.max")" = $(( (128 + 128 + 256) * 1048576 )) ]
  else
    [ "$(cat "$dir/memory.limit_in_bytes")" = $(( (128 + 128 + 256) * 1048576 )) ]
  fi
  ko start "$ID"
  [ "$(state_status "$ID")" = running ]
  ko kill "$ID" KILL
  wait_status "$ID" stopped
  ko delete "$ID"
  [ ! -e "$dir" ]
}

@test "a state root longer than a unix socket path, 64-character id: create, start, exec, kill, delete" {
  # containerd's shim passes a --root of its own; with such ids the
  # sockets' paths are far longer than sun_path's 108 bytes. Passes once
  # the monitor listens on monitor.sock and reaches agent.sock through
  # ko_unix_listen / ko_unix_connect too (src/unixsock.h).
  ORIG_ROOT=$TEST_ROOT
  TEST_ROOT=$ORIG_ROOT/$(printf 'r%.0s' {1..60})/$(printf 's%.0s' {1..60})/$(printf 't%.0s' {1..60})
  ID=$(printf '%s' "$ID" | sha256sum | cut -c1-64)
  [ ${#TEST_ROOT} -ge 195 ] && [ ${#ID} -eq 64 ]
  set_args "$BUNDLE" sleep 1000
  ko create --bundle "$BUNDLE" "$ID" </dev/null >"$WORK/out" 2>&1 || { cat "$WORK/out"; false; }
  for s in monitor.sock qmp.sock virtiofsd.sock; do
    [ -S "$TEST_ROOT/$ID/$s" ]
  done
  ko start "$ID"
  [ "$(state_status "$ID")" = running ]
  run ko exec "$ID" sh -c 'echo exec-works; hostname'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *exec-works* ]]
  ko kill "$ID" KILL
  wait_status "$ID" stopped
  ko delete "$ID"
  assert_nothing_left "$ID"
}
