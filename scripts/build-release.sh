#!/usr/bin/env bash
# Builds the release plugin and commands (cargo build --release, with any further cargo
# arguments), then the mount's server, dset-split-serve (crates/serve), linked statically: it
# needs nothing from the system's shared libraries, and a mounted pack costs about 1.5 MiB
# instead of 2.3 (BENCHMARKS.md). pyproject.toml builds the Python package's server the same way.
#
#   bash scripts/build-release.sh [--bin dset-split]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --locked "$@" >&2
# The flag reaches every crate of this build, build scripts included (linked statically too,
# which works); the server's crates have no procedural macros, which could not be.
cargo build --release --locked -p dset-split-serve \
    --config 'target.'"'"'cfg(all(target_os = "linux", target_env = "gnu"))'"'"'.rustflags = ["-C", "target-feature=+crt-static"]' >&2
