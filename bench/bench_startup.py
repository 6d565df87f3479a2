"""Cold start: one small gradient as a whole process, adcli against HIPS autograd and click.

    python bench/bench_startup.py [--rounds 30]

The commands run alternately in the same loop, so machine noise hits all alike; the
table reports medians and the ratios to autograd's one-liner (target: at most 0.6) and
to `python -c "import click"`, the floor of any click program (target: at most 1.25).
It also reports the CPU time (user + system) of each process, which other work on a
busy machine inflates less than the wall-clock time.
Needs the bench extra: pip install ".[bench]".
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

AUTOGRAD = "from autograd import grad; f=lambda x,y:(x+y)*(x-y); print(f(3.,2.), grad(f,0)(3.,2.), grad(f,1)(3.,2.))"


def adcli_command() -> list[str]:
    """The installed adcli script beside this Python, as a user runs it."""
    script = Path(sys.executable).with_name("adcli")
    found = str(script) if script.exists() else shutil.which("adcli")
    if not found:
        sys.exit("adcli is not installed in this environment: pip install '.[bench]'")
    return [found, "grad", "(x+y)*(x-y)", "--at", "x=3,y=2", "--json"]


def wall(cmd: list[str]) -> tuple[float, float]:
    """The wall-clock and the CPU time (user + system) of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds
    commands = {
        "adcli grad ... --json": adcli_command(),
        "autograd one-liner": [sys.executable, "-c", AUTOGRAD],
        "import click": [sys.executable, "-c", "import click"],
    }
    for cmd in commands.values():  # warm the file cache and compiled bytecode
        wall(cmd)
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            elapsed, used = wall(cmd)
            times[name].append(elapsed)
            cpu[name].append(used)
    base = statistics.median(times["autograd one-liner"])
    click_base = statistics.median(times["import click"])
    click_cpu = statistics.median(cpu["import click"])
    print(f"{'command':<24}{'median ms':>11}{'min ms':>9}{'÷ autograd':>12}{'÷ click':>9}{'CPU ms':>9}{'÷ click':>9}")
    for name, samples in times.items():
        median, used = statistics.median(samples), statistics.median(cpu[name])
        ratios = f"{median / base:>12.2f}{median / click_base:>9.2f}"
        cpu_text = f"{used * 1e3:>9.1f}{used / click_cpu:>9.2f}"
        print(f"{name:<24}{median * 1e3:>11.1f}{min(samples) * 1e3:>9.1f}{ratios}{cpu_text}")
    print(f"\n{rounds} alternating rounds; ratios of medians (targets: ≤ 0.60 of autograd, ≤ 1.25 of import click)")


if __name__ == "__main__":
    main()
