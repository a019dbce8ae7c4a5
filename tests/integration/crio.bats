#!/usr/bin/env bats
# CRI-O is not packaged for Debian 12: this replays, through conmon and the
# CLI, what CRI-O 1.3x does with a runtime handler of runtime_type "oci"
# whose name contains "kata" (contrib/crio/10-kata-oci.conf), for a pod of
# two containers (internal/oci/runtime_oci.go, server/sandbox_run_linux.go,
# server/container_create_linux.go):
#
# - RunPodSandbox: pinns pins fresh IPC, UTS and network namespaces as
#   files under its namespaces dir (<dir>/{ipcns,utsns,netns}/<uuid>), CNI
#   fills the network one, a tmpfs is mounted for the pod's /dev/shm, the
#   pause image is mounted (overlay), then conmon runs
#   `RUNTIME --root=R create --bundle B --pid-file B/pidfile ID` for the
#   infra container (kept for "kata" handlers), whose spec has
#   ContainerType "sandbox", SandboxID its own id, and the pinned paths for
#   its ipc, uts and network namespaces; then `RUNTIME --root R start ID`.
# - CreateContainer: the image is mounted (overlay, now: long after the
#   VM's monitor started), conmon runs create the same way; the spec has
#   ContainerType "container", SandboxID the pod's, the same pinned paths,
#   and /proc/<infra pid>/ns/pid when the pod shares its PID namespace;
#   StartContainer: `start`.
# - ExecSync: conmon -e runs `RUNTIME --root=R exec --pid-file P
#   --process F --detach ID` and reports the exit code on its sync pipe.
# - StopContainer: `kill ID 15`, then `kill ID KILL` after the grace
#   period; StopPodSandbox stops every container, then the infra one, tears
#   the network down, unmounts the shm and unpins the namespaces;
#   RemovePodSandbox: `delete --force` of each container and of the infra.
# - state is polled throughout; none of these calls carry --log.

load helpers

setup() {
  setup_common
  command -v conmon >/dev/null || skip "conmon is not installed"
  # CRI-O's handler: runtime_root = the state root; conmon's environment
  # is monitor_env (contrib/crio), here with the build tree's guest
  CONMON_ENV=(env -i "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
  [ -n "${KATA_OCI_KERNEL:-}" ] && CONMON_ENV+=("KATA_OCI_KERNEL=$KATA_OCI_KERNEL")
  [ -n "${KATA_OCI_INITRD:-}" ] && CONMON_ENV+=("KATA_OCI_INITRD=$KATA_OCI_INITRD")
  mkdir -p "$WORK/exits" "$WORK/attach" "$WORK/logs" "$WORK/lower"
  busybox_lower "$WORK/lower"
  POD=$(printf '%s' "pod-$ID" | sha256sum | cut -c1-64)
  C1=$(printf '%s' "c1-$ID" | sha256sum | cut -c1-64)
  C2=$(printf '%s' "c2-$ID" | sha256sum | cut -c1-64)
  EXTRA_IDS="$C1 $C2 $POD"
  UUID=$(cat /proc/sys/kernel/random/uuid)
  NSDIR=$WORK/ns
  HOSTIF=kocr$$
  HOSTIF=${HOSTIF:0:15}
  # the pod's cgroup parent (kubelet's /kubepods/.../pod<uid>); CRI-O's
  # cgroupfs manager puts each container in <parent>/crio-<id>
  CGPARENT=kot-crio-$$
}

teardown() {
  local id
  for id in $C1 $C2 $POD; do ko delete -f "$id" >/dev/null 2>&1 || true; done
  stop_network
  unpin_namespaces
  grep -o " $WORK/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
  for id in $C1 $C2 $POD; do
    assert_nothing_left "$id"
  done
  conmon_gone
  # the pod's cgroup parent (the kubelet's to remove), once empty
  find /sys/fs/cgroup -depth -type d -name "$CGPARENT" -exec rmdir {} + 2>/dev/null || true
  teardown_common
}

# busybox_lower DIR: the image's one layer (busybox and its applets)
busybox_lower() {
  local r=$1 a
  mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/proc" "$r/sys" "$r/dev"
  cp /bin/busybox "$r/bin/busybox"
  for a in $(/bin/busybox --list); do
    [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
  done
  echo "root:x:0:0:root:/root:/bin/sh" > "$r/etc/passwd"
  # the pause image's init, as CRI-O's default pause image has /pause
  if command -v catatonit >/dev/null; then
    cp "$(command -v catatonit)" "$r/pause"
  else
    printf '#!/bin/sh\ntrap "exit 0" TERM\nwhile :; do sleep 1; done\n' > "$r/pause"
    chmod 755 "$r/pause"
  fi
}

# mount_image ID: containers/storage's overlay mount of the image for a
# container; prints the mount point
mount_image() {
  local d=$WORK/overlay/$1
  mkdir -p "$d/upper" "$d/work" "$d/merged"
  mount -t overlay overlay -o "lowerdir=$WORK/lower,upperdir=$d/upper,workdir=$d/work" "$d/merged"
  echo "$d/merged"
}

# pinns: fresh IPC, UTS and network namespaces, each held by a bind mount
pin_namespaces() {
  local t
  for t in ipcns utsns netns; do
    mkdir -p "$NSDIR/$t"
    touch "$NSDIR/$t/$UUID"
  done
  unshare --ipc="$NSDIR/ipcns/$UUID" --uts="$NSDIR/utsns/$UUID" --net="$NSDIR/netns/$UUID" true
}

unpin_namespaces() {
  local t
  for t in ipcns utsns netns; do
    umount "$NSDIR/$t/$UUID" 2>/dev/null || true
    rm -f "$NSDIR/$t/$UUID"
  done
}

# what CNI's bridge plugin does, with a veth alone: eth0 in the pod
start_network() {
  ip link add "$HOSTIF" type veth peer name eth0 netns "$NSDIR/netns/$UUID"
  ip addr add 10.218.0.1/24 dev "$HOSTIF"
  ip link set "$HOSTIF" up
  nsenter --net="$NSDIR/netns/$UUID" ip addr add 10.218.0.2/24 dev eth0
  nsenter --net="$NSDIR/netns/$UUID" ip link set eth0 up
  nsenter --net="$NSDIR/netns/$UUID" ip link set lo up
}

stop_network() {
  ip link del "$HOSTIF" 2>/dev/null || true
}

# spec_set BUNDLE JQ-FILTER [JQ-ARGS...]
spec_set() {
  local b=$1 f=$2
  shift 2
  jq "$@" "$f" "$b/config.json" > "$b/c.tmp" && mv "$b/c.tmp" "$b/config.json"
}

# The annotations CRI-O puts in every spec (pkg/annotations); TYPE is
# sandbox or container
crio_annotations() {
  local b=$1 type=$2 id=$3 name=$4 rootfs=$5
  spec_set "$b" '.annotations = {
      "io.kubernetes.cri-o.ContainerType": $type,
      "io.kubernetes.cri-o.SandboxID": $pod,
      "io.kubernetes.cri-o.SandboxName": "k8s_kot-pod_default_kot-uid_0",
      "io.kubernetes.cri-o.ContainerID": $id,
      "io.kubernetes.cri-o.ContainerName": ("k8s_" + $name + "_kot-pod_default_kot-uid_0"),
      "io.kubernetes.cri-o.Name": ("k8s_" + $name + "_kot-pod_default_kot-uid_0"),
      "io.kubernetes.cri-o.KubeName": "kot-pod",
      "io.kubernetes.cri-o.Namespace": "default",
      "io.kubernetes.cri-o.Metadata": ("{\"name\":\"" + $name + "\"}"),
      "io.kubernetes.cri-o.Labels": "{\"io.kubernetes.pod.name\":\"kot-pod\"}",
      "io.kubernetes.cri-o.Annotations": "{}",
      "io.kubernetes.cri-o.LogPath": ($logs + "/" + $id + ".log"),
      "io.kubernetes.cri-o.MountPoint": $rootfs,
      "io.kubernetes.cri-o.HostName": "kot-pod",
      "io.kubernetes.cri-o.RuntimeHandler": "kata-oci",
      "io.kubernetes.cri-o.PrivilegedRuntime": "false",
      "io.kubernetes.cri-o.HostNetwork": "false",
      "io.kubernetes.cri-o.ContainerManager": "cri-o",
      "io.kubernetes.cri-o.Created": "2026-12-01T00:00:00.000000000Z",
      "io.kubernetes.cri-o.TTY": "false",
      "io.kubernetes.cri-o.Stdin": "false",
      "io.kubernetes.cri-o.StdinOnce": "false",
      "io.kubernetes.pod.name": "kot-pod",
      "io.kubernetes.pod.namespace": "default",
      "io.kubernetes.pod.uid": "kot-uid",
      "io.kubernetes.container.name": (if $type == "sandbox" then "POD" else $name end)}' \
    --arg type "$type" --arg pod "$POD" --arg id "$id" --arg name "$name" \
    --arg rootfs "$rootfs" --arg logs "$WORK/logs"
}

# The infra container's bundle, as RunPodSandbox writes it
sandbox_bundle() {
  local b=$WORK/infra rootfs
  rootfs=$(mount_image "$POD")
  mkdir -p "$b"
  (cd "$b" && "$KATA_OCI" spec)
  crio_annotations "$b" sandbox "$POD" POD "$rootfs"
  spec_set "$b" '.root = {path: $rootfs, readonly: true}
    | .hostname = "kot-pod"
    | .process.args = ["/pause", "-P"] | .process.terminal = false
    | .process.oomScoreAdj = -998
    | .linux.resources = {cpu: {shares: 2}}
    | .linux.cgroupsPath = ("/" + $cg + "/crio-" + $id)
    | .mounts += [{destination: "/dev/shm", type: "bind", source: $shm, options: ["rw", "bind"]}]
    | .linux.namespaces = [{type: "pid"},
        {type: "network", path: ($ns + "/netns/" + $uuid)},
        {type: "ipc", path: ($ns + "/ipcns/" + $uuid)},
        {type: "uts", path: ($ns + "/utsns/" + $uuid)},
        {type: "mount"}]' \
    --arg rootfs "$rootfs" --arg shm "$WORK/shm" --arg ns "$NSDIR" --arg uuid "$UUID" \
    --arg cg "$CGPARENT" --arg id "$POD"
  echo "$b"
}

# A container's bundle, as CreateContainer writes it; PIDNS: the infra's
# pid (the pod shares its PID namespace) or empty
container_bundle() {
  local id=$1 name=$2 pidns=$3 b rootfs
  shift 3
  b=$WORK/$name
  rootfs=$(mount_image "$id")
  mkdir -p "$b"
  (cd "$b" && "$KATA_OCI" spec)
  crio_annotations "$b" container "$id" "$name" "$rootfs"
  spec_set "$b" '.root = {path: $rootfs, readonly: false}
    | .hostname = "kot-pod"
    | .process.args = $args | .process.terminal = false
    | .linux.cgroupsPath = ("/" + $cg + "/crio-" + $id)
    | .mounts += [{destination: "/dev/shm", type: "bind", source: $shm, options: ["rw", "bind"]}]
    | .linux.namespaces = [
        (if $pidns == "" then {type: "pid"} else {type: "pid", path: ("/proc/" + $pidns + "/ns/pid")} end),
        {type: "network", path: ($ns + "/netns/" + $uuid)},
        {type: "ipc", path: ($ns + "/ipcns/" + $uuid)},
        {type: "uts", path: ($ns + "/utsns/" + $uuid)},
        {type: "mount"}]' \
    --arg rootfs "$rootfs" --arg shm "$WORK/shm" --arg ns "$NSDIR" --arg uuid "$UUID" \
    --arg pidns "$pidns" --arg cg "$CGPARENT" --arg id "$id" --argjson args "$(printf '%s\n' "$@" | jq -R . | jq -s .)"
  echo "$b"
}

# conmon_create ID BUNDLE NAME: CRI-O's CreateContainer through conmon;
# prints the pid conmon reports on its sync pipe
conmon_create() {
  local id=$1 b=$2 name=$3 i pid
  "${CONMON_ENV[@]}" _OCI_SYNCPIPE=3 conmon \
    -b "$b" -c "$id" --exit-dir "$WORK/exits" -l "$WORK/logs/$id.log" \
    --log-level info -n "k8s_${name}_kot-pod_default_kot-uid_0" \
    -P "$b/conmon-pidfile" -p "$b/pidfile" --persist-dir "$b" \
    -r "$KATA_OCI" --runtime-arg "--root=$TEST_ROOT" \
    --socket-dir-path "$WORK/attach" -u "$id" \
    3>"$WORK/$id.sync" </dev/null >/dev/null 2>"$WORK/$id.conmon.err" || return 1
  for i in $(seq 600); do
    pid=$(jq -r '.pid // empty' "$WORK/$id.sync" 2>/dev/null)
    [ -n "$pid" ] && break
    sleep 0.1
  done
  if [ -z "$pid" ] || [ "$pid" -le 0 ]; then
    echo "conmon create $id failed:" >&2
    cat "$WORK/$id.sync" "$WORK/$id.conmon.err" >&2
    return 1
  fi
  echo "$pid"
}

# conmon_exec ID CMD...: CRI-O's ExecSync through conmon; the output
# from its k8s log file, conmon's exit code as ours
conmon_exec() {
  local id=$1 n=$RANDOM
  shift
  jq --argjson args "$(printf '%s\n' "$@" | jq -R . | jq -s .)" \
    '.process | .args = $args | .terminal = false' "$WORK/$(bundle_name "$id")/config.json" \
    > "$WORK/exec-$n.json"
  "${CONMON_ENV[@]}" _OCI_SYNCPIPE=3 conmon \
    -c "$id" -n exec -r "$KATA_OCI" -p "$WORK/exec-$n.pid" -e \
    -l "$WORK/exec-$n.log" --socket-dir-path "$WORK/attach" --log-level info --sync \
    --exec-process-spec "$WORK/exec-$n.json" --runtime-arg "--root=$TEST_ROOT" \
    3>"$WORK/exec-$n.sync" </dev/null >/dev/null 2>&1
  sed -E 's/^[^ ]+ (stdout|stderr) [FP] //' "$WORK/exec-$n.log"
  return "$(jq -r .exit_code "$WORK/exec-$n.sync")"
}

bundle_name() {
  case $1 in
    "$POD") echo infra ;;
    "$C1") echo web ;;
    "$C2") echo client ;;
  esac
}

# CRI-O's runtimeCmd: --root R before the verb
kor() {
  "$KATA_OCI" --root "$TEST_ROOT" "$@"
}

# StopContainer: the stop signal, then KILL after the grace period
crio_stop() {
  local id=$1 grace=$2 i
  kor kill "$id" 15 || true
  for i in $(seq $((grace * 10))); do
    [ "$(kor state "$id" | jq -r .status)" = stopped ] && return 0
    sleep 0.1
  done
  kor kill "$id" KILL || true
  wait_status "$id" stopped
}

# conmon ends once it wrote the exit file and drained the log
conmon_gone() {
  local f i
  for f in "$WORK"/*/conmon-pidfile; do
    [ -f "$f" ] || continue
    for i in $(seq 50); do
      kill -0 "$(cat "$f")" 2>/dev/null || continue 2
      sleep 0.1
    done
    echo "conmon $(cat "$f") ($f) still runs" >&2
    return 1
  done
}

# exit_file ID: what conmon wrote to --exit-dir when the container ended
exit_file() {
  local i
  for i in $(seq 100); do
    [ -s "$WORK/exits/$1" ] && { cat "$WORK/exits/$1"; return 0; }
    sleep 0.1
  done
  echo "no exit file for $1" >&2
  return 1
}

qemus_of() {
  ps -eo args | grep -c "^[^ ]*qemu-system[^ ]* -name kata-oci-$1 " || true
}

@test "CRI-O replay: a kata handler's pod of two containers through conmon: pinned namespaces, one VM, localhost, exec, stop, remove" {
  # RunPodSandbox
  pin_namespaces
  start_network
  mkdir -p "$WORK/shm"
  mount -t tmpfs -o mode=1777,size=65536k,nosuid,nodev,noexec shm "$WORK/shm"
  sb=$(sandbox_bundle)
  infra=$(conmon_create "$POD" "$sb" POD)
  [ "$(cat "$sb/pidfile")" = "$infra" ]
  kor start "$POD"
  [ "$(kor state "$POD" | jq -r .status)" = running ]
  # the reported pid stands in the pinned namespaces, as runc's infra
  # process would
  for t in net ipc uts; do
    [ "$(stat -L -c %i "/proc/$infra/ns/$t")" = "$(stat -L -c %i "$NSDIR/${t}ns/$UUID")" ]
  done
  # CreateContainer, StartContainer x2; the pod shares its PID namespace
  b1=$(container_bundle "$C1" web "$infra" \
    sh -c 'mkdir -p /www; echo crio-ok > /www/index.html; echo shm-ok > /dev/shm/f; exec httpd -f -p 8080 -h /www')
  p1=$(conmon_create "$C1" "$b1" web)
  kor start "$C1"
  b2=$(container_bundle "$C2" client "$infra" \
    sh -c 'for i in $(seq 50); do wget -qO- http://127.0.0.1:8080/ && break; sleep 0.2; done; exec sleep 1000')
  p2=$(conmon_create "$C2" "$b2" client)
  kor start "$C2"
  [ "$p1" != "$infra" ] && [ "$p2" != "$p1" ]
  for id in "$C1" "$C2"; do [ "$(kor state "$id" | jq -r .status)" = running ]; done
  # one VM, the infra's
  [ "$(qemus_of "$POD")" -eq 1 ]
  [ "$(qemus_of "$C1")" -eq 0 ]
  [ "$(qemus_of "$C2")" -eq 0 ]
  # the client reached the server on 127.0.0.1 (its conmon log)
  logged() { grep -q ' stdout F crio-ok$' "$WORK/logs/$C2.log"; }
  for i in $(seq 100); do logged && break; sleep 0.2; done
  logged
  # ExecSync through conmon: output, exit code, the pod's shm, hostname,
  # the pod's PID namespace (PID 1 is the infra's /pause)
  run conmon_exec "$C2" sh -c 'wget -qO- http://127.0.0.1:8080/; cat /dev/shm/f; hostname; cat /proc/1/cmdline; echo; exit 3'
  echo "$output"
  [ "$status" -eq 3 ]
  [ "${lines[0]}" = crio-ok ]
  [ "${lines[1]}" = shm-ok ]
  [ "${lines[2]}" = kot-pod ]
  [[ "${lines[3]}" == /pause* ]]
  # the host reaches the pod on its address
  got=$(http_get 10.218.0.2 8080 /index.html)
  [ "$got" = crio-ok ]
  # StopContainer of the client (sleep ignores TERM as PID 1 of nothing:
  # it is not PID 1 here, the pod's PID namespace is the infra's)
  crio_stop "$C2" 10
  [ "$(exit_file "$C2")" = 143 ]
  [ "$(kor state "$C1" | jq -r .status)" = running ]
  # StopPodSandbox: the containers, then the infra, the network, the shm,
  # the pinned namespaces
  crio_stop "$C1" 10
  crio_stop "$POD" 10
  [ "$(exit_file "$POD")" = 0 ]
  [ "$(qemus_of "$POD")" -eq 0 ]
  stop_network
  umount "$WORK/shm"
  unpin_namespaces
  # RemovePodSandbox: delete --force of each, then the infra
  kor delete --force "$C2"
  kor delete --force "$C1"
  kor delete --force "$POD"
  for id in "$C1" "$C2" "$POD"; do
    umount "$WORK/overlay/$id/merged"
    assert_nothing_left "$id"
  done
  conmon_gone
}

@test "contrib: the CRI-O handler, containerd's handler and the RuntimeClass name one handler with \"kata\" in it" {
  /usr/bin/python3 -c 'import tomllib, yaml' 2>/dev/null || skip "python3 3.11 with python3-yaml is needed"
  run /usr/bin/python3 - "$BATS_TEST_DIRNAME/../../contrib" <<'PY'
import sys, tomllib, yaml
d = sys.argv[1]
crio = tomllib.load(open(d + "/crio/10-kata-oci.conf", "rb"))["crio"]["runtime"]["runtimes"]
ctrd = tomllib.load(open(d + "/containerd/config.toml", "rb"))
ctrd = ctrd["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]
rc = yaml.safe_load(open(d + "/kubernetes/runtimeclass.yaml"))
h = rc["handler"]
# CRI-O keeps the infra container only for a handler named *kata*
assert "kata" in h.lower(), h
assert crio[h]["runtime_type"] == "oci" and crio[h]["runtime_path"].endswith("/kata-oci")
assert ctrd[h]["runtime_type"] == "io.containerd.runc.v2"
assert ctrd[h]["options"]["BinaryName"].endswith("/kata-oci")
assert rc["kind"] == "RuntimeClass" and rc["apiVersion"] == "node.k8s.io/v1"
o = rc["overhead"]["podFixed"]
print(h, o["memory"], o["cpu"])
PY
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "kata-oci 160Mi 250m" ]
}
