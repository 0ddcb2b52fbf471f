"""The chain-rule tab's formulas as Qt rich text: numbers from :mod:`sandbox.analysis`, filled in.

Everything here formats; nothing computes.  Subscripts and superscripts are HTML (``<sub>``,
``<sup>``), which every Qt text widget renders; numbers go through the app's one formatter.
"""

from __future__ import annotations

from html import escape

from ...analysis.chain_rule import ChainRule, ExampleProduct, NeuronCondition
from ...analysis.gradient_terms import WeightGradientTerms
from ...analysis.output_delta import A_MINUS_Y, CHAIN, CROSS_ENTROPY, JACOBIAN, OutputDelta
from ...formatting import format_number, format_percent
from ...session.naming import WeightRef

#: f′ written in terms of what the neuron shows, per activation.
DERIVATIVE_RULES = {
    "linear": "f′(z) = 1",
    "relu": "relu′(z) = 1 if z &gt; 0, else 0",
    "leaky_relu": "f′(z) = 1 if z &gt; 0, else the leak",
    "elu": "elu′(z) = 1 if z &gt; 0, else a + 1",
    "tanh": "tanh′(z) = 1 − a<sup>2</sup>",
    "sigmoid": "σ′(z) = a(1 − a)",
    "softplus": "softplus′(z) = σ(z)",
    "swish": "swish′(z) = σ(z)(1 + z(1 − σ(z)))",
    "sine": "sin′(z) = cos z",
    "softmax": "∂a<sub>k</sub>/∂z<sub>k</sub> = a<sub>k</sub>(1 − a<sub>k</sub>)",
}

#: Why the output δ has its form, per formula.
OUTPUT_REASONS = {
    A_MINUS_Y: "the loss's derivative and the activation's cancel to a − y",
    CROSS_ENTROPY: "softmax with cross-entropy: a − y for a one-hot target",
    CHAIN: "mse's ∂ℓ/∂a = a − y, times the output activation's slope",
    JACOBIAN: "softmax mixes every output: the Jacobian's transpose times a − y",
}


def num(value: float | None) -> str:
    """A number as the app writes it (signed: the sign is the point of a gradient)."""
    return format_number(value, 4, signed=True)


def sum_text(values: list[float]) -> str:
    """``a + b − c``: the terms of a sum with their signs as operators."""
    out = format_number(values[0], 4)
    for v in values[1:]:
        out += (" − " if v < 0 else " + ") + format_number(abs(v), 4)
    return out


def sub(symbol: str, index: str) -> str:
    return f"{symbol}<sub>{index}</sub>"


def weight_formula(ref: WeightRef, terms: WeightGradientTerms) -> str:
    """∂J/∂w = (1/n) Σ a_i·δ_j + l1·sign(w) + l2·w, then with its numbers."""
    name = escape(ref.name)
    lines = [
        f"<b>∂J/∂{name}</b> = (1/n) Σ<sub>r</sub> {sub('a', 'i')}·{sub('δ', 'j')}"
        " + l1·sign(w) + l2·w",
        f"= {sum_text([terms.data, terms.l1, terms.l2])} = <b>{num(terms.total)}</b>",
        f"<span style='color:{{muted}}'>n = {terms.n_rows:,}, w = {num(terms.weight)}</span>",
    ]
    return "<br>".join(lines)


def example_formula(ref: WeightRef, term: ExampleProduct, average: float) -> str:
    """One example's own term: ∂ℓ_r/∂w = a_i·δ_j, with the training-set gradient for scale."""
    name = escape(ref.name)
    return "<br>".join([
        f"<b>∂ℓ<sub>r</sub>/∂{name}</b> = {sub('a', 'i')}·{sub('δ', 'j')}"
        f" = {num(term.activation)} × {num(term.delta)} = <b>{num(term.product)}</b>",
        f"<span style='color:{{muted}}'>example #{term.example + 1}'s own term (no regulariser); "
        f"∂J/∂w on the training set = {num(average)}</span>",
    ])


def hidden_delta_formula(rule: ChainRule, activation: str, condition: NeuronCondition, unit: str) -> str:
    """δ_j = f′(z_j)·Σ_k w_jk·δ_k with its numbers, the derivative rule and the condition."""
    lines = [f"<b>{sub('δ', 'j')}</b> ({escape(unit)}) = f′({sub('z', 'j')}) · Σ<sub>k</sub> "
             f"{sub('w', 'jk')}·{sub('δ', 'k')}"]
    if rule.example is not None:
        lines.append(f"= {num(rule.derivative)} × {num(rule.weighted_sum)} = <b>{num(rule.delta)}</b>")
    else:
        lines.append(f"mean δ<sub>j</sub> = <b>{num(rule.delta)}</b>")
        lines.append(f"<span style='color:{{muted}}'>f′ × Σ per example, then averaged "
                     f"(mean f′ = {format_number(rule.derivative)})</span>")
    lines.append(f"<span style='color:{{muted}}'>{DERIVATIVE_RULES.get(activation, 'f′(z)')}"
                 f"{condition_text(condition, rule.example is not None)}</span>")
    return "<br>".join(lines)


def condition_text(condition: NeuronCondition, one_example: bool) -> str:
    """"; saturated on 93 % of the examples: f′ ≈ 0, little blame passes back" and the like."""
    if condition.state == "saturated":
        where = "" if one_example else f" on {format_percent(condition.fraction, 0)} of the examples"
        return (f"; <b>saturated</b>{where}: the output is pinned near its limit, f′ ≈ 0, "
                "so almost no blame passes back")
    if condition.state == "dead":
        where = "here" if one_example else "on every example"
        return f"; <b>dead</b> {where}: z ≤ 0, so f′ = 0 and no blame passes back"
    if condition.fraction > 0 and not one_example:
        what = "pinned near a limit" if condition.counts == "saturated" else "off (z ≤ 0)"
        return f"; {what} on {format_percent(condition.fraction, 0)} of the examples"
    return ""


def operand(value: float) -> str:
    """A number as an operand: negatives in parentheses, so "a − y" reads 0.4 − (−1)."""
    text = format_number(value, 4)
    return f"({text})" if value < 0 else text


def output_delta_formula(out: OutputDelta, unit: str) -> str:
    """δ at the output from the loss, with its numbers."""
    a, y = operand(out.activation_value), operand(out.target)
    head = f"<b>{sub('δ', 'j')}</b> ({escape(unit)}) comes from the loss: {escape(out.activation)} + {escape(out.loss)}"
    if out.formula in (A_MINUS_Y, CROSS_ENTROPY):
        body = f"δ = a − y = {a} − {y} = <b>{num(out.delta)}</b>"
    elif out.formula == CHAIN:
        body = f"δ = f′(z)·(a − y) = {format_number(out.derivative)} × ({a} − {y}) = <b>{num(out.delta)}</b>"
    else:
        body = f"δ = J(z)<sup>T</sup>(a − y) = <b>{num(out.delta)}</b> (a = {a}, y = {y})"
    mean = "" if out.example is not None else " (means over the examples)"
    return "<br>".join([head, body + mean,
                        f"<span style='color:{{muted}}'>{OUTPUT_REASONS[out.formula]}</span>"])
