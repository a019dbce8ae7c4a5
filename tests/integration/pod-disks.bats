#!/usr/bin/env bats
# A pod member's disks: hot-plugged into the sandbox's running VM (a PCIe
# root port each) before the agent creates the member, unplugged at its
# delete so that QEMU holds nothing of them and the sandbox runs on. Loop
# devices over files in the test's directory, as in block.bats.

load helpers

setup() {
  setup_pod
  LOOPS=()
}

teardown() {
  local rc=0
  teardown_pod || rc=1
  [ -z "${ROOTMNT:-}" ] || umount "$ROOTMNT" 2>/dev/null || true
  release_loops || rc=1
  return $rc
}

# refute CMD...: CMD must fail (a bare "! CMD" never fails a bats test)
refute() {
  if "$@"; then echo "unexpectedly true: $*" >&2; return 1; fi
}

# edit BUNDLE JQ-FILTER [jq args]
edit() {
  local b=$1 f=$2; shift 2
  jq "$@" "$f" "$b/config.json" > "$b/c.tmp" && mv "$b/c.tmp" "$b/config.json"
}

# add_device BUNDLE LOOP PATH: the loop device at PATH in the member
add_device() {
  edit "$1" '.linux.devices += [{type: "b", path: $p, major: 7, minor: $mi}]' \
    --arg p "$3" --argjson mi "$(minor_of "$2")"
}

# add_volume BUNDLE FILE DEST: FILE as an ext4 block volume at DEST
add_volume() {
  edit "$1" '.mounts += [{destination: $d, type: "ext4", source: $s, options: ["rw"]}]
    | .annotations["io.katacontainers.volume." + $d] = "block"' \
    --arg s "$2" --arg d "$3"
}

# member_refused BUNDLE PATTERN: M1's create fails with output matching
# *PATTERN* (a glob: '*' in it matches anything) and leaves nothing
member_refused() {
  run ko create --bundle "$1" "$M1"
  echo "$output"
  [ "$status" -eq 1 ]
  # shellcheck disable=SC2053
  [[ "$output" == *$2* ]]
  assert_nothing_left "$M1"
}

start_sandbox() {
  ko create --bundle "$BUNDLE" "$SB" </dev/null
  ko start "$SB"
}

qemu_pid() { pgrep -f "[q]emu-system.*-name kata-oci-$SB" | head -1; }
root_ports() { pgrep -af "[q]emu-system.*-name kata-oci-$SB" | grep -o 'pcie-root-port' | wc -l; }

# holds FILE: whether the sandbox's QEMU has FILE (or the device) open
qemu_holds() {
  local f
  for f in /proc/"$(qemu_pid)"/fd/*; do
    [ "$(readlink "$f")" = "$1" ] && return 0
  done
  return 1
}

@test "pod disks: a member's device and block volume are hot-plugged; data reaches the files; delete unplugs them" {
  local l b1
  grep -q '^CONFIG_EXT4_FS=y' "$BUILDDIR/guest/vmlinux.config" 2>/dev/null ||
    skip "the guest kernel has no ext4"
  start_sandbox
  new_loop dev 4
  l=$LOOP
  truncate -s 32M "$WORK/vol"
  mkfs.ext4 -q "$WORK/vol"
  head -c 1048576 /dev/urandom > "$WORK/pattern"
  b1=$(member_bundle m1 sh -c 'dd if=/pattern of=/dev/xvdz bs=64k conv=fsync 2>/dev/null; echo in-volume > /data/f; sync; grep -c /data /proc/mounts; echo done')
  cp "$WORK/pattern" "$b1/rootfs/pattern"
  add_device "$b1" "$l" /dev/xvdz
  add_volume "$b1" "$WORK/vol" /data
  ko create --bundle "$b1" "$M1" </dev/null >"$WORK/m1.out"
  qemu_holds "$l"
  qemu_holds "$WORK/vol"
  ko start "$M1"
  wait_status "$M1" stopped
  cat "$WORK/m1.out"
  [ "$(tail -1 "$WORK/m1.out")" = done ]
  # still plugged while the stopped member exists
  qemu_holds "$l"
  ko delete "$M1"
  # QEMU holds neither; the loop device detaches
  refute qemu_holds "$l"
  refute qemu_holds "$WORK/vol"
  refute fuser -s "$l"
  losetup -d "$l"
  cmp -n 1048576 "$WORK/pattern" "$WORK/dev"
  debugfs -R 'cat /f' "$WORK/vol" 2>/dev/null | grep -qx in-volume
  # the guest unmounted it before letting the disk go: clean, no journal
  # to replay
  e2fsck -fn "$WORK/vol"
  # the sandbox runs on
  [ "$(state_status "$SB")" = running ]
  run ko exec "$SB" echo alive
  [ "$output" = alive ]
}

@test "pod disks: a 1 MiB/s write throttle holds on a member's disk; update raises it" {
  local l mi b1 ms
  start_sandbox
  new_loop dev 16
  l=$LOOP
  mi=$(minor_of "$l")
  b1=$(member_bundle m1 sleep 1000)
  add_device "$b1" "$l" /dev/xvdz
  edit "$b1" '.linux.resources.blockIO = {throttleWriteBpsDevice: [{major: 7, minor: $mi, rate: 1048576}]}' --argjson mi "$mi"
  ko create --bundle "$b1" "$M1" </dev/null
  ko start "$M1"
  ms=$(write_ms "$M1" /dev/xvdz)
  echo "throttled: $ms ms"
  [ "$ms" -ge 1900 ]
  edit "$b1" '.linux.resources.blockIO.throttleWriteBpsDevice[0].rate = 67108864'
  jq .linux.resources "$b1/config.json" > "$WORK/r.json"
  ko update --resources "$WORK/r.json" "$M1"
  ms=$(write_ms "$M1" /dev/xvdz)
  echo "raised: $ms ms"
  [ "$ms" -lt 1900 ]
  ko delete -f "$M1"
  refute qemu_holds "$l"
  losetup -d "$l"
}

@test "pod disks: two members with disks; each delete unplugs its own, the other's keeps working" {
  local l1 l2 b1 b2
  start_sandbox
  new_loop d1 4
  l1=$LOOP
  new_loop d2 4
  l2=$LOOP
  b1=$(member_bundle m1 sleep 1000)
  b2=$(member_bundle m2 sleep 1000)
  add_device "$b1" "$l1" /dev/xvdb
  add_device "$b2" "$l2" /dev/xvdc
  ko create --bundle "$b1" "$M1" </dev/null
  ko create --bundle "$b2" "$M2" </dev/null
  ko start "$M1"
  ko start "$M2"
  ko exec "$M1" sh -c 'echo one | dd of=/dev/xvdb conv=fsync 2>/dev/null'
  ko exec "$M2" sh -c 'echo two | dd of=/dev/xvdc conv=fsync 2>/dev/null'
  ko delete -f "$M1"
  refute qemu_holds "$l1"
  qemu_holds "$l2"
  losetup -d "$l1"
  # the other member's disk is still there and works
  ko exec "$M2" sh -c 'echo two-again | dd of=/dev/xvdc conv=fsync 2>/dev/null'
  ko delete -f "$M2"
  refute qemu_holds "$l2"
  [ "$(head -c 3 "$WORK/d1")" = one ]
  [ "$(head -c 9 "$WORK/d2")" = two-again ]
  run ko exec "$SB" echo alive
  [ "$output" = alive ]
}

@test "pod disks: a second disk that cannot be plugged undoes the first; no free root port is a clear error" {
  local l1 l2 b1 b2
  # one root port: the member's second disk finds none
  edit_spec '.annotations["io.katacontainers.config.hypervisor.pcie_root_port"] = "1"'
  start_sandbox
  [ "$(root_ports)" -eq 1 ]
  new_loop d1 4
  l1=$LOOP
  new_loop d2 4
  l2=$LOOP
  b1=$(member_bundle m1 sleep 1000)
  add_device "$b1" "$l1" /dev/xvdb
  add_device "$b1" "$l2" /dev/xvdc
  member_refused "$b1" "disk $l2: no free PCIe root port in the pod's VM (1, all in use"
  refute qemu_holds "$l1"
  refute qemu_holds "$l2"
  # the port is free again: a member with one disk takes it
  b2=$(member_bundle m2 sleep 1000)
  add_device "$b2" "$l1" /dev/xvdb
  ko create --bundle "$b2" "$M2" </dev/null
  qemu_holds "$l1"
  # and the next finds none, named
  edit "$b1" '.linux.devices = [.linux.devices[1]]'
  member_refused "$b1" "disk $l2: no free PCIe root port"
  ko delete -f "$M2"
  refute qemu_holds "$l1"
  losetup -d "$l1"
  losetup -d "$l2"
  [ "$(state_status "$SB")" = running ]
}

@test "pod disks: a bad second disk is refused before anything is plugged" {
  local l1 b1
  start_sandbox
  new_loop d1 4
  l1=$LOOP
  b1=$(member_bundle m1 sleep 1000)
  add_device "$b1" "$l1" /dev/xvdb
  edit "$b1" '.mounts += [{destination: "/data", type: "ext4", source: "/nonexistent-disk", options: ["rw"]}]
    | .annotations["io.katacontainers.volume./data"] = "block"'
  member_refused "$b1" "config.json: mounts*/nonexistent-disk"
  refute qemu_holds "$l1"
  losetup -d "$l1"
}

@test "pod disks: a lone container's VM has no root ports, a pod sandbox's 4; without any, a member's disk is refused clearly" {
  local b1
  set_args "$BUNDLE" sleep 1000
  edit_spec 'del(.annotations["io.kubernetes.cri-o.ContainerType"])'
  ko create --bundle "$BUNDLE" "$SB" </dev/null
  [ "$(root_ports)" -eq 0 ]
  ko delete -f "$SB"
  # podman's infra container is one such: the environment gives it some
  KATA_OCI_ROOT_PORTS=2 ko create --bundle "$BUNDLE" "$SB" </dev/null
  [ "$(root_ports)" -eq 2 ]
  ko delete -f "$SB"
  edit_spec '.annotations["io.kubernetes.cri-o.ContainerType"] = "sandbox"'
  ko create --bundle "$BUNDLE" "$SB" </dev/null
  [ "$(root_ports)" -eq 4 ]
  ko delete -f "$SB"
  # a member's disk in a VM without root ports (podman's infra has no
  # annotation that says it is a pod's sandbox)
  edit_spec '.annotations["io.katacontainers.config.hypervisor.pcie_root_port"] = "0"'
  ko create --bundle "$BUNDLE" "$SB" </dev/null
  new_loop d1 4
  b1=$(member_bundle m1 true)
  add_device "$b1" "$LOOP" /dev/xvdb
  member_refused "$b1" "disk $LOOP: the pod's VM has no PCIe root port to plug it into*io.katacontainers.config.hypervisor.pcie_root_port sets how many, and KATA_OCI_ROOT_PORTS for a VM without them"
  refute qemu_holds "$LOOP"
  ko delete -f "$SB"
  edit_spec '.annotations["io.katacontainers.config.hypervisor.pcie_root_port"] = "17"'
  run ko create --bundle "$BUNDLE" "$SB"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"io.katacontainers.config.hypervisor.pcie_root_port: expected 0 to 16, not \"17\""* ]]
}

@test "pod disks: a CLI killed halfway through a member's create with a disk: the delete unplugs it" {
  local l b1 mon
  start_sandbox
  mon=$(jq -r .monitorPid "$TEST_ROOT/$SB/state.json")
  new_loop d1 4
  l=$LOOP
  b1=$(member_bundle m1 sleep 1000)
  add_device "$b1" "$l" /dev/xvdb
  for delay in 0.05 0.2 0.4 0.7 1.2; do
    create_killed "$b1" "$M1" "$delay"
    ko delete -f "$M1" 2>&1 | grep -v "does not exist" || true
    assert_nothing_left "$M1"
    refute qemu_holds "$l"
    [ "$(state_status "$SB")" = running ]
  done
  # and the disk plugs again afterwards
  ko create --bundle "$b1" "$M1" </dev/null
  qemu_holds "$l"
  ko delete -f "$M1"
  refute qemu_holds "$l"
}

@test "pod disks: a disk QEMU refuses (the same device twice) undoes the first; the error names it" {
  local l b1
  start_sandbox
  new_loop d1 4
  l=$LOOP
  b1=$(member_bundle m1 sleep 1000)
  add_device "$b1" "$l" /dev/xvdb
  add_device "$b1" "$l" /dev/xvdc
  # the second one's device_add: QEMU's image lock; the first, plugged
  # by then, is unplugged again
  member_refused "$b1" "disk $l: device_add: *lock"
  refute qemu_holds "$l"
  losetup -d "$l"
  [ "$(state_status "$SB")" = running ]
  run ko exec "$SB" echo alive
  [ "$output" = alive ]
}

@test "pod disks: a member's loop-mounted rootfs stays on virtio-fs unless io.kata-oci.rootfs=block hot-plugs it" {
  local b1 l
  grep -q '^CONFIG_EXT4_FS=y' "$BUILDDIR/guest/vmlinux.config" 2>/dev/null ||
    skip "the guest kernel has no ext4"
  start_sandbox
  b1=$(member_bundle m1 sh -c 'grep " / " /proc/mounts | cut -d" " -f1,3; echo from-member > /written; echo done')
  new_loop root.img 320
  l=$LOOP
  mkfs.ext4 -q -d "$b1/rootfs" "$l"
  mount "$l" "$b1/rootfs"
  ROOTMNT=$b1/rootfs
  # a member's rootfs is not hot-plugged unasked: root ports are few
  ko create --bundle "$b1" "$M1" </dev/null >"$WORK/m1.out"
  ko start "$M1"
  wait_status "$M1" stopped
  cat "$WORK/m1.out"
  [ "$(head -1 "$WORK/m1.out")" = "kataShared virtiofs" ]
  ko delete "$M1"
  [[ "$(awk -v p="$b1/rootfs" '$2 == p { print $4 }' /proc/mounts)" == rw,* ]]
  # asked: a disk of the running VM, the host's mount sealed read-only
  edit "$b1" '.annotations["io.kata-oci.rootfs"] = "block"'
  ko create --bundle "$b1" "$M1" </dev/null >"$WORK/m1.out"
  qemu_holds "$l"
  [[ "$(awk -v p="$b1/rootfs" '$2 == p { print $4 }' /proc/mounts)" == ro,* ]]
  ko start "$M1"
  wait_status "$M1" stopped
  cat "$WORK/m1.out"
  [[ "$(head -1 "$WORK/m1.out")" == "/dev/vd"*" ext4" ]]
  [ "$(tail -1 "$WORK/m1.out")" = done ]
  ko delete "$M1"
  refute qemu_holds "$l"
  umount "$b1/rootfs"
  ROOTMNT=
  mount -o ro "$l" "$WORK/root.check" 2>/dev/null || { mkdir "$WORK/root.check"; mount -o ro "$l" "$WORK/root.check"; }
  [ "$(cat "$WORK/root.check/written")" = from-member ]
  umount "$WORK/root.check"
  [ "$(state_status "$SB")" = running ]
}
