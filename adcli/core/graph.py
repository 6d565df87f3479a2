"""The computational graph: a Wengert list of elementary operations.

Nodes are numbered in evaluation order: the inputs (variables, in order of first
appearance), then the constants, then the operations, each reading only earlier
nodes. Engines walk this list forwards or backwards; nothing recurses on depth.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from itertools import repeat

from ..errors import ArgumentError, ParseError, PointError, kind_of
from .ops import ATOM, POWER, UNARY

# Graph.expression: how many nodes of a chain of bare arguments are remembered, and the
# mark for "the text goes on above what was kept".
_CHAIN_KEPT = 64
_CUT = object()


class Graph:
    """A parsed formula: its variables, its nodes and the node that is its value.

    Data only: the engines read it, and keep what they work out about it (reverse mode's
    plans) beside it; the methods that call them are adcli.formula.Formula's.
    """

    def __init__(
        self,
        text: str,
        variables: tuple[str, ...],
        ops: list,
        args: list[tuple[int, ...]],
        const_values: list[float],
        leaf_text: list[str],
        labels: dict[int, str],
        outputs: tuple[int, ...],
        output_starts: tuple[int, ...] = (),
        named: dict[str, int] | None = None,
        output_text: tuple[str, ...] = (),
    ):
        self.text = text
        self.variables = variables
        self.ops = ops
        self.args = args
        self.const_values = const_values
        self.leaf_text = leaf_text
        self.labels = labels
        self.outputs = outputs
        self.output_starts = output_starts  # where each output after the first starts in the text
        self.named = named or {}  # each named statement's node
        self.output_text = output_text  # each output as the formula writes it (empty for a recorded graph)
        self.output = outputs[-1]  # the output, for what takes one (a gradient); see require_one_output
        self.n_inputs = len(variables)
        self.n_leaves = self.n_inputs + len(const_values)
        # What the engines run, one entry per operation: (value function, first argument,
        # second argument or -1) and (∂/∂first rule, ∂/∂second rule or None, first, second).
        # And the edges derivatives flow along: (first, second), -1 for none; an argument
        # whose partial is the constant 0 (floor, sign) carries none, so ∞·0 never arises.
        self.code: list[tuple] = []
        self.rules: list[tuple] = []
        self.flows: list[tuple[int, int]] = []
        add_code, add_rule, add_flow = self.code.append, self.rules.append, self.flows.append
        for op, a in zip(ops[self.n_leaves :], args[self.n_leaves :], strict=True):
            partials = op.partials
            if len(a) > 1:
                first, second = a[0], a[1]
                pa, pb = partials[0], partials[1]
                add_code((op.value, first, second))
                add_rule((pa, pb, first, second))
                add_flow((-1 if pa == 0.0 else first, -1 if pb == 0.0 else second))
            else:
                first = a[0]
                pa = partials[0]
                add_code((op.value, first, -1))
                add_rule((pa, None, first, -1))
                add_flow((-1 if pa == 0.0 else first, -1))
        # Operations with a point where the derivative is a convention (abs, min, floor, ...),
        # and those whose partial may be zero because a branch is not taken (relu, min, ...).
        self.kinked = [i for i in range(self.n_leaves, len(ops)) if ops[i].kink is not None]
        self.selectors = [i for i in range(self.n_leaves, len(ops)) if ops[i].selects]
        # Which nodes depend on some input; nodes that do not (2*pi, say) carry no derivative.
        self.varies = active_nodes(self, range(self.n_inputs))

    @cached_property
    def needed(self) -> list[bool]:
        """Which nodes the outputs depend on (a statement no output uses is not)."""
        needed = [False] * len(self)
        for output in self.outputs:
            needed[output] = True
        for i in range(max(self.outputs), self.n_leaves - 1, -1):
            if needed[i]:
                for a in self.args[i]:
                    needed[a] = True
        return needed

    @cached_property
    def users(self) -> list[list[int]]:
        """For each node, the operations that read it along an edge that carries derivatives."""
        users: list[list[int]] = [[] for _ in range(len(self))]
        for i, (a, b) in enumerate(self.flows, start=self.n_leaves):
            if a >= 0:
                users[a].append(i)
            if b >= 0 and b != a:
                users[b].append(i)
        return users

    def require_one_output(self, command: str) -> None:
        """Refuse a formula of several outputs where ``command`` takes one: quote where the second starts."""
        if len(self.outputs) == 1:
            return
        pos = self.output_starts[0]
        newline = self.text[pos] == "\n"
        rest = self.text[pos + 1 :].lstrip(" \t")
        if newline and rest[:1] in ("+", "-"):
            hint = (
                "a line that starts with an operator begins a new statement: to go on with a formula on the next "
                "line, end the line with an operator or leave a parenthesis open; to keep a step, name it (a = ...)"
            )
        else:
            hint = "'adcli jacobian' differentiates several outputs; to keep a step without output, name it (a = ...)"
        raise ParseError(
            f"{command} takes a formula with one output, and this one has {len(self.outputs)}: each unnamed "
            "statement is an output",
            self.text,
            pos,
            hint=hint,
        )

    @cached_property
    def unused_statements(self) -> list[str]:
        """Named statements no output uses: likely a slip (a line that was meant to go on)."""
        if not self.named:  # the common formula: nothing to look for
            return []
        needed = self.needed
        return [name for name, node in self.named.items() if not needed[node]]

    def __len__(self) -> int:
        return len(self.ops)

    def __repr__(self) -> str:
        return f"<adcli.Graph of {len(self)} nodes, variables {', '.join(self.variables) or '(none)'}>"

    @property
    def operation_count(self) -> int:
        return len(self) - self.n_leaves

    # Points.

    def variable_nodes(self, wrt: Iterable[str] | None) -> list[int]:
        """Node numbers of the variables to differentiate by (all of them when wrt is None)."""
        if wrt is None:
            return list(range(self.n_inputs))
        if isinstance(wrt, str):  # "x,y" or "x": names, not characters
            wrt = [name.strip() for name in wrt.split(",")]
        elif not isinstance(wrt, Iterable):
            raise ArgumentError(f"wrt takes variable names ('x,y' or ['x', 'y']), not {kind_of(wrt)}")
        index = {name: i for i, name in enumerate(self.variables)}
        nodes, seen = [], set()
        for name in wrt:
            if not isinstance(name, str):
                raise ArgumentError(f"wrt takes variable names ('x,y' or ['x', 'y']), not {kind_of(name)}")
            if name not in index:
                raise PointError(f"wrt {self._unknown_message(name)}")
            if name in seen:
                raise PointError(f"wrt names '{name}' twice")
            seen.add(name)
            nodes.append(index[name])
        return nodes

    # Text.

    def expression(self, node: int | None = None, limit: int = 60, use_labels: bool = True) -> str:
        """Infix text of a node's subexpression; past ``limit`` characters its head and tail around "…".

        Named statements print as their names. A long sum reads ``x1 + x2 + … + x99 + x100``:
        the text is written from both ends by an explicit stack, each end stopping at its
        share of ``limit``, so the cost is bounded by ``limit`` whatever the size or depth of
        the graph (a chain of operators that writes nothing on the way down, as the left
        side of a long sum, is skipped by _chain, which walks each chain once).
        """
        root = self.output if node is None else node
        limit = max(limit, 1)
        pieces, complete = self._written(root, limit, True, use_labels)
        if complete:
            return "".join(pieces)
        back, _ = self._written(root, (limit - 1) // 2, False, use_labels)
        while len(back) > 1 and isinstance(back[-1], _Word):  # the tail starts at an operator
            back.pop()
        tail = "".join(reversed(back))
        room = limit - 1 - len(tail)
        head: list[str] = []
        for piece in pieces:
            if len(piece) > room:
                if not head:  # one long name: cut it rather than show nothing
                    head.append(piece[:room])
                break
            head.append(piece)
            room -= len(piece)
        while len(head) > 1 and isinstance(head[-1], _Word):  # and the head ends at one
            head.pop()
        return "".join(head) + "…" + tail

    def _shown_as_name(self, n: int, use_labels: bool) -> bool:
        """A constant, a variable, or (below the root) a named statement: written as one word."""
        return n < self.n_leaves or (use_labels and n in self.labels)

    def _parts(self, n: int, use_labels: bool) -> list:
        """Operation ``n`` as text pieces and argument nodes, in order: ``[a, " + ", b]``, ``[sin, "(", a, ")"]``."""

        def precedence(a: int) -> int:
            return ATOM if self._shown_as_name(a, use_labels) else self.ops[a].precedence

        op, args = self.ops[n], self.args[n]
        if op.is_function:
            parts: list = [_Word(op.written), "("]
            for k, a in enumerate(args):
                parts += [", "] * (k > 0) + [a]
            parts.append(")")
            return parts
        if len(args) == 1:
            return [op.symbol, *self._wrapped(args[0], precedence(args[0]) <= UNARY)]
        p, (a, b) = op.precedence, args
        left = self._wrapped(a, _left_wrapped(p, precedence(a)))
        right = self._wrapped(b, _right_wrapped(p, precedence(b)))
        sep = op.symbol if p == POWER else f" {op.symbol} "
        return [*left, sep, *right]

    def _written(self, root: int, budget: int, forward: bool, use_labels: bool) -> tuple[list[str], bool]:
        """The pieces of ``root``'s text from its start (``forward``) or its end, at most ``budget``
        characters, and whether that is all of it. Backward, the pieces come last first."""
        out: list[str] = []
        used = 0
        stack: list = [root]
        while stack:
            item = stack.pop()
            if item is _CUT:
                return out, False
            if isinstance(item, str):
                if used + len(item) > budget:
                    if not out and budget > 0:  # one long name: cut it rather than show nothing
                        out.append(item[:budget] if forward else item[-budget:])
                    return out, False
                out.append(item)
                used += len(item)
                continue
            if item < self.n_leaves:
                stack.append(_Word(self.leaf_text[item]))
                continue
            if item != root and self._shown_as_name(item, use_labels):
                stack.append(_Word(self.labels[item]))
                continue
            parts = self._parts(item, use_labels)
            if self._bare_end(item, 0 if forward else -1, use_labels) is None:
                stack.extend(reversed(parts) if forward else parts)
                continue
            # The text starts (or ends) with an argument written bare: follow that chain down
            # to where something is written, pushing what each level writes after it (before
            # it). Each level writes at least one character, so budget - used levels suffice.
            levels, cut = self._chain(item, budget - used + 1, forward, use_labels)
            if cut:
                stack.append(_CUT)
            for level in levels[:-1]:
                rest = self._parts(level, use_labels)
                stack.extend(reversed(rest[1:]) if forward else rest[:-1])
            stack.append(levels[-1])
        return out, True

    def _chain(self, top: int, need: int, forward: bool, use_labels: bool) -> tuple[tuple[int, ...], bool]:
        """The last ``need`` nodes of the chain from ``top`` down through bare first (last) arguments,
        ending at the first node that writes something first (last); and whether more lay above.

        Each chain is walked once and remembered for every node on it (a long sum's left
        side is one chain), so later calls cost about ``need`` steps.
        """
        key = (forward, use_labels)
        memo = self._chains.setdefault(key, {})
        end = 0 if forward else -1
        if need > _CHAIN_KEPT:  # a long limit: walk without remembering
            nodes: list[int] = []
            n = top
            while True:
                nodes.append(n)
                nxt = self._bare_end(n, end, use_labels)
                if nxt is None:
                    break
                n = nxt
            return tuple(nodes[-need:]), len(nodes) > need
        walked: list[int] = []
        n = top
        while True:
            hit = memo.get(n)
            if hit is not None:
                known, length = hit
                break
            nxt = self._bare_end(n, end, use_labels)
            if nxt is None:
                known, length = (n,), 1
                break
            walked.append(n)
            n = nxt
        # Remember the chain for every node walked: its last _CHAIN_KEPT nodes and its length
        # (the nodes far from the chain's end share one tuple, stored at C speed).
        kept = (*walked, *known)[-_CHAIN_KEPT:]
        far = max(0, len(walked) + length - _CHAIN_KEPT + 1)
        memo.update(zip(walked[:far], zip(repeat(kept), range(len(walked) + length, 0, -1)), strict=False))
        for i in range(far, len(walked)):
            memo[walked[i]] = ((*walked[i:], *known), len(walked) - i + length)
        if walked:
            known, length = memo[top]
        return known[-need:], length > need

    def _bare_end(self, n: int, end: int, use_labels: bool) -> int | None:
        """The argument operation ``n`` writes bare at its start (end 0) or end (-1), if that is an
        operation (not a name): where _parts would start (end) with it."""
        op, args = self.ops[n], self.args[n]
        if not op.symbol or (end == 0 and len(args) == 1):  # a function writes its name and "(" first, ")" last
            return None
        a = args[end]
        if a < self.n_leaves or (use_labels and a in self.labels):
            return None
        pa = self.ops[a].precedence
        if len(args) == 1:
            return None if pa <= UNARY else a
        wrapped = _left_wrapped(op.precedence, pa) if end == 0 else _right_wrapped(op.precedence, pa)
        return None if wrapped else a

    @cached_property
    def _chains(self) -> dict:
        """_chain's memory: for each direction, node → (the chain's last nodes, its length)."""
        return {}

    def _unknown_message(self, name: str) -> str:
        """Why ``name`` is not one of the formula's variables, with a suggestion."""
        import difflib

        from .ops import CONSTANTS

        if name in CONSTANTS:
            return f"names '{name}', which is a constant, not a variable"
        if name in self.labels.values():
            return f"names '{name}', which the formula defines ({name} = ...), not an input"
        variables = self.variables
        close = difflib.get_close_matches(name, variables, n=1, cutoff=0.6)
        listing = ", ".join(variables[:8]) + (", …" if len(variables) > 8 else "") if variables else "none"
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"names '{name}', which the formula does not use (its variables: {listing}){hint}"

    @staticmethod
    def _wrapped(node: int, parenthesize: bool) -> list:
        return ["(", node, ")"] if parenthesize else [node]


def active_nodes(
    graph: Graph, seeds: Iterable[int], every_edge: bool = False, flows: list[tuple[int, int]] | None = None
) -> list[bool]:
    """Which nodes depend on the seed inputs: the only ones derivatives flow through.

    Partials toward inactive nodes (constants, variables held fixed) are never
    multiplied in, so a nan partial there, such as ∂(x^2)/∂2 at x = -1, stays out. An
    edge whose partial is the constant 0 (floor, ceil, sign) carries no derivative, so
    floor(x) is not active; with ``every_edge`` it is (where a kink is looked for).
    ``flows`` replaces the graph's edges (those left at a point: see `flows_at`).
    """
    n = len(graph)
    active = [False] * (n + 1)  # the last entry, read for the edge -1, stays False
    for seed in seeds:
        active[seed] = True
    edges = ((a, b) for _, a, b in graph.code) if every_edge else iter(flows or graph.flows)
    for i, (a, b) in zip(range(graph.n_leaves, n), edges, strict=True):
        active[i] = active[a] or active[b]
    del active[n]
    return active


def _left_wrapped(p: int, pa: int) -> bool:
    """Whether an operator of precedence ``p`` wraps its left argument (of precedence ``pa``) in parentheses."""
    return pa < p or (p == POWER and pa == POWER)


def _right_wrapped(p: int, pb: int) -> bool:
    """The same for the right argument; a negation there is wrapped too: x + (-y), not x + -y."""
    return pb < p or (pb == p and p != POWER) or pb == UNARY


class _Word(str):
    """A name in Graph.expression's pieces (a variable, constant, statement or function name),
    as opposed to an operator or a parenthesis: a cut text ends and starts at the latter."""

    __slots__ = ()
