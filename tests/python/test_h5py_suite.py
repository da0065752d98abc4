"""h5py's own test suite (`pytest --pyargs h5py`, in the h5py built against the series) run
natively and through dset_split: through the connector it must never crash, and every test that
passes natively must pass through it too, or be listed, with its reason, in
tests/h5py-known-differences.txt.
"""
import re
import sys

from support import ROOT, clean_env, connector_env, sh

KNOWN = ROOT / "tests" / "h5py-known-differences.txt"


def run_suite(cwd, env):
    p = sh([sys.executable, "-m", "pytest", "--pyargs", "h5py", "-q", "-rfE", "-p", "no:cacheprovider"], cwd, env,
           ok=False)
    assert p.returncode in (0, 1), f"h5py's suite did not finish (exit {p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    assert re.search(r"\d+ passed", p.stdout), p.stdout[-2000:]
    return {m.group(1) for m in re.finditer(r"^(?:FAILED|ERROR) (\S+)", p.stdout, re.M)}, p.stdout


def test_h5py_suite_through_the_connector_matches_native(tmp_path):
    known = {line.strip() for line in KNOWN.read_text().splitlines() if line.strip() and not line.startswith("#")}
    (tmp_path / "native").mkdir()
    (tmp_path / "split").mkdir()
    native, _ = run_suite(tmp_path / "native", clean_env())
    through, out = run_suite(tmp_path / "split", connector_env())
    unexpected = sorted(through - native - known)
    assert not unexpected, "fail through dset_split only:\n" + "\n".join(unexpected) + "\n" + out[-3000:]
