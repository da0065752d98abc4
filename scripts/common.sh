# Shared by scripts/demo.sh and scripts/test.sh (sourced, not run).
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need_cargo() {
    command -v cargo >/dev/null 2>&1 || die "cargo is not installed: install a Rust toolchain (https://rustup.rs) and retry"
}

# use_series SERIES: builds (or reuses) HDF5 SERIES and points cargo and the C build at it.
# Sets HDF5_DIR, CARGO_TARGET_DIR, PLUGIN_DIR (a directory holding only the built plugin).
use_series() {
    local series=$1 prefix
    prefix=$(bash "$ROOT/scripts/hdf5.sh" build "$series" | tail -n 1)
    [[ -f $prefix/include/hdf5.h ]] || die "scripts/hdf5.sh build $series did not produce an HDF5 prefix"
    export HDF5_DIR=$prefix
    export CARGO_TARGET_DIR=$ROOT/target/hdf5-$series
    export PATH="$prefix/bin:$PATH"
    PLUGIN_DIR=$CARGO_TARGET_DIR/plugin
}

# install_plugin PROFILE_DIR: copies the built plugin into PLUGIN_DIR.
install_plugin() {
    mkdir -p "$PLUGIN_DIR"
    cp "$1/libdset_split.so" "$PLUGIN_DIR/"
}
