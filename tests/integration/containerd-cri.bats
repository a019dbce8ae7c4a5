#!/usr/bin/env bats
# Debian's containerd 1.6 with its built-in CRI plugin, the runc v2 shim
# and BinaryName pointing at kata-oci (the runtime handler of
# contrib/containerd/config.toml), driven through its CRI socket the way
# kubelet drives it, by the project's own client (cri_client.py, messages
# from cri.proto). A private containerd (own root, state and socket), a
# CNI bridge network from Debian's containernetworking-plugins, and images
# built here: busybox, and a pause image of catatonit.

load helpers
load images

IMAGE=localhost/kata-oci-busybox:test
PAUSE=localhost/kata-oci-pause:test
NS=k8s.io
# the runc shim's root for the CRI namespace: kata-oci's state is there
KROOT=/run/containerd/runc/$NS
BRIDGE=kotcri0
SUBNET=10.217.0

setup_file() {
  command -v containerd >/dev/null && command -v containerd-shim-runc-v2 >/dev/null ||
    skip "containerd and its runc v2 shim are not installed"
  [ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] ||
    skip "the CNI plugins (containernetworking-plugins) are not installed"
  /usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null && command -v protoc >/dev/null ||
    skip "python3-grpcio, python3-protobuf and protobuf-compiler are not installed"
  command -v catatonit >/dev/null || skip "catatonit (the pause image's init) is not installed"
  ip link show "$BRIDGE" >/dev/null 2>&1 && skip "bridge $BRIDGE exists: another run is using it"
  CWORK=$(mktemp -d /tmp/kot-cri.XXXXXX)
  export CWORK
  mkdir -p "$CWORK/net.d" "$CWORK/cni" "$CWORK/logs"
  # a bridge network; host-local keeps its leases in the test's dir
  cat > "$CWORK/net.d/10-kot-cri.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "kot-cri", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "dataDir": "$CWORK/cni",
            "ranges": [[{"subnet": "$SUBNET.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
  # contrib/containerd/config.toml, kata-oci as the default handler too
  # (this config has no runc), with this containerd's own directories
  {
    echo "root = \"$CWORK/root\""
    echo "state = \"$CWORK/state\""
    sed -n '/^version = /,$p' "$BATS_TEST_DIRNAME/../../contrib/containerd/config.toml" |
      sed -e "s|\"/usr/local/bin/kata-oci\"|\"$KATA_OCI\"|" \
        -e 's|^  #default_runtime_name = "kata-oci"|  default_runtime_name = "kata-oci"|'
    echo '[plugins."io.containerd.grpc.v1.cri"]'
    echo "  sandbox_image = \"$PAUSE\""
    echo '  stream_server_address = "127.0.0.1"'
    echo '  [plugins."io.containerd.grpc.v1.cri".cni]'
    echo '    bin_dir = "/usr/lib/cni"'
    echo "    conf_dir = \"$CWORK/net.d\""
    echo '[grpc]'
    echo "  address = \"$CWORK/containerd.sock\""
    echo '[ttrpc]'
    echo "  address = \"$CWORK/containerd.sock.ttrpc\""
  } > "$CWORK/config.toml"
  grep -q "BinaryName = \"$KATA_OCI\"" "$CWORK/config.toml"
  # the shim runs kata-oci with containerd's environment: the build
  # tree's guest kernel and initrd (helpers.bash) reach it that way
  containerd --config "$CWORK/config.toml" --log-level warn > "$CWORK/containerd.log" 2>&1 &
  echo $! > "$CWORK/containerd.pid"
  local i r
  for i in $(seq 100); do
    cri version >/dev/null 2>&1 && break
    sleep 0.1
  done
  cri version >/dev/null || { cat "$CWORK/containerd.log" >&3; return 1; }
  r=$CWORK/busybox
  busybox_rootfs "$r"
  oci_archive "$CWORK/busybox.tar" "$IMAGE" "$r" '{"Env": '"$IMAGE_ENV"', "Cmd": ["/bin/sh"]}'
  r=$CWORK/pause
  mkdir -p "$r"
  cp "$(command -v catatonit)" "$r/pause"
  oci_archive "$CWORK/pause.tar" "$PAUSE" "$r" '{"Entrypoint": ["/pause", "-P"]}'
  kc image import "$CWORK/busybox.tar" >/dev/null
  kc image import "$CWORK/pause.tar" >/dev/null
}

teardown_file() {
  [ -n "${CWORK:-}" ] || return 0
  if [ -f "$CWORK/containerd.pid" ]; then
    kill "$(cat "$CWORK/containerd.pid")" 2>/dev/null || true
    for t in $(seq 50); do kill -0 "$(cat "$CWORK/containerd.pid")" 2>/dev/null || break; sleep 0.1; done
  fi
  grep -o " $CWORK[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
  ip link del "$BRIDGE" 2>/dev/null || true
  rm -rf "$CWORK"
  # the CRI's cgroup parent (/k8s.io), once empty; the shim's root
  find /sys/fs/cgroup -depth -type d -path "*/$NS" -exec rmdir {} + 2>/dev/null || true
  rmdir "$KROOT" 2>/dev/null || true
}

setup() {
  WORK=$(mktemp -d "$CWORK/t.XXXXXX")
  : > "$WORK/pods"
  : > "$WORK/ids"
}

teardown() {
  local p id i left
  while read -r p; do
    cri stopp "$p" >/dev/null 2>&1 || true
    cri rmp "$p" >/dev/null 2>&1 || true
  done < "$WORK/pods"
  while read -r id; do
    for i in $(seq 50); do
      left=$(cri_leftovers "$id")
      [ -z "$left" ] && break
      sleep 0.2
    done
    if [ -n "$left" ]; then
      echo "left behind by $id:" >&2; echo "$left" >&2
      return 1
    fi
  done < "$WORK/ids"
}

# cri ARGS: the project's CRI client on this containerd's socket
cri() {
  "$BATS_TEST_DIRNAME/cri_client.py" --socket "$CWORK/containerd.sock" "$@"
}

# kc ARGS: ctr on the CRI's namespace
kc() {
  ctr --address "$CWORK/containerd.sock" --namespace "$NS" "$@"
}

# Processes (shim, monitor, qemu, virtiofsd), kata-oci state, mounts or a
# network namespace of a sandbox or container.
cri_leftovers() {
  local id=$1
  ps -eo pid,args | grep -F -- "$id" | grep -v grep || true
  [ -e "$KROOT/$id" ] && echo "state dir $KROOT/$id"
  grep -F "$id" /proc/mounts || true
}

# pod_config FILE NAME PID-MODE: a PodSandboxConfig; PID-MODE POD shares
# the pod's PID namespace (kubelet's shareProcessNamespace)
pod_config() {
  jq -n --arg name "$2" --arg uid "$2-$$" --arg logs "$CWORK/logs" --arg pid "$3" '{
    metadata: {name: $name, uid: $uid, namespace: "default"},
    hostname: $name, log_directory: $logs,
    linux: {security_context: {namespace_options: {pid: $pid}}}}' > "$1"
}

# ctr_config FILE NAME PID-MODE ARG...: a ContainerConfig of the busybox image
ctr_config() {
  local f=$1 name=$2 pid=$3
  shift 3
  jq -n --arg name "$name" --arg image "$IMAGE" --arg pid "$pid" \
    --argjson cmd "$(printf '%s\n' "$@" | jq -R . | jq -s .)" '{
    metadata: {name: $name}, image: {image: $image}, command: $cmd,
    log_path: ($name + ".log"),
    linux: {security_context: {namespace_options: {pid: $pid}}}}' > "$f"
}

# run_pod CONFIG: RunPodSandbox with the kata-oci handler; its id
run_pod() {
  local id
  id=$(cri runp "$1" --handler kata-oci) || return 1
  echo "$id" >> "$WORK/pods"
  echo "$id" >> "$WORK/ids"
  echo "$id"
}

# create_ctr POD-ID CONFIG POD-CONFIG: CreateContainer; its id
create_ctr() {
  local id
  id=$(cri create "$1" "$2" "$3") || return 1
  echo "$id" >> "$WORK/ids"
  echo "$id"
}

ctr_state() {
  cri inspect "$1" | jq -r '.status.state'
}

# QEMU processes of a sandbox or container (its VM is named after its id)
qemus_of() {
  ps -eo args | grep -c "^[^ ]*qemu-system[^ ]* -name kata-oci-$1 " || true
}

@test "containerd CRI: a pod of two containers in one VM: localhost, ExecSync, ContainerStatus, the pod's IP, stop, remove" {
  pod_config "$WORK/pod.json" kot-cri-pod CONTAINER
  pod=$(run_pod "$WORK/pod.json")
  [ "$(cri inspectp "$pod" | jq -r .status.state)" = SANDBOX_READY ]
  ip=$(cri inspectp "$pod" | jq -r .status.network.ip)
  echo "pod address $ip"
  [[ "$ip" == "$SUBNET".* ]]
  ctr_config "$WORK/web.json" web CONTAINER \
    sh -c 'mkdir -p /www; echo cri-ok > /www/index.html; exec httpd -f -p 8080 -h /www'
  ctr_config "$WORK/client.json" client CONTAINER \
    sh -c 'for i in $(seq 50); do wget -qO- http://127.0.0.1:8080/ && break; sleep 0.2; done; exec sleep 1000'
  web=$(create_ctr "$pod" "$WORK/web.json" "$WORK/pod.json")
  [ "$(ctr_state "$web")" = CONTAINER_CREATED ]
  cri start "$web"
  client=$(create_ctr "$pod" "$WORK/client.json" "$WORK/pod.json")
  cri start "$client"
  [ "$(ctr_state "$web")" = CONTAINER_RUNNING ]
  [ "$(ctr_state "$client")" = CONTAINER_RUNNING ]
  # the client reached the server on 127.0.0.1: its log says so
  logged() { grep -q 'stdout F cri-ok' "$CWORK/logs/client.log"; }
  wait_until logged
  # one VM for the pod: the sandbox's; none for its containers
  [ "$(qemus_of "$pod")" -eq 1 ]
  [ "$(qemus_of "$web")" -eq 0 ]
  [ "$(qemus_of "$client")" -eq 0 ]
  # ExecSync runs in the container named: its output, stderr, exit code
  run cri exec "$client" wget -qO- http://127.0.0.1:8080/
  [ "$status" -eq 0 ]
  [ "$output" = cri-ok ]
  run cri exec "$web" sh -c 'cat /www/index.html; echo to-err >&2; exit 3'
  echo "$output"
  [ "$status" -eq 3 ]
  [ "${lines[0]}" = cri-ok ]
  [ "${lines[1]}" = to-err ]
  run cri exec "$client" test -e /www
  [ "$status" -eq 1 ]
  # the host reaches the pod's address, served by a container of the pod
  for i in $(seq 50); do
    got=$(http_get "$ip" 8080 /index.html 2>/dev/null) && [ -n "$got" ] && break
    sleep 0.2
  done
  [ "$got" = cri-ok ]
  # the pids kata-oci reported are in the pod's network namespace, so
  # that containerd's /proc/<pid>/ns/net paths lead to it
  netns=$(cri inspectp "$pod" | jq -r '.info.info | fromjson | .runtimeSpec.linux.namespaces[] | select(.type == "network") | .path')
  for id in "$pod" "$web" "$client"; do
    pid=$("$KATA_OCI" --root "$KROOT" state "$id" | jq -r .pid)
    [ "$(stat -L -c %i "/proc/$pid/ns/net")" = "$(stat -L -c %i "$netns")" ]
  done
  # StopPodSandbox: every container exits, with a status; the VM goes
  cri stopp "$pod"
  [ "$(ctr_state "$web")" = CONTAINER_EXITED ]
  [ "$(ctr_state "$client")" = CONTAINER_EXITED ]
  [ "$(cri inspect "$client" | jq -r .status.exit_code)" -ne 0 ]
  [ "$(qemus_of "$pod")" -eq 0 ]
  cri rmp "$pod"
  run cri inspectp "$pod"
  [ "$status" -ne 0 ]
  [[ "$output" == *NOT_FOUND* ]]
  [ ! -e "$netns" ]
}

@test "containerd CRI: a shared PID namespace; StopContainer and RemoveContainer of one, the pod goes on" {
  pod_config "$WORK/pod.json" kot-cri-pidpod POD
  pod=$(run_pod "$WORK/pod.json")
  ctr_config "$WORK/a.json" a POD sh -c 'trap "echo got-term; exit 7" TERM; while true; do sleep 0.1; done'
  ctr_config "$WORK/b.json" b POD sleep 1000
  a=$(create_ctr "$pod" "$WORK/a.json" "$WORK/pod.json")
  b=$(create_ctr "$pod" "$WORK/b.json" "$WORK/pod.json")
  cri start "$a"
  cri start "$b"
  # PID 1 of the pod is the pause container's init, and each container
  # sees the other's processes
  run cri exec "$b" cat /proc/1/cmdline
  [[ "$output" == /pause* ]]
  run cri exec "$b" ps -o args
  echo "$output"
  [[ "$output" == *"while true"* ]]
  [[ "$output" == *"sleep 1000"* ]]
  # one container stops with its grace period and goes; the pod goes on
  cri stop --grace 10 "$a"
  [ "$(ctr_state "$a")" = CONTAINER_EXITED ]
  [ "$(cri inspect "$a" | jq -r .status.exit_code)" = 7 ]
  grep -q 'stdout F got-term' "$CWORK/logs/a.log"
  cri rm "$a"
  gone() { [ -z "$(cri_leftovers "$a")" ]; }
  wait_until gone
  [ "$(ctr_state "$b")" = CONTAINER_RUNNING ]
  run cri exec "$b" echo still-here
  [ "$output" = still-here ]
  [ "$(qemus_of "$pod")" -eq 1 ]
  cri stopp "$pod"
  cri rmp "$pod"
}

@test "containerd CRI: what critest checks of a container: user, read-only root, no_new_privs, DNS, sysctls, UpdateContainerResources, ExecSync timeout" {
  pod_config "$WORK/pod.json" kot-cri-sec CONTAINER
  jq '.dns_config = {servers: ["10.217.0.53"], searches: ["kot.example"], options: ["ndots:2"]}
    | .linux.sysctls = {"kernel.shm_rmid_forced": "1", "net.ipv4.ip_unprivileged_port_start": "80"}' \
    "$WORK/pod.json" > "$WORK/p.tmp" && mv "$WORK/p.tmp" "$WORK/pod.json"
  pod=$(run_pod "$WORK/pod.json")
  ctr_config "$WORK/c.json" sec CONTAINER sleep 1000
  jq '.linux.security_context += {run_as_user: {value: 1000}, run_as_group: {value: 2000},
        supplemental_groups: [3000], readonly_rootfs: true, no_new_privs: true,
        capabilities: {drop_capabilities: ["ALL"], add_capabilities: ["NET_BIND_SERVICE"]}}
    | .linux.resources = {memory_limit_in_bytes: 67108864}' \
    "$WORK/c.json" > "$WORK/c.tmp" && mv "$WORK/c.tmp" "$WORK/c.json"
  c=$(create_ctr "$pod" "$WORK/c.json" "$WORK/pod.json")
  cri start "$c"
  run cri exec "$c" sh -c 'id -u; id -g; id -G; touch /x 2>/dev/null || echo read-only;
    cat /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/ip_unprivileged_port_start;
    grep -E "^(nameserver|search|options)" /etc/resolv.conf;
    grep -E "^(NoNewPrivs|CapBnd|CapEff)" /proc/self/status'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1000 ]
  [ "${lines[1]}" = 2000 ]
  [[ " ${lines[2]} " == *" 3000 "* ]]
  [ "${lines[3]}" = read-only ]
  [ "${lines[4]}" = 1 ]
  [ "${lines[5]}" = 80 ]
  [[ "$output" == *"nameserver 10.217.0.53"* ]]
  [[ "$output" == *"search kot.example"* ]]
  [[ "$output" == *"options ndots:2"* ]]
  [[ "$output" =~ NoNewPrivs:[[:space:]]+1 ]]
  # NET_BIND_SERVICE alone (bit 10) bounds it; a uid other than 0 without
  # ambient capabilities has none in effect after its execve, as in runc
  [[ "$output" =~ CapBnd:[[:space:]]+0000000000000400 ]]
  [[ "$output" =~ CapEff:[[:space:]]+0000000000000000 ]]
  mem='cat /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/memory.max'
  run cri exec "$c" sh -c "$mem"
  [ "$output" = 67108864 ]
  # UpdateContainerResources reaches the guest's cgroup
  echo '{"memory_limit_in_bytes": 134217728, "cpu_period": 100000, "cpu_quota": 50000}' > "$WORK/r.json"
  cri update "$c" "$WORK/r.json"
  run cri exec "$c" sh -c "$mem"
  [ "$output" = 134217728 ]
  run cri exec "$c" sh -c 'cat /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/cpu.max'
  [ "$output" = "50000 100000" ]
  # ExecSync with a timeout returns once it passes, and nothing of it stays
  start=$(date +%s)
  run cri exec --cmd-timeout 2 "$c" sleep 60
  echo "$output"
  [ "$status" -ne 0 ]
  [ $(( $(date +%s) - start )) -lt 30 ]
  gone() { ! cri exec "$c" ps -o args | grep -q "^sleep 60"; }
  wait_until gone
  cri stopp "$pod"
  cri rmp "$pod"
}
