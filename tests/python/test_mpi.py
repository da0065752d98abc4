"""Parallel HDF5 through dset_split (issue 13): MPI programs on the parallel 1.14 build, run with
`mpirun`, oversubscribed on small machines. A VPIC-style C writer and reader, a Fortran program
and h5py with `driver="mpio"`, each natively and through the connector in both split forms; the
split layout must be a serial run's; a failure on one rank must end every rank with a clear
error, within a time limit, leaving no split file behind.

scripts/test.sh runs this module on its own (step "MPI"), with:
DSET_SPLIT_MPI_PREFIX  the parallel HDF5 1.14 (h5pcc, h5pfc, its libhdf5);
DSET_SPLIT_MPI22_PREFIX  the parallel HDF5 2.2 (C only: the VPIC programs run on both);
DSET_SPLIT_PLUGIN_DIR  the built plugin; DSET_SPLIT_WHEEL_PYTHON  PyPI's h5py (a serial reader
with its own HDF5); the interpreter running pytest is h5py built with MPI (scripts/h5py.sh 1.14-mpi).
"""
import os
import pathlib
import re
import subprocess
import sys

import h5py
import numpy as np
import pytest

from support import CONNECTOR, ROOT, clean_env, cli, need, plugin_dir, sh

# A parallel run that takes longer than this is hung (they take a few seconds).
LIMIT = 180


@pytest.fixture(scope="module")
def mpi():
    return need("DSET_SPLIT_MPI_PREFIX", "bin/h5pcc")


@pytest.fixture(scope="module", params=["1.14", "2.2"])
def series(request):
    """A parallel HDF5 series: (its prefix, the VPIC program built against it)."""
    var = {"1.14": "DSET_SPLIT_MPI_PREFIX", "2.2": "DSET_SPLIT_MPI22_PREFIX"}[request.param]
    prefix = need(var, "include/hdf5.h")
    d = request.getfixturevalue("tmp_path_factory").mktemp(f"vpic-{request.param}")
    sh(["mpicc", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{prefix}/include", ROOT / "examples/mpi/vpic.c", "-o",
        d / "vpic", f"-L{prefix}/lib", "-lhdf5", f"-Wl,-rpath,{prefix}/lib"], d, mpi_env(prefix))
    return prefix, d / "vpic"


def mpi_env(mpi, connector=None, **extra):
    """A clean environment for MPI programs on the parallel HDF5 (root may run mpirun: these
    machines run the tests as root; more ranks than cores; no cross-memory attach between ranks,
    which containers without ptrace rights refuse), with the connector when given."""
    env = clean_env(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1",
                    OMPI_MCA_btl_vader_single_copy_mechanism="none", LD_LIBRARY_PATH=f"{mpi}/lib", **extra)
    if connector:
        env.update(HDF5_PLUGIN_PATH=str(plugin_dir()), HDF5_VOL_CONNECTOR=connector)
    return env


def mpirun(np_, args, cwd, env, ok=True):
    """Runs `args` on `np_` ranks; every variable of `env` that matters goes to every rank."""
    names = [k for k in env if k.startswith(("HDF5_", "DSET_SPLIT_", "VPIC_", "LD_LIBRARY"))]
    cmd = ["mpirun", "-np", str(np_), *[a for n in names for a in ("-x", n)], *map(str, args)]
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=LIMIT)
    if ok:
        assert p.returncode == 0, f"{cmd} failed ({p.returncode}):\n{p.stdout}\n{p.stderr[-4000:]}"
    return p


@pytest.fixture(scope="module")
def programs(mpi, tmp_path_factory):
    d = tmp_path_factory.mktemp("mpi-programs")
    env = mpi_env(mpi)
    sh([mpi / "bin" / "h5pcc", "-O2", "-Wall", "-Wextra", "-Werror", ROOT / "examples/mpi/vpic.c", "-o", d / "vpic",
        f"-Wl,-rpath,{mpi}/lib"], d, env)
    sh([mpi / "bin" / "h5pfc", ROOT / "examples/mpi/par_writer.f90", "-o", d / "par_writer", f"-Wl,-rpath,{mpi}/lib"],
       d, env)
    return d


def split_files(d, stem="run"):
    folder = pathlib.Path(d) / f"{stem}-split"
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.h5")) if folder.exists() else []


def links(path):
    """Every link of the main file that leads out of it: (path, file it names)."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, _obj=None):
            link = f.get(name, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                out[name] = link.filename
        f.visit_links(visit)
        def virtual(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.is_virtual:
                out[name] = obj.virtual_sources()[0].file_name
        f.visititems(virtual)
    return out


@pytest.mark.parametrize("np_", [2, 4])
def test_vpic_natively(series, tmp_path, np_):
    prefix, vpic = series
    env = mpi_env(prefix)
    mpirun(np_, [vpic, "write", "run.h5"], tmp_path, env)
    assert "ok" in mpirun(np_, [vpic, "read", "run.h5"], tmp_path, env).stdout
    assert split_files(tmp_path) == []


@pytest.mark.parametrize("form", ["link", "virtual"])
@pytest.mark.parametrize("np_", [2, 4])
def test_vpic_through_the_connector_splits_as_a_serial_run_does(series, tmp_path, np_, form):
    prefix, vpic = series
    connector = f"{CONNECTOR};layout={form}"
    serial = tmp_path / "serial"
    serial.mkdir()
    sh([vpic, "write", "run.h5"], serial, mpi_env(prefix, connector, VPIC_SERIAL="1"))
    par = tmp_path / "parallel"
    par.mkdir()
    env = mpi_env(prefix, connector)
    # Twice: the second run truncates the first one's file, and its split files go with it.
    for _ in range(2):
        out = mpirun(np_, [vpic, "write", "run.h5"], par, env).stdout
        assert f"{np_} ranks, 3 steps, ok" in out
    # The layout of a serial run: one split file per dataset, at the same names, no alternates.
    assert split_files(par) == split_files(serial)
    assert len(split_files(par)) == 3 * 7 + 1
    assert not any("~n" in f for f in split_files(par))
    assert links(par / "run.h5") == links(serial / "run.h5")
    # Read back in parallel: natively for the link form; parallel HDF5 reads no virtual dataset
    # (HDF5: "parallel reads not supported on virtual datasets"), so through the connector,
    # which reads the split file's dataset directly.
    reader = env if form == "virtual" else mpi_env(prefix)
    assert "ok" in mpirun(np_, [vpic, "read", "run.h5"], par, reader).stdout
    # A serial reader with its own HDF5 and no plugin (PyPI's h5py) reads every value.
    check = """
import sys, h5py, numpy as np
n = int(sys.argv[1]) * 1000
with h5py.File("run.h5", "r") as f:
    for s in range(3):
        for v, name in enumerate(["x", "y", "z", "px", "py", "pz"]):
            i = np.arange(n)
            want = ((s * 1000003 + v * 7919 + i % 100003) * 0.5).astype(np.float32)
            assert np.array_equal(f[f"Step#{s}/{name}"][()], want), (s, name)
            assert f[f"Step#{s}/{name}"].attrs["var"] == v
        assert np.array_equal(f[f"Step#{s}/id"][()], np.arange(n) * 31 + s)
    assert f["history"].shape == (3 * int(sys.argv[1]) * 16,)
print("ok")
"""
    wheel = need("DSET_SPLIT_WHEEL_PYTHON", "")
    assert sh([wheel, "-c", check, np_], par).stdout.strip() == "ok"
    # And the command finds nothing wrong.
    r = cli(["check", "run.h5"], par)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("form", ["native", "link", "virtual"])
def test_a_parallel_fortran_program(mpi, programs, tmp_path, form):
    env = mpi_env(mpi, None if form == "native" else f"{CONNECTOR};layout={form}")
    assert "4 ranks, ok" in mpirun(4, [programs / "par_writer", "fields.h5"], tmp_path, env).stdout
    want = [] if form == "native" else ["time1/T~1.h5", "time1/rho.h5", "time2/T~1.h5", "time2/rho.h5"]
    assert split_files(tmp_path, "fields") == want
    with h5py.File(tmp_path / "fields.h5", "r") as f:
        rho = f["time2/rho"][()]  # Fortran's (64, 64) is C's (64, 64) transposed
        j, i = np.meshgrid(np.arange(64), np.arange(64), indexing="ij")
        assert np.array_equal(rho, 2 * 1000.0 + 100.0 + (i + 1) + (j + 1) * 0.001)
        assert f["time1"].attrs["time"] == 1


H5PY_MPIO = """
import sys
from mpi4py import MPI
import h5py, numpy as np
comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
with h5py.File("run.h5", "w", driver="mpio", comm=comm) as f:
    for name in ["a", "grp/b", "grp/c", "gone"]:
        d = f.create_dataset(name, (size * 100,), dtype="f8")
        with d.collective:
            d[rank * 100:(rank + 1) * 100] = np.arange(100) + rank * 100 + len(name)
        d.attrs["name"] = name
    e = f.create_dataset("grow", (0,), maxshape=(None,), chunks=(64,), dtype="i4")
    for step in range(3):
        e.resize(((step + 1) * size * 10,))
        e[(step * size + rank) * 10:(step * size + rank + 1) * 10] = step * 1000 + rank
    del f["gone"]                 # its split file goes when the file closes (rank 0 removes it)
    f.move("grp/c", "moved_c")    # rank 0 moves its split file (link form), every rank its link
    f.copy("a", "a_copy")         # a new split file, as for a create
    f.flush()
done = comm.gather(rank)
if rank == 0:
    print("done", done)
"""


@pytest.mark.parametrize("form", ["native", "link", "virtual"])
def test_h5py_with_the_mpio_driver(mpi, tmp_path, form):
    env = mpi_env(mpi, None if form == "native" else f"{CONNECTOR};layout={form}")
    p = mpirun(2, [sys.executable, "-c", H5PY_MPIO], tmp_path, env)
    assert p.stdout.strip() == "done [0, 1]", p.stdout
    # The layout of a serial run: a virtual dataset's file keeps its name when the dataset moves.
    moved = "moved_c.h5" if form == "link" else "grp/c.h5"
    want = [] if form == "native" else sorted(["a.h5", "a_copy.h5", "grow.h5", "grp/b.h5", moved])
    assert split_files(tmp_path) == want
    wheel = need("DSET_SPLIT_WHEEL_PYTHON", "")
    check = """
import h5py, numpy as np
with h5py.File("run.h5", "r") as f:
    assert sorted(f) == ["a", "a_copy", "grow", "grp", "moved_c"], sorted(f)
    for name, path in [("a", "a"), ("a", "a_copy"), ("grp/b", "grp/b"), ("grp/c", "moved_c")]:
        assert np.array_equal(f[path][()], np.arange(200) + len(name)), path
        assert f[path].attrs["name"] == name
    g = f["grow"][()]
    assert np.array_equal(g, np.repeat([0, 1, 1000, 1001, 2000, 2001], 10)), g
print("ok")
"""
    assert sh([wheel, "-c", check], tmp_path).stdout.strip() == "ok"
    r = cli(["check", "run.h5"], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("other", ["suffix=-elsewhere", "layout=link", "min_size=1M", "split=off", "exclude=/history"])
def test_ranks_that_disagree_all_fail_clearly_and_leave_nothing(mpi, programs, tmp_path, other):
    """One rank runs with other connector settings: they would split different datasets, or into
    other places or forms, and wait for each other forever in calls the others never make. Every
    rank's file create fails with the connector's message instead; nothing is made."""
    env = mpi_env(mpi)
    env.update(HDF5_PLUGIN_PATH=str(plugin_dir()))
    base = ["mpirun", "-x", "HDF5_PLUGIN_PATH", "-x", "LD_LIBRARY_PATH"]
    cmd = [*base, "-np", "1", "-x", f"HDF5_VOL_CONNECTOR={CONNECTOR}", programs / "vpic", "write", "run.h5", ":",
           "-np", "1", "-x", f"HDF5_VOL_CONNECTOR={CONNECTOR};{other}", programs / "vpic", "write", "run.h5"]
    p = subprocess.run(list(map(str, cmd)), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=LIMIT)
    assert p.returncode != 0
    assert "with different settings: rank 0 with main file" in p.stderr and "rank 1 of 2 with" in p.stderr, p.stderr
    assert "another rank opens" in p.stderr, p.stderr
    for rank in (0, 1):
        assert re.search(rf"Error detected in dset-split VOL connector \([^)]*\) MPI-process {rank}:", p.stderr), p.stderr
    assert os.listdir(tmp_path) == []


def test_a_split_folder_rank_0_cannot_make_fails_every_rank(mpi, programs, tmp_path):
    """Something in the way of the split folder: rank 0 cannot create it, and every rank hears
    why; the thing in the way is untouched."""
    (tmp_path / "run-split").write_text("not a folder")
    p = mpirun(4, [programs / "vpic", "write", "run.h5"], tmp_path, mpi_env(mpi, CONNECTOR), ok=False)
    assert p.returncode != 0
    for rank in range(4):
        assert f"MPI-process {rank}" in p.stderr, p.stderr[-3000:]
    assert p.stderr.count("is in the way and is not a directory") == 4, p.stderr[-3000:]
    assert (tmp_path / "run-split").read_text() == "not a folder"
    assert sorted(os.listdir(tmp_path)) == ["run-split", "run.h5"]


H5PY_WRITE_B = """
from mpi4py import MPI
import h5py, numpy as np
comm = MPI.COMM_WORLD
with h5py.File("run.h5", "w", driver="mpio", comm=comm) as f:
    f.create_dataset("grp/b", (comm.size * 10,), dtype="f8")
"""

H5PY_REOPEN_B = """
import sys
from mpi4py import MPI
import h5py
comm = MPI.COMM_WORLD
try:
    with h5py.File("run.h5", "r+", driver="mpio", comm=comm) as f:
        d = f["grp/b"]
        with d.collective:
            d[comm.rank * 10:(comm.rank + 1) * 10] = 7
    sys.stdout.write(f"wrote-{comm.rank}\\n")
except Exception as e:
    sys.stdout.write(f"failed-{comm.rank}\\n")  # one write: the ranks' lines interleave
    sys.stderr.write(f"{e}\\n")
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="a mount namespace with a bind mount needs root")
def test_a_split_file_one_rank_sees_differently_fails_every_rank(mpi, tmp_path):
    """Ranks on different nodes can see a path differently (NFS attribute caching). Here rank 1
    runs in its own mount namespace where a folder of the split folder is a symbolic link, which
    the connector refuses to write through: every rank's open fails with a message, and none
    waits for the others in a collective call the failing rank never makes (before, rank 0 did:
    a hang). The virtual form checks the path before opening the split file; in the link form
    HDF5 opens it first and rank 0's view decides, as everywhere under MPI."""
    env = mpi_env(mpi, f"{CONNECTOR};layout=virtual")
    mpirun(2, [sys.executable, "-c", H5PY_WRITE_B], tmp_path, env)
    split = tmp_path / "run-split"
    assert (split / "grp" / "b.h5").is_file()
    (tmp_path / "alt").mkdir()
    (tmp_path / "real").mkdir()
    for name in os.listdir(split):
        os.symlink(f"../real/{name}", tmp_path / "alt" / name)
    xs = [a for n in ("HDF5_PLUGIN_PATH", "HDF5_VOL_CONNECTOR", "LD_LIBRARY_PATH") for a in ("-x", n)]
    view = f"mount --bind {split} {tmp_path / 'real'} && mount --bind {tmp_path / 'alt'} {split} && exec \"$@\""
    cmd = ["mpirun", *xs, "-np", "1", sys.executable, "-c", H5PY_REOPEN_B, ":",
           *xs, "-np", "1", "unshare", "-m", "sh", "-c", view, "sh", sys.executable, "-c", H5PY_REOPEN_B]
    p = subprocess.run(list(map(str, cmd)), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=LIMIT)
    assert sorted(re.findall(r"(failed|wrote)-(\d)", p.stdout)) == [("failed", "0"), ("failed", "1")], p.stdout + p.stderr[-4000:]
    assert "another rank cannot reach the split file" in p.stderr, p.stderr[-4000:]
    assert "is a symbolic link" in p.stderr, p.stderr[-4000:]
    assert sorted(os.listdir(split / "grp")) == ["b.h5"] and not (split / "grp").is_symlink()
