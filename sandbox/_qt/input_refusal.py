"""Refused input stays visible: a red frame round the field and the reason in its tooltip.

A field that drops what was typed, or puts the old value back without a word, leaves the user
believing the value was taken (``-1`` as a learning rate once became ``1``).  A refused field
keeps the typed text, is framed in the warning colour, and says why in its tooltip (shown at
once, and again on hover) until the user types in it again or commits a valid value.
"""

from __future__ import annotations

from PySide6.QtWidgets import QToolTip, QWidget

from .theme import VERMILLION

#: The dynamic property that marks a refused field (tests and style sheets can read it).
REFUSED = "refused"


def show_refusal(widget: QWidget, reason: str) -> None:
    """Frame ``widget`` in the warning colour and show ``reason`` beside it and as its tooltip."""
    if not widget.property(REFUSED):
        widget.setProperty("_tip_before_refusal", widget.toolTip())
        widget.setProperty("_style_before_refusal", widget.styleSheet())
    widget.setProperty(REFUSED, True)
    # Styled by its Qt class (QComboBox, QDoubleSpinBox): a "*" selector would frame the
    # field's own line edit and buttons too.
    qt_class = next(c for c in type(widget).__mro__ if c.__module__.startswith("PySide6"))
    widget.setStyleSheet(f"{qt_class.__name__} {{ border: 2px solid {VERMILLION}; border-radius: 3px; }}")
    widget.setToolTip(reason)
    QToolTip.showText(widget.mapToGlobal(widget.rect().bottomLeft()), reason, widget)


def clear_refusal(widget: QWidget) -> None:
    """Undo :func:`show_refusal` (the user typed again, or committed a valid value)."""
    if not widget.property(REFUSED):
        return
    widget.setProperty(REFUSED, False)
    widget.setStyleSheet(widget.property("_style_before_refusal") or "")
    widget.setToolTip(widget.property("_tip_before_refusal") or "")
    QToolTip.hideText()


def refusal(widget: QWidget) -> str:
    """The reason ``widget`` refused its input, or "" if it holds none refused."""
    return widget.toolTip() if widget.property(REFUSED) else ""
