"""The network canvas: every neuron, every connection, and the blame that flows through them.

One column per activation layer (input features, hidden layers, output).  Each node shows what
it computes over the input plane (a heatmap for 2-D data, a curve for 1-D data, a plain colour
otherwise) and a small bar for its bias; each connection is coloured by the sign and sized by
the magnitude of the weight, its gradient ∂J/∂w, or the last applied update Δw.

Modules: :mod:`.layout` (geometry, Qt-free), :mod:`.encoding` (value → colour and width,
Qt-free), :mod:`.hit_testing` (what is under a point, Qt-free), :mod:`.frame` (what one
snapshot draws), :mod:`.painting`, :mod:`.tooltips`, :mod:`.phase_strip` and :mod:`.widget`
(:class:`NetworkCanvas`), :mod:`.graphics_view` (its scrolling view).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .widget import NetworkCanvas

__all__ = ["NetworkCanvas"]


def __getattr__(name: str):
    # Lazy, so the Qt-free modules (layout, encoding, hit_testing) import without Qt.
    if name == "NetworkCanvas":
        from .widget import NetworkCanvas

        return NetworkCanvas
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
