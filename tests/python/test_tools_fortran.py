"""Fortran and the HDF5 command-line tools (HDF5 1.14 only: the 2.2 build has neither).

A Fortran program (examples/fortran, built with h5fc) and a C program (examples/c) run unchanged
natively and through dset_split; the tools read the split layouts without the connector:
h5repack --merge makes one self-contained file that h5diff finds equal to the native one, and
h5dump, h5ls, h5stat and h5copy work on the split layout as it is.

DSET_SPLIT_HDF5_PREFIX names the HDF5 1.14 install (with bin/h5fc and the tools);
DSET_SPLIT_PLUGIN_DIR the directory holding the built plugin.
"""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONNECTOR = "dset_split under_vol=0;under_info={}"


@pytest.fixture(scope="module")
def prefix():
    p = os.environ.get("DSET_SPLIT_HDF5_PREFIX")
    if not p or not pathlib.Path(p, "bin", "h5fc").exists():
        pytest.fail("set DSET_SPLIT_HDF5_PREFIX to an HDF5 1.14 install with h5fc and the tools")
    return pathlib.Path(p)


def env(prefix, connector=False):
    e = {k: v for k, v in os.environ.items() if k not in ("HDF5_VOL_CONNECTOR", "HDF5_PLUGIN_PATH")}
    e["LD_LIBRARY_PATH"] = str(prefix / "lib")
    if connector:
        e["HDF5_PLUGIN_PATH"] = os.environ["DSET_SPLIT_PLUGIN_DIR"]
        e["HDF5_VOL_CONNECTOR"] = CONNECTOR
    return e


def sh(cmd, cwd, e, ok=True):
    p = subprocess.run([str(c) for c in cmd], cwd=cwd, env=e, capture_output=True, text=True, timeout=600)
    if ok:
        assert p.returncode == 0, f"{cmd} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    assert "infinite loop closing library" not in p.stderr
    return p


def build(prefix, tmp_path, wrapper, source, exe):
    extra = ["-lm"] if wrapper == "h5cc" else []
    sh([prefix / "bin" / wrapper, "-o", tmp_path / exe, source, *extra], tmp_path, env(prefix))
    return tmp_path / exe


@pytest.mark.parametrize("wrapper,source", [("h5fc", "examples/fortran/sim_writer.f90"), ("h5cc", "examples/c/sim_writer.c")])
def test_unmodified_program_then_merge_equals_native(prefix, tmp_path, wrapper, source):
    exe = build(prefix, tmp_path, wrapper, ROOT / source, "sim_writer")
    sh([exe, "native.h5"], tmp_path, env(prefix))
    sh([exe, "run.h5"], tmp_path, env(prefix, connector=True))
    assert any((tmp_path / "run-split").rglob("*.h5")), "nothing was split"
    tools = prefix / "bin"
    # One self-contained file from the split layout, with no connector loaded.
    sh([tools / "h5repack", "--merge", "run.h5", "merged.h5"], tmp_path, env(prefix))
    assert sh([tools / "h5diff", "native.h5", "merged.h5"], tmp_path, env(prefix), ok=False).returncode == 0
    assert sh([tools / "h5ls", "-r", "merged.h5"], tmp_path, env(prefix)).stdout.count("Dataset") >= 3


def test_tools_read_the_split_layout(prefix, tmp_path):
    exe = build(prefix, tmp_path, "h5cc", ROOT / "examples/c/sim_writer.c", "sim_writer")
    sh([exe, "run.h5"], tmp_path, env(prefix, connector=True))
    tools = prefix / "bin"
    elsewhere = tmp_path.parent
    for connector in (False, True):
        e = env(prefix, connector)
        dump = sh([tools / "h5dump", "-d", "/energy", tmp_path / "run.h5"], elsewhere, e).stdout
        assert "1023.66" in dump, dump
        assert "External Link" in sh([tools / "h5ls", "-r", tmp_path / "run.h5"], elsewhere, e).stdout
        sh([tools / "h5stat", tmp_path / "run.h5"], elsewhere, e)
    # h5copy with external links expanded: a plain copy of one split dataset.
    sh([tools / "h5copy", "-i", "run.h5", "-o", "one.h5", "-s", "/step0001/temperature", "-d", "/t", "-f", "ext"],
       tmp_path, env(prefix))
    listing = sh([tools / "h5ls", "one.h5"], tmp_path, env(prefix)).stdout
    assert "t" in listing and "Dataset {64, 64}" in listing, listing
