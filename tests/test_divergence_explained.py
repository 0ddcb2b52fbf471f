"""The divergence explanation (Qt-free): the smoothing it relies on, the step where the loss
began to rise steadily, and the layer whose update-to-weight ratio overshot, on hand-built
histories and on example 07 played until the non-finite guard stops it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sandbox.analysis.divergence import RISE_WINDOW, explain_divergence, rise_start
from sandbox.analysis.trends import log_smooth, smoothing_window
from sandbox.resources import example_sessions
from sandbox.session.history import update_ratio_columns
from sandbox.session.session_file import load


def test_log_smooth_is_the_trailing_geometric_mean_and_skips_what_has_no_logarithm():
    v = np.array([1.0, 100.0, 10_000.0, 0.0, np.nan, 1e6])
    s = log_smooth(v, 2)
    np.testing.assert_allclose(s[:3], [1.0, 10.0, 1000.0])
    assert s[3] == pytest.approx(10_000.0) and math.isnan(s[4]) and s[5] == pytest.approx(1e6)
    np.testing.assert_allclose(log_smooth(v, 1)[[0, 1, 2, 5]], v[[0, 1, 2, 5]])
    assert math.isnan(log_smooth(v, 1)[3])
    with pytest.raises(ValueError):
        log_smooth(v, 0)
    assert smoothing_window(0) == 1 and smoothing_window(3000) == 30 and smoothing_window(10**7) == 500


def test_the_rise_starts_after_the_last_fall_of_the_smoothed_loss():
    # Falls for 60 steps (with one noisy jump), flat-ish, then rises for 30 steps.
    rng = np.random.default_rng(0)
    fall = np.geomspace(1.0, 0.05, 60) * np.exp(rng.normal(0, 0.01, 60))
    fall[30] *= 3  # one noisy batch does not start "the rise"
    rise = 0.05 * np.geomspace(1.0, 1e8, 31)[1:]
    loss = np.concatenate([fall, rise])
    start = rise_start(loss)
    # The lowest raw loss of the window the smoothed loss's last non-rise averaged.
    smooth = log_smooth(loss, RISE_WINDOW)
    last_flat = int(np.flatnonzero(np.diff(smooth) <= 0)[-1] + 1)
    assert np.all(np.diff(smooth[last_flat:]) > 0)
    window = loss[last_flat - RISE_WINDOW + 1 : last_flat + 1]
    assert start == last_flat - RISE_WINDOW + 1 + int(np.argmin(window))
    assert start == 59  # the last falling step, the bottom of the valley


@pytest.mark.parametrize("loss, expected", [
    ([], None), ([2.0], 0), ([1.0, 2.0, 4.0, 8.0], 0), ([8.0, 4.0, 2.0, 1.0], 3), ([np.nan, np.nan], 1)])
def test_rise_start_edge_cases(loss, expected):
    assert rise_start(np.array(loss)) == expected


def test_the_overshoot_is_the_largest_ratio_of_the_rise_in_any_layer():
    steps = np.arange(1.0, 9.0)
    loss = np.array([4.0, 3.0, 2.0, 1.0, 2.0, 8.0, 64.0, 1e4])
    ratios = [np.array([1e-3, 1e-3, 1e-3, 5.0, 0.5, 2.0, 30.0, 9.0]),  # largest of the rise: 30 at step 7
              np.array([99.0, 1e-3, 1e-3, 1e-2, 1.5, 3.0, 20.0, 25.0])]  # 99 is before the rise
    e = explain_divergence(steps, loss, ratios)
    assert (e.rise_step, e.rise_loss, e.last_step, e.last_loss) == (4, 1.0, 8, 1e4)
    assert (e.layer, e.ratio, e.ratio_step, e.first_above_one) == (0, 30.0, 7, 4)
    # Without ratios (a file from before they were recorded) it still names the rise.
    e = explain_divergence(steps, loss, [np.full(8, np.nan)] * 2)
    assert e.rise_step == 4 and e.layer is None and e.ratio_step is None
    assert explain_divergence(np.zeros(0), np.zeros(0), [np.zeros(0)]) is None


def play_until_the_guard_stops(path):
    run = load(path)
    with np.errstate(all="ignore"):
        run.train(10_000)
    assert run.divergence is not None
    return run


def test_example_07_played_until_the_guard_stops():
    """lr 3 on a linear regression: the loss rises from the first step; the first layer's steps
    overshoot most (‖ΔW‖/‖W‖ ≈ 1e90 at the last step, above 1 from the first)."""
    (path,) = [p for p in example_sessions() if p.name.startswith("07-")]
    run = play_until_the_guard_stops(path)
    h = run.history.steps
    n = len(run.weights)
    e = explain_divergence(h.steps(), h.column("loss"), [h.column(c) for c in update_ratio_columns(n)])
    assert run.divergence.step == e.last_step + 1
    assert e.rise_step == 1 and e.first_above_one == 1
    # The overshoot, recomputed from the engine: replay the steps and measure ‖ΔW‖/‖W‖ directly.
    replay = load(path)
    measured = []
    for _ in range(e.last_step):
        before = [w.copy() for w in replay.weights]
        with np.errstate(all="ignore"):
            assert replay.step()
        measured.append([np.linalg.norm(a - b) / np.linalg.norm(b) for a, b in zip(replay.weights, before)])
    measured = np.array(measured)
    k, layer = np.unravel_index(np.argmax(measured), measured.shape)
    assert (e.layer, e.ratio_step) == (layer, k + 1)
    assert e.ratio == pytest.approx(measured[k, layer], rel=1e-9)
