"""The Python API's formula: a parsed graph with methods that call the engines.

adcli.parse builds one. The graph itself (adcli/core/graph.py) is data that the
engines read; this class sits above them, so that nothing below imports back up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .core.graph import Graph
from .errors import ArgumentError, kind_of

if TYPE_CHECKING:
    from .engines.gradient import Result
    from .engines.reverse import Plan

MODES = ("reverse", "forward")


class Formula(Graph):
    """A parsed formula: the graph (its variables, nodes and outputs) and what can be asked of it."""

    def input_values(self, point: Mapping[str, float]) -> list[float]:
        """The point's values in variable order (adcli.lang.point.input_values)."""
        from .lang.point import input_values

        return input_values(self, point)

    def reverse_plan(self, seeds: list[int]) -> Plan | None:
        """Reverse mode's planned sweep for these variables, after enough gradients: engines/reverse.py."""
        from .engines.reverse import reverse_plan

        return reverse_plan(self, seeds)

    def evaluate(self, point: Mapping[str, float]) -> float:
        """The formula's value at ``point`` (IEEE semantics: inf and nan, never an exception)."""
        from .engines.primal import sweep
        from .lang.point import input_values

        self.require_one_output("an evaluation")
        return sweep(self, input_values(self, point))[self.output]

    def differentiate(
        self, point: Mapping[str, float], mode: str = "reverse", wrt: Iterable[str] | None = None, record: bool = True
    ) -> Result:
        """Value, gradient, trace and warnings at ``point``, by forward or reverse mode.

        ``record=False`` skips keeping each step's local partials, tangents and adjoints
        (a trace needs them); if a derivative then is not finite, the partials are found
        after all, for the warning that says where.
        """
        from .engines.gradient import differentiate

        if not isinstance(mode, str) or mode not in MODES:
            shown = f"'{mode}'" if isinstance(mode, str) else kind_of(mode)
            raise ArgumentError(f"mode must be 'reverse' or 'forward', not {shown}")
        return differentiate(self, point, mode, wrt, record)

    def gradient(
        self, point: Mapping[str, float], mode: str = "reverse", wrt: Iterable[str] | None = None
    ) -> dict[str, float]:
        """The gradient at ``point`` as {variable: ∂f/∂variable}, in order of first appearance."""
        return self.differentiate(point, mode, wrt, record=False).gradient

    def evaluate_batch(self, columns: Mapping[str, Any]) -> Any:
        """The value at every row of ``columns`` ({variable: numpy array}): engines/batch.py."""
        from .engines.batch import evaluate_batch

        return evaluate_batch(self, columns)

    def gradient_batch(
        self, columns: Mapping[str, Any], wrt: Iterable[str] | None = None, mode: str = "reverse"
    ) -> tuple[Any, dict[str, Any]]:
        """Values and gradients at every row of ``columns``: (array, {variable: array})."""
        from .engines.batch import gradient_batch

        return gradient_batch(self, columns, wrt, mode)

    def jacobian_batch(self, columns: Mapping[str, Any], wrt: Iterable[str] | None = None, mode: str = "auto") -> Any:
        """(values (rows, outputs), Jacobians (rows, outputs, variables)): engines/batch_derivatives.py."""
        from .engines.batch_derivatives import jacobian_batch

        return jacobian_batch(self, columns, wrt, mode)

    def jvp_batch(self, columns: Mapping[str, Any], direction: Mapping[str, float]) -> Any:
        """(values (rows, outputs), J·v (rows, outputs)) along one direction for every row."""
        from .engines.batch_derivatives import jvp_batch

        return jvp_batch(self, columns, direction)

    def hessian_batch(self, columns: Mapping[str, Any], wrt: Iterable[str] | None = None) -> Any:
        """(values (rows,), gradients (rows, n), Hessians (rows, n, n)) at every row."""
        from .engines.batch_derivatives import hessian_batch

        return hessian_batch(self, columns, wrt)

    def hvp_batch(
        self, columns: Mapping[str, Any], direction: Mapping[str, float], wrt: Iterable[str] | None = None
    ) -> Any:
        """(values (rows,), gradients (rows, n), H·d (rows, n)) along one direction for every row."""
        from .engines.batch_derivatives import hvp_batch

        return hvp_batch(self, columns, direction, wrt)


def parse(text: str) -> Formula:
    """Parse a formula (or a program of statements) into a Formula (adcli.lang.parser.parse)."""
    from .lang.parser import parse as parse_graph

    return parse_graph(text, graph_class=Formula)
