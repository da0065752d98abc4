"""Benchmark of `dset-split pack` and `dset-split mount` against squashfs (mksquashfs, squashfuse_ll)
and tar, and a plain folder, on the same generated tree; prints a Markdown table for
BENCHMARKS.md. Run by scripts/bench_mount.sh (as root: it drops the page cache between steps).

    python3 bench/mount.py DSET_SPLIT SQUASHFUSE_LL MKSQUASHFS REPS

The tree: 10 folders of 1,000 files of 20-140 KB (random bytes, fixed seed), about 0.8 GB.
Every measurement but the second pass starts from a cold page cache (dropped after the mount).
Each number is the median of REPS runs; the tools run in turn within each repetition, each
repetition starting with the next tool.
"""
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

from daemon import daemon_pid, peak_kib

DSET_SPLIT, SQUASHFUSE, MKSQUASHFS, REPS = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
DIRS, FILES = int(os.environ.get("DIRS", 10)), int(os.environ.get("FILES", 1000))


def drop_caches():
    subprocess.run(["sync"], check=True)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def run(args, **kw):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def timed(args):
    t = time.perf_counter()
    run(args)
    return time.perf_counter() - t


def make_tree(root):
    rng = random.Random(12)
    total = 0
    for d in range(DIRS):
        os.makedirs(os.path.join(root, f"class{d:02}"))
        for i in range(FILES):
            n = rng.randint(20_000, 140_000)
            with open(os.path.join(root, f"class{d:02}", f"{i:05}.jpg"), "wb") as f:
                f.write(rng.randbytes(n))
            total += n
    return total


def files_of(root):
    out = []
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        out += [os.path.join(dirpath, f) for f in sorted(files)]
    return out


# The measurements, each run in a fresh interpreter so nothing is cached in the process.
WALK = """
import os, sys, time
t = time.perf_counter()
n = 0
for dirpath, dirs, files in os.walk(sys.argv[1]):
    for name in dirs + files:
        os.lstat(os.path.join(dirpath, name)); n += 1
print(time.perf_counter() - t)
"""
READ = """
import os, sys, time
paths = sys.argv[2:]
def raw():
    # As C programs read (cat, tar, a data loader in C): open, read, close.
    t = time.perf_counter(); n = 0
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            n += len(b)
        os.close(fd)
    return n / (time.perf_counter() - t) / 1e6
def python_open():
    # As Python code reads (torchvision's ImageFolder via PIL): open() also asks isatty().
    t = time.perf_counter(); n = 0
    for p in paths:
        with open(p, 'rb') as f:
            n += len(f.read())
    return n / (time.perf_counter() - t) / 1e6
print(raw(), raw(), python_open())
"""
RANDOM = """
import sys, time, statistics
lat = []
for p in sys.argv[1:]:
    t = time.perf_counter()
    with open(p, 'rb') as f:
        f.read()
    lat.append(time.perf_counter() - t)
print(statistics.median(lat) * 1e3)
"""


def py(code, *args):
    p = subprocess.run([sys.executable, "-c", code, *map(str, args)], check=True, capture_output=True, text=True)
    return [float(x) for x in p.stdout.split()]


def two_processes(paths, total):
    rng = random.Random(5)
    shuffled = paths[:]
    rng.shuffle(shuffled)
    halves = [shuffled[0::2], shuffled[1::2]]
    code = "import sys\nfor p in sys.argv[1:]:\n    open(p, 'rb').read()\n"
    t = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", code, *h]) for h in halves]
    for p in procs:
        assert p.wait() == 0
    return total / (time.perf_counter() - t) / 1e6


def main():
    work = tempfile.mkdtemp(prefix="bench-mount-", dir=os.environ.get("BENCH_DIR", "/var/tmp"))
    src = os.path.join(work, "src")
    total = make_tree(src)
    rel = [os.path.relpath(p, src) for p in files_of(src)]
    rng = random.Random(9)
    sample = rng.sample(rel, min(500, len(rel)))
    mnt = os.path.join(work, "mnt")
    os.mkdir(mnt)
    img, pack, tarf = (os.path.join(work, n) for n in ("tree.sqfs", "tree.h5", "tree.tar"))
    rows = {}

    def add(row, tool, value):
        rows.setdefault(row, {}).setdefault(tool, []).append(value)

    packers = {
        "tar": lambda: ["tar", "cf", tarf, "-C", src, "."],
        "squashfs": lambda: [MKSQUASHFS, src, img, "-noappend", "-noI", "-noD", "-noF", "-noX", "-quiet", "-no-progress"],
        "dset-split": lambda: [DSET_SPLIT, "pack", src, "-o", pack],
    }
    mounts = {
        "squashfs": lambda: [SQUASHFUSE, img, mnt],
        "dset-split": lambda: [DSET_SPLIT, "mount", pack, mnt],
    }
    for rep in range(REPS):
        # Each repetition starts with another tool: a burst of writes can slow this disk down for
        # whoever comes next.
        order = list(packers.items())
        order = order[rep % len(order):] + order[:rep % len(order)]
        for tool, cmd in order:
            # Each writes a new file (replacing one costs freeing its blocks first).
            out = {"tar": tarf, "squashfs": img, "dset-split": pack}[tool]
            if os.path.exists(out):
                os.remove(out)
            subprocess.run(["sync"], check=True)
            # The folder in the page cache for every tool alike (the steps below drop it).
            for p in files_of(src):
                with open(p, "rb") as f:
                    f.read()
            add("pack (s)", tool, timed(cmd()))
        readers = ["plain", "squashfs", "dset-split"]
        for tool in readers[rep % 3:] + readers[:rep % 3]:
            def fresh():
                if tool == "plain":
                    drop_caches()
                    return src, 0.0
                drop_caches()
                t = timed(mounts[tool]())
                return mnt, t
            def done():
                if tool != "plain":
                    run(["umount", mnt])
            root, t = fresh()
            if tool != "plain":
                add("mount (s)", tool, t)
            add("walk + lstat of every entry (s)", tool, py(WALK, root)[0])
            done()
            root, _ = fresh()
            first, second, pyopen = py(READ, root, *[os.path.join(root, r) for r in rel])
            add("serial read, first pass (MB/s)", tool, first)
            add("serial read, second pass (MB/s)", tool, second)
            add("second pass with Python's open() (MB/s)", tool, pyopen)
            done()
            root, _ = fresh()
            add("500 random reads, median (ms)", tool, py(RANDOM, *[os.path.join(root, r) for r in sample])[0])
            done()
            root, _ = fresh()
            add("2 processes, shuffled (MB/s)", tool, two_processes([os.path.join(root, r) for r in rel], total))
            if tool != "plain":
                pid = daemon_pid(mnt)
                add("daemon peak memory (MiB)", tool, peak_kib(pid) / 1024 if pid else float("nan"))
            done()
    higher_better = {r for r in rows if "MB/s" in r}
    print(f"{DIRS * FILES} files of 20-140 KB ({total / 1e6:.0f} MB), median of {REPS}")
    print()
    print("| | plain folder | squashfuse_ll (squashfs) | dset-split mount | dset-split vs squashfuse_ll | dset-split vs plain |")
    print("|---|---|---|---|---|---|")
    for row, by in rows.items():
        med = {k: statistics.median(v) for k, v in by.items()}
        ours = med.get("dset-split")
        def ratio(other):
            if other is None or ours is None or other == 0:
                return "-"
            r = ours / other if row in higher_better else other / ours
            return f"{r:.2f}x"
        if row == "pack (s)":
            print(f"| pack (s) | tar {med['tar']:.2f} | mksquashfs {med['squashfs']:.2f} | {ours:.2f} | "
                  f"{ratio(med['squashfs'])} (vs tar {ratio(med['tar'])}) | - |")
            continue
        fmt = (lambda x: f"{x:.3f}") if "(s)" in row or "(ms)" in row else (lambda x: f"{x:.0f}" if x > 10 else f"{x:.1f}")
        cells = [fmt(med[k]) if k in med else "-" for k in ["plain", "squashfs", "dset-split"]]
        print(f"| {row} | {' | '.join(cells)} | {ratio(med.get('squashfs'))} | {ratio(med.get('plain'))} |")
    print()
    print("Ratios are speed-ups (above 1: dset-split is faster, or uses less memory).")
    subprocess.run(["rm", "-rf", work])


main()
