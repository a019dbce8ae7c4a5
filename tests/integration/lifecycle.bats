#!/usr/bin/env bats
# create / start / state / kill / delete / run against a real VM.

load helpers

setup() { setup_common; }
teardown() { teardown_common; }

@test "lifecycle: create, state created, start, output, stopped, delete, nothing left" {
  set_args "$BUNDLE" sh -c 'echo out-line; echo err-line >&2'
  ko create --bundle "$BUNDLE" --pid-file "$WORK/pid" "$ID" >"$WORK/out" 2>"$WORK/err" </dev/null
  [ "$(state_status "$ID")" = created ]
  pid=$(cat "$WORK/pid")
  kill -0 "$pid"
  # the --pid-file pid is state's: the container's holder, whose root is
  # the container's; the monitor forked it as the create's child, so that
  # whoever waits for that pid (conmon, a shim) can reap it
  spid=$(ko state "$ID" | jq -r .pid)
  [ "$spid" = "$pid" ]
  mpid=$(jq -r .monitorPid "$TEST_ROOT/$ID/state.json")
  [[ "$(tr '\0' ' ' < "/proc/$mpid/cmdline")" == *kata-oci* ]]
  [ "$(awk '/^PPid:/ {print $2}' "/proc/$spid/status")" != "$mpid" ]
  [ -x "/proc/$spid/root/bin/busybox" ]
  [ ! -e "/proc/$spid/root/usr/lib/qemu" ]
  [ "$(ko state "$ID" | jq -r .bundle)" = "$BUNDLE" ]
  ko start "$ID"
  wait_status "$ID" stopped
  [ "$(cat "$WORK/out")" = out-line ]
  [ "$(cat "$WORK/err")" = err-line ]
  [ "$(ko state "$ID" | jq -r .pid)" = 0 ]
  ko delete "$ID"
  assert_nothing_left "$ID"
  run ko state "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"container $ID does not exist"* ]]
}

@test "list shows a created container, in table and json" {
  edit_spec '.annotations = {"org.example.k": "v"}'
  ko create --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  run ko list
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == ID*PID*STATUS*BUNDLE* ]]
  [[ "$output" == *"$ID"*created*"$BUNDLE"* ]]
  [ "$(ko list --format json | jq -r '.[0].status')" = created ]
  [ "$(ko list -q)" = "$ID" ]
  # the same pid and rootfs as state's, as runc's list
  local l s
  l=$(ko list --format json | jq -c '.[0] | {id, pid, rootfs, bundle, created, annotations}')
  s=$(ko state "$ID" | jq -c '{id, pid, rootfs, bundle, created, annotations}')
  [ "$(ko list --format json | jq -r '.[0].annotations["org.example.k"]')" = v ]
  echo "list $l state $s"
  [ "$l" = "$s" ]
  [[ "$output" == *"$ID "*" $(ko state "$ID" | jq -r .pid) "* ]]
}

@test "run exits with the container's status: 0, 3, and 137 for SIGKILL" {
  set_args "$BUNDLE" true
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  [ "$status" -eq 0 ]
  assert_nothing_left "$ID"
  set_args "$BUNDLE" sh -c 'exit 3'
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  [ "$status" -eq 3 ]
  assert_nothing_left "$ID"
  # SIGKILL from the host: init of a pid namespace cannot be killed from inside
  set_args "$BUNDLE" sleep 1000
  "$KATA_OCI" --root "$TEST_ROOT" run --bundle "$BUNDLE" "$ID" </dev/null &
  runpid=$!
  wait_status "$ID" running
  ko kill "$ID" KILL
  rc=0
  wait "$runpid" || rc=$?
  [ "$rc" -eq 137 ]
}

@test "run --keep leaves the stopped container, with no VM, until delete, as runc's does" {
  set_args "$BUNDLE" sh -c 'exit 3'
  run ko run --keep --no-subreaper --bundle "$BUNDLE" "$ID" </dev/null
  [ "$status" -eq 3 ]
  [ "$(ko state "$ID" | jq -r .status)" = stopped ]
  [ "$(ko list -q)" = "$ID" ]
  sleep 0.2
  ! ps -eo args | grep -v grep | grep -qE "kata-oci-$ID( |,|\$)|$TEST_ROOT/$ID/"
  run ko start "$ID"
  [ "$status" -eq 1 ]
  ko delete "$ID"
  assert_nothing_left "$ID"
  # without --keep: gone by the time run returns
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  [ "$status" -eq 3 ]
  assert_nothing_left "$ID"
}

@test "the --pid-file process exits with the container's status, as conmon sees it" {
  set_args "$BUNDLE" sh -c 'exit 3'
  "$REAPER" "$WORK/pid" "$WORK/reaped" "$KATA_OCI" --root "$TEST_ROOT" create \
    --bundle "$BUNDLE" --pid-file "$WORK/pid" "$ID" </dev/null >/dev/null 2>&1 &
  rpid=$!
  wait_status "$ID" created
  ko start "$ID"
  wait "$rpid"
  [ "$(cat "$WORK/reaped")" = "exit 3" ]
  # the monitor had finished: the state says stopped, and its status
  [ "$(state_status "$ID")" = stopped ]
}

@test "the pid state reports sits in the host namespaces the spec leaves alone, and in fresh ones for those it lists" {
  # runtime-tools' linux_ns_itype: no namespace listed, every one inherited
  edit_spec '.linux.namespaces = [] | del(.hostname)'
  set_args "$BUNDLE" sleep 100
  ko create --bundle "$BUNDLE" "$ID" </dev/null
  pid=$(ko state "$ID" | jq .pid)
  for ns in mnt ipc net pid uts cgroup user; do
    [ "$(readlink /proc/$pid/ns/$ns)" = "$(readlink /proc/self/ns/$ns)" ]
  done
  [ "$(readlink /proc/$pid/root)" = / ]
  # in the guest the container still has its own mount namespace
  ko start "$ID"
  run ko exec "$ID" cat /proc/self/mountinfo
  [ "$status" -eq 0 ]
  [ "$(echo "${lines[0]}" | cut -d' ' -f5)" = / ]
  [[ "${lines[0]}" == *" - virtiofs "* ]]
  ko delete -f "$ID"
  # listed: fresh ones, the mount namespace rooted on the rootfs
  edit_spec '.linux.namespaces = [{"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "pid"}, {"type": "network"}]'
  ko create --bundle "$BUNDLE" "$ID" </dev/null
  pid=$(ko state "$ID" | jq .pid)
  for ns in mnt ipc net pid uts; do
    [ "$(readlink /proc/$pid/ns/$ns)" != "$(readlink /proc/self/ns/$ns)" ]
  done
  [ -x "/proc/$pid/root/bin/busybox" ]
  ko delete -f "$ID"
}

@test "create --pidfd-socket sends a pidfd of the container's pid; a socket nobody listens on fails create, leaving nothing" {
  pidfd_listen "$WORK/pfd"
  ko create --bundle "$BUNDLE" --pidfd-socket "$WORK/pfd" "$ID" </dev/null
  wait_until test -e "$WORK/pfd.out"
  [ "$(cat "$WORK/pfd.out")" = "standard $(ko state "$ID" | jq .pid)" ]
  ko delete -f "$ID"
  rm -f "$WORK/pfd"
  run ko create --bundle "$BUNDLE" --pidfd-socket "$WORK/pfd" "$ID" </dev/null
  [ "$status" -eq 1 ]
  [[ "$output" == *"--pidfd-socket: connect to $WORK/pfd: No such file or directory"* ]]
  run ko state "$ID"
  [ "$status" -ne 0 ]
  assert_nothing_left "$ID"
}

@test "SIGTERM to the --pid-file process reaches the container's init" {
  set_args "$BUNDLE" sh -c 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done'
  "$REAPER" "$WORK/pid" "$WORK/reaped" "$KATA_OCI" --root "$TEST_ROOT" run -d \
    --bundle "$BUNDLE" --pid-file "$WORK/pid" "$ID" </dev/null >"$WORK/out" 2>&1 &
  rpid=$!
  wait_status "$ID" running
  for i in $(seq 100); do grep -q ready "$WORK/out" 2>/dev/null && break; sleep 0.1; done
  kill -TERM "$(cat "$WORK/pid")"
  wait "$rpid"
  [ "$(cat "$WORK/reaped")" = "exit 7" ]
  grep -q got-term "$WORK/out"
}

@test "SIGKILL to the --pid-file process stops the container" {
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" --pid-file "$WORK/pid" "$ID" </dev/null >/dev/null 2>&1
  kill -9 "$(cat "$WORK/pid")"
  wait_status "$ID" stopped
  ko delete "$ID"
  assert_nothing_left "$ID"
}

@test "stdin from a pipe; stdout and stderr kept apart" {
  set_args "$BUNDLE" sh -c 'cat; echo to-stderr >&2'
  printf 'line one\nline two\n' | ko run --bundle "$BUNDLE" "$ID" >"$WORK/out" 2>"$WORK/err"
  [ "$(cat "$WORK/out")" = "$(printf 'line one\nline two')" ]
  [ "$(cat "$WORK/err")" = to-stderr ]
}

@test "16 MiB through stdout, byte for byte, with a reader that pauses" {
  set_args "$BUNDLE" sh -c 'yes 0123456789abcdef | head -c 16777216'
  want=$(yes 0123456789abcdef | head -c 16777216 | sha256sum | cut -d' ' -f1)
  got=$(ko run --bundle "$BUNDLE" "$ID" </dev/null | { head -c 1048576; sleep 3; cat; } | sha256sum | cut -d' ' -f1)
  [ "$got" = "$want" ]
}

@test "stdout is spliced to the channel (or copied, with agent.nosplice): writes of every size arrive whole" {
  # lines, then pipe-sized writes, then lines again: the agent moves pages
  # from the process's pipe to the port, in frames of whatever the pipe
  # holds; a frame that does not empty a pipe used to stop the port
  set_args "$BUNDLE" sh -c 'seq 1 100000; yes 0123456789 | head -c 300001; seq 5 7; echo err >&2'
  want=$({ seq 1 100000; yes 0123456789 | head -c 300001; seq 5 7; } | sha256sum | cut -d' ' -f1)
  KATA_OCI_KERNEL_PARAMS=agent.debug ko run -d --bundle "$BUNDLE" "$ID" </dev/null >"$WORK/out" 2>"$WORK/err"
  wait_status "$ID" stopped 60
  [ "$(sha256sum < "$WORK/out" | cut -d' ' -f1)" = "$want" ]
  [ "$(cat "$WORK/err")" = "err" ]
  grep -q "zero-copy output: staging pipes ready" "$TEST_ROOT/$ID/console.log"
  ! grep -q "copying from now on" "$TEST_ROOT/$ID/console.log"
  ! grep -q "zero sized" "$TEST_ROOT/$ID/qemu.log"
  ko delete "$ID"
  # agent.nosplice: the same bytes, copied
  KATA_OCI_KERNEL_PARAMS="agent.debug agent.nosplice" ko run -d --bundle "$BUNDLE" "$ID" </dev/null >"$WORK/out" 2>"$WORK/err"
  wait_status "$ID" stopped 60
  [ "$(sha256sum < "$WORK/out" | cut -d' ' -f1)" = "$want" ]
  [ "$(cat "$WORK/err")" = "err" ]
  grep -q "container $ID started" "$TEST_ROOT/$ID/console.log"
  ! grep -q "staging pipes ready" "$TEST_ROOT/$ID/console.log"
}

@test "the guest boots the uncompressed kernel (PVH entry); a bzImage boots too" {
  [ -f "$BUILDDIR/guest/debian/vmlinuz" ] || skip "no bzImage in $BUILDDIR/guest/debian"
  [ "$(ko env | sed -n 's/^kernel=//p')" = "$BUILDDIR/guest/vmlinux" ]
  readelf -h "$BUILDDIR/guest/vmlinux" | grep -q 'EXEC (Executable file)'
  set_args "$BUNDLE" sh -c 'echo booted; uname -r'
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = booted ]
  [[ "${lines[1]}" == *-kata-oci ]]
  KATA_OCI_KERNEL=$BUILDDIR/guest/debian/vmlinuz KATA_OCI_INITRD=$BUILDDIR/guest/initrd-debian.img \
    run ko run --bundle "$BUNDLE" "$ID" </dev/null
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = booted ]
  [ "${lines[1]}" = "$(cat "$BUILDDIR/guest/debian/kernel-release")" ]
}

@test "the guest kernel skips crypto self-tests and tracefs files; KATA_OCI_KERNEL_PARAMS adds to its command line" {
  edit_spec '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
  set_args "$BUNDLE" sh -c 'cat /proc/cmdline; mount -t tracefs t /dev/shm && ls /dev/shm/dynamic_events && ls -d /dev/shm/events'
  # Debian's kernel, with tens of thousands of trace events' files, is the
  # one the cuts are for
  if [ -f "$BUILDDIR/guest/vmlinux-debian" ]; then
    KATA_OCI_KERNEL=$BUILDDIR/guest/vmlinux-debian KATA_OCI_INITRD=$BUILDDIR/guest/initrd-debian.img \
      KATA_OCI_KERNEL_PARAMS=ko.test=1 run ko run --bundle "$BUNDLE" "$ID" </dev/null
    [ "$status" -eq 1 ] # the last ls fails
    [[ " ${lines[0]} " == *" cryptomgr.notests "* ]]
    [[ " ${lines[0]} " == *" initcall_blacklist=tracer_init_tracefs "* ]]
    [[ "${lines[0]}" == *" ko.test=1" ]]
    # tracefs works (dynamic_events comes from an initcall of its own),
    # without the files of the trace events
    [ "${lines[1]}" = /dev/shm/dynamic_events ]
    [[ "${lines[2]}" == *"/dev/shm/events"*"No such file or directory"* ]]
  fi
  # the default kernel gets the same command line (the project's has no
  # tracing at all: kernel.bats)
  set_args "$BUNDLE" cat /proc/cmdline
  KATA_OCI_KERNEL_PARAMS=ko.test=1 run ko run --bundle "$BUNDLE" "$ID" </dev/null
  [ "$status" -eq 0 ]
  [[ " ${lines[0]} " == *" cryptomgr.notests "* ]]
  [[ " ${lines[0]} " == *" initcall_blacklist=tracer_init_tracefs "* ]]
  [[ "${lines[0]}" == *" ko.test=1" ]]
}

@test "the guest firmware is qboot where it is installed; QEMU's own (SeaBIOS) works too" {
  [ -r /usr/share/qemu/qboot.rom ] || skip "no /usr/share/qemu/qboot.rom"
  set_args "$BUNDLE" cat /sys/class/dmi/id/bios_vendor
  ko --debug run --bundle "$BUNDLE" "$ID" </dev/null >"$WORK/out" 2>"$WORK/err"
  grep -q '^.*qemu: .* -bios /usr/share/qemu/qboot.rom ' "$WORK/err"
  [ "$(cat "$WORK/out")" = qboot ]
  KATA_OCI_FIRMWARE=qemu-default ko --debug run --bundle "$BUNDLE" "$ID" </dev/null >"$WORK/out" 2>"$WORK/err"
  grep -q 'qemu: ' "$WORK/err"
  ! grep -q ' -bios ' "$WORK/err"
  [ "$(cat "$WORK/out")" = SeaBIOS ]
  assert_nothing_left "$ID"
}

@test "a console socket gets a pty: output and initial size" {
  edit_spec '.process.terminal = true | .process.consoleSize = {"height": 33, "width": 111}'
  set_args "$BUNDLE" sh -c 'stty size; [ -t 0 ] && [ -t 1 ] && echo is-a-tty; tty; echo done'
  "$RECVTTY" "$WORK/tty.sock" >"$WORK/tty.out" 2>"$WORK/recv.err" </dev/null &
  rpid=$!
  for i in $(seq 50); do [ -S "$WORK/tty.sock" ] && break; sleep 0.1; done
  ko create --bundle "$BUNDLE" --console-socket "$WORK/tty.sock" "$ID"
  ko start "$ID"
  wait_status "$ID" stopped
  wait "$rpid" || true
  cat "$WORK/tty.out"
  grep -q '^33 111' "$WORK/tty.out"
  grep -q 'is-a-tty' "$WORK/tty.out"
  grep -q '^/dev/pts/[0-9]' "$WORK/tty.out"
  grep -q 'done' "$WORK/tty.out"
}

@test "a console socket pty: a resize of the master reaches the guest's pty" {
  edit_spec '.process.terminal = true | .process.consoleSize = {"height": 24, "width": 80}'
  set_args "$BUNDLE" sh -c 'stty size; sleep 3; stty size'
  "$RECVTTY" "$WORK/tty.sock" 40x100 >"$WORK/tty.out" 2>"$WORK/recv.err" </dev/null &
  rpid=$!
  for i in $(seq 50); do [ -S "$WORK/tty.sock" ] && break; sleep 0.1; done
  ko run -d --bundle "$BUNDLE" --console-socket "$WORK/tty.sock" "$ID"
  wait_status "$ID" stopped 60
  wait "$rpid" || true
  cat "$WORK/tty.out"
  [ "$(tr -d '\r' < "$WORK/tty.out" | head -1)" = "24 80" ]
  [ "$(tr -d '\r' < "$WORK/tty.out" | sed -n 2p)" = "40 100" ]
}

@test "kill: TERM and USR1 reach handlers, KILL ends a created container" {
  set_args "$BUNDLE" sh -c 'trap "echo got-usr1" USR1; trap "echo got-term; exit 7" TERM; echo ready; while true; do sleep 0.1; done'
  ko create --bundle "$BUNDLE" "$ID" >"$WORK/out" 2>&1 </dev/null
  ko start "$ID"
  for i in $(seq 100); do grep -q ready "$WORK/out" && break; sleep 0.1; done
  ko kill "$ID" USR1
  for i in $(seq 100); do grep -q got-usr1 "$WORK/out" && break; sleep 0.1; done
  grep -q got-usr1 "$WORK/out"
  [ "$(state_status "$ID")" = running ]
  ko kill "$ID" SIGTERM
  wait_status "$ID" stopped
  grep -q got-term "$WORK/out"
  ko delete "$ID"

  ko create --bundle "$BUNDLE" "$ID" >/dev/null 2>&1 </dev/null
  ko kill "$ID" 9
  wait_status "$ID" stopped
  ko delete "$ID"
}

@test "delete refuses a running container; delete -f removes it" {
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  [ "$(state_status "$ID")" = running ]
  run ko delete "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"cannot delete container $ID that is not stopped: running"* ]]
  ko delete -f "$ID"
  assert_nothing_left "$ID"
}

@test "two sandboxes run at once" {
  EXTRA_IDS="$ID-b"
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  ko run -d --bundle "$BUNDLE" "$ID-b" </dev/null >/dev/null 2>&1
  [ "$(state_status "$ID")" = running ]
  [ "$(state_status "$ID-b")" = running ]
  [ "$(ko list -q | wc -l)" -eq 2 ]
  ko delete -f "$ID-b"
  [ "$(state_status "$ID")" = running ]
  ko delete -f "$ID"
  assert_nothing_left "$ID-b"
}

@test "start and kill of a stopped container fail clearly" {
  set_args "$BUNDLE" true
  ko create --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  ko start "$ID"
  wait_status "$ID" stopped
  run ko start "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"cannot start a container that has stopped"* ]]
  run ko kill "$ID" KILL
  [ "$status" -eq 1 ]
  [[ "$output" == *"container not running"* ]]
}

@test "pause freezes the container, resume thaws it; ps lists its processes" {
  edit_spec '.root.readonly = false'
  # Written to a temporary name and renamed, so the host never reads the
  # file between the shell's truncate and its write.
  set_args "$BUNDLE" sh -c 'i=0; while true; do i=$((i+1)); echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.2; done'
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  for i in $(seq 100); do [ -s "$BUNDLE/rootfs/tmp/count" ] && break; sleep 0.1; done
  ko pause "$ID"
  [ "$(state_status "$ID")" = paused ]
  a=$(cat "$BUNDLE/rootfs/tmp/count")
  [ -n "$a" ]
  sleep 1.5
  b=$(cat "$BUNDLE/rootfs/tmp/count")
  [ "$a" = "$b" ]
  run ko pause "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"is paused, not running"* ]]
  ko resume "$ID"
  [ "$(state_status "$ID")" = running ]
  sleep 1.5
  c=$(cat "$BUNDLE/rootfs/tmp/count")
  [ "$c" -gt "$b" ]
  run ko ps "$ID"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" =~ ^UID\ +PID\ +PPID\ +C\ +STIME\ +TTY\ +TIME\ +CMD$ ]]
  [ "${#lines[@]}" -ge 2 ]
  ko ps --format json "$ID" | jq -e 'length >= 1'
  ko delete -f "$ID"
}

@test "ps prints runc's columns of the guest's processes, -e -x too; none once stopped" {
  set_args "$BUNDLE" sh -c 'sleep 600 & exec sleep 601'
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  for _ in $(seq 50); do [ "$(ko ps --format json "$ID" | jq length)" -ge 2 ] && break; sleep 0.1; done
  # runc's default is ps -ef: UID PID PPID C STIME TTY TIME CMD
  run ko ps "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" =~ ^UID\ +PID\ +PPID\ +C\ +STIME\ +TTY\ +TIME\ +CMD$ ]]
  [[ "$output" =~ $'\n'root\ +[0-9]+\ +[0-9]+\ +[0-9]+\ [0-9][0-9]:[0-9][0-9]\ +\?\ +00:00:00\ sleep\ 601 ]]
  [[ "$output" == *" sleep 600"* ]]
  # the first of json's guest pids, on its own line
  init=$(ko ps --format json "$ID" | jq '.[0]')
  [[ "$output" =~ $'\n'root\ +$init\  ]]
  run ko ps "$ID" -e -x
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" =~ ^\ +PID\ +TTY\ +STAT\ +TIME\ +COMMAND$ ]]
  [[ "$output" =~ $'\n'\ +$init\ \?\ +Ss\ +0:00\ sleep\ 601 ]]
  run ko ps "$ID" -- -ef
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == UID* ]]
  # -o: procps's fields, in their order
  run ko ps "$ID" -eo pid,user,stat,comm=NAME,args
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" =~ ^\ +PID\ USER\ +STAT\ NAME\ +COMMAND$ ]]
  [[ "$output" =~ $'\n'\ +$init\ root\ +Ss\ +sleep\ +sleep\ 601 ]]
  # what the host's ps would need the host's processes for is refused
  run ko ps "$ID" aux
  [ "$status" -eq 1 ]
  [[ "$output" == *'ps: ps options "aux": only runc'*'-ef'*'-e -x and -o FIELDS'* ]]
  run ko ps "$ID" -o pid,bogus
  [ "$status" -eq 1 ]
  [[ "$output" == *'ps: -o: unknown field "bogus"'* ]]
  ko kill "$ID" KILL
  for _ in $(seq 50); do [ "$(state_status "$ID")" = stopped ] && break; sleep 0.1; done
  # stopped: runc lists nothing, successfully
  run ko ps "$ID"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1 ]
  [ "$(ko ps --format json "$ID")" = "[]" ]
  ko delete "$ID"
  assert_nothing_left "$ID"
}

@test "the bundle's rootfs survives run and delete" {
  set_args "$BUNDLE" true
  ko run --bundle "$BUNDLE" "$ID" </dev/null
  [ -x "$BUNDLE/rootfs/bin/busybox" ]
  ko create --bundle "$BUNDLE" "$ID" </dev/null
  ko delete -f "$ID"
  [ -x "$BUNDLE/rootfs/bin/busybox" ]
}

@test "the agent frees the initramfs once idle; its boot is in console.log" {
  set_args "$BUNDLE" sleep 1000
  KATA_OCI_KERNEL_PARAMS=agent.debug ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  for _ in $(seq 50); do
    grep -q "initramfs freed" "$TEST_ROOT/$ID/console.log" && break
    sleep 0.1
  done
  cat "$TEST_ROOT/$ID/console.log"
  # the modules it loaded for a kernel that has them (Debian's), or that
  # the kernel has its drivers built in (the project's)
  if cpio -it --quiet < "$KATA_OCI_INITRD" | grep -q '^lib/modules/virtiofs.ko$'; then
    grep -q "loaded virtiofs.ko" "$TEST_ROOT/$ID/console.log"
  else
    grep -q "no /lib/modules/load-order: the kernel has its drivers built in" "$TEST_ROOT/$ID/console.log"
  fi
  grep -q "modules loaded, root switched" "$TEST_ROOT/$ID/console.log"
  grep -q "container $ID started" "$TEST_ROOT/$ID/console.log"
  grep -q "initramfs freed" "$TEST_ROOT/$ID/console.log"
}

@test "delete without --force removes a created container, as runc's does; a running one is refused" {
  ko create --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  ko delete "$ID"
  run ko state "$ID"
  [ "$status" -eq 1 ]
  assert_nothing_left "$ID"
  set_args "$BUNDLE" sleep 100
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  run ko delete "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"cannot delete container $ID that is not stopped: running (--force stops it first)"* ]]
  [ "$(state_status "$ID")" = running ]
  ko delete -f "$ID"
  assert_nothing_left "$ID"
}

@test "kill with signal 0 checks that the container is alive, as runc's does" {
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  ko kill "$ID" 0
  [ "$(state_status "$ID")" = running ]
  ko kill "$ID" KILL
  wait_status "$ID" stopped
  run ko kill "$ID" 0
  [ "$status" -eq 1 ]
  [[ "$output" == *"container not running"* ]]
  ko delete "$ID"
}

@test "run returns only once every process it started is reaped, virtiofsd's sandboxed half too" {
  # zombies from before the test (an init that never reaps) are not run's
  zombies() { ps -eo pid=,stat=,comm= | awk '$2 ~ /^Z/ && ($3 == "virtiofsd" || $3 ~ /^qemu/) { print $1 }' | sort; }
  before=$(zombies)
  for i in 1 2 3; do
    run ko run --bundle "$BUNDLE" "$ID"
    [ "$status" -eq 0 ]
    # before, the inner virtiofsd lingered as a zombie of PID 1 for 1-2 s
    left=$(comm -13 <(echo "$before") <(zombies))
    [ -z "$left" ]
  done
}

@test "run with a volume leaves nothing behind by the time it returns" {
  # the state dir used to stay until a later delete: the volume's mount
  # point was still busy in the monitor's namespace when run removed it
  mkdir -p "$WORK/vol"
  edit_spec '.mounts += [{"destination": "/v", "type": "bind", "source": "'"$WORK/vol"'", "options": ["rbind"]}]'
  run ko run --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 0 ]
  [ -z "$(ls -A "$TEST_ROOT")" ]
  run ko state "$ID"
  [[ "$output" == *"does not exist"* ]]
}

@test "NOTIFY_SOCKET (podman --sdnotify=container), as runc: start waits for the container's READY=1, then passes READY=1 and MAINPID on" {
  EXTRA_IDS="$ID-2 $ID-3"
  sdnotify_build "$BUNDLE/rootfs"
  notify_listen "$WORK/notify.sock" "$WORK/notify.out"
  set_args "$BUNDLE" sh -c 'echo "env=$NOTIFY_SOCKET"; ls -l /run/notify; sleep 2; sdnotify STATUS=almost; sdnotify READY=1; sleep 1000'
  NOTIFY_SOCKET=$WORK/notify.sock ko create --bundle "$BUNDLE" "$ID" </dev/null >"$WORK/out" 2>&1
  t0=$(date +%s%N)
  NOTIFY_SOCKET=$WORK/notify.sock ko start "$ID"
  t1=$(date +%s%N)
  wait_file "$WORK/notify.out" || true
  cat "$WORK/out"; cat "$WORK/notify.out" || true
  # the sleep 2 before READY=1
  [ $(( (t1 - t0) / 1000000 )) -ge 1800 ]
  pid=$(ko state "$ID" | jq .pid)
  [ "$(cat "$WORK/notify.out")" = "$(printf 'READY=1\nMAINPID=%s\n|' "$pid")" ]
  grep -qx "env=/run/notify/notify.sock" "$WORK/out"
  grep -q "^srwxrwxrwx .* notify.sock" "$WORK/out"
  [ "$(ko state "$ID" | jq -r .status)" = running ]
  # exec'd processes have it too, as runc's saved config gives them
  [ "$(ko exec "$ID" sh -c 'echo $NOTIFY_SOCKET')" = /run/notify/notify.sock ]
  ko delete -f "$ID"
  # a container that ends without READY=1 ends start all the same; an
  # abstract socket name
  kill "$NOTIFY_PID" 2>/dev/null || true
  notify_listen "@kot-notify-$$" "$WORK/abstract.out"
  set_args "$BUNDLE" sh -c 'sleep 1; exit 3'
  NOTIFY_SOCKET=@kot-notify-$$ run ko run -d --bundle "$BUNDLE" "$ID-2" </dev/null
  [ "$status" -eq 0 ]
  set_args "$BUNDLE" sh -c 'sdnotify READY=1'
  NOTIFY_SOCKET=@kot-notify-$$ ko run --bundle "$BUNDLE" "$ID-3" </dev/null
  wait_file "$WORK/abstract.out"
  [[ "$(cat "$WORK/abstract.out")" == "READY=1"$'\n'"MAINPID="* ]]
  kill "$NOTIFY_PID" 2>/dev/null || true
  # a relative one is refused at create, naming it
  NOTIFY_SOCKET=rel.sock run ko create --bundle "$BUNDLE" "$ID-4" </dev/null
  [ "$status" -eq 1 ]
  [[ "$output" == *'NOTIFY_SOCKET: "rel.sock": expected an absolute path or an abstract socket name (@NAME)'* ]]
  assert_nothing_left "$ID-4"
}
