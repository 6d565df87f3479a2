"""Statement separators: which newlines end a statement.

Both the fast parser and Lark (on the error path) feed their tokens through
``fold_separators``, so the two always see the same token stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

# A newline after one of these, outside brackets, ends a statement; after an
# operator, a comma or "(" the expression goes on on the next line.
_OPERAND_END = frozenset({"NUMBER", "NAME", "RPAR"})


def fold_separators(tokens: Iterable[T], kind: Callable[[T], str], as_semicolon: Callable[[T], T]) -> Iterator[T]:
    """Turn significant newlines into ";" and collapse runs of separators.

    Leading and trailing separators vanish, so "a = 1;\\n\\n a*2;\\n" parses as "a = 1; a*2".
    """
    depth = 0
    previous = ""
    pending = None  # a separator not yet emitted: dropped if nothing follows it
    for token in tokens:
        k = kind(token)
        if k == "NL":
            if depth == 0 and previous in _OPERAND_END and pending is None:
                pending = as_semicolon(token)
            continue
        if k == "SEMICOLON":
            if previous and pending is None:
                pending = token
            continue
        if pending is not None:
            yield pending
            pending = None
        if k == "LPAR":
            depth += 1
        elif k == "RPAR" and depth:
            depth -= 1
        previous = k
        yield token
