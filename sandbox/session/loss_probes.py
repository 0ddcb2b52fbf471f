"""The objective J at other values of one or two parameters, and the gradient check.

These answer the what-if queries (:class:`~sandbox.session.commands.LossAlong`,
:class:`~sandbox.session.commands.GradientCheck`, :class:`~sandbox.session.commands.LossSurface`)
on the live run without changing it: every array here is new, nothing is cached on the run.

**Many values in one pass.**  Changing ``W_l[i, j]`` (or ``b_l[j]``) leaves every layer below
``l`` alone and changes only column ``j`` of ``z_{l+1}``::

    z_{l+1}[:, j](v) = z_{l+1}[:, j] + (v − w) · a_l[:, i]        (a bias: + (v − b))

so the inputs to layer ``l`` are computed once, then the K variants are stacked as K copies of
the n training rows and run through the layers above together (one matrix product per layer
for all K).  Only the loss is then evaluated per variant (it is a mean over one variant's rows).
The regulariser changes by ``l1(|v| − |w|) + (l2/2)(v² − w²)`` for a weight; biases have none.

**The gradient check** uses the engine's own path instead (a whole forward pass per value,
:meth:`~sandbox.session.run.TrainingRun.objective_with`), so it checks the engine's backward
pass against its forward pass and nothing else::

    ∂J/∂w ≈ (J(w + h) − J(w − h)) / 2h,      error O(h²) (plus rounding ~ ε·J/h)

and the relative error ``|fd − analytic| / max(|fd|, |analytic|)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .naming import BiasRef, ParamRef, WeightRef

Array = np.ndarray

#: At most this many floats in one stacked layer (K variants × n rows × width): 400 kB, so a
#: chunk's layers stay in the CPU cache (several times faster than one big block).
MAX_STACKED = 50_000
#: Most values a single query may ask for (a 64 × 64 surface, or a long sweep).
MAX_VALUES = 4096


@dataclass(frozen=True)
class GradientCheckResult:
    """The central finite difference beside the analytic gradient.

    Attributes
    ----------
    ref
        The parameter.
    value
        Its value when checked.
    h
        The step used: J was evaluated at ``value ± h``.
    numeric
        (J(w + h) − J(w − h)) / 2h.
    analytic
        The engine's ∂J/∂w (backpropagation on the whole training set).
    relative_error
        |numeric − analytic| / max(|numeric|, |analytic|); 0 when both are 0.
    step
        The run's step count when checked.
    """

    ref: ParamRef
    value: float
    h: float
    numeric: float
    analytic: float
    relative_error: float
    step: int


@dataclass(frozen=True)
class LossCurve:
    """J along one parameter, everything else fixed, and what the picture needs beside it.

    Attributes
    ----------
    ref
        The parameter.
    values
        The parameter values, ascending (the current value plus the asked offsets).
    losses
        J at each value (the full objective on the training set, penalty included).
    value
        The current value w.
    objective
        J at w.
    gradient
        ∂J/∂w at w: the slope of the tangent.
    next_value
        Where the optimizer's next step would put the parameter: w + Δw.
    next_objective
        J at ``next_value`` (this parameter moved alone, as the curve shows it).
    step
        The run's step count.
    """

    ref: ParamRef
    values: Array
    losses: Array
    value: float
    objective: float
    gradient: float
    next_value: float
    next_objective: float
    step: int


@dataclass(frozen=True)
class LossSurfaceResult:
    """J over a grid of two parameters' values, everything else fixed.

    Attributes
    ----------
    refs
        (first, second) parameter.
    values_a, values_b
        The grid's values of each (ascending).
    losses
        J, shaped (len(values_a), len(values_b)): ``losses[p, q]`` is J at
        (values_a[p], values_b[q]).
    point
        The current values (w_a, w_b).
    gradient
        (∂J/∂w_a, ∂J/∂w_b) at the current point.
    step
        The run's step count.
    """

    refs: tuple[ParamRef, ParamRef]
    values_a: Array
    values_b: Array
    losses: Array
    point: tuple[float, float]
    gradient: tuple[float, float]
    step: int


# ----------------------------------------------------------------------------- parameters


def parameter_value(run, ref: ParamRef) -> float:
    """The current value of ``ref`` on ``run`` (ValueError if the network has no such one)."""
    check_ref(run.layer_sizes, ref)
    if isinstance(ref, WeightRef):
        return float(run.weights[ref.layer][ref.i, ref.j])
    return float(run.biases[ref.layer][ref.j])


def parameter_gradient(run, ref: ParamRef) -> float:
    """∂J/∂ref on the whole training set (the run's cached inspection pass)."""
    back = run.inspect().backward
    if isinstance(ref, WeightRef):
        return float(back.grad_weights[ref.layer][ref.i, ref.j])
    return float(back.grad_biases[ref.layer][ref.j])


def next_change(run, ref: ParamRef) -> float:
    """The Δ the optimizer's next step would add to ``ref`` (``preview_update``)."""
    dW, db = run.update_by_layer(run.preview_update())
    if isinstance(ref, WeightRef):
        return float(dW[ref.layer][ref.i, ref.j])
    return float(db[ref.layer][ref.j])


def check_ref(layer_sizes: Sequence[int], ref: object) -> None:
    """ValueError unless ``ref`` is a weight or bias of a network with these layer sizes."""
    depth = len(layer_sizes) - 1
    if isinstance(ref, WeightRef):
        ok = (0 <= ref.layer < depth and 0 <= ref.i < layer_sizes[ref.layer]
              and 0 <= ref.j < layer_sizes[ref.layer + 1])
    elif isinstance(ref, BiasRef):
        ok = 0 <= ref.layer < depth and 0 <= ref.j < layer_sizes[ref.layer + 1]
    else:
        raise ValueError(f"{ref!r} is not a weight or a bias")
    if not ok:
        raise ValueError(f"this network has no parameter {ref.name}")


def _checked_values(values: Sequence[float], what: str = "values") -> Array:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if len(arr) == 0:
        raise ValueError(f"no {what} to evaluate the loss at")
    if len(arr) > MAX_VALUES:
        raise ValueError(f"at most {MAX_VALUES} {what} at once, got {len(arr)}")
    if not np.isfinite(arr).all():
        raise ValueError(f"the {what} must be finite numbers")
    return arr


# ------------------------------------------------------------------------- many variants


def objectives_at(run, refs: Sequence[ParamRef], values: Array) -> Array:
    """J on the training set with the parameters ``refs`` set to each row of ``values``.

    Parameters
    ----------
    run
        A :class:`~sandbox.session.run.TrainingRun`; not changed.
    refs
        One or two (or more) distinct parameters.
    values
        (K, len(refs)) float array: variant k sets ``refs[m]`` to ``values[k, m]``.

    Returns
    -------
    (K,) float array of J (penalty included), non-finite where the network overflows.
    """
    refs = list(refs)
    for ref in refs:
        check_ref(run.layer_sizes, ref)
    if len(set(refs)) != len(refs):
        raise ValueError("the parameters must be different")
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(refs):
        raise ValueError(f"values must be (K, {len(refs)}), got shape {values.shape}")
    current = np.array([parameter_value(run, ref) for ref in refs])
    shifts = values - current  # (K, m): v − w per variant and parameter
    network, hyper = run.network, run.hyper
    weights, biases = run.weights, run.biases
    X, Y = run.X_train, run.Y_train
    n = len(X)
    first = min(ref.layer for ref in refs)
    # The inputs of the first changed layer are the same for every variant.
    a = X
    for W, b, act in zip(weights[:first], biases[:first], network.activations[:first]):
        a = act.forward(a @ W + b)
    width = max(run.layer_sizes[first:])
    chunk = max(1, MAX_STACKED // max(1, n * width))
    base_penalty = _penalty(weights, hyper.l1, hyper.l2)
    out = np.empty(len(values))
    with np.errstate(all="ignore"):
        for start in range(0, len(values), chunk):
            block = shifts[start:start + chunk]
            k = len(block)
            stacked = np.tile(a, (k, 1))  # variant-major: rows [p·n, (p+1)·n) are variant p
            for layer in range(first, len(weights)):
                z = stacked @ weights[layer]
                z += biases[layer]
                for m, ref in enumerate(refs):
                    if ref.layer != layer:
                        continue
                    shift = np.repeat(block[:, m], n)
                    if isinstance(ref, WeightRef):
                        # Column i of this layer's input, before z of this layer is formed.
                        z[:, ref.j] += shift * stacked[:, ref.i]
                    else:
                        z[:, ref.j] += shift
                stacked_a = network.activations[layer].forward(z)
                if layer == len(weights) - 1:
                    for p in range(k):
                        rows = slice(p * n, (p + 1) * n)
                        out[start + p], _ = network.loss.evaluate(z[rows], stacked_a[rows], Y,
                                                                 network.activations[-1])
                stacked = stacked_a
    for m, ref in enumerate(refs):
        if isinstance(ref, WeightRef):
            w, v = current[m], values[:, m]
            out += hyper.l1 * (np.abs(v) - abs(w)) + 0.5 * hyper.l2 * (v * v - w * w)
    return out + base_penalty


def _penalty(weights: Sequence[Array], l1: float, l2: float) -> float:
    """l1 Σ|W| + (l2/2) Σ W², summed as the engine sums it."""
    total = 0.0
    if l1:
        total += l1 * sum(float(np.abs(W).sum()) for W in weights)
    if l2:
        total += 0.5 * l2 * sum(float(np.vdot(W, W)) for W in weights)
    return total


# ------------------------------------------------------------------------------ queries


def loss_along(run, ref: ParamRef, offsets: Sequence[float]) -> LossCurve:
    """J at ``w + offset`` for each offset; the current value w and the next step's w + Δw
    are always among the values."""
    w = parameter_value(run, ref)
    offsets = _checked_values(offsets, "offsets")
    next_value = w + next_change(run, ref)
    extra = [w, next_value] if math.isfinite(next_value) else [w]
    values = np.unique(np.concatenate([w + offsets, extra]))
    if not np.isfinite(values).all():
        raise ValueError("the values must be finite numbers")
    losses = objectives_at(run, [ref], values[:, None])
    at_next = np.searchsorted(values, next_value)
    next_objective = float(losses[at_next]) if at_next < len(values) and values[at_next] == next_value else math.nan
    return LossCurve(ref, values, losses, w, float(run.inspect().backward.objective),
                     parameter_gradient(run, ref), next_value, next_objective, run.step_count)


def loss_surface(run, ref_a: ParamRef, ref_b: ParamRef, offsets_a: Sequence[float],
                 offsets_b: Sequence[float]) -> LossSurfaceResult:
    """J over the grid (w_a + offsets_a) × (w_b + offsets_b)."""
    if ref_a == ref_b:
        raise ValueError("pick two different parameters for the loss over two weights")
    wa, wb = parameter_value(run, ref_a), parameter_value(run, ref_b)
    va = wa + _checked_values(offsets_a, "offsets")
    vb = wb + _checked_values(offsets_b, "offsets")
    if len(va) * len(vb) > MAX_VALUES:
        raise ValueError(f"at most {MAX_VALUES} grid points at once, got {len(va) * len(vb)}")
    grid = np.stack(np.meshgrid(va, vb, indexing="ij"), axis=-1).reshape(-1, 2)
    losses = objectives_at(run, [ref_a, ref_b], grid).reshape(len(va), len(vb))
    return LossSurfaceResult((ref_a, ref_b), va, vb, losses, (wa, wb),
                             (parameter_gradient(run, ref_a), parameter_gradient(run, ref_b)), run.step_count)


def default_h(value: float) -> float:
    """A finite-difference step: 1e-5, scaled up with |w| beyond 1 (rounding then dominates)."""
    return 1e-5 * max(1.0, abs(value))


def gradient_check(run, ref: ParamRef, h: float | None = None) -> GradientCheckResult:
    """Central finite difference of J at ``ref`` beside the engine's analytic gradient.

    Parameters
    ----------
    h
        The step (> 0); :func:`default_h` of the value if None.
    """
    w = parameter_value(run, ref)
    if h is None:
        h = default_h(w)
    if isinstance(h, bool) or not isinstance(h, (int, float)) or not math.isfinite(h) or h <= 0:
        raise ValueError(f"the finite-difference step must be a positive number, got {h!r}")
    h = float(h)
    plus = run.objective_with(ref, w + h)
    minus = run.objective_with(ref, w - h)
    # (w + h) − (w − h) in floating point is not exactly 2h: divide by the step actually taken.
    numeric = (plus - minus) / ((w + h) - (w - h))
    analytic = parameter_gradient(run, ref)
    scale = max(abs(numeric), abs(analytic))
    error = 0.0 if scale == 0 else abs(numeric - analytic) / scale
    return GradientCheckResult(ref, w, h, float(numeric), analytic, float(error), run.step_count)
