#!/bin/bash
# start.sh [N=7]: wall time of `kata-oci run` of a container running `true`,
# next to a bare QEMU boot of the same kernel and initrd, with the same QEMU
# options, to an init that powers off at once (the issue's baseline: the
# real initrd with a tiny archive appended that holds /bench-poweroff,
# booted with rdinit=/bench-poweroff). Also next to a bare boot whose
# initrd is only that program, which leaves the initrd's own load to
# kata-oci's side. Prints median/min/max of each and the ratios of the
# medians (target in the issue: kata-oci run <= 1.10x bare), and the median
# of the per-run ratios (each run paired with the bare boots that follow
# it), steadier when the host's speed drifts.
. "$(dirname "$0")/lib.sh"
N=${1:-7}
bench_check cpio
bench_setup
BENCH_PIDS=""
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# /bench-poweroff, plus the dirs it mounts on; the kernel unpacks
# concatenated archives in order, so appended to the real initrd it adds
# this program and changes nothing else
mkdir -p "$WORK/bare/dev" "$WORK/bare/proc" "$WORK/bare/sys" "$WORK/vm"
musl_build "$WORK/bare/bench-poweroff" "$BENCH_DIR/poweroff.c"
make_cpio "$WORK/bare" "$WORK/poweroff.img"
cat "$KATA_OCI_INITRD" "$WORK/poweroff.img" > "$WORK/same.img"
# the minimal initrd: the program as /init
cp "$WORK/bare/bench-poweroff" "$WORK/bare/init"
rm "$WORK/bare/bench-poweroff"
make_cpio "$WORK/bare" "$WORK/bare.img"

qemu_argv_from_kata       # also warms the page cache for kernel, initrd, binaries
qemu_argv_bare "$WORK/vm" "$WORK/same.img" rdinit=/bench-poweroff
SQEMU=("${BQEMU[@]}")
qemu_argv_bare "$WORK/vm" "$WORK/bare.img"
make_bundle "$WORK/bundle" true

echo "kata-oci: $KATA_OCI"
echo "kernel:   $KATA_OCI_KERNEL"
echo "initrd:   $KATA_OCI_INITRD"
echo "kata-oci's QEMU runs with THP_enabled=${KQEMU_THP:-unknown}"
echo "bare qemu: ${SQEMU[*]}"
echo "minimal-initrd bare qemu: the same with -initrd $WORK/bare.img, without rdinit"
echo

# bare_boot ARGV...: runs one bare VM; sets b (wall s) and u (guest uptime
# at its init), dies if it fails
bare_boot() {
  local t0 t1 rc
  rm -f "$WORK"/vm/*
  t0=$(now_ns)
  timeout 120 "$@" </dev/null >"$WORK/bare.out" 2>&1
  rc=$?
  t1=$(now_ns)
  [ $rc -eq 0 ] || { cat "$WORK/bare.out" >&2; die "bare QEMU boot exited $rc"; }
  u=$(sed -n 's/^UPTIME \([0-9.]*\).*/\1/p' "$WORK/vm/console.log" 2>/dev/null | head -1)
  b=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
}

# one untimed boot of each: checks they work and warms up
bare_boot "${SQEMU[@]}"
[ -n "$u" ] || die "the same-initrd bare boot printed no UPTIME (rdinit?)"
bare_boot "${BQEMU[@]}"

kt=() st=() mt=() ut=() pr=() po=() pm=()
echo "load average before: $(cut -d" " -f1-3 /proc/loadavg)"
for i in $(seq "$N"); do
  id=bench-start-$$-$i
  BENCH_IDS="$BENCH_IDS $id"
  t0=$(now_ns)
  ko run --bundle "$WORK/bundle" "$id" </dev/null >/dev/null 2>"$WORK/run.err"
  rc=$?
  t1=$(now_ns)
  [ $rc -eq 0 ] || { cat "$WORK/run.err" >&2; die "kata-oci run exited $rc"; }
  ko delete -f "$id" >/dev/null 2>&1
  k=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
  bare_boot "${SQEMU[@]}"
  s=$b
  [ -n "$u" ] && ut+=("$u")
  bare_boot "${BQEMU[@]}"
  m=$b
  kt+=("$k"); st+=("$s"); mt+=("$m")
  pr+=("$(awk -v a="$k" -v b="$s" 'BEGIN{printf "%.4f", a/b}')")
  po+=("$(awk -v a="$k" -v b="$s" 'BEGIN{printf "%.3f", a-b}')")
  pm+=("$(awk -v a="$k" -v b="$m" 'BEGIN{printf "%.4f", a/b}')")
  printf 'run %d: kata-oci run %s s   bare boot %s s (minimal initrd %s s)\n' \
    "$i" "$k" "$s" "$m"
done

read -r km kmin kmax <<<"$(stats "${kt[@]}")"
read -r sm smin smax <<<"$(stats "${st[@]}")"
read -r mm mmin mmax <<<"$(stats "${mt[@]}")"
echo
printf '%-40s %8s %8s %8s\n' "wall time over $N runs (s)" median min max
printf '%-40s %8s %8s %8s\n' "kata-oci run (true)" "$km" "$kmin" "$kmax"
printf '%-40s %8s %8s %8s\n' "bare boot, same kernel and initrd" "$sm" "$smin" "$smax"
if [ ${#ut[@]} -gt 0 ]; then
  read -r um umin umax <<<"$(stats "${ut[@]}")"
  printf '%-40s %8s %8s %8s\n' "  of which guest uptime at its init" "$um" "$umin" "$umax"
fi
printf '%-40s %8s %8s %8s\n' "bare boot, minimal initrd" "$mm" "$mmin" "$mmax"
printf 'ratio kata-oci/bare (medians): %.2fx   (target <= 1.10x)\n' \
  "$(awk -v a="$km" -v b="$sm" 'BEGIN{print a/b}')"
echo "overhead over bare boot (medians): $(awk -v a="$km" -v b="$sm" 'BEGIN{printf "%.3f", a-b}') s"
# each kata-oci run is paired with the bare boots right after it: when the
# host's speed drifts, the paired figures are the steadier ones
read -r prm prmin prmax <<<"$(stats "${pr[@]}")"
read -r pom _ _ <<<"$(stats "${po[@]}")"
printf 'paired runs: median ratio %.2fx (min %.2fx, max %.2fx), median overhead %s s\n' \
  "$prm" "$prmin" "$prmax" "$pom"
read -r pmm _ _ <<<"$(stats "${pm[@]}")"
printf 'against the minimal-initrd boot: ratio %.2fx (medians), %.2fx (paired median)\n' \
  "$(awk -v a="$km" -v b="$mm" 'BEGIN{print a/b}')" "$pmm"
echo "load average after: $(cut -d" " -f1-3 /proc/loadavg)   (other load on the host skews all figures)"
