"""Guards against a Qt binding that corrupts Python's reference counts.


PySide6 6.12.0 on CPython 3.11 dropped a reference to ``None`` on every call of a C++ method
returning void, and to ``True`` on every ``Signal.emit()``; a few seconds of training in the app
then aborted the interpreter ("Fatal Python error: none_dealloc").  pyproject.toml excludes that
release; these tests fail loudly if a future one does the same.
"""

from __future__ import annotations

import pytest

import sys


pytestmark = pytest.mark.gui
from PySide6.QtCore import QObject, QRectF, Signal


class _Emitter(QObject):
    fired = Signal()


def test_signal_emit_keeps_the_refcount_of_true(qapp):
    emitter = _Emitter()
    before = sys.getrefcount(True)
    for _ in range(1000):
        emitter.fired.emit()
    assert sys.getrefcount(True) - before > -10


def test_void_methods_keep_the_refcount_of_none(qapp):
    rect = QRectF()
    before = sys.getrefcount(None)
    for k in range(1000):
        rect.setX(float(k))
    assert sys.getrefcount(None) - before > -10
