"""The package's imports point downwards only (DESIGN §1) and form no cycle; the sandbox is an island.

The walk reads the source (ast), so it sees imports inside functions too: an upward import that is
merely deferred is still upward. Cycles are looked for among module-level imports, the ones that
run when a module loads.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import bitrix_frames

PACKAGE = Path(bitrix_frames.__file__).resolve().parent
NAME = "bitrix_frames"

# Bottom to top. A module may import its own layer and the layers below it.
LAYERS: list[tuple[str, set[str]]] = [
    ("errors", {"errors", "_version"}),
    # The entity registry is plain data (stdlib only); paging reads its keyset shapes.
    ("entities", {"entities"}),
    (
        "client",
        {
            "transport",
            "batch",
            "paging",
            "deletions",
            "encoding",
            "throttle",
            "policy",
            "webhook",
            "redact",
            "body",
            "deadline",
            "envelope",
            "client",
            "paths",
            "files",
            "protocol",
            "query",
            "contract",
            "limits",
            "progress",
            "waits",
            "owner_paging",
            "gate",
        },
    ),
    # metadata.py (the per-client cache of field metadata -> ColumnSpecs) needs only entities and
    # schema, and the write-back reads it: it belongs to the schema layer wherever its file sits.
    ("schema", {"schema", "metadata"}),
    # display.py: how values read to a person (ColumnSpec -> text), for plans, widgets, reports
    ("display", {"display"}),
    ("writeback", {"writeback"}),
    (
        "frames",
        {"portal", "frames", "accessor", "cache", "datasets", "links", "product_rows", "items"},
    ),
    ("presentation", {"widgets", "reports"}),
    ("entry points", {"cli", "demo", "__init__"}),
]
RANK = {unit: rank for rank, (_, units) in enumerate(LAYERS) for unit in units}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts.pop()
        out[".".join([NAME, *parts])] = path
    return out


MODULES = _modules()


def _unit(module: str) -> str:
    """The first component under the package: ``bitrix_frames.schema.specs`` -> ``schema``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(module: str, path: Path) -> list[tuple[str, bool, int]]:
    """(imported module, at module level?, line) for every import of our package in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    top_level = {id(node) for node in tree.body}
    found: list[tuple[str, bool, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from . import frames` imports a module, not a name of the package
            modules = [f"{stem}.{a.name}" for a in node.names if f"{stem}.{a.name}" in MODULES]
            names = modules + ([stem] if len(modules) < len(node.names) else [])
        else:
            continue
        for name in names:
            if name == NAME or name.startswith(NAME + "."):
                found.append((name, id(node) in top_level, node.lineno))
    return found


def _in_type_checking(path: Path) -> set[int]:
    """Lines of imports under ``if TYPE_CHECKING:`` (they never run)."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                lines.update(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
    return lines


def test_every_module_has_a_layer():
    units = {_unit(m) for m in MODULES} - {"sandbox"}
    assert units <= set(RANK), f"give these a layer in LAYERS: {sorted(units - set(RANK))}"


def test_imports_point_downwards():
    upward = []
    for module, path in MODULES.items():
        unit = _unit(module)
        if unit == "sandbox" or unit not in RANK:
            continue  # an unplaced module fails test_every_module_has_a_layer
        for target, _, line in _imports(module, path):
            other = _unit(target)
            if other == "__init__" and target == NAME:
                continue  # the package itself: only `__version__`-style constants, checked below
            if other == "sandbox" and unit in ("cli", "demo"):
                continue  # entry points start the emulator
            if other == "sandbox" or RANK.get(other, -1) > RANK[unit]:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_module_imports_the_package_root():
    # the root imports everything lazily; a module importing it would depend on the whole package
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for module, path in MODULES.items()
        if _unit(module) != "sandbox" and RANK.get(_unit(module), 0) < RANK["cli"]
        for target, _, line in _imports(module, path)
        if target == NAME and line not in _in_type_checking(path)
    ]
    assert not offenders, offenders


def test_the_sandbox_imports_nothing_outside_itself():
    outside = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}"
        for module, path in MODULES.items()
        if _unit(module) == "sandbox"
        for target, _, line in _imports(module, path)
        if _unit(target) != "sandbox" and target != NAME
    ]
    assert not outside, outside


def test_no_import_cycle_at_module_level():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        skip = _in_type_checking(path)
        for target, top, line in _imports(module, path):
            if top and line not in skip and target in MODULES and target != module:
                graph[module].add(target)
    # a module's package __init__ runs first but is not an edge of its own
    for module in graph:
        graph[module] = {t for t in graph[module] if not module.startswith(t + ".")}

    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


# Deferred imports (inside functions) that close a cycle: none. The accessor is the top of the
# frames layer (it imports frames, cache and writeback; only the portal imports it, to register
# ``df.bitrix``), so nothing below it reaches back up.
KNOWN_DEFERRED_CYCLE_EDGES: set[tuple[str, str]] = set()


def test_deferred_imports_close_no_new_cycle():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    deferred = set()
    for module, path in MODULES.items():
        skip = _in_type_checking(path)
        for target, top, line in _imports(module, path):
            if target in MODULES and target != module and not module.startswith(target + "."):
                if line in skip:
                    continue
                graph[module].add(target)
                if not top:
                    deferred.add((module, target))

    def reaches(start: str, goal: str) -> bool:
        seen, todo = {start}, [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            for nxt in graph[node] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return False

    closing = {
        (a.removeprefix(NAME + "."), b.removeprefix(NAME + "."))
        for a, b in deferred
        if reaches(b, a)
    }
    assert closing <= KNOWN_DEFERRED_CYCLE_EDGES, (
        f"new deferred cycles: {closing - KNOWN_DEFERRED_CYCLE_EDGES}"
    )


@pytest.mark.parametrize("module", ["bitrix_frames.sandbox", "bitrix_frames.errors"])
def test_light_imports_load_neither_the_client_nor_pandas(module):
    code = (
        f"import sys, {module}\n"
        "heavy = [m for m in ('requests', 'pandas', 'numpy', 'pyarrow', 'bitrix_frames.client',"
        " 'bitrix_frames.transport', 'bitrix_frames.portal') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent,
    )
    assert out.stdout.strip() == "", f"import {module} loaded {out.stdout.strip()}"


def test_the_public_names_load_on_first_use():
    code = (
        "import sys, bitrix_frames as bf\n"
        "assert 'bitrix_frames.portal' not in sys.modules\n"
        "from bitrix_frames import connect\n"
        "import pandas as pd\n"
        "print(bf.__version__, connect is bf.connect, bf.Portal.__name__,"
        " hasattr(pd.DataFrame, 'bitrix'), sorted(bf.__all__))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent
    )
    version = bitrix_frames.__version__
    assert out.stdout.split() == [
        version,
        "True",
        "Portal",
        "True",
        "['BitrixError',",
        "'Portal',",
        "'__version__',",
        "'connect']",
    ]
    with pytest.raises(AttributeError):
        _ = bitrix_frames.no_such_name
