"""--json: one strict RFC 8259 object; non-finite numbers as strings; keys in order."""

import json
import math

import pytest


def strict_loads(text: str):
    def reject(word):
        raise AssertionError(f"non-standard JSON constant {word}")

    return json.loads(text, parse_constant=reject)


def test_non_finite_values_are_strings(adcli_run):
    run = adcli_run("grad", "log(x) + y*z + u^v", "--at", "x=0,y=1e999,z=-1,u=-2,v=2", "--json")
    assert run.code == 0
    obj = strict_loads(run.out)
    assert obj["point"] == {"x": 0.0, "y": "Infinity", "z": -1.0, "u": -2.0, "v": 2.0}
    assert obj["value"] == "-Infinity"
    assert obj["gradient"] == {"x": "Infinity", "y": -1.0, "z": "Infinity", "u": -4.0, "v": "NaN"}  # ln(-2) in ∂/∂v
    assert obj["warnings"]
    assert run.out.count("\n") == 1  # exactly one object, one line


def test_gradient_keys_follow_first_appearance(adcli_run):
    run = adcli_run("grad", "b*c + a*b + c", "--at", "a=1,b=2,c=3", "--json")
    obj = strict_loads(run.out)
    assert list(obj) == ["expression", "mode", "point", "value", "gradient"]
    assert list(obj["point"]) == ["b", "c", "a"]
    assert list(obj["gradient"]) == ["b", "c", "a"]
    assert obj["gradient"] == {"b": 4.0, "c": 3.0, "a": 2.0}


def test_floats_print_shortest_round_trip(adcli_run):
    run = adcli_run("eval", "x + y", "--at", "x=0.1,y=0.2", "--json")
    assert '"value": 0.30000000000000004' in run.out
    assert strict_loads(run.out)["value"] == 0.1 + 0.2


def test_eval_json_shape(adcli_run):
    run = adcli_run("eval", "hypot(3, 4)", "--json")
    assert strict_loads(run.out) == {"expression": "hypot(3, 4)", "point": {}, "value": 5.0}


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_trace_is_strict_too(adcli_run, mode):
    run = adcli_run("grad", "1/x + y", "--at", "x=0,y=2", "--json", "--trace", "--mode", mode)
    obj = strict_loads(run.out)
    values = [entry["value"] for entry in obj["trace"]]
    assert "Infinity" in values
    assert [entry["id"] for entry in obj["trace"]] == list(range(len(obj["trace"])))
    key = "tangent" if mode == "forward" else "adjoint"
    assert all(key in entry for entry in obj["trace"])


def test_wrt_limits_the_gradient(adcli_run):
    run = adcli_run("grad", "x*y*z", "--at", "x=2,y=3,z=5", "--wrt", "z,x", "--json")
    obj = strict_loads(run.out)
    assert obj["gradient"] == {"z": 6.0, "x": 15.0}
    run = adcli_run("grad", "x*y", "--at", "x=2,y=3", "--wrt", "q")
    assert run.code == 2 and "wrt names 'q'" in run.err


def test_value_is_exact_double(adcli_run):
    run = adcli_run("eval", "sin(x)", "--at", "x=1", "--json")
    assert strict_loads(run.out)["value"] == math.sin(1.0)


def test_adjoint_is_null_where_the_sweep_never_went(adcli_run):
    run = adcli_run("grad", "x + y*2", "--at", "x=1,y=2", "--wrt", "x", "--json", "--trace")
    trace = {entry.get("name") or entry.get("text") or entry["op"]: entry for entry in strict_loads(run.out)["trace"]}
    assert trace["x"]["adjoint"] == 1.0
    assert trace["y"]["adjoint"] is None  # held fixed: its adjoint was never computed (∂f/∂y is 2, not 0)
    assert trace["2"]["adjoint"] is None


def test_full_with_json_includes_the_trace(adcli_run):
    run = adcli_run("grad", "x*y", "--at", "x=1,y=2", "--json", "--full")
    assert len(strict_loads(run.out)["trace"]) == 3


# The writer of small objects (render/jsontext.py) against the json module, which writes the large ones.

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from adcli.render.jsontext import _SMALL, dumps  # noqa: E402

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()  # control characters, quotes, backslashes, surrogates' neighbours, U+2028
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=6) | st.tuples(inner, inner) | st.dictionaries(st.text(), inner, max_size=6),
    max_leaves=40,
)


def _json(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


@given(_VALUES)
def test_dumps_writes_what_json_writes(obj):
    assert dumps(obj) == _json(obj)


@given(
    st.dictionaries(
        st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.booleans() | st.none(),
        st.integers(),
        max_size=3,
    )
)
def test_dumps_writes_keys_that_are_not_texts_as_json_does(obj):
    assert dumps(obj) == _json(obj)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_dumps_refuses_a_non_finite_float_as_json_does(bad):
    for obj in (bad, [1.0, bad], {"x": {"y": bad}}):
        with pytest.raises(ValueError):
            _json(obj)
        with pytest.raises(ValueError):
            dumps(obj)


def test_dumps_of_a_large_object_is_json_text_too():
    big = {"trace": [{"id": i, "value": i / 7, "name": f"x\t{i}"} for i in range(_SMALL * 4)]}
    assert dumps(big) == _json(big)
    assert dumps([[0.1] * (_SMALL + 1)]) == _json([[0.1] * (_SMALL + 1)])


def test_dumps_refuses_what_json_refuses():
    with pytest.raises(TypeError):
        dumps({"x": object()})
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError):
        dumps(loop)
