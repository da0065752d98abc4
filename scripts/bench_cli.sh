#!/usr/bin/env bash
# Benchmarks `dset-split split` and `merge` against native HDF5 (h5repack) and cp in the same run
# and prints a Markdown table for BENCHMARKS.md (bench/cli.py says what is measured).
#
#   bash scripts/bench_cli.sh            # REPS=5
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
need_cargo

REPS=${REPS:-5}
use_series 1.14 >&2
cargo build --release --locked --bin dset-split >&2
py=$(bash scripts/h5py.sh 1.14 | tail -n 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 bench/peak.c -o "$work/peak"
LD_LIBRARY_PATH=$HDF5_DIR/lib "$py" bench/cli.py "$work/peak" "$CARGO_TARGET_DIR/release/dset-split" \
    "$HDF5_DIR/bin/h5repack" "$REPS"
