"""Real h5py scripts (examples/python), run unchanged natively and through dset_split: the files
hold the same data and metadata, read with plain HDF5 (no plugin), through the connector, and
after the tree is moved, from another working directory.

Run by scripts/test.sh with the h5py built against the project's HDF5 (scripts/h5py.sh);
DSET_SPLIT_PLUGIN_DIR names the directory holding the built plugin.
"""
import json
import os
import shutil
import sys

import pytest

from support import EXAMPLES, clean_env, cli, cli as dset_split, connector_env, need_file, sh

# The link form (moves, drift, `check --fix` of links are its own): datasets with dimension
# scales and references stay in the main file (README: a reference holds an address inside one
# file); the example keeps them under /grid.
CONNECTOR = "dset_split under_vol=0;under_info={};layout=link;exclude=/grid/**"
# The virtual form (the default): nothing needs excluding.
VIRTUAL = "dset_split under_vol=0;under_info={}"


def run(script, args, cwd, connector=None):
    env = connector_env(connector) if connector else clean_env()
    return sh([sys.executable, script, *args], cwd, env).stdout


def dump(path, cwd, connector=None):
    return json.loads(run(EXAMPLES / "dump.py", [path], cwd, connector))


@pytest.mark.parametrize("connector", [CONNECTOR, VIRTUAL], ids=["link", "virtual"])
@pytest.mark.parametrize("script,args", [("writer.py", []), ("ml_pipeline.py", [150])])
def test_same_data_natively_and_through_dset_split(tmp_path, script, args, connector):
    native, split = tmp_path / "native", tmp_path / "split"
    native.mkdir()
    split.mkdir()
    out_native = run(EXAMPLES / script, [native / "run.h5", *args], native)
    out_split = run(EXAMPLES / script, [split / "run.h5", *args], split, connector)
    assert out_native == out_split

    split_files = sorted((split / "run-split").rglob("*.h5"))
    assert split_files, "nothing was split"
    expected = dump(native / "run.h5", native)
    assert dump(split / "run.h5", split) == expected, "plain HDF5 reads different content"
    assert dump(split / "run.h5", split, connector) == expected, "content through the connector differs"

    moved = tmp_path / "elsewhere" / "deeper"
    shutil.copytree(split, moved)
    shutil.rmtree(split)
    assert dump(moved / "run.h5", tmp_path) == expected, "content differs after moving the tree"

    # h5py's own wheel (its bundled HDF5, without the plugin) reads the split layout the same way.
    wheel = need_file("DSET_SPLIT_WHEEL_PYTHON")
    p = sh([wheel, EXAMPLES / "dump.py", moved / "run.h5"], tmp_path)
    assert json.loads(p.stdout) == expected, "h5py's wheel reads different content"


def test_h5py_s_wheel_writes_through_the_plugin(tmp_path):
    """PyPI's h5py 3.16 wheel bundles its own HDF5 2.0.0, loaded privately under a hashed name:
    the plugin binds at run time to the libhdf5 that loads it (issue 11), so the unmodified
    example writes the split layout, equal to the same script run natively with the wheel. Run on
    both series, the plugin built against HDF5 1.14 serves the wheel's 2.0.0 too."""
    wheel = need_file("DSET_SPLIT_WHEEL_PYTHON")
    native, split = tmp_path / "native", tmp_path / "split"
    native.mkdir()
    split.mkdir()
    script = EXAMPLES / "writer.py"
    sh([wheel, script, native / "run.h5"], native, clean_env())
    p = sh([wheel, script, split / "run.h5"], split, connector_env(VIRTUAL))
    assert (split / "run-split").is_dir() and sorted((split / "run-split").rglob("*.h5")), p.stderr
    dumped = [json.loads(sh([wheel, EXAMPLES / "dump.py", d / "run.h5"], d, clean_env()).stdout) for d in (native, split)]
    assert dumped[0] == dumped[1], "the wheel wrote different content through the plugin"


TWO_COPIES = """
import sys, os
if sys.argv[1] == "h5py":
    import h5py, netCDF4
else:
    import netCDF4, h5py
import numpy as np
with netCDF4.Dataset("a.nc", "w") as d:
    d.createDimension("t", None)
    v = d.createVariable("v", "f8", ("t",), zlib=True)
    v[:] = np.arange(5.0)
    v.units = "K"
with h5py.File("b.h5", "w") as f:
    f["x"] = np.arange(4)
    f["x"].attrs["a"] = 1
with netCDF4.Dataset("a.nc") as d:
    print("nc", d["v"][:].tolist(), d["v"].units, len(d.dimensions["t"]), d.dimensions["t"].isunlimited())
with h5py.File("b.h5") as f:
    print("h5", f["x"][()].tolist(), int(f["x"].attrs["a"]))
"""


@pytest.mark.parametrize("first", ["h5py", "netCDF4"])
def test_h5py_and_netcdf4_wheels_in_one_process(tmp_path, first):
    """h5py's wheel (HDF5 2.0.0) and netCDF4's (HDF5 2.2.0) imported together, in either order:
    two libhdf5 copies in one process, each bound to the plugin on its own (issue 11), so both
    write the split layout and read back what the same script reads natively."""
    wheel = need_file("DSET_SPLIT_WHEEL_PYTHON")
    native, split = tmp_path / "native", tmp_path / "split"
    native.mkdir()
    split.mkdir()
    script = tmp_path / "two.py"
    script.write_text(TWO_COPIES)
    want = sh([wheel, script, first], native, clean_env()).stdout
    got = sh([wheel, script, first], split, connector_env(VIRTUAL)).stdout
    assert got == want and "nc [0.0, 1.0, 2.0, 3.0, 4.0] K 5 True" in got, got
    assert sorted(p.name for p in (split / "a-split").glob("*.h5")) == ["t.h5", "v.h5"]
    assert sorted(p.name for p in (split / "b-split").glob("*.h5")) == ["x.h5"]


def test_env_runs_an_unmodified_script_through_the_connector(tmp_path):
    """`eval "$(dset-split env KEYS...)"` puts the plugin's folder in front of HDF5_PLUGIN_PATH
    (keeping what was there) and sets HDF5_VOL_CONNECTOR with the policy keys: an unmodified
    script (h5py's wheel) then writes the split layout; a bad key is refused before anything is
    printed."""
    tool, wheel = need_file("DSET_SPLIT_CLI"), need_file("DSET_SPLIT_WHEEL_PYTHON")
    env = clean_env(HDF5_PLUGIN_PATH="/elsewhere")
    script = f'eval "$({tool} env layout=link \'exclude=/grid/**\')" && echo "$HDF5_PLUGIN_PATH" && ' \
             f'{wheel} {EXAMPLES / "writer.py"} run.h5'
    p = sh(["bash", "-c", script], tmp_path, env)
    assert p.stdout.splitlines()[0].endswith(":/elsewhere"), p.stdout
    links = sh([wheel, "-c", "import h5py; f = h5py.File('run.h5'); "
                "print(sorted(n for n in f if f.get(n, getlink=True).__class__.__name__ == 'ExternalLink'))"],
               tmp_path, clean_env()).stdout
    assert "[]" not in links, links  # the link form: external links in the main file
    assert sorted((tmp_path / "run-split").rglob("*.h5"))
    bad = cli(["env", "layout=sideways"], tmp_path)
    assert bad.returncode == 2 and "layout" in bad.stderr and bad.stdout == ""


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


def h5py_plainly(code, cwd):
    """Runs `code` (h5py, imported as h5py with os and numpy as np) with plain HDF5, no plugin: a
    tool that edits the file without the connector."""
    script = cwd / "plain_edit.py"
    script.write_text("import os\nimport h5py\nimport numpy as np\n" + code)
    run(script, [], cwd)
    script.unlink()


def link_targets(path, cwd):
    """{HDF5 path: target file} of every external link of a main file, read plainly."""
    script = cwd / "targets.py"
    script.write_text(
        "import json, sys, h5py\n"
        "out = {}\n"
        "with h5py.File(sys.argv[1], 'r') as f:\n"
        "    def visit(name, link):\n"
        "        if isinstance(link, h5py.ExternalLink):\n"
        "            out['/' + name] = [link.filename, link.path]\n"
        "    f.visititems_links(visit)\n"
        "print(json.dumps(out))\n")
    out = json.loads(run(script, [path], cwd))
    script.unlink()
    return out


def test_check_reports_and_fixes_a_broken_layout(tmp_path):
    run(EXAMPLES / "writer.py", [tmp_path / "run.h5"], tmp_path, CONNECTOR)
    split = tmp_path / "run-split"

    def check(*args):
        return dset_split(["check", *args, "run.h5"], tmp_path)

    p = check()
    assert p.returncode == 0 and p.stdout.strip() == "run.h5: 0 problem(s), 0 fixed", p.stdout + p.stderr
    assert json.loads(check("--json").stdout) == {"file": "run.h5", "findings": [], "problems": 0, "fixed": 0}

    # Tools that edit the file without the connector: renamed links (drift: the file stays at
    # the old name), links rewritten as absolute or untidy relative paths (not-relative).
    h5py_plainly(
        "with h5py.File('run.h5', 'r+') as f:\n"
        "    f.move('types/float32', 'types/renamed')\n"
        "    f.move('moved/bool', 'flag')\n"
        "    del f['series']\n"
        "    f['series'] = h5py.ExternalLink(os.path.abspath('run-split/series.h5'), '/data')\n"
        "    del f['required']\n"
        "    f['required'] = h5py.ExternalLink('./run-split//compressed/../required.h5', '/data')\n",
        tmp_path)
    expected = dump(tmp_path / "run.h5", tmp_path)  # every file is there: the content to keep
    assert "/types/renamed" in expected and "/flag" in expected
    # Then a split file goes missing, one is overwritten with garbage, and a stray copy appears.
    saved = {name: (split / name).read_bytes() for name in ("types/complex.h5", "types/enum.h5")}
    (split / "types" / "complex.h5").unlink()
    (split / "types" / "enum.h5").write_bytes(b"not an HDF5 file")
    (split / "old").mkdir()
    shutil.copy(split / "appended.h5", split / "old" / "stray.h5")

    want = {
        ("/flag", "drift", "run-split/moved/bool.h5"),
        ("/required", "not-relative", "./run-split//compressed/../required.h5"),
        ("/series", "not-relative", str(split / "series.h5")),
        ("/types/complex", "dangling", "run-split/types/complex.h5"),
        ("/types/enum", "corrupt", "run-split/types/enum.h5"),
        ("/types/renamed", "drift", "run-split/types/float32.h5"),
        ("/old/stray", "orphan", "run-split/old/stray.h5"),
    }
    p = check("--json")
    assert p.returncode == 1, p.stderr
    report = json.loads(p.stdout)
    assert {(f["path"], f["kind"], f["file"]) for f in report["findings"]} == want, report
    assert all(f["problem"] and not f["fixed"] and f["advice"] for f in report["findings"])
    assert report["problems"] == len(want) and report["fixed"] == 0
    by_path = {f["path"]: f for f in report["findings"]}
    assert by_path["/types/renamed"]["expected"] == "run-split/types/renamed.h5"
    assert by_path["/series"]["expected"] == "run-split/series.h5"
    assert by_path["/required"]["expected"] == "run-split/required.h5"
    assert "dset-split gc run.h5" in by_path["/old/stray"]["advice"]
    # gc counts links in every form of their target: only the stray copy is an orphan.
    p = dset_split(["gc", "--dry-run", "--json", "run.h5"], tmp_path)
    assert p.returncode == 0 and json.loads(p.stdout)["orphans"] == ["run-split/old/stray.h5"], p.stdout
    # The table: one line per finding, then the summary.
    p = check()
    assert p.returncode == 1
    lines = p.stdout.splitlines()
    assert len(lines) == len(want) + 1 and lines[-1] == f"run.h5: {len(want)} problem(s), 0 fixed", p.stdout
    drift = next(line for line in lines if "/types/renamed" in line)
    assert drift.split()[:4] == ["drift", "problem", "/types/renamed", "run-split/types/float32.h5"], drift
    assert "run-split/types/renamed.h5" in drift and "dset-split check --fix run.h5" in drift
    assert "restore" in next(line for line in lines if line.startswith("dangling"))

    # --fix moves the drifted files and rewrites the links; missing, corrupt and orphan files are
    # left as they are (problems remain: exit code 1).
    p = check("--fix", "--json")
    assert p.returncode == 1, p.stderr
    fixed = json.loads(p.stdout)
    assert {f["path"] for f in fixed["findings"] if f["fixed"]} == {"/flag", "/required", "/series", "/types/renamed"}
    assert fixed["fixed"] == 4 and fixed["problems"] == 3
    assert (split / "types" / "renamed.h5").exists() and not (split / "types" / "float32.h5").exists()
    assert (split / "flag.h5").exists() and not (split / "moved").exists(), "the emptied directory stays"
    assert (split / "old" / "stray.h5").exists() and not (split / "types" / "complex.h5").exists()
    assert (split / "types" / "enum.h5").read_bytes() == b"not an HDF5 file"
    targets = link_targets("run.h5", tmp_path)
    for path, file in {"/types/renamed": "run-split/types/renamed.h5", "/flag": "run-split/flag.h5",
                       "/series": "run-split/series.h5", "/required": "run-split/required.h5"}.items():
        assert targets[path] == [file, "/data"], (path, targets[path])
    p = check()
    assert p.returncode == 1 and p.stdout.splitlines()[-1] == "run.h5: 3 problem(s), 0 fixed", p.stdout

    # What is left is for the user: restore the files, remove the orphan. Then all is well, and
    # the data reads the same plainly, through the connector, and after the tree is moved.
    for name, data in saved.items():
        (split / name).write_bytes(data)
    assert dset_split(["gc", "run.h5"], tmp_path).returncode == 0
    p = check()
    assert p.returncode == 0 and p.stdout.strip() == "run.h5: 0 problem(s), 0 fixed", p.stdout
    assert dump(tmp_path / "run.h5", tmp_path) == expected
    assert dump(tmp_path / "run.h5", tmp_path, CONNECTOR) == expected
    moved = tmp_path / "elsewhere" / "deeper"
    shutil.copytree(split, moved / "run-split")
    for name in ("run.h5", "run.h5.ext.h5"):
        shutil.copy(tmp_path / name, moved / name)
    assert dump(moved / "run.h5", tmp_path) == expected
    assert dset_split(["check", "elsewhere/deeper/run.h5"], tmp_path).returncode == 0


def test_check_fix_handles_swapped_names_and_refuses_cache_links(tmp_path):
    code = ("with h5py.File('run.h5', 'w') as f:\n"
            "    for name in 'abc':\n"
            "        f[name] = np.arange(ord(name) - 90)\n")
    script = tmp_path / "make.py"
    script.write_text("import h5py\nimport numpy as np\n" + code)
    run(script, [], tmp_path, CONNECTOR)
    assert sorted(p.name for p in (tmp_path / "run-split").glob("*.h5")) == ["a.h5", "b.h5", "c.h5"]
    expected = {k: v["data"] for k, v in dump(tmp_path / "run.h5", tmp_path).items() if k != "/"}
    # Names moved round in a circle without the connector: a -> b -> c -> a.
    h5py_plainly(
        "with h5py.File('run.h5', 'r+') as f:\n"
        "    f.move('a', 'tmp')\n"
        "    f.move('c', 'a')\n"
        "    f.move('b', 'c')\n"
        "    f.move('tmp', 'b')\n",
        tmp_path)
    now = {k: v["data"] for k, v in dump(tmp_path / "run.h5", tmp_path).items() if k != "/"}
    assert now == {"/b": expected["/a"], "/c": expected["/b"], "/a": expected["/c"]}

    # A main file that is a link into a cache (here a hard link with another name) is not
    # written through.
    os.link(tmp_path / "run.h5", tmp_path / "cache.h5")
    before = (tmp_path / "cache.h5").read_bytes()
    p = dset_split(["check", "--fix", "run.h5"], tmp_path)
    assert p.returncode == 2 and "dvc unprotect run.h5" in p.stderr, p.stderr
    assert p.stdout.splitlines()[-1] == "run.h5: 3 problem(s), 0 fixed", p.stdout
    assert (tmp_path / "cache.h5").read_bytes() == before and (tmp_path / "run-split" / "a.h5").exists()
    (tmp_path / "cache.h5").unlink()

    # Each file moves to its name's place, through a temporary name to open the circle.
    p = dset_split(["check", "--fix", "run.h5"], tmp_path)
    assert p.returncode == 0 and p.stdout.splitlines()[-1] == "run.h5: 0 problem(s), 3 fixed", p.stdout + p.stderr
    assert sorted(p.name for p in (tmp_path / "run-split").iterdir()) == [".dset-split", "a.h5", "b.h5", "c.h5"]
    assert link_targets("run.h5", tmp_path) == {f"/{n}": [f"run-split/{n}.h5", "/data"] for n in "abc"}
    assert {k: v["data"] for k, v in dump(tmp_path / "run.h5", tmp_path, CONNECTOR).items() if k != "/"} == now


def test_check_fix_keeps_the_creation_order(tmp_path):
    script = tmp_path / "make.py"
    script.write_text(
        "import h5py\nimport numpy as np\n"
        "with h5py.File('run.h5', 'w') as f:\n"
        "    g = f.create_group('ordered', track_order=True)\n"
        "    for i, name in enumerate(['z', 'a', 'm', 'b', 'k']):\n"
        "        g[name] = np.arange(i + 2)\n")
    run(script, [], tmp_path, CONNECTOR)
    # Plain h5py rewrites two links as absolute ones and renames a third: each goes last.
    h5py_plainly(
        "with h5py.File('run.h5', 'r+') as f:\n"
        "    g = f['ordered']\n"
        "    for name in ['a', 'm']:\n"
        "        del g[name]\n"
        "        g[name] = h5py.ExternalLink(os.path.abspath(f'run-split/ordered/{name}.h5'), '/data')\n"
        "    g.move('z', 'y')\n",
        tmp_path)
    order = "import sys, h5py\nprint(' '.join(h5py.File(sys.argv[1], 'r')['ordered']))\n"
    (tmp_path / "order.py").write_text(order)
    before = run(tmp_path / "order.py", ["run.h5"], tmp_path).split()
    assert sorted(before) == ["a", "b", "k", "m", "y"] and before != sorted(before), before
    expected = dump(tmp_path / "run.h5", tmp_path)

    p = dset_split(["check", "--fix", "--json", "run.h5"], tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert {(f["path"], f["kind"]) for f in json.loads(p.stdout)["findings"] if f["fixed"]} == {
        ("/ordered/a", "not-relative"), ("/ordered/m", "not-relative"), ("/ordered/y", "drift")}
    assert run(tmp_path / "order.py", ["run.h5"], tmp_path).split() == before
    targets = link_targets("run.h5", tmp_path)
    assert {k: v[0] for k, v in targets.items()} == {f"/ordered/{n}": f"run-split/ordered/{n}.h5" for n in before}
    assert dump(tmp_path / "run.h5", tmp_path) == expected
    assert dump(tmp_path / "run.h5", tmp_path, CONNECTOR) == expected


def test_check_in_a_partial_dvc_clone(tmp_path):
    """Files DVC records but that were not pulled are information (exit code 0); a missing file
    DVC does not know is a dangling link. The clone lacks the split folder's owner file too."""
    exe = need_file("DSET_SPLIT_DVC")
    repo, clone = tmp_path / "repo", tmp_path / "clone"
    repo.mkdir()
    sh(["git", "init", "-q", "."], repo)
    sh([exe, "init", "-q"], repo)
    sh([exe, "remote", "add", "-d", "local", tmp_path / "remote"], repo)
    run(EXAMPLES / "ml_pipeline.py", [repo / "run.h5", 3], repo, CONNECTOR)
    sh([exe, "add", "-q", "run.h5", "run-split"], repo)
    sh(["git", "add", "-A"], repo)
    sh(["git", "commit", "-qm", "data"], repo)
    sh([exe, "push", "-q"], repo)
    sh(["git", "clone", "-q", repo, clone], tmp_path)
    sh([exe, "pull", "-q", "run.h5", "run-split/train/sample_00001/image.h5"], clone)

    p = dset_split(["check", "--json", "run.h5"], clone)
    assert p.returncode == 0, p.stdout + p.stderr
    report = json.loads(p.stdout)
    kinds = {f["kind"] for f in report["findings"]}
    assert kinds == {"not-materialised"} and report["problems"] == 0, report
    advice = {f["path"]: f["advice"] for f in report["findings"]}
    assert "dvc pull run-split/train/sample_00000/label.h5" in advice["/train/sample_00000/label"]
    assert "/train/sample_00001/image" not in advice
    assert report["warnings"] and "orphan split files were not looked for" in report["warnings"][0]

    # A link to a file DVC never recorded: dangling, a problem.
    h5py_plainly("with h5py.File('run.h5', 'r+') as f:\n"
                 "    f['extra'] = h5py.ExternalLink('run-split/extra.h5', '/data')\n", clone)
    p = dset_split(["check", "run.h5"], clone)
    assert p.returncode == 1 and p.stdout.splitlines()[-1] == "run.h5: 1 problem(s), 0 fixed", p.stdout
    assert next(line for line in p.stdout.splitlines() if "/extra" in line).startswith("dangling")


def test_deletes_remove_split_files_only_when_no_link_is_left(tmp_path):
    """The connector counts the links to each split file once and then counts deletes down; every
    other way a link can appear (a hard link to a split dataset, a copy, a move, another handle
    of the same file) makes it count again. Split files go exactly when their last link does,
    once the main file is closed (until then the application may link an open object again)."""
    code = (
        "import h5py, numpy as np, os\n"
        "def files():\n"
        "    return sorted(os.path.relpath(os.path.join(d, n), 'run-split') for d, _, ns in os.walk('run-split')\n"
        "                  for n in ns if n.endswith('.h5'))\n"
        "with h5py.File('run.h5', 'w') as f:\n"
        "    for i in range(6):\n"
        "        f[f'd{i}'] = np.arange(10) + i\n"
        "    del f['d0']                       # counted here\n"
        "    del f['d2']                       # counted down\n"
        "    before = files()\n"
        "print(before, files())\n"
        "with h5py.File('run.h5', 'a') as f:\n"
        "    f['alias'] = f['d1']              # another link to d1's file\n"
        "    del f['d1']\n"
        "print(files())\n"
        "with h5py.File('run.h5', 'a') as f:\n"
        "    del f['alias']\n"
        "print(files())\n"
        "with h5py.File('run.h5', 'a') as f:\n"
        "    f['new'] = np.arange(3)           # anonymous dataset, then linked: counted up\n"
        "    del f['new']\n"
        "    f.copy('d3', 'd3copy')            # an independent split copy\n"
        "    del f['d3']\n"
        "    f.move('d4', 'moved')\n"
        "    del f['moved']\n"
        "print(files())\n"
        "with h5py.File('run.h5', 'a') as f:\n"
        "    with h5py.File('run.h5', 'r+') as g:   # a second handle of the same file\n"
        "        g['again'] = g['d3copy']\n"
        "        del f['d3copy']\n"
        "        print(g['again'][0])\n"
        "print(files())\n"
        "with h5py.File('run.h5', 'a') as f:\n"
        "    del f['again']\n"
        "print(files())\n")
    (tmp_path / "deletes.py").write_text(code)
    out = run(tmp_path / "deletes.py", [], tmp_path, CONNECTOR).splitlines()
    assert out == [
        "['d0.h5', 'd1.h5', 'd2.h5', 'd3.h5', 'd4.h5', 'd5.h5'] ['d1.h5', 'd3.h5', 'd4.h5', 'd5.h5']",
        "['d1.h5', 'd3.h5', 'd4.h5', 'd5.h5']",
        "['d3.h5', 'd4.h5', 'd5.h5']",
        "['d3copy.h5', 'd5.h5']",
        "3",
        "['d3copy.h5', 'd5.h5']",
        "['d5.h5']",
    ], out
    assert dump(tmp_path / "run.h5", tmp_path)["/d5"]["kind"] == "dataset"
