"""`dset-split pack`, `unpack` and `mount` (issue 12), end to end: real folders with every kind
of entry, the real command, real FUSE mounts (root and /dev/fuse; `fusermount3` from Debian's
fuse3, which scripts/test.sh installs), h5py's wheel and h5dump reading packs as plain HDF5.

Run by scripts/test.sh on both HDF5 series.
"""
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from support import clean_env, cli, connector_env, need_file, sh

ODD = b"caf\xc3\xa9 \xff\xfe raw"  # a name that is not UTF-8


def make_tree(root):
    """A folder with every kind of entry a pack keeps."""
    root.mkdir()
    os.makedirs(root / "imgs" / "cats")
    os.makedirs(root / "empty" / "deeper")
    rng = np.random.default_rng(7)
    for i in range(20):
        (root / "imgs" / "cats" / f"{i:03}.jpg").write_bytes(rng.bytes(int(rng.integers(1, 60000))))
    (root / "imgs" / "big.bin").write_bytes(rng.bytes(9 << 20))  # more than one 4 MiB piece
    (root / "zero").write_bytes(b"")
    (root / "run.sh").write_text("#!/bin/sh\necho hi\n")
    os.chmod(root / "run.sh", 0o755)
    (root / "secret").write_text("s")
    os.chmod(root / "secret", 0o600)
    (root / "readonly").write_text("r")
    os.chmod(root / "readonly", 0o444)
    os.chmod(root / "empty" / "deeper", 0o700)
    (root / os.fsdecode(ODD)).write_bytes(b"odd name")
    os.symlink("imgs/cats/001.jpg", root / "first")
    os.symlink("/etc/passwd", root / "outside")
    os.symlink("missing-target", root / "dangling")
    os.link(root / "imgs" / "cats" / "002.jpg", root / "also-002.jpg")
    if os.geteuid() == 0:
        os.chown(root / "secret", 1234, 5678)
        os.lchown(root / "first", 4321, 8765)
    os.utime(root / "imgs" / "cats" / "000.jpg", ns=(1, 946_684_800_123_456_789))
    os.utime(root / "run.sh", ns=(1, -86_400_000_000_000))  # before 1970
    os.utime(root / "first", ns=(1, 1_000_000_000_000_000_000), follow_symlinks=False)
    return root


def snapshot(root):
    """Everything a pack keeps of a folder: per path, type, mode, owner, time, size, link count,
    link target and a hash of the contents."""
    out = {}
    for dirpath, dirs, files in os.walk(os.fsencode(root)):
        for name in dirs + files + ([b"."] if dirpath == os.fsencode(root) else []):
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, os.fsencode(root))
            entry = [stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_mtime_ns]
            if stat.S_ISLNK(st.st_mode):
                entry.append(os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                entry += [st.st_size, st.st_nlink, hashlib.sha256(open(p, "rb").read()).hexdigest()]
            else:
                entry.append(st.st_nlink)
            out[rel] = entry
    return out


def pack(src, out, *extra, ok=True):
    p = cli(["pack", src, "-o", out, *extra], src.parent)
    if ok:
        assert p.returncode == 0, p.stderr
    return p


def test_pack_then_unpack_gives_the_same_tree(tmp_path):
    src = make_tree(tmp_path / "src")
    before = snapshot(src)
    p = pack(src, tmp_path / "p.h5", "--json")
    summary = json.loads(p.stdout)
    assert summary["files"] == 26 and summary["symlinks"] == 3 and summary["hard_links"] == 1, summary
    assert summary["dirs"] == 5
    u = cli(["unpack", tmp_path / "p.h5", tmp_path / "out"], tmp_path)
    assert u.returncode == 0, u.stderr
    assert snapshot(tmp_path / "out") == before
    sh(["diff", "-r", "--no-dereference", src, tmp_path / "out"], tmp_path)
    # Nothing was written into the source or next to the pack but the pack.
    assert snapshot(src) == before
    assert sorted(os.listdir(tmp_path)) == ["out", "p.h5", "src"]


def test_the_same_tree_packs_to_the_same_bytes(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "a.h5")
    pack(src, tmp_path / "b.h5")
    assert (tmp_path / "a.h5").read_bytes() == (tmp_path / "b.h5").read_bytes()


def test_a_pack_is_plain_hdf5_for_h5py_and_h5dump(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    wheel = need_file("DSET_SPLIT_WHEEL_PYTHON")
    code = textwrap.dedent("""
        import h5py, sys, numpy as np
        with h5py.File(sys.argv[1], 'r') as f:
            d = f['imgs/cats/005.jpg']
            assert d.dtype == np.uint8 and d.ndim == 1 and d.chunks is None and d.compression is None
            sys.stdout.buffer.write(d[()].tobytes())
            st = d.attrs['stat']
            assert st['mode'] & 0o777 == 0o644, st
            assert f.get('first', getlink=True).path == 'imgs/cats/001.jpg'
            assert f['also-002.jpg'].id == f['imgs/cats/002.jpg'].id
    """)
    p = subprocess.run([wheel, "-c", code, tmp_path / "p.h5"], capture_output=True, env=clean_env(), timeout=300)
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout == (src / "imgs" / "cats" / "005.jpg").read_bytes()
    tools = os.environ.get("DSET_SPLIT_TOOLS_PREFIX")
    if tools:
        d = subprocess.run([os.path.join(tools, "bin", "h5dump"), "-H", tmp_path / "p.h5"], capture_output=True,
                           env=clean_env(), timeout=300)
        assert d.returncode == 0, d.stderr
        assert b'DATASET "005.jpg"' in d.stdout and b"H5T_STD_U8LE" in d.stdout


def test_compressed_packs_unpack_and_mount_the_same(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "z.h5", "--compress")
    pack(src, tmp_path / "p.h5")
    assert (tmp_path / "z.h5").stat().st_size < (tmp_path / "p.h5").stat().st_size * 1.01
    assert cli(["unpack", tmp_path / "z.h5", tmp_path / "out"], tmp_path).returncode == 0
    assert snapshot(tmp_path / "out") == snapshot(src)
    with mounted(tmp_path / "z.h5", tmp_path / "mnt") as m:
        assert snapshot(m) == snapshot(src)


def test_include_and_exclude(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5", "--include", "*.jpg", "--exclude", "imgs/cats/01*")
    cli(["unpack", tmp_path / "p.h5", tmp_path / "out"], tmp_path)
    got = sorted(os.fsdecode(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*"))
    assert got == ["also-002.jpg", "imgs", "imgs/cats"] + [f"imgs/cats/{i:03}.jpg" for i in range(10)]


def test_update_rewrites_only_what_changed(tmp_path):
    src = make_tree(tmp_path / "src")
    out = tmp_path / "p.h5"
    pack(src, out)
    size_before = os.path.getsize(out)
    p = pack(src, out, "--update", "--json")
    s = json.loads(p.stdout)
    assert s["bytes_written"] == 0 and s["unchanged"] == 26 and s["removed"] == 0, s
    assert os.path.getsize(out) < size_before + (64 << 10)  # a new index; no file's bytes again
    # Changed contents (same size, new time), a new file, a removed file, a new link target,
    # a file that became a folder, and new modes.
    f = src / "imgs" / "cats" / "003.jpg"
    data = bytearray(f.read_bytes())
    data[0] ^= 0xFF
    f.write_bytes(bytes(data))
    (src / "imgs" / "new.txt").write_text("new")
    os.remove(src / "imgs" / "cats" / "004.jpg")
    os.remove(src / "first")
    os.symlink("imgs/cats/000.jpg", src / "first")
    os.remove(src / "zero")
    os.mkdir(src / "zero")
    os.chmod(src / "secret", 0o640)
    s = json.loads(pack(src, out, "--update", "--json").stdout)
    assert s["bytes_written"] == len(data) + 3, s
    assert s["removed"] == 1, s
    cli(["unpack", out, tmp_path / "out"], tmp_path)
    assert snapshot(tmp_path / "out") == snapshot(src)
    # Same size and time, other bytes: only --checksum sees it.
    st = f.stat()
    data[1] ^= 0xFF
    f.write_bytes(bytes(data))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert json.loads(pack(src, out, "--update", "--json").stdout)["bytes_written"] == 0
    assert json.loads(pack(src, out, "--update", "--checksum", "--json").stdout)["bytes_written"] == len(data)
    with mounted(out, tmp_path / "mnt") as m:
        assert snapshot(m) == snapshot(src)


def test_pack_refuses_to_overwrite_and_leaves_nothing_on_error(tmp_path):
    src = make_tree(tmp_path / "src")
    (tmp_path / "p.h5").write_bytes(b"precious")
    p = pack(src, tmp_path / "p.h5", ok=False)
    assert p.returncode == 2 and "exists; use --update" in p.stderr
    assert (tmp_path / "p.h5").read_bytes() == b"precious"
    p = pack(src, tmp_path / "p.h5", "--update", ok=False)
    assert p.returncode == 2 and "cannot open" in p.stderr
    # --update never writes through a link (a cache copy would change with it): the link is
    # replaced by the updated pack.
    pack(src, tmp_path / "real.h5")
    os.symlink("real.h5", tmp_path / "sym.h5")
    os.link(tmp_path / "real.h5", tmp_path / "hard.h5")
    before = (tmp_path / "real.h5").read_bytes()
    (src / "zero").write_text("changed")
    for link in ["sym.h5", "hard.h5"]:
        p = pack(src, tmp_path / link, "--update")
        assert not (tmp_path / link).is_symlink() and (tmp_path / link).stat().st_nlink == 1
        assert cli(["unpack", tmp_path / link, tmp_path / "u"], tmp_path).returncode == 0
        assert (tmp_path / "u" / "zero").read_text() == "changed"
        sh(["rm", "-rf", tmp_path / "u"], tmp_path)
    assert (tmp_path / "real.h5").read_bytes() == before
    (src / "zero").write_text("")
    for name in ["sym.h5", "hard.h5", "real.h5"]:
        os.remove(tmp_path / name)
    # An unreadable file fails the pack (as a non-root user would see it; root reads anything,
    # so a FIFO replaced for a file stands in): no half-made pack stays.
    os.chmod(src / "secret", 0o000)
    if os.geteuid() == 0:
        os.remove(src / "secret")
        os.mkfifo(src / "secret")
    p = pack(src, tmp_path / "q.h5")
    assert "skipped" in p.stderr and "secret" in p.stderr
    assert sorted(os.listdir(tmp_path)) == ["p.h5", "q.h5", "src"]


def test_unpack_refuses_what_it_cannot_do_safely(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep")
    p = cli(["unpack", tmp_path / "p.h5", tmp_path / "full"], tmp_path)
    assert p.returncode == 2 and "is not empty" in p.stderr
    assert os.listdir(tmp_path / "full") == ["x"]
    sh([sys.executable, "-c", "import h5py; h5py.File('plain.h5', 'w')['x'] = [1]"], tmp_path)
    p = cli(["unpack", tmp_path / "plain.h5", tmp_path / "o"], tmp_path)
    assert p.returncode == 2 and "is not a pack" in p.stderr
    # A pack edited to hold a name that would climb out of the folder.
    sh([sys.executable, "-c", "import h5py; f = h5py.File('p.h5', 'a'); f['..'] = f['zero']"], tmp_path)
    p = cli(["unpack", tmp_path / "p.h5", tmp_path / "o2"], tmp_path)
    assert p.returncode == 2 and "a name no folder can" in p.stderr
    assert not (tmp_path / "zero").exists()


# --- mount ---------------------------------------------------------------------------------


def is_mounted(path):
    path = os.path.realpath(path)
    with open("/proc/self/mounts") as f:
        return any(line.split()[1] == path for line in f)


def fusermount():
    return need_file("DSET_SPLIT_FUSERMOUNT")


class mounted:
    """`dset-split mount FILE DIR` (in the background) for a `with` block, unmounted with
    fusermount3 -u afterwards; the block gets DIR."""

    def __init__(self, file, mnt, *extra):
        self.file, self.mnt, self.extra = file, mnt, extra

    def __enter__(self):
        self.mnt.mkdir(exist_ok=True)
        p = cli(["mount", self.file, self.mnt, *self.extra], self.mnt.parent)
        assert p.returncode == 0, p.stderr
        assert is_mounted(self.mnt)
        self.stderr = p.stderr
        return self.mnt

    def __exit__(self, *exc):
        sh([fusermount(), "-u", self.mnt], self.mnt.parent)
        deadline = time.time() + 10
        while is_mounted(self.mnt) and time.time() < deadline:
            time.sleep(0.05)
        assert not is_mounted(self.mnt)


def test_mount_shows_the_packed_tree_and_an_imagefolder_reader_gets_the_same_bytes(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    with mounted(tmp_path / "p.h5", tmp_path / "mnt") as m:
        assert snapshot(m) == snapshot(src)
        sh(["diff", "-r", "--no-dereference", src, m], tmp_path)
        # As torchvision's ImageFolder does: walk, sort the classes, read every file.
        def image_folder(root):
            got = {}
            for dirpath, dirs, files in os.walk(root):
                dirs.sort()
                for name in sorted(files):
                    p = os.path.join(dirpath, name)
                    if not os.path.isfile(p):
                        continue  # a dangling link
                    with open(p, "rb") as f:
                        got[os.path.relpath(p, root)] = f.read()
            return got
        assert image_folder(m) == image_folder(src)
        # The mount is read-only.
        with pytest.raises(OSError):
            open(m / "zero", "w")
        with pytest.raises(OSError):
            (m / "newdir").mkdir()


def write_general(path, python=sys.executable, env=None):
    code = textwrap.dedent("""
        import h5py, numpy as np, sys
        with h5py.File(sys.argv[1], 'w') as f:
            f.attrs['title'] = 'general file'
            f.create_dataset('grid/temp', data=np.arange(12.0).reshape(3, 4))
            f['grid/temp'].attrs['units'] = 'K'
            f['grid/temp'].attrs['scale'] = np.array([1.5, 2.5])
            f.create_dataset('grid/count', data=np.arange(100000, dtype='>i4').reshape(1000, 100),
                             chunks=(10, 100), compression='gzip')
            f['scalar'] = np.float32(3.25)
            f['names'] = np.array([b'ab', b'cde'], dtype='S3')
            f['flags'] = np.array([True, False, True])
            f['empty'] = np.zeros((0, 3))
            f['grid/link'] = h5py.SoftLink('/scalar')
            f['strings'] = ['variable', 'length']
    """)
    sh([python, "-c", code, path], path.parent, env)


def test_mount_any_hdf5_file_raw_bytes_npy_and_xattrs(tmp_path):
    import h5py
    write_general(tmp_path / "g.h5")
    with mounted(tmp_path / "g.h5", tmp_path / "mnt") as m:
        with h5py.File(tmp_path / "g.h5", "r") as f:
            for name in ["grid/temp", "grid/count", "scalar", "names", "flags", "empty"]:
                want = f[name][()]
                assert (m / name).read_bytes() == np.asarray(want).tobytes(), name
                got = np.load(m / (name + ".npy"), mmap_mode="r")
                assert got.shape == want.shape and got.dtype.itemsize == want.dtype.itemsize, name
                assert np.array_equal(got, want), name
                del got  # a memory map keeps the mount busy
        assert sorted(os.listdir(m)) == ["empty", "empty.npy", "flags", "flags.npy", "grid", "names", "names.npy",
                                         "scalar", "scalar.npy"]
        assert np.load(m / "flags.npy").dtype == np.bool_  # h5py's booleans
        assert os.readlink(m / "grid" / "link") == "../scalar"
        assert os.getxattr(m, "user.title") == b"general file"
        assert os.getxattr(m / "grid" / "temp", "user.units") == b"K"
        assert os.getxattr(m / "grid" / "temp", "user.scale") == b"[1.5, 2.5]"
        assert "user.units" in os.listxattr(m / "grid" / "temp")
        with pytest.raises(OSError):
            os.getxattr(m / "grid" / "temp", "user.nothing")


@pytest.mark.parametrize("layout", ["link", "virtual"])
def test_mount_follows_the_split_layout_and_a_missing_split_file_is_an_io_error(tmp_path, layout):
    code = textwrap.dedent("""
        import h5py, numpy as np
        with h5py.File('run.h5', 'w') as f:
            f.create_dataset('fields/u', data=np.arange(50000.0).reshape(500, 100))
            f.create_dataset('fields/v', data=np.arange(600, dtype='i2').reshape(20, 30), chunks=(5, 30),
                             compression='gzip')
            f.create_dataset('t', data=np.arange(7))
    """)
    sh([sys.executable, "-c", code], tmp_path, connector_env(f"dset_split under_vol=0;under_info={{}};layout={layout}"))
    assert (tmp_path / "run-split" / "fields" / "u.h5").exists()
    import h5py
    with mounted(tmp_path / "run.h5", tmp_path / "mnt") as m, h5py.File(tmp_path / "run.h5", "r") as f:
        for name in ["fields/u", "fields/v", "t"]:
            assert np.array_equal(np.load(m / (name + ".npy"), mmap_mode="r"), f[name][()]), name
            assert (m / name).read_bytes() == f[name][()].tobytes()
    os.remove(tmp_path / "run-split" / "fields" / "u.h5")
    log = tmp_path / "mount.log"
    with mounted(tmp_path / "run.h5", tmp_path / "mnt", "--log", log) as m:
        with pytest.raises(OSError) as e:
            (m / "fields" / "u").read_bytes()
        assert e.value.errno == 5  # EIO
        assert (m / "fields" / "v").read_bytes() == np.arange(600, dtype="i2").tobytes()
    text = log.read_text()
    assert "run-split/fields/u.h5 is missing" in text and "dvc pull" in text, text


def mount_foreground(file, mnt):
    """`dset-split mount --foreground FILE MNT` as a child process, once it is mounted."""
    p = subprocess.Popen([need_file("DSET_SPLIT_CLI"), "mount", "--foreground", file, mnt], env=clean_env(),
                         stderr=subprocess.PIPE)
    deadline = time.time() + 20
    while not is_mounted(mnt) and time.time() < deadline and p.poll() is None:
        time.sleep(0.05)
    assert is_mounted(mnt), p.stderr.read() if p.poll() is not None else "not mounted in time"
    return p


def test_unmount_on_sigterm_and_sigint(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    for sig in (signal.SIGTERM, signal.SIGINT):
        (tmp_path / "mnt").mkdir(exist_ok=True)
        p = mount_foreground(tmp_path / "p.h5", tmp_path / "mnt")
        assert (tmp_path / "mnt" / "zero").exists()
        p.send_signal(sig)
        assert p.wait(timeout=20) == 0
        assert not is_mounted(tmp_path / "mnt")


def test_a_signal_right_after_mounting_unmounts(tmp_path):
    """A signal that comes before the server has answered anything (it may still be starting,
    or checking a sealed pack's image) waits for it and unmounts: it never leaves a mount
    without a server. Both a sealed pack and one read through HDF5."""
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    pack(src, tmp_path / "z.h5", "--compress")
    for file in ("p.h5", "z.h5"):
        for sig in (signal.SIGTERM, signal.SIGINT):
            (tmp_path / "mnt").mkdir(exist_ok=True)
            p = mount_foreground(tmp_path / file, tmp_path / "mnt")
            p.send_signal(sig)
            assert p.wait(timeout=20) == 0, p.stderr.read()
            assert not is_mounted(tmp_path / "mnt")


def test_mount_umount_also_works(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    (tmp_path / "mnt").mkdir()
    assert cli(["mount", tmp_path / "p.h5", tmp_path / "mnt"], tmp_path).returncode == 0
    sh(["umount", tmp_path / "mnt"], tmp_path)
    assert not is_mounted(tmp_path / "mnt")


def test_mount_bad_input_gives_a_clear_error_and_mounts_nothing(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    (tmp_path / "mnt").mkdir()
    (tmp_path / "not.h5").write_text("not hdf5")
    cases = [
        (["mount", tmp_path / "not.h5", tmp_path / "mnt"], "cannot open"),
        (["mount", tmp_path / "gone.h5", tmp_path / "mnt"], "gone.h5"),
        (["mount", tmp_path / "p.h5", tmp_path / "nowhere"], "No such file"),
        (["mount", tmp_path / "p.h5", tmp_path / "src"], "is not empty"),
        (["mount", tmp_path / "p.h5", tmp_path / "p.h5"], "is not a folder"),
    ]
    for args, message in cases:
        p = cli(args, tmp_path)
        assert p.returncode == 2 and message in p.stderr, (args, p.stderr)
    assert not is_mounted(tmp_path / "mnt")
    with mounted(tmp_path / "p.h5", tmp_path / "mnt"):
        p = cli(["mount", tmp_path / "p.h5", tmp_path / "mnt"], tmp_path)
        assert p.returncode == 2 and "already a mount point" in p.stderr


# --- regressions from the adversarial review ------------------------------------------------


def h5py_edit(path, code):
    """Runs h5py `code` with `f` open read-write on `path` (natively)."""
    sh([sys.executable, "-c", "import h5py, numpy as np, sys\nf = h5py.File(sys.argv[1], 'a')\n" + textwrap.dedent(code)
        + "\nf.close()", path], path.parent)


def test_update_notices_a_name_that_became_a_hard_link_to_another_file(tmp_path):
    # a/x and b/y one file, c/z another, all of the same size and time; then b/y is made a name
    # of c/z. Size and time of b/y do not change; its contents do.
    src = tmp_path / "src"
    for d in "abc":
        (src / d).mkdir(parents=True)
    (src / "a" / "x").write_bytes(b"A" * 100)
    os.link(src / "a" / "x", src / "b" / "y")
    (src / "c" / "z").write_bytes(b"C" * 100)
    for p in [src / "a" / "x", src / "c" / "z"]:
        os.utime(p, ns=(1, 1_700_000_000_000_000_000))
    pack(src, tmp_path / "p.h5")
    os.remove(src / "b" / "y")
    os.link(src / "c" / "z", src / "b" / "y")
    pack(src, tmp_path / "p.h5", "--update")
    cli(["unpack", tmp_path / "p.h5", tmp_path / "out"], tmp_path)
    assert snapshot(tmp_path / "out") == snapshot(src)


def test_data_stored_outside_the_pack_is_never_followed(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"S" * 64)
    os.chmod(secret, 0o600)
    h5py_edit(tmp_path / "p.h5", f"""
        del f['zero']
        f.create_dataset('zero', shape=(64,), dtype='u1', external=[({str(secret)!r}, 0, 64)])
    """)
    p = cli(["unpack", tmp_path / "p.h5", tmp_path / "out"], tmp_path)
    assert p.returncode == 2 and "not a packed file" in p.stderr and "zero" in p.stderr
    with mounted(tmp_path / "p.h5", tmp_path / "mnt") as m:
        assert not (m / "zero").exists()
    (src / "zero").write_bytes(b"new" * 10)
    pack(src, tmp_path / "p.h5", "--update")
    assert secret.read_bytes() == b"S" * 64


def test_a_mounted_file_cannot_be_changed_under_the_mount(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    with mounted(tmp_path / "p.h5", tmp_path / "mnt") as m:
        before = (m / "imgs" / "cats" / "003.jpg").read_bytes()
        p = sh([sys.executable, "-c", "import h5py, sys; h5py.File(sys.argv[1], 'a')", tmp_path / "p.h5"], tmp_path,
               ok=False)
        assert p.returncode != 0 and "lock" in p.stderr.lower()
        # --update writes a new file: the mount keeps showing the old one, whole.
        os.remove(src / "imgs" / "cats" / "003.jpg")
        (src / "imgs" / "cats" / "new.jpg").write_bytes(b"N" * len(before))
        pack(src, tmp_path / "p.h5", "--update")
        sh(["sh", "-c", "sync; echo 3 > /proc/sys/vm/drop_caches"], tmp_path)
        assert (m / "imgs" / "cats" / "003.jpg").read_bytes() == before


def test_unpack_refuses_what_a_pack_cannot_hold(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    sh(["cp", tmp_path / "p.h5", tmp_path / "q.h5"], tmp_path)
    h5py_edit(tmp_path / "p.h5", "f['imgs/loop'] = f['imgs']")
    p = cli(["unpack", tmp_path / "p.h5", tmp_path / "o1"], tmp_path)
    assert p.returncode == 2 and "a group linked a second time" in p.stderr
    h5py_edit(tmp_path / "q.h5", "f['floats'] = np.arange(4.0)")
    p = cli(["unpack", tmp_path / "q.h5", tmp_path / "o2"], tmp_path)
    assert p.returncode == 2 and "floats: not a packed file" in p.stderr
    # What was unpacked before the error does not stay.
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()


def test_a_virtual_dataset_with_any_source_gone_is_an_io_error_not_fill_values(tmp_path):
    code = textwrap.dedent("""
        import h5py, numpy as np
        for name, v in [('s1.h5', 1), ('s2.h5', 2)]:
            with h5py.File(name, 'w') as f:
                f['d'] = np.full(4, v)
        lay = h5py.VirtualLayout(shape=(8,), dtype='i8')
        lay[0:4] = h5py.VirtualSource('s1.h5', 'd', shape=(4,))
        lay[4:8] = h5py.VirtualSource('s2.h5', 'd', shape=(4,))
        one = h5py.VirtualLayout(shape=(4,), dtype='i8')
        one[:] = h5py.VirtualSource('s2.h5', 'd', shape=(4,))
        with h5py.File('v.h5', 'w') as f:
            f.create_virtual_dataset('multi', lay, fillvalue=0)
            f.create_virtual_dataset('single', one, fillvalue=0)
    """)
    sh([sys.executable, "-c", code], tmp_path)
    with mounted(tmp_path / "v.h5", tmp_path / "mnt") as m:
        assert np.array_equal(np.load(m / "multi.npy"), [1, 1, 1, 1, 2, 2, 2, 2])
    os.remove(tmp_path / "s1.h5")
    h5py_edit(tmp_path / "s2.h5", "del f['d']")
    with mounted(tmp_path / "v.h5", tmp_path / "mnt") as m:
        for name in ["multi", "single"]:
            with pytest.raises(OSError) as e:
                (m / name).read_bytes()
            assert e.value.errno == 5, name


def test_chunked_datasets_read_in_part(tmp_path):
    import h5py
    with h5py.File(tmp_path / "c.h5", "w") as f:
        f.create_dataset("row", data=np.arange(3 << 20, dtype="<i4").reshape(1, -1), chunks=(1, 1 << 16),
                         compression="gzip")
        f.create_dataset("cube", data=np.arange(7 * 11 * 13, dtype=">f8").reshape(7, 11, 13), chunks=(2, 3, 5),
                         compression="gzip")
    with mounted(tmp_path / "c.h5", tmp_path / "mnt") as m, h5py.File(tmp_path / "c.h5", "r") as f:
        for name in ["row", "cube"]:
            want = f[name][()].tobytes()
            with open(m / name, "rb") as raw:
                assert raw.read() == want, name
                for at, n in [(0, 1), (12345, 70000), (len(want) - 5, 5), (len(want) // 3, 4096)]:
                    raw.seek(at)
                    assert raw.read(n) == want[at:at + n], (name, at, n)


def test_a_busy_mount_still_unmounts_on_a_signal(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    (tmp_path / "mnt").mkdir()
    p = mount_foreground(tmp_path / "p.h5", tmp_path / "mnt")
    held = open(tmp_path / "mnt" / "run.sh", "rb")
    p.send_signal(signal.SIGTERM)
    deadline = time.time() + 20
    while is_mounted(tmp_path / "mnt") and time.time() < deadline:
        time.sleep(0.05)
    assert not is_mounted(tmp_path / "mnt")
    assert held.read() == (src / "run.sh").read_bytes()  # still readable until closed
    held.close()
    assert p.wait(timeout=20) == 0
    assert b"busy" in p.stderr.read()


# --- regressions from the second review -----------------------------------------------------


def test_an_interrupt_stops_pack_and_leaves_nothing(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(8):
        with open(src / f"big{i}", "wb") as f:
            f.truncate(256 << 20)  # sparse: quick to make, slow enough to copy
    for sig in (signal.SIGINT, signal.SIGTERM):
        p = subprocess.Popen([need_file("DSET_SPLIT_CLI"), "pack", src, "-o", tmp_path / "p.h5"], env=clean_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.3)
        p.send_signal(sig)
        assert p.wait(timeout=60) == 130, p.stderr.read()
        assert sorted(os.listdir(tmp_path)) == ["src"]


def test_update_keeps_the_packs_mode_and_owner_and_respects_protection(tmp_path):
    src = make_tree(tmp_path / "src")
    out = tmp_path / "p.h5"
    pack(src, out)
    os.chmod(out, 0o640)
    if os.geteuid() == 0:
        os.chown(out, 1234, 5678)
    (src / "zero").write_text("x")
    pack(src, out, "--update")
    st = out.stat()
    assert stat.S_IMODE(st.st_mode) == 0o640
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (1234, 5678)
    # An HDF5 program writing the pack makes --update wait for it: refused, nothing changed.
    holder = subprocess.Popen([sys.executable, "-c", "import h5py, sys, time; f = h5py.File(sys.argv[1], 'r+'); "
                               "print('open', flush=True); time.sleep(30)", out], env=clean_env(),
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"open"
        before = out.read_bytes()
        p = pack(src, out, "--update", ok=False)
        assert p.returncode == 2 and "open for writing" in p.stderr, p.stderr
        assert out.read_bytes() == before
    finally:
        holder.kill()
        holder.wait()


def test_update_notices_names_removed_with_their_folder(tmp_path):
    src = tmp_path / "src"
    (src / "A" / "Y" / "sub").mkdir(parents=True)
    (src / "B").mkdir()
    (src / "A" / "Y" / "sub" / "k").write_bytes(b"AAAA")
    os.link(src / "A" / "Y" / "sub" / "k", src / "B" / "Z")
    (src / "W").write_bytes(b"BBBB")
    for p in [src / "A" / "Y" / "sub" / "k", src / "W"]:
        os.utime(p, ns=(1, 1_000_000_000_000_000_000))
    pack(src, tmp_path / "p.h5")
    sh(["rm", "-r", src / "A" / "Y"], tmp_path)
    os.remove(src / "B" / "Z")
    os.link(src / "W", src / "B" / "Z")
    os.remove(src / "W")
    pack(src, tmp_path / "p.h5", "--update")
    cli(["unpack", tmp_path / "p.h5", tmp_path / "out"], tmp_path)
    assert snapshot(tmp_path / "out") == snapshot(src)


def test_update_repairs_a_group_linked_twice(tmp_path):
    src = tmp_path / "src"
    for d in ["g1", "g2"]:
        (src / d).mkdir(parents=True)
        (src / d / "a").write_text(d)
    pack(src, tmp_path / "p.h5")
    h5py_edit(tmp_path / "p.h5", "del f['g2']\nf['g2'] = f['g1']")
    pack(src, tmp_path / "p.h5", "--update")
    cli(["unpack", tmp_path / "p.h5", tmp_path / "out"], tmp_path)
    assert snapshot(tmp_path / "out") == snapshot(src)


def test_signed_bytes_are_not_a_packed_file(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    h5py_edit(tmp_path / "p.h5", "d = f['run.sh'][()]\ndel f['run.sh']\nf['run.sh'] = (d + 128).view(np.int8)")
    p = cli(["unpack", tmp_path / "p.h5", tmp_path / "out"], tmp_path)
    assert p.returncode == 2 and "run.sh: not a packed file" in p.stderr


def test_a_virtual_dataset_of_part_of_its_source_shows_its_own_bytes(tmp_path):
    code = textwrap.dedent("""
        import h5py, numpy as np
        with h5py.File('s.h5', 'w') as f:
            f['x'] = np.arange(100, dtype='i4')
        with h5py.File('v.h5', 'w') as f:
            for name, sel, n, dt in [('part', slice(20, 30), 10, 'i4'), ('strided', slice(0, 100, 2), 50, 'i4'),
                                     ('wider', slice(0, 100), 100, 'i8'), ('whole', slice(0, 100), 100, 'i4')]:
                lay = h5py.VirtualLayout(shape=(n,), dtype=dt)
                lay[:] = h5py.VirtualSource('s.h5', 'x', shape=(100,))[sel]
                f.create_virtual_dataset(name, lay)
    """)
    sh([sys.executable, "-c", code], tmp_path)
    import h5py
    with mounted(tmp_path / "v.h5", tmp_path / "mnt") as m, h5py.File(tmp_path / "v.h5", "r") as f:
        for name in ["part", "strided", "wider", "whole"]:
            assert (m / name).read_bytes() == f[name][()].tobytes(), name
            assert np.array_equal(np.load(m / (name + ".npy")), f[name][()]), name


def test_update_keeps_a_hard_linked_file_only_while_its_names_are_the_same(tmp_path):
    src = tmp_path / "src"
    for d in "abc":
        (src / d).mkdir(parents=True)
    (src / "a" / "x").write_bytes(b"X" * 5000)
    os.link(src / "a" / "x", src / "b" / "x")
    pack(src, tmp_path / "p.h5")
    steps = [
        lambda: None,                                              # nothing changed: kept
        lambda: os.link(src / "a" / "x", src / "c" / "x"),          # a third name
        lambda: os.remove(src / "b" / "x"),                         # one name fewer
        lambda: (src / "a" / "x").write_bytes(b"Y" * 5000),         # new bytes, same names
    ]
    for i, step in enumerate(steps):
        step()
        s = json.loads(pack(src, tmp_path / "p.h5", "--update", "--json").stdout)
        if i == 0:
            assert s["bytes_written"] == 0, s
        sh(["rm", "-rf", tmp_path / "out"], tmp_path)
        cli(["unpack", tmp_path / "p.h5", tmp_path / "out"], tmp_path)
        assert snapshot(tmp_path / "out") == snapshot(src), i
        # The names that share one file in the folder share one in the pack, and no others.
        ino = lambda p: os.stat(p).st_ino
        for d in "abc":
            for e in "abc":
                if (src / d / "x").exists() and (src / e / "x").exists():
                    same_src = ino(src / d / "x") == ino(src / e / "x")
                    assert (ino(tmp_path / "out" / d / "x") == ino(tmp_path / "out" / e / "x")) == same_src, (i, d, e)
