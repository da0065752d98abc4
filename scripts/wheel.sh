#!/usr/bin/env bash
# Builds the Python package (the plugin, the `dset-split` command and python/dset_split) into a
# wheel with pip and setuptools-rust, as `pip wheel .` does for a user; prints the wheel's path.
# Needs an HDF5 for the headers, as cargo does (HDF5_DIR; scripts/test.sh sets it).
#
#   bash scripts/wheel.sh [OUT_DIR]      # default: target/wheels
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out=${1:-$ROOT/target/wheels}
cache=${DSET_SPLIT_CACHE:-$HOME/.cache/dset-split}
venv=$cache/wheel-build
if [[ ! -f $venv/.complete ]]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip >"$venv.log" 2>&1 || { tail -n 20 "$venv.log" >&2; die "setting up pip failed"; }
    touch "$venv/.complete"
fi
mkdir -p "$out"
rm -f "$out"/dset_split-*.whl
log=$out/build.log
"$venv/bin/pip" wheel "$ROOT" --no-deps --wheel-dir "$out" >"$log" 2>&1 || { tail -n 40 "$log" >&2; die "building the wheel failed (log: $log)"; }
ls "$out"/dset_split-*.whl
