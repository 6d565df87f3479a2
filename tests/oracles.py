"""Helpers for the tests: run the real command line, and independent derivative oracles."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from dataclasses import dataclass


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_adcli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Run:
    """Run ``python -m adcli`` as a separate process, as a user or a script would."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "adcli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def central_difference(f, x: list[float], i: int) -> float:
    """∂f/∂xᵢ by a central difference with a step scaled to xᵢ (an oracle independent of AD)."""
    h = 1e-6 * max(1.0, abs(x[i]))
    up, down = list(x), list(x)
    up[i] += h
    down[i] -= h
    return (f(up) - f(down)) / (2 * h)


def close(a: float, b: float, rel: float = 1e-6, abs_: float = 1e-6) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def textbook_adjoints(graph, values: list[float], active: list[bool]) -> list[float | None]:
    """The reverse sweep as textbooks write it, one operation at a time from the output
    back: v̄ⱼ += v̄ᵢ · ∂vᵢ/∂vⱼ, calling each table rule in place; None where the sweep
    never reaches. A partial that is the constant 0 (floor) carries nothing, and a select
    (relu, min, ...) whose partial is 0 at this point passes nothing, so ∞·0 is never
    formed. Where an operation's value is nan, every partial it passes on is nan (log at
    -1, inf - inf). The engine's planned sweep must give these numbers bit for bit."""
    first = graph.n_leaves
    bar: list[float | None] = [None] * len(graph)
    if active[graph.output]:
        bar[graph.output] = 1.0
    for i in range(graph.output, first - 1, -1):
        if bar[i] is None:
            continue
        args = graph.args[i]
        rules = graph.ops[i].partials
        for k, a in enumerate(args):
            if not active[a]:
                continue
            rule = rules[k]
            if rule == 0.0:
                continue
            p = rule if isinstance(rule, float) else rule(*(values[j] for j in args), values[i])
            if p == 0.0 and graph.ops[i].selects:
                continue
            if math.isnan(values[i]):
                p = math.nan
            bar[a] = bar[i] * p if bar[a] is None else bar[a] + bar[i] * p
    return bar


def same_bits(a: float | None, b: float | None) -> bool:
    """Equal as IEEE doubles, signed zeros apart; nan equals nan; None only None."""
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
