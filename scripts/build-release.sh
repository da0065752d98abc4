#!/usr/bin/env bash
# Builds the release plugin and commands (cargo build --release, with any further cargo
# arguments), then links the mount's server, dset-split-serve, statically: it needs nothing
# from the system's shared libraries, and a mounted pack costs about 1.6 MiB instead of 2.3
# (BENCHMARKS.md). Sourced scripts call it with CARGO_TARGET_DIR and HDF5_DIR set.
#
#   bash scripts/build-release.sh [--bin dset-split]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --locked "$@" >&2
cargo rustc --release --locked --bin dset-split-serve -- -C target-feature=+crt-static >&2
