"""git-annex end to end, with git-annex itself (Debian's package; scripts/annex.sh installs it) and
unmodified h5py programs writing through dset_split: annexed files are locked (read-only symbolic
links into .git/annex/objects), writing through the connector never modifies an annexed object,
a changed dataset adds one new object, and a fresh clone gets one dataset.

Run by scripts/test.sh: DSET_SPLIT_GIT_ANNEX names the `git-annex` executable, DSET_SPLIT_PLUGIN_DIR
the directory holding the built plugin, DSET_SPLIT_CLI the dset-split command.
"""
import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "python"
CONNECTOR = "dset_split under_vol=0;under_info={}"
FIXED = "train/sample_00003"


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HDF5_")}
    annex = os.environ.get("DSET_SPLIT_GIT_ANNEX")
    if not annex or not pathlib.Path(annex).exists():
        pytest.fail("set DSET_SPLIT_GIT_ANNEX to the git-annex executable (bash scripts/annex.sh)")
    env["PATH"] = f"{pathlib.Path(annex).parent}:{env.get('PATH', '')}"
    env.update(GIT_AUTHOR_NAME="dset-split tests", GIT_AUTHOR_EMAIL="tests@invalid",
               GIT_COMMITTER_NAME="dset-split tests", GIT_COMMITTER_EMAIL="tests@invalid", **extra)
    return env


def connector_env():
    d = os.environ.get("DSET_SPLIT_PLUGIN_DIR")
    if not d or not pathlib.Path(d, "libdset_split.so").exists():
        pytest.fail("set DSET_SPLIT_PLUGIN_DIR to a directory holding libdset_split.so")
    return clean_env(HDF5_PLUGIN_PATH=d, HDF5_VOL_CONNECTOR=CONNECTOR)


def sh(args, cwd, env=None, ok=True):
    p = subprocess.run(list(map(str, args)), cwd=cwd, env=env or clean_env(), capture_output=True, text=True,
                       timeout=600)
    if ok:
        assert p.returncode == 0, f"{args} failed:\n{p.stdout}\n{p.stderr}"
    assert "infinite loop closing library" not in p.stderr, p.stderr
    return p


def git(*args, cwd):
    return sh(["git", *args], cwd).stdout


def objects(repo):
    """The annexed objects: {key: sha256 of the content}."""
    import hashlib
    found = {}
    for p in (repo / ".git/annex/objects").rglob("*"):
        if p.is_file():
            found[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return found


def key_hash(key):
    """The SHA256 a SHA256E key names (SHA256E-s<size>--<hash>.<ext>)."""
    return key.split("--", 1)[1].split(".", 1)[0]


def cli(args, cwd):
    exe = os.environ.get("DSET_SPLIT_CLI")
    if not exe or not pathlib.Path(exe).exists():
        pytest.fail("set DSET_SPLIT_CLI to the dset-split executable")
    return subprocess.run([exe, *map(str, args)], cwd=cwd, env=clean_env(), capture_output=True, text=True,
                          timeout=600)


def test_git_annex_locked_files_one_changed_dataset_and_a_partial_clone(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    git("annex", "init", "-q", "origin", cwd=repo)
    sh([sys.executable, EXAMPLES / "ml_pipeline.py", "run.h5", 12], repo, connector_env())
    git("annex", "add", "-q", "run.h5", "run-split", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    assert (repo / "run.h5").is_symlink() and (repo / "run-split" / FIXED / "image.h5").is_symlink()
    before = objects(repo)
    assert all(key_hash(k) == h for k, h in before.items())

    # An unmodified program changes one dataset in place, through the connector: the locked
    # files it writes are replaced by private copies first, so no annexed object changes.
    sh([sys.executable, EXAMPLES / "fix_sample.py", "run.h5", FIXED], repo, connector_env())
    after = objects(repo)
    assert after == before, "an annexed object was modified"
    assert not (repo / "run-split" / FIXED / "image.h5").is_symlink()
    sh(["git", "annex", "fsck", "-q"], repo)

    # Adding again: one new object (the changed dataset's file); the main file keeps its key.
    git("annex", "add", "-q", "run.h5", "run-split", cwd=repo)
    assert set(objects(repo)) - set(before) != set() and len(objects(repo)) == len(before) + 1
    changed = git("status", "--porcelain", cwd=repo).splitlines()
    assert [line[3:] for line in changed] == [f"run-split/{FIXED}/image.h5"], changed
    git("commit", "-q", "-m", "fix one sample", cwd=repo)

    # A fresh clone gets the main file and one dataset.
    clone = tmp_path / "clone"
    git("clone", "-q", repo, clone, cwd=tmp_path)
    git("annex", "init", "-q", "clone", cwd=clone)
    git("annex", "get", "-q", "run.h5", f"run-split/{FIXED}/image.h5", cwd=clone)
    read = ("import h5py\n"
            "f = h5py.File('run.h5', 'r')\n"
            f"print(f['{FIXED}/image'].shape)\n"
            "try:\n"
            "    f['train/sample_00004/image']\n"
            "except KeyError as e:\n"
            "    print(e)\n")
    for env in (connector_env(), clean_env()):
        p = sh([sys.executable, "-c", read], clone, env)
        assert p.stdout.splitlines()[0].startswith("("), p.stdout
    p = sh([sys.executable, "-c", read], clone, connector_env())
    assert "git annex get run-split/train/sample_00004/image.h5" in p.stdout, p.stdout
    # The command sees the same: fetched, or waiting for `git annex get`.
    p = cli(["check", "--json", "run.h5"], clone)
    assert p.returncode == 0, p.stdout + p.stderr
    report = json.loads(p.stdout)
    kinds = {f["kind"] for f in report["findings"]}
    assert kinds == {"not-materialised"} and report["problems"] == 0
    assert any("git annex get run-split/train/sample_00004/image.h5" in f["advice"] for f in report["findings"])
    p = cli(["status", "run.h5"], clone)
    assert p.returncode == 1 and "MISSING" in p.stdout
