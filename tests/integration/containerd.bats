#!/usr/bin/env bats
# Debian's containerd 1.6 and its runc v2 shim driving kata-oci: a private
# containerd (own root, state and socket under a temporary dir), a busybox
# image built here as an OCI archive and imported with `ctr image import`,
# and `ctr run --runtime io.containerd.runc.v2 --runc-binary kata-oci`.

load helpers
load images

IMAGE=localhost/kata-oci-busybox:test
NS=kata-oci-test

setup_file() {
  command -v containerd >/dev/null && command -v containerd-shim-runc-v2 >/dev/null ||
    skip "containerd and its runc v2 shim are not installed"
  CWORK=$(mktemp -d /tmp/kot-containerd.XXXXXX)
  export CWORK
  # config: contrib/containerd/config.toml with this containerd's own
  # directories and socket, and without the CRI plugin (no CNI here)
  {
    echo "root = \"$CWORK/root\""
    echo "state = \"$CWORK/state\""
    echo "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]"
    sed -n '/^version = /,$p' "$BATS_TEST_DIRNAME/../../contrib/containerd/config.toml"
    echo '[grpc]'
    echo "  address = \"$CWORK/containerd.sock\""
    echo '[ttrpc]'
    echo "  address = \"$CWORK/containerd.sock.ttrpc\""
  } > "$CWORK/config.toml"
  # the shim runs kata-oci create with containerd's environment: the build
  # tree's guest kernel and initrd (helpers.bash) reach it that way
  containerd --config "$CWORK/config.toml" --log-level warn > "$CWORK/containerd.log" 2>&1 &
  echo $! > "$CWORK/containerd.pid"
  local i
  for i in $(seq 100); do
    kc version >/dev/null 2>&1 && break
    sleep 0.1
  done
  kc version >/dev/null || { cat "$CWORK/containerd.log" >&3; return 1; }
  make_oci_archive "$CWORK/image.tar"
  kc image import "$CWORK/image.tar" >/dev/null
  kc image ls -q | grep -qx "$IMAGE"
}

teardown_file() {
  [ -n "${CWORK:-}" ] || return 0
  local t
  for t in $(kc task ls -q 2>/dev/null); do kc task kill -s KILL "$t" >/dev/null 2>&1 || true; done
  sleep 1
  for t in $(kc task ls -q 2>/dev/null); do kc task delete -f "$t" >/dev/null 2>&1 || true; done
  for t in $(kc container ls -q 2>/dev/null); do kc container delete "$t" >/dev/null 2>&1 || true; done
  kc image rm "$IMAGE" >/dev/null 2>&1 || true
  if [ -f "$CWORK/containerd.pid" ]; then
    kill "$(cat "$CWORK/containerd.pid")" 2>/dev/null || true
    for t in $(seq 50); do kill -0 "$(cat "$CWORK/containerd.pid")" 2>/dev/null || break; sleep 0.1; done
  fi
  grep -o " $CWORK[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$CWORK"
  rmdir "/run/containerd/runc/$NS" 2>/dev/null || true
}

setup() {
  WORK=$(mktemp -d "$CWORK/t.XXXXXX")
  CID="kot-$$-$BATS_TEST_NUMBER"
}

teardown() {
  kc task kill -s KILL "$CID" >/dev/null 2>&1 || true
  kc task delete -f "$CID" >/dev/null 2>&1 || true
  kc container delete "$CID" >/dev/null 2>&1 || true
  local i left
  for i in $(seq 50); do
    left=$(ctr_leftovers "$CID")
    [ -z "$left" ] && break
    sleep 0.2
  done
  if [ -n "$left" ]; then
    echo "left behind by $CID:" >&2; echo "$left" >&2
    return 1
  fi
}

# kc ARGS: ctr talking to the private containerd
kc() {
  ctr --address "$CWORK/containerd.sock" --namespace "$NS" "$@"
}

# krun ARGS: ctr run with kata-oci as the runc binary of the runc v2 shim
krun() {
  kc run --runtime io.containerd.runc.v2 --runc-binary "$KATA_OCI" "$@"
}

# Processes (shim, monitor, qemu, virtiofsd), kata-oci state or mounts of a
# container; the shim's kata-oci root is /run/containerd/runc/<namespace>.
ctr_leftovers() {
  local id=$1
  ps -eo pid,args | grep -E -- "kata-oci-$id( |,|\$)|/$id/|-id $id( |\$)| $id\$" | grep -v grep || true
  [ -e "/run/containerd/runc/$NS/$id" ] && echo "state dir /run/containerd/runc/$NS/$id"
  grep -F "/$id/" /proc/mounts || true
  kc task ls -q 2>/dev/null | grep -x "$id" | sed 's/^/task /'
  kc container ls -q 2>/dev/null | grep -x "$id" | sed 's/^/container /'
}

# make_oci_archive FILE: the busybox image as an OCI archive (images.bash)
make_oci_archive() {
  local r
  r=$(mktemp -d "$CWORK/rootfs.XXXXXX")
  busybox_rootfs "$r"
  oci_archive "$1" "$IMAGE" "$r" '{"Env": '"$IMAGE_ENV"', "Cmd": ["/bin/sh"]}'
  rm -rf "$r"
}

@test "ctr run: exact output, stdout and stderr apart, exit code" {
  krun --rm "$IMAGE" "$CID" sh -c 'echo to-out; echo to-err >&2; echo line-two' \
    >"$WORK/out" 2>"$WORK/err"
  [ "$(cat "$WORK/out")" = "$(printf 'to-out\nline-two')" ]
  [ "$(cat "$WORK/err")" = to-err ]
  run krun --rm "$IMAGE" "$CID" sh -c 'exit 3'
  [ "$status" -eq 3 ]
  # the container, its task and its kata-oci state are gone
  [ -z "$(ctr_leftovers "$CID")" ]
}

@test "ctr run: piped stdin with a checksum" {
  head -c 1048576 /dev/urandom > "$WORK/in"
  got=$(krun --rm "$IMAGE" "$CID" sha256sum < "$WORK/in" | cut -d' ' -f1)
  [ "$got" = "$(sha256sum < "$WORK/in" | cut -d' ' -f1)" ]
}

@test "ctr run -d, task ls, task kill -s KILL: exit status 137, then delete" {
  krun -d "$IMAGE" "$CID" sleep 1000 >/dev/null
  running() { kc task ls | grep -E "^$CID +[0-9]+ +RUNNING"; }
  wait_until running
  # the task's pid (from --pid-file) is state's: the monitor's child that
  # holds the container's rootfs
  pid=$(kc task ls | awk -v id="$CID" '$1 == id { print $2 }')
  [ "$(kata-oci-state-pid)" = "$pid" ]
  [ -x "/proc/$pid/root/bin/busybox" ]
  kc task kill -s KILL "$CID"
  stopped() { kc task ls | grep -E "^$CID +[0-9]+ +STOPPED"; }
  wait_until stopped
  run kc task delete "$CID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"exit code 137"* ]]
  kc container delete "$CID"
}

# the pid in kata-oci's state of $CID, under the shim's root
kata-oci-state-pid() {
  "$KATA_OCI" --root "/run/containerd/runc/$NS" state "$CID" | jq -r .pid
}

@test "ctr run --with-ns network: the namespace's interface and address are the container's" {
  # what CRI does with the pod's namespace, by hand: a veth in a named one
  local ns=kot-ctr-$$ hostif=kotc$$h
  hostif=${hostif:0:15}
  ip netns add "$ns"
  ip link add "$hostif" type veth peer name eth0 netns "$ns"
  ip addr add 10.215.0.1/24 dev "$hostif"
  ip link set "$hostif" up
  ip -n "$ns" addr add 10.215.0.2/24 dev eth0
  ip -n "$ns" link set eth0 up
  run krun --rm --with-ns "network:/run/netns/$ns" "$IMAGE" "$CID" \
    sh -c 'ip -o addr show dev eth0; ping -c 1 -W 5 10.215.0.1 >/dev/null && echo reached'
  echo "$output"
  left=$(ip netns exec "$ns" tc qdisc show dev eth0 ingress)
  ip netns del "$ns"
  [ "$status" -eq 0 ]
  [[ "$output" == *"inet 10.215.0.2/24"* ]]
  [[ "$output" == *reached* ]]
  [ -z "$left" ]
  [ -z "$(ctr_leftovers "$CID")" ]
}
