#!/usr/bin/env bats
# config.json fidelity inside a real guest: process, seccomp, mounts, linux,
# hooks, and the clear errors for what a VM cannot honour.

load helpers

setup() { setup_common; }
teardown() { teardown_common; }

# run the container to its end; output in $WORK/out, stderr in $WORK/err
run_ctr() {
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
}

# create must fail with a message containing $1, leaving nothing behind
create_fails_with() {
  run ko create --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"$1"* ]]
  assert_nothing_left "$ID"
}

@test "process: user, groups, umask, rlimits, noNewPrivileges, oomScoreAdj, capabilities" {
  edit_spec '.process.user = {"uid": 1000, "gid": 100, "additionalGids": [5, 7], "umask": 63}
    | .process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654}, {"type": "RLIMIT_CORE", "soft": 0, "hard": 4096}]
    | .process.oomScoreAdj = 123 | .process.noNewPrivileges = true
    | .process.capabilities = {"bounding": ["CAP_KILL", "CAP_NET_RAW"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"], "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]}'
  set_args "$BUNDLE" sh -c 'id -u; id -g; id -G; umask; ulimit -Sn; ulimit -Hn; ulimit -Hc; cat /proc/self/oom_score_adj; grep -E "^(Cap|NoNewPrivs)" /proc/self/status'
  run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1000 ]
  [ "${lines[1]}" = 100 ]
  [ "${lines[2]}" = "100 5 7" ]
  [ "${lines[3]}" = 0077 ]
  [ "${lines[4]}" = 321 ]
  [ "${lines[5]}" = 654 ]
  [ "${lines[6]}" = 8 ]   # busybox ulimit -c counts 512-byte blocks
  [ "${lines[7]}" = 123 ]
  [[ "$output" == *"CapInh:	0000000000000020"* ]]
  [[ "$output" == *"CapPrm:	0000000000000020"* ]]
  [[ "$output" == *"CapEff:	0000000000000020"* ]]
  [[ "$output" == *"CapBnd:	0000000000002020"* ]]
  [[ "$output" == *"CapAmb:	0000000000000020"* ]]
  [[ "$output" == *"NoNewPrivs:	1"* ]]
}

@test "process: scheduler and ioPriority (runtime-spec 1.2) for init and exec; bad ones fail at create" {
  # a user without CAP_SYS_NICE: set while the process is still root
  edit_spec '.process.user = {"uid": 1000, "gid": 1000}
    | .process.scheduler = {"policy": "SCHED_RR", "priority": 10, "flags": ["SCHED_FLAG_RESET_ON_FORK"]}
    | .process.ioPriority = {"class": "IOPRIO_CLASS_IDLE", "priority": 0}'
  # policy and real-time priority of the shell itself (fields 41 and 40);
  # its children start with SCHED_OTHER (0)
  set_args "$BUNDLE" sh -c 'read -r l </proc/self/stat; set -- $l; echo "init ${41} ${40}"; cut -d" " -f41 /proc/self/stat; ionice; sleep 100'
  ko create --bundle "$BUNDLE" "$ID" </dev/null >"$WORK/out" 2>&1
  ko start "$ID"
  for i in $(seq 50); do grep -q idle "$WORK/out" && break; sleep 0.1; done
  cat "$WORK/out"
  grep -qx "init 2 10" "$WORK/out"
  [ "$(sed -n 2p "$WORK/out")" = 0 ]
  grep -qx "idle" "$WORK/out"
  # exec takes config.json's process, scheduler and all
  run ko exec "$ID" sh -c 'read -r l </proc/self/stat; set -- $l; echo "exec ${41} ${40}"; ionice'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "exec 2 10" ]
  [ "${lines[1]}" = "idle" ]
  # an exec's own process file: SCHED_BATCH with a nice (field 19), which
  # its children keep
  jq '.process | .args = ["sh", "-c", "read -r l </proc/self/stat; set -- $l; echo \"self ${41} ${19}\"; cut -d\" \" -f19,41 /proc/self/stat; ionice"]
    | .scheduler = {"policy": "SCHED_BATCH", "nice": 7}
    | .ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 6}' "$BUNDLE/config.json" >"$WORK/p.json"
  run ko exec --process "$WORK/p.json" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "self 3 7" ]
  [ "${lines[1]}" = "7 3" ]
  [ "${lines[2]}" = "best-effort: prio 6" ]
  ko delete -f "$ID"
  assert_nothing_left "$ID"
  # bad ones: refused before any VM boots
  edit_spec '.process.scheduler = {"policy": "SCHED_FIFO"} | del(.process.ioPriority)'
  create_fails_with "config.json: process.scheduler.priority: 0: SCHED_FIFO and SCHED_RR take 1 to 99"
  edit_spec '.process.scheduler = {"policy": "SCHED_OTHER"} | .process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 8}'
  create_fails_with "config.json: process.ioPriority.priority: 8 is outside 0 to 7"
  # one the kernel refuses: the guest's error, nothing left behind
  edit_spec '.process.scheduler = {"policy": "SCHED_DEADLINE", "runtime": 2000000, "deadline": 1000000, "period": 3000000} | del(.process.ioPriority)'
  create_fails_with "process.scheduler/ioPriority: invalid argument"
}

@test "process: runc spec's capabilities (ambient, no inheritable) start with a warning; the raisable ambient ones are raised" {
  EXTRA_IDS="$ID-inh"
  local caps='["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]'
  edit_spec ".process.capabilities = {\"bounding\": $caps, \"effective\": $caps, \"permitted\": $caps, \"ambient\": $caps}"
  set_args "$BUNDLE" sh -c 'grep -E "^Cap(Inh|Prm|Eff|Amb)" /proc/self/status'
  run_ctr
  [ "$status" -eq 0 ]
  [[ "$output" == *"process.capabilities.ambient[0]: CAP_AUDIT_WRITE is not both permitted and inheritable: not raised"* ]]
  [[ "$output" == *"process.capabilities.ambient[2]: CAP_NET_BIND_SERVICE is not both"* ]]
  [[ "$output" == *"CapPrm:	0000000020000420"* ]]
  [[ "$output" == *"CapEff:	0000000020000420"* ]]
  [[ "$output" == *"CapAmb:	0000000000000000"* ]]
  # KILL inheritable too: it alone is raised, the others still only warn
  edit_spec '.process.capabilities.inheritable = ["CAP_KILL"]'
  run ko run --bundle "$BUNDLE" "$ID-inh" </dev/null
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" != *"CAP_KILL is not"* ]]
  [[ "$output" == *"CAP_AUDIT_WRITE is not both permitted and inheritable"* ]]
  [[ "$output" == *"CapInh:	0000000000000020"* ]]
  [[ "$output" == *"CapAmb:	0000000000000020"* ]]
}

@test "process: a dropped capability cannot be used; without noNewPrivileges the flag is off" {
  edit_spec '.root.readonly = false | .process.noNewPrivileges = false
    | .process.capabilities = {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}'
  set_args "$BUNDLE" sh -c 'touch /tmp/f; chown 1:1 /tmp/f; echo chown=$?; grep NoNewPrivs /proc/self/status'
  run_ctr
  [ "$status" -eq 0 ]
  [[ "$output" == *"Operation not permitted"* ]]
  [[ "$output" == *"chown=1"* ]]
  [[ "$output" == *"NoNewPrivs:	0"* ]]
}

@test "create fails clearly on what the spec asks and the VM cannot do" {
  cp "$BUNDLE/config.json" "$WORK/orig.json"
  reset() { cp "$WORK/orig.json" "$BUNDLE/config.json"; }
  edit_spec '.process.capabilities.bounding += ["CAP_BOGUS"]'
  create_fails_with 'config.json: process.capabilities.bounding[3]: unknown capability "CAP_BOGUS"'
  reset; edit_spec '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/seccomp-agent.sock"}'
  create_fails_with 'config.json: linux.seccomp.listenerPath: seccomp agents are not supported'
  reset; edit_spec '.linux.namespaces += [{"type": "cgroup", "path": "/proc/1/ns/cgroup"}]'
  create_fails_with 'config.json: linux.namespaces[5].path: /proc/1/ns/cgroup is a host namespace, which a container inside a VM cannot join'
  reset; edit_spec '.linux.namespaces += [{"type": "user"}]'
  create_fails_with 'config.json: linux.uidMappings: a user namespace needs uid mappings'
  reset; edit_spec '.linux.namespaces += [{"type": "user", "path": "/proc/1/ns/user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] | .linux.gidMappings = .linux.uidMappings'
  create_fails_with 'config.json: linux.namespaces[5].path: /proc/1/ns/user is a host namespace, which a container inside a VM cannot join'
  reset; edit_spec '.linux.namespaces += [{"type": "user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 0}] | .linux.gidMappings = .linux.uidMappings'
  create_fails_with 'config.json: linux.uidMappings[0].size: must be greater than 0'
  reset; edit_spec '.linux.sysctl = {"vm.swappiness": "10"}'
  create_fails_with 'config.json: linux.sysctl: "vm.swappiness" is not a namespaced key'
  reset; edit_spec '.mounts += [{"destination": "/data", "type": "ext4", "source": "/dev/sda1"}]'
  create_fails_with 'config.json: mounts[7].type: "ext4" cannot be mounted in the VM'
  reset; edit_spec '.mounts += [{"destination": "/data", "type": "bind", "source": "/nonexistent-kot", "options": ["rbind"]}]'
  create_fails_with 'config.json: mounts[7].source /nonexistent-kot: No such file or directory'
  reset; edit_spec '.linux.personality = {"domain": "SVR4"}'
  create_fails_with 'config.json: linux.personality.domain: unknown domain "SVR4"'
}

@test "seccomp: a filtered syscall fails with errnoRet; argument conditions; seccomp mode 2" {
  edit_spec '.root.readonly = false | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                 {"names": ["fchmodat", "chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": [{"index": 1, "value": 511, "op": "SCMP_CMP_EQ"}]}]}'
  set_args "$BUNDLE" sh -c 'grep "^Seccomp:" /proc/self/status; mkdir /tmp/d; echo mkdir=$?; touch /tmp/f; chmod 777 /tmp/f; echo chmod777=$?; chmod 700 /tmp/f; echo chmod700=$?'
  run_ctr
  [ "$status" -eq 0 ]
  [[ "$output" == *"Seccomp:	2"* ]]
  [[ "$output" == *"can't create directory '/tmp/d': Operation not permitted"* ]]
  [[ "$output" == *"mkdir=1"* ]]
  [[ "$output" == *"Permission denied"* ]]
  [[ "$output" == *"chmod777=1"* ]]
  [[ "$output" == *"chmod700=0"* ]]
}

@test "seccomp without noNewPrivileges, as a non-root user" {
  edit_spec '.process.noNewPrivileges = false | .process.user = {"uid": 1000, "gid": 1000}
    | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}'
  set_args "$BUNDLE" sh -c 'id -u; grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status'
  run_ctr
  [ "$status" -eq 0 ]
  [[ "$output" == *"1000"* ]]
  [[ "$output" == *"Seccomp:	2"* ]]
  [[ "$output" == *"NoNewPrivs:	0"* ]]
}

@test "mounts: bind rw and ro both ways, tmpfs size and mode, readonly root, masked and readonly paths" {
  mkdir -p "$WORK/vol-rw" "$WORK/vol-ro"
  echo from-host > "$WORK/vol-rw/host.txt"
  echo ro-content > "$WORK/vol-ro/ro.txt"
  edit_spec '.mounts += [
      {"destination": "/rw", "type": "bind", "source": "'"$WORK"'/vol-rw", "options": ["rbind", "rw"]},
      {"destination": "/ro", "type": "bind", "source": "'"$WORK"'/vol-ro", "options": ["rbind", "ro", "nosuid", "nodev", "noexec"]},
      {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=700", "nosuid"]}]
    | .root.readonly = true | .linux.maskedPaths += ["/etc/secret.d", "/etc/secret.txt"] | .linux.readonlyPaths += ["/tmp"]'
  mkdir -p "$BUNDLE/rootfs/etc/secret.d"; echo s1 > "$BUNDLE/rootfs/etc/secret.d/a"; echo s2 > "$BUNDLE/rootfs/etc/secret.txt"
  # set_args splits on newlines: one line of shell
  set_args "$BUNDLE" sh -c 'cat /rw/host.txt; echo from-guest > /rw/guest.txt; echo rw=$?; cat /ro/ro.txt; echo x > /ro/new.txt; echo ro=$?; grep " /scratch " /proc/self/mountinfo; stat -c "%a" /scratch; grep " /ro " /proc/self/mountinfo; echo x > /newfile; echo root=$?; echo x > /tmp/x; echo tmp=$?; echo "masked-file=[$(cat /etc/secret.txt)]"; echo "masked-dir=[$(ls /etc/secret.d)]"; echo "kcore=[$(head -c 10 /proc/kcore | wc -c)]"'
  run_ctr
  [ "$status" -eq 0 ]
  [[ "$output" == *from-host* ]]
  [[ "$output" == *"rw=0"* ]]
  [ "$(cat "$WORK/vol-rw/guest.txt")" = from-guest ]
  [[ "$output" == *ro-content* ]]
  [[ "$output" == *"ro=1"* ]]
  [ ! -e "$WORK/vol-ro/new.txt" ]
  [[ "$output" == *" /scratch "*"nosuid"*"tmpfs"*"size=1024k,mode=700"* ]]
  [[ "$output" == *$'\n700\n'* ]]
  [[ "$output" == *" /ro "*"ro,nosuid,nodev,noexec"* ]]
  [[ "$output" == *"root=1"* ]]
  [ ! -e "$BUNDLE/rootfs/newfile" ]
  [[ "$output" == *"tmp=1"* ]]
  [[ "$output" == *"masked-file=[]"* ]]
  [[ "$output" == *"masked-dir=[]"* ]]
  [[ "$output" == *"kcore=[0]"* ]]
}

@test "mounts: runc's recursive options (rro, rnosuid, rnoatime ...) and nosymfollow; rro holds beneath on the host side too" {
  mkdir -p "$WORK/vol/sub" "$WORK/vol2"
  mount -t tmpfs -o size=1m tmpfs "$WORK/vol/sub"
  ln -s /etc/passwd "$WORK/vol2/link"
  edit_spec '.mounts += [
      {"destination": "/rro", "type": "bind", "source": "'"$WORK"'/vol", "options": ["rbind", "rro", "rnosuid", "rnoatime"]},
      {"destination": "/ro", "type": "bind", "source": "'"$WORK"'/vol", "options": ["rbind", "ro"]},
      {"destination": "/ns", "type": "bind", "source": "'"$WORK"'/vol2", "options": ["rbind", "nosymfollow"]},
      {"destination": "/t", "type": "tmpfs", "source": "tmpfs", "options": ["defaults", "rnoexec", "rstrictatime"]}]'
  set_args "$BUNDLE" sh -c 'grep -E " /(rro|ro|ns|t) " /proc/self/mounts; touch /rro/sub/x; echo rro=$?; cat /ns/link >/dev/null; echo symfollow=$?; sleep 1000'
  # nothing may stop the test before the umount
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >"$WORK/out" 2>&1 || true
  for _ in $(seq 100); do grep -q symfollow= "$WORK/out" && break; sleep 0.1; done
  vfsd=$(jq -r .virtiofsdPid "$TEST_ROOT/$ID/state.json" || true)
  # the share's binds as virtiofsd sees them: mount point and options
  share=$(awk '$5 ~ "/mounts/" { print $5, $6 }' "/proc/$vfsd/mountinfo" || true)
  ko delete -f "$ID" || true
  umount "$WORK/vol/sub"
  cat "$WORK/out"; echo "$share"
  grep -qE ' /rro virtiofs ro,nosuid,[a-z,]*noatime' "$WORK/out"
  grep -q "rro=1" "$WORK/out"
  grep -qE ' /ns virtiofs [a-z,]*nosymfollow' "$WORK/out"
  grep -q "symfollow=1" "$WORK/out"
  grep -qE ' /t tmpfs rw,([a-z]+,)*noexec[ ,]' "$WORK/out"
  [[ "$(grep ' /t ' "$WORK/out")" != *atime* ]] # strictatime
  # mounts[N] is shared as mounts/N: rro is read-only beneath on the host
  # too, ro (as in runc) only the mount itself
  n=$(jq '.mounts | length' "$BUNDLE/config.json")
  grep -qE "/mounts/$((n - 4))/sub ro," <<<"$share"
  grep -qE "/mounts/$((n - 3))/sub rw," <<<"$share"
  grep -qE "/mounts/$((n - 3)) ro," <<<"$share"
}

@test "mounts: tmpcopyup copies the image's directory into the tmpfs, owners and modes kept, as runc; a read-only one too" {
  r=$BUNDLE/rootfs
  mkdir -p "$r/cu/sub/deeper" "$r/ro"
  # (chown clears set-id bits: the mode after it)
  echo one > "$r/cu/file"; chown 1000:2000 "$r/cu/file"; chmod 4755 "$r/cu/file"
  echo two > "$r/cu/sub/deeper/f"; chmod 700 "$r/cu/sub"
  ln -s ../file "$r/cu/sub/link"; mkfifo "$r/cu/fifo"; chown -h 7:8 "$r/cu/sub/link"
  head -c 300000 /dev/urandom > "$r/cu/big"; sum=$(md5sum < "$r/cu/big")
  echo ro-file > "$r/ro/f"
  edit_spec '.mounts += [
      {"destination": "/cu", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "tmpcopyup", "size=2m"]},
      {"destination": "/ro", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "tmpcopyup"]}]'
  set_args "$BUNDLE" sh -c 'grep -E " /(cu|ro) " /proc/self/mounts; stat -c "%n %a %u:%g %F" /cu/file /cu/sub /cu/sub/link /cu/fifo; readlink /cu/sub/link; cat /cu/file /cu/sub/deeper/f /ro/f; md5sum < /cu/big; echo new > /cu/new; echo w=$?; echo x > /ro/x; echo ro=$?'
  run_ctr
  [ "$status" -eq 0 ]
  [[ "$output" == *"tmpfs /cu tmpfs rw,nosuid"* ]]
  [[ "$output" == *"tmpfs /ro tmpfs ro"* ]]
  [[ "$output" == *"/cu/file 4755 1000:2000 regular file"* ]]
  [[ "$output" == *"/cu/sub 700 0:0 directory"* ]]
  [[ "$output" == *"/cu/sub/link 777 7:8 symbolic link"* ]]
  [[ "$output" == *"/cu/fifo 644 0:0 fifo"* ]]
  [[ "$output" == *$'\n../file\none\ntwo\nro-file\n'"$sum"* ]]
  [[ "$output" == *"w=0"* ]]
  [[ "$output" == *"ro=1"* ]]
  # the image is untouched
  [ ! -e "$r/cu/new" ]
}

# "MOUNTPOINT: OPTIONAL-FIELDS" for each line of the container's mountinfo
MOUNT_PROPS='awk '"'"'{ o = ""; for (i = 7; $i != "-"; i++) o = o " " $i; print $5 ":" o }'"'"' /proc/self/mountinfo'

@test "mounts: propagation options apply to their mount, after rootfsPropagation, as in runc" {
  EXTRA_IDS="$ID-shared"
  mkdir -p "$WORK/vol"
  edit_spec '.linux.rootfsPropagation = "rprivate"
    | .mounts += [{"destination": "/b", "type": "bind", "source": "'"$WORK/vol"'", "options": ["rbind", "rshared"]},
                  {"destination": "/t", "type": "tmpfs", "source": "tmpfs", "options": ["unbindable"]}]'
  set_args "$BUNDLE" sh -c "$MOUNT_PROPS"
  run_ctr
  [ "$status" -eq 0 ]
  grep -qE '^/b: shared:[0-9]+$' <<<"$output"
  grep -qx '/t: unbindable' <<<"$output"
  grep -qx '/:' <<<"$output"
  # a shared root: "/" joins a peer group, the mounts keep their own
  edit_spec '.linux.rootfsPropagation = "shared"
    | .mounts[-2].options = ["rbind", "runbindable"] | .mounts[-1].options = ["private"]'
  run ko run --bundle "$BUNDLE" "$ID-shared" </dev/null
  echo "$output"
  [ "$status" -eq 0 ]
  grep -qE '^/: shared:[0-9]+$' <<<"$output"
  grep -qx '/b: unbindable' <<<"$output"
  grep -qx '/t:' <<<"$output"
}

@test "virtio-fs cache: auto sees a host change at the next open, always keeps what the guest read, none caches nothing" {
  mkdir -p "$WORK/vol"
  edit_spec '.mounts += [{"destination": "/vol", "type": "bind", "source": "'"$WORK"'/vol", "options": ["rbind", "rw"]}]'
  # The init holds /vol/f open, so the guest cannot evict its inode (and
  # the pages cached with it) between the reads: with always, only that
  # would show the host's change.
  set_args "$BUNDLE" sh -c 'exec 3</vol/f; exec sleep 1000'
  for mode in auto always none; do
    echo aaaa > "$WORK/vol/f"
    KATA_OCI_VIRTIO_FS_CACHE=$mode ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
    ps -eo args | grep "virtiofsd .*source=$TEST_ROOT/$ID/shared .*cache=$mode "
    # run -d returns once the init runs, maybe before its shell opened
    # the file: an open that comes after the host's change below let the
    # guest read it again with always (1 run in 4 on a fast host)
    wait_until ko exec "$ID" test -e /proc/1/fd/3
    [ "$(ko exec "$ID" cat /vol/f)" = aaaa ]
    # the same size: the attributes cannot tell the guest
    echo bbbb > "$WORK/vol/f"
    if [ "$mode" = always ]; then
      [ "$(ko exec "$ID" cat /vol/f)" = aaaa ]
    else
      [ "$(ko exec "$ID" cat /vol/f)" = bbbb ]
    fi
    # programs on the share run in every mode (with none, mmap of
    # direct-I/O files)
    ko exec "$ID" sh -c '/bin/true && /bin/echo ran' | grep -qx ran
    ko delete -f "$ID"
    assert_nothing_left "$ID"
  done
  # per container, the annotation wins over the environment
  edit_spec '.annotations = {"io.katacontainers.config.hypervisor.virtio_fs_cache": "always"}'
  KATA_OCI_VIRTIO_FS_CACHE=none ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  ps -eo args | grep "virtiofsd .*source=$TEST_ROOT/$ID/shared .*cache=always "
  ko delete -f "$ID"
  assert_nothing_left "$ID"
}

@test "mounts: a symlinked destination resolves inside the rootfs, never outside" {
  mkdir -p "$WORK/vol"; echo marker > "$WORK/vol/marker"
  ln -s /../../../../../escape "$BUNDLE/rootfs/link"
  edit_spec '.root.readonly = false | .mounts += [{"destination": "/link/sub", "type": "bind", "source": "'"$WORK"'/vol", "options": ["rbind"]}]'
  set_args "$BUNDLE" sh -c 'cat /escape/sub/marker; cat /link/sub/marker'
  run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = marker ]
  [ "${lines[1]}" = marker ]
  # the mount point was made inside the bundle's rootfs
  [ -d "$BUNDLE/rootfs/escape/sub" ]
}

@test "mounts: proc and sysfs only on an ordinary directory, as runc; nothing is made or left" {
  rm -rf "$BUNDLE/rootfs/proc" "$BUNDLE/rootfs/sys"
  ln -s "$BUNDLE/rootfs/proc" "$BUNDLE/rootfs/proc"
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  [ "$status" -eq 1 ]
  [[ "$output" == *'config.json: mounts['*']: filesystem "proc" must be mounted on ordinary directory (/proc in the rootfs is a symbolic link)'* ]]
  [ ! -e "$BUNDLE/rootfs/$BUNDLE" ]
  assert_nothing_left "$ID"
  rm "$BUNDLE/rootfs/proc"
  mkdir "$BUNDLE/rootfs/proc"
  touch "$BUNDLE/rootfs/sys"
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  [ "$status" -eq 1 ]
  [[ "$output" == *'filesystem "sysfs" must be mounted on ordinary directory (/sys in the rootfs is a file)'* ]]
  assert_nothing_left "$ID"
  # absent: the guest makes it
  rm "$BUNDLE/rootfs/sys"
  set_args "$BUNDLE" sh -c 'test -d /sys/kernel && echo ok'
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
}

@test "mounts: the --pid-file process's mount namespace has the volumes, symlinks resolved inside the rootfs" {
  mkdir -p "$WORK/vol" "$WORK/vol2"; echo marker > "$WORK/vol/marker"; echo two > "$WORK/vol2/m2"
  ln -s /../../../../../escape "$BUNDLE/rootfs/link"
  edit_spec '.root.readonly = false | .mounts += [{"destination": "/link/sub", "type": "bind", "source": "'"$WORK"'/vol", "options": ["rbind"]}, {"destination": "/v2", "type": "bind", "source": "'"$WORK"'/vol2", "options": ["rbind", "ro"]}, {"destination": "/dev/shm/v3", "type": "bind", "source": "'"$WORK"'/vol2", "options": ["rbind"]}]'
  set_args "$BUNDLE" sleep 1000
  ko run -d --pid-file "$WORK/pid" --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  pid=$(cat "$WORK/pid")
  # as podman cp writes into a running container
  nsenter -t "$pid" -m sh -c 'echo from-host > /escape/sub/new'
  [ "$(cat "$WORK/vol/new")" = from-host ]
  [ "$(ko exec "$ID" cat /link/sub/new)" = from-host ]
  [ "$(nsenter -t "$pid" -m cat /v2/m2)" = two ]
  run nsenter -t "$pid" -m sh -c 'echo x > /v2/x'
  [ "$status" -ne 0 ]
  [ ! -e "$WORK/vol2/x" ]
  # /dev/shm is the guest's: not in the rootfs, so not there
  [ ! -e "$BUNDLE/rootfs/dev/shm/v3/m2" ]
  run nsenter -t "$pid" -m cat /dev/shm/v3/m2
  [ "$status" -ne 0 ]
}

@test "linux: a time namespace with linux.timeOffsets (runc 1.2): the init and exec'd processes see the offsets" {
  edit_spec '.linux.namespaces += [{"type": "time"}]
    | .linux.timeOffsets = {"boottime": {"secs": 86400, "nanosecs": 5}, "monotonic": {"secs": 7}}'
  set_args "$BUNDLE" sh -c 'cat /proc/self/timens_offsets; cut -d. -f1 /proc/uptime; exec sleep 1000'
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >"$WORK/out" 2>&1
  wait_until grep -q . "$WORK/out"
  sleep 0.5
  cat "$WORK/out"
  grep -q "^monotonic *7 *0$" "$WORK/out"
  grep -q "^boottime *86400 *5$" "$WORK/out"
  # uptime: boottime's offset on top of the VM's few seconds
  up=$(tail -1 "$WORK/out")
  [ "$up" -ge 86400 ] && [ "$up" -lt 86400000 ]
  # an exec'd process joins it
  run ko exec "$ID" cut -d. -f1 /proc/uptime
  [ "$output" -ge 86400 ]
  run ko exec "$ID" sh -c 'readlink /proc/self/ns/time; readlink /proc/1/ns/time'
  [ "${lines[0]}" = "${lines[1]}" ]
  ko delete -f "$ID"
  # without offsets: a time namespace of its own, the VM's clocks
  edit_spec 'del(.linux.timeOffsets)'
  set_args "$BUNDLE" sh -c 'cut -d. -f1 /proc/uptime'
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  [ "$status" -eq 0 ]
  [ "$output" -lt 86400 ]
}

@test "linux: sysctl, hostname, domainname, personality, devices, namespaces" {
  edit_spec '.hostname = "spec-host" | .domainname = "spec.domain"
    | .linux.sysctl = {"kernel.shmmax": "123456789", "fs.mqueue.msg_max": "33", "net.ipv4.ip_forward": "1"}
    | .linux.personality = {"domain": "LINUX32"}
    | .linux.devices = [{"type": "c", "path": "/dev/kot-null", "major": 1, "minor": 3, "fileMode": 438, "uid": 5, "gid": 6}]
    | .linux.namespaces += [{"type": "cgroup"}]'
  set_args "$BUNDLE" sh -c 'cat /proc/sys/kernel/shmmax /proc/sys/fs/mqueue/msg_max /proc/sys/net/ipv4/ip_forward; hostname; cat /proc/sys/kernel/domainname; uname -m; ls -ln /dev/kot-null; echo hi > /dev/kot-null && echo dev-ok; cat /proc/self/cgroup; echo pid=$$'
  run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 123456789 ]
  [ "${lines[1]}" = 33 ]
  [ "${lines[2]}" = 1 ]
  [ "${lines[3]}" = spec-host ]
  [ "${lines[4]}" = spec.domain ]
  [[ "${lines[5]}" == i?86 ]]
  [[ "${lines[6]}" == "crw-rw-rw-"*" 5 "*" 6 "*"1, "*"3 "*/dev/kot-null ]]
  [ "${lines[7]}" = dev-ok ]
  [ "${lines[8]}" = "0::/" ]
  [ "${lines[9]}" = pid=1 ]
}

@test "devices: the spec's device rules hold in the guest (runc's eBPF device program)" {
  EXTRA_IDS="$ID-allow"
  # kata-oci spec's deny-all rule, runc's defaults, a linux.devices entry;
  # mknod is allowed for any device (as runc), opening it is not
  edit_spec '.process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]
    | .linux.devices = [{"type": "c", "path": "/dev/kot-null", "major": 1, "minor": 3}]
    | .mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]}]'
  jq -e '.linux.resources.devices == [{"allow": false, "access": "rwm"}]' "$BUNDLE/config.json"
  set_args "$BUNDLE" sh -c 'mknod /tmp/k c 1 11 && echo mknod-ok; (: < /tmp/k) 2>&1; echo hi > /dev/null && cat /dev/null && echo null-ok; echo hi > /dev/kot-null && echo kot-ok; head -c 4 /dev/urandom | wc -c; mknod /tmp/b b 254 0 && (: < /tmp/b) 2>&1; true'
  run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = mknod-ok ]
  [[ "${lines[1]}" == *"Operation not permitted"* ]]
  [ "${lines[2]}" = null-ok ]
  [ "${lines[3]}" = kot-ok ]
  [ "${lines[4]}" = 4 ]
  # a guest disk (virtio-blk's major) is denied too
  [[ "${lines[5]}" == *"Operation not permitted"* ]]

  # an explicit allow rule for c 1:11 r lets it be read, not written
  edit_spec '.linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "rm"}]'
  set_args "$BUNDLE" sh -c 'mknod /tmp/k c 1 11 && (: < /tmp/k) && echo read-ok; (: > /tmp/k) 2>&1; true'
  ID="$ID-allow" run_ctr
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = read-ok ]
  [[ "${lines[1]}" == *"Operation not permitted"* ]]
}

@test "devices: a bad device rule names the field and leaves nothing" {
  edit_spec '.linux.resources.devices = [{"allow": true, "type": "c", "access": "rwx"}]'
  create_fails_with 'config.json: linux.resources.devices[0].access: "rwx" is not a subset of "rwm"'
}

@test "network: the container has the VM's network namespace, lo only, and exec shares it" {
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  run ko exec "$ID" sh -c 'ls /sys/class/net; tail -n +3 /proc/net/dev | cut -d: -f1; [ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net)" ] && echo same-netns; cat /proc/1/cgroup'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = lo ]
  [ "$(echo ${lines[1]})" = lo ]
  [ "${lines[2]}" = same-netns ]
  # the init started in its group, under the pod's (no cgroup namespace:
  # the guest's path)
  [ "${lines[3]}" = "0::/pod/$ID" ]
  [ "${#lines[@]}" -eq 4 ]
}

@test "network: no network namespace (podman --network host): the guest's own network, lo alone, as the log says" {
  edit_spec '.linux.namespaces |= map(select(.type != "network"))'
  set_args "$BUNDLE" sh -c 'ls /sys/class/net'
  run ko --log "$WORK/log" run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"; cat "$WORK/log"
  [ "$status" -eq 0 ]
  [ "$output" = lo ]
  grep -q 'level=info msg="config.json: linux.namespaces: no network namespace, which runc reads as the host'"'"'s network: in its VM the container has the guest'"'"'s own, with lo alone"' "$WORK/log"
}

@test "linux: without a hostname the container has the host's, with or without a UTS namespace, as under runc" {
  edit_spec 'del(.hostname) | .linux.namespaces |= map(select(.type != "uts"))'
  set_args "$BUNDLE" hostname
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  [ "$status" -eq 0 ]
  [ "$output" = "$(hostname)" ]
  # a new UTS namespace starts as a copy of it
  edit_spec '.linux.namespaces += [{"type": "uts"}]'
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  [ "$status" -eq 0 ]
  [ "$output" = "$(hostname)" ]
}

# A user namespace mapping container ids 0-65535 to host 100000-165535; the
# rootfs reaches the guest through virtio-fs with its host owners, so it is
# chowned to the mapped ids first.
userns_spec() {
  chown -hR 100000:100000 "$BUNDLE/rootfs"
  edit_spec '.linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
}

@test "user namespace: ids are mapped, new files belong to the mapped ids, unmapped ones grant nothing" {
  userns_spec
  mkdir "$BUNDLE/rootfs/rootonly"   # the host's root, unmapped
  mkdir -p "$WORK/vol"; echo from-host > "$WORK/vol/in"; chown -R 100000:100000 "$WORK/vol"
  edit_spec '.root.readonly = false
    | .mounts += [{"destination": "/vol", "type": "bind", "source": "'"$WORK"'/vol", "options": ["rbind", "ro"]}]
    | .linux.devices = [{"type": "c", "path": "/dev/kot-null", "major": 1, "minor": 3}]
    | .linux.namespaces += [{"type": "cgroup"}]'
  set_args "$BUNDLE" sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; touch /created && echo created; stat -c %u:%g /rootonly; touch /rootonly/x 2>/dev/null; echo rootonly=$?; mknod /tmp/n c 1 3 2>/dev/null; echo mknod=$?; echo hi > /dev/kot-null && echo hi > /dev/null && echo dev-ok; cat /vol/in; (echo x > /vol/x) 2>/dev/null; echo vol=$?; cat /proc/self/cgroup; grep " /sys/fs/cgroup " /proc/self/mountinfo'
  run_ctr
  [ "$status" -eq 0 ]
  [ "$(echo ${lines[0]})" = "0 100000 65536" ]
  [ "$(echo ${lines[1]})" = "0 100000 65536" ]
  [ "${lines[2]}" = 0 ]
  [ "${lines[3]}" = 0 ]
  [ "${lines[4]}" = created ]
  [ "${lines[5]}" = 65534:65534 ]
  [ "${lines[6]}" = rootonly=1 ]
  [ "${lines[7]}" = mknod=1 ]
  [ "${lines[8]}" = dev-ok ]
  [ "${lines[9]}" = from-host ]
  [ "${lines[10]}" = vol=1 ]
  # a cgroup namespace of its own: cgroup2 is mounted, not the guest's bound
  [ "${lines[11]}" = "0::/" ]
  [[ "${lines[12]}" == *" / /sys/fs/cgroup ro,"*" - cgroup2 "* ]]
  [ "$(stat -c %u:%g "$BUNDLE/rootfs/created")" = 100000:100000 ]
  [ ! -e "$BUNDLE/rootfs/rootonly/x" ]
  [ ! -e "$WORK/vol/x" ]
}

@test "user namespace: its root overrides file modes of its own ids, as under runc; others still are refused" {
  userns_spec
  # owned by another of the container's ids, and by its root but read-only
  mkdir "$BUNDLE/rootfs/other" "$BUNDLE/rootfs/locked"
  chown 101000:101000 "$BUNDLE/rootfs/other"
  chown 100000:100000 "$BUNDLE/rootfs/locked"
  chmod 0755 "$BUNDLE/rootfs/other"
  chmod 0555 "$BUNDLE/rootfs/locked"
  echo "nobody:x:65534:65534:nobody:/:/bin/sh" >> "$BUNDLE/rootfs/etc/passwd"
  # without CAP_DAC_OVERRIDE (runc spec's set) the guest refuses
  edit_spec '.root.readonly = false'
  set_args "$BUNDLE" sh -c 'touch /other/f 2>/dev/null; echo other=$?; touch /locked/f 2>/dev/null; echo locked=$?'
  run_ctr
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = other=1 ]
  [ "${lines[1]}" = locked=1 ]
  # with it (podman's default set has it) the guest allows, and so does
  # virtiofsd, creating as the caller
  edit_spec '.process.capabilities.bounding += ["CAP_DAC_OVERRIDE"]
    | .process.capabilities.effective += ["CAP_DAC_OVERRIDE"]
    | .process.capabilities.permitted += ["CAP_DAC_OVERRIDE"]'
  set_args "$BUNDLE" sh -c 'echo a > /other/f && mkdir /other/d && echo other-ok; touch /locked/f && echo locked-ok; su nobody -s /bin/sh -c "touch /other/g" 2>/dev/null; echo nobody=$?'
  run_ctr
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = other-ok ]
  [ "${lines[1]}" = locked-ok ]
  [ "${lines[2]}" = nobody=1 ]
  # made as the container's root: its mapped id on the host
  [ "$(stat -c %u:%g "$BUNDLE/rootfs/other/f")" = 100000:100000 ]
  [ "$(stat -c %u:%g "$BUNDLE/rootfs/other/d")" = 100000:100000 ]
  [ "$(stat -c %u:%g "$BUNDLE/rootfs/locked/f")" = 100000:100000 ]
  [ ! -e "$BUNDLE/rootfs/other/g" ]
}

@test "user namespace: exec joins it; without network and cgroup namespaces sysfs and cgroup2 are the guest's, read-only" {
  userns_spec
  edit_spec '.linux.namespaces |= map(select(.type != "network"))'
  set_args "$BUNDLE" sleep 1000
  ko run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  run ko exec "$ID" sh -c 'cat /proc/self/uid_map; id -u; [ "$(readlink /proc/self/ns/user)" = "$(readlink /proc/1/ns/user)" ] && echo same-userns; grep " / /sys " /proc/self/mountinfo; grep " / /sys/fs/cgroup " /proc/self/mountinfo | tail -1; touch /x'
  echo "$output"
  [ "$(echo ${lines[0]})" = "0 100000 65536" ]
  [ "${lines[1]}" = 0 ]
  [ "${lines[2]}" = same-userns ]
  [[ "${lines[3]}" == *" / /sys ro,"*" - sysfs "* ]]
  [[ "${lines[4]}" == *" / /sys/fs/cgroup ro,"*" - cgroup2 "* ]]
  [[ "$output" == *"Read-only file system"* ]]
  run ko exec -u 1000:1000 "$ID" sh -c 'id -u; id -g; cat /proc/self/gid_map'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1000 ]
  [ "${lines[1]}" = 1000 ]
  [ "$(echo ${lines[2]})" = "0 100000 65536" ]
}

@test "hooks: every kind runs on the host with the state on stdin, args and env" {
  edit_spec '.hooks = {
    "prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > '"$WORK"'/prestart.json; echo prestart >> '"$WORK"'/order"]}],
    "createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > '"$WORK"'/createRuntime.json; echo createRuntime $HOOKVAR >> '"$WORK"'/order"], "env": ["HOOKVAR=from-env"]}],
    "createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "echo createContainer $PROCVAR >> '"$WORK"'/order"]}],
    "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "echo startContainer $PROCVAR >> '"$WORK"'/order"]}],
    "poststart": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > '"$WORK"'/poststart.json; echo poststart $PROCVAR >> '"$WORK"'/order"]}],
    "poststop": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > '"$WORK"'/poststop.json; echo poststop >> '"$WORK"'/order"], "timeout": 5}]}
    | .annotations = {"org.example.k": "v"}
    | .process.env += ["PROCVAR=from-process"]'
  set_args "$BUNDLE" true
  ko create --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  # createContainer and startContainer without an env: the process's, as
  # runc's (run in its container's init); the others: none
  [ "$(cat "$WORK/order")" = "$(printf 'prestart\ncreateRuntime from-env\ncreateContainer from-process')" ]
  [ "$(jq -r .id "$WORK/prestart.json")" = "$ID" ]
  [ "$(jq -r .status "$WORK/prestart.json")" = created ]
  [ "$(jq -r .status "$WORK/createRuntime.json")" = creating ]
  [ "$(jq -r .bundle "$WORK/createRuntime.json")" = "$BUNDLE" ]
  [ "$(jq -r .pid "$WORK/createRuntime.json")" = "$(ko state "$ID" | jq -r .pid)" ]
  [ "$(jq -r '.annotations["org.example.k"]' "$WORK/prestart.json")" = v ]
  ko start "$ID"
  wait_status "$ID" stopped
  [ "$(jq -r .status "$WORK/poststart.json")" = running ]
  ko delete "$ID"
  [ "$(jq -r .status "$WORK/poststop.json")" = stopped ]
  [ "$(cat "$WORK/order")" = "$(printf 'prestart\ncreateRuntime from-env\ncreateContainer from-process\nstartContainer from-process\npoststart\npoststop')" ]
}

@test "hooks: a failing prestart fails create with its stderr and tears everything down" {
  edit_spec '.hooks = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "echo bad-hook-output >&2; exit 3"]}]}'
  create_fails_with 'prestart hook 0 (/bin/sh): exit status 3: bad-hook-output'
}

@test "hooks: a createRuntime hook past its timeout fails create" {
  edit_spec '.hooks = {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]}'
  create_fails_with 'createRuntime hook 0 (/bin/sleep): timed out after 1 s'
}

@test "hooks: failing poststart and poststop only warn" {
  edit_spec '.hooks = {"poststart": [{"path": "/bin/false"}], "poststop": [{"path": "/bin/false"}]}'
  set_args "$BUNDLE" true
  ko create --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
  ko start "$ID"
  wait_status "$ID" stopped
  run ko delete "$ID"
  [ "$status" -eq 0 ]
  [[ "$output" == *"poststop hook 0 (/bin/false): exit status 1"* ]]
}

@test "host cgroup: the monitor, QEMU and virtiofsd in linux.cgroupsPath with limits; VM sized from the spec" {
  cg="/kot-$ID"
  edit_spec '.linux.cgroupsPath = "'"$cg"'" | .linux.resources.memory = {"limit": 268435456}
    | .linux.resources.cpu = {"quota": 150000, "period": 100000, "shares": 512} | .linux.resources.pids = {"limit": 100}'
  set_args "$BUNDLE" sh -c 'grep MemTotal /proc/meminfo; grep -c ^processor /proc/cpuinfo'
  ko create --bundle "$BUNDLE" "$ID" >"$WORK/out" 2>&1 </dev/null
  mem=/sys/fs/cgroup/memory$cg
  if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
    mem=/sys/fs/cgroup$cg
    [ "$(cat $mem/memory.max)" = $(( (256 + 128 + 256) * 1048576 )) ]
    [ "$(cat $mem/cpu.max)" = "175000 100000" ]
    [ "$(cat $mem/pids.max)" = 612 ]
  else
    [ "$(cat $mem/memory.limit_in_bytes)" = $(( (256 + 128 + 256) * 1048576 )) ]
    [ "$(cat /sys/fs/cgroup/cpu$cg/cpu.cfs_quota_us)" = 175000 ]
    [ "$(cat /sys/fs/cgroup/cpu$cg/cpu.shares)" = 512 ]
    [ "$(cat /sys/fs/cgroup/pids$cg/pids.max)" = 612 ]
  fi
  st=$(cat "$TEST_ROOT/$ID/state.json")
  for pid in $(echo "$st" | jq -r '.monitorPid, .qemuPid, .virtiofsdPid'); do
    grep -qx "$pid" "$mem/cgroup.procs"
  done
  ko start "$ID"
  wait_status "$ID" stopped
  cat "$WORK/out"
  # 256 MiB + 128 MiB headroom of guest RAM, 2 vCPUs
  kb=$(awk '/MemTotal/ {print $2}' "$WORK/out")
  [ "$kb" -gt $(( 300 * 1024 )) ] && [ "$kb" -le $(( 384 * 1024 )) ]
  [ "$(tail -1 "$WORK/out")" = 2 ]
  ko delete "$ID"
  [ ! -e "$mem" ]
}

@test "host cgroup: a systemd slice path under --systemd-cgroup fails create clearly" {
  edit_spec '.linux.cgroupsPath = "system.slice:kata:x"'
  run "$KATA_OCI" --root "$TEST_ROOT" --systemd-cgroup create --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *'config.json: linux.cgroupsPath: "system.slice:kata:x" is a systemd slice path (--systemd-cgroup); kata-oci has no systemd cgroup driver'* ]]
  assert_nothing_left "$ID"
}
