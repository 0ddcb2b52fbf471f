"""The controls panel: data, input features, architecture and training settings.

``panel`` holds :class:`ControlsPanel`; ``data_section``, ``network_section`` and
``training_section`` its groups; ``value_inputs`` the rate combos, the batch spin box and the
settings they share.
"""

from __future__ import annotations

from .panel import ControlsPanel

__all__ = ["ControlsPanel"]
