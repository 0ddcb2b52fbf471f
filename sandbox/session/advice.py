"""Advice after a divergence: a learning rate that is checked not to diverge again at once.

The divergence banner offers to lower the learning rate.  A rate that diverges again on the
next step would only frustrate, so the offer is checked first: a scratch copy of the run (the
real one is never touched) trains a few steps from the kept state, or from fresh weights, with
the lowered rate, and the rate is lowered by another factor of ten until those steps stay
finite.
"""

from __future__ import annotations

import math
from dataclasses import replace

#: Tenfold reductions tried before giving up.
MAX_TRIES = 6


def trial_steps(run) -> int:
    """Steps a suggested rate must survive: two epochs, at least 20 and at most 200."""
    return max(20, min(2 * run.steps_per_epoch, 200))


def safe_learning_rate(run, *, from_reset: bool = False, steps: int | None = None) -> float | None:
    """The largest of lr/10, lr/100 … (3 significant digits) that trains ``steps`` steps from
    the kept state (or from step 0 with ``from_reset``) without the non-finite guard refusing
    one, and with a finite loss after them; None if none of :data:`MAX_TRIES` does.

    ``run`` (a TrainingRun) is not changed.
    """
    import numpy as np

    TrainingRun = type(run)  # the run's own class (run.py imports the commands that call this)

    state = run.start_state() if from_reset else run.capture()
    steps = trial_steps(run) if steps is None else steps
    lr = run.hyper.learning_rate
    for _ in range(MAX_TRIES):
        lr = float(f"{lr / 10:.3g}")
        if lr <= 0:
            return None
        hyper = replace(run.hyper, learning_rate=lr)
        trial = TrainingRun(run.dataset, run.data_spec, run.features, run.network_spec, hyper, run.seed)
        trial.evaluate_each_epoch = False
        trial.restore(replace(state, hyper=hyper, divergence=None))
        with np.errstate(all="ignore"):
            survived = trial.train(steps) == steps and math.isfinite(trial.evaluate().train_loss)
        if survived:
            return lr
    return None
