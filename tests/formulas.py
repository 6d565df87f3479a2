"""Hypothesis strategies: random formulas over the whole operation table."""

from __future__ import annotations

from hypothesis import strategies as st

from adcli.core.ops import OPERATIONS

VARIABLES = ("x", "y", "z")

_UNARY = [op.name for op in OPERATIONS if op.arity == 1 and op.is_function]
_BINARY_FUNCTIONS = ["min", "max", "atan2", "hypot", "pow", "log"]
_INFIX = ["+", "-", "*", "/", "^"]

leaves = st.one_of(
    st.sampled_from(VARIABLES),
    st.sampled_from(["2", "0.5", "3", "1.5", "pi", "e", "1e-3"]),
)


def _extend(children):
    return st.one_of(
        st.tuples(st.sampled_from(_UNARY), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(children, st.sampled_from(_INFIX), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(_BINARY_FUNCTIONS), children, children).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        children.map(lambda c: f"-{c}"),
    )


formulas = st.recursive(leaves, _extend, max_leaves=12)

points = st.fixed_dictionaries(
    {name: st.floats(min_value=-3.0, max_value=3.0, allow_nan=False).map(lambda v: round(v, 3)) for name in VARIABLES}
)
