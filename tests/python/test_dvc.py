"""DVC end to end, with DVC itself (scripts/dvc.sh installs it from PyPI), a local remote, git,
and unmodified h5py programs writing through dset_split: a changed dataset moves only its own
file, re-running a writer changes nothing, a fresh clone pulls one dataset, and writing never
modifies DVC's cache in any of its link modes.

Run by scripts/test.sh: DSET_SPLIT_DVC names the `dvc` executable, DSET_SPLIT_PLUGIN_DIR the
directory holding the built plugin; python is the h5py built against the project's HDF5.
"""
import hashlib
import json
import os
import sys

import numpy as np
import pytest

from support import EXAMPLES, clean_env, cli, connector_env, need_file, sh

SAMPLES = 12
FIXED = "train/sample_00003"


def dvc(*args, cwd):
    return sh([need_file("DSET_SPLIT_DVC"), *args], cwd).stdout


def git(*args, cwd):
    return sh(["git", *args], cwd).stdout


def write(repo):
    """The unmodified ML pipeline, writing run.h5 through the connector."""
    sh([sys.executable, EXAMPLES / "ml_pipeline.py", "run.h5", SAMPLES], repo, connector_env())


def fix_sample(repo):
    """The unmodified curation step, changing one dataset in place through the connector."""
    sh([sys.executable, EXAMPLES / "fix_sample.py", "run.h5", FIXED], repo, connector_env())


def read(repo, code, connector=True, ok=True):
    """Runs python `code` with `f` the main file opened read-only; returns the process."""
    prog = f"import h5py, numpy\nf = h5py.File('run.h5', 'r')\n{code}\n"
    return sh([sys.executable, "-c", prog], repo, connector_env() if connector else clean_env(), ok)


def status(repo):
    """`dset-split status --json run.h5`: (exit code, report)."""
    p = cli(["status", "--json", "run.h5"], repo)
    assert p.returncode in (0, 1), p.stderr
    return p.returncode, json.loads(p.stdout)


def objects(store):
    """{object path: size} of a DVC cache or local remote (content-addressed by md5)."""
    root = store / "files" / "md5"
    return {p.relative_to(root).as_posix(): p.stat().st_size for p in root.rglob("*") if p.is_file()}


def assert_store_intact(store):
    """Every object of a DVC cache or remote still has the content its name is the md5 of."""
    for name in objects(store):
        want = name.replace("/", "").removesuffix(".dir")
        got = hashlib.md5((store / "files" / "md5" / name).read_bytes()).hexdigest()
        assert got == want, f"{name} was modified: its content now hashes to {got}"


@pytest.fixture
def repo(tmp_path):
    repo, remote = tmp_path / "repo", tmp_path / "remote"
    repo.mkdir()
    git("init", "-q", ".", cwd=repo)
    dvc("init", "-q", cwd=repo)
    dvc("remote", "add", "-d", "local", remote, cwd=repo)
    git("commit", "-qm", "dvc init", cwd=repo)
    return repo


def add_commit_push(repo, *paths):
    dvc("add", "-q", *paths, cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "data", cwd=repo)
    dvc("push", "-q", cwd=repo)


def test_a_changed_dataset_moves_only_its_own_file(repo):
    write(repo)
    assert len(list((repo / "run-split").rglob("*.h5"))) == 2 * SAMPLES
    add_commit_push(repo, "run.h5", "run-split")
    remote = repo.parent / "remote"
    before = objects(remote)

    # The same writer on the same input: byte-identical files, nothing to version.
    write(repo)
    assert "up to date" in dvc("status", cwd=repo)
    assert json.loads(dvc("data", "status", "--granular", "--json", cwd=repo)) == {}

    # One dataset changed in place: DVC sees that one file (the main file did not change).
    fix_sample(repo)
    granular = json.loads(dvc("data", "status", "--granular", "--json", cwd=repo))
    assert granular == {"uncommitted": {"modified": ["run-split/", f"run-split/{FIXED}/image.h5"]}}

    # dset-split status says the same, file by file.
    rc, report = status(repo)
    assert rc == 0 and report["modified"] == 1 and report["file_dvc"] == "unchanged"
    changed = {d["path"] for d in report["datasets"] if d["dvc"] == "modified"}
    assert changed == {f"/{FIXED}/image"}
    assert all(d["dvc"] in ("modified", "unchanged") for d in report["datasets"])

    add_commit_push(repo, "run-split")
    rc, report = status(repo)
    assert report["modified"] == 0 and {d["dvc"] for d in report["datasets"]} == {"unchanged"}
    after = objects(remote)
    new = {k: v for k, v in after.items() if k not in before}
    assert set(before) <= set(after)
    # Uploaded: the changed file and the folder's new manifest, nothing else.
    manifests = [k for k in new if k.endswith(".dir")]
    data = [k for k in new if not k.endswith(".dir")]
    assert len(manifests) == 1 and len(data) == 1, new
    changed = (repo / "run-split" / FIXED / "image.h5").read_bytes()
    assert (remote / "files" / "md5" / data[0]).read_bytes() == changed
    assert sum(new.values()) < sum(before.values()) / 4, (new, sum(before.values()))
    assert_store_intact(remote)


def test_a_fresh_clone_pulls_one_dataset(repo, tmp_path):
    write(repo)
    add_commit_push(repo, "run.h5", "run-split")
    want = read(repo, f"print(f['{FIXED}/image'][()].tolist())").stdout

    clone = tmp_path / "clone"
    git("clone", "-q", repo, clone, cwd=tmp_path)
    dvc("pull", "-q", "run.h5", f"run-split/{FIXED}/image.h5", cwd=clone)
    pulled = sorted(p.relative_to(clone).as_posix() for p in clone.rglob("*.h5") if ".dvc" not in p.parts)
    assert pulled == [f"run-split/{FIXED}/image.h5", "run.h5"]

    # The main file opens, the pulled dataset reads, through the connector and without it.
    code = f"print(f['{FIXED}/image'][()].tolist())"
    assert read(clone, code).stdout == want
    assert read(clone, code, connector=False).stdout == want
    assert read(clone, "print(f['train'].attrs['count'])").stdout.strip() == str(SAMPLES)

    # A dataset that was not pulled: the error names it and the command that fetches it.
    p = read(clone, "f['train/sample_00004/image'][()]", ok=False)
    assert p.returncode != 0
    assert "dataset /train/sample_00004/image is stored in run-split/train/sample_00004/image.h5" in p.stderr
    assert "which is missing: it was not materialised" in p.stderr
    assert "dvc pull run-split/train/sample_00004/image.h5" in p.stderr

    # dset-split status tells what is there and what is not (exit code 1: something is missing).
    rc, report = status(clone)
    assert rc == 1
    assert (report["split"], report["missing"], report["inline"]) == (2 * SAMPLES, 2 * SAMPLES - 1, 0)
    states = {d["path"]: d["state"] for d in report["datasets"]}
    assert [d["dvc"] for d in report["datasets"] if "dvc" in d] == ["unchanged"]
    assert states[f"/{FIXED}/image"] == "present" and states["/train/sample_00004/image"] == "missing"
    assert {d["file"] for d in report["datasets"]} == {f"run-split{d['path']}.h5" for d in report["datasets"]}

    # Pulling it afterwards makes it readable.
    dvc("pull", "-q", "run-split/train/sample_00004/image.h5", cwd=clone)
    assert read(clone, "print(f['train/sample_00004/image'].shape)").stdout.strip() == "(28, 28)"
    dvc("pull", "-q", cwd=clone)
    rc, report = status(clone)
    assert rc == 0 and report["missing"] == 0
    sizes = {d["file"]: d["bytes"] for d in report["datasets"]}
    assert sizes == {f: (clone / f).stat().st_size for f in sizes}


def test_status_hashes_only_files_that_changed(repo):
    """status keeps the MD5s it computed in .dvc/tmp with each file's size, modification time and
    inode (as DVC's state database does), and hashes a file again only when one of those moved."""
    write(repo)
    add_commit_push(repo, "run.h5", "run-split")
    files = [repo / "run.h5", *sorted((repo / "run-split").rglob("*.h5"))]
    past = 1_700_000_000
    for f in files:  # settled files (a change within the clock's resolution would not show)
        os.utime(f, (past, past))
    rc, report = status(repo)
    assert rc == 0 and report["modified"] == 0
    cache_file = repo / ".dvc" / "tmp" / "dset-split-md5.json"
    cache = json.loads(cache_file.read_text())
    assert set(cache["files"]) == {str(f) for f in files}
    assert "dset-split-md5.json" not in git("status", "--porcelain", "--ignored=no", cwd=repo)

    # The remembered MD5 is what status uses: a (forged) different one reads as modified...
    image = repo / "run-split" / FIXED / "image.h5"
    cache["files"][str(image)]["md5"] = "0" * 32
    cache_file.write_text(json.dumps(cache))
    rc, report = status(repo)
    assert [d["path"] for d in report["datasets"] if d["dvc"] == "modified"] == [f"/{FIXED}/image"]
    # ... until the file's modification time moves: then it is hashed again.
    os.utime(image, (past + 10, past + 10))
    rc, report = status(repo)
    assert report["modified"] == 0
    assert json.loads(cache_file.read_text())["files"][str(image)]["md5"] != "0" * 32

    # A real change is seen (new size or time), and nothing goes into git.
    fix_sample(repo)
    rc, report = status(repo)
    assert [d["path"] for d in report["datasets"] if d["dvc"] == "modified"] == [f"/{FIXED}/image"]


def shared(path):
    st = os.lstat(path)
    return os.path.islink(path) or st.st_nlink > 1


@pytest.mark.parametrize("mode", ["reflink,copy", "hardlink", "symlink"])
def test_writing_never_modifies_the_cache(repo, mode):
    dvc("config", "cache.type", mode, cwd=repo)
    write(repo)
    add_commit_push(repo, "run.h5", "run-split")
    cache = repo / ".dvc" / "cache"
    target = repo / "run-split" / FIXED / "image.h5"
    linked = mode != "reflink,copy"
    assert shared(target) == linked and shared(repo / "run.h5") == linked
    original = read(repo, f"print(f['{FIXED}/image'][()].tolist())").stdout

    # Changing a dataset in place through the connector.
    fix_sample(repo)
    assert_store_intact(cache)
    assert not shared(target), "the changed file still links into the cache"
    fixed = read(repo, f"print(f['{FIXED}/image'][()].tolist())").stdout
    assert fixed != original
    assert json.loads(fixed) == (255 - np.array(json.loads(original))).tolist()
    granular = json.loads(dvc("data", "status", "--granular", "--json", cwd=repo))
    assert granular == {"uncommitted": {"modified": ["run-split/", f"run-split/{FIXED}/image.h5"]}}

    # Re-running the writer over the linked main file (H5F_ACC_TRUNC) and split files.
    write(repo)
    assert_store_intact(cache)
    assert "up to date" in dvc("status", cwd=repo)

    # Adding the change back works in each mode, and the cache stays consistent.
    fix_sample(repo)
    add_commit_push(repo, "run-split")
    assert_store_intact(cache)
    assert "up to date" in dvc("status", cwd=repo)
    assert read(repo, f"print(f['{FIXED}/image'][()].tolist())").stdout == fixed
