"""`dset-split pack --split-dirs`: each folder at a depth packed on its own into the main pack's
split folder (`<stem>-split/<folder>.h5`), linked from the main pack, so that DVC moves only the
pack of a folder that changed. Real packs, unpack, real FUSE mounts, h5py's wheel, real DVC.

Run by scripts/test.sh on both HDF5 series.
"""
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import textwrap
import time

import pytest

from support import clean_env, cli, need_file, sh
from test_dvc import dvc, git, objects, repo  # noqa: F401 (repo: the fixture)
from test_pack_image import damage_image, uses_hdf5
from test_pack_mount import ODD, make_tree, mounted, pack, snapshot

# A top-level folder whose name is not UTF-8: its pack's name is escaped by the split layout.
ODD_DIR = b"d\xe9j\xe0 vu"
ODD_PART = "d%E9j%E0 vu.h5"


def hashes(root):
    """{path below root: sha256} of every file below `root`."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def split_tree(root):
    """make_tree's folder plus a top-level folder with an odd name holding a file and a folder."""
    make_tree(root)
    odd = os.path.join(os.fsencode(root), ODD_DIR)
    os.makedirs(os.path.join(odd, b"sub"))
    with open(os.path.join(odd, b"sub", ODD), "wb") as f:
        f.write(b"odd in odd")
    return root


def unlinked(snap):
    """A snapshot with every file's link count taken out (a file with names in two packs
    unpacks as two files)."""
    return {k: v[:6] + v[7:] if len(v) == 8 else v for k, v in snap.items()}


def test_split_dirs_pack_unpacks_and_mounts_as_the_same_tree(tmp_path):
    src = split_tree(tmp_path / "src")
    p = pack(src, tmp_path / "p.h5", "--split-dirs", "--json")
    s = json.loads(p.stdout)
    assert s["parts"] == 3 and s["files"] == 28 and s["hard_links"] == 0 and s["dirs"] == 7, s
    # imgs/cats/002.jpg and also-002.jpg are one file with names in two packs.
    assert "also-002.jpg and imgs/cats/002.jpg are one file (hard links) in two packs" in p.stderr, p.stderr
    split = tmp_path / "p-split"
    assert sorted(os.listdir(split)) == sorted([".dset-split", ODD_PART, "empty.h5", "imgs.h5"])
    assert (split / ".dset-split").read_text().strip() == "p.h5"
    # The main pack holds what is above the folders (9 MiB are in imgs.h5).
    assert (tmp_path / "p.h5").stat().st_size < 1 << 20
    assert cli(["unpack", tmp_path / "p.h5", tmp_path / "out"], tmp_path).returncode == 0
    assert unlinked(snapshot(tmp_path / "out")) == unlinked(snapshot(src))
    sh(["diff", "-r", "--no-dereference", src, tmp_path / "out"], tmp_path)
    with mounted(tmp_path / "p.h5", tmp_path / "mnt") as m:
        # Served from the images (the main pack's and each folder's), without HDF5.
        assert not uses_hdf5(m)
        assert snapshot(m) == snapshot(tmp_path / "out")
        # Every node its own inode; a folder's pack's root has the main pack's folder above it.
        entries = [os.path.join(d, n) for d, ds, fs in os.walk(m) for n in ds + fs]
        inodes = {os.lstat(e).st_ino for e in entries} | {os.stat(m).st_ino}
        assert len(inodes) == len(entries) + 1
        assert os.stat(m / "imgs" / "..").st_ino == os.stat(m).st_ino
        assert os.stat(m / "imgs" / "cats" / ".." / "..").st_ino == os.stat(m).st_ino
        assert os.statvfs(m).f_files == len(inodes)
    # Each folder's pack is a pack of its own: it unpacks and mounts alone.
    assert cli(["unpack", split / "imgs.h5", tmp_path / "imgs"], tmp_path).returncode == 0
    assert hashes(tmp_path / "imgs") == hashes(src / "imgs")
    with mounted(split / "imgs.h5", tmp_path / "mnt") as m:
        assert hashes(m) == hashes(src / "imgs")


def test_the_same_tree_packs_to_the_same_bytes_with_split_dirs(tmp_path):
    src = split_tree(tmp_path / "src")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    pack(src, tmp_path / "a" / "p.h5", "--split-dirs")
    pack(src, tmp_path / "b" / "p.h5", "--split-dirs")
    assert hashes(tmp_path / "a") == hashes(tmp_path / "b")


def test_a_split_pack_is_plain_hdf5_after_the_tree_is_moved(tmp_path):
    src = split_tree(tmp_path / "src")
    (tmp_path / "data").mkdir()
    pack(src, tmp_path / "data" / "p.h5", "--split-dirs", "2")
    assert sorted(os.listdir(tmp_path / "data" / "p-split" / "imgs")) == ["cats.h5"]
    shutil.move(tmp_path / "data", tmp_path / "moved")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = textwrap.dedent("""
        import h5py, sys
        with h5py.File(sys.argv[1], 'r') as f:
            link = f.get('imgs/cats', getlink=True)
            assert isinstance(link, h5py.ExternalLink) and link.filename == 'p-split/imgs/cats.h5', link
            assert link.path == '/'
            sys.stdout.buffer.write(f['imgs/cats/005.jpg'][()].tobytes())
    """)
    p = subprocess.run([need_file("DSET_SPLIT_WHEEL_PYTHON"), "-c", code, tmp_path / "moved" / "p.h5"],
                       capture_output=True, env=clean_env(), cwd=elsewhere, timeout=300)
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout == (src / "imgs" / "cats" / "005.jpg").read_bytes()
    assert cli(["unpack", tmp_path / "moved" / "p.h5", tmp_path / "out"], elsewhere).returncode == 0
    assert unlinked(snapshot(tmp_path / "out")) == unlinked(snapshot(src))


def test_update_rewrites_only_the_packs_of_changed_folders(tmp_path):
    src = tmp_path / "src"
    for d in "abc":
        (src / d / "deep").mkdir(parents=True)
        for i in range(5):
            (src / d / "deep" / f"{i}.bin").write_bytes(os.urandom(3000 + i))
    (src / "top.txt").write_text("top")
    o = tmp_path / "o"
    o.mkdir()
    out = o / "p.h5"
    pack(src, out, "--split-dirs")
    first = hashes(o)
    # Nothing changed: no pack is written, the main one neither (byte for byte, times too).
    times = {p: p.stat().st_mtime_ns for p in o.rglob("*.h5")}
    s = json.loads(pack(src, out, "--update", "--json").stdout)
    assert (s["parts"], s["parts_unchanged"], s["bytes_written"], s["unchanged"]) == (3, 3, 0, 16), s
    assert hashes(o) == first
    assert {p: p.stat().st_mtime_ns for p in o.rglob("*.h5")} == times
    # One file of b changed: only b's pack is new; --update keeps the depth it was made with.
    (src / "b" / "deep" / "2.bin").write_bytes(os.urandom(3002))
    s = json.loads(pack(src, out, "--update", "--json").stdout)
    assert (s["parts_unchanged"], s["bytes_written"]) == (2, 3002), s
    now = hashes(o)
    changed = {k for k in now if now[k] != first.get(k)}
    assert changed == {"p-split/b.h5"}, changed
    # A new folder, a folder gone: its pack is made, the old one removed; the main pack changes.
    (src / "d").mkdir()
    (src / "d" / "x").write_text("x")
    shutil.rmtree(src / "a")
    s = json.loads(pack(src, out, "--update", "--json").stdout)
    assert (s["parts"], s["parts_unchanged"], s["parts_removed"]) == (3, 2, 1), s
    assert sorted(os.listdir(o / "p-split")) == [".dset-split", "b.h5", "c.h5", "d.h5"]
    assert cli(["unpack", out, tmp_path / "out"], tmp_path).returncode == 0
    assert snapshot(tmp_path / "out") == snapshot(src)
    # --checksum: the same bytes everywhere, so nothing is written either.
    before = hashes(o)
    s = json.loads(pack(src, out, "--update", "--checksum", "--json").stdout)
    assert s["parts_unchanged"] == 3 and hashes(o) == before, s
    # Packed again as one file (--force, no --split-dirs): the split folder goes.
    pack(src, out, "--force")
    assert os.listdir(o) == ["p.h5"]
    shutil.rmtree(tmp_path / "out")
    assert cli(["unpack", out, tmp_path / "out"], tmp_path).returncode == 0
    assert snapshot(tmp_path / "out") == snapshot(src)


def test_a_split_folder_not_provably_ours_is_refused_and_nothing_is_left(tmp_path):
    src = split_tree(tmp_path / "src")
    split = tmp_path / "p-split"
    # Another main file's split folder.
    split.mkdir()
    (split / ".dset-split").write_text("p.nc\n")
    p = pack(src, tmp_path / "p.h5", "--split-dirs", ok=False)
    assert p.returncode == 2 and "belongs to p.nc" in p.stderr, p.stderr
    assert sorted(os.listdir(tmp_path)) == ["p-split", "src"] and os.listdir(split) == [".dset-split"]
    # A folder dset-split did not make, holding a file the first pack would be named like.
    (split / ".dset-split").unlink()
    (split / "imgs.h5").write_text("the user's own")
    p = pack(src, tmp_path / "p.h5", "--split-dirs", ok=False)
    assert p.returncode == 2 and "not made by dset-split, and it is not empty" in p.stderr, p.stderr
    assert os.listdir(split) == ["imgs.h5"] and (split / "imgs.h5").read_text() == "the user's own"
    # A symbolic link to a folder elsewhere: never written through.
    shutil.rmtree(split)
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", split)
    p = pack(src, tmp_path / "p.h5", "--split-dirs", ok=False)
    assert p.returncode == 2 and "symbolic link" in p.stderr, p.stderr
    assert os.listdir(tmp_path / "elsewhere") == [] and not (tmp_path / "p.h5").exists()
    # Ours, but a folder's pack cannot be made (a file where its directory goes): nothing this
    # run made stays, what was there does.
    os.remove(split)
    split.mkdir()
    (split / ".dset-split").write_text("p.h5\n")
    (split / "imgs").write_text("in the way")
    p = pack(src, tmp_path / "p.h5", "--split-dirs", "2", ok=False)
    assert p.returncode == 2 and "p-split/imgs is not a directory" in p.stderr, p.stderr
    assert sorted(os.listdir(split)) == [".dset-split", "imgs"]
    assert sorted(os.listdir(tmp_path)) == ["elsewhere", "p-split", "src"]
    # Packing the split folder itself into packs written there is refused.
    shutil.rmtree(split)
    pack(src, tmp_path / "p.h5", "--split-dirs")
    p = pack(split, tmp_path / "p.h5", "--split-dirs", "--force", ok=False)
    assert p.returncode == 2 and "inside the output's split folder" in p.stderr, p.stderr


def test_an_interrupt_leaves_no_split_folder_behind(tmp_path):
    src = tmp_path / "src"
    for d in "abcd":
        (src / d).mkdir(parents=True)
        for i in range(2):
            with open(src / d / f"big{i}", "wb") as f:
                f.truncate(256 << 20)  # sparse: quick to make, slow enough to copy
    for sig in (signal.SIGINT, signal.SIGTERM):
        p = subprocess.Popen([need_file("DSET_SPLIT_CLI"), "pack", src, "-o", tmp_path / "p.h5", "--split-dirs"],
                             env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Once the first folder's pack is being written (three more to go).
        deadline = time.time() + 60
        while not list((tmp_path / "p-split").glob(".a.h5.packing-*")) and time.time() < deadline:
            time.sleep(0.01)
        p.send_signal(sig)
        assert p.wait(timeout=60) == 130, p.stderr.read()
        assert sorted(os.listdir(tmp_path)) == ["src"]


def test_a_missing_folder_pack_is_named_with_the_command_that_fetches_it(tmp_path):
    src = split_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5", "--split-dirs")
    os.remove(tmp_path / "p-split" / "imgs.h5")
    p = cli(["unpack", tmp_path / "p.h5", tmp_path / "out"], tmp_path)
    assert p.returncode == 2 and "p-split/imgs.h5 is missing" in p.stderr and "dvc pull" in p.stderr, p.stderr
    log = tmp_path / "mount.log"
    with mounted(tmp_path / "p.h5", tmp_path / "mnt", "--log", log) as m:
        # Read through HDF5 instead of from the images (one is missing), which shows it as such.
        assert uses_hdf5(m)
        assert (m / "run.sh").read_bytes() == (src / "run.sh").read_bytes()
        assert (m / "empty" / "deeper").is_dir()
        with pytest.raises(OSError) as e:
            (m / "imgs").read_bytes()
        assert e.value.errno == 5  # EIO
    assert "imgs.h5 is missing" in log.read_text() and "dvc pull" in log.read_text(), log.read_text()
    # status and check say so too.
    p = cli(["status", "--json", tmp_path / "p.h5"], tmp_path)
    assert p.returncode == 1 and json.loads(p.stdout)["missing"] == 1, p.stdout
    p = cli(["check", tmp_path / "p.h5"], tmp_path)
    assert p.returncode == 0 and "not materialised: fetch it with `dvc pull" in p.stdout, p.stdout
    assert "p-split/imgs.h5" in p.stdout, p.stdout


def test_a_folder_pack_rewritten_while_mounted_gives_eio(tmp_path):
    """`cp` ignores locks: a folder's pack overwritten under the mount makes the server answer
    EIO for what is in it (its size and time no longer as sealed), never the new bytes; the
    folder itself too, and a listing of the folder holding it (what the kernel has not cached
    yet: answers are kept for long, the tree being read-only)."""
    src = split_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5", "--split-dirs", "2")
    (tmp_path / "other").mkdir()
    pack(src / "empty", tmp_path / "other" / "o.h5")
    log = tmp_path / "mount.log"
    with mounted(tmp_path / "p.h5", tmp_path / "mnt", "--log", log) as m:
        assert not uses_hdf5(m)
        assert (m / "imgs" / "cats" / "003.jpg").read_bytes() == (src / "imgs" / "cats" / "003.jpg").read_bytes()
        for part in ["imgs/cats.h5", "empty/deeper.h5"]:
            sh(["cp", tmp_path / "other" / "o.h5", tmp_path / "p-split" / part], tmp_path)
        for attempt in [lambda: (m / "imgs" / "cats" / "004.jpg").read_bytes(),
                        lambda: os.stat(m / "empty" / "deeper"), lambda: os.listdir(m / "empty")]:
            with pytest.raises(OSError) as e:
                attempt()
            assert e.value.errno == 5  # EIO
    assert "the pack was changed while mounted" in log.read_text(), log.read_text()


def test_a_split_pack_mounts_through_hdf5_whenever_the_server_cannot_serve_it(tmp_path):
    """A damaged main image, a named pipe where a folder's pack goes, a split folder that is a
    symbolic link: the server hands the mount over (by the pack's name, so HDF5 finds the
    folders' packs), never waits or reads elsewhere; the mount shows what unpack does."""
    src = split_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5", "--split-dirs")
    damage_image(tmp_path / "p.h5")
    log = tmp_path / "mount.log"
    with mounted(tmp_path / "p.h5", tmp_path / "mnt", "--log", log) as m:
        assert uses_hdf5(m)
        assert unlinked(snapshot(m)) == unlinked(snapshot(src))
    assert "tree image is damaged" in log.read_text(), log.read_text()
    # A named pipe instead of a folder's pack: no wait for a writer.
    pack(src, tmp_path / "p.h5", "--force", "--split-dirs")
    os.rename(tmp_path / "p-split" / "empty.h5", tmp_path / "empty.h5")
    os.mkfifo(tmp_path / "p-split" / "empty.h5")
    with mounted(tmp_path / "p.h5", tmp_path / "mnt") as m:
        p = subprocess.run(["ls", m / "imgs"], capture_output=True, timeout=60)
        assert p.returncode == 0 and uses_hdf5(m)
        with pytest.raises(OSError):
            os.listdir(m / "empty")
    os.remove(tmp_path / "p-split" / "empty.h5")
    os.rename(tmp_path / "empty.h5", tmp_path / "p-split" / "empty.h5")
    # The split folder a symbolic link to another folder: as unpack, no pack is read through it.
    (tmp_path / "elsewhere").mkdir()
    os.rename(tmp_path / "p-split", tmp_path / "elsewhere" / "p-split")
    os.symlink("elsewhere/p-split", tmp_path / "p-split")
    p = cli(["unpack", tmp_path / "p.h5", tmp_path / "out"], tmp_path)
    assert p.returncode == 2 and "symbolic link" in p.stderr, p.stderr
    with mounted(tmp_path / "p.h5", tmp_path / "mnt") as m:
        assert uses_hdf5(m)
        with pytest.raises(OSError) as e:
            (m / "imgs").read_bytes()
        assert e.value.errno == 5


def test_a_split_pack_of_more_folders_than_the_open_files_limit_is_served(tmp_path):
    """The server keeps a descriptor per folder's pack: it raises its limit of open files."""
    src = tmp_path / "src"
    for i in range(80):
        (src / f"d{i:02}").mkdir(parents=True)
        (src / f"d{i:02}" / "x").write_text(str(i))
    pack(src, tmp_path / "p.h5", "--split-dirs")
    (tmp_path / "mnt").mkdir()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    p = subprocess.run([need_file("DSET_SPLIT_CLI"), "mount", tmp_path / "p.h5", tmp_path / "mnt"], env=clean_env(),
                       capture_output=True, text=True, timeout=60,
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard)))
    assert p.returncode == 0, p.stderr
    try:
        assert not uses_hdf5(tmp_path / "mnt")
        assert (tmp_path / "mnt" / "d79" / "x").read_text() == "79"
    finally:
        sh([need_file("DSET_SPLIT_FUSERMOUNT"), "-u", tmp_path / "mnt"], tmp_path)


def test_gc_and_status_know_the_folder_packs(tmp_path):
    src = split_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5", "--split-dirs")
    orphan = tmp_path / "p-split" / "gone.h5"
    shutil.copy(tmp_path / "p-split" / "empty.h5", orphan)
    p = cli(["gc", "--json", tmp_path / "p.h5"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["orphans"] == ["p-split/gone.h5"]
    assert sorted(os.listdir(tmp_path / "p-split")) == sorted([".dset-split", ODD_PART, "empty.h5", "imgs.h5"])
    p = cli(["status", "--json", tmp_path / "p.h5"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["external"] == 3


def test_dvc_moves_only_the_pack_of_the_folder_that_changed(repo, tmp_path):
    remote = repo.parent / "remote"
    src = repo / "images"
    for cls in ["cats", "dogs", "birds"]:
        (src / cls).mkdir(parents=True)
        for i in range(20):
            (src / cls / f"{i:03}.png").write_bytes(os.urandom(5000))
    (repo / ".gitignore").write_text("/images\n")

    def add_commit_push():
        dvc("add", "-q", "data.h5", "data-split", cwd=repo)
        git("add", "-A", cwd=repo)
        git("commit", "-qm", "data", cwd=repo)
        dvc("push", "-q", cwd=repo)

    pack(src, repo / "data.h5", "--split-dirs")
    add_commit_push()
    before = set(objects(remote))
    # Nothing changed: nothing to version.
    pack(src, repo / "data.h5", "--update")
    assert json.loads(dvc("data", "status", "--granular", "--json", cwd=repo)) == {}
    # One image changed: DVC sees that folder's pack, and uploads it and the folder's manifest.
    (src / "dogs" / "007.png").write_bytes(os.urandom(5000))
    pack(src, repo / "data.h5", "--update")
    granular = json.loads(dvc("data", "status", "--granular", "--json", cwd=repo))
    assert granular == {"uncommitted": {"modified": ["data-split/", "data-split/dogs.h5"]}}, granular
    # dset-split status says the same.
    report = json.loads(cli(["status", "--json", "data.h5"], repo).stdout)
    assert report["modified"] == 1 and report["file_dvc"] == "unchanged", report
    assert {d["path"]: d.get("dvc") for d in report["datasets"]} == {
        "/birds": "unchanged", "/cats": "unchanged", "/dogs": "modified"}, report
    add_commit_push()
    new = set(objects(remote)) - before
    assert len(new) == 2 and len([o for o in new if o.endswith(".dir")]) == 1, new

    # A fresh clone pulls the main pack and one folder's: that folder reads, the others say
    # what to pull.
    clone = tmp_path / "clone"
    git("clone", "-q", repo, clone, cwd=tmp_path)
    dvc("pull", "-q", "data.h5", "data-split/cats.h5", cwd=clone)
    with mounted(clone / "data.h5", tmp_path / "mnt") as m:
        assert hashes(m / "cats") == hashes(src / "cats")
        with pytest.raises(OSError):
            (m / "dogs").read_bytes()
    p = cli(["unpack", clone / "data.h5", tmp_path / "out"], clone)
    assert p.returncode == 2 and "dvc pull" in p.stderr and "data-split/birds.h5 is missing" in p.stderr, p.stderr
    # Nothing half-unpacked stays.
    assert not (tmp_path / "out").exists()


def test_long_folder_names_a_renamed_pack_and_a_folder_in_the_way(tmp_path):
    src = tmp_path / "src"
    long = "L" + "o" * 240  # the split layout shortens its pack's name to 240 bytes, with a hash
    for d in [long, "b", "c"]:
        (src / d).mkdir(parents=True)
        (src / d / "x").write_text(d)
    pack(src, tmp_path / "p.h5", "--split-dirs")
    names = os.listdir(tmp_path / "p-split")
    assert len(names) == 4 and max(len(n) for n in names) == 240, names
    # Renamed (and its split folder copied): the links still name p-split/, which unpack follows.
    os.rename(tmp_path / "p.h5", tmp_path / "q.h5")
    assert cli(["unpack", tmp_path / "q.h5", tmp_path / "out"], tmp_path).returncode == 0
    assert snapshot(tmp_path / "out") == snapshot(src)
    os.rename(tmp_path / "q.h5", tmp_path / "p.h5")
    # A folder where one pack goes: refused before any pack is replaced.
    before = hashes(tmp_path / "p-split")
    os.remove(tmp_path / "p-split" / "c.h5")
    (tmp_path / "p-split" / "c.h5").mkdir()
    (src / "b" / "new").write_text("new")
    p = pack(src, tmp_path / "p.h5", "--update", ok=False)
    assert p.returncode == 2 and "c.h5 is a folder" in p.stderr, p.stderr
    del before["c.h5"]
    assert hashes(tmp_path / "p-split") == before
    # A dangling symbolic link there (a DVC cache entry not fetched): replaced by a new pack.
    (tmp_path / "p-split" / "c.h5").rmdir()
    os.symlink("../cache/not-fetched", tmp_path / "p-split" / "c.h5")
    pack(src, tmp_path / "p.h5", "--update")
    assert (tmp_path / "p-split" / "c.h5").is_file() and not (tmp_path / "p-split" / "c.h5").is_symlink()
    assert not (tmp_path / "cache").exists()
    shutil.rmtree(tmp_path / "out")
    assert cli(["unpack", tmp_path / "p.h5", tmp_path / "out"], tmp_path).returncode == 0
    assert snapshot(tmp_path / "out") == snapshot(src)


def test_work_files_of_a_killed_run_are_removed(tmp_path):
    src = split_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5", "--split-dirs")
    split = tmp_path / "p-split"
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = split / f".imgs.h5.packing-{dead.pid}-123"
    stale.write_bytes(b"half a pack")
    live = split / f".imgs.h5.packing-{os.getpid()}-456"
    live.write_bytes(b"being written")
    p = cli(["gc", "--json", tmp_path / "p.h5"], tmp_path)
    assert p.returncode == 0 and json.loads(p.stdout)["orphans"] == [f"p-split/{stale.name}"], p.stdout
    assert not stale.exists() and live.exists()
    # The next pack removes them as well.
    stale.write_bytes(b"half a pack")
    pack(src, tmp_path / "p.h5", "--update")
    assert not stale.exists() and live.exists()
