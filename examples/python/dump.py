"""Prints a canonical JSON description of an HDF5 file: every object reachable through any link
(external links included), its kind, dtype, shape, data and attributes. Two files with the same
content print the same text, however their datasets are stored.

    python dump.py FILE.h5
"""
import hashlib
import json
import sys

import h5py
import numpy as np


def value(v):
    if isinstance(v, h5py.Reference):
        return "<ref>"
    if isinstance(v, h5py.RegionReference):
        return "<regionref>"
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray):
        if v.dtype.kind == "O" or v.dtype.names or v.dtype.kind in "SUV":
            return hashlib.sha256(repr(v.tolist()).encode()).hexdigest()
        return hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest()
    if isinstance(v, np.generic):
        return v.item() if not isinstance(v, np.bytes_) else v.decode("utf-8", "replace")
    return v


def attrs(obj):
    return {k: value(obj.attrs[k]) for k in sorted(obj.attrs)}


def walk(group, prefix, out, seen):
    for name in sorted(group):
        path = f"{prefix}/{name}"
        obj = group[name]
        entry = {"attrs": attrs(obj)}
        if isinstance(obj, h5py.Dataset):
            entry.update(kind="dataset", dtype=str(obj.dtype), shape=list(obj.shape),
                         maxshape=[m if m is not None else -1 for m in obj.maxshape],
                         data=value(obj[()]) if obj.shape != () else value(obj[()]),
                         scales=[[s.name for s in d.values()] for d in obj.dims] if obj.ndim else [])
        elif isinstance(obj, h5py.Group):
            entry["kind"] = "group"
        else:
            entry["kind"] = "datatype"
        out[path] = entry
        if isinstance(obj, h5py.Group):
            walk(obj, path, out, seen)


def main(path):
    out = {}
    with h5py.File(path, "r") as f:
        out["/"] = {"attrs": attrs(f), "kind": "group"}
        walk(f, "", out, set())
    print(json.dumps(out, indent=1, sort_keys=True, default=str))


if __name__ == "__main__":
    main(sys.argv[1])
