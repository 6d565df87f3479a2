"""Taylor results for people and for scripts: the derivatives, the Taylor trace, JSON.

The Taylor trace has one row per node Taylor mode ran: the graph's inputs and
operations (v₋ₙ₊₁ … vₖ, as in the other traces) and, right after an operation, the
nodes its rule brought in (w₁, w₂, …: cos(v₁) for sin(v₁)). Each row gives the
recurrence for coefficient k in the textbook's notation and the coefficients
v_{i,0} … v_{i,K}; coefficient columns past the terminal's width are left out between
a head and a tail, as rows are in the other traces.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from .jsontext import number
from .numbers import human

if TYPE_CHECKING:
    from ..engines.taylor import MixedResult, TaylorResult
    from .trace import Row, Section


def number_text(x: float | None, digits: int | None) -> str:
    """As the traces write numbers (render.trace.number_text), imported only when a trace or --digits asks."""
    if digits is None:
        return human(x)
    from .trace import number_text as traced

    return traced(x, digits)


NOTES_WIDTH = 120  # the width coefficient columns are chosen for in Markdown and LaTeX (--full: all)

_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


def sup(k: int) -> str:
    return str(k).translate(_SUP)


def sub(k: int | str) -> str:
    return str(k).translate(_SUB)


# The numbers.


def labels(result: TaylorResult, taylor: bool) -> list[str]:
    """Row labels: value, then ∂ᵏ/∂xᵏ (one variable), dᵏ/dtᵏ (a direction) or [tᵏ] (coefficients)."""
    out = ["value"]
    for k in range(1, result.order + 1):
        power = sup(k) if k > 1 else ""
        if taylor:
            out.append(f"[t{sup(k)}]")
        elif result.wrt is not None:
            x = result.wrt
            out.append(f"∂{power}/∂{x}{power}" if result.graph.n_inputs > 1 else f"d{power}/d{x}{power}")
        else:
            out.append(f"d{power}/dt{power}")
    return out


def rows(result: TaylorResult, taylor: bool, digits: int | None) -> list[tuple[str, str]]:
    numbers = result.coefficients if taylor else result.derivatives
    return [(label, _text(x, digits)) for label, x in zip(labels(result, taylor), numbers, strict=True)]


def mixed_label(result: MixedResult) -> str:
    total = result.order
    parts = "".join(f"∂{name}{sup(k) if k > 1 else ''}" for name, k in result.powers.items())
    return f"∂{sup(total) if total > 1 else ''}/{parts}"


def coefficient_label(result: MixedResult) -> str:
    """The mixed Taylor coefficient ∂^αf/α! as the coefficient of its monomial: [x²·y]."""
    return "[" + "·".join(f"{name}{sup(k) if k > 1 else ''}" for name, k in result.powers.items()) + "]"


def factorials(result: MixedResult) -> str:
    """α! written out: 2!·1!."""
    return "·".join(f"{k}!" for k in result.powers.values())


def mixed_rows(result: MixedResult, digits: int | None, taylor: bool = False) -> list[tuple[str, str]]:
    """The value and the mixed partial, or with ``taylor`` its Taylor coefficient ∂^αf/α!."""
    if taylor:
        return [("value", _text(result.value, digits)), (coefficient_label(result), _text(result.coefficient, digits))]
    return [("value", _text(result.value, digits)), (mixed_label(result), _text(result.derivative, digits))]


def direction_text(result: MixedResult, s: dict[str, int]) -> str:
    """A direction as --dir takes it: every variable of the partial, 0 where s leaves it out."""
    return ",".join(f"{name}={s.get(name, 0)}" for name in result.powers)


def _command(result: MixedResult, options: str) -> str:
    """The adcli deriv command for this formula and point with ``options``; EXPR and POINT if too long."""
    import shlex

    point = ",".join(f"{name}={human(x)}" for name, x in result.point.items())
    command = f"adcli deriv {shlex.quote(result.graph.text)} --at {point} {options}"
    if len(command) > 100 or "\n" in result.graph.text:
        return f"adcli deriv EXPR --at POINT {options}"
    return command


def mixed_section(result: MixedResult) -> Section:
    """The interpolation: one row per directional expansion, its K-th coefficient, weight and product."""
    from .trace import Code, Num, Section, Word

    k = result.order
    headers = [(Word("direction s"),), (f"[t{sup(k)}] f(p + t·s)",), (Word("weight"),), (Word("weight × coefficient"),)]
    rows: list[Row] = [
        (((Code(direction_text(result, s)),), (Num(c),), (str(w),), (Num(float(w) * c),)), "")
        for s, c, w in result.directions
    ]
    label, coefficient, alpha = mixed_label(result), coefficient_label(result), factorials(result)
    rows.append((((f"Σ = {coefficient}",), (), (), (Num(result.coefficient),)), "result"))
    rows.append((((f"{coefficient}·{alpha} = {label}",), (), (), (Num(result.derivative),)), "result"))
    s0 = direction_text(result, result.directions[0][0]) if result.directions else ""
    note = f"each row is one expansion of order {k} along s; its Taylor trace:\n" + (
        _command(result, f"--dir {s0} --order {k} --trace")
    )
    return Section(
        f"mixed partial by interpolation ({len(result.directions)} directional expansions)",
        headers,
        [False, True, True, True],
        rows,
        note=note,
    )


def _text(x: float, digits: int | None) -> str:
    return number_text(x, digits)


def show_rows(body: list[tuple[str, str]]) -> None:
    """Label and number columns: rich on a terminal, plain aligned text when piped."""
    if sys.stdout.isatty():
        from .console import fit, new_console, summary_table

        console = new_console()
        console.print(fit(summary_table(body), console.width), crop=False)
        return
    width = max(len(k) for k, _ in body)
    sys.stdout.write("\n".join(f"{k:<{width}}  {v}" for k, v in body) + "\n")


# JSON.


def result_object(result: TaylorResult, taylor: bool, trace: bool) -> dict[str, Any]:
    obj: dict[str, Any] = {"expression": result.graph.text, "point": _numbers(result.point)}
    if result.wrt is not None:
        obj["wrt"] = result.wrt
    obj["direction"] = _numbers(result.direction)
    obj["order"] = result.order
    obj["value"] = number(result.value)
    obj["coefficients"] = [number(c) for c in result.coefficients]
    obj["derivatives"] = [number(d) for d in result.derivatives]
    if result.warnings:
        obj["warnings"] = list(result.warnings)
    if trace:
        obj["trace"] = trace_entries(result)
    return obj


def mixed_object(result: MixedResult) -> dict[str, Any]:
    obj: dict[str, Any] = {"expression": result.graph.text, "point": _numbers(result.point)}
    obj["mixed"] = dict(result.powers)
    obj["order"] = result.order
    obj["value"] = number(result.value)
    obj["derivative"] = number(result.derivative)
    obj["coefficient"] = number(result.coefficient)
    obj["interpolation_error"] = number(result.interpolation_error)
    obj["directions"] = [
        {"direction": dict(s), "coefficient": number(c), "weight": str(w)} for s, c, w in result.directions
    ]
    if result.warnings:
        obj["warnings"] = list(result.warnings)
    return obj


def _numbers(xs: dict[str, float]) -> dict[str, float | str]:
    return {name: number(x) for name, x in xs.items()}


def trace_entries(result: TaylorResult) -> list[dict[str, Any]]:
    """One entry per program node in the order Taylor mode runs them."""
    p, series = result.program, result.series
    assert p is not None and series is not None
    graph = result.graph
    entries = []
    for i in _shown(result):
        op = p.ops[i]
        entry: dict[str, Any] = {"id": i, "op": op.name, "args": list(p.args[i]), "kind": p.kinds[i]}
        g = p.origin[i]
        if g >= 0:
            entry["node"] = g
            if g < graph.n_inputs:
                entry["name"] = graph.variables[g]
            if g in graph.labels:
                entry["label"] = graph.labels[g]
        else:
            entry["rule_of"] = p.owner[i]
        if p.kinds[i] == "rule":
            entry["partials"] = [n for n, a in zip(p.partials[i], p.active[i], strict=True) if a]
        entry["coefficients"] = [number(c) for c in series[i]]
        entries.append(entry)
    return entries


def _shown(result: TaylorResult) -> list[int]:
    """The program nodes a trace shows: every one but the constants, in evaluation order."""
    p = result.program
    assert p is not None
    return [i for i in range(len(p)) if p.ops[i].name != "const"]


# The trace.


class _Names:
    """How the trace writes each program node: vₙ for the graph's nodes, wₘ for the rules' own."""

    def __init__(self, result: TaylorResult):
        from .trace import Sym, number_of, plain

        p, graph = result.program, result.graph
        assert p is not None
        self.p, self.graph = p, graph
        self.text: dict[int, str] = {}
        aux = 0
        for i in range(len(p)):
            g = p.origin[i]
            if p.ops[i].name == "const":
                continue
            if g >= 0:
                self.text[i] = plain(Sym(number_of(graph, g)), None)
            else:
                aux += 1
                self.text[i] = "w" + sub(aux)

    def __call__(self, i: int, digits: int | None = None) -> str:
        name = self.text.get(i)
        if name is not None:
            return name
        return number_text(self.p.values[i], digits)  # a constant

    def at(self, i: int, k: str, digits: int | None = None) -> str:
        """Coefficient k of node i: v₁,ₖ; a constant is itself at order 0 and 0 above."""
        if i not in self.text:
            return self(i, digits) if k == "₀" else "0"
        return f"{self(i)},{k}"


def recurrence(result: TaylorResult, names: _Names, i: int, digits: int | None) -> str:
    """Node i's rule for coefficient k (k ≥ 1), in the notation of Griewank & Walther ch. 13."""
    p = result.program
    assert p is not None
    kind, args, active = p.kinds[i], p.args[i], p.active[i]
    W = names(i)
    A = names(args[0]) if args else ""
    B = names(args[1]) if len(args) > 1 else ""
    k, j, kj = "ₖ", "ⱼ", "ₖ₋ⱼ"
    if kind == "input":
        d = result.direction[result.graph.variables[p.origin[i]]]
        return f"seed: {W},₁ = {number_text(d, digits)}"
    if kind == "const":
        return "0"
    if kind == "linear":
        if p.ops[i].name == "pow":
            src = p.partials[i][0]
            return f"{names.at(src, k)}   (products: {A},₀ = 0)"
        terms = []
        for n, f, on in zip(args, p.factors[i], active, strict=True):
            if not on:
                continue
            x = f"{names(n)},{k}"
            terms.append(x if f == 1.0 else f"-{x}" if f == -1.0 else f"{_factor(f, digits)}·{x}")
        return " + ".join(terms).replace("+ -", "- ")
    if kind == "mul":
        return f"Σⱼ₌₀ᵏ {A},{j}·{B},{kj}"
    if kind == "square":
        return f"Σⱼ₌₀ᵏ {A},{j}·{A},{kj}"
    if kind == "div":
        top = f"{A},{k}" if active[0] else "0"
        return f"({top} - Σⱼ₌₁ᵏ {B},{j}·{W},{kj}) / {B},₀"
    if kind == "powc":
        r = _factor(p.factors[i][0], digits)
        return f"Σⱼ₌₁ᵏ (({r}+1)·j - k)·{A},{j}·{W},{kj} / (k·{A},₀)"
    if kind == "powv":
        q = names(p.partials[i][0])
        return f"(1/k)·Σⱼ₌₁ᵏ j·{q},{j}·{W},{kj}"
    terms = []
    for slot, (n, on) in enumerate(zip(p.partials[i], active, strict=True)):
        if on:
            arg = names(args[slot])
            part = names.at(n, kj) if n in names.text else _factor(p.values[n], digits)
            terms.append(f"{arg},{j}·{part}" if n in names.text else f"{part}·{arg},{j}")
    inner = " + ".join(terms)
    inner = f"({inner})" if len(terms) > 1 else inner
    return f"(1/k)·Σⱼ₌₁ᵏ j·{inner}"


def _factor(x: float, digits: int | None) -> str:
    text = number_text(x, digits)
    return f"({text})" if text.startswith("-") else text


def _definition(result: TaylorResult, names: _Names, i: int) -> str:
    from .trace import definition, plain

    p, graph = result.program, result.graph
    assert p is not None
    g = p.origin[i]
    if g >= 0 and g < graph.n_inputs:
        return f"{names(i)} = {graph.variables[g]}"
    if g >= 0:
        return names(i) + " = " + "".join(plain(piece, None) for piece in definition(graph, g))
    op = p.ops[i]
    parts = [names(a) for a in p.args[i]]
    if op.name == "neg":
        body = f"-{parts[0]}"
    elif op.symbol and len(parts) == 2:
        body = f"{parts[0]} {op.symbol.replace('*', '×')} {parts[1]}"
    else:
        body = f"{op.written}({', '.join(parts)})"
    return f"{names(i)} = {body}"


def coefficient_columns(widths: list[int], room: int) -> tuple[list[int], list[int]]:
    """Orders to show, a head and a tail, whose columns fit in ``room``: orders 0, 1 and K at
    least, then two more of the head for each one of the tail."""
    n = len(widths)
    if sum(widths) <= room or n <= 3:
        return list(range(n)), []
    room -= 4  # the "…" column
    head, tail = [0], [n - 1]
    used = widths[0] + widths[n - 1]
    lo, hi, turn = 1, n - 2, 0
    while lo <= hi:
        k = lo if turn % 3 != 2 else hi
        if used + widths[k] > room and len(head) + len(tail) >= 3:
            break
        used += widths[k]
        if k == lo:
            head.append(lo)
            lo += 1
        else:
            tail.insert(0, hi)
            hi -= 1
        turn += 1
    return head, tail


def trace_section(result: TaylorResult, digits: int | None, full: bool, width: int) -> Section:
    from .trace import Num, Section, Word, _pick, operand, output_name

    p, series = result.program, result.series
    assert p is not None and series is not None
    names = _Names(result)
    shown = _shown(result)
    graph = result.graph
    out = result.mapped[graph.output] if result.mapped else -1
    order = result.order
    texts = [[number_text(series[i][k], digits) for k in range(order + 1)] for i in shown]
    cells = [(_definition(result, names, i), recurrence(result, names, i, digits)) for i in shown]
    colw = [max([len(f"vᵢ,{sub(k)}")] + [len(t[k]) for t in texts]) + 3 for k in range(order + 1)]
    if full:
        head, tail = list(range(order + 1)), list[int]()
    else:
        text_room = min(max((len(c[0]) for c in cells), default=10), 20) + min(
            max((len(c[1]) for c in cells), default=10), 34
        )
        head, tail = coefficient_columns(colw, max(width - text_room - 6, 0))
    gap = bool(tail) and head[-1] + 1 < tail[0]
    orders: list[int | None] = [*head, *([None] if gap else []), *tail]
    headers = [(Word("node"),), ("vᵢ,ₖ for k ≥ 1",)]
    headers += [(f"vᵢ,{sub(k)}",) if k is not None else ("…",) for k in orders]
    right = [False, False] + [True] * len(orders)

    def row(r: int):
        if r == len(shown):  # the output
            name = output_name(graph)
            ref = operand(graph, graph.output)
            nums = tuple((Num(series[out][k]),) if k is not None else ("…",) for k in orders)
            return (((name, " = ", ref), (), *nums), "result")
        i = shown[r]
        nums = tuple((Num(series[i][k]),) if k is not None else ("…",) for k in orders)
        kind = "leaf" if p.kinds[i] == "input" else ("" if p.origin[i] >= 0 else "aux")
        return (((cells[r][0],), (cells[r][1],), *nums), kind)

    total = len(shown) + 1
    head_rows, omitted, tail_rows = _pick(total, full)
    section = Section(
        f"Taylor trace (order {order}; w: nodes a rule brought in)",
        headers,
        right,
        [row(r) for r in head_rows],
        [row(r) for r in tail_rows],
        omitted,
    )
    if gap:
        first, last = head[-1] + 1, tail[0] - 1
        which = f"column {first}" if first == last else f"columns {first} to {last}"
        section.note = f"coefficient {which} left out (--full or --json shows them all)"
    return section


def render_trace(
    result: TaylorResult | MixedResult,
    summary: list[tuple[str, str]],
    digits: int | None,
    full: bool,
    fmt: str = "text",
    svg: str | None = None,
) -> None:
    """The Taylor trace (or a mixed partial's interpolation) and the numbers: a terminal table
    (rich; piped, the same text without ANSI codes), Markdown or LaTeX, and SVG to ``svg``,
    all written by the traces' own renderer (render.trace.render)."""
    from ..engines.taylor import MixedResult
    from .console import new_console
    from .trace import render

    console = new_console(highlight=False)
    width = console.width if fmt == "text" else NOTES_WIDTH
    section = mixed_section(result) if isinstance(result, MixedResult) else trace_section(result, digits, full, width)
    secs = [section]
    render(result, False, digits=digits, full=full, fmt=fmt, svg=svg, summary=summary, secs=secs)
