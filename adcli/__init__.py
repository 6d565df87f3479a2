"""adcli: exact derivatives of formulas by automatic differentiation.

>>> import adcli
>>> g = adcli.parse("(x+y)*(x-y)")
>>> g.evaluate({"x": 3, "y": 2})
5.0
>>> g.gradient({"x": 3, "y": 2})
{'x': 6.0, 'y': -4.0}
"""

from __future__ import annotations

from .core.graph import Graph
from .errors import AdcliError, EvaluationError, ParseError, PointError
from .lang.parser import parse
from .lang.point import parse_point

__version__ = "0.1.0"

__all__ = [
    "AdcliError",
    "EvaluationError",
    "Graph",
    "ParseError",
    "PointError",
    "__version__",
    "parse",
    "parse_point",
]
