"""The traced table: snapshots at fixed widths, checked against values worked out by hand.

The expected rows below were written from the textbook rules, not copied from adcli:
for (x+y)*(x-y) at (3, 2), v₁ = x + y = 5, v₂ = x - y = 1, v₃ = v₁·v₂ = 5, and
backwards v̄₁ = v̄₃·v₂ = 1, v̄₂ = v̄₃·v₁ = 5, x̄ = 5·1 + 1·1 = 6, ȳ = 5·(-1) + 1·1 = -4.
For ln(x1) + x1*x2 - sin(x2) at (2, 5) (Baydin et al. 2018, Tables 2 and 3):
ln 2 = 0.6931, 2·5 = 10, 0.6931 + 10 = 10.69, sin 5 = -0.9589, 10.69 + 0.9589 = 11.65;
∂/∂x1 = 1/2 + 5 = 5.5 and ∂/∂x2 = 2 - cos 5 = 2 - 0.2837 = 1.716.
Rows are compared cell by cell (cells are separated by two or more spaces), so the
tests pin the content and the column order, not rich's exact padding.
"""

from __future__ import annotations

import io
import json
import math
import re
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET

import pytest
from rich.cells import cell_len
from rich.console import Console

import adcli
from adcli.core import ops
from adcli.render import text as render_text
from adcli.render import trace as render_trace

SEED = "(x+y)*(x-y)"
BAYDIN = "ln(x1) + x1*x2 - sin(x2)"
TITLES = ("primal trace", "tangent trace (forward mode)", "adjoint trace (reverse mode)")


def rendered(formula: str, point: dict, mode: str = "reverse", width: int = 80, gradient: bool = True, **view) -> str:
    """The traced table as a person sees it, on a recording console of a fixed width."""
    result = adcli.parse(formula).differentiate(point, mode, None if gradient else ())
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    render_trace.render(result, gradient, console=console, **view)
    return console.export_text()


def tables(text: str) -> dict[str, list[list[str]]]:
    """Each titled table's rows as lists of cells."""
    found: dict[str, list[list[str]]] = {}
    rows = None
    in_body = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped in TITLES:
            rows, in_body = found.setdefault(stripped, []), False
        elif rows is None:
            continue
        elif stripped and set(stripped) == {"─"}:
            in_body = True
        elif in_body and not stripped:
            rows = None
        elif in_body:  # compared in NFC: ȳ may be one code point or y and a combining macron
            rows.append(re.split(r"\s{2,}", unicodedata.normalize("NFC", stripped)))
    return found


def widest(text: str) -> int:
    return max(cell_len(line.rstrip()) for line in text.splitlines())


# (x+y)*(x-y) at x=3, y=2: the output is called f, since the formula has a variable y.

SEED_PRIMAL = [
    ["v₋₁ = x", "x", "3"],
    ["v₀ = y", "y", "2"],
    ["v₁ = v₋₁ + v₀", "x + y", "5"],
    ["v₂ = v₋₁ - v₀", "x - y", "1"],
    ["v₃ = v₁ × v₂", "(x + y) * (x - y)", "5"],
    ["f = v₃", "5"],
]


def test_seed_reverse_fits_80_columns_and_matches_hand_adjoints():
    text = rendered(SEED, {"x": 3, "y": 2}, "reverse")
    assert widest(text) <= 80
    found = tables(text)
    assert found["primal trace"] == SEED_PRIMAL
    assert found["adjoint trace (reverse mode)"] == [
        ["v̄₃ = f̄", "1"],
        ["v̄₁ += v̄₃·∂v₃/∂v₁", "v₂", "1·1", "1"],
        ["v̄₂ += v̄₃·∂v₃/∂v₂", "v₁", "1·5", "5"],
        ["v̄₋₁ += v̄₂·∂v₂/∂v₋₁", "1", "5·1", "5"],
        ["v̄₀ += v̄₂·∂v₂/∂v₀", "-1", "5·(-1)", "-5"],
        ["v̄₋₁ += v̄₁·∂v₁/∂v₋₁", "1", "1·1", "1"],
        ["v̄₀ += v̄₁·∂v₁/∂v₀", "1", "1·1", "1"],
        ["x̄ = v̄₋₁", "6"],
        ["ȳ = v̄₀", "-4"],
    ]
    assert "tangent trace (forward mode)" not in found


def test_seed_forward_has_one_tangent_column_per_variable():
    text = rendered(SEED, {"x": 3, "y": 2}, "forward")
    assert widest(text) <= 80
    found = tables(text)
    assert found["primal trace"] == SEED_PRIMAL
    # ∂v₃/∂v₁ = v₂ = 1 (shown as v̇₁ alone), ∂v₃/∂v₂ = v₁ = 5; seed x: v̇₃ = 1 + 5 = 6; seed y: 1 - 5 = -4.
    assert found["tangent trace (forward mode)"] == [
        ["v̇₋₁ = ẋ", "1", "0"],
        ["v̇₀ = ẏ", "0", "1"],
        ["v̇₁ = v̇₋₁ + v̇₀", "v̇₋₁ + v̇₀", "1", "1"],
        ["v̇₂ = v̇₋₁ - v̇₀", "v̇₋₁ - v̇₀", "1", "-1"],
        ["v̇₃ = v̇₁·v₂ + v̇₂·v₁", "v̇₁ + v̇₂·5", "6", "-4"],
        ["ḟ = v̇₃", "6", "-4"],
    ]
    header = next(line for line in text.splitlines() if "tangent rule" in line)
    assert header.split()[-2:] == ["∂vᵢ/∂x", "∂vᵢ/∂y"]


def test_summary_follows_the_tables():
    text = rendered(SEED, {"x": 3, "y": 2}, "reverse", summary=[("value", "5"), ("∂/∂x", "6"), ("∂/∂y", "-4")])
    tail = [line.split() for line in text.splitlines() if line.strip()][-3:]
    assert tail == [["value", "5"], ["∂/∂x", "6"], ["∂/∂y", "-4"]]


# ln(x1) + x1*x2 - sin(x2) at (2, 5), four significant digits.

BAYDIN_PRIMAL = [
    ["v₋₁ = x1", "x1", "2"],
    ["v₀ = x2", "x2", "5"],
    ["v₁ = log(v₋₁)", "log(x1)", "0.6931"],
    ["v₂ = v₋₁ × v₀", "x1 * x2", "10"],
    ["v₃ = v₁ + v₂", "log(x1) + x1 * x2", "10.69"],
    ["v₄ = sin(v₀)", "sin(x2)", "-0.9589"],
    ["v₅ = v₃ - v₄", "log(x1) + x1 * x2 - sin(x2)", "11.65"],
    ["y = v₅", "11.65"],
]


def test_baydin_reverse_follows_table_3():
    text = rendered(BAYDIN, {"x1": 2, "x2": 5}, "reverse", digits=4)
    assert widest(text) <= 80
    found = tables(text)
    assert found["primal trace"] == BAYDIN_PRIMAL
    # Backwards from v̄₅ = 1: v₅ = v₃ - v₄, v₄ = sin v₀ (∂ = cos 5 = 0.2837), v₃ = v₁ + v₂,
    # v₂ = v₋₁·v₀ (∂ = v₀ = 5 and v₋₁ = 2), v₁ = ln v₋₁ (∂ = 1/2).
    assert found["adjoint trace (reverse mode)"] == [
        ["v̄₅ = ȳ", "1"],
        ["v̄₃ += v̄₅·∂v₅/∂v₃", "1", "1·1", "1"],
        ["v̄₄ += v̄₅·∂v₅/∂v₄", "-1", "1·(-1)", "-1"],
        ["v̄₀ += v̄₄·∂v₄/∂v₀", "cos(v₀)", "-1·0.2837", "-0.2837"],
        ["v̄₁ += v̄₃·∂v₃/∂v₁", "1", "1·1", "1"],
        ["v̄₂ += v̄₃·∂v₃/∂v₂", "1", "1·1", "1"],
        ["v̄₋₁ += v̄₂·∂v₂/∂v₋₁", "v₀", "1·5", "5"],
        ["v̄₀ += v̄₂·∂v₂/∂v₀", "v₋₁", "1·2", "2"],
        ["v̄₋₁ += v̄₁·∂v₁/∂v₋₁", "1/v₋₁", "1·0.5", "0.5"],
        ["x̄1 = v̄₋₁", "5.5"],
        ["x̄2 = v̄₀", "1.716"],
    ]


def test_baydin_forward_follows_table_2():
    text = rendered(BAYDIN, {"x1": 2, "x2": 5}, "forward", digits=4)
    assert widest(text) <= 80
    found = tables(text)
    assert found["primal trace"] == BAYDIN_PRIMAL
    assert found["tangent trace (forward mode)"] == [
        ["v̇₋₁ = ẋ1", "1", "0"],
        ["v̇₀ = ẋ2", "0", "1"],
        ["v̇₁ = v̇₋₁/v₋₁", "v̇₋₁·0.5", "0.5", "0"],
        ["v̇₂ = v̇₋₁·v₀ + v̇₀·v₋₁", "v̇₋₁·5 + v̇₀·2", "5", "2"],
        ["v̇₃ = v̇₁ + v̇₂", "v̇₁ + v̇₂", "5.5", "2"],
        ["v̇₄ = v̇₀·cos(v₀)", "v̇₀·0.2837", "0", "0.2837"],
        ["v̇₅ = v̇₃ - v̇₄", "v̇₃ - v̇₄", "5.5", "1.716"],
        ["ẏ = v̇₅", "5.5", "1.716"],
    ]


def test_digits_default_is_shortest_exact_and_can_be_set():
    wide = rendered(BAYDIN, {"x1": 2, "x2": 5}, "reverse", width=160)
    assert "0.6931471805599453" in wide  # the double nearest ln 2, in full
    three = rendered(BAYDIN, {"x1": 2, "x2": 5}, "reverse", width=160, digits=3)
    assert "0.693" in three and "0.6931" not in three
    assert tables(three)["adjoint trace (reverse mode)"][-2:] == [["x̄1 = v̄₋₁", "5.5"], ["x̄2 = v̄₀", "1.72"]]


def test_number_text():
    assert render_trace.number_text(5.0, None) == "5"
    assert render_trace.number_text(0.1, None) == "0.1"
    assert render_trace.number_text(2 / 3, 3) == "0.667"
    assert render_trace.number_text(1e16, None) == "1e+16"
    assert render_trace.number_text(None, None) == "0"  # a structural zero
    assert render_trace.number_text(float("-inf"), 4) == "-inf"


def test_eval_shows_only_the_primal_trace_with_statement_names():
    text = rendered("a = x + y; b = x - y; a * b", {"x": 3, "y": 2}, gradient=False)
    found = tables(text)
    assert list(found) == ["primal trace"]
    assert found["primal trace"][2:] == [
        ["v₁ = v₋₁ + v₀", "a = x + y", "5"],
        ["v₂ = v₋₁ - v₀", "b = x - y", "1"],
        ["v₃ = v₁ × v₂", "a * b", "5"],
        ["f = v₃", "5"],
    ]


def test_constants_are_written_into_definitions():
    text = rendered("2*x^3 + pi", {"x": 2}, "reverse")
    primal = tables(text)["primal trace"]
    # 2^3 = 8, 2·8 = 16; constants get no v number.
    assert primal[:3] == [["v₀ = x", "x", "2"], ["v₁ = v₀^3", "x^3", "8"], ["v₂ = 2 × v₁", "2 * x^3", "16"]]
    assert primal[3][0] == "v₃ = v₂ + π"
    adjoint = tables(text)["adjoint trace (reverse mode)"]
    # ∂(v₀^3)/∂v₀ = 3·v₀² = 12, times v̄₁ = 2: x̄ = 24.
    assert adjoint[-2] == ["v̄₀ += v̄₁·∂v₁/∂v₀", "3·v₀^2", "2·12", "24"]
    assert adjoint[-1] == ["x̄ = v̄₀", "24"]


def test_held_variable_has_no_tangent():
    result = adcli.parse("x*y").differentiate({"x": 3, "y": 2}, "forward", ["y"])
    console = Console(width=80, record=True, file=io.StringIO(), color_system=None)
    render_trace.render(result, True, console=console)
    text = console.export_text()
    assert tables(text)["tangent trace (forward mode)"] == [
        ["v̇₋₁ = 0", "0"],  # x is held fixed
        ["v̇₀ = ẏ", "1"],
        ["v̇₁ = v̇₀·v₋₁", "v̇₀·3", "3"],  # only the differentiated argument's term: ∂(xy)/∂y = x = 3
        ["ḟ = v̇₁", "3"],
    ]
    assert "∂vᵢ/∂x" not in text and "∂vᵢ/∂y" in text


def test_adjoint_trace_shows_an_edge_that_passes_nothing_as_zero():
    # relu(x) + x at x = -1: relu is 0 below 0, so v̄₀ gets 1 from the sum and 1·0 from relu; x̄ = 1.
    # The reverse sweep records no partial along relu's closed edge; its row is a term of 0.
    rows = tables(rendered("relu(x) + x", {"x": -1}, "reverse"))["adjoint trace (reverse mode)"]
    assert rows == [
        ["v̄₂ = ȳ", "1"],
        ["v̄₁ += v̄₂·∂v₂/∂v₁", "1", "1·1", "1"],
        ["v̄₀ += v̄₂·∂v₂/∂v₀", "1", "1·1", "1"],
        ["v̄₀ += v̄₁·∂v₁/∂v₀", "1 if v₀ > 0 else 0", "1·0", "0"],
        ["x̄ = v̄₀", "1"],
    ]


def test_word_names_carry_one_overline():
    rows = tables(rendered("rate*x1", {"rate": 2, "x1": 3}, "reverse"))["adjoint trace (reverse mode)"]
    # ∂(rate·x1)/∂rate = x1 = 3, ∂/∂x1 = rate = 2; a combining overline on every letter joins into one bar.
    assert rows[-2:] == [["r\u0305a\u0305t\u0305e\u0305 = v̄₋₁", "3"], ["x̄1 = v̄₀", "2"]]


def test_output_without_variables_has_only_the_primal_trace():
    found = tables(rendered("hypot(3, 4)", {}, "reverse"))
    assert found == {"primal trace": [["v₁ = hypot(3, 4)", "hypot(3, 4)", "5"], ["y = v₁", "5"]]}


# Long traces: a head and a tail, and --full.

SUM30 = " + ".join(f"{k}*x" for k in range(1, 31))  # 30 products, 29 sums: 1 + 59 + 1 = 61 primal rows


def test_long_trace_shows_head_and_tail_with_a_count():
    text = rendered(SUM30, {"x": 1}, "reverse")
    primal = tables(text)["primal trace"]
    assert len(primal) == 15 + 1 + 15
    assert primal[15] == ["⋮", "⋮", "⋮"]
    assert primal[0] == ["v₀ = x", "x", "1"]
    assert primal[-1] == ["y = v₅₉", "465"]  # 1 + 2 + … + 30
    assert "31 of 61 rows left out (--full shows them all)" in text


def test_full_shows_every_row():
    text = rendered(SUM30, {"x": 1}, "reverse", full=True)
    primal = tables(text)["primal trace"]
    assert len(primal) == 61
    subscript = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
    assert [row[0].split(" = ")[0] for row in primal[1:60]] == ["v" + str(n).translate(subscript) for n in range(1, 60)]
    assert "left out" not in text
    # 30 products each send one update to x, 29 sums two each: 1 + 30 + 58 + 1 adjoint rows.
    assert len(tables(text)["adjoint trace (reverse mode)"]) == 90


def test_full_above_the_rich_limit_is_plain_aligned_text():
    formula = " + ".join(f"{k}*x" for k in range(1, 600))  # 1 + 1197 + 1 primal rows
    text = rendered(formula, {"x": 1}, "reverse", full=True, width=80)
    primal = tables(text)["primal trace"]
    assert len(primal) == 1199
    assert primal[-1] == ["y = v₁₁₉₇", str(599 * 600 // 2)]
    assert "\x1b[" not in text


@pytest.fixture(scope="module")
def deep():
    """100,000 operations: sin((sin((x)*y))*y)…, alternating a product and a sine."""
    text = "x"
    for i in range(100_000):
        text = f"sin({text})" if i % 2 else f"({text})*y"
    return adcli.parse(text)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_100000_operations_render_head_and_tail(deep, mode):
    result = deep.differentiate({"x": 0.5, "y": 0.9}, mode)
    console = Console(width=80, record=True, file=io.StringIO(), color_system=None)
    render_trace.render(result, True, console=console)
    text = console.export_text()
    assert widest(text) <= 80
    # Primal and tangent traces: 2 inputs + 100,000 operations + the output = 100,003 rows, 30 shown.
    assert "99,973 of 100,003 rows left out" in text
    if mode == "reverse":
        # 1 seed + 50,000 products × 2 updates + 50,000 sines × 1 + 2 gradient rows = 150,003.
        assert "149,973 of 150,003 rows left out" in text
        assert "v̄₁₀₀₀₀₀ = f̄" in text
    assert "v₁₀₀₀₀₀ = sin(v₉₉₉₉₉)" in text
    assert len(text.splitlines()) < 200


# Narrow terminals.


def numbers_of(result, digits: int | None = None) -> set[str]:
    """The numbers a trace of ``result`` shows: values, local partials, tangents, adjoints, gradient."""
    found = [*result.values, *result.gradient.values()]
    found += [p for local in result.partials or [] if local for p in local if p not in (None, 1.0, -1.0)]  # ±1: v̇ⱼ
    found += [t for tangent in (result.tangents or {}).values() for t in tangent if t is not None]
    found += [a for a in result.adjoints or [] if a is not None]
    return {render_trace.number_text(x, digits) for x in found}


def whole(number: str, text: str) -> bool:
    """True if ``number`` appears in ``text`` as a whole number, not as a piece of a longer one."""
    return re.search(rf"(?<![\d.]){re.escape(number)}(?![\d.])", text) is not None


def split_numbers(result, text: str, digits: int | None = None) -> list[str]:
    """The numbers of the trace that do not appear whole in ``text`` (split across lines, or cut)."""
    return sorted(n for n in numbers_of(result, digits) if not whole(n, text))


@pytest.mark.parametrize("width", [40, 24, 12])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_narrow_terminals_wrap_and_never_crash(width, mode):
    text = rendered(BAYDIN, {"x1": 2, "x2": 5}, mode, width=width, digits=4)
    if width == 40:  # the numbers are short enough to fit whole in 40 columns
        assert widest(text) <= width
    assert widest(text) <= widest(rendered(BAYDIN, {"x1": 2, "x2": 5}, mode, width=200, digits=4))
    # At 40 columns forward mode's second tangent column gives way ("1 of 2 tangent columns left out").
    left_out = "tangent columns left out" in text.replace("\n", " ")
    for number in ("0.6931", "-0.9589", "10.69", "11.65", "5.5", "1.716", "0.2837"):
        assert whole(number, text) or (left_out and number == "1.716"), number


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("formula", [BAYDIN, SEED, "x^y * 1e20 + atan2(y, x) / 3.25"])
def test_numbers_are_never_split_at_any_width(formula, mode):
    """At every width each number shows whole (the reviewer saw 0.693147180 / 5599453 at 40).

    Where the numbers fit, the table fits; where they cannot, the table is drawn at its
    least width, wider than the terminal, never cropped.
    """
    point = {"x1": 2, "x2": 5} if "x1" in formula else {"x": 3, "y": 2}
    result = adcli.parse(formula).differentiate(point, mode)
    # --full: every tangent column stays (by default a narrow table leaves some out, see test_render_layout).
    least = widest(rendered(formula, point, mode, width=1, full=True))
    for width in [*range(1, 90, 3), 200]:
        text = rendered(formula, point, mode, width=width, full=True)
        assert split_numbers(result, text) == [], width
        assert widest(text) <= max(width, least), width


def test_numbers_inside_text_cells_are_not_folded():
    """The filled-in tangent rule v̇₀·0.28366218546322625 is text, but its number stays whole."""
    text = rendered(BAYDIN, {"x1": 2, "x2": 5}, "forward", width=30)
    assert "v̇₀·0.28366218546322625" in unicodedata.normalize("NFC", text)


# Markdown and LaTeX.


def _result(formula: str, point: dict, mode: str):
    return adcli.parse(formula).differentiate(point, mode)


def test_markdown_for_the_seed():
    result = _result(SEED, {"x": 3, "y": 2}, "reverse")
    text = render_trace.markdown(result, render_trace.sections(result, True), True)
    assert text == (
        "Trace of `(x+y)*(x-y)` at x = 3, y = 2 (reverse mode).\n"
        "\n"
        "**Primal trace**\n"
        "\n"
        "| definition | formula | value |\n"
        "|:--|:--|--:|\n"
        "| v₋₁ = x | `x` | 3 |\n"
        "| v₀ = y | `y` | 2 |\n"
        "| v₁ = v₋₁ + v₀ | `x + y` | 5 |\n"
        "| v₂ = v₋₁ - v₀ | `x - y` | 1 |\n"
        "| v₃ = v₁ × v₂ | `(x + y) * (x - y)` | 5 |\n"
        "| f = v₃ |  | 5 |\n"
        "\n"
        "**Adjoint trace (reverse mode)**\n"
        "\n"
        "| adjoint update | ∂vᵢ/∂vⱼ | v̄ᵢ·∂vᵢ/∂vⱼ | term |\n"
        "|:--|:--|--:|--:|\n"
        "| v̄₃ = f̄ |  |  | 1 |\n"
        "| v̄₁ += v̄₃·∂v₃/∂v₁ | v₂ | 1·1 | 1 |\n"
        "| v̄₂ += v̄₃·∂v₃/∂v₂ | v₁ | 1·5 | 5 |\n"
        "| v̄₋₁ += v̄₂·∂v₂/∂v₋₁ | 1 | 5·1 | 5 |\n"
        "| v̄₀ += v̄₂·∂v₂/∂v₀ | -1 | 5·(-1) | -5 |\n"
        "| v̄₋₁ += v̄₁·∂v₁/∂v₋₁ | 1 | 1·1 | 1 |\n"
        "| v̄₀ += v̄₁·∂v₁/∂v₀ | 1 | 1·1 | 1 |\n"
        "| x̄ = v̄₋₁ |  |  | 6 |\n"
        "| ȳ = v̄₀ |  |  | -4 |\n"
    )


def test_markdown_escapes_and_elides():
    result = _result("a_1 = x_1 * 2; a_1 + " + SUM30, {"x_1": 2, "x": 1}, "reverse")
    text = render_trace.markdown(result, render_trace.sections(result, True), True)
    assert "| v₋₁ = x\\_1 | `x_1` | 2 |" in text  # underscores outside code spans are escaped
    assert "| ⋮ | ⋮ | ⋮ |" in text
    assert "rows left out" in text


def _balanced(line: str) -> bool:
    depth = 0
    for ch in line.replace(r"\{", "").replace(r"\}", ""):
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return False
    return depth == 0


def test_latex_for_baydin_forward():
    result = _result(BAYDIN, {"x1": 2, "x2": 5}, "forward")
    text = render_trace.latex(result, render_trace.sections(result, True), True, digits=4)
    lines = text.splitlines()
    assert text.isascii()
    assert text.count(r"\begin{tabular}") == text.count(r"\end{tabular}") == 2
    # The formula column, with text longer than 24 characters, wraps in a quarter of the line.
    assert r"\begin{tabular}{lp{0.25\linewidth}r}" in lines and r"\begin{tabular}{llrr}" in lines
    assert all(_balanced(line) for line in lines if not line.startswith("%"))
    assert r"$v_{1} = \log (v_{-1})$ & \raggedright \texttt{log(x1)} & $0.6931$ \\" in lines
    assert r"$v_{4} = \sin (v_{0})$ & \raggedright \texttt{sin(x2)} & $-0.9589$ \\" in lines
    assert r"$\dot{v}_{4} = \dot{v}_{0}\cdot \cos (v_{0})$ & $\dot{v}_{0}\cdot 0.2837$ & $0$ & $0.2837$ \\" in lines
    assert r"$\dot{y} = \dot{v}_{5}$ &  & $5.5$ & $1.716$ \\" in lines
    rows = [line for line in lines if line.endswith(r"\\") and not line.startswith(r"\\[")]
    assert all(row.count(" & ") in (2, 3) for row in rows)


def test_latex_of_every_rule_in_the_table_is_ascii_and_balanced():
    for op in ops.OPERATIONS:
        for rule in op.rule:
            pieces = render_trace.rule_pieces(rule, render_trace.Sym(-1), render_trace.Sym(0), render_trace.Sym(3))
            tex = render_trace._latex_cell(tuple(pieces), None)
            assert tex.isascii(), (op.name, rule, tex)
            assert _balanced(tex), (op.name, rule, tex)
            assert tex.startswith("$") and tex.endswith("$") and tex.count("$") == 2


def test_latex_numbers_and_powers():
    result = _result("x^y * 1e20", {"x": 2, "y": 3}, "reverse")
    text = render_trace.latex(result, render_trace.sections(result, True), True)
    assert r"$v_{1} = v_{-1}^{v_{0}}$" in text
    assert r"1 \times 10^{20}" in text  # 8e20 and 1e20 as powers of ten
    assert r"8 \times 10^{20}" in text


def test_headings_shorten_a_large_point():
    """10,000 variables made a 129 KB heading line; now the first pairs and the count."""
    names = [f"x{i}" for i in range(10_000)]
    result = _result(" + ".join(names), {name: i for i, name in enumerate(names)}, "reverse")
    secs = render_trace.sections(result, True)
    md = render_trace.markdown(result, secs, True).splitlines()[0]
    tex = render_trace.latex(result, secs, True).splitlines()[0]
    assert md.endswith(" at x0 = 0, x1 = 1, x2 = 2, x3 = 3, … (10,000 variables) (reverse mode).")
    assert tex.endswith(r" at x0 = 0, x1 = 1, x2 = 2, x3 = 3, \ldots{} (10,000 variables) (reverse mode)")
    assert len(md) < 200 and len(tex) < 200


def test_point_text_cuts_between_pairs_never_in_a_number():
    point = {f"x{i}": i / 7 for i in range(4)}
    assert render_trace.point_text({}, None) == ""
    assert render_trace.point_text({"x": 3.0, "y": 2.0}, None) == "x = 3, y = 2"
    assert render_trace.point_text(point, 3) == "x0 = 0, x1 = 0.143, x2 = 0.286, x3 = 0.429"
    # All four at 17 digits would be 82 characters: the last pair goes, whole.
    assert (
        render_trace.point_text(point, None)
        == "x0 = 0, x1 = 0.14285714285714285, x2 = 0.2857142857142857, … (4 variables)"
    )
    assert render_trace.point_text({"a" * 100: 1.0}, None) == "a" * 19 + "… = 1"


# The command line: routing, options, SVG, colour.


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "adcli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80", **(env or {})},
        timeout=120,
    )


def test_cli_trace_piped_has_no_ansi_and_fits():
    proc = run("grad", SEED, "--at", "x=3,y=2", "--trace", "--mode", "forward")
    assert proc.returncode == 0
    assert "\x1b[" not in proc.stdout
    assert "tangent trace (forward mode)" in proc.stdout
    assert widest(proc.stdout) <= 80
    assert [line.split() for line in proc.stdout.splitlines()[-3:]] == [["value", "5"], ["∂/∂x", "6"], ["∂/∂y", "-4"]]


def test_cli_narrow_columns():
    proc = run("grad", BAYDIN, "--at", "x1=2,x2=5", "--trace", env={"COLUMNS": "40"})
    assert proc.returncode == 0
    result = adcli.parse(BAYDIN).differentiate({"x1": 2, "x2": 5}, "reverse")
    assert split_numbers(result, proc.stdout) == []  # 0.6931471805599453, not 0.693147180 / 5599453
    primal = proc.stdout[: proc.stdout.index("adjoint trace")]
    assert widest(primal) <= 40  # the text columns wrap to make room for the numbers
    rounded = run("grad", BAYDIN, "--at", "x1=2,x2=5", "--trace", "--digits", "4", env={"COLUMNS": "40"})
    assert widest(rounded.stdout) <= 40
    assert split_numbers(result, rounded.stdout, 4) == []


@pytest.mark.parametrize("columns", ["0", "1", "5", "abc", "-3", ""])
def test_cli_any_columns_prints_the_value_and_a_table(columns):
    """COLUMNS=0 used to print nothing at all and exit 0; tiny or junk widths are clamped."""
    proc = run("grad", SEED, "--at", "x=3,y=2", "--trace", env={"COLUMNS": columns})
    assert proc.returncode == 0
    assert [line.split() for line in proc.stdout.splitlines()[-3:]] == [["value", "5"], ["∂/∂x", "6"], ["∂/∂y", "-4"]]
    assert "primal trace" in proc.stdout and "adjoint" in proc.stdout
    assert "…" not in proc.stdout  # nothing elided: the numbers and the symbols are all there
    result = adcli.parse(SEED).differentiate({"x": 3, "y": 2}, "reverse")
    assert split_numbers(result, proc.stdout) == []
    assert all(symbol in proc.stdout for symbol in ("v₋₁", "v₀", "v₁", "v₂", "v₃", "v̄₃"))
    assert widest(proc.stdout) <= (80 if columns.isdigit() else 53)  # 53: the natural layout, at rich's 80


def test_new_console_is_never_narrower_than_the_minimum(monkeypatch):
    for columns, expected in (("0", render_text.MIN_WIDTH), ("7", render_text.MIN_WIDTH), ("50", 50)):
        monkeypatch.setenv("COLUMNS", columns)
        assert render_text.new_console(file=io.StringIO()).width == expected


def test_summary_keeps_its_numbers_whole_when_narrow():
    console = Console(width=12, record=True, file=io.StringIO(), color_system=None)
    body = [("value", "11.652071455223084"), ("∂/∂x", "-0.9589242746631385")]
    console.print(render_text.fit(render_text.summary_table(body), console.width), crop=False)
    lines = console.export_text().splitlines()
    assert [line.split() for line in lines] == [["value", "11.652071455223084"], ["∂/∂x", "-0.9589242746631385"]]


def test_cli_piped_text_has_no_trailing_spaces():
    for args in (("grad", SEED, "--at", "x=3,y=2", "--trace"), ("eval", BAYDIN, "--at", "x1=2,x2=5", "--trace")):
        proc = run(*args)
        assert proc.returncode == 0
        assert "primal trace" in proc.stdout
        assert [line for line in proc.stdout.splitlines() if line != line.rstrip()] == []


def test_cli_colour_follows_no_color():
    coloured = run("grad", SEED, "--at", "x=3,y=2", "--trace", env={"FORCE_COLOR": "1", "TERM": "xterm"})
    assert "\x1b[36m" in coloured.stdout  # source text in cyan on a (forced) terminal
    plain = run("grad", SEED, "--at", "x=3,y=2", "--trace", env={"FORCE_COLOR": "1", "TERM": "xterm", "NO_COLOR": "1"})
    assert plain.returncode == 0
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]m", plain.stdout)  # no foreground colour at all


def test_cli_digits_apply_to_table_and_summary():
    proc = run("grad", BAYDIN, "--at", "x1=2,x2=5", "--trace", "--digits", "3")
    assert proc.returncode == 0
    assert [line.split() for line in proc.stdout.splitlines()[-3:]] == [
        ["value", "11.7"],
        ["∂/∂x1", "5.5"],
        ["∂/∂x2", "1.72"],
    ]
    assert run("grad", SEED, "--at", "x=3,y=2", "--digits", "0").returncode == 2


def test_cli_format_implies_trace_and_json_is_never_rounded():
    proc = run("eval", SEED, "--at", "x=3,y=2", "--format", "latex")
    assert proc.returncode == 0
    assert proc.stdout.startswith("% adcli trace of (x+y)*(x-y) at x = 3, y = 2")
    assert proc.stdout.isascii()
    bad = run("grad", SEED, "--at", "x=3,y=2", "--json", "--format", "markdown")
    assert bad.returncode == 2
    assert "--json" in bad.stderr
    json_run = run("grad", BAYDIN, "--at", "x1=2,x2=5", "--json", "--digits", "3")
    assert json.loads(json_run.stdout)["gradient"]["x2"] == 2 - math.cos(5)  # every digit, not 1.72


def test_cli_json_does_not_import_rich():
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "adcli", "grad", SEED, "--at", "x=3,y=2", "--json", "--trace"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0
    modules = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line]
    assert "adcli.render.jsontext" in modules
    assert not [m for m in modules if m == "rich" or m.startswith("rich.") or m == "adcli.render.trace"]


def test_cli_svg_is_written(tmp_path):
    target = tmp_path / "trace.svg"
    proc = run("grad", SEED, "--at", "x=3,y=2", "--svg", str(target))
    assert proc.returncode == 0
    assert "adjoint trace (reverse mode)" in proc.stdout  # --svg implies --trace and still prints
    root = ET.fromstring(target.read_text(encoding="utf-8"))
    assert root.tag.endswith("svg")
    text = "".join(root.itertext()).replace("\xa0", " ")
    assert "adjoint trace (reverse mode)" in text
    assert "v̄₁ += v̄₃·∂v₃/∂v₁" in text


def test_cli_svg_unwritable_is_a_clear_error(tmp_path):
    proc = run("grad", SEED, "--at", "x=3,y=2", "--svg", str(tmp_path / "missing" / "t.svg"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: cannot write the SVG file")
    assert len(proc.stderr.splitlines()) == 1
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""  # it fails before computing and printing, not after


def test_cli_svg_is_checked_without_leaving_files_behind(tmp_path):
    target = tmp_path / "t.svg"
    assert run("grad", "x*", "--at", "x=1", "--svg", str(target)).returncode == 2  # a parse error
    assert not target.exists()
    target.write_text("keep", encoding="utf-8")
    assert run("grad", "x*", "--at", "x=1", "--svg", str(target)).returncode == 2
    assert target.read_text(encoding="utf-8") == "keep"  # an existing file is not emptied by the check


def _vjp_tables(formula: str, point: dict, weights: list[float], full: bool = False) -> dict[str, list[list[str]]]:
    """The traced tables of a vᵀJ sweep, as a person sees them."""
    from adcli.engines import derivatives

    result = derivatives.vjp(adcli.parse(formula), point, weights, record=True)
    console = Console(width=100, record=True, file=io.StringIO(), color_system=None)
    render_trace.render(result.trace, True, console=console, full=full)
    return tables(console.export_text())


def test_vjp_trace_seeds_every_output_with_its_weight():
    # x*y; x+y; sin(x) at (1, 2), v = (1, -2, 3): v̄₃ = 3, v̄₂ = -2, v̄₁ = 1 before any update;
    # x̄ = 3·cos 1 - 2 + 1·2 = 3·cos 1, ȳ = -2 + 1·1 = -1.
    found = _vjp_tables("x*y; x+y; sin(x)", {"x": 1, "y": 2}, [1, -2, 3])
    assert found["primal trace"][-3:] == [["f1 = v₁", "2"], ["f2 = v₂", "3"], ["f3 = v₃", repr(math.sin(1))]]
    rows = found["adjoint trace (reverse mode)"]
    assert rows[:3] == [["v̄₃ = f̄3", "3"], ["v̄₂ = f̄2", "-2"], ["v̄₁ = f̄1", "1"]]
    assert rows[3][0] == "v̄₋₁ += v̄₃·∂v₃/∂v₋₁" and float(rows[3][-1]) == 3 * math.cos(1)
    assert rows[4:8] == [
        ["v̄₋₁ += v̄₂·∂v₂/∂v₋₁", "1", "-2·1", "-2"],
        ["v̄₀ += v̄₂·∂v₂/∂v₀", "1", "-2·1", "-2"],
        ["v̄₋₁ += v̄₁·∂v₁/∂v₋₁", "v₀", "1·2", "2"],
        ["v̄₀ += v̄₁·∂v₁/∂v₀", "v₋₁", "1·1", "1"],
    ]
    assert rows[-1] == ["ȳ = v̄₀", "-1"]


def test_vjp_trace_adds_an_outputs_seed_to_the_updates_from_a_later_output():
    # a = x*y; a; a + y at (1, 2), v = (1, -2): by hand v̄₂ = -2 and v̄₁ = 1 to start;
    # v̄₁ += v̄₂·1 = -2 and v̄₀ += v̄₂·1 = -2, so v̄₁ = 1 - 2 = -1 passes on:
    # v̄₋₁ += -1·y = -2, v̄₀ += -1·x = -1; x̄ = -2, ȳ = -2 - 1 = -3.
    rows = _vjp_tables("a = x*y; a; a + y", {"x": 1, "y": 2}, [1, -2])["adjoint trace (reverse mode)"]
    assert rows == [
        ["v̄₂ = f̄2", "-2"],
        ["v̄₁ = f̄1", "1"],
        ["v̄₁ += v̄₂·∂v₂/∂v₁", "1", "-2·1", "-2"],
        ["v̄₀ += v̄₂·∂v₂/∂v₀", "1", "-2·1", "-2"],
        ["v̄₁ = f̄1 + the updates above", "-1"],
        ["v̄₋₁ += v̄₁·∂v₁/∂v₋₁", "v₀", "-1·2", "-2"],
        ["v̄₀ += v̄₁·∂v₁/∂v₀", "v₋₁", "-1·1", "-1"],
        ["x̄ = v̄₋₁", "-2"],
        ["ȳ = v̄₀", "-3"],
    ]


def test_vjp_trace_of_one_node_that_is_two_outputs_seeds_it_with_both_weights():
    # x*y; x*y share one node: v̄₁ = 1 + 2 = 3; x̄ = 3·y = 6, ȳ = 3·x = 3.
    rows = _vjp_tables("x*y; x*y", {"x": 1, "y": 2}, [1, 2])["adjoint trace (reverse mode)"]
    assert rows[0] == ["v̄₁ = f̄1 + f̄2", "3"]
    assert rows[-2:] == [["x̄ = v̄₋₁", "6"], ["ȳ = v̄₀", "3"]]


def test_vjp_trace_starts_at_the_highest_seeded_node_not_the_last_output():
    # sin(x)*y; sin(x): the last output is v₁ = sin(x), an earlier node than v₂ = v₁·y.
    # v = (1, 1): v̄₂ = 1, v̄₁ = 1 + 1·y = 3, x̄ = 3·cos(0) = 3, ȳ = v₁ = sin 0 = 0.
    rows = _vjp_tables("sin(x)*y; sin(x)", {"x": 0, "y": 2}, [1, 1])["adjoint trace (reverse mode)"]
    assert rows[:2] == [["v̄₂ = f̄1", "1"], ["v̄₁ = f̄2", "1"]]
    assert ["v̄₁ = f̄2 + the updates above", "3"] in rows
    assert rows[-2:] == [["x̄ = v̄₋₁", "3"], ["ȳ = v̄₀", "0"]]


def test_vjp_trace_counts_its_seed_rows_whole_or_cut():
    # 60 outputs x*k: 60 seeds, 60 updates into x, one gradient row: 121 rows; x̄ = 1 + … + 60 = 1830.
    from adcli.engines import derivatives

    formula = "; ".join(f"x*{k}" for k in range(1, 61))
    rows = _vjp_tables(formula, {"x": 1}, [1.0] * 60, full=True)["adjoint trace (reverse mode)"]
    assert len(rows) == 121
    assert rows[0] == ["v̄₆₀ = ȳ60", "1"]
    assert rows[-1] == ["x̄ = v̄₀", "1830"]
    trace = derivatives.vjp(adcli.parse(formula), {"x": 1}, [1.0] * 60, record=True).trace
    cut = render_trace.adjoint_section(trace, full=False)
    assert cut.total == 121 and cut.tail[-1][0][-1] == (render_trace.Num(1830.0),)
