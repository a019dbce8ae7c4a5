#!/bin/bash
# One command on a fresh Debian 12: install the dependencies, build kata-oci,
# its guest agent and guest image (kernel + initrd), install them, and run a
# demo container in its own VM.
#
#   ./setup.sh              everything, installing under /usr/local
#   PREFIX=/usr ./setup.sh  another prefix
#   NO_DEMO=1 ./setup.sh    skip the demo
set -euo pipefail
cd "$(dirname "$0")"
PREFIX=${PREFIX:-/usr/local}
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# build: autotools, yajl, libseccomp, libcap, uuid, musl for the agent,
#        busybox-static for the demo rootfs, kmod/cpio for the initrd,
#        lz4 to uncompress Debian's guest kernel, linux-source-6.1 and
#        bc/bison/flex/libelf-dev (objtool)/xz-utils to build the project's
#        kernel, git to apply its patch
# run:   qemu-system-x86 and its virtiofsd (qemu-system-common)
# test:  bats, jq, clang + compiler-rt for the fuzzers, podman + conmon,
#        catatonit (podman's pod infra image) and containerd (its runc v2
#        shim) for the client tests, the CNI plugins and python3-grpcio,
#        python3-protobuf and protoc for the CRI client test, python3-yaml to
#        check contrib/kubernetes, iproute2 (ip, tc) for the network tests,
#        e2fsprogs and xfsprogs (mkfs, debugfs) for the block tests
PACKAGES="autoconf automake make gcc binutils pkg-config libyajl-dev libseccomp-dev
  libcap-dev uuid-dev musl-tools busybox-static cpio kmod lz4 ca-certificates
  linux-source-6.1 bc bison flex libelf-dev xz-utils
  qemu-system-x86 qemu-system-common procps bats jq clang libclang-rt-14-dev
  clang-format git podman conmon catatonit containerd containernetworking-plugins
  python3-grpcio python3-protobuf protobuf-compiler python3-yaml iproute2
  prometheus curl e2fsprogs xfsprogs"
echo "==> installing Debian packages"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $PACKAGES

echo "==> building (the first build of the guest kernel takes 5-20 minutes on 2 cores; it is cached)"
./autogen.sh
./configure --prefix="$PREFIX" -q
make -j"$(nproc)"

echo "==> installing into $PREFIX"
$SUDO make install

echo "==> kata-oci check"
"$PREFIX/bin/kata-oci" check

if [ -z "${NO_DEMO:-}" ]; then
  echo "==> demo: a busybox container in its own VM"
  demo=$PREFIX/share/kata-oci/demo
  $SUDO "$PREFIX/bin/kata-oci" delete -f kata-oci-demo 2>/dev/null || true
  $SUDO "$PREFIX/bin/kata-oci" run --bundle "$demo" kata-oci-demo </dev/null
fi
