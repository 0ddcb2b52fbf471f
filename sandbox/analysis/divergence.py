"""Why a run diverged, from its history: when the loss began to rise, and which layer's updates
overshot.

Definitions (used by the divergence banner and the loss plot's mark):

* **The rise** is the last run of strictly rising smoothed mini-batch loss before the stop:
  smoothed with :func:`~sandbox.analysis.trends.log_smooth` over :data:`RISE_WINDOW` rows (so
  one noisy batch neither starts nor ends it), it begins at the last step whose smoothed loss
  was not above the one before it.  A trailing mean lags, so its **start** is then moved back
  to the lowest raw loss among the rows that step's mean averaged: the bottom of the valley
  the loss climbed out of.  A run that rose from its first step starts at that step.
* **The overshoot** is the largest update-to-weight ratio ‖ΔW_l‖/‖W_l‖ recorded at any step of
  the rise, over every layer: that layer, the ratio and its step.  Healthy steps move a layer by
  about 1e-3 of its size; a ratio near or above 1 replaces the weights with the update.
  ``first_above_one`` is the first step of the rise at which that layer's ratio exceeded 1 (None
  if it never did), which is usually where the overshooting began.

Both come from the step history only: the refused step itself recorded nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .trends import log_smooth

Array = np.ndarray

#: Rows the loss is smoothed over before looking for the rise.
RISE_WINDOW = 5


@dataclass(frozen=True)
class DivergenceExplanation:
    """What the history says about a divergence (see the module's definitions).

    Attributes
    ----------
    rise_step, rise_loss
        The step at which the loss began to rise steadily, and its mini-batch loss.
    last_step, last_loss
        The last recorded step before the stop, and its mini-batch loss.
    layer
        Index of the weight layer whose update overshot most (None when no ratio was recorded,
        e.g. a file written before ratios were).
    ratio, ratio_step
        That layer's largest ratio during the rise, and the step it was recorded at.
    first_above_one
        The first step of the rise with that layer's ratio above 1, or None.
    """

    rise_step: int
    rise_loss: float
    last_step: int
    last_loss: float
    layer: int | None
    ratio: float
    ratio_step: int | None
    first_above_one: int | None


def rise_start(loss: Array, window: int = RISE_WINDOW) -> int | None:
    """Row index where the last run of rising smoothed ``loss`` starts (None without rows)."""
    if len(loss) == 0:
        return None
    smooth = log_smooth(loss, window)
    known = np.flatnonzero(np.isfinite(smooth))
    if len(known) == 0:
        return len(loss) - 1
    s = smooth[known]
    not_rising = np.flatnonzero(s[1:] <= s[:-1])  # position p: s[p + 1] did not rise
    k = int(known[not_rising[-1] + 1]) if len(not_rising) else int(known[0])
    lo = max(0, k - window + 1)
    averaged = np.asarray(loss[lo : k + 1], dtype=np.float64)
    averaged = np.where(np.isfinite(averaged), averaged, np.inf)
    return lo + int(np.argmin(averaged))  # the first of equal lows


def explain_divergence(steps: Array, loss: Array, ratios: Sequence[Array]) -> DivergenceExplanation | None:
    """Explain a divergence from the step history recorded before the stop.

    Parameters
    ----------
    steps, loss
        The history's step numbers and mini-batch losses, oldest first.
    ratios
        ‖ΔW_l‖/‖W_l‖ per layer, each aligned with ``steps`` (NaN where not recorded).

    Returns
    -------
    DivergenceExplanation | None
        None when there is no history (the first step already diverged).
    """
    steps = np.asarray(steps, dtype=np.float64)
    start = rise_start(np.asarray(loss, dtype=np.float64))
    if start is None:
        return None
    last = len(steps) - 1
    layer, ratio, ratio_row = None, math.nan, None
    for l, r in enumerate(ratios):
        window = np.asarray(r, dtype=np.float64)[start:]
        if np.isfinite(window).any():
            k = int(np.nanargmax(window))
            if layer is None or window[k] > ratio:
                layer, ratio, ratio_row = l, float(window[k]), start + k
    first = None
    if layer is not None:
        above = np.flatnonzero(np.asarray(ratios[layer], dtype=np.float64)[start:] > 1.0)
        first = int(round(steps[start + above[0]])) if len(above) else None
    return DivergenceExplanation(
        rise_step=int(round(steps[start])), rise_loss=float(loss[start]),
        last_step=int(round(steps[last])), last_loss=float(loss[last]),
        layer=layer, ratio=ratio, ratio_step=None if ratio_row is None else int(round(steps[ratio_row])),
        first_above_one=first,
    )
