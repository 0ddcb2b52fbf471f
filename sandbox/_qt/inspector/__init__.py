"""The inspector: one weight or neuron, its value, its blame ∂J/∂w and the step it will take.

``widget`` holds the :class:`Inspector`, ``weight_page`` and ``neuron_page`` its two pages,
``value_editor`` the spin box and slider that edit a value, ``labels`` its label factory and
``explanations`` what it says in words.  The maths is in :mod:`sandbox.analysis`.
"""

from .widget import Inspector

__all__ = ["Inspector"]
