"""Every entry of the operation table: its partials against central finite differences.

The finite difference is computed from the entry's own value function, so this checks
that each hand-written derivative rule matches the function it belongs to.
"""

import math

import pytest
from oracles import central_difference, close

from adcli.core import ieee
from adcli.core.ops import BY_NAME, FUNCTIONS, OPERATIONS

# Points inside each operation's domain and away from its kinks.
POINTS = {
    "add": [(1.5, -2.0), (1e3, 3.0)],
    "sub": [(1.5, -2.0), (0.1, 7.0)],
    "mul": [(1.5, -2.0), (-0.3, 4.0)],
    "div": [(1.5, -2.0), (3.0, 0.25)],
    "neg": [(1.5,), (-2.0,)],
    "pow": [(1.5, 2.0), (2.0, -0.5), (0.7, 3.3), (4.0, 0.5)],
    "sin": [(0.3,), (2.0,), (-4.0,)],
    "cos": [(0.3,), (2.0,), (-4.0,)],
    "tan": [(0.3,), (1.2,), (-0.5,)],
    "asin": [(0.3,), (-0.9,)],
    "acos": [(0.3,), (-0.9,)],
    "atan": [(0.3,), (-5.0,)],
    "sinh": [(0.3,), (-2.0,)],
    "cosh": [(0.3,), (-2.0,)],
    "tanh": [(0.3,), (-2.0,)],
    "asinh": [(0.3,), (-20.0,)],
    "acosh": [(1.5,), (20.0,)],
    "atanh": [(0.3,), (-0.9,)],
    "exp": [(0.3,), (-2.0,), (5.0,)],
    "expm1": [(1e-3,), (-2.0,), (3.0,)],
    "log": [(0.3,), (20.0,)],
    "log1p": [(0.3,), (-0.5,), (1e-4,)],
    "log2": [(0.3,), (20.0,)],
    "log10": [(0.3,), (20.0,)],
    "sqrt": [(0.3,), (20.0,)],
    "cbrt": [(0.3,), (-20.0,)],
    "abs": [(0.3,), (-2.0,)],
    "sign": [(0.3,), (-2.0,)],
    "floor": [(0.3,), (-2.5,)],
    "ceil": [(0.3,), (-2.5,)],
    "relu": [(0.3,), (-2.0,)],
    "sigmoid": [(0.3,), (-4.0,), (6.0,)],
    "softplus": [(0.3,), (-4.0,), (6.0,)],
    "erf": [(0.3,), (-1.5,)],
    "erfc": [(0.3,), (-1.5,)],
    "min": [(1.0, 2.0), (3.0, -1.0)],
    "max": [(1.0, 2.0), (3.0, -1.0)],
    "atan2": [(1.0, 2.0), (-3.0, -1.0), (0.5, -2.0)],
    "hypot": [(1.0, 2.0), (-3.0, 4.0)],
    "logb": [(8.0, 2.0), (0.5, 10.0), (3.0, 0.5)],
}


def test_every_operation_has_points():
    assert set(POINTS) == {op.name for op in OPERATIONS}


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_partials_match_central_differences(op):
    for point in POINTS[op.name]:
        assert len(point) == op.arity
        partials = op.local_partials(*point)
        assert len(partials) == op.arity == len(op.rule)
        for i, p in enumerate(partials):
            fd = central_difference(lambda x: op.value(*x), list(point), i)
            assert close(p, fd, rel=1e-6, abs_=1e-8), (op.name, point, i, p, fd)


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_values_match_python_math_inside_domain(op):
    """Inside the domain the IEEE wrappers are exactly Python's math."""
    reference = {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b,
        "neg": lambda a: -a,
        "pow": math.pow,
        "abs": abs,
        "sign": lambda a: math.copysign(1.0, a),
        "floor": math.floor,
        "ceil": math.ceil,
        "relu": lambda a: max(a, 0.0),
        "sigmoid": lambda a: 1 / (1 + math.exp(-a)),
        "softplus": lambda a: math.log(1 + math.exp(a)),
        "min": min,
        "max": max,
        "logb": lambda a, b: math.log(a) / math.log(b),
    }.get(op.name, getattr(math, op.name, None))
    assert reference is not None, op.name
    for point in POINTS[op.name]:
        assert close(op.value(*point), float(reference(*point)), rel=1e-14, abs_=1e-15), (op.name, point)


# The functions the language promises (issue 2).
ISSUE_FUNCTIONS = (
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "asinh",
    "acosh",
    "atanh",
    "exp",
    "expm1",
    "log",
    "log1p",
    "log2",
    "log10",
    "sqrt",
    "cbrt",
    "abs",
    "sign",
    "floor",
    "ceil",
    "min",
    "max",
    "relu",
    "sigmoid",
    "softplus",
    "erf",
    "erfc",
    "atan2",
    "hypot",
    "pow",
)


def test_function_names():
    assert FUNCTIONS["ln"][1] is BY_NAME["log"]
    assert FUNCTIONS["log"][2] is BY_NAME["logb"]
    assert FUNCTIONS["pow"][2] is BY_NAME["pow"]
    for name in ISSUE_FUNCTIONS:
        assert name in FUNCTIONS, name


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (-8.0, 1 / 3, math.nan),  # never a complex number
        (0.0, -1.0, math.inf),
        (-0.0, -1.0, -math.inf),
        (-0.0, -2.0, math.inf),
        (10.0, 400.0, math.inf),
        (-10.0, 401.0, -math.inf),
        (2.0, -2000.0, 0.0),
        (-2.0, 2.0, 4.0),
    ],
)
def test_ieee_pow(x, y, expected):
    assert close(ieee.pow(x, y), expected)


def test_ieee_division_signs():
    assert ieee.div(1.0, 0.0) == math.inf
    assert ieee.div(1.0, -0.0) == -math.inf
    assert ieee.div(-1.0, 0.0) == -math.inf
    assert math.isnan(ieee.div(0.0, 0.0))
    assert math.isnan(ieee.div(math.nan, 0.0))


@pytest.mark.parametrize("x", [0.5, 10.0, 20.0, 30.0, 40.0, -40.0, 300.0])
def test_tails_keep_full_precision(x):
    """tanh' and sigmoid' far out, against closed forms that do not cancel."""
    t = math.exp(-2 * abs(x))
    s = math.exp(-abs(x))
    assert close(BY_NAME["tanh"].local_partials(x)[0], 4 * t / (1 + t) ** 2, rel=1e-14, abs_=0.0)
    assert close(BY_NAME["sigmoid"].local_partials(x)[0], s / (1 + s) ** 2, rel=1e-14, abs_=0.0)


def test_sqrt_slope_at_negative_zero_is_plus_infinity():
    assert BY_NAME["sqrt"].local_partials(-0.0) == (math.inf,)


def test_the_table_is_not_changed_in_place():
    """Op and Leaf are plain classes with __slots__ (no dataclass at start-up), still immutable."""
    from adcli.core.ops import INPUT

    for thing, attribute in ((BY_NAME["sin"], "value"), (INPUT, "name")):
        with pytest.raises(AttributeError):
            setattr(thing, attribute, None)
        with pytest.raises(AttributeError):
            delattr(thing, attribute)
        with pytest.raises(AttributeError):
            thing.other = 1
    assert BY_NAME["sin"] == BY_NAME["sin"] and BY_NAME["sin"] != BY_NAME["cos"]
    assert repr(BY_NAME["sin"]) == "Op('sin')"
