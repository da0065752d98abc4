#!/usr/bin/env python3
"""Writes docs/reliability.md from what the reliability suite recorded (tests/python/conftest.py),
one JSON file per HDF5 series:

    python3 scripts/reliability.py 1.14=target/reliability-1.14.json 2.2=target/reliability-2.2.json > docs/reliability.md

scripts/test.sh runs it after the suite; the page is never written by hand.
"""
import json
import sys

HEAD = """# Reliability

What the connector and the `dset-split` command were put through, and what happened. **Generated**
by `scripts/test.sh` (`scripts/reliability.py`) from the reliability suite: the adversarial cases of
`tests/python/test_adversarial.py` and `tests/python/test_cli_safety.py` (each fault or bad input, as a hostile or merely unlucky user
would cause it) and the repeated faults of `tests/python/test_reliability.py` (a writer killed with
SIGKILL at random points), run through the real plugin with h5py built against each HDF5 series.
Do not edit by hand: run `bash scripts/test.sh`. The README states the rules these cases check
("Safety rules") and the durability contract ("What survives a crash").

The Rust suites add more of the same families, not counted here: `tests/adversarial.rs`
(`H5Lcopy`, `H5Fmount`, `H5Fdelete`), the property tests of `src/info.rs` and `src/policy.rs`
(thousands of arbitrary and grammar-shaped info strings and patterns per run: no panic, every
refusal a clear error, matching within (pattern + 1) x (path + 1) steps), `src/confine.rs` and
`tests/layout_props.rs`.
"""


def main(args):
    series, runs = [], {}
    for a in args:
        name, path = a.split("=", 1)
        series.append(name)
        with open(path) as f:
            runs[name] = json.load(f)
    # One row per test function, in the order the suite ran them.
    rows = {}
    for name in series:
        for r in runs[name]:
            key = (r["group"], r["test"].split("[")[0])
            row = rows.setdefault(key, {"fault": r["fault"], "cases": [], "trials": 0, "by": {}})
            if name == series[0]:
                if r["case"]:
                    row["cases"].append(r["case"])
                row["trials"] += r["trials"]
            done = row["by"].setdefault(name, {"passed": 0, "failed": 0, "outcome": []})
            done["passed" if r["passed"] else "failed"] += 1
            if r["outcome"]:
                done["outcome"].append(r["outcome"])
    out = [HEAD]
    for group, title in (("adversarial", "Adversarial cases: the connector"),
                         ("cli_safety", "Adversarial cases: the `dset-split` command"),
                         ("reliability", "Repeated faults")):
        mine = [(k, v) for k, v in rows.items() if k[0] == group]
        if not mine:
            continue
        out.append(f"\n## {title}\n")
        out.append("| fault or bad input | cases | trials | " + " | ".join(f"HDF5 {s}" for s in series) + " |")
        out.append("|---|---|---|" + "---|" * len(series))
        for (_, _test), row in mine:
            cells = []
            for s in series:
                d = row["by"].get(s)
                if d is None:
                    cells.append("not run")
                elif d["outcome"]:
                    cells.append(("" if not d["failed"] else "**FAILED**: ") + " ".join(d["outcome"]))
                else:
                    n = d["passed"] + d["failed"]
                    cells.append(f"as the README says, {d['passed']}/{n}" if not d["failed"] else
                                 f"**FAILED** {d['failed']}/{n}")
            cases = ", ".join(f"`{c}`" for c in row["cases"]) or "-"
            cell = lambda text: text.replace("|", "\\|")  # noqa: E731 (a pipe would end the cell)
            out.append(f"| {cell(row['fault'])} | {cell(cases)} | {row['trials']} | "
                       + " | ".join(cell(c) for c in cells) + " |")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
