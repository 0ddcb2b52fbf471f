"""Texts the main window shows: what a phase step produced, how to read the canvas, titles."""

from __future__ import annotations

from ...session.snapshot import Snapshot
from ...viewstate import ViewMode

NBSP = "\u00a0"  # keeps a formula on one line

HELP_TEXT = (
    "Each column is a layer: input features on the left, the output on the right. A "
    "neuron's picture is its output over the input plane (blue high, orange low; a curve "
    "for 1-D data). The small bar under a neuron is its bias: blue positive, orange "
    "negative, longer for larger.\n\n"
    "Connections are blue for positive and orange for negative values, thicker for larger "
    "ones, of what the view shows: the weight w, the gradient ∂J/∂w (how much the loss J "
    "blames that weight), or the last update Δw. In the Gradients view a neuron's glow is "
    "its mean |δ|, where δ = ∂ℓ/∂z is how much the loss ℓ of one example changes with "
    "the neuron's input z.\n\n"
    f"Gradient descent moves every weight against its gradient:{NBSP}w{NBSP}←{NBSP}w{NBSP}−{NBSP}η{NBSP}∂J/∂w. "
    "The rings in the output view mark the examples of the next mini-batch. Click any "
    "connection or neuron to inspect and edit it; the loss plot marks every edit.\n\n"
    "One example at a time: click a point in the output view (or press ] and [ for the next and "
    "previous example, L for the one with the largest loss) and every view follows that example: "
    "its activations, its δ, and each weight's own aᵢ·δⱼ in the Gradients view. The switch above "
    "the canvas (or Esc) goes back to the training set or the last mini-batch. With a weight "
    "selected, the output view rings the examples that push its gradient most: blue circles up, "
    "orange squares down."
)


def phase_message(before: Snapshot | None, snap: Snapshot) -> tuple[ViewMode, str] | None:
    """When the user steps one phase at a time: the view mode that shows what that phase
    produced, and a sentence saying so (None when no phase was just stepped)."""
    if before is None or before.run_id != snap.run_id or snap.last_phase == before.last_phase:
        return None
    batch = len(snap.batch_indices)
    if snap.last_phase == "forward":
        return ViewMode.WEIGHTS, (f"Forward pass: the {batch} ringed examples went through the network "
                                  "with these weights; every z and a = f(z) is computed. Next: backward.")
    if snap.last_phase == "backward" and before.last_phase == "forward":
        return ViewMode.GRADIENTS, ("Backward pass: δ = ∂ℓ/∂z flowed back from the loss; the connections "
                                    "now show this batch's ∂J/∂w. Next: update.")
    if snap.last_phase == "update" and before.last_phase == "backward":
        rule = ("Δw = −η·∂J/∂w" if snap.hyper.optimizer == "sgd"
                else "the line under the canvas says how it differs from −η·∂J/∂w")
        return ViewMode.UPDATES, (f"Update: {snap.hyper.optimizer} moved every weight by the Δw the "
                                  f"connections show now ({rule}). Step {snap.step} done.")
    return None


def example_title(stem: str) -> str:
    """``02-xor-with-a-product-feature`` → ``XOR with a product feature``."""
    words = stem.split("-")[1:] if stem[:2].isdigit() else stem.split("-")
    fixed = {"xor": "XOR", "6x8": "6×8", "softmax": "softmax"}
    words = [fixed.get(w, w) for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]
