#!/usr/bin/env bash
# Benchmarks the connector against native HDF5 in the same run and prints a Markdown table of
# ratios (through dset_split / native) for BENCHMARKS.md. Runs are interleaved; medians of REPS.
#
#   bash scripts/bench.sh                     # HDF5 1.14, 1000 datasets, 7 repetitions
#   DSET_SPLIT_HDF5=2.2 N=5000 REPS=9 bash scripts/bench.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
need_cargo

series=${DSET_SPLIT_HDF5:-1.14}
N=${N:-1000}
REPS=${REPS:-7}
use_series "$series" >&2
cargo build --release --locked >&2
install_plugin "$CARGO_TARGET_DIR/release"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -I"$HDF5_DIR/include" bench/overhead.c -L"$HDF5_DIR/lib" -lhdf5 -Wl,-rpath,"$HDF5_DIR/lib" -o "$work/overhead"

for _ in $(seq "$REPS"); do
    env -u HDF5_VOL_CONNECTOR "$work/overhead" "$work/native.h5" "$N" >>"$work/native.txt"
    HDF5_PLUGIN_PATH=$PLUGIN_DIR HDF5_VOL_CONNECTOR="dset_split under_vol=0;under_info={};split=off" \
        "$work/overhead" "$work/passthrough.h5" "$N" >>"$work/passthrough.txt"
    HDF5_PLUGIN_PATH=$PLUGIN_DIR HDF5_VOL_CONNECTOR="dset_split under_vol=0;under_info={}" \
        "$work/overhead" "$work/split.h5" "$N" >>"$work/split.txt"
done

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
row() {
    local label=$1 col=$2 unit=$3 scale=$4 nat pass split
    nat=$(awk -v c="$col" '{print $c}' "$work/native.txt" | median)
    pass=$(awk -v c="$col" '{print $c}' "$work/passthrough.txt" | median)
    split=$(awk -v c="$col" '{print $c}' "$work/split.txt" | median)
    awk -v l="$label" -v n="$nat" -v p="$pass" -v s="$split" -v u="$unit" -v k="$scale" \
        'BEGIN {printf "| %s | %.1f %s | %.1f %s (%.2f) | %.1f %s (%.2f) |\n", l, n*k, u, p*k, u, p/n, s*k, u, s/n}'
}
echo "HDF5 $(basename "$HDF5_DIR"), $N datasets of 8 KiB, median of $REPS interleaved runs, $(date -u +%Y-%m-%d)"
echo
echo "| phase | native | dset_split, split=off (ratio) | dset_split, splitting (ratio) |"
echo "|---|---|---|---|"
row "create + write $N datasets" 1 ms 1000
row "open + read + close $N datasets" 2 ms 1000
row "delete $N datasets" 4 ms 1000
row "peak resident memory (create + read)" 3 MiB 0.0009765625
