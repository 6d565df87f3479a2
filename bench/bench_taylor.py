"""Higher derivatives by Taylor mode: adcli deriv against mpmath, JAX and SymPy.

    python bench/bench_taylor.py [--rounds 15] [--sympy-max 20] [--nested-max 6] [--jet-max 20]

f(x) = exp(sin(x))/(1+x²) at x = 0.7, orders 5, 10, 20, 50, 100. Prints three tables:

1. whole processes, alternating: `adcli deriv F --order 20 --json` against `adcli grad F
   --json` on the same formula (target: at most 1.3×);
2. in process, per order: adcli's time (best of several) and time / K² (target: flat,
   the cost grows as K²), the relative error of dᴷf/dxᴷ against mpmath at 50 digits
   (target at order 20: at most 1e-13), and the same for JAX jet and nested jax.grad
   (jit, compile included) and SymPy (diff, then evaluate), where installed;
3. mpmath's own Taylor arithmetic at 50 digits, for scale.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

FORMULA = "exp(sin(x))/(1+x^2)"
X = 0.7
ORDERS = (5, 10, 20, 50, 100)


def adcli_script() -> str:
    script = Path(sys.executable).with_name("adcli")
    found = str(script) if script.exists() else shutil.which("adcli")
    if not found:
        sys.exit("adcli is not installed in this environment: pip install -e .")
    return found


# As installed: Python keeps compiled bytecode (the warm-up run writes it), so the rounds
# time adcli, not the compiler.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def whole_processes(rounds: int) -> None:
    adcli = adcli_script()
    commands = {
        "adcli grad --json": [adcli, "grad", FORMULA, "--at", f"x={X}", "--json"],
        "adcli deriv --order 20 --json": [adcli, "deriv", FORMULA, "--order", "20", "--at", f"x={X}", "--json"],
    }
    for cmd in commands.values():
        wall(cmd)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            times[name].append(wall(cmd))
    base = statistics.median(times["adcli grad --json"])
    print(f"Whole processes ({rounds} alternating rounds; target: deriv at most 1.30× grad)\n")
    print(f"| {'command':<30} | median ms | ratio |\n| --- | ---: | ---: |")
    for name, samples in times.items():
        print(f"| {name:<30} | {statistics.median(samples) * 1e3:9.1f} | {statistics.median(samples) / base:5.2f} |")
    print()


def truth(order: int) -> list[float]:
    """f⁽ᵏ⁾(0.7), k = 0 … order, by mpmath's Taylor arithmetic at 50 digits."""
    import mpmath as mp

    with mp.workdps(50):
        x = mp.mpf("0.7")
        coefficients = mp.taylor(lambda t: mp.exp(mp.sin(x + t)) / (1 + (x + t) ** 2), 0, order)
        return [float(c * mp.factorial(k)) for k, c in enumerate(coefficients)]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


def jax_tools():
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from jax.experimental import jet
    except ImportError:
        return None
    return jax, jnp, jet


def jax_jet(tools, order: int) -> tuple[float, float]:
    jax, jnp, jet = tools

    def f(x):
        return jnp.exp(jnp.sin(x)) / (1 + x**2)

    @jax.jit
    def series(x):
        terms = [jnp.ones(())] + [jnp.zeros(())] * (order - 1)
        _, out = jet.jet(f, (x,), ((terms),))
        return out[-1]

    start = time.perf_counter()
    value = float(series(jnp.asarray(X)))
    return time.perf_counter() - start, value


def jax_nested(tools, order: int) -> tuple[float, float]:
    jax, jnp, _ = tools

    def f(x):
        return jnp.exp(jnp.sin(x)) / (1 + x**2)

    g = f
    for _ in range(order):
        g = jax.grad(g)
    start = time.perf_counter()
    value = float(jax.jit(g)(jnp.asarray(X)))
    return time.perf_counter() - start, value


def sympy_diff(order: int) -> tuple[float, float] | None:
    try:
        import sympy
    except ImportError:
        return None
    start = time.perf_counter()
    x = sympy.Symbol("x")
    d = sympy.diff(sympy.exp(sympy.sin(x)) / (1 + x**2), x, order)
    value = float(d.evalf(subs={x: sympy.Float(X)}))
    return time.perf_counter() - start, value


def in_process(sympy_max: int, nested_max: int, jet_max: int) -> None:
    import adcli

    graph = adcli.parse(FORMULA)
    tools = jax_tools()
    try:
        import sympy  # noqa: F401

        have_sympy = True
    except ImportError:
        have_sympy = False
    print("In process (adcli: best of 20; JAX: first call, jit compile included; SymPy: diff then evaluate)\n")
    print(
        "| K | adcli ms | adcli µs / K² | adcli rel. error | jet s | jet rel. error "
        "| nested grad s | nested rel. error | SymPy s | SymPy rel. error |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for order in ORDERS:
        exact = truth(order)[order]
        seconds = best(lambda order=order: adcli.derivatives(graph, {"x": X}, order=order), 20)
        ours = adcli.derivatives(graph, {"x": X}, order=order).derivatives[order]
        cells = [f"{order}", f"{seconds * 1e3:.3f}", f"{seconds * 1e6 / order**2:.2f}", f"{rel(ours, exact):.1e}"]
        if tools is None:
            cells += ["not installed"] * 4
        else:
            if order <= jet_max:
                t, v = jax_jet(tools, order)
                cells += [f"{t:.2f}", f"{rel(v, exact):.1e}"]
            else:
                cells += [f"skipped (> {jet_max})", "—"]
            if order <= nested_max:
                t, v = jax_nested(tools, order)
                cells += [f"{t:.2f}", f"{rel(v, exact):.1e}"]
            else:
                cells += [f"skipped (> {nested_max})", "—"]
        if not have_sympy:
            cells += ["not installed", "—"]
        elif order <= sympy_max:
            t, v = sympy_diff(order)
            cells += [f"{t:.2f}", f"{rel(v, exact):.1e}"]
        else:
            cells += [f"skipped (> {sympy_max})", "—"]
        print("| " + " | ".join(cells) + " |")
    print()
    import mpmath as mp

    with mp.workdps(50):
        x = mp.mpf("0.7")
        seconds = best(lambda: mp.taylor(lambda t: mp.exp(mp.sin(x + t)) / (1 + (x + t) ** 2), 0, 20), 3)
    print(f"mpmath's own Taylor arithmetic (mp.taylor) at 50 digits, order 20: {seconds * 1e3:.1f} ms")
    worst = max(
        rel(d, e) for d, e in zip(adcli.derivatives(graph, {"x": X}, order=100).derivatives, truth(100), strict=True)
    )
    print(f"adcli's largest relative error over orders 0 … 100: {worst:.1e}")
    print("(µs / K² is flat where the cost grows as K², and falls where the per-coefficient overhead dominates)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--sympy-max", type=int, default=20, help="highest order SymPy is asked for (it slows fast)")
    parser.add_argument("--nested-max", type=int, default=6, help="highest order of nested jax.grad (exponential)")
    parser.add_argument("--jet-max", type=int, default=20, help="highest order of JAX jet (its compile grows fast)")
    args = parser.parse_args()
    whole_processes(args.rounds)
    in_process(args.sympy_max, args.nested_max, args.jet_max)


if __name__ == "__main__":
    main()
