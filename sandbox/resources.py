"""Where the built-in sessions and the icon live, and how to open the default session.

The files sit in the repository's top-level ``resources/`` folder.  The wheel carries that folder
inside the package, as ``sandbox/_resources`` (``pyproject.toml`` maps it), and this module finds
it there with :mod:`importlib.resources`; in a source checkout (the README's editable install, or
``python -m sandbox`` from the checkout) it is the ``resources/`` folder beside the package.  If
the default session is missing anyway, it is rebuilt in code, so the app always has something to
open.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: The subpackage the wheel maps the top-level ``resources/`` folder to.
PACKAGED = "_resources"


def _root() -> Path:
    """The folder holding ``default.json``, ``examples/``, ``lessons/`` and ``icons/``."""
    package = files(__package__ or "sandbox")
    installed = package / PACKAGED  # a wheel: sandbox/_resources
    if installed.is_dir():
        return Path(str(installed))
    return Path(str(package)).resolve().parent / "resources"  # a source checkout


RESOURCES = _root()
DEFAULT_SESSION = RESOURCES / "default.json"
EXAMPLES = RESOURCES / "examples"
LESSONS = RESOURCES / "lessons"
ICON = RESOURCES / "icons" / "backprop-sandbox.svg"


def default_session_path() -> Path:
    """The built-in default session file (``info`` and ``train`` without FILE use it)."""
    return DEFAULT_SESSION


def icon_path() -> Path | None:
    """The app's window icon (SVG), or None if it is missing."""
    return ICON if ICON.is_file() else None


def is_builtin(path: str | Path) -> bool:
    """True for the shipped default session, the examples and the lessons, which are never
    overwritten."""
    try:
        resolved = Path(path).resolve()
    except OSError:
        return False
    return resolved == DEFAULT_SESSION.resolve() or resolved.parent in (EXAMPLES.resolve(), LESSONS.resolve())


def example_sessions() -> list[Path]:
    """Every shipped example session, sorted by file name."""
    return sorted(EXAMPLES.glob("*.json")) if EXAMPLES.is_dir() else []


def lessons():
    """Every shipped lesson (:class:`~sandbox.session.lessons.Lesson`), sorted by file name."""
    from .session.lessons import read_lessons

    return read_lessons(LESSONS)


def default_run():
    """The default session: circle data, [4, 2] tanh, sigmoid + bce, sgd at 0.03, batch 10."""
    from .session import TrainingRun
    from .session.session_file import load

    if DEFAULT_SESSION.is_file():
        return load(DEFAULT_SESSION)
    return TrainingRun.create()
