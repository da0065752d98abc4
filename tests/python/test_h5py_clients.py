"""Real h5py scripts (examples/python), run unchanged natively and through dset_split: the files
hold the same data and metadata, read with plain HDF5 (no plugin), through the connector, and
after the tree is moved, from another working directory.

Run by scripts/test.sh with the h5py built against the project's HDF5 (scripts/h5py.sh);
DSET_SPLIT_PLUGIN_DIR names the directory holding the built plugin.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "python"
# Datasets with dimension scales and references stay in the main file (README: a reference holds
# an address inside one file); the example keeps them under /grid.
CONNECTOR = "dset_split under_vol=0;under_info={};exclude=/grid/**"


def plugin_dir():
    d = os.environ.get("DSET_SPLIT_PLUGIN_DIR")
    if not d or not pathlib.Path(d, "libdset_split.so").exists():
        pytest.fail("set DSET_SPLIT_PLUGIN_DIR to a directory holding libdset_split.so")
    return d


def run(script, args, cwd, connector=None):
    env = {k: v for k, v in os.environ.items() if k not in ("HDF5_VOL_CONNECTOR", "HDF5_PLUGIN_PATH")}
    if connector:
        env["HDF5_PLUGIN_PATH"] = plugin_dir()
        env["HDF5_VOL_CONNECTOR"] = connector
    p = subprocess.run([sys.executable, str(script), *map(str, args)], cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, f"{script} failed:\n{p.stdout}\n{p.stderr}"
    assert "infinite loop closing library" not in p.stderr, p.stderr
    return p.stdout


def dump(path, cwd, connector=None):
    return json.loads(run(EXAMPLES / "dump.py", [path], cwd, connector))


def dset_split(args, cwd):
    """Runs the `dset-split` command (DSET_SPLIT_CLI) with plain HDF5 (no plugin variables)."""
    exe = os.environ.get("DSET_SPLIT_CLI")
    if not exe or not pathlib.Path(exe).exists():
        pytest.fail("set DSET_SPLIT_CLI to the dset-split executable")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HDF5_")}
    return subprocess.run([exe, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("script,args", [("writer.py", []), ("ml_pipeline.py", [150])])
def test_same_data_natively_and_through_dset_split(tmp_path, script, args):
    native, split = tmp_path / "native", tmp_path / "split"
    native.mkdir()
    split.mkdir()
    out_native = run(EXAMPLES / script, [native / "run.h5", *args], native)
    out_split = run(EXAMPLES / script, [split / "run.h5", *args], split, CONNECTOR)
    assert out_native == out_split

    split_files = sorted((split / "run-split").rglob("*.h5"))
    assert split_files, "nothing was split"
    expected = dump(native / "run.h5", native)
    assert dump(split / "run.h5", split) == expected, "plain HDF5 reads different content"
    assert dump(split / "run.h5", split, CONNECTOR) == expected, "content through the connector differs"

    moved = tmp_path / "elsewhere" / "deeper"
    shutil.copytree(split, moved)
    shutil.rmtree(split)
    assert dump(moved / "run.h5", tmp_path) == expected, "content differs after moving the tree"

    # h5py's own wheel (its bundled HDF5, no plugin possible) reads the split layout the same way.
    wheel = os.environ.get("DSET_SPLIT_WHEEL_PYTHON")
    if not wheel:
        pytest.fail("set DSET_SPLIT_WHEEL_PYTHON to a python with h5py's wheel (scripts/h5py.sh wheel)")
    p = subprocess.run([wheel, str(EXAMPLES / "dump.py"), str(moved / "run.h5")], cwd=tmp_path, capture_output=True,
                       text=True, timeout=600, env={k: v for k, v in os.environ.items() if not k.startswith("HDF5_")})
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == expected, "h5py's wheel reads different content"


def test_writer_splits_what_it_should(tmp_path):
    run(EXAMPLES / "writer.py", [tmp_path / "run.h5"], tmp_path, CONNECTOR)
    files = {p.relative_to(tmp_path / "run-split").as_posix() for p in (tmp_path / "run-split").rglob("*.h5")}
    assert "types/float64.h5" in files and "series.h5" in files and "compressed/gzip.h5" in files
    assert not any(f.startswith("grid/") for f in files), files  # excluded: scales and references
    assert "scratch.h5" not in files  # deleted: its file went with it
    assert "moved/bool.h5" in files and "types/bool.h5" not in files  # moved with its dataset


def test_status_lists_where_each_dataset_lives(tmp_path):
    run(EXAMPLES / "writer.py", [tmp_path / "run.h5"], tmp_path, CONNECTOR)
    p = dset_split(["status", "--json", "run.h5"], tmp_path)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    places = {d["path"]: d["place"] for d in report["datasets"]}
    assert places["/grid/x"] == "inline" and places["/types/float64"] == "split"
    assert places["/links/external"] == "external" and places["/links/hard"] == "split"
    split_files = {p.relative_to(tmp_path).as_posix() for p in (tmp_path / "run-split").rglob("*.h5")}
    assert {d["file"] for d in report["datasets"] if d["place"] == "split"} == split_files
    assert report["missing"] == 0 and report["inline"] == sum(v == "inline" for v in places.values())

    # A split file that goes missing: reported, exit code 1; an unreadable main file: exit code 2.
    (tmp_path / "run-split" / "series.h5").unlink()
    p = dset_split(["status", "run.h5"], tmp_path)
    assert p.returncode == 1 and "MISSING" in p.stdout and "(1 missing)" in p.stdout, p.stdout
    (tmp_path / "bad.h5").write_bytes(b"not hdf5")
    p = dset_split(["status", "bad.h5"], tmp_path)
    assert p.returncode == 2 and "cannot open bad.h5 as an HDF5 file" in p.stderr


def test_gc_removes_only_orphan_split_files(tmp_path):
    run(EXAMPLES / "writer.py", [tmp_path / "run.h5"], tmp_path, CONNECTOR)
    expected = dump(tmp_path / "run.h5", tmp_path)

    def gc(*args):
        return dset_split(["gc", *args, "run.h5"], tmp_path)

    split = tmp_path / "run-split"
    kept = sorted(p.relative_to(tmp_path).as_posix() for p in split.rglob("*.h5"))
    (split / "stale" / "deeper").mkdir(parents=True)
    shutil.copy(split / "series.h5", split / "stale" / "deeper" / "old.h5")
    shutil.copy(split / "series.h5", split / "orphan.h5")
    (split / "notes.txt").write_text("not ours")
    (split / "backup.h5.bak").write_text("not a name the layout makes")

    p = gc("--dry-run", "--json")
    assert p.returncode == 0, p.stderr
    plan = json.loads(p.stdout)
    assert plan["orphans"] == ["run-split/orphan.h5", "run-split/stale/deeper/old.h5"] and not plan["removed"]
    assert (split / "orphan.h5").exists()

    p = gc()
    assert p.returncode == 0, p.stderr
    assert "removed run-split/orphan.h5" in p.stdout
    assert sorted(p.relative_to(tmp_path).as_posix() for p in split.rglob("*.h5")) == kept
    assert not (split / "stale").exists(), "empty directories stay"
    assert (split / "notes.txt").exists() and (split / "backup.h5.bak").exists()
    assert dump(tmp_path / "run.h5", tmp_path) == expected
    assert json.loads(gc("--json").stdout)["orphans"] == []

    # A split folder that names another main file as its owner is left alone.
    (split / ".dset-split").write_text("other.h5\n")
    shutil.copy(split / "series.h5", split / "orphan.h5")
    p = gc()
    assert p.returncode == 2 and "belongs to other.h5" in p.stderr and (split / "orphan.h5").exists()
