"""Values pyqtgraph can draw: data and view ranges kept clear of the top of the double range.

pyqtgraph computes spans, padding, ticks and bounding rectangles from what it is given, and near
±1.8e308 those overflow to inf (``Cannot set range [-inf, inf]``, ``Not setting range to [nan,
nan]``, raised inside Qt's event loop).  Every plot passes its data through :func:`drawable` and
its ranges through :func:`drawable_range`, so a diverged loss of 1.797e308, CSV inputs of
±1.8e308, NaN or inf never reach pyqtgraph as anything it cannot range.
"""

from __future__ import annotations

import math

import numpy as np

#: Values beyond this are drawn at it: any span, padding or tick step computed from values
#: within ±1e300 stays finite (2e300 × a few is far below 1.8e308).
DRAWABLE_MAX = 1e300
#: The narrowest view range: ticks, pixel sizes and their reciprocals stay normal doubles.
MIN_SPAN = 1e-200


def drawable(values: np.ndarray) -> np.ndarray:
    """``values`` as float64 clipped to ±:data:`DRAWABLE_MAX` (±inf too); NaN stays NaN, which
    the curves (``connect="finite"``) and scatters skip."""
    return np.clip(np.asarray(values, dtype=np.float64), -DRAWABLE_MAX, DRAWABLE_MAX)


def drawable_range(lo: float, hi: float, fallback: tuple[float, float] = (0.0, 1.0)) -> tuple[float, float]:
    """A view range (lo, hi) pyqtgraph accepts: finite, within ±:data:`DRAWABLE_MAX`, and wide
    enough to place ticks in.

    NaN ends take ``fallback``'s.  A range narrower than :data:`MIN_SPAN` or than a billionth of
    its magnitude (losses that are all subnormal, a constant column) is widened about its
    middle: pyqtgraph's tick spacing underflows to 0 on a span of 1e-323 and divides by it.
    """
    lo = fallback[0] if math.isnan(lo) else min(max(float(lo), -DRAWABLE_MAX), DRAWABLE_MAX)
    hi = fallback[1] if math.isnan(hi) else min(max(float(hi), -DRAWABLE_MAX), DRAWABLE_MAX)
    lo, hi = min(lo, hi), max(lo, hi)
    span = max(MIN_SPAN, 1e-9 * max(abs(lo), abs(hi)))
    if hi - lo >= span:
        return lo, hi
    mid = lo / 2 + hi / 2
    lo, hi = mid - span / 2, mid + span / 2
    if lo < -DRAWABLE_MAX:  # at the ends of the drawable range: widen inwards only
        return -DRAWABLE_MAX, -DRAWABLE_MAX + span
    if hi > DRAWABLE_MAX:
        return DRAWABLE_MAX - span, DRAWABLE_MAX
    return lo, hi
