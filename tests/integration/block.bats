#!/usr/bin/env bats
# Block storage into the VM: host block devices (linux.devices of type b)
# and block volumes attached as virtio-blk disks, blockIO throttles applied
# by QEMU, and the errors. Loop devices over files in the test's own
# directory; each test checks that nothing is left and no loop device of its
# own stays busy. podman's --device is in podman.bats.

load helpers

setup() {
  setup_common
  LOOPS=()
  MNTS=()
  for a in dd cmp sleep time mount grep cat; do
    [ -e "$BUNDLE/rootfs/bin/$a" ] || ln -s busybox "$BUNDLE/rootfs/bin/$a"
  done
}

teardown() {
  local l rc=0
  teardown_common || rc=1
  for l in "${MNTS[@]}"; do umount "$l" 2>/dev/null || true; done
  release_loops || rc=1
  return $rc
}

# block_rootfs [FSTYPE]: the bundle's rootfs copied onto a filesystem on
# a loop device (ext4 unless given), mounted at the bundle's rootfs, as
# the devmapper and blockfile snapshotters leave it; ROOTDEV is the device
block_rootfs() {
  local fs=${1:-ext4}
  new_loop root.img 320
  ROOTDEV=$LOOP
  "mkfs.$fs" -q "$ROOTDEV"
  mkdir "$WORK/copy"
  mount "$ROOTDEV" "$WORK/copy"
  cp -a "$BUNDLE/rootfs/." "$WORK/copy/"
  umount "$WORK/copy"
  mount "$ROOTDEV" "$BUNDLE/rootfs"
  MNTS+=("$BUNDLE/rootfs")
}

# host_mount_opts PATH: the options of the mount at PATH
host_mount_opts() { awk -v p="$1" '$2 == p { print $4 }' /proc/mounts | tail -1; }

# refused MESSAGE: run fails with MESSAGE and leaves nothing
refused() {
  run ko run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$1"* ]]
  assert_nothing_left "$ID"
}

# add_device LOOP [ACCESS]: the loop device as /dev/xvdz, with podman's
# deny-all rule first and its own rule after (access rwm unless given)
add_device() {
  local mi
  mi=$(minor_of "$1")
  edit_spec ".linux.devices += [{\"type\": \"b\", \"path\": \"/dev/xvdz\", \"major\": 7, \"minor\": $mi, \"fileMode\": 432, \"uid\": 0, \"gid\": 6}]
    | .linux.resources.devices = [{\"allow\": false, \"access\": \"rwm\"}, {\"allow\": true, \"type\": \"b\", \"major\": 7, \"minor\": $mi, \"access\": \"${2:-rwm}\"}]"
}

@test "block device: written in the guest, the host file has the bytes; node with the spec's mode and owner" {
  local l
  new_loop disk 4
  l=$LOOP
  head -c 1048576 /dev/urandom > "$BUNDLE/rootfs/pattern"
  add_device "$l"
  set_args "$BUNDLE" sh -c 'stat -c "%A %u %g" /dev/xvdz; dd if=/pattern of=/dev/xvdz bs=64k conv=fsync 2>/dev/null; head -c 1048576 /dev/xvdz | cmp /pattern - && echo same'
  run ko run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  # the guest disk's numbers, the spec's mode and owner
  [ "${lines[0]}" = "brw-rw---- 0 6" ]
  [ "${lines[1]}" = "same" ]
  cmp -n 1048576 "$BUNDLE/rootfs/pattern" "$WORK/disk"
}

@test "block device: read-only when the cgroup rules allow only reads" {
  local l
  new_loop disk 4
  l=$LOOP
  printf 'host-data' | dd of="$WORK/disk" conv=notrunc 2>/dev/null
  add_device "$l" r
  set_args "$BUNDLE" sh -c 'head -c 9 /dev/xvdz; echo; echo x | dd of=/dev/xvdz 2>&1; cat /sys/block/vda/ro'
  run ko run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "host-data" ]
  [[ "$output" == *"Operation not permitted"* || "$output" == *"Read-only"* ]]
  [ "$(head -c 9 "$WORK/disk")" = "host-data" ]
}

@test "block device: a 1 MiB/s write throttle holds; update raises it on the running container" {
  local l mi start end
  new_loop disk 16
  l=$LOOP
  mi=$(minor_of "$l")
  add_device "$l"
  edit_spec ".linux.resources.blockIO = {\"weight\": 500, \"throttleWriteBpsDevice\": [{\"major\": 7, \"minor\": $mi, \"rate\": 1048576}]}"
  set_args "$BUNDLE" sleep 1000
  ko --log "$WORK/log" create --bundle "$BUNDLE" "$ID" </dev/null
  # the weight is not honoured, and says so
  grep -q "blockIO weights are not honoured" "$WORK/log"
  ko start "$ID"
  start=$(date +%s%N)
  ko exec "$ID" dd if=/dev/zero of=/dev/xvdz bs=64k count=48 oflag=direct
  end=$(date +%s%N)
  # 3 MiB at 1 MiB/s: QEMU lets a first second's worth through at once
  [ $(( (end - start) / 1000000 )) -ge 1900 ]
  echo "{\"blockIO\": {\"throttleWriteBpsDevice\": [{\"major\": 7, \"minor\": $mi, \"rate\": 67108864}]}}" > "$WORK/r.json"
  ko update --resources "$WORK/r.json" "$ID"
  start=$(date +%s%N)
  ko exec "$ID" dd if=/dev/zero of=/dev/xvdz bs=64k count=48 oflag=direct
  end=$(date +%s%N)
  [ $(( (end - start) / 1000000 )) -lt 1900 ]
  # a throttle on a device the VM lacks: refused, named
  echo '{"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1}]}}' > "$WORK/r.json"
  run ko update --resources "$WORK/r.json" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"blockIO.throttleReadBpsDevice[0]: 8:0 is no disk of the container's"* ]]
}

@test "block: a bind mount of a host block device binds the guest disk's node" {
  local l
  new_loop disk 4
  l=$LOOP
  edit_spec ".mounts += [{\"destination\": \"/dev/xvdb\", \"type\": \"bind\", \"source\": \"$l\", \"options\": [\"rbind\"]}]"
  set_args "$BUNDLE" sh -c 'echo via-bind | dd of=/dev/xvdb conv=fsync 2>/dev/null; test -b /dev/xvdb && echo is-block'
  run ko run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = is-block ]
  [ "$(head -c 8 "$WORK/disk")" = via-bind ]
}

@test "block volume: ext4 on a loop device, mounted by the guest only; the data is on the host after stop" {
  grep -q '^CONFIG_EXT4_FS=y' "$BUILDDIR/guest/vmlinux.config" 2>/dev/null ||
    skip "the guest kernel has no ext4"
  local l
  new_loop vol 32
  l=$LOOP
  mkfs.ext4 -q "$l"
  edit_spec ".mounts += [{\"destination\": \"/data\", \"type\": \"ext4\", \"source\": \"$l\", \"options\": [\"rw\", \"noatime\"]}]"
  set_args "$BUNDLE" sh -c 'grep " /data " /proc/mounts | cut -d" " -f3,4; echo from-guest > /data/f; sync'
  run ko run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "ext4 rw,noatime"* ]]
  # never mounted on the host
  ! grep -q "^$l " /proc/mounts
  [ "$(debugfs -R 'cat /f' "$l" 2>/dev/null)" = from-guest ]
}

@test "block volume: a regular file with io.katacontainers.volume.<dest>=block, as xfs, read-only" {
  grep -q '^CONFIG_XFS_FS=y' "$BUILDDIR/guest/vmlinux.config" 2>/dev/null ||
    skip "the guest kernel has no xfs"
  command -v mkfs.xfs >/dev/null || skip "xfsprogs is not installed"
  truncate -s 300M "$WORK/vol.img"
  mkfs.xfs -q "$WORK/vol.img"
  edit_spec ".annotations[\"io.katacontainers.volume./data\"] = \"block\"
    | .mounts += [{\"destination\": \"/data\", \"type\": \"xfs\", \"source\": \"$WORK/vol.img\", \"options\": [\"ro\"]}]"
  set_args "$BUNDLE" sh -c 'grep " /data " /proc/mounts | cut -d" " -f3,4; touch /data/x 2>&1; true'
  run ko run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "xfs ro"* ]]
  [[ "$output" == *"Read-only file system"* ]]
}

@test "block: bad input names the field and leaves nothing" {
  local l ro mnt
  # a device the host lacks
  edit_spec '.linux.devices = [{"type": "b", "path": "/dev/xvdz", "major": 7, "minor": 1048575}]'
  refused "config.json: linux.devices[0]: the host has no block device 7:1048575"
  # not a block device: a character device's numbers
  edit_spec '.linux.devices = [{"type": "b", "path": "/dev/xvdz", "major": 1, "minor": 3}]'
  refused "config.json: linux.devices[0]: the host has no block device 1:3"
  # a read-only device the container may write
  new_loop ro 4 -r
  ro=$LOOP
  edit_spec '.linux.devices = []'
  add_device "$ro"
  refused "config.json: linux.devices[0]: $ro is read-only on the host"
  # a block device the host has mounted, as a volume
  new_loop busy 32
  l=$LOOP
  mkfs.ext4 -q "$l"
  mnt=$WORK/mnt
  mkdir "$mnt"
  mount "$l" "$mnt"
  edit_spec ".linux.devices = [] | .linux.resources.devices = [] | .mounts += [{\"destination\": \"/data\", \"type\": \"ext4\", \"source\": \"$l\"}]"
  run ko run --bundle "$BUNDLE" "$ID"
  umount "$mnt"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"config.json: mounts["*"]: $l is in use on the host"* ]]
  assert_nothing_left "$ID"
  ! pgrep -f "kata-oci-$ID" >/dev/null
}

@test "block rootfs: a loop-mounted ext4 rootfs is the guest's disk; read-only on the host meanwhile; the data is on the host after stop" {
  grep -q '^CONFIG_EXT4_FS=y' "$BUILDDIR/guest/vmlinux.config" 2>/dev/null ||
    skip "the guest kernel has no ext4"
  head -c 1048576 /dev/urandom > "$BUNDLE/rootfs/pattern"
  block_rootfs ext4
  edit_spec '.root.readonly = false'
  set_args "$BUNDLE" sh -c 'grep " / " /proc/mounts | cut -d" " -f1,3; cat /pattern /pattern > /doubled; echo from-guest > /etc/written'
  ko create --bundle "$BUNDLE" "$ID"
  # the host does not write it while the guest does
  [[ "$(host_mount_opts "$BUNDLE/rootfs")" == ro,* ]]
  ko start "$ID"
  for _ in $(seq 100); do
    [ "$(ko state "$ID" | jq -r .status)" = stopped ] && break
    sleep 0.1
  done
  ko delete "$ID"
  assert_nothing_left "$ID"
  # read afresh: the host's mount was read-only and is stale
  umount "$BUNDLE/rootfs"
  mount -o ro "$ROOTDEV" "$BUNDLE/rootfs"
  [ "$(cat "$BUNDLE/rootfs/etc/written")" = from-guest ]
  cat "$BUNDLE/rootfs/pattern" "$BUNDLE/rootfs/pattern" | cmp - "$BUNDLE/rootfs/doubled"
}

@test "block rootfs: what the guest mounts, run in the foreground; a read-only root on xfs" {
  grep -q '^CONFIG_XFS_FS=y' "$BUILDDIR/guest/vmlinux.config" 2>/dev/null ||
    skip "the guest kernel has no xfs"
  command -v mkfs.xfs >/dev/null || skip "xfsprogs is not installed"
  block_rootfs xfs
  # a throttle on the rootfs device's numbers names that disk
  edit_spec ".root.readonly = true
    | .linux.resources.blockIO.throttleReadBpsDevice = [{\"major\": 7, \"minor\": $(minor_of "$ROOTDEV"), \"rate\": 104857600}]"

  set_args "$BUNDLE" sh -c 'grep " / " /proc/mounts | cut -d" " -f1,3,4; touch /x 2>&1; cat /sys/block/vda/serial; echo'
  run ko run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "/dev/vda xfs ro,"* ]]
  [[ "$output" == *"Read-only file system"* ]]
  [[ "${lines[2]}" == ko*r0 ]]
}

@test "block rootfs: io.kata-oci.rootfs=virtio-fs keeps the share; a device mounted twice stays on the share" {
  grep -q '^CONFIG_EXT4_FS=y' "$BUILDDIR/guest/vmlinux.config" 2>/dev/null ||
    skip "the guest kernel has no ext4"
  block_rootfs ext4
  edit_spec '.root.readonly = false | .annotations["io.kata-oci.rootfs"] = "virtio-fs"'
  set_args "$BUNDLE" sh -c 'grep " / " /proc/mounts | cut -d" " -f3'
  run ko run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = virtiofs ]
  [[ "$(host_mount_opts "$BUNDLE/rootfs")" == rw,* ]]
  ko delete "$ID" 2>/dev/null || true
  # Kata's own switch says the same
  edit_spec 'del(.annotations["io.kata-oci.rootfs"]) | .annotations["io.katacontainers.config.hypervisor.disable_block_device_use"] = "true"'
  run ko run --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 0 ]
  [ "$output" = virtiofs ]
  ko delete "$ID" 2>/dev/null || true
  # mounted a second time on the host: the host would go on using it
  mkdir "$WORK/second"
  mount "$ROOTDEV" "$WORK/second"
  MNTS+=("$WORK/second")
  edit_spec 'del(.annotations["io.katacontainers.config.hypervisor.disable_block_device_use"])'
  run ko run --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 0 ]
  [ "$output" = virtiofs ]
  ko delete "$ID" 2>/dev/null || true
  edit_spec '.annotations["io.kata-oci.rootfs"] = "block"'
  refused "config.json: root.path: $BUNDLE/rootfs ($ROOTDEV) is also mounted at $WORK/second on the host"
  [[ "$(host_mount_opts "$BUNDLE/rootfs")" == rw,* ]]
}

@test "block rootfs: a file open for writing on the host: the host cannot seal it, create fails and leaves it read-write" {
  grep -q '^CONFIG_EXT4_FS=y' "$BUILDDIR/guest/vmlinux.config" 2>/dev/null ||
    skip "the guest kernel has no ext4"
  block_rootfs ext4
  local holder
  sleep 1000 > "$BUNDLE/rootfs/busy" &
  holder=$!
  run ko run --bundle "$BUNDLE" "$ID"
  kill "$holder"
  wait "$holder" 2>/dev/null || true
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"config.json: root.path: remount $BUNDLE/rootfs read-only for the VM to own its disk (a file in it is open for writing on the host)"* ]]
  assert_nothing_left "$ID"
  [[ "$(host_mount_opts "$BUNDLE/rootfs")" == rw,* ]]
}

@test "block rootfs: bad annotations and a rootfs that is no block mount name what is wrong and leave nothing" {
  edit_spec '.annotations["io.kata-oci.rootfs"] = "disk"'
  refused 'config.json: annotations: io.kata-oci.rootfs: "disk": expected "block" or "virtio-fs"'
  edit_spec '.annotations["io.kata-oci.rootfs"] = "block"'
  refused "config.json: root.path: $BUNDLE/rootfs is not a mount point (annotation io.kata-oci.rootfs=block)"
  mount -t tmpfs tmpfs "$BUNDLE/rootfs"
  MNTS+=("$BUNDLE/rootfs")
  refused "config.json: root.path: $BUNDLE/rootfs is not on a block device (tmpfs tmpfs)"
  edit_spec 'del(.annotations["io.kata-oci.rootfs"]) | .annotations["io.katacontainers.config.hypervisor.disable_block_device_use"] = "yes"'
  refused 'config.json: annotations: io.katacontainers.config.hypervisor.disable_block_device_use: "yes": expected "true" or "false"'
}
