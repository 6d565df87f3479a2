"""Traced tables fit their width: no cell over more than two lines, tangent columns that give way.

Every layout is checked on what rich draws: the fitted tables are drawn again with a
rule between rows, so each row's height can be counted, on a plain and on a terminal
console.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from rich import box
from rich.cells import cell_len
from rich.console import Console

import adcli
from adcli.render import console as render_console
from adcli.render import text as render_text
from adcli.render import trace as render_trace

BAYDIN = "ln(x1) + x1*x2 - sin(x2)"
EIGHT = "x1*x2*x3*x4*x5*x6*x7*x8 + sin(x1 + x8)"
EIGHT_AT = {f"x{k}": k for k in range(1, 9)}
FORMULAS = [
    (BAYDIN, {"x1": 2, "x2": 5}),
    ("(x+y)*(x-y)", {"x": 3, "y": 2}),
    ("x^y * 1e20 + atan2(y, x) / 3.25", {"x": 3, "y": 2}),
    ("speed = distance / time; log(speed) * exp(-time) + sqrt(distance)", {"distance": 7, "time": 3}),
    (EIGHT, EIGHT_AT),
]


def row_heights(formula: str, point: dict, mode: str, width: int, digits: int | None, terminal: bool) -> list[int]:
    """How many lines each row of each traced table takes at ``width`` (headers wrap as they need)."""
    result = adcli.parse(formula).differentiate(point, mode)
    heights = []
    for table in render_trace.rich_tables(render_trace.sections(result, True), digits, width):
        table.box, table.show_lines = box.ASCII, True  # same widths; a rule between rows to count by
        console = Console(width=width, record=True, file=io.StringIO(), force_terminal=terminal)
        console.print(table, crop=False)
        lines = console.export_text().splitlines()
        body = [line.strip() for line in lines if line.strip().startswith(("|", "+"))]
        count, rows = 0, []
        for line in body:
            if set(line) <= set("+-|"):  # a rule: a row (or the header) ends
                if count:
                    rows.append(count)
                count = 0
            else:
                count += 1
        heights += rows[1:]
    return heights


@pytest.mark.parametrize("terminal", [False, True])
@pytest.mark.parametrize("digits", [None, 4])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize(("formula", "point"), FORMULAS)
def test_no_cell_breaks_over_more_than_two_lines_at_40_or_80_columns(formula, point, mode, digits, terminal):
    for width in (40, 80):
        heights = row_heights(formula, point, mode, width, digits, terminal)
        assert heights and max(heights) <= 2, (width, heights)


def test_baydin_at_40_columns_fits_with_four_digits_and_keeps_every_number_whole():
    result = adcli.parse(BAYDIN).differentiate({"x1": 2, "x2": 5}, "reverse")
    console = Console(width=40, record=True, file=io.StringIO(), color_system=None)
    render_trace.render(result, True, console=console, digits=4)
    text = console.export_text()
    assert max(cell_len(line.rstrip()) for line in text.splitlines()) <= 40
    for number in ("0.6931", "-0.9589", "10.69", "11.65", "5.5", "1.716", "0.2837"):
        assert number in text, number


def test_two_line_width():
    assert render_console.two_line_width("log(x1) + x1 * x2 - sin(x2)") == len("log(x1) + x1 *")
    assert render_console.two_line_width("0.6931471805599453") == 18  # a number stays whole
    # A product of symbols may break after its "·" (dots=1); one with numbers only with dots=2,
    # which fit uses only where that makes the table fit.
    assert render_console.two_line_width("v̄₀ += v̄₉₉·∂v₉₉/∂v₀") == cell_len("v̄₉₉·∂v₉₉/∂v₀")
    assert render_console.two_line_width("v̄₀ += v̄₉₉·∂v₉₉/∂v₀", 1) == cell_len("v̄₀ += v̄₉₉·")
    assert render_console.two_line_width("-1·0.2837", 1) == 9
    assert render_console.two_line_width("-1·0.2837", 2) == 6


def test_source_text_is_cut_to_two_lines_when_nothing_else_gives_way():
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("formula")
    table.add_column("value", justify="right")
    table.add_row(Text("alpha + beta + gamma + delta + epsilon", style="cyan"), "0.6931471805599453")
    render_text.fit(table, 32, shorten=[0])
    console = Console(width=32, record=True, file=io.StringIO())
    console.print(table, crop=False)
    lines = [line.rstrip() for line in console.export_text().splitlines() if line.strip()]
    assert lines[-2].startswith(" alpha +") and lines[-1].rstrip().endswith("…")
    assert "0.6931471805599453" in lines[-2] and len(lines) == 4  # header, rule, two lines


# Eight variables in forward mode: the tangent columns give way to the width.


def eight(width: int, full: bool = False) -> str:
    result = adcli.parse(EIGHT).differentiate(EIGHT_AT, "forward")
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    render_trace.render(result, True, console=console, full=full)
    return console.export_text()


def widest(text: str) -> int:
    return max(cell_len(line.rstrip()) for line in text.splitlines())


def test_eight_tangent_columns_give_way_to_80_columns():
    text = eight(80)
    assert widest(text) <= 80
    tangent = text[text.index("tangent trace") :]
    assert "∂vᵢ/∂x1" in tangent and "⋯" in tangent
    shown = sum(f"∂vᵢ/∂x{k} " in tangent or tangent.count(f"∂vᵢ/∂x{k}\n") for k in range(1, 9))
    assert f"{8 - shown} of 8 tangent columns left out (--full shows them all)" in " ".join(tangent.split())
    # ∂y/∂x1 = x2·…·x8 + cos(x1 + x8) = 40320 + cos 9, by hand.
    assert "40319.088869738116" in tangent


def test_eight_tangent_columns_at_120_keep_head_and_tail():
    tangent = eight(120)[eight(120).index("tangent trace") :]
    assert widest(tangent) <= 120
    heads = [k for k in range(1, 9) if f"∂vᵢ/∂x{k}" in tangent]
    assert heads[0] == 1 and heads[-1] == 8 and len(heads) < 8  # the first and the last, around ⋯
    assert "⋯" in tangent


def test_full_shows_every_tangent_column():
    tangent = eight(80, full=True)[eight(80, full=True).index("tangent trace") :]
    assert all(f"∂vᵢ/∂x{k}" in tangent for k in range(1, 9))
    assert "⋯" not in tangent and "left out" not in tangent
    # 8! / x8 = 5040 and cos(9) = -0.9111302618846769 give ∂y/∂x8 = 5039.088869738115.
    assert "5039.088869738115" in tangent


@pytest.mark.cli
def test_cli_piped_without_columns_is_80_wide():
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    args = ["grad", EIGHT, "--at", ",".join(f"{k}={v}" for k, v in EIGHT_AT.items()), "--mode", "forward", "--trace"]
    proc = subprocess.run([sys.executable, "-m", "adcli", *args], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert widest(proc.stdout) <= 80
    assert "tangent columns left out" in proc.stdout
    full = subprocess.run(
        [sys.executable, "-m", "adcli", *args, "--full"], capture_output=True, text=True, env=env, timeout=120
    )
    assert all(f"∂vᵢ/∂x{k}" in full.stdout for k in range(1, 9))


# LaTeX: compiled by a real TeX (pdflatex, which .ci/run installs), no box wider than the page.


def compile_latex(tmp_path, body: str) -> str:
    """pdflatex's log for ``body`` in a minimal article (the standard page: 345pt of text)."""
    import shutil

    assert shutil.which("pdflatex"), "pdflatex is missing: .ci/run installs texlive-latex-base"
    (tmp_path / "trace.tex").write_text(body, encoding="ascii")
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\begin{document}\n\\input{trace}\n\\end{document}\n", encoding="ascii"
    )
    proc = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = (tmp_path / "doc.log").read_text(encoding="latin-1")
    assert proc.returncode == 0, log[-2000:]
    return log


@pytest.mark.cli
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_latex_of_baydin_fits_the_page_at_default_digits(tmp_path, mode):
    result = adcli.parse(BAYDIN).differentiate({"x1": 2, "x2": 5}, mode)
    body = render_trace.latex(result, render_trace.sections(result, True), True)
    log = compile_latex(tmp_path, body)
    assert "Overfull \\hbox" not in log
    assert "0.6931471805599453" in body  # default digits: every digit of the shortest round trip


@pytest.mark.cli
def test_latex_splits_eight_tangent_columns_into_tables_that_fit(tmp_path):
    result = adcli.parse(EIGHT).differentiate(EIGHT_AT, "forward")
    body = render_trace.latex(result, render_trace.sections(result, True), True, digits=6)
    assert body.count("tangent trace (forward mode), continued") == 2  # 2 + 3 + 3 tangent columns
    assert all(f"\\partial x_{{{k}}}" in body for k in range(1, 9))
    assert "Overfull \\hbox" not in compile_latex(tmp_path, body)


# SVG: local fonts only, every word at its column, and it renders.


def svg_of(formula: str, point: dict, tmp_path, digits: int | None = 4) -> str:
    result = adcli.parse(formula).differentiate(point, "reverse")
    path = tmp_path / "trace.svg"
    summary = render_text.rows(result, True, digits)
    render_trace.save_svg(str(path), render_trace.sections(result, True), digits, summary, "adcli: trace")
    return path.read_text(encoding="utf-8")


def test_svg_names_no_web_font_and_no_url(tmp_path):
    import re

    svg = svg_of(BAYDIN, {"x1": 2, "x2": 5}, tmp_path)
    assert re.findall(r"https?://[^\s\"'<>)]*", svg) == ["http://www.w3.org/2000/svg"]  # the namespace only
    assert "@font-face" not in svg and "url(" not in svg
    assert "monospace" in svg


def test_svg_places_every_word_at_its_column(tmp_path):
    import xml.etree.ElementTree as ET

    svg = svg_of(BAYDIN, {"x1": 2, "x2": 5}, tmp_path)
    ns = "{http://www.w3.org/2000/svg}"
    words = []
    for line in ET.fromstring(svg).iter(ns + "text"):
        for span in line.iter(ns + "tspan"):
            words.append((float(span.get("x")), span.text.strip(), line.get("y")))
    advance, margin = render_trace.SVG_ADVANCE, render_trace.SVG_MARGIN
    columns = [(x - margin) / advance for x, _, _ in words]
    assert words and all(abs(c - round(c)) < 1e-6 for c in columns)
    # The value column is right-justified: 2, 5, 0.6931, 10, 10.69, -0.9589, 11.65 end at one column.
    values = {"2", "5", "0.6931", "10", "10.69", "-0.9589", "11.65"}
    adjoint = next(float(y) for _, w, y in words if w == "adjoint")  # the primal trace lies above
    ends = {round((x - margin) / advance) + cell_len(w) for x, w, y in words if w in values and float(y) < adjoint}
    assert len(ends) == 1, ends


@pytest.mark.cli
def test_svg_renders_with_rsvg(tmp_path):
    import shutil

    assert shutil.which("rsvg-convert"), "rsvg-convert is missing: .ci/run installs librsvg2-bin"
    svg_of(EIGHT, EIGHT_AT, tmp_path, digits=None)
    proc = subprocess.run(
        ["rsvg-convert", str(tmp_path / "trace.svg"), "-o", str(tmp_path / "trace.png")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    png = (tmp_path / "trace.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000
