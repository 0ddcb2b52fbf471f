"""Immutable snapshots of a training run: what the worker thread hands the GUI.

A snapshot holds everything the views draw, so the GUI never touches the live run.  Arrays
are either the run's own parameter vectors (which the engine never writes to: every step and
edit makes new ones, and they are flagged read-only), arrays the run computed fresh for its
passes (flagged read-only here, never copied), or fresh copies.  Explanations derived from a
snapshot (gradient terms, blame ranks, chain-rule tables) live in :mod:`sandbox.analysis`.  History arrives as the
rows added since the last snapshot the GUI *consumed*, so a skipped snapshot loses nothing.

Snapshots carry the ``generation`` of the last GUI command the worker had applied when it made
them; the GUI drops any snapshot older than its own latest command, so a snapshot computed
before a weight edit can never overwrite the edit on screen (the pattern of ndv's controllers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .neuron_stats import NeuronStats, neuron_means
from ..engine import BackwardPass, ForwardPass
from .config import DataSpec, Hyperparameters, NetworkSpec
from .datasets import Dataset
from .grid import Grid, evaluate_grid
from .history import Marker
from .run import Divergence, Evaluation, TrainingRun
from .state import frozen

Array = np.ndarray


@dataclass(frozen=True)
class SeriesDelta:
    """Rows of a history series that the receiver does not have yet.

    The receiver keeps its first ``start`` rows, drops the rest, and appends ``rows``.  Usually
    ``start`` is the number of rows it already had (pure append); after the model downsampled
    old history it is smaller.  ``replace`` is True when ``start`` is 0 (a whole new series).
    """

    columns: tuple[str, ...]
    rows: Array
    replace: bool
    start: int = 0


@dataclass(frozen=True)
class HistoryCursor:
    """How much of each series a receiver already holds: (revision, row count) per series."""

    steps: tuple[int, int] = (-1, 0)
    evaluations: tuple[int, int] = (-1, 0)
    markers: int = -1

    def after(self, snapshot: "Snapshot") -> "HistoryCursor":
        return HistoryCursor(snapshot.history_steps_end, snapshot.history_evaluations_end, snapshot.markers_count)


def _delta(series, have: tuple[int, int]) -> tuple[SeriesDelta, tuple[int, int]]:
    revision, count = have
    start = series.unchanged_prefix(revision, count) if revision >= 0 else 0
    delta = SeriesDelta(series.columns, series.array(start), replace=start == 0, start=start)
    return delta, (series.revision, len(series))


__all__ = ["HistoryCursor", "NeuronStats", "Passes", "SeriesDelta", "Snapshot", "make_snapshot"]


@dataclass(frozen=True)
class Passes:
    """A forward and a backward pass over some training rows, and what they ran with.

    Every array is read-only and shared with the run (it computed them fresh for this pass);
    nothing is copied per snapshot.  Layers are *activation* layers as in
    :class:`~sandbox.session.naming.NeuronRef`: 0 = the inputs, L = the output.

    Attributes
    ----------
    forward
        ``forward.pre_activations[l − 1]`` = z_l and ``forward.activations[l]`` = a_l, each
        (rows, n_l).
    backward
        ``backward.grad_pre_activations[l − 1]`` = ∂J/∂z_l = δ_l / rows (see :meth:`delta`),
        ``grad_weights``, ``grad_biases``, ``objective`` and ``data_loss`` of these rows.
        None for a pending mini-batch whose backward phase has not run yet.
    rows
        Indices into the training set (``TrainingRun.X_train``, whose row order the full
        training-set pass has) of the rows, or None for the whole training set in order.
        ``dataset.train_indices[rows]`` gives dataset indices.
    weights
        The weight matrices the passes ran with (for a step already applied, those before it).
    l1, l2
        The regularisation rates in ``backward``'s objective and gradients.
    applied_step
        The number of the step that applied this pass's update, or None if it has not been
        applied (it ran with the snapshot's parameters).
    """

    forward: ForwardPass
    backward: BackwardPass | None
    rows: Array | None
    weights: tuple[Array, ...]
    l1: float
    l2: float
    applied_step: int | None = None

    @property
    def n_rows(self) -> int:
        return self.forward.batch_size

    def delta(self, layer: int) -> Array:
        """Per-example error signals δ_l = ∂ℓ_r/∂z_l of activation layer ``layer`` ≥ 1, as a
        new (rows, n_l) array (n_rows · ∂J/∂z_l; for one row r, index ``grad_pre_activations``
        first)."""
        if self.backward is None:
            raise ValueError("this pass has no backward pass yet")
        depth = len(self.backward.grad_pre_activations)
        if not isinstance(layer, (int, np.integer)) or not 1 <= layer <= depth:
            raise ValueError(f"layer must be in 1 … {depth}, got {layer!r}")
        return self.backward.grad_pre_activations[layer - 1] * self.n_rows


@dataclass(frozen=True)
class Snapshot:
    """Everything the app shows about a run at one moment.

    ``run_id`` changes when a different run is loaded or the architecture changes, so views
    know when to rebuild their layout rather than just recolour it.
    """

    generation: int
    run_id: int
    version: int
    playing: bool
    steps_per_second: float
    modified: bool

    # configuration
    dataset: Dataset
    data_spec: DataSpec
    features: tuple[str, ...]
    feature_labels: tuple[str, ...]
    network_spec: NetworkSpec
    hyper: Hyperparameters
    seed: int
    layer_sizes: tuple[int, ...]
    activation_names: tuple[str, ...]
    description: str

    # progress
    step: int
    epoch: int
    phase: str
    last_phase: str | None
    steps_per_epoch: int
    divergence: Divergence | None

    # parameters and their blame
    weights: tuple[Array, ...]
    biases: tuple[Array, ...]
    grad_weights: tuple[Array, ...]
    grad_biases: tuple[Array, ...]
    objective: float
    last_update: tuple[tuple[Array, ...], tuple[Array, ...]] | None
    next_update: tuple[tuple[Array, ...], tuple[Array, ...]]
    batch_indices: Array
    batch_gradients: tuple[tuple[Array, ...], tuple[Array, ...]] | None
    neurons: NeuronStats
    #: Forward and backward pass over the whole training set with the current parameters.
    train_pass: Passes
    #: The mini-batch pass: the pending one when phases were stepped by hand (in phase
    #: "forward" its ``backward`` is None), else the last applied step's; None before the first
    #: step, or once parameters or hyperparameters changed after it (an edit, reset or load).
    batch_pass: Passes | None
    evaluation: Evaluation
    grid: Grid | None
    train_outputs: Array
    test_outputs: Array

    # history since the receiver's cursor
    history_steps: SeriesDelta
    history_evaluations: SeriesDelta
    markers: tuple[Marker, ...] | None
    # (revision, rows) of each series and the markers' revision after this snapshot
    history_steps_end: tuple[int, int] = (0, 0)
    history_evaluations_end: tuple[int, int] = (0, 0)
    markers_count: int = 0
    #: The optimizer's memory after the last update, per buffer (see
    #: ``sandbox.engine.optimizers.STATE_BUFFERS``): (name, (per-layer W, per-layer b)) pairs,
    #: read-only views of the run's state; and its update count t (Adam's bias correction).
    optimizer_buffers: tuple[tuple[str, tuple[tuple[Array, ...], tuple[Array, ...]]], ...] = ()
    optimizer_t: int = 0
    #: The session around the run: the shown step while scrubbed back, undo texts, earlier runs
    #: (a ``workspace.WorkspaceView``; None for a bare run, as the command line makes).
    workspace: Any = None

    @property
    def is_classification(self) -> bool:
        return self.dataset.is_classification

    @property
    def n_layers(self) -> int:
        return len(self.weights)


def _freeze(arrays) -> tuple[Array, ...]:
    """Flag arrays read-only in place (no copy): for arrays the run computed fresh for a pass,
    which nothing writes to afterwards."""
    for a in arrays:
        a.setflags(write=False)
    return tuple(arrays)


def _freeze_passes(fwd: ForwardPass, back: BackwardPass | None) -> None:
    _freeze(fwd.pre_activations)
    _freeze(fwd.activations)
    if back is not None:
        _freeze(back.grad_pre_activations)
        _freeze(back.grad_weights)
        _freeze(back.grad_biases)


def _batch_pass(run: TrainingRun, phase: str) -> Passes | None:
    """The pending mini-batch pass, else the last applied step's while nothing changed since."""
    hyper = run.hyper
    if phase != "idle":
        # Pending passes: forward() and backward() return them without running anything.
        fwd = run.forward()
        back = run.backward() if phase == "backward" else None
        _freeze_passes(fwd, back)
        rows = run.next_batch_indices()
        rows.setflags(write=False)
        return Passes(fwd, back, rows, tuple(run.weights), hyper.l1, hyper.l2, None)
    last = run.last_step_passes
    if last is None or run.last_step_version != run.version:
        return None
    fwd, back, rows, weights = last
    _freeze_passes(fwd, back)
    rows.setflags(write=False)
    return Passes(fwd, back, rows, tuple(weights), hyper.l1, hyper.l2, run.step_count)


def _readonly(arrays) -> tuple[Array, ...]:
    """Each array as an immutable one (itself if it is already; see ``state.frozen``)."""
    return tuple(frozen(a) for a in arrays)


def make_snapshot(
    run: TrainingRun,
    *,
    generation: int,
    run_id: int,
    cursor: HistoryCursor,
    playing: bool = False,
    steps_per_second: float = 0.0,
    modified: bool = False,
    grid_resolution: int | None = 80,
    workspace: Any = None,
) -> Snapshot:
    """Capture ``run`` for the GUI.  Costs one pass over the training set, one over the test
    set and, for 2-D or 1-D data, one over the heatmap grid."""
    # Read before preview_update(), which may run (but not record) passes on the next batch.
    phase, last_phase = run.phase, run.last_phase
    with np.errstate(all="ignore"):
        inspection = run.inspect()
        back = inspection.backward
        fwd = inspection.forward
        _freeze_passes(fwd, back)
        train_pass = Passes(fwd, back, None, tuple(run.weights), run.hyper.l1, run.hyper.l2, None)
        batch_pass = _batch_pass(run, phase)
        neurons = neuron_means(fwd, back)
        train_loss, train_acc = run.score(fwd, run.Y_train)
        if len(run.X_test):
            test_fwd = run.network.forward(run.weights, run.biases, run.X_test)
            test_loss, test_acc = run.score(test_fwd, run.Y_test)
            test_out = test_fwd.output
        else:
            test_loss = test_acc = None
            test_out = np.zeros((0, run.layer_sizes[-1]))
        evaluation = Evaluation(train_loss, test_loss, train_acc, test_acc)
        next_update = run.update_by_layer(run.preview_update())
        batch_grads = None
        if phase == "backward":
            pending = run.backward()
            batch_grads = (_freeze(pending.grad_weights), _freeze(pending.grad_biases))
        grid = evaluate_grid(run, grid_resolution) if grid_resolution else None

    steps_delta, steps_end = _delta(run.history.steps, cursor.steps)
    evals_delta, evals_end = _delta(run.history.evaluations, cursor.evaluations)
    markers = run.history.markers
    marker_count = run.history.markers_revision
    markers_out = tuple(markers) if marker_count != cursor.markers or steps_delta.replace else None
    last = run.update_by_layer(run.last_update)
    return Snapshot(
        generation=generation,
        run_id=run_id,
        version=run.version,
        playing=playing,
        steps_per_second=steps_per_second,
        modified=modified,
        dataset=run.dataset,
        data_spec=run.data_spec,
        features=run.features,
        feature_labels=run.feature_labels,
        network_spec=run.network_spec,
        hyper=run.hyper,
        seed=run.seed,
        layer_sizes=run.layer_sizes,
        activation_names=run.activation_names,
        description=run.description,
        step=run.step_count,
        epoch=run.epoch,
        phase=phase,
        last_phase=last_phase,
        steps_per_epoch=run.steps_per_epoch,
        divergence=run.divergence,
        weights=_readonly(run.weights),
        biases=_readonly(run.biases),
        grad_weights=tuple(back.grad_weights),
        grad_biases=tuple(back.grad_biases),
        objective=back.objective,
        last_update=None if last is None else (_readonly(last[0]), _readonly(last[1])),
        next_update=(_readonly(next_update[0]), _readonly(next_update[1])),
        batch_indices=np.array(run.dataset.train_indices[run.next_batch_indices()]),
        batch_gradients=batch_grads,
        neurons=neurons,
        train_pass=train_pass,
        batch_pass=batch_pass,
        evaluation=evaluation,
        grid=grid,
        train_outputs=fwd.output,
        test_outputs=test_out,
        history_steps=steps_delta,
        history_evaluations=evals_delta,
        markers=markers_out,
        history_steps_end=steps_end,
        history_evaluations_end=evals_end,
        markers_count=marker_count,
        optimizer_buffers=_optimizer_buffers(run),
        optimizer_t=run.opt_state.t,
        workspace=workspace,
    )


def _optimizer_buffers(run: TrainingRun) -> tuple:
    """The run's optimizer buffers by layer: views of its (read-only) flat buffers, no copy."""
    out = []
    for name, arrays in run.opt_state.buffers.items():
        weights, biases = run.update_by_layer(arrays[0])
        out.append((name, (_readonly(weights), _readonly(biases))))
    return tuple(out)
