#!/usr/bin/env bats
# The host against a hostile guest and a careless bundle: escapes through
# symlinks, device nodes and setuid files made through the share, QEMU's
# confinement, and floods from the guest. Each test failed before its fix.

load helpers

setup() { setup_common; }
teardown() { teardown_common; }

@test "a rootfs that is a symlink out of the bundle is refused" {
  mv "$BUNDLE/rootfs" "$WORK/real-rootfs"
  ln -s / "$BUNDLE/rootfs"
  run ko create --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"config.json: root.path: $BUNDLE/rootfs is a symlink or goes through one"* ]]
  assert_nothing_left "$ID"
  # an absolute root.path with a symlink in the middle, as runc refuses too
  rm "$BUNDLE/rootfs"
  ln -s "$WORK" "$WORK/link"
  edit_spec ".root.path = \"$WORK/link/real-rootfs\""
  run ko create --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"config.json: root.path: $WORK/link/real-rootfs is a symlink or goes through one"* ]]
  assert_nothing_left "$ID"
  # the same directory named without the symlink runs
  edit_spec ".root.path = \"$WORK/real-rootfs\""
  run ko run --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 0 ]
  [[ "$output" == *hello* ]]
}

@test "a relative bind source that leads out of the bundle is refused" {
  mkdir -p "$BUNDLE/vol"
  ln -s /etc "$BUNDLE/vol/escape"
  edit_spec '.mounts += [{"destination": "/v", "type": "bind", "source": "vol/escape", "options": ["rbind"]}]'
  run ko create --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"mounts["*"].source: vol/escape leads out of the bundle"* ]]
  assert_nothing_left "$ID"
}

# caps CAP... : the container's process gets these capabilities in every set
caps() {
  local json
  json=$(printf '%s\n' "$@" | jq -R . | jq -s .)
  edit_spec ".process.capabilities = {\"bounding\": $json, \"effective\": $json, \"permitted\": $json} | .root.readonly = false"
}

@test "the guest cannot make a device node or a setuid file on the host" {
  # CAP_MKNOD lets the guest kernel try; the host must still refuse
  caps CAP_MKNOD CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER
  set_args "$BUNDLE" sh -c 'mknod /tmp/blk b 8 0; echo mknod=$?; mknod /tmp/chr c 1 1; echo chr=$?; mkfifo /tmp/fifo; echo fifo=$?; echo x > /tmp/f; chmod 4755 /tmp/f; echo suid=$?; chmod 2755 /tmp/f; echo sgid=$?; chmod 755 /tmp/f; echo plain=$?'
  run ko run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"mknod=1"* ]]
  [[ "$output" == *"chr=1"* ]]
  [[ "$output" == *"fifo=0"* ]]
  [[ "$output" == *"suid=1"* ]]
  [[ "$output" == *"sgid=1"* ]]
  [[ "$output" == *"plain=0"* ]]
  [ ! -e "$BUNDLE/rootfs/tmp/blk" ]
  [ ! -e "$BUNDLE/rootfs/tmp/chr" ]
  [ -p "$BUNDLE/rootfs/tmp/fifo" ]
  [ "$(stat -c %a "$BUNDLE/rootfs/tmp/f")" = 755 ]
  assert_nothing_left "$ID"
}

@test "setuid files through the share only for a container with CAP_FSETID" {
  caps CAP_FSETID CAP_MKNOD
  set_args "$BUNDLE" sh -c 'echo x > /tmp/f; chmod 4755 /tmp/f; echo suid=$?; mknod /tmp/blk b 8 0; echo mknod=$?'
  run ko run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"suid=0"* ]]
  [[ "$output" == *"mknod=1"* ]]
  [ "$(stat -c %a "$BUNDLE/rootfs/tmp/f")" = 4755 ]
  [ ! -e "$BUNDLE/rootfs/tmp/blk" ]
}

@test "virtiofsd sees the rootfs and volumes nodev,nosuid" {
  # a device node already in the bundle (as an image may carry) is then
  # never opened as a host device, whatever the guest kernel asks
  mkdir -p "$WORK/vol"
  edit_spec ".mounts += [{\"destination\": \"/v\", \"type\": \"bind\", \"source\": \"$WORK/vol\", \"options\": [\"rbind\"]}]"
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null
  vfs=$(jq -r .virtiofsdPid "$TEST_ROOT/$ID/state.json")
  # virtiofsd has pivoted into the share: its mount points are /ID/...
  cat /proc/$vfs/mountinfo
  [ "$(grep -cE " /$ID/(rootfs|mounts/[0-9]+) " /proc/$vfs/mountinfo)" -eq 2 ]
  ! grep -E " /$ID/(rootfs|mounts/[0-9]+) " /proc/$vfs/mountinfo | grep -vE " rw,nosuid,nodev,"
  ko delete -f "$ID"
  assert_nothing_left "$ID"
}

@test "a guest that mounts the share writes only in its rootfs and volumes, never files of its own beside them on the host" {
  # the guest kernel is untrusted: with CAP_SYS_ADMIN a container mounts the
  # whole share; its top and the container's directory are read-only
  mkdir -p "$WORK/vol"
  edit_spec ".mounts += [{\"destination\": \"/v\", \"type\": \"bind\", \"source\": \"$WORK/vol\", \"options\": [\"rbind\"]}]"
  caps CAP_SYS_ADMIN CAP_DAC_OVERRIDE
  set_args "$BUNDLE" sh -c "mkdir -p /s && mount -t virtiofs kataShared /s && echo mounted; echo x > /s/top; echo top=\$?; mkdir /s/$ID/d; echo ctrdir=\$?; echo x > /s/$ID/rootfs/in-rootfs; echo rootfs=\$?; for v in /s/$ID/mounts/*; do echo x > \$v/in-vol; echo vol=\$?; done"
  run ko run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *mounted* ]]
  [[ "$output" == *"top=1"* ]]
  [[ "$output" == *"ctrdir=1"* ]]
  [[ "$output" == *"rootfs=0"* ]]
  [[ "$output" == *"vol=0"* ]]
  [[ "$output" == *"Read-only file system"* ]]
  [ -f "$BUNDLE/rootfs/in-rootfs" ]
  [ -f "$WORK/vol/in-vol" ]
  assert_nothing_left "$ID"
}

@test "a bind of the host's sysfs, proc or /dev is refused, naming what it is" {
  for src in /sys /proc/sys/kernel /proc/cpuinfo /dev /dev/pts; do
    edit_spec "del(.mounts[] | select(.destination == \"/h\")) | .mounts += [{\"destination\": \"/h\", \"type\": \"bind\", \"source\": \"$src\", \"options\": [\"rbind\", \"ro\"]}]"
    run ko create --bundle "$BUNDLE" "$ID"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"].source: $src is on the host's "*", the host kernel's own: shared into the VM, the guest would reach the host past it"* ]]
    assert_nothing_left "$ID"
  done
  # the guest's own instead, as the message says
  [[ "$output" == *'use a mount of type "devpts"'* ]]
}

@test "the host's proc, sysfs and /dev beneath a bind source are hidden from the guest" {
  t=$WORK/tree
  mkdir -p "$t/p" "$t/s" "$t/d" "$t/k"
  echo kept > "$t/k/f"
  mount -t proc proc "$t/p"
  mount -t sysfs sysfs "$t/s"
  # the host's /dev, read-only here (per mount: the host's stays writable)
  mount --bind /dev "$t/d" && mount -o remount,bind,ro "$t/d"
  mount -t tmpfs -o size=1m tmpfs "$t/k" && echo tmp > "$t/k/g"
  edit_spec ".mounts += [{\"destination\": \"/h\", \"type\": \"bind\", \"source\": \"$t\", \"options\": [\"rbind\"]}] | .root.readonly = false"
  set_args "$BUNDLE" sh -c 'echo "p=$(ls /h/p | wc -l) s=$(ls /h/s | wc -l) d=$(ls /h/d | wc -l)"; cat /h/k/g; chmod 600 /h/d/null; echo chmod=$?'
  run ko run --bundle "$BUNDLE" "$ID"
  umount "$t/p" "$t/s" "$t/d" "$t/k"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"p=0 s=0 d=0"* ]]
  # an ordinary filesystem beneath is still shared
  [[ "$output" == *tmp* ]]
  [[ "$output" == *"chmod=1"* ]]
  [ "$(stat -c %a /dev/null)" = 666 ]
  assert_nothing_left "$ID"
}

@test "QEMU runs confined: own uid, no capabilities, no_new_privs, seccomp, a root of its own" {
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null
  qemu=$(ko state "$ID" >/dev/null; jq -r .qemuPid "$TEST_ROOT/$ID/state.json")
  monitor=$(jq -r .monitorPid "$TEST_ROOT/$ID/state.json")
  status=/proc/$qemu/status
  cat "$status"
  want=$((1073741824 + monitor))
  grep -qE "^Uid:\s+$want\s+$want\s+$want\s+$want$" "$status"
  grep -qE "^Gid:\s+$want\s+$want\s+$want\s+$want$" "$status"
  grep -qE "^CapEff:\s+0+$" "$status"
  grep -qE "^CapPrm:\s+0+$" "$status"
  grep -qE "^CapBnd:\s+0+$" "$status"
  grep -qE "^CapAmb:\s+0+$" "$status"
  grep -qE "^NoNewPrivs:\s+1$" "$status"
  grep -qE "^Seccomp:\s+2$" "$status"
  # its own mount, IPC, UTS and network namespaces
  for ns in mnt ipc uts net; do
    [ "$(readlink /proc/$qemu/ns/$ns)" != "$(readlink /proc/self/ns/$ns)" ]
  done
  # it sees /usr and its devices, not the host's /etc, /root, /run or the state dir
  ls -la /proc/$qemu/root/ /proc/$qemu/root/dev
  [ -d /proc/$qemu/root/usr/bin ]
  [ ! -e /proc/$qemu/root/root ]
  [ ! -e /proc/$qemu/root/run ]
  [ ! -e /proc/$qemu/root/etc/shadow ]
  [ ! -e "/proc/$qemu/root$TEST_ROOT" ]
  # the host's /dev/kvm only where VMs use KVM
  if accel_is_kvm; then
    [ "$(ls /proc/$qemu/root/dev | sort | tr '\n' ' ')" = "kvm null random urandom zero " ]
  else
    [ "$(ls /proc/$qemu/root/dev | sort | tr '\n' ' ')" = "null random urandom zero " ]
  fi
  # nodes of its own (mode 0666 whatever the host's are), on a read-only /dev
  [ "$(stat -c '%F %t:%T %a' /proc/$qemu/root/dev/null)" = "character special file 1:3 666" ]
  [ "$(stat -c '%F %t:%T %a' /proc/$qemu/root/dev/urandom)" = "character special file 1:9 666" ]
  [ "$(stat -c %d /proc/$qemu/root/dev/null)" != "$(stat -c %d /dev/null)" ]
  grep -E " /dev ro,nosuid,noexec[, ].* - tmpfs " /proc/$qemu/mountinfo
  grep -qE "^Max core file size +0 +0" /proc/$qemu/limits
  grep -qE "^Max processes +1024 +1024" /proc/$qemu/limits
  grep -q -- "-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny" <(tr '\0' ' ' < /proc/$qemu/cmdline)
  # the holder, the pid engines wait for, holds no capability
  holder=$(jq -r .holderPid "$TEST_ROOT/$ID/state.json")
  grep -qE "^CapEff:\s+0+$" /proc/$holder/status
  grep -qE "^CapBnd:\s+0+$" /proc/$holder/status
  grep -qE "^NoNewPrivs:\s+1$" /proc/$holder/status
  # memory hotplug (QMP) and exec still work inside the jail
  ko update --memory 400M "$ID"
  run ko exec "$ID" sh -c 'grep MemTotal /proc/meminfo'
  echo "$output"
  [ "$status" -eq 0 ]
  ko delete -f "$ID"
  assert_nothing_left "$ID"
}

@test "kata-oci check says how QEMU is confined" {
  run "$KATA_OCI" check
  echo "$output"
  [[ "$output" == *"qemu confinement: uid/gid of its own"*"no capabilities, no_new_privs, seccomp"* ]]
}

@test "a guest flooding its console keeps the host's log bounded" {
  caps CAP_MKNOD
  edit_spec '.linux.resources.devices = [{"allow": true, "access": "rwm"}]'
  # ttyS0 is the serial console QEMU hands to the monitor: 3 MiB into it
  set_args "$BUNDLE" sh -c 'mknod /dev/con c 4 64 && dd if=/dev/zero bs=64k count=48 2>/dev/null | tr "\0" x > /dev/con; echo END > /dev/con; echo done'
  ko run -d --bundle "$BUNDLE" "$ID" >"$WORK/out" 2>&1 </dev/null
  wait_status "$ID" stopped 120
  grep -q done "$WORK/out"
  ls -l "$TEST_ROOT/$ID"
  a=$(stat -c %s "$TEST_ROOT/$ID/console.log")
  b=$(stat -c %s "$TEST_ROOT/$ID/console.log.1")
  # each file at most 512 KiB; the newest output kept
  [ "$a" -le 524288 ]
  [ "$b" -le 524288 ]
  [ "$b" -gt 0 ]
  grep -q END "$TEST_ROOT/$ID/console.log"
}

@test "a guest flooding OOM events writes a few log lines, not one each" {
  [ -f "$BUILDDIR/guest/initrd-test.img" ]
  set_args "$BUNDLE" sh -c 'sleep 2; echo done'
  KATA_OCI_INITRD=$BUILDDIR/guest/initrd-test.img KATA_OCI_KERNEL_PARAMS="agent.test.oom_flood=20000" \
    run ko --log "$WORK/log" run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  n=$(grep -c "out of memory in the guest" "$WORK/log" || true)
  echo "$n OOM lines, $(stat -c %s "$WORK/log") bytes"
  [ "$n" -ge 1 ]
  [ "$n" -le 5 ]
  # the ones not logged are counted, to the last
  grep -qE "out of memory in the guest: [0-9]+ more events" "$WORK/log"
}

@test "a guest kernel panic is quoted by its panic line" {
  # no init in the initramfs: the kernel panics looking for a root fs
  KATA_OCI_KERNEL_PARAMS="rdinit=/nonexistent" run ko create --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"the guest kernel panicked before its agent said hello: Kernel panic - not syncing: VFS: Unable to mount root fs"* ]]
  assert_nothing_left "$ID"
}

@test "the guest kernel boots with no_timer_check" {
  set_args "$BUNDLE" cat /proc/cmdline
  run ko run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ " $output " == *" no_timer_check "* ]]
}

@test "requests the agent would refuse are refused before anything starts, naming the field" {
  big=$(head -c 70000 /dev/zero | tr '\0' a)
  edit_spec ".process.args = [\"echo\", \"$big\"]"
  run ko create --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"config.json: process.args[1]: 70000 bytes, more than the limit of 65536"* ]]
  assert_nothing_left "$ID"
  # each entry within bounds, the whole over the 1 MiB of one request
  part=$(head -c 60000 /dev/zero | tr '\0' a)
  edit_spec ".process.args = [\"true\"] | .process.env = [range(20) | \"A=$part\"]"
  run ko create --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"config.json: the container takes "*" bytes to send to the guest, more than the limit of 1048512"* ]]
  assert_nothing_left "$ID"
  edit_spec ".process.env = [\"A=1\"] | .hostname = \"$(head -c 100 /dev/zero | tr '\0' h)\""
  run ko create --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"config.json: hostname: 100 bytes, more than the limit of 64"* ]]
  assert_nothing_left "$ID"
}

@test "an exec process the agent would refuse is refused by exec, and the container goes on" {
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null
  big=$(head -c 70000 /dev/zero | tr '\0' a)
  jq ".process | .args = [\"echo\", \"$big\"]" "$BUNDLE/config.json" > "$WORK/p.json"
  run ko exec --process "$WORK/p.json" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"process.args[1]: 70000 bytes, more than the limit of 65536"* ]]
  run ko exec "$ID" echo still-here
  [ "$status" -eq 0 ]
  [ "$output" = still-here ]
}

# kill_during_create WHAT: starts a create, kills WHAT ("cli" or "monitor")
# once QEMU runs, and checks that delete -f stops everything
kill_during_create() {
  "$KATA_OCI" --root "$TEST_ROOT" create --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1 &
  local cli=$! i
  for i in $(seq 200); do
    [ "$(jq -r .qemuPid "$TEST_ROOT/$ID/state.json" 2>/dev/null)" -gt 0 ] 2>/dev/null && break
    sleep 0.05
  done
  [ "$(jq -r .status "$TEST_ROOT/$ID/state.json")" = creating ]
  # list sees it while it boots
  ko list | grep -q "^$ID "
  if [ "$1" = cli ]; then
    kill -9 "$cli"
  else
    kill -9 "$(jq -r .monitorPid "$TEST_ROOT/$ID/state.json")"
  fi
  wait "$cli" || true
  ko delete -f "$ID"
  assert_nothing_left "$ID"
}

@test "delete -f after a create killed while its VM boots stops that VM" {
  kill_during_create cli
}

@test "delete -f after a monitor killed while its VM boots stops that VM" {
  kill_during_create monitor
}
