"""No input breaks adcli: malformed formulas and points, random text, huge inputs, hostile text."""

import cmath
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from formulas import formulas, points
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import run_adcli

import adcli
from adcli.core import ops

HERE = Path(__file__).resolve().parent
CORPUS = json.loads((HERE / "corpus" / "malformed.json").read_text(encoding="utf-8"))


def _assert_one_clear_error(run, message: str | None):
    assert run.code == 2, (run.code, run.err)
    assert run.out == ""
    assert "Traceback" not in run.err
    first = run.err.splitlines()[0]
    assert first.startswith("error: ")
    if message:
        assert message in first, first


@pytest.mark.parametrize(("formula", "message", "hint"), CORPUS["formulas"])
def test_malformed_formula(formula, message, hint):
    run = run_adcli("grad", "-", "--at", "x=1", stdin=formula)
    _assert_one_clear_error(run, message)
    lines = run.err.splitlines()
    if message.startswith(("unexpected", "unknown", "'", "sin(", "atan2(", "hypot(", "max(", "ln(", "log(")):
        assert lines[2].strip() == "^", run.err  # the caret display under the quoted formula
    if hint:
        assert "hint: " in run.err and hint in run.err, run.err


@pytest.mark.parametrize(("point", "message"), CORPUS["points"])
def test_malformed_point(point, message, tmp_path):
    args = ["--at", point]
    if point.startswith("{"):
        path = tmp_path / "point.json"
        path.write_text(point)
        args = ["--at", f"@{path}"]
    run = run_adcli("grad", "x*y", *args)
    if message is None:  # empty pieces between commas are allowed
        assert run.code == 0, run.err
        return
    _assert_one_clear_error(run, message)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_random_text_never_crashes_the_parser(text):
    try:
        adcli.parse(text)
    except adcli.AdcliError as error:
        assert str(error)
        assert "Traceback" not in str(error)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*"xy0123456789.e+-*/^(),;= \n#", "sin", "log", "**"]), max_size=40).map("".join))
def test_random_formula_like_text_never_crashes(text):
    try:
        graph = adcli.parse(text)
    except adcli.AdcliError:
        return
    point = {name: 0.5 for name in graph.variables}
    if len(graph.outputs) > 1:  # a gradient takes one output, and says so
        with pytest.raises(adcli.ParseError, match="one output"):
            graph.differentiate(point)
        return
    for mode in ("reverse", "forward"):
        result = graph.differentiate(point, mode)
        assert isinstance(result.value, float)


def test_random_bytes_on_the_command_line():
    for text in ["\udcff", "\x00\x01\x02", "((((((((((", "x" * 10_000 + "(", "\u202ex+y"]:
        run = run_adcli("eval", "-", stdin=text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
        assert run.code == 2 and "Traceback" not in run.err


# Complex-step differentiation: f'(x) = Im f(x + ih) / h, exact to rounding for analytic f.
# An oracle independent of both engines and of the table's derivative rules.

_COMPLEX = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "neg": lambda a: -a,
    "pow": lambda a, b: a**b,
}

_ANALYTIC = ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh")
_ANALYTIC += ("exp", "log", "log10", "sqrt")
_SINGULAR_AT_ZERO = {"sqrt", "hypot", "pow", "log", "log2", "log10", "log1p", "logb", "div", "atan2"}
_COMPLEX.update({name: getattr(cmath, name) for name in _ANALYTIC})
_COMPLEX.update(
    {
        "expm1": lambda a: cmath.exp(a) - 1,
        "log1p": lambda a: cmath.log(1 + a),
        "log2": lambda a: cmath.log(a) / math.log(2),
        "sigmoid": lambda a: 1 / (1 + cmath.exp(-a)),
        "softplus": lambda a: cmath.log(1 + cmath.exp(a)),
        "logb": lambda a, b: cmath.log(a) / cmath.log(b),
        "hypot": lambda a, b: cmath.sqrt(a * a + b * b),
        "atan2": lambda y, x: cmath.atan(y / x) if x.real > 0 else None,
    }
)


def complex_step(graph, point: dict[str, float], seed: int, real_values: list[float], h: float = 1e-30):
    """∂f/∂(variable seed) by evaluating the graph in complex arithmetic; None where it does not apply.

    It applies where every operation is analytic and the complex evaluation stays on the
    real branch the real evaluation took (its real parts match the real values).
    """
    values: list[complex] = [complex(point[name], h if k == seed else 0.0) for k, name in enumerate(graph.variables)]
    values += [complex(v) for v in graph.const_values]
    for i in range(graph.n_leaves, len(graph)):
        name = graph.ops[i].name
        fn = _COMPLEX.get(name)
        if fn is None:
            return None  # not analytic (abs, min, floor, ...)
        args = [values[a] for a in graph.args[i]]
        if name in _SINGULAR_AT_ZERO and (real_values[i] == 0.0 or any(a.real == 0.0 for a in args)):
            return None  # a branch point or a pole: no derivative for the complex step to see
        try:
            v = fn(*args)
        except (ValueError, ZeroDivisionError, OverflowError):
            return None
        real = real_values[i]
        if v is None or not math.isfinite(real) or not math.isclose(v.real, real, rel_tol=1e-9, abs_tol=1e-12):
            return None
        values.append(v)
    return values[graph.output].imag / h


@settings(max_examples=400, deadline=None)
@given(formulas, points)
def test_gradient_matches_the_complex_step(text, values):
    graph = adcli.parse(text)
    point = {name: values[name] for name in graph.variables}
    result = graph.differentiate(point, "reverse")
    for k, name in enumerate(graph.variables):
        oracle = complex_step(graph, point, k, result.values)
        got = result.gradient[name]
        if not math.isfinite(got):  # a singular step (acosh at 1, say): AD says so rather than guess
            assert any("derivative" in w for w in result.warnings), (text, point)
            continue
        if oracle is None or not math.isfinite(oracle):
            continue
        assert math.isclose(got, oracle, rel_tol=1e-9, abs_tol=1e-9 * max(1.0, abs(oracle))), (text, point, name)


def test_complex_step_oracle_on_a_hand_example():
    graph = adcli.parse("ln(x1) + x1*x2 - sin(x2)")
    point = {"x1": 2.0, "x2": 5.0}
    values = graph.differentiate(point).values
    assert complex_step(graph, point, 0, values) == pytest.approx(5.5, rel=1e-15)
    assert complex_step(graph, point, 1, values) == pytest.approx(2.0 - math.cos(5.0), rel=1e-15)


# Resource limits.


def _run_measured(args: list[str]) -> tuple[int, str, int]:
    """Exit code, stderr and peak resident memory (KiB) of one adcli process."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "adcli", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status), err, usage.ru_maxrss


def test_ten_megabyte_formula_in_bounded_memory(tmp_path):
    n = 10_000
    term = "100*(x{j} - x{i}^2)^2 + (1 - x{i})^2*{k}"
    terms, size, k = [], 0, 0
    while size < 10_000_000:
        t = term.format(i=k % n, j=(k + 1) % n, k=k)
        terms.append(t)
        size += len(t) + 3
        k += 1
    formula = tmp_path / "big.txt"
    formula.write_text(" + ".join(terms))
    point = tmp_path / "point.json"
    point.write_text(json.dumps({f"x{i}": 0.5 for i in range(n)}))
    code, err, peak_kib = _run_measured(["grad", f"@{formula}", "--at", f"@{point}", "--json"])
    assert code == 0, err[-1000:]
    assert peak_kib < 1_500_000, f"peak memory {peak_kib / 1024:.0f} MiB"


def test_formula_over_the_limit_is_refused(tmp_path):
    from adcli.lang.parser import MAX_FORMULA_CHARS

    formula = tmp_path / "huge.txt"
    formula.write_text("x+" * (MAX_FORMULA_CHARS // 2) + "x")
    code, err, peak_kib = _run_measured(["grad", f"@{formula}", "--at", "x=1"])
    assert code == 2
    assert re.match(r"error: the formula file '.*' is longer than [\d,]+ characters, the most adcli reads", err)
    assert peak_kib < 1_000_000


# Security: the formula is data.


def test_python_is_not_reachable_from_a_formula():
    for text in ["__import__('os').system('true')", "open('/etc/passwd')", "globals()", "x.__class__"]:
        with pytest.raises(adcli.ParseError):
            adcli.parse(text)
    # A Python name is only a variable like any other.
    assert adcli.parse("exec + eval").evaluate({"exec": 1.0, "eval": 2.0}) == 3.0


def test_only_table_functions_are_callable():
    callable_names = set(ops.FUNCTIONS)
    for name in ["print", "open", "eval", "exec", "getattr", "system", "__import__", "compile", "input"]:
        assert name not in callable_names
        with pytest.raises(adcli.ParseError, match="unknown function"):
            adcli.parse(f"{name}(1)")


def test_no_eval_or_exec_in_the_package():
    package = Path(adcli.__file__).resolve().parent
    pattern = re.compile(r"(?<![\w.])(eval|exec|compile|__import__)\s*\(")
    offenders = [
        f"{path.name}:{n}: {line.strip()}"
        for path in package.rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
