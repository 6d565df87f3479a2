"""The computational graph: a Wengert list of elementary operations.

Nodes are numbered in evaluation order: the inputs (variables, in order of first
appearance), then the constants, then the operations, each reading only earlier
nodes. Engines walk this list forwards or backwards; nothing recurses on depth.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..engines.primal import active_nodes
from ..errors import ArgumentError, ParseError, PointError, kind_of
from .ops import ATOM, POWER, UNARY

if TYPE_CHECKING:
    from ..engines.gradient import Result
    from ..engines.reverse import Plan

MODES = ("reverse", "forward")

# The gradient for a set of variables at which the graph works out its plan for them
# (see Graph.reverse_plan), and how many sets keep a plan.
PLAN_AFTER = 8
_PLANS_KEPT = 8
_ALL = "every variable"


class Graph:
    """A parsed formula: its variables, its nodes and the node that is its value."""

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
        # Reverse mode's plans, and how many gradients each set of variables has had.
        self._plans: dict[object, Plan] = {}
        self._gradients: dict[object, int] = {}

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
        needed = self.needed
        return [name for name, node in self.named.items() if not needed[node]]

    def reverse_plan(self, seeds: list[int]) -> Plan | None:
        """The planned backward sweep for these variables, once they have had enough gradients.

        Working out a plan costs about what the planned sweep saves over 6 to 45
        gradients, so it is worked out at the PLAN_AFTER-th gradient for a set of
        variables and not before (as one rents skis for a while before buying): a script
        asking for a few gradients never pays for it.
        """
        from ..engines.reverse import Plan

        key = _ALL if len(seeds) == self.n_inputs else frozenset(seeds)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        count = self._gradients[key] = self._gradients.get(key, 0) + 1
        if count < PLAN_AFTER:
            return None
        if len(self._plans) >= _PLANS_KEPT:  # the oldest goes
            del self._plans[next(iter(self._plans))]
        active = self.varies if key is _ALL else active_nodes(self, seeds)
        plan = self._plans[key] = Plan(self, active)
        return plan

    def __len__(self) -> int:
        return len(self.ops)

    def __repr__(self) -> str:
        return f"<adcli.Graph of {len(self)} nodes, variables {', '.join(self.variables) or '(none)'}>"

    @property
    def operation_count(self) -> int:
        return len(self) - self.n_leaves

    # Points.

    def input_values(self, point: Mapping[str, float]) -> list[float]:
        """The point's values in variable order; every variable needs one and no other name may appear.

        Values follow the command line's rules (adcli.lang.point.point_value): numbers, or
        strings holding a number or a constant expression such as "pi/4".
        """
        from ..lang.point import point_value

        if not isinstance(point, Mapping):
            raise PointError(f"a point maps variable names to values, such as {{'x': 3, 'y': 2}}, not {kind_of(point)}")
        known = set(self.variables)
        for name in point:
            if not isinstance(name, str):
                raise PointError(f"a point's keys are variable names (strings), not {kind_of(name)}")
        unknown = [name for name in point if name not in known]
        if unknown:  # checked first: a typo in the point also leaves a variable without a value
            raise PointError("the point " + self._unknown_message(unknown[0]))
        missing = [name for name in self.variables if name not in point]
        if missing:
            raise PointError(f"no value given for {_names(missing)}: add {', '.join(n + '=...' for n in missing[:3])}")
        return [point_value(name, point[name]) for name in self.variables]

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

    # The public API: value, gradient, and the full result with its trace.

    def evaluate(self, point: Mapping[str, float]) -> float:
        """The formula's value at ``point`` (IEEE semantics: inf and nan, never an exception)."""
        from ..engines.primal import sweep

        self.require_one_output("an evaluation")
        return sweep(self, self.input_values(point))[self.output]

    def differentiate(
        self, point: Mapping[str, float], mode: str = "reverse", wrt: Iterable[str] | None = None, record: bool = True
    ) -> Result:
        """Value, gradient, trace and warnings at ``point``, by forward or reverse mode.

        ``record=False`` skips keeping each step's local partials, tangents and adjoints
        (a trace needs them); if a derivative then is not finite, the partials are found
        after all, for the warning that says where.
        """
        from ..engines.gradient import differentiate

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
        from ..engines.batch import evaluate_batch

        return evaluate_batch(self, columns)

    def gradient_batch(
        self, columns: Mapping[str, Any], wrt: Iterable[str] | None = None, mode: str = "reverse"
    ) -> tuple[Any, dict[str, Any]]:
        """Values and gradients at every row of ``columns``: (array, {variable: array})."""
        from ..engines.batch import gradient_batch

        return gradient_batch(self, columns, wrt, mode)

    # Text.

    def expression(self, node: int | None = None, limit: int = 60, use_labels: bool = True) -> str:
        """Infix text of a node's subexpression, cut to ``limit`` characters.

        Named statements print as their names. Built with an explicit stack, and a
        subexpression nested deeper than ``limit // 2`` levels prints as "…" (the tail of
        x + x + … + x shows as "… + x + x"), so the cost is bounded by ``limit``
        whatever the size or depth of the graph.
        """
        root = self.output if node is None else node

        def shown_as_name(n: int) -> bool:
            return n < self.n_leaves or (use_labels and n != root and n in self.labels)

        def precedence(n: int) -> int:
            return ATOM if shown_as_name(n) else self.ops[n].precedence

        out: list[str] = []
        length = 0
        stack: list = [(root, 0)]
        while stack and length <= limit:
            item, depth = stack.pop()
            if isinstance(item, str):
                out.append(item)
                length += len(item)
                continue
            if item < self.n_leaves:
                stack.append((self.leaf_text[item], depth))
                continue
            if shown_as_name(item):
                stack.append((self.labels[item], depth))
                continue
            if depth > limit // 2:  # every level writes at least one character on each side
                stack.append(("…", depth))
                continue
            op, args = self.ops[item], self.args[item]
            if op.is_function:
                parts: list = [op.written, "("]
                for k, a in enumerate(args):
                    parts += [", "] * (k > 0) + [a]
                parts.append(")")
            elif len(args) == 1:
                parts = [op.symbol, *self._wrapped(args[0], precedence(args[0]) <= UNARY)]
            else:
                p, (a, b) = op.precedence, args
                pa, pb = precedence(a), precedence(b)
                left = self._wrapped(a, pa < p or (p == POWER and pa == POWER))
                # A negation on the right is wrapped too: x + (-y), not x + -y.
                right = self._wrapped(b, pb < p or (pb == p and p != POWER) or pb == UNARY)
                sep = op.symbol if p == POWER else f" {op.symbol} "
                parts = [*left, sep, *right]
            stack.extend((part, depth + 1) for part in reversed(parts))
        text = "".join(out)
        return text if length <= limit and not stack else text[: limit - 1] + "…"

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


def _names(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names[:5]]
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return ("variable " if len(names) == 1 else "variables ") + ", ".join(quoted) + more
