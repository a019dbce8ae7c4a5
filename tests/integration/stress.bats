#!/usr/bin/env bats
# Many sandboxes at once, as an engine starting a node's pods would: 20
# concurrent run -d, then 20 concurrent delete -f, with state and list
# polled all along. Every command succeeds, every JSON parses, no half-state
# is ever shown, and nothing is left.

load helpers

N=20

setup() { setup_common; }
teardown() {
  for i in $(seq $N); do ko delete -f "$ID-$i" >/dev/null 2>&1 || true; done
  for i in $(seq $N); do assert_nothing_left "$ID-$i"; done
  rm -rf "$WORK"
  rmdir "$TEST_ROOT" 2>/dev/null || true
}

# poll_states OUT ALLOWED: until $WORK/stop exists, runs state and list on
# every container and appends to OUT, as BAD, a bad JSON or a status that
# ALLOWED (a regex) does not match
poll_states() {
  local out=$1 allowed=$2 i s
  while [ ! -e "$WORK/stop" ]; do
    s=$(ko list --format json 2>&1)
    if ! echo "$s" | jq -e 'type == "array"' >/dev/null 2>&1; then
      echo "BAD list: $s" >> "$out"
    else
      echo "$s" | jq -r '.[].status' | grep -vxE "$allowed" | sed 's/^/BAD list status: /' >> "$out"
    fi
    for i in $(seq $N); do
      s=$(ko state "$ID-$i" 2>&1) || {
        # absent is fine: not yet created, or deleted
        [[ "$s" == *"does not exist"* ]] || echo "BAD state $i: $s" >> "$out"
        continue
      }
      echo "$s" | jq -e .status >/dev/null 2>&1 || echo "BAD state json $i: $s" >> "$out"
      echo "$s" | jq -r .status | grep -vxE "$allowed" | sed "s/^/BAD state $i: /" >> "$out"
    done
  done
}

@test "stress: 20 concurrent run -d, then 20 concurrent delete -f, state and list polled throughout" {
  set_args "$BUNDLE" sleep 1000
  poll_states "$WORK/poll-create" 'creating|created|running' &
  poller=$!
  for i in $(seq $N); do
    KATA_OCI_BOOT_TIMEOUT=300 ko run -d --bundle "$BUNDLE" "$ID-$i" </dev/null >"$WORK/run-$i.out" 2>&1 &
    pids="${pids:-} $!"
  done
  fails=0
  for p in $pids; do wait "$p" || fails=$((fails + 1)); done
  touch "$WORK/stop"; wait "$poller"; rm "$WORK/stop"
  cat "$WORK"/run-*.out
  [ "$fails" -eq 0 ]
  [ "$(ko list --format json | jq '[.[] | select(.status == "running")] | length')" -eq $N ]
  # qemu: one per sandbox
  [ "$(pgrep -fc "kata-oci-$ID-")" -eq $N ]

  # during a delete: never "creating", "unknown" or a missing state.json
  poll_states "$WORK/poll-delete" 'running|stopped' &
  poller=$!
  pids=
  for i in $(seq $N); do
    ko delete -f "$ID-$i" >"$WORK/del-$i.out" 2>&1 &
    pids="$pids $!"
  done
  fails=0
  for p in $pids; do wait "$p" || fails=$((fails + 1)); done
  touch "$WORK/stop"; wait "$poller"
  cat "$WORK"/del-*.out
  [ "$fails" -eq 0 ]
  ! grep BAD "$WORK/poll-create" "$WORK/poll-delete"
  [ "$(ko list --format json | jq length)" -eq 0 ]
  for i in $(seq $N); do assert_nothing_left "$ID-$i"; done
}
