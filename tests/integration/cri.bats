#!/usr/bin/env bats
# What CRI engines send that runc accepts: CRI-O's seccomp profile with
# several conditions on one argument, containerd's slice:prefix:name
# cgroupsPath under the cgroupfs driver, and a state root of the engine's
# choosing with 64-character ids.

load helpers

setup() { setup_common; }
teardown() { teardown_common; }

@test "seccomp: several conditions on one argument are alternatives, as in runc" {
  # like CRI-O's clone rule: 7 conditions on argument 1 of kill (the
  # signal), and one on argument 0 (the pid), which becomes one more
  # alternative rather than a further requirement
  edit_spec '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
      "args": [{"index": 1, "value": 1, "op": "SCMP_CMP_EQ"},
               {"index": 1, "value": 10, "op": "SCMP_CMP_EQ"},
               {"index": 1, "value": 12, "op": "SCMP_CMP_EQ"},
               {"index": 1, "value": 15, "op": "SCMP_CMP_EQ"},
               {"index": 1, "value": 20, "op": "SCMP_CMP_EQ"},
               {"index": 1, "value": 28, "op": "SCMP_CMP_EQ"},
               {"index": 1, "value": 9, "op": "SCMP_CMP_EQ"},
               {"index": 0, "value": 4000000, "op": "SCMP_CMP_EQ"}]}]}'
  # (set_args takes one line per argument)
  set_args "$BUNDLE" sh -c 'for s in HUP USR1 USR2 TERM TSTP WINCH KILL; do kill -$s $$; echo "$s=$?"; done; kill -0 $$; echo "zero=$?"; kill -CONT $$; echo "cont=$?"; kill -0 4000000; echo "pid=$?"; kill -0 4000001; echo "otherpid=$?"'
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -eq 0 ]
  for s in HUP USR1 USR2 TERM TSTP WINCH KILL; do
    [[ "$output" == *"$s=1"* ]]
  done
  [[ "$output" == *"zero=0"* ]]
  [[ "$output" == *"cont=0"* ]]
  [[ "$output" == *"Operation not permitted"* ]]
  [[ "$output" == *"pid=1"* ]]
  [[ "$output" == *"No such process"* ]]
  [[ "$output" == *"otherpid=1"* ]]
  [ "$(grep -c 'Operation not permitted' <<<"$output")" -eq 8 ]
}
