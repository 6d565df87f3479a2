"""The folder layout is the data path: each stage imports only the stages below it, and no
module imports back into one that imports it (function-level imports count too, and so do
the modules the cli's lazy group loads by name; only ``if TYPE_CHECKING:`` blocks and
``__main__`` blocks are left out)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "adcli"
# Lowest first: a module may import from its own stage and those before it. The package
# root (whose own load imports only the errors; it exports the API lazily) and the formula
# API sit above the engines they call.
STAGES = {
    "adcli.errors": 0,
    "adcli.core": 1,
    "adcli.lang": 2,
    "adcli.engines": 3,
    "adcli": 4,
    "adcli.formula": 4,
    "adcli.render": 5,
    "adcli.cli": 6,
    "adcli.__main__": 7,
}


def _modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the package by dotted name, with its file and whether it is a package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


MODULES = _modules()


def _skipped(node: ast.stmt) -> bool:
    """An ``if TYPE_CHECKING:`` block (names for annotations) or an ``if __name__ == "__main__":`` block."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    if isinstance(test, ast.Name | ast.Attribute):
        return (test.id if isinstance(test, ast.Name) else test.attr) == "TYPE_CHECKING"
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


def _imports(name: str) -> set[str]:
    """The package's modules that module ``name`` imports anywhere in its body."""
    path, is_package = MODULES[name]
    here = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()
    stack: list[ast.AST] = [ast.parse(path.read_text(encoding="utf-8"))]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt) and _skipped(child):
                stack.extend(getattr(child, "orelse", []))  # the else branch runs
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = here[: len(here) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                for alias in child.names:  # from . import batch: the module batch
                    sub = f"{target}.{alias.name}"
                    found.add(sub if sub in MODULES else target)
            stack.append(child)
    return {target for target in found if target in MODULES and target != name}


GRAPH = {name: _imports(name) for name in MODULES}


def _lazy_commands() -> set[str]:
    """The modules adcli's lazy group imports by name (import_module, which ast does not see)."""
    from adcli.cli.commands import _LAZY_COMMANDS

    return {f"adcli.cli.{module}" for module in _LAZY_COMMANDS.values()}


GRAPH["adcli.cli.commands"] |= _lazy_commands()


def _stage(name: str) -> int:
    """The stage of a module: its own entry, else its folder's."""
    return STAGES[name] if name in STAGES else STAGES[".".join(name.split(".")[:2])]


def test_each_stage_imports_only_the_stages_below_it():
    wrong = [
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        for target in sorted(targets)
        if _stage(target) > _stage(name)
    ]
    assert not wrong, "\n".join(wrong)


def test_every_module_has_a_stage():
    assert all(isinstance(_stage(name), int) for name in MODULES)


def test_errors_import_nothing_of_the_package():
    assert GRAPH["adcli.errors"] == set()


def test_no_import_cycle():
    """Tarjan's strongly connected components, iteratively: any of more than one module is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles = []
    for root in GRAPH:
        if root in index:
            continue
        work = [(root, iter(sorted(GRAPH[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(GRAPH[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    assert not cycles, "\n".join(" ↔ ".join(c) for c in cycles)


def test_the_reader_sees_function_level_imports():
    """The check itself: a lazy import inside a function counts (the engines import the core lazily too)."""
    assert "adcli.engines.taylor" in GRAPH["adcli.cli.taylor"]
    assert "adcli.core.graph" in GRAPH["adcli.lang.builder"]
    assert {"adcli.cli.derivatives", "adcli.cli.optimize", "adcli.cli.taylor"} <= GRAPH["adcli.cli.commands"]


def test_parsed_formulas_are_graphs_and_their_plans_go_with_them():
    """adcli.parse builds the API's Formula, a Graph; reverse mode's plans live in the engine, keyed weakly."""
    import gc

    import adcli
    from adcli.engines import reverse
    from adcli.lang.parser import parse

    formula = adcli.parse("(x+y)*(x-y)")
    assert isinstance(formula, adcli.Graph) and isinstance(formula, adcli.Formula)
    assert repr(formula) == "<adcli.Graph of 5 nodes, variables x, y>"
    assert type(parse("x*y")) is adcli.Graph  # the language builds data only
    for _ in range(reverse.PLAN_AFTER):
        assert formula.gradient({"x": 3, "y": 2}) == {"x": 6.0, "y": -4.0}  # 2x and -2y, by hand
    assert formula in reverse._PLANS and formula.reverse_plan([0, 1]) is not None
    kept = len(reverse._PLANS)
    del formula
    gc.collect()
    assert len(reverse._PLANS) == kept - 1
