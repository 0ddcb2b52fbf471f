"""Explanations derived from a snapshot: what the views show, computed once, without Qt.

One idea per module, each a function of a :class:`~sandbox.session.snapshot.Snapshot` (its
``train_pass`` by default, or its mini-batch ``batch_pass`` with ``batch=True``):

* :mod:`.gradient_terms`: ∂J/∂w as data term + L1 term + L2 term; ∂J/∂b's data term.
* :mod:`.blame`: a weight's rank by |∂J/∂w| and the k most-blamed weights.
* :mod:`sandbox.session.neuron_stats` (re-exported): per-neuron mean activation, mean δ and
  mean |δ|, which every snapshot carries.
* :mod:`.derivatives`: f′(z) per example and neuron.
* :mod:`.chain_rule`: δ_j = f′(z_j) Σ_k w_jk δ_k at a hidden neuron, row by row; one
  example's term a_i·δ_j of ∂J/∂w; whether a neuron is saturated or dead.
* :mod:`.output_delta`: δ at an output neuron, from the loss (a − y and its kin).
* :mod:`.example_focus`: one example at a time: its loss, a, δ and a_i·δ_j per weight, the
  examples with the largest |a_i·δ_j| for a weight, the canvas's values per data source.
* :mod:`.parameter_ranking`: weights and biases ranked by |∂J/∂p| or by the last |Δp|, and each
  layer's share of ‖∇J‖².
* :mod:`.phase_steps`: what a stepped phase did (values on the neurons, the update's terms
  beyond −η·∂J/∂w, a caption in words).

Layering: engine < session < analysis < _qt: nothing here is imported by the session model.
"""

from .blame import blame_rank, most_blamed
from .chain_rule import ChainRule, ChainRuleRow, chain_rule
from .derivatives import activation_derivatives
from .gradient_terms import BiasGradientTerms, WeightGradientTerms, bias_gradient_terms, weight_gradient_terms
from ..session.neuron_stats import NeuronStats, neuron_means

__all__ = [
    "BiasGradientTerms",
    "ChainRule",
    "ChainRuleRow",
    "NeuronStats",
    "WeightGradientTerms",
    "activation_derivatives",
    "bias_gradient_terms",
    "blame_rank",
    "chain_rule",
    "most_blamed",
    "neuron_means",
    "weight_gradient_terms",
]
