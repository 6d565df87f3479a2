"""Jacobians, J·v, Hessians and H·v at many points: the batch engine's sweeps, combined as at one point.

Each `compile_*` turns a graph into one `Program` (engines/batch.py) whose registers are
arrays over a chunk's rows; the sweeps are the batch engine's own (the rule formulas of the
one table, run on arrays), combined as engines/derivatives.py combines the scalar ones:

- a Jacobian by one forward sweep per colour of its columns, or one reverse sweep per output,
  whichever the one-point command's auto rule picks (it counts sweeps after colouring);
- J·v by one forward sweep seeded with v;
- a Hessian forward over reverse: the recorded gradient graph (rules.gradient_graph, the same
  one the one-point command runs) swept forward once per colour of its pattern; H·d by one
  forward sweep over it seeded with d.

The program's ``blocks`` name its results ({"value": …, "jacobian": …}), each a shape per
row and the registers that fill it in row-major order; `run_blocks` returns them as arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import AdcliError, PointError
from . import sparsity
from .batch import (
    Program,
    _columns,
    _kinks,
    _partials,
    _primal,
    _reverse,
    _tangents,
    _watched,
)
from .primal import active_nodes

if TYPE_CHECKING:
    from ..core.graph import Graph

Array = np.ndarray


def jacobian_plan(graph: Graph, seeds: list[int], mode: str = "auto"):
    """(pattern, column colours, chosen mode, sweeps) as the one-point jacobian decides them:
    forward or reverse by the count of sweeps after colouring, forward only when strictly fewer."""
    from . import derivatives

    if mode not in derivatives.JACOBIAN_MODES:
        raise AdcliError(f"mode must be one of {', '.join(derivatives.JACOBIAN_MODES)}, not {mode!r}")
    rows, column_colours, _, sweeps = derivatives.jacobian_plan(graph, seeds)
    chosen = mode if mode != "auto" else ("forward" if sweeps["forward"] < sweeps["reverse"] else "reverse")
    return rows, column_colours, chosen, sweeps


def _by_colour(
    prog: Program, graph: Graph, nan_rows, seeds: list[int], outputs: list[int], rows, colours, partial, matrix
) -> None:
    """Fill ``matrix`` (registers, outputs × seeds) by one forward sweep per colour of the columns:
    with a pattern, each row holds at most one column of a colour, so its tangent is that entry."""
    groups: dict[int, list[int]] = {}
    for j, c in enumerate(colours):
        groups.setdefault(c, []).append(j)
    where = None if rows is None else [{colours[j]: j for j in row} for row in rows]
    one = prog.constant(1.0)
    for c, group in groups.items():
        tangents = _tangents(prog, graph, nan_rows, {seeds[j]: one for j in group}, outputs, partial)
        for r, t in enumerate(tangents):
            column = group[0] if where is None else where[r].get(c)
            if column is not None:
                matrix[r][column] = t


def _blocks(prog: Program, blocks: Mapping[str, tuple[tuple[int, ...], list[int]]], kinks: list[int]) -> Program:
    prog.blocks = dict(blocks)
    prog.kinks = kinks
    prog.finish([r for _, regs in blocks.values() for r in regs] + kinks)
    return prog


def _flat(matrix: list[list[int]]) -> list[int]:
    return [r for row in matrix for r in row]


def compile_jacobian(graph: Graph, wrt: Iterable[str] | None = None, mode: str = "auto") -> Program:
    """Every output's value and row of the Jacobian: blocks "value" (m) and "jacobian" (m × n)."""
    seeds = graph.variable_nodes(wrt)
    rows, colours, chosen, sweeps = jacobian_plan(graph, seeds, mode)
    outputs = list(graph.outputs)
    prog = Program(graph, tuple(graph.variables[s] for s in seeds), chosen)
    prog.sweeps = sweeps
    active = graph.varies if len(seeds) == graph.n_inputs else active_nodes(graph, seeds)
    node, nan_rows = _primal(prog, graph, _watched(graph, active, chosen, outputs) if seeds else None)
    partial = _partials(prog, graph, node)
    zero = prog.constant(0.0)
    matrix = [[zero] * len(seeds) for _ in outputs]
    if seeds and chosen == "forward":
        _by_colour(prog, graph, nan_rows, seeds, outputs, rows, colours, partial, matrix)
    elif seeds:
        matrix = [_reverse(prog, graph, nan_rows, seeds, active, partial, output) for output in outputs]
    m, n = len(outputs), len(seeds)
    blocks = {"value": ((m,), [node[o] for o in outputs]), "jacobian": ((m, n), _flat(matrix))}
    return _blocks(prog, blocks, _kinks(prog, graph, node, seeds))


def compile_jvp(graph: Graph, direction: Mapping[str, float]) -> Program:
    """Every output's value and derivative along ``direction`` (a variable left out is 0), as the
    one-point jvp: blocks "value" (m) and "jvp" (m)."""
    from .derivatives import direction_vector

    seed = direction_vector(graph, direction)
    outputs = list(graph.outputs)
    prog = Program(graph, tuple(graph.variables), "forward")
    active = active_nodes(graph, list(seed))
    node, nan_rows = _primal(prog, graph, active if seed else None)
    partial = _partials(prog, graph, node)
    product = _tangents(prog, graph, nan_rows, {s: prog.constant(t) for s, t in seed.items()}, outputs, partial)
    m = len(outputs)
    blocks = {"value": ((m,), [node[o] for o in outputs]), "jvp": ((m,), product)}
    return _blocks(prog, blocks, _kinks(prog, graph, node, [s for s, t in seed.items() if t != 0.0]))


def compile_hessian(
    graph: Graph, wrt: Iterable[str] | None = None, direction: Mapping[str, float] | None = None
) -> Program:
    """Value, gradient and Hessian (blocks "value", "gradient" (n), "hessian" (n × n)); with
    ``direction``, H·d in place of the Hessian (block "hvp" (n)), as the one-point hessian --dir."""
    from .derivatives import direction_vector, recorded_gradient

    graph.require_one_output("a Hessian")
    seeds = graph.variable_nodes(wrt)
    seed: dict[int, float] = {}
    if direction is not None:
        seed = direction_vector(graph, direction)
        allowed = set(seeds)
        outside = [graph.variables[i] for i in seed if i not in allowed and seed[i] != 0.0]
        if outside:
            raise PointError(f"the direction names '{outside[0]}', which --wrt holds fixed")
    n = len(seeds)
    prog = Program(graph, tuple(graph.variables[s] for s in seeds), "forward")
    node, _ = _primal(prog, graph, None)
    kinks = _kinks(prog, graph, node, seeds)
    blocks: dict[str, tuple[tuple[int, ...], list[int]]] = {"value": ((), [node[graph.output]])}
    last = "hvp" if direction is not None else "hessian"
    if not n:
        blocks["gradient"] = ((0,), [])
        blocks[last] = ((0,) if direction is not None else (0, 0), [])
        return _blocks(prog, blocks, kinks)
    recorded = recorded_gradient(graph, seeds)
    outputs = list(recorded.outputs)
    active = active_nodes(recorded, seeds)
    rnode, nan_rows = _primal(prog, recorded, active, inputs=node[: graph.n_inputs])
    partial = _partials(prog, recorded, rnode)
    blocks["gradient"] = ((n,), [rnode[o] for o in outputs])
    if direction is not None:
        tangents = {s: prog.constant(t) for s, t in seed.items()}
        blocks["hvp"] = ((n,), _tangents(prog, recorded, nan_rows, tangents, outputs, partial))
    else:
        rows = sparsity.pattern(recorded, outputs, seeds, cap=max(8, n // 4))
        colours = list(range(n)) if rows is None else sparsity.colour_columns(rows, n)
        prog.sweeps = max(colours, default=-1) + 1
        zero = prog.constant(0.0)
        matrix = [[zero] * n for _ in range(n)]
        _by_colour(prog, recorded, nan_rows, seeds, outputs, rows, colours, partial, matrix)
        blocks["hessian"] = ((n, n), _flat(matrix))
    # Kinks met only by the second derivative: past the recorded graph's copy of the formula.
    kinks += _kinks(prog, recorded, rnode, seeds, start=recorded.n_leaves + graph.operation_count)
    return _blocks(prog, blocks, kinks)


class BlocksResult:
    """A chunk's results: every number of a row in block order (row-major within a block), as
    ``numbers`` (k × rows: one contiguous array per entry), the blocks as views of shape
    (rows, *block shape), and the rows at a kink (None: no operation on the way has one)."""

    def __init__(self, numbers: Array, blocks: dict[str, Array], kinks: Array | None):
        self.numbers = numbers
        self.blocks = blocks
        self.kinks = kinks

    def nonfinite(self) -> Array:
        """Rows with some value or derivative that is not finite."""
        return ~np.isfinite(self.numbers).all(axis=0)

    def flat(self) -> Array:
        """(rows, k): row r's numbers in block order (a view)."""
        return self.numbers.T


def run_blocks(prog: Program, inputs: list[Array], rows: int) -> BlocksResult:
    """Run a compiled program on one chunk: ``inputs`` in variable order, each of ``rows`` entries."""
    regs = prog.run(inputs)
    registers = [r for _, block in prog.blocks.values() for r in block]
    numbers = np.empty((len(registers), rows))
    for i, r in enumerate(registers):
        numbers[i] = regs[r]  # a constant (a structural zero) fills its row
    blocks, at = {}, 0
    for name, (shape, block) in prog.blocks.items():
        blocks[name] = numbers[at : at + len(block)].T.reshape(rows, *shape)
        at += len(block)
    kinks = None
    if prog.kinks:
        kinks = np.zeros(rows, dtype=bool)
        for r in prog.kinks:
            kinks |= regs[r]
    return BlocksResult(numbers, blocks, kinks)


# The Python API: {variable: array} in, arrays out.


def jacobian_batch(
    graph: Graph, columns: Mapping[str, Any], wrt: Iterable[str] | None = None, mode: str = "auto"
) -> tuple[Array, Array]:
    """(values (rows, outputs), Jacobians (rows, outputs, variables)) at every row of ``columns``."""
    inputs, rows = _columns(graph, columns)
    blocks = run_blocks(compile_jacobian(graph, wrt, mode), inputs, rows).blocks
    return blocks["value"], blocks["jacobian"]


def jvp_batch(graph: Graph, columns: Mapping[str, Any], direction: Mapping[str, float]) -> tuple[Array, Array]:
    """(values (rows, outputs), J·v (rows, outputs)) at every row of ``columns``."""
    inputs, rows = _columns(graph, columns)
    blocks = run_blocks(compile_jvp(graph, direction), inputs, rows).blocks
    return blocks["value"], blocks["jvp"]


def hessian_batch(
    graph: Graph, columns: Mapping[str, Any], wrt: Iterable[str] | None = None
) -> tuple[Array, Array, Array]:
    """(values (rows,), gradients (rows, n), Hessians (rows, n, n)) at every row of ``columns``."""
    inputs, rows = _columns(graph, columns)
    blocks = run_blocks(compile_hessian(graph, wrt), inputs, rows).blocks
    return blocks["value"], blocks["gradient"], blocks["hessian"]


def hvp_batch(
    graph: Graph, columns: Mapping[str, Any], direction: Mapping[str, float], wrt: Iterable[str] | None = None
) -> tuple[Array, Array, Array]:
    """(values (rows,), gradients (rows, n), H·d (rows, n)) at every row of ``columns``."""
    inputs, rows = _columns(graph, columns)
    blocks = run_blocks(compile_hessian(graph, wrt, direction), inputs, rows).blocks
    return blocks["value"], blocks["gradient"], blocks["hvp"]
