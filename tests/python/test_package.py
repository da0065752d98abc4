"""The Python package as pip users get it (issue 11): the wheel `pip wheel .` builds
(DSET_SPLIT_PACKAGE, made by scripts/wheel.sh), installed into a fresh virtual environment next
to PyPI's h5py and netCDF4 wheels, with no HDF5 of the project's on the way. Unmodified scripts
run through the connector by `eval "$(dset-split env)"`, and `dset_split.File` opens files
through it from Python without environment variables.
"""
import os
import subprocess
import sys
import textwrap

import pytest

from support import EXAMPLES, clean_env, need_file, sh

WHEELS = ["h5py==3.16.0", "netCDF4==1.7.5.1.post1"]


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh virtual environment with the package's wheel and PyPI's h5py and netCDF4."""
    package = need_file("DSET_SPLIT_PACKAGE")
    root = tmp_path_factory.mktemp("venv")
    sh([sys.executable, "-m", "venv", root / "v"], root)
    pip = root / "v" / "bin" / "pip"
    sh([pip, "install", "--quiet", package, *WHEELS], root)
    return root / "v" / "bin"


def plain_env():
    """No HDF5 of the project's: none on the library path, no plugin path, no connector."""
    env = clean_env()
    for var in ("LD_LIBRARY_PATH", "HDF5_PLUGIN_PATH", "HDF5_VOL_CONNECTOR", "HDF5_DIR"):
        env.pop(var, None)
    return env


def test_the_plugin_in_the_wheel_links_no_libhdf5(venv):
    plugin_dir = sh([venv / "python", "-c", "import dset_split; print(dset_split.plugin_dir())"], venv,
                    plain_env()).stdout.strip()
    plugins = [f for f in os.listdir(plugin_dir) if f.startswith("libdset_split.")]
    assert len(plugins) == 1, plugins
    dynamic = subprocess.run(["readelf", "-d", os.path.join(plugin_dir, plugins[0])], capture_output=True,
                             text=True, check=True).stdout
    assert "NEEDED" in dynamic and "libhdf5" not in dynamic, dynamic


def test_the_mount_server_in_the_wheel_is_linked_statically(venv):
    """`dset-split-serve` sits beside the command in the package and needs no shared library
    (a mounted pack's memory: README, "Many small files")."""
    bin_dir = sh([venv / "python", "-c", "import dset_split, os; print(os.path.join(os.path.dirname(dset_split.__file__), 'bin'))"],
                 venv, plain_env()).stdout.strip()
    headers = subprocess.run(["readelf", "-lW", os.path.join(bin_dir, "dset-split-serve")], capture_output=True,
                             text=True, check=True).stdout
    assert "INTERP" not in headers and "DYNAMIC" in headers, headers  # static-pie: relocated by itself
    dynamic = subprocess.run(["readelf", "-d", os.path.join(bin_dir, "dset-split-serve")], capture_output=True,
                             text=True, check=True).stdout
    assert "NEEDED" not in dynamic, dynamic


@pytest.mark.parametrize("keys,script", [([], "writer.py"), (["layout=link", "'exclude=/grid/**'"], "writer.py")],
                         ids=["virtual", "link"])
def test_env_runs_unmodified_scripts_with_the_wheels(tmp_path, venv, keys, script):
    """`eval "$(dset-split env ...)"`, then the unmodified example with h5py's wheel: the split
    layout, equal to the same script run natively (read back by plain h5py)."""
    native, split = tmp_path / "native", tmp_path / "split"
    native.mkdir()
    split.mkdir()
    py = venv / "python"
    sh([py, EXAMPLES / script, native / "run.h5"], native, plain_env())
    cmd = f'eval "$({venv / "dset-split"} env {" ".join(keys)})" && {py} {EXAMPLES / script} run.h5'
    sh(["bash", "-c", cmd], split, plain_env())
    assert sorted((split / "run-split").rglob("*.h5")), "nothing was split"
    dumps = [sh([py, EXAMPLES / "dump.py", d / "run.h5"], d, plain_env()).stdout for d in (native, split)]
    assert dumps[0] == dumps[1]


def test_netcdf4_and_h5py_together_through_env(tmp_path, venv):
    """netCDF4's wheel (HDF5 2.2.0) and h5py's (2.0.0) in one script, through `dset-split env`:
    dimensions, an unlimited one, compression, attributes; equal to native."""
    code = textwrap.dedent("""
        import netCDF4, h5py, numpy as np
        with netCDF4.Dataset("a.nc", "w") as d:
            d.createDimension("t", None); d.createDimension("x", 3)
            t = d.createVariable("t", "f8", ("t",)); t[:] = np.arange(4.0)
            v = d.createVariable("v", "f4", ("t", "x"), zlib=True); v[:] = np.arange(12.0).reshape(4, 3)
            v.units = "K"
        with h5py.File("b.h5", "w") as f:
            f["y"] = np.arange(5); f["y"].attrs["n"] = 5
        with netCDF4.Dataset("a.nc") as d:
            print(len(d.dimensions["t"]), d.dimensions["t"].isunlimited(), d["v"][:].tolist(), d["v"].units, d["v"].filters()["zlib"])
        with h5py.File("b.h5") as f:
            print(f["y"][()].tolist(), int(f["y"].attrs["n"]))
    """)
    native, split = tmp_path / "native", tmp_path / "split"
    native.mkdir()
    split.mkdir()
    (tmp_path / "s.py").write_text(code)
    py = venv / "python"
    want = sh([py, tmp_path / "s.py"], native, plain_env()).stdout
    got = sh(["bash", "-c", f'eval "$({venv / "dset-split"} env)" && {py} {tmp_path / "s.py"}'], split,
             plain_env()).stdout
    assert got == want
    assert sorted(p.name for p in (split / "a-split").glob("*.h5")) == ["t.h5", "v.h5", "x.h5"]
    assert [p.name for p in (split / "b-split").glob("*.h5")] == ["y.h5"]


def test_python_api_opens_files_through_the_connector(tmp_path, venv):
    """`dset_split.File(path, mode, **policy)`: an h5py.File through the connector, no
    environment variables, h5py's wheel imported first; plain h5py reads the result."""
    code = textwrap.dedent("""
        import h5py, numpy as np, os
        import dset_split
        with dset_split.File("v.h5", "w") as f:
            f["a"] = np.arange(3.0)
            f.create_dataset("g/b", data=[1, 2], maxshape=(None,), chunks=(2,))
            f["g/b"].resize((4,)); f["g/b"][2:] = [3, 4]
        with dset_split.File("v.h5", "a") as f:
            f["c"] = [7]
        with dset_split.File("l.h5", "w", layout="link", exclude=["/keep", "/also/**"]) as f:
            f["x"] = [1]; f["keep"] = [2]
        with h5py.File("v.h5") as f:
            print(sorted(os.listdir("v-split")), f["g/b"][()].tolist(), f["c"][()].tolist())
        with h5py.File("l.h5") as f:
            print(type(f.get("x", getlink=True)).__name__, type(f.get("keep", getlink=True)).__name__)
        try:
            dset_split.File("bad.h5", "w", layout="sideways")
        except ValueError as e:
            print("refused", "layout" in str(e) or "settings" in str(e))
    """)
    out = sh([venv / "python", "-c", code], tmp_path, plain_env()).stdout
    assert "['.dset-split', 'a.h5', 'c.h5', 'g'] [1, 2, 3, 4] [7]" in out, out
    assert "ExternalLink HardLink" in out, out
    assert "refused True" in out, out


def test_the_command_works_with_h5py_s_hdf5(tmp_path, venv):
    """The package's `dset-split` is not linked to libhdf5: it works with the one h5py's wheel
    bundles (HDF5 2.0.0), found by the Python entry point; `status` reads a split layout."""
    py = venv / "python"
    sh(["bash", "-c", f'eval "$({venv / "dset-split"} env)" && {py} -c "import h5py; h5py.File(\'r.h5\', \'w\')[\'x\'] = [1, 2]"'],
       tmp_path, plain_env())
    doctor = sh([venv / "dset-split", "doctor"], tmp_path, plain_env(), ok=False).stdout
    assert "this tool uses HDF5 2.0.0" in doctor and "h5py.libs" in doctor, doctor
    status = sh([venv / "dset-split", "status", "r.h5"], tmp_path, plain_env()).stdout
    assert "/x" in status and "r-split/x.h5" in status, status
    # pack, mount and unpack with h5py's HDF5 too.
    (tmp_path / "src" / "d").mkdir(parents=True)
    (tmp_path / "src" / "d" / "f.bin").write_bytes(bytes(range(256)) * 40)
    sh([venv / "dset-split", "pack", "src", "-o", "p.h5"], tmp_path, plain_env())
    sh([venv / "dset-split", "unpack", "p.h5", "out"], tmp_path, plain_env())
    assert (tmp_path / "out" / "d" / "f.bin").read_bytes() == bytes(range(256)) * 40
    (tmp_path / "mnt").mkdir()
    sh([venv / "dset-split", "mount", "p.h5", "mnt"], tmp_path, plain_env())
    try:
        assert (tmp_path / "mnt" / "d" / "f.bin").read_bytes() == bytes(range(256)) * 40
    finally:
        sh(["umount", tmp_path / "mnt"], tmp_path)


@pytest.fixture(scope="module")
def venv_1_14(tmp_path_factory):
    """A fresh virtual environment with the package's wheel and h5py 3.15.1 (HDF5 1.14.6 inside)."""
    package = need_file("DSET_SPLIT_PACKAGE")
    root = tmp_path_factory.mktemp("venv114")
    sh([sys.executable, "-m", "venv", root / "v"], root)
    sh([root / "v" / "bin" / "pip", "install", "--quiet", package, "h5py==3.15.1"], root)
    return root / "v" / "bin"


def test_h5py_3_15_s_hdf5_1_14_through_the_same_plugin(tmp_path, venv_1_14):
    """h5py 3.15.1's wheel bundles HDF5 1.14.6: the same plugin file serves it (its 1.14-only
    functions are looked up when it binds); the unmodified example writes the split layout, equal
    to native, and the command works on that HDF5."""
    py = venv_1_14 / "python"
    native, split = tmp_path / "native", tmp_path / "split"
    native.mkdir()
    split.mkdir()
    sh([py, EXAMPLES / "writer.py", native / "run.h5"], native, plain_env())
    sh(["bash", "-c", f'eval "$({venv_1_14 / "dset-split"} env)" && {py} {EXAMPLES / "writer.py"} run.h5'], split,
       plain_env())
    assert sorted((split / "run-split").rglob("*.h5")), "nothing was split"
    dumps = [sh([py, EXAMPLES / "dump.py", d / "run.h5"], d, plain_env()).stdout for d in (native, split)]
    assert dumps[0] == dumps[1]
    doctor = sh([venv_1_14 / "dset-split", "doctor"], tmp_path, plain_env(), ok=False).stdout
    assert "this tool uses HDF5 1.14.6" in doctor and "h5py.libs" in doctor, doctor


def test_python_api_picks_h5py_s_hdf5_with_netcdf4_loaded_first(tmp_path, venv):
    """netCDF4 imported first loads its own libhdf5 copy: `dset_split.File` still loads the
    plugin into the copy h5py uses (h5py.libs), so the file goes through the connector."""
    code = textwrap.dedent("""
        import netCDF4, h5py, os
        import dset_split
        with dset_split.File("n.h5", "w") as f:
            f["x"] = [1, 2]
        print(sorted(os.listdir("n-split")), h5py.File("n.h5")["x"][()].tolist())
    """)
    out = sh([venv / "python", "-c", code], tmp_path, plain_env()).stdout
    assert "['.dset-split', 'x.h5'] [1, 2]" in out, out


def test_the_packaged_command_without_h5py_says_what_to_install(tmp_path):
    """Installed without h5py, the packaged command has no HDF5 to work with (it does not fall
    back to the build machine's): it says so and what to install; `env` needs no HDF5."""
    package = need_file("DSET_SPLIT_PACKAGE")
    sh([sys.executable, "-m", "venv", tmp_path / "v"], tmp_path)
    sh([tmp_path / "v" / "bin" / "pip", "install", "--quiet", package], tmp_path)
    tool = tmp_path / "v" / "bin" / "dset-split"
    p = sh([tool, "status", "x.h5"], tmp_path, plain_env(), ok=False)
    assert p.returncode == 2 and "pip install h5py" in p.stderr and "DSET_SPLIT_HDF5_LIB" in p.stderr, p.stderr
    assert "HDF5_VOL_CONNECTOR=" in sh([tool, "env"], tmp_path, plain_env()).stdout
