#!/usr/bin/env bash
# Makes sure a command from one of Debian's packages is installed, for the end-to-end tests that
# use it, and prints the command's path as the last line of stdout. Installs the package with
# apt-get when the command is missing (as root, or with password-less sudo); changes nothing
# otherwise.
#
#   bash scripts/apt-tool.sh PACKAGE COMMAND      e.g. git-annex git-annex, netcdf-bin ncdump
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

package=${1:?usage: apt-tool.sh PACKAGE COMMAND}
command=${2:?usage: apt-tool.sh PACKAGE COMMAND}
if ! command -v "$command" >/dev/null 2>&1; then
    if [[ $(id -u) -ne 0 ]] && ! sudo -n true 2>/dev/null; then
        die "$command is not installed; install it as root (apt-get install $package) and retry"
    fi
    as_root=()
    [[ $(id -u) -eq 0 ]] || as_root=(sudo -n)
    log=${DSET_SPLIT_CACHE:-$HOME/.cache/dset-split}/$package-install.log
    mkdir -p "$(dirname "$log")"
    echo "[apt-tool.sh] installing $package with apt-get (once)" >&2
    { "${as_root[@]}" apt-get -q update &&
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "$package"; } \
        >"$log" 2>&1 || {
        tail -n 20 "$log" >&2
        die "installing $package failed (full log: $log)"
    }
fi
command -v "$command"
