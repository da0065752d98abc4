"""git-annex end to end, with git-annex itself (Debian's package; scripts/annex.sh installs it) and
unmodified h5py programs writing through dset_split: annexed files are locked (read-only symbolic
links into .git/annex/objects), writing through the connector never modifies an annexed object,
a changed dataset adds one new object, and a fresh clone gets one dataset.

Run by scripts/test.sh: DSET_SPLIT_GIT_ANNEX names the `git-annex` executable, DSET_SPLIT_PLUGIN_DIR
the directory holding the built plugin, DSET_SPLIT_CLI the dset-split command.
"""
import hashlib
import json
import sys

from support import EXAMPLES, clean_env as plain_env, connector_env as with_connector, cli, need_file, sh

FIXED = "train/sample_00003"


def annex_path():
    return {"PATH": f"{need_file('DSET_SPLIT_GIT_ANNEX').parent}:{plain_env()['PATH']}"}


def clean_env():
    return plain_env(**annex_path())


def connector_env():
    return with_connector(**annex_path())


def git(*args, cwd):
    return sh(["git", *args], cwd, clean_env()).stdout


def objects(repo):
    """The annexed objects: {key: sha256 of the content}."""
    found = {}
    for p in (repo / ".git/annex/objects").rglob("*"):
        if p.is_file():
            found[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return found


def key_hash(key):
    """The SHA256 a SHA256E key names (SHA256E-s<size>--<hash>.<ext>)."""
    return key.split("--", 1)[1].split(".", 1)[0]


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
    sh(["git", "annex", "fsck", "-q"], repo, clean_env())

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
            "    f['train/sample_00004/image'][()]\n"
            "except Exception as e:\n"
            "    print(e)\n")
    for env in (connector_env(), clean_env()):
        p = sh([sys.executable, "-c", read], clone, env)
        assert p.stdout.splitlines()[0].startswith("("), p.stdout
    p = sh([sys.executable, "-c", read], clone, connector_env())
    assert "git annex get run-split/train/sample_00004/image.h5" in p.stdout, p.stdout
    # The command sees the same: fetched, or waiting for `git annex get`.
    p = cli(["check", "--json", "run.h5"], clone, clean_env())
    assert p.returncode == 0, p.stdout + p.stderr
    report = json.loads(p.stdout)
    kinds = {f["kind"] for f in report["findings"]}
    assert kinds == {"not-materialised"} and report["problems"] == 0
    assert any("git annex get run-split/train/sample_00004/image.h5" in f["advice"] for f in report["findings"])
    p = cli(["status", "run.h5"], clone, clean_env())
    assert p.returncode == 1 and "MISSING" in p.stdout
