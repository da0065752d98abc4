"""A realistic h5py script, unchanged whether or not dset_split is loaded.

Writes groups, datasets of many dtypes, chunked and compressed data, a resizable dataset appended
in a loop, attributes, dimension scales, object and region references, soft/hard/external links,
then copies, moves and deletes objects and reopens the file in every mode.

    python writer.py OUT.h5
"""
import sys

import h5py
import numpy as np


def main(path):
    rng = np.random.default_rng(42)
    with h5py.File(path, "w") as f:
        f.attrs["title"] = "example run"
        f.attrs["version"] = 3
        types = f.create_group("types")
        types["int8"] = np.arange(-5, 5, dtype=np.int8)
        types["uint64"] = np.arange(10, dtype=np.uint64) * 2**40
        types["float32"] = np.linspace(0, 1, 11, dtype=np.float32)
        types["float64"] = rng.standard_normal((4, 5))
        types["complex"] = np.array([1 + 2j, 3 - 4j, -1j], dtype=np.complex128)
        types["bool"] = np.array([True, False, True])
        types["fixed_str"] = np.array([b"alpha", b"beta", b"gamma"], dtype="S5")
        types.create_dataset("vlen_str", data=["x", "longer string", "ünïcödé"], dtype=h5py.string_dtype())
        rec = np.dtype([("id", "<i4"), ("value", "<f8"), ("name", "S8")])
        types["compound"] = np.array([(1, 0.5, b"a"), (2, 1.5, b"b")], dtype=rec)
        colour = h5py.enum_dtype({"red": 0, "green": 1, "blue": 2}, basetype="u1")
        types.create_dataset("enum", data=np.array([0, 2, 1, 1], dtype="u1"), dtype=colour)
        arr = types.create_dataset("array", shape=(2,), dtype=np.dtype(("i4", (2, 3))))
        arr[...] = np.arange(12, dtype="i4").reshape(2, 2, 3)
        types.create_dataset("vlen_int", data=[np.arange(n) for n in (1, 3, 2)], dtype=h5py.vlen_dtype("i8"))

        comp = f.create_group("compressed")
        comp.create_dataset("gzip", data=np.tile(np.arange(100.0), (50, 1)), chunks=(10, 100), compression="gzip",
                            compression_opts=6, shuffle=True, fletcher32=True)
        comp.create_dataset("lzf", data=np.arange(10000, dtype="i4"), compression="lzf")
        comp.create_dataset("filled", shape=(20,), dtype="f4", fillvalue=-1.0, chunks=(5,))
        comp["filled"][3:7] = 7.0

        series = f.create_dataset("series", shape=(0, 3), maxshape=(None, 3), chunks=(16, 3), dtype="f8")
        for step in range(25):
            series.resize(step + 1, axis=0)
            series[step] = [step, step * 0.5, np.sin(step)]
            series.attrs["steps"] = step + 1

        # Dimension scales and references: in the virtual form (the default) they work on split
        # datasets; in the link form a reference holds an address inside one file (README), so
        # the tests exclude /grid from splitting when they run this script with layout=link.
        grid = f.create_group("grid")
        x = grid.create_dataset("x", data=np.linspace(0, 1, 8))
        y = grid.create_dataset("y", data=np.linspace(0, 2, 6))
        field = grid.create_dataset("field", data=rng.random((8, 6)))
        x.make_scale("x")
        y.make_scale("y")
        field.dims[0].attach_scale(x)
        field.dims[1].attach_scale(y)
        field.dims[0].label = "x"
        refs = grid.create_dataset("refs", shape=(2,), dtype=h5py.ref_dtype)
        refs[0] = x.ref
        refs[1] = grid.ref
        rrefs = grid.create_dataset("region_refs", shape=(1,), dtype=h5py.regionref_dtype)
        rrefs[0] = field.regionref[1:3, 2:4]

        links = f.create_group("links")
        links["soft"] = h5py.SoftLink("/types/float64")
        links["hard"] = f["types/int8"]
        with h5py.File(path + ".ext.h5", "w") as other:
            other["payload"] = np.arange(5)
        links["external"] = h5py.ExternalLink(path.rsplit("/", 1)[-1] + ".ext.h5", "/payload")

        f.copy("types/float64", "copies/float64_copy")
        f.move("types/bool", "moved/bool")
        f["scratch"] = np.zeros(3)
        del f["scratch"]
        f.require_dataset("types/int8", shape=(10,), dtype=np.int8)
        f.require_dataset("required", shape=(4,), dtype="f4", data=np.arange(4, dtype="f4"))

    with h5py.File(path, "r+") as f:
        f["types/float32"][0] = 42.0
        f.attrs["edited"] = True
    with h5py.File(path, "a") as f:
        f.create_dataset("appended", data=np.arange(7))
    with h5py.File(path, "r") as f:
        seen = []
        f.visititems(lambda name, obj: seen.append(name))
        assert "types/float64" in seen and "grid/field" in seen, seen
        assert f["links/soft"].shape == (4, 5)
        assert np.array_equal(f["links/external"][()], np.arange(5))
        assert f[f["grid/refs"][0]].name == "/grid/x"
        assert [d.label for d in f["grid/field"].dims] == ["x", ""]
        assert f["series"].shape == (25, 3)


if __name__ == "__main__":
    main(sys.argv[1])
