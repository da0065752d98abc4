"""h5py's own test suite (`pytest --pyargs h5py`, in the h5py built against the series) run
natively and through dset_split, in each form of split dataset: through the connector it must
never crash, and every test that passes natively must pass through it too, or be listed, with its
reason, in the form's known-differences file (tests/h5py-known-differences*.txt).
"""
import re
import sys

import pytest

from support import CONNECTOR, ROOT, clean_env, connector_env, sh

KNOWN = {
    "link": ROOT / "tests" / "h5py-known-differences.txt",
    "virtual": ROOT / "tests" / "h5py-known-differences-virtual.txt",
}


def run_suite(cwd, env):
    # Some of h5py's tests leave temporary files behind: in the test's own folder, not /tmp.
    env = dict(env, TMPDIR=str(cwd))
    p = sh([sys.executable, "-m", "pytest", "--pyargs", "h5py", "-q", "-rfE", "-p", "no:cacheprovider"], cwd, env,
           ok=False)
    assert p.returncode in (0, 1), f"h5py's suite did not finish (exit {p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    assert re.search(r"\d+ passed", p.stdout), p.stdout[-2000:]
    return {m.group(1) for m in re.finditer(r"^(?:FAILED|ERROR) (\S+)", p.stdout, re.M)}, p.stdout


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    failed, _ = run_suite(tmp_path_factory.mktemp("native"), clean_env())
    return failed


@pytest.mark.parametrize("form", ["link", "virtual"])
def test_h5py_suite_through_the_connector_matches_native(tmp_path, native, form):
    known = {line.strip() for line in KNOWN[form].read_text().splitlines() if line.strip() and not line.startswith("#")}
    through, out = run_suite(tmp_path, connector_env(f"{CONNECTOR};layout={form}"))
    unexpected = sorted(through - native - known)
    assert not unexpected, "fail through dset_split only:\n" + "\n".join(unexpected) + "\n" + out[-3000:]
    stale = sorted(known - (through - native))
    assert not stale, "listed as differences but pass (remove them from the list):\n" + "\n".join(stale)
