#!/usr/bin/env bats
# linux.resources in the guest's cgroup, update, and events.

load helpers

setup() {
  setup_common
  edit_spec '.root.readonly = false'
}
teardown() { teardown_common; }

# cgroup_file FILE: the container's own cgroup file, read inside the guest
CG='cat /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)'

@test "resources: memory, pids and cpu limits land in the container's cgroup" {
  edit_spec '.linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 99}, "cpu": {"quota": 50000, "period": 100000}}'
  set_args "$BUNDLE" sh -c "$CG/memory.max; $CG/pids.max; $CG/cpu.max"
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 67108864 ]
  [ "${lines[1]}" = 99 ]
  [ "${lines[2]}" = "50000 100000" ]
}

@test "update: --memory and --pids-limit, and --resources from stdin" {
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  ko update --memory 48m --pids-limit 77 "$ID"
  run ko exec "$ID" sh -c "$CG/memory.max; $CG/pids.max"
  [ "${lines[0]}" = 50331648 ]
  [ "${lines[1]}" = 77 ]
  echo '{"memory": {"limit": 41943040}}' | ko update -r - "$ID"
  run ko exec "$ID" sh -c "$CG/memory.max"
  [ "$output" = 41943040 ]
  run ko update --memory lots "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *'update: --memory: invalid value "lots"'* ]]
  echo '{"memory": {"limit": "x"}}' > "$WORK/bad.json"
  run ko update -r "$WORK/bad.json" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"bad.json: memory.limit: expected an integer"* ]]
}

@test "events --stats prints runc's stats shape with guest and host usage" {
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  run ko events --stats "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.type == "stats" and .data.memory.usage.usage > 0 and .data.pids.current >= 1 and .data.cpu.usage.total > 0 and .data.vm.host_rss_bytes > 0'
}

@test "events: an OOM kill in the guest, then the exit" {
  edit_spec '.linux.resources = {"memory": {"limit": 33554432, "swap": 33554432}}'
  set_args "$BUNDLE" sh -c 'sleep 3; dd if=/dev/zero of=/dev/null bs=96M count=1; sleep 2; exit 4'
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  timeout 60 "$KATA_OCI" --root "$TEST_ROOT" events --interval 1s "$ID" > "$WORK/events" || true
  cat "$WORK/events"
  grep -q '"type":"oom"' "$WORK/events"
  tail -1 "$WORK/events" | jq -e '.type == "exit" and .data.status == 4'
}

@test "update and events of a missing or stopped container fail clearly" {
  run ko update --memory 1m nosuch
  [ "$status" -eq 1 ]
  [[ "$output" == *"container nosuch does not exist"* ]]
  run ko events --interval 0 "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"invalid duration"* ]]
}
