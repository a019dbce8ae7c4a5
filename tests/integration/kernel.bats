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
  # x86-no-2mb-padding.patch: rodata follows the text within a page, not
  # at the next 2 MB boundary
  read -r taddr tsize < <(readelf -SW "$BUILDDIR/guest/vmlinux" |
    sed -n 's/.* \.text  *PROGBITS  *\([0-9a-f]*\)  *[0-9a-f]*  *\([0-9a-f]*\) .*/\1 \2/p')
  raddr=$(readelf -SW "$BUILDDIR/guest/vmlinux" |
    sed -n 's/.* \.rodata  *PROGBITS  *\([0-9a-f]*\) .*/\1/p')
  gap=$((0x$raddr - 0x$taddr - 0x$tsize))
  echo "text/rodata gap: $gap"
  [ "$gap" -ge 0 ] && [ "$gap" -lt 4096 ]
  KATA_OCI_KERNEL=$BUILDDIR/guest/vmlinux run "$KATA_OCI" env
  [[ "$output" == *$'\nkernel_info=kata-oci kernel 6.1.'*'-kata-oci: linux-source-6.1 '*', tinyconfig + contrib/guest/kernel/{'*'} + x86-no-2mb-padding.patch ('* ]]
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

@test "the project's kernel has what containers commonly use: 32-bit programs, overlayfs, binfmt_misc, io_uring, tun, veth, bridges, multicast, policy routing, everyday iptables matches" {
  [ -f "$BUILDDIR/guest/vmlinux.config" ] || skip "no project kernel in $BUILDDIR/guest"
  # a 32-bit x86 program, as an i386 image holds (int 0x80: write, exit)
  printf '%s\n' '.globl _start' '.text' '_start: movl $4, %eax' 'movl $1, %ebx' \
    'movl $msg, %ecx' 'movl $10, %edx' 'int $0x80' 'movl $1, %eax' 'movl $0, %ebx' \
    'int $0x80' '.data' 'msg: .ascii "32-bit ok\n"' > "$WORK/hello32.s"
  as --32 -o "$WORK/hello32.o" "$WORK/hello32.s"
  ld -m elf_i386 -o "$BUNDLE/rootfs/bin/hello32" "$WORK/hello32.o"
  gcc -static -O2 -o "$BUNDLE/rootfs/bin/uring" "$BATS_TEST_DIRNAME/uring.c"
  # (overlayfs makes its work dir mode 0: its mounter needs CAP_DAC_OVERRIDE)
  caps='["CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_MKNOD", "CAP_DAC_OVERRIDE"]'
  edit_spec ".root.readonly = false
    | .process.capabilities = {\"bounding\": $caps, \"effective\": $caps, \"permitted\": $caps}
    | .linux.devices += [{\"path\": \"/dev/net/tun\", \"type\": \"c\", \"major\": 10, \"minor\": 200, \"fileMode\": 438}]
    | .linux.resources.devices += [{\"allow\": true, \"type\": \"c\", \"major\": 10, \"minor\": 200, \"access\": \"rwm\"}]"
  cat > "$BUNDLE/rootfs/bin/probe" <<'EOF'
hello32
mkdir -p /o && mount -t tmpfs t /o && mkdir /o/l /o/u /o/w /o/m && echo lower > /o/l/f &&
  mount -t overlay ov -o lowerdir=/o/l,upperdir=/o/u,workdir=/o/w /o/m && cat /o/m/f
mkdir -p /b && mount -t binfmt_misc b /b && cat /b/status
uring
cat /dev/net/tun 2>&1
ip link add kv0 type veth && ip link add kbr0 type bridge && ip link set kv0 master kbr0 && echo veth in bridge
test -e /proc/net/igmp && echo multicast
ip rule add fwmark 7 table 7 && ip rule | grep -c "fwmark 0x7 lookup 7"
for m in state limit connmark owner statistic recent iprange pkttype length ttl tcpmss; do
  grep -qx $m /proc/net/ip_tables_matches || echo "no $m match"
done
for t in LOG TCPMSS; do grep -qx $t /proc/net/ip_tables_targets || echo "no $t target"; done
echo end
EOF
  set_args "$BUNDLE" sh /bin/probe
  KATA_OCI_KERNEL=$BUILDDIR/guest/vmlinux KATA_OCI_INITRD=$BUILDDIR/guest/initrd.img \
    run ko run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "32-bit ok" ]
  [ "${lines[1]}" = lower ]
  [ "${lines[2]}" = enabled ]
  [ "${lines[3]}" = "io_uring ok" ]
  # the driver is there: a fresh tun fd is not attached to a device yet
  [[ "${lines[4]}" == *"File descriptor in bad state"* ]]
  [ "${lines[5]}" = "veth in bridge" ]
  [ "${lines[6]}" = multicast ]
  [ "${lines[7]}" = 1 ]
  [ "${lines[8]}" = end ]
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
