"""sandbox.analysis.blame against hand-computed cases and the engine."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from sandbox.analysis.blame import gradient_terms, most_blamed, rank, weight_count
from sandbox.engine import loss_and_gradients
from sandbox.session.naming import WeightRef


def _snap(grads, weights=None, l1=0.0, l2=0.0):
    grads = tuple(np.array(g, dtype=float) for g in grads)
    weights = grads if weights is None else tuple(np.array(w, dtype=float) for w in weights)
    return SimpleNamespace(grad_weights=grads, weights=weights, hyper=SimpleNamespace(l1=l1, l2=l2))


# |g| by hand:  layer 0 = [[0.1, -0.5], [0.3, 0.5]],  layer 1 = [[-0.9], [0.2]]
HAND = _snap([[[0.1, -0.5], [0.3, 0.5]], [[-0.9], [0.2]]])


@pytest.mark.parametrize("ref, expected", [
    (WeightRef(1, 0, 0), 1),  # 0.9
    (WeightRef(0, 0, 1), 2),  # 0.5, first of the tie in (layer, i, j) order
    (WeightRef(0, 1, 1), 3),  # 0.5, second of the tie
    (WeightRef(0, 1, 0), 4),  # 0.3
    (WeightRef(1, 1, 0), 5),  # 0.2
    (WeightRef(0, 0, 0), 6),  # 0.1
])
def test_rank_hand_counted(ref, expected):
    assert rank(HAND, ref) == expected
    assert weight_count(HAND) == 6


def test_most_blamed_is_in_rank_order():
    assert most_blamed(HAND) == [WeightRef(1, 0, 0)]
    assert most_blamed(HAND, 3) == [WeightRef(1, 0, 0), WeightRef(0, 0, 1), WeightRef(0, 1, 1)]
    assert most_blamed(HAND, 0) == []
    assert most_blamed(_snap([[[np.nan, 0.1]]]), 2) == [WeightRef(0, 0, 1), WeightRef(0, 0, 0)]


def test_gradient_terms_hand_computed():
    snap = _snap([[[0.7]]], weights=[[[-2.0]]], l1=0.1, l2=0.05)
    data, l1, l2, total = gradient_terms(snap, WeightRef(0, 0, 0))
    assert (l1, l2, total) == (pytest.approx(-0.1), pytest.approx(-0.1), 0.7)
    assert data == pytest.approx(0.9)


def test_gradient_terms_match_the_engine_without_penalties():
    rng = np.random.default_rng(3)
    W = [rng.normal(size=(2, 3)), rng.normal(size=(3, 1))]
    b = [rng.normal(size=3), rng.normal(size=1)]
    X, y = rng.normal(size=(20, 2)), rng.normal(size=(20, 1))
    acts = ("tanh", "linear")
    _, plain, _ = loss_and_gradients(W, b, acts, "mse", X, y)
    _, full, _ = loss_and_gradients(W, b, acts, "mse", X, y, l1=0.02, l2=0.3)
    snap = _snap(full, weights=W, l1=0.02, l2=0.3)
    for ref in (WeightRef(0, 1, 2), WeightRef(1, 2, 0)):
        data, l1, l2, total = gradient_terms(snap, ref)
        w = W[ref.layer][ref.i, ref.j]
        assert data == pytest.approx(plain[ref.layer][ref.i, ref.j], rel=1e-9)
        assert l2 == pytest.approx(0.3 * w) and l1 == pytest.approx(0.02 * np.sign(w))
        assert total == full[ref.layer][ref.i, ref.j]


def test_blame_imports_no_qt():
    code = "import sys, sandbox.analysis.blame; print(any(m.split('.')[0] in ('PySide6', 'pyqtgraph', 'superqt') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
