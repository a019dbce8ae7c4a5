#!/bin/bash
# pairs.sh [N=7]: bare boots of the project's kernel and Debian's,
# alternating in one loop (project, Debian, project, ...), with kata-oci's
# QEMU options (as start.sh takes them) and each kernel's initrd with
# /bench-poweroff appended, and `kata-oci run` of `true` with each. Per
# pair: guest uptime at init, wall time and QEMU's CPU time (user +
# system) of each bare boot, the wall time of each run; then the medians
# and the median of the per-pair uptime ratios. Steadier than kernels.sh, which runs all
# of one kernel before the other, when the host's load moves.
. "$(dirname "$0")/lib.sh"
N=${1:-7}
bench_check cpio
[ -f "$BUILDDIR/guest/vmlinux-debian" ] || die "no $BUILDDIR/guest/vmlinux-debian"
[ -x /usr/bin/time ] || die "/usr/bin/time not found"
bench_setup
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/bare/dev" "$WORK/bare/proc" "$WORK/bare/sys" "$WORK/vm"
musl_build "$WORK/bare/bench-poweroff" "$BENCH_DIR/poweroff.c"
make_cpio "$WORK/bare" "$WORK/poweroff.img"
cat "$BUILDDIR/guest/initrd.img" "$WORK/poweroff.img" > "$WORK/p.img"
cat "$BUILDDIR/guest/initrd-debian.img" "$WORK/poweroff.img" > "$WORK/d.img"
qemu_argv_from_kata
qemu_argv_bare "$WORK/vm" "$WORK/p.img" rdinit=/bench-poweroff
P=("${BQEMU[@]}") D=()
for ((i = 0; i < ${#P[@]}; i++)); do
  v=${P[$i]}
  [ $i -gt 0 ] && [ "${P[$((i - 1))]}" = -kernel ] && v=$BUILDDIR/guest/vmlinux-debian
  [ "$v" = "$WORK/p.img" ] && v=$WORK/d.img
  D+=("$v")
done
echo "bare qemu: ${P[*]}"
make_bundle "$WORK/bundle" true
echo "Debian's: the same with -kernel $BUILDDIR/guest/vmlinux-debian -initrd (its initrd + /bench-poweroff)"

# boot ARGV...: prints "uptime wall_s cpu_s" of one bare boot
boot() {
  local t0 t1
  rm -f "$WORK"/vm/*
  t0=$(now_ns)
  /usr/bin/time -f "%U %S" -o "$WORK/time" timeout 120 "$@" </dev/null >/dev/null 2>&1 \
    || die "bare QEMU boot failed: $*"
  t1=$(now_ns)
  echo "$(sed -n 's/^UPTIME \([0-9.]*\).*/\1/p' "$WORK/vm/console.log" | head -1)" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')" \
    "$(awk '{ printf "%.2f", $1 + $2 }' "$WORK/time")"
}
# krun KERNEL INITRD: wall s of one `kata-oci run` of `true` (then delete)
krun() {
  local t0 t1 id=bench-pairs-$$-$RANDOM
  BENCH_IDS="$BENCH_IDS $id"
  t0=$(now_ns)
  KATA_OCI_KERNEL=$1 KATA_OCI_INITRD=$2 ko run --bundle "$WORK/bundle" "$id" \
    </dev/null >/dev/null 2>"$WORK/run.err" || { cat "$WORK/run.err" >&2; die "run failed"; }
  t1=$(now_ns)
  ko delete -f "$id" >/dev/null 2>&1
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}
boot "${P[@]}" >/dev/null # untimed: checks both boot, warms the page cache
boot "${D[@]}" >/dev/null
echo "load average before: $(cut -d" " -f1-3 /proc/loadavg)"
printf '%-5s %22s   %22s   %s\n' pair "project: up wall cpu" "Debian: up wall cpu" \
  "run true: project Debian"
for i in $(seq "$N"); do
  echo "$i $(boot "${P[@]}") $(boot "${D[@]}")" \
    "$(krun "$BUILDDIR/guest/vmlinux" "$BUILDDIR/guest/initrd.img")" \
    "$(krun "$BUILDDIR/guest/vmlinux-debian" "$BUILDDIR/guest/initrd-debian.img")"
done > "$WORK/pairs"
cat "$WORK/pairs"
med() { awk "{ print $1 }" "$WORK/pairs" | xargs -n 1 | sort -g | awk '{ v[NR] = $1 }
  END { printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
printf '%-28s %8s %8s %7s\n' "medians" project debian ratio
row() { printf '%-28s %8s %8s %7s\n' "$1" "$2" "$3" \
  "$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.2fx", a / b }')"; }
row "guest uptime at init (s)" "$(med '$2')" "$(med '$5')"
row "bare boot, wall (s)" "$(med '$3')" "$(med '$6')"
row "QEMU CPU time (s)" "$(med '$4')" "$(med '$7')"
row "kata-oci run true, wall (s)" "$(med '$8')" "$(med '$9')"
echo "run true over the project's bare boot: $(med '$8 / $3')x (median per pair)"
echo "median of the per-pair uptime ratios: $(med '$2 / $5')x"
echo "load average after: $(cut -d" " -f1-3 /proc/loadavg)"
