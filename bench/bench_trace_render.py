"""Rendering the traced table of a 100,000-operation formula, against evaluating it.

    python bench/bench_trace_render.py [--ops 100000] [--rounds 5]

The default table shows a head and a tail of each trace, so rendering it should cost
about as much as a pass over the graph, not as much as laying out 100,000 rows. Every
step runs in the same process and loop; the table reports medians and each one's ratio
to the median time of evaluating the formula once (graph.evaluate).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's adcli

import adcli
from adcli.render import trace as render_trace


def nested(ops: int) -> str:
    """sin((sin((x)*y))*y)…: alternating products and sines, ``ops`` operations deep."""
    text = "x"
    for i in range(ops):
        text = f"sin({text})" if i % 2 else f"({text})*y"
    return text


def long_sum(ops: int) -> str:
    """x + x*y + x + x*y …: a left-deep chain, whose every node's source text is long."""
    return " + ".join("x" if i % 2 else "x*y" for i in range(ops // 3 * 2))


SHAPES = {"nested": nested, "sum": long_sum}


def median_ms(fn, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for shape, build in SHAPES.items():
        print(f"{shape}: {build.__doc__.split(':')[0]}")
        run_shape(adcli.parse(build(args.ops)), args.rounds)
        print()
    print("ratio = median / evaluate's median; the default table shows the first and last rows of each trace")


def run_shape(graph: adcli.Graph, rounds: int) -> None:
    from rich.console import Console

    point = {"x": 0.5, "y": 0.9}
    results = {mode: graph.differentiate(point, mode) for mode in ("reverse", "forward")}

    def table(mode: str, fmt: str = "text"):
        def run() -> None:
            console = Console(file=io.StringIO(), width=80)
            with contextlib.redirect_stdout(io.StringIO()):
                render_trace.render(results[mode], True, fmt=fmt, console=console)

        return run

    steps = {
        "evaluate (baseline)": lambda: graph.evaluate(point),
        "differentiate, reverse": lambda: graph.differentiate(point, "reverse"),
        "differentiate, forward": lambda: graph.differentiate(point, "forward"),
        "table, reverse (text)": table("reverse"),
        "table, forward (text)": table("forward"),
        "table, reverse (markdown)": table("reverse", "markdown"),
        "table, reverse (latex)": table("reverse", "latex"),
    }
    for step in steps.values():  # warm up: imports, caches
        step()
    times = {name: median_ms(step, rounds) for name, step in steps.items()}
    base = times["evaluate (baseline)"]
    print(f"{graph.operation_count:,} operations, {rounds} rounds, medians")
    print(f"{'step':<28}{'ms':>9}{'ratio':>8}")
    for name, ms in times.items():
        print(f"{name:<28}{ms:>9.1f}{ms / base:>8.2f}")


if __name__ == "__main__":
    main()
