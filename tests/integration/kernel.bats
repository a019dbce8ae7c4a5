#!/usr/bin/env bats
# The guest kernels: the project's (the default, every driver built in) and
# Debian's cloud kernel with its module initrd, which stays selectable.

load helpers

setup() { setup_common; }
teardown() { teardown_common; }

@test "the project's kernel: every option its fragments set is in its config; env and check name it" {
  [ -f "$BUILDDIR/guest/vmlinux.config" ] || skip "no project kernel in $BUILDDIR/guest"
  src=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
  cat "$src"/contrib/guest/kernel/*.config | grep -E '^CONFIG_' |
    while IFS= read -r line; do
      grep -qxF "$line" "$BUILDDIR/guest/vmlinux.config" || { echo "not in .config: $line"; exit 1; }
    done
  grep -qx '# CONFIG_MODULES is not set' "$BUILDDIR/guest/vmlinux.config"
  readelf -n "$BUILDDIR/guest/vmlinux" | grep -q 'Unknown note type: (0x00000012)' # PVH entry
  KATA_OCI_KERNEL=$BUILDDIR/guest/vmlinux run "$KATA_OCI" env
  [[ "$output" == *$'\nkernel_info=kata-oci kernel 6.1.'*'-kata-oci: linux-source-6.1 '*', tinyconfig + contrib/guest/kernel/{'*'}'* ]]
  KATA_OCI_KERNEL=$BUILDDIR/guest/vmlinux run "$KATA_OCI" check
  [[ "$output" == *"kernel info"*"kata-oci kernel 6.1."* ]]
}

@test "the project's kernel runs a container with its drivers built in" {
  [ -f "$BUILDDIR/guest/vmlinux.config" ] || skip "no project kernel in $BUILDDIR/guest"
  set_args "$BUNDLE" sh -c 'uname -r; ls /proc/modules 2>&1; grep -w virtiofs /proc/filesystems; cat /sys/fs/cgroup/cgroup.controllers; grep -c tracefs /proc/filesystems'
  KATA_OCI_KERNEL=$BUILDDIR/guest/vmlinux KATA_OCI_INITRD=$BUILDDIR/guest/initrd.img \
    run ko run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -eq 1 ] # the last grep finds nothing
  [[ "${lines[0]}" == *-kata-oci ]]
  [[ "${lines[1]}" == *"/proc/modules"*"No such file or directory"* ]]
  [[ "${lines[2]}" == *virtiofs ]]
  [[ "${lines[3]}" == *"cpuset cpu io memory"*"pids"* ]]
  # no tracing built in (contrib/guest/kernel/containers.config)
  [ "${lines[4]}" = 0 ]
}

@test "Debian's kernel with its module initrd runs a container" {
  [ -f "$BUILDDIR/guest/vmlinux-debian" ] || skip "no Debian kernel in $BUILDDIR/guest"
  export KATA_OCI_KERNEL=$BUILDDIR/guest/vmlinux-debian
  export KATA_OCI_INITRD=$BUILDDIR/guest/initrd-debian.img
  run "$KATA_OCI" env
  [[ "$output" == *$'\nkernel_info=Debian\'s cloud kernel '*'-cloud-amd64: linux-image-'* ]]
  set_args "$BUNDLE" sh -c 'uname -r; grep -o "^virtiofs\|^virtio_console" /proc/modules | sort; cat /sys/fs/cgroup/cgroup.controllers'
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "$(cat "$BUILDDIR/guest/debian/kernel-release")" ]
  [ "${lines[1]}" = virtio_console ]
  [ "${lines[2]}" = virtiofs ]
  # the agent loaded them; the controllers it enables are there
  [[ "${lines[3]}" == *"cpuset cpu io memory"*"pids"* ]]
}

@test "under TCG one vCPU ticks from the HPET and skips the UP patching; two keep their local APIC timers" {
  accel_is_kvm && skip "KVM: these options are for TCG only"
  # LOC: the local APIC timer's interrupts, summed over the vCPUs
  set_args "$BUNDLE" sh -c 'cat /proc/cmdline; sleep 0.3; awk "/^ *LOC:/ { for (i = 2; i <= NF && \$i ~ /^[0-9]+\$/; i++) s += \$i; print s + 0 }" /proc/interrupts'
  KATA_OCI_VCPUS=1 run ko run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -eq 0 ]
  [[ " ${lines[0]} " == *" noreplace-smp nolapic_timer "* ]]
  [ "${lines[1]}" -eq 0 ]
  ko delete -f "$ID"
  KATA_OCI_VCPUS=2 run ko run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -eq 0 ]
  [[ " ${lines[0]} " == *" noreplace-smp "* ]]
  [[ " ${lines[0]} " != *" nolapic_timer "* ]]
  [ "${lines[1]}" -gt 0 ]
}
