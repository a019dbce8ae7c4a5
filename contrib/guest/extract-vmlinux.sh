#!/bin/sh
# extract-vmlinux.sh BZIMAGE OUT: writes the uncompressed kernel (an ELF
# vmlinux) that BZIMAGE carries, so that QEMU can boot it directly through
# its PVH entry point.
#
# Why: booted as a bzImage, the guest first runs SeaBIOS's Linux loader and
# then the kernel's own decompressor, both under TCG when there is no KVM:
# about 0.4 s of every VM start here. A PVH boot jumps straight into the
# uncompressed kernel. The kernel must have the PVH note (Xen ELF note 18,
# XEN_ELFNOTE_PHYS32_ENTRY); Debian's cloud kernels do.
#
# The payload's place is in the boot protocol's setup header (version 2.08
# or later): the protected-mode code starts after (setup_sects + 1) sectors
# of 512 bytes; payload_offset (0x248) is relative to it and payload_length
# (0x24c) is its size. The compression is told by its magic number.
set -eu

in=${1:?usage: extract-vmlinux.sh BZIMAGE OUT}
out=${2:?usage: extract-vmlinux.sh BZIMAGE OUT}

fail() {
  echo "extract-vmlinux.sh: $in: $*" >&2
  rm -f "$out.tmp"
  exit 1
}

u8() { od -An -tu1 -j "$1" -N1 "$in" | tr -d ' '; }
u16() { od -An -tu2 -j "$1" -N2 "$in" | tr -d ' '; }
u32() { od -An -tu4 -j "$1" -N4 "$in" | tr -d ' '; }

[ -f "$in" ] || fail "no such file"
[ "$(od -An -c -j 514 -N4 "$in" | tr -d ' ')" = HdrS ] \
  || fail "not a bzImage (no HdrS boot header)"
[ "$(u16 518)" -ge 520 ] || fail "boot protocol older than 2.08: no payload fields"
setup_sects=$(u8 497)
[ "$setup_sects" -ne 0 ] || setup_sects=4
start=$(((setup_sects + 1) * 512 + $(u32 584)))
len=$(u32 588)
[ "$len" -gt 4 ] || fail "empty payload"
[ "$(wc -c <"$in")" -ge $((start + len)) ] \
  || fail "truncated: the payload runs past the end of the file"

payload() { tail -c +"$((start + 1))" "$in" | head -c "$len"; }

magic=$(payload | od -An -tx1 -N6 | tr -d ' ')
case $magic in
  02214c18*) tool="lz4 -dc" ;;
  1f8b*) tool="gzip -dc" ;;
  fd377a585a00) tool="xz -dc" ;;
  28b52ffd*) tool="zstd -dcq" ;;
  425a68*) tool="bzip2 -dc" ;;
  5d0000*) tool="xz -dc --format=lzma" ;;
  *) fail "unknown payload compression (magic $magic)" ;;
esac
command -v "${tool%% *}" >/dev/null \
  || fail "payload needs ${tool%% *}, which is not installed"
# x86 kernels end the payload with the uncompressed size (32 bits, little
# endian; for gzip it is the stream's own trailer). Some decompressors take
# those 4 bytes for the start of another stream and fail after writing the
# whole kernel: the size, not their exit status, says whether it is all there.
want=$(u32 "$((start + len - 4))")
payload | $tool >"$out.tmp" 2>/dev/null || true
got=$(($(wc -c <"$out.tmp") % 4294967296))
[ "$got" -eq "$want" ] \
  || fail "${tool%% *} gave $got bytes, the payload says $want"
[ "$(od -An -c -N4 "$out.tmp" | tr -d ' ')" = 177ELF ] \
  || fail "the payload is not an ELF kernel"
if command -v readelf >/dev/null \
  && ! readelf -n "$out.tmp" | grep -q 'Unknown note type: (0x00000012)'; then
  fail "the kernel has no PVH entry point (Xen ELF note 18)"
fi
mv "$out.tmp" "$out"
echo "extract-vmlinux.sh: $in -> $out (PVH)" >&2
