"""adcli: exact derivatives of formulas by automatic differentiation.

>>> import adcli
>>> g = adcli.parse("(x+y)*(x-y)")
>>> g.evaluate({"x": 3, "y": 2})
5.0
>>> g.gradient({"x": 3, "y": 2})
{'x': 6.0, 'y': -4.0}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import AdcliError, ArgumentError, EvaluationError, ParseError, PointError

if TYPE_CHECKING:
    from .core.graph import Graph
    from .formula import Formula, parse
    from .lang.point import parse_point

__version__ = "0.1.0"


def derivatives(graph, point, order, wrt=None, direction=None, record=False):
    """Derivatives of orders 0 … ``order`` along ``wrt`` or ``direction``, by Taylor mode.

    Returns a TaylorResult: ``.derivatives`` (dᵏf/dtᵏ), ``.coefficients`` (f⁽ᵏ⁾/k!),
    ``.warnings``; ``record=True`` keeps every node's series for a trace.
    """
    from .engines.taylor import expand

    return expand(graph, point, order, wrt=wrt, direction=direction, record=record)


def mixed_partial(graph, point, powers):
    """One mixed partial, ``powers`` as {"x": 2, "y": 1} or "x^2*y": exactly from directional expansions."""
    from .engines.taylor import mixed_partial as run

    return run(graph, point, powers)


__all__ = [
    "AdcliError",
    "ArgumentError",
    "EvaluationError",
    "Formula",
    "Graph",
    "ParseError",
    "PointError",
    "__version__",
    "check",
    "derivatives",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "mixed_partial",
    "parse",
    "parse_point",
    "vjp",
]

# Imported on first use, so that the adcli script starts inside its own Ctrl-C handling
# (adcli.cli.main) rather than while this package loads its parser.
_LAZY = {"Graph": ".core.graph", "Formula": ".formula", "parse": ".formula", "parse_point": ".lang.point"}
# jacobian(graph, point, wrt=None, mode="auto"), hessian(graph, point, wrt=None),
# hvp(graph, point, direction), jvp(graph, point, direction), vjp(graph, point, weights)
# and check(graph, point, against=None, rtol=1e-6, atol=1e-9): the engines' own functions.
_LAZY |= {name: ".engines.derivatives" for name in ("jacobian", "hessian", "hvp", "jvp", "vjp")}
_LAZY["check"] = ".engines.check"


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
