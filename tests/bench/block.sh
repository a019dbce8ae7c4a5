#!/bin/bash
# block.sh [MIB=64]: I/O in the guest on each storage path, and on the host
# directly, in one run: sequential write and read (1 MiB requests, MIB MiB)
# and random write and read (4 KiB requests for 2 s), with blockio.c
# (O_DIRECT where the filesystem takes it, else through the page cache, as
# printed). Paths: a file on the container's rootfs over virtio-fs in each
# cache mode (auto, always, none); a raw virtio-blk disk (linux.devices of
# type b) on a loop device over a file of the work dir; and that same loop
# device on the host. Prints MiB/s, IOPS and each path's ratio to the host.
# Figures only, never pass/fail.
. "$(dirname "$0")/lib.sh"
MIB=${1:-64}
bench_check losetup
bench_setup
LOOP=
cleanup() {
  bench_cleanup
  [ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

musl_build "$WORK/blockio" "$(dirname "$0")/blockio.c"
make_bundle "$WORK/bundle" sleep 1000
edit_bundle "$WORK/bundle" ".root.readonly = false"
cp "$WORK/blockio" "$WORK/bundle/rootfs/bin/blockio"
truncate -s "$((MIB + 16))M" "$WORK/disk.img"
LOOP=$(losetup -f --show "$WORK/disk.img") || die "losetup"
minor=$((16#$(stat -c %T "$LOOP")))

TESTS="seq:write seq:read rand:write rand:read"
declare -A mbs iops how
# measure NAME RUNNER...: RUNNER TARGET seq|rand read|write prints a line
measure() {
  local name=$1 t out
  shift
  for t in $TESTS; do
    out=$("$@" "${t%%:*}" "${t##*:}") || die "$name $t: $out"
    mbs[$name,$t]=$(echo "$out" | cut -d' ' -f1)
    iops[$name,$t]=$(echo "$out" | cut -d' ' -f2)
    how[$name]=$(echo "$out" | cut -d' ' -f3)
  done
}
in_guest() { ko exec "$id" blockio "$target" "$MIB" "$1" "$2"; }
on_host() { "$WORK/blockio" "$LOOP" "$MIB" "$1" "$2"; }

echo "kata-oci: $KATA_OCI, $MIB MiB sequential, 2 s random, load $(cut -d' ' -f1-3 /proc/loadavg)"
measure host on_host
for mode in auto always none; do
  id=blk-$$-$mode
  BENCH_IDS="$BENCH_IDS $id"
  target=/tmp/bench.img
  KATA_OCI_VIRTIO_FS_CACHE=$mode ko run -d --bundle "$WORK/bundle" "$id" \
    </dev/null >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; die "run -d ($mode)"; }
  measure "virtio-fs-$mode" in_guest
  ko delete -f "$id" >/dev/null 2>&1
  rm -f "$WORK/bundle/rootfs/tmp/bench.img"
done
id=blk-$$-disk
BENCH_IDS="$BENCH_IDS $id"
target=/dev/xvdb
edit_bundle "$WORK/bundle" ".linux.devices = [{\"type\": \"b\", \"path\": \"/dev/xvdb\", \"major\": 7, \"minor\": $minor}]"
ko run -d --bundle "$WORK/bundle" "$id" </dev/null >/dev/null 2>"$WORK/err" ||
  { cat "$WORK/err" >&2; die "run -d (disk)"; }
measure virtio-blk in_guest
ko delete -f "$id" >/dev/null 2>&1

echo
printf '%-18s %-7s' path io
for t in $TESTS; do printf ' %20s' "$t MiB/s IOPS"; done
echo
for p in host virtio-fs-auto virtio-fs-always virtio-fs-none virtio-blk; do
  printf '%-18s %-7s' "$p" "${how[$p]}"
  for t in $TESTS; do
    printf ' %9s %6s %4s' "${mbs[$p,$t]}" "${iops[$p,$t]}" \
      "$(awk -v a="${mbs[$p,$t]}" -v b="${mbs[host,$t]}" 'BEGIN { if (b > 0) printf "%.2f", a / b }')"
  done
  echo
done
echo "(each cell: MiB/s, IOPS, ratio to the host's MiB/s)"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
