"""One example at a time: what the views show when they follow a single training example.

The snapshot's training-set pass holds every example's activations a_l and error signals δ_l
(the engine stores ∂J/∂z_l = δ_l / n, :meth:`~sandbox.session.snapshot.Passes.delta`).  For
one example r, weight ``w = W_l[i, j]`` gets the term

    t_r = a_{l,ri} · δ_{l+1,rj}        and        (1/n) Σ_r t_r = the data term of ∂J/∂w,

so the terms of all n examples average to the data term (:mod:`.gradient_terms`); a term has
no regulariser part (L1 and L2 belong to the average, not to any example).  The rows here are
*training-set rows*, the row order of ``snapshot.train_pass`` (``TrainingRun.X_train``);
``snapshot.dataset.train_indices[row]`` is the dataset index.

Everything is vectorised over the training set: with 8 hidden layers of 16 and 1,000 examples
one call takes well under a millisecond, so a view can recompute on every focus change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..engine.losses import get_loss
from ..session.naming import NeuronRef, WeightRef
from ..viewstate import DataSource
from ._select import check_layer
from .output_delta import pass_targets

if TYPE_CHECKING:
    from ..session.snapshot import Snapshot

Array = np.ndarray

__all__ = [
    "ExampleSummary",
    "ExampleTerm",
    "SourceValues",
    "example_activations",
    "example_deltas",
    "example_neuron",
    "example_summary",
    "example_weight_terms",
    "largest_loss_row",
    "per_example_losses",
    "source_values",
    "top_examples",
    "weight_terms",
]


def _check_row(snapshot: "Snapshot", row: object) -> int:
    return check_layer(row, 0, snapshot.train_pass.n_rows - 1, "example row")


def _targets(snapshot: "Snapshot") -> Array:
    """The training rows' encoded targets Y (as the network's output should be)."""
    return pass_targets(snapshot)


def per_example_losses(snapshot: "Snapshot") -> Array:
    """ℓ_r of every training example, (n,), from the engine's loss (its mean is the
    snapshot's training data loss)."""
    fwd = snapshot.train_pass.forward
    loss = get_loss(snapshot.network_spec.loss)
    with np.errstate(all="ignore"):
        return loss.per_example(fwd.pre_activations[-1], fwd.activations[-1], _targets(snapshot))  # type: ignore[misc]


def largest_loss_row(snapshot: "Snapshot") -> int | None:
    """The training row with the largest loss (a non-finite loss counts as largest), or None
    for an empty training set."""
    losses = per_example_losses(snapshot)
    if not len(losses):
        return None
    return int(np.argmax(np.nan_to_num(losses, nan=np.inf)))


@dataclass(frozen=True)
class ExampleSummary:
    """One training example as the network sees it now.

    Attributes
    ----------
    row, index
        Its training-set row and its dataset index.
    inputs
        (name, value) of each raw input of the dataset.
    features
        (label, value) of each input feature the network takes (a_0).
    target
        The dataset's target: a class index for classification, else the value.
    target_name
        The class's name, or the target column's name for regression.
    prediction
        The output row a_L.
    predicted
        The predicted class (index) for classification, else the predicted value.
    loss
        ℓ_r, the example's loss.
    """

    row: int
    index: int
    inputs: tuple[tuple[str, float], ...]
    features: tuple[tuple[str, float], ...]
    target: float
    target_name: str
    prediction: Array
    predicted: float
    loss: float


def example_summary(snapshot: "Snapshot", row: int) -> ExampleSummary:
    """Inputs, target, prediction and loss of training row ``row``."""
    row = _check_row(snapshot, row)
    ds = snapshot.dataset
    index = int(ds.train_indices[row])
    fwd = snapshot.train_pass.forward
    out = np.array(fwd.activations[-1][row])
    target = float(ds.targets[index])
    if ds.is_classification:
        predicted = float(int(out[0] > 0.5)) if len(out) == 1 else float(np.argmax(out))
        names = ds.class_names
        target_name = names[int(target)] if int(target) < len(names) else str(int(target))
    else:
        predicted = float(out[0])
        target_name = ds.target_name
    loss = get_loss(snapshot.network_spec.loss)
    y = _targets(snapshot)[row:row + 1]
    with np.errstate(all="ignore"):
        value = float(loss.per_example(fwd.pre_activations[-1][row:row + 1], fwd.activations[-1][row:row + 1], y)[0])  # type: ignore[misc]
    return ExampleSummary(
        row=row,
        index=index,
        inputs=tuple((name, float(v)) for name, v in zip(ds.input_names, ds.inputs[index])),
        features=tuple((name, float(v)) for name, v in zip(snapshot.feature_labels, fwd.activations[0][row])),
        target=target,
        target_name=target_name,
        prediction=out,
        predicted=predicted,
        loss=value,
    )


def example_activations(snapshot: "Snapshot", row: int) -> tuple[Array, ...]:
    """a_0 … a_L of training row ``row`` (a_0 = its input features), each (n_l,)."""
    row = _check_row(snapshot, row)
    return tuple(a[row] for a in snapshot.train_pass.forward.activations)


def example_deltas(snapshot: "Snapshot", row: int) -> tuple[Array, ...]:
    """δ_1 … δ_L = ∂ℓ_r/∂z_l of training row ``row``, each (n_l,)."""
    row = _check_row(snapshot, row)
    passes = snapshot.train_pass
    n = passes.n_rows
    with np.errstate(all="ignore"):
        return tuple(g[row] * n for g in passes.backward.grad_pre_activations)  # type: ignore[union-attr]


def example_weight_terms(snapshot: "Snapshot", row: int) -> tuple[Array, ...]:
    """Every weight's term a_{l,i}·δ_{l+1,j} for training row ``row``: the outer product
    a_l δ_{l+1}ᵀ per weight layer, shaped like ``snapshot.weights``."""
    acts = example_activations(snapshot, row)
    deltas = example_deltas(snapshot, row)
    with np.errstate(all="ignore"):
        return tuple(np.outer(a, d) for a, d in zip(acts[:-1], deltas))


def example_neuron(snapshot: "Snapshot", ref: NeuronRef, row: int) -> tuple[float, float | None]:
    """(a, δ) of neuron ``ref`` for training row ``row`` (δ is None for an input)."""
    acts = example_activations(snapshot, row)
    layer = check_layer(ref.layer, 0, len(acts) - 1)
    a = float(acts[layer][ref.j])
    if layer == 0:
        return a, None
    return a, float(example_deltas(snapshot, row)[layer - 1][ref.j])


def weight_terms(snapshot: "Snapshot", ref: WeightRef) -> Array:
    """t_r = a_{l,ri}·δ_{l+1,rj} of weight ``ref`` for every training row, (n,); their mean is
    the data term of ∂J/∂w."""
    passes = snapshot.train_pass
    layer = check_layer(ref.layer, 0, len(passes.weights) - 1)
    a = passes.forward.activations[layer][:, ref.i]
    grad_z = passes.backward.grad_pre_activations[layer][:, ref.j]  # type: ignore[union-attr]
    with np.errstate(all="ignore"):
        return a * (grad_z * passes.n_rows)


@dataclass(frozen=True)
class ExampleTerm:
    """One example's push on a weight.

    Attributes
    ----------
    row, index
        Training row and dataset index.
    term
        a_i·δ_j of this example (positive: it pushes w down under gradient descent).
    share
        term / Σ_r term: its signed share of the data term (None when the sum is 0 or not
        finite).
    """

    row: int
    index: int
    term: float
    share: float | None


def top_examples(snapshot: "Snapshot", ref: WeightRef, k: int = 8) -> tuple[ExampleTerm, ...]:
    """The ``k`` training examples with the largest |a_i·δ_j| for weight ``ref``, largest
    first, with sign and share of the data term."""
    terms = weight_terms(snapshot, ref)
    if not len(terms) or k <= 0:
        return ()
    mag = np.nan_to_num(np.abs(terms), nan=np.inf)
    k = min(int(k), len(terms))
    top = np.argpartition(-mag, k - 1)[:k] if k < len(terms) else np.arange(len(terms))
    top = top[np.argsort(-mag[top], kind="stable")]
    with np.errstate(all="ignore"):
        total = float(terms.sum())
    usable = np.isfinite(total) and total != 0.0
    idx = snapshot.dataset.train_indices
    return tuple(ExampleTerm(int(r), int(idx[r]), float(terms[r]), float(terms[r] / total) if usable else None)
                 for r in top)


@dataclass(frozen=True)
class SourceValues:
    """What the canvas shows for a data source.

    Attributes
    ----------
    grad_weights
        Per weight layer: the gradient (training set, mini-batch) or the example's a_i·δ_j.
    mean_abs_delta
        Per activation layer 1 … L: the mean |δ| over the source's examples (the example's |δ|).
    caption
        What the values are, for the canvas header.
    source
        The source these are from (the training set when the one asked for is not available).
    """

    grad_weights: tuple[Array, ...]
    mean_abs_delta: tuple[Array, ...]
    caption: str
    source: DataSource


def source_values(snapshot: "Snapshot", source: DataSource, row: int | None = None) -> SourceValues:
    """The per-connection gradient values and per-neuron |δ| of ``source``.

    The last batch needs a batch pass with its backward pass; the example needs ``row`` (a
    training row).  Otherwise the training set's are returned (with ``source`` saying so).
    """
    source = DataSource(source)
    if source is DataSource.EXAMPLE and row is not None and 0 <= row < snapshot.train_pass.n_rows:
        with np.errstate(all="ignore"):
            deltas = tuple(np.abs(d) for d in example_deltas(snapshot, row))
        return SourceValues(example_weight_terms(snapshot, row), deltas,
                            f"aᵢ·δⱼ of example #{int(snapshot.dataset.train_indices[row])} (no L1/L2)",
                            DataSource.EXAMPLE)
    batch = snapshot.batch_pass
    if source is DataSource.LAST_BATCH and batch is not None and batch.backward is not None:
        n = batch.n_rows
        with np.errstate(all="ignore"):
            deltas = tuple(np.abs(g).mean(axis=0) * n for g in batch.backward.grad_pre_activations)
        return SourceValues(tuple(batch.backward.grad_weights), deltas, f"∂J/∂w of the last batch ({n})",
                            DataSource.LAST_BATCH)
    means = tuple(m for m in snapshot.neurons.mean_abs_delta[1:])
    return SourceValues(tuple(snapshot.grad_weights), means, "∂J/∂w, full training set", DataSource.TRAINING_SET)
