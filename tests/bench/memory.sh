#!/bin/bash
# memory.sh [N=5]: host memory of N idle sandboxes (`sleep 1000`, run -d):
# PSS (from /proc/PID/smaps_rollup) of QEMU, virtiofsd (parent + child) and
# the monitor, per sandbox and averaged; then the agent's RSS in the guest,
# read by one more container without a pid namespace, where /proc/1 is the
# agent. Targets in the issue: monitor PSS <= 1 MB, agent idle RSS <= 128 KB.
. "$(dirname "$0")/lib.sh"
N=${1:-5}
SETTLE=${SETTLE:-3}
bench_check
bench_setup
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# pss_kb PID: Pss of the process in kB (0 if it is gone)
pss_kb() {
  local v; v=$(awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null); echo "${v:-0}"
}
rss_kb() {
  local v; v=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null); echo "${v:-0}"
}
# tcg_kb PID: Pss of QEMU's TCG translation buffer, its one anonymous
# read-write-execute mapping (0 under KVM)
tcg_kb() {
  awk '/^[0-9a-f]+-[0-9a-f]+ rwxp / { m = 1; next } /^[0-9a-f]+-/ { m = 0 }
       m && /^Pss:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps" 2>/dev/null
}
children() { cat /proc/"$1"/task/*/children 2>/dev/null; }
comm() { cat "/proc/$1/comm" 2>/dev/null; }

make_bundle "$WORK/idle" sleep 1000
echo "load average before: $(cut -d" " -f1-3 /proc/loadavg)"
echo "starting $N idle sandboxes..."
ids=()
for i in $(seq "$N"); do
  id=bench-mem-$$-$i
  BENCH_IDS="$BENCH_IDS $id"
  ko run -d --bundle "$WORK/idle" "$id" </dev/null >/dev/null 2>"$WORK/run.err" \
    || { cat "$WORK/run.err" >&2; die "run -d $id failed"; }
  ids+=("$id")
done
sleep "$SETTLE"

printf '\n%-22s %9s %9s %9s %9s %9s | %9s %9s\n' sandbox "qemu" "vfsd" "vfsd-ch" \
  "mon+hold" "total" "mon RSS" "qemu RSS"
sq=0 sv=0 sm=0 smr=0 st=0 cnt=0
for id in "${ids[@]}"; do
  # state's pid is the container's holder; the monitor is in state.json
  holder=$(ko state "$id" | jq -r .pid)
  mon=$(jq -r .monitorPid "$ROOT/$id/state.json")
  [ -n "$mon" ] && [ "$mon" != null ] && [ -d "/proc/$mon" ] || die "no monitor pid for $id"
  qemu="" vfsd="" vch=""
  for c in $(children "$mon"); do
    case $(comm "$c") in
      qemu-system*) qemu=$c ;;
      virtiofsd*) vfsd=$c ;;
    esac
  done
  [ -n "$qemu" ] && [ -n "$vfsd" ] || die "qemu/virtiofsd not found under monitor $mon"
  # shellcheck disable=SC2046  # pids, split on purpose
  set -- $(children "$vfsd"); vch=${1:-}
  q=$(pss_kb "$qemu"); v=$(pss_kb "$vfsd"); vc=0
  [ -n "$vch" ] && vc=$(pss_kb "$vch")
  # the holder is forked by the monitor and part of its cost: counted with it
  m=$(( $(pss_kb "$mon") + $(pss_kb "$holder") )); mr=$(rss_kb "$mon"); qr=$(rss_kb "$qemu")
  printf '%-22s %9s %9s %9s %9s %9s | %9s %9s\n' "$id" "$q" "$v" "$vc" "$m" \
    "$((q + v + vc + m))" "$mr" "$qr"
  st=$((st + $(tcg_kb "$qemu")))
  sq=$((sq + q)); sv=$((sv + v + vc)); sm=$((sm + m)); smr=$((smr + mr)); cnt=$((cnt + 1))
done

# the agent, from inside the guest: a container sharing the guest's pid
# namespace reads /proc/1/status
make_bundle "$WORK/agent" grep -E 'VmRSS|VmHWM' /proc/1/status
edit_bundle "$WORK/agent" '.linux.namespaces |= map(select(.type != "pid"))'
id=bench-mem-$$-agent
BENCH_IDS="$BENCH_IDS $id"
ko run --bundle "$WORK/agent" "$id" </dev/null >"$WORK/agent.out" 2>"$WORK/agent.err" \
  || { cat "$WORK/agent.err" >&2; echo "warning: agent RSS container failed" >&2; }
ko delete -f "$id" >/dev/null 2>&1
arss=$(awk '/^VmRSS:/ {print $2}' "$WORK/agent.out")
ahwm=$(awk '/^VmHWM:/ {print $2}' "$WORK/agent.out")

avg() { awk -v s="$1" -v n="$cnt" 'BEGIN{printf "%.0f", s/n}'; }
echo
echo "averages over $cnt idle sandboxes (kB; PSS shares pages between sandboxes):"
printf '  %-34s %8s kB\n' "QEMU PSS" "$(avg $sq)"
printf '  %-34s %8s kB\n' "  of which TCG translation buffer" "$(avg $st)"
printf '  %-34s %8s kB\n' "virtiofsd PSS (parent + child)" "$(avg $sv)"
printf '  %-34s %8s kB   (target <= 1024 kB)\n' "monitor + holder PSS" "$(avg $sm)"
printf '  %-34s %8s kB\n' "monitor RSS" "$(avg $smr)"
printf '  %-34s %8s kB\n' "host total per sandbox" "$(avg $((sq + sv + sm)))"
printf '  %-34s %8s kB\n' "  without the TCG buffer" "$(avg $((sq + sv + sm - st)))"
printf '  %-34s %8s kB   (target <= 128 kB)\n' "agent RSS in the guest (idle)" "${arss:-?}"
printf '  %-34s %8s kB\n' "agent peak RSS (VmHWM)" "${ahwm:-?}"
echo "load average after: $(cut -d" " -f1-3 /proc/loadavg)"
