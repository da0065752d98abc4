"""The `dset-split` command's safety rules, on real files (README, "Safety rules"): every subcommand
resolves link targets as HDF5 does, in every form they may be written; nothing is written,
moved or removed in a folder that is not provably the main file's, or through a symbolic link;
work files are made where no one can plant anything, and what a killed run leaves is found and
removed; odd inputs (a named pipe, an HDF5 path longer than 64 KiB) are handled.

Run by scripts/test.sh: DSET_SPLIT_CLI (the command), with h5py built against the series.
"""
import json
import os
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from support import clean_env, cli, need_file

pytestmark = pytest.mark.reliability


def make_split(tmp, name="run.h5", n=4):
    """`name` in the split layout (by `dset-split split`), datasets /a, /b, ... each in its own
    file; returns {HDF5 path: data}."""
    data = {f"/{chr(97 + i)}": np.arange(10.0 + i) for i in range(n)}
    with h5py.File(tmp / "in.h5", "w") as f:
        for path, values in data.items():
            f[path] = values
    p = cli(["split", "in.h5", name], tmp)
    assert p.returncode == 0, p.stderr
    (tmp / "in.h5").unlink()
    return data


def relink(main, path, target):
    """Points the link `path` of `main` at `target` (object /data), with plain h5py: a tool that
    edits the file without the connector."""
    with h5py.File(main, "r+") as f:
        del f[path]
        f[path] = h5py.ExternalLink(target, "/data")


def run_json(args, cwd):
    p = cli([*args, "--json"], cwd)
    assert p.returncode in (0, 1), p.stderr
    return p.returncode, json.loads(p.stdout)


def pids_ahead(n=400):
    """The process ids the next `n` processes will most likely get (Linux hands them out in
    order)."""
    last = int(open("/proc/sys/kernel/ns_last_pid").read())
    return range(last + 1, last + 1 + n)


def start(args, cwd):
    return subprocess.Popen([str(need_file("DSET_SPLIT_CLI")), *args], cwd=cwd, env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(cond, p, seconds=60):
    deadline = time.monotonic() + seconds
    while not cond() and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert p.poll() is None, "finished before the test could step in: make the input larger"


def many_datasets(path, n=6000):
    with h5py.File(path, "w") as f:
        for i in range(n):
            f[f"g{i % 20}/d{i}"] = np.arange(8.0)


def test_every_spelling_of_a_split_target_is_the_same_split_file(tmp_path):
    data = make_split(tmp_path, n=5)
    main = tmp_path / "run.h5"
    relink(main, "a", "./run-split/a.h5")
    relink(main, "b", "run-split//b.h5")
    relink(main, "c", str(tmp_path / "run-split" / "c.h5"))
    with h5py.File(main, "r+") as f:  # a second name of /d's file, written another way
        f["d2"] = h5py.ExternalLink("./run-split/./d.h5", "/data")
        f["gone"] = h5py.ExternalLink("./run-split/gone.h5", "/data")

    code, status = run_json(["status", "run.h5"], tmp_path)
    places = {d["path"]: (d["place"], d.get("state")) for d in status["datasets"]}
    assert code == 1 and status["external"] == 0, status
    assert all(places[p] == ("split", "present") for p in ["/a", "/b", "/c", "/d", "/d2", "/e"]), places
    assert places["/gone"] == ("split", "missing")

    code, report = run_json(["check", "run.h5"], tmp_path)
    kinds = sorted((f["path"], f["kind"]) for f in report["findings"])
    assert kinds == [("/a", "not-relative"), ("/b", "not-relative"), ("/c", "not-relative"), ("/d2", "not-relative"),
                     ("/gone", "dangling"), ("/gone", "not-relative")], report
    assert code == 1

    # gc: every file is reached, whatever the spelling; a real orphan is found.
    (tmp_path / "run-split" / "stray.h5").write_bytes((tmp_path / "run-split" / "a.h5").read_bytes())
    code, plan = run_json(["gc", "--dry-run", "run.h5"], tmp_path)
    assert code == 0 and plan["orphans"] == ["run-split/stray.h5"], plan

    # merge: /d and /d2 (one split file, two spellings) become one object again.
    with h5py.File(main, "r+") as f:
        del f["gone"]
    assert cli(["merge", "run.h5", "one.h5"], tmp_path).returncode == 0
    with h5py.File(tmp_path / "one.h5") as f:
        assert f["d"].id == f["d2"].id
        assert all(np.array_equal(f[p][()], v) for p, v in data.items())

    # --fix stores the canonical form.
    assert cli(["check", "--fix", "run.h5"], tmp_path).returncode == 1  # the orphan is left to gc
    with h5py.File(main) as f:
        assert {n: f.get(n, getlink=True).filename for n in ["a", "b", "c", "d2"]} == {
            "a": "run-split/a.h5", "b": "run-split/b.h5", "c": "run-split/c.h5", "d2": "run-split/d.h5"}


def test_check_reports_split_files_reached_through_a_symbolic_link_out_of_the_folder(tmp_path):
    make_split(tmp_path)
    split = tmp_path / "run-split"
    outside = tmp_path / "outside"
    outside.mkdir()
    os.replace(split / "b.h5", outside / "b.h5")
    (split / "evil").symlink_to(outside)
    (split / "inner").symlink_to(split)  # leads back into the folder: not an escape
    relink(tmp_path / "run.h5", "b", "run-split/evil/b.h5")
    relink(tmp_path / "run.h5", "c", "run-split/inner/c.h5")
    code, report = run_json(["check", "run.h5"], tmp_path)
    found = {(f["path"], f["kind"]) for f in report["findings"]}
    assert ("/b", "escapes") in found and not any(p == "/c" and k == "escapes" for p, k in found), report
    advice = next(f["advice"] for f in report["findings"] if f["kind"] == "escapes")
    assert "run-split/evil is a symbolic link" in advice, advice
    # --fix moves nothing through it.
    cli(["check", "--fix", "run.h5"], tmp_path)
    assert (outside / "b.h5").exists() and sorted(os.listdir(outside)) == ["b.h5"]

    # A split folder that is itself a symbolic link: every link into it leads out.
    other = tmp_path / "other"
    os.replace(split, other)
    (tmp_path / "run-split").symlink_to(other)
    code, report = run_json(["check", "run.h5"], tmp_path)
    assert code == 1 and {f["path"] for f in report["findings"] if f["kind"] == "escapes"} >= {"/a", "/d"}, report


def test_gc_removes_nothing_through_symbolic_links_or_in_nested_split_folders(tmp_path):
    make_split(tmp_path)
    split = tmp_path / "run-split"
    # Another main file inside the split folder, with its own split folder.
    inner = split / "inner-split"
    inner.mkdir()
    (inner / ".dset-split").write_text("inner.h5\n")
    (inner / "x.h5").write_bytes(b"the inner file's data")
    # A directory in the folder that leads outside it.
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "y.h5").write_bytes(b"not ours")
    (split / "away").symlink_to(outside)
    code, plan = run_json(["gc", "--dry-run", "run.h5"], tmp_path)
    assert code == 0 and plan["orphans"] == [], plan
    assert cli(["gc", "run.h5"], tmp_path).returncode == 0
    assert (inner / "x.h5").exists() and (inner / ".dset-split").exists() and (outside / "y.h5").exists()

    # A split folder that is a symbolic link (to a folder that names this main file): refused.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".dset-split").write_text("run.h5\n")
    (elsewhere / "orphan.h5").write_bytes(b"someone's")
    for entry in split.iterdir():
        os.replace(entry, elsewhere / entry.name) if entry.name != ".dset-split" else entry.unlink()
    split.rmdir()
    split.symlink_to(elsewhere)
    p = cli(["gc", "run.h5"], tmp_path)
    assert p.returncode == 2 and "symbolic link" in p.stderr and "nothing removed" in p.stderr, p.stderr
    assert (elsewhere / "orphan.h5").exists()


def test_work_files_cannot_be_planted(tmp_path):
    """Links planted where a run would make its work files (every name the old scheme,
    `.<OUT>.dset-split-<pid>.work|new`, could pick next) never get written through, and OUT ends
    as a regular file."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    with h5py.File(tmp_path / "in.h5", "w") as f:
        f["x"] = np.arange(100.0)
    assert cli(["split", "in.h5", "run.h5"], tmp_path).returncode == 0
    for pid in pids_ahead():
        (tmp_path / f".one.h5.dset-split-{pid}.new").symlink_to(victim)
    p = cli(["merge", "run.h5", "one.h5"], tmp_path)
    assert victim.read_bytes() == b"precious"
    assert p.returncode == 0 and (tmp_path / "one.h5").is_file() and not (tmp_path / "one.h5").is_symlink()
    for pid in pids_ahead():
        for name in (f".two.h5.dset-split-{pid}.work", f".two.h5.dset-split-{pid}.new"):
            (tmp_path / name).symlink_to(victim)
    p = cli(["split", "in.h5", "two.h5"], tmp_path)
    assert victim.read_bytes() == b"precious"
    assert p.returncode == 0 and (tmp_path / "two.h5").is_file() and not (tmp_path / "two.h5").is_symlink()

    # OUT a symbolic link: refused without --force (also a dangling one); replaced with it.
    (tmp_path / "dangling.h5").symlink_to(tmp_path / "nowhere")
    p = cli(["merge", "run.h5", "dangling.h5"], tmp_path)
    assert p.returncode == 2 and "--force" in p.stderr and not (tmp_path / "nowhere").exists()
    (tmp_path / "three.h5").symlink_to(victim)
    assert cli(["merge", "run.h5", "three.h5", "--force"], tmp_path).returncode == 0
    assert victim.read_bytes() == b"precious" and not (tmp_path / "three.h5").is_symlink()
    assert not list(tmp_path.glob("*.dset-split-work"))


def test_merge_refuses_an_output_inside_the_split_folder(tmp_path):
    make_split(tmp_path)
    before = (tmp_path / "run-split" / "a.h5").read_bytes()
    (tmp_path / "alias").symlink_to(tmp_path / "run-split")
    for out in ("run-split/a.h5", "alias/a.h5", "run-split/new.h5"):
        p = cli(["merge", "run.h5", out, "--force"], tmp_path)
        assert p.returncode == 2 and "split folder of run.h5" in p.stderr, (out, p.stderr)
    assert (tmp_path / "run-split" / "a.h5").read_bytes() == before
    assert not (tmp_path / "run-split" / "new.h5").exists()


@pytest.mark.parametrize("where", ["in place", "new OUT"])
def test_a_killed_run_leaves_work_that_check_reports_and_gc_removes(tmp_path, where):
    many_datasets(tmp_path / ("run.h5" if where == "in place" else "in.h5"))
    args = ["split", "run.h5"] if where == "in place" else ["split", "in.h5", "run.h5"]
    p = start(args, tmp_path)
    wait_for(lambda: list((tmp_path / "run-split").rglob("*.h5")), p)
    p.kill()
    p.communicate()
    left = list(tmp_path.glob(".run.h5.*dset-split*"))
    assert len(left) == 1 and left[0].stat().st_size > 0, "the work copy is left"
    if where == "in place":
        code, report = run_json(["check", "run.h5"], tmp_path)
        leftovers = [f for f in report["findings"] if f["kind"] == "leftover"]
        assert code == 1 and len(leftovers) == 1 and leftovers[0]["file"] == left[0].name, report
        assert "dset-split gc run.h5" in leftovers[0]["advice"]
        p = cli(["gc", "run.h5"], tmp_path)
        assert p.returncode == 0 and f"removed {left[0].name}" in p.stdout, p.stdout + p.stderr
        assert cli(["check", "run.h5"], tmp_path).returncode == 0
    else:
        # run.h5 was never made: check says what is left, gc removes it.
        p = cli(["check", "run.h5"], tmp_path)
        assert p.returncode == 2 and left[0].name in p.stderr, p.stderr
        p = cli(["gc", "run.h5"], tmp_path)
        assert p.returncode == 2 and f"removed {left[0].name}" in p.stdout, p.stdout + p.stderr
    assert not left[0].exists()


def test_tables_take_hdf5_paths_longer_than_64_kib(tmp_path):
    with h5py.File(tmp_path / "run.h5", "w") as f:
        g = f.create_group("/".join(f"g{i:04d}" + "x" * 995 for i in range(70)))
        g["inline"] = np.arange(3)
        g["gone"] = h5py.ExternalLink("run-split/gone.h5", "/data")
        long_path = g.name
    assert len(long_path) > 65535
    p = cli(["status", "run.h5"], tmp_path)
    assert p.returncode == 1 and f"{long_path}/gone" in p.stdout, p.stderr[-2000:]
    p = cli(["check", "run.h5"], tmp_path)
    assert p.returncode == 1 and "dangling" in p.stdout and f"{long_path}/gone" in p.stdout, p.stderr[-2000:]
    assert run_json(["check", "run.h5"], tmp_path)[1]["findings"][0]["path"] == f"{long_path}/gone"


@pytest.mark.parametrize("command", ["split", "merge"])
def test_a_named_pipe_as_input_is_refused_and_never_blocks(tmp_path, command):
    os.mkfifo(tmp_path / "in.h5")
    p = start([command, "in.h5", "out.h5"], tmp_path)
    try:
        time.sleep(0.5)
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)  # a guard against hanging, not a speed limit
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
            pytest.fail(f"{command} ignored SIGTERM while reading a named pipe")
    assert p.returncode in (2, 130), (p.returncode, err)
    assert "named pipe" in err or "interrupted" in err.lower(), err
    assert sorted(q.name for q in tmp_path.iterdir()) == ["in.h5"]


def test_a_split_folder_claimed_meanwhile_is_left_to_its_owner(tmp_path):
    """Between split's first look at the folder and its claim, another run takes it: one for
    another main file with the same stem (run.nc), or a run converting the same file that put its
    first split file there. The owner file is created exclusively; a claim that is not ours is
    refused, and a run that fails removes the owner file it made only from an otherwise empty
    folder."""
    def stopped_split():
        many_datasets(tmp_path / "run.h5")
        p = start(["split", "run.h5"], tmp_path)
        wait_for(lambda: list(tmp_path.glob(".run.h5.*dset-split-work/*")) + list(tmp_path.glob(".run.h5.*.work")), p)
        p.send_signal(signal.SIGSTOP)
        return p

    def resume(p):
        p.send_signal(signal.SIGCONT)
        out, err = p.communicate(timeout=600)
        return p.returncode, err

    split = tmp_path / "run-split"
    p = stopped_split()
    split.mkdir()
    (split / ".dset-split").write_text("run.nc\n")
    code, err = resume(p)
    assert code == 2 and "belongs to run.nc" in err, err
    assert (split / ".dset-split").read_text() == "run.nc\n" and sorted(os.listdir(split)) == [".dset-split"]

    (split / ".dset-split").unlink()
    p = stopped_split()
    (split / "g0").mkdir()
    (split / "g0" / "d0.h5").write_bytes(b"the other run's")
    code, err = resume(p)
    assert code == 2 and "already there" in err, err
    assert (split / ".dset-split").read_text() == "run.h5\n", "the other run's folder lost its owner file"
    assert (split / "g0" / "d0.h5").read_bytes() == b"the other run's"

    # An owner file planted as a link (dangling) is not written through.
    for q in split.rglob("*"):
        q.unlink() if q.is_file() else None
    (split / "g0").rmdir()
    (split / ".dset-split").symlink_to(tmp_path / "victim")
    p = cli(["split", "run.h5"], tmp_path)
    assert p.returncode == 2 and not (tmp_path / "victim").exists(), p.stderr


def test_status_keeps_its_hash_cache_without_following_planted_links(tmp_path):
    """`status` in a DVC repository keeps the MD5s it computed in .dvc/tmp; the new cache file is
    made under a new, unpredictable name (the old one, `dset-split-md5.json.<pid>`, could be
    planted)."""
    make_split(tmp_path)
    (tmp_path / ".dvc" / "tmp").mkdir(parents=True)
    (tmp_path / "run.h5.dvc").write_text("outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: run.h5\n")
    old = time.time() - 60
    os.utime(tmp_path / "run.h5", (old, old))
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    for pid in pids_ahead():
        (tmp_path / ".dvc" / "tmp" / f"dset-split-md5.json.{pid}").symlink_to(victim)
    code, status = run_json(["status", "run.h5"], tmp_path)
    assert code == 0 and status["file_dvc"] == "modified", status
    assert victim.read_bytes() == b"precious"
    cache = json.loads((tmp_path / ".dvc" / "tmp" / "dset-split-md5.json").read_text())
    assert str(tmp_path / "run.h5") in cache["files"]
