#!/usr/bin/env python3
"""Compares two runs of HDF5's h5_api_test: natively and through a connector.

Usage: api_compare.py NATIVE_OUTPUT CONNECTOR_OUTPUT [KNOWN_DIFFERENCES]

Each result is keyed by its test, its subtest and its occurrence (the suite repeats subtest names
such as "test setup"). Prints the summaries of both runs and every test that passes natively but
not through the connector; exits 1 if one of them is not listed in KNOWN_DIFFERENCES (lines
"test :: subtest", '#' starts a comment giving the reason), or if the connector run did not finish.
"""
import collections
import re
import sys

TESTING = re.compile(r"^(\s*)Testing (.*?)\s*(PASSED|\*FAILED\*|-SKIP-)?\s*$")
STATUS = re.compile(r"^\s*(PASSED|\*FAILED\*|-SKIP-)\s*$")
SUMMARY = re.compile(r"^\d+/\d+ .* API tests (passed|did not pass|were skipped) with VOL connector")


def results(path):
    out = collections.OrderedDict()
    summary, top, pending, seen = [], None, None, collections.Counter()
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = TESTING.match(line)
            if m:
                indent, name, status = m.groups()
                name = re.sub(r"\s+", " ", name).strip()
                if not indent:
                    top = name
                key = (top, name if indent else "")
                seen[key] += 1
                key = key + (seen[key],)
                if status:
                    out[key] = status
                    pending = None
                else:
                    pending = key
                continue
            m = STATUS.match(line)
            if m and pending:
                out[pending] = m.group(1)
                pending = None
            elif SUMMARY.match(line):
                summary.append(line.strip())
    return out, summary


def label(key):
    top, sub, n = key
    text = f"{top} :: {sub}" if sub else top
    return text + (f" #{n}" if n > 1 else "")


def main():
    native, native_summary = results(sys.argv[1])
    through, through_summary = results(sys.argv[2])
    known = set()
    if len(sys.argv) > 3:
        with open(sys.argv[3]) as f:
            known = {l.split("#")[0].strip() for l in f if l.split("#")[0].strip()}
    for line in native_summary + through_summary:
        print(line)
    finished = len(through_summary) == 3
    lost = [k for k, s in native.items() if s == "PASSED" and through.get(k) != "PASSED"]
    unexpected = [k for k in lost if label(k) not in known]
    for k in lost:
        print(f"passes natively, not through the connector: {label(k)}" + ("" if k in unexpected else " (known)"))
    passed = sum(1 for s in through.values() if s == "PASSED")
    print(f"api_compare: {len(native)} results natively, {passed} pass through the connector, "
          f"{len(lost)} pass only natively ({len(unexpected)} unexpected)"
          + ("" if finished else "; the connector run did not finish"))
    return 1 if unexpected or not finished or not native else 0


if __name__ == "__main__":
    sys.exit(main())
