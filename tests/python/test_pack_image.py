"""A pack's tree image (issue 12): `pack` stores the mounted tree in the pack's HDF5 user block
and seals it (the pack's size, modification time and superblock); `mount` then shows the tree
without loading HDF5, and reads it through HDF5 whenever the pack is not as sealed. Real packs,
real FUSE mounts, the mount's own process inspected through /proc.

Run by scripts/test.sh on both HDF5 series.
"""
import os
import pathlib
import shutil
import signal
import stat
import subprocess
import tempfile
import textwrap
import time

import numpy as np
import pytest

from support import clean_env, cli, need_file, sh
from test_pack_mount import h5py_edit, make_tree, mounted, pack, snapshot

SIGNATURE = b"\x89HDF\r\n\x1a\n"


def server(mnt):
    """The process serving the mount at `mnt` (its command line ends with the mount point):
    its pid and program name. `mount` returns without waiting for its child to become the
    server, so the mount is listed first: the kernel holds that request until the server has
    answered the handshake, by which time the child has run its final program (an answer that
    is an error does as well)."""
    try:
        os.listdir(mnt)
    except OSError:
        pass
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().rstrip(b"\0").split(b"\0")
        except OSError:
            continue
        if len(args) > 1 and args[-1] == os.fsencode(mnt):
            return pid, os.path.basename(os.fsdecode(args[0]))
    raise AssertionError(f"no process serves {mnt}")


def uses_hdf5(mnt):
    """Whether the mount at `mnt` is served through HDF5 (by `dset-split mount`, HDF5 loaded),
    or from the pack's image (by `dset-split-serve`, which never loads HDF5)."""
    pid, program = server(mnt)
    with open(f"/proc/{pid}/maps") as f:
        libraries = {os.path.basename(line.split()[-1]) for line in f if ".so" in line}
    hdf5 = any(lib.startswith("libhdf5") for lib in libraries)
    assert hdf5 == (program == "dset-split"), (program, libraries)
    return hdf5


def newest_second(root):
    return max(int(os.lstat(os.path.join(d, n)).st_mtime) for d, dirs, files in os.walk(root)
               for n in dirs + files + ["."])


def test_a_fresh_pack_mounts_from_its_image_without_hdf5_and_as_hdf5_shows_it(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    data = (tmp_path / "p.h5").read_bytes()
    assert data.startswith(b"DSPKTREE")
    # The HDF5 superblock follows the user block (a power of two of at least 512 bytes).
    base = next(b for b in (512 << k for k in range(20)) if data[b:b + 8] == SIGNATURE)
    assert int.from_bytes(data[8:16], "little") <= base
    # The seal: the newest time in the tree, to the last nanosecond of its second.
    assert os.stat(tmp_path / "p.h5").st_mtime_ns == newest_second(src) * 10**9 + 999_999_999
    with mounted(tmp_path / "p.h5", tmp_path / "mnt") as m:
        from_image = snapshot(m)
        assert from_image == snapshot(src)
        assert not uses_hdf5(m)
    # Another time: not as sealed, so read through HDF5, which shows the same.
    os.utime(tmp_path / "p.h5")
    with mounted(tmp_path / "p.h5", tmp_path / "mnt") as m:
        assert uses_hdf5(m)
        assert snapshot(m) == from_image


def test_a_pack_changed_after_packing_shows_as_it_is_now(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    h5py_edit(tmp_path / "p.h5", """
        del f['zero']
        f['new.bin'] = np.frombuffer(b'xyz', dtype=np.uint8)
        f['imgs/cats/003.jpg'][0:3] = [1, 2, 3]
    """)
    with mounted(tmp_path / "p.h5", tmp_path / "mnt") as m:
        assert uses_hdf5(m)
        assert not (m / "zero").exists()
        assert (m / "new.bin").read_bytes() == b"xyz"
        assert (m / "imgs/cats/003.jpg").read_bytes() == b"\x01\x02\x03" + (src / "imgs/cats/003.jpg").read_bytes()[3:]


def damage_image(path):
    """Flips a bit in the pack's tree image, and sets its time back: the seal itself holds."""
    sealed = os.stat(path).st_mtime_ns
    with open(path, "r+b") as f:
        f.seek(300)
        byte = f.read(1)
        f.seek(300)
        f.write(bytes([byte[0] ^ 0x40]))
    os.utime(path, ns=(sealed, sealed))


def test_a_damaged_image_is_noticed_and_the_pack_read_through_hdf5(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    damage_image(tmp_path / "p.h5")
    log = tmp_path / "mount.log"
    with mounted(tmp_path / "p.h5", tmp_path / "mnt", "--log", log) as m:
        assert snapshot(m) == snapshot(src)
        assert uses_hdf5(m)
    assert "tree image is damaged" in log.read_text(), log.read_text()


def test_update_seals_the_pack_again_and_warns_when_the_tree_outgrows_its_room(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a").write_bytes(b"a")
    pack(src, tmp_path / "p.h5")
    assert (tmp_path / "p.h5").read_bytes()[512:520] == SIGNATURE  # the smallest user block
    (src / "b").write_bytes(b"bb")
    p = pack(src, tmp_path / "p.h5", "--update")
    assert "warning" not in p.stderr, p.stderr
    with mounted(tmp_path / "p.h5", tmp_path / "mnt") as m:
        assert snapshot(m) == snapshot(src)
        assert not uses_hdf5(m)
    for i in range(40):
        (src / f"more-{i:02}").write_bytes(b"x" * i)
    p = pack(src, tmp_path / "p.h5", "--update")
    assert "no longer fits" in p.stderr and "--force" in p.stderr, p.stderr
    assert not (tmp_path / "p.h5").read_bytes().startswith(b"DSPKTREE")
    with mounted(tmp_path / "p.h5", tmp_path / "mnt") as m:
        assert snapshot(m) == snapshot(src)
        assert uses_hdf5(m)
    # A new pack has room again.
    pack(src, tmp_path / "p.h5", "--force")
    with mounted(tmp_path / "p.h5", tmp_path / "mnt") as m:
        assert snapshot(m) == snapshot(src)
        assert not uses_hdf5(m)


def test_a_compressed_pack_has_no_image_and_plain_hdf5_reads_a_pack_with_one(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "z.h5", "--compress")
    assert (tmp_path / "z.h5").read_bytes()[:8] == SIGNATURE
    pack(src, tmp_path / "p.h5")
    # h5py's wheel (its own HDF5) and h5dump skip the user block.
    code = textwrap.dedent("""
        import h5py, sys
        with h5py.File(sys.argv[1], 'r') as f:
            print(f.userblock_size, f['imgs/cats/004.jpg'][()].tobytes().hex())
    """)
    out = sh([need_file("DSET_SPLIT_WHEEL_PYTHON"), "-c", code, tmp_path / "p.h5"], tmp_path).stdout.split()
    assert int(out[0]) >= 512 and bytes.fromhex(out[1]) == (src / "imgs/cats/004.jpg").read_bytes()
    tools = need_file("DSET_SPLIT_TOOLS_PREFIX")
    d = subprocess.run([os.path.join(tools, "bin", "h5dump"), "-H", "-B", tmp_path / "p.h5"], capture_output=True,
                       env=clean_env(), timeout=300)
    assert d.returncode == 0 and b"USERBLOCK_SIZE" in d.stdout and b'DATASET "004.jpg"' in d.stdout, d.stderr
    u = cli(["unpack", tmp_path / "p.h5", tmp_path / "out"], tmp_path)
    assert u.returncode == 0, u.stderr
    assert snapshot(tmp_path / "out") == snapshot(src)
    assert stat.S_ISREG(os.stat(tmp_path / "p.h5").st_mode)


def test_names_that_would_hide_the_hdf5_superblock_are_not_stored_in_the_image(tmp_path):
    # HDF5 looks for its signature at 0, 512, 1024, ...: a link target can put it at 1024 of the
    # image. Where the targets start is read from a first pack of a target of the same length.
    src = tmp_path / "src"
    src.mkdir()
    length = 1500
    os.symlink(b"a" * length, os.fsencode(src / "l"))
    pack(src, tmp_path / "probe.h5")
    head = (tmp_path / "probe.h5").read_bytes()[:132]
    nodes, children = (int.from_bytes(head[108 + 4 * i:112 + 4 * i], "little") for i in range(2))
    names = int.from_bytes(head[116:124], "little")
    targets_at = 132 + nodes * 47 + children * 12 + names
    assert targets_at < 1024 < targets_at + length - 8
    os.remove(src / "l")
    before = 1024 - targets_at
    os.symlink(b"a" * before + SIGNATURE + b"a" * (length - before - 8), os.fsencode(src / "l"))
    p = pack(src, tmp_path / "p.h5")
    assert "HDF5 would take for the start of the file" in p.stderr, p.stderr
    assert not (tmp_path / "p.h5").read_bytes().startswith(b"DSPKTREE")
    u = cli(["unpack", tmp_path / "p.h5", tmp_path / "out"], tmp_path)
    assert u.returncode == 0, u.stderr
    assert snapshot(tmp_path / "out") == snapshot(src)
    with mounted(tmp_path / "p.h5", tmp_path / "mnt") as m:
        assert snapshot(m) == snapshot(src)


def test_a_changed_pack_never_keeps_the_size_and_time_of_the_one_it_replaces(tmp_path):
    # Dropping a file leaves the size as it was (HDF5 does not give space back): the time must
    # change, or rsync's quick check would skip the new pack.
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.tmp").write_text("tmp")
    for k in range(3):
        (src / f"f{k}.txt").write_text(f"f{k}")
    pack(src, tmp_path / "p.h5")
    before = os.stat(tmp_path / "p.h5")
    pack(src, tmp_path / "p.h5", "--update", "--exclude", "*.tmp")
    after = os.stat(tmp_path / "p.h5")
    assert after.st_mtime_ns >= before.st_mtime_ns + 10**9
    with mounted(tmp_path / "p.h5", tmp_path / "mnt") as m:
        assert not uses_hdf5(m)
        assert sorted(os.listdir(m)) == ["f0.txt", "f1.txt", "f2.txt"]


def test_a_pack_neither_the_image_nor_hdf5_can_read_fails_every_request_with_eio(tmp_path):
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    sealed = os.stat(tmp_path / "p.h5").st_mtime_ns
    data = bytearray((tmp_path / "p.h5").read_bytes())
    base = next(b for b in (512 << k for k in range(20)) if data[b:b + 8] == SIGNATURE)
    root = base + int.from_bytes(data[base + 36:base + 44], "little")
    assert data[root:root + 4] == b"OHDR"
    with open(tmp_path / "p.h5", "r+b") as f:
        for at in (300, max(root + 12, base + 64)):  # past the sealed superblock bytes
            f.seek(at)
            f.write(bytes(b ^ 0x55 for b in data[at:at + 4]))
    os.utime(tmp_path / "p.h5", ns=(sealed, sealed))
    log = tmp_path / "mount.log"
    with mounted(tmp_path / "p.h5", tmp_path / "mnt", "--log", log) as m:
        for attempt in (lambda: os.listdir(m), lambda: os.stat(m / "zero")):
            try:
                attempt()
                raise AssertionError("a damaged pack was shown")
            except OSError as e:
                assert e.errno == 5, e  # EIO
    text = log.read_text()
    assert "tree image is damaged" in text and "root group" in text, text


def test_a_user_mounts_a_sealed_pack_through_fusermount3_and_a_signal_unmounts_it(tmp_path):
    """Not as root: `mount` cannot call mount(2) and goes through fusermount3 (FUSE's set-user-ID
    helper), which passes the /dev/fuse descriptor back over a socket; the server's signal
    handler unmounts through fusermount3 too. Runs in a private mount namespace whose /dev/fuse
    is open to users (Debian's is root's only here), as user nobody."""
    if os.geteuid() != 0:
        pytest.skip("needs root to make a user's FUSE setup in a private mount namespace")
    fusermount3 = need_file("DSET_SPLIT_FUSERMOUNT")
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    # A folder nobody can reach, holding the pack, the mount point and the two programs.
    work = pathlib.Path(tempfile.mkdtemp(prefix="dset-split-user-", dir="/tmp"))
    try:
        os.chmod(work, 0o755)
        cmd = need_file("DSET_SPLIT_CLI")
        for name in (cmd.name, "dset-split-serve"):
            shutil.copy2(cmd.parent / name, work / name)
        shutil.copy2(tmp_path / "p.h5", work / "p.h5")
        os.chmod(work / "p.h5", 0o644)
        (work / "mnt").mkdir()
        os.chown(work / "mnt", 65534, 65534)
        script = textwrap.dedent(f"""\
            set -eu
            mknod -m 666 {work}/fuse c 10 229
            mount --bind {work}/fuse /dev/fuse
            user() {{ setpriv --reuid=65534 --regid=65534 --clear-groups -- env -i PATH=/usr/bin:/bin "$@"; }}
            mounted() {{ grep -q " {work}/mnt " /proc/self/mounts; }}
            user {work}/{cmd.name} mount {work}/p.h5 {work}/mnt
            mounted
            grep " {work}/mnt " /proc/self/mounts | grep -q "user_id=65534"
            user cat {work}/mnt/imgs/cats/003.jpg | cmp - {src}/imgs/cats/003.jpg
            user ls {work}/mnt >/dev/null
            user {fusermount3} -u {work}/mnt
            if mounted; then echo "still mounted"; exit 1; fi
            user {work}/{cmd.name} mount {work}/p.h5 {work}/mnt
            pid=$(pgrep -f " {work}/mnt$")
            [ "$(stat -c %u /proc/$pid)" = 65534 ]
            kill -TERM "$pid"
            for i in $(seq 100); do mounted || break; sleep 0.05; done
            if mounted; then echo "still mounted"; exit 1; fi
            echo done
            """)
        p = subprocess.run(["unshare", "-m", "--propagation", "private", "bash", "-c", script],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and p.stdout.strip() == "done", (p.stdout, p.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_without_its_server_mount_reads_a_sealed_pack_through_hdf5(tmp_path):
    """`dset-split` copied alone, without `dset-split-serve` beside it: the mount still works,
    through HDF5, and says why."""
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    cmd = need_file("DSET_SPLIT_CLI")
    (tmp_path / "bin").mkdir()
    shutil.copy2(cmd, tmp_path / "bin" / cmd.name)
    (tmp_path / "mnt").mkdir()
    # No server; then one that cannot be run.
    for step in range(2):
        if step == 1:
            (tmp_path / "bin" / "dset-split-serve").write_text("#!/bin/sh\n")
        p = sh([tmp_path / "bin" / cmd.name, "mount", tmp_path / "p.h5", tmp_path / "mnt"], tmp_path)
        try:
            assert "dset-split-serve is missing" in p.stderr and "through HDF5" in p.stderr, p.stderr
            assert uses_hdf5(tmp_path / "mnt")
            assert snapshot(tmp_path / "mnt") == snapshot(src)
        finally:
            sh([need_file("DSET_SPLIT_FUSERMOUNT"), "-u", tmp_path / "mnt"], tmp_path)


def test_a_pack_rewritten_while_mounted_gives_eio_not_garbage(tmp_path):
    """`cp` ignores the pack's lock and writes another pack into the mounted one's file: the
    server notices (the size and time no longer those sealed) and answers EIO, never what the
    new bytes would make of the old tree."""
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    other = tmp_path / "other"
    other.mkdir()
    (other / "x").write_bytes(b"x" * 100)
    pack(other, tmp_path / "o.h5")
    log = tmp_path / "mount.log"
    with mounted(tmp_path / "p.h5", tmp_path / "mnt", "--log", log) as m:
        assert (m / "run.sh").read_bytes() == (src / "run.sh").read_bytes()
        sh(["cp", tmp_path / "o.h5", tmp_path / "p.h5"], tmp_path)
        for attempt in (lambda: os.listdir(m / "imgs" / "cats"), lambda: (m / "secret").read_bytes()):
            with pytest.raises(OSError) as e:
                attempt()
            assert e.value.errno == 5  # EIO
    assert "the pack was changed while mounted" in log.read_text(), log.read_text()


def test_a_signal_unmounts_only_its_own_mount(tmp_path):
    """A busy mount detached (`umount -l`), and another mounted at the same place: a signal to
    the first one's server leaves the second mounted."""
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    (tmp_path / "mnt").mkdir()
    assert cli(["mount", tmp_path / "p.h5", tmp_path / "mnt"], tmp_path).returncode == 0
    first, _ = server(tmp_path / "mnt")
    with open(tmp_path / "mnt" / "run.sh", "rb") as busy:
        sh(["umount", "-l", tmp_path / "mnt"], tmp_path)
        with mounted(tmp_path / "p.h5", tmp_path / "mnt") as m:
            os.kill(int(first), signal.SIGTERM)
            time.sleep(0.5)
            assert (m / "run.sh").read_bytes() == (src / "run.sh").read_bytes()
        assert busy.read() == (src / "run.sh").read_bytes()
    # Once the last file of the detached mount is closed, its server ends.
    deadline = time.time() + 10
    while os.path.exists(f"/proc/{first}") and time.time() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{first}") or open(f"/proc/{first}/stat").read().split()[2] == "Z"


def test_reads_without_splicing_give_the_same_bytes(tmp_path):
    """The server splices file data to the kernel; where it cannot, it reads into a buffer
    (DSET_SPLIT_MOUNT_NO_SPLICE forces that path): the same bytes, in pieces of any size."""
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    (tmp_path / "mnt").mkdir()
    p = cli(["mount", tmp_path / "p.h5", tmp_path / "mnt"], tmp_path, clean_env(DSET_SPLIT_MOUNT_NO_SPLICE="1"))
    assert p.returncode == 0, p.stderr
    try:
        assert not uses_hdf5(tmp_path / "mnt")
        assert snapshot(tmp_path / "mnt") == snapshot(src)
        big = (src / "imgs" / "big.bin").read_bytes()
        with open(tmp_path / "mnt" / "imgs" / "big.bin", "rb", buffering=0) as f:
            for at, n in [(0, 1), (4095, 2), (1 << 20, 3 << 20), (len(big) - 5, 100)]:
                f.seek(at)
                assert f.read(n) == big[at:at + n]
    finally:
        sh([need_file("DSET_SPLIT_FUSERMOUNT"), "-u", tmp_path / "mnt"], tmp_path)


def test_a_superblock_changed_under_the_seal_is_noticed(tmp_path):
    """The server compares the HDF5 superblock with the one sealed before it trusts the image
    (a pack rewritten to the same size and time has another): here its checksum is damaged, so
    HDF5 cannot read the pack either, and requests fail with EIO."""
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    sealed = os.stat(tmp_path / "p.h5").st_mtime_ns
    data = (tmp_path / "p.h5").read_bytes()
    base = next(b for b in (512 << k for k in range(20)) if data[b:b + 8] == SIGNATURE)
    with open(tmp_path / "p.h5", "r+b") as f:
        f.seek(base + 44)  # the version 2 superblock's checksum
        f.write(bytes([data[base + 44] ^ 0x01]))
    os.utime(tmp_path / "p.h5", ns=(sealed, sealed))
    log = tmp_path / "mount.log"
    with mounted(tmp_path / "p.h5", tmp_path / "mnt", "--log", log) as m:
        try:
            os.listdir(m)
            raise AssertionError("a damaged pack was shown")
        except OSError as e:
            assert e.errno == 5, e  # EIO
        assert uses_hdf5(m)
    assert "superblock is not the one sealed; reading it through HDF5" in log.read_text(), log.read_text()


def test_a_signal_leaves_a_file_system_moved_over_the_mount_alone(tmp_path):
    """A file system made before the mount and then moved over it comes first in mountinfo
    (made first) but is on top: a signal to the server leaves it, and unmounts nothing that is
    not the server's. In a private mount namespace."""
    if os.geteuid() != 0:
        pytest.skip("needs root for mount --move in a private mount namespace")
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    (tmp_path / "mnt").mkdir()
    (tmp_path / "other").mkdir()
    cmd = need_file("DSET_SPLIT_CLI")
    script = textwrap.dedent(f"""\
        set -eu
        mount -t tmpfs other {tmp_path}/other
        touch {tmp_path}/other/other-fs
        {cmd} mount {tmp_path}/p.h5 {tmp_path}/mnt
        pid=$(pgrep -f " {tmp_path}/mnt$")
        mount --move {tmp_path}/other {tmp_path}/mnt
        kill -TERM "$pid"; sleep 0.5
        test -e {tmp_path}/mnt/other-fs
        umount {tmp_path}/mnt
        test -e {tmp_path}/mnt/run.sh
        kill -TERM "$pid"
        for i in $(seq 100); do grep -q " {tmp_path}/mnt " /proc/self/mounts || break; sleep 0.05; done
        if grep -q " {tmp_path}/mnt " /proc/self/mounts; then echo "still mounted"; exit 1; fi
        echo done
        """)
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "bash", "-c", script], env=clean_env(),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == "done", (p.stdout, p.stderr)


def test_the_server_keeps_open_only_the_mount_and_the_pack(tmp_path):
    """A descriptor that whoever ran `mount` passed on (no close-on-exec) is not kept open by
    the server for as long as the mount lasts."""
    src = make_tree(tmp_path / "src")
    pack(src, tmp_path / "p.h5")
    (tmp_path / "mnt").mkdir()
    stray = open(tmp_path / "stray.txt", "w")
    try:
        p = subprocess.run([need_file("DSET_SPLIT_CLI"), "mount", tmp_path / "p.h5", tmp_path / "mnt"],
                           pass_fds=[stray.fileno()], env=clean_env(), capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        pid, program = server(tmp_path / "mnt")
        assert program == "dset-split-serve"
        os.listdir(tmp_path / "mnt")  # the server has started its threads
        held = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        assert str(tmp_path / "stray.txt") not in held, held
        assert str(tmp_path / "p.h5") in held and "/dev/fuse" in held, held
    finally:
        stray.close()
        sh([need_file("DSET_SPLIT_FUSERMOUNT"), "-u", tmp_path / "mnt"], tmp_path)
