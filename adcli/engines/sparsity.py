"""Which entries of a Jacobian can be nonzero, and how few sweeps compute them all.

The pattern comes from the graph alone, before any point: an output's row holds the
variables it depends on along edges that carry derivatives. Columns that share no row
can be seeded together in one forward sweep and told apart afterwards (Curtis, Powell
and Reid, 1974), so a tridiagonal Hessian takes three sweeps whatever its size; rows
that share no column can share a reverse sweep likewise. A greedy colouring in order
finds the groups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.graph import Graph


def pattern(graph: Graph, rows: list[int], columns: list[int], cap: int | None = None) -> list[frozenset[int]] | None:
    """For each row node, the positions in ``columns`` (input nodes) it depends on; None past ``cap``.

    A set larger than ``cap`` anywhere means the pattern is too dense to pay for
    colouring: the caller sweeps once per column instead. Only the nodes the rows
    need are visited.
    """
    n, first = len(graph), graph.n_leaves
    needed = bytearray(n)
    for row in rows:
        needed[row] = 1
    flows = graph.flows
    for i in range(max(rows, default=-1), first - 1, -1):
        if needed[i]:
            a, b = flows[i - first]
            if a >= 0:
                needed[a] = 1
            if b >= 0:
                needed[b] = 1
    empty: frozenset[int] = frozenset()
    sets: list[frozenset[int]] = [empty] * n
    for j, node in enumerate(columns):
        sets[node] = frozenset((j,))
    limit = len(columns) if cap is None else cap
    for i in range(first, n):
        if not needed[i]:
            continue
        a, b = flows[i - first]
        s = sets[a] if a >= 0 else empty
        if b >= 0 and sets[b] is not s:
            s = s | sets[b]
        if len(s) > limit:
            return None
        sets[i] = s
    return [sets[row] for row in rows]


def colour_columns(rows: list[frozenset[int]], n_columns: int) -> list[int]:
    """A colour for each column such that no row holds two columns of one colour (greedy, in order)."""
    rows_of: list[list[int]] = [[] for _ in range(n_columns)]
    for r, row in enumerate(rows):
        for j in row:
            rows_of[j].append(r)
    colour = [-1] * n_columns
    for j in range(n_columns):
        taken = {colour[k] for r in rows_of[j] for k in rows[r]}
        c = 0
        while c in taken:
            c += 1
        colour[j] = c
    return colour


def transpose(rows: list[frozenset[int]], n_columns: int) -> list[frozenset[int]]:
    """The column sets of a pattern given by rows: for each column, the rows that hold it."""
    columns: list[set[int]] = [set() for _ in range(n_columns)]
    for r, row in enumerate(rows):
        for j in row:
            columns[j].add(r)
    return [frozenset(c) for c in columns]
