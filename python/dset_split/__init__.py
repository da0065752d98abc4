"""dset-split: HDF5 data versionable at dataset granularity.

The package holds the dset_split VOL connector plugin and the `dset-split` command. Two ways to run
a program through the connector:

- with environment variables, no code change: ``eval "$(dset-split env)"`` (see :func:`env`);
- from Python, without environment variables: ``dset_split.File(path, mode, **kwargs)``, an
  ``h5py.File`` whose file goes through the connector (see :func:`File`).

The plugin has no link to libhdf5: it binds at run time to the libhdf5 that loads it, so it works
with h5py's and netCDF4's wheels and any HDF5 1.14 or 2.x.
"""

import ctypes
import os

__all__ = ["plugin_dir", "connector", "env", "File"]
__version__ = "0.1.0"

_HERE = os.path.dirname(os.path.abspath(__file__))


def plugin_dir():
    """The folder holding the plugin (put it on HDF5_PLUGIN_PATH)."""
    return os.path.join(_HERE, "plugin")


def connector(**keys):
    """The HDF5_VOL_CONNECTOR value for the policy ``keys`` (``layout="link"``,
    ``min_size="1MiB"``, ``exclude="/grid/**"`` ...); a list value (``include``, ``exclude``)
    becomes the comma-separated list the connector takes."""
    parts = ["under_vol=0", "under_info={}"]
    for key, value in keys.items():
        text = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        if ";" in text:
            raise ValueError(f"{key}={text!r}: a value may not hold ';'")
        parts.append(f"{key}={text}")
    return "dset_split " + ";".join(parts)


def env(**keys):
    """The environment variables that run a program through the connector: a copy of
    ``os.environ`` with the plugin's folder in front of HDF5_PLUGIN_PATH and HDF5_VOL_CONNECTOR
    set for ``keys`` (see :func:`connector`). For ``subprocess.run(..., env=dset_split.env())``."""
    out = dict(os.environ)
    path = out.get("HDF5_PLUGIN_PATH")
    out["HDF5_PLUGIN_PATH"] = plugin_dir() + (os.pathsep + path if path else "")
    out["HDF5_VOL_CONNECTOR"] = connector(**keys)
    return out


def _h5py_libs():
    """The folder where h5py's wheel keeps its bundled libraries (h5py.libs, next to the package;
    it does not exist for an h5py built from source), found without importing h5py; None without
    h5py."""
    import importlib.util

    spec = importlib.util.find_spec("h5py")
    if spec is None or not spec.origin:
        return None
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(spec.origin))), "h5py.libs")


def _libhdf5_of_h5py():
    """The libhdf5 copy h5py uses, already loaded: its path, from the process's memory map."""
    import h5py  # noqa: F401  (loads its libhdf5)

    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "libhdf5" in line and ".so" in line}
    # h5py's own copy: the one its wheel bundles, else one its extension links to (h5py built
    # from source); never netCDF4's or another package's copy
    libs = _h5py_libs()
    plain = sorted(p for p in paths if "_hl" not in os.path.basename(p))
    bundled = [p for p in plain if os.path.dirname(p) == libs]
    others = [p for p in plain if ".libs" not in os.path.dirname(p)]
    for path in bundled or others:
        return path
    raise RuntimeError("cannot find the HDF5 library h5py uses")


_CONNECTOR = []


def _connector():
    """h5py's libhdf5 (through ctypes) and the id of dset_split registered in it, once."""
    if not _CONNECTOR:
        lib = ctypes.CDLL(_libhdf5_of_h5py(), mode=os.RTLD_NOLOAD | getattr(os, "RTLD_NOW", 2))
        hid_t = ctypes.c_int64
        lib.H5PLappend.argtypes = [ctypes.c_char_p]
        lib.H5VLregister_connector_by_name.argtypes = [ctypes.c_char_p, hid_t]
        lib.H5VLregister_connector_by_name.restype = hid_t
        lib.H5VLconnector_str_to_info.argtypes = [ctypes.c_char_p, hid_t, ctypes.POINTER(ctypes.c_void_p)]
        lib.H5Pset_vol.argtypes = [hid_t, hid_t, ctypes.c_void_p]
        lib.H5VLfree_connector_info.argtypes = [hid_t, ctypes.c_void_p]
        if lib.H5PLappend(plugin_dir().encode()) < 0:
            raise RuntimeError("HDF5 refused the plugin folder " + plugin_dir())
        vol = lib.H5VLregister_connector_by_name(b"dset_split", 0)
        if vol < 0:
            raise RuntimeError("HDF5 could not load the dset_split plugin (run `dset-split doctor`)")
        _CONNECTOR.extend([lib, vol])
    return _CONNECTOR


def _fapl(keys):
    """A file access property list of h5py's libhdf5 with the connector set for ``keys``."""
    from h5py import h5p

    lib, vol = _connector()
    info = ctypes.c_void_p()
    text = connector(**keys)[len("dset_split ") :].encode()
    if lib.H5VLconnector_str_to_info(text, vol, ctypes.byref(info)) < 0:
        raise ValueError(f"dset_split refused its settings {keys!r} (see the HDF5 error stack)")
    fapl = h5p.create(h5p.FILE_ACCESS)
    try:
        if lib.H5Pset_vol(fapl.id, vol, info) < 0:
            raise RuntimeError("H5Pset_vol failed")
    finally:
        lib.H5VLfree_connector_info(vol, info)
    return fapl


def File(name, mode="r", **policy):
    """An ``h5py.File`` opened through the connector, without environment variables.

    ``mode`` is h5py's (``r``, ``r+``, ``w``, ``w-``/``x``, ``a``); the keyword arguments are the
    connector's policy keys (``layout="link"``, ``min_size="1MiB"``, ``exclude=[...]`` ...), not
    ``h5py.File``'s (``driver``, ``libver``, ... are not taken: use ``env()`` and ``h5py.File``
    for those). Works with h5py's wheel: the plugin is loaded into the HDF5 that h5py uses. Do not
    open the same file with a plain ``h5py.File`` at the same time in one process (HDF5 cannot
    close it then, as with any VOL connector stacked on the native one).
    """
    import h5py
    from h5py import h5f

    fapl = _fapl(policy)
    name = os.fspath(name)
    bname = name.encode() if isinstance(name, str) else name
    exists = os.path.exists(name)
    if mode == "r":
        fid = h5f.open(bname, h5f.ACC_RDONLY, fapl=fapl)
    elif mode == "r+" or (mode == "a" and exists):
        fid = h5f.open(bname, h5f.ACC_RDWR, fapl=fapl)
    elif mode in ("w-", "x") or (mode == "a" and not exists):
        fid = h5f.create(bname, h5f.ACC_EXCL, fapl=fapl)
    elif mode == "w":
        fid = h5f.create(bname, h5f.ACC_TRUNC, fapl=fapl)
    else:
        raise ValueError(f"invalid mode {mode!r}")
    return h5py.File(fid)
