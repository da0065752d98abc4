#!/usr/bin/env python3
"""Compares two runs of HDF5's h5_api_test: natively and through a connector.

Usage: api_compare.py NATIVE_OUTPUT CONNECTOR_OUTPUT [KNOWN_DIFFERENCES]

Every line of the test program that ends in PASSED, FAILED or -SKIP- is one result; the two runs
execute the same tests in the same order. Prints the summary of both runs and every test that
passes natively but not through the connector; exits 1 if there is one that is not listed in
KNOWN_DIFFERENCES (one test name per line, '#' comments allowed, each with its reason).
"""
import re
import sys

RESULT = re.compile(r"^\s*Testing (.*?)\s+(PASSED|FAILED|-SKIP-)\s*$")
SUMMARY = re.compile(r"^\d+/\d+ .* API tests (passed|did not pass|were skipped) with VOL connector")


def results(path):
    out, summary = [], []
    with open(path, errors="replace") as f:
        for line in f:
            m = RESULT.match(line)
            if m:
                out.append((m.group(1), m.group(2)))
            elif SUMMARY.match(line):
                summary.append(line.strip())
    return out, summary


def main():
    native, native_summary = results(sys.argv[1])
    through, through_summary = results(sys.argv[2])
    known = set()
    if len(sys.argv) > 3:
        with open(sys.argv[3]) as f:
            known = {l.split("#")[0].strip() for l in f if l.split("#")[0].strip()}
    for line in native_summary + through_summary:
        print(line)
    if not native or len(native) != len(through):
        print(f"api_compare: the runs differ in length ({len(native)} vs {len(through)} results)")
        return 1
    lost = [n for (n, s), (n2, s2) in zip(native, through) if s == "PASSED" and s2 != "PASSED"]
    unexpected = [n for n in lost if n not in known]
    for name in lost:
        print(f"passes natively, not through the connector: {name}" + ("" if name in unexpected else " (known)"))
    passed = sum(1 for _, s in through if s == "PASSED")
    print(f"api_compare: {len(native)} results, {passed} pass through the connector, "
          f"{len(lost)} pass only natively ({len(unexpected)} unexpected)")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
