#!/usr/bin/env bash
# Builds h5py from source against the project's HDF5 (wheels bundle their own renamed libhdf5, so
# they would never load our plugin) into a virtual environment in the cache, reused when present.
# The last line of stdout is the environment's python.
#
#   bash scripts/h5py.sh [1.14|2.2]
#   bash scripts/h5py.sh 1.14-mpi     # h5py with MPI support (mpi4py, built from source with
#                                     # Open MPI's mpicc) against the parallel 1.14 build
#   bash scripts/h5py.sh wheel        # PyPI's h5py and netCDF4 wheels (their bundled HDF5s)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

H5PY_VERSION=3.16.0
MPI4PY_VERSION=4.1.1
cache=${DSET_SPLIT_CACHE:-$HOME/.cache/dset-split}
if [[ ${1:-} == wheel ]]; then
    # PyPI's wheels as pip users have them: h5py (HDF5 2.0.0 inside) and netCDF4 (HDF5 2.2.0
    # inside), each with its own libhdf5 copy.
    venv=$cache/h5py/$H5PY_VERSION-wheel
    wanted="h5py==$H5PY_VERSION netCDF4==1.7.5.1.post1"
    if [[ "$(cat "$venv/.complete" 2>/dev/null)" != "$wanted" ]]; then
        rm -rf "$venv"
        mkdir -p "$(dirname "$venv")"
        python3 -m venv "$venv"
        # shellcheck disable=SC2086
        "$venv/bin/pip" install --quiet $wanted >"$venv.log" 2>&1 || { tail -n 20 "$venv.log" >&2; die "installing the h5py and netCDF4 wheels failed"; }
        echo "$wanted" >"$venv/.complete"
    fi
    echo "$venv/bin/python"
    exit 0
fi
series=${1:-${DSET_SPLIT_HDF5:-1.14}}
prefix=$(bash "$ROOT/scripts/hdf5.sh" build "$series" | tail -n 1)
venv=$cache/h5py/$H5PY_VERSION-$(basename "$prefix")
if [[ ! -f $venv/.complete ]]; then
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    echo "[h5py.sh] building h5py $H5PY_VERSION against HDF5 $(basename "$prefix") (a few minutes, once)" >&2
    python3 -m venv "$venv"
    log=$venv/build.log
    h5py=("h5py==$H5PY_VERSION")
    if [[ $series == *-mpi ]]; then
        # h5py's MPI build: mpi4py compiled once with the MPI compiler wrapper (its generated C
        # is large: no debug information), then h5py against it without build isolation (which
        # would compile the mpi4py its build pins a second time).
        h5py=(--no-build-isolation "${h5py[@]}")
        if ! {
            "$venv/bin/pip" install --quiet --upgrade pip &&
                "$venv/bin/pip" install --quiet numpy pytest "Cython>=3.0,<4" pkgconfig "setuptools>=77" wheel &&
                CC=mpicc CFLAGS="-g0 -O1" "$venv/bin/pip" install --no-binary=mpi4py --no-cache-dir "mpi4py==$MPI4PY_VERSION"
        } >"$log" 2>&1; then
            tail -n 40 "$log" >&2
            die "building mpi4py failed (full log: $log)"
        fi
        export CC=mpicc HDF5_MPI=ON
    fi
    if ! {
        "$venv/bin/pip" install --quiet --upgrade pip &&
            "$venv/bin/pip" install --quiet numpy pytest &&
            HDF5_DIR=$prefix "$venv/bin/pip" install --no-binary=h5py --no-cache-dir "${h5py[@]}"
    } >>"$log" 2>&1; then
        tail -n 40 "$log" >&2
        die "building h5py failed (full log: $log)"
    fi
    got=$(LD_LIBRARY_PATH=$prefix/lib "$venv/bin/python" -c 'import h5py; print(h5py.version.hdf5_version)')
    want=$(basename "$prefix" | cut -d- -f1)
    [[ $got == "$want" ]] || die "h5py reports HDF5 $got, expected $want"
    if [[ $series == *-mpi ]]; then
        LD_LIBRARY_PATH=$prefix/lib "$venv/bin/python" -c 'import h5py, sys; sys.exit(not h5py.get_config().mpi)' ||
            die "h5py was built without MPI support"
    fi
    touch "$venv/.complete"
fi
if [[ $series == *-mpi ]]; then
    echo "$venv/bin/python"
    exit 0
fi
# xarray and h5netcdf (pure Python, on top of this h5py) for the netCDF-4 tests, added once.
extras=(xarray==2026.9.0 h5netcdf==1.8.2)
marker=$venv/.extras-$(echo "${extras[*]}" | tr ' =' '_-')
if [[ ! -f $marker ]]; then
    "$venv/bin/pip" install --quiet "${extras[@]}" >"$venv/extras.log" 2>&1 ||
        { tail -n 20 "$venv/extras.log" >&2; die "installing ${extras[*]} failed"; }
    touch "$marker"
fi
echo "$venv/bin/python"
