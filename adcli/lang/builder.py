"""The parser's callbacks: they build the Wengert list while the formula is parsed.

Each method is named after a rule alias in grammar/adcli.lark and returns a node
number. Identical subexpressions share one node (hash-consing), so ``(x+y)*(x+y)``
computes ``x+y`` once.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..core.graph import Graph
from ..core.ops import BY_NAME, CONST, CONSTANTS, FOLDABLE, FUNCTIONS, INPUT, Op
from ..errors import ParseError

_ADD, _SUB, _MUL, _DIV, _NEG, _POW = (BY_NAME[n] for n in ("add", "sub", "mul", "div", "neg", "pow"))

Token = tuple[str, str, int]  # (terminal, text, position)


def _suggest(name: str, choices) -> str:
    import difflib  # only on the error path: it costs start-up time

    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else ""


class GraphBuilder:
    """Collects nodes as the parser reduces rules; ``finish`` orders them into a Graph.

    While parsing, an operation's node is its index in ``ops`` (0, 1, ...) and a leaf's
    is ``~k`` for the k-th leaf (-1, -2, ...), so ``finish`` can renumber every node with
    one list, in textbook order, without sorting.
    """

    def __init__(self, text: str, functions: dict[str, dict[int, Op]] = FUNCTIONS):
        self.text = text
        self.functions = functions  # what a formula may call (rule formulas may call more)
        self.ops: list[Any] = []  # the operations, in the order they were made
        self.args: list[tuple[int, ...]] = []  # their arguments
        self.leaves = 0  # how many leaves (inputs and constants) there are
        self.const_values: dict[int, float] = {}  # each constant's node -> its value
        self.leaf_text: dict[int, str] = {}
        self.constants: dict[float, int] = {}  # value -> node: one node per value
        # Each operation's nodes by their arguments (hash-consing), one table per operation.
        tables: list[dict[tuple[int, ...], int]] = [{} for _ in range(6)]
        self._add, self._sub, self._mul, self._div, self._pow, self._neg = tables
        self.interned: dict[str, dict[tuple[int, ...], int]] = {
            op.name: table for op, table in zip((_ADD, _SUB, _MUL, _DIV, _POW, _NEG), tables, strict=True)
        }
        self.variables: dict[str, int] = {}
        self.defined: dict[str, int] = {}
        self.labels: dict[int, str] = {}
        self.statements: list[str | None] = []  # each statement's name, None for a bare expression
        self.outputs: list[int] = []  # the unnamed statements' nodes, in order: the formula's outputs
        self.output_starts: list[int] = []  # where each output after the first begins (its separator)
        self.separators: list[int] = []  # where each statement after the first begins
        self.signed: dict[tuple[float, float], int] = {}  # constants made by `constant`, signed zeros apart

    def _node(self, op, args: tuple[int, ...]) -> int:
        seen = self.interned.get(op.name)
        if seen is None:
            seen = self.interned[op.name] = {}
        node = seen.get(args)
        if node is None:
            node = seen[args] = len(self.ops)
            self.ops.append(op)
            self.args.append(args)
        return node

    def _leaf(self, text: str) -> int:
        node = ~self.leaves
        self.leaves += 1
        self.leaf_text[node] = text
        return node

    def _constant(self, value: float, text: str) -> int:
        node = self.constants.get(value)
        if node is None:
            node = self.constants[value] = self._leaf(text)
            self.const_values[node] = value
        return node

    # Building without text (engines record derivative graphs this way).

    def input(self, name: str) -> int:
        """The variable ``name``'s node, made at its first use."""
        node = self.variables.get(name)
        if node is None:
            node = self.variables[name] = self._leaf(name)
        return node

    def constant(self, value: float) -> int:
        """A constant node; -0.0 and 0.0 are different constants here."""
        key = (value, math.copysign(1.0, value))
        node = self.signed.get(key)
        if node is None:
            text = repr(value)
            node = self.signed[key] = self._leaf(text[:-2] if text.endswith(".0") else text)  # 2, not 2.0
            self.const_values[node] = value
        return node

    def apply(self, op: Op, args: tuple[int, ...]) -> int:
        """The node of ``op`` on these nodes, shared with an identical one."""
        return self._node(op, args)

    def _error(self, message: str, token: Token, hint: str = "") -> ParseError:
        return ParseError(message, self.text, token[2], hint=hint or None)

    # Leaves.

    def number(self, token: Token) -> int:
        text = token[1]
        value = float(text)
        node = self.constants.get(value)
        return self._constant(value, text) if node is None else node

    def name(self, token: Token) -> int:
        name = token[1]
        # A variable seen before is the common case; no name is both a variable and
        # defined, a constant or a function, so it may be looked up first.
        node = self.variables.get(name)
        if node is not None:
            return node
        node = self.defined.get(name)
        if node is not None:
            return node
        if name in CONSTANTS:
            return self._constant(CONSTANTS[name], name)
        if name in FUNCTIONS:
            raise self._error(f"'{name}' is a function", token, f"call it with parentheses: {name}(...)")
        node = self.variables.get(name)
        if node is None:
            node = self.variables[name] = self._leaf(name)
        return node

    # Operators.

    def add(self, a: int, b: int) -> int:
        key = (a, b)
        ops = self.ops
        node = self._add.setdefault(key, len(ops))
        if node == len(ops):  # a new node
            ops.append(_ADD)
            self.args.append(key)
        return node

    def sub(self, a: int, b: int) -> int:
        key = (a, b)
        ops = self.ops
        node = self._sub.setdefault(key, len(ops))
        if node == len(ops):  # a new node
            ops.append(_SUB)
            self.args.append(key)
        return node

    def mul(self, a: int, b: int) -> int:
        key = (a, b)
        ops = self.ops
        node = self._mul.setdefault(key, len(ops))
        if node == len(ops):  # a new node
            ops.append(_MUL)
            self.args.append(key)
        return node

    def div(self, a: int, b: int) -> int:
        key = (a, b)
        ops = self.ops
        node = self._div.setdefault(key, len(ops))
        if node == len(ops):  # a new node
            ops.append(_DIV)
            self.args.append(key)
        return node

    def pow(self, a: int, b: int) -> int:
        key = (a, b)
        ops = self.ops
        node = self._pow.setdefault(key, len(ops))
        if node == len(ops):  # a new node
            ops.append(_POW)
            self.args.append(key)
        return node

    def neg(self, a: int) -> int:
        key = (a,)
        node = self._neg.get(key)
        if node is None:
            node = self._neg[key] = len(self.ops)
            self.ops.append(_NEG)
            self.args.append(key)
        return node

    def pos(self, a: int) -> int:
        return a  # unary plus is the identity: no node

    # Function calls.

    def first_argument(self, a: int) -> list[int]:
        return [a]

    def next_argument(self, arguments: list[int], a: int) -> list[int]:
        arguments.append(a)
        return arguments

    def call(self, token: Token, arguments: list[int]) -> int:
        name = token[1]
        overloads = self.functions.get(name)
        if overloads is None:
            hint = _suggest(name, FUNCTIONS) or (
                f"the functions are {', '.join(sorted(FUNCTIONS))} ('adcli functions' gives their rules)"
            )
            if name in self.variables or name in self.defined or name in CONSTANTS:
                hint = f"to multiply, write {name}*(...)"
            raise self._error(f"unknown function '{name}'", token, hint)
        n = len(arguments)
        if name in FOLDABLE and n >= 2:
            binary = overloads[2]
            node = arguments[0]
            for argument in arguments[1:]:
                node = self._node(binary, (node, argument))
            return node
        op = overloads.get(n)
        if op is None:
            counts = " or ".join(str(k) for k in sorted(overloads))
            if name in FOLDABLE:
                counts = "2 or more"
            hint = "ln is the natural logarithm; for base b write log(x, b)" if name == "ln" and n == 2 else ""
            raise self._error(f"{name}() takes {counts} argument(s), not {n}", token, hint)
        return self._node(op, tuple(arguments))

    # Statements.

    def assign(self, token: Token, node: int) -> int:
        name = token[1]
        if name in CONSTANTS:
            raise self._error(f"'{name}' is a constant and cannot be assigned", token)
        if name in FUNCTIONS:
            raise self._error(f"'{name}' is a function and cannot be assigned", token, "choose another name")
        if name in self.defined:
            raise self._error(f"'{name}' is already defined", token, "each name is assigned once")
        if name in self.variables:
            raise self._error(f"'{name}' is used as an input before this assignment", token, "choose another name")
        self.defined[name] = node
        self.labels.setdefault(node, name)
        self.statements.append(name)
        return node

    def expression(self, node: int) -> int:
        self.statements.append(None)
        self.outputs.append(node)
        return node

    def sequence(self, previous: int, separator: Token, node: int) -> int:
        """Statements in order; each unnamed one is an output, and where it starts is kept for messages."""
        if self.statements[-1] is None:
            self.output_starts.append(separator[2])
        self.separators.append(separator[2])
        return node

    def _output_text(self) -> tuple[str, ...]:
        """Each output statement as written (comments and surrounding space dropped)."""
        bounds = [-1, *self.separators, len(self.text)]
        pieces = (self.text[bounds[k] + 1 : bounds[k + 1]] for k, name in enumerate(self.statements) if name is None)
        return tuple((re.sub(r"#[^\n]*", "", piece) if "#" in piece else piece).strip() for piece in pieces)

    def finish(self, last: int, graph_class: type[Graph] = Graph) -> Graph:
        """Renumber nodes in textbook order (inputs, then constants, then operations) into a Graph
        (or the subclass ``graph_class``).

        The outputs are the unnamed statements in order; a program of named statements only
        has its last statement as its output.
        """
        inputs = list(self.variables.values())
        constants = list(self.const_values)
        leaves = inputs + constants
        n_leaves = len(leaves)
        # new[node] is a node's final number: operations from the front, leaves (~k) from the back.
        new = list(range(n_leaves, n_leaves + len(self.ops)))
        tail = [0] * n_leaves
        for position, leaf in enumerate(leaves):
            tail[leaf] = position  # leaf = ~k is the (n_leaves - 1 - k)-th entry from the front of tail
        new += tail
        at = new.__getitem__
        args = [(new[a[0]], new[a[1]]) if len(a) == 2 else tuple(map(at, a)) for a in self.args]
        return graph_class(
            text=self.text,
            variables=tuple(self.variables),
            ops=[*([INPUT] * len(inputs)), *([CONST] * len(constants)), *self.ops],
            args=[*([()] * n_leaves), *args],
            const_values=[self.const_values[i] for i in constants],
            leaf_text=[self.leaf_text[i] for i in leaves],
            labels={new[node]: label for node, label in self.labels.items()},
            outputs=tuple(new[node] for node in self.outputs or [last]),
            output_text=self._output_text(),
            output_starts=tuple(self.output_starts) if self.outputs else (),
            named={name: new[node] for name, node in self.defined.items()},
        )
