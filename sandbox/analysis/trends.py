"""Trends of noisy per-step series: a mini-batch's loss or gradient norm jumps from step to step,
so what the eye (and the divergence explanation) follows is a smoothed version.

Smoothing is a trailing geometric mean: the mean of log10 over the last ``window`` rows.  These
series span orders of magnitude (a diverging loss goes from 1 to 1e300 in a few steps), so an
arithmetic mean would be just the largest value; in log space each row counts alike, and the
smoothed curve lies where the raw one sits on a log axis.  Trailing (not centred), so the
newest smoothed value uses only what has happened and a step's value never changes later.
Non-positive and non-finite values are skipped (they have no logarithm); a row whose window
holds none of them is NaN.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def sample_rows(n_rows: int, most: int) -> Array:
    """At most ``most`` row indices spread evenly over ``n_rows`` rows, first and last included
    (all rows when there are few enough): a plot a few hundred pixels wide needs no more."""
    if n_rows <= most:
        return np.arange(n_rows)
    return np.unique(np.linspace(0, n_rows - 1, most).round().astype(np.intp))


def smoothing_window(n_rows: int, fraction: float = 0.01, largest: int = 500) -> int:
    """A window of about ``fraction`` of the rows (at least 1, at most ``largest``): the same
    share of the plot's width is averaged whatever the run's length."""
    return int(max(1, min(largest, round(n_rows * fraction))))


def log_smooth(values: Array, window: int, at: Array | None = None) -> Array:
    """Trailing geometric mean of ``values`` over ``window`` rows.

    Parameters
    ----------
    values
        One value per row (a step, or a downsampled group of steps), oldest first.
    window
        Rows averaged, ≥ 1 (1 returns the positive finite values unchanged, NaN elsewhere).
    at
        Row indices to evaluate (ascending); all rows when None.

    Returns
    -------
    Array
        ``10 ** mean(log10 v)`` over rows ``max(0, k − window + 1) … k`` with v > 0 finite, for
        each row k (of ``at``); NaN where no such row is in the window.
    """
    return 10.0 ** log10_smooth(values, window, at)


def log10_smooth(values: Array, window: int, at: Array | None = None) -> Array:
    """log10 of :func:`log_smooth`, computed without leaving log space (what a log-scale plot
    draws): the mean of log10 v over each row's trailing window."""
    if window < 1:
        raise ValueError(f"the smoothing window must be at least 1 row, got {window}")
    v = np.asarray(values, dtype=np.float64)
    valid = np.isfinite(v) & (v > 0)
    logs = np.zeros(len(v))
    logs[valid] = np.log10(v[valid])
    sums = np.concatenate(([0.0], np.cumsum(logs)))
    counts = np.concatenate(([0], np.cumsum(valid)))
    rows = np.arange(len(v)) if at is None else np.asarray(at, dtype=np.intp)
    lo = np.maximum(rows + 1 - window, 0)
    hi = rows + 1
    n = counts[hi] - counts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (sums[hi] - sums[lo]) / n
    return np.where(n > 0, mean, np.nan)
