#!/bin/sh
# Builds the guest initrd: an uncompressed cpio (newc) archive holding
#   /init                         the agent
#   /lib/modules/NAME.ko          only the modules the agent needs, without
#                                 their signature and BTF (see below)
#   /lib/modules/load-order       their file names, dependencies first
#   /lib/modules/load-idle        the modules the agent loads once idle, off
#                                 the start path: after load-order's
#   /lib/modules/load-net         the network drivers, loaded after
#                                 load-order's only when the kernel command
#                                 line has agent.net=1
#   /dev /proc /sys /run          empty mount points
# Same inputs give a byte-identical archive: sorted entries, mtime 0,
# owner 0:0, cpio --reproducible.
#
# usage: build-initrd.sh AGENT KERNELDIR RELEASE OUTPUT
#   KERNELDIR is the unpacked kernel package (holds lib/modules/RELEASE and
#   boot/config-RELEASE); "none" (and any RELEASE) for a kernel with every
#   driver built in, such as the project's: the initrd is then the agent
#   and the mount points alone, without lib/modules.
set -eu

agent=${1:?usage: build-initrd.sh AGENT KERNELDIR RELEASE OUTPUT}
kdir=${2:?}
release=${3:?}
output=${4:?}

# The drivers the agent uses: PCI transport, virtio-serial, vsock, virtio-fs.
roots="virtio_pci virtio_console vmw_vsock_virtio_transport virtiofs"
# Loaded once the agent is idle: the balloon driver, whose free page
# reporting hands the guest's freed memory back to the host.
idle_roots="virtio_balloon"
# Loaded at boot only for a VM the host gives a NIC (agent.net=1): the
# virtio-net driver (and failover, net_failover) costs boot time otherwise.
net_roots="virtio_net"

moddir=$kdir/lib/modules/$release
test "$kdir" = none || test -d "$moddir" ||
  { echo "build-initrd.sh: no $moddir" >&2; exit 1; }
test -f "$agent" || { echo "build-initrd.sh: no agent $agent" >&2; exit 1; }

export LC_ALL=C
tmp=$(mktemp -d "${output}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
stage=$tmp/root
mkdir -p "$stage/dev" "$stage/proc" "$stage/sys" "$stage/run"

archive () {
  cp "$agent" "$stage/init"
  chmod 0755 "$stage/init" "$stage/dev" "$stage/proc" "$stage/sys" \
    "$stage/run"
  find "$stage" -exec touch -h -d @0 {} +
  (cd "$stage" && find . -mindepth 1 | sort |
    cpio --quiet -o -H newc --reproducible -R 0:0) > "$tmp/initrd"
  mv "$tmp/initrd" "$output"
}

if [ "$kdir" = none ]; then
  archive
  echo "build-initrd.sh: $output: the agent alone (drivers built in)" >&2
  exit 0
fi
mkdir -p "$stage/lib/modules"

# name -> file map; module names use '_' where file names may use '-'.
find "$moddir/kernel" -type f -name '*.ko*' | sort > "$tmp/files"

module_file () {
  awk -v want="$1" '{
      n = $0; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n);
      gsub(/-/, "_", n);
      if (n == want) { print; exit }
    }' "$tmp/files"
}

is_builtin () {
  # modules.builtin lists kernel/.../NAME.ko for built-in drivers.
  sed 's,.*/,,; s,\.ko$,,; s,-,_,g' "$moddir/modules.builtin" |
    grep -qx "$1"
}

# Depth-first, dependencies before dependents (topological order).
# `local` is not POSIX but dash, bash and busybox sh all have it.
: > "$tmp/order"
visit () {
  local m f deps d
  m=$1
  grep -qx "$m" "$tmp/order" && return 0
  if is_builtin "$m"; then
    return 0
  fi
  f=$(module_file "$m")
  if [ -z "$f" ]; then
    echo "build-initrd.sh: module $m neither built in nor found" >&2
    exit 1
  fi
  case $f in
    *.ko) ;;
    *) echo "build-initrd.sh: compressed module $f not supported" >&2; exit 1 ;;
  esac
  deps=$(modinfo -F depends "$f" | tr ',' '\n' | grep -v '^$' | sort) || true
  for d in $deps; do
    visit "$d"
  done
  grep -qx "$m" "$tmp/order" && return 0
  echo "$m" >> "$tmp/order"
  # objcopy leaves out the appended signature: the kernel verifies it at
  # every load (sha256 and RSA over the whole file, slow under TCG: about
  # 50 ms of the agent's boot here) although it does not enforce it. The
  # guest is untrusted anyway, and the initrd comes from the host. BTF is
  # only for BPF tools: 85 KB less initrd.
  ${OBJCOPY:-objcopy} --remove-section=.BTF "$f" "$stage/lib/modules/$m.ko"
}
for r in $roots; do
  visit "$r"
done
sed 's/$/.ko/' "$tmp/order" > "$stage/lib/modules/load-order"
cp "$tmp/order" "$tmp/boot"
boot=$(wc -l < "$tmp/boot")
# Each extra list holds the modules its roots need beyond load-order's:
# the walk restarts from load-order, so a dependency two lists share is in
# both (a second load is a no-op) and each list stands alone.
extra_list () {
  local list r
  list=$1
  shift
  cp "$tmp/boot" "$tmp/order"
  for r in "$@"; do
    visit "$r"
  done
  tail -n +$((boot + 1)) "$tmp/order" | sed 's/$/.ko/' \
    > "$stage/lib/modules/$list"
}
extra_list load-idle $idle_roots
extra_list load-net $net_roots

chmod 0755 "$stage/lib" "$stage/lib/modules"
chmod 0644 "$stage/lib/modules/"*
archive
lst=$stage/lib/modules
echo "build-initrd.sh: $output: $(tr '\n' ' ' < "$lst/load-order")(net: $(tr '\n' ' ' < "$lst/load-net"); idle: $(tr '\n' ' ' < "$lst/load-idle"))" >&2
