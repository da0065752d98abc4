"""The standing adversarial suite (issue 9): sequences a hostile or merely unlucky user runs
through the connector, each of which once lost data or touched files outside the main file's
tree. Every case runs a real h5py program through the real plugin and checks what is on disk
and what reads back, with plain HDF5 where it matters.

Run by scripts/test.sh on both HDF5 series, with the h5py built against the series.
"""
import os
import subprocess
import sys
import textwrap

import pytest

from support import CONNECTOR, cache_link, clean_env, connector_env, sh

pytestmark = pytest.mark.reliability


def py(code, cwd, connector=True, ok=True, **env):
    """Runs h5py `code` (dedented) in a fresh interpreter, through the connector (True, or an info
    string) or natively (False)."""
    if connector:
        e = connector_env(**env) if connector is True else connector_env(f"dset_split {connector}", **env)
    else:
        e = clean_env(**env)
    return sh([sys.executable, "-c", textwrap.dedent(code)], cwd, e, ok=ok)


def files(folder):
    """The files (and symbolic links) below `folder`, relative, sorted."""
    out = []
    for root, dirs, names in os.walk(folder):
        for n in names + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            out.append(os.path.relpath(os.path.join(root, n), folder))
    return sorted(out)


# --- data loss: a split file belongs to exactly one dataset ---------------------------------------

RECREATE = {
    # another name still reaches the split file of the name being made again
    "hard link": "f['b'] = f['a']; del f['a']",
    "hard link held open": "f['b'] = f['a']; held = f['b']; del f['a']",
    "moved shared file": "f['b'] = f['a']; f.move('a', 'c'); del f['c']",
    "object copy onto the name": "f['b'] = f['a']; del f['a']; f.copy('b', 'tmp'); del f['tmp']",
}


@pytest.mark.parametrize("case", sorted(RECREATE))
def test_recreating_a_name_never_overwrites_another_names_data(tmp_path, case):
    """A dataset made again at a path whose split file another name still reaches (was: that file truncated, the other name's data overwritten)."""
    py(f"""
        import h5py, numpy as np
        with h5py.File('run.h5', 'w') as f:
            f['a'] = [1, 1]
            {RECREATE[case]}
            f['a'] = [2, 2]
            assert list(f['b'][()]) == [1, 1], f['b'][()]
            assert list(f['a'][()]) == [2, 2]
        """, tmp_path)
    # read back with plain HDF5, no connector
    py("""
        import h5py
        with h5py.File('run.h5', 'r') as f:
            assert list(f['b'][()]) == [1, 1] and list(f['a'][()]) == [2, 2]
        """, tmp_path, connector=False)
    assert "a.h5" in files(tmp_path / "run-split") and "a~n1.h5" in files(tmp_path / "run-split")


def test_recreating_after_a_rename_without_the_connector(tmp_path):
    """A dataset made again at a path renamed away by a program without the connector ("drift")."""
    py("import h5py\nwith h5py.File('run.h5', 'w') as f: f['a'] = [1, 1]", tmp_path)
    # "drift": renamed by a program that does not use the connector
    py("import h5py\nwith h5py.File('run.h5', 'a') as f: f.move('a', 'c')", tmp_path, connector=False)
    py("""
        import h5py
        with h5py.File('run.h5', 'a') as f:
            f['a'] = [2, 2]
            assert list(f['c'][()]) == [1, 1] and list(f['a'][()]) == [2, 2]
        """, tmp_path)


def test_recreating_through_a_soft_link_path_made_again(tmp_path):
    """A dataset created through a soft link, whose path is later made again as a real group."""
    py("""
        import h5py
        with h5py.File('run.h5', 'w') as f:
            f.create_group('g')
            f['s'] = h5py.SoftLink('/g')
            f['s/x'] = [1, 1]            # created by the path /s/x: its file is s/x.h5
            del f['s']
            f.create_group('s')
            f['s/x'] = [2, 2]
            assert list(f['g/x'][()]) == [1, 1] and list(f['s/x'][()]) == [2, 2]
        """, tmp_path)


def test_recreating_over_an_orphan_keeps_the_orphan(tmp_path):
    """A dataset made again where an orphan split file (no link reaches it) lies.

    The orphan (left by a crash) may be the only copy of some data: never overwritten; `gc`
    removes it when asked."""
    py("import h5py\nwith h5py.File('run.h5', 'w') as f: f['a'] = [1, 1]", tmp_path)
    py("import h5py\nwith h5py.File('run.h5', 'a') as f: del f['a']", tmp_path, connector=False)
    orphan = (tmp_path / "run-split" / "a.h5").read_bytes()
    py("import h5py\nwith h5py.File('run.h5', 'a') as f: f['a'] = [2, 2]", tmp_path)
    assert (tmp_path / "run-split" / "a.h5").read_bytes() == orphan


# --- data loss: every copy is independent ---------------------------------------------------------

def test_group_copy_within_a_file_is_independent(tmp_path):
    """`H5Ocopy` of a group within a file (was: the copy shared the source's split files), with shared names and creation order."""
    py("""
        import h5py
        with h5py.File('run.h5', 'w', track_order=True) as f:
            g = f.create_group('g', track_order=True)
            g['x'] = [1, 1]
            g['small'] = [7]
            g['y'] = [3, 3]
            g['x_again'] = g['x']          # two names, one dataset
            f.copy('g', 'h')
            assert list(f['h'].keys()) == list(f['g'].keys()) == ['x', 'small', 'y', 'x_again']
            f['h/x'][0] = 9
            assert list(f['g/x'][()]) == [1, 1], 'the source changed'
            assert list(f['h/x_again'][()]) == [9, 1], 'names sharing a dataset no longer share its copy'
            assert list(f['g/x_again'][()]) == [1, 1]
        """, tmp_path, connector="under_vol=0;under_info={};exclude=small")
    assert files(tmp_path / "run-split") == [".dset-split", "g/x.h5", "g/y.h5", "h/x.h5", "h/y.h5"]


@pytest.mark.parametrize("where", ["other.h5", "sub/other.h5"])
def test_group_copy_into_another_main_file_is_independent(tmp_path, where):
    """`H5Ocopy` of a group into another main file, beside it or in a subdirectory, then the source truncated."""
    (tmp_path / "sub").mkdir()
    py(f"""
        import h5py
        with h5py.File('run.h5', 'w') as f, h5py.File('{where}', 'w') as o:
            f['g/x'] = [1, 1]
            f.copy(f['g'], o, 'g')
            o['g/x'][0] = 5
            assert list(f['g/x'][()]) == [1, 1], 'the source changed'
        with h5py.File('run.h5', 'w') as f:
            pass                          # truncating the source removes its split files
        with h5py.File('{where}', 'r') as o:
            assert list(o['g/x'][()]) == [5, 1]
        """, tmp_path)
    other = tmp_path / where
    assert files(other.parent / "other-split") == [".dset-split", "g/x.h5"]
    # read plainly from another working directory: the copy's link is relative to its own file
    py(f"import h5py\nassert list(h5py.File(r'{other}', 'r')['g/x'][()]) == [5, 1]", "/", connector=False)


def test_copy_into_a_file_that_is_not_split_copies_the_data(tmp_path):
    """`H5Ocopy` of a group into a file that is not split (an in-memory file)."""
    py("""
        import h5py, io
        with h5py.File('run.h5', 'w') as f:
            f['g/x'] = [1, 1]
            f['g/y'] = f['g/x']
            mem = h5py.File(io.BytesIO(), 'w')
            f.copy(f['g'], mem, 'g')
            mem['g/x'][0] = 4
            assert list(mem['g/y'][()]) == [4, 1]
            assert mem['g'].get('x', getlink=True).__class__ is h5py.HardLink
            assert list(f['g/x'][()]) == [1, 1]
        """, tmp_path)


# --- data loss: deleting a name another spelling of a link still reaches -------------------------

@pytest.mark.parametrize("spelling", ["./run-split/a.h5", "run-split//a.h5", "ABSOLUTE"])
def test_delete_keeps_a_file_another_spelling_reaches(tmp_path, spelling):
    """`H5Ldelete` of a split dataset while another link reaches its file through a differently written target."""
    target = str(tmp_path / "run-split" / "a.h5") if spelling == "ABSOLUTE" else spelling
    py(f"""
        import h5py
        with h5py.File('run.h5', 'w') as f:
            f['a'] = [1, 1]
            f['b'] = h5py.ExternalLink({target!r}, '/data')
            del f['a']
            assert list(f['b'][()]) == [1, 1]
        """, tmp_path)
    assert (tmp_path / "run-split" / "a.h5").exists()


# --- nothing outside the tree ---------------------------------------------------------------------

def test_truncate_leaves_a_folder_the_connector_never_made(tmp_path):
    """`H5Fcreate(TRUNC)` next to a `<stem>-split/` folder the connector never made."""
    (tmp_path / "run-split").mkdir()
    (tmp_path / "run-split" / "x.h5").write_bytes(b"not ours")
    py("import h5py\nh5py.File('run.h5', 'w').close()", tmp_path)
    assert (tmp_path / "run-split" / "x.h5").read_bytes() == b"not ours"


def test_truncate_never_clears_through_a_symbolic_link(tmp_path):
    """A split folder that is a symbolic link to another folder: truncating, then writing."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "x.h5").write_bytes(b"precious")
    (victim / ".dset-split").write_text("run.h5\n")
    (tmp_path / "run-split").symlink_to(victim)
    py("import h5py\nh5py.File('run.h5', 'w').close()", tmp_path)
    assert (victim / "x.h5").read_bytes() == b"precious"
    # and nothing is written through it either
    p = py("import h5py\nf = h5py.File('run.h5', 'a'); f['y'] = [1]", tmp_path, ok=False)
    assert p.returncode != 0 and "symbolic link" in p.stderr
    assert files(victim) == [".dset-split", "x.h5"]


def _outside_through_a_link(tmp_path):
    """A split dataset whose group directory was replaced by a symbolic link to elsewhere."""
    py("import h5py\nwith h5py.File('run.h5', 'w') as f: f['g/x'] = [1, 1]", tmp_path)
    outside = tmp_path / "outside"
    (tmp_path / "run-split" / "g").rename(outside)
    (tmp_path / "run-split" / "g").symlink_to(outside)
    return outside, (outside / "x.h5").read_bytes()


def test_no_write_delete_or_move_through_a_directory_link(tmp_path):
    """A directory inside the split folder replaced by a symbolic link to a folder outside: write, read, move, delete."""
    outside, before = _outside_through_a_link(tmp_path)
    p = py("import h5py\nf = h5py.File('run.h5', 'a'); f['g/x'][0] = 7", tmp_path, ok=False)
    assert p.returncode != 0 and "symbolic link" in p.stderr
    # reading through it is fine
    py("import h5py\nassert list(h5py.File('run.h5', 'r')['g/x'][()]) == [1, 1]", tmp_path)
    py("import h5py\nf = h5py.File('run.h5', 'a'); f.move('g/x', 'g/z')", tmp_path)
    py("import h5py\nf = h5py.File('run.h5', 'a'); del f['g/z']", tmp_path)
    assert (outside / "x.h5").read_bytes() == before
    assert files(outside) == ["x.h5"]


def test_a_dangling_owner_link_is_never_followed(tmp_path):
    """A dangling symbolic link planted at the split folder's `.dset-split` owner file."""
    (tmp_path / "run-split").mkdir()
    (tmp_path / "run-split" / ".dset-split").symlink_to(tmp_path / "victim")
    p = py("import h5py\nf = h5py.File('run.h5', 'w'); f['x'] = [1]", tmp_path, ok=False)
    assert p.returncode != 0 and ".dset-split" in p.stderr
    assert not (tmp_path / "victim").exists()


# --- drivers: only plain files split ---------------------------------------------------------------

@pytest.mark.parametrize("open_args,splits", [
    pytest.param("'run.h5', 'w'", True, id="sec2"),
    pytest.param("'run.h5', 'w', driver='stdio'", True, id="stdio"),
    pytest.param("'run.h5', 'w', driver='core', backing_store=True", True, id="core with a backing store"),
    pytest.param("'run.h5', 'w', driver='core', backing_store=False", False, id="core in memory"),
    pytest.param("io.BytesIO(), 'w'", False, id="file-like object"),
    pytest.param("'run%d.h5', 'w', driver='family', memb_size=1<<20", False, id="family"),
    pytest.param("'run', 'w', driver='split'", False, id="split"),
])
def test_only_plain_file_drivers_split(tmp_path, open_args, splits):
    """Every file driver h5py offers: only drivers that write one real file at the given name are split."""
    py(f"""
        import h5py, io, numpy as np
        f = h5py.File({open_args})
        f.create_dataset('x', data=np.arange(10))
        f['y'] = [1, 2]
        assert list(f['x'][()]) == list(range(10))
        f.close()
        """, tmp_path)
    split_folders = [p.name for p in tmp_path.iterdir() if p.name.endswith("-split")]
    assert bool(split_folders) == splits, split_folders


def test_h5py_file_objects_never_crash(tmp_path):
    """h5py file-like objects, one of them failing every write (was: the host process crashed).

    h5py's own test suite crashed here (test_file2.py::TestFileObj::test_exception_write)."""
    py("""
        import h5py, io
        class Broken(io.BytesIO):
            def write(self, b):
                raise OSError('disk on fire')
        for fileobj in (io.BytesIO(), Broken()):
            try:
                with h5py.File(fileobj, 'w') as f:
                    f.create_dataset('x', data=[1, 2, 3])
            except Exception:
                pass
        print('alive')
        """, tmp_path)


# --- smaller: a move whose file cannot follow, an unreadable split file ----------------------------

def test_a_move_succeeds_even_when_its_split_file_cannot_follow(tmp_path):
    """`H5Lmove` of a split dataset whose file cannot follow (a file in the way of its new folder).

    The link move is HDF5's operation and succeeds as natively; the split file stays where it is
    (its link still valid), and `check` reports the drift."""
    py("""
        import h5py
        with h5py.File('run.h5', 'w') as f:
            f['g/x'] = [1, 1]
            f.create_group('h')
        """, tmp_path)
    (tmp_path / "run-split" / "h").write_text("in the way")
    py("""
        import h5py
        with h5py.File('run.h5', 'a') as f:
            f.move('g/x', 'h/x')
            assert 'x' not in f['g'] and list(f['h/x'][()]) == [1, 1]
        """, tmp_path)
    assert (tmp_path / "run-split" / "g" / "x.h5").exists()


def test_an_unreadable_split_file_says_why(tmp_path):
    """A split file the program may not read (was: reported as "damaged, or not HDF5?").

    Run without the capability that lets root read any file."""
    py("import h5py\nwith h5py.File('run.h5', 'w') as f: f['x'] = [1, 1]", tmp_path)
    (tmp_path / "run-split" / "x.h5").chmod(0)
    code = ("import h5py\ntry:\n    h5py.File('run.h5', 'r')['x']\nexcept Exception as e:\n    print(e)\n"
            "else:\n    print('opened')\n")
    p = subprocess.run(["setpriv", "--bounding-set=-dac_override,-dac_read_search", sys.executable, "-c", code],
                       cwd=tmp_path, env=connector_env(), capture_output=True, text=True, timeout=120)
    assert "Permission denied" in p.stdout + p.stderr, p.stdout + p.stderr


# --- found by review: more ways to lose data or leave the tree -----------------------------------

def test_an_object_unlinked_while_open_and_linked_again_keeps_its_data(tmp_path):
    """A group and a dataset unlinked while open, then linked again under new names (HDF5 keeps
    unlinked objects while they are open; was: their split files were removed at the delete)."""
    py("""
        import h5py, numpy as np
        with h5py.File('run.h5', 'w') as f:
            f['g/x'] = np.arange(5); f['y'] = np.arange(3)
            g, d = f['g'], f['y']
            del f['g'], f['y']
            f['h'] = g
            f['z'] = d
        """, tmp_path)
    py("""
        import h5py
        with h5py.File('run.h5', 'r') as f:
            assert list(f['h/x'][()]) == [0, 1, 2, 3, 4] and list(f['z'][()]) == [0, 1, 2]
        """, tmp_path, connector=False)


def test_deleting_and_writing_a_name_again(tmp_path):
    """`del f['x']; f['x'] = ...` (overwriting, a common pattern), at the root and in a group, in
    one session (was: in a group, the write failed).

    The old file goes when the name is written again (no link reaches it, nothing holds it open),
    and the new data gets the layout's own name; held open, see the next test."""
    py("import h5py\nwith h5py.File('run.h5', 'w') as f:\n    f['x'] = [1]\n    f['g/y'] = [1]", tmp_path)
    expected = [[".dset-split", "g/y.h5", "x.h5"], [".dset-split", "g/y.h5", "x.h5"]]
    for v, after in zip((2, 3), expected):
        py(f"""
            import h5py
            with h5py.File('run.h5', 'a') as f:
                del f['x']; f['x'] = [{v}]
                del f['g/y']; f['g/y'] = [{v}]
                del f['g']; f['g/y'] = [{v}]
            """, tmp_path)
        assert files(tmp_path / "run-split") == after
        py(f"import h5py\nf = h5py.File('run.h5', 'r')\nassert list(f['x'][()]) == list(f['g/y'][()]) == [{v}]",
           tmp_path, connector=False)


def test_objects_held_open_across_deletes_closes_and_other_handles(tmp_path):
    """Objects held open while their names are deleted: through a second `H5Fopen` of the file,
    through `H5Freopen`, with the deleting handle closed first, with the name written again, then
    linked again (was: their split files were removed or reused, and the data lost)."""
    cases = {
        "second open": """
f1 = h5py.File('run.h5', 'a'); f2 = h5py.File('run.h5', 'a')
d = f2['x']; del f1['x']; f1.close()
f2['y'] = d; d[0] = 42; f2.close()
""",
        "reopen, group": """
f1 = h5py.File('run.h5', 'a'); f2 = h5py.File(f1.id.reopen())
g = f2['g']; del f1['g']; f1.close()
f2['h'] = g; f2.close()
""",
        "group held, name written again": """
with h5py.File('run.h5', 'a') as f:
    g = f['g']; del f['g']; f['g/x'] = np.full(5, -1); f['h'] = g
""",
        "move through another handle": """
f1 = h5py.File('run.h5', 'a'); f2 = h5py.File('run.h5', 'a')
d = f2['x']; f1.move('x', 'y'); f1.close()
f2['z'] = d; f2.close()
""",
    }
    for name, code in cases.items():
        d = tmp_path / name.replace(" ", "_").replace(",", "")
        d.mkdir()
        py("import h5py, numpy as np\nwith h5py.File('run.h5', 'w') as f:\n"
           "    f['x'] = np.arange(5); f['g/x'] = np.arange(5)", d)
        py("import h5py, numpy as np\n" + code, d)
        py("""
            import h5py
            f = h5py.File('run.h5', 'r')
            found = []
            f.visit_links(lambda n: found.append(n))
            for n in found:
                obj = f.get(n)
                if isinstance(obj, h5py.Dataset):
                    assert len(obj[()]) == 5, n
            assert any(n in found for n in ('y', 'z', 'h/x')), found
            """, d, connector=False)


def test_a_folder_with_files_the_connector_never_made_is_never_claimed(tmp_path):
    """A `<stem>-split/` folder holding someone's files, then a program writing twice with mode 'w'."""
    (tmp_path / "run-split" / "sub").mkdir(parents=True)
    (tmp_path / "run-split" / "notes.h5").write_bytes(b"notes")
    (tmp_path / "run-split" / "sub" / "data.h5").write_bytes(b"precious")
    for _ in range(2):
        p = py("import h5py\nwith h5py.File('run.h5', 'w') as f: f['x'] = [1, 2]", tmp_path, ok=False)
        assert p.returncode != 0 and "was not made by dset-split" in p.stderr, p.stderr
    assert files(tmp_path / "run-split") == ["notes.h5", "sub/data.h5"]


@pytest.mark.parametrize("owner", ["none", "another main file"])
def test_deleting_or_moving_external_links_never_touches_files_not_ours(tmp_path, owner):
    """The application's own external links into a `<stem>-split/` folder that is not this main
    file's: deleting and moving them (was: the files were removed or renamed)."""
    (tmp_path / "run-split").mkdir()
    py("import h5py\nwith h5py.File('run-split/calib.h5', 'w') as f: f['data'] = [1]\n"
       "with h5py.File('run-split/ref.h5', 'w') as f: f['data'] = [2]", tmp_path, connector=False)
    if owner != "none":
        (tmp_path / "run-split" / ".dset-split").write_text("run.nc\n")
    py("""
        import h5py
        with h5py.File('run.h5', 'w') as f:
            f['calib'] = h5py.ExternalLink('run-split/calib.h5', '/data')
            f['ref'] = h5py.ExternalLink('run-split/ref.h5', '/data')
            f['owner'] = h5py.ExternalLink('run-split/.dset-split', '/data')
            del f['calib']
            del f['owner']
            f.move('ref', 'moved_ref')
        """, tmp_path)
    assert {"calib.h5", "ref.h5"} <= set(files(tmp_path / "run-split"))
    assert (owner == "none") != (tmp_path / "run-split" / ".dset-split").exists()


def test_a_main_file_made_again_after_the_old_one_was_renamed(tmp_path):
    """`mv run.h5 keep.h5` (its links still work), then the program runs again and makes run.h5."""
    py("import h5py, numpy as np\nwith h5py.File('run.h5', 'w') as f: f['x'] = np.arange(3)", tmp_path)
    os.rename(tmp_path / "run.h5", tmp_path / "keep.h5")
    py("import h5py\nwith h5py.File('run.h5', 'w') as f: f['y'] = [1]", tmp_path)
    py("import h5py\nassert list(h5py.File('keep.h5', 'r')['x'][()]) == [0, 1, 2]", tmp_path, connector=False)


@pytest.mark.parametrize("target", ["alias/a.h5", "REALPATH", "run-split/a.h5|data", "run-split/a.h5|/./data"])
def test_a_file_reached_by_another_spelling_survives_the_delete(tmp_path, target):
    """`H5Ldelete` of a split dataset while another link reaches its file through a symbolic link,
    a real path, or an object path written differently (`data`, `/./data`)."""
    (tmp_path / "real").mkdir()
    (tmp_path / "lnk").symlink_to("real")
    py(f"""
        import h5py, os
        target, _, obj = {target!r}.partition('|')
        if target == 'REALPATH':
            target = os.path.realpath('lnk') + '/run-split/a.h5'
        with h5py.File('lnk/run.h5', 'w') as f:
            f['a'] = [1, 1]
            os.symlink('run-split', 'lnk/alias')
            f['b'] = h5py.ExternalLink(target, obj or '/data')
            del f['a']
        with h5py.File('lnk/run.h5', 'r') as f:
            assert list(f['b'][()]) == [1, 1]
        """, tmp_path)


def test_hard_links_across_files_are_refused_as_natively(tmp_path):
    """`H5Olink`, `H5Lcopy` and `H5Lmove` of a split dataset into another file (natively: interfile
    hard links are not allowed; was: accepted, and the new link read another file's data)."""
    (tmp_path / "sub").mkdir()
    code = """
        import h5py
        results = []
        with h5py.File('run.h5', 'w') as f1, h5py.File('sub/run.h5', 'w') as f2, h5py.File('other.h5', 'w') as f3:
            f1['x'] = [1, 1]; f2['x'] = [2, 2]
            for target in (f2, f3):
                try:
                    target['y'] = f1['x']
                    results.append('linked')
                except Exception:
                    results.append('refused')
            try:
                f1.move('x', 'x2'); f1['x2'].parent  # within one file: fine
                results.append('moved')
            except Exception:
                results.append('refused')
        print(results)
        """
    native = py(code, tmp_path, connector=False).stdout
    through = py(code, tmp_path).stdout
    assert through == native == "['refused', 'refused', 'moved']\n", (through, native)


@pytest.mark.parametrize("driver", ["sec2", "core"])
def test_a_crash_after_a_delete_or_move_loses_nothing_natively_kept(tmp_path, driver):
    """A program that deletes and moves split datasets, then dies without flushing or closing
    (was: links left pointing at removed or renamed files).

    Every link on disk afterwards reads back, and the moved dataset is under its old or new name."""
    py(f"""
        import h5py, os
        kw = dict(driver='core', backing_store=True) if {driver!r} == 'core' else {{}}
        with h5py.File('run.h5', 'w', **kw) as f:
            f['x'] = [0, 1, 2]; f['g/y'] = [0, 1]
        f = h5py.File('run.h5', 'a', **kw)
        del f['x']
        f.move('g/y', 'y')
        os._exit(0)
        """, tmp_path)
    py("""
        import h5py
        f = h5py.File('run.h5', 'r')
        present = [n for n in ('x', 'g/y', 'y') if n.split('/')[0] in f and (n == 'x' or n == 'y' or 'y' in f['g'])]
        for n in present:
            assert len(f[n][()]) > 0, n
        assert 'y' in present or 'g/y' in present, present
        """, tmp_path, connector=False)


def test_moving_a_relative_symbolic_link_keeps_it_pointing_at_its_data(tmp_path):
    """`H5Lmove` of a split dataset whose file is a relative symbolic link into a store, as
    git-annex's locked files are (was: the link moved one level up and dangled)."""
    py("import h5py\nwith h5py.File('run.h5', 'w') as f: f['g/x'] = [4, 2]", tmp_path)
    store = tmp_path / "store"
    store.mkdir()
    (tmp_path / "run-split" / "g" / "x.h5").rename(store / "x")
    (tmp_path / "run-split" / "g" / "x.h5").symlink_to("../../store/x")
    py("import h5py\nwith h5py.File('run.h5', 'a') as f: f.move('g/x', 'x')", tmp_path)
    py("import h5py\nassert list(h5py.File('run.h5', 'r')['x'][()]) == [4, 2]", tmp_path, connector=False)


def test_long_names_give_the_same_bytes_every_run(tmp_path):
    """Names too long for a file system (shortened with a hash), written again and again with
    mode 'w' (was: a new alternate file every run, and the main file's bytes changed)."""
    code = "import h5py\nwith h5py.File('run.h5', 'w') as f:\n    f['a' * 300] = [1]\n    f['g' * 300 + '/x'] = [2]"
    sums = []
    for _ in range(3):
        py(code, tmp_path)
        sums.append(((tmp_path / "run.h5").read_bytes(), files(tmp_path / "run-split")))
    assert sums[0] == sums[1] == sums[2]


@pytest.mark.parametrize("form,seen", [("link", "['g', 'g/b']"), ("virtual", "['g', 'g/a', 'g/b']")])
def test_visiting_a_file_with_a_missing_split_file(tmp_path, form, seen):
    """`H5Ovisit` (h5py's `visititems`) of a main file whose split file was not pulled (was: the
    whole visit failed). The link form skips the dataset (its object is in the missing file);
    the virtual form's object is in the main file, as natively."""
    c = f"{CONNECTOR.split(' ', 1)[1]};layout={form}"
    py("import h5py\nwith h5py.File('run.h5', 'w') as f: f['g/a'] = [1]; f['g/b'] = [2]", tmp_path, connector=c)
    (tmp_path / "run-split" / "g" / "a.h5").unlink()
    p = py("import h5py\nn = []\nh5py.File('run.h5', 'r').visititems(lambda k, v: n.append(k))\nprint(n)", tmp_path,
           connector=c)
    assert p.stdout.strip() == seen


def test_a_main_file_whose_name_ends_in_a_newline(tmp_path):
    """Two main files whose names differ by a trailing newline (`run.h5` and `run.h5\\n`)."""
    py("import h5py\nwith h5py.File('run.h5\\n', 'w') as f: f['x'] = [1]", tmp_path)
    for _ in range(2):
        py("import h5py\nh5py.File('run.h5', 'w').close()", tmp_path)
    py("import h5py\nassert list(h5py.File('run.h5\\n', 'r')['x'][()]) == [1]", tmp_path, connector=False)


@pytest.mark.parametrize("form", ["link", "virtual"])
def test_copying_a_split_dataset_given_as_an_object(tmp_path, form):
    """`f.copy(f['x'], 'y')`, the source given as an object as h5py documents it."""
    py(f"""
        import h5py
        with h5py.File('run.h5', 'w') as f:
            f['x'] = [1, 2]
            f.copy(f['x'], 'y')
            f['y'][0] = 9
            assert {'isinstance(f.get("y", getlink=True), h5py.ExternalLink)' if form == 'link' else 'True'}
            assert list(f['x'][()]) == [1, 2] and list(f['y'][()]) == [9, 2]
        """, tmp_path, connector=f"{CONNECTOR.split(' ', 1)[1]};layout={form}")


@pytest.mark.parametrize("how", ["reference", "handle opened by reference"])
def test_an_anonymous_dataset_with_a_reference_stays_itself_when_linked(tmp_path, how):
    """An anonymous dataset linked after a reference to it was stored, or after a second handle
    was opened by such a reference (was: the reference pointed at another object, writes through
    the second handle were lost)."""
    py(f"""
        import h5py, numpy as np
        with h5py.File('run.h5', 'w') as f:
            d = f.create_dataset(None, data=np.arange(5))
            f.create_dataset('refs', data=[d.ref], dtype=h5py.ref_dtype)
            if {how!r} == 'handle opened by reference':
                d2 = f[d.ref]
            f['x'] = d
            f.create_dataset('decoy', data=np.array([-1, -1]))
            if {how!r} == 'handle opened by reference':
                d2[0] = 99
        with h5py.File('run.h5', 'r') as f:
            target = f[f['refs'][0]]
            assert target.name == '/x', target.name
            assert list(target[()])[1:] == [1, 2, 3, 4]
            assert list(f['x'][()])[0] == (99 if {how!r} == 'handle opened by reference' else 0)
        """, tmp_path, connector="under_vol=0;under_info={};min_size=20")


def test_a_read_only_split_folder_refuses_cleanly(tmp_path):
    """A split folder the program may not write into (permissions; run without the capability
    that lets root write anywhere): the create fails with a clear error, leaves no link or file,
    and the program goes on."""
    py("import h5py\nwith h5py.File('run.h5', 'w') as f: f['a'] = [1]", tmp_path)
    (tmp_path / "run-split").chmod(0o555)
    code = textwrap.dedent("""
        import h5py
        with h5py.File('run.h5', 'a') as f:
            try:
                f['b'] = [2]
                print('created')
            except Exception as e:
                print('refused:', e)
            f['small'] = [1]
            print('b' in f, [int(x) for x in f['a'][()]])
        """)
    p = subprocess.run(["setpriv", "--bounding-set=-dac_override,-dac_read_search", sys.executable, "-c", code],
                       cwd=tmp_path, env=connector_env("dset_split under_vol=0;under_info={};exclude=small"),
                       capture_output=True, text=True, timeout=120)
    (tmp_path / "run-split").chmod(0o755)
    assert p.returncode == 0, p.stderr
    assert "refused:" in p.stdout and "Permission denied" in p.stdout, p.stdout
    assert p.stdout.strip().endswith("False [1]"), p.stdout
    assert files(tmp_path / "run-split") == [".dset-split", "a.h5"]


HOSTILE = ["x", "X", "x~n1", "X~n1", "x~1", "%41", "con", "CON", ".hidden", "ünï", "ÜNÏ", "a b ", "x.h5", "x.",
           "..", "tab\tname", "new\nline", "back\\slash", "star*?", "a" * 300, "x~~0123456789abcdef"]


def test_hostile_names_through_the_whole_lifecycle(tmp_path):
    """Names that look like the layout's own marks, device names, dots, case variants, control
    characters, over-long names: created, linked twice, deleted, made again, moved, truncated."""
    py(f"""
        import h5py, json
        names = {HOSTILE!r}
        with h5py.File('run.h5', 'w') as f:
            for i, n in enumerate(names):
                f.create_group(f'g{{i}}')[n] = [i, i]
                f[f'g{{i}}/{{n}}2'.replace('/' + n + '2', '/other')] = f[f'g{{i}}'][n]
            for i, n in enumerate(names):
                del f[f'g{{i}}'][n]
                f[f'g{{i}}'][n] = [i + 100, i]
                f.move(f'g{{i}}', f'h{{i}}')
        with h5py.File('run.h5', 'r') as f:
            for i, n in enumerate(names):
                assert list(f[f'h{{i}}'][n][()]) == [i + 100, i], n
                assert list(f[f'h{{i}}']['other'][()]) == [i, i], n
        """, tmp_path)
    py(f"""
        import h5py
        names = {HOSTILE!r}
        with h5py.File('run.h5', 'r') as f:
            for i, n in enumerate(names):
                assert list(f[f'h{{i}}'][n][()]) == [i + 100, i], n
        """, tmp_path, connector=False)
    py("import h5py\nh5py.File('run.h5', 'w').close()", tmp_path)
    assert files(tmp_path / "run-split") == [".dset-split"] or not (tmp_path / "run-split").exists()


@pytest.mark.parametrize("form", ["link", "virtual"])
def test_an_external_link_prefix_never_redirects_writes_outside_the_tree(tmp_path, form):
    """`HDF5_EXT_PREFIX` naming a folder that holds an unrelated `run-split/x.h5` (HDF5 looks
    relative external link targets up there first; was: the connector's writes went to it). In
    the link form such datasets are refused; the virtual form does not use external links, and
    its writes go to the split file itself."""
    c = f"{CONNECTOR.split(' ', 1)[1]};layout={form}"
    prefix = tmp_path / "prefix" / "run-split"
    prefix.mkdir(parents=True)
    py("import h5py\nwith h5py.File('prefix/run-split/x.h5', 'w') as f: f['data'] = [7, 7, 7]", tmp_path,
       connector=False)
    before = (prefix / "x.h5").read_bytes()
    py("import h5py\nwith h5py.File('run.h5', 'w') as f: f['x'] = [0, 0, 0]", tmp_path, connector=c)
    p = py("import h5py\nwith h5py.File('run.h5', 'a') as f: f['x'][0] = 5", tmp_path, connector=c, ok=False,
           HDF5_EXT_PREFIX=tmp_path / "prefix")
    if form == "link":
        assert p.returncode != 0 and "HDF5_EXT_PREFIX" in p.stderr, p.stderr
    else:
        assert p.returncode == 0, p.stderr
        py("import h5py\nassert list(h5py.File('run.h5', 'r')['x'][()]) == [5, 0, 0]", tmp_path, connector=False)
    p = py("import h5py\nwith h5py.File('run.h5', 'a') as f: f['y'] = [1]", tmp_path, connector=c, ok=False,
           HDF5_EXT_PREFIX=tmp_path / "prefix")
    assert p.returncode == 0, p.stderr  # no file of that name under the prefix: fine
    assert (prefix / "x.h5").read_bytes() == before
    # Copies do not take the prefix's file either (was: its data was copied into new split files).
    p = py("import h5py\nwith h5py.File('run.h5', 'a') as f: f.copy('x', 'x_copy')", tmp_path, connector=c, ok=False,
           HDF5_EXT_PREFIX=tmp_path / "prefix")
    if form == "link":
        assert p.returncode != 0 and "HDF5_EXT_PREFIX" in p.stderr, p.stderr
    else:
        assert p.returncode == 0, p.stderr
    assert (prefix / "x.h5").read_bytes() == before


@pytest.mark.parametrize("damage", ["garbage", "empty", "truncated", "no /data", "a directory"])
def test_a_corrupt_split_file_is_a_clear_error_and_check_reports_it(tmp_path, damage):
    """A split file replaced by garbage, emptied, cut short, holding no `/data`, or a directory:
    opening its dataset fails with a message naming it, the rest of the file works, and `check`
    reports it as corrupt."""
    py("import h5py, numpy as np\nwith h5py.File('run.h5', 'w') as f:\n"
       "    f['x'] = np.arange(1000)\n    f['y'] = [1, 2]", tmp_path)
    x = tmp_path / "run-split" / "x.h5"
    if damage == "garbage":
        x.write_bytes(b"\x89not hdf5 at all" * 100)
    elif damage == "empty":
        x.write_bytes(b"")
    elif damage == "truncated":
        x.write_bytes(x.read_bytes()[:1500])
    elif damage == "no /data":
        x.unlink()
        py("import h5py\nwith h5py.File('run-split/x.h5', 'w') as f: f['other'] = [1]", tmp_path, connector=False)
    else:
        x.unlink()
        x.mkdir()
    p = py("""
        import h5py
        with h5py.File('run.h5', 'r') as f:
            assert list(f['y'][()]) == [1, 2]
            try:
                f['x'][()]
                print('read')
            except Exception as e:
                print('refused:', e)
        """, tmp_path)
    assert "refused:" in p.stdout and "x.h5" in p.stdout, p.stdout
    from support import cli
    import json as _json
    r = cli(["check", "run.h5", "--json"], tmp_path)
    kinds = {(f["kind"], f.get("path")) for f in _json.loads(r.stdout)["findings"]}
    assert ("corrupt", "/x") in kinds or ("dangling", "/x") in kinds, kinds
    assert r.returncode == 1


def test_a_new_main_file_at_the_name_of_a_renamed_one(tmp_path):
    """`mv run.h5 keep.h5`, a new run.h5 made by another program, then run.h5 truncated through
    the connector (was: the folder was cleared, and keep.h5's data lost)."""
    py("import h5py, numpy as np\nwith h5py.File('run.h5', 'w') as f: f['x'] = np.arange(5); f['g/y'] = [1, 2]",
       tmp_path)
    os.rename(tmp_path / "run.h5", tmp_path / "keep.h5")
    py("import h5py\nh5py.File('run.h5', 'w').close()", tmp_path, connector=False)
    py("import h5py\nwith h5py.File('run.h5', 'w') as f: f['z'] = [1]", tmp_path)
    py("import h5py\nf = h5py.File('keep.h5', 'r')\nassert list(f['x'][()]) == [0, 1, 2, 3, 4]\n"
       "assert list(f['g/y'][()]) == [1, 2]", tmp_path, connector=False)


def test_moving_a_group_keeps_the_creation_order_inside_it(tmp_path):
    """`H5Lmove` of a creation-order-tracked group holding split and inline datasets (was: its
    split datasets' links were made again and went last)."""
    code = """
        import h5py
        with h5py.File('run.h5', 'w', track_order=True) as f:
            g = f.create_group('g', track_order=True)
            for n in 'abcde':
                g[n] = [1, 2, 3] if n in 'ace' else [1]
            f.move('g', 'h')
            print(list(f['h'].keys()))
        """
    (tmp_path / "n").mkdir()
    (tmp_path / "c").mkdir()
    native = py(code, tmp_path / "n", connector=False).stdout
    through = py(code, tmp_path / "c", connector="under_vol=0;under_info={};min_size=20").stdout
    assert through == native == "['a', 'b', 'c', 'd', 'e']\n", (through, native)


def test_an_unlinked_dataset_open_twice_stays_one_object_when_linked_again(tmp_path):
    """A dataset kept in the main file, open twice, unlinked, then linked again at a path the
    policy splits (was: it was taken for an anonymous dataset and moved, and writes through the
    second handle were lost)."""
    p = py("""
        import h5py, numpy as np
        with h5py.File('run.h5', 'w') as f:
            f['tmp/x'] = np.arange(5)
            d = f['tmp/x']; d2 = f['tmp/x']
            del f['tmp/x']
            f['keep/x'] = d
            d2[0] = 99
            d[1] = 77
        print([int(v) for v in h5py.File('run.h5', 'r')['keep/x'][()]])
        """, tmp_path, connector="under_vol=0;under_info={};exclude=/tmp/**")
    assert p.stdout.strip() == "[99, 77, 2, 3, 4]", p.stdout


def test_a_reference_made_through_another_handle_keeps_an_anonymous_dataset_itself(tmp_path):
    """An anonymous dataset referenced through one `H5Fopen` of the file and linked through
    another (was: it moved, and the stored reference led to another object)."""
    p = py("""
        import h5py, numpy as np
        with h5py.File('run.h5', 'w') as f: pass
        f1 = h5py.File('run.h5', 'a'); f2 = h5py.File('run.h5', 'a')
        d = f1.create_dataset(None, data=np.arange(5))
        f1.create_dataset('refs', data=[d.ref], dtype=h5py.ref_dtype)
        f2['x'] = d
        f1.create_dataset('decoy', data=np.array([-1, -1]))
        f1.close(); f2.close()
        with h5py.File('run.h5', 'r') as f:
            print(f[f['refs'][0]].name)
        """, tmp_path, connector="under_vol=0;under_info={};min_size=20")
    assert p.stdout.strip() == "/x", p.stdout


def test_the_write_protections_hold_through_a_soft_link(tmp_path):
    """A split dataset that is a hard link into a cache (DVC's hardlink mode), written after
    being reached through a soft link (was: the checks ran only for an open by its own link's
    name, and the cache was written)."""
    py("""
        import h5py
        with h5py.File('run.h5', 'w', track_order=True) as f:
            f['x'] = [1, 2, 3]
            f['s'] = h5py.SoftLink('/x')
        """, tmp_path)
    entry, before = cache_link(tmp_path)
    py("""
        import h5py
        with h5py.File('run.h5', 'a') as f:
            d = f['s']
            d[0] = 9
        """, tmp_path)
    assert entry.read_bytes() == before, "the cache's file was written"
    py("import h5py\nassert list(h5py.File('run.h5', 'r')['x'][()]) == [9, 2, 3]", tmp_path, connector=False)


WRITES_WITHOUT_OPENING = {
    # HDF5 reaches the dataset and writes to its file without opening it for the application
    "attribute created by a soft link": (
        "h5py.h5a.create(f.id, b'n', h5py.h5t.STD_I32LE, h5py.h5s.create(h5py.h5s.SCALAR), obj_name=b's')",
        "sorted(f['x'].attrs) == ['k', 'n']",
    ),
    "attribute deleted by index by its own link": (
        "h5py.h5a.delete(f.id, index=0, obj_name=b'x')",
        "list(f['x'].attrs) == []",
    ),
    "attribute deleted by index by a soft link": (
        "h5py.h5a.delete(f.id, index=0, obj_name=b's')",
        "list(f['x'].attrs) == []",
    ),
    "attribute opened by index by its own link, then written": (
        "h5py.h5a.open(f.id, index=0, obj_name=b'x').write(np.array(7, dtype='i8'))",
        "f['x'].attrs['k'] == 7",
    ),
    "attribute renamed by a soft link": (
        "h5py.h5a.rename(f.id, b'k', b'm', obj_name=b's')",
        "list(f['x'].attrs) == ['m']",
    ),
    "comment set by a soft link": (
        "h5py.h5o.set_comment(f.id, b'hi', obj_name=b's')",
        "f.id.get_comment(b'x') == b'hi'",
    ),
}


@pytest.mark.parametrize("case", sorted(WRITES_WITHOUT_OPENING))
def test_the_write_protections_hold_when_hdf5_reaches_a_dataset_by_name(tmp_path, case):
    """A split dataset whose file is a hard link into a cache, written by name without being
    opened (was: only opens, and attribute calls by the dataset's own link name, made the file
    private first, and the cache was written)."""
    write, check = WRITES_WITHOUT_OPENING[case]
    py("""
        import h5py
        with h5py.File('run.h5', 'w', track_order=True) as f:
            f['x'] = [1, 2, 3]
            f['x'].attrs['k'] = 1
            f['s'] = h5py.SoftLink('/x')
        """, tmp_path)
    entry, before = cache_link(tmp_path)
    py(f"""
        import h5py, numpy as np
        with h5py.File('run.h5', 'a') as f:
            {write}
        """, tmp_path)
    assert entry.read_bytes() == before, "the cache's file was written"
    py(f"import h5py\nf = h5py.File('run.h5', 'r')\nassert {check}", tmp_path, connector=False)
