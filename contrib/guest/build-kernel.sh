#!/bin/sh
# Builds the project's guest kernel into OUTDIR:
#   OUTDIR/vmlinux        the kernel QEMU boots (ELF, PVH entry)
#   OUTDIR/vmlinux.config its configuration
#   OUTDIR/vmlinux.info   one line: what it is and where its config came from
# from Debian's linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz),
# configured as `make tinyconfig` plus the fragments in
# contrib/guest/kernel/*.config (merged with scripts/kconfig/merge_config.sh),
# everything built in, with the patches in contrib/guest/kernel/*.patch
# applied (git apply; each says why in its header). Every option a fragment sets is checked in the
# resulting .config: one Kconfig dropped (a missing dependency, a renamed
# symbol) fails the build.
#
# The result is cached under the hash of the source package's version, the
# fragments, the patches and this script: in /var/cache/kata-oci/kernel/HASH when that is
# writable (root), else $XDG_CACHE_HOME/kata-oci/kernel/HASH, else
# OUTDIR/kernel-cache/HASH; KO_KERNEL_CACHE overrides. The cache survives
# `git clean` and serves every clone on the machine; a build there takes
# about 20 minutes on 2 cores. The build is reproducible: fixed
# KBUILD_BUILD_TIMESTAMP, USER, HOST and VERSION.
#
# usage: build-kernel.sh OUTDIR
set -eu

outdir=${1:?usage: build-kernel.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
fragdir=$here/kernel
pkg=${KO_KERNEL_SOURCE_PACKAGE:-linux-source-6.1}
tarball=${KO_KERNEL_SOURCE:-/usr/src/$pkg.tar.xz}

export LC_ALL=C
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

version=$(dpkg-query -W -f '${Version}' "$pkg" 2>/dev/null) || version=
if [ -z "$version" ] || [ ! -f "$tarball" ]; then
  echo "build-kernel.sh: $tarball missing: apt-get install $pkg" >&2
  exit 1
fi
frags=$(cd "$fragdir" && ls ./*.config | sed 's,^\./,,' | sort)
patches=$(cd "$fragdir" && ls ./*.patch 2>/dev/null | sed 's,^\./,,' | sort)
hash=$({
  printf '%s %s\n' "$pkg" "$version"
  for f in $frags $patches; do
    printf '== %s\n' "$f"
    cat "$fragdir/$f"
  done
  cat "$0"
} | sha256sum | cut -c1-16)
# the patched source and its object tree are kept per set of patches
srckey=$(for p in $patches; do cat "$fragdir/$p"; done | sha256sum | cut -c1-8)

if [ -n "${KO_KERNEL_CACHE:-}" ]; then
  cache=$KO_KERNEL_CACHE
elif mkdir -p /var/cache/kata-oci/kernel 2>/dev/null &&
  [ -w /var/cache/kata-oci/kernel ]; then
  cache=/var/cache/kata-oci/kernel
elif [ -n "${XDG_CACHE_HOME:-${HOME:-}}" ] &&
  mkdir -p "${XDG_CACHE_HOME:-$HOME/.cache}/kata-oci/kernel" 2>/dev/null; then
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/kata-oci/kernel
else
  cache=$outdir/kernel-cache
fi
mkdir -p "$cache"
result=$cache/$hash

install_result () {
  for f in vmlinux vmlinux.config vmlinux.info; do
    cp "$result/$f" "$outdir/$f.tmp"
    mv "$outdir/$f.tmp" "$outdir/$f"
  done
  echo "build-kernel.sh: $outdir/vmlinux from $result" >&2
}

if [ -f "$result/vmlinux.info" ]; then
  install_result
  exit 0
fi

# One build at a time per cache (two trees may run make at once): the
# second waits, then finds the result.
exec 9> "$cache/lock"
flock 9
if [ -f "$result/vmlinux.info" ]; then
  install_result
  exit 0
fi

# The source, unpacked and patched once per package version and set of
# patches; the object tree is kept across builds so a changed fragment
# rebuilds only what it touches.
src=$cache/src-$version-$srckey
if [ ! -f "$src/Makefile" ]; then
  echo "build-kernel.sh: unpacking $tarball" >&2
  rm -rf "$src" "$src.tmp"
  mkdir -p "$src.tmp"
  tar -xJf "$tarball" -C "$src.tmp" --strip-components=1
  for p in $patches; do
    echo "build-kernel.sh: applying $p" >&2
    # the ceiling keeps git from taking a checkout around the cache (the
    # fallback cache is inside OUTDIR) for the tree to patch
    (cd "$src.tmp" && GIT_CEILING_DIRECTORIES=$cache git apply -p1 "$fragdir/$p")
  done
  mv "$src.tmp" "$src"
fi
obj=$cache/obj-$version-$srckey
mkdir -p "$obj"

export KBUILD_BUILD_TIMESTAMP="1970-01-01 00:00:00 UTC"
export KBUILD_BUILD_USER=kata-oci KBUILD_BUILD_HOST=kata-oci
export KBUILD_BUILD_VERSION=1
# The kernel's make runs on its own: under the project's make, MAKEFLAGS
# carries -w and the jobserver, and kernelrelease's answer came wrapped in
# "Entering directory" lines (they once made vmlinux.info, and `env`'s
# kernel_info, 5 lines; --no-print-directory alone did not keep them out
# of a build under `make -j2`)
kmake () {
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
    make -s --no-print-directory -C "$src" O="$obj" ARCH=x86_64 "$@"
}

start=$(date +%s)
# merge_config's warnings (a fragment overriding a choice tinyconfig made)
# go to config.log; the check below is what decides
{
  kmake tinyconfig &&
    (cd "$fragdir" &&
      KCONFIG_CONFIG="$obj/.config" "$src/scripts/kconfig/merge_config.sh" \
        -m -O "$obj" "$obj/.config" $frags) &&
    kmake olddefconfig
} > "$obj/config.log" 2>&1 || {
  cat "$obj/config.log" >&2
  exit 1
}

# Every line a fragment sets, as the .config says it.
bad=$(cd "$fragdir" && cat $frags |
  sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=.*/&/p; s/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/&/p' |
  while IFS= read -r want; do
    case $want in
      "# "*)
        sym=${want#\# }
        sym=${sym%% *}
        if grep -q "^$sym=" "$obj/.config"; then
          echo "  $want, but .config has $(grep "^$sym=" "$obj/.config")"
        fi
        ;;
      *)
        if ! grep -qxF "$want" "$obj/.config"; then
          sym=${want%%=*}
          have=$(grep "^$sym=\|^# $sym is not set" "$obj/.config" ||
            echo "nothing (unknown symbol or unmet dependency)")
          echo "  $want, but .config has $have"
        fi
        ;;
    esac
  done)
if [ -n "$bad" ]; then
  echo "build-kernel.sh: options the fragments set that did not take:" >&2
  printf '%s\n' "$bad" >&2
  exit 1
fi

echo "build-kernel.sh: building $pkg $version ($hash) in $obj" >&2
kmake -j"$(nproc)" vmlinux
release=$(kmake -s kernelrelease)
case $release in
*[!A-Za-z0-9._+-]* | "")
  echo "build-kernel.sh: kernelrelease said \"$release\"" >&2
  exit 1
  ;;
esac
rm -rf "$result.tmp"
mkdir -p "$result.tmp"
# symbols and sections the loader skips anyway: a smaller file to install
objcopy --strip-debug "$obj/vmlinux" "$result.tmp/vmlinux"
cp "$obj/.config" "$result.tmp/vmlinux.config"
printf 'kata-oci kernel %s: %s %s, tinyconfig + contrib/guest/kernel/{%s}%s (%s)\n' \
  "$release" "$pkg" "$version" "$(echo $frags | sed 's/ /,/g')" \
  "$(for p in $patches; do printf ' + %s' "$p"; done)" "$hash" \
  > "$result.tmp/vmlinux.info"
mv "$result.tmp" "$result"
echo "build-kernel.sh: built in $(($(date +%s) - start)) s" >&2
install_result
