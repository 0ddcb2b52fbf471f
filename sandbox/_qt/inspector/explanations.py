"""What the inspector says in words: the hint, the optimizers' update rules, the sign readings."""

from __future__ import annotations

import math

from ...session.snapshot import Snapshot

HINT = (
    "Click a connection or a neuron on the canvas to inspect it. "
    "∂J/∂w says how much the loss J changes per unit change of w; "
    "its sign says which way gradient descent will push w."
)

#: What the optimizer's next update means, per optimizer ({lr}, {batch} filled in).
OPTIMIZER_EXPLANATIONS: dict[str, str] = {
    "sgd": "sgd: Δw = −η·∂J/∂w on the next mini-batch ({batch}), η = {lr}.",
    "momentum": "momentum: v ← β·v + ∂J/∂w on the next mini-batch ({batch}); Δw = −η·v, η = {lr}. "
    "Past gradients keep pushing.",
    "rmsprop": "rmsprop: Δw = −η·g / (√s + ε), s a running mean of g² (g on the next mini-batch, "
    "{batch}), η = {lr}. Steps are divided by the recent gradient size.",
    "adam": "adam: Δw = −η·m / (√v + ε), m and v bias-corrected running means of g and g² (g on "
    "the next mini-batch, {batch}), η = {lr}. Steps are about η in size.",
}


#: Optimizers whose next step also depends on past gradients (their "memory").
OPTIMIZERS_WITH_MEMORY = frozenset({"momentum", "rmsprop", "adam"})


def batch_text(snapshot: Snapshot) -> str:
    n_train = len(snapshot.dataset.train_indices)
    batch = min(snapshot.hyper.batch_size, n_train)
    return "the whole training set" if batch >= n_train else f"{batch} examples"


def weight_sentence(grad: float, step: float, optimizer: str) -> str:
    """What the sign of ∂J/∂w means for w, and whether the next step agrees with it."""
    if not math.isfinite(grad):
        return "At the kept (last finite) weights the gradient overflows: training diverged. Lower the learning rate or reset."
    if grad > 0:
        text = "Increasing w would increase the loss; gradient descent will decrease it."
        expected = -1
    elif grad < 0:
        text = "Increasing w would decrease the loss; gradient descent will increase it."
        expected = 1
    else:
        return "The loss is flat in w right now: gradient descent has no reason to move it."
    if step and math.copysign(1.0, step) != expected:
        way = "increase" if step > 0 else "decrease"
        # Plain sgd has no memory: only the next mini-batch can disagree with the full set.
        who = ("The next mini-batch or the optimizer's memory disagrees"
               if optimizer in OPTIMIZERS_WITH_MEMORY else "The next mini-batch disagrees")
        text += f" ({who}: the next step will {way} it.)"
    return text


def bias_sentence(grad_b: float) -> str:
    """What the sign of ∂J/∂b means for b."""
    if not math.isfinite(grad_b):
        return "At the kept (last finite) weights the gradient overflows: training diverged. Lower the learning rate or reset."
    if grad_b > 0:
        return "Raising b (and so z) would increase the loss; gradient descent will lower b."
    if grad_b < 0:
        return "Raising b (and so z) would decrease the loss; gradient descent will raise b."
    return "The loss is flat in b right now."
