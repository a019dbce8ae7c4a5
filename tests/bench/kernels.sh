#!/bin/bash
# kernels.sh [START_N=7] [MEM_N=5]: the project's guest kernel against
# Debian's, in one run: start.sh (bare boot to init, guest uptime there,
# `kata-oci run true`) and memory.sh (host PSS per idle sandbox) with each,
# the project's first, then a table side by side. Targets in the issue:
# guest uptime at init <= 0.4x Debian's, `kata-oci run true` <= 0.6x
# Debian's, PSS per idle sandbox <= 64 MB, <= 48 MB without the TCG
# buffer (KVM has none). pairs.sh compares the boots alternating.
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILDDIR=${KATA_OCI_BUILDDIR:-$(cd "$here/../.." && pwd)}
SN=${1:-7}
MN=${2:-5}
out=$(mktemp -d /tmp/kata-bench-kernels.XXXXXX)
for k in project debian; do
  if [ $k = project ]; then
    kern=$BUILDDIR/guest/vmlinux init=$BUILDDIR/guest/initrd.img
  else
    kern=$BUILDDIR/guest/vmlinux-debian init=$BUILDDIR/guest/initrd-debian.img
  fi
  for f in "$kern" "$init"; do
    [ -f "$f" ] || { echo "kernels.sh: no $f" >&2; exit 2; }
  done
  echo "=== $k kernel: $(head -n 1 "$kern.info" 2>/dev/null)"
  KATA_OCI_KERNEL=$kern KATA_OCI_INITRD=$init "$here/start.sh" "$SN" | tee "$out/start-$k" || exit 2
  KATA_OCI_KERNEL=$kern KATA_OCI_INITRD=$init "$here/memory.sh" "$MN" | tee "$out/memory-$k" || exit 2
done

# median column of a start.sh row; a memory.sh average in MB
start_med() { awk -v r="$1" 'index($0, r) == 1 { print $(NF - 2) }' "$2"; }
mem_mb() { awk -v r="$1" 'index($0, r) { for (i = NF; i > 0; i--) if ($i ~ /^[0-9]+$/) { printf "%.1f", $i / 1024; exit } }' "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "?" }'; }

echo
echo "=== project kernel vs Debian's (medians; TCG unless /dev/kvm)"
printf '%-38s %9s %9s %7s %s\n' "" project debian ratio target
row() { # label project debian target
  printf '%-38s %9s %9s %7s %s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")" "$4"
}
row "guest uptime at init (s)" "$(start_med "  of which guest uptime" "$out/start-project")" \
  "$(start_med "  of which guest uptime" "$out/start-debian")" "<= 0.40x"
row "bare boot to init, wall (s)" "$(start_med "bare boot, same kernel" "$out/start-project")" \
  "$(start_med "bare boot, same kernel" "$out/start-debian")" ""
row "kata-oci run true, wall (s)" "$(start_med "kata-oci run (true)" "$out/start-project")" \
  "$(start_med "kata-oci run (true)" "$out/start-debian")" "<= 0.60x"
row "host PSS per idle sandbox (MB)" "$(mem_mb "host total per sandbox" "$out/memory-project")" \
  "$(mem_mb "host total per sandbox" "$out/memory-debian")" "<= 64 MB (project)"
row "  of which TCG translation buffer (MB)" "$(mem_mb "of which TCG translation" "$out/memory-project")" \
  "$(mem_mb "of which TCG translation" "$out/memory-debian")" ""
row "  without the TCG buffer (MB)" "$(mem_mb "without the TCG buffer" "$out/memory-project")" \
  "$(mem_mb "without the TCG buffer" "$out/memory-debian")" "<= 48 MB (project)"
row "  QEMU PSS (MB)" "$(mem_mb "QEMU PSS" "$out/memory-project")" \
  "$(mem_mb "QEMU PSS" "$out/memory-debian")" ""
echo "outputs: $out"
