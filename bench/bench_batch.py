"""Value and gradient at many random points, end to end from a CSV file to JSON Lines.

    python bench/bench_batch.py                # 10^6 rows
    python bench/bench_batch.py --rows 100000  # a quick run
    python bench/bench_batch.py --command hessian --rows 100000   # also jacobian, jvp
    python bench/bench_batch.py --readers      # only the ways to read the 20-column CSV

For the seed formula (x+y)*(x-y) and a 20-variable one (Σ sin(xᵢ)·xᵢ₊₁² + Σ exp(-xᵢ²)),
each a whole process, timed in this run: ``adcli grad EXPR --points FILE``; (a) a numpy
script written by hand with the analytic derivatives, reading with numpy.loadtxt and
writing each row with orjson; (b) JAX's jit(vmap(value_and_grad)) with its start and
compile, reading and writing as (a), if jax is installed. Then adcli's time split into
reading, differentiating and writing, measured in this process, and beside its reading the
way it read before (numpy.loadtxt a chunk at a time, as lang/rows.py did for plain numbers).

With ``--command jacobian|jvp|hessian``: ``adcli COMMAND --points FILE`` against ``adcli grad
--points`` on the same file (the Jacobian's formulas split into one output per term), and
against the one-point engine called row by row in this process (timed on the first
2,000 rows, scaled to all of them).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

N20 = 20
FORMULAS = {
    "(x+y)*(x-y)": ("(x+y)*(x-y)", ["x", "y"]),
    "20 variables": (
        " + ".join(f"sin(x{i})*x{i + 1}^2" for i in range(1, N20))
        + " + "
        + " + ".join(f"exp(-x{i}^2)" for i in range(1, N20 + 1)),
        [f"x{i}" for i in range(1, N20 + 1)],
    ),
}

_COMMON = """
import sys, numpy as np, orjson
data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1, ndmin=2)
names = open(sys.argv[1]).readline().strip().split(",")
"""

_WRITE = """
with open(sys.argv[2], "wb") as out:
    for v, row in zip(value.tolist(), grad.tolist()):
        out.write(orjson.dumps({"value": v, "gradient": dict(zip(names, row))}) + b"\\n")
"""

BY_HAND = {
    "(x+y)*(x-y)": """
x, y = data[:, 0], data[:, 1]
value = (x + y) * (x - y)
grad = np.column_stack([2 * x, -2 * y])
""",
    "20 variables": """
s, c, e = np.sin(data), np.cos(data), np.exp(-data * data)
sq = data[:, 1:] ** 2
value = (s[:, :-1] * sq).sum(1) + e.sum(1)
grad = -2 * data * e
grad[:, :-1] += c[:, :-1] * sq
grad[:, 1:] += 2 * s[:, :-1] * data[:, 1:]
""",
}

JAX = {
    "(x+y)*(x-y)": "def f(x):\n    return (x[0] + x[1]) * (x[0] - x[1])\n",
    "20 variables": "def f(x):\n    return jnp.sum(jnp.sin(x[:-1]) * x[1:] ** 2) + jnp.sum(jnp.exp(-x * x))\n",
}

_JAX_RUN = """
import jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
{f}
value, grad = jax.jit(jax.vmap(jax.value_and_grad(f)))(jnp.asarray(data))
value, grad = np.asarray(value), np.asarray(grad)
"""


def _jax_installed() -> bool:
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


def _write_points(path: Path, names: list[str], rows: int, rng) -> None:
    data = rng.uniform(-3.0, 3.0, size=(rows, len(names)))
    with open(path, "w") as out:
        out.write(",".join(names) + "\n")
        for row in data.tolist():
            out.write(",".join(map(repr, row)) + "\n")


def _timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _loadtxt_chunks(points: Path, chunk_rows: int) -> float:
    """The reading as it was: numpy.loadtxt on each chunk of lines, then a contiguous array per column."""
    import itertools

    start = time.perf_counter()
    with open(points, "rb") as stream:
        stream.readline()
        while lines := list(itertools.islice(stream, chunk_rows)):
            data = np.loadtxt(lines, delimiter=",", dtype=np.float64, ndmin=2, comments=None)
            _ = [np.ascontiguousarray(data[:, k]) for k in range(data.shape[1])]
    return time.perf_counter() - start


def _split(expr: str, points: Path) -> tuple[float, float, float, float]:
    """adcli's own parts, in process: reading the chunks, the engine, writing them; and the old reading."""
    from adcli import parse
    from adcli.cli.batch import CHUNK_ROWS
    from adcli.engines.batch import compile_batch, run
    from adcli.lang.rows import RowReader
    from adcli.render.rows import JsonLinesWriter

    graph = parse(expr)
    program = compile_batch(graph)
    start = time.perf_counter()
    with open(points, "rb") as stream:
        chunks = list(RowReader(stream, list(graph.variables), [], None, CHUNK_ROWS).chunks())
    read = time.perf_counter() - start
    before = _loadtxt_chunks(points, CHUNK_ROWS)
    start = time.perf_counter()
    results = [run(program, [c.columns[x] for x in graph.variables], len(c)) for c in chunks]
    compute = time.perf_counter() - start
    writer = JsonLinesWriter(io.BytesIO(), [], program.wrt)
    start = time.perf_counter()
    for r, c in zip(results, chunks, strict=True):
        writer.write(r.value, r.gradient, c.kept)
    write = time.perf_counter() - start
    return read, compute, write, before


def _lines_of(points: Path, chunk_rows: int):
    import itertools

    with open(points, "rb") as stream:
        stream.readline()
        while lines := list(itertools.islice(stream, chunk_rows)):
            yield lines


def _readers(points: Path, names: list[str]) -> dict[str, Callable[[list[bytes]], object]]:
    """Ways to read a chunk of CSV lines of numbers into a (rows, width) array, each exact
    (correctly rounded, as float()); pyarrow and pandas only where installed."""
    import warnings

    import orjson

    from adcli.cli.batch import CHUNK_ROWS
    from adcli.lang.rows import RowReader, json_rows

    width = len(names)

    def split_floats(lines):
        words = b"".join(lines).replace(b"\n", b",").split(b",")[:-1]
        return np.array(list(map(float, words))).reshape(-1, width)

    def fromstring(lines):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            text = b"".join(lines).replace(b"\n", b",").decode("ascii")
            return np.fromstring(text, dtype=np.float64, sep=",").reshape(-1, width)

    def orjson_whole_chunk(lines):
        return np.array(orjson.loads(b"[[" + b"".join(lines)[:-1].replace(b"\n", b"],[") + b"]]"))

    ways: dict[str, Callable[[list[bytes]], object]] = {
        "numpy.loadtxt (the reader before)": lambda lines: np.loadtxt(
            lines, delimiter=",", dtype=np.float64, ndmin=2, comments=None
        ),
        "float() over the split chunk": split_floats,
        "numpy.fromstring(sep=',')": fromstring,
        "orjson, the whole chunk as JSON arrays": orjson_whole_chunk,
        "orjson, the chunk in 128 KiB pieces": lambda lines: json_rows(b"".join(lines), width),
    }

    def adcli(_lines):  # reads the file itself, in blocks of whole lines
        with open(points, "rb") as stream:
            for _ in RowReader(stream, names, [], "csv", CHUNK_ROWS).chunks():
                pass

    ways["adcli's reader (blocks, orjson in pieces)"] = adcli
    try:
        import pyarrow as pa
        import pyarrow.csv as pcsv

        def arrow(_lines):  # reads the file itself, streaming, one thread
            options = pcsv.ReadOptions(use_threads=False, block_size=1 << 24)
            types = pcsv.ConvertOptions(column_types=dict.fromkeys(names, pa.float64()))
            for batch in pcsv.open_csv(points, read_options=options, convert_options=types):
                _ = [batch.column(k).to_numpy() for k in range(width)]

        ways["pyarrow.csv.open_csv (1 thread)"] = arrow
    except ImportError:
        pass
    try:
        import pandas as pd

        def pandas(_lines):  # reads the file itself; float_precision="round_trip" is the exact one
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pandas 3 deprecates the option; it asks for exact parsing
                for frame in pd.read_csv(points, chunksize=65536, dtype=np.float64, float_precision="round_trip"):
                    frame.to_numpy()

        ways["pandas.read_csv (round_trip)"] = pandas
    except ImportError:
        pass
    return ways


def _time_readers(points: Path, names: list[str], chunk_rows: int) -> None:
    ways = _readers(points, names)
    best = dict.fromkeys(ways, float("inf"))
    for _ in range(3):  # interleaved, best of three: a busy machine slows all alike
        for name, read in ways.items():
            start = time.perf_counter()
            if name.startswith(("pyarrow", "pandas", "adcli")):
                read(None)
            else:
                for lines in _lines_of(points, chunk_rows):
                    read(lines)
            best[name] = min(best[name], time.perf_counter() - start)
    base = best["numpy.loadtxt (the reader before)"]
    print(f"\n{'reading the 20-column CSV, chunks of ' + str(chunk_rows) + ' lines':44} {'s':>7} {'vs loadtxt':>10}")
    for name, t in best.items():
        print(f"{name:44} {t:7.2f} {t / base:10.2f}")


def _outputs(expr: str) -> str:
    """The formula's terms as outputs, for a Jacobian: "a + b + c" -> "a; b; c"."""
    return expr.replace(" + ", "; ")


def _derivative_bench(command: str, rows: int, rng) -> None:
    """adcli COMMAND --points against adcli grad --points and against the one-point engine per row."""
    from adcli import parse
    from adcli.engines import derivatives

    print(f"{rows:,} rows, CSV in, JSON Lines out; whole processes, seconds", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for label, (expr, names) in FORMULAS.items():
            points = folder / "points.csv"
            _write_points(points, names, rows, rng)
            out = str(folder / "out.jsonl")
            text = _outputs(expr) if command == "jacobian" else expr
            extra = ["--dir", f"{names[0]}=1"] if command == "jvp" else []
            run = [sys.executable, "-m", "adcli", command, text, "--points", str(points), "--out", out, *extra]
            grad = _timed([sys.executable, "-m", "adcli", "grad", expr, "--points", str(points), "--out", out])
            batch = _timed(run)
            graph = parse(text)
            data = np.loadtxt(points, delimiter=",", skiprows=1, ndmin=2)[:2000]
            start = time.perf_counter()
            for row in data.tolist():
                point = dict(zip(names, row, strict=True))
                if command == "jacobian":
                    derivatives.jacobian(graph, point)
                elif command == "jvp":
                    derivatives.jvp(graph, point, {names[0]: 1.0})
                else:
                    derivatives.hessian(graph, point)
            loop = (time.perf_counter() - start) * rows / len(data)
            print(f"\n{label}")
            print(f"{'program':44} {'s':>8} {'vs grad':>8}")
            for name, t in (
                ("adcli grad --points", grad),
                (f"adcli {command} --points", batch),
                (f"one-point {command}, row by row (scaled)", loop),
            ):
                print(f"{name:44} {t:8.2f} {t / grad:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10**6)
    parser.add_argument("--command", choices=["grad", "jacobian", "jvp", "hessian"], default="grad")
    parser.add_argument("--readers", action="store_true", help="only time the ways to read the 20-column CSV")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    if args.command != "grad":
        _derivative_bench(args.command, args.rows, rng)
        return
    if args.readers:
        from adcli.cli.batch import CHUNK_ROWS

        expr, names = FORMULAS["20 variables"]
        with tempfile.TemporaryDirectory() as tmp:
            points = Path(tmp) / "points.csv"
            _write_points(points, names, args.rows, rng)
            print(f"{args.rows:,} rows of {len(names)} numbers", flush=True)
            _time_readers(points, names, CHUNK_ROWS)
        return
    jax = _jax_installed()
    print(f"{args.rows:,} rows, CSV in, JSON Lines out; whole processes, seconds", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for label, (expr, names) in FORMULAS.items():
            points = folder / "points.csv"
            _write_points(points, names, args.rows, rng)
            hand = folder / "hand.py"
            hand.write_text(_COMMON + BY_HAND[label] + _WRITE)
            out = str(folder / "out.jsonl")
            times = {"(a) numpy by hand, loadtxt + orjson": _timed([sys.executable, str(hand), str(points), out])}
            if jax:
                script = folder / "jax_run.py"
                script.write_text(_COMMON + _JAX_RUN.format(f=JAX[label]) + _WRITE)
                times["(b) JAX jit(vmap(value_and_grad))"] = _timed([sys.executable, str(script), str(points), out])
            adcli = [sys.executable, "-m", "adcli", "grad", expr, "--points", str(points), "--out", out]
            times["adcli grad --points"] = _timed(adcli)
            base = times["(a) numpy by hand, loadtxt + orjson"]
            print(f"\n{label}")
            print(f"{'program':40} {'s':>7} {'vs (a)':>7} {'vs (b)':>7}")
            for name, t in times.items():
                vs_b = f"{t / times['(b) JAX jit(vmap(value_and_grad))']:7.2f}" if jax else "      –"
                print(f"{name:40} {t:7.2f} {t / base:7.2f} {vs_b}")
            if not jax:
                print("(b) JAX: not installed")
            read, compute, write, before = _split(expr, points)
            print(f"adcli's parts: reading {read:.2f} s, differentiating {compute:.2f} s, writing {write:.2f} s")
            print(f"reading as before (numpy.loadtxt per chunk): {before:.2f} s, {before / read:.1f}× adcli's")


if __name__ == "__main__":
    main()
