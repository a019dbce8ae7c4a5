#!/bin/bash
# metrics.sh [REPS=7]: one `kata-oci metrics` scrape of 1, 5 and 10 idle
# sandboxes: wall time, bytes, and the guest's share (the GuestMetrics
# request as each monitor timed it). Figures for comparison (Kata's
# documentation): about 9K / 144K / 283K bytes for 0 / 1 / 2 sandboxes, 20 ms
# end to end, 3 ms for the agent request. Target here: well below Kata's
# bytes per sandbox, and below 50 ms for 10 sandboxes under TCG.
. "$(dirname "$0")/lib.sh"
REPS=${1:-7}
bench_check
bench_setup
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
make_bundle "$WORK/bundle" sleep 100000

# median of the numbers on stdin
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# one_scrape: wall ms, bytes, the scrape's own duration (ms), the slowest
# and the summed GuestMetrics answer (ms), into the files of this round
one_scrape() {
  local t0 t1
  t0=$(now_ns)
  ko metrics > "$WORK/out.txt" 2>"$WORK/err.txt" || die "kata-oci metrics failed: $(cat "$WORK/err.txt")"
  t1=$(now_ns)
  echo $(( (t1 - t0) / 1000 )) >> "$WORK/wall"
  wc -c < "$WORK/out.txt" >> "$WORK/bytes"
  awk '/^kata_scrape_duration_seconds / {print $2 * 1e6}' "$WORK/out.txt" >> "$WORK/self"
  awk '/^kata_guest_metrics_request_seconds/ {v = $NF * 1e6; s += v; if (v > m) m = v}
       END {print m + 0; print s + 0 > "/dev/stderr"}' "$WORK/out.txt" \
    >> "$WORK/gmax" 2>> "$WORK/gsum"
  local up
  up=$(grep -c '^kata_guest_up{.*} 1$' "$WORK/out.txt")
  echo "$up" >> "$WORK/up"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$WORK"/{wall,bytes,self,gmax,gsum,up}
for r in $(seq "$REPS"); do one_scrape; done
printf '%-10s %10s %10s %10s %12s %12s %8s\n' sandboxes "wall ms" bytes \
  "self ms" "guest max" "guest sum" "guests"
printf '%-10s %10.1f %10d %10.1f %12s %12s %8s\n' 0 \
  "$(median < "$WORK/wall" | awk '{print $1 / 1000}')" "$(median < "$WORK/bytes")" \
  "$(median < "$WORK/self" | awk '{print $1 / 1000}')" - - -
n=0
for target in 1 5 10; do
  while [ $n -lt $target ]; do
    n=$((n + 1))
    id=kob-m$$-$n
    BENCH_IDS="$BENCH_IDS $id"
    ko run -d --bundle "$WORK/bundle" "$id" </dev/null >/dev/null 2>"$WORK/run.err" ||
      die "run $id: $(cat "$WORK/run.err")"
  done
  sleep 5   # idle: the guests are done booting
  ko metrics >/dev/null 2>&1   # the first after a boot: not counted
  rm -f "$WORK"/{wall,bytes,self,gmax,gsum,up}
  for r in $(seq "$REPS"); do one_scrape; done
  printf '%-10s %10.1f %10d %10.1f %12.2f %12.2f %8s\n' "$target" \
    "$(median < "$WORK/wall" | awk '{print $1 / 1000}')" "$(median < "$WORK/bytes")" \
    "$(median < "$WORK/self" | awk '{print $1 / 1000}')" \
    "$(median < "$WORK/gmax" | awk '{print $1 / 1000}')" \
    "$(median < "$WORK/gsum" | awk '{print $1 / 1000}')" "$(median < "$WORK/up")/$target"
done
echo "medians of $REPS scrapes each; wall: the whole CLI process (exec to exit);"
echo "self: kata_scrape_duration_seconds; guest max/sum: kata_guest_metrics_request_seconds"
echo "(ms) across the sandboxes (the monitors ask their guests concurrently)."
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
