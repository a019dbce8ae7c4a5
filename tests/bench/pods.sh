#!/bin/bash
# pods.sh [RUNS=5]: what a pod costs. (1) Host memory (PSS of QEMU,
# virtiofsd, the monitor and every holder) of a pod of 1, 2 and 4 idle
# busybox containers (the sandbox and its members, one VM) next to as many
# single-container sandboxes (one VM each). (2) The start of a pod member
# (create + start until its first output) next to runc doing the same with
# the same bundle, in the same run: a member boots nothing.
. "$(dirname "$0")/lib.sh"
RUNS=${1:-5}
SETTLE=${SETTLE:-3}
bench_check
command -v runc >/dev/null || die "runc not found (it is the reference)"
bench_setup
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

pss_kb() {
  local v; v=$(awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null); echo "${v:-0}"
}
children() { cat /proc/"$1"/task/*/children 2>/dev/null; }
# tree_pss PID: PSS of PID and every descendant, in kB
tree_pss() {
  local t=0 c
  t=$(pss_kb "$1")
  for c in $(children "$1"); do t=$((t + $(tree_pss "$c"))); done
  echo "$t"
}

make_bundle "$WORK/idle" sleep 1000
monitor_of() { jq -r .monitorPid "$ROOT/$1/state.json"; }
holder_of() { ko state "$1" | jq -r .pid; }

echo "load average before: $(cut -d" " -f1-3 /proc/loadavg)"
printf '\n%-10s %14s %14s %10s\n' containers "pod (1 VM) MB" "singles MB" "saved"
for n in 1 2 4; do
  # a pod of n
  sb=bench-pod-$$-$n
  BENCH_IDS="$BENCH_IDS $sb"
  edit_bundle "$WORK/idle" '.annotations["io.kubernetes.cri-o.ContainerType"] = "sandbox"'
  ko run -d --bundle "$WORK/idle" "$sb" </dev/null >/dev/null 2>&1 || die "sandbox $sb"
  members=()
  for i in $(seq 2 "$n"); do
    m=$sb-m$i
    BENCH_IDS="$BENCH_IDS $m"
    member_of "$sb" "$WORK/m$n-$i" sleep 1000
    ko run -d --bundle "$WORK/m$n-$i" "$m" </dev/null >/dev/null 2>&1 || die "member $m"
    members+=("$m")
  done
  sleep "$SETTLE"
  # the monitor's tree holds QEMU, virtiofsd and the sandbox's holder; a
  # member's holder is its own (its create forked it)
  pod=$(tree_pss "$(monitor_of "$sb")")
  for m in "${members[@]}"; do pod=$((pod + $(pss_kb "$(holder_of "$m")"))); done
  for m in "${members[@]}"; do ko delete -f "$m" >/dev/null 2>&1; done
  ko delete -f "$sb" >/dev/null 2>&1
  # n singles
  edit_bundle "$WORK/idle" 'del(.annotations["io.kubernetes.cri-o.ContainerType"])'
  singles=0 ids=()
  for i in $(seq "$n"); do
    id=bench-single-$$-$n-$i
    BENCH_IDS="$BENCH_IDS $id"
    ko run -d --bundle "$WORK/idle" "$id" </dev/null >/dev/null 2>&1 || die "run $id"
    ids+=("$id")
  done
  sleep "$SETTLE"
  for id in "${ids[@]}"; do singles=$((singles + $(tree_pss "$(monitor_of "$id")"))); done
  for id in "${ids[@]}"; do ko delete -f "$id" >/dev/null 2>&1; done
  awk -v n="$n" -v p="$pod" -v s="$singles" 'BEGIN {
    printf "%-10s %14.1f %14.1f %9.0f%%\n", n, p / 1024, s / 1024, 100 - 100 * p / s }'
done

# (2) a member's start next to runc's
sb=bench-pod-$$-start
BENCH_IDS="$BENCH_IDS $sb"
edit_bundle "$WORK/idle" '.annotations["io.kubernetes.cri-o.ContainerType"] = "sandbox"'
ko run -d --bundle "$WORK/idle" "$sb" </dev/null >/dev/null 2>&1 || die "sandbox $sb"
member_of "$sb" "$WORK/hello" echo hello
make_bundle "$WORK/runc" echo hello
edit_bundle "$WORK/runc" '.root.readonly = false'
RROOT=$WORK/runc-root
km=() rc=()
for r in $(seq "$RUNS"); do
  m=$sb-h$r
  BENCH_IDS="$BENCH_IDS $m"
  t0=$(now_ns)
  ko create --bundle "$WORK/hello" "$m" </dev/null >"$WORK/out.$r" 2>&1 || die "member create"
  ko start "$m"
  until grep -q hello "$WORK/out.$r"; do sleep 0.002; done
  t1=$(now_ns)
  km+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e6 }')")
  ko delete -f "$m" >/dev/null 2>&1
  t0=$(now_ns)
  runc --root "$RROOT" create --bundle "$WORK/runc" "rb$$-$r" </dev/null >"$WORK/rout.$r" 2>&1 \
    || die "runc create: $(cat "$WORK/rout.$r")"
  runc --root "$RROOT" start "rb$$-$r"
  until grep -q hello "$WORK/rout.$r"; do sleep 0.002; done
  t1=$(now_ns)
  rc+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e6 }')")
  runc --root "$RROOT" delete -f "rb$$-$r" >/dev/null 2>&1
done
ko delete -f "$sb" >/dev/null 2>&1
read -r kmed kmin kmax < <(stats "${km[@]}")
read -r rmed rmin rmax < <(stats "${rc[@]}")
printf '\n%-26s %9s %9s %9s\n' "start to first output, ms" median min max
printf '%-26s %9.1f %9.1f %9.1f\n' "pod member (kata-oci)" "$kmed" "$kmin" "$kmax"
printf '%-26s %9.1f %9.1f %9.1f\n' "runc" "$rmed" "$rmin" "$rmax"
awk -v k="$kmed" -v r="$rmed" 'BEGIN { printf "a member costs %.1fx runc\n", k / r }'
