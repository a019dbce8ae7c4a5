#!/usr/bin/env bats
# Failures that need a VM: each ends with a clear message, status 1, and
# nothing left behind.

load helpers

setup() { setup_common; }
teardown() { teardown_common; }

@test "a bad args[0] fails create with the guest's reason" {
  set_args "$BUNDLE" nosuchbinary
  run ko create --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *'exec: "nosuchbinary": executable file not found in $PATH'* ]]
  assert_nothing_left "$ID"
  set_args "$BUNDLE" /bin/nosuch
  run ko create --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"/bin/nosuch: no such file or directory"* ]]
  assert_nothing_left "$ID"
  touch "$BUNDLE/rootfs/bin/notexec"
  set_args "$BUNDLE" /bin/notexec
  run ko create --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"permission denied"* ]]
  assert_nothing_left "$ID"
}

@test "QEMU failing to start surfaces QEMU's own message" {
  echo "not a kernel" > "$WORK/bogus-kernel"
  KATA_OCI_KERNEL=$WORK/bogus-kernel run ko create --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"qemu failed to start: qemu: linux kernel too old to load a ram disk"* ]]
  assert_nothing_left "$ID"
}

@test "QEMU dying silently says how it died" {
  # stand-ins for a QEMU that is killed, or exits, before it prints
  # anything (the monitor discarded the wait status and said only "exited
  # with no message")
  printf '#!/bin/sh\nkill -KILL $$\n' > "$WORK/qemu-killed"
  printf '#!/bin/sh\nexit 3\n' > "$WORK/qemu-exits"
  chmod +x "$WORK/qemu-killed" "$WORK/qemu-exits"
  KATA_OCI_QEMU=$WORK/qemu-killed run ko create --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"qemu failed to start: killed by signal 9 (Killed), with no message"* ]]
  assert_nothing_left "$ID"
  KATA_OCI_QEMU=$WORK/qemu-exits run ko create --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"qemu failed to start: exit status 3, with no message"* ]]
  assert_nothing_left "$ID"
}

@test "an agent that never answers ends on a timeout" {
  # a guest whose init is a shell that sleeps: it boots, but no agent speaks
  mkdir -p "$WORK/initrd/bin"
  cp /bin/busybox "$WORK/initrd/bin/busybox"
  printf '#!/bin/busybox sh\n/bin/busybox sleep 1000\n' > "$WORK/initrd/init"
  chmod +x "$WORK/initrd/init"
  (cd "$WORK/initrd" && find . | cpio -o -H newc --quiet > "$WORK/silent.img")
  KATA_OCI_INITRD=$WORK/silent.img KATA_OCI_BOOT_TIMEOUT=6 run ko create --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"timed out after 6 s waiting for the guest agent"* ]]
  assert_nothing_left "$ID"
}

@test "create of an existing id fails and leaves the first one alone" {
  ko create --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  run ko create --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"container with id exists: $ID"* ]]
  [ "$(state_status "$ID")" = created ]
}

@test "a killed monitor is reclaimed by delete, with its VM" {
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" --pid-file "$WORK/pid" "$ID" </dev/null >/dev/null 2>&1
  # the pid file names the container's holder, not the monitor
  mpid=$(jq -r .monitorPid "$TEST_ROOT/$ID/state.json")
  [ "$mpid" != "$(cat "$WORK/pid")" ]
  kill -9 "$mpid"
  sleep 0.5
  [ "$(state_status "$ID")" = stopped ]
  ko delete "$ID"
  assert_nothing_left "$ID"
}

@test "a VM killed under the container stops it" {
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  pkill -9 -f "kata-oci-$ID( |,|\$)"
  wait_status "$ID" stopped
  ko delete "$ID"
  assert_nothing_left "$ID"
}

@test "a dead virtiofsd stops the container, as a dead QEMU does" {
  set_args "$BUNDLE" sleep 1000
  ko --log "$WORK/log" run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  kill -9 "$(jq -r .virtiofsdPid "$TEST_ROOT/$ID/state.json")"
  wait_status "$ID" stopped 10
  grep -q "container $ID: virtiofsd exited unexpectedly: stopping the container" "$WORK/log"
  [ "$(ko state "$ID" | jq -r .status)" = stopped ]
  ko delete "$ID"
  assert_nothing_left "$ID"
}

@test "a guest that powers off before its agent speaks shows its console" {
  # as a guest kernel panic or the agent's fatal error would (-no-reboot)
  mkdir -p "$WORK/initrd/bin"
  cp /bin/busybox "$WORK/initrd/bin/busybox"
  printf '#!/bin/busybox sh\necho "init: giving up" > /dev/console\n/bin/busybox poweroff -f\n' > "$WORK/initrd/init"
  chmod +x "$WORK/initrd/init"
  (cd "$WORK/initrd" && find . | cpio -o -H newc --quiet > "$WORK/off.img")
  KATA_OCI_INITRD=$WORK/off.img run ko create --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"the guest stopped before its agent said hello (guest console: "*"init: giving up"* ]]
  assert_nothing_left "$ID"
}
