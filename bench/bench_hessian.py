"""Hessians and Jacobians: whole-process dense Hessians, Hessian-vector products, Jacobian modes.

    python bench/bench_hessian.py [--sizes 10,100,1000] [--repeat 3] [--skip-jax]

1. The dense Hessian of the n-variable Rosenbrock function, written out as text: whole
   processes from the formula file to the printed n × n matrix — `adcli hessian @f --at
   @p` against CasADi (SX, its own `hessian`, the matrix printed with numpy) and JAX
   (`jit(hessian)` on the same scalar formula, printed with numpy), and numpy alone
   printing the known tridiagonal matrix (the floor for writing a million numbers).
   Target: adcli at most 0.5x CasADi at n = 1000.
2. In process on the n = 10,000 graph: a Hessian-vector product against a gradient
   (target: at most 5x), once the recorded gradient is kept.
3. Jacobian cost asymmetry, in process: (outputs, variables) = (1, 1000), (1000, 1),
   (100, 100), by forward and reverse mode and auto (target: auto within 10 % of the
   better mode).

Times are CPU seconds of the child processes (wall time on a shared machine is noise)
and best of --repeat, with Python's bytecode cache on, as installed (a warm-up run
writes it). Needs casadi (pip install ".[bench]"); JAX where installed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASADI = """
import sys, numpy as np, casadi as ca
n = int(sys.argv[1])
x = [ca.SX.sym(f"x{i}") for i in range(n)]
f = 0
for i in range(n - 1):
    f = f + 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
X = ca.vertcat(*x)
H, g = ca.hessian(f, X)
h = ca.Function("h", [X], [H])
np.savetxt(sys.stdout, np.array(h([0.5] * n)), fmt="%.17g")
"""

JAX = """
import sys, numpy as np, jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
n = int(sys.argv[1])
def f(x):
    total = 0.0
    for i in range(n - 1):
        total = total + 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
    return total
h = jax.jit(jax.hessian(f))
np.savetxt(sys.stdout, np.asarray(h(jnp.full(n, 0.5))), fmt="%.17g")
"""

NUMPY = """
import sys, numpy as np
n = int(sys.argv[1])
x = np.full(n, 0.5)
h = np.zeros((n, n))
for i in range(n - 1):
    h[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
    h[i + 1, i + 1] += 200
    h[i, i + 1] = h[i + 1, i] = -400 * x[i]
np.savetxt(sys.stdout, h, fmt="%.17g")
"""


# As installed: Python keeps compiled bytecode, so no run pays for compiling the modules.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def rosenbrock(n: int) -> str:
    return " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(n - 1))


def cpu(cmd: list[str]) -> float:
    """CPU seconds (user + system) of one process, its output thrown away."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd[:4])} ...")
    return usage.ru_utime + usage.ru_stime


def best(cmd: list[str], repeat: int) -> float:
    cpu(cmd)  # warm-up: the file cache and compiled bytecode
    return min(cpu(cmd) for _ in range(repeat))


def whole_process(sizes: list[int], repeat: int, with_jax: bool) -> None:
    adcli = str(Path(sys.executable).with_name("adcli"))
    print("Dense Hessian of Rosenbrock, written as text: CPU seconds per whole process (best of", repeat, ")")
    print(f"{'n':>6} {'adcli':>8} {'CasADi':>8} {'JAX':>8} {'numpy':>8} {'adcli/CasADi':>13} {'adcli/JAX':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            formula, point = Path(tmp, f"f{n}.txt"), Path(tmp, f"p{n}.json")
            formula.write_text(rosenbrock(n))
            point.write_text(json.dumps({f"x{i}": 0.5 for i in range(n)}))
            ours = best([adcli, "hessian", f"@{formula}", "--at", f"@{point}"], repeat)
            casadi = best([sys.executable, "-c", CASADI, str(n)], repeat)
            floor = best([sys.executable, "-c", NUMPY, str(n)], repeat)
            jax = float("nan")
            if with_jax:  # once: jit(hessian) of the unrolled loop takes most of a minute at n = 1000
                jax = cpu([sys.executable, "-c", JAX, str(n)])
            ratio_jax = f"{ours / jax:10.3f}" if jax == jax else f"{'–':>10}"
            jax_text = f"{jax:8.3f}" if jax == jax else f"{'–':>8}"
            print(f"{n:>6} {ours:8.3f} {casadi:8.3f} {jax_text} {floor:8.3f} {ours / casadi:13.3f} {ratio_jax}")


def in_process(repeat: int) -> None:
    import adcli
    from adcli.engines import derivatives

    n = 10_000
    graph = adcli.parse(rosenbrock(n))
    point = {name: 0.5 for name in graph.variables}
    direction = {name: 1.0 for name in graph.variables}
    derivatives.hvp(graph, point, direction)  # records the gradient once, as a session would
    for _ in range(10):
        graph.gradient(point)  # past the plan's threshold: the steady state

    def timed(fn, times: int = 5) -> float:
        runs = []
        for _ in range(repeat):
            start = time.process_time()
            for _ in range(times):
                fn()
            runs.append((time.process_time() - start) / times)
        return min(runs)

    gradient = timed(lambda: graph.gradient(point))
    product = timed(lambda: derivatives.hvp(graph, point, direction))
    print(f"\nIn process, n = {n:,}: gradient {gradient * 1e3:.1f} ms, Hessian-vector product {product * 1e3:.1f} ms")
    print(f"  H·v / gradient = {product / gradient:.2f}x (target: at most 5x)")


def jacobians(repeat: int) -> None:
    import adcli
    from adcli.engines import derivatives

    cases = {
        (1, 1000): " + ".join(f"sin(x{i})*x{i + 1}" for i in range(999)),
        (1000, 1): "; ".join(f"sin({k}*t) + t^{k % 7 + 2}" for k in range(1, 1001)),
        (100, 100): "; ".join(
            " + ".join(f"x{(i + k) % 100}*x{(3 * i + k) % 100}" for i in range(100)) for k in range(100)
        ),
    }
    print("\nJacobian cost asymmetry, in process: ms per Jacobian (best of", repeat, ")")
    print(f"{'outputs × variables':>20} {'forward':>9} {'reverse':>9} {'auto':>9} {'picked':>8} {'auto/best':>10}")
    for (m, n), text in cases.items():
        graph = adcli.parse(text)
        point = {name: 0.1 + 0.001 * k for k, name in enumerate(graph.variables)}
        times = {}
        for mode in ("forward", "reverse", "auto"):
            runs = []
            for _ in range(repeat):
                start = time.process_time()
                result = derivatives.jacobian(graph, point, mode=mode)
                runs.append(time.process_time() - start)
            times[mode] = min(runs)
        picked = result.mode
        better = min(times["forward"], times["reverse"])
        print(
            f"{f'{m} × {n}':>20} {times['forward'] * 1e3:9.1f} {times['reverse'] * 1e3:9.1f} "
            f"{times['auto'] * 1e3:9.1f} {picked:>8} {times['auto'] / better:10.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-jax", action="store_true")
    args = parser.parse_args()
    try:
        import jax  # noqa: F401

        with_jax = not args.skip_jax
    except ImportError:
        with_jax = False
        print("JAX is not installed: its column is left out")
    whole_process([int(s) for s in args.sizes.split(",")], args.repeat, with_jax)
    in_process(args.repeat)
    jacobians(args.repeat)


if __name__ == "__main__":
    main()
