"""The runs of a session: the live one and the earlier ones kept for comparison.

An *earlier run* is a run that ended: abandoned by "Continue from here" (its future), or
replaced by a reset, a new seed, a change of architecture or data, or a switch to another run.
Its loss curves stay in the loss plot, dimmed and labelled, until cleared.  In memory it also
keeps its state and timeline, so the learner can switch back to it; a saved session keeps only
its curves (see :mod:`sandbox.session.session_file`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .history import History, Marker
from .state import readonly

Array = np.ndarray

#: Earlier runs kept; when another ends, the oldest goes (with a note in the status bar).
MAX_EARLIER_RUNS = 8


@dataclass(frozen=True)
class RunSettings:
    """What a legend compares between runs."""

    learning_rate: float
    optimizer: str
    architecture: str
    seed: int

    @classmethod
    def of(cls, run) -> "RunSettings":
        spec = run.network_spec
        acts = sorted(set(spec.hidden_activations)) or [spec.output_activation]
        sizes = "-".join(str(n) for n in run.layer_sizes)
        return cls(float(run.hyper.learning_rate), run.hyper.optimizer, f"{sizes} {'/'.join(acts)}",
                   int(run.seed))


@dataclass(frozen=True)
class RunCurves:
    """A run's loss curves as the loss plot draws them (read-only copies).

    ``steps`` holds rows (step, mini-batch loss); ``evaluations`` rows (step, train loss,
    test loss), NaN where a value does not exist.
    """

    steps: Array
    evaluations: Array
    markers: tuple[Marker, ...] = ()

    @classmethod
    def of(cls, history: History) -> "RunCurves":
        return cls(readonly(history.steps.array()[:, [0, 2]]),
                   readonly(history.evaluations.array()[:, [0, 2, 3]]), tuple(history.markers))

    @classmethod
    def empty(cls) -> "RunCurves":
        return cls(readonly(np.zeros((0, 2))), readonly(np.zeros((0, 3))))


@dataclass(frozen=True)
class RunInfo:
    """Who a run is: its number, what started it, and where it branched from.

    Attributes
    ----------
    run_id
        1, 2, 3 … in the order the runs started (the legend says "Run 2").
    origin
        What started it, in words: ``"start"``, ``"reset"``, ``"new seed 7"``, ``"new
        architecture"``, ``"branched at step 500"``, ``"loaded"``.
    parent, branched_at
        The run it branched from and the step it branched at (None for a run that started
        afresh).
    first_change
        The first edit made after it started or branched (what the branch tried), or "".
    ended
        What ended it, once it is an earlier run ("reset at step 200", "branched at step 500").
    """

    run_id: int
    origin: str
    parent: int | None = None
    branched_at: int | None = None
    first_change: str = ""
    ended: str = ""

    @property
    def label(self) -> str:
        return f"Run {self.run_id}"


@dataclass(frozen=True)
class EarlierRun:
    """An earlier run as the views see it."""

    info: RunInfo
    settings: RunSettings
    curves: RunCurves
    visible: bool = True
    #: Whether the run still has its state (it can be switched to); False once loaded from a file.
    has_state: bool = True
    #: The legend's text: the label, then what differs from the live run.
    legend: str = ""


@dataclass(frozen=True)
class RunCatalog:
    """The live run's identity and every earlier run, for a snapshot.  ``revision`` changes
    whenever anything here does, so views redraw the overlays only then."""

    revision: int
    live: RunInfo
    live_settings: RunSettings
    earlier: tuple[EarlierRun, ...] = field(default_factory=tuple)


def legend_text(info: RunInfo, settings: RunSettings, live: RunSettings) -> str:
    """``"Run 2 · lr 0.3"``: the label and the settings that differ from the live run's, else
    how the run started (a branch, a reset, its first edit)."""
    parts = [info.label]
    if settings.learning_rate != live.learning_rate:
        from ..formatting import format_number

        parts.append(f"lr {format_number(settings.learning_rate)}")
    if settings.optimizer != live.optimizer:
        parts.append(settings.optimizer)
    if settings.architecture != live.architecture:
        parts.append(settings.architecture)
    if settings.seed != live.seed:
        parts.append(f"seed {settings.seed}")
    if len(parts) == 1:
        parts.append(info.first_change or (info.origin if info.origin != "start" else "")
                     or info.ended or info.origin)
    return " · ".join(parts)
