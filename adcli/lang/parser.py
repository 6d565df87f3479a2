"""Formula text -> graph, by the LALR tables Lark compiled from grammar/adcli.lark.

A small loop runs those tables and calls the graph builder on every reduction, as
Lark's inline transformer would; it needs no Lark import and handles a 400 KB
formula in well under a second. When the text is not valid, the loop knows where;
Lark re-parses the text up to there to say which tokens could have come and to
pick a friendly message by example (see `lark_diagnosis`).
"""

from __future__ import annotations

import functools
import re

from ..core.graph import Graph
from ..errors import AdcliError, ArgumentError, ParseError, kind_of
from . import _tables
from .builder import GraphBuilder
from .separators import fold_separators

_LEXER = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _tables.TERMINALS))
_IGNORE = frozenset(_tables.IGNORE)
_ACTIONS = _tables.ACTIONS
_RULES = _tables.RULES
_END_STATE = _tables.END_STATE

# Limits (see "Limits" in the README). Beyond the first, formulas are refused before
# parsing; beyond the second, a syntax error skips Lark's example matching, which
# re-parses the whole text and would take seconds per megabyte.
MAX_FORMULA_CHARS = 64 * 2**20
EXAMPLE_MATCHING_CHARS = 2**20


class _Invalid(Exception):
    """Where the fast path stopped: a character no token matches, or a token no rule takes."""

    def __init__(self, pos: int, kind: str | None = None, text: str = "", expected: tuple[str, ...] = ()):
        super().__init__(pos)
        self.pos, self.kind, self.text, self.expected = pos, kind, text, expected


def _tokens(text: str):
    scanner = _LEXER.scanner(text)
    pos = 0
    for match in iter(scanner.match, None):
        kind = match.lastgroup
        if kind not in _IGNORE:
            yield kind, match.group(), pos
        pos = match.end()
    if pos != len(text):
        raise _Invalid(pos)


def _kind(token) -> str:
    return token[0]


def _as_semicolon(token):
    return "SEMICOLON", token[1], token[2]  # keeps the newline's text, for error messages


_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # a decimal digit of another script: ٣, ３, ३


def _non_ascii_digit(text: str) -> ParseError | None:
    """The error for a digit other than 0-9 (``\\d`` in the grammar would take ٣ as 3), if any."""
    if text.isascii():  # the common case, at C speed
        return None
    match = _OTHER_DIGIT.search(text)
    if match is None:
        return None
    ch = match.group()
    return ParseError(
        f"'{ch}' is a digit of another script: adcli reads numbers written with 0-9 only", text, match.start()
    )


def parse(text: str, builder: GraphBuilder | None = None) -> Graph:
    """Parse a formula (or a program of statements) into its computational graph.

    ``builder`` builds the graph (the rule formulas of the operation table use one that
    knows the rule operations); by default, a GraphBuilder for ``text``.
    """
    if not isinstance(text, str):
        raise ArgumentError(f"parse takes the formula as a string, not {kind_of(text)}")
    if len(text) > MAX_FORMULA_CHARS:
        raise AdcliError(
            f"the formula has {len(text):,} characters; adcli reads formulas of at most {MAX_FORMULA_CHARS:,}"
        )
    other_digit = _non_ascii_digit(text)
    if other_digit is not None:
        raise other_digit
    builder = builder or GraphBuilder(text)
    try:
        output = _run(text, builder)
    except _Invalid as invalid:
        raise syntax_error(text, invalid) from None
    return builder.finish(output)


def _run(text: str, builder: GraphBuilder):
    """The LALR(1) loop: shift tokens, reduce by rules, call the builder on each reduction."""
    callbacks = {name: getattr(builder, name) for *_, name in _RULES if name is not None}
    rules = [(origin, length, kept, callbacks.get(cb)) for origin, length, kept, cb in _RULES]
    # Most reductions of a formula are done in the loop: those of one symbol (a number, a
    # name, or a pass-through such as sum: product, which keeps the value and only moves
    # the state) and infix operations (a op b: the builder gets a and b).
    single = [(origin, callbacks.get(cb)) if length == 1 else None for origin, length, _, cb in _RULES]
    infix = [
        (origin, callbacks[cb]) if length == 3 and kept == (0, 2) and cb is not None else None
        for origin, length, kept, cb in _RULES
    ]
    actions = _ACTIONS
    states = [0]
    values: list = []
    tokens = _tokens(text)
    # Folding acts on NL and SEMICOLON tokens only, which are exactly "\n" and ";": a
    # text without either (most formulas) has nothing to fold.
    if "\n" in text or ";" in text:
        tokens = fold_separators(tokens, _kind, _as_semicolon)
    for token in tokens:
        kind = token[0]
        while True:
            action = actions[states[-1]].get(kind)
            if action is None:
                raise _Invalid(token[2], kind, token[1], _terminals(actions[states[-1]]))
            if action >= 0:
                states.append(action)
                values.append(token)
                break
            one = single[-1 - action]
            if one is not None:
                origin, callback = one
                if callback is not None:
                    values[-1] = callback(values[-1])
                states[-1] = actions[states[-2]][origin]
                continue
            operation = infix[-1 - action]
            if operation is not None:
                origin, callback = operation
                values[-3:] = [callback(values[-3], values[-1])]
                del states[-2:]
                states[-1] = actions[states[-2]][origin]
                continue
            _reduce(rules[-1 - action], states, values, actions)
    while states[-1] != _END_STATE:
        action = actions[states[-1]].get("$END")
        if action is None or action >= 0:
            raise _Invalid(len(text), "$END", "", _terminals(actions[states[-1]]))
        _reduce(rules[-1 - action], states, values, actions)
    return values[-1]


def _terminals(row: dict) -> tuple[str, ...]:
    """The tokens a parser state accepts (rule names in the row are go-tos, not tokens)."""
    return tuple(symbol for symbol in row if symbol.isupper() or symbol.startswith(("_", "$")))


def _reduce(rule, states, values, actions) -> None:
    """Any reduction: pop the rule's symbols, push its value and the state it goes to."""
    origin, length, kept, callback = rule
    if callback is None:  # a pass-through rule: its one kept child is its value
        value = values[len(values) - length + kept[0]]
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
    "two operands need an operator between them, e.g. x*y": ["x y", "(x) y", "x (y)", "2 3", "sin(x) y", "(x y)"],
    "an argument is missing after ','": ["f(x,)", "max(x,,y)"],
    "an operator is missing its right-hand operand": ["x +", "x *", "(x -)", "x ^", "x /"],
    "an operator is missing its left-hand operand": ["* x", "/ x", "^ x", "(* x)"],
    "'**' (power) is written without a space between the stars": ["x * * 2"],
    "a '(' is never closed": ["(x", "((x + y)", "sin(x", "max(x, y"],
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
}
_NO_SUCH_OPERATOR = {"!": "there is no factorial (nor a gamma function)"}


def _describe_token(kind: str, text: str) -> str:
    if kind == "$END":
        return "end of the formula"
    if kind in ("NUMBER", "NAME"):
        return f"{'number' if kind == 'NUMBER' else 'name'} '{text}'"
    if kind == "SEMICOLON" and text != ";":
        return "new line"
    return f"'{text}'"


def _expected(names) -> str:
    words = sorted({_TOKEN_WORDS.get(n, n) for n in names if n != "NL"})
    if not words:
        return ""
    return words[0] if len(words) == 1 else "one of: " + ", ".join(words)


def _character_error(text: str, pos: int) -> ParseError:
    ch = text[pos]
    shown = repr(ch)[1:-1] if not ch.isprintable() else ch
    hint = _LOOKALIKES.get(ch)
    if hint is not None:
        hint = f"use {hint}"
    elif ch in _NO_SUCH_OPERATOR:
        hint = _NO_SUCH_OPERATOR[ch]
    elif not ch.isascii():
        hint = "only ASCII letters, digits and the operators + - * / ^ ( ) , = ; may appear"
    return ParseError(f"unexpected character '{shown}' (U+{ord(ch):04X})", text, pos, hint=hint)


def syntax_error(text: str, invalid: _Invalid) -> ParseError:
    """The message for text the grammar rejects: what came, what was expected, and a hint."""
    if invalid.kind is None:
        return _character_error(text, invalid.pos)
    if invalid.kind == "$END" and next(fold_separators(_tokens(text), _kind, _as_semicolon), None) is None:
        return ParseError("the formula is empty", text, 0, hint='write an expression such as "x*y + sin(x)"')
    expected, hint = lark_diagnosis(text, invalid.pos) if len(text) <= EXAMPLE_MATCHING_CHARS else (None, None)
    return ParseError(
        f"unexpected {_describe_token(invalid.kind, invalid.text)}",
        text,
        len(text.rstrip()) if invalid.kind == "$END" else invalid.pos,
        hint=hint,
        expected=_expected(invalid.expected if expected is None else expected),
    )


def lark_diagnosis(text: str, pos: int) -> tuple[set[str], str | None]:
    """Lark parses the text once more, up to the error at ``pos``, and says which tokens
    could have come there and which known mistake the error is.

    The tokens: its interactive parser, fed the tokens before ``pos``, tries each one.
    The state the fast parser stopped in would list only some, and some it would not
    take: "(x+1" stops after reducing x+1 to a sum, where '*' can no longer come, though
    "(x+1*" is fine; in "x = 2 3" that state would offer ')'. The mistake: Lark matches
    the error against examples of known mistakes (``match_examples``).
    """
    from lark.exceptions import UnexpectedInput

    lark = _lark()
    parser = lark.parse_interactive(text)
    came = None
    for token in parser.iter_parse():  # each token is yielded before it is fed
        if token.start_pos >= pos:
            came = token
            break
    expected = parser.accepts()
    try:
        parser.feed_eof() if came is None else parser.feed_token(came)
    except UnexpectedInput as error:
        error.state = _TopState(error.state.position)
        # use_accepts=False: with it, Lark 1.3's debug logging formats a ParserState with %d and raises.
        return expected, error.match_examples(lark.parse, _EXAMPLES, use_accepts=False, token_type_match_fallback=True)
    return expected, None


@functools.cache
def _lark():
    """Lark's parser for the grammar, made once, on the first error."""
    from .tables import lark_parser

    return lark_parser()


class _TopState:
    """Equal to any Lark parser state with the same state on top, whatever the stack's depth.

    Lark's states compare equal only at the same depth, so "(x" (an example) would not
    match "2*(x" — the same mistake one level deeper. What went wrong is in the top
    state and the token; this lets every example match at any depth.
    """

    def __init__(self, position: object):
        self.position = position

    def __eq__(self, other: object) -> bool:
        return getattr(other, "position", None) == self.position

    __hash__ = None  # type: ignore[assignment]
