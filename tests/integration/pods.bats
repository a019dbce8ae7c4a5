#!/usr/bin/env bats
# Pods: one VM per pod. The sandbox (pause, infra) container boots it; each
# member, named by the engines' annotations, joins it: no VM of its own,
# its stdio over the one channel, its own pid on the host. The specs here
# are what the engines send (FIELD-NOTES.md): CRI-O's annotations, and
# members' namespace paths built from the sandbox's pid as podman and
# containerd build them.

load helpers

setup() {
  setup_pod
  edit_spec '.hostname = "podhost"'
}

teardown() {
  teardown_pod
}

start_sandbox() {
  ko create --bundle "$BUNDLE" "$SB" </dev/null
  ko start "$SB"
}

qemus_of() {
  ps -eo args | grep -c "[q]emu-system.*-name kata-oci-$1" || true
}

@test "pods: members join the sandbox's VM; they reach each other on localhost" {
  start_sandbox
  b1=$(member_bundle m1 sh -c 'mkdir -p /www; echo pod-ok > /www/index.html; exec httpd -f -p 8080 -h /www')
  ko create --bundle "$b1" "$M1" </dev/null
  ko start "$M1"
  [ "$(state_status "$M1")" = running ]
  b2=$(member_bundle m2 sh -c 'for i in $(seq 50); do wget -qO- http://127.0.0.1:8080/ && exit 0; sleep 0.2; done; exit 1')
  ko create --bundle "$b2" "$M2" </dev/null >"$WORK/m2.out" 2>&1
  ko start "$M2"
  wait_status "$M2" stopped
  cat "$WORK/m2.out"
  grep -q pod-ok "$WORK/m2.out"
  # one VM for the pod
  [ "$(qemus_of "$SB")" -eq 1 ]
  [ "$(qemus_of "$M1")" -eq 0 ]
  # each has its own pid on the host, in the pod's namespaces
  p0=$(ko state "$SB" | jq -r .pid); p1=$(ko state "$M1" | jq -r .pid)
  [ "$p1" -gt 0 ] && [ "$p1" != "$p0" ]
  for ns in net ipc uts; do
    [ "$(readlink /proc/$p1/ns/$ns)" = "$(readlink /proc/$p0/ns/$ns)" ]
    [ "$(readlink /proc/$p0/ns/$ns)" != "$(readlink /proc/self/ns/$ns)" ]
  done
  ko list | grep -q "$M1"
  # a member leaves; the pod goes on
  ko delete "$M2"
  assert_nothing_left "$M2"
  ko exec "$M1" true
  [ "$(state_status "$SB")" = running ]
  ko delete -f "$M1"
  assert_nothing_left "$M1"
  [ "$(state_status "$SB")" = running ]
}

@test "pods: a member shares the sandbox's IPC and UTS namespaces in the guest, and its PID one when asked" {
  start_sandbox
  b1=$(member_bundle m1 sh -c 'hostname; readlink /proc/1/ns/ipc; cat /proc/1/cmdline | tr "\0" " "; echo')
  jq --arg p "/proc/$(ko state "$SB" | jq -r .pid)/ns/pid" \
    '.linux.namespaces[0] = {type: "pid", path: $p}' "$b1/config.json" > "$b1/c.tmp"
  mv "$b1/c.tmp" "$b1/config.json"
  ko create --bundle "$b1" "$M1" </dev/null >"$WORK/m1.out" 2>&1
  ko start "$M1"
  wait_status "$M1" stopped
  cat "$WORK/m1.out"
  [ "$(sed -n 1p "$WORK/m1.out")" = podhost ]
  want=$(ko exec "$SB" readlink /proc/1/ns/ipc)
  [ "$(sed -n 2p "$WORK/m1.out")" = "$want" ]
  # pid 1 of the shared PID namespace is the sandbox's init
  [[ "$(sed -n 3p "$WORK/m1.out")" == "sleep 1000"* ]]
}

@test "pods: a member's pid exits with its status; stdin, stdout and exec work" {
  start_sandbox
  b1=$(member_bundle m1 sh -c 'read line; echo "got $line"; echo to-err >&2; exit 5')
  echo hello | "$REAPER" "$WORK/pid" "$WORK/reaped" "$KATA_OCI" --root "$TEST_ROOT" \
    create --bundle "$b1" --pid-file "$WORK/pid" "$M1" >"$WORK/out" 2>"$WORK/err" &
  rpid=$!
  wait_status "$M1" created
  ko start "$M1"
  wait "$rpid"
  [ "$(cat "$WORK/reaped")" = "exit 5" ]
  grep -q "got hello" "$WORK/out"
  grep -q to-err "$WORK/err"
  [ "$(state_status "$M1")" = stopped ]
  [ "$(ko state "$M1" | jq -r .pid)" = 0 ]
  ko delete "$M1"
  # exec into a running member
  b2=$(member_bundle m2 sleep 1000)
  echo only-in-m2 > "$b2/rootfs/etc/whoami"
  ko create --bundle "$b2" "$M2" </dev/null
  ko start "$M2"
  run ko exec "$M2" sh -c 'cat /etc/whoami; exit 4'
  [ "$status" -eq 4 ]
  [ "$output" = only-in-m2 ]
  [ "$(ko ps --format json "$M2" | jq length)" -ge 1 ]
  ko kill "$M2" KILL
  wait_status "$M2" stopped
}

@test "pods: stopping the sandbox stops every member, with a status; their deletes leave nothing" {
  start_sandbox
  b1=$(member_bundle m1 sleep 1000)
  "$REAPER" "$WORK/pid" "$WORK/reaped" "$KATA_OCI" --root "$TEST_ROOT" \
    create --bundle "$b1" --pid-file "$WORK/pid" "$M1" </dev/null >/dev/null 2>&1 &
  rpid=$!
  wait_status "$M1" created
  ko start "$M1"
  ko delete -f "$SB"
  wait "$rpid"
  [ "$(cat "$WORK/reaped")" = "exit 137" ]
  [ "$(state_status "$M1")" = stopped ]
  ko delete "$M1"
  assert_nothing_left "$M1"
}

@test "pods: the sandbox's own exit ends the pod; its pid exits with its status, members' with 137" {
  edit_spec '.process.args = ["sh", "-c", "trap \"exit 3\" TERM; while true; do sleep 0.1; done"]'
  "$REAPER" "$WORK/sbpid" "$WORK/sbreaped" "$KATA_OCI" --root "$TEST_ROOT" \
    create --bundle "$BUNDLE" --pid-file "$WORK/sbpid" "$SB" </dev/null >/dev/null 2>&1 &
  spid=$!
  wait_status "$SB" created
  ko start "$SB"
  b1=$(member_bundle m1 sleep 1000)
  "$REAPER" "$WORK/pid" "$WORK/reaped" "$KATA_OCI" --root "$TEST_ROOT" \
    create --bundle "$b1" --pid-file "$WORK/pid" "$M1" </dev/null >/dev/null 2>&1 &
  rpid=$!
  wait_status "$M1" created
  ko start "$M1"
  # the trap is set once the shell runs its loop
  ko exec "$SB" true
  ko kill "$SB" TERM
  # its pid ends with it, while the member has its grace: the engine
  # learns at once (it waited for the whole pod before)
  for i in $(seq 100); do [ -s "$WORK/sbreaped" ] && break; sleep 0.1; done
  [ "$(cat "$WORK/sbreaped")" = "exit 3" ]
  [ "$(state_status "$M1")" = running ]
  [ "$(state_status "$SB")" = stopped ]
  wait "$spid"
  wait "$rpid"
  [ "$(cat "$WORK/reaped")" = "exit 137" ]
  [ "$(state_status "$M1")" = stopped ]
  [ "$(state_status "$SB")" = stopped ]
  ko delete "$M1"
  ko delete "$SB"
  assert_nothing_left "$M1"
}

@test "pods: a pod stopped all at once (podman pod stop): members end by themselves, with their status" {
  edit_spec '.process.args = ["sh", "-c", "trap \"exit 0\" TERM; while true; do sleep 0.1; done"]'
  start_sandbox
  b1=$(member_bundle m1 sh -c 'trap "sleep 1; exit 7" TERM; while true; do sleep 0.1; done')
  "$REAPER" "$WORK/pid" "$WORK/reaped" "$KATA_OCI" --root "$TEST_ROOT" \
    create --bundle "$b1" --pid-file "$WORK/pid" "$M1" </dev/null >/dev/null 2>&1 &
  rpid=$!
  wait_status "$M1" created
  ko start "$M1"
  ko exec "$SB" true
  ko exec "$M1" true
  ko kill "$SB" TERM & ko kill "$M1" TERM
  wait "$rpid"
  [ "$(cat "$WORK/reaped")" = "exit 7" ]
  wait_status "$SB" stopped
  ko delete "$M1"
  ko delete "$SB"
  assert_nothing_left "$M1"
}

@test "pods: the VM grows for a member whose memory limit it could not hold" {
  start_sandbox
  before=$(ko exec "$SB" awk '/MemTotal/ {print $2}' /proc/meminfo)
  b1=$(member_bundle m1 awk '/MemTotal/ {print $2}' /proc/meminfo)
  jq '.linux.resources.memory.limit = 1073741824' "$b1/config.json" > "$b1/c.tmp"
  mv "$b1/c.tmp" "$b1/config.json"
  ko create --bundle "$b1" "$M1" </dev/null >"$WORK/m1.out" 2>&1
  ko start "$M1"
  wait_status "$M1" stopped
  after=$(cat "$WORK/m1.out")
  echo "MemTotal $before kB, then $after kB"
  [ "$before" -lt 1048576 ]
  [ "$after" -ge 1048576 ]
  ko delete "$M1"
  assert_nothing_left "$M1"
}

@test "pods: a killed monitor stops the whole pod; each delete reclaims its part" {
  start_sandbox
  b1=$(member_bundle m1 sleep 1000)
  ko create --bundle "$b1" "$M1" </dev/null
  ko start "$M1"
  kill -9 "$(jq -r .monitorPid "$TEST_ROOT/$SB/state.json")"
  for i in $(seq 50); do
    [ "$(state_status "$M1")" = stopped ] && [ "$(state_status "$SB")" = stopped ] && break
    sleep 0.1
  done
  [ "$(state_status "$M1")" = stopped ]
  [ "$(state_status "$SB")" = stopped ]
  ko delete "$M1"
  ko delete "$SB"
  assert_nothing_left "$M1"
}

@test "pods: a member of a missing or stopped sandbox is refused and leaves nothing" {
  b1=$(SB=nosuch; make_bundle "$WORK/m1"; echo "$WORK/m1")
  jq '.annotations["io.kubernetes.cri.container-type"] = "container"
    | .annotations["io.kubernetes.cri.sandbox-id"] = "nosuch"' "$b1/config.json" > "$b1/c.tmp"
  mv "$b1/c.tmp" "$b1/config.json"
  run ko create --bundle "$b1" "$M1"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"config.json: annotations: io.kubernetes.cri.sandbox-id: sandbox nosuch does not exist"* ]]
  assert_nothing_left "$M1"
  # a namespace that is neither the pod's nor the host's
  start_sandbox
  b2=$(member_bundle m2 true)
  unshare --ipc sleep 100 & other=$!
  sleep 0.2
  jq --arg p "/proc/$other/ns/ipc" '.linux.namespaces[3].path = $p' "$b2/config.json" > "$b2/c.tmp"
  mv "$b2/c.tmp" "$b2/config.json"
  run ko create --bundle "$b2" "$M2"
  kill $other
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"linux.namespaces[3].path: /proc/$other/ns/ipc is not a namespace of the pod's sandbox $SB"* ]]
  assert_nothing_left "$M2"
  ko delete -f "$SB"
}

@test "pods: concurrent members are created in one VM" {
  start_sandbox
  for i in 1 2 3 4; do
    b=$(member_bundle c$i sh -c "echo member-$i")
    ko create --bundle "$b" "$ID-c$i" </dev/null >"$WORK/c$i.out" 2>&1 &
  done
  wait
  EXTRA_IDS="$EXTRA_IDS $ID-c1 $ID-c2 $ID-c3 $ID-c4"
  for i in 1 2 3 4; do
    [ "$(state_status "$ID-c$i")" = created ]
    ko start "$ID-c$i"
  done
  for i in 1 2 3 4; do
    wait_status "$ID-c$i" stopped
    grep -q "member-$i" "$WORK/c$i.out"
    ko delete "$ID-c$i"
    assert_nothing_left "$ID-c$i"
  done
  [ "$(qemus_of "$SB")" -eq 1 ]
}

@test "pods: every container's guest cgroup is under the pod's group" {
  start_sandbox
  b1=$(member_bundle m1 sleep 1000)
  jq '.linux.resources.memory.limit = 67108864' "$b1/config.json" > "$b1/c.tmp"
  mv "$b1/c.tmp" "$b1/config.json"
  ko create --bundle "$b1" "$M1" </dev/null
  ko start "$M1"
  # the member has no cgroup namespace: it sees the guest's paths
  run ko exec "$M1" sh -c 'cat /proc/self/cgroup; ls /sys/fs/cgroup/pod;
    cat /sys/fs/cgroup/pod/cgroup.subtree_control /sys/fs/cgroup/pod/'"$M1"'/memory.max'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "0::/pod/$M1" ]
  [[ "$output" == *"$SB"* ]]
  [[ "${lines[*]}" == *memory* ]]
  [ "${lines[${#lines[@]}-1]}" = 67108864 ]
  ko delete -f "$M1"
  # its group goes with it; the sandbox's stays
  run ko exec "$SB" ls /sys/fs/cgroup/pod
  echo "$output"
  [[ "$output" != *"$M1"* ]]
}

@test "pods: a CLI killed halfway through a member's create: the member deletes, the pod goes on" {
  start_sandbox
  mon=$(jq -r .monitorPid "$TEST_ROOT/$SB/state.json")
  b1=$(member_bundle m1 sleep 1000)
  for delay in 0.02 0.1 0.25 0.5 1; do
    create_killed "$b1" "$M1" "$delay"
    ko delete -f "$M1" 2>&1 | grep -v "does not exist" || true
    assert_nothing_left "$M1"
    # nothing of it in the monitor's mount namespace either
    ! grep -q "$TEST_ROOT/$M1" "/proc/$mon/mounts"
    [ "$(state_status "$SB")" = running ]
    run ko exec "$SB" echo alive
    [ "$output" = alive ]
  done
  # and a member joins afterwards as usual
  b2=$(member_bundle m2 echo joined)
  ko create --bundle "$b2" "$M2" </dev/null >"$WORK/m2.out"
  ko start "$M2"
  wait_status "$M2" stopped
  grep -q joined "$WORK/m2.out"
}

@test "pods: the VM is pinned to the union of its containers' cpusets on the host" {
  [ "$(nproc)" -ge 2 ] || skip "needs two host CPUs"
  edit_spec '.linux.resources.cpu = {"cpus": "0"}'
  start_sandbox
  [ "$(vm_cpus "$SB")" = "0 " ]
  b1=$(member_bundle m1 sleep 1000)
  jq '.linux.resources.cpu = {"cpus": "1"}' "$b1/config.json" > "$b1/c" && mv "$b1/c" "$b1/config.json"
  ko create --bundle "$b1" "$M1" </dev/null
  [ "$(vm_cpus "$SB")" = "0-1 " ]
  # a member's update widens it too, and never narrows the pod's
  ko start "$M1"
  ko update --cpuset-cpus 0 "$M1"
  [ "$(vm_cpus "$SB")" = "0-1 " ]
}

@test "pods: delete of a created member (no --force) takes it out of the VM, as runc's delete of a created container; the pod goes on" {
  start_sandbox
  b1=$(member_bundle m1 sleep 1000)
  ko create --bundle "$b1" "$M1" </dev/null
  [ "$(state_status "$M1")" = created ]
  ko delete "$M1"
  assert_nothing_left "$M1"
  [ "$(state_status "$SB")" = running ]
  ko exec "$SB" true
}

@test "pods: a member's NOTIFY_SOCKET: start waits for its READY=1 through the pod's VM; a start still waiting ends when the member is killed, as runc's" {
  start_sandbox
  notify_listen "$WORK/notify.sock" "$WORK/notify.out"
  b1=$(member_bundle m1 sh -c 'sleep 1; sdnotify READY=1; sleep 1000')
  sdnotify_build "$b1/rootfs"
  NOTIFY_SOCKET=$WORK/notify.sock ko create --bundle "$b1" "$M1" </dev/null
  t0=$(date +%s%N)
  NOTIFY_SOCKET=$WORK/notify.sock ko start "$M1"
  [ $(( ($(date +%s%N) - t0) / 1000000 )) -ge 800 ]
  wait_file "$WORK/notify.out"
  [ "$(cat "$WORK/notify.out")" = "$(printf 'READY=1\nMAINPID=%s\n|' "$(ko state "$M1" | jq -r .pid)")" ]
  # one that never says it: its start waits until the member dies (then
  # with success, as runc's, whose start stops waiting when pid 1 is gone)
  b2=$(member_bundle m2 sleep 1000)
  NOTIFY_SOCKET=$WORK/notify.sock ko create --bundle "$b2" "$M2" </dev/null
  NOTIFY_SOCKET=$WORK/notify.sock "$KATA_OCI" --root "$TEST_ROOT" start "$M2" >"$WORK/start2.out" 2>&1 &
  spid=$!
  wait_status "$M2" running
  sleep 1
  kill -0 "$spid"
  ko delete -f "$M2"
  st=0
  wait "$spid" || st=$?
  cat "$WORK/start2.out"
  [ "$st" -eq 0 ]
  assert_nothing_left "$M2"
  [ "$(state_status "$SB")" = running ]
  kill "$NOTIFY_PID" 2>/dev/null || true
}
