"""Times `dset-split split` and `dset-split merge` against native HDF5 copying the same file in the
same run (h5repack, HDF5's own tool that rewrites a file object by object; and cp, the disk's
speed), interleaved, and prints a Markdown table of medians with ratios to h5repack.

    python bench/cli.py PEAK DSET_SPLIT H5REPACK REPS     (scripts/bench_cli.sh runs it)
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile


def run(cmd, cwd):
    """Wall time (s) and peak resident memory (MiB) of one command, measured by bench/peak.c."""
    p = subprocess.run([PEAK, *cmd], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"{cmd} failed ({p.returncode}): {p.stderr}")
    _, seconds, kib = p.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kib) / 1024


def make(path):
    import h5py
    import numpy as np

    with h5py.File(path, "w") as f:
        d = f.create_dataset("contiguous", shape=(8192, 8192), dtype="f8")  # 512 MiB
        for i in range(0, 8192, 512):
            d[i:i + 512] = np.random.default_rng(i).random((512, 8192))
        c = f.create_dataset("chunked_gzip", shape=(4096, 8192), dtype="f8", chunks=(256, 1024),
                             compression="gzip", compression_opts=1)
        for i in range(0, 4096, 256):
            c[i:i + 256] = np.arange(256 * 8192, dtype="f8").reshape(256, 8192) + i
        for i in range(1000):
            f.create_dataset(f"small/g{i % 10}/d{i:04d}", data=np.arange(1024, dtype="f8") + i)


def main(cli, repack, reps):
    work = tempfile.mkdtemp()
    try:
        src = os.path.join(work, "in.h5")
        make(src)
        size = os.path.getsize(src)
        times = {k: [] for k in ("cp", "h5repack", "split", "merge")}
        for _ in range(reps):
            for name in ("copy.h5", "repacked.h5", "out.h5", "merged.h5"):
                if os.path.exists(os.path.join(work, name)):
                    os.remove(os.path.join(work, name))
            shutil.rmtree(os.path.join(work, "out-split"), ignore_errors=True)
            times["cp"].append(run(["cp", "in.h5", "copy.h5"], work))
            times["h5repack"].append(run([repack, "in.h5", "repacked.h5"], work))
            times["split"].append(run([cli, "split", "in.h5", "out.h5"], work))
            times["merge"].append(run([cli, "merge", "out.h5", "merged.h5"], work))
        med = {k: (statistics.median(t for t, _ in v), statistics.median(m for _, m in v)) for k, v in times.items()}
        base = med["h5repack"][0]
        print(f"{size / 2**20:.0f} MiB file: 512 MiB contiguous, 256 MiB gzip-chunked, 1000 datasets of 8 KiB; "
              f"median of {reps} interleaved runs")
        print()
        print("| command | time | / h5repack | peak resident memory |")
        print("|---|---|---|---|")
        for k, label in (("cp", "cp (the disk)"), ("h5repack", "h5repack (native HDF5)"),
                         ("split", "dset-split split"), ("merge", "dset-split merge")):
            t, m = med[k]
            print(f"| {label} | {t:.2f} s | {t / base:.2f} | {m:.0f} MiB |")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    PEAK = sys.argv[1]
    main(sys.argv[2], sys.argv[3], int(sys.argv[4]))
