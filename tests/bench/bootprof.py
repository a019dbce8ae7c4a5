#!/usr/bin/env python3
"""bootprof.py ARGV_FILE SYMBOLS N: where a guest kernel's boot spends its time.

Boots the bare VM whose QEMU command line is in ARGV_FILE (one argument per
line, with a QMP socket chardev "socket,id=qmp,path=...") N times, started
paused (-S); over QMP it lets the VM run and reads the vCPU's RIP with the
human monitor's `info registers` every few ms until QEMU exits, then names
each address from SYMBOLS (`nm` output of the kernel that booted) and prints
the functions by share of the samples, then the same grouped by a few
prefixes. A proportion, not a time: the samples pause the vCPU, so timing
loops that check their own progress (the TSC's fast calibration against
the PIT) fail more often than without the sampler and show more.
"""
import bisect
import collections
import json
import os
import re
import socket
import subprocess
import sys
import time


def load_symbols(path):
    syms = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) >= 3 and p[-2] in "tTwW":
                try:
                    syms.append((int(p[0], 16), p[-1]))
                except ValueError:
                    pass
    syms.sort()
    return [a for a, _ in syms], [n for _, n in syms]


def qmp_path(argv):
    for v in argv:
        if v.startswith("socket,") and ",id=qmp," in v + ",":
            m = re.search(r"path=([^,]+)", v)
            if m:
                return m.group(1)
    sys.exit("bootprof.py: no QMP socket chardev (socket,id=qmp,path=...) in the argv")


def one_boot(argv, path, interval, limit, take):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    p = subprocess.Popen(argv + ["-S"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        if os.path.exists(path) or p.poll() is not None:
            break
        time.sleep(0.01)
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    f = s.makefile("rw")
    f.readline()

    def cmd(c, **a):
        f.write(json.dumps({"execute": c, "arguments": a}) + "\n")
        f.flush()
        while True:
            line = f.readline()
            if not line:
                raise EOFError
            r = json.loads(line)
            if "return" in r or "error" in r:
                return r

    cmd("qmp_capabilities")
    cmd("cont")
    t0 = time.time()
    try:
        while p.poll() is None:
            if time.time() - t0 > limit:
                p.kill()
                break
            r = cmd("human-monitor-command", **{"command-line": "info registers"})
            m = re.search(r"RIP=([0-9a-f]+)", r.get("return", ""))
            if m:
                take(int(m.group(1), 16))
            time.sleep(interval)
    except (OSError, EOFError, ValueError):
        pass
    s.close()
    p.wait()


GROUPS = [
    ("ACPI (AML interpreter, tables, devices)", r"^acpi"),
    ("TSC/PIT/HPET calibration, delays", r"calibrate|^pit_|delay_tsc|hpet"),
    ("struct pages, freeing init memory", r"init_single_page|free_reserved|memblock|memmap_init|__free_pages|free_one_page"),
    ("PCI config space", r"pci"),
    ("slab and page allocation", r"slab|kmem|alloc"),
    ("sysfs, kobjects", r"kernfs|sysfs|kobject"),
    ("printk, console", r"printk|vsnprintf|^number$|format_decode|prb_|console|serial|uart"),
    ("trace events", r"trace_event|update_event_fields"),
    ("user space (the init)", r"^user$"),
]


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    argv = open(sys.argv[1]).read().split("\n")
    argv = [a for a in argv if a]
    addrs, names = load_symbols(sys.argv[2])
    n = int(sys.argv[3])
    interval = float(os.environ.get("BOOTPROF_INTERVAL", "0.003"))
    top = int(os.environ.get("BOOTPROF_TOP", "40"))
    path = qmp_path(argv)
    count = collections.Counter()

    def take(rip):
        if rip < 0x800000000000:
            count["user"] += 1
            return
        i = bisect.bisect_right(addrs, rip) - 1
        count[names[i] if i >= 0 else "?"] += 1

    for _ in range(n):
        one_boot(argv, path, interval, 30, take)
    total = sum(count.values())
    if total == 0:
        sys.exit("bootprof.py: no samples")
    print("%d samples over %d boots (about %.0f per boot)" % (total, n, total / n))
    print()
    for name, c in count.most_common(top):
        print("%6d %5.1f%%  %s" % (c, 100.0 * c / total, name))
    print()
    print("by group:")
    left = total
    for label, pat in GROUPS:
        c = sum(v for k, v in count.items() if re.search(pat, k))
        left -= c
        print("%6d %5.1f%%  %s" % (c, 100.0 * c / total, label))
    print("%6d %5.1f%%  everything else" % (left, 100.0 * left / total))


if __name__ == "__main__":
    main()
