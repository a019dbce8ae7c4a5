#!/bin/sh
# Fetches Debian's cloud kernel for the guest into OUTDIR without root:
#   OUTDIR/vmlinuz          the kernel image
#   OUTDIR/kernel-release   its release string (uname -r in the guest)
#   OUTDIR/kernel/          the unpacked package (modules, config-*)
# The metapackage linux-image-cloud-amd64 is resolved to the newest real
# linux-image-<release>-cloud-amd64 package apt knows about.
set -eu

outdir=${1:?usage: fetch-kernel.sh OUTDIR}
meta=${KO_KERNEL_PACKAGE:-linux-image-cloud-amd64}

mkdir -p "$outdir"
cd "$outdir"

pkg=$(apt-cache depends "$meta" 2>/dev/null |
  sed -n 's/^ *Depends: *\(linux-image-[0-9][^ ]*-cloud-amd64\)$/\1/p' |
  sort -V | tail -n 1)
if [ -z "$pkg" ]; then
  echo "fetch-kernel.sh: cannot resolve $meta to a kernel package" \
    "(apt-get update?)" >&2
  exit 1
fi

rm -f ./*.deb
apt-get download "$pkg" >&2
deb=$(ls ./"$pkg"_*.deb | head -n 1)

rm -rf kernel kernel.tmp
dpkg-deb -x "$deb" kernel.tmp
mv kernel.tmp kernel
rm -f "$deb"

release=${pkg#linux-image-}
test -f "kernel/boot/vmlinuz-$release"
printf '%s\n' "$release" > kernel-release.tmp
mv kernel-release.tmp kernel-release
cp "kernel/boot/vmlinuz-$release" vmlinuz.tmp
mv vmlinuz.tmp vmlinuz
echo "fetch-kernel.sh: $deb -> $outdir/vmlinuz ($release)" >&2
