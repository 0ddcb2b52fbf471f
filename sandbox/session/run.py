"""The training run: data, network, optimizer, the step loop and its history, in one object.

This is the session model.  The GUI's worker thread owns one ``TrainingRun`` and calls its
methods between steps; the command line drives it directly.  It never imports Qt.

Parameters are never modified in place: every step and every edit creates new arrays.  A
snapshot can therefore hold references to the current arrays and they will never change
underneath it, and a rejected (non-finite) step leaves the previous arrays untouched.  The
arrays that make up the run's state (parameters, optimizer buffers, permutation, last update)
are marked read-only when they are made, so :meth:`TrainingRun.capture` shares them in a
:class:`~sandbox.session.state.RunState` without copying.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..engine import (
    BackwardPass,
    ForwardPass,
    Network,
    ParameterLayout,
    compiled,
    propose,
)
from ..engine.compiled.step import CompiledStep, StepResult, StepSettings
from ..engine.regularizers import clip_l1_crossings
from .config import CSV_SOURCE, DataSpec, Hyperparameters, NetworkSpec, check_size
from .datasets import Dataset, generate
from .features import check_features, default_features, feature_labels, feature_matrix
from .grid import data_extent, grid_inputs
from .history import History
from .guard import finite_buffers, first_nonfinite
from .scoring import Evaluation, accuracy, encode_targets, finite_norm, recordable, update_ratios
from .run_edits import RunEdits
from .run_state_io import RunStateIO, readonly_state
from .state import PHASES, Divergence, RunState, readonly

__all__ = ["PHASES", "Divergence", "Evaluation", "Inspection", "RunState", "TrainingRun"]

Array = np.ndarray


@dataclass
class _StepRecord:
    """What a compiled step needs to show its passes later: the numpy reference recomputes them
    on its batch with the weights it ran with, once, when something asks (a snapshot)."""

    network: Network
    layout: ParameterLayout
    X: Array
    Y: Array
    rows: Array
    flat: Array
    l1: float
    l2: float
    forward: ForwardPass | None = None
    backward: BackwardPass | None = None

    def passes(self) -> tuple[ForwardPass, BackwardPass, Array, list[Array]]:
        weights, biases = self.layout.unpack(self.flat)
        if self.forward is None:
            self.forward = self.network.forward(weights, biases, self.X[self.rows])
        if self.backward is None:
            self.backward = self.network.backward(weights, self.forward, self.Y[self.rows], self.l1, self.l2)
        return self.forward, self.backward, self.rows, weights


@dataclass(frozen=True)
class Inspection:
    """The forward and backward pass over the whole training set, for explaining gradients."""

    forward: ForwardPass
    backward: BackwardPass


class TrainingRun(RunEdits, RunStateIO):
    """Everything one training session holds.

    Build one with :meth:`create`; load and save with :mod:`sandbox.session.session_file`.
    :meth:`capture` returns the state that determines the future as one immutable
    :class:`~sandbox.session.state.RunState`; :meth:`restore` puts one back.

    Attributes
    ----------
    dataset, data_spec, features, network_spec, hyper, seed
        The configuration (read-only; change it through the methods).
    weights, biases
        Current parameters, lists of float64 arrays (treat as read-only).
    step_count, epoch
        Steps applied so far and epochs completed.
    history
        Per-step losses, gradient norms and update-to-weight ratios ‖ΔW_l‖/‖W_l‖ (W before the
        step), evaluations and edit markers.
    divergence
        Set when the non-finite guard stopped training; cleared by any edit or reset.
    version
        Bumped by every change to the parameters, for caches and snapshot generations.
    last_step_passes
        ``(forward, backward, rows, weights)`` of the last applied step: its passes on its
        mini-batch, the batch's training-set row indices and the weights the passes ran with
        (those before its update); None before the first step.  Treat as read-only.
    last_step_version
        ``version`` right after the last applied step: if ``version`` differs, parameters or
        hyperparameters changed since (an edit, a reset, a load) and the passes are stale.
    """

    #: Set by ``_commit`` (class defaults, so every construction path starts with "no step yet"):
    #: the last step's passes, or a record to compute them from (a compiled step's).
    _last_step: tuple[ForwardPass, BackwardPass, Array, list[Array]] | _StepRecord | None = None
    last_step_version: int = -1
    #: (batch size, the compiled step or None for the numpy path) of the last step.
    _kernel_for: tuple[int, CompiledStep | None] | None = None
    #: (hyperparameters, kernel, the kernel's form of them), remade when either changes.
    _kernel_settings: tuple[Hyperparameters, CompiledStep, StepSettings] | None = None
    #: (weights, biases) as views of ``flat``, made when first asked for after a change.
    _params: tuple[list[Array], list[Array]] | None = None
    #: Called with the run after every applied step (a timeline takes its checkpoints so).
    step_hook: Callable[["TrainingRun"], None] | None = None

    # ----------------------------------------------------------------------------- creation

    def __init__(
        self,
        dataset: Dataset,
        data_spec: DataSpec,
        features: Sequence[str],
        network_spec: NetworkSpec,
        hyper: Hyperparameters,
        seed: int,
    ) -> None:
        self.dataset = dataset
        self.data_spec = data_spec
        self.features = check_features(dataset.input_names, features)
        self.network_spec = network_spec.resolved(dataset.task, dataset.n_classes)
        self.hyper = hyper
        if not isinstance(seed, int) or not 0 <= seed < 2**63:
            raise ValueError(f"seed must be an integer in 0 … 2**63 − 1, got {seed!r}")
        self.seed = seed
        #: Free text shown with the session (the examples explain what to try).
        self.description = ""
        self.evaluate_each_epoch = True
        self.version = -1
        self._build_derived()
        self.reset(record=False)

    @classmethod
    def create(
        cls,
        data: DataSpec | Dataset | None = None,
        features: Sequence[str] | None = None,
        network: NetworkSpec | None = None,
        hyper: Hyperparameters | None = None,
        seed: int = 0,
    ) -> "TrainingRun":
        """A fresh run.  ``data`` is a generator spec or an imported dataset."""
        if data is None:
            data = DataSpec()
        if isinstance(data, Dataset):
            dataset = data
            spec = DataSpec(source=CSV_SOURCE, n_points=max(2, len(data)), noise=0.0,
                            train_fraction=max(1e-9, float(data.is_train.mean())), seed=0)
        else:
            spec = data
            if spec.source == CSV_SOURCE:
                raise ValueError("CSV data must be passed as a Dataset")
            dataset = generate(spec.source, spec.n_points, spec.noise, spec.train_fraction, spec.seed)
        if features is None:
            features = default_features(dataset.input_names)
        return cls(dataset, spec, features, network or NetworkSpec(), hyper or Hyperparameters(), seed)

    def _build_derived(self) -> None:
        """Feature matrix, encoded targets, split views and the validated network."""
        ds = self.dataset
        spec = self.network_spec
        self.network = Network(spec.hidden_activations + (spec.output_activation,), spec.loss)
        X = feature_matrix(ds.inputs, ds.input_names, self.features)
        Y = encode_targets(ds, spec.output_activation)
        self.X_train = np.ascontiguousarray(X[ds.train_indices])
        self.Y_train = np.ascontiguousarray(Y[ds.train_indices])
        self.X_test = np.ascontiguousarray(X[ds.test_indices])
        self.Y_test = np.ascontiguousarray(Y[ds.test_indices])
        for arr in (self.X_train, self.Y_train, self.X_test, self.Y_test):
            arr.setflags(write=False)
        self.layer_sizes = (X.shape[1],) + spec.hidden_sizes + (Y.shape[1],)
        check_size(self.layer_sizes, len(ds))  # before any parameter or pass is built
        self.layout = ParameterLayout(self.layer_sizes)
        self._kernel_for = self._kernel_settings = None  # the compiled step is the network's
        # Where each W_l lies in the flat vector (W_0, b_0, W_1, …), for the per-step update ratios.
        ends = np.cumsum([int(np.prod(shape)) for shape in self.layout.shapes])
        self._weight_slices = [slice(int(end - np.prod(shape)), int(end))
                               for end, shape in zip(ends[0::2], self.layout.shapes[0::2])]
        self.feature_labels = feature_labels(ds.input_names, self.features)
        self.grid_extent = data_extent(ds.inputs, generated=self.data_spec.source != CSV_SOURCE)
        self._grid_features: dict[int, Array] = {}

    def grid_features(self, resolution: int) -> Array:
        """The feature matrix of the heatmap grid (see ``grid.py``), cached per resolution."""
        if resolution not in self._grid_features:
            points = grid_inputs(self.grid_extent, resolution, self.dataset.n_inputs)
            X = feature_matrix(points, self.dataset.input_names, self.features)
            X.setflags(write=False)
            self._grid_features[resolution] = X
        return self._grid_features[resolution]

    # ------------------------------------------------------------------------ configuration

    @property
    def n_train(self) -> int:
        return len(self.X_train)

    @property
    def is_classification(self) -> bool:
        return self.dataset.is_classification

    @property
    def activation_names(self) -> tuple[str, ...]:
        return self.network_spec.hidden_activations + (self.network_spec.output_activation,)

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.n_train // self.effective_batch_size)

    @property
    def effective_batch_size(self) -> int:
        return min(self.hyper.batch_size, self.n_train)

    @property
    def phase(self) -> str:
        if self._pending_backward is not None:
            return "backward"
        if self._pending_forward is not None:
            return "forward"
        return "idle"

    @property
    def last_step_passes(self) -> tuple[ForwardPass, BackwardPass, Array, list[Array]] | None:
        """See the class docstring.  A compiled step's passes are computed here, the first time
        they are asked for, with the numpy reference (the same passes a numpy step keeps)."""
        last = self._last_step
        if isinstance(last, _StepRecord):
            last = self._last_step = last.passes()
        return last

    @last_step_passes.setter
    def last_step_passes(self, value: tuple[ForwardPass, BackwardPass, Array, list[Array]] | None) -> None:
        self._last_step = value

    @property
    def step_path(self) -> str:
        """``"compiled"`` or ``"numpy"``: the path this run's steps take (see
        :func:`sandbox.engine.compiled.path_for`: the architecture and batch size decide)."""
        return "numpy" if self._step_kernel() is None else "compiled"

    def _step_kernel(self) -> CompiledStep | None:
        """The compiled step for this network and batch size, or None for the numpy path."""
        batch = self.effective_batch_size
        cached = self._kernel_for
        if cached is not None and cached[0] == batch:
            return cached[1]
        kernel = None
        if compiled.path_for(self.layer_sizes, self.activation_names, batch) == "compiled":
            kernel = CompiledStep(compiled.load(), self.layer_sizes, self.activation_names, self.network_spec.loss)
        self._kernel_for = (batch, kernel)
        return kernel

    def _propose_compiled(self, kernel: CompiledStep, idx: Array) -> StepResult:
        hyper = self.hyper
        cached = self._kernel_settings
        if cached is None or cached[0] is not hyper or cached[1] is not kernel:
            settings = kernel.settings(hyper.optimizer, hyper.optimizer_hyper(), hyper.learning_rate, hyper.l1, hyper.l2)
            cached = self._kernel_settings = (hyper, kernel, settings)
        return kernel(self.X_train, self.Y_train, idx, self.flat, self.opt_state, cached[2])

    def _set_flat(self, flat: Array) -> None:
        """Make ``flat`` the current parameters; ``weights`` and ``biases`` are views of it."""
        flat.setflags(write=False)  # views made of it inherit it: nothing may write in place
        self.flat = flat
        self._params = None

    @property
    def weights(self) -> list[Array]:
        """The weight matrices W_l: read-only views of ``flat`` (made when first asked for)."""
        if self._params is None:
            self._params = self.layout.unpack(self.flat)
        return self._params[0]

    @property
    def biases(self) -> list[Array]:
        """The bias vectors b_l: read-only views of ``flat``."""
        if self._params is None:
            self._params = self.layout.unpack(self.flat)
        return self._params[1]

    def update_by_layer(self, delta: Array | None) -> tuple[list[Array], list[Array]] | None:
        """A flat update vector (``last_update``, ``preview_update()``) as (ΔW, Δb) lists."""
        return None if delta is None else self.layout.unpack(delta)

    # ------------------------------------------------------------------------ reset & seeds

    def reset(self, record: bool = True) -> None:
        """Back to step 0 with the initial weights of this seed: bit-identical every time.

        Empties the history and puts back :meth:`start_state` through :meth:`restore`.
        """
        self.history = History.empty(len(self.layer_sizes) - 1)
        self.restore(self.start_state())

    def fork(self) -> "TrainingRun":
        """Another run on the same data, features and network (sharing their read-only arrays),
        with the same state, description and settings, an empty history and no step hook."""
        twin = copy.copy(self)
        twin.history = History.empty(len(self.layer_sizes) - 1)
        twin._grid_features = dict(self._grid_features)
        twin.step_hook = None
        twin.last_step_passes = None
        twin._clear_pending()
        return twin

    def new_seed(self, seed: int | None = None) -> int:
        """Re-initialise with a new seed (random if None) and return it."""
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31))
        # Checked before anything changes, with the same rule as the constructor (and the session
        # file loader): a seed outside 0 … 2**63 − 1 would make the run unsaveable or break reset.
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
            raise ValueError(f"seed must be an integer in 0 … 2**63 − 1, got {seed!r}")
        self.seed = int(seed)
        self.reset()
        return self.seed

    def _clear_pending(self) -> None:
        #: The phase that ran last ("forward", "backward", "update"), or None after a change
        #: dropped the passes of a half-run step (or nothing has run yet).
        self.last_phase: str | None = None
        self._pending_batch: Array | None = None
        self._pending_forward: ForwardPass | None = None
        self._pending_backward: BackwardPass | None = None
        self._inspection: Inspection | None = None
        self._preview: Array | None = None

    def _changed(self) -> None:
        """Parameters or hyperparameters changed: drop cached passes, lift a divergence stop."""
        self._clear_pending()
        self.divergence = None
        self.version += 1

    # ------------------------------------------------------------------------------ stepping

    def next_batch_indices(self) -> Array:
        """Indices (into the training set) of the batch the next step will use."""
        if self._pending_batch is None:
            end = min(self.cursor + self.hyper.batch_size, self.n_train)
            self._pending_batch = self.permutation[self.cursor : end]
        return self._pending_batch

    def forward(self) -> ForwardPass:
        """Phase 1 of a step: the forward pass on the next batch."""
        if self._pending_forward is None:
            idx = self.next_batch_indices()
            self._pending_forward = self.network.forward(self.weights, self.biases, self.X_train[idx])
            self.last_phase = "forward"
        return self._pending_forward

    def backward(self) -> BackwardPass:
        """Phase 2 of a step: gradients and error signals on the batch (runs phase 1 if needed)."""
        if self._pending_backward is None:
            fwd = self.forward()
            self._pending_backward = self.network.backward(
                self.weights, fwd, self.Y_train[self.next_batch_indices()], self.hyper.l1, self.hyper.l2
            )
            self.last_phase = "backward"
        return self._pending_backward

    def update(self) -> bool:
        """Phase 3: apply the optimizer's update.  Returns False if the guard refused it.

        On the compiled path the update committed is the compiled step's from the state before
        the step (the passes shown for phases 1 and 2 are the numpy reference's), so stepping
        by phases commits exactly what one :meth:`step` commits.
        """
        kernel = self._step_kernel()
        if kernel is not None:
            return self._apply_compiled(kernel, self.next_batch_indices())
        return self._apply(self.backward())

    def step(self) -> bool:
        """One mini-batch update: forward, backward and update.  False if the guard refused it."""
        if self._pending_backward is None and self._pending_forward is None:
            # The hot path: no phase has been run by hand, so skip the bookkeeping.
            idx = self.permutation[self.cursor : self.cursor + self.hyper.batch_size]
            self._pending_batch = idx
            kernel = self._step_kernel()
            if kernel is not None:
                return self._apply_compiled(kernel, idx)
            fwd = self.network.forward(self.weights, self.biases, self.X_train[idx])
            back = self.network.backward(self.weights, fwd, self.Y_train[idx], self.hyper.l1, self.hyper.l2)
            return self._apply(back, fwd)
        return self.update()

    def train(self, n_steps: int, callback: Callable[[TrainingRun], None] | None = None) -> int:
        """Up to ``n_steps`` steps; stops early on divergence.  Returns the steps applied."""
        done = 0
        for _ in range(n_steps):
            if not self.step():
                break
            done += 1
            if callback is not None:
                callback(self)
        return done

    def step_epoch(self) -> int:
        """Steps until the current epoch completes (or the guard stops); returns steps applied."""
        start_epoch, done = self.epoch, 0
        while self.epoch == start_epoch:
            if not self.step():
                break
            done += 1
        return done

    def _apply(self, back: BackwardPass, fwd: ForwardPass | None = None) -> bool:
        """Commit the update of ``back`` (the pending backward pass; ``fwd`` is its forward pass,
        the pending one when not given)."""
        hyper = self.hyper
        step_number = self.step_count + 1
        if not math.isfinite(back.objective):
            return self._diverged(Divergence(step_number, "loss", None, hyper.learning_rate))
        grad_norms = [finite_norm(g) for g in back.grad_weights]
        grad = self.layout.pack(back.grad_weights, back.grad_biases)
        (delta,), new_state = propose(
            hyper.optimizer, hyper.optimizer_hyper(), hyper.learning_rate, [grad], self.opt_state
        )
        if hyper.l1 > 0:
            # Playground's L1 rule: a weight the L1 term carries across zero stops at exactly 0
            # (w > 0 > w + Δw ≥ −lr·l1, or mirrored ⇒ Δw = −w); biases are not regularised.
            delta = clip_l1_crossings(self.flat, delta, self._weight_slices, hyper.learning_rate * hyper.l1)
        new_flat = self.flat + delta
        # Everything committed must be finite: one vdot covers the parameters (and a NaN or inf
        # gradient, which makes them non-finite too), but a squared-gradient buffer overflows on
        # its own past ~1e154 while m/√v keeps the weights finite (see guard.py).
        if not (math.isfinite(np.vdot(new_flat, new_flat)) and finite_buffers(new_state)):
            divergence = first_nonfinite(step_number, hyper, self.layout, back, new_state, new_flat)
            if divergence is not None:
                return self._diverged(divergence)
        ratios = update_ratios(self.flat, delta, self._weight_slices)
        if fwd is None:
            fwd = self._pending_forward
        self._commit(new_flat, delta, new_state, back.data_loss, grad_norms, ratios,
                     (fwd, back, self._pending_batch, self.weights))  # type: ignore[arg-type]
        return True

    def _apply_compiled(self, kernel: CompiledStep, idx: Array) -> bool:
        """Propose and commit the step on batch ``idx`` through the compiled kernel (the guard
        and the step's records included), keeping any passes the phases showed."""
        hyper = self.hyper
        step_number = self.step_count + 1
        result = self._propose_compiled(kernel, idx)
        if result.quantity is not None:
            return self._diverged(Divergence(step_number, result.quantity, result.layer,
                                             hyper.learning_rate, buffer=result.buffer))
        record = _StepRecord(self.network, self.layout, self.X_train, self.Y_train, idx, self.flat,
                             hyper.l1, hyper.l2, self._pending_forward, self._pending_backward)
        new_flat, delta, ratios = self._l1_clipped(result)
        self._commit(new_flat, delta, result.new_state, result.data_loss, result.grad_norms, ratios, record)
        return True

    def _l1_clipped(self, result: StepResult) -> tuple[Array, Array, list[float]]:
        """The kernel's proposal under Playground's L1 rule (as :meth:`_apply` applies it): a
        weight the L1 term carries across zero stops at exactly 0.  Unchanged without L1 or
        when nothing crosses."""
        hyper = self.hyper
        if hyper.l1 > 0:
            delta = clip_l1_crossings(self.flat, result.delta, self._weight_slices, hyper.learning_rate * hyper.l1)
            if delta is not result.delta:
                return self.flat + delta, delta, update_ratios(self.flat, delta, self._weight_slices)
        return result.new_flat, result.delta, list(result.update_ratios)

    def _commit(self, new_flat: Array, delta: Array, new_state, data_loss: float, grad_norms: list[float],
                ratios: list[float], passes: tuple | _StepRecord) -> None:
        """Make a step's proposal the run's state (the guard let it through)."""
        step_number = self.step_count + 1
        self._set_flat(new_flat)
        self.opt_state = readonly_state(new_state)
        self.last_update = readonly(delta)
        self.step_count = step_number
        self.divergence = None  # this step was not refused: an older stop no longer holds
        self.history.steps.append(step_number, data_loss, *grad_norms, *ratios)
        self.cursor += len(self._pending_batch)  # type: ignore[arg-type]
        self._last_step = passes
        self._pending_batch = self._pending_forward = self._pending_backward = None
        self._inspection = self._preview = None
        self.last_phase = "update"
        self.version += 1
        self.last_step_version = self.version
        if self.cursor >= self.n_train:
            self.epoch += 1
            self.cursor = 0
            self.permutation = readonly(self.shuffle_rng.permutation(self.n_train))
            if self.evaluate_each_epoch:
                self.evaluate(record=True)
        if self.step_hook is not None:
            self.step_hook(self)

    def _diverged(self, divergence: Divergence) -> bool:
        self.divergence = divergence
        self._pending_forward = self._pending_backward = None
        return False

    # ----------------------------------------------------------------------------- analysis

    def evaluate(self, record: bool = False) -> Evaluation:
        """Losses (and accuracies) over the full training and test sets."""
        train_loss, train_acc = self._loss_and_accuracy(self.X_train, self.Y_train)
        if len(self.X_test):
            test_loss, test_acc = self._loss_and_accuracy(self.X_test, self.Y_test)
        else:
            test_loss = test_acc = None
        result = Evaluation(train_loss, test_loss, train_acc, test_acc)
        if record:
            self.history.evaluations.append(
                self.step_count, *(recordable(v) for v in (train_loss, test_loss, train_acc, test_acc))
            )
        return result

    def _loss_and_accuracy(self, X: Array, Y: Array) -> tuple[float, float | None]:
        return self.score(self.network.forward(self.weights, self.biases, X), Y)

    def score(self, fwd: ForwardPass, Y: Array) -> tuple[float, float | None]:
        """Data loss and accuracy (None for regression) of a forward pass against targets Y."""
        loss, _ = self.network.loss.evaluate(
            fwd.pre_activations[-1], fwd.output, Y, self.network.activations[-1]
        )
        return loss, (accuracy(fwd.output, Y) if self.is_classification else None)

    def inspect(self) -> Inspection:
        """Forward and backward pass over the whole training set (cached until a change).

        This is the "blame" the app shows: ∂J/∂W on the training set and every neuron's δ.
        """
        if self._inspection is None:
            fwd = self.network.forward(self.weights, self.biases, self.X_train)
            back = self.network.backward(self.weights, fwd, self.Y_train, self.hyper.l1, self.hyper.l2)
            self._inspection = Inspection(fwd, back)
        return self._inspection

    def preview_update(self) -> Array:
        """The update Δp the next step would add to ``flat``, without applying it.

        Uses the pending backward pass if the phases were stepped by hand; otherwise computes
        one on the next batch without marking any phase as done.
        """
        if self._preview is None:
            kernel = self._step_kernel()
            if kernel is not None:
                # Exactly what the next step would commit (a refused loss leaves no update).
                result = self._propose_compiled(kernel, self.next_batch_indices())
                if result.quantity != "loss":
                    self._preview = readonly(self._l1_clipped(result)[1])
                    return self._preview
            back = self._pending_backward
            if back is None:
                idx = self.next_batch_indices()
                fwd = self._pending_forward or self.network.forward(self.weights, self.biases, self.X_train[idx])
                back = self.network.backward(self.weights, fwd, self.Y_train[idx], self.hyper.l1, self.hyper.l2)
            grad = self.layout.pack(back.grad_weights, back.grad_biases)
            (preview,), _ = propose(
                self.hyper.optimizer, self.hyper.optimizer_hyper(), self.hyper.learning_rate, [grad], self.opt_state
            )
            if self.hyper.l1 > 0:
                # The same L1 rule as _apply: a weight that would cross zero stops at exactly 0.
                preview = clip_l1_crossings(self.flat, preview, self._weight_slices,
                                            self.hyper.learning_rate * self.hyper.l1)
            self._preview = preview
        return self._preview

    def gradient_norms(self) -> list[float]:
        """‖∂J/∂W_l‖ over the full training set, per layer."""
        return [float(np.linalg.norm(g)) for g in self.inspect().backward.grad_weights]

