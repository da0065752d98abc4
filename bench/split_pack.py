"""Benchmark of `dset-split pack --split-dirs` against one pack of the same tree: what an update
rewrites (the bytes DVC or git-annex must hash and upload again), how long packing, updating
and mounting take. Prints a Markdown table for BENCHMARKS.md. Run by scripts/bench_split_pack.sh
(as root: it drops the page cache before each mount).

    python3 bench/split_pack.py DSET_SPLIT REPS

The tree: 10 folders of 1,000 files of 20-140 KB (random bytes, fixed seed), about 0.8 GB, as
in bench/mount.py. A file counts as rewritten when its inode changed (`pack` renames new packs
into place) or its bytes did; each number is the median of REPS runs.
"""
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

from daemon import daemon_pid, peak_kib

DSET_SPLIT, REPS = sys.argv[1], int(sys.argv[2])
DIRS, FILES = int(os.environ.get("DIRS", 10)), int(os.environ.get("FILES", 1000))


def run(args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def timed(args):
    t = time.perf_counter()
    run(args)
    return time.perf_counter() - t


def drop_caches():
    subprocess.run(["sync"], check=True)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def make_tree(root):
    rng = random.Random(12)
    for d in range(DIRS):
        os.makedirs(os.path.join(root, f"class{d:02}"))
        for i in range(FILES):
            with open(os.path.join(root, f"class{d:02}", f"{i:05}.jpg"), "wb") as f:
                f.write(rng.randbytes(rng.randint(20_000, 140_000)))


def outputs(out):
    """{path: (inode, size, mtime)} of the pack `out` and its split folder's files."""
    split = out[:-3] + "-split"
    paths = [out] + [os.path.join(d, f) for d, _, fs in os.walk(split) for f in fs]
    return {p: (os.stat(p).st_ino, os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in paths if os.path.exists(p)}


def rewritten(before, after):
    """Bytes of the files that are new or were replaced or changed."""
    return sum(a[1] for p, a in after.items() if before.get(p) != a)


WALK = """
import os, sys, time
t = time.perf_counter()
for dirpath, dirs, files in os.walk(sys.argv[1]):
    for name in dirs + files:
        os.lstat(os.path.join(dirpath, name))
print(time.perf_counter() - t)
"""


def main():
    work = tempfile.mkdtemp(prefix="bench-split-", dir=os.environ.get("BENCH_DIR", "/var/tmp"))
    src = os.path.join(work, "src")
    make_tree(src)
    mnt = os.path.join(work, "mnt")
    os.mkdir(mnt)
    files = sorted(os.path.relpath(os.path.join(d, f), src) for d, _, fs in os.walk(src) for f in fs)
    kinds = {"one pack": [], "--split-dirs": ["--split-dirs"]}
    rows = {}

    def add(row, kind, value):
        rows.setdefault(row, {}).setdefault(kind, []).append(value)

    rng = random.Random(5)
    for rep in range(REPS):
        for kind, extra in kinds.items():
            out = os.path.join(work, "one.h5" if kind == "one pack" else "split.h5")
            run(["rm", "-rf", out, out[:-3] + "-split"])
            subprocess.run(["sync"], check=True)
            add("pack (s)", kind, timed([DSET_SPLIT, "pack", src, "-o", out, *extra]))
            before = outputs(out)
            add("update, nothing changed (s)", kind, timed([DSET_SPLIT, "pack", src, "-o", out, "--update"]))
            add("rewritten by that update (MB)", kind, rewritten(before, outputs(out)) / 1e6)
            # One file gets new bytes (and so a new time).
            victim = os.path.join(src, f"class{rng.randrange(DIRS):02}", f"{rng.randrange(FILES):05}.jpg")
            size = os.path.getsize(victim)
            with open(victim, "wb") as f:
                f.write(os.urandom(size))
            before = outputs(out)
            add("update, one file changed (s)", kind, timed([DSET_SPLIT, "pack", src, "-o", out, "--update"]))
            add("rewritten by that update (MB) ", kind, rewritten(before, outputs(out)) / 1e6)
            drop_caches()
            add("mount, cold cache (s)", kind, timed([DSET_SPLIT, "mount", out, mnt]))
            walk = subprocess.run([sys.executable, "-c", WALK, mnt], check=True, capture_output=True, text=True)
            add("walk + lstat of every entry (s)", kind, float(walk.stdout))
            pid = daemon_pid(mnt)
            for path in files:
                with open(os.path.join(mnt, path), "rb") as f:
                    f.read()
            add("daemon peak memory after reading every file (MiB)", kind, peak_kib(pid) / 1024)
            run(["umount", mnt])
    run(["rm", "-rf", work])
    print(f"{DIRS * FILES} files of 20-140 KB in {DIRS} folders, median of {REPS}")
    print()
    print("| | one pack | --split-dirs | one pack / --split-dirs |")
    print("|---|---|---|---|")
    for row, by in rows.items():
        one, split = statistics.median(by["one pack"]), statistics.median(by["--split-dirs"])
        ratio = f"{one / split:.2f}x" if split > 0 else ("-" if one == 0 else "inf")
        print(f"| {row.strip()} | {one:.3f} | {split:.3f} | {ratio} |")
    print()
    print("Ratios above 1: --split-dirs is faster, or rewrites fewer bytes or uses less memory.")


if __name__ == "__main__":
    main()
