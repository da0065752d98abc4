#!/usr/bin/env bash
# Benchmarks parallel writes through dset_split against native parallel HDF5 (issue 13): the
# VPIC-style writer (examples/mpi/vpic.c) on the parallel 1.14 build, with mpirun -np 2 and 4,
# and prints a Markdown table for BENCHMARKS.md (bench/mpi.py says what is measured).
#
#   bash scripts/bench_mpi.sh            # REPS=5
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
need_cargo

REPS=${REPS:-5}
use_series 1.14 >&2
cargo build --release --locked --lib >&2
mpi=$(bash scripts/hdf5.sh build 1.14-mpi | tail -n 1)
# In memory by default (/dev/shm): what is measured is the software's cost, not the disk's
# write-back, which varies threefold between runs here (BENCH_DIR=/var/tmp to see it).
work=$(mktemp -d "${BENCH_DIR:-/dev/shm}/bench-mpi.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/plugin"
cp "$CARGO_TARGET_DIR/release/libdset_split.so" "$work/plugin/"
"$mpi/bin/h5pcc" -O2 examples/mpi/vpic.c -o "$work/vpic" "-Wl,-rpath,$mpi/lib"
"$mpi/bin/h5pcc" -O2 bench/mpi_files.c -o "$work/files" "-Wl,-rpath,$mpi/lib"
python3 bench/mpi.py "$work/vpic" "$work/files" "$work/plugin" "$work" "$REPS"
