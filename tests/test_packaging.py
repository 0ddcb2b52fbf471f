"""The built-in sessions and the icon travel with the package (quick, no network, no build).

The repository keeps them in the top-level ``resources/`` folder; ``pyproject.toml`` ships that
folder inside the wheel as ``sandbox/_resources``.  .ci/run builds the real wheel and runs the
installed command from a second environment; these tests check the parts that can go wrong
without a build: the accessors, the package list and data patterns, the sdist's manifest, and
the accessors in an installed layout (a copy of the package with the resources inside it).
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.resources import (
    DEFAULT_SESSION,
    EXAMPLES,
    LESSONS,
    default_run,
    default_session_path,
    example_sessions,
    icon_path,
    is_builtin,
    lessons,
)

ROOT = Path(__file__).resolve().parents[1]
EXPECTED_EXAMPLES = [
    "01-xor-with-a-product-feature.json",
    "02-spiral-deep.json",
    "03-three-blobs-softmax.json",
    "04-sine-regression.json",
    "05-vanishing-gradients.json",
    "06-zero-init-symmetry.json",
    "07-learning-rate-too-high.json",
    "08-multigauss-regression.json",
    "09-largest-seven-features-6x8.json",
]


def pyproject() -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_accessors_return_the_files():
    assert default_session_path() == DEFAULT_SESSION and DEFAULT_SESSION.is_file()
    icon = icon_path()
    assert icon is not None and icon.is_file() and icon.suffix == ".svg"
    assert icon.read_text(encoding="utf-8").lstrip().startswith("<")
    assert default_run().step_count == 0


def test_example_sessions_lists_all_nine_examples():
    examples = example_sessions()
    assert [p.name for p in examples] == EXPECTED_EXAMPLES
    assert all(p.is_file() and p.parent == EXAMPLES for p in examples)
    assert all(is_builtin(p) for p in examples) and is_builtin(DEFAULT_SESSION)
    assert not is_builtin(ROOT / "pyproject.toml")


def test_the_lessons_are_built_in():
    found = lessons()
    assert len(found) >= 10
    for lesson in found:
        assert lesson.session_path.parent == LESSONS and is_builtin(lesson.session_path)


def test_every_package_is_listed_for_the_wheel():
    """pyproject.toml lists the packages (to map resources/ into the wheel): a new package that
    is not listed would be missing from the wheel."""
    listed = set(pyproject()["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "sandbox").rglob("__init__.py")}
    assert on_disk <= listed, sorted(on_disk - listed)
    assert "sandbox._resources" in listed


def test_the_wheel_carries_every_resource_the_app_reads():
    config = pyproject()["tool"]["setuptools"]
    assert config["package-dir"]["sandbox._resources"] == "resources"
    package_data = config["package-data"]
    needed = [DEFAULT_SESSION, *example_sessions(), icon_path(), *sorted(LESSONS.iterdir())]
    assert len(needed) > 10 + 2 * 10  # the lessons are there: a session and a text each
    for path in needed:
        folder = path.parent.relative_to(ROOT / "resources").parts
        package = ".".join(("sandbox._resources", *folder))
        assert package in config["packages"], package
        assert any(fnmatch.fnmatch(path.name, pattern) for pattern in package_data.get(package, [])), path


def test_the_sdist_carries_the_tests_resources_and_licence():
    manifest = (ROOT / "MANIFEST.in").read_text(encoding="utf-8").split()
    for word in ("tests", "resources", "LICENSE", "README.md"):
        assert word in manifest
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    project = pyproject()["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]


def test_the_accessors_find_the_resources_inside_an_installed_package(tmp_path):
    """The wheel's layout, without building one: sandbox/ with the resources in sandbox/_resources,
    imported from a folder that has no resources/ beside it."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "sandbox", site / "sandbox", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "resources", site / "sandbox" / "_resources",
                    ignore=shutil.ignore_patterns("__pycache__", "*.png", "*.py"))
    code = (
        "import json, sandbox.resources as r\n"
        "print(json.dumps({'root': str(r.RESOURCES), 'examples': [p.name for p in r.example_sessions()],\n"
        "    'icon': str(r.icon_path()), 'default': r.default_session_path().is_file(),\n"
        "    'builtin': r.is_builtin(r.example_sessions()[0]), 'step': r.default_run().step_count,\n"
        "    'lessons': [l.name for l in r.lessons()], 'lesson_builtin': r.is_builtin(r.lessons()[0].session_path),\n"
        "    'lesson_step': r.lessons()[0].load_run().step_count}))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(site))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(tmp_path),
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["root"] == str(site / "sandbox" / "_resources")
    assert found["examples"] == EXPECTED_EXAMPLES
    assert found["icon"] == str(site / "sandbox" / "_resources" / "icons" / "backprop-sandbox.svg")
    assert found["default"] and found["builtin"] and found["step"] == 0
    assert found["lessons"] == [lesson.name for lesson in lessons()] and found["lesson_builtin"]
    assert found["lesson_step"] == 0
