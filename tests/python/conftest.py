"""Collects what the reliability suite found, for docs/reliability.md.

Tests marked `reliability` are recorded with their fault (the test's docstring, first paragraph),
how many trials they ran (the `trials` user property, default 1 per parameter set) and what
happened (passed or failed, plus the `outcome` user property). When DSET_SPLIT_RELIABILITY names
a file, the records are written there as JSON at the end of the session; scripts/reliability.py
turns the files of both HDF5 series into docs/reliability.md.
"""
import json
import os

import pytest

RECORDS = []


def pytest_configure(config):
    config.addinivalue_line("markers", "reliability: a fault or bad input recorded in docs/reliability.md")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if item.get_closest_marker("reliability") is None:
        return
    if report.when != "call" and not (report.when == "setup" and report.failed):
        return
    name = item.function.__name__.removeprefix("test_").replace("_", " ")
    doc = (item.function.__doc__ or name[:1].upper() + name[1:] + ".").strip().split("\n\n")[0]
    props = dict(report.user_properties)
    RECORDS.append({
        "test": item.nodeid.split("::", 1)[1],
        "group": item.module.__name__.removeprefix("test_"),
        "fault": " ".join(doc.split()),
        "case": item.callspec.id if hasattr(item, "callspec") else "",
        "trials": int(props.get("trials", 1)),
        "outcome": props.get("outcome", ""),
        "passed": report.passed,
    })


def pytest_sessionfinish(session, exitstatus):
    out = os.environ.get("DSET_SPLIT_RELIABILITY")
    if out and RECORDS:
        with open(out, "w") as f:
            json.dump(RECORDS, f, indent=1)
