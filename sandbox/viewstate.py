"""What the views are looking at: selection, hover, focus, view mode, data source, time cursor.

A Qt-free, evented model (psygnal, as napari's models are).  The controller owns the one
instance; views subscribe to its events in their ``__init__`` and change it only through its
attributes, never keep a copy of their own.  Setting an attribute to the value it already has
emits nothing, so a view that writes back what it was just told does not start an echo.

Each field's event is ``view_state.events.<field>``, emitted with ``(new, old)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from psygnal import evented

from .session.naming import BiasRef, NeuronRef, Ref, WeightRef

__all__ = ["BiasRef", "DataSource", "NeuronRef", "Ref", "ViewMode", "ViewState", "WeightRef"]


class ViewMode(str, Enum):
    """What the network canvas colours its connections by."""

    WEIGHTS = "weights"  # w
    GRADIENTS = "gradients"  # ∂J/∂w, the blame
    UPDATES = "updates"  # the last Δw


class DataSource(str, Enum):
    """Which examples the views average over (or show)."""

    TRAINING_SET = "training_set"
    LAST_BATCH = "last_batch"
    EXAMPLE = "example"  # the focused example alone


@evented
@dataclass
class ViewState:
    """The view state of the main window.

    Attributes
    ----------
    selection
        The weight, bias or neuron the inspector shows, or None.
    hover
        What the pointer is over in the canvas (shown highlighted), or None.
    focused_example
        Index into the training set of the example the views follow, or None.
    view_mode
        What the canvas colours connections by.
    data_source
        Which examples the views show.
    time_cursor
        The step shown when looking back in history, or None for the live run.
    pinned
        A weight or bias held for the What-if tab's loss over two parameters (the other one is
        the selection), or None.
    log_scale
        Whether the canvas draws connection widths and the neuron glow on a log scale.
    """

    selection: Ref | None = None
    hover: Ref | None = None
    focused_example: int | None = None
    view_mode: ViewMode = ViewMode.WEIGHTS
    data_source: DataSource = DataSource.TRAINING_SET
    time_cursor: int | None = None
    pinned: WeightRef | BiasRef | None = None
    log_scale: bool = False

    def clear_run_references(self) -> None:
        """Forget what points into the previous run (a new architecture or session)."""
        self.selection = None
        self.hover = None
        self.focused_example = None
        if self.data_source is DataSource.EXAMPLE:  # no example to show any more
            self.data_source = DataSource.TRAINING_SET
        self.time_cursor = None
        self.pinned = None
