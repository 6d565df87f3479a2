"""Rich tables laid out for a terminal, shared by every renderer for people.

new_console gives a console never narrower than MIN_WIDTH (COLUMNS=0 would make rich
print nothing); fit lays a rich table out in the terminal's width without ever
splitting a number; summary_table is the value-and-gradient table.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

MIN_WIDTH = 20  # tables for people are laid out at least this wide, whatever COLUMNS says (0, 5, junk)
MAX_LINES = 2  # no cell of a table for people wraps over more lines than this
SHORT_MIN = 8  # source text cut to fit is cut to no fewer columns than this


def new_console(**options: Any) -> Console:
    """A rich Console on stdout at least MIN_WIDTH columns wide: at COLUMNS=0 rich would print nothing."""
    from rich.console import Console

    console = Console(**options)
    if console.width < MIN_WIDTH:
        console.width = MIN_WIDTH
    return console


def fit(table: Table, width: int, shorten: Collection[int] = ()) -> Table:
    """Lay ``table`` out in ``width`` columns without ever splitting a number or taking three lines.

    Where the natural layout is too wide, the widest columns give way first, wrapping at
    spaces, but no cell takes more than MAX_LINES lines and no column becomes narrower
    than a word of it that holds a number (0.693, v̇₀·0.2837, 1e20). If the table still
    does not fit, the columns in ``shorten`` (source text) are cut to what is left, down to
    SHORT_MIN, each cut cell ending in "…". A table that cannot fit even so is drawn wider
    than ``width``: better than cutting a number. Print it with crop=False.
    """
    columns = table.columns
    natural, least, heads = [], [], []
    for column in columns:
        cells = [str(cell) for cell in [column.header, *column.cells]]
        natural.append(max((cell_width(line) for cell in cells for line in cell.splitlines()), default=1))
        # A header wraps at its spaces as it needs (words whole); a cell takes two lines at most.
        heads.append(min(max((cell_width(word) for word in cells[0].split()), default=1), natural[-1]))
        least.append(min(max(heads[-1], *map(two_line_width, cells[1:])), natural[-1]))
    room = table_room(table, width)
    if sum(natural) <= room:  # rich's own layout: every column at its natural width
        table.width = None
        for column in columns:
            column.width = None
        return table
    # Until it fits: products of symbols break after a "·" (v̄₉₉·∂v₉₉/∂v₀), the gaps between
    # columns narrow to two spaces, and products with numbers (0.729·2.5e-323) break after
    # their "·" only if the table then fits (the numbers themselves stay whole).
    broken: dict[int, int] = {}
    for stage in (1, 0, 2):
        if sum(least) <= room:
            break
        if stage == 0:
            table.padding = (0, 1, 0, 0)
            room = table_room(table, width)
            continue
        lower = [
            min(low, max(_word_width(str(c.header), stage), *(two_line_width(str(cell), stage) for cell in c.cells)))
            for low, c in zip(least, columns, strict=True)
        ]
        if stage == 2 and sum(lower) > room:
            break
        broken.update((k, stage) for k in range(len(columns)) if lower[k] < least[k])
        least = lower
    cut = set()
    if sum(least) > room:  # source text gives way, down to SHORT_MIN
        for k in shorten:
            least[k] = min(natural[k], SHORT_MIN)
            cut.add(k)
    # Cut the widest columns down to a common level, none below its least width.
    level = _level(natural, least, room)
    widths = [max(low, min(high, level)) for high, low in zip(natural, least, strict=True)]
    spare = room - sum(widths)
    for k, (high, low) in enumerate(zip(natural, least, strict=True)):
        if spare > 0 and low <= level < high:  # one more column each, while the room lasts
            widths[k] += 1
            spare -= 1
    for k, (column, w) in enumerate(zip(columns, widths, strict=True)):
        column.width = w
        if k in cut:
            column._cells[:] = [_shortened(cell, w) for cell in column._cells]
        elif k in broken:
            column._cells[:] = [_broken(cell, w, broken[k]) for cell in column._cells]
            if "\n" not in str(column.header) and max(map(cell_width, str(column.header).split())) > w:
                column.header = _broken(column.header, w, broken[k])
    table.width = width - room + sum(widths)
    return table


def table_room(table: Table, width: int, columns: int | None = None) -> int:
    """The columns left for cells in ``width`` (with ``columns`` columns, or the table's): less the
    box's edges and rules and the padding between cells (none at the edges: pad_edge is off)."""
    left, right = table.padding[3], table.padding[1]
    rule = 1 if table.box else 0
    count = len(table.columns) if columns is None else columns
    return width - 2 * rule * table.show_edge - (count - 1) * (left + right + rule)


def cell_width(text: str) -> int:
    """Terminal columns of ``text`` (a combining dot or bar takes none)."""
    from rich.cells import cell_len

    return cell_len(text)


_WORDS = re.compile(r"\S+")
_DIGITS = re.compile(r"[0-9]")


def _breaks(line: str, dots: int) -> list[tuple[int, int]]:
    """Where ``line`` may break: (end of the first line, start of the second), at spaces; with
    ``dots`` 1 also after a "·" in a word without digits (a product of symbols), with 2 after
    any "·" (a product with numbers: the numbers stay whole)."""
    spans = [m.span() for m in _WORDS.finditer(line)]
    out = [(spans[k - 1][1], spans[k][0]) for k in range(1, len(spans))]
    if dots:
        for a, b in spans:
            word = line[a:b]
            if "·" in word and (dots > 1 or not _DIGITS.search(word)):
                out += [(a + i + 1, a + i + 1) for i, ch in enumerate(word[:-1]) if ch == "·"]
    return out


def _word_width(text: str, dots: int) -> int:
    """The widest word of a header, its products broken after "·" as ``dots`` allows."""
    widths = [1]
    for word in text.split():
        cuts = [0, *(end for end, _ in _breaks(word, dots)), len(word)]
        widths += [cell_width(word[a:b]) for a, b in itertools.pairwise(cuts)]
    return max(widths)


def two_line_width(text: str, dots: int = 0) -> int:
    """The narrowest width at which ``text`` wraps into MAX_LINES (two) lines, words whole.

    Wrapping greedily, as rich does, two lines suffice at width W exactly when some break
    leaves both sides within W: so W is the least, over the breaks, of the longer side.
    A text of several lines keeps them (each must fit as it is).
    """
    lines = text.splitlines() or [""]
    if len(lines) > 1:
        return max(map(cell_width, lines))
    line = lines[0].strip()
    best = cell_width(line)
    for end, start in _breaks(line, dots):
        best = min(best, max(cell_width(line[:end]), cell_width(line[start:])))
    return best


def _broken(cell: Any, width: int, dots: int) -> Any:
    """A cell that needs a break after a "·" to fit ``width`` in two lines, with that break made."""
    if not hasattr(cell, "plain") or two_line_width(cell.plain) <= width or "\n" in cell.plain:
        return cell
    line = cell.plain
    fits = [(e, s) for e, s in _breaks(line, dots) if cell_width(line[:e]) <= width and cell_width(line[s:]) <= width]
    if not fits:
        return cell
    end, start = max(fits)  # the longest first line, as rich would wrap
    out = cell[:end]
    out.append("\n")
    out.append_text(cell[start:])
    return out


def _shortened(cell: Any, width: int) -> Any:
    """A cell of source text cut to MAX_LINES lines of ``width``, ending in "…" (rich Text stays styled).

    Lines break at spaces as rich would break them; a word too long for a line is cut
    there, and the cell ends with it: nothing is split across lines.
    """
    from rich.text import Text

    if not isinstance(cell, Text) or two_line_width(cell.plain) <= width:
        return cell
    plain = cell.plain
    lines: list[list[int]] = []  # [start, end] of each line
    for m in _WORDS.finditer(plain):
        a, b = m.span()
        if lines and cell_width(plain[lines[-1][0] : b]) <= width:
            lines[-1][1] = b
        elif len(lines) < MAX_LINES:
            lines.append([a, b])
        else:
            break
    for k, line in enumerate(lines):  # the first line too long (a long word) is the last one shown
        if cell_width(plain[line[0] : line[1]]) > width:
            del lines[k + 1 :]
            break
    a, b = lines[-1]
    while b > a and cell_width(plain[a:b]) + 1 > width:
        b -= 1
    lines[-1][1] = b
    out = Text()
    for k, (a, b) in enumerate(lines):
        out.append_text(cell[a:b])
        out.append("\n" if k < len(lines) - 1 else "…", style=None if k < len(lines) - 1 else cell.style)
    return out


def _level(natural: list[int], least: list[int], room: int) -> int:
    """The highest level L at which columns cut to max(least, min(natural, L)) fit in ``room``."""
    lo, hi = 0, max(natural)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sum(max(low, min(high, mid)) for high, low in zip(natural, least, strict=True)) <= room:
            lo = mid
        else:
            hi = mid - 1
    return lo


def summary_table(body: list[tuple[str, str]]) -> Table:
    """The value and gradient as a rich table: names left, numbers right."""
    from rich.table import Table
    from rich.text import Text

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold", overflow="fold")
    table.add_column(justify="right", overflow="fold")
    for k, v in body:
        table.add_row(Text(k), Text(v))
    return table
