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
  [[ "$output" == *"config.json: root.path: rootfs is a symlink or goes through one"* ]]
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
