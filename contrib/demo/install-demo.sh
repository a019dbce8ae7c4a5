#!/bin/sh
# Installs the demo bundle: a busybox-static rootfs and a config.json.
# Usage: install-demo.sh SRCDIR DESTDIR_PKGDATADIR
set -e
src=$1
dest=$2/demo
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "install-demo.sh: $busybox missing: apt-get install busybox-static" >&2; exit 1; }
rm -rf "$dest"
mkdir -p "$dest/rootfs/bin" "$dest/rootfs/etc" "$dest/rootfs/tmp" "$dest/rootfs/proc" "$dest/rootfs/sys" "$dest/rootfs/dev"
cp "$busybox" "$dest/rootfs/bin/busybox"
for a in $("$busybox" --list); do
  [ -e "$dest/rootfs/bin/$a" ] || ln -s busybox "$dest/rootfs/bin/$a"
done
echo "root:x:0:0:root:/root:/bin/sh" > "$dest/rootfs/etc/passwd"
echo "root:x:0:" > "$dest/rootfs/etc/group"
cp "$src/contrib/demo/config.json" "$dest/config.json"
