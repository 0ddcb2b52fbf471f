"""The package's layers, checked by import-linter (the contracts are in pyproject.toml).

* layers: ``__main__`` > ``cli`` > ``bench | _qt`` > ``resources`` > ``analysis : viewstate`` >
  ``session`` > ``engine`` > ``errors | formatting | settings``: a module imports only from
  layers below its own;
* the Qt-free modules import no Qt package, not even through another module;
* no import cycles: between sibling modules (import-linter), and none at all (grimp's graph).

import-linter reads the imports from the source, including those inside functions, so a lazy
import breaks a contract too.  Two tests break a copy of the package on purpose and watch the
check fail, so a checker that silently passes everything cannot go unnoticed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

grimp = pytest.importorskip("grimp")
pytest.importorskip("importlinter")

ROOT = Path(__file__).resolve().parents[1]

LINT = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """Run import-linter on the package under ``root`` with ``root``'s pyproject.toml."""
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run([sys.executable, "-c", LINT], capture_output=True, text=True, cwd=str(root),
                          env=env, timeout=120)


def broken_copy(tmp_path: Path, module: str, line: str) -> Path:
    """A copy of the package and its pyproject.toml with ``line`` added to ``module``."""
    shutil.copytree(ROOT / "sandbox", tmp_path / "sandbox", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    path = tmp_path / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    return tmp_path


def test_the_import_contracts_are_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_qt_import_in_the_session_layer_breaks_the_contracts(tmp_path):
    root = broken_copy(tmp_path, "sandbox/session/history.py", "import PySide6  # deliberate")
    result = lint_imports(root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Qt-free modules import no Qt BROKEN" in result.stdout
    assert "sandbox.session.history -> PySide6" in result.stdout


def test_an_import_cycle_breaks_the_contracts(tmp_path):
    # The cycle this package once had: the app took UserError from the command line.
    root = broken_copy(tmp_path, "sandbox/_qt/app.py", "from ..cli import PROG  # deliberate")
    result = lint_imports(root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "No import cycles between siblings BROKEN" in result.stdout
    assert "Layers, cli down to the shared low modules BROKEN" in result.stdout


def _cycles(graph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iteratively)."""
    modules = sorted(m for m in graph.modules if m == "sandbox" or m.startswith("sandbox."))
    edges = {m: sorted(i for i in graph.find_modules_directly_imported_by(m) if i in set(modules))
             for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in modules:
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
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
                    found.append(sorted(component))
    return found


def test_no_import_cycles_among_sandbox_modules():
    """Any cycle at all, also between a package and its own modules (which the sibling
    contract does not see)."""
    graph = grimp.build_graph("sandbox", cache_dir=None)
    assert "sandbox.cli" in graph.modules and "sandbox.session.run" in graph.modules
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("sandbox", "sandbox.a", "sandbox.b", "sandbox.c"):
        graph.add_module(module)
    graph.add_import(importer="sandbox.a", imported="sandbox.b")
    graph.add_import(importer="sandbox.b", imported="sandbox.c")
    graph.add_import(importer="sandbox.c", imported="sandbox.a")
    assert _cycles(graph) == [["sandbox.a", "sandbox.b", "sandbox.c"]]


def test_every_test_file_that_drives_qt_is_marked_gui():
    """``pytest -m "not gui"`` must leave out every test that needs Qt."""
    unmarked = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        drives_qt = "qtbot" in text or "from PySide6" in text or "import PySide6" in text
        if drives_qt and "pytest.mark.gui" not in text and path.name != "test_layers.py":
            unmarked.append(path.name)
    assert unmarked == []
