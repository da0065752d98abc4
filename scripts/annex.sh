#!/usr/bin/env bash
# Makes sure git-annex (Debian's package) is installed, for the end-to-end git-annex tests, and
# prints the `git-annex` executable as the last line of stdout. Installs it with apt-get when it
# is missing (as root, or with password-less sudo); changes nothing otherwise.
#
#   bash scripts/annex.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if ! command -v git-annex >/dev/null 2>&1; then
    if [[ $(id -u) -ne 0 ]] && ! sudo -n true 2>/dev/null; then
        die "git-annex is not installed; install it as root (apt-get install git-annex) and retry"
    fi
    as_root=()
    [[ $(id -u) -eq 0 ]] || as_root=(sudo -n)
    log=${DSET_SPLIT_CACHE:-$HOME/.cache/dset-split}/annex-install.log
    mkdir -p "$(dirname "$log")"
    echo "[annex.sh] installing git-annex with apt-get (once)" >&2
    { "${as_root[@]}" apt-get -q update &&
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends git-annex; } \
        >"$log" 2>&1 || {
        tail -n 20 "$log" >&2
        die "installing git-annex failed (full log: $log)"
    }
fi
command -v git-annex
