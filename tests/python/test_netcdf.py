"""netCDF-4 through the virtual form (issue 10): xarray with the h5netcdf engine writes through the
connector (every variable gets dimension scales), and the result is read back through the
connector, natively with h5py's wheel, and by netCDF-C (`ncdump`, Debian's netcdf-bin); DVC sees a
changed variable as a change of its split file only.

Run by scripts/test.sh on both series: python is the h5py built against the series, with xarray
and h5netcdf (scripts/h5py.sh); DSET_SPLIT_NCDUMP names `ncdump` (scripts/apt-tool.sh).
"""
import hashlib
import json
import os
import re
import sys
import textwrap

import pytest

from support import CONNECTOR, clean_env, cli, connector_env, need, need_file, sh

VIRTUAL = CONNECTOR + ";layout=virtual"

WRITE = """
    import numpy as np, xarray as xr
    t, x = np.arange(5.0), np.arange(4.0)
    ds = xr.Dataset(
        {"temp": (("time", "x"), np.arange(20.0).reshape(5, 4), {"units": "K", "long_name": "temperature"}),
         "pres": (("time", "x"), np.full((5, 4), 2.5))},
        coords={"time": ("time", t, {"units": "days since 2000-01-01"}), "x": x}, attrs={"title": "run"})
    ds.to_netcdf("run.nc", engine="h5netcdf", encoding={"pres": {"zlib": True, "complevel": 4}})
"""

APPEND = """
    import numpy as np, xarray as xr
    xr.Dataset({"salt": (("time",), np.arange(5.0) + 0.5)}).to_netcdf("run.nc", mode="a", engine="h5netcdf")
"""

READ = """
    import xarray as xr
    ds = xr.open_dataset("run.nc", engine="h5netcdf", decode_times=False)
    print(float(ds.temp.sum()), float(ds.pres.sum()), float(ds.salt.sum()), list(ds.temp.dims),
          ds.temp.attrs["units"], ds.attrs["title"], ds.time.attrs["units"], ds.pres.encoding.get("zlib"))
"""


def py(code, cwd, env):
    return sh([sys.executable, "-c", textwrap.dedent(code)], cwd, env)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def written(tmp_path):
    """run.nc written in two sessions through the connector (layout=virtual)."""
    py(WRITE, tmp_path, connector_env(VIRTUAL))
    py(APPEND, tmp_path, connector_env(VIRTUAL))
    return tmp_path


def test_xarray_round_trip_through_the_connector(written):
    split = sorted(p.name for p in (written / "run-split").glob("*.h5"))
    assert split == ["pres.h5", "salt.h5", "temp.h5", "time.h5", "x.h5"], split
    main = (written / "run.nc").stat().st_size
    data = sum(p.stat().st_size for p in (written / "run-split").glob("*.h5"))
    assert main < data, (main, data)
    want = "190.0 50.0 12.5 ['time', 'x'] K run days since 2000-01-01"
    # through the connector, the compressed variable is what was asked for
    assert py(READ, written, connector_env(VIRTUAL)).stdout.strip() == want + " True"
    # h5netcdf over plain HDF5 (no connector) reads the same values through the virtual datasets,
    # which show plain readers no filters (README, "The virtual form")
    assert py(READ, written, clean_env()).stdout.strip() == want + " False"


def test_plain_readers_read_the_values(written):
    wheel = need_file("DSET_SPLIT_WHEEL_PYTHON")
    out = sh([wheel, "-c", textwrap.dedent("""
        import h5py
        f = h5py.File('run.nc', 'r')
        t = f['temp']
        print(t.is_virtual, t[()].sum(), f['pres'][()].sum(), [d[0].name for d in t.dims], f['salt'][()].tolist())
        """)], written, clean_env()).stdout.strip()
    assert out == "True 190.0 50.0 ['/time', '/x'] [0.5, 1.5, 2.5, 3.5, 4.5]", out
    dump = sh([need_file("DSET_SPLIT_NCDUMP"), "run.nc"], written, clean_env()).stdout
    assert "double temp(time, x) ;" in dump and 'temp:units = "K" ;' in dump, dump
    assert "salt = 0.5, 1.5, 2.5, 3.5, 4.5 ;" in dump, dump
    assert " 16, 17, 18, 19 ;" in dump.replace("\n", " "), dump


def test_changing_one_variable_changes_only_its_split_file(written):
    files = sorted([written / "run.nc", *(written / "run-split").glob("*.h5")])
    before = {p.name: digest(p) for p in files}
    py("""
        import h5py
        with h5py.File('run.nc', 'a') as f:
            f['temp'][0, 0] = 99.0
        """, written, connector_env(VIRTUAL))
    after = {p.name: digest(p) for p in files}
    assert [n for n in before if before[n] != after[n]] == ["temp.h5"]


def test_an_identical_rerun_changes_nothing(tmp_path):
    """The same writer run again (`to_netcdf` truncates the file): every byte the same."""
    def run():
        py(WRITE, tmp_path, connector_env(VIRTUAL))
        py(APPEND, tmp_path, connector_env(VIRTUAL))
        return {p.relative_to(tmp_path).as_posix(): digest(p) for p in sorted(tmp_path.rglob("*")) if p.is_file()}
    assert run() == run()


def test_dvc_sees_only_the_changed_variable(written):
    """With DVC tracking the main file and its split folder, writing one variable leaves the main
    file unchanged and modifies only that variable's split file."""
    dvc = need_file("DSET_SPLIT_DVC")
    sh(["git", "init", "-q", "."], written)
    sh([dvc, "init", "-q"], written)
    sh([dvc, "add", "-q", "run.nc", "run-split"], written)
    py("""
        import h5py
        with h5py.File('run.nc', 'a') as f:
            f['pres'][1] = 7.0
        """, written, connector_env(VIRTUAL))
    out = json.loads(sh([dvc, "data", "status", "--granular", "--json"], written).stdout)
    assert out.get("uncommitted") == {"modified": ["run-split/", "run-split/pres.h5"]}, out


def test_split_and_merge_an_existing_netcdf_file(tmp_path):
    """A netCDF-4 file written natively: `dset-split split --layout virtual` gives each variable
    its split file (the dimension scales stay valid), readers see the same values, and `merge`
    gives back a file equal to the original per h5diff and `h5dump -H -p`."""
    py(WRITE, tmp_path, clean_env())
    py(APPEND, tmp_path, clean_env())
    sh(["cp", "run.nc", "orig.nc"], tmp_path)
    p = cli(["split", "run.nc", "--layout", "virtual"], tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    split = sorted(p.name for p in (tmp_path / "run-split").glob("*.h5"))
    assert split == ["pres.h5", "salt.h5", "temp.h5", "time.h5", "x.h5"], split
    want = "190.0 50.0 12.5 ['time', 'x'] K run days since 2000-01-01"
    assert py(READ, tmp_path, connector_env(VIRTUAL)).stdout.strip() == want + " True"
    assert py(READ, tmp_path, clean_env()).stdout.strip() == want + " False"
    dump = sh([need_file("DSET_SPLIT_NCDUMP"), "run.nc"], tmp_path, clean_env()).stdout
    assert "salt = 0.5, 1.5, 2.5, 3.5, 4.5 ;" in dump, dump
    assert cli(["merge", "run.nc", "back.nc"], tmp_path).returncode == 0
    tools = need("DSET_SPLIT_TOOLS_PREFIX", "bin/h5diff") / "bin"
    assert sh([tools / "h5diff", "orig.nc", "back.nc"], tmp_path).returncode == 0
    dumps = [re.sub(r"OFFSET \d+", "OFFSET", sh([tools / "h5dump", "-H", "-p", f], tmp_path).stdout.split("\n", 1)[1])
             for f in ("orig.nc", "back.nc")]
    assert dumps[0] == dumps[1]
