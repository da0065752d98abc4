"""C and Fortran programs and the HDF5 command-line tools.

The C writer and reader (examples/c) are built against the series under test and run unchanged
natively and through dset_split; the reader prints the same text for the native file, for the
split layout read with plain HDF5 after moving the tree (from another working directory), and
through the connector. The HDF5 1.14 tools read the split layout as it is, and
`h5repack --merge` makes one self-contained file that h5diff finds equal to the native one (the
1.14 tools also check files written by 2.2). The Fortran example (examples/fortran, built with
h5fc) needs the 1.14 build: scripts/test.sh runs test_fortran_* only there.

DSET_SPLIT_HDF5_PREFIX: the HDF5 of the series under test; DSET_SPLIT_TOOLS_PREFIX: the HDF5 1.14
install with the tools and h5fc; DSET_SPLIT_PLUGIN_DIR: the directory holding the built plugin.
"""
import shutil

import pytest

from support import CONNECTOR, ROOT, clean_env, connector_env, need, sh


@pytest.fixture(scope="module")
def series():
    return need("DSET_SPLIT_HDF5_PREFIX", "include/hdf5.h")


@pytest.fixture(scope="module")
def tools():
    return need("DSET_SPLIT_TOOLS_PREFIX", "bin/h5repack")


def env(lib, connector=False):
    """A clean environment with `lib`'s HDF5 on the library path, and the connector if asked
    (True: its default info string; a string: that info string)."""
    extra = {"LD_LIBRARY_PATH": lib / "lib"}
    if isinstance(connector, str):
        return connector_env(connector, **extra)
    return connector_env(**extra) if connector else clean_env(**extra)


FORMS = {"link": CONNECTOR + ";layout=link", "virtual": CONNECTOR + ";layout=virtual"}


def build_c(series, out, source):
    # HDF5's own compiler wrapper, as users build; -lm for the writer's sin/cos.
    sh([series / "bin" / "h5cc", "-O2", source, "-lm", "-o", out], out.parent, env(series))
    return out


@pytest.fixture(scope="module")
def programs(series, tmp_path_factory):
    bin_dir = tmp_path_factory.mktemp("bin")
    return (build_c(series, bin_dir / "sim_writer", ROOT / "examples/c/sim_writer.c"),
            build_c(series, bin_dir / "sim_reader", ROOT / "examples/c/sim_reader.c"))


def test_c_writer_and_reader_natively_split_and_moved(series, programs, tmp_path):
    writer, reader = programs
    (tmp_path / "native").mkdir()
    (tmp_path / "split").mkdir()
    sh([writer, "run.h5"], tmp_path / "native", env(series))
    sh([writer, "run.h5"], tmp_path / "split", env(series, connector=True))
    assert sorted(p.name for p in (tmp_path / "split/run-split").rglob("*.h5")) == ["energy.h5"] + ["temperature.h5"] * 4
    expected = sh([reader, tmp_path / "native/run.h5"], tmp_path, env(series)).stdout
    assert expected.count("step ") == 4
    moved = tmp_path / "moved/deeper"
    shutil.move(tmp_path / "split", moved)
    elsewhere = tmp_path / "moved"
    assert sh([reader, moved / "run.h5"], elsewhere, env(series)).stdout == expected, "plain HDF5 after moving"
    assert sh([reader, moved / "run.h5"], elsewhere, env(series, connector=True)).stdout == expected


@pytest.mark.parametrize("form", FORMS)
def test_tools_read_and_merge_the_split_layout(series, tools, programs, tmp_path, form):
    writer, _ = programs
    sh([writer, "native.h5"], tmp_path, env(series))
    sh([writer, "run.h5"], tmp_path, env(series, connector=FORMS[form]))
    t = tools / "bin"
    e = env(tools)
    # One self-contained file from the split layout, with no connector loaded: h5repack follows
    # external links with --merge; virtual datasets it keeps virtual unless told a layout.
    merge = ["--merge"] if form == "link" else ["-l", "CONTI"]
    sh([t / "h5repack", *merge, "run.h5", "merged.h5"], tmp_path, e)
    assert sh([t / "h5diff", "native.h5", "merged.h5"], tmp_path, e, ok=False).returncode == 0
    assert "VIRTUAL" not in sh([t / "h5dump", "-p", "-H", "merged.h5"], tmp_path, e).stdout
    elsewhere = tmp_path.parent
    assert "1023.66" in sh([t / "h5dump", "-d", "/energy", tmp_path / "run.h5"], elsewhere, e).stdout
    listing = sh([t / "h5ls", "-r", tmp_path / "run.h5"], elsewhere, e).stdout
    assert ("External Link" in listing) == (form == "link"), listing
    sh([t / "h5stat", tmp_path / "run.h5"], elsewhere, e)
    # h5copy (external links expanded): a copy of one split dataset, readable.
    sh([t / "h5copy", "-i", "run.h5", "-o", "one.h5", "-s", "/step0001/temperature", "-d", "/t", "-f", "ext"],
       tmp_path, e)
    assert "Dataset {64, 64}" in sh([t / "h5ls", "one.h5"], tmp_path, e).stdout


@pytest.mark.parametrize("form", FORMS)
def test_tools_through_the_connector(series, tools, programs, tmp_path, form):
    if series != tools:
        pytest.fail("run this test on the 1.14 series only (the plugin must match the tools' HDF5)")
    writer, _ = programs
    sh([writer, "run.h5"], tmp_path, env(series, connector=FORMS[form]))
    t = tools / "bin"
    e = env(tools, connector=FORMS[form])
    assert "1023.66" in sh([t / "h5dump", "-d", "/energy", "run.h5"], tmp_path, e).stdout
    links = sh([t / "h5ls", "-r", "run.h5"], tmp_path, e).stdout.count("External Link")
    assert links == (5 if form == "link" else 0)
    sh([t / "h5stat", "run.h5"], tmp_path, e)
    # h5repack through the connector writes its output through it too: split again.
    sh([t / "h5repack", "--merge", "run.h5", "again.h5"], tmp_path, e)
    assert len(list((tmp_path / "again-split").rglob("*.h5"))) == 5
    assert "1023.66" in sh([t / "h5dump", "-d", "/energy", "again.h5"], tmp_path, env(tools)).stdout


def test_fortran_writer_through_the_connector(tools, tmp_path):
    h5fc = tools / "bin" / "h5fc"
    sh([h5fc, "-o", tmp_path / "sim_writer", ROOT / "examples/fortran/sim_writer.f90"], tmp_path, env(tools))
    sh([tmp_path / "sim_writer", "native.h5"], tmp_path, env(tools))
    sh([tmp_path / "sim_writer", "run.h5"], tmp_path, env(tools, connector=True))
    assert len(list((tmp_path / "run-split").rglob("*.h5"))) == 4
    t = tools / "bin"
    sh([t / "h5repack", "--merge", "run.h5", "merged.h5"], tmp_path, env(tools))
    assert sh([t / "h5diff", "native.h5", "merged.h5"], tmp_path, env(tools), ok=False).returncode == 0
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.move(tmp_path / "run.h5", moved / "run.h5")
    shutil.move(tmp_path / "run-split", moved / "run-split")
    dump = sh([t / "h5dump", "-d", "/step0002/temperature", moved / "run.h5"], tmp_path, env(tools)).stdout
    assert "DATASPACE  SIMPLE { ( 12, 16 ) / ( 12, 16 ) }" in dump
