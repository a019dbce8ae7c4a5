#!/bin/bash
# start.sh [N=7]: wall time of `kata-oci run` of a container running `true`,
# next to a bare QEMU boot of the same kernel, with the same QEMU options,
# whose /init powers off at once. Prints median/min/max of each and the
# ratio of the medians (target in the issue: kata-oci run <= 1.10x bare),
# and the median of the per-run ratios (each run paired with the bare boot
# that follows it), steadier when the host's speed drifts.
. "$(dirname "$0")/lib.sh"
N=${1:-7}
bench_check cpio
bench_setup
BENCH_PIDS=""
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# bare initrd: /init = poweroff, plus the dirs the real one has
mkdir -p "$WORK/bare/dev" "$WORK/bare/proc" "$WORK/bare/sys" "$WORK/vm"
musl_build "$WORK/bare/init" "$BENCH_DIR/poweroff.c"
make_cpio "$WORK/bare" "$WORK/bare.img"

qemu_argv_from_kata       # also warms the page cache for kernel, initrd, binaries
qemu_argv_bare "$WORK/vm" "$WORK/bare.img"
make_bundle "$WORK/bundle" true

echo "kata-oci: $KATA_OCI"
echo "kernel:   $KATA_OCI_KERNEL"
echo "initrd:   $KATA_OCI_INITRD"
echo "kata-oci's QEMU runs with THP_enabled=${KQEMU_THP:-unknown}"
echo "bare qemu: ${BQEMU[*]}"
echo

# one untimed bare boot: checks it works and warms up
timeout 120 "${BQEMU[@]}" </dev/null >"$WORK/bare.out" 2>&1 \
  || { cat "$WORK/bare.out" >&2; die "bare QEMU boot failed"; }

kt=() bt=() ut=() pr=() po=()
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
  rm -f "$WORK"/vm/*
  u=""
  t2=$(now_ns)
  timeout 120 "${BQEMU[@]}" </dev/null >"$WORK/bare.out" 2>&1
  rc=$?
  t3=$(now_ns)
  [ $rc -eq 0 ] || { cat "$WORK/bare.out" >&2; die "bare QEMU boot exited $rc"; }
  u=$(sed -n 's/^UPTIME \([0-9.]*\).*/\1/p' "$WORK/vm/console.log" 2>/dev/null | head -1)
  [ -n "$u" ] && ut+=("$u")
  k=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
  b=$(awk -v a="$t2" -v b="$t3" 'BEGIN{printf "%.3f", (b-a)/1e9}')
  kt+=("$k"); bt+=("$b")
  pr+=("$(awk -v a="$k" -v b="$b" 'BEGIN{printf "%.4f", a/b}')")
  po+=("$(awk -v a="$k" -v b="$b" 'BEGIN{printf "%.3f", a-b}')")
  printf 'run %d: kata-oci run %s s   bare boot %s s (guest uptime at init %s s)\n' \
    "$i" "$k" "$b" "${u:-?}"
done

read -r km kmin kmax <<<"$(stats "${kt[@]}")"
read -r bm bmin bmax <<<"$(stats "${bt[@]}")"
echo
printf '%-34s %8s %8s %8s\n' "wall time over $N runs (s)" median min max
printf '%-34s %8s %8s %8s\n' "kata-oci run (true)" "$km" "$kmin" "$kmax"
printf '%-34s %8s %8s %8s\n' "bare QEMU boot to poweroff" "$bm" "$bmin" "$bmax"
if [ ${#ut[@]} -gt 0 ]; then
  read -r um umin umax <<<"$(stats "${ut[@]}")"
  printf '%-34s %8s %8s %8s\n' "  of which guest uptime at /init" "$um" "$umin" "$umax"
fi
printf 'ratio kata-oci/bare (medians): %.2fx   (target <= 1.10x)\n' \
  "$(awk -v a="$km" -v b="$bm" 'BEGIN{print a/b}')"
echo "load average after: $(cut -d" " -f1-3 /proc/loadavg)   (other load on the host skews all figures)"
echo "overhead over bare boot (medians): $(awk -v a="$km" -v b="$bm" 'BEGIN{printf "%.3f", a-b}') s"
# each kata-oci run is paired with the bare boot right after it: when the
# host's speed drifts, the paired figures are the steadier ones
read -r prm prmin prmax <<<"$(stats "${pr[@]}")"
read -r pom _ _ <<<"$(stats "${po[@]}")"
printf 'paired runs: median ratio %.2fx (min %.2fx, max %.2fx), median overhead %s s\n' \
  "$prm" "$prmin" "$prmax" "$pom"
