"""Errors shared by every layer (Qt-free, imports nothing of the package).

The command line reports a :class:`UserError` as one line, ``backprop-sandbox: error: …``, and
exits with status 2; the desktop app raises it for problems found before any window appears.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix: reported in one line, exit status 2."""
