"""Typed commands, and the edit events that applying an edit returns.

Every request the GUI can make of the training worker is a frozen dataclass below; the worker
applies them between two steps.  Commands that change the run are applied by :func:`apply`,
which is Qt-free (so the command line and tests use the same path).  An edit (weight, bias,
hyperparameters, architecture or data, description) returns an :class:`EditEvent` that records
the old and the new values; ``event.inverse()`` is the command that undoes it, and
``event.describe()`` is the text of its loss-plot marker, the one place a marker's words are
made.  A query (:class:`EvaluateLoss`, the what-if queries) returns a value and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from ..formatting import format_number
from .config import DataSpec, Hyperparameters, NetworkSpec
from .datasets import Dataset
from .naming import BiasRef, ParamRef, WeightRef


# ------------------------------------------------------------------------------ commands


@dataclass(frozen=True)
class Command:
    """Base of every command.

    Class attributes
    ----------------
    changes_view
        True if the GUI's view of the run changes (the GUI bumps its generation, and drops
        snapshots made before it).
    modifies
        True if applying it marks the session as modified.
    failure_title
        The title of the message shown when the command is refused.
    """

    changes_view: ClassVar[bool] = True
    modifies: ClassVar[bool] = True
    failure_title: ClassVar[str] = "Not applied"


# Training control (the worker's own state; the run is not changed) --------------------------

@dataclass(frozen=True)
class Play(Command):
    changes_view: ClassVar[bool] = False
    modifies: ClassVar[bool] = False


@dataclass(frozen=True)
class Pause(Command):
    changes_view: ClassVar[bool] = False
    modifies: ClassVar[bool] = False


@dataclass(frozen=True)
class TogglePlay(Command):
    changes_view: ClassVar[bool] = False
    modifies: ClassVar[bool] = False


@dataclass(frozen=True)
class SetSpeed(Command):
    """Steps per second while playing; None (or inf) trains as fast as possible."""

    steps_per_second: float | None = None
    changes_view: ClassVar[bool] = False
    modifies: ClassVar[bool] = False


@dataclass(frozen=True)
class Quit(Command):
    changes_view: ClassVar[bool] = False
    modifies: ClassVar[bool] = False


# Stepping -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step(Command):
    """``count`` mini-batch steps (stops early if the non-finite guard refuses one)."""

    count: int = 1


@dataclass(frozen=True)
class StepEpoch(Command):
    """Steps until the current epoch completes."""


@dataclass(frozen=True)
class StepPhase(Command):
    """The next phase of a step: forward, then backward, then update."""


@dataclass(frozen=True)
class Reset(Command):
    """Back to step 0 with the same seed."""


@dataclass(frozen=True)
class NewSeed(Command):
    """Re-initialise with ``seed`` (random if None)."""

    seed: int | None = None


# Time travel and undo (the workspace's own commands) -----------------------------------------

@dataclass(frozen=True)
class Scrub(Command):
    """Show the live run's state at ``step`` (clipped to the steps it has); the live end (its
    newest step) returns to live.  Training pauses; nothing is changed."""

    step: int
    modifies: ClassVar[bool] = False


@dataclass(frozen=True)
class ReturnToLive(Command):
    """Show the live end of the run again (after :class:`Scrub`)."""

    modifies: ClassVar[bool] = False


@dataclass(frozen=True)
class ContinueFromHere(Command):
    """Make the shown (scrubbed-to) step the live run; the abandoned future becomes an earlier
    run."""

    failure_title: ClassVar[str] = "Could not continue from here"


@dataclass(frozen=True)
class Undo(Command):
    """Undo the newest edit (pauses first; returns to the live end first)."""

    failure_title: ClassVar[str] = "Could not undo"


@dataclass(frozen=True)
class Redo(Command):
    """Redo the newest undone edit."""

    failure_title: ClassVar[str] = "Could not redo"


@dataclass(frozen=True)
class SetRunVisible(Command):
    """Show or hide an earlier run's curves in the loss plot."""

    run_id: int
    visible: bool
    modifies: ClassVar[bool] = False


@dataclass(frozen=True)
class ClearEarlierRuns(Command):
    """Forget every earlier run (their curves and states)."""


@dataclass(frozen=True)
class SwitchToRun(Command):
    """Make an earlier run (one that still has its state) the live run; the live run becomes an
    earlier run."""

    run_id: int
    failure_title: ClassVar[str] = "Could not switch runs"


TIME_TRAVEL = (Scrub, ReturnToLive, ContinueFromHere, Undo, Redo, SetRunVisible, ClearEarlierRuns,
               SwitchToRun)


# Edits ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EditWeight(Command):
    """Set a weight.  ``predicted_change`` (a what-if edit) is the ΔJ the gradient predicted;
    the event then records it beside the actual change, and so does its marker."""

    ref: WeightRef
    value: float
    predicted_change: float | None = None
    failure_title: ClassVar[str] = "Could not set the weight"


@dataclass(frozen=True)
class EditBias(Command):
    """Set a bias (``predicted_change`` as for :class:`EditWeight`)."""

    ref: BiasRef
    value: float
    predicted_change: float | None = None
    failure_title: ClassVar[str] = "Could not set the bias"


@dataclass(frozen=True)
class SetHyperparameters(Command):
    """Change training settings (learning rate, batch size, optimizer, l1, l2 …)."""

    changes: tuple[tuple[str, Any], ...] = ()
    failure_title: ClassVar[str] = "Could not change the setting"

    @classmethod
    def of(cls, **changes: Any) -> "SetHyperparameters":
        return cls(tuple(sorted(changes.items())))

    def as_dict(self) -> dict[str, Any]:
        return dict(self.changes)


@dataclass(frozen=True)
class Reconfigure(Command):
    """A fresh network on new data (a generator spec or an imported dataset), new input
    features or a new architecture; the training settings are kept."""

    data: DataSpec | Dataset | None = None
    features: tuple[str, ...] | None = None
    network: NetworkSpec | None = None
    failure_title: ClassVar[str] = "Could not apply the change"


@dataclass(frozen=True)
class SetDescription(Command):
    text: str = ""


# Sessions ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewSession(Command):
    """Replace the run (File ▸ New)."""

    run: Any = field(compare=False)  # a TrainingRun
    modifies: ClassVar[bool] = False


@dataclass(frozen=True)
class Load(Command):
    """Open a session file, or start a fresh session on a CSV file's data."""

    path: str
    modifies: ClassVar[bool] = False
    failure_title: ClassVar[str] = "Could not open the session"


@dataclass(frozen=True)
class Save(Command):
    """Save the run to ``path``; ``request`` lets the sender match the reply (saveFinished)."""

    path: str
    request: int = 0
    changes_view: ClassVar[bool] = False
    modifies: ClassVar[bool] = False
    failure_title: ClassVar[str] = "Could not save the session"


@dataclass(frozen=True)
class Autosave(Command):
    """Take a frozen image of the workspace (between two steps) for the autosave writer, if
    the session has unsaved changes; no snapshot, and the session stays as modified as it was.
    ``original_path`` and ``name`` say where the session came from (the recovery offer shows
    them; the original file is never written).  Taking the image (``save_image.image_of``)
    copies the live run's state and history: ~1.7 ms for a 100,000-step default run (2.8 ms
    at worst), so training pauses for well under a frame."""

    original_path: str | None = None
    name: str = ""
    changes_view: ClassVar[bool] = False
    modifies: ClassVar[bool] = False


@dataclass(frozen=True)
class MarkModified(Command):
    """Mark the session as having unsaved changes (a recovered autosave is not saved yet)."""

    changes_view: ClassVar[bool] = False


# Queries -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EvaluateLoss(Command):
    """The objective J on the training set with one parameter set to ``value``; the run is
    not changed.  ``request`` lets the sender match the reply."""

    ref: ParamRef
    value: float
    request: int = 0
    changes_view: ClassVar[bool] = False
    modifies: ClassVar[bool] = False
    failure_title: ClassVar[str] = "Could not evaluate the loss"


@dataclass(frozen=True)
class LossAlong(Command):
    """J on the training set at ``w + offset`` for each offset (w: the parameter's value when
    the worker answers), everything else fixed; answers a
    :class:`~sandbox.session.loss_probes.LossCurve`.  The run is not changed."""

    ref: ParamRef
    offsets: tuple[float, ...]
    request: int = 0
    changes_view: ClassVar[bool] = False
    modifies: ClassVar[bool] = False
    failure_title: ClassVar[str] = "Could not evaluate the loss along the weight"


@dataclass(frozen=True)
class GradientCheck(Command):
    """The central finite difference (J(w + h) − J(w − h)) / 2h beside the analytic ∂J/∂w
    (``h`` None: a default step); answers a
    :class:`~sandbox.session.loss_probes.GradientCheckResult`.  The run is not changed."""

    ref: ParamRef
    h: float | None = None
    request: int = 0
    changes_view: ClassVar[bool] = False
    modifies: ClassVar[bool] = False
    failure_title: ClassVar[str] = "Could not check the gradient"


@dataclass(frozen=True)
class LossSurface(Command):
    """J over the grid (w_a + offsets_a) × (w_b + offsets_b) of two parameters; answers a
    :class:`~sandbox.session.loss_probes.LossSurfaceResult`.  The run is not changed."""

    ref_a: ParamRef
    ref_b: ParamRef
    offsets_a: tuple[float, ...]
    offsets_b: tuple[float, ...]
    request: int = 0
    changes_view: ClassVar[bool] = False
    modifies: ClassVar[bool] = False
    failure_title: ClassVar[str] = "Could not evaluate the loss over two weights"


#: The what-if queries (answered with a value, changing nothing).
WHAT_IF_QUERIES = (LossAlong, GradientCheck, LossSurface)


@dataclass(frozen=True)
class SuggestLearningRate(Command):
    """A lower learning rate checked not to diverge at once (see ``session.advice``), from the
    kept state or, with ``from_reset``, from fresh weights; the run is not changed."""

    from_reset: bool = False
    request: int = 0
    changes_view: ClassVar[bool] = False
    modifies: ClassVar[bool] = False
    failure_title: ClassVar[str] = "Could not check a learning rate"


# --------------------------------------------------------------------------- edit events


@dataclass(frozen=True)
class EditEvent:
    """What an edit changed.  ``step`` is the step count when it was applied."""

    step: int

    def inverse(self) -> Command:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class ParameterEdited(EditEvent):
    """A weight or a bias was set by hand.

    A what-if edit also records ``predicted_change`` (∂J/∂w·Δw, what the gradient predicted)
    and ``actual_change`` (J after − J before, on the training set); both are in its marker.
    """

    ref: ParamRef
    old: float
    new: float
    predicted_change: float | None = None
    actual_change: float | None = None

    def inverse(self) -> Command:
        if isinstance(self.ref, WeightRef):
            return EditWeight(self.ref, self.old)
        return EditBias(self.ref, self.old)

    def describe(self) -> str:
        text = f"{self.ref.name}: {format_number(self.old)} \u2192 {format_number(self.new)}"
        if self.predicted_change is not None:
            text += (f"; \u0394J predicted {format_number(self.predicted_change, signed=True)},"
                     f" actual {format_number(self.actual_change, signed=True)}")
        return text

    def merged_after(self, earlier: "ParameterEdited") -> "ParameterEdited":
        """This edit as part of a burst that started with ``earlier`` (a slider drag): the old
        value is the one from before the burst."""
        return replace(self, old=earlier.old)


@dataclass(frozen=True)
class HyperparametersChanged(EditEvent):
    old: Hyperparameters
    new: Hyperparameters

    @property
    def changed(self) -> tuple[str, ...]:
        return tuple(name for name in Hyperparameters.__dataclass_fields__
                     if getattr(self.old, name) != getattr(self.new, name))

    def inverse(self) -> Command:
        return SetHyperparameters.of(**{name: getattr(self.old, name) for name in self.changed})

    def describe(self) -> str:
        return "; ".join(f"{name} {_setting(getattr(self.old, name))} \u2192 {_setting(getattr(self.new, name))}"
                         for name in self.changed)


@dataclass(frozen=True)
class Configuration:
    """What a :class:`Reconfigure` replaces: the data, the input features, the architecture."""

    data: DataSpec | Dataset
    features: tuple[str, ...]
    network: NetworkSpec


@dataclass(frozen=True)
class Reconfigured(EditEvent):
    """Data, features or architecture changed: a fresh network was built."""

    old: Configuration
    new: Configuration

    def inverse(self) -> Command:
        return Reconfigure(data=self.old.data, features=self.old.features, network=self.old.network)

    def describe(self) -> str:
        parts = []
        if self.old.data != self.new.data:
            parts.append("new data")
        if self.old.features != self.new.features:
            parts.append("features " + ", ".join(self.new.features))
        if self.old.network != self.new.network:
            parts.append("new architecture")
        return "; ".join(parts) or "rebuilt the network"


@dataclass(frozen=True)
class DescriptionChanged(EditEvent):
    old: str
    new: str

    def inverse(self) -> Command:
        return SetDescription(self.old)

    def describe(self) -> str:
        return "description changed"


def _setting(value: Any) -> str:
    if isinstance(value, float):
        return format_number(value)
    return str(value)


# ----------------------------------------------------------------------------- applying


@dataclass(frozen=True)
class Outcome:
    """What applying a command gave.

    ``run`` is the run to keep (a new one after :class:`Reconfigure`), ``event`` the edit event
    (None for steps and queries), ``result`` a query's value.
    """

    run: Any
    event: EditEvent | None = None
    result: Any = None


def apply(run, command: Command) -> Outcome:
    """Apply a run-changing command or a query to ``run`` (a TrainingRun).

    Raises
    ------
    ValueError
        If the command is refused (a bad value); the run is then unchanged.
    TypeError
        For commands that are not about the run (play, save …): the worker handles those.
    """
    if isinstance(command, Step):
        run.train(int(command.count))
    elif isinstance(command, StepEpoch):
        run.step_epoch()
    elif isinstance(command, StepPhase):
        {"idle": run.forward, "forward": run.backward, "backward": run.update}[run.phase]()
    elif isinstance(command, Reset):
        run.reset()
    elif isinstance(command, NewSeed):
        run.new_seed(command.seed)
    elif isinstance(command, EditWeight):
        ref = command.ref
        return Outcome(run, run.set_weight(ref.layer, ref.i, ref.j, command.value, command.predicted_change))
    elif isinstance(command, EditBias):
        ref = command.ref
        return Outcome(run, run.set_bias(ref.layer, ref.j, command.value, command.predicted_change))
    elif isinstance(command, SetHyperparameters):
        return Outcome(run, run.set_hyperparameters(**command.as_dict()))
    elif isinstance(command, SetDescription):
        old = run.description
        run.description = command.text
        return Outcome(run, DescriptionChanged(run.step_count, old, command.text))
    elif isinstance(command, Reconfigure):
        return reconfigure(run, command)
    elif isinstance(command, EvaluateLoss):
        return Outcome(run, result=run.objective_with(command.ref, command.value))
    elif isinstance(command, WHAT_IF_QUERIES):
        return Outcome(run, result=_what_if(run, command))
    elif isinstance(command, SuggestLearningRate):
        from .advice import safe_learning_rate

        return Outcome(run, result=safe_learning_rate(run, from_reset=command.from_reset))
    else:
        raise TypeError(f"{type(command).__name__} is not a command about the run")
    return Outcome(run)


def _what_if(run, command: Command) -> Any:
    """A what-if query's answer; None if it names a parameter this network no longer has (the
    architecture changed since it was sent: nobody is waiting for an error message)."""
    from . import loss_probes

    refs = (command.ref_a, command.ref_b) if isinstance(command, LossSurface) else (command.ref,)
    try:
        for ref in refs:
            loss_probes.check_ref(run.layer_sizes, ref)
    except ValueError:
        return None
    if isinstance(command, LossAlong):
        return loss_probes.loss_along(run, command.ref, command.offsets)
    if isinstance(command, GradientCheck):
        return loss_probes.gradient_check(run, command.ref, command.h)
    assert isinstance(command, LossSurface)
    return loss_probes.loss_surface(run, command.ref_a, command.ref_b, command.offsets_a, command.offsets_b)


def reconfigure(run, command: Reconfigure) -> Outcome:
    """A new run on new data, features or architecture that keeps the training settings."""
    TrainingRun = type(run)  # the run's own class: this module is below run.py

    old = run
    data, features, network = command.data, command.features, command.network
    if data is None:
        new = TrainingRun(old.dataset, old.data_spec, features or old.features, network or old.network_spec,
                          old.hyper, old.seed)
    else:
        new = TrainingRun.create(data, features=None, network=network or old.network_spec,
                                 hyper=old.hyper, seed=old.seed)
        keep = features or old.features
        if new.dataset.input_names == old.dataset.input_names and tuple(keep) != tuple(new.features):
            new = TrainingRun(new.dataset, new.data_spec, keep, new.network_spec, old.hyper, old.seed)
    # An example's description is about its data; on new data it would mislead.
    if data is None:
        new.description = old.description
    elif isinstance(data, Dataset):
        new.description = f"Imported from {data.name}."
    new.evaluate_each_epoch = old.evaluate_each_epoch
    event = Reconfigured(old.step_count, configuration(old), configuration(new))
    return Outcome(new, event)


def configuration(run) -> Configuration:
    """The data, features and architecture of ``run``."""
    data = run.dataset if run.data_spec.source == "csv" else run.data_spec
    return Configuration(data, tuple(run.features), run.network_spec)

