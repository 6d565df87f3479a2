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
