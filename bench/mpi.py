"""Parallel write throughput through dset_split against native parallel HDF5, in the same run
(issue 13). Run by scripts/bench_mpi.sh:

    python3 bench/mpi.py VPIC FILES PLUGIN_DIR WORK REPS

The writer is examples/mpi/vpic.c: per time step 7 datasets (6 float, 1 int64) of PER_RANK
particles per rank, collective writes (the int64 one independent), plus a growing chunked
dataset; it reports its slowest rank's time from file create to close (included: every split
file's create, write and close). Three sizes: datasets of tens of megabytes (4 Mi particles per
rank), of megabytes (1 Mi: 4 MiB per rank and float dataset) and small ones (1,000 particles:
4 KB), where the cost of one file per dataset shows. FILES (bench/mpi_files.c) measures that cost
in parallel HDF5 alone: the create and close of a file holding one small dataset. Each
configuration runs REPS times, in turn; the median counts.
"""
import os
import statistics
import subprocess
import sys

VPIC, FILES, PLUGIN, WORK, REPS = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
CONNECTOR = "dset_split under_vol=0;under_info={}"
STEPS = 4


def run(np_, per_rank, mode):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env = {k: v for k, v in env.items() if not k.startswith("HDF5_")}
    xs = []
    if mode != "native":
        env.update(HDF5_PLUGIN_PATH=PLUGIN, HDF5_VOL_CONNECTOR=f"{CONNECTOR};layout={mode}")
        xs = ["-x", "HDF5_PLUGIN_PATH", "-x", "HDF5_VOL_CONNECTOR"]
    d = os.path.join(WORK, f"{mode}-{np_}")
    subprocess.run(["rm", "-rf", d], check=True)
    os.makedirs(d)
    out = subprocess.run(["mpirun", "--oversubscribe", "-np", str(np_), *xs, VPIC, "write", "run.h5", str(STEPS),
                          str(per_rank)], cwd=d, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{mode} np={np_} per_rank={per_rank}: exit {out.returncode}\n{out.stderr[-3000:]}")
    out = out.stdout
    seconds = float(out.rsplit("(", 1)[1].split(" s)")[0])
    subprocess.run(["rm", "-rf", d], check=True)
    return seconds


def main():
    print(f"VPIC-style writer, {STEPS} steps of 7 datasets, median of {REPS}; MB/s of particle data")
    print()
    print("| ranks | particles per rank | dataset size | native | link form | virtual form | link / native | virtual / native |")
    print("|---|---|---|---|---|---|---|---|")
    spread = []
    for per_rank in (4 << 20, 1 << 20, 1000):
        for np_ in (2, 4):
            times = {m: [] for m in ("native", "link", "virtual")}
            for _ in range(REPS):
                for m in times:
                    times[m].append(run(np_, per_rank, m))
            mb = STEPS * np_ * per_rank * (6 * 4 + 8) / 1e6
            rate = {m: mb / statistics.median(t) for m, t in times.items()}
            size = f"{np_ * per_rank * 4 / 1e6:.3g} MB" if per_rank > 1000 else f"{np_ * per_rank * 4 / 1e3:.3g} KB"
            print(f"| {np_} | {per_rank:,} | {size} | {rate['native']:.0f} | {rate['link']:.0f} | {rate['virtual']:.0f} | "
                  f"{rate['link'] / rate['native']:.2f}x | {rate['virtual'] / rate['native']:.2f}x |")
            for m, t in times.items():
                spread.append(f"{np_} ranks, {size}, {m}: {mb / max(t):.0f}-{mb / min(t):.0f} MB/s")
    print()
    print("Range of the runs (slowest-fastest): " + "; ".join(spread))
    print()
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    for np_ in (2, 4):
        d = os.path.join(WORK, f"files-{np_}")
        os.makedirs(d)
        ms = [float(subprocess.run(["mpirun", "--oversubscribe", "-np", str(np_), FILES], cwd=d, env=env, check=True,
                                   capture_output=True, text=True).stdout) for _ in range(REPS)]
        subprocess.run(["rm", "-rf", d], check=True)
        print(f"Parallel HDF5 alone, {np_} ranks: create and close of a file with one small dataset: "
              f"{statistics.median(ms):.2f} ms (median of {REPS})")


main()
