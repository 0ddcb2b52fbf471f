"""What one stepped phase did: the order a view animates it in, the values it puts on the
neurons, and a one-line caption in words.

A training step has three phases (``TrainingRun.forward``, ``backward``, ``update``):

* **forward** runs the mini-batch through the network, activation layer 0 (the inputs) to L
  (the output): z_l = a_{l−1} W + b, a_l = f(z_l).  The neurons show a (the batch mean, or one
  example's).
* **backward** sends δ_l = ∂ℓ/∂z_l back from the loss, layer L to 1, and forms
  ∂J/∂W_l = a_{l−1}ᵀ δ_l / n.  The neurons show δ.
* **update** adds Δp to every parameter.  For SGD Δp = −η ∂J/∂p; momentum, RMSprop and Adam
  change it, and :func:`update_terms` says by which terms (see :mod:`sandbox.engine.optimizers`
  for the rules):

  ========  ============================  ===========================================
  momentum  Δp = −η (g + β v_prev)        β v_prev, the velocity from earlier steps
  rmsprop   Δp = −η g / (√s + ε)          1 / (√s + ε), s the running mean of g²
  adam      Δp = −η m̂ / (√v̂ + ε)          m̂ in place of g, and 1 / (√v̂ + ε)
  ========  ============================  ===========================================

  with g the step's mini-batch gradient ∂J/∂p.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..formatting import format_number
from ..session.naming import WeightRef
from .parameter_ranking import RankedParameter, top_parameters

if TYPE_CHECKING:
    from ..session.snapshot import Snapshot

Array = np.ndarray

#: How many of the most-changed weights the update labels on their connections.
MOVED_LABELS = 3
#: The phases of a training step, in order.
PHASES = ("forward", "backward", "update")
OPTIMIZER_TITLES = {"sgd": "SGD", "momentum": "momentum", "rmsprop": "RMSprop", "adam": "Adam"}


def stepped_phase(before: "Snapshot | None", snap: "Snapshot") -> str | None:
    """The phase the user just stepped by hand between snapshots ``before`` and ``snap``
    ("forward", "backward" or "update"), or None (nothing stepped, a full step, playing, a
    new run).  An update counts only when it followed a stepped backward phase."""
    if before is None or snap.playing or before.run_id != snap.run_id or snap.last_phase == before.last_phase:
        return None
    if snap.last_phase == "forward" and snap.phase == "forward":
        return "forward"
    if snap.last_phase == "backward" and before.last_phase == "forward" and snap.phase == "backward":
        return "backward"
    if snap.last_phase == "update" and before.last_phase == "backward" and snap.step == before.step + 1:
        return "update"
    return None


def neuron_values(snap: "Snapshot", symbol: str, example: int | None = None) -> tuple[Array | None, ...] | None:
    """Per activation layer 0 … L, the value each neuron shows after a phase, or None.

    Parameters
    ----------
    symbol
        "a": the activations (layer 0: the inputs) of the pending mini-batch;
        "δ": its error signals δ = ∂ℓ/∂z (layer 0 has none: None).
    example
        None: the mean over the mini-batch's rows.  An index into the training set: that one
        example's value (from the training-set pass, which ran with the same parameters).

    Returns None when the snapshot has no pending pass of that kind.
    """
    if symbol not in ("a", "δ"):
        raise ValueError(f"symbol must be 'a' or 'δ', got {symbol!r}")
    passes = snap.batch_pass
    if passes is None or passes.applied_step is not None or (symbol == "δ" and passes.backward is None):
        return None
    if example is not None:
        passes = snap.train_pass
        if not 0 <= int(example) < passes.n_rows:
            raise ValueError(f"example must be in 0 … {passes.n_rows - 1}, got {example!r}")
    depth = len(passes.forward.activations)
    out: list[Array | None] = []
    for layer in range(depth):
        if symbol == "a":
            rows = passes.forward.activations[layer]
        elif layer == 0:
            out.append(None)
            continue
        else:
            rows = passes.delta(layer)
        out.append(np.array(rows[int(example)]) if example is not None else rows.mean(axis=0))
    return tuple(out)


@dataclass(frozen=True)
class UpdateTerms:
    """How the applied update Δp differs from plain gradient descent −η g.

    Attributes
    ----------
    optimizer, learning_rate
        The optimizer and η of the step.
    terms
        The names of what made Δp differ from −η g ("β·v", "1/(√s+ε)", "m̂", "1/(√v̂+ε)"; none
        for SGD).
    count
        Number of parameters (weights and biases).
    length_ratio
        ‖Δp‖ / ‖η g‖ over every parameter (NaN when g = 0).
    against
        Parameters with g ≠ 0 that moved *with* their gradient (Δp·g > 0): uphill for this
        batch, which only the optimizer's memory of earlier steps can make them do.
    scale
        (smallest, median, largest) of the per-parameter factor the step is divided by
        √s + ε or √v̂ + ε (RMSprop, Adam: 1/(√s+ε), 1/(√v̂+ε)); None otherwise.
    carry
        Momentum: ‖η β v_prev‖, the length of the velocity's part of Δp; None otherwise.
    largest
        The parameter with the largest |Δp| (its Δp and new value).
    """

    optimizer: str
    learning_rate: float
    terms: tuple[str, ...]
    count: int
    length_ratio: float
    against: int
    scale: tuple[float, float, float] | None
    carry: float | None
    largest: RankedParameter | None


def _flat(pair) -> Array:
    weights, biases = pair
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for w, b in zip(weights, biases) for a in (w, b)])


def update_terms(snap: "Snapshot") -> UpdateTerms | None:
    """Δp of the update that made ``snap`` against −η g, g its mini-batch gradient; None when
    the snapshot has no applied step's pass (nothing applied, or changed since)."""
    passes = snap.batch_pass
    if passes is None or passes.applied_step != snap.step or passes.backward is None or snap.last_update is None:
        return None
    hyper = snap.hyper
    lr = float(hyper.learning_rate)
    g = _flat((passes.backward.grad_weights, passes.backward.grad_biases))
    delta = _flat(snap.last_update)
    plain = -lr * g
    with np.errstate(all="ignore"):
        plain_norm = float(np.linalg.norm(plain))
        ratio = float(np.linalg.norm(delta)) / plain_norm if plain_norm > 0 else float("nan")
        against = int(np.count_nonzero((g != 0) & (delta * g > 0)))
    buffers = dict(snap.optimizer_buffers)
    name = hyper.optimizer
    terms: tuple[str, ...] = ()
    scale = carry = None
    if name == "momentum":
        terms = ("β·v",)
        carry = float(np.linalg.norm(delta - plain))  # Δp + η g = −η β v_prev
        if carry <= 1e-12 * plain_norm:
            # Rounding, not memory: the compiled step's Δp and this numpy pass's g agree to
            # ~1e-16, so a first step (v still 0) leaves a difference of that size.
            carry = 0.0
    elif name in ("rmsprop", "adam"):
        opt = hyper.optimizer_hyper()
        if name == "rmsprop":
            terms = ("1/(√s+ε)",)
            root = np.sqrt(_flat(buffers["mean_square"]))
        else:
            terms = ("m̂", "1/(√v̂+ε)")
            root = np.sqrt(_flat(buffers["v"]) / (1.0 - opt["beta2"] ** snap.optimizer_t))
        with np.errstate(divide="ignore"):
            factor = 1.0 / (root + opt["eps"])
        scale = (float(factor.min()), float(np.median(factor)), float(factor.max()))
    largest = top_parameters(snap, 1, by="update")
    return UpdateTerms(name, lr, terms, int(g.size), ratio, against, scale, carry, largest[0] if largest else None)


def _source(example: int | None) -> str:
    return "mean" if example is None else "the focused example's"


def phase_caption(snap: "Snapshot", phase: str, example: int | None = None) -> tuple[str, str]:
    """What phase ``phase`` (just stepped, giving ``snap``) did, in words: (one short line,
    the longer explanation of the same for a tooltip)."""
    if phase == "forward":
        n = snap.batch_pass.n_rows if snap.batch_pass is not None else len(snap.batch_indices)
        return (f"Forward: the {n} ringed examples ran left to right, a = f(a·W + b) in each layer; "
                f"neurons show {_source(example)} a.",
                f"The {n} examples of the mini-batch (ringed in the output view) went through the network "
                "from the inputs to the output: each layer computes z = a·W + b from the layer below and "
                "a = f(z). Nothing is learned yet. Next: backward.")
    if phase == "backward":
        back = snap.batch_pass.backward if snap.batch_pass is not None else None
        loss = f" {format_number(back.data_loss)}" if back is not None else ""
        return (f"Backward: δ = ∂ℓ/∂z ran right to left from the batch loss{loss}; connections: ∂J/∂w, "
                f"neurons: {_source(example)} δ.",
                "The error signal δ = ∂ℓ/∂z started at the loss and went back layer by layer "
                "(δ = f′(z)·δ_above·Wᵀ); each weight's blame ∂J/∂w is the mean of a_below·δ_above over the "
                "batch. No weight has changed yet. Next: update.")
    if phase != "update":
        raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
    terms = update_terms(snap)
    if terms is None:
        text = f"Update: every weight and bias moved by its Δw. Step {snap.step} done."
        return text, text
    return update_caption(terms, snap.step)


def update_caption(t: UpdateTerms, step: int) -> tuple[str, str]:
    """The update phase's (line, explanation): the rule, and what its extra terms did."""
    title = OPTIMIZER_TITLES.get(t.optimizer, t.optimizer)
    uphill = f"{t.against} of {t.count} uphill"
    largest = (f" The largest change: {t.largest.ref.name} by {format_number(t.largest.amount, signed=True)}."
               if t.largest is not None else "")
    done = f" Step {step} done."
    against = (f" {t.against} of the {t.count} parameters moved uphill for this batch (the same way as "
               "their gradient): the optimizer's memory of earlier steps outweighed this batch.")
    if t.optimizer == "momentum":
        if not t.carry:
            return (f"Update ({title}): Δw = −η·(∂J/∂w + β·v), and v is still 0: Δw = −η·∂J/∂w this time.",
                    "Momentum adds the velocity v, the decaying sum of earlier gradients; on the first step "
                    "it is still 0." + largest + done)
        return (f"Update ({title}): Δw = −η·(∂J/∂w + β·v): the velocity β·v made Δw "
                f"{format_number(t.length_ratio, 3)}× as long, {uphill}.",
                f"Besides −η·∂J/∂w, each weight moved by −η·β·v, the velocity v (the decaying sum of earlier "
                f"gradients) times β; that term is {format_number(t.carry, 3)} long." + against + largest + done)
    if t.optimizer in ("rmsprop", "adam") and t.scale is not None:
        lo, mid, hi = (format_number(x, 3) for x in t.scale)
        if t.optimizer == "rmsprop":
            return (f"Update ({title}): Δw = −η·∂J/∂w/(√s+ε): dividing by √s, the RMS of ∂J/∂w, "
                    f"scaled steps ×{lo} … ×{hi}.",
                    "Each parameter's step is its −η·∂J/∂w divided by √s + ε, where s is the running mean of "
                    f"its squared gradient: small gradients take larger steps. The factor 1/(√s + ε) ranges "
                    f"from {lo} to {hi} (median {mid})." + largest + done)
        return (f"Update ({title}): Δw = −η·m̂/(√v̂+ε): m̂ averages ∂J/∂w ({uphill}); 1/√v̂ scales "
                f"steps ×{lo} … ×{hi}.",
                "Adam steps along m̂, the bias-corrected running average of the gradient, not this batch's "
                "∂J/∂w, and divides by √v̂ + ε, v̂ the running average of its square. The factor "
                f"1/(√v̂ + ε) ranges from {lo} to {hi} (median {mid})." + against + largest + done)
    return (f"Update ({title}): Δw = −η·∂J/∂w for every parameter, η = {format_number(t.learning_rate)}.{done}",
            "Plain gradient descent: every weight and bias moved against its gradient, by the learning rate η "
            "times ∂J/∂w." + largest + done)


@dataclass(frozen=True)
class PhaseStep:
    """What a view shows of one stepped phase.

    Attributes
    ----------
    phase
        "forward", "backward" or "update".
    columns
        Activation layers in the order the phase reaches them (forward 0 … L, backward L … 0,
        update: every layer at once, as one group).
    symbol
        "a" or "δ": what ``values`` holds; None for the update.
    values
        Per activation layer, each neuron's value (see :func:`neuron_values`), or None.
    caption, detail
        :func:`phase_caption`: one short line, and the longer explanation.
    moved
        The update: the weights that changed most (largest |Δw| first, at most
        ``MOVED_LABELS``), to label on their connections; () for the other phases.
    """

    phase: str
    columns: tuple[int, ...]
    symbol: str | None
    values: tuple[Array | None, ...] | None
    caption: str
    detail: str
    moved: tuple[RankedParameter, ...] = ()


def describe_phase(snap: "Snapshot", phase: str, example: int | None = None) -> PhaseStep:
    """The :class:`PhaseStep` of ``phase``, just stepped, giving ``snap``."""
    depth = len(snap.layer_sizes)
    if phase == "forward":
        columns, symbol = tuple(range(depth)), "a"
    elif phase == "backward":
        columns, symbol = tuple(range(depth - 1, -1, -1)), "δ"
    elif phase == "update":
        columns, symbol = tuple(range(depth)), None
    else:
        raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
    values = neuron_values(snap, symbol, example) if symbol is not None else None
    moved: tuple[RankedParameter, ...] = ()
    if phase == "update":
        ranked = top_parameters(snap, 4 * MOVED_LABELS, by="update")  # biases have no connection
        moved = tuple(r for r in ranked if isinstance(r.ref, WeightRef) and r.amount != 0)[:MOVED_LABELS]
    return PhaseStep(phase, columns, symbol, values, *phase_caption(snap, phase, example), moved=moved)
