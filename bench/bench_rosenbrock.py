"""Scale: the n-variable Rosenbrock function as one formula, reverse gradient at x_i = 0.5.

    python bench/bench_rosenbrock.py [--sizes 1000,2500,5000,10000] [--repeat 3] [--scale 100000,300000]

End to end, as whole processes: `adcli grad @file --at @point.json --json` against
CasADi building the same scalar graph in a Python loop and evaluating its gradient
(target: adcli at most 0.6x CasADi at n = 10,000). Then, in process on the n = 10,000
graph: a reverse gradient against a plain evaluation (target: at most 3x). Time and
peak memory per variable show whether cost grows linearly with n; ``--scale`` adds
larger sizes, adcli alone, with time per variable against that at n = 10,000 (target:
at most 1.1x) and peak memory per formula character.
Needs the bench extra: pip install ".[bench]".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

CASADI = """
import sys, casadi as ca
n = int(sys.argv[1])
x = [ca.SX.sym(f"x{i}") for i in range(n)]
f = 0
for i in range(n - 1):
    f = f + 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
X = ca.vertcat(*x)
g = ca.Function("g", [X], [f, ca.gradient(f, X)])
value, gradient = g([0.5] * n)
print(float(value), float(gradient[0]))
"""


def rosenbrock(n: int) -> str:
    return " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(n - 1))


def run(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident memory (KiB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd[:3])} ...")
    return elapsed, usage.ru_maxrss


def best(cmd: list[str], repeat: int) -> tuple[float, int]:
    runs = [run(cmd) for _ in range(repeat)]
    return min(t for t, _ in runs), max(m for _, m in runs)


def adcli_script() -> str:
    script = Path(sys.executable).with_name("adcli")
    return str(script) if script.exists() else "adcli"


def end_to_end(sizes: list[int], repeat: int, folder: Path) -> None:
    print(f"{'n':>6}{'KB':>6}{'adcli s':>9}{'CasADi s':>10}{'ratio':>7}{'adcli µs/var':>14}{'adcli MiB':>11}")
    for n in sizes:
        formula, point = folder / f"rosen{n}.txt", folder / f"point{n}.json"
        formula.write_text(rosenbrock(n))
        point.write_text(json.dumps({f"x{i}": 0.5 for i in range(n)}))
        ours, memory = best([adcli_script(), "grad", f"@{formula}", "--at", f"@{point}", "--json"], repeat)
        theirs, _ = best([sys.executable, "-c", CASADI, str(n)], repeat)
        size = formula.stat().st_size // 1000
        print(
            f"{n:>6}{size:>6}{ours:>9.3f}{theirs:>10.3f}{ours / theirs:>7.2f}"
            f"{ours / n * 1e6:>14.1f}{memory / 1024:>11.1f}"
        )
    print("best of", repeat, "runs each; ratio = adcli / CasADi (target ≤ 0.25 at n = 10,000)")


def scale(sizes: list[int], repeat: int, folder: Path) -> None:
    """adcli alone at n = 10,000 and larger: µs per variable, against n = 10,000's, and bytes per character."""
    print(f"\n{'n':>8}{'MB':>7}{'adcli s':>9}{'µs/var':>8}{'× 10k':>7}{'peak MiB':>10}{'bytes/char':>12}")
    base = None
    for n in [10_000, *sizes]:
        formula, point = folder / f"rosen{n}.txt", folder / f"point{n}.json"
        formula.write_text(rosenbrock(n))
        point.write_text(json.dumps({f"x{i}": 0.5 for i in range(n)}))
        seconds, memory = best([adcli_script(), "grad", f"@{formula}", "--at", f"@{point}", "--json"], repeat)
        per = seconds / n * 1e6
        base = base or per
        chars = formula.stat().st_size
        print(
            f"{n:>8}{chars / 1e6:>7.2f}{seconds:>9.2f}{per:>8.1f}{per / base:>7.2f}"
            f"{memory / 1024:>10.0f}{memory * 1024 / chars:>12.0f}"
        )
        formula.unlink()
        point.unlink()
    print(f"best of {repeat} runs each; peak = resident memory of the whole process (target: × 10k ≤ 1.10)")


def cpu(fn, *args):
    """What ``fn(*args)`` returns, and the CPU seconds it took."""
    start = time.process_time()
    out = fn(*args)
    return out, time.process_time() - start


def in_process(n: int, repeat: int) -> None:
    import adcli

    text, point = rosenbrock(n), {f"x{i}": 0.5 for i in range(n)}
    adcli.parse("x*y").gradient({"x": 1, "y": 2})  # the engines' modules, imported once
    from adcli.engines import primal, reverse
    from adcli.engines.reverse import PLAN_AFTER

    parse, first, planning = [], [], []
    evaluation, gradient, plain_back, planned_back = [], [], [], []
    for k in range(3):  # new graphs: plain sweeps at first; a plan at the PLAN_AFTER-th gradient
        graph, seconds = cpu(adcli.parse, text)
        parse.append(seconds)
        first.append(cpu(graph.gradient, point)[1])
        for _ in range(PLAN_AFTER - 2):
            graph.gradient(point)
        planning.append(cpu(graph.gradient, point)[1])
        if k > 0:
            continue
        # On the first graph, before others fragment memory: evaluations and gradients
        # alternating, so that a slow spell of the machine hits both alike, and the two
        # backward sweeps alone, at the same values, to show what the plan saves.
        values, seeds = primal.sweep(graph, graph.input_values(point)), list(range(graph.n_inputs))
        plan = graph.reverse_plan(seeds)
        for _ in range(repeat):
            evaluation.append(cpu(graph.evaluate, point)[1])
            gradient.append(cpu(graph.gradient, point)[1])
            plain_back.append(cpu(reverse.sweep, graph, values, graph.varies)[1])
            planned_back.append(cpu(plan.gradient, values, seeds)[1])
    tracemalloc.start()
    reverse.Plan(graph, graph.varies)
    plan_bytes = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    base = min(evaluation)
    print(f"\nin process, n = {n}: {len(graph)} nodes, {graph.operation_count} operations")
    print(f"{'step':<34}{'ms':>9}{'× evaluation':>14}")
    rows = [
        ("parse", parse),
        ("plain evaluation", evaluation),
        ("reverse gradient", gradient),
        ("first gradient of a new graph", first),
        (f"gradient {PLAN_AFTER} (works out the plan)", planning),
        ("  backward sweep alone, plain", plain_back),
        ("  backward sweep alone, planned", planned_back),
    ]
    for name, samples in rows:
        print(f"{name:<34}{min(samples) * 1e3:>9.1f}{min(samples) / base:>14.2f}")
    print(f"CPU time: best of {repeat} of each on the first graph, best of 3 new graphs for parse and the")
    print(f"first and {PLAN_AFTER}th gradients; a plan takes {plan_bytes / 2**20:.1f} MiB (tracemalloc peak)")
    print("target: reverse gradient ≤ 3× plain evaluation")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,2500,5000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", default="", help="larger sizes to run adcli alone at, e.g. 100000,300000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        end_to_end(sizes, args.repeat, Path(folder))
        if args.scale:
            scale([int(s) for s in args.scale.split(",")], args.repeat, Path(folder))
    in_process(max(sizes), max(args.repeat * 10, 30))


if __name__ == "__main__":
    main()
