"""What the engines beyond the gradient return: one type per kind of result.

Renderers display these and never recompute them. Each knows its graph, the point,
the variables it differentiates by (in order of first appearance, or as --wrt gave
them) and the warnings a reader of its numbers must see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.graph import Graph


@dataclass
class JacobianResult:
    """∂(each output)/∂(each variable): one row per output, one column per variable."""

    graph: Graph
    point: dict[str, float]
    variables: tuple[str, ...]
    outputs: tuple[str, ...]  # each output as the formula writes it
    values: list[float]  # each output's value
    matrix: list[list[float]]
    mode: str  # the mode that ran: "forward" or "reverse"
    sweeps: dict[str, int]  # what each mode costs in sweeps, for this pattern
    requested: str = "auto"  # the mode asked for
    warnings: list[str] = field(default_factory=list)


@dataclass
class HessianResult:
    """Value, gradient and exact second derivatives ∂²f/∂xᵢ∂xⱼ, by forward over reverse."""

    graph: Graph
    point: dict[str, float]
    variables: tuple[str, ...]
    value: float
    gradient: dict[str, float]
    matrix: list[list[float]]
    entries: list[tuple[int, int]]  # the structurally nonzero entries (i, j), row by row
    sweeps: int  # forward sweeps over the recorded gradient: colours of the pattern
    warnings: list[str] = field(default_factory=list)


@dataclass
class DirectionalResult:
    """A product with a direction: J·v (jvp), vᵀJ (vjp) or H·v (hessian --dir).

    ``product`` is one number per output for J·v and one per variable for vᵀJ and H·v, as
    (output text or variable name, number) pairs in order: two outputs may read alike.
    """

    graph: Graph
    kind: str  # "jvp", "vjp" or "hvp"
    point: dict[str, float]
    direction: list[tuple[str, float]]  # the seed: a tangent per variable, or a weight per output
    outputs: tuple[str, ...]
    values: list[float]
    product: list[tuple[str, float]]
    gradient: dict[str, float] | None = None  # hvp only: the gradient at the point
    trace: object | None = None  # the gradient-kind Result that holds the sweep's trace, when asked
    warnings: list[str] = field(default_factory=list)


@dataclass
class CheckRow:
    """One variable's partial derivative, by every method that applies."""

    variable: str
    forward: float
    reverse: float
    difference: float  # the finite-difference estimate
    difference_error: float  # its own error estimate (from the extrapolation)
    against: float | None  # the user's hand-derived partial, if given
    agree: bool
    note: str = ""  # why a comparison does not apply, where it does not


@dataclass
class CheckResult:
    """Forward mode, reverse mode, finite differences and the user's partials, side by side."""

    graph: Graph
    point: dict[str, float]
    value: float
    rows: list[CheckRow]
    rtol: float
    atol: float
    against: tuple[str, ...] = ()  # the hand-derived formulas, one per variable
    warnings: list[str] = field(default_factory=list)

    @property
    def agree(self) -> bool:
        return all(row.agree for row in self.rows)
