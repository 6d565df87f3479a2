"""Oracles for the fast parser: Lark's own parser, a plain graph builder, Lark's diagnosis.

The fast parser runs folded tables over windows of tokens and a builder tuned for speed;
these are the simple versions it must agree with, node for node and error for error:

- ``reference_parse``: Lark's LALR parser makes a parse tree, which a post-order walk (the
  order of an LALR parser's reductions) feeds to ``ReferenceBuilder``, the graph builder
  as it was written before it was tuned: one dict for all operations, nodes numbered as
  made, then sorted into textbook order.
- ``lark_diagnosis``: the tokens Lark's interactive parser accepts where the error is,
  and the state and token Lark's parser fails with there.
- ``lark_hint``: the hint of the first example of a mistake that Lark's parser fails on in
  the same state, on the same kind of token (the very same token first).
"""

from __future__ import annotations

import functools
from typing import Any

from lark import Token, Tree
from lark.exceptions import UnexpectedInput, UnexpectedToken

from adcli.core.graph import Graph
from adcli.core.ops import BY_NAME, CONST, CONSTANTS, FOLDABLE, FUNCTIONS, INPUT, Op
from adcli.errors import ParseError
from adcli.lang import parser, tables

_ADD, _SUB, _MUL, _DIV, _NEG, _POW = (BY_NAME[n] for n in ("add", "sub", "mul", "div", "neg", "pow"))


@functools.cache
def lark() -> Any:
    return tables.lark_parser()


def reference_parse(text: str) -> Graph:
    """The graph of ``text`` by Lark's parser and the reference builder (ParseError if invalid)."""
    try:
        tree = lark().parse(text)
    except UnexpectedInput as error:
        raise ParseError("syntax error", text, getattr(error, "pos_in_stream", 0) or 0) from None
    builder = ReferenceBuilder(text)
    # Post-order, left to right, without recursion: the order an LALR parser reduces in.
    done: list = []
    stack: list = [(tree, False)]
    while stack:
        node, visited = stack.pop()
        if isinstance(node, Token):
            done.append((node.type, str(node), node.start_pos))
        elif not isinstance(node, Tree):
            done.append(node)
        elif visited:
            n = len(node.children)
            children = done[len(done) - n :] if n else []
            del done[len(done) - n :]
            done.append(getattr(builder, node.data)(*children))
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.children))
    (last,) = done
    return builder.finish(last)


def _suggest(name: str, choices) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else ""


class ReferenceBuilder:
    """The graph builder before it was tuned (same callbacks, same graph)."""

    def __init__(self, text: str):
        self.text = text
        self.ops: list[Any] = []
        self.args: list[tuple[int, ...]] = []
        self.const_values: dict[int, float] = {}
        self.leaf_text: dict[int, str] = {}
        self.interned: dict[tuple, int] = {}
        self.variables: dict[str, int] = {}
        self.defined: dict[str, int] = {}
        self.labels: dict[int, str] = {}
        self.statements: list[str | None] = []
        self.outputs: list[int] = []
        self.output_starts: list[int] = []

    def _new(self, op, args: tuple[int, ...] = ()) -> int:
        self.ops.append(op)
        self.args.append(args)
        return len(self.ops) - 1

    def _node(self, op, args: tuple[int, ...]) -> int:
        key = (op.name, *args)
        node = self.interned.get(key)
        if node is None:
            node = self.interned[key] = self._new(op, args)
        return node

    def _constant(self, value: float, text: str) -> int:
        key = ("const", value)
        node = self.interned.get(key)
        if node is None:
            node = self.interned[key] = self._new(CONST)
            self.const_values[node] = value
            self.leaf_text[node] = text
        return node

    def _error(self, message: str, token, hint: str = "") -> ParseError:
        return ParseError(message, self.text, token[2], hint=hint or None)

    def number(self, token) -> int:
        return self._constant(float(token[1]), token[1])

    def name(self, token) -> int:
        name = token[1]
        node = self.defined.get(name)
        if node is not None:
            return node
        if name in CONSTANTS:
            return self._constant(CONSTANTS[name], name)
        if name in FUNCTIONS:
            raise self._error(f"'{name}' is a function", token, f"call it with parentheses: {name}(...)")
        node = self.variables.get(name)
        if node is None:
            node = self.variables[name] = self._new(INPUT)
            self.leaf_text[node] = name
        return node

    def add(self, a: int, b: int) -> int:
        return self._node(_ADD, (a, b))

    def sub(self, a: int, b: int) -> int:
        return self._node(_SUB, (a, b))

    def mul(self, a: int, b: int) -> int:
        return self._node(_MUL, (a, b))

    def div(self, a: int, b: int) -> int:
        return self._node(_DIV, (a, b))

    def pow(self, a: int, b: int) -> int:
        return self._node(_POW, (a, b))

    def neg(self, a: int) -> int:
        return self._node(_NEG, (a,))

    def pos(self, a: int) -> int:
        return a

    def first_argument(self, a: int) -> list[int]:
        return [a]

    def next_argument(self, arguments: list[int], a: int) -> list[int]:
        arguments.append(a)
        return arguments

    def call(self, token, arguments: list[int]) -> int:
        name = token[1]
        overloads = FUNCTIONS.get(name)
        if overloads is None:
            hint = _suggest(name, FUNCTIONS) or (
                f"the functions are {', '.join(sorted(FUNCTIONS))} ('adcli functions' gives their rules)"
            )
            if name in self.variables or name in self.defined or name in CONSTANTS:
                hint = f"to multiply, write {name}*(...)"
            raise self._error(f"unknown function '{name}'", token, hint)
        n = len(arguments)
        if name in FOLDABLE and n >= 2:
            op = overloads[2]
            node = arguments[0]
            for argument in arguments[1:]:
                node = self._node(op, (node, argument))
            return node
        op = overloads.get(n)
        if op is None:
            counts = " or ".join(str(k) for k in sorted(overloads))
            if name in FOLDABLE:
                counts = "2 or more"
            hint = "ln is the natural logarithm; for base b write log(x, b)" if name == "ln" and n == 2 else ""
            raise self._error(f"{name}() takes {counts} argument(s), not {n}", token, hint)
        return self._node(op, tuple(arguments))

    def assign(self, token, node: int) -> int:
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

    def sequence(self, previous: int, separator, node: int) -> int:
        if self.statements[-1] is None:
            self.output_starts.append(separator[2])
        return node

    def finish(self, last: int) -> Graph:
        ops = self.ops
        inputs = list(self.variables.values())
        constants = list(self.const_values)
        operations = [i for i, op in enumerate(ops) if isinstance(op, Op)]
        order = inputs + constants + operations
        new = [0] * len(ops)
        for position, old in enumerate(order):
            new[old] = position
        return Graph(
            text=self.text,
            variables=tuple(self.variables),
            ops=[ops[i] for i in order],
            args=[tuple(new[a] for a in self.args[i]) for i in order],
            const_values=[self.const_values[i] for i in constants],
            leaf_text=[self.leaf_text[i] for i in inputs + constants],
            labels={new[node]: label for node, label in self.labels.items()},
            outputs=tuple(new[node] for node in self.outputs or [last]),
            output_starts=tuple(self.output_starts) if self.outputs else (),
            named={name: new[node] for name, node in self.defined.items()},
        )


def same_graph(a: Graph, b: Graph) -> bool:
    """Node for node the same graph: operations (the same objects), arguments, leaves, names."""
    return (
        len(a.ops) == len(b.ops)
        and all(x is y for x, y in zip(a.ops, b.ops, strict=True))
        and a.args == b.args
        and a.variables == b.variables
        and a.const_values == b.const_values
        and [math_repr(v) for v in a.const_values] == [math_repr(v) for v in b.const_values]
        and a.leaf_text == b.leaf_text
        and a.labels == b.labels
        and a.outputs == b.outputs
        and a.output_starts == b.output_starts
        and a.named == b.named
        and a.text == b.text
    )


def math_repr(value: float) -> str:
    return repr(value)  # tells -0.0 from 0.0 and one nan from a number


def lark_diagnosis(text: str, pos: int) -> tuple[set[str], int | None, Token | None]:
    """Lark, fed the tokens before ``pos``: which tokens it accepts, and the state and token
    its parser then fails with (None, None if the token at ``pos`` is taken)."""
    interactive = lark().parse_interactive(text)
    came = None
    for token in interactive.iter_parse():  # each token is yielded before it is fed
        if token.start_pos >= pos:
            came = token
            break
    expected = interactive.accepts()
    try:
        interactive.feed_eof() if came is None else interactive.feed_token(came)
    except UnexpectedToken as error:
        return expected, error.state.position, error.token
    return expected, None, None


@functools.cache
def _lark_examples() -> list[tuple[str, int, Token]]:
    failures = []
    for label, examples in parser._EXAMPLES.items():
        for example in examples:
            try:
                lark().parse(example)
            except UnexpectedToken as error:
                failures.append((label, error.state.position, error.token))
    return failures


def lark_hint(state: int, token: Token) -> str | None:
    """The hint for an error in Lark's ``state`` on ``token``, by Lark's own parses of the examples."""
    found = None
    for label, at, came in _lark_examples():
        if at == state and came.type == token.type:
            if came == token:
                return label
            found = found or label
    return found
