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

@test "resources: a cpuset pins the VM's threads to those host CPUs and sizes its vCPUs; the guest keeps the part the VM has" {
  [ "$(nproc)" -ge 2 ] || skip "needs two host CPUs"
  EXTRA_IDS="$ID-2"
  # no quota: a vCPU per CPU of the set
  edit_spec '.linux.resources.cpu = {"cpus": "0-1", "mems": "0"}'
  set_args "$BUNDLE" sh -c "$CG/cpuset.cpus; $CG/cpuset.mems; $CG/cpuset.cpus.effective; nproc"
  KATA_OCI_VCPUS=1 run ko run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0-1 ]
  [ "${lines[1]}" = 0 ]
  [ "${lines[2]}" = 0-1 ]
  [ "${lines[3]}" = 2 ]
  # a quota of one CPU: one vCPU, which keeps the part of the set it has
  edit_spec '.linux.resources.cpu = {"cpus": "0-1", "quota": 100000, "period": 100000}'
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  # (no mems: an empty line)
  [ "$output" = "$(printf '0\n\n0\n1')" ]
  # host CPU 1 only: every thread of the VM runs there; the guest, which
  # has no CPU 1, uses all of its own
  edit_spec '.linux.resources.cpu = {"cpus": "1"}'
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID-2" </dev/null >/dev/null 2>&1
  [ "$(vm_cpus "$ID-2")" = "1 " ]
  run ko exec "$ID-2" sh -c "$CG/cpuset.cpus; nproc"
  [ "${lines[0]}" = 0 ]
  [ "${lines[1]}" = 1 ]
  # update moves them, in the host and in the guest
  ko update --cpuset-cpus 0 "$ID-2"
  [ "$(vm_cpus "$ID-2")" = "0 " ]
  run ko exec "$ID-2" sh -c "$CG/cpuset.cpus"
  [ "${lines[0]}" = 0 ]
  ko update --cpuset-cpus 0-1 "$ID-2"
  [ "$(vm_cpus "$ID-2")" = "0-1 " ]
  # CPUs the host does not let us use, or no list at all: refused, as the
  # kernel refuses runc's write
  run ko update --cpuset-cpus 1000 "$ID-2"
  [ "$status" -eq 1 ]
  [[ "$output" == *'update: cpu.cpus: "1000" names CPUs this host does not have online (it has '* ]]
  run ko update --cpuset-cpus 1-x "$ID-2"
  [ "$status" -eq 1 ]
  [[ "$output" == *'update: cpu.cpus: "1-x" is not a CPU list (such as 0-3,6)'* ]]
  [ "$(vm_cpus "$ID-2")" = "0-1 " ]
  edit_spec '.linux.resources.cpu = {"cpus": "1000"}'
  run ko create --bundle "$BUNDLE" "$ID" </dev/null
  [ "$status" -eq 1 ]
  [[ "$output" == *'config.json: linux.resources: cpu.cpus: "1000" names CPUs this host does not have online'* ]]
  assert_nothing_left "$ID"
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
  # no meaning (-2) or an instant OOM kill (1): refused, the limit unchanged
  for v in 1 -2; do
    run ko update --memory "$v" "$ID"
    [ "$status" -eq 1 ]
    [[ "$output" == *"update: memory.limit: $v: expected -1 (no limit) or at least 6291456 bytes"* ]]
  done
  ko update --memory -1 "$ID"
  run ko exec "$ID" sh -c "$CG/memory.max"
  [ "$output" = max ]
  [ "$(state_status "$ID")" = running ]
}

# mem_total ID: MemTotal in the guest, in KiB
mem_total() {
  ko exec "$1" sh -c 'grep MemTotal /proc/meminfo' | awk '{print $2}'
}

@test "cpu.idle and cpu.burst (runc 1.1, 1.2): set at create, changed by update, bad ones refused" {
  edit_spec '.linux.resources = {"cpu": {"idle": 1, "quota": 50000, "period": 100000, "burst": 20000}}'
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  cg='cd /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup) && echo $(cat cpu.idle cpu.max cpu.max.burst)'
  run ko exec "$ID" sh -c "$cg"
  [ "$output" = "1 50000 100000 20000" ]
  ko update --cpu-idle 0 "$ID"
  echo '{"cpu": {"burst": 30000}}' | ko update -r - "$ID"
  run ko exec "$ID" sh -c "$cg"
  [ "$output" = "0 50000 100000 30000" ]
  run ko update --cpu-idle 2 "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"update: cpu.idle: 2: expected 0 or 1"* ]]
  # above the quota: the guest kernel's refusal, named
  run sh -c "echo '{\"cpu\": {\"burst\": 90000}}' | $KATA_OCI --root $TEST_ROOT update -r - $ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"cgroup cpu.max.burst: invalid argument"* ]]
  run ko exec "$ID" sh -c "$cg"
  [ "$output" = "0 50000 100000 30000" ]
}

@test "unified (cgroup v2 files, as runc): set last at create, over memory.limit; changed by update; bad keys refused and nothing left" {
  edit_spec '.linux.resources = {"memory": {"limit": 134217728}, "unified": {"memory.max": "100663296", "memory.high": "52428800", "pids.max": "77", "io.weight": "default 60"}}'
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  cg='cd /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup) && echo $(cat memory.max memory.high pids.max io.weight)'
  run ko exec "$ID" sh -c "$cg"
  echo "$output"
  [ "$output" = "100663296 52428800 77 default 60" ]
  echo '{"unified": {"memory.high": "max", "pids.max": "88"}}' | ko update -r - "$ID"
  run ko exec "$ID" sh -c "$cg"
  [ "$output" = "100663296 max 88 default 60" ]
  # a file the guest's cgroup does not have: the guest's refusal, named
  run sh -c "echo '{\"unified\": {\"privet.vsem\": \"1\"}}' | $KATA_OCI --root $TEST_ROOT update -r - $ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"unified resource privet.vsem: no such file or directory"* ]]
  ko delete -f "$ID"
  edit_spec '.linux.resources = {"unified": {"memory/../x": "1"}}'
  run ko create --bundle "$BUNDLE" "$ID" </dev/null
  [ "$status" -eq 1 ]
  [[ "$output" == *'config.json: linux.resources: unified: "memory/../x": must be a file name (no slashes)'* ]]
  assert_nothing_left "$ID"
  edit_spec '.linux.resources = {"unified": {"pids.current": "5"}}'
  run ko create --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"unified resource pids.current: "* ]]
  assert_nothing_left "$ID"
}

@test "update: a memory limit above the VM's size hotplugs memory into the VM" {
  cg="/kot-$ID"
  # a 192 MiB VM, whose container has used most of its 64 MiB
  edit_spec '.linux.resources = {"memory": {"limit": 67108864}} | .linux.cgroupsPath = "'"$cg"'"'
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  ko exec "$ID" dd if=/dev/zero of=/dev/shm/x bs=1M count=40 2>/dev/null
  before=$(mem_total "$ID")
  [ "$before" -lt $(( 192 * 1024 )) ]
  run ko update --memory 1g "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  # 1 GiB + 128 MiB headroom: 960 MiB more, in whole 128 MiB blocks
  after=$(mem_total "$ID")
  echo "MemTotal $before -> $after KiB"
  [ "$after" -ge $(( before + 1000 * 1024 )) ]
  run ko exec "$ID" sh -c "$CG/memory.max"
  [ "$output" = 1073741824 ]
  # more than the whole VM had before, in one process
  run ko exec "$ID" dd if=/dev/zero of=/dev/null bs=600M count=1
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"1+0 records out"* ]]
  # the host cgroup covers the grown VM plus its overhead
  hostmax=/sys/fs/cgroup/memory$cg/memory.limit_in_bytes
  [ -e /sys/fs/cgroup/cgroup.controllers ] && hostmax=/sys/fs/cgroup$cg/memory.max
  [ "$(cat "$hostmax")" = $(( (192 + 1024 + 256) * 1048576 )) ]
  # a smaller limit lowers the limits, never the VM's memory
  ko update --memory 512m "$ID"
  [ "$(mem_total "$ID")" = "$after" ]
  run ko exec "$ID" sh -c "$CG/memory.max"
  [ "$output" = 536870912 ]
  [ "$(cat "$hostmax")" = $(( (192 + 1024 + 256) * 1048576 )) ]
  # a limit again within what the VM holds plugs nothing more
  ko update --memory 1g "$ID"
  [ "$(mem_total "$ID")" = "$after" ]
  # beyond the host's memory
  run ko update --memory 100000g "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"update $ID: memory limit 107374182400000: needs 102400128 MiB of guest memory, above the VM's maximum of "*" MiB"* ]]
  [ "$(state_status "$ID")" = running ]
}

# guest_ram_kb ID: resident KiB of the VM's guest memory (the memfd QEMU maps)
guest_ram_kb() {
  local q
  q=$(ps -eo pid,args | awk -v n="kata-oci-$1" '$2 ~ /qemu-system/ && index($0, "-name " n " ") { print $1 }')
  awk '/^[0-9a-f]+-[0-9a-f]+ / { m = ($0 ~ /memfd:memory-backend-memfd/) } m && /^Rss:/ { s += $2 } END { print s + 0 }' "/proc/$q/smaps"
}

@test "memory the guest frees goes back to the host: the balloon's free page reporting, once the agent is idle" {
  set_args "$BUNDLE" sleep 1000
  ko --debug run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>"$WORK/err"
  grep -q 'qemu: .* -device virtio-balloon-pci,id=balloon0,free-page-reporting=on ' "$WORK/err"
  # the agent loads the driver once idle, then reports from 4 KiB up
  for i in $(seq 100); do
    [ "$(ko exec "$ID" cat /sys/module/page_reporting/parameters/page_reporting_order 2>/dev/null)" = 0 ] && break
    sleep 0.2
  done
  [ "$(ko exec "$ID" cat /sys/module/page_reporting/parameters/page_reporting_order)" = 0 ]
  ko exec "$ID" sh -c 'ls -d /sys/bus/virtio/drivers/virtio_balloon/virtio*'
  # 48 MiB written to a tmpfs in the guest become resident on the host...
  ko exec "$ID" dd if=/dev/zero of=/dev/shm/x bs=1M count=48 2>/dev/null
  full=$(guest_ram_kb "$ID")
  # ...and go back once the guest frees them
  ko exec "$ID" rm /dev/shm/x
  for i in $(seq 60); do
    now=$(guest_ram_kb "$ID")
    [ "$now" -le $(( full - 32 * 1024 )) ] && break
    sleep 0.5
  done
  echo "guest memory resident on the host: $full KiB with the file, $now KiB after rm"
  [ "$now" -le $(( full - 32 * 1024 )) ]
  ko delete -f "$ID"
  assert_nothing_left "$ID"
}

@test "update: beyond default_maxmemory fails clearly and leaves the container running" {
  edit_spec '.linux.resources = {"memory": {"limit": 67108864}}
    | .annotations = {"io.katacontainers.config.hypervisor.default_maxmemory": "512"}'
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  before=$(mem_total "$ID")
  # 192 MiB at boot, and two whole blocks fit below 512
  run ko update --memory 1g "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"update $ID: memory limit 1073741824: needs 1152 MiB of guest memory, above the VM's maximum of 448 MiB"* ]]
  [ "$(state_status "$ID")" = running ]
  run ko exec "$ID" sh -c "$CG/memory.max"
  [ "$output" = 67108864 ]
  [ "$(mem_total "$ID")" = "$before" ]
  # up to the maximum works
  ko update --memory 320m "$ID"
  [ "$(mem_total "$ID")" -gt $(( before + 200 * 1024 )) ]
  run ko exec "$ID" sh -c "$CG/memory.max"
  [ "$output" = 335544320 ]
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
  [ ! -e "$BUNDLE/oom" ]
  timeout 60 "$KATA_OCI" --root "$TEST_ROOT" events --interval 1s "$ID" > "$WORK/events" || true
  cat "$WORK/events"
  grep -q '"type":"oom"' "$WORK/events"
  tail -1 "$WORK/events" | jq -e '.type == "exit" and .data.status == 4'
  # conmon's mark, which podman and CRI-O read as OOMKilled: an empty file
  [ -f "$BUNDLE/oom" ] && [ ! -s "$BUNDLE/oom" ]
}

@test "no OOM mark in the bundle of a container that had none; a symlink there is not followed" {
  set_args "$BUNDLE" sh -c 'exit 3'
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  [ "$status" -eq 3 ]
  [ ! -e "$BUNDLE/oom" ]
  ko delete "$ID" 2>/dev/null || true
  # a planted link is left alone: the kill is logged, nothing written through it
  ln -s "$WORK/elsewhere" "$BUNDLE/oom"
  edit_spec '.linux.resources = {"memory": {"limit": 33554432, "swap": 33554432}}'
  set_args "$BUNDLE" sh -c 'dd if=/dev/zero of=/dev/null bs=96M count=1; exit 5'
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -eq 5 ]
  [ -L "$BUNDLE/oom" ] && [ ! -e "$WORK/elsewhere" ]
}

@test "update and events of a missing or stopped container fail clearly" {
  run ko update --memory 1m nosuch
  [ "$status" -eq 1 ]
  [[ "$output" == *"container nosuch does not exist"* ]]
  run ko events --interval 0 "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"invalid duration"* ]]
}
