"""A wheel built from this tree, installed in a fresh venv, works away from the source tree."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(cmd, cwd, timeout=600):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc


def test_wheel_installs_and_runs_outside_the_source_tree(tmp_path):
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(ROOT)], cwd=tmp_path)
    (wheel,) = dist.glob("adcli-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    bindir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    _run([str(bindir / "python"), "-m", "pip", "install", "--quiet", str(wheel)], cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = _run([str(bindir / "adcli"), "grad", "(x+y)*(x-y)", "--at", "x=3,y=2", "--json"], cwd=elsewhere)
    assert json.loads(proc.stdout)["gradient"] == {"x": 6.0, "y": -4.0}

    # The grammar ships inside the wheel: the error path (which runs Lark on it) works too.
    proc = subprocess.run(
        [str(bindir / "adcli"), "eval", "(x"], cwd=elsewhere, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "never closed" in proc.stderr
    check = _run(
        [str(bindir / "python"), "-c", "import adcli, adcli.lang.tables as t; print(adcli.__file__, t.grammar_path())"],
        cwd=elsewhere,
    )
    package_file, grammar = check.stdout.split()
    assert str(ROOT) not in package_file
    assert Path(grammar).is_file() and str(ROOT) not in grammar
