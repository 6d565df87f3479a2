"""Formula text -> graph, by the LALR tables Lark compiled from grammar/adcli.lark.

A small loop runs those tables (folded ahead of time, see ``tables.fold``) and calls the
graph builder on every reduction, as Lark's inline transformer would; it needs no Lark
import. The text is cut into tokens a window at a time by one regular expression made
from the grammar's terminals, so no Python code runs per character.

When the text is not valid, the loop knows at which token. The message, the tokens that
could have come there and the hint are then worked out from the same tables, on the
tokens before the error (see ``diagnosis``): in time linear in the text, without Lark.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from itertools import accumulate, chain, compress
from typing import TypeVar, overload

from ..core.graph import Graph
from ..errors import AdcliError, ArgumentError, ParseError, kind_of
from . import _tables
from .builder import GraphBuilder

G = TypeVar("G", bound=Graph)

_LEXER = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _tables.TERMINALS))
_SPLIT = re.compile(_tables.SPLIT)  # the same terminals, no groups, and any other character alone
_IGNORE = frozenset(_tables.IGNORE)
_IGNORED = "__IGNORED"  # what the ignored terminals (spaces, comments) are classified as
_SIGNIFICANT = frozenset([*(name for name, _ in _tables.TERMINALS if name not in _IGNORE), None])
_ACTIONS = _tables.ACTIONS
_RULES = _tables.RULES
_END_STATE = _tables.END_STATE
_ROWS = _tables.FAST_ACTIONS
_SHIFTS = _tables.SHIFTS
_ACCEPT = _tables.ACCEPT
_N_STATES = len(_ACTIONS)

# Limits (see "Limits" in the README): longer formulas are refused before parsing.
MAX_FORMULA_CHARS = 64 * 2**20

# The text is split a window at a time, so the tokens of a large formula never all exist
# at once. A token is taken from a window only if it ends MARGIN characters before the
# window's end: no terminal of the grammar looks further past its end than that.
_WINDOW = 2**16
_MARGIN = 64


class _Invalid(Exception):
    """Where the fast path stopped: a character no token matches, or a token no rule takes."""

    def __init__(self, pos: int, kind: str | None = None, text: str = ""):
        super().__init__(pos)
        self.pos, self.kind, self.text = pos, kind, text


def _tokens(text: str):
    """The significant tokens (kind, text, position) one by one: the reference lexer, and
    what the error path uses to find the first token."""
    match, pos = _LEXER.match, 0
    while (found := match(text, pos)) is not None:  # no terminal matches the empty text
        kind = found.lastgroup
        if kind not in _IGNORE:
            yield kind, found.group(), pos
        pos = found.end()
    if pos != len(text):
        raise _Invalid(pos)


class _Kinds(dict):
    """Token text -> terminal, classified once per distinct text.

    The lexer takes, at each position, the first terminal that matches there; so the
    terminal of a token is the first one that matches its whole text (an earlier one
    matching all of it would have matched there). A text no terminal matches is one
    character that starts no token: its kind is None.
    """

    def __missing__(self, text: str) -> str | None:
        match = _LEXER.fullmatch(text)
        kind = None if match is None else match.lastgroup
        self[text] = kind = _IGNORED if kind in _IGNORE else kind
        return kind


def _windows(text: str):
    """The significant tokens as (kind, text, position), one zip per window of the text."""
    kind_of = _Kinds().__getitem__
    significant = _SIGNIFICANT.__contains__
    n = len(text)
    start, size = 0, _WINDOW
    while start < n:
        end = start + size
        pieces = _SPLIT.findall(text, start, end)  # they tile text[start:end]
        positions = list(accumulate(map(len, pieces), initial=start))
        if end < n:  # the last pieces may be cut short by the window: keep those well inside
            from bisect import bisect_right  # here: a formula of one window (most) never needs it

            keep = bisect_right(positions, end - _MARGIN) - 1
            if keep <= 0:  # one token longer than the window (a long comment): widen it
                size *= 2
                continue
            del pieces[keep:]
            start = positions[keep]
        else:
            start = n
        kinds = list(map(kind_of, pieces))
        yield compress(zip(kinds, pieces, positions, strict=False), map(significant, kinds))


def _stream(text: str):
    """All significant tokens, with newlines and ';' folded (see adcli.separators) if any."""
    tokens: Iterator[tuple[str | None, str, int]] = chain.from_iterable(_windows(text))
    # Folding acts on NL and SEMICOLON tokens only, which are exactly "\n" and ";": a
    # text without either (most formulas) has nothing to fold.
    if "\n" in text or ";" in text:
        from .separators import fold_separators  # imported here: a one-line formula never needs it

        tokens = fold_separators(tokens, _kind, _as_semicolon)
    return tokens


def _kind(token) -> str:
    return token[0]


def _as_semicolon(token):
    return "SEMICOLON", token[1], token[2]  # keeps the newline's text, for error messages


_OTHER_DIGIT = r"(?![0-9])\d"  # a decimal digit of another script: ٣, ３, ३ (compiled for such a text only)


def _non_ascii_digit(text: str) -> ParseError | None:
    """The error for a digit other than 0-9 (``\\d`` in the grammar would take ٣ as 3), if any."""
    if text.isascii():  # the common case, at C speed
        return None
    match = re.search(_OTHER_DIGIT, text)
    if match is None:
        return None
    ch = match.group()
    return ParseError(
        f"'{ch}' is a digit of another script: adcli reads numbers written with 0-9 only", text, match.start()
    )


def _itself(token):
    return token


@overload
def parse(text: str, builder: GraphBuilder | None = None) -> Graph: ...
@overload
def parse(text: str, builder: GraphBuilder | None = None, *, graph_class: type[G]) -> G: ...


def parse(text: str, builder: GraphBuilder | None = None, *, graph_class: type[Graph] = Graph) -> Graph:
    """Parse a formula (or a program of statements) into its computational graph.

    ``builder`` builds the graph (the rule formulas of the operation table use one that
    knows the rule operations); by default, a GraphBuilder for ``text``. ``graph_class``
    is what it builds: a Graph, or adcli.formula's Formula for the Python API.
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
    # The cyclic garbage collector is held off while the graph is built: every new node's
    # tuples would otherwise be scanned again and again, which grows faster than the
    # formula (the parse makes no cycles, so nothing is left for it to collect).
    collecting = gc.isenabled()
    gc.disable()
    try:
        builder = builder or GraphBuilder(text)
        try:
            output = _run(text, builder)
        except _Invalid as invalid:
            raise syntax_error(text, invalid) from None
        return builder.finish(output, graph_class)
    finally:
        if collecting:
            gc.enable()


def _run(text: str, builder: GraphBuilder):
    """The LALR(1) loop over the folded tables: shift tokens, reduce by rules, call the builder."""
    shifts = [
        (below, target, None if how is None else _itself if how == "" else getattr(builder, how))
        for below, target, how in _SHIFTS
    ]
    # Indexed by the reduce action itself (-1 - r), so a negative index finds rule r.
    reductions = [
        (pop, taken, None if callback is None else getattr(builder, callback), goto)
        for (pop, taken, callback), goto in zip(_tables.REDUCE, _tables.GOTO, strict=True)
    ][::-1]
    rows = _ROWS
    stack: list[int] = []  # the states below the top one
    push = stack.append
    values: list = []  # the values of the symbols on the stack that have one (not '+' or '(')
    keep = values.append
    state = 0
    kind: str | None = None  # the token being read, for the error (None: no terminal matches it)
    tok, pos = "", 0
    try:
        for kind, tok, pos in _stream(text):
            action = rows[state][kind]
            while action < 0:
                pop, taken, callback, goto = reductions[action]
                if callback is not None:
                    if taken == 2:
                        b = values.pop()
                        values[-1] = callback(values[-1], b)
                    elif taken == 1:
                        values[-1] = callback(values[-1])
                    else:
                        args = values[len(values) - taken :]
                        del values[len(values) - taken :]
                        keep(callback(*args))
                if pop:
                    del stack[-pop:]
                state = goto[stack[-1]]
                action = rows[state][kind]
            below, state, how = shifts[action]
            push(below)
            if how is not None:
                keep(how((kind, tok, pos)))
    except KeyError:
        if kind in rows[state]:  # not the table's: a builder bug, not the text's
            raise
        raise _Invalid(pos, kind, tok) from None
    while True:
        at_end = rows[state].get("$END")  # None: the text may not end here
        if at_end is None:
            raise _Invalid(len(text), "$END", "")
        if at_end >= 0:
            return values[-1]  # ACCEPT: no token is shifted at the end
        pop, taken, callback, goto = reductions[at_end]
        if callback is not None:
            args = values[len(values) - taken :]
            del values[len(values) - taken :]
            keep(callback(*args))
        if pop:
            del stack[-pop:]
        state = goto[stack[-1]]


# Errors: what came, what could have come there, and which known mistake it is.

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

# Mistakes people make, by example: an error is matched to an example that fails in the same
# parser state on a token of the same kind (see _hint).
_EXAMPLES = {
    "a number and a name need an operator between them: write 2*x, not 2x": ["2x", "x + 3y", "(2x)"],
    "two operands need an operator between them, e.g. x*y": ["x y", "(x) y", "x (y)", "2 3", "sin(x) y", "(x y)"],
    "an argument is missing after ','": ["f(x,)", "max(x,,y)"],
    # An operator, then what ends an operand (the end, ')', ',' or a separator) or another
    # operator that needs one on its left ("x * * 2" is the next mistake).
    "an operator is missing its right-hand operand": [
        *(
            f"{before}x {op}{after}"
            for op in "+-*/^"
            for before, after in [("", ""), ("(", ")"), ("f(", ", y)"), ("", "; y")]
        ),
        *(f"x {op} {second} 2" for op in "+-*/^" for second in "*/^" if op + second != "**"),
    ],
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
    from .separators import fold_separators

    if invalid.kind == "$END" and next(fold_separators(_tokens(text), _kind, _as_semicolon), None) is None:
        return ParseError("the formula is empty", text, 0, hint='write an expression such as "x*y + sin(x)"')
    expected, hint = diagnosis(text, invalid.pos, invalid.kind, invalid.text)
    return ParseError(
        f"unexpected {_describe_token(invalid.kind, invalid.text)}",
        text,
        len(text.rstrip()) if invalid.kind == "$END" else invalid.pos,
        hint=hint,
        expected=_expected(expected),
    )


def diagnosis(text: str, pos: int, kind: str, token: str) -> tuple[set[str], str | None]:
    """The tokens that could have come at ``pos``, where a ``kind`` token came, and the hint.

    Both are what Lark's interactive parser would say, read off the same tables: the
    tokens are those that, fed after the tokens before ``pos``, would be shifted (the
    state the fast parser stopped in would list only some, and some it would not take:
    "(x+1" stops after reducing x+1 to a sum, where '*' can no longer come, though
    "(x+1*" is fine); the hint is that of a known mistake that fails in the same state on
    a token of the same kind. Linear in the text: one pass, without callbacks, over the
    tokens before ``pos``.
    """
    stack = _configuration(_stream(text), pos)
    expected = {t for t in _ACTIONS[stack[-1]] if t.isupper() and _feed(stack, t)[0]}
    return expected, _hint(_feed(stack, kind)[1], kind, token)


def _configuration(tokens, stop: int) -> list[int]:
    """The parser's stack of states (Lark's, unfolded) after the tokens before position ``stop``."""
    rows, shifts = _ROWS, _SHIFTS
    reductions = [(pop, goto) for (pop, _, _), goto in zip(_tables.REDUCE, _tables.GOTO, strict=True)][::-1]
    stack: list[int] = []
    state, last = 0, ""  # last: the kind of the last token shifted (none yet)
    for kind, _, pos in tokens:
        if pos >= stop:
            break
        action = rows[state][kind]
        while action < 0:
            pop, goto = reductions[action]
            if pop:
                del stack[-pop:]
            state = goto[stack[-1]]
            action = rows[state][kind]
        below, state, _ = shifts[action]
        stack.append(below)
        last = kind
    # The stack holds Lark's states below the top. A leaf's state was folded away: it is
    # the state the leaf's token shifts to.
    stack.append(state if state < _N_STATES else _ACTIONS[stack[-1]][last])
    return stack


def _feed(stack: list[int], kind: str) -> tuple[bool, int]:
    """Feed one ``kind`` token after ``stack``, as Lark's parser would: is it taken (shifted,
    or the end accepted), and in which state does it stop? ``stack`` is left as it was."""
    depth = len(stack)
    extra: list[int] = []  # the states pushed by the reductions so far, above stack[:depth]
    while True:
        top = extra[-1] if extra else stack[depth - 1]
        action = _ACTIONS[top].get(kind)
        if action is None:
            return False, top
        if action >= 0:
            return True, top
        origin, length = _RULES[-1 - action][:2]
        dropped = min(length, len(extra))
        del extra[len(extra) - dropped :]
        depth -= length - dropped
        below = extra[-1] if extra else stack[depth - 1]
        extra.append(_ACTIONS[below][origin])
        if kind == "$END" and extra[-1] == _END_STATE:
            return True, _END_STATE


_example_errors: list[tuple[str, int, str, str]] = []


def _hint(state: int, kind: str, token: str) -> str | None:
    """The known mistake an error is: an example that fails in the same state on the same
    kind of token, the one with the very same token first (as Lark's match_examples does,
    but never on the state alone: "1,5" fails where "x)" does, and is not an unmatched ')')."""
    if not _example_errors:
        for label, examples in _EXAMPLES.items():
            for example in examples:
                failure = _failure(example)
                if failure is not None:  # "x (y)" is a call as far as the grammar goes
                    _example_errors.append((label, *failure))
    token = ";" if kind == "SEMICOLON" else token  # a folded newline is Lark's ';' token
    found = None
    for label, at, came, text in _example_errors:
        if at == state and came == kind:
            if text == token:
                return label
            found = found or label
    return found


def _failure(example: str) -> tuple[int, str, str] | None:
    """Where an example of a mistake fails: the state, the token's kind and its text."""
    tokens = list(_stream(example))
    for k, (kind, text, pos) in enumerate(tokens):
        stack = _configuration(iter(tokens[:k]), pos)
        taken, state = _feed(stack, kind)
        if not taken:
            return state, kind, ";" if kind == "SEMICOLON" else text
    taken, state = _feed(_configuration(iter(tokens), len(example)), "$END")
    return None if taken else (state, "$END", "")
