#!/usr/bin/env bash
# Installs DVC from PyPI into a virtual environment in the cache, reused when present, for the
# end-to-end DVC tests. The last line of stdout is the `dvc` executable.
#
#   bash scripts/dvc.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DVC_VERSION=3.67.1
cache=${DSET_SPLIT_CACHE:-$HOME/.cache/dset-split}
venv=$cache/dvc/$DVC_VERSION
if [[ ! -f $venv/.complete ]]; then
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    echo "[dvc.sh] installing DVC $DVC_VERSION (once)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "dvc==$DVC_VERSION" >"$venv.log" 2>&1 || {
        tail -n 20 "$venv.log" >&2
        die "installing DVC failed (full log: $venv.log)"
    }
    got=$("$venv/bin/dvc" --version)
    [[ $got == "$DVC_VERSION" ]] || die "dvc reports version $got, expected $DVC_VERSION"
    touch "$venv/.complete"
fi
echo "$venv/bin/dvc"
