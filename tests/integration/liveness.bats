#!/usr/bin/env bats
# The monitor serves every request while the guest sits on one: a guest
# that never answers a request delays nothing else on its container. The
# test agent (guest/initrd-test.img) is the real agent built with
# KO_AGENT_TESTING; agent.test.ignore=M makes it drop requests of method M.

load helpers

setup() { setup_common; }
teardown() { teardown_common; }

LIST_PROCESSES=10
STATS_CONTAINER=11

# ms_of CMD...: runs it, prints how long it took in ms; its status is $?
ms_of() {
  local t0 t1 rc
  t0=$(date +%s%N)
  "$@" >"$WORK/ms_of.out" 2>&1; rc=$?
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
  return $rc
}

start_ignoring() {
  [ -f "$BUILDDIR/guest/initrd-test.img" ]
  set_args "$BUNDLE" sh -c 'trap "echo usr1 >> /tmp/got" USR1; while :; do sleep 0.1; done'
  edit_spec '.root.readonly = false'
  KATA_OCI_INITRD=$BUILDDIR/guest/initrd-test.img \
    KATA_OCI_KERNEL_PARAMS="agent.test.ignore=$1" ko create --bundle "$BUNDLE" "$ID"
  ko start "$ID"
}

@test "a request the guest never answers does not delay state, kill, exec or delete -f" {
  start_ignoring $LIST_PROCESSES
  # ps waits for an answer that never comes
  ko ps "$ID" >"$WORK/ps.out" 2>&1 &
  ps_pid=$!
  sleep 1
  kill -0 $ps_pid   # still waiting
  t=$(ms_of ko state "$ID"); echo "state: $t ms"
  [ "$t" -lt 1000 ]
  grep -q '"running"' "$WORK/ms_of.out"
  t=$(ms_of ko kill "$ID" USR1); echo "kill: $t ms"
  [ "$t" -lt 1000 ]
  # the shell runs its trap once its `sleep 0.1` ends: an exec can be
  # quicker than that, so it waits for the line (at most 1 s)
  t=$(ms_of ko exec "$ID" sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do [ -s /tmp/got ] && break; sleep 0.1; done; cat /tmp/got')
  echo "exec: $t ms"
  cat "$WORK/ms_of.out"
  grep -q usr1 "$WORK/ms_of.out"
  t=$(ms_of ko delete -f "$ID"); echo "delete -f: $t ms"
  [ "$t" -lt 1000 ]
  # the waiting ps hears that the VM went away, at once
  wait $ps_pid && false || true
  cat "$WORK/ps.out"
  grep -q "VM stopped" "$WORK/ps.out"
  assert_nothing_left "$ID"
}

@test "several unanswered requests at once: each waits alone, others go on" {
  start_ignoring $STATS_CONTAINER
  for i in 1 2 3; do
    ko events --stats "$ID" >"$WORK/ev$i.out" 2>&1 &
  done
  ko ps "$ID" >"$WORK/ps.out" 2>&1 &
  ps_pid=$!
  sleep 1
  t=$(ms_of ko pause "$ID"); echo "pause: $t ms"
  [ "$t" -lt 1000 ]
  [ "$(state_status "$ID")" = paused ]
  t=$(ms_of ko resume "$ID"); echo "resume: $t ms"
  [ "$t" -lt 1000 ]
  wait $ps_pid
  cat "$WORK/ps.out"
  grep -qE '^UID +PID +PPID' "$WORK/ps.out"
  t=$(ms_of ko delete -f "$ID"); echo "delete -f: $t ms"
  [ "$t" -lt 1000 ]
  wait
  cat "$WORK"/ev*.out
  assert_nothing_left "$ID"
}

@test "a client that connects to monitor.sock and sends nothing holds up nobody" {
  set_args "$BUNDLE" sleep 100
  ko create --bundle "$BUNDLE" "$ID"
  python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(8)' \
    "$TEST_ROOT/$ID/monitor.sock" &
  idle=$!
  sleep 0.5
  t=$(ms_of ko start "$ID"); echo "start: $t ms"
  [ "$t" -lt 3000 ]
  [ "$(state_status "$ID")" = running ]
  t=$(ms_of ko delete -f "$ID"); echo "delete -f: $t ms"
  [ "$t" -lt 1000 ]
  kill $idle 2>/dev/null || true
  assert_nothing_left "$ID"
}
