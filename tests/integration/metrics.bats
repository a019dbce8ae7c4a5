#!/usr/bin/env bats
# kata-oci metrics: the Prometheus text format, checked by Debian's
# promtool and scraped by a real Prometheus server on loopback; the figures
# read back through its query API are checked against /proc and the guest.
# A scrape never changes a sandbox, and a silent guest or a killed monitor
# costs it a bounded time and is said plainly.

load helpers

GUEST_METRICS=20

setup() {
  setup_common
  PIDS_TO_KILL=""
}

teardown() {
  for p in $PIDS_TO_KILL; do kill "$p" 2>/dev/null || true; done
  for p in $PIDS_TO_KILL; do wait "$p" 2>/dev/null || true; done
  teardown_common
  if [ -n "${NS:-}" ]; then
    ip netns del "$NS" 2>/dev/null || true
    ip link del "$HOSTIF" 2>/dev/null || true
  fi
}

# serve ADDR: kata-oci metrics --listen in the background, the binary
# itself (not a subshell) so that teardown's kill reaches it
serve() {
  "$KATA_OCI" --root "$TEST_ROOT" metrics --listen "$1" 2> "$WORK/listen.err" &
  PIDS_TO_KILL="$PIDS_TO_KILL $!"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_sandbox() {
  set_args "$BUNDLE" sleep 1000
  edit_spec '.annotations["io.kubernetes.cri.sandbox-name"] = "web"
    | .annotations["io.kubernetes.cri.sandbox-namespace"] = "prod"
    | .annotations["io.kubernetes.cri.sandbox-uid"] = "uid-1"'
  ko create --bundle "$BUNDLE" "$ID"
  ko start "$ID"
}

# sample FILE METRIC LABEL-MATCH: the value of the first sample matching
sample() {
  grep -E "^$2\{[^}]*$3" "$1" | head -1 | awk '{print $NF}'
}

qemu_pss_bytes() {
  local pid
  pid=$(jq -r .qemuPid "$TEST_ROOT/$ID/state.json")
  awk '/^Pss:/ {print $2 * 1024}' "/proc/$pid/smaps_rollup"
}

# within A B PERCENT: |A - B| <= PERCENT% of B
within() {
  python3 -c 'import sys; a, b, p = map(float, sys.argv[1:]); sys.exit(0 if abs(a - b) <= b * p / 100 else 1)' "$@"
}

@test "metrics: promtool accepts the output, and it agrees with /proc and the guest" {
  start_sandbox
  ko metrics > "$WORK/m.txt"
  promtool check metrics < "$WORK/m.txt" > "$WORK/lint.txt" 2>&1
  cat "$WORK/lint.txt"
  [ ! -s "$WORK/lint.txt" ]    # no lint warnings at all
  grep -q "^kata_monitor_up{sandbox_id=\"$ID\",pod_name=\"web\",pod_namespace=\"prod\",pod_uid=\"uid-1\"} 1$" "$WORK/m.txt"
  grep -q "^kata_guest_up{sandbox_id=\"$ID\",.*} 1$" "$WORK/m.txt"
  grep -q '^kata_sandboxes{state="running"} 1$' "$WORK/m.txt"
  grep -q '^kata_containers{state="running"} 1$' "$WORK/m.txt"
  # every family the man page lists is there, and nothing else
  sed -n '/^\.SH METRICS/,/^\.SH /p' "$BUILDDIR/man/kata-oci-metrics.8" |
    sed -n 's/^\.B \(kata_[a-z0-9_]*\).*/\1/p' | sort > "$WORK/doc.txt"
  sed -n 's/^# TYPE \([a-z0-9_]*\) .*/\1/p' "$WORK/m.txt" | sort > "$WORK/out.txt"
  diff "$WORK/doc.txt" "$WORK/out.txt"
  # QEMU's PSS against /proc (it moves a little between the two reads)
  within "$(sample "$WORK/m.txt" kata_hypervisor_pss_bytes "sandbox_id=\"$ID\"")" \
    "$(qemu_pss_bytes)" 10
  # the container's memory against StatsContainer (events --stats)
  usage=$(sample "$WORK/m.txt" kata_container_memory_usage_bytes "container_id=\"$ID\"")
  stats=$(ko events --stats "$ID" | jq .data.memory.usage.usage)
  within "$usage" "$stats" 25
  total=$(sample "$WORK/m.txt" kata_guest_memory_total_bytes "sandbox_id=\"$ID\"")
  [ "$usage" -gt 0 ] && [ "$usage" -lt "$total" ]
  # the guest's processes: the container's sleep is one of them
  [ "$(sample "$WORK/m.txt" kata_guest_processes "sandbox_id=\"$ID\"")" -gt 1 ]
  [ "$(sample "$WORK/m.txt" kata_container_pids "container_id=\"$ID\"")" -eq 1 ]
  # the agent's answers so far, by request type
  grep -q "^kata_agent_request_duration_seconds_count{sandbox_id=\"$ID\",.*request=\"CreateContainer\"} 1$" "$WORK/m.txt"
  # a scrape changes nothing: a second one sees one more GuestMetrics
  # and the container still runs
  ko metrics "$ID" > "$WORK/m2.txt"
  n1=$(sample "$WORK/m.txt" kata_agent_request_duration_seconds_count 'request="GuestMetrics"')
  n2=$(sample "$WORK/m2.txt" kata_agent_request_duration_seconds_count 'request="GuestMetrics"')
  [ "${n1:-0}" -eq 0 ] && [ "$n2" -eq 1 ]
  [ "$(state_status "$ID")" = running ]
  ko exec "$ID" true
}

@test "metrics: a real Prometheus scrapes kata-oci metrics --listen" {
  start_sandbox
  mport=$(free_port)
  serve "127.0.0.1:$mport"
  pport=$(free_port)
  cat > "$WORK/prometheus.yml" <<EOT
global:
  scrape_interval: 3s
  scrape_timeout: 3s
scrape_configs:
  - job_name: kata
    static_configs:
      - targets: ['127.0.0.1:$mport']
EOT
  promtool check config "$WORK/prometheus.yml"
  prometheus --config.file="$WORK/prometheus.yml" \
    --storage.tsdb.path="$WORK/tsdb" \
    --web.listen-address="127.0.0.1:$pport" --log.level=warn \
    > "$WORK/prometheus.log" 2>&1 &
  PIDS_TO_KILL="$PIDS_TO_KILL $!"
  query() {
    curl -sf "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
      jq -er '.data.result[0].value[1]'
  }
  # the latest value seen: under a loaded TCG host one scrape's guest
  # part may miss its 500 ms (kata_guest_up 0), which makes its series stale
  last() { query "last_over_time($1[1m])"; }
  wait_until query "kata_hypervisor_pss_bytes{sandbox_id=\"$ID\"}"
  wait_until query "kata_container_memory_usage_bytes{container_id=\"$ID\"}"
  # for the log only: the targets API may answer "not ready" for a while
  curl -s "http://127.0.0.1:$pport/api/v1/targets" | jq -c '.data.activeTargets[] | {health, lastError, lastScrapeDuration}' || true
  # at least one whole scrape (a loaded host may time one out)
  wait_until query 'max_over_time(up{job="kata"}[1m]) == 1' || { cat "$WORK/prometheus.log"; false; }
  pss=$(last "kata_hypervisor_pss_bytes{sandbox_id=\"$ID\",pod_name=\"web\"}")
  within "$pss" "$(qemu_pss_bytes)" 10
  usage=$(last "kata_container_memory_usage_bytes{container_id=\"$ID\",pod_namespace=\"prod\"}")
  stats=$(ko events --stats "$ID" | jq .data.memory.usage.usage)
  within "$usage" "$stats" 25
  # the scrapes were whole: nothing left out, nothing Prometheus refused
  [ "$(last 'scrape_samples_scraped{job="kata"}')" -gt 100 ]
  echo "guest parts missed: $(query 'count_over_time(kata_guest_up[1m]) - sum_over_time(kata_guest_up[1m])' || echo 0)"
  ! grep -i "error" "$WORK/prometheus.log"
  [ ! -s "$WORK/listen.err" ]
  # Prometheus's scrape interval made a few: each asked the guest once
  wait_until query "kata_agent_request_duration_seconds_count{request=\"GuestMetrics\"} > 2"
  [ "$(state_status "$ID")" = running ]
}

@test "metrics --listen: only GET /metrics; a bounded request" {
  mport=$(free_port)
  serve "127.0.0.1:$mport"
  wait_until curl -sf "http://127.0.0.1:$mport/metrics"
  curl -s -D - "http://127.0.0.1:$mport/metrics" -o "$WORK/body" | grep -qi '^content-type: text/plain; version=0.0.4'
  grep -q '^kata_sandboxes{state="running"} 0$' "$WORK/body"
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/")" = 404 ]
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/metricsx")" = 404 ]
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$mport/metrics")" = 405 ]
  big=$(head -c 9000 /dev/zero | tr '\0' a)
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $big" "http://127.0.0.1:$mport/metrics")" = 431 ]
  # a client that sends nothing is dropped after the read timeout, and
  # the server goes on serving
  t0=$(date +%s%N)
  timeout 10 bash -c 'exec 7<>"/dev/tcp/127.0.0.1/$1"; cat <&7 >/dev/null' idle "$mport"
  t=$(( ($(date +%s%N) - t0) / 1000000 )); echo "idle client dropped after $t ms"
  [ "$t" -ge 1500 ] && [ "$t" -lt 5000 ]
  curl -sf "http://127.0.0.1:$mport/metrics" >/dev/null
}

@test "metrics: an unknown id, a bad address and a port already taken fail clearly" {
  run ko metrics nosuch
  [ "$status" -eq 1 ]
  [ "$output" = "kata-oci: container nosuch does not exist" ]
  run ko metrics --listen 127.0.0.1:0 nosuch
  [ "$status" -eq 1 ]
  [ "$output" = "kata-oci: container nosuch does not exist" ]
  # a corrupt state: counted as unknown; named, an error that says where
  mkdir "$TEST_ROOT/broken"
  echo '{' > "$TEST_ROOT/broken/state.json"
  run ko metrics
  [ "$status" -eq 0 ]
  grep -q '^kata_containers{state="unknown"} 1$' <<<"$output"
  run ko metrics broken
  rm -rf "$TEST_ROOT/broken"
  [ "$status" -eq 1 ]
  [[ "$output" == "kata-oci: container broken: state.json: corrupt"* ]]
  run ko metrics --listen 127.0.0.1
  [ "$status" -eq 1 ]
  [[ "$output" == *"--listen 127.0.0.1: expected HOST:PORT"* ]]
  run ko metrics --listen 127.0.0.1:70000
  [ "$status" -eq 1 ]
  [[ "$output" == *'bad port "70000"'* ]]
  port=$(free_port)
  python3 -c 'import socket, sys, time; s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(30)' "$port" &
  PIDS_TO_KILL="$PIDS_TO_KILL $!"
  wait_until bash -c "exec 7<>/dev/tcp/127.0.0.1/$port"
  run ko metrics --listen "127.0.0.1:$port"
  [ "$status" -eq 1 ]
  [[ "$output" == *"metrics: listen on 127.0.0.1:$port: Address already in use"* ]]
}

@test "metrics: a killed monitor is reported, the others still answer" {
  start_sandbox
  pid=$(jq -r .monitorPid "$TEST_ROOT/$ID/state.json")
  kill -9 "$pid"
  wait_until bash -c "! kill -0 $pid"
  run ko metrics
  [ "$status" -eq 0 ]
  echo "$output"
  [[ "$output" == *"sandbox $ID: its monitor (pid $pid) is gone: no metrics (kata_monitor_up 0)"* ]]
  grep -q "^kata_monitor_up{sandbox_id=\"$ID\",.*} 0$" <<<"$output"
  grep -q "^kata_guest_up{sandbox_id=\"$ID\",.*} 0$" <<<"$output"
  ! grep -q "^kata_hypervisor_pss_bytes{sandbox_id=\"$ID\"" <<<"$output"
  ko delete -f "$ID"
}

@test "metrics: a silent guest gives the host side and kata_guest_up 0 within its deadline" {
  [ -f "$BUILDDIR/guest/initrd-test.img" ]
  set_args "$BUNDLE" sleep 1000
  KATA_OCI_INITRD=$BUILDDIR/guest/initrd-test.img \
    KATA_OCI_KERNEL_PARAMS="agent.test.ignore=$GUEST_METRICS" ko create --bundle "$BUNDLE" "$ID"
  ko start "$ID"
  t0=$(date +%s%N)
  ko metrics > "$WORK/m.txt"
  t=$(( ($(date +%s%N) - t0) / 1000000 )); echo "scrape: $t ms"
  [ "$t" -lt 1200 ]
  grep -q "^kata_monitor_up{sandbox_id=\"$ID\"} 1$" "$WORK/m.txt"
  grep -q "^kata_guest_up{sandbox_id=\"$ID\"} 0$" "$WORK/m.txt"
  grep -q "^kata_hypervisor_pss_bytes{sandbox_id=\"$ID\"} [1-9]" "$WORK/m.txt"
  ! grep -q "^kata_guest_memory_total_bytes" "$WORK/m.txt"
  promtool check metrics < "$WORK/m.txt"
  # the sandbox goes on: its other requests are answered
  [ "$(state_status "$ID")" = running ]
  ko exec "$ID" true
}

@test "metrics: the tap's bytes and packets, as the host side counts them" {
  make_netns kot-mx
  ip addr add "10.214.$N.1/24" dev "$HOSTIF"
  ip link set "$HOSTIF" up
  ip -n "$NS" link set eth0 up
  ip -n "$NS" addr add "10.214.$N.2/24" dev eth0
  edit_spec '(.linux.namespaces |= map(select(.type != "network")))
    | .linux.namespaces += [{"type": "network", "path": "/run/netns/'"$NS"'"}]'
  mkdir -p "$WORK/www"
  head -c 1048576 /dev/urandom > "$WORK/www/r"
  busybox httpd -f -p "10.214.$N.1:8215" -h "$WORK/www" >/dev/null 2>&1 3>&- &
  PIDS_TO_KILL="$PIDS_TO_KILL $!"
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null
  ko exec "$ID" sh -c "wget -q -O - http://10.214.$N.1:8215/r | wc -c" | grep -qx 1048576
  ko metrics "$ID" > "$WORK/m.txt"
  promtool check metrics < "$WORK/m.txt"
  tap=$(ip -n "$NS" -o link show | awk -F': ' '$2 !~ /^(lo|eth0)/ {print $2}' | cut -d@ -f1 | head -1)
  echo "tap: $tap"
  [ -n "$tap" ]
  sys() { ip netns exec "$NS" cat "/sys/class/net/$tap/statistics/$1"; }
  # what the guest received went out of the tap's host side: the 1 MiB
  tx=$(sample "$WORK/m.txt" kata_network_transmit_bytes_total "interface=\"$tap\"")
  [ "$tx" -ge 1048576 ] && [ "$tx" -le "$(sys tx_bytes)" ]
  rx=$(sample "$WORK/m.txt" kata_network_receive_packets_total "interface=\"$tap\"")
  [ "$rx" -gt 0 ] && [ "$rx" -le "$(sys rx_packets)" ]
  grep -q "^kata_network_receive_bytes_total{sandbox_id=\"$ID\",interface=\"$tap\"} [1-9]" "$WORK/m.txt"
  grep -q "^kata_network_transmit_packets_total{sandbox_id=\"$ID\",interface=\"$tap\"} [1-9]" "$WORK/m.txt"
}

@test "metrics: a pod is one sandbox; its member has its holder and its container series" {
  M1=$ID-m1
  EXTRA_IDS=$M1
  set_args "$BUNDLE" sleep 1000
  edit_spec '.annotations["io.kubernetes.cri-o.ContainerType"] = "sandbox"
    | .annotations["io.kubernetes.pod.name"] = "db"
    | .annotations["io.kubernetes.pod.namespace"] = "team"
    | .annotations["io.kubernetes.pod.uid"] = "uid-2"'
  ko create --bundle "$BUNDLE" "$ID" </dev/null
  ko start "$ID"
  pid=$(ko state "$ID" | jq -r .pid)
  b=$WORK/m1
  make_bundle "$b"
  set_args "$b" sleep 1000
  jq --arg sb "$ID" --arg p "/proc/$pid/ns" '
    .annotations["io.kubernetes.cri-o.ContainerType"] = "container"
    | .annotations["io.kubernetes.cri-o.SandboxID"] = $sb
    | .linux.namespaces = [ {type: "pid"}, {type: "mount"},
        {type: "network", path: ($p + "/net")},
        {type: "ipc", path: ($p + "/ipc")}, {type: "uts", path: ($p + "/uts")} ]' \
    "$b/config.json" > "$b/c.tmp" && mv "$b/c.tmp" "$b/config.json"
  ko create --bundle "$b" "$M1" </dev/null
  ko start "$M1"
  # the member's id names its pod's sandbox
  ko metrics "$M1" > "$WORK/m.txt"
  promtool check metrics < "$WORK/m.txt"
  L="sandbox_id=\"$ID\",pod_name=\"db\",pod_namespace=\"team\",pod_uid=\"uid-2\""
  grep -q '^kata_sandboxes{state="running"} 1$' "$WORK/m.txt"
  grep -q '^kata_containers{state="running"} 2$' "$WORK/m.txt"
  [ "$(grep -c '^kata_hypervisor_pss_bytes{' "$WORK/m.txt")" -eq 1 ]
  grep -q "^kata_holder_pss_bytes{$L,container_id=\"$M1\"} [1-9]" "$WORK/m.txt"
  grep -q "^kata_holder_pss_bytes{$L,container_id=\"$ID\"} [1-9]" "$WORK/m.txt"
  grep -q "^kata_container_memory_usage_bytes{$L,container_id=\"$M1\"} [1-9]" "$WORK/m.txt"
  grep -q "^kata_container_pids{$L,container_id=\"$M1\"} 1$" "$WORK/m.txt"
  ko delete -f "$M1"
}
