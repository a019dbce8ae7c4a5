#!/usr/bin/env bats
# exec: another process in a running (or created) container, relayed by the CLI or a
# detached relay; signals to the relay reach the process.

load helpers

setup() {
  setup_common
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
}
teardown() { teardown_common; }

@test "exec: exit status, stdout and stderr apart, stdin from a pipe" {
  run ko exec "$ID" sh -c 'exit 5'
  [ "$status" -eq 5 ]
  ko exec "$ID" sh -c 'echo to-out; echo to-err >&2' >"$WORK/out" 2>"$WORK/err"
  [ "$(cat "$WORK/out")" = to-out ]
  [ "$(cat "$WORK/err")" = to-err ]
  got=$(head -c 1048576 /dev/urandom | tee "$WORK/in" | ko exec "$ID" sha256sum | cut -d' ' -f1)
  [ "$got" = "$(sha256sum < "$WORK/in" | cut -d' ' -f1)" ]
}

@test "exec: env, cwd, user and additional gids from the command line" {
  run ko exec -e FOO=bar --cwd /tmp -u 1000:1001 -g 2000 "$ID" sh -c 'echo $FOO; pwd; id -u; id -g; id -G'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = bar ]
  [ "${lines[1]}" = /tmp ]
  [ "${lines[2]}" = 1000 ]
  [ "${lines[3]}" = 1001 ]
  [[ "${lines[4]}" == *2000* ]]
}

@test "exec --process FILE" {
  cat > "$WORK/p.json" <<'JSON'
{"args": ["sh", "-c", "echo from-process-file; exit 3"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}}
JSON
  run ko exec --process "$WORK/p.json" "$ID"
  [ "$status" -eq 3 ]
  [ "$output" = from-process-file ]
  echo '{"args": "sh"}' > "$WORK/bad.json"
  run ko exec --process "$WORK/bad.json" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"bad.json: args: expected an array of strings"* ]]
}

@test "exec: missing and non-executable binaries say so (podman maps them to 127 and 126)" {
  run ko exec "$ID" nosuch
  [ "$status" -eq 1 ]
  [[ "$output" == *'executable file not found in $PATH'* ]]
  run ko exec "$ID" /etc/passwd
  [ "$status" -eq 1 ]
  [[ "$output" == *"permission denied"* ]]
}

@test "exec -d: the relay's pid lives exactly as long as the process" {
  ko exec -d --pid-file "$WORK/epid" "$ID" sleep 2
  pid=$(cat "$WORK/epid")
  kill -0 "$pid"
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  ! kill -0 "$pid" 2>/dev/null
}

@test "exec --pid-file and --pidfd-socket name the relay, with -d and without, as runc's name the process" {
  pidfd_listen "$WORK/pfd"
  ko exec -d --pid-file "$WORK/epid" --pidfd-socket "$WORK/pfd" "$ID" sleep 2
  wait_until test -e "$WORK/pfd.out"
  [ "$(cat "$WORK/pfd.out")" = "setns $(cat "$WORK/epid")" ]
  # without -d: this CLI relays, once the process has started
  pidfd_listen "$WORK/pfd"
  "$KATA_OCI" --root "$TEST_ROOT" exec --pid-file "$WORK/fpid" --pidfd-socket "$WORK/pfd" "$ID" sleep 1 &
  cli=$!
  wait "$cli"
  [ "$(cat "$WORK/fpid")" = "$cli" ]
  wait_until test -e "$WORK/pfd.out"
  [ "$(cat "$WORK/pfd.out")" = "setns $cli" ]
  # nobody listening: exec fails and says where
  rm -f "$WORK/pfd"
  run ko exec --pidfd-socket "$WORK/pfd" "$ID" true
  [ "$status" -eq 1 ]
  [[ "$output" == *"--pidfd-socket: connect to $WORK/pfd: No such file or directory"* ]]
  # a path no unix socket address holds
  long=/tmp/$(printf 'p%.0s' $(seq 120))
  run ko exec -d --pidfd-socket "$long" "$ID" true
  [ "$status" -eq 1 ]
  [[ "$output" == *"--pidfd-socket: path too long (125 bytes, at most 107): $long"* ]]
}

@test "exec --cgroup: a group below the container's, as runc's; outside it, missing or an unknown controller fails" {
  EXTRA_IDS="$ID-2"
  # a cgroup namespace and a writable cgroupfs, so the container makes groups
  edit_spec '.linux.namespaces += [{"type": "cgroup"}]
    | .mounts |= map(if .destination == "/sys/fs/cgroup" then .options -= ["ro"] else . end)'
  ko run -d --bundle "$BUNDLE" "$ID-2" </dev/null >/dev/null 2>&1
  ko exec "$ID-2" mkdir -p /sys/fs/cgroup/sub/deeper
  run ko exec --cgroup sub "$ID-2" cat /proc/self/cgroup
  [ "$status" -eq 0 ]
  [ "$output" = "0::/sub" ]
  run ko exec --cgroup cpu,memory:/sub/./deeper "$ID-2" cat /proc/self/cgroup
  [ "$output" = "0::/sub/deeper" ]
  # the container's own, implicitly or with /
  run ko exec "$ID-2" cat /proc/self/cgroup
  [ "$output" = "0::/" ]
  run ko exec --cgroup=/ "$ID-2" cat /proc/self/cgroup
  [ "$output" = "0::/" ]
  run ko exec --cgroup .. "$ID-2" true
  [ "$status" -eq 1 ]
  [[ "$output" == *"exec: --cgroup ..: outside the container's cgroup"* ]]
  run ko exec --cgroup notexistspath "$ID-2" true
  [ "$status" -eq 1 ]
  [[ "$output" == *"exec --cgroup notexistspath: "[Nn]"o such file or directory"* ]]
  run ko exec --cgroup cpu:notexistspath "$ID-2" true
  [ "$status" -eq 1 ]
  run ko exec --cgroup waaaaat:/ "$ID-2" true
  [ "$status" -eq 1 ]
  [[ "$output" == *'unknown controller "waaaaat"'* ]]
  # the container goes on
  ko exec "$ID-2" true
}

@test "exec -d: SIGKILL to the relay's pid ends the process, as it would runc's (containerd's ExecSync timeout)" {
  ko exec -d --pid-file "$WORK/epid" "$ID" sleep 600 >"$WORK/out" 2>&1
  run ko exec "$ID" ps -o args
  [[ "$output" == *"sleep 600"* ]]
  kill -KILL "$(cat "$WORK/epid")"
  gone() { ! ko exec "$ID" ps -o args | grep -q "^sleep 600"; }
  wait_until gone
  # a foreground exec's process outlives a killed caller, as with runc
  "$KATA_OCI" --root "$TEST_ROOT" exec "$ID" sleep 601 >/dev/null 2>&1 &
  rpid=$!
  there() { ko exec "$ID" ps -o args | grep -q "^sleep 601"; }
  wait_until there
  kill -KILL "$rpid"
  sleep 1
  there
}

@test "exec: SIGTERM to the relay reaches the process" {
  # the binary itself in the background, so that $! is the relay
  "$KATA_OCI" --root "$TEST_ROOT" exec "$ID" sh -c 'trap "echo got-term; exit 9" TERM; echo ready; while true; do sleep 0.1; done' >"$WORK/out" &
  rpid=$!
  for i in $(seq 100); do grep -q ready "$WORK/out" && break; sleep 0.1; done
  kill -TERM "$rpid"
  rc=0
  wait "$rpid" || rc=$?
  [ "$rc" -eq 9 ]
  grep -q got-term "$WORK/out"
}

@test "exec -t with a console socket" {
  "$RECVTTY" "$WORK/tty.sock" >"$WORK/tty.out" 2>/dev/null </dev/null &
  for i in $(seq 50); do [ -S "$WORK/tty.sock" ] && break; sleep 0.1; done
  run ko exec -t --console-socket "$WORK/tty.sock" "$ID" sh -c '[ -t 0 ] && echo is-a-tty; exit 4'
  [ "$status" -eq 4 ]
  sleep 0.5
  grep -q is-a-tty "$WORK/tty.out"
}

@test "exec into a created container joins it before start, as runc" {
  c=$ID-created
  edit_spec '.root.readonly = false'
  set_args "$BUNDLE" sh -c 'cat /tmp/mark; sleep 1000'
  ko create --bundle "$BUNDLE" "$c" </dev/null >/dev/null 2>&1
  [ "$(state_status "$c")" = created ]
  # its root, its pid namespace (the waiting init is 1), and it stays created
  run ko exec "$c" sh -c 'echo made > /tmp/mark; echo pid1=$(cat /proc/1/comm); ls /bin/busybox'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"/bin/busybox"* ]]
  [[ "$output" != *"pid1=sleep"* ]]
  [ "$(state_status "$c")" = created ]
  ko start "$c"
  for _ in $(seq 50); do ko ps "$c" | grep -q "sleep 1000" && break; sleep 0.1; done
  ko ps "$c" | grep -q "sleep 1000"
  [ "$(state_status "$c")" = running ]
  ko delete -f "$c"
  assert_nothing_left "$c"
}

@test "exec into a paused container: refused, or with --ignore-paused started once resumed" {
  ko pause "$ID"
  run ko exec "$ID" echo no
  [ "$status" -eq 1 ]
  [[ "$output" == *"cannot exec in a paused container (use --ignore-paused to override)"* ]]
  (sleep 2; ko resume "$ID") &
  start=$(date +%s%N)
  run ko exec --ignore-paused "$ID" sh -c 'echo ran; exit 4'
  end=$(date +%s%N)
  wait
  echo "$output"
  [ "$status" -eq 4 ]
  [ "$output" = ran ]
  # it waited for the resume
  [ $(((end - start) / 1000000)) -ge 1500 ]
  [ "$(state_status "$ID")" = running ]
}

@test "exec into a stopped or missing container fails clearly" {
  run ko exec nosuch true
  [ "$status" -eq 1 ]
  [[ "$output" == *"container nosuch does not exist"* ]]
  ko kill "$ID" KILL
  wait_status "$ID" stopped
  run ko exec "$ID" true
  [ "$status" -eq 1 ]
  [[ "$output" == *"cannot exec in a stopped container"* ]]
  run ko exec -t -d "$ID" true
  [ "$status" -eq 1 ]
}

@test "exec -d -t with a console socket: initial size, then a resize of the master" {
  "$RECVTTY" "$WORK/tty.sock" 33x120 >"$WORK/tty.out" 2>"$WORK/recv.err" </dev/null &
  rpid=$!
  for i in $(seq 50); do [ -S "$WORK/tty.sock" ] && break; sleep 0.1; done
  ko exec -d -t --console-socket "$WORK/tty.sock" --pid-file "$WORK/epid" "$ID" \
    sh -c 'stty size; sleep 3; stty size; tty'
  wait "$rpid" || true
  cat "$WORK/tty.out"
  [ "$(tr -d '\r' < "$WORK/tty.out" | sed -n 2p)" = "33 120" ]
  tr -d '\r' < "$WORK/tty.out" | grep -q '^/dev/pts/[0-9]'
}

@test "exec --cap adds to the process's capability sets; an unknown one fails" {
  # the default spec's sets are AUDIT_WRITE, KILL and NET_BIND_SERVICE
  run ko exec "$ID" sh -c 'grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status'
  echo "$output"
  [[ "$output" == *"CapEff:	0000000020000420"* ]]
  run ko exec --cap CAP_SYS_ADMIN --cap CAP_CHOWN "$ID" sh -c 'grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status'
  echo "$output"
  [[ "$output" == *"CapEff:	0000000020200421"* ]]
  [[ "$output" == *"CapPrm:	0000000020200421"* ]]
  [[ "$output" == *"CapBnd:	0000000020200421"* ]]
  run ko exec --cap CAP_NOPE "$ID" true
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *CAP_NOPE* ]]
}

@test "exec returns when its process exits, though a background child keeps stdout open" {
  start=$(date +%s)
  run timeout 60 "$KATA_OCI" --root "$TEST_ROOT" exec "$ID" sh -c 'sleep 40 & echo started; echo to-err >&2; exit 4'
  echo "$output"
  [ "$status" -eq 4 ]
  [[ "$output" == *started* ]]
  [[ "$output" == *to-err* ]]
  [ $(( $(date +%s) - start )) -lt 30 ]
  # the same with a pty
  run timeout 60 "$KATA_OCI" --root "$TEST_ROOT" exec -t "$ID" sh -c 'sleep 40 & echo tty-started'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *tty-started* ]]
  [ $(( $(date +%s) - start )) -lt 50 ]
}
