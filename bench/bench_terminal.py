"""Output for people: the value and gradient on a terminal against the same piped.

    python bench/bench_terminal.py [--rounds 15]

Whole processes, `adcli grad` with stdout on a pseudo-terminal (as a person sees it)
and on a pipe (as a script reads it), alternating: a three-line answer, and the
gradient of the n = 10,000 Rosenbrock formula (10,001 lines). Targets: on a terminal
at most 1.2x the piped time for the three lines, 1.5x for the 10,001.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def adcli_script() -> str:
    script = Path(sys.executable).with_name("adcli")
    return str(script) if script.exists() else "adcli"


def on_terminal(cmd: list[str]) -> float:
    """Wall seconds of ``cmd`` writing to a pseudo-terminal 100 columns wide, read to the end."""
    master, slave = pty.openpty()
    env = dict(os.environ, COLUMNS="100")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=slave, stderr=subprocess.DEVNULL, env=env)
    os.close(slave)
    while True:
        try:
            if not os.read(master, 1 << 16):
                break
        except OSError:  # the terminal closes when the process ends
            break
    proc.wait()
    elapsed = time.perf_counter() - start
    os.close(master)
    return elapsed


def piped(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_rosenbrock import rosenbrock

    with tempfile.TemporaryDirectory() as folder:
        formula, point = Path(folder) / "rosen.txt", Path(folder) / "point.json"
        n = 10_000
        formula.write_text(rosenbrock(n))
        point.write_text(json.dumps({f"x{i}": 0.5 for i in range(n)}))
        cases = {
            "three lines": [adcli_script(), "grad", "(x+y)*(x-y)", "--at", "x=3,y=2"],
            "10,001 lines": [adcli_script(), "grad", f"@{formula}", "--at", f"@{point}"],
        }
        times: dict[tuple[str, str], list[float]] = {}
        for cmd in cases.values():  # warm the file cache and compiled bytecode
            piped(cmd)
        for _ in range(rounds):
            for name, cmd in cases.items():
                times.setdefault((name, "terminal"), []).append(on_terminal(cmd))
                times.setdefault((name, "piped"), []).append(piped(cmd))
    print(f"{'answer':<16}{'terminal ms':>13}{'piped ms':>10}{'ratio':>8}{'target':>8}")
    for name, target in (("three lines", 1.2), ("10,001 lines", 1.5)):
        tty, pipe = (statistics.median(times[name, where]) for where in ("terminal", "piped"))
        print(f"{name:<16}{tty * 1e3:>13.1f}{pipe * 1e3:>10.1f}{tty / pipe:>8.2f}{target:>8.2f}")
    print(f"medians of {rounds} alternating rounds; ratio = terminal / piped")


if __name__ == "__main__":
    main()
