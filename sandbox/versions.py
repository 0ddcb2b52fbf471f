"""What this build runs on: the app, Python, numpy, Qt, pyqtgraph (``--version`` and Help ▸ About
print the same lines).

Read from the installed packages' metadata, so the command line learns Qt's version without
importing Qt (PySide6's version is the Qt it bundles).
"""

from __future__ import annotations

import platform
from importlib import metadata

from . import __version__

#: (shown name, distribution names to try): PySide6 may be installed as PySide6-Essentials.
PACKAGES = (
    ("numpy", ("numpy",)),
    ("Qt (PySide6)", ("PySide6", "PySide6-Essentials", "PySide6_Essentials")),
    ("pyqtgraph", ("pyqtgraph",)),
)


def _installed(names: tuple[str, ...]) -> str:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def version_lines() -> list[str]:
    """``["Backprop Sandbox 0.9.0", "Python 3.11.7", "numpy 2.1.0", …]``."""
    lines = [f"Backprop Sandbox {__version__}", f"Python {platform.python_version()} ({platform.system() or 'unknown OS'})"]
    lines += [f"{shown} {_installed(names)}" for shown, names in PACKAGES]
    return lines


def version_text() -> str:
    return "\n".join(version_lines())
