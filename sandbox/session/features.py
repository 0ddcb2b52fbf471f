"""Input features: the columns the network actually sees, computed from the raw inputs.

2-D data offers TensorFlow Playground's seven (x1, x2, x1², x2², x1·x2, sin x1, sin x2), 1-D data
offers x, x² and sin x, and data with more columns (CSV) offers each raw column.  Each feature
can be switched on or off; the enabled ones, in the order listed here, form the network's input.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

Array = np.ndarray


#: How a feature is computed from the raw input columns it names.
KINDS = ("column", "square", "product", "sin")


@dataclass(frozen=True)
class Feature:
    """One input feature.

    Attributes
    ----------
    key
        Stable identifier used in session files.
    label
        What the UI shows (Unicode, e.g. ``x1²``).
    kind, columns
        The formula: ``"column"`` (raw column ``columns[0]``), ``"square"`` (its square),
        ``"product"`` (of two columns) or ``"sin"`` (the sine of a column).  One description
        gives both :meth:`compute` and :meth:`formula`, so exported code computes a feature
        exactly as training did.
    """

    key: str
    label: str
    kind: str
    columns: tuple[int, ...]

    def __post_init__(self) -> None:
        if self.kind not in KINDS or len(self.columns) != (2 if self.kind == "product" else 1):
            raise ValueError(f"a {self.kind!r} feature cannot take columns {self.columns}")

    def compute(self, X: Array) -> Array:
        """Raw inputs (n, d) → the feature column (n,)."""
        return _compute(self.kind, self.columns, X)

    def formula(self, xp: str = "np", inputs: str = "X") -> str:
        """The feature as a Python expression on the raw inputs ``inputs`` with the array module
        ``xp`` (numpy as ``np``, or ``torch``): ``np.sin(X[:, 0])``."""
        cols = [f"{inputs}[:, {c}]" for c in self.columns]
        if self.kind == "column":
            return cols[0]
        if self.kind == "square":
            return f"{cols[0]} ** 2"
        if self.kind == "product":
            return f"{cols[0]} * {cols[1]}"
        return f"{xp}.sin({cols[0]})"


def _compute(kind: str, columns: tuple[int, ...], X: Array) -> Array:
    # The operations formula() writes, in the same order, so exported code is bit-identical.
    if kind == "column":
        return X[:, columns[0]]
    if kind == "square":
        return X[:, columns[0]] ** 2
    if kind == "product":
        return X[:, columns[0]] * X[:, columns[1]]
    return np.sin(X[:, columns[0]])


FEATURES_2D: tuple[Feature, ...] = (
    Feature("x1", "x1", "column", (0,)),
    Feature("x2", "x2", "column", (1,)),
    Feature("x1_sq", "x1²", "square", (0,)),
    Feature("x2_sq", "x2²", "square", (1,)),
    Feature("x1_x2", "x1·x2", "product", (0, 1)),
    Feature("sin_x1", "sin x1", "sin", (0,)),
    Feature("sin_x2", "sin x2", "sin", (1,)),
)

FEATURES_1D: tuple[Feature, ...] = (
    Feature("x", "x", "column", (0,)),
    Feature("x_sq", "x²", "square", (0,)),
    Feature("sin_x", "sin x", "sin", (0,)),
)


def available_features(input_names: Sequence[str]) -> tuple[Feature, ...]:
    """The features offered for data with these raw input columns.

    Keys are fixed (``x1_sq`` …) so session files do not depend on column names; labels use
    the columns' own names (a CSV with columns ``age, income`` offers ``age²``, ``age·income``).
    """
    if len(input_names) == 2:
        return tuple(replace(f, label=_relabel(f.label, ("x1", "x2"), input_names)) for f in FEATURES_2D)
    if len(input_names) == 1:
        return tuple(replace(f, label=_relabel(f.label, ("x",), input_names)) for f in FEATURES_1D)
    return tuple(Feature(name, name, "column", (i,)) for i, name in enumerate(input_names))


def _relabel(label: str, generic: Sequence[str], names: Sequence[str]) -> str:
    """``x1·x2`` with the generic names replaced by the data's column names."""
    if tuple(names) == tuple(generic):
        return label
    # Longest generic name first, through placeholders, so "x1" never matches inside "x12".
    for k, g in sorted(enumerate(generic), key=lambda kg: -len(kg[1])):
        label = label.replace(g, f"\x00{k}\x00")
    for k, name in enumerate(names):
        label = label.replace(f"\x00{k}\x00", name)
    return label


def default_features(input_names: Sequence[str]) -> tuple[str, ...]:
    """The features switched on for new data: the raw inputs themselves."""
    offered = available_features(input_names)
    if len(input_names) == 2:
        return ("x1", "x2")
    if len(input_names) == 1:
        return ("x",)
    return tuple(f.key for f in offered)


def check_features(input_names: Sequence[str], enabled: Sequence[str]) -> tuple[str, ...]:
    """Validate ``enabled`` against what the data offers; return it in canonical order."""
    offered = available_features(input_names)
    keys = [f.key for f in offered]
    unknown = [k for k in enabled if k not in keys]
    if unknown:
        raise ValueError(
            f"unknown input feature(s) {', '.join(map(repr, unknown))}; "
            f"this data offers: {', '.join(keys)}"
        )
    if len(set(enabled)) != len(enabled):
        raise ValueError("an input feature is listed twice")
    if not enabled:
        raise ValueError("switch on at least one input feature")
    return tuple(k for k in keys if k in enabled)


def feature_matrix(inputs: Array, input_names: Sequence[str], enabled: Sequence[str]) -> Array:
    """The (n, k) float64 matrix of the enabled features, in canonical order."""
    by_key = {f.key: f for f in available_features(input_names)}
    columns = [by_key[k].compute(inputs) for k in check_features(input_names, enabled)]
    return np.ascontiguousarray(np.column_stack(columns), dtype=np.float64)


def enabled_features(input_names: Sequence[str], enabled: Sequence[str]) -> tuple[Feature, ...]:
    """The enabled features themselves, in canonical order (the network's input columns)."""
    by_key = {f.key: f for f in available_features(input_names)}
    return tuple(by_key[k] for k in check_features(input_names, enabled))


def feature_labels(input_names: Sequence[str], enabled: Sequence[str]) -> tuple[str, ...]:
    """Display labels of the enabled features, in canonical order."""
    by_key = {f.key: f for f in available_features(input_names)}
    return tuple(by_key[k].label for k in check_features(input_names, enabled))
