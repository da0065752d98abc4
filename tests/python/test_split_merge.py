"""`dset-split split` and `dset-split merge` on real files: written natively by the examples and by
h5py (every kind of HDF5 object), converted to the split layout, read plainly and through the
connector, merged back, and compared with the original by h5diff (HDF5's own tool) and by
h5dump's headers (creation properties: chunking, filters, fill values, datatypes incl. committed
ones), and in order (groups that track creation order).

Run by scripts/test.sh: DSET_SPLIT_CLI (the command), DSET_SPLIT_TOOLS_PREFIX (h5diff, h5dump),
DSET_SPLIT_PLUGIN_DIR (the connector), DSET_SPLIT_HDF5_PREFIX (h5cc for the C example).
"""
import json
import re
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

from support import EXAMPLES, ROOT, clean_env, cli, connector_env, need, need_file, sh


def tool(name, args, cwd):
    """One of HDF5's command-line tools (the 1.14 build's), any exit code."""
    prefix = need("DSET_SPLIT_TOOLS_PREFIX", "bin/h5diff")
    return sh([prefix / "bin" / name, *args], cwd, clean_env(LD_LIBRARY_PATH=prefix / "lib"), ok=False)


def python(script, args, cwd, connector=False):
    return sh([sys.executable, script, *args], cwd, connector_env() if connector else clean_env()).stdout


def dump(path, cwd, connector=False):
    return json.loads(python(EXAMPLES / "dump.py", [path], cwd, connector))


def headers(path, cwd):
    """h5dump's description of every object and its creation properties, without addresses."""
    p = tool("h5dump", ["-p", "-H", path], cwd)
    assert p.returncode == 0, p.stderr
    return re.sub(r"OFFSET \d+", "OFFSET", p.stdout.split("\n", 1)[1])


def same_per_h5diff(a, b, cwd, exclude=()):
    p = tool("h5diff", [*(f"--exclude-path={x}" for x in exclude), a, b], cwd)
    assert p.returncode == 0, f"h5diff {a} {b}: {p.returncode}\n{p.stdout}\n{p.stderr}"


def make_rich(path):
    """A file with every kind of object and property the conversion must keep."""
    with h5py.File(path, "w", track_order=True) as f:
        f.attrs["title"] = "rich"
        f.attrs["numbers"] = np.array([1.5, 2.5])
        f.attrs.create("names", ["a", "bc"], dtype=h5py.string_dtype())
        g = f.create_group("fields", track_order=True)
        g.attrs["units"] = "m/s"
        for name in ["z_last", "a_first", "m_mid"]:
            g.create_dataset(name, data=np.arange(100.0).reshape(10, 10) + len(name))
        f["pair_t"] = np.dtype([("x", "<i4"), ("y", "<f8")])
        f.create_dataset("uses_committed", data=np.zeros(3, dtype=f["pair_t"].dtype), dtype=f["pair_t"])
        c = f.create_dataset("chunked", shape=(100, 50), chunks=(10, 10), compression="gzip", shuffle=True,
                             fletcher32=True, fillvalue=-7, dtype="i4", maxshape=(None, 50))
        c[:20] = 5
        c.attrs["note"] = "partly written"
        f.create_dataset("big_endian", data=np.arange(6, dtype=">u2").reshape(2, 3))
        f.create_dataset("empty", shape=(0,), dtype="f8")
        f.create_dataset("scalar", data=3.25)
        f.create_dataset("vstr", data=["alpha", "beta", "gamma"], dtype=h5py.string_dtype())
        f.create_dataset("ragged", data=np.array([np.arange(3), np.arange(5)], dtype=object),
                         dtype=h5py.vlen_dtype("i4"))
        f.create_dataset("compound", data=np.array([(1, 2.0)], dtype=[("a", "i2"), ("b", "f4")]))
        x = f.create_dataset("geo/x", data=np.linspace(0, 1, 10))
        t = f.create_dataset("geo/temp", data=np.ones((10, 4)))
        x.make_scale("x")
        t.dims[0].attach_scale(x)
        f.create_dataset("refs", data=[f["fields/a_first"].ref, f["scalar"].ref], dtype=h5py.ref_dtype)
        f.attrs["ref_attr"] = f["vstr"].ref
        f.create_dataset("region_refs", data=[f["chunked"].regionref[1:3, 2:4]], dtype=h5py.regionref_dtype)
        f["soft"] = h5py.SoftLink("/fields/a_first")
        f["ext"] = h5py.ExternalLink("elsewhere.h5", "/x")  # not ours: kept as it is
        with h5py.File(path.parent / "elsewhere.h5", "w") as e:
            e["x"] = np.arange(3)
        f["fields/twin"] = f["fields/m_mid"]
        f["soft_to_split"] = h5py.SoftLink("/fields/z_last")
        f["alias"] = f["empty_group_parent"] = f.create_group("shared_group")  # one group, two more names
        f["shared_group/inside"] = np.arange(5.0)
        f.create_dataset("ünïcode/dätä", data=np.arange(4))
        f.create_group("empty_group")


@pytest.mark.parametrize("kind", ["userblock", "latest_format"])
def test_split_keeps_the_user_block_and_the_file_format(tmp_path, kind):
    opts = {"userblock_size": 1024} if kind == "userblock" else {"libver": "latest"}
    with h5py.File(tmp_path / "in.h5", "w", **opts) as f:
        f["x"] = np.arange(1000.0)
        f.create_dataset("c", data=np.ones((64, 64)), chunks=(8, 8), maxshape=(None, 64))
        f.attrs["a"] = 1
    if kind == "userblock":
        with open(tmp_path / "in.h5", "r+b") as raw:
            raw.write(b"my user block\n")
    split(["in.h5", "out.h5"], tmp_path)
    assert cli(["merge", "out.h5", "merged.h5"], tmp_path).returncode == 0
    same_per_h5diff("in.h5", "merged.h5", tmp_path)
    assert headers("merged.h5", tmp_path) == headers("in.h5", tmp_path)
    def superblock(name):
        p = tool("h5dump", ["-B", "-H", name], tmp_path)
        return [line.strip() for line in p.stdout.splitlines() if "VERSION" in line or "USER_BLOCK" in line
                or "OFFSET_SIZE" in line or "LENGTH_SIZE" in line]

    for name in ("out.h5", "merged.h5"):
        assert superblock(name) == superblock("in.h5") != [], name
        if kind == "userblock":
            assert (tmp_path / name).read_bytes().startswith(b"my user block\n")


def split(args, cwd, ok=True):
    p = cli(["split", *args], cwd)
    if ok:
        assert p.returncode == 0, p.stderr
    return p


@pytest.mark.parametrize("form", ["link", "virtual"])
def test_split_then_merge_keeps_everything(tmp_path, form):
    make_rich(tmp_path / "rich.h5")
    original = tmp_path / "rich.h5"
    before = original.read_bytes()
    plan = json.loads(split(["--json", "--layout", form, "rich.h5", "run.h5"], tmp_path).stdout)
    assert original.read_bytes() == before, "IN is only read"
    fates = {d["path"]: d["fate"] for d in plan["datasets"]}
    reasons = {d["path"]: d.get("reason", "") for d in plan["datasets"]}
    assert fates["/fields/z_last"] == "split" and fates["/chunked"] == "inline"
    assert fates["/compound"] == fates["/ragged"] == fates["/ünïcode/dätä"] == fates["/big_endian"] == "split"
    assert {fates["/fields/m_mid"], fates["/fields/twin"]} == {"split", "shared"}
    assert "committed" in reasons["/uses_committed"]
    assert "holds references" in reasons["/refs"] and "holds references" in reasons["/region_refs"]
    assert "reference points at it" in reasons["/chunked"]  # a region reference: both forms
    if form == "link":
        assert "dimension scale" in reasons["/geo/x"] and "attributes that hold references" in reasons["/geo/temp"]
        assert "reference points at it" in reasons["/scalar"]  # /refs points at it
    else:
        # the objects stay in the main file: scales and object references keep working
        assert fates["/geo/x"] == fates["/geo/temp"] == fates["/scalar"] == fates["/vstr"] == "split"
        assert {d["form"] for d in plan["datasets"] if d["fate"] != "inline"} == {"virtual"}
    files = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "run-split").rglob("*.h5"))
    assert files == sorted({d["file"] for d in plan["datasets"] if d["fate"] == "split"})
    assert (tmp_path / "run-split" / ".dset-split").read_text() == "run.h5\n"
    assert not list(tmp_path.glob(".*dset-split*")), "no work files left"

    # The split layout holds the same content, read plainly, through the connector, and moved.
    expected = dump(original, tmp_path)
    assert dump(tmp_path / "run.h5", tmp_path) == expected
    assert dump(tmp_path / "run.h5", tmp_path, connector=True) == expected
    with h5py.File(tmp_path / "run.h5") as f, h5py.File(original) as g:
        assert list(f) == list(g) and list(f["fields"]) == list(g["fields"]), "creation order kept"
        assert list(f.attrs) == list(g.attrs)
        if form == "link":
            assert f.get("fields/z_last", getlink=True).filename == "run-split/fields/z_last.h5"
        else:
            assert f["fields/z_last"].is_virtual and f["geo/x"].is_virtual
        assert f[f["refs"][0]].name == "/fields/a_first" and f[f.attrs["ref_attr"]].name == "/vstr"
        assert f["geo/temp"].dims[0][0].name == "/geo/x", "dimension scales still attached"
        assert f["chunked"][f["region_refs"][0]].tolist() == [[5, 5], [5, 5]]
        assert f["uses_committed"].id.get_type().committed()
        assert not any(n.startswith("~obj_pointed_by") for n in f), "HDF5's helper links are removed"
    p = cli(["check", "run.h5"], tmp_path)
    assert p.returncode == 0 and "0 problem(s)" in p.stdout, p.stdout + p.stderr
    status = json.loads(cli(["status", "--json", "run.h5"], tmp_path).stdout)
    assert status["split"] == len([d for d in plan["datasets"] if d["fate"] != "inline"]) and status["missing"] == 0

    # Each split file holds the dataset with its creation properties.
    with h5py.File(tmp_path / "run-split/fields/z_last.h5") as s:
        assert list(s) == ["data"]

    # Merge back: one file, equal to the original per h5diff and h5dump's headers.
    p = cli(["merge", "run.h5", "merged.h5"], tmp_path)
    assert p.returncode == 0, p.stderr
    same_per_h5diff("rich.h5", "merged.h5", tmp_path)
    assert headers("merged.h5", tmp_path) == headers("rich.h5", tmp_path)
    assert dump(tmp_path / "merged.h5", tmp_path) == expected
    with h5py.File(tmp_path / "merged.h5") as f:
        assert not any(isinstance(f.get(p, getlink=True), h5py.ExternalLink) for p in ("fields/z_last", "compound"))
        assert f["fields/m_mid"].id == f["fields/twin"].id, "the shared split file became one object again"
        assert list(f) == list(h5py.File(original))
    assert oct((tmp_path / "merged.h5").stat().st_mode & 0o777) == oct((tmp_path / "run.h5").stat().st_mode & 0o777)


def test_split_of_a_file_with_thousands_of_datasets_round_trips(tmp_path):
    rng = np.random.default_rng(7)
    with h5py.File(tmp_path / "many.h5", "w") as f:
        for i in range(3000):
            d = f.create_dataset(f"g{i % 30:02d}/sub{i % 7}/d{i:04d}", data=rng.random(16 + i % 50),
                                 chunks=True if i % 3 == 0 else None, compression="gzip" if i % 5 == 0 else None)
            d.attrs["i"] = i
    p = split(["many.h5", "--json"], tmp_path)  # in place
    plan = json.loads(p.stdout)
    assert plan["split"] == 3000 and plan["stays"] == 0
    assert len(list((tmp_path / "many-split").rglob("*.h5"))) == 3000
    assert (tmp_path / "many.h5").stat().st_size < 2_000_000
    p = cli(["merge", "many.h5", "merged.h5"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "3000 split dataset(s)" in p.stdout
    with h5py.File(tmp_path / "merged.h5") as f:
        assert f["g05/sub1/d1415"].attrs["i"] == 1415


@pytest.mark.parametrize("script,args", [("writer.py", []), ("ml_pipeline.py", [120])])
def test_examples_split_in_place_merge_equal(tmp_path, script, args):
    python(EXAMPLES / script, [tmp_path / "orig.h5", *args], tmp_path)  # natively: one file
    shutil.copy(tmp_path / "orig.h5", tmp_path / "run.h5")
    expected = dump(tmp_path / "orig.h5", tmp_path)
    split(["run.h5"], tmp_path)
    assert (tmp_path / "run-split").is_dir()
    assert (tmp_path / "run.h5").stat().st_size < (tmp_path / "orig.h5").stat().st_size
    assert dump(tmp_path / "run.h5", tmp_path) == expected
    assert dump(tmp_path / "run.h5", tmp_path, connector=True) == expected
    p = cli(["merge", "run.h5", "merged.h5"], tmp_path)
    assert p.returncode == 0, p.stderr
    # h5py's LZF filter is not available to HDF5's tools: that dataset is compared by dump().
    same_per_h5diff("orig.h5", "merged.h5", tmp_path, exclude=["/compressed/lzf"])
    assert dump(tmp_path / "merged.h5", tmp_path) == expected
    assert headers("merged.h5", tmp_path) == headers("orig.h5", tmp_path)
    # Converting again is a no-op: nothing left to split.
    again = json.loads(split(["run.h5", "--json"], tmp_path).stdout)
    assert again["split"] == 0


def test_c_example_split_and_merged_equals_original(tmp_path):
    series = need("DSET_SPLIT_HDF5_PREFIX", "bin/h5cc")
    env = clean_env(LD_LIBRARY_PATH=series / "lib")
    sh([series / "bin/h5cc", ROOT / "examples/c/sim_writer.c", "-lm", "-o", tmp_path / "w"], tmp_path, env)
    sh([tmp_path / "w", "orig.h5"], tmp_path, env)
    split(["orig.h5", "run.h5"], tmp_path)
    assert len(list((tmp_path / "run-split").rglob("*.h5"))) == 5
    assert cli(["merge", "run.h5", "merged.h5"], tmp_path).returncode == 0
    same_per_h5diff("orig.h5", "merged.h5", tmp_path)
    assert headers("merged.h5", tmp_path) == headers("orig.h5", tmp_path)


def test_split_policy_options_and_dry_run(tmp_path):
    with h5py.File(tmp_path / "in.h5", "w") as f:
        f["small"] = np.arange(4)
        f["big"] = np.zeros(100_000)
        f["raw/keep_tmp"] = np.zeros(100_000)
    p = split(["in.h5", "out.h5", "--dry-run"], tmp_path)
    assert "would split 3 dataset(s)" in p.stdout and not (tmp_path / "out.h5").exists()
    assert not (tmp_path / "out-split").exists()
    plan = json.loads(split(["in.h5", "out.h5", "--min-size", "64k", "--exclude", "*_tmp", "--suffix", ".parts",
                             "--layout", "link", "--json"], tmp_path).stdout)
    fates = {d["path"]: (d["fate"], d.get("reason", "")) for d in plan["datasets"]}
    assert fates["/big"][0] == "split" and "min_size" in fates["/small"][1] and "exclude" in fates["/raw/keep_tmp"][1]
    assert (tmp_path / "out.parts/big.h5").exists()
    with h5py.File(tmp_path / "out.h5") as f:
        assert f.get("big", getlink=True).filename == "out.parts/big.h5"
    p = split(["in.h5", "x.h5", "--min-size", "lots"], tmp_path, ok=False)
    assert p.returncode == 2 and "--min-size" in p.stderr and "min_size=lots" in p.stderr


def test_split_and_merge_refuse_bad_input_and_leave_nothing(tmp_path):
    make_rich(tmp_path / "rich.h5")
    # OUT exists: refused, untouched.
    (tmp_path / "taken.h5").write_bytes(b"mine")
    p = split(["rich.h5", "taken.h5"], tmp_path, ok=False)
    assert p.returncode == 2 and "exists" in p.stderr and "--force" in p.stderr
    assert (tmp_path / "taken.h5").read_bytes() == b"mine" and not (tmp_path / "taken-split").exists()
    # Not HDF5.
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    p = split(["junk.h5", "out.h5"], tmp_path, ok=False)
    assert p.returncode == 2 and "cannot open junk.h5" in p.stderr and not (tmp_path / "out.h5").exists()
    # A failure half-way (a file already where a split file goes, converting in place): the
    # input keeps its bytes, the split files made so far are removed, the stranger stays.
    shutil.copy(tmp_path / "rich.h5", tmp_path / "run.h5")
    before = (tmp_path / "run.h5").read_bytes()
    (tmp_path / "run-split/fields").mkdir(parents=True)
    (tmp_path / "run-split/.dset-split").write_text("run.h5\n")
    (tmp_path / "run-split/fields/z_last.h5").write_bytes(b"someone else's")
    p = split(["run.h5"], tmp_path, ok=False)
    assert p.returncode == 2 and "already there" in p.stderr and "nothing was changed" in p.stderr
    assert (tmp_path / "run.h5").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "run-split").rglob("*.h5")) == ["z_last.h5"]
    assert not list(tmp_path.glob(".*dset-split*"))
    # A split folder of another main file.
    (tmp_path / "run-split/.dset-split").write_text("other.h5\n")
    p = split(["rich.h5", "run.h5", "--force"], tmp_path, ok=False)
    assert p.returncode == 2 and "belongs to other.h5" in p.stderr

    # merge: a missing split file (not pulled) is named, with what to do; nothing is written.
    shutil.rmtree(tmp_path / "run-split")
    (tmp_path / "run.h5").unlink()
    split(["rich.h5", "run.h5"], tmp_path)
    (tmp_path / "run-split/fields/z_last.h5").unlink()
    p = cli(["merge", "run.h5", "one.h5"], tmp_path)
    assert p.returncode == 2 and "run-split/fields/z_last.h5" in p.stderr and "dvc pull" in p.stderr
    assert not (tmp_path / "one.h5").exists() and not list(tmp_path.glob(".*dset-split*"))
    p = cli(["merge", "run.h5", "run.h5"], tmp_path)
    assert p.returncode == 2 and "another file" in p.stderr
    p = cli(["merge", "run.h5", "taken.h5"], tmp_path)
    assert p.returncode == 2 and "--force" in p.stderr


def test_split_refuses_nested_references_it_cannot_carry_over(tmp_path):
    with h5py.File(tmp_path / "in.h5", "w") as f:
        x = f.create_dataset("x", data=np.arange(10.0))
        pair = np.zeros(1, dtype=[("r", h5py.regionref_dtype), ("n", "i4")])
        pair[0] = (x.regionref[2:4], 7)
        f["pairs"] = pair
    p = split(["in.h5", "out.h5", "--dry-run"], tmp_path)  # the plan itself is shown
    assert "2 stay in the main file" in p.stdout
    p = split(["in.h5", "out.h5"], tmp_path, ok=False)
    assert p.returncode == 2 and "dataset /pairs holds region or HDF5 1.12-style references" in p.stderr
    assert sorted(q.name for q in tmp_path.iterdir()) == ["in.h5"]


def test_the_connector_keeps_working_on_a_converted_file(tmp_path):
    python(EXAMPLES / "writer.py", [tmp_path / "run.h5"], tmp_path)
    split(["run.h5"], tmp_path)
    code = (
        "import h5py, numpy as np, sys\n"
        "with h5py.File(sys.argv[1], 'r+') as f:\n"
        "    f['added/new'] = np.arange(10)\n"
        "    del f['series']\n"
    )
    (tmp_path / "edit.py").write_text(code)
    python(tmp_path / "edit.py", [tmp_path / "run.h5"], tmp_path, connector=True)
    assert (tmp_path / "run-split/added/new.h5").exists()
    assert not (tmp_path / "run-split/series.h5").exists()
    p = cli(["status", "run.h5"], tmp_path)
    assert p.returncode == 0 and "/added/new" in p.stdout


@pytest.mark.parametrize("command", ["split", "merge"])
def test_an_interrupt_rolls_back(tmp_path, command):
    """Ctrl-C (SIGINT) during a long conversion: the command stops before the next dataset, removes
    its work files and every split file and directory it made, and exits with 130."""
    import signal
    import time

    with h5py.File(tmp_path / "in.h5", "w") as f:
        for i in range(6000):
            f[f"g{i % 20}/d{i}"] = np.arange(8.0)
    if command == "merge":
        split(["in.h5", "run.h5"], tmp_path)
        args, watch = ["merge", "run.h5", "one.h5"], lambda: list(tmp_path.glob(".one.h5.*.dset-split-work"))
    else:
        args, watch = ["split", "in.h5", "run.h5"], lambda: list((tmp_path / "run-split").rglob("*.h5"))
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    env = clean_env()
    p = subprocess.Popen([str(need_file("DSET_SPLIT_CLI")), *args], cwd=tmp_path, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not watch() and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.2)
    assert p.poll() is None, "finished before it could be interrupted: make the input larger"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130 and "interrupted" in err, (p.returncode, err)
    after = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert after == before, "something was left behind"
