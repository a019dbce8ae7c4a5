#!/usr/bin/env bats
# A pod member's disks: hot-plugged into the sandbox's running VM (a PCIe
# root port each) before the agent creates the member, unplugged at its
# delete so that QEMU holds nothing of them and the sandbox runs on. Loop
# devices over files in the test's directory, as in block.bats.

load helpers

setup() {
  setup_common
  SB=$ID
  M1=$ID-m1
  M2=$ID-m2
  EXTRA_IDS="$M1 $M2"
  LOOPS=()
  set_args "$BUNDLE" sleep 1000
  edit_spec '.annotations["io.kubernetes.cri-o.ContainerType"] = "sandbox"'
}

teardown() {
  local l busy= rc=0
  for m in $M1 $M2; do ko delete -f "$m" >/dev/null 2>&1 || true; done
  teardown_common || rc=1
  for m in $M1 $M2; do assert_nothing_left "$m" || rc=1; done
  for l in "${LOOPS[@]}"; do
    if fuser -s "$l" 2>/dev/null; then busy+=" $l"; fi
    losetup -d "$l" 2>/dev/null || true
  done
  [ -z "$busy" ] || { echo "loop devices left busy: $busy" >&2; return 1; }
  return $rc
}

# new_loop NAME SIZE_MB: LOOP, a loop device over WORK/NAME
new_loop() {
  truncate -s "${2}M" "$WORK/$1"
  LOOP=$(losetup -f --show "$WORK/$1")
  LOOPS+=("$LOOP")
}

# refute CMD...: CMD must fail (a bare "! CMD" never fails a bats test)
refute() {
  if "$@"; then echo "unexpectedly true: $*" >&2; return 1; fi
}

minor_of() { echo $((16#$(stat -c %T "$1"))); }

# member_bundle NAME ARG...: a member's bundle (pods.bats)
member_bundle() {
  local name=$1; shift
  local b=$WORK/$name pid
  pid=$(ko state "$SB" | jq -r .pid)
  make_bundle "$b"
  set_args "$b" "$@"
  for a in dd cmp sleep mount grep cat; do
    [ -e "$b/rootfs/bin/$a" ] || ln -s busybox "$b/rootfs/bin/$a"
  done
  jq --arg sb "$SB" --arg p "/proc/$pid/ns" '
    .annotations["io.kubernetes.cri-o.ContainerType"] = "container"
    | .annotations["io.kubernetes.cri-o.SandboxID"] = $sb
    | .root.readonly = false
    | .linux.namespaces = [ {type: "pid"}, {type: "mount"},
        {type: "network", path: ($p + "/net")},
        {type: "ipc", path: ($p + "/ipc")},
        {type: "uts", path: ($p + "/uts")} ]' \
    "$b/config.json" > "$b/c.tmp" && mv "$b/c.tmp" "$b/config.json"
  echo "$b"
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

start_sandbox() {
  ko create --bundle "$BUNDLE" "$SB" </dev/null
  ko start "$SB"
}

qemu_pid() { pgrep -f "[q]emu-system.*-name kata-oci-$SB" | head -1; }

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
  # the sandbox runs on
  [ "$(state_status "$SB")" = running ]
  run ko exec "$SB" echo alive
  [ "$output" = alive ]
}
