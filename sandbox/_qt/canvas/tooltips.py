"""The hover tooltip: what the pointer is over, with its live values."""

from __future__ import annotations

from html import escape

from ...analysis.neuron_health import NeuronHealth, neuron_health
from ...formatting import format_number
from ...session.naming import NeuronRef, WeightRef
from ...session.snapshot import Snapshot
from ..names import unit_name


def _signed(value: float | None) -> str:
    return format_number(value, signed=True)


def hover_rows(snap: Snapshot, target: WeightRef | NeuronRef,
               health: NeuronHealth | None = None) -> tuple[str, list[tuple[str, str]]]:
    """The tooltip's title and its (label, value) rows for a weight or a neuron.

    ``health``: the snapshot's dead and saturated neurons if already known (the canvas frame
    has them); computed from ``snap`` otherwise.  A marked neuron's tooltip says why.
    """
    if isinstance(target, WeightRef):
        l, i, j = target.layer, target.i, target.j
        title = f"{target.name}  from {unit_name(snap, l, i)} → {unit_name(snap, l + 1, j)}"
        rows = [("w", _signed(snap.weights[l][i, j])),
                ("∂J/∂w", _signed(snap.grad_weights[l][i, j]))]
        if snap.phase == "backward" and snap.batch_gradients is not None:
            rows.append(("batch ∂J/∂w", _signed(snap.batch_gradients[0][l][i, j])))
        last = snap.last_update
        rows.append(("last Δw", _signed(last[0][l][i, j]) if last is not None else "none yet"))
        rows.append(("next Δw", _signed(snap.next_update[0][l][i, j])))
        return title, rows
    l, j = target.layer, target.j
    name = unit_name(snap, l, j)
    if l == 0:
        return name, [("mean value", _signed(snap.neurons.mean_activation[0][j]))]
    title = f"{name}  ·  {snap.activation_names[l - 1]}"
    delta = snap.neurons.mean_delta[l]
    abs_delta = snap.neurons.mean_abs_delta[l]
    rows = [("bias", _signed(snap.biases[l - 1][j])),
            ("∂J/∂b", _signed(snap.grad_biases[l - 1][j])),
            ("mean activation", _signed(snap.neurons.mean_activation[l][j])),
            ("mean δ", _signed(None if delta is None else delta[j])),
            ("mean |δ|", format_number(None if abs_delta is None else abs_delta[j]))]
    if health is None:
        health = neuron_health(snap)
    why = health.describe(l, j)
    if why is not None:
        rows.append(("health", why))
    return title, rows


def plain_text(title: str, rows: list[tuple[str, str]]) -> str:
    """The tooltip as plain text: the title, then one "label: value" line per row."""
    return "\n".join([title] + [f"{k}: {v}" for k, v in rows])


def tooltip_html(title: str, rows: list[tuple[str, str]]) -> str:
    """The tooltip as rich text: a bold title over a two-column table."""
    return (f"<b>{escape(title)}</b><table cellspacing='0' cellpadding='1'>"
            + "".join(f"<tr><td>{escape(k)}&nbsp;&nbsp;</td><td align='right'><tt>{escape(v)}</tt></td></tr>"
                      for k, v in rows)
            + "</table>")
