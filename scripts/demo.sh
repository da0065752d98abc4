#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs the demo:
#   1. installs the prerequisites and builds HDF5 (1.14 by default) into a cache outside the checkout,
#   2. builds the connector (release) and puts it in a plugin directory,
#   3. runs an unmodified C program through the connector (two environment variables, no code change),
#   4. shows the split layout (a main file and one file per dataset),
#   5. moves the tree and reads it back from another directory with plain HDF5 tools, no plugin,
#   6. the companion command: where each dataset lives, a layout check, one self-contained file.
#
#   bash scripts/demo.sh                 # HDF5 1.14
#   DSET_SPLIT_HDF5=2.2 bash scripts/demo.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
need_cargo

series=${DSET_SPLIT_HDF5:-1.14}
say "1. HDF5 $series (built once, then reused from the cache)"
use_series "$series"
echo "HDF5_DIR=$HDF5_DIR"

say "2. the connector"
bash scripts/build-release.sh
install_plugin "$CARGO_TARGET_DIR/release"
echo "plugin directory: $PLUGIN_DIR"
"$CARGO_TARGET_DIR/release/dset-split" --version

say "3. an unmodified program, run through dset_split"
demo=$ROOT/target/demo
rm -rf "$demo" && mkdir -p "$demo"
cc -O2 -I"$HDF5_DIR/include" examples/c/sim_writer.c -L"$HDF5_DIR/lib" -lhdf5 -lm \
    -Wl,-rpath,"$HDF5_DIR/lib" -o "$demo/sim_writer"
echo "\$ HDF5_PLUGIN_PATH=$PLUGIN_DIR HDF5_VOL_CONNECTOR=\"dset_split under_vol=0;under_info={}\" ./sim_writer run.h5"
(cd "$demo" && HDF5_PLUGIN_PATH=$PLUGIN_DIR HDF5_VOL_CONNECTOR="dset_split under_vol=0;under_info={}" \
    DSET_SPLIT_LOG="$demo/dset_split.log" ./sim_writer run.h5)
echo "dset_split logged $(wc -l <"$demo/dset_split.log") calls (DSET_SPLIT_LOG=$demo/dset_split.log)"

say "4. the split layout: one small main file, one file per dataset"
(cd "$demo" && ls -l run.h5 && find run-split -type f | sort | xargs ls -l)

say "5. the result is plain HDF5: read with no plugin, after moving the tree, from elsewhere"
moved=$ROOT/target/demo-moved
rm -rf "$moved" && mkdir -p "$moved" && cp -r "$demo/run.h5" "$demo/run-split" "$moved/"
if command -v h5ls >/dev/null 2>&1; then
    (cd / && env -u HDF5_VOL_CONNECTOR -u HDF5_PLUGIN_PATH h5ls -r "$moved/run.h5")
    (cd / && env -u HDF5_VOL_CONNECTOR -u HDF5_PLUGIN_PATH h5dump -d /energy "$moved/run.h5")
else
    echo "(HDF5 $series has no command-line tools here; run DSET_SPLIT_HDF5=1.14 bash scripts/demo.sh)"
fi
say "6. the dset-split command (plain HDF5, no plugin either)"
cli=$CARGO_TARGET_DIR/release/dset-split
(cd "$moved" && echo "\$ dset-split status run.h5" && "$cli" status run.h5 &&
    echo "\$ dset-split check run.h5" && "$cli" check run.h5 &&
    echo "\$ dset-split merge run.h5 one-file.h5" && "$cli" merge run.h5 one-file.h5 && ls -l one-file.h5)
say "done: set HDF5_PLUGIN_PATH=$PLUGIN_DIR and HDF5_VOL_CONNECTOR=\"dset_split under_vol=0;under_info={}\" for your own programs"
