#!/usr/bin/env bats
# The network of a namespace an engine made (here by hand: a veth pair, one
# end in a named network namespace, as CNI's bridge plugin leaves it) goes
# into the VM: a tap with tc redirects in that namespace, a virtio-net NIC
# with the interface's MAC, and the guest takes its name, MTU, addresses
# and routes. Real traffic both ways; nothing left in the namespace after.

load helpers

setup() {
  setup_common
  make_netns kot-net
  ip addr add "10.213.$N.1/24" dev "$HOSTIF"
  ip addr add "fd00:213:$N::1/64" dev "$HOSTIF" nodad
  ip link set "$HOSTIF" up
  ip -n "$NS" link set eth0 mtu 1400 up
  ip -n "$NS" addr add "10.213.$N.2/24" dev eth0
  ip -n "$NS" addr add "fd00:213:$N::2/64" dev eth0 nodad
  ip -n "$NS" route add default via "10.213.$N.1"
  MAC=$(ip netns exec "$NS" cat /sys/class/net/eth0/address)
  edit_spec '(.linux.namespaces |= map(select(.type != "network")))
    | .linux.namespaces += [{"type": "network", "path": "/run/netns/'"$NS"'"}]'
}

teardown() {
  [ -n "${HTTPD_PID:-}" ] && kill "$HTTPD_PID" 2>/dev/null
  teardown_common
  # the redirect on the namespace's interface and the tap are gone
  local left
  left=$(ip netns exec "$NS" tc qdisc show 2>&1 | grep ingress; ip -n "$NS" -o link show | grep -v -E ' lo:| eth[0-9]+@' || true)
  ip netns del "$NS" 2>/dev/null || true
  ip netns del "$NS-host" 2>/dev/null || true
  ip link del "$HOSTIF" 2>/dev/null || true
  if [ -n "$left" ]; then
    echo "left in the namespace: $left" >&2
    return 1
  fi
}

@test "network: the guest has the namespace's interface, MTU, addresses and routes" {
  set_args "$BUNDLE" sh -c 'cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu; ip -o addr show dev eth0; ip route; ip -6 route; ip -o link show lo'
  run ko --debug run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"$MAC"* ]]
  [ "$(echo "$output" | grep -x 1400)" = 1400 ]
  [[ "$output" == *"inet 10.213.$N.2/24"* ]]
  [[ "$output" == *"inet6 fd00:213:$N::2/64"* ]]
  [[ "$output" == *"default via 10.213.$N.1 dev eth0"* ]]
  [[ "$output" == *"10.213.$N.0/24 dev eth0"* ]]
  [[ "$output" == *"lo: <LOOPBACK,UP"* ]]
  # QEMU got the tap, and the kernel command line the flag
  [[ "$output" == *"-netdev tap,id=net0,fd=7 -device virtio-net-pci,netdev=net0,mac=$MAC,romfile="* ]]
  [[ "$output" == *"agent.net=1"* ]]
}

@test "network: TCP both ways over IPv4 and IPv6, then nothing left in the namespace" {
  mkdir -p "$WORK/www"
  echo from-host > "$WORK/www/f"
  head -c 4194304 /dev/urandom > "$WORK/www/r"
  busybox httpd -f -p "[::]:8213" -h "$WORK/www" >/dev/null 2>&1 3>&- &
  HTTPD_PID=$!
  mkdir -p "$BUNDLE/rootfs/www"
  echo from-container > "$BUNDLE/rootfs/www/g"
  set_args "$BUNDLE" httpd -f -p 8214 -h /www
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  # container -> host
  [ "$(ko exec "$ID" wget -q -O - "http://10.213.$N.1:8213/f")" = from-host ]
  [ "$(ko exec "$ID" wget -q -O - "http://[fd00:213:$N::1]:8213/f")" = from-host ]
  # 4 MiB intact through the offloads (vnet headers, checksums, TSO)
  [ "$(ko exec "$ID" sh -c "wget -q -O - http://10.213.$N.1:8213/r | sha256sum" | cut -d' ' -f1)" = "$(sha256sum < "$WORK/www/r" | cut -d' ' -f1)" ]
  # host -> container, from the host's side of the veth pair
  for i in $(seq 50); do
    got=$(http_get "10.213.$N.2" 8214 /g 2>/dev/null) && [ -n "$got" ] && break
    sleep 0.2
  done
  [ "$got" = from-container ]
  [ "$(http_get "fd00:213:$N::2" 8214 /g)" = from-container ]
  # while it runs: a tap and the redirects in the namespace
  ip -n "$NS" -o link show tap0_kata
  ip netns exec "$NS" tc filter show dev eth0 ingress | grep -q 'mirred (Egress Redirect to device tap0_kata)'
  ip netns exec "$NS" tc filter show dev tap0_kata ingress | grep -q 'mirred (Egress Redirect to device eth0)'
  ko delete -f "$ID"
  assert_nothing_left "$ID"
  # teardown checks that the tap and the redirect are gone
}

@test "network: net.* sysctls apply to the guest's namespace, which carries the interface" {
  edit_spec '.linux.sysctl = {"net.ipv4.ping_group_range": "0 0", "net.ipv4.ip_forward": "1"}'
  set_args "$BUNDLE" sh -c 'cat /proc/sys/net/ipv4/ping_group_range /proc/sys/net/ipv4/ip_forward; ip -o addr show dev eth0'
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | sed -n 1p | tr -s '\t ' ' ')" = "0 0" ]
  [ "$(echo "$output" | sed -n 2p)" = 1 ]
  [[ "$output" == *"inet 10.213.$N.2/24"* ]]
}

@test "network: a missing namespace path fails clearly and leaves nothing" {
  edit_spec '(.linux.namespaces |= map(select(.type != "network")))
    | .linux.namespaces += [{"type": "network", "path": "/run/netns/kot-no-such-ns"}]'
  run ko create --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"network namespace /run/netns/kot-no-such-ns: No such file or directory"* ]]
  assert_nothing_left "$ID"
}

@test "network: the host's own network namespace is refused, untouched" {
  # the host's namespace under a name, as a careless engine might pass it
  ip netns attach "$NS-host" $$
  edit_spec '(.linux.namespaces |= map(select(.type != "network")))
    | .linux.namespaces += [{"type": "network", "path": "/run/netns/'"$NS"'-host"}]'
  before=$(tc qdisc show | grep -c ingress || true)
  run ko create --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  ip netns del "$NS-host"
  [ "$status" -eq 1 ]
  [[ "$output" == *"network namespace /run/netns/$NS-host is the host's own: its interfaces are not handed to a VM"* ]]
  [ "$(tc qdisc show | grep -c ingress || true)" = "$before" ]
  ! ip -o link show | grep -q tap0_kata
  assert_nothing_left "$ID"
}

@test "network: a pod's namespace goes into its one VM, with the sandbox; every member sees it" {
  # CRI runs a pod's containers in one network namespace: the pod is one
  # VM, which takes the namespace's interfaces with the sandbox container
  set_args "$BUNDLE" sleep 1000
  edit_spec '.annotations["io.kubernetes.cri.container-type"] = "sandbox"'
  EXTRA_IDS="$ID-m"
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  ko exec "$ID" ip -o addr show dev eth0 | grep -q "inet 10.213.$N.2/24"
  ip -n "$NS" -o link show tap0_kata
  # the holder (the pid CRI builds members' paths from) is in the pod's
  # network namespace
  pid=$(ko state "$ID" | jq -r .pid)
  [ "$(readlink /proc/$pid/ns/net)" = "$(ip netns exec "$NS" readlink /proc/self/ns/net)" ]
  mkdir -p "$WORK/m"
  jq --arg sb "$ID" --arg p "/proc/$pid/ns/net" --arg r "$BUNDLE/rootfs" '
    .annotations["io.kubernetes.cri.container-type"] = "container"
    | .annotations["io.kubernetes.cri.sandbox-id"] = $sb
    | .root.path = $r
    | .linux.namespaces = [.linux.namespaces[] | select(.type != "network")]
        + [{type: "network", path: $p}]' "$BUNDLE/config.json" > "$WORK/m/config.json"
  ko run -d --bundle "$WORK/m" "$ID-m" </dev/null >/dev/null 2>&1
  ko exec "$ID-m" ip -o addr show dev eth0 | grep -q "inet 10.213.$N.2/24"
  ko exec "$ID-m" ip route | grep -q "default via 10.213.$N.1"
  [ "$(ps -eo args | grep -c "[q]emu-system.*-name kata-oci-$ID-m")" -eq 0 ]
  ko delete -f "$ID-m"
  assert_nothing_left "$ID-m"
  ko delete -f "$ID"
  assert_nothing_left "$ID"
}

@test "network: an ingress qdisc already on the interface (a killed monitor's) is replaced, then removed" {
  ip netns exec "$NS" tc qdisc add dev eth0 ingress
  # (this host has no gact: a redirect to lo drops them as well)
  ip netns exec "$NS" tc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev lo
  set_args "$BUNDLE" sh -c 'ip -o addr show dev eth0; nc -w 5 10.213.'"$N"'.1 1 </dev/null 2>&1; true'
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"inet 10.213.$N.2/24"* ]]
  # the frames reached the host, which refused the port: not dropped
  [[ "$output" == *"Connection refused"* ]]
  # teardown checks that no ingress qdisc is left on eth0
}

@test "network: two interfaces whose names the guest probed the other way round" {
  # eth1 first: its NIC comes first on the guest's PCI bus and is probed
  # as eth0, the name the other interface needs
  ip -n "$NS" link del eth0
  ip link add "${HOSTIF:0:13}a" type veth peer name eth1 netns "$NS"
  ip link add "${HOSTIF:0:13}b" type veth peer name eth0 netns "$NS"
  ip -n "$NS" addr add "10.216.$N.2/24" dev eth1
  ip -n "$NS" addr add "10.217.$N.2/24" dev eth0
  ip -n "$NS" link set eth1 up
  ip -n "$NS" link set eth0 up
  mac0=$(ip netns exec "$NS" cat /sys/class/net/eth0/address)
  mac1=$(ip netns exec "$NS" cat /sys/class/net/eth1/address)
  set_args "$BUNDLE" sh -c 'for i in eth0 eth1; do echo "$i $(cat /sys/class/net/$i/address) $(ip -o -4 addr show dev $i | awk "{print \$4}")"; done'
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  ip link del "${HOSTIF:0:13}a" 2>/dev/null || true
  ip link del "${HOSTIF:0:13}b" 2>/dev/null || true
  [ "$status" -eq 0 ]
  [[ "$output" == *"eth0 $mac0 10.217.$N.2/24"* ]]
  [[ "$output" == *"eth1 $mac1 10.216.$N.2/24"* ]]
}

@test "network: delete -f after the monitor was killed removes its redirects" {
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  ip netns exec "$NS" tc qdisc show dev eth0 | grep -q ingress
  [ "$(jq -r .netns "$TEST_ROOT/$ID/state.json")" = "/run/netns/$NS" ]
  kill -9 "$(jq -r .monitorPid "$TEST_ROOT/$ID/state.json")"
  wait_status "$ID" stopped
  ko delete -f "$ID"
  ! ip netns exec "$NS" tc qdisc show dev eth0 | grep ingress
  assert_nothing_left "$ID"
}
