"""Where the built-in sessions live, and how to open the default one.

The ``resources/`` folder sits beside the package in a source checkout (the README's editable
install).  If it is missing (an unusual non-editable install), the default session is rebuilt
in code, so the app always has something to open.
"""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DEFAULT_SESSION = RESOURCES / "default.json"
EXAMPLES = RESOURCES / "examples"


def is_builtin(path: str | Path) -> bool:
    """True for the shipped default session and the examples, which are never overwritten."""
    try:
        resolved = Path(path).resolve()
    except OSError:
        return False
    return resolved == DEFAULT_SESSION or resolved.parent == EXAMPLES.resolve()


def example_sessions() -> list[Path]:
    """Every shipped example session, sorted by file name."""
    return sorted(EXAMPLES.glob("*.json")) if EXAMPLES.is_dir() else []


def default_run():
    """The default session: circle data, [4, 2] tanh, sigmoid + bce, sgd at 0.03, batch 10."""
    from .session import TrainingRun
    from .session.session_file import load

    if DEFAULT_SESSION.is_file():
        return load(DEFAULT_SESSION)
    return TrainingRun.create()
