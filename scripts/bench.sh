#!/usr/bin/env bash
# Benchmarks the connector against native HDF5 in the same run and prints a Markdown table of
# ratios (through dset_split / native) for BENCHMARKS.md. Runs are interleaved; medians of REPS.
#
#   bash scripts/bench.sh                     # HDF5 1.14, 1000 datasets, 7 repetitions
#   DSET_SPLIT_HDF5=2.2 N=5000 REPS=9 BULK_N=4 BULK_MIB=256 bash scripts/bench.sh
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
cc -O2 -I"$HDF5_DIR/include" bench/bulk.c -L"$HDF5_DIR/lib" -lhdf5 -Wl,-rpath,"$HDF5_DIR/lib" -o "$work/bulk"

# The configurations: name and connector string (empty: native HDF5).
CONFIGS=(native passthrough link virtual)
declare -A CONNECTOR=(
    [native]=""
    [passthrough]="dset_split under_vol=0;under_info={};split=off"
    [link]="dset_split under_vol=0;under_info={};layout=link"
    [virtual]="dset_split under_vol=0;under_info={};layout=virtual"
)
run() { # run CONFIG PROGRAM ARGS...: the program natively or through the configuration's connector
    local c=$1
    shift
    if [[ -z ${CONNECTOR[$c]} ]]; then
        env -u HDF5_VOL_CONNECTOR "$@"
    else
        HDF5_PLUGIN_PATH=$PLUGIN_DIR HDF5_VOL_CONNECTOR="${CONNECTOR[$c]}" "$@"
    fi
}

for _ in $(seq "$REPS"); do
    for c in "${CONFIGS[@]}"; do
        run "$c" "$work/overhead" "$work/$c.h5" "$N" >>"$work/$c.txt"
    done
done

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v c="$2" '{print $c}' "$work/$1" | median; } # col FILE COLUMN: the median
row() {
    local label=$1 c=$2 unit=$3 scale=$4 nat out
    nat=$(col native.txt "$c")
    out="| $label | $(awk -v n="$nat" -v u="$unit" -v k="$scale" 'BEGIN {printf "%.1f %s", n*k, u}')"
    for cfg in passthrough link virtual; do
        out+=$(awk -v n="$nat" -v v="$(col "$cfg.txt" "$c")" -v u="$unit" -v k="$scale" \
            'BEGIN {printf " | %.1f %s (%.2f)", v*k, u, v/n}')
    done
    echo "$out |"
}
echo "HDF5 $(basename "$HDF5_DIR"), $N datasets of 8 KiB, median of $REPS interleaved runs, $(date -u +%Y-%m-%d)"
echo
echo "| phase | native | dset_split, split=off (ratio) | splitting, layout=link (ratio) | splitting, layout=virtual (ratio) |"
echo "|---|---|---|---|---|"
row "create + write $N datasets" 1 ms 1000
row "open + read + close $N datasets" 2 ms 1000
row "delete $N datasets" 4 ms 1000
row "peak resident memory (create + read)" 3 MiB 0.0009765625

# Bulk I/O: BULK_N datasets of BULK_MIB MiB, written and read through each form, and the split
# layouts read by plain HDF5 (no connector).
BULK_N=${BULK_N:-8}
BULK_MIB=${BULK_MIB:-64}
for _ in $(seq "$REPS"); do
    for c in native link virtual; do
        run "$c" "$work/bulk" "$work/bulk-$c.h5" "$BULK_N" "$BULK_MIB" >>"$work/bulk-$c.txt"
    done
    for c in link virtual; do
        run native "$work/bulk" "$work/bulk-$c.h5" "$BULK_N" "$BULK_MIB" read >>"$work/plain-$c.txt"
    done
done
mbs() { awk -v t="$1" -v m="$((BULK_N * BULK_MIB))" 'BEGIN {printf "%.0f MiB/s", m/t}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; } # ratio T_REF T: T's throughput over T_REF's
echo
echo "Bulk I/O: $BULK_N datasets of $BULK_MIB MiB (chunks of 1 MiB), median of $REPS interleaved runs, page cache warm"
echo
echo "| phase | native | layout=link (x native) | layout=virtual (x native, x link) |"
echo "|---|---|---|---|"
for phase in write read; do
    i=$([[ $phase == write ]] && echo 1 || echo 2)
    n=$(col bulk-native.txt $i) l=$(col bulk-link.txt $i) v=$(col bulk-virtual.txt $i)
    echo "| $phase through the connector | $(mbs "$n") | $(mbs "$l") ($(ratio "$n" "$l")) | $(mbs "$v") ($(ratio "$n" "$v"), $(ratio "$l" "$v")) |"
done
n=$(col bulk-native.txt 2) l=$(col plain-link.txt 2) v=$(col plain-virtual.txt 2)
echo "| read by plain HDF5 (no connector) | $(mbs "$n") | $(mbs "$l") ($(ratio "$n" "$l")) | $(mbs "$v") ($(ratio "$n" "$v"), $(ratio "$l" "$v")) |"
