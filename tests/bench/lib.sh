# shellcheck shell=bash
# Shared helpers for the benchmarks in tests/bench. Sourced, not run.
# Benchmarks print figures; they never fail on time. They exit non-zero only
# when they cannot run at all (no binary, no guest, a container that does not
# start).
#
#   KATA_OCI_BUILDDIR   built tree (default: the source tree)
#   KATA_OCI            the runtime binary (default: $KATA_OCI_BUILDDIR/kata-oci)
#   KATA_OCI_KERNEL     guest kernel  (default: $KATA_OCI_BUILDDIR/guest/vmlinux)
#   KATA_OCI_INITRD     guest initrd  (default: $KATA_OCI_BUILDDIR/guest/initrd.img)

set -u
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$BENCH_DIR/../.." && pwd)
BUILDDIR=${KATA_OCI_BUILDDIR:-$TOP}
KATA_OCI=${KATA_OCI:-$BUILDDIR/kata-oci}
export KATA_OCI_KERNEL=${KATA_OCI_KERNEL:-$BUILDDIR/guest/vmlinux}
export KATA_OCI_INITRD=${KATA_OCI_INITRD:-$BUILDDIR/guest/initrd.img}

die() { echo "$(basename "$0"): cannot run: $*" >&2; exit 2; }

bench_check() {
  [ -x "$KATA_OCI" ] || die "no runtime binary $KATA_OCI (set KATA_OCI_BUILDDIR)"
  [ -f "$KATA_OCI_KERNEL" ] || die "no guest kernel $KATA_OCI_KERNEL"
  [ -f "$KATA_OCI_INITRD" ] || die "no guest initrd $KATA_OCI_INITRD"
  for t in jq busybox "$@"; do
    command -v "$t" >/dev/null || die "$t not found"
  done
}

# bench_setup: private state root (short path: unix sockets live in it) and
# a work dir. bench_cleanup removes both; call it from an EXIT trap after
# deleting the containers.
bench_setup() {
  ROOT=$(mktemp -d /run/kob.XXXXXX) || die "mktemp in /run"
  WORK=$(mktemp -d /tmp/kata-bench.XXXXXX) || die "mktemp in /tmp"
  BENCH_IDS=""
}

ko() { "$KATA_OCI" --root "$ROOT" "$@"; }

# Kills what is still running from the bare-QEMU runs, force-deletes every
# container in BENCH_IDS, removes the temp dirs and reports what is left.
bench_cleanup() {
  local id pid
  for pid in ${BENCH_PIDS:-}; do kill -9 "$pid" 2>/dev/null; done
  for id in ${BENCH_IDS:-}; do ko delete -f "$id" >/dev/null 2>&1 || true; done
  sleep 0.3
  rm -rf "$WORK"
  rmdir "$ROOT" 2>/dev/null || {
    echo "warning: state root $ROOT not empty:" >&2; ls -la "$ROOT" >&2
  }
  local left
  left=$(ps -eo pid,args | grep -E "$ROOT/|$WORK/|--root $ROOT " | grep -v grep || true)
  if [ -n "$left" ]; then
    echo "warning: processes left behind:" >&2; echo "$left" >&2
  else
    echo "leftovers: none (no process or state dir under $ROOT or $WORK)"
  fi
}

# make_bundle DIR ARG...: busybox-static rootfs and a default spec whose
# process runs ARG... without a terminal.
make_bundle() {
  local b=$1; shift
  mkdir -p "$b/rootfs/bin" "$b/rootfs/tmp" "$b/rootfs/etc"
  cp "$(command -v busybox)" "$b/rootfs/bin/busybox"
  for a in $(busybox --list); do
    [ -e "$b/rootfs/bin/$a" ] || ln -s busybox "$b/rootfs/bin/$a"
  done
  echo "root:x:0:0:root:/root:/bin/sh" > "$b/rootfs/etc/passwd"
  (cd "$b" && "$KATA_OCI" spec) || die "kata-oci spec"
  local json
  json=$(printf '%s\n' "$@" | jq -R . | jq -s .)
  jq --argjson a "$json" '.process.args = $a | .process.terminal = false' \
    "$b/config.json" > "$b/c.tmp" && mv "$b/c.tmp" "$b/config.json"
}

# edit_bundle DIR JQ-FILTER
edit_bundle() {
  jq "$2" "$1/config.json" > "$1/c.tmp" && mv "$1/c.tmp" "$1/config.json"
}

# member_of SANDBOX DIR ARG...: a member bundle, its namespaces the pod's
member_of() {
  local sb=$1 b=$2 pid; shift 2
  make_bundle "$b" "$@"
  pid=$(ko state "$sb" | jq -r .pid)
  edit_bundle "$b" '.annotations["io.kubernetes.cri-o.ContainerType"] = "container"
    | .annotations["io.kubernetes.cri-o.SandboxID"] = "'"$sb"'"
    | .linux.namespaces = [ {type: "pid"}, {type: "mount"},
        {type: "network", path: "/proc/'"$pid"'/ns/net"},
        {type: "ipc", path: "/proc/'"$pid"'/ns/ipc"},
        {type: "uts", path: "/proc/'"$pid"'/ns/uts"} ]'
}

now_ns() { date +%s%N; }

# stats V...: prints "median min max" of the numbers (median of an even
# count is the mean of the middle two)
stats() {
  printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {
    m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2;
    printf "%.3f %.3f %.3f\n", m, v[1], v[NR] }'
}

# musl_build OUT SRC: a static binary from a C file (musl-gcc, else gcc -static)
musl_build() {
  local cc=musl-gcc
  command -v musl-gcc >/dev/null || cc=gcc
  "$cc" -static -O2 -Wall -o "$1" "$2" || die "cannot compile $2 with $cc"
}

# make_cpio DIR OUT: newc cpio of DIR (uncompressed, like the real initrd)
make_cpio() {
  (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$2" \
    || die "cpio"
}

# qemu_argv_from_kata: runs a short container with --debug and fills the
# array KQEMU with the QEMU command line kata-oci logged (`qemu: ...`), so the
# benchmarks follow whatever src/hypervisor.c does today. KQEMU_DIR is the
# state dir that run used (paths under it are rewritten by qemu_argv_bare).
# KQEMU_THP is THP_enabled from that QEMU's /proc/PID/status (the monitor
# spawns QEMU with PR_SET_THP_DISABLE; a process attribute, not an option),
# empty if it could not be read.
# The logged line is space-joined: an option is a word starting with '-',
# its value the following words up to the next option (so -append keeps its
# spaces).
qemu_argv_from_kata() {
  local b=$WORK/argv-bundle id=bench-argv-$$ line rp qp=""
  [ -d "$b" ] || make_bundle "$b" sleep 2
  BENCH_IDS="$BENCH_IDS $id"
  KQEMU_THP=""
  ko --debug run --bundle "$b" "$id" </dev/null >/dev/null 2>"$WORK/argv.err" &
  rp=$!
  while kill -0 "$rp" 2>/dev/null; do
    [ -n "$qp" ] || qp=$(ps -eo pid=,args= | awk -v n="-name kata-oci-$id " \
      'index($0, n) && $2 !~ /awk/ {print $1; exit}')
    if [ -n "$qp" ]; then
      KQEMU_THP=$(awk '/^THP_enabled:/ {print $2}' "/proc/$qp/status" 2>/dev/null)
      [ -n "$KQEMU_THP" ] && break
    fi
    sleep 0.05
  done
  wait "$rp" \
    || { cat "$WORK/argv.err" >&2; die "kata-oci run of a 'sleep 2' container failed"; }
  ko delete -f "$id" >/dev/null 2>&1
  line=$(sed -n 's/^.*debug: qemu: //p' "$WORK/argv.err" | head -1)
  [ -n "$line" ] || die "no 'qemu: ' line in kata-oci --debug output"
  KQEMU_DIR=$ROOT/$id
  KQEMU=()
  local w cur=""
  for w in $line; do
    if [ ${#KQEMU[@]} -eq 0 ]; then KQEMU=("$w"); continue; fi
    if [[ $w == -* ]]; then
      [ -n "$cur" ] && KQEMU+=("$cur")
      KQEMU+=("$w"); cur=""
    else
      cur=${cur:+$cur }$w
    fi
  done
  [ -n "$cur" ] && KQEMU+=("$cur")
}

# qemu_argv_bare DIR INITRD [PARAMS]: fills BQEMU with KQEMU (behind nothp if
# kata-oci's QEMU ran with THP disabled), the initrd replaced, PARAMS
# added to the kernel command line,
# state-dir paths moved to DIR and the virtio-fs device and its chardev
# dropped (they need a virtiofsd; a guest that loads no modules never
# touches them).
qemu_argv_bare() {
  local dir=$1 initrd=$2 params=${3:-} i=1 o v id fschr=""
  for v in "${KQEMU[@]}"; do
    [[ $v == vhost-user-fs*chardev=* ]] && { fschr=${v#*chardev=}; fschr=${fschr%%,*}; }
  done
  BQEMU=()
  if [ "${KQEMU_THP:-}" = 0 ]; then
    [ -x "$WORK/nothp" ] || musl_build "$WORK/nothp" "$BENCH_DIR/nothp.c"
    BQEMU=("$WORK/nothp")
  fi
  BQEMU+=("${KQEMU[0]}")
  while [ $i -lt ${#KQEMU[@]} ]; do
    o=${KQEMU[$i]}; v=${KQEMU[$((i + 1))]:-}
    if [[ $v == -* ]]; then BQEMU+=("$o"); i=$((i + 1)); continue; fi
    v=${v//$KQEMU_DIR/$dir}
    case "$o $v" in
      "-initrd "*) v=$initrd ;;
      "-append "*) v="$v${params:+ $params}" ;;
      "-device vhost-user-fs"*) i=$((i + 2)); continue ;;
      "-chardev "*)
        if [ -n "$fschr" ] && [[ ,$v, == *,id=$fschr,* ]]; then i=$((i + 2)); continue; fi
        # the monitor hands QEMU its sockets as fds: the bare VM gets the
        # console as a file in DIR, the others as listening sockets there
        if [[ $v == socket,*fd=* ]]; then
          id=${v#*id=}; id=${id%%,*}
          if [ "$id" = console ]; then
            v="file,id=console,path=$dir/console.log"
          else
            v="socket,id=$id,path=$dir/$id.sock,server=on,wait=off"
          fi
        fi ;;
      "-name "*) v=bench-bare ;;
    esac
    BQEMU+=("$o" "$v"); i=$((i + 2))
  done
}
