"""Hand edits of a training run: a weight, a bias, the training settings, and the what-if query
"J with this one parameter set to v".

A mixin of :class:`~sandbox.session.run.TrainingRun` (as :mod:`~sandbox.session.run_state_io`
is): it uses the run's parameters (``flat``, ``weights``, ``biases``, ``layout``), its network and
training data, its history (edit markers) and ``_set_flat`` / ``_changed``.  Every edit builds a
new parameter array; nothing is changed in place (see :mod:`sandbox.session.run`).
"""

from __future__ import annotations

import math
from dataclasses import fields, replace

import numpy as np

from ..engine import initial_state
from .commands import HyperparametersChanged, ParameterEdited
from .naming import BiasRef, WeightRef

Array = np.ndarray


class RunEdits:
    """Edits and the what-if query of a :class:`~sandbox.session.run.TrainingRun`."""

    def set_weight(self, layer: int, i: int, j: int, value: float,
                   predicted_change: float | None = None) -> ParameterEdited:
        """Set W_layer[i, j]; the next forward and backward pass see it.  Returns the edit.

        With ``predicted_change`` (a what-if edit: the ΔJ the gradient predicted) the event
        also records the actual change of J on the training set, and gets a marker of its own.
        """
        old = float(self._checked_param(self.weights, layer, (i, j), value, "weight")[i, j])
        before = self._objective_before(predicted_change)
        flat = self.flat.copy()
        self.layout.unpack(flat)[0][layer][i, j] = value
        self._set_flat(flat)
        self._changed()
        ref = WeightRef(int(layer), int(i), int(j))
        return self._mark_edit(ParameterEdited(self.step_count, ref, old, float(value)), before, predicted_change)

    def set_bias(self, layer: int, j: int, value: float, predicted_change: float | None = None) -> ParameterEdited:
        """Set b_layer[j]; the next forward and backward pass see it.  Returns the edit (see
        :meth:`set_weight` for ``predicted_change``)."""
        old = float(self._checked_param(self.biases, layer, (j,), value, "bias")[j])
        before = self._objective_before(predicted_change)
        flat = self.flat.copy()
        self.layout.unpack(flat)[1][layer][j] = value
        self._set_flat(flat)
        self._changed()
        ref = BiasRef(int(layer), int(j))
        return self._mark_edit(ParameterEdited(self.step_count, ref, old, float(value)), before, predicted_change)

    def _objective_before(self, predicted_change: float | None) -> float | None:
        """J before a what-if edit (the cached full-set pass: a snapshot made it already)."""
        if predicted_change is None:
            return None
        if isinstance(predicted_change, bool) or not isinstance(predicted_change, (int, float)):
            raise ValueError(f"a predicted change must be a number, got {predicted_change!r}")
        return float(self.inspect().backward.objective)

    def _mark_edit(self, event: ParameterEdited, before: float | None = None,
                   predicted_change: float | None = None) -> ParameterEdited:
        """One marker per parameter per step: repeated edits between two steps (a slider drag)
        update the marker, keeping the value from before the first of them.  Returns the event
        as the marker records it (the whole burst).

        A what-if edit (``before`` given) is never merged either way: its marker states the
        predicted and the actual ΔJ of this one change, J after − J before."""
        if before is not None:
            after = float(self.inspect().backward.objective)  # the pass the next snapshot shows
            event = replace(event, predicted_change=float(predicted_change), actual_change=after - before)
            self.history.add_marker(event.step, event.describe())
            self._last_edit = None
            return event
        last = self._last_edit
        repeat = (last is not None and last.ref == event.ref and last.step == event.step
                  and bool(self.history.markers))
        if repeat:
            event = event.merged_after(last)
        self.history.add_marker(event.step, event.describe(), replaces_last=repeat)
        self._last_edit = event
        return event

    def _checked_param(self, params: list[Array], layer: int, index: tuple[int, ...], value: float, what: str) -> Array:
        if not isinstance(layer, (int, np.integer)) or not 0 <= layer < len(params):
            raise ValueError(f"layer must be in 0 … {len(params) - 1}, got {layer!r}")
        arr = params[layer]
        for axis, k in enumerate(index):
            if not isinstance(k, (int, np.integer)) or not 0 <= k < arr.shape[axis]:
                raise ValueError(f"{what} index {index} is outside layer {layer}'s shape {arr.shape}")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not math.isfinite(value):
            raise ValueError(f"a {what} must be a finite number, got {value!r}")
        return arr

    def set_hyperparameters(self, **changes: object) -> HyperparametersChanged | None:
        """Change learning rate, batch size, optimizer, l1, l2 … between steps.

        The weights are kept.  Switching optimizer starts the new one with zeroed state.
        Returns the edit, or None when nothing changed.
        """
        if not changes:
            return None
        # dataclasses.replace raises TypeError for a name it does not know: a bad request from
        # the caller, reported like every other refused setting (ValueError), not as a crash.
        unknown = sorted(set(changes) - {f.name for f in fields(self.hyper)})
        if unknown:
            raise ValueError(f"there is no training setting called {', '.join(map(repr, unknown))}")
        new = replace(self.hyper, **changes)  # validates
        event = HyperparametersChanged(self.step_count, self.hyper, new)
        if not event.changed:
            return None
        if new.optimizer != self.hyper.optimizer:
            self.opt_state = initial_state(new.optimizer, [self.flat])
        self.hyper = new
        self.history.add_marker(self.step_count, event.describe())
        self._last_edit = None
        self._changed()
        return event

    def objective_with(self, ref: WeightRef | BiasRef, value: float) -> float:
        """The objective J on the training set with one parameter set to ``value``.

        Nothing changes: the run keeps its parameters (a what-if query, as a nudge asks).
        """
        if isinstance(ref, WeightRef):
            self._checked_param(self.weights, ref.layer, (ref.i, ref.j), value, "weight")
        else:
            self._checked_param(self.biases, ref.layer, (ref.j,), value, "bias")
        flat = self.flat.copy()
        weights, biases = self.layout.unpack(flat)
        if isinstance(ref, WeightRef):
            weights[ref.layer][ref.i, ref.j] = value
        else:
            biases[ref.layer][ref.j] = value
        fwd = self.network.forward(weights, biases, self.X_train)
        return float(self.network.backward(weights, fwd, self.Y_train, self.hyper.l1, self.hyper.l2).objective)
