#!/bin/bash
# throughput.sh [SMALL=32] [LARGE=256] [REPS=3]: MiB/s of a container's
# stdout through the monitor's multiplexer (`kata-oci run` of
# `dd if=/dev/zero bs=1M count=SIZE`, stdout to the host's /dev/null), next
# to the raw virtio-serial channel (same QEMU options, an initrd whose /init
# writes SIZE MiB straight to the agent.channel.0 port, read by chanread on
# the host end of the socket). Each size is timed REPS times (medians):
#   boot-included = LARGE / wall(LARGE)
#   steady-state  = (LARGE - SMALL) / (wall(LARGE) - wall(SMALL))
# Target in the issue: multiplexer steady-state >= 90% of the raw channel.
# The raw channel is written three ways (see chanwrite.c):
#   by dd:          the same workload as the container's, 1 MiB read from
#                   /dev/zero then written to the port, with nothing in
#                   between; the target's reference;
#   from memory:    one buffer written again and again: the channel's
#                   ceiling, with no producer at all;
#   fed by a pipe:  dd into a pipe, copied to the port in 64 KiB reads: the
#                   container's path with a plain copy instead of the agent.
. "$(dirname "$0")/lib.sh"
S1=${1:-32}
S2=${2:-256}
REPS=${3:-3}
bench_check cpio gcc
bench_setup
BENCH_PIDS=""
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
[ "$S2" -gt "$S1" ] || die "LARGE must be larger than SMALL"

# raw-channel initrd: the real initrd's modules and load-order, our /init
# (none for a kernel with its drivers built in, the project's)
mkdir -p "$WORK/raw/dev" "$WORK/raw/proc" "$WORK/raw/sys" "$WORK/raw/lib/modules" \
  "$WORK/x" "$WORK/vm"
(cd "$WORK/x" && { zcat -f "$KATA_OCI_INITRD" | cpio -idm --quiet 'lib/modules/*'; }) \
  || die "cannot unpack $KATA_OCI_INITRD"
if [ -f "$WORK/x/lib/modules/load-order" ]; then
  cp "$WORK"/x/lib/modules/* "$WORK/raw/lib/modules/"
fi
musl_build "$WORK/raw/init" "$BENCH_DIR/chanwrite.c"
make_cpio "$WORK/raw" "$WORK/raw.img"
gcc -O2 -Wall -o "$WORK/chanread" "$BENCH_DIR/chanread.c" || die "cannot compile chanread.c"

qemu_argv_from_kata
qemu_argv_bare "$WORK/vm" "$WORK/raw.img"
sock=""
# the agent chardev is the one the virtserialport uses
for a in "${BQEMU[@]}"; do
  if [[ $a == virtserialport,chardev=* ]]; then
    chr=${a#*chardev=}; chr=${chr%%,*}
    for b in "${BQEMU[@]}"; do
      [[ $b == socket,id=$chr,* ]] && { sock=${b#*path=}; sock=${sock%%,*}; }
    done
  fi
done
[ -n "$sock" ] || die "no virtio-serial socket in the QEMU command line (vsock host?)"

echo "kata-oci: $KATA_OCI"
echo "sizes: $S1 and $S2 MiB, $REPS runs each; load average before: $(cut -d" " -f1-3 /proc/loadavg)"

make_bundle "$WORK/b$S1" dd if=/dev/zero bs=1M count="$S1"
make_bundle "$WORK/b$S2" dd if=/dev/zero bs=1M count="$S2"

# mux SIZE: sets T to the wall seconds of kata-oci run of dd SIZE MiB with
# stdout read by chanread (which counts the bytes and discards them), and V
# to the MiB/s chanread saw from first to last byte
mux() {
  local id=bench-tp-$$-$1-$i t0 t1 rc out
  BENCH_IDS="$BENCH_IDS $id"
  t0=$(now_ns)
  out=$(set -o pipefail; ko run --bundle "$WORK/b$1" "$id" </dev/null 2>"$WORK/mux.err" \
    | "$WORK/chanread" - "$1" 120)
  rc=$?
  t1=$(now_ns)
  ko delete -f "$id" >/dev/null 2>&1
  [ $rc -eq 0 ] || { cat "$WORK/mux.err" >&2; die "kata-oci run | chanread exited $rc"; }
  T=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
  V=$(echo "$out" | cut -d' ' -f4)
}

# raw SIZE [pipe]: sets T to the wall seconds of a raw-channel VM (QEMU
# start to exit) and V to the MiB/s the reader saw from first to last byte;
# with "pipe" the guest feeds the port through a pipe (see chanwrite.c)
raw() {
  local t0 t1 qpid out rc
  rm -f "$WORK"/vm/*
  t0=$(now_ns)
  "${BQEMU[@]}" </dev/null >"$WORK/raw.out" 2>&1 &
  qpid=$!
  BENCH_PIDS="$BENCH_PIDS $qpid"
  out=$("$WORK/chanread" "$sock" "$1" 120 ${2:-})
  rc=$?
  [ $rc -eq 0 ] || kill "$qpid" 2>/dev/null
  wait "$qpid"
  t1=$(now_ns)
  BENCH_PIDS=${BENCH_PIDS% $qpid}
  [ $rc -eq 0 ] || { cat "$WORK/raw.out" "$WORK/vm/"*.log >&2; die "raw channel run failed"; }
  T=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
  V=$(echo "$out" | cut -d' ' -f4)
}

# the bytes really arrive: one small run counted with wc -c
make_bundle "$WORK/check" dd if=/dev/zero bs=1M count=16
i=check
id=bench-tp-$$-check
BENCH_IDS="$BENCH_IDS $id"
n=$(ko run --bundle "$WORK/check" "$id" </dev/null 2>/dev/null | wc -c)
ko delete -f "$id" >/dev/null 2>&1
echo "check: 16 MiB through kata-oci run arrived as $n bytes (expected $((16 << 20)))"

m1=() m2=() min=() d1=() d2=() din=() r1=() r2=() rin=() p1=() p2=()
for i in $(seq "$REPS"); do
  mux "$S1"; m1+=("$T")
  mux "$S2"; m2+=("$T"); min+=("$V")
  raw "$S1" dd; d1+=("$T")
  raw "$S2" dd; d2+=("$T"); din+=("$V")
  raw "$S1"; r1+=("$T")
  raw "$S2"; r2+=("$T"); rin+=("$V")
  raw "$S1" pipe; p1+=("$T")
  raw "$S2" pipe; p2+=("$T")
  echo "run $i: mux ${m1[-1]} s / ${m2[-1]} s   raw by dd ${d1[-1]} s / ${d2[-1]} s   from memory ${r1[-1]} s / ${r2[-1]} s   fed by a pipe ${p1[-1]} s / ${p2[-1]} s   in-run: mux ${min[-1]}, by dd ${din[-1]} MiB/s"
done
med() { stats "$@" | cut -d' ' -f1; }
rate() { awk -v s="$1" -v t="$2" 'BEGIN{ if (t > 0) printf "%.1f", s/t; else print "n/a" }'; }
steady() { rate $((S2 - S1)) "$(awk -v a="$2" -v b="$1" 'BEGIN{print a-b}')"; }
line() { # NAME MED1 MED2
  printf '%-32s %10s s %10s s %9s MiB/s %9s MiB/s\n' "$1" "$2" "$3" "$(rate "$S2" "$3")" "$(steady "$2" "$3")"
}
M1=$(med "${m1[@]}"); M2=$(med "${m2[@]}"); D1=$(med "${d1[@]}"); D2=$(med "${d2[@]}")
R1=$(med "${r1[@]}"); R2=$(med "${r2[@]}"); P1=$(med "${p1[@]}"); P2=$(med "${p2[@]}")
MS=$(steady "$M1" "$M2"); DS=$(steady "$D1" "$D2"); RS=$(steady "$R1" "$R2"); PS=$(steady "$P1" "$P2")

echo
printf '%-32s %12s %12s %14s %14s\n' "(medians)" "wall $S1 MiB" "wall $S2 MiB" "boot-included" "steady-state"
line "multiplexer (kata-oci run, dd)" "$M1" "$M2"
line "raw channel written by dd" "$D1" "$D2"
line "raw channel written from memory" "$R1" "$R2"
line "raw channel fed by a pipe" "$P1" "$P2"
MIN=$(printf "%.1f" "$(med "${min[@]}")"); DIN=$(printf "%.1f" "$(med "${din[@]}")")
echo "measured in-run by the reader (first to last byte, $S2 MiB): multiplexer $MIN MiB/s, raw by dd $DIN MiB/s, raw from memory $(printf "%.1f" "$(med "${rin[@]}")") MiB/s"
pct() { awk -v m="$1" -v r="$2" 'BEGIN{ if (r + 0 > 0) printf "%.0f%%", 100*m/r; else print "n/a" }'; }
echo "ratio multiplexer/raw by dd (in-run, first to last byte): $(pct "$MIN" "$DIN")   (target >= 90%; boots do not enter it)"
echo "ratio multiplexer/raw by dd (steady-state): $(pct "$MS" "$DS")   (target >= 90%)"
echo "ratio multiplexer/raw by dd (boot-included): $(pct "$(rate "$S2" "$M2")" "$(rate "$S2" "$D2")")"
echo "ratio multiplexer/raw from memory (steady-state): $(pct "$MS" "$RS")   (the channel's ceiling)"
echo "ratio multiplexer/raw fed by a pipe (steady-state): $(pct "$MS" "$PS")"
echo "load average after: $(cut -d" " -f1-3 /proc/loadavg)   (other load on the host skews all figures)"
