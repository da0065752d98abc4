#!/usr/bin/env bash
# Builds the release plugin and commands (cargo build --release), then the mount's server,
# dset-split-serve (crates/serve), linked statically: it needs nothing from the system's shared
# libraries, and a mounted pack costs about 1.5 MiB instead of 2.3 (BENCHMARKS.md). Where no
# static C library is installed (Fedora's glibc-static), the server is linked against the shared
# one, with a warning. pyproject.toml builds the Python package's server the same way.
#
#   bash scripts/build-release.sh [--bin dset-split]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ $# -ne 0 && ! ($# -eq 2 && $1 == --bin) ]]; then
    echo "usage: bash scripts/build-release.sh [--bin NAME]" >&2
    exit 2
fi
cargo build --release --locked "$@" >&2

server=${CARGO_TARGET_DIR:-target}/release/dset-split-serve
# The flag reaches every crate of this build, build scripts included (linked statically too,
# which works); the server's crates have no procedural macros, which could not be. Cargo ignores
# this key when RUSTFLAGS (or CARGO_ENCODED_RUSTFLAGS) is set, so then the flag joins RUSTFLAGS.
static=(--config 'target.'"'"'cfg(all(target_os = "linux", target_env = "gnu"))'"'"'.rustflags = ["-C", "target-feature=+crt-static"]')
static_env=()
if [[ -n ${RUSTFLAGS+x} || -n ${CARGO_ENCODED_RUSTFLAGS+x} ]]; then
    static_env=(env -u CARGO_ENCODED_RUSTFLAGS "RUSTFLAGS=${RUSTFLAGS:-} -C target-feature=+crt-static")
    static=()
fi
if ! "${static_env[@]}" cargo build --release --locked -p dset-split-serve "${static[@]}" >&2; then
    echo "warning: dset-split-serve cannot be linked statically here (no static C library: libc6-dev, glibc-static); linking it against the shared one (a mounted pack then costs about 2.3 MiB instead of 1.5)" >&2
    cargo build --release --locked -p dset-split-serve >&2
elif readelf -d "$server" 2>/dev/null | grep -q NEEDED; then
    echo "warning: $server is not linked statically" >&2
fi
