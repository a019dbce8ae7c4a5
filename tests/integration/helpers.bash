# Shared setup for the integration tests: real QEMU, real agent, real
# virtiofsd. Each test uses a unique id and its own state root; teardown
# force-deletes and checks that nothing is left behind.

BUILDDIR=${KATA_OCI_BUILDDIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
KATA_OCI=${KATA_OCI:-$BUILDDIR/kata-oci}
RECVTTY=${RECVTTY:-$BUILDDIR/tests/integration/recvtty}
REAPER=${REAPER:-$BUILDDIR/tests/integration/reaper}
# use the build tree's guest unless the caller chose one
if [ -z "${KATA_OCI_KERNEL:-}" ] && [ -f "$BUILDDIR/guest/vmlinux" ]; then
  export KATA_OCI_KERNEL=$BUILDDIR/guest/vmlinux
  export KATA_OCI_INITRD=$BUILDDIR/guest/initrd.img
fi

setup_common() {
  TEST_ROOT=$(mktemp -d /run/kot.XXXXXX)
  WORK=$(mktemp -d /tmp/kot-work.XXXXXX)
  ID="t$$-${BATS_TEST_NUMBER}"
  BUNDLE=$WORK/bundle
  make_bundle "$BUNDLE"
}

teardown_common() {
  ko delete -f "$ID" >/dev/null 2>&1 || true
  for extra in ${EXTRA_IDS:-}; do ko delete -f "$extra" >/dev/null 2>&1 || true; done
  assert_nothing_left "$ID"
  rm -rf "$WORK"
  rmdir "$TEST_ROOT" 2>/dev/null || true
}

ko() {
  "$KATA_OCI" --root "$TEST_ROOT" "$@"
}

# A bundle with a busybox-static rootfs and a spec whose args are "$@".
make_bundle() {
  local b=$1
  mkdir -p "$b/rootfs/bin" "$b/rootfs/tmp" "$b/rootfs/etc"
  cp /bin/busybox "$b/rootfs/bin/busybox"
  for a in $(/bin/busybox --list); do
    [ -e "$b/rootfs/bin/$a" ] || ln -s busybox "$b/rootfs/bin/$a"
  done
  echo "root:x:0:0:root:/root:/bin/sh" > "$b/rootfs/etc/passwd"
  (cd "$b" && "$KATA_OCI" spec)
  set_args "$b" sh -c 'echo hello'
  jq '.process.terminal = false' "$b/config.json" > "$b/c.tmp" && mv "$b/c.tmp" "$b/config.json"
}

# set_args BUNDLE ARG...
# Whether VMs use KVM here (`check` decides: /dev/kvm alone does not say)
accel_is_kvm() {
  "$KATA_OCI" check 2>/dev/null | grep -q '^accel: kvm'
}

set_args() {
  local b=$1; shift
  local json
  json=$(printf '%s\n' "$@" | jq -R . | jq -s .)
  jq --argjson a "$json" '.process.args = $a' "$b/config.json" > "$b/c.tmp" && mv "$b/c.tmp" "$b/config.json"
}

# edit_spec JQ-FILTER
edit_spec() {
  jq "$1" "$BUNDLE/config.json" > "$BUNDLE/c.tmp" && mv "$BUNDLE/c.tmp" "$BUNDLE/config.json"
}

state_status() {
  ko state "$1" | jq -r .status
}

# wait_status ID STATUS [SECONDS]
wait_status() {
  local i=0 max=$(( ${3:-30} * 10 ))
  while [ $i -lt $max ]; do
    [ "$(state_status "$1" 2>/dev/null)" = "$2" ] && return 0
    sleep 0.1; i=$((i + 1))
  done
  echo "status of $1 is $(state_status "$1" 2>&1), not $2" >&2
  return 1
}

# No process, mount or state dir of the container may remain.
assert_nothing_left() {
  local id=$1 left
  sleep 0.2
  left=$(ps -eo pid,args | grep -E "kata-oci-$id( |,|\$)|$TEST_ROOT/$id/|--root $TEST_ROOT .* $id\$" | grep -v grep || true)
  if [ -n "$left" ]; then
    echo "processes left for $id:" >&2; echo "$left" >&2; return 1
  fi
  if grep -q "$TEST_ROOT/$id" /proc/mounts; then
    echo "mounts left for $id" >&2; return 1
  fi
  if [ -e "$TEST_ROOT/$id" ]; then
    echo "state dir left: $TEST_ROOT/$id" >&2; ls -la "$TEST_ROOT/$id" >&2; return 1
  fi
  # a delete renames the dir out of sight before removing it
  if compgen -G "$TEST_ROOT/.deleting-$id-*" >/dev/null; then
    echo "half-removed state dir left:" $TEST_ROOT/.deleting-"$id"-* >&2; return 1
  fi
}

# http_get HOST PORT PATH: the body of an HTTP/1.0 GET, through bash's
# /dev/tcp (the host's busybox wget crashes in its static resolver here)
http_get() {
  timeout 10 bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "GET %s HTTP/1.0\r\n\r\n" "$3" >&3
    sed "1,/^\r*$/d" <&3' http_get "$1" "$2" "$3"
}

# make_netns PREFIX: a network namespace as CNI's bridge plugin leaves it:
# NS (PREFIX-PID-TEST) holding eth0, whose veth peer HOSTIF is on the
# host; N is a number for this test's subnets. Both are down and bare.
make_netns() {
  N=$(( ($$ + BATS_TEST_NUMBER) % 200 + 20 ))
  NS=$1-$$-$BATS_TEST_NUMBER
  HOSTIF=kot$$h$BATS_TEST_NUMBER
  HOSTIF=${HOSTIF:0:15}
  ip netns add "$NS"
  ip link add "$HOSTIF" type veth peer name eth0 netns "$NS"
}

# wait_until CMD...: retry for up to 60 s
wait_until() {
  local i
  for i in $(seq 300); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "timed out waiting for: $*" >&2
  return 1
}

# member_bundle NAME ARG...: the bundle WORK/NAME of a member of the pod
# of sandbox SB (CRI-O's annotations), its namespaces the sandbox's
member_bundle() {
  local name=$1; shift
  local b=$WORK/$name pid
  pid=$(ko state "$SB" | jq -r .pid)
  make_bundle "$b"
  set_args "$b" "$@"
  jq --arg sb "$SB" --arg p "/proc/$pid/ns" '
    .annotations["io.kubernetes.cri-o.ContainerType"] = "container"
    | .annotations["io.kubernetes.cri-o.SandboxID"] = $sb
    | .root.readonly = false
    | .linux.namespaces = [ {type: "pid"}, {type: "mount"},
        {type: "network", path: ($p + "/net")},
        {type: "ipc", path: ($p + "/ipc")},
        {type: "uts", path: ($p + "/uts")} ]' \
    "$b/config.json" > "$b/c.tmp" && mv "$b/c.tmp" "$b/config.json"
  echo "$b"
}

# create_killed BUNDLE ID DELAY: a create of ID, killed with whatever it
# forked (a member's holder) DELAY s after it began; says what it left
create_killed() {
  local cli
  setsid "$KATA_OCI" --root "$TEST_ROOT" create --bundle "$1" "$2" </dev/null >/dev/null 2>&1 &
  cli=$!
  sleep "$3"
  pkill -9 -s "$cli" 2>/dev/null || true
  wait "$cli" 2>/dev/null || true
  echo "killed after $3 s: $(state_status "$2" 2>&1)"
}

# write_ms ID DEV: milliseconds an exec in ID takes to write 3 MiB to DEV
# with O_DIRECT (against a 1 MiB/s throttle at least 1.9 s: QEMU lets a
# first second's worth through at once)
write_ms() {
  local start end
  start=$(date +%s%N)
  ko exec "$1" dd if=/dev/zero of="$2" bs=64k count=48 oflag=direct || return 1
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}

# setup_pod: this test's pod: SB (its id), a CRI-O sandbox running
# `sleep 1000`, and members M1 and M2 that teardown_pod deletes
setup_pod() {
  setup_common
  SB=$ID
  M1=$ID-m1
  M2=$ID-m2
  EXTRA_IDS="$M1 $M2"
  set_args "$BUNDLE" sleep 1000
  edit_spec '.annotations["io.kubernetes.cri-o.ContainerType"] = "sandbox"'
}

teardown_pod() {
  local m rc=0
  for m in $M1 $M2; do ko delete -f "$m" >/dev/null 2>&1 || true; done
  teardown_common || rc=1
  for m in $M1 $M2; do assert_nothing_left "$m" || rc=1; done
  return $rc
}

# new_loop NAME SIZE_MB [losetup options]: LOOP, a loop device over
# WORK/NAME (not in a subshell: release_loops detaches what LOOPS lists)
new_loop() {
  truncate -s "${2}M" "$WORK/$1"
  LOOP=$(losetup -f --show "${@:3}" "$WORK/$1")
  LOOPS+=("$LOOP")
}

minor_of() { echo $((16#$(stat -c %T "$1"))); }

# release_loops: detaches the test's loop devices; fails when one was still
# busy (its VM is gone: no process may hold the disk any more)
release_loops() {
  local l busy=
  for l in "${LOOPS[@]}"; do
    if fuser -s "$l" 2>/dev/null; then busy+=" $l"; fi
    losetup -d "$l" 2>/dev/null || true
  done
  [ -z "$busy" ] || { echo "loop devices left busy: $busy" >&2; return 1; }
}

# runc's --pidfd-socket: listens on $1 in the background for one message;
# "$1.out" gets "<message> <pid the received pidfd names>" (fdinfo's Pid).
pidfd_listen() {
  rm -f "$1" "$1.out"
  python3 - "$1" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 64, 4)
pid = "none"
for fd in fds:
    for line in open("/proc/self/fdinfo/%d" % fd):
        if line.startswith("Pid:"):
            pid = line.split()[1]
open(sys.argv[1] + ".out.tmp", "w").write("%s %s\n" % (msg.decode(), pid))
os.rename(sys.argv[1] + ".out.tmp", sys.argv[1] + ".out")
PY
  for i in $(seq 50); do [ -S "$1" ] && return 0; sleep 0.1; done
  return 1
}

# notify_listen PATH OUT: a datagram socket at PATH (@NAME: abstract) that
# appends each message it gets, then "|", to OUT (systemd's side of
# NOTIFY_SOCKET); it goes after 120 s
notify_listen() {
  rm -f "$1" "$2"
  # fd 3 closed: bats would wait for it
  python3 - "$1" "$2" 3>&- <<'PY' &
import socket, sys
p = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + p[1:] if p.startswith("@") else p)
s.settimeout(120)
out = sys.argv[2]
try:
    while True:
        m = s.recv(4096)
        with open(out, "a") as f:
            f.write(m.decode() + "|\n")
except socket.timeout:
    pass
PY
  NOTIFY_PID=$!
  for i in $(seq 50); do
    { [ "${1#@}" != "$1" ] || [ -S "$1" ]; } && return 0
    sleep 0.1
  done
  return 1
}

# wait_file F: until F is not empty (5 s at most)
wait_file() {
  for _ in $(seq 50); do [ -s "$1" ] && return 0; sleep 0.1; done
  return 1
}

# sdnotify_build ROOTFS: /bin/sdnotify there (sdnotify.c, static)
sdnotify_build() {
  local cc=musl-gcc
  command -v musl-gcc >/dev/null || cc=gcc
  "$cc" -static -O2 -o "$1/bin/sdnotify" "$BATS_TEST_DIRNAME/sdnotify.c"
}

# vm_cpus ID: each distinct Cpus_allowed_list among every thread of the
# sandbox's monitor, holder, QEMU and virtiofsd (its two processes)
vm_cpus() {
  local mon pids p
  mon=$(jq -r .monitorPid "$TEST_ROOT/$1/state.json")
  pids="$mon $(pgrep -P "$mon" | tr '\n' ' ')"
  for p in $pids; do pids="$pids $(pgrep -P "$p" | tr '\n' ' ')"; done
  for p in $pids; do cat /proc/$p/task/*/status; done |
    awk '/^Cpus_allowed_list/ {print $2}' | sort -u | tr '\n' ' '
}
