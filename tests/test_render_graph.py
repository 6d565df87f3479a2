"""Graph pictures: the terminal drawing, Graphviz DOT (parsed by the real dot) and Mermaid.

Expected drawings and numbers are written by hand: for (x+y)*(x-y) at (3, 2) the nodes
are x = 3, y = 2, v₁ = 5, v₂ = 1, v₃ = 5; adjoints v̄₃ = 1, v̄₁ = v₂ = 1, v̄₂ = v₁ = 5,
x̄ = 6, ȳ = -4; tangents in the direction x: 1, 0, 1, 1, 6 and y: 0, 1, 1, -1, -4.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

import adcli
from adcli.render import picture as render_graph

SEED = "(x+y)*(x-y)"
BAYDIN = "ln(x1) + x1*x2 - sin(x2)"


def picture(formula: str, fmt: str = "ascii", point: dict | None = None, mode: str | None = None, digits=None) -> str:
    graph = adcli.parse(formula)
    result = None
    if point is not None:
        result = graph.differentiate(point, mode or "reverse", None if mode else ())
    return render_graph.render(graph, result, fmt, digits)


# The terminal drawing.


def test_ascii_draws_shared_nodes_once():
    assert picture(SEED) == (
        "v₃ = v₁ × v₂  (output f)\n"
        "├── v₁ = v₋₁ + v₀\n"
        "│   ├── v₋₁ = x  (input)\n"
        "│   └── v₀ = y  (input)\n"
        "└── v₂ = v₋₁ - v₀\n"
        "    ├── v₋₁ = x  ↑ see above\n"
        "    └── v₀ = y  ↑ see above\n"
    )


def test_ascii_shared_operation_is_referenced_not_redrawn():
    text = picture("(x+y)*(x+y)")  # one node for x + y, used twice
    assert text == (
        "v₂ = v₁ × v₁  (output f)\n"
        "├── v₁ = v₋₁ + v₀\n"
        "│   ├── v₋₁ = x  (input)\n"
        "│   └── v₀ = y  (input)\n"
        "└── v₁ = v₋₁ + v₀  ↑ see above\n"
    )


def _numbers(text: str, start: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(start))
    return line[len(start) :].split()


def test_ascii_with_values_and_adjoints():
    text = picture(SEED, point={"x": 3, "y": 2}, mode="reverse")
    assert text.splitlines()[0].split() == ["value", "v̄ᵢ"]
    assert _numbers(text, "v₃ = v₁ × v₂  (output f)") == ["5", "1"]
    assert _numbers(text, "├── v₁ = v₋₁ + v₀") == ["5", "1"]
    assert _numbers(text, "│   ├── v₋₁ = x  (input)") == ["3", "6"]
    assert _numbers(text, "│   └── v₀ = y  (input)") == ["2", "-4"]
    assert _numbers(text, "└── v₂ = v₋₁ - v₀") == ["1", "5"]
    assert text.splitlines()[-1] == "    └── v₀ = y  ↑ see above"
    columns = {line.index(line.split()[-1]) + len(line.split()[-1]) for line in text.splitlines()[:6]}
    assert len(columns) == 1  # the numbers are right-aligned in one column


def test_ascii_with_tangents():
    text = picture(SEED, point={"x": 3, "y": 2}, mode="forward")
    assert text.splitlines()[0].split() == ["value", "∂vᵢ/∂x", "∂vᵢ/∂y"]
    assert _numbers(text, "v₃ = v₁ × v₂  (output f)") == ["5", "6", "-4"]
    assert _numbers(text, "│   ├── v₋₁ = x  (input)") == ["3", "1", "0"]
    assert _numbers(text, "└── v₂ = v₋₁ - v₀") == ["1", "1", "-1"]


def test_ascii_values_only_with_at():
    text = picture(BAYDIN, point={"x1": 2, "x2": 5}, digits=4)
    assert text.splitlines()[0].split() == ["value"]
    assert _numbers(text, "v₅ = v₃ - v₄  (output y)") == ["11.65"]
    assert _numbers(text, "└── v₄ = sin(v₀)") == ["-0.9589"]


def test_ascii_kinds_names_and_unused_statements():
    text = picture("a = x*2; b = sin(z); a + 1", point={"x": 3, "z": 0}, mode="reverse")
    lines = text.splitlines()
    assert _numbers(text, "v₃ = v₁ + 1  (output y)") == ["7", "1"]
    assert _numbers(text, "├── v₁ = v₋₁ × 2  (named a)") == ["6", "1"]
    assert _numbers(text, "│   ├── v₋₁ = x  (input)") == ["3", "2"]
    assert _numbers(text, "│   └── 2  (constant)") == ["2", "–"]  # a constant gets no adjoint
    assert "" in lines  # a second block: the statement the output does not use
    assert _numbers(text, "v₂ = sin(v₀)  (named b, not used by the output)") == ["0", "–"]
    assert _numbers(text, "└── v₀ = z  (input)") == ["0", "0"]  # ∂y/∂z = 0: the gradient's entry


def test_ascii_of_100000_operations_is_linear_and_narrow():
    text = "x"
    for i in range(100_000):
        text = f"sin({text})" if i % 2 else f"({text})*y"
    graph = adcli.parse(text)
    drawing = render_graph.render(graph)
    lines = [line for line in drawing.splitlines() if line]
    assert max(len(line) for line in lines) < 100
    full = [line for line in lines if "↑ see above" not in line and "↓ continued below" not in line]
    assert len(full) == len(graph)  # every node drawn in full exactly once
    assert any("↓ continued below" in line for line in lines)
    assert lines[0] == "v₁₀₀₀₀₀ = sin(v₉₉₉₉₉)  (output f)"


# Graphviz DOT, parsed by Graphviz itself.


def dot_binary() -> str:
    found = shutil.which("dot")
    assert found, "Graphviz's dot is needed (apt-get install graphviz; .ci/run installs it)"
    return found


def graphviz_svg(source: str) -> str:
    proc = subprocess.run([dot_binary(), "-Tsvg"], input=source, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr and "Error" not in proc.stderr, proc.stderr
    return proc.stdout


@pytest.mark.parametrize(
    ("formula", "point", "mode", "nodes", "edges"),
    [
        (SEED, None, None, 5, 6),
        (SEED, {"x": 3, "y": 2}, None, 5, 6),
        (SEED, {"x": 3, "y": 2}, "reverse", 5, 6),
        (SEED, {"x": 3, "y": 2}, "forward", 5, 6),
        (BAYDIN, {"x1": 2, "x2": 5}, "reverse", 7, 8),  # 2 inputs + 5 operations; 1 + 2 + 2 + 1 + 2 edges
        ('a = x*x; b = sin(z)*2; a + exp(a) + 2 # "quoted" \\ comment', {"x": 1, "z": 0}, "reverse", 9, 10),
        ("x", {"x": 1}, "forward", 1, 0),
        ("2*pi", None, None, 3, 2),
    ],
)
def test_dot_parses_with_graphviz(formula, point, mode, nodes, edges):
    source = picture(formula, "dot", point, mode)
    svg = graphviz_svg(source)
    assert svg.count('class="node"') == nodes
    assert svg.count('class="edge"') == edges


def test_dot_kinds_values_and_partials():
    source = picture(SEED, "dot", {"x": 3, "y": 2}, "reverse")
    lines = source.splitlines()
    assert lines[0] == "digraph adcli {"
    node = {m.group(1): m.group(0) for m in (re.match(r"\s*(n\d+) \[.*", line) for line in lines) if m}
    assert 'label="v₋₁ = x\\n= 3\\nv̄ = 6"' in node["n0"] and 'style="rounded,filled"' in node["n0"]
    assert 'label="v₀ = y\\n= 2\\nv̄ = -4"' in node["n1"]
    assert 'label="v₁ = v₋₁ + v₀\\n= 5\\nv̄ = 1"' in node["n2"] and 'shape="ellipse"' in node["n2"]
    assert 'label="output f\\nv₃ = v₁ × v₂\\n= 5\\nv̄ = 1"' in node["n4"] and 'peripheries="2"' in node["n4"]
    assert sum('peripheries="2"' in line for line in lines) == 1
    edges = [line.strip() for line in lines if "->" in line]
    # Edge labels: the local partials ∂v₁/∂x = 1, ∂v₂/∂y = -1, ∂v₃/∂v₁ = v₂ = 1, ∂v₃/∂v₂ = v₁ = 5.
    assert edges == [
        'n0 -> n2 [label="1"];',
        'n1 -> n2 [label="1"];',
        'n0 -> n3 [label="1"];',
        'n1 -> n3 [label="-1"];',
        'n2 -> n4 [label="1"];',
        'n3 -> n4 [label="5"];',
    ]


def test_dot_constants_are_dashed_boxes_without_partials():
    source = picture("2*x", "dot", {"x": 3}, "reverse")
    assert 'n1 [label="2", shape="box", style="dashed"' in source
    assert "  n1 -> n2;" in source  # no partial toward a constant: the engine never used one
    assert '  n0 -> n2 [label="2"];' in source


# Mermaid.


def test_mermaid_for_the_seed_with_adjoints():
    assert picture(SEED, "mermaid", {"x": 3, "y": 2}, "reverse") == (
        "flowchart LR\n"
        "  %% (x+y)*(x-y) at x = 3, y = 2 (reverse mode)\n"
        '  n0(["v₋₁ = x<br/>= 3<br/>v̄ = 6"])\n'
        '  n1(["v₀ = y<br/>= 2<br/>v̄ = -4"])\n'
        '  n2["v₁ = v₋₁ + v₀<br/>= 5<br/>v̄ = 1"]\n'
        '  n3["v₂ = v₋₁ - v₀<br/>= 1<br/>v̄ = 5"]\n'
        '  n4{{"output f<br/>v₃ = v₁ × v₂<br/>= 5<br/>v̄ = 1"}}\n'
        '  n0 -->|"1"| n2\n'
        '  n1 -->|"1"| n2\n'
        '  n0 -->|"1"| n3\n'
        '  n1 -->|"-1"| n3\n'
        '  n2 -->|"1"| n4\n'
        '  n3 -->|"5"| n4\n'
        "  classDef input fill:#dbeafe,stroke:#1d4ed8\n"
        "  classDef constant fill:#f9fafb,stroke:#9ca3af,stroke-dasharray:4 3,color:#4b5563\n"
        "  classDef operation fill:#ffffff,stroke:#374151\n"
        "  classDef output fill:#fde68a,stroke:#b45309,stroke-width:3px\n"
        "  class n0,n1 input\n"
        "  class n2,n3 operation\n"
        "  class n4 output\n"
    )


def test_mermaid_constants_and_a_one_line_heading():
    text = picture('3*x + 1  # "three" x,\n# and one', "mermaid")
    assert '  n1[/"3"/]' in text and '  n2[/"1"/]' in text
    assert "  class n1,n2 constant" in text
    lines = text.splitlines()
    assert lines[1].startswith("  %% 3*x + 1")
    starts = ("flowchart LR", "  %% ", "  n", "  classDef ", "  class ")
    assert all(line.startswith(starts) for line in lines)  # the comment's newline did not break a line


def test_headings_shorten_a_large_point():
    """DOT's label and Mermaid's comment named all 10,000 variables: a 129 KB line."""
    names = [f"x{i}" for i in range(10_000)]
    graph = adcli.parse(" + ".join(names))
    result = graph.differentiate({name: i for i, name in enumerate(names)}, "reverse", None)
    label = next(line for line in render_graph.dot(graph, result).splitlines() if "labelloc=t" in line)
    comment = render_graph.mermaid(graph, result).splitlines()[1]
    for line in (label, comment):
        assert "at x0 = 0, x1 = 1, x2 = 2, x3 = 3, … (10,000 variables) (reverse mode)" in line
        assert len(line) < 250


# The command line.


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "adcli", *args], capture_output=True, text=True, timeout=120, env=dict(os.environ)
    )


def test_cli_graph_default_is_the_drawing():
    proc = run("graph", SEED)
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[0] == "v₃ = v₁ × v₂  (output f)"


def test_cli_graph_dot_pipes_into_graphviz():
    proc = run("graph", BAYDIN, "--at", "x1=2,x2=5", "--mode", "forward", "--format", "dot", "--digits", "4")
    assert proc.returncode == 0
    assert "∂v/∂x2 = 1.716" in proc.stdout  # the output's tangent in the direction x2: 2 - cos 5
    graphviz_svg(proc.stdout)


def test_cli_graph_mode_needs_a_point_and_warnings_go_to_stderr():
    proc = run("graph", SEED, "--mode", "reverse")
    assert proc.returncode == 2
    assert "--mode needs --at" in proc.stderr
    proc = run("graph", "log(x)", "--at", "x=-1")
    assert proc.returncode == 0
    assert proc.stderr.startswith("warning:")
    assert "nan" in proc.stdout


def test_cli_graph_digits_help_is_its_own():
    """graph has no --json: its --digits help must not talk about JSON."""
    proc = run("graph", "--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    digits = text[text.index("--digits N") : text.index("-h, --help")]
    assert "Significant digits of the numbers on nodes and edges" in digits
    assert "JSON" not in digits
