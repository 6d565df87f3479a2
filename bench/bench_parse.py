"""Parsing: a large formula, and a syntax error at the end of one, against a baseline tree.

    python bench/bench_parse.py [--baseline PATH] [--rounds 5]

`adcli.parse` of the n = 10,000 Rosenbrock formula (416 KB), then of a formula of
1 MiB with a syntax error at its very end (a missing operand), against a valid formula
of the same size. With ``--baseline`` (a checkout of an earlier commit, e.g. made by
``git worktree add /tmp/base <commit>``) each case is also timed on that tree's code, in
the same rounds, so the ratios hold on a noisy machine. CPU time, best of the rounds;
each measurement runs in a fresh process. Targets: parse at most 0.5x the baseline's;
the error at most 2x the valid parse of the same size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TREE = HERE.parent

# Run in a fresh process with the tree to time first on sys.path; prints CPU seconds.
PROBE = r"""
import gc, sys, time, json
sys.path.insert(0, sys.argv[1])
import adcli
case, n = sys.argv[2], int(sys.argv[3])
body = " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(n - 1))
if case in ("mib", "error"):  # whole terms up to 1 MiB, then a valid last term or a dangling '+'
    body = body[: body.rfind(" + ", 0, 2**20 - 64)]
text = {"rosenbrock": body, "mib": body + " + x0", "error": body + " +"}[case]
adcli.parse("x*y")  # modules imported, tables loaded
gc.collect()
start = time.process_time()
try:
    adcli.parse(text)
    outcome = "parsed"
except adcli.ParseError as error:
    outcome = error.message + " | " + str(error.hint)
print(json.dumps([time.process_time() - start, len(text), outcome]))
"""


def probe(tree: Path, case: str, n: int) -> tuple[float, int, str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(tree), case, str(n)], check=True, capture_output=True, text=True
    ).stdout
    seconds, size, outcome = json.loads(out)
    return seconds, size, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a checkout of the commit to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    trees = {"this tree": TREE} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    cases = [("rosenbrock", 10_000), ("mib", 30_000), ("error", 30_000)]
    best: dict[tuple[str, str], float] = {}
    sizes: dict[str, int] = {}
    outcomes: dict[tuple[str, str], str] = {}
    for _ in range(args.rounds):  # alternating, so a slow spell hits every case alike
        for case, n in cases:
            for name, tree in trees.items():
                seconds, size, outcome = probe(tree, case, n)
                key = (name, case)
                best[key] = min(best.get(key, seconds), seconds)
                sizes[case], outcomes[key] = size, outcome
    labels = {
        "rosenbrock": "parse, Rosenbrock n = 10,000",
        "mib": "parse, valid, 1 MiB",
        "error": "syntax error at the end, 1 MiB",
    }
    header = f"{'case':<32}{'KB':>7}" + "".join(f"{name + ' ms':>15}" for name in trees)
    print(header + (f"{'ratio':>8}" if args.baseline else ""))
    for case, _ in cases:
        row = f"{labels[case]:<32}{sizes[case] // 1000:>7}"
        row += "".join(f"{best[name, case] * 1e3:>15.1f}" for name in trees)
        if args.baseline:
            row += f"{best['this tree', case] / best['baseline', case]:>8.2f}"
        print(row)
    for name in trees:
        ratio = best[name, "error"] / best[name, "mib"]
        print(f"{name}: the error takes {ratio:.2f}x the valid parse of the same size (target ≤ 2)")
        print(f"  its message: {outcomes[name, 'error']}")
    print(f"CPU time, best of {args.rounds} alternating rounds, each in a fresh process; ratio = this tree / baseline")


if __name__ == "__main__":
    main()
