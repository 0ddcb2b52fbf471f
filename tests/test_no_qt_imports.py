"""The engine, the session model, the analysis layer, the other Qt-free modules and the
command line never import Qt.

The check runs in a fresh interpreter, so modules this test process already imported (pytest-qt
loads PySide6) cannot hide an import.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QT_PACKAGES = ("PySide6", "shiboken6", "pyqtgraph", "superqt")
HEADLESS_MODULES = [
    "sandbox.engine",
    "sandbox.session",
    "sandbox.session.session_file",
    "sandbox.session.csv_import",
    "sandbox.session.datasets",
    "sandbox.session.history",
    "sandbox.session.snapshot",
    "sandbox.session.exports",
    "sandbox.analysis",
    "sandbox.viewstate",
    "sandbox.formatting",
    "sandbox.errors",
    "sandbox.settings",
    "sandbox.resources",
    "sandbox.bench",
]
if (ROOT / "sandbox" / "cli.py").exists():
    HEADLESS_MODULES.append("sandbox.cli")

BLOCKER = """
import importlib.abc, json, sys

BLOCKED = {blocked!r}
attempts = []

class BlockQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            attempts.append(name)
            raise ImportError(f"{{name}} is blocked: headless code must not import Qt")
        return None

sys.meta_path.insert(0, BlockQt())
errors = {{}}
for module in {modules!r}:
    try:
        __import__(module)
    except Exception as exc:  # report, do not hide
        errors[module] = f"{{type(exc).__name__}}: {{exc}}"
loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print(json.dumps({{"errors": errors, "loaded": loaded, "attempts": attempts}}))
"""

PLAIN = """
import json, sys
for module in {modules!r}:
    __import__(module)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {blocked!r})))
"""


def _run(code: str) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                            cwd=str(ROOT), timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_headless_modules_import_with_qt_blocked():
    report = json.loads(_run(BLOCKER.format(blocked=QT_PACKAGES, modules=HEADLESS_MODULES)))
    assert report["errors"] == {}, report
    assert report["loaded"] == [], report
    assert report["attempts"] == [], report


def test_importing_headless_modules_does_not_load_pyside6():
    if importlib.util.find_spec("PySide6") is None:
        pytest.skip("PySide6 is not installed, so nothing could load it")
    loaded = json.loads(_run(PLAIN.format(blocked=QT_PACKAGES, modules=HEADLESS_MODULES)))
    assert loaded == []


def test_the_blocker_itself_catches_a_qt_import():
    """Guard against a blocker that silently lets everything through."""
    if importlib.util.find_spec("pyqtgraph") is None:
        pytest.skip("pyqtgraph is not installed")
    report = json.loads(_run(BLOCKER.format(blocked=QT_PACKAGES, modules=["pyqtgraph"])))
    assert "pyqtgraph" in report["errors"] and "blocked" in report["errors"]["pyqtgraph"]
    assert report["loaded"] == []
