#!/usr/bin/env bats
# The CLI without a VM: help, version, spec, features, check, env, list,
# state, and every kind of bad input, with its message and exit status 1.

load helpers

setup() { setup_common; }
teardown() {
  rm -rf "$WORK"
  rm -rf "$TEST_ROOT"
}

@test "every command has --help" {
  for c in create start state kill delete run exec list ps pause resume events update spec features check env; do
    run "$KATA_OCI" "$c" --help
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "Usage: kata-oci $c"* ]]
  done
  run "$KATA_OCI" --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"--log-format"* ]]
}

@test "--version prints runc-style lines" {
  run "$KATA_OCI" --version
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "kata-oci version "* ]]
  [[ "${lines[1]}" == "commit: "* ]]
  [ "${lines[2]}" = "spec: 1.2.0" ]
}

@test "unknown command and unknown option fail with status 1" {
  run "$KATA_OCI" frobnicate
  [ "$status" -eq 1 ]
  [[ "$output" == *'unknown command "frobnicate"'* ]]
  run "$KATA_OCI" create --bogus x
  [ "$status" -eq 1 ]
  [[ "$output" == *"create: unknown option --bogus"* ]]
  run "$KATA_OCI" --log-format yaml list
  [ "$status" -eq 1 ]
  [[ "$output" == *'--log-format: unknown format "yaml"'* ]]
}

@test "runc's other global options are taken; missing values and checkpoint fail clearly" {
  run "$KATA_OCI" --rootless auto --criu /usr/sbin/criu --root "$TEST_ROOT" list -q
  [ "$status" -eq 0 ]
  run "$KATA_OCI" --rootless maybe list
  [ "$status" -eq 1 ]
  [[ "$output" == *"--rootless maybe: expected true, false or auto"* ]]
  run "$KATA_OCI" --root
  [ "$status" -eq 1 ]
  [[ "$output" == *"global option --root: requires a value"* ]]
  run "$KATA_OCI" create --bundle
  [ "$status" -eq 1 ]
  [[ "$output" == *"create: option --bundle: requires a value"* ]]
  run "$KATA_OCI" exec -ze X x
  [ "$status" -eq 1 ]
  [[ "$output" == *"exec: unknown option -z"* ]]
  run "$KATA_OCI" create --keep x
  [ "$status" -eq 1 ]
  [[ "$output" == *"create: unknown option --keep"* ]]
  run "$KATA_OCI" run --preserve-fds two x
  [ "$status" -eq 1 ]
  [[ "$output" == *"run: --preserve-fds two: expected a number"* ]]
  run "$KATA_OCI" exec --preserve-fds -1 x true
  [ "$status" -eq 1 ]
  [[ "$output" == *"exec: --preserve-fds -1: expected a number"* ]]
  run "$KATA_OCI" exec -e NOVALUE x true
  [ "$status" -eq 1 ]
  [[ "$output" == *"exec: --env NOVALUE: expected NAME=VALUE"* ]]
  for c in checkpoint restore; do
    run "$KATA_OCI" "$c" x
    [ "$status" -eq 1 ]
    [[ "$output" == *"$c: not supported"* ]]
  done
}

@test "spec writes a config.json that parses, and refuses to overwrite" {
  mkdir "$WORK/s"
  run "$KATA_OCI" spec --bundle "$WORK/s"
  [ "$status" -eq 0 ]
  jq -e '.ociVersion == "1.2.0" and .process.args == ["sh"]' "$WORK/s/config.json"
  run "$KATA_OCI" spec --bundle "$WORK/s"
  [ "$status" -eq 1 ]
  [[ "$output" == *"config.json exists"* ]]
  mkdir "$WORK/r"
  "$KATA_OCI" spec --rootless --bundle "$WORK/r"
  jq -e '.linux.uidMappings | length == 1' "$WORK/r/config.json"
}

@test "features prints the features document" {
  run "$KATA_OCI" features
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.ociVersionMax == "1.2.0" and (.hooks | index("prestart"))'
  # the namespaces create takes
  echo "$output" | jq -e '.linux.namespaces == ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"]'
  # the annotations that configure the VM, for engines to filter
  echo "$output" | jq -e '.potentiallyUnsafeConfigAnnotations == ["io.katacontainers.", "io.kata-oci."]'
}

@test "check says KVM or TCG and vsock or virtio-serial" {
  run "$KATA_OCI" check
  [[ "$output" == *"accel: "* ]]
  [[ "$output" == *"channel: "* ]]
  # KVM only where QEMU's user can open it and hardware virtualization is
  # behind it (not PVM's software nested KVM, which runs no ordinary guest)
  local mode=
  [ -e /dev/kvm ] && mode=$(stat -c %a /dev/kvm)
  if [ -n "$mode" ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } &&
    { [ $(((8#$mode & 8#060) == 8#060)) = 1 ] || [ $(((8#$mode & 8#006) == 8#006)) = 1 ]; }; then
    [[ "$output" == *"accel: kvm"* ]]
    [[ "$output" == *"/dev/kvm"*"found: VMs use KVM"* ]]
  else
    [[ "$output" == *"accel: tcg"* ]]
    if [ -z "$mode" ]; then
      [[ "$output" == *"/dev/kvm"*"missing: QEMU runs under TCG"* ]]
    elif [ -d /sys/module/kvm_pvm ] && [ ! -d /sys/module/kvm_intel ] && [ ! -d /sys/module/kvm_amd ]; then
      [[ "$output" == *"/dev/kvm"*"found, but it is PVM (kvm_pvm)"*"QEMU runs under TCG"* ]]
    else
      [[ "$output" == *"/dev/kvm"*"found, but "*"QEMU runs under TCG"* ]]
    fi
  fi
  run env KATA_OCI_ACCEL=tcg "$KATA_OCI" check
  [[ "$output" == *"accel: tcg"* ]]
  [[ "$output" != *"found, but"* ]]
  # which kernel, from the .info file beside it
  if [ -f "${KATA_OCI_KERNEL:-}.info" ]; then
    [[ "$output" == *"kernel info"*"$(head -n 1 "$KATA_OCI_KERNEL.info")"* ]]
  fi
  if [ -w /dev/net/tun ]; then
    [[ "$output" == *"/dev/net/tun"*"found: the interfaces of a container's network namespace reach its VM"* ]]
  else
    [[ "$output" == *"/dev/net/tun"*"missing: a container given a network namespace path cannot be created"* ]]
  fi
  KATA_OCI_KERNEL=/nonexistent run "$KATA_OCI" check
  [ "$status" -eq 1 ]
  [[ "$output" == *"guest kernel"*"/nonexistent"*missing* ]]
  [[ "$output" == *"1 required component is missing"* ]]
  KATA_OCI_FIRMWARE=/nonexistent/fw.rom run "$KATA_OCI" check
  [ "$status" -eq 1 ]
  [[ "$output" == *"guest firmware"*"/nonexistent/fw.rom"*missing* ]]
  KATA_OCI_FIRMWARE=qemu-default run "$KATA_OCI" check
  [[ "$output" == *"guest firmware"*"qemu-default"*"SeaBIOS"* ]]
  run "$KATA_OCI" check
  [[ "$output" == *"virtio-fs cache"*"auto"*"host changes are seen when a file is opened"* ]]
  KATA_OCI_VIRTIO_FS_CACHE=always run "$KATA_OCI" check
  [[ "$output" == *"virtio-fs cache"*"always"*"host changes may go unseen"* ]]
  KATA_OCI_VIRTIO_FS_CACHE=sometimes run "$KATA_OCI" check
  [ "$status" -eq 1 ]
  [[ "$output" == *"virtio-fs cache"*"sometimes"*invalid* ]]
  [[ "$output" == *'KATA_OCI_VIRTIO_FS_CACHE: expected auto, always or none, not "sometimes"'* ]]
}

@test "a configuration file: create takes its settings, the environment wins over it; a bad one fails create, check and env, naming file and line" {
  printf '%s\n' '# kata-oci' 'KATA_OCI_MEMORY_MB = 384' 'KATA_OCI_VCPUS=2' > "$WORK/ko.conf"
  export KATA_OCI_CONFIG=$WORK/ko.conf
  run "$KATA_OCI" env
  [ "$status" -eq 0 ]
  [[ "$output" == "config=$WORK/ko.conf"$'\n'* ]]
  [[ "$output" == *$'\nmemory_mb=384\n'* ]]
  [[ "$output" == *$'\nvcpus=2\n'* ]]
  KATA_OCI_VCPUS=1 run "$KATA_OCI" env
  [[ "$output" == *$'\nvcpus=1\n'* ]]
  set_args "$BUNDLE" sh -c 'grep MemTotal /proc/meminfo; grep -c ^processor /proc/cpuinfo'
  run ko run --bundle "$BUNDLE" "$ID" </dev/null
  echo "$output"
  [ "$status" -eq 0 ]
  kb=$(echo "${lines[0]}" | awk '{print $2}')
  [ "$kb" -gt 300000 ] && [ "$kb" -le 393216 ]
  [ "${lines[1]}" = 2 ]
  # refused: create stops before anything starts
  printf '%s\n' 'KATA_OCI_MEMORY_MB=384' 'KATA_OCI_VCPUS=many' > "$WORK/ko.conf"
  run ko create --bundle "$BUNDLE" "$ID" </dev/null
  [ "$status" -eq 1 ]
  [[ "$output" == *"$WORK/ko.conf:2: KATA_OCI_VCPUS: expected a whole number from 1 to 256, not \"many\""* ]]
  assert_nothing_left "$ID"
  run "$KATA_OCI" check
  [ "$status" -eq 1 ]
  [[ "$output" == *"config file"*"$WORK/ko.conf"*invalid* ]]
  [[ "$output" == *"check: $WORK/ko.conf:2: KATA_OCI_VCPUS"* ]]
  printf 'KATA_OCI_MEMORY=1\n' > "$WORK/ko.conf"
  run "$KATA_OCI" env
  [ "$status" -eq 1 ]
  [[ "$output" == *"env: $WORK/ko.conf:1: unknown setting \"KATA_OCI_MEMORY\""* ]]
  KATA_OCI_CONFIG=$WORK/none.conf run "$KATA_OCI" env
  [ "$status" -eq 1 ]
  [[ "$output" == *"configuration file $WORK/none.conf: No such file or directory"* ]]
  # the example, every line uncommented, is a good file of the defaults
  sed 's/^#KATA_OCI_/KATA_OCI_/' "$BATS_TEST_DIRNAME/../../contrib/kata-oci.conf" > "$WORK/ko.conf"
  [ "$(grep -c '^KATA_OCI_' "$WORK/ko.conf")" -eq 14 ]
  env -u KATA_OCI_KERNEL -u KATA_OCI_INITRD "$KATA_OCI" env > "$WORK/env-example"
  KATA_OCI_CONFIG=/dev/null env -u KATA_OCI_KERNEL -u KATA_OCI_INITRD "$KATA_OCI" env > "$WORK/env-none"
  # (the paths of the guest files depend on --prefix and on qboot)
  diff <(grep -v '^config=\|^kernel\|^initrd\|^firmware' "$WORK/env-example") \
    <(grep -v '^config=\|^kernel\|^initrd\|^firmware' "$WORK/env-none")
}

@test "env prints the effective configuration and follows KATA_OCI_*" {
  KATA_OCI_MEMORY_MB=512 run "$KATA_OCI" --root /x/y env
  [ "$status" -eq 0 ]
  [[ "$output" == *"root=/x/y"* ]]
  [[ "$output" == *"memory_mb=512"* ]]
  # qboot where QEMU's package installed it, else QEMU's own firmware
  run "$KATA_OCI" env
  if [ -r /usr/share/qemu/qboot.rom ]; then
    [[ "$output" == *"firmware=/usr/share/qemu/qboot.rom"* ]]
  else
    [[ "$output" == *"firmware=qemu-default"* ]]
  fi
  KATA_OCI_FIRMWARE=qemu-default run "$KATA_OCI" env
  [[ "$output" == *"firmware=qemu-default"* ]]
  KATA_OCI_FIRMWARE=/x/fw.rom run "$KATA_OCI" env
  [[ "$output" == *"firmware=/x/fw.rom"* ]]
  # the virtio-fs cache: auto by default; Kata's "never" is "none"
  [[ "$output" == *"virtio_fs_cache=auto"* ]]
  KATA_OCI_VIRTIO_FS_CACHE=always run "$KATA_OCI" env
  [[ "$output" == *"virtio_fs_cache=always"* ]]
  KATA_OCI_VIRTIO_FS_CACHE=never run "$KATA_OCI" env
  [[ "$output" == *"virtio_fs_cache=none"* ]]
  # which kernel: the first line of the .info file beside it
  mkdir "$WORK/k"
  printf 'some kernel: from somewhere\nmore\n' > "$WORK/k/vm.info"
  KATA_OCI_KERNEL=$WORK/k/vm run "$KATA_OCI" env
  [[ "$output" == *$'\nkernel='"$WORK/k/vm"$'\nkernel_info=some kernel: from somewhere\n'* ]]
  KATA_OCI_KERNEL=$WORK/k/none run "$KATA_OCI" env
  [[ "$output" == *$'\nkernel_info=unknown: no '"$WORK/k/none.info"$'\n'* ]]
}

@test "list on an empty or missing root" {
  run ko list
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1 ]
  run "$KATA_OCI" --root "$WORK/none" list --format json
  [ "$status" -eq 0 ]
  [ "$output" = "[]" ]
  run ko list --format xml
  [ "$status" -eq 1 ]
  [[ "$output" == *'invalid format "xml"'* ]]
}

@test "list survives a corrupt and a missing state.json" {
  mkdir -p "$TEST_ROOT/bad1" "$TEST_ROOT/bad2"
  echo '{"id": ' > "$TEST_ROOT/bad1/state.json"
  run ko list
  [ "$status" -eq 0 ]
  [[ "$output" == *bad1*unknown* ]]
  [[ "$output" == *bad2*unknown* ]]
  [[ "$output" == *"container bad1: state.json: corrupt"* ]]
  [[ "$output" == *"container bad2: state.json: missing"* ]]
  run ko state bad1
  [ "$status" -eq 1 ]
  [[ "$output" == *"container bad1: state.json: corrupt"* ]]
  run ko delete bad1
  [ "$status" -eq 1 ]
  ko delete -f bad1
  [ ! -e "$TEST_ROOT/bad1" ]
}

@test "bad and missing ids" {
  for bad in 'a/b' '..' 'a b'; do
    run ko state "$bad"
    [ "$status" -eq 1 ]
    [[ "$output" == *"invalid container id"* ]]
  done
  run ko state
  [ "$status" -eq 1 ]
  [[ "$output" == *"state: requires exactly 1 argument"* ]]
  run ko state a b
  [ "$status" -eq 1 ]
  [[ "$output" == *"state: too many arguments"* ]]
  for c in state start delete pause resume ps events update; do
    run ko "$c" nosuch
    [ "$status" -eq 1 ]
    [[ "$output" == *"container nosuch does not exist"* ]]
  done
  run ko kill nosuch KILL
  [ "$status" -eq 1 ]
  [[ "$output" == *"container nosuch does not exist"* ]]
  run ko kill x NOTASIGNAL
  [ "$status" -eq 1 ]
  [[ "$output" == *"invalid signal: NOTASIGNAL"* ]]
  run ko exec nosuch true
  [ "$status" -eq 1 ]
  [[ "$output" == *"container nosuch does not exist"* ]]
  ko delete -f nosuch
}

# create with a broken bundle: the message names what is wrong, and nothing
# is left behind
create_fails_with() {
  run ko create --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$1"* ]]
  [ ! -e "$TEST_ROOT/$ID" ]
}

@test "create: missing bundle, missing and unreadable config.json" {
  run ko create --bundle "$WORK/none" "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"bundle $WORK/none: No such file or directory"* ]]
  rm "$BUNDLE/config.json"
  create_fails_with "open $BUNDLE/config.json: No such file or directory"
  mkdir "$BUNDLE/config.json"
  create_fails_with "config.json"
}

@test "create: invalid config.json, wrong types, missing fields" {
  echo '{"ociVersion": "1.2.0", ' > "$BUNDLE/config.json"
  create_fails_with "config.json: invalid JSON"
  "$KATA_OCI" spec --bundle "$WORK" 2>/dev/null || true
  jq '.process.terminal = false' "$WORK/config.json" > "$WORK/c" && mv "$WORK/c" "$WORK/config.json"
  cp "$WORK/config.json" "$BUNDLE/config.json"
  edit_spec '.process.args = "sh"'
  create_fails_with "config.json: process.args: expected an array of strings"
  cp "$WORK/config.json" "$BUNDLE/config.json"
  edit_spec '.process.terminal = "yes"'
  create_fails_with "config.json: process.terminal: expected a boolean"
  cp "$WORK/config.json" "$BUNDLE/config.json"
  edit_spec 'del(.ociVersion)'
  create_fails_with "config.json: ociVersion: missing required field"
  cp "$WORK/config.json" "$BUNDLE/config.json"
  edit_spec '.ociVersion = "invalid"'
  create_fails_with 'config.json: ociVersion: "invalid" is not a SemVer 2.0.0 version'
  cp "$WORK/config.json" "$BUNDLE/config.json"
  edit_spec '.ociVersion = "2.0.0"'
  create_fails_with 'config.json: ociVersion: version 2.0.0 is not supported'
  cp "$WORK/config.json" "$BUNDLE/config.json"
  edit_spec '.process.user.uid = -1'
  create_fails_with "config.json: process.user.uid: value out of range"
  cp "$WORK/config.json" "$BUNDLE/config.json"
  edit_spec 'del(.process)'
  create_fails_with "config.json: process: missing required field"
  cp "$WORK/config.json" "$BUNDLE/config.json"
  edit_spec '.process.cwd = "relative"'
  create_fails_with "config.json: process.cwd: must be an absolute path"
  cp "$WORK/config.json" "$BUNDLE/config.json"
  edit_spec '.process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]'
  create_fails_with 'config.json: process.rlimits[0].type: unknown rlimit "RLIMIT_BOGUS"'
  cp "$WORK/config.json" "$BUNDLE/config.json"
  edit_spec '.annotations = {"io.katacontainers.config.hypervisor.default_memory": "lots"}'
  create_fails_with 'default_memory: expected MiB from 64, not "lots"'
  cp "$WORK/config.json" "$BUNDLE/config.json"
  edit_spec '.annotations = {"io.katacontainers.config.hypervisor.default_maxmemory": "32"}'
  create_fails_with 'default_maxmemory: expected MiB from 64, not "32"'
  cp "$WORK/config.json" "$BUNDLE/config.json"
  edit_spec '.annotations = {"io.katacontainers.config.hypervisor.virtio_fs_cache": "sometimes"}'
  create_fails_with 'config.json: annotations: io.katacontainers.config.hypervisor.virtio_fs_cache: expected auto, always or none, not "sometimes"'
}

@test "create: missing rootfs, tty without console socket" {
  edit_spec '.process.terminal = false'
  rm -rf "$BUNDLE/rootfs"
  create_fails_with "config.json: root.path: $BUNDLE/rootfs: No such file or directory"
  rm -rf "$BUNDLE"
  make_bundle "$BUNDLE"
  edit_spec '.process.terminal = true'
  create_fails_with "cannot allocate tty if kata-oci will detach without setting console socket"
  edit_spec '.process.terminal = false'
  run ko create --bundle "$BUNDLE" --console-socket /tmp/x.sock "$ID"
  [ "$status" -eq 1 ]
  [[ "$output" == *"cannot use console socket if kata-oci will not allocate tty"* ]]
}

@test "create: missing kernel, initrd, qemu or firmware, or a bad cache mode, fails before anything is made" {
  KATA_OCI_KERNEL=/nonexistent/vmlinux create_fails_with "guest kernel /nonexistent/vmlinux: No such file or directory"
  KATA_OCI_INITRD=/nonexistent/initrd create_fails_with "guest initrd /nonexistent/initrd: No such file or directory"
  KATA_OCI_QEMU=/nonexistent/qemu create_fails_with "qemu /nonexistent/qemu: No such file or directory"
  KATA_OCI_FIRMWARE=/nonexistent/fw.rom create_fails_with "guest firmware /nonexistent/fw.rom: No such file or directory"
  KATA_OCI_VIRTIO_FS_CACHE=sometimes create_fails_with 'KATA_OCI_VIRTIO_FS_CACHE: expected auto, always or none, not "sometimes"'
}

@test "--log with --log-format json writes one JSON object per line" {
  run "$KATA_OCI" --root "$TEST_ROOT" --log "$WORK/log.json" --log-format json state nosuch
  [ "$status" -eq 1 ]
  [[ "$output" == *"container nosuch does not exist"* ]]
  jq -e 'select(.level == "error") | .msg == "container nosuch does not exist" and (.time | length > 0)' "$WORK/log.json"
  run "$KATA_OCI" --root "$TEST_ROOT" --log "$WORK/log.txt" start nosuch
  grep -q 'level=error msg="container nosuch does not exist"' "$WORK/log.txt"
}

@test "Debian's guest kernel: the bzImage's payload, uncompressed, with a PVH entry; bad images are refused" {
  [ -f "$BUILDDIR/guest/debian/vmlinuz" ] || skip "no Debian kernel in $BUILDDIR/guest/debian"
  src=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
  x=$src/contrib/guest/extract-vmlinux.sh
  sh "$x" "$BUILDDIR/guest/debian/vmlinuz" "$WORK/vmlinux" 2>/dev/null
  cmp "$WORK/vmlinux" "$BUILDDIR/guest/vmlinux-debian"
  readelf -h "$WORK/vmlinux" | grep -q 'EXEC (Executable file)'
  readelf -n "$WORK/vmlinux" | grep -q 'Unknown note type: (0x00000012)'

  run sh "$x" /etc/passwd "$WORK/out"
  [ "$status" -eq 1 ]
  [[ "$output" == *"/etc/passwd: not a bzImage (no HdrS boot header)"* ]]
  head -c 1000000 "$BUILDDIR/guest/debian/vmlinuz" > "$WORK/short"
  run sh "$x" "$WORK/short" "$WORK/out"
  [ "$status" -eq 1 ]
  [[ "$output" == *"truncated: the payload runs past the end of the file"* ]]
  # the payload's first bytes overwritten: no known compression
  cp "$BUILDDIR/guest/debian/vmlinuz" "$WORK/bad"
  ss=$(od -An -tu1 -j 497 -N1 "$WORK/bad" | tr -d ' ')
  po=$(od -An -tu4 -j 584 -N4 "$WORK/bad" | tr -d ' ')
  printf 'XXXXXX' | dd of="$WORK/bad" bs=1 seek=$(((ss + 1) * 512 + po)) conv=notrunc 2>/dev/null
  run sh "$x" "$WORK/bad" "$WORK/out"
  [ "$status" -eq 1 ]
  [[ "$output" == *"unknown payload compression (magic 585858585858)"* ]]
  # a corrupt stream: the size it decompresses to is not the size recorded
  cp "$BUILDDIR/guest/debian/vmlinuz" "$WORK/bad"
  printf 'XXXXXXXXXXXXXXXX' | dd of="$WORK/bad" bs=1 seek=$(((ss + 1) * 512 + po + 4096)) conv=notrunc 2>/dev/null
  run sh "$x" "$WORK/bad" "$WORK/out"
  [ "$status" -eq 1 ]
  [[ "$output" == *"gave "*" bytes, the payload says "* ]]
  [ ! -e "$WORK/out" ] && [ ! -e "$WORK/out.tmp" ]
}

# fake_bzimage PAYLOAD OUT [VERSION]: a bzImage header (one setup sector)
# whose payload is the file PAYLOAD, boot protocol VERSION (default 2.15)
fake_bzimage() {
  local out=$2 v=${3:-527} n
  n=$(wc -c < "$1")
  head -c 1024 /dev/zero > "$out"
  put() { printf "$2" | dd of="$out" bs=1 seek="$1" conv=notrunc 2>/dev/null; }
  put 497 '\x01'
  put 514 'HdrS'
  put 518 "$(printf '\\x%02x\\x%02x' $((v & 255)) $((v >> 8)))"
  put 584 '\x00\x00\x00\x00'
  put 588 "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((n & 255)) $((n >> 8 & 255)) $((n >> 16 & 255)) $((n >> 24)))"
  cat "$1" >> "$out"
}

@test "extract-vmlinux.sh: every refusal says why and leaves nothing" {
  x=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/contrib/guest/extract-vmlinux.sh
  refuses() { # IMAGE MESSAGE
    run sh "$x" "$1" "$WORK/out"
    [ "$status" -eq 1 ]
    [[ "$output" == *"$2"* ]]
    [ ! -e "$WORK/out" ] && [ ! -e "$WORK/out.tmp" ]
  }
  echo hello | gzip -c > "$WORK/text.gz"
  fake_bzimage "$WORK/text.gz" "$WORK/old" 519
  refuses "$WORK/old" "boot protocol older than 2.08: no payload fields"
  : > "$WORK/empty"
  fake_bzimage "$WORK/empty" "$WORK/nothing"
  refuses "$WORK/nothing" "empty payload"
  fake_bzimage "$WORK/text.gz" "$WORK/text"
  refuses "$WORK/text" "the payload is not an ELF kernel"
  gzip -c /bin/true > "$WORK/true.gz"
  fake_bzimage "$WORK/true.gz" "$WORK/nopvh"
  refuses "$WORK/nopvh" "the kernel has no PVH entry point (Xen ELF note 18)"
  # the decompressor the payload needs is missing
  mkdir "$WORK/bin"
  for t in od tr tail head wc mv rm readelf grep; do ln -s "$(command -v $t)" "$WORK/bin/$t"; done
  sh=$(command -v sh)
  PATH=$WORK/bin run "$sh" "$x" "$WORK/text" "$WORK/out"
  [ "$status" -eq 1 ]
  [[ "$output" == *"payload needs gzip, which is not installed"* ]]
}

@test "the agent: static, one code segment of at most 24 pages and one data page (the whole image is resident: its idle RSS target)" {
  a=$BUILDDIR/agent/kata-agent
  readelf -lW "$a" > "$WORK/segs"
  cat "$WORK/segs"
  [ -z "$(grep INTERP "$WORK/segs")" ]
  [ "$(grep -c ' LOAD ' "$WORK/segs")" = 2 ]
  code=$(awk '$1 == "LOAD" && $7 == "R" && $8 == "E" { print $5 }' "$WORK/segs")
  data=$(awk '$1 == "LOAD" && $7 == "RW" { print $6 }' "$WORK/segs")
  echo "code $code data $data"
  [ -n "$code" ] && [ -n "$data" ]
  [ $((code)) -le $((24 * 4096)) ]
  [ $((data)) -le 4096 ]
}

@test "the project kernel's initrd: byte-identical when rebuilt; the agent as /init alone" {
  src=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
  for n in 1 2; do
    sh "$src/contrib/guest/build-initrd.sh" "$BUILDDIR/agent/kata-agent" \
      none none "$WORK/initrd$n.img" 2>/dev/null
    sleep 1
  done
  cmp "$WORK/initrd1.img" "$WORK/initrd2.img"
  cmp "$WORK/initrd1.img" "$BUILDDIR/guest/initrd.img"
  [ "$(cpio -it --quiet < "$WORK/initrd1.img" | tr '\n' ' ')" = "dev init proc run sys " ]
  mkdir "$WORK/x"
  (cd "$WORK/x" && cpio -idm --quiet < "$WORK/initrd1.img")
  cmp "$WORK/x/init" "$BUILDDIR/agent/kata-agent"
}

@test "the Debian kernel's initrd: byte-identical when rebuilt; /init is the agent; unsigned modules in dependency order, the balloon driver for later, the network drivers on request" {
  [ -f "$BUILDDIR/guest/debian/kernel-release" ] || skip "no Debian kernel in $BUILDDIR/guest/debian"
  src=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
  rel=$(cat "$BUILDDIR/guest/debian/kernel-release")
  for n in 1 2; do
    sh "$src/contrib/guest/build-initrd.sh" "$BUILDDIR/agent/kata-agent" \
      "$BUILDDIR/guest/debian/kernel" "$rel" "$WORK/initrd$n.img" 2>/dev/null
    sleep 1 # a different mtime on the sources' copies must not matter
  done
  cmp "$WORK/initrd1.img" "$WORK/initrd2.img"
  cmp "$WORK/initrd1.img" "$BUILDDIR/guest/initrd-debian.img"
  mkdir "$WORK/x"
  (cd "$WORK/x" && cpio -idm --quiet < "$WORK/initrd1.img")
  cmp "$WORK/x/init" "$BUILDDIR/agent/kata-agent"
  order=$(tr '\n' ' ' < "$WORK/x/lib/modules/load-order")
  [[ "$order" == "virtio_ring.ko virtio.ko "*"virtio_pci.ko virtio_console.ko "*"fuse.ko virtiofs.ko "* ]]
  [[ "$order" == *"vsock.ko vmw_vsock_virtio_transport_common.ko vmw_vsock_virtio_transport.ko"* ]]
  for m in "$WORK"/x/lib/modules/*.ko; do
    # no appended signature (verified at every load, slow under TCG), no BTF
    ! tail -c 28 "$m" | grep -q "Module signature appended"
    ! readelf -SW "$m" | grep -q '\.BTF'
    readelf -h "$m" | grep -q 'REL (Relocatable file)'
  done
  # the balloon driver is loaded once the agent is idle, not at boot
  [ "$(cat "$WORK/x/lib/modules/load-idle")" = virtio_balloon.ko ]
  ! grep -q balloon "$WORK/x/lib/modules/load-order"
  # the virtio-net driver and its dependencies, loaded at boot only with
  # agent.net=1
  [ "$(tr '\n' ' ' < "$WORK/x/lib/modules/load-net")" = "failover.ko net_failover.ko virtio_net.ko " ]
  ! grep -q virtio_net "$WORK/x/lib/modules/load-order"
  # the archive holds exactly the modules of the lists (a dependency two
  # extra lists share would be in both)
  diff <(cd "$WORK/x/lib/modules" && ls *.ko) \
    <(cd "$WORK/x/lib/modules" && cat load-order load-idle load-net | sort -u)
  # and the extra lists repeat nothing of load-order
  ! (cd "$WORK/x/lib/modules" && cat load-idle load-net | grep -qxFf load-order)
}
