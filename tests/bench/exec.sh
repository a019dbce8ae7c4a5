#!/bin/bash
# exec.sh [N=40] [REPS=3]: what starting a program from the container's
# rootfs costs in each virtio-fs cache mode (KATA_OCI_VIRTIO_FS_CACHE).
# For each mode, one `sleep` container; in it, a shell runs /bin/true (the
# busybox binary, through its symlink) N times, and the guest's own clock
# times the loop: milliseconds per fork+exec+exit. Also the host's wall time
# of `kata-oci exec ID true`, one program per exec as podman exec runs it.
# Medians over REPS. Prints figures, never pass/fail.
. "$(dirname "$0")/lib.sh"
N=${1:-40}
REPS=${2:-3}
bench_setup
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

make_bundle "$WORK/bundle" sleep 1000
echo "kata-oci: $KATA_OCI"
echo "N=$N programs per loop, medians of $REPS"
echo
printf '%-8s %16s %16s\n' cache "in-guest ms/exec" "host exec ms"
declare -A loop_ms
for mode in auto always none; do
  id=exec-$$-$mode
  BENCH_IDS="$BENCH_IDS $id"
  KATA_OCI_VIRTIO_FS_CACHE=$mode ko run -d --bundle "$WORK/bundle" "$id" \
    </dev/null >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; die "run -d ($mode)"; }
  ko exec "$id" /bin/true || die "exec in $id"
  per=() host=()
  for r in $(seq "$REPS"); do
    # /proc/uptime: centiseconds, the guest's clock
    out=$(ko exec "$id" sh -c 'read a b < /proc/uptime; i=0
      while [ $i -lt '"$N"' ]; do /bin/true; i=$((i + 1)); done
      read c d < /proc/uptime; echo "$a $c"') || die "loop in $id"
    per+=("$(echo "$out" | awk -v n="$N" '{printf "%.1f", ($2 - $1) * 1000 / n}')")
    t0=$(now_ns)
    ko exec "$id" true || die "exec in $id"
    t1=$(now_ns)
    host+=("$(( (t1 - t0) / 1000000 ))")
  done
  pm=$(stats "${per[@]}" | cut -d' ' -f1)
  hm=$(stats "${host[@]}" | cut -d' ' -f1)
  loop_ms[$mode]=$pm
  printf '%-8s %16.1f %16.0f\n' "$mode" "$pm" "$hm"
  ko delete -f "$id" >/dev/null 2>&1
done
echo
awk -v a="${loop_ms[auto]}" -v b="${loop_ms[always]}" \
  'BEGIN { if (b > 0) printf "always/auto, in-guest time per program: %.2fx\n", b / a }'
