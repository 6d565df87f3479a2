"""The traced table: every elementary operation, in the notation of the AD literature.

Inputs are v₋ₙ₊₁ … v₀, operations v₁ … vₖ, the output y (f when a variable is called
y); constants are written into the definitions. The primal trace lists every node's
definition, the source text it stands for and its value; forward mode adds the tangent
trace (v̇ᵢ = Σⱼ v̇ⱼ·∂vᵢ/∂vⱼ), reverse mode the adjoint trace, one row per update
v̄ⱼ += v̄ᵢ · ∂vᵢ/∂vⱼ in backward order. Everything shown comes from the Result.

Cells are built once as small pieces (node symbols, names, numbers, source text and
plain maths) and written out as a rich table, Markdown or LaTeX. Long traces show a
head and a tail; only the rows shown are ever built. rich is imported only to print.
"""

from __future__ import annotations

import io
import re
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol, cast

from ..core.ops import encloses
from .numbers import human

if TYPE_CHECKING:
    from ..core.graph import Graph
    from ..engines.gradient import Result

FORMATS = ("text", "markdown", "latex")
HEAD, TAIL = 15, 15  # rows kept at each end of a long section
ELIDE_ABOVE = 40  # sections with more rows than this are cut to HEAD + TAIL unless full
SOURCE_LIMIT = 40  # characters of source text per row
POINT_PAIRS, POINT_LIMIT = 4, 60  # a heading names at most this many variables, in about this many characters
NAME_LIMIT = 20  # characters of a variable's name in a heading
RICH_ROWS = 1000  # larger (--full) traces are written as plain columns: rich would take seconds

DOT, BAR = "\u0307", "\u0304"  # combining dot (v̇, tangent) and macron (v̄, adjoint)
OVERLINE = "\u0305"  # combining overline: the adjoint's bar over a name of several letters
_SUBSCRIPT = str.maketrans("0123456789-ij", "₀₁₂₃₄₅₆₇₈₉₋ᵢⱼ")
_OPERATOR = {"add": " + ", "sub": " - ", "mul": " × ", "div": " / "}
_CONSTANT_TEXT = {"pi": "π"}


# Pieces of a cell. A plain ``str`` is maths text (operators, parentheses, rule text).


@dataclass(frozen=True, slots=True)
class Sym:
    """A node symbol vₙ, v̇ₙ or v̄ₙ (``n`` an int, or "i"/"j" in headers)."""

    n: int | str
    mark: str = ""


@dataclass(frozen=True, slots=True)
class Name:
    """A variable's or the output's name, optionally dotted or barred (ẋ, ȳ)."""

    text: str
    mark: str = ""


@dataclass(frozen=True, slots=True)
class Num:
    """A number, shown with the table's significant digits; a negative factor gets parentheses."""

    x: float | None
    factor: bool = False


@dataclass(frozen=True, slots=True)
class Const:
    """A constant as the formula wrote it (``2``, ``1e20``, ``pi``): constants have no v number."""

    text: str


@dataclass(frozen=True, slots=True)
class Code:
    """Source text the user wrote: shown verbatim (monospace in LaTeX)."""

    text: str


@dataclass(frozen=True, slots=True)
class Word:
    """Prose, such as a column header."""

    text: str


@dataclass(frozen=True, slots=True)
class Sup:
    """A superscript (the exponent of a power): ``^`` in text, ``^{…}`` in LaTeX."""

    inner: tuple


Cell = tuple
Row = tuple[tuple[Cell, ...], str]  # (cells, kind): kind styles the row ("", "leaf", "result")


@dataclass
class Section:
    """One table: title, headers, and the rows kept (a head and a tail around the rows left out)."""

    title: str
    headers: list[Cell]
    right: list[bool]  # right-justified columns (numbers)
    head: list[Row]
    tail: list[Row] = field(default_factory=list)
    omitted: int = 0
    note: str = ""
    spread: int | None = None  # the first of the columns, one per variable, a narrow table may leave out
    keep_columns: bool = False  # --full: the terminal shows them all, however wide
    columns_omitted: int = 0  # how many of those the rich table left out

    @property
    def total(self) -> int:
        return len(self.head) + self.omitted + len(self.tail)


# Notation.


def number_of(graph: Graph, node: int) -> int:
    """The textbook number of an input or operation node: inputs v₋ₙ₊₁ … v₀, operations v₁ … vₖ."""
    if node < graph.n_inputs:
        return node - graph.n_inputs + 1
    return node - graph.n_leaves + 1


def output_name(graph: Graph) -> str:
    """The output's name: y, unless the formula has a variable y (then f, then out)."""
    return next((n for n in ("y", "f", "out", "output") if n not in graph.variables), "result")


def output_names(graph: Graph) -> list[str]:
    """One name per output: the output's name alone, or y1, y2, … (no variable's name) for several."""
    count = len(graph.outputs)
    if count == 1:
        return [output_name(graph)]
    taken = set(graph.variables)
    for base in ("y", "f", "out", "output", "result"):
        names = [f"{base}{k}" for k in range(1, count + 1)]
        if base not in taken and taken.isdisjoint(names):
            return names
    return [f"result_{k}" for k in range(1, count + 1)]


def operand(graph: Graph, node: int, mark: str = "") -> Any:
    """A node as an argument: its symbol, or a constant's literal text (constants have no number)."""
    if graph.n_inputs <= node < graph.n_leaves:
        return Const(graph.leaf_text[node])
    return Sym(number_of(graph, node), mark)


def definition(graph: Graph, node: int) -> list:
    """The right-hand side of an operation's definition, e.g. ``v₁ × v₂`` or ``sin(v₀)``."""
    op, args = graph.ops[node], graph.args[node]
    parts = [operand(graph, a) for a in args]
    if op.name in _OPERATOR:
        return [parts[0], _OPERATOR[op.name], parts[1]]
    if op.name == "neg":
        return ["-", parts[0]]
    if op.name == "pow":
        return [parts[0], Sup((parts[1],))]
    out: list = [op.written + "("]
    for k, part in enumerate(parts):
        out += [", "] * (k > 0) + [part]
    return [*out, ")"]


def source_text(graph: Graph, node: int) -> str:
    """What a node stands for in the user's formula: ``x + y``, or ``a = x + y`` for a named statement."""
    text = graph.expression(node, SOURCE_LIMIT)
    label = graph.labels.get(node)
    return f"{label} = {text}" if label and label != text else text


_RULE_LETTER = re.compile(r"(?<![A-Za-z])([abv])(?![A-Za-z])")


def rule_pieces(rule: str, a: Any, b: Any, v: Any) -> list:
    """A rule text from the operations table with a, b and v replaced by node symbols."""
    out: list = []
    for k, part in enumerate(_RULE_LETTER.split(rule)):
        if k % 2:
            out.append({"a": a, "b": b, "v": v}[part])
        elif part:
            out.append(part)
    return _constant_power(out)


def _constant_power(pieces: list) -> list:
    """``c·v^(c-1)`` with the exponent worked out when c is a number: ``2·v₋₁``, ``3·v₋₁^2``, ``1``."""
    for k in range(len(pieces) - 2):
        opening, base, rest = pieces[k : k + 3]
        if opening != "^(" or not isinstance(base, Const) or not isinstance(rest, str) or not rest.startswith("-1)"):
            continue
        try:
            exponent = float(base.text) - 1
        except ValueError:  # pi, e: left as written
            continue
        tail = rest[3:]
        if exponent == 1:
            power: list = []
        elif exponent < 0:
            power = ["^(", Const(human(exponent)), ")"]
        else:
            power = ["^", Const(human(exponent))]
        head = pieces[:k]
        if exponent == 0 and head[-3:-1] == [base, "·"]:  # 1·v^0 is 1
            head, power = [*head[:-3], Const("1")], []
        return [*head, *power, *([tail] if tail else []), *_constant_power(pieces[k + 3 :])]
    return pieces


def _is_atomic(rule: str) -> bool:
    """True if a rule text needs no parentheses as a factor: ``b``, ``cos(a)``, ``√(1-a²)``."""
    if re.fullmatch(r"[\w.²]+(\^[\w.]+)?", rule):
        return True
    match = re.fullmatch(r"(\w+|√)?(\(.*\))", rule)
    return match is not None and encloses(match.group(2))  # not "(a)·(b)"


def _conditional(rule: str) -> bool:
    return " if " in rule or "," in rule


def partial_symbol(graph: Graph, node: int, arg: int) -> list:
    """∂vᵢ/∂vⱼ written out."""
    return ["∂", Sym(number_of(graph, node)), "/∂", operand(graph, arg)]


def tangent_term(graph: Graph, node: int, k: int) -> tuple[bool, list]:
    """One term v̇ⱼ·∂vᵢ/∂vⱼ of a tangent rule, with the partial from the table; (negative, pieces)."""
    op, args = graph.ops[node], graph.args[node]
    arg = args[k]
    rule = op.rule[k]
    tangent = [Sym(number_of(graph, arg), DOT)]
    if rule in ("1", "-1"):
        return rule == "-1", tangent
    negative = rule.startswith("-")
    body = rule[1:] if negative else rule
    a = operand(graph, args[0])
    b = operand(graph, args[1]) if len(args) > 1 else None
    v = Sym(number_of(graph, node))
    if _conditional(body):
        return negative, [*tangent, "·", *partial_symbol(graph, node, arg)]
    if body.startswith("1/"):
        body, joint = body[2:], "/"
    else:
        joint = "·"
    pieces = rule_pieces(body, a, b, v)
    if pieces == [Const("1")] and joint == "·":  # a worked-out 1·v^0
        return negative, tangent
    if not _is_atomic(body):
        pieces = ["(", *pieces, ")"]
    return negative, [*tangent, joint, *pieces]


def join_terms(terms: list[tuple[bool, list]]) -> list:
    """Terms joined with + and -, the first one's sign in front."""
    out: list = []
    for k, (negative, pieces) in enumerate(terms):
        if k == 0:
            out += ["-"] * negative + pieces
        else:
            out += [" - " if negative else " + ", *pieces]
    return out


# Numbers.


def number_text(x: float | None, digits: int | None) -> str:
    """A number for people: shortest round-trip by default, else ``digits`` significant digits."""
    if x is None:
        x = 0.0  # a structural zero: the engine never reached this node
    if digits is None:
        return human(x)
    return f"{float(x):.{digits}g}"


# Building the sections.


def _pick(total: int, full: bool) -> tuple[range, int, range]:
    """Indices of the head and the tail kept, and how many rows lie between them."""
    if full or total <= ELIDE_ABOVE:
        return range(total), 0, range(0)
    return range(HEAD), total - HEAD - TAIL, range(total - TAIL, total)


def _section(
    title: str, headers: list[Cell], right: list[bool], total: int, row_at: Callable[[int], Row], full: bool
) -> Section:
    """A section whose rows can be built by index: only the kept ones are."""
    head, omitted, tail = _pick(total, full)
    return Section(title, headers, right, [row_at(r) for r in head], [row_at(r) for r in tail], omitted)


def primal_section(result: Result, full: bool) -> Section:
    """Inputs, operations and the output: definition, source text and value."""
    graph, values = result.graph, result.values
    n_in, n_ops = graph.n_inputs, graph.operation_count
    outs = output_names(graph)

    def row(r: int) -> Row:
        lhs: Cell
        if r < n_in:
            lhs = (Sym(number_of(graph, r)), " = ", Name(graph.variables[r]))
            return ((lhs, (Code(source_text(graph, r)),), (Num(values[r]),)), "leaf")
        if r < n_in + n_ops:
            node = graph.n_leaves + r - n_in
            lhs = (Sym(number_of(graph, node)), " = ", *definition(graph, node))
            return ((lhs, (Code(source_text(graph, node)),), (Num(values[node]),)), "")
        o = graph.outputs[r - n_in - n_ops]
        lhs = (Name(outs[r - n_in - n_ops]), " = ", operand(graph, o))
        return ((lhs, (), (Num(values[o]),)), "result")

    headers = [(Word("definition"),), (Word("formula"),), (Word("value"),)]
    return _section("primal trace", headers, [False, False, True], n_in + n_ops + len(outs), row, full)


def tangent_section(result: Result, full: bool) -> Section:
    """Forward mode: each node's tangent rule, its local partials' values, and one tangent per direction."""
    graph = result.graph
    tangents = result.tangents or {}
    seeds = list(tangents.values())
    partials = result.partials or [None] * len(graph)
    n_in, n_ops = graph.n_inputs, graph.operation_count
    outs = output_names(graph)

    def active(node: int) -> bool:
        return any(t[node] is not None for t in seeds)

    def row(r: int) -> Row:
        lhs: Cell
        if r < n_in:  # a differentiated input is seeded; one held fixed (--wrt) has no tangent
            name = graph.variables[r]
            seeded = name in tangents or any(t[r] is not None for t in seeds)  # a direction seeds several
            lhs = (Sym(number_of(graph, r), DOT), " = ", Name(name, DOT) if seeded else "0")
            return ((lhs, (), *((Num(t[r]),) for t in seeds)), "leaf")
        if r < n_in + n_ops:
            node = graph.n_leaves + r - n_in
            lhs = (Sym(number_of(graph, node), DOT), " = ")
            ks = [k for k, a in enumerate(graph.args[node]) if active(a)]
            if not ks:  # depends on no differentiated variable: a structural zero
                return (((*lhs, "0"), (), *((Num(t[node]),) for t in seeds)), "")
            rule = join_terms([tangent_term(graph, node, k) for k in ks])
            local = partials[node]
            filled = join_terms([_filled_term(graph, node, k, local[k]) for k in ks]) if local else []
            return (((*lhs, *rule), tuple(filled), *((Num(t[node]),) for t in seeds)), "")
        k = r - n_in - n_ops
        o = graph.outputs[k]
        lhs = (Name(outs[k], DOT), " = ", operand(graph, o, DOT) if not graph.n_inputs <= o < graph.n_leaves else "0")
        if len(outs) == 1:
            return ((lhs, (), *((Num(result.gradient[name]),) for name in tangents)), "result")
        return ((lhs, (), *((Num(0.0 if t[o] is None else t[o]),) for t in seeds)), "result")

    headers: list[Cell] = [(Word("tangent rule"),), (Word("local partials filled in"),)]
    headers += [("∂", Sym("i"), "/∂", Name(name)) for name in tangents]
    right = [False, False] + [True] * len(tangents)
    section = _section("tangent trace (forward mode)", headers, right, n_in + n_ops + len(outs), row, full)
    section.spread, section.keep_columns = 2, full  # --full shows every tangent column, however wide
    return section


def _filled_term(graph: Graph, node: int, k: int, p: float | None) -> tuple[bool, list]:
    """One term of a tangent rule with the local partial's value: v̇ⱼ·p (v̇ⱼ alone for 1, -v̇ⱼ for -1)."""
    tangent = Sym(number_of(graph, graph.args[node][k]), DOT)
    if p == 1.0:
        return False, [tangent]
    if p == -1.0:
        return True, [tangent]
    return False, [tangent, "·", Num(p, factor=True)]


def _count_updates(graph: Graph, bar: list[float | None], last: int | None = None) -> int:
    """How many adjoint updates the sweep made: reached operations times their reached arguments.

    Counted with map and compress over the engines' code table, so a 100,000-operation
    trace costs a few milliseconds, not a Python loop.
    """
    from itertools import compress
    from operator import itemgetter

    reached = [b is not None for b in bar]
    reached.append(False)  # code's "no second argument" is -1: this sentinel
    end = len(graph) if last is None else last + 1
    ops_reached = reached[graph.n_leaves : end]
    code = graph.code[: end - graph.n_leaves]
    first = sum(compress(map(reached.__getitem__, map(itemgetter(1), code)), ops_reached))
    second = sum(compress(map(reached.__getitem__, map(itemgetter(2), code)), ops_reached))
    return first + second


def adjoint_section(result: Result, full: bool) -> Section:
    """Reverse mode: the seeds (ȳ = 1, or each output's weight for vᵀJ), one row per update
    v̄ⱼ += v̄ᵢ · ∂vᵢ/∂vⱼ in backward order, the gradient.

    An output that is also a step of a later output starts at its seed and adds the
    updates into it: a row before its own updates shows the sum it passes on. Only the
    rows shown are built: the head walks down from the last output, the tail up from
    the first operation.
    """
    graph = result.graph
    bar = result.adjoints or [None] * len(graph)
    partials = result.partials or [None] * len(graph)
    args = graph.args
    outs = output_names(graph)
    if result.seeds is None:
        seeds = {graph.output: 1.0} if bar[graph.output] is not None else {}
    else:
        seeds = dict(result.seeds)
    seeded = sorted(seeds, reverse=True)  # the order the sweep meets them
    start = seeded[0] if seeded else graph.output
    named: dict[int, list[str]] = {}
    for name, node in zip(outs, graph.outputs, strict=True):
        named.setdefault(node, []).append(name)
    # Seeded nodes that are also updated (an output that is a step of a later one).
    summed: set[int] = set()
    if len(seeded) > 1:
        later = set(seeded)
        for i in range(graph.n_leaves, start + 1):
            if bar[i] is not None:
                summed.update(a for a in args[i] if a in later and a < i)
    wrt = list(result.gradient)
    index = {name: i for i, name in enumerate(graph.variables)}

    def updates(nodes) -> object:
        """(node i, argument slot k) for every reached i and reached argument, in the order of ``nodes``."""
        for i in nodes:
            if i in summed:
                yield ("sum", i)
            if bar[i] is not None:
                for k, a in enumerate(args[i]):
                    if bar[a] is not None:
                        yield i, k

    def top_down():
        for node in seeded:
            yield ("seed", node)
        yield from updates(range(start, graph.n_leaves - 1, -1))
        yield from wrt

    def bottom_up():
        yield from reversed(wrt)
        for i in range(graph.n_leaves, start + 1):
            yield from reversed(list(updates((i,))))
        for node in reversed(seeded):
            yield ("seed", node)

    def seed_names(node: int) -> list:
        pieces: list = []
        for name in named.get(node, []):
            pieces += [" + ", Name(name, BAR)] if pieces else [Name(name, BAR)]
        return pieces

    def row(item: tuple[int, int] | tuple[str, int] | str) -> Row:
        if isinstance(item, str):  # a variable: its adjoint is the gradient's entry
            lhs = (Name(item, BAR), " = ", Sym(number_of(graph, index[item]), BAR))
            return ((lhs, (), (), (Num(result.gradient[item]),)), "result")
        if item[0] == "seed":  # an output's adjoint starts at its seed: ȳ = 1, or its weight in vᵀJ
            node = item[1]
            lhs = (Sym(number_of(graph, node), BAR), " = ", *seed_names(node))
            return ((lhs, (), (), (Num(seeds[node]),)), "leaf")
        if item[0] == "sum":  # its seed plus the updates above: what it passes on
            node = item[1]
            lhs = (Sym(number_of(graph, node), BAR), " = ", *seed_names(node), " + ", Word("the updates above"))
            return ((lhs, (), (), (Num(bar[node]),)), "leaf")
        i, k = cast("tuple[int, int]", item)
        j = args[i][k]
        g, recorded = bar[i], partials[i]
        # None: the edge carries nothing here (a select's closed side, relu below 0), shown as 0.
        p = None if recorded is None else recorded[k]
        term = None if g is None or p is None else g * p
        update: Cell = (Sym(number_of(graph, j), BAR), " += ", Sym(number_of(graph, i), BAR), "·")
        update += tuple(partial_symbol(graph, i, j))
        a = operand(graph, args[i][0])
        b = operand(graph, args[i][1]) if len(args[i]) > 1 else None
        local = tuple(rule_pieces(graph.ops[i].rule[k], a, b, Sym(number_of(graph, i))))
        # The term the engine added: the same single product g·p, shown, not a new derivative.
        return ((update, local, (Num(g), "·", Num(p, factor=True)), (Num(term),)), "")

    partial = ("∂", Sym("i"), "/∂", Sym("j"))
    headers = [(Word("adjoint update"),), partial, (Sym("i", BAR), "·", *partial), (Word("term"),)]
    right = [False, False, True, True]
    title = "adjoint trace (reverse mode)"
    note = "" if seeded else f"the output does not depend on {', '.join(wrt)}: every adjoint is 0"
    total = len(seeded) + len(summed) + _count_updates(graph, bar, start) + len(wrt)
    if full or total <= ELIDE_ABOVE:
        return Section(title, headers, right, [row(item) for item in top_down()], note=note)
    head = [row(item) for item in islice(top_down(), HEAD)]
    tail = [row(item) for item in islice(bottom_up(), TAIL)][::-1]
    return Section(title, headers, right, head, tail, total - HEAD - TAIL, note)


def sections(result: Result, gradient: bool, full: bool = False) -> list[Section]:
    """The tables to show: the primal trace, then (for grad) the tangent or adjoint trace."""
    out = [primal_section(result, full)]
    if not result.gradient:  # a formula without variables has no derivative to trace
        return out
    if gradient and result.tangents:
        out.append(tangent_section(result, full))
    elif gradient and result.adjoints is not None:
        out.append(adjoint_section(result, full))
    return out


# Writing cells out: plain Unicode (terminal and Markdown) and LaTeX.


def plain(piece: Any, digits: int | None) -> str:
    """A piece as Unicode text: v₃, v̇₋₁, ȳ, 0.693, x + y."""
    if isinstance(piece, str):
        return piece
    if isinstance(piece, Sym):
        return "v" + piece.mark + str(piece.n).translate(_SUBSCRIPT)
    if isinstance(piece, Name):
        return marked(piece.text, piece.mark)
    if isinstance(piece, Num):
        text = number_text(piece.x, digits)
        return f"({text})" if piece.factor and text.startswith("-") else text
    if isinstance(piece, Sup):
        return "^" + "".join(plain(p, digits) for p in piece.inner)
    if isinstance(piece, Const):
        return _CONSTANT_TEXT.get(piece.text, piece.text)
    return piece.text  # Code, Word


def marked(name: str, mark: str) -> str:
    """A name with a dot or bar: on its letter (ẋ, x̄1); over a word, one overline (o̅u̅t̅) or one dot (ou̇t).

    Precomposed where Unicode has the character (NFC), which terminals draw best.
    """
    if not mark:
        return name
    if sum(ch.isalpha() for ch in name) < 2:
        return unicodedata.normalize("NFC", name[:1] + mark) + name[1:]
    if mark == BAR:  # one bar over the whole word: the combining overline joins from letter to letter
        return "".join(ch + OVERLINE for ch in name)
    middle = len(name) // 2  # one dot over the middle of the word, where \dot{out} puts it
    return unicodedata.normalize("NFC", name[: middle + 1] + mark) + name[middle + 1 :]


def cell_text(cell: Cell, digits: int | None) -> str:
    """A whole cell as Unicode text."""
    return "".join(plain(p, digits) for p in cell)


_MD_SPECIAL = re.compile(r"([\\|*_`<\[\]])")


def _md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_cell(cell: Cell, digits: int | None) -> str:
    if len(cell) == 1 and isinstance(cell[0], Code):  # source text: a code span
        return "`" + cell[0].text.replace("|", "\\|") + "`" if cell[0].text else ""
    return _md_escape(cell_text(cell, digits))


_LATEX_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "_": r"\_",
    "^": r"\^{}",
    "~": r"\~{}",
    "#": r"\#",
    "$": r"\$",
    "%": r"\%",
    "&": r"\&",
    "…": r"\ldots{}",
    "ᵢ": r"$_i$",
    "×": r"$\times$",
    "ⱼ": r"$_j$",
}
_LATEX_MATH_CHARS = {
    "×": r"\times ",
    "·": r"\cdot ",
    "∂": r"\partial ",
    "π": r"\pi ",
    "Σ": r"\Sigma ",
    "≤": r"\le ",
    "≥": r"\ge ",
    "²": "^{2}",
    "½": r"\frac{1}{2}",
    "−": "-",
    "…": r"\ldots ",
    "⋮": r"\vdots ",
    "#": r"\#",
    "$": r"\$",
    "%": r"\%",
    "&": r"\&",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\sim ",
    "\\": r"\backslash ",
}
_SUBS, _SUPS = "₀₁₂₃₄₅₆₇₈₉₋₌ᵢⱼₖₙ", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᵏ"
_SCRIPT_ASCII = str.maketrans(_SUBS + _SUPS, "0123456789-=ijkn" + "0123456789-k")
_SCRIPT_RUN = re.compile(f"(?:[{_SUBS}](?:,(?=[{_SUBS}]))?|[{_SUPS}])+")  # v₁,ₖ: the comma stays in the index
_SCRIPT_PIECE = re.compile(f"([{_SUBS},]*)([{_SUPS}]*)")
_LATEX_FUNCTIONS = frozenset({"sin", "cos", "tan", "sinh", "cosh", "tanh", "exp", "log", "ln"})
_LATEX_WORDS = frozenset({"if", "else", "at", "for"})
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def latex_text(text: str) -> str:
    """Prose or source text escaped for LaTeX's text mode (pure ASCII out)."""
    return "".join(_LATEX_TEXT_ESCAPES.get(ch, ch) for ch in text)


_INDEXED_NAME = re.compile(r"([A-Za-z]+)(?:_?([0-9]+)|_([A-Za-z0-9_]+))?")


def latex_name(text: str, mark: str = "") -> str:
    """A variable's name in LaTeX maths: x1 and x_1 as x_{1}, the mark on the letters before
    the index (\\bar{x}_{1}, the adjoint of x₁), a word in italic under one \\overline."""
    match = _INDEXED_NAME.fullmatch(text)
    base, index = (match.group(1), match.group(2) or match.group(3)) if match else (text, None)
    shown = base.replace("_", "\\_")
    if len(base) > 1:
        shown = "\\mathit{" + shown + "}"
    if mark == DOT:
        shown = "\\dot{" + shown + "}"
    elif mark == BAR:
        shown = ("\\bar{" if len(base) == 1 else "\\overline{") + shown + "}"
    if index:
        inner = index.replace("_", "\\_")
        shown += "_{" + (inner if len(index) == 1 or index.isdigit() else "\\mathit{" + inner + "}") + "}"
    return shown


def _latex_number(x: float | None, digits: int | None, factor: bool = False) -> str:
    text = number_text(x, digits)
    if text in ("inf", "-inf"):
        out = text[:-3] + r"\infty"
    elif text == "nan":
        out = r"\mathrm{NaN}"
    else:
        m = re.fullmatch(r"(-?[\d.]+)e([+-])(\d+)", text)
        out = text
        if m:
            sign = "-" if m.group(2) == "-" else ""
            out = rf"{m.group(1)} \times 10^{{{sign}{int(m.group(3))}}}"
    return f"({out})" if factor and out.startswith("-") else out


def _latex_constant(text: str) -> str:
    """A constant's literal in LaTeX: ``1e20`` as 1 × 10²⁰, ``pi`` as π."""
    if text == "pi":
        return r"\pi "
    m = re.fullmatch(r"([\d.]+)[eE]([+-]?)(\d+)", text)
    if m:
        return rf"{m.group(1)} \times 10^{{{'-' if m.group(2) == '-' else ''}{int(m.group(3))}}}"
    return text


class _LatexMath:
    """Maths pieces to LaTeX. Groups opened by ``√(`` or ``^(`` close at their ``)`` even
    when that sits in a later piece, and a bare ``^`` or ``√`` braces the next piece."""

    def __init__(self, digits: int | None):
        self.digits = digits
        self.closers: list[str] = []
        self.brace_next = 0  # pieces waiting for a closing brace after the next atom

    def piece(self, piece: Any) -> str:
        if isinstance(piece, str):
            return self.text(piece)
        if isinstance(piece, Sym):
            v = {DOT: r"\dot{v}", BAR: r"\bar{v}"}.get(piece.mark, "v")
            out = f"{v}_{{{piece.n}}}"
        elif isinstance(piece, Name):
            out = latex_name(piece.text, piece.mark)
        elif isinstance(piece, Num):
            out = _latex_number(piece.x, self.digits, piece.factor)
        elif isinstance(piece, Const):
            out = _latex_constant(piece.text)
        elif isinstance(piece, Sup):
            inner = _LatexMath(self.digits)
            out = "^{" + "".join(inner.piece(p) for p in piece.inner) + inner.close() + "}"
        else:
            out = latex_text(piece.text)
        return self._atom(out)

    def _atom(self, out: str) -> str:
        if self.brace_next:
            out += "}" * self.brace_next
            self.brace_next = 0
        return out

    def text(self, text: str) -> str:
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            nxt = text[i + 1] if i + 1 < n else ""
            script = _SCRIPT_RUN.match(text, i)
            if script:  # a run of sub- or superscripts (v₁,ₖ₋ⱼ, Σⱼ₌₁ᵏ): one LaTeX group each
                for sub, sup in _SCRIPT_PIECE.findall(script.group(0)):
                    out.append(self._atom("_{" + sub.translate(_SCRIPT_ASCII) + "}" if sub else ""))
                    if sup:
                        out.append("^{" + sup.translate(_SCRIPT_ASCII) + "}")
                i = script.end()
                continue
            if text.startswith("+=", i):
                out.append(r"\mathrel{+}=")
                i += 2
                continue
            if ch in "√^":
                out.append(r"\sqrt{" if ch == "√" else "^{")
                if nxt == "(":  # √(…) and ^(…): the group closes at the matching parenthesis
                    self.closers.append("}")
                    i += 2
                else:  # √π, e^v₀: the next atom, here or in the next piece
                    self.brace_next += 1
                    i += 1
                continue
            match = _WORD.match(text, i) if ch.isascii() and ch.isalpha() else None
            if match:
                word = match.group(0)
                if word in _LATEX_FUNCTIONS:
                    atom = "\\" + word + " "
                elif word in _LATEX_WORDS:
                    atom = rf"\mbox{{ {word} }}"
                elif len(word) == 1:
                    atom = word
                else:
                    atom = rf"\mathrm{{{word}}}"
                out.append(self._atom(atom))
                i = match.end()
                continue
            if ch == "(":
                out.append("(")
                self.closers.append(")")
            elif ch == ")":
                out.append(self._atom(self.closers.pop() if self.closers else ")"))
            elif ch == " ":
                out.append(" ")
            else:
                out.append(self._atom(_LATEX_MATH_CHARS.get(ch, ch)))
            i += 1
        return "".join(out)

    def close(self) -> str:
        """Close whatever a cell left open, so the LaTeX always balances."""
        out = "}" * self.brace_next + "".join(reversed(self.closers))
        self.brace_next, self.closers = 0, []
        return out


def _latex_cell(cell: Cell, digits: int | None) -> str:
    out: list[str] = []
    maths: list[str] = []
    writer = _LatexMath(digits)

    def flush() -> None:
        if maths:
            out.append("$" + "".join(maths) + writer.close() + "$")
            maths.clear()

    for piece in cell:
        if isinstance(piece, Code):
            flush()
            out.append(r"\texttt{" + latex_text(piece.text) + "}")
        elif isinstance(piece, Word):
            flush()
            out.append(latex_text(piece.text))
        else:
            maths.append(writer.piece(piece))
    flush()
    return "".join(out)


# Whole documents.


def _rows(section: Section) -> list[Row | None]:
    """The kept rows, with None where rows were left out."""
    return [*section.head, *([None] if section.omitted else []), *section.tail]


def _caption(section: Section) -> str:
    parts = []
    rows = f"{section.omitted:,} of {section.total:,} rows" if section.omitted else ""
    if section.columns_omitted:
        spread = len(section.headers) - (section.spread or 0)
        columns = f"{section.columns_omitted:,} of {spread:,} tangent columns"
        parts.append(f"{rows}{' and ' * bool(rows)}{columns} left out (--full shows them all)")
    elif rows:
        parts.append(f"{rows} left out (--full shows them all)")
    if section.note:
        parts.append(section.note)
    return "; ".join(parts)


def point_text(point: dict[str, float], digits: int | None) -> str:
    """The point for a heading: ``x = 3, y = 2``; a long one by its first pairs and its size.

    At most POINT_PAIRS pairs in about POINT_LIMIT characters (cut between pairs, never in
    a number), then ``… (N variables)``: 10,000 variables must not make a 100 KB heading.
    """

    def pair(name: str, x: float) -> str:
        name = name if len(name) <= NAME_LIMIT else name[: NAME_LIMIT - 1] + "…"
        return f"{name} = {number_text(x, digits)}"

    pairs = [pair(name, x) for name, x in islice(point.items(), POINT_PAIRS)]
    while len(pairs) > 1 and len(", ".join(pairs)) > POINT_LIMIT:
        pairs.pop()
    text = ", ".join(pairs)
    return text if len(pairs) == len(point) else f"{text}, … ({len(point):,} variables)"


class Traced(Protocol):
    """What a heading needs of a result: its graph and point (a gradient's also has a mode)."""

    graph: Graph
    point: dict[str, float]


def _heading(result: Traced, gradient: bool, digits: int | None) -> tuple[str, str]:
    """The formula (one line, shortened) and the words after it: the point and the mode."""
    text = " ".join(result.graph.text.split())
    if len(text) > 70:
        text = text[:69] + "…"
    point = point_text(result.point, digits)
    where = f" at {point}" if point else ""
    how = f" ({getattr(result, 'mode', '')} mode)" if gradient else ""
    return text, where + how


def markdown(result: Traced, secs: list[Section], gradient: bool, digits: int | None = None) -> str:
    """The trace as GitHub-flavoured Markdown tables, one per section."""
    text, rest = _heading(result, gradient, digits)
    lines = [f"Trace of `{text}`{_md_escape(rest)}."]
    for s in secs:
        lines += ["", f"**{s.title.capitalize()}**", ""]
        lines.append("| " + " | ".join(_md_cell(h, digits) for h in s.headers) + " |")
        lines.append("|" + "|".join("--:" if r else ":--" for r in s.right) + "|")
        for row in _rows(s):
            cells = ["⋮"] * len(s.headers) if row is None else [_md_cell(c, digits) for c in row[0]]
            lines.append("| " + " | ".join(cells) + " |")
        caption = _caption(s)
        if caption:
            lines += ["", f"*{_md_escape(caption)}*"]
    return "\n".join(lines) + "\n"


LATEX_SPREAD = 2, 3  # tangent columns in a LaTeX tangent trace's first table, and in each one continuing it
LATEX_SOURCE = 24  # source text longer than this wraps, in a column a quarter of the line wide


def latex(result: Traced, secs: list[Section], gradient: bool, digits: int | None = None) -> str:
    """The trace as LaTeX tabular environments (plain LaTeX, no packages needed; ASCII only).

    Each table is set in \\small with narrower gaps between columns, so that at the default
    digits it fits the text width of a standard page (article, 345pt); long source text wraps
    in a paragraph column; tangent columns past the first LATEX_SPREAD continue in tables of
    their own, each row named by its tangent (v̇ᵢ).
    """
    text, rest = _heading(result, gradient, digits)
    lines = [f"% adcli trace of {latex_text(text)}{latex_text(rest)}".replace("\n", " ")]
    for s in secs:
        n = len(s.headers)
        spread = s.spread  # --full or not, the tangent columns go in pieces to fit the page
        if spread is None or n - spread <= LATEX_SPREAD[0]:
            parts = [(s.title, list(range(n)), False)]
        else:
            first, more = LATEX_SPREAD
            parts = [(s.title, list(range(spread + first)), False)]
            for start in range(spread + first, n, more):
                parts.append((f"{s.title}, continued", list(range(start, min(start + more, n))), True))
        for title, columns, named in parts:
            lines += ["", f"% {title}", *_latex_table(s, columns, named, digits)]
        caption = _caption(s)
        if caption:
            lines += [r"\\[2pt]", r"{\small " + latex_text(caption) + "}"]
    return "\n".join(lines) + "\n"


def _latex_table(s: Section, columns: list[int], named: bool, digits: int | None) -> list[str]:
    """One tabular of a section's ``columns``; ``named`` puts each row's tangent (the rule's left side) first."""
    rows = _rows(s)
    spec = []
    for c in ([None] if named else []) + columns:
        if c is None:
            spec.append("l")
        elif (
            not s.right[c]
            and _is_source(s, c)
            and any(row is not None and len(cell_text(row[0][c], digits)) > LATEX_SOURCE for row in rows)
        ):
            spec.append(r"p{0.25\linewidth}")
        else:
            spec.append("r" if s.right[c] else "l")

    def cells(row: Row | None, header: bool = False) -> list[str]:
        source = s.headers if header else (row[0] if row is not None else None)
        out = []
        if named:
            if header:
                out.append("")
            elif source is None:
                out.append(r"$\vdots$")
            else:
                lhs = source[0]
                out.append(_latex_cell(tuple(lhs[: lhs.index(" = ")]) if " = " in lhs else lhs, digits))
        for c in columns:
            if source is None:
                out.append(r"$\vdots$")
            elif spec[len(out)].startswith("p"):
                out.append(r"\raggedright " + _latex_cell(source[c], digits))
            else:
                out.append(_latex_cell(source[c], digits))
        return out

    lines = [
        r"\begingroup\small\setlength{\tabcolsep}{3pt}\noindent",
        r"\begin{tabular}{" + "".join(spec) + "}",
        r"\hline",
        " & ".join(cells(None, header=True)) + r" \\",
        r"\hline",
    ]
    lines += [" & ".join(cells(row)) + r" \\" for row in rows]
    lines += [r"\hline", r"\end{tabular}", r"\endgroup"]
    return lines


# rich: the terminal, and SVG through rich's export.


def rich_tables(secs: list[Section], digits: int | None, width: int) -> list:
    """One rich Table per section, laid out for ``width`` columns by render_text.fit.

    Cells wrap at spaces, over two lines at most, and never split a number; source text
    is cut short if need be. Where the tangent columns (one per variable) cannot all fit,
    the first and the last are kept around a column of "⋯", as long traces keep their
    first and last rows. A table that cannot fit with its numbers whole is drawn wider
    than ``width``. Print it with crop=False.
    """
    from dataclasses import replace

    from .console import fit

    def fitted(s: Section, keep: list[int | None]) -> Any:
        shorten = [k for k, c in enumerate(keep) if c is not None and _is_source(s, c)]
        return fit(_rich_table(s, digits, keep), width, shorten)

    tables = []
    for s in secs:
        n = len(s.headers)
        table = fitted(s, list(range(n)))
        source = [c for c in range(n) if _is_source(s, c)]
        if source and (table.width or 0) > width:  # too narrow even with the source text cut short
            trial = replace(s, note="; ".join(filter(None, [s.note, "the formula column is left out at this width"])))
            narrower = fitted(trial, [c for c in range(n) if c not in source])
            if (narrower.width or 0) <= width:
                table = narrower
        if s.spread is not None and not s.keep_columns and n - s.spread > 1 and (table.width or 0) > width:
            spread = list(range(s.spread, n))
            for count in range(len(spread) - 1, 0, -1):  # fewer tangent columns, until the table fits
                head = (count + 1) // 2
                kept = [*spread[:head], None, *spread[len(spread) - (count - head) :]]
                trial = replace(s, columns_omitted=len(spread) - count)
                table = fitted(trial, [*range(s.spread), *kept])
                if (table.width or 0) <= width:
                    break
        tables.append(table)
    return tables


def _is_source(section: Section, column: int) -> bool:
    """Whether a column holds the formula's source text (which may be cut short, unlike maths)."""
    rows = [row for row in _rows(section) if row is not None]
    return bool(rows) and all(all(isinstance(p, Code) for p in row[0][column]) for row in rows)


def _rich_table(s: Section, digits: int | None, keep: list[int | None]) -> Any:
    """A section as a rich Table of the columns in ``keep`` (None: a column of "⋯" for those left out)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    def text(cell: Cell) -> Text:
        out = Text()
        for piece in cell:
            out.append(plain(piece, digits), style="cyan" if isinstance(piece, Code) else "")
        return out

    table = Table(
        title=s.title,
        title_justify="left",
        title_style="bold",
        caption=_caption(s) or None,
        caption_justify="left",
        caption_style="dim",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        header_style="bold",
    )
    for c in keep:
        if c is None:
            table.add_column("⋯", justify="center")
        else:
            table.add_column(text(s.headers[c]), justify="right" if s.right[c] else "left", overflow="fold")
    for row in _rows(s):
        if row is None:
            table.add_row(*["⋮"] * len(keep), style="dim")
        else:
            cells = row[0]
            shown = [Text("⋯", style="dim") if c is None else text(cells[c]) for c in keep]
            table.add_row(*shown, style="bold" if row[1] == "result" else None)
    return table


def print_rich(console: Any, secs: list[Section], digits: int | None, summary: list[tuple[str, str]]) -> None:
    """Print the trace tables, then the value and gradient, on a rich console.

    rich lays a table out at about a millisecond a row, so a --full trace of more than
    RICH_ROWS rows is written as plain aligned columns instead (lines may then be wider
    than the terminal, which wraps them). Lines are never cropped: a number is never cut.
    """
    from .console import fit, summary_table

    if sum(len(s.head) + len(s.tail) for s in secs) > RICH_ROWS:
        console.out(plain_tables(secs, digits, summary), highlight=False, end="")
        return
    for table in rich_tables(secs, digits, console.width):
        console.print(table, crop=False)
    if summary:
        console.print(fit(summary_table(summary), console.width), crop=False)


def _columns(text: str) -> int:
    """Terminal columns of our text: the combining dot and bar (v̇, v̄) take none."""
    return len(text) - text.count(DOT) - text.count(BAR) - text.count(OVERLINE)


def _aligned(cells: list[str], widths: list[int], right: list[bool]) -> str:
    padded = []
    for cell, width, flush_right in zip(cells, widths, right, strict=True):
        pad = " " * (width - _columns(cell))
        padded.append(pad + cell if flush_right else cell + pad)
    return " " + "   ".join(padded).rstrip()


def plain_tables(secs: list[Section], digits: int | None, summary: list[tuple[str, str]]) -> str:
    """The tables as plain aligned text, in the layout of the rich tables; linear in the rows."""
    out: list[str] = []
    for s in secs:
        header = [cell_text(h, digits) for h in s.headers]
        body = [["⋮"] * len(header) if row is None else [cell_text(c, digits) for c in row[0]] for row in _rows(s)]
        widths = [max(_columns(c) for c in column) for column in zip(header, *body, strict=True)]
        out += [s.title, "", _aligned(header, widths, s.right), " " + "─" * (sum(widths) + 3 * (len(widths) - 1))]
        out += [_aligned(cells, widths, s.right) for cells in body]
        caption = _caption(s)
        out += ["", caption] if caption else []
        out.append("")
    if summary:
        width = max(len(k) for k, _ in summary)
        value_width = max(len(v) for _, v in summary)
        out += [f"{k:<{width}}  {v:>{value_width}}" for k, v in summary]
    return "\n".join(out) + "\n"


# The SVG: text in the reader's own monospace fonts (nothing fetched from the web), every word
# placed at its column, so the columns align whatever font a renderer picks.
SVG_FONTS = "'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, 'Courier New', monospace"
SVG_SIZE, SVG_ADVANCE, SVG_LINE, SVG_MARGIN = 14, 8.4, 19, 12  # font size, column and line in px


def svg_document(lines: list, width: int, title: str) -> str:
    """Lines of rich Segments as an SVG picture: a dark panel, a title, and a <text> per line with
    each word in a <tspan> at x = column × SVG_ADVANCE (colours from rich's SVG theme)."""
    from html import escape

    from rich.cells import cell_len
    from rich.terminal_theme import SVG_EXPORT_THEME as theme

    def colour(triplet: Any) -> str:
        return "#{:02x}{:02x}{:02x}".format(*triplet)

    foreground = colour(theme.foreground_color)
    top = SVG_MARGIN + 2 * SVG_LINE  # room for the title
    wide = round(2 * SVG_MARGIN + width * SVG_ADVANCE)
    high = round(top + len(lines) * SVG_LINE + SVG_MARGIN)
    room = int((wide - 2 * SVG_MARGIN) / (0.58 * 14))  # title characters that fit, about
    heading = title if len(title) <= room else title[: max(room - 1, 1)] + "…"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{wide}" height="{high}" viewBox="0 0 {wide} {high}">',
        f'<rect width="{wide}" height="{high}" rx="8" fill="{colour(theme.background_color)}"/>',
        f'<text x="{SVG_MARGIN}" y="{SVG_MARGIN + SVG_LINE}" fill="{foreground}" font-family="sans-serif" '
        f'font-size="14" font-weight="bold">{escape(heading)}</text>',
        f'<g font-family="{SVG_FONTS}" font-size="{SVG_SIZE}" fill="{foreground}" xml:space="preserve">',
    ]
    for row, segments in enumerate(lines):
        words = []
        column = 0
        for segment in segments:
            text, style = segment.text, segment.style
            attributes = ""
            if style is not None:
                if style.color is not None and not style.color.is_default:
                    attributes += f' fill="{colour(style.color.get_truecolor(theme))}"'
                if style.bold:
                    attributes += ' font-weight="bold"'
                if style.dim:
                    attributes += ' opacity="0.6"'
            for match in re.finditer(r"\S+", text):
                x = SVG_MARGIN + (column + cell_len(text[: match.start()])) * SVG_ADVANCE
                # The space after each word is not drawn where it matters (the next word has its own x);
                # it keeps the text readable when copied out of the picture.
                words.append(f'<tspan x="{x:g}"{attributes}>{escape(match.group(0))} </tspan>')
            column += cell_len(text)
        if words:
            out.append(f'<text y="{top + row * SVG_LINE + SVG_SIZE}">{"".join(words)}</text>')
    out += ["</g>", "</svg>"]
    return "\n".join(out) + "\n"


def save_svg(path: str, secs: list[Section], digits: int | None, summary: list[tuple[str, str]], title: str) -> None:
    """Write the rendered tables as an SVG picture, as wide as the tables need, 40 to 160 columns
    (wider only if the numbers need it)."""
    from rich.console import Console

    from ..errors import AdcliError
    from .console import fit, summary_table

    tables = rich_tables(secs, digits, 160) + ([summary_table(summary)] if summary else [])
    probe = Console(file=io.StringIO(), width=160)
    width = min(max([40, *(probe.measure(t).maximum for t in tables)]), 160)
    tables = rich_tables(secs, digits, width) + ([fit(summary_table(summary), width)] if summary else [])
    # A table that needs more than 160 columns to keep its numbers whole is drawn wider: so is the picture.
    width = max(width, *(t.width or 0 for t in tables))
    console = Console(file=io.StringIO(), width=width, force_terminal=True, highlight=False, color_system="truecolor")
    lines = [line for table in tables for line in console.render_lines(table, console.options, pad=False)]
    svg = svg_document(lines, width, title)
    if path == "-":  # standard output, the SVG alone
        sys.stdout.write(svg)
        return
    try:
        with open(path, "w", encoding="utf-8") as out:
            out.write(svg)
    except OSError as error:
        raise AdcliError(f"cannot write the SVG file '{path}': {error.strerror or error}") from None


def render(
    result: Traced,
    gradient: bool,
    *,
    digits: int | None = None,
    full: bool = False,
    fmt: str = "text",
    svg: str | None = None,
    summary: list[tuple[str, str]] | None = None,
    console: Any = None,
    secs: list[Section] | None = None,
) -> None:
    """Show the traced table in ``fmt`` on stdout (or ``console``), and write it as SVG to ``svg`` if given.

    Text goes through rich (no ANSI codes when stdout is not a terminal, none of colour
    under NO_COLOR); Markdown and LaTeX are written directly, without rich. ``secs``:
    tables built elsewhere (the Taylor trace), written out the same ways; by default
    the primal and derivative traces of the gradient-kind ``result``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if secs is None:
        secs = sections(cast("Result", result), gradient, full)
    summary = summary or []
    if fmt == "markdown":
        sys.stdout.write(markdown(result, secs, gradient, digits))
    elif fmt == "latex":
        sys.stdout.write(latex(result, secs, gradient, digits))
    elif svg == "-":  # the SVG takes standard output's place
        pass
    elif console is not None:
        print_rich(console, secs, digits, summary)
    else:
        from .console import new_console

        console = new_console(highlight=False)
        if console.is_terminal:
            print_rich(console, secs, digits, summary)
        else:  # piped: the same text, without the spaces rich pads every line with
            with console.capture() as captured:
                print_rich(console, secs, digits, summary)
            sys.stdout.writelines(line.rstrip() + "\n" for line in captured.get().splitlines())
    if svg is not None:
        text, rest = _heading(result, gradient, digits)
        save_svg(svg, secs, digits, summary, f"adcli: {text}{rest}")
