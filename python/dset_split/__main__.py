"""The `dset-split` command of the Python package: runs the packaged binary with the plugin's
folder known to it (for `dset-split env` and `doctor`) and, when h5py's wheel is installed, its
libhdf5 as the HDF5 library to work with (the binary is not linked to one)."""

import glob
import os
import sys

from . import _h5py_libs, plugin_dir


def _h5py_libhdf5():
    """The libhdf5 h5py's wheel bundles (h5py.libs/libhdf5-<hash>.so*), found without importing
    h5py; None for an h5py built from source (the binary then finds its own)."""
    libs = _h5py_libs()
    if libs is None:
        return None
    found = [p for p in glob.glob(os.path.join(libs, "libhdf5-*.so*")) if "_hl" not in os.path.basename(p)]
    return sorted(found)[0] if found else None


def main():
    exe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "dset-split")
    env = dict(os.environ)
    env.setdefault("DSET_SPLIT_PLUGIN_DIR", plugin_dir())
    if "DSET_SPLIT_HDF5_LIB" not in env:
        lib = _h5py_libhdf5()
        if lib:
            env["DSET_SPLIT_HDF5_LIB"] = lib
            # its own dependencies (libsz, libaec ...) sit next to it, renamed like it
            path = env.get("LD_LIBRARY_PATH")
            env["LD_LIBRARY_PATH"] = os.path.dirname(lib) + (os.pathsep + path if path else "")
    os.execve(exe, [exe, *sys.argv[1:]], env)


if __name__ == "__main__":
    main()
