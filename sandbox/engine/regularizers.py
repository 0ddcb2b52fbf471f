"""The L1 rule TensorFlow Playground uses: a weight that the L1 term would carry across zero
stops at exactly zero.

The subgradient l1·sign(W) alone never lands a weight on zero: it overshoots and flips the
weight's sign back and forth by about lr·l1 each step.  Playground takes the data step, then the
L1 step −lr·l1·sign(w), and sets a weight that this second step carries across zero to 0.
That is what makes L1's "exactly zero" weights visible.  (Playground also freezes such a weight
for good; here sign(0) = 0 keeps the L1 term from pushing it off zero, but the data gradient may
move it again.)

Our optimizers propose one combined update Δw, so the rule reads: a weight that crosses zero
and lands at most ``reach`` = lr·l1 beyond it is set to 0.  For plain SGD this is Playground's
rule (the data step left w on its own side, the L1 step crossed; only a data step that ends at
exactly 0 differs); a weight that the data gradient alone throws across zero (a too-large
learning rate) crosses as it would without L1, so the non-finite guard still sees a diverging
run.  Momentum, RMSProp and Adam use the same reach.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

Array = np.ndarray


def clip_l1_crossings(old: Array, delta: Array, weight_slices: Sequence[slice], reach: float) -> Array:
    """The update ``delta`` with every weight that the L1 term would carry across zero stopped
    at exactly zero.

    Parameters
    ----------
    old
        The flat parameters before the step.
    delta
        The proposed update (``old + delta`` is the proposed new parameters).
    weight_slices
        Where the weights lie in the flat vector; biases are not regularised and never clipped.
    reach
        How far beyond zero the L1 term alone carries a weight in one step: lr·l1.

    Returns
    -------
    Array
        ``delta`` itself when nothing crosses, else a copy in which each crossing weight's entry
        is ``-old`` (so ``old + delta`` is exactly 0.0 there; every other entry is bit-identical).

    Notes
    -----
    The rule, applied only when l1 > 0: if w > 0 ≥ w + Δw ≥ −reach, or w < 0 ≤ w + Δw ≤ reach,
    then Δw = −w.  A non-finite proposal is never within reach, so the non-finite guard still
    sees it; a weight at exactly zero may leave zero (it does not cross it).
    """
    out = delta
    for segment in weight_slices:
        w = old[segment]
        new = w + delta[segment]
        crossed = ((w > 0) & (new < 0) & (new >= -reach)) | ((w < 0) & (new > 0) & (new <= reach))
        if crossed.any():
            if out is delta:
                out = delta.copy()
            out[segment][crossed] = -w[crossed]
    return out
