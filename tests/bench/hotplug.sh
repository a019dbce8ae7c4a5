#!/bin/bash
# hotplug.sh [RUNS=5]: what hot-plugging a pod member's disks costs. (1) A
# pod sandbox with 0, 4, 8 and 16 PCIe root ports (PORTS) (the annotation
# io.katacontainers.config.hypervisor.pcie_root_port), in turn: the wall
# time of `run -d` (boot to the agent, the sandbox created and started),
# QEMU's CPU time then (under TCG the steadier figure of the boot's work
# when other load moves the wall time) and QEMU's PSS once idle. (2) In one sandbox, a member with 0, 1 and 4
# disks (loop devices over files): the wall time of its create (the disks
# are plugged before the agent creates it) and of its delete (each disk
# unplugged: device_del until the guest lets it go, then the nodes).
. "$(dirname "$0")/lib.sh"
RUNS=${1:-5}
SETTLE=${SETTLE:-5}
PORTS=${PORTS:-0 4 8 16}
bench_check losetup
bench_setup
LOOPS=()
cleanup() {
  bench_cleanup
  for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pss_kb() {
  local v; v=$(awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null); echo "${v:-0}"
}
qemu_of() { pgrep -f "[q]emu-system.*-name kata-oci-$1( |\$)" | head -1; }
ms_since() { echo $(( ($(now_ns) - $1) / 1000000 )); }

make_bundle "$WORK/idle" sleep 1000
edit_bundle "$WORK/idle" '.annotations["io.kubernetes.cri-o.ContainerType"] = "sandbox"'

echo "load average before: $(cut -d" " -f1-3 /proc/loadavg)"
declare -A boot cpu pss
for r in $(seq "$RUNS"); do
  for p in $PORTS; do
    id=bench-rp-$$-$p-$r
    BENCH_IDS="$BENCH_IDS $id"
    edit_bundle "$WORK/idle" '.annotations["io.katacontainers.config.hypervisor.pcie_root_port"] = "'"$p"'"'
    t=$(now_ns)
    ko run -d --bundle "$WORK/idle" "$id" </dev/null >/dev/null 2>&1 || die "run $id"
    boot[$p]+=" $(ms_since "$t")"
    q=$(qemu_of "$id")
    cpu[$p]+=" $(awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$q/stat")"
    sleep "$SETTLE"
    pss[$p]+=" $(( $(pss_kb "$q") / 1024 ))"
    ko delete -f "$id" >/dev/null 2>&1
  done
done
printf '\n%-6s %26s %26s %26s\n' ports "run -d ms (med min max)" "QEMU CPU ms (med min max)" "QEMU PSS MB (med min max)"
for p in $PORTS; do
  # shellcheck disable=SC2086
  printf '%-6s %26s %26s %26s\n' "$p" "$(stats ${boot[$p]})" "$(stats ${cpu[$p]})" "$(stats ${pss[$p]})"
done

# (2) members with disks in one sandbox of 8 ports
sb=bench-hp-$$
BENCH_IDS="$BENCH_IDS $sb"
edit_bundle "$WORK/idle" '.annotations["io.katacontainers.config.hypervisor.pcie_root_port"] = "8"'
ko run -d --bundle "$WORK/idle" "$sb" </dev/null >/dev/null 2>&1 || die "sandbox $sb"
devs=()
for i in 1 2 3 4; do
  truncate -s 16M "$WORK/disk$i"
  l=$(losetup -f --show "$WORK/disk$i") || die "losetup"
  LOOPS+=("$l")
  devs+=("$((16#$(stat -c %T "$l")))")
done
declare -A create del
for r in $(seq "$RUNS"); do
  for n in 0 1 4; do
    b=$WORK/m$n
    [ -d "$b" ] || {
      member_of "$sb" "$b" sleep 1000
      for i in $(seq "$n"); do
        edit_bundle "$b" '.linux.devices += [{type: "b", path: "/dev/xvd'"$i"'", major: 7, minor: '"${devs[$((i - 1))]}"'}]'
      done
    }
    m=$sb-m$n-$r
    BENCH_IDS="$BENCH_IDS $m"
    t=$(now_ns)
    ko create --bundle "$b" "$m" </dev/null >/dev/null 2>&1 || die "member $m"
    create[$n]+=" $(ms_since "$t")"
    t=$(now_ns)
    ko delete -f "$m" >/dev/null 2>&1 || die "delete $m"
    del[$n]+=" $(ms_since "$t")"
  done
done
ko delete -f "$sb" >/dev/null 2>&1
printf '\n%-11s %24s %24s\n' "disks" "create ms (med min max)" "delete -f ms (med min max)"
for n in 0 1 4; do
  # shellcheck disable=SC2086
  printf '%-11s %24s %24s\n' "$n" "$(stats ${create[$n]})" "$(stats ${del[$n]})"
done
echo "load average after: $(cut -d" " -f1-3 /proc/loadavg)"
