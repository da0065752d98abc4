#!/usr/bin/env bash
# Benchmarks `dset-split pack` and `dset-split mount` against tar, mksquashfs and squashfuse_ll
# (Debian's squashfs-tools and squashfuse, installed when missing) and a plain folder, on the same
# generated tree, and prints a Markdown table for BENCHMARKS.md (bench/mount.py says what is
# measured). Needs root (it drops the page cache between steps) and /dev/fuse.
#
#   bash scripts/bench_mount.sh            # REPS=3; DIRS=10 FILES=1000
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
need_cargo
[[ $(id -u) -eq 0 ]] || die "run as root: the benchmark drops the page cache between steps"

REPS=${REPS:-3}
use_series 1.14 >&2
bash scripts/build-release.sh --bin dset-split
squashfuse=$(bash scripts/apt-tool.sh squashfuse squashfuse_ll | tail -n 1)
mksquashfs=$(bash scripts/apt-tool.sh squashfs-tools mksquashfs | tail -n 1)
python3 bench/mount.py "$CARGO_TARGET_DIR/release/dset-split" "$squashfuse" "$mksquashfs" "$REPS"
