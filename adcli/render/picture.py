"""Pictures of the computational graph: a terminal drawing, Graphviz DOT, a Mermaid flowchart.

Nodes are named as in the traced table (inputs v₋ₙ₊₁ … v₀, operations v₁ … vₖ, constants
by their text), and inputs, constants, operations and the output are drawn as visibly
different kinds of node. Given a Result, nodes carry their values and, in forward or
reverse mode, their tangents or adjoints; edges carry the local partials ∂vᵢ/∂vⱼ the
engine multiplied in. Nothing recurses on depth and nothing is recomputed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .trace import (
    BAR,
    DOT,
    Name,
    Sym,
    cell_text,
    definition,
    number_of,
    number_text,
    operand,
    output_name,
    point_text,
)

if TYPE_CHECKING:
    from ..core.graph import Graph
    from ..engines.gradient import Result

FORMATS = ("ascii", "dot", "mermaid")
MAX_DEPTH = 12  # deeper subtrees of the terminal drawing continue in a block of their own
NOT_REACHED = "–"  # an adjoint the reverse sweep never computed (constants, nodes the output ignores)


# What each node is and says.


def kind(graph: Graph, node: int) -> str:
    """'input', 'constant' or 'operation'."""
    if node < graph.n_inputs:
        return "input"
    return "constant" if node < graph.n_leaves else "operation"


def title(graph: Graph, node: int) -> str:
    """A node's name and definition: ``v₋₁ = x``, ``2``, ``v₃ = v₁ × v₂``."""
    if node < graph.n_inputs:
        return cell_text((Sym(number_of(graph, node)), " = ", Name(graph.variables[node])), None)
    if node < graph.n_leaves:
        return cell_text((operand(graph, node),), None)
    return cell_text((Sym(number_of(graph, node)), " = ", *definition(graph, node)), None)


def _derivative_heads(result: Result | None) -> list[str]:
    if result is None:
        return []
    if result.tangents:
        return [f"∂vᵢ/∂{name}" for name in result.tangents]
    if result.adjoints is not None and result.wrt:
        return [f"v{BAR}ᵢ"]
    return []


def numbers(result: Result | None, node: int, digits: int | None) -> list[str]:
    """The node's value, then its tangent per direction (forward) or its adjoint (reverse)."""
    if result is None:
        return []
    out = [number_text(result.values[node], digits)]
    if result.tangents:  # no tangent (None) is a structural zero: the node does not depend on the seed
        out += [number_text(t[node], digits) for t in result.tangents.values()]
    elif result.adjoints is not None and result.wrt:  # no adjoint: the sweep never reached the node
        bar = result.adjoints[node]
        if node < result.graph.n_inputs and result.graph.variables[node] in result.gradient:
            bar = result.gradient[result.graph.variables[node]]  # an input's adjoint is its gradient entry
        out.append(NOT_REACHED if bar is None else number_text(bar, digits))
    return out


def _edge_partial(result: Result | None, node: int, k: int, arg: int) -> float | None:
    """The local partial ∂v_node/∂v_arg the engine multiplied in along this edge, if it did."""
    if result is None or result.partials is None:
        return None
    tangents, adjoints = result.tangents, result.adjoints
    if tangents:
        used = any(t[arg] is not None for t in tangents.values())
    elif adjoints is not None and result.wrt:
        used = adjoints[node] is not None and adjoints[arg] is not None
    else:
        return None
    local = result.partials[node]
    return local[k] if used and local is not None else None


def _tags(graph: Graph, node: int) -> list[str]:
    tags = []
    if node == graph.output:
        tags.append(f"output {output_name(graph)}")
    if node < graph.n_leaves:
        tags.append(kind(graph, node))
    label = graph.labels.get(node)
    if label:
        tags.append(f"named {label}")
    return tags


def _heading(graph: Graph, result: Result | None, digits: int | None) -> str:
    text = " ".join(graph.text.split())
    if len(text) > 60:
        text = text[:59] + "…"
    if result is None:
        return text
    point = point_text(result.point, digits)
    mode = f" ({result.mode} mode)" if _derivative_heads(result) else ""
    return f"{text} at {point}{mode}" if point else f"{text}{mode}"


# The terminal drawing.


def _width(text: str) -> int:
    """Terminal columns of a line: the combining dot and bar (v̇, v̄) take none."""
    return len(text) - text.count(DOT) - text.count(BAR)


def ascii_drawing(graph: Graph, result: Result | None = None, digits: int | None = None) -> str:
    """A tree from the output down; a node used again is referenced (↑ above, ↓ below), not redrawn.

    Subtrees deeper than MAX_DEPTH continue in a block of their own, so lines stay short
    and the drawing stays linear in the size of the graph, however deep the formula.
    """
    n = len(graph)
    state = [0] * n  # 0 not yet drawn, 1 drawn above, 2 waiting in a block below
    lines: list[tuple[str, list[str]]] = []
    blocks: list[tuple[int, str]] = [(graph.output, "")]
    unused = n - 1  # the next candidate for a block of nodes the output does not use

    def draw(root: int, note: str) -> None:
        state[root] = 1
        stack = [(root, "", "", 0)]
        while stack:
            node, first, rest, depth = stack.pop()
            if node != root or depth:
                if state[node]:
                    ref = "↑ see above" if state[node] == 1 else "↓ continued below"
                    lines.append((f"{first}{title(graph, node)}  {ref}", []))
                    continue
                if depth > MAX_DEPTH and node >= graph.n_leaves:
                    state[node] = 2
                    blocks.append((node, "continued"))
                    lines.append((f"{first}{title(graph, node)}  ↓ continued below", []))
                    continue
                state[node] = 1
            tags = _tags(graph, node) + ([note] if note and node == root else [])
            text = title(graph, node) + (f"  ({', '.join(tags)})" if tags else "")
            lines.append((first + text, numbers(result, node, digits)))
            children = graph.args[node]
            for k in range(len(children) - 1, -1, -1):
                last = k == len(children) - 1
                stack.append(
                    (children[k], rest + ("└── " if last else "├── "), rest + ("    " if last else "│   "), depth + 1)
                )

    k = 0
    while True:
        while k < len(blocks):
            root, note = blocks[k]
            k += 1
            if lines:
                lines.append(("", []))
            draw(root, note)
        while unused >= 0 and state[unused]:
            unused -= 1
        if unused < 0:
            break
        blocks.append((unused, "not used by the output"))

    heads = _derivative_heads(result)
    columns = ["value", *heads] if result is not None else []
    rows = ([("", columns)] if columns else []) + lines
    left = min(max(_width(text) for text, _ in rows), 64)
    widths = [max(len(c) for c in col) for col in zip(*(cells for _, cells in rows if cells), strict=False)]
    out = []
    for text, cells in rows:
        if not cells:
            out.append(text.rstrip())
            continue
        pad = " " * max(left - _width(text), 0)
        out.append(text + pad + "".join("  " + c.rjust(w) for c, w in zip(cells, widths, strict=False)))
    return "\n".join(out) + "\n"


# Graphviz and Mermaid.

_STYLE = {
    "input": {"shape": "box", "style": "rounded,filled", "fillcolor": "#dbeafe", "color": "#1d4ed8"},
    "constant": {"shape": "box", "style": "dashed", "color": "#9ca3af", "fontcolor": "#4b5563"},
    "operation": {"shape": "ellipse", "color": "#374151"},
}
_OUTPUT_STYLE = {"peripheries": "2", "style": "filled,bold", "fillcolor": "#fde68a", "color": "#b45309"}


def _label_lines(graph: Graph, result: Result | None, node: int, digits: int | None) -> list[str]:
    lines = [title(graph, node)]
    if node == graph.output:
        lines.insert(0, f"output {output_name(graph)}")
    label = graph.labels.get(node)
    if label:
        lines.append(f"({label})")
    values = numbers(result, node, digits)
    if values and not graph.n_inputs <= node < graph.n_leaves:  # a constant's text is its value
        lines.append(f"= {values[0]}")
    for head, value in zip(_derivative_heads(result), values[1:], strict=False):
        if value != NOT_REACHED:
            lines.append(f"{head.replace('ᵢ', '')} = {value}")
    return lines


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def dot(graph: Graph, result: Result | None = None, digits: int | None = None) -> str:
    """Graphviz DOT, data flowing left to right from the inputs to the output."""
    heading = _heading(graph, result, digits)
    if _derivative_heads(result):
        heading += "; edges: local partials ∂vᵢ/∂vⱼ"
    out = [
        "digraph adcli {",
        f"  graph [rankdir=LR, fontname=Helvetica, labelloc=t, label={_dot_string(heading)}];",
        "  node [fontname=Helvetica, fontsize=11];",
        '  edge [fontname=Helvetica, fontsize=9, color="#6b7280"];',
    ]
    for node in range(len(graph)):
        label = "\\n".join(_dot_string(line)[1:-1] for line in _label_lines(graph, result, node, digits))
        style = _STYLE[kind(graph, node)] | (_OUTPUT_STYLE if node == graph.output else {})
        attrs = "".join(f", {key}={_dot_string(value)}" for key, value in style.items())
        out.append(f'  n{node} [label="{label}"{attrs}];')
    for node in range(graph.n_leaves, len(graph)):
        for k, arg in enumerate(graph.args[node]):
            p = _edge_partial(result, node, k, arg)
            attrs = "" if p is None else f" [label={_dot_string(number_text(p, digits))}]"
            out.append(f"  n{arg} -> n{node}{attrs};")
    out.append("}")
    return "\n".join(out) + "\n"


_MERMAID_SHAPE = {"input": ('(["', '"])'), "constant": ('[/"', '"/]'), "operation": ('["', '"]')}
_MERMAID_CLASSES = (
    "  classDef input fill:#dbeafe,stroke:#1d4ed8",
    "  classDef constant fill:#f9fafb,stroke:#9ca3af,stroke-dasharray:4 3,color:#4b5563",
    "  classDef operation fill:#ffffff,stroke:#374151",
    "  classDef output fill:#fde68a,stroke:#b45309,stroke-width:3px",
)


def _mermaid_text(text: str) -> str:
    return text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def mermaid(graph: Graph, result: Result | None = None, digits: int | None = None) -> str:
    """A Mermaid flowchart: inputs as stadiums, constants as parallelograms, the output as a hexagon."""
    out = ["flowchart LR", f"  %% {_heading(graph, result, digits)}"]
    members: dict[str, list[str]] = {"input": [], "constant": [], "operation": [], "output": []}
    for node in range(len(graph)):
        label = "<br/>".join(_mermaid_text(line) for line in _label_lines(graph, result, node, digits))
        what = kind(graph, node)
        opening, closing = ('{{"', '"}}') if node == graph.output else _MERMAID_SHAPE[what]
        out.append(f"  n{node}{opening}{label}{closing}")
        members["output" if node == graph.output else what].append(f"n{node}")
    for node in range(graph.n_leaves, len(graph)):
        for k, arg in enumerate(graph.args[node]):
            p = _edge_partial(result, node, k, arg)
            edge = "-->" if p is None else f'-->|"{_mermaid_text(number_text(p, digits))}"|'
            out.append(f"  n{arg} {edge} n{node}")
    out += _MERMAID_CLASSES
    out += [f"  class {','.join(ids)} {name}" for name, ids in members.items() if ids]
    return "\n".join(out) + "\n"


def render(graph: Graph, result: Result | None = None, fmt: str = "ascii", digits: int | None = None) -> str:
    """The graph picture in ``fmt`` (ascii, dot or mermaid), labelled with ``result`` when given."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return {"ascii": ascii_drawing, "dot": dot, "mermaid": mermaid}[fmt](graph, result, digits)
