"""Formula text -> graph, by the LALR tables Lark compiled from grammar/adcli.lark.

The fast path runs those tables in a small loop that calls the graph builder on
every reduction, as Lark's inline transformer would; it needs no Lark import and
handles a 400 KB formula in well under a second. When the text is not valid,
Lark itself re-parses it to explain the error (expected tokens, and a friendly
message picked by example with ``match_examples``).
"""

from __future__ import annotations

import re

from . import _tables
from .builder import GraphBuilder
from .errors import ParseError
from .graph import Graph
from .separators import fold_separators

_LEXER = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _tables.TERMINALS))
_IGNORE = frozenset(_tables.IGNORE)
_ACTIONS = _tables.ACTIONS
_RULES = _tables.RULES
_END_STATE = _tables.END_STATE


class _Invalid(Exception):
    """The fast path met text the grammar rejects; Lark will say why."""


def _tokens(text: str):
    scanner = _LEXER.scanner(text)
    pos = 0
    for match in iter(scanner.match, None):
        kind = match.lastgroup
        if kind not in _IGNORE:
            yield kind, match.group(), pos
        pos = match.end()
    if pos != len(text):
        raise _Invalid


def _kind(token) -> str:
    return token[0]


def _as_semicolon(token):
    return "SEMICOLON", ";", token[2]


def parse(text: str) -> Graph:
    """Parse a formula (or a program of statements) into its computational graph."""
    if not text.strip():
        raise ParseError("the formula is empty", text, 0, hint='write an expression such as "x*y + sin(x)"')
    builder = GraphBuilder(text)
    try:
        output = _run(text, builder)
    except _Invalid:
        raise explain(text) from None
    return builder.finish(output)


def _run(text: str, builder: GraphBuilder):
    """The LALR(1) loop: shift tokens, reduce by rules, call the builder on each reduction."""
    callbacks = {name: getattr(builder, name) for *_, name in _RULES if name is not None}
    rules = [(origin, length, kept, callbacks.get(cb)) for origin, length, kept, cb in _RULES]
    actions = _ACTIONS
    states = [0]
    values: list = []
    tokens = fold_separators(_tokens(text), _kind, _as_semicolon)
    for token in tokens:
        kind = token[0]
        while True:
            action = actions[states[-1]].get(kind)
            if action is None:
                raise _Invalid
            if action >= 0:
                states.append(action)
                values.append(token)
                break
            _reduce(rules[-1 - action], states, values, actions)
    while states[-1] != _END_STATE:
        action = actions[states[-1]].get("$END")
        if action is None or action >= 0:
            raise _Invalid
        _reduce(rules[-1 - action], states, values, actions)
    return values[-1]


def _reduce(rule, states, values, actions) -> None:
    origin, length, kept, callback = rule
    if callback is None:  # a pass-through rule: its one kept child is its value
        value = values[len(values) - length + kept[0]]
    elif length == 3 and kept == (0, 2):
        value = callback(values[-3], values[-1])
    else:
        base = len(values) - length
        value = callback(*[values[base + i] for i in kept])
    del states[len(states) - length :]
    del values[len(values) - length :]
    states.append(actions[states[-1]][origin])
    values.append(value)


# Errors: let Lark find and describe them.

_TOKEN_WORDS = {
    "NUMBER": "a number",
    "NAME": "a name",
    "$END": "the end of the formula",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "EQUAL": "'='",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "_POW": "'^'",
    "SEMICOLON": "';' or a new line",
}

# Mistakes people make, by example; Lark matches the parser state of the error.
_EXAMPLES = {
    "a number and a name need an operator between them: write 2*x, not 2x": ["2x", "x + 3y", "(2x)"],
    "two operands need an operator between them, e.g. x*y": ["x y", "(x) y", "x (y)", "2 3", "sin(x) y"],
    "an argument is missing after ','": ["f(x,)", "max(x,,y)"],
    "an operator is missing its right-hand operand": ["x +", "x *", "(x -)", "x ^", "x /"],
    "an operator is missing its left-hand operand": ["* x", "/ x", "^ x", "(* x)"],
    "'**' (power) is written without a space between the stars": ["x * * 2"],
    "a '(' is never closed": ["(x", "((x + y)", "sin(x"],
    "this ')' has no matching '('": ["x)", "(x))"],
    "parentheses hold an expression; '()' is empty": ["()", "sin()"],
}

_LOOKALIKES = {
    "×": "'*' for multiplication",
    "·": "'*' for multiplication",
    "⋅": "'*' for multiplication",
    "∗": "'*' for multiplication",
    "÷": "'/' for division",
    "−": "'-' (ASCII hyphen-minus)",
    "–": "'-' (ASCII hyphen-minus)",
    "—": "'-' (ASCII hyphen-minus)",
    "²": "'^2'",
    "³": "'^3'",
    "√": "sqrt(...)",
    "π": "'pi'",
    "…": "'...' is not part of the language; write the terms out",
    "[": "'(' — brackets are not used",
    "]": "')' — brackets are not used",
    "{": "'(' — braces are not used",
    "}": "')' — braces are not used",
    "!": "a function such as gamma is not available; there is no factorial",
}


def _describe_token(token) -> str:
    if token.type == "$END":
        return "end of the formula"
    if token.type in ("NUMBER", "NAME"):
        return f"{'number' if token.type == 'NUMBER' else 'name'} '{token}'"
    if token.type == "SEMICOLON" and token != ";":
        return "a new line"
    return f"'{token}'"


def _expected(names) -> str:
    words = sorted({_TOKEN_WORDS.get(n, n) for n in names if n not in ("NL",)})
    if not words:
        return ""
    return words[0] if len(words) == 1 else "one of: " + ", ".join(words)


def explain(text: str) -> ParseError:
    """Re-parse invalid text with Lark and turn its exception into a ParseError."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

    from .tables import lark_parser

    lark = lark_parser()
    try:
        lark.parse(text)
    except UnexpectedCharacters as error:
        ch = text[error.pos_in_stream]
        shown = repr(ch)[1:-1] if not ch.isprintable() else ch
        hint = _LOOKALIKES.get(ch)
        if hint is None and not ch.isascii():
            hint = "only ASCII letters, digits and the operators + - * / ^ ( ) , = ; may appear"
        elif hint is not None:
            hint = f"use {hint}"
        return ParseError(f"unexpected character '{shown}' (U+{ord(ch):04X})", text, error.pos_in_stream, hint=hint)
    except UnexpectedInput as error:
        pos = error.pos_in_stream if error.pos_in_stream is not None else len(text)
        token = getattr(error, "token", None)
        what = _describe_token(token) if token is not None else "end of the formula"
        # use_accepts=False: with it, Lark 1.3's debug logging formats a ParserState with %d and raises.
        hint = error.match_examples(lark.parse, _EXAMPLES, use_accepts=False)
        expected = _expected(error.accepts or error.expected) if isinstance(error, UnexpectedToken) else None
        if token is not None and token.type == "$END":
            pos = len(text.rstrip())
        return ParseError(f"unexpected {what}", text, pos, hint=hint, expected=expected)
    # Lark accepted what the fast path rejected: the tables are stale.
    return ParseError(
        "internal error: the parse tables disagree with the grammar (run python -m adcli.tables)", text, 0
    )
