#!/bin/bash
# network.sh [RUNS=5] [MIB=64]: what a network costs and carries.
# - start: `kata-oci run` of `true`, medians over RUNS, without a network
#   namespace path and with one (a veth in a namespace made here, as CNI
#   leaves it): the difference is the taps, the redirects, the driver's
#   load in the guest and UpdateInterface/UpdateRoutes;
# - TCP throughput, host to container and container to host: MIB MiB of
#   zeros through busybox httpd and wget (both ends copy, so this is a
#   floor), timed by the receiving side's clock.
# Prints figures, never pass/fail.
. "$(dirname "$0")/lib.sh"
RUNS=${1:-5}
MIB=${2:-64}
bench_check ip tc
bench_setup
NS=kob-net-$$
HOSTIF=kob$$h
HOSTIF=${HOSTIF:0:15}
HTTPD=""
net_cleanup() {
  [ -n "$HTTPD" ] && kill "$HTTPD" 2>/dev/null
  bench_cleanup
  ip netns del "$NS" 2>/dev/null
  ip link del "$HOSTIF" 2>/dev/null
}
trap net_cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" || die "ip netns add"
ip link add "$HOSTIF" type veth peer name eth0 netns "$NS" || die "veth"
ip addr add 10.214.0.1/24 dev "$HOSTIF"
ip link set "$HOSTIF" up
ip -n "$NS" link set eth0 up
ip -n "$NS" addr add 10.214.0.2/24 dev eth0
ip -n "$NS" route add default via 10.214.0.1

make_bundle "$WORK/plain" true
make_bundle "$WORK/net" true
jq '(.linux.namespaces |= map(select(.type != "network")))
  | .linux.namespaces += [{"type": "network", "path": "/run/netns/'"$NS"'"}]' \
  "$WORK/net/config.json" > "$WORK/c.tmp" && mv "$WORK/c.tmp" "$WORK/net/config.json"

echo "kata-oci: $KATA_OCI"
echo "start: medians of $RUNS alternating runs of \`kata-oci run\` of true"
plain=() net=()
for r in $(seq "$RUNS"); do
  for kind in plain net; do
    id=net-$$-$kind-$r
    BENCH_IDS="$BENCH_IDS $id"
    t0=$(now_ns)
    ko run --bundle "$WORK/$kind" "$id" </dev/null >/dev/null 2>"$WORK/err" ||
      { cat "$WORK/err" >&2; die "run ($kind)"; }
    t1=$(now_ns)
    ko delete -f "$id" >/dev/null 2>&1
    ms=$(( (t1 - t0) / 1000000 ))
    if [ "$kind" = plain ]; then plain+=("$ms"); else net+=("$ms"); fi
  done
done
pm=$(stats "${plain[@]}" | cut -d' ' -f1)
nm=$(stats "${net[@]}" | cut -d' ' -f1)
printf '  %-28s %8.0f ms\n' "without a network" "$pm" "with a veth in a namespace" "$nm"
awk -v a="$pm" -v b="$nm" 'BEGIN { printf "  %-28s %+8.0f ms\n", "difference", b - a }'

echo
echo "TCP throughput, $MIB MiB through busybox httpd and wget"
mkdir -p "$WORK/www" "$WORK/net/rootfs/www"
dd if=/dev/zero of="$WORK/www/z" bs=1M count="$MIB" status=none
dd if=/dev/zero of="$WORK/net/rootfs/www/z" bs=1M count="$MIB" status=none
busybox httpd -f -p 10.214.0.1:8217 -h "$WORK/www" >/dev/null 2>&1 3>&- &
HTTPD=$!
jq '.process.args = ["httpd", "-f", "-p", "8218", "-h", "/www"]' \
  "$WORK/net/config.json" > "$WORK/c.tmp" && mv "$WORK/c.tmp" "$WORK/net/config.json"
id=net-$$-tput
BENCH_IDS="$BENCH_IDS $id"
ko run -d --bundle "$WORK/net" "$id" </dev/null >/dev/null 2>"$WORK/err" ||
  { cat "$WORK/err" >&2; die "run -d"; }
# host -> container: the guest's wget, timed by the guest's clock
out=$(ko exec "$id" sh -c 'read a b < /proc/uptime
  wget -q -O /dev/null http://10.214.0.1:8217/z || exit 1
  read c d < /proc/uptime; echo "$a $c"') || die "wget in the guest"
echo "$out" | awk -v m="$MIB" '{ printf "  %-28s %8.1f MiB/s\n", "host -> container", m / ($2 - $1) }'
# container -> host: bash on the host reads it, timed by the host's clock
for i in $(seq 50); do
  exec 3<>/dev/tcp/10.214.0.2/8218 2>/dev/null && break
  sleep 0.2
done
t0=$(now_ns)
printf 'GET /z HTTP/1.0\r\n\r\n' >&3
got=$(cat <&3 | wc -c)
t1=$(now_ns)
exec 3<&-
awk -v b="$got" -v ns="$((t1 - t0))" 'BEGIN { printf "  %-28s %8.1f MiB/s (%d bytes)\n", "container -> host", b / 1048576 / (ns / 1e9), b }'
ko delete -f "$id" >/dev/null 2>&1
