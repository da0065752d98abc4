#!/usr/bin/env bash
# Benchmarks `dset-split pack --split-dirs` against one pack of the same generated tree: what an
# update rewrites (what DVC uploads again), and pack, update and mount times; prints a Markdown
# table for BENCHMARKS.md (bench/split_pack.py says what is measured). Needs root (it drops the
# page cache before each mount) and /dev/fuse.
#
#   bash scripts/bench_split_pack.sh       # REPS=3; DIRS=10 FILES=1000
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
need_cargo
[[ $(id -u) -eq 0 ]] || die "run as root: the benchmark drops the page cache before each mount"

REPS=${REPS:-3}
use_series 1.14 >&2
bash scripts/build-release.sh --bin dset-split
python3 bench/split_pack.py "$CARGO_TARGET_DIR/release/dset-split" "$REPS"
