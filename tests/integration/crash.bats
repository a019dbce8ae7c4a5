#!/usr/bin/env bats
# kill -9 of each process of a sandbox (the create CLI, the monitor, QEMU,
# virtiofsd, the holder) at each moment of its life (while the VM boots,
# once created, once running): the container then reads stopped (or goes
# on, for the CLI), delete -f succeeds, and nothing is left behind.

load helpers

setup() { setup_common; set_args "$BUNDLE" sleep 1000; }
teardown() { teardown_common; }

# pid_of WHAT: the recorded pid of a sandbox process
pid_of() {
  case $1 in
    monitor) jq -r .monitorPid "$TEST_ROOT/$ID/state.json" ;;
    qemu) jq -r .qemuPid "$TEST_ROOT/$ID/state.json" ;;
    virtiofsd) jq -r .virtiofsdPid "$TEST_ROOT/$ID/state.json" ;;
    holder) jq -r .holderPid "$TEST_ROOT/$ID/state.json" ;;
  esac
}

# crash WHAT WHEN
crash() {
  local what=$1 when=$2 cli i
  "$KATA_OCI" --root "$TEST_ROOT" create --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1 &
  cli=$!
  if [ "$when" = boot ]; then
    for i in $(seq 200); do
      [ "$(pid_of qemu 2>/dev/null)" -gt 0 ] 2>/dev/null && break
      sleep 0.05
    done
    [ "$(jq -r .status "$TEST_ROOT/$ID/state.json")" = creating ]
  else
    wait "$cli"
    [ "$when" = created ] || ko start "$ID"
  fi
  if [ "$what" = cli ]; then
    kill -9 "$cli" 2>/dev/null || true
  else
    kill -9 "$(pid_of "$what")"
  fi
  wait "$cli" 2>/dev/null || true
  # a killed helper stops the sandbox; a killed CLI leaves it to go on
  if [ "$what" != cli ]; then
    for i in $(seq 100); do
      s=$(ko state "$ID" 2>&1 | jq -r .status 2>/dev/null || echo gone)
      [ "$s" = stopped ] || [ "$s" = gone ] && break
      sleep 0.1
    done
    [ "$s" = stopped ] || [ "$s" = gone ]
  fi
  ko delete -f "$ID"
  run ko state "$ID"
  [ "$status" -eq 1 ]
  assert_nothing_left "$ID"
}

@test "crash: create CLI killed while the VM boots" { crash cli boot; }
@test "crash: monitor killed while the VM boots" { crash monitor boot; }
@test "crash: QEMU killed while the VM boots" { crash qemu boot; }
@test "crash: virtiofsd killed while the VM boots" { crash virtiofsd boot; }
@test "crash: holder killed while the VM boots" { crash holder boot; }
@test "crash: monitor killed once created" { crash monitor created; }
@test "crash: QEMU killed once created" { crash qemu created; }
@test "crash: virtiofsd killed once created" { crash virtiofsd created; }
@test "crash: holder killed once created" { crash holder created; }
@test "crash: monitor killed while running" { crash monitor running; }
@test "crash: QEMU killed while running" { crash qemu running; }
@test "crash: virtiofsd killed while running" { crash virtiofsd running; }
@test "crash: holder killed while running" { crash holder running; }
