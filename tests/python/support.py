"""What the end-to-end test modules share: where things are (from the variables scripts/test.sh
sets), clean environments with and without the connector, and running programs."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "python"
CONNECTOR = "dset_split under_vol=0;under_info={}"


def need(var, inside):
    """The directory (or file's directory) the environment variable `var` names, which must hold
    `inside`; the test fails, saying what to set, otherwise."""
    p = os.environ.get(var)
    if not p or not pathlib.Path(p, inside).exists():
        pytest.fail(f"set {var} (it must name a place holding {inside}; scripts/test.sh sets it)")
    return pathlib.Path(p)


def need_file(var):
    """The executable the environment variable `var` names."""
    p = os.environ.get(var)
    if not p or not pathlib.Path(p).exists():
        pytest.fail(f"set {var} to an executable (scripts/test.sh sets it)")
    return pathlib.Path(p)


def plugin_dir():
    return need("DSET_SPLIT_PLUGIN_DIR", "libdset_split.so")


def clean_env(**extra):
    """This environment without HDF5's variables (no connector, no plugin path), with a git
    identity and DVC's analytics off, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HDF5_")}
    env.update(DVC_NO_ANALYTICS="1", GIT_AUTHOR_NAME="dset-split tests", GIT_AUTHOR_EMAIL="tests@invalid",
               GIT_COMMITTER_NAME="dset-split tests", GIT_COMMITTER_EMAIL="tests@invalid")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def connector_env(connector=CONNECTOR, **extra):
    """A clean environment that loads the connector with `connector` as its info string."""
    return clean_env(HDF5_PLUGIN_PATH=plugin_dir(), HDF5_VOL_CONNECTOR=connector, **extra)


def sh(args, cwd, env=None, ok=True):
    """Runs a program; with `ok`, it must succeed. HDF5 must never report that it could not close
    everything at exit (a leaked file object)."""
    p = subprocess.run(list(map(str, args)), cwd=cwd, env=env or clean_env(), capture_output=True, text=True,
                       timeout=900)
    if ok:
        assert p.returncode == 0, f"{args} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    assert "infinite loop closing library" not in p.stderr, p.stderr
    return p


def cli(args, cwd, env=None):
    """Runs the `dset-split` command (DSET_SPLIT_CLI) with plain HDF5; any exit code."""
    return sh([need_file("DSET_SPLIT_CLI"), *args], cwd, env, ok=False)


def cache_link(tmp_path, mode=None):
    """Makes the split file run-split/x.h5 a hard link into a cache folder (DVC's hardlink mode;
    `mode`: the cache file's permissions, if given); returns the cache's file and its bytes, to
    check afterwards that nothing wrote through the link."""
    cache = tmp_path / "cache"
    cache.mkdir()
    entry = cache / "x"
    os.link(tmp_path / "run-split" / "x.h5", entry)
    if mode is not None:
        os.chmod(entry, mode)
    return entry, entry.read_bytes()
