#!/bin/bash
# bootprof.sh [N=10]: a sampling profile of the guest kernel's boot (see
# bootprof.py): the bare VM of start.sh (kata-oci's QEMU options, the
# kernel and initrd with /bench-poweroff), booted N times while its RIP is
# read over QMP. The kernel's symbols come from KERNEL_SYMBOLS (a file of
# `nm` output), else from the unstripped vmlinux the project's kernel build
# left in its cache (contrib/guest/build-kernel.sh; guest/vmlinux itself
# is installed stripped), else from KATA_OCI_KERNEL if it has a symbol
# table. Prints shares of the samples, not times.
. "$(dirname "$0")/lib.sh"
N=${1:-10}
bench_check cpio python3 nm
bench_setup
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
syms=$WORK/symbols
if [ -n "${KERNEL_SYMBOLS:-}" ]; then
  cp "$KERNEL_SYMBOLS" "$syms"
else
  kv=$KATA_OCI_KERNEL
  hash=$(sed -n 's/.*(\([0-9a-f]\{16\}\))$/\1/p' "${KATA_OCI_KERNEL%/*}/vmlinux.info" 2>/dev/null)
  for c in ${KO_KERNEL_CACHE:-} /var/cache/kata-oci/kernel "${XDG_CACHE_HOME:-$HOME/.cache}/kata-oci/kernel"; do
    [ -n "$hash" ] && [ -f "$c/$hash/vmlinux" ] && { kv=$c/$hash/vmlinux; break; }
  done
  nm "$kv" > "$syms" 2>/dev/null
  [ -s "$syms" ] || die "no symbols in $kv: set KERNEL_SYMBOLS to a file of nm output"
  echo "symbols: $kv"
fi
mkdir -p "$WORK/bare/dev" "$WORK/bare/proc" "$WORK/bare/sys" "$WORK/vm"
musl_build "$WORK/bare/bench-poweroff" "$BENCH_DIR/poweroff.c"
make_cpio "$WORK/bare" "$WORK/poweroff.img"
cat "$KATA_OCI_INITRD" "$WORK/poweroff.img" > "$WORK/p.img"
qemu_argv_from_kata
qemu_argv_bare "$WORK/vm" "$WORK/p.img" rdinit=/bench-poweroff
printf '%s\n' "${BQEMU[@]}" > "$WORK/argv"
echo "bare qemu: ${BQEMU[*]}"
echo "load average before: $(cut -d" " -f1-3 /proc/loadavg)"
python3 "$BENCH_DIR/bootprof.py" "$WORK/argv" "$syms" "$N" || die "bootprof.py failed"
echo "load average after: $(cut -d" " -f1-3 /proc/loadavg)"
