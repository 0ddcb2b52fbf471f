"""How values become colours and line widths: pure numpy, no Qt.

* Connections: the sign picks the colour (positive / negative), |value| / max |value| picks
  one of WIDTH_LEVELS levels; stronger levels are wider and less faded toward the background.
  In log mode the levels are spread over log10 |value| across the top LOG_DECADES decades
  instead (:func:`log_fraction`), so values that differ by orders of magnitude (the gradients
  of the first and the last layer of a deep network) all stay visible.
  In the dark theme the faintest lines are kept at ≥ 3:1 contrast (WCAG) against the
  background, counting the pixel coverage of a thin antialiased line (see :func:`line_styles`).
* Nodes: activations → index into the diverging colour table (LUT), per-node colour ranges.

Colours here are "#rrggbb" strings or float RGB arrays in 0…255.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Array = np.ndarray

WIDTH_LEVELS = 10  # magnitude buckets per sign
MIN_WIDTH = 0.5  # px: the thinnest connection (before the contrast floor)
LUT_SIZE = 256
#: Decades below the largest |value| that log mode spreads its levels over; anything smaller
#: gets the thinnest level (but keeps its sign colour).
LOG_DECADES = 6
#: WCAG contrast every connection keeps against the canvas background in the dark theme.
DARK_MIN_CONTRAST = 3.0

#: Output ranges of bounded activations; every other activation gets a symmetric range
#: from the layer's largest |value| (see :func:`layer_levels`).
BOUNDED_RANGES: dict[str, tuple[float, float]] = {
    "tanh": (-1.0, 1.0),
    "sigmoid": (0.0, 1.0),
    "softmax": (0.0, 1.0),
    "sine": (-1.0, 1.0),
}


# ------------------------------------------------------------------------------ colours


def rgb(color: str) -> Array:
    """"#rrggbb" → float RGB in 0…255."""
    h = color.lstrip("#")
    return np.array([int(h[k:k + 2], 16) for k in (0, 2, 4)], dtype=np.float64)


def blend(color: str, background: str, alpha: float) -> Array:
    """``color`` at opacity ``alpha`` over ``background``, as an opaque float RGB (0…255).

    Qt's raster engine strokes opaque antialiased lines about ten times faster than
    translucent ones, so the connections are drawn in pre-blended opaque colours.
    """
    b = rgb(background)
    return b + (rgb(color) - b) * alpha


def relative_luminance(color: Array) -> float:
    """WCAG 2 relative luminance of float RGB in 0…255."""
    c = np.asarray(color, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2])


def contrast_ratio(a: Array, b: Array) -> float:
    """WCAG 2 contrast ratio of two float RGB colours (1 … 21)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def opacity_for_contrast(color: str, background: str, target: float) -> float | None:
    """The least opacity at which ``color`` over ``background`` reaches ``target`` contrast
    (None if even the opaque colour does not)."""
    if contrast_ratio(rgb(color), rgb(background)) < target:
        return None
    lo, hi = 0.0, 1.0
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        if contrast_ratio(blend(color, background, mid), rgb(background)) >= target:
            hi = mid
        else:
            lo = mid
    return hi


def peak_coverage(width: Array | float) -> Array:
    """The least peak pixel coverage of an antialiased line ``width`` px wide: a line centred
    on a pixel boundary spreads over two pixels, covering each by width / 2 (at most 1)."""
    return np.minimum(1.0, np.asarray(width, dtype=np.float64) / 2.0)


# ------------------------------------------------------------------------------ connections


@dataclass(frozen=True)
class Encoded:
    """Per-connection encoding of one frame's values."""

    sign: Array  # int8: 1 positive, -1 negative, 0 zero (or not finite)
    level: Array  # int64 magnitude level 0 … WIDTH_LEVELS−1
    top: float  # the largest finite |value| (the widest level)
    broken: Array  # bool: not finite


def log_fraction(mag: Array, top: float, decades: int = LOG_DECADES) -> Array:
    """Where each magnitude lies on a log scale of ``decades`` decades ending at ``top``:
    ``(log10(mag / top) + decades) / decades`` clipped to [0, 1]; 0 for zero magnitudes.

    So ``top`` maps to 1, ``top·10⁻³`` to 0.5 (with 6 decades), ``top·10⁻⁶`` and below to 0.
    """
    mag = np.asarray(mag, dtype=np.float64)
    out = np.zeros(mag.shape)
    if top > 0:
        positive = mag > 0
        with np.errstate(divide="ignore", over="ignore"):
            out[positive] = (np.log10(mag[positive]) - math.log10(top) + decades) / decades
    return np.clip(out, 0.0, 1.0)


def encode_connections(values: Array, log: bool = False) -> Encoded:
    """Sign and magnitude level of each value: level = ⌊WIDTH_LEVELS · |v| / max |v|⌋ (capped),
    or with ``log`` ⌊WIDTH_LEVELS · :func:`log_fraction`⌋ (capped)."""
    mag = np.abs(np.asarray(values, dtype=np.float64))
    broken = ~np.isfinite(mag)
    mag[broken] = 0.0
    top = float(mag.max()) if len(mag) else 0.0
    if log:
        norm = log_fraction(mag, top)
    else:
        norm = mag / top if top > 0 else mag
    level = np.minimum((norm * WIDTH_LEVELS).astype(np.int64), WIDTH_LEVELS - 1)
    sign = np.sign(np.where(broken, 0.0, values)).astype(np.int8)
    sign[mag == 0] = 0
    return Encoded(sign=sign, level=level, top=top, broken=broken)


def line_styles(max_width: float, color: str, background: str,
                min_contrast: float | None = None) -> tuple[Array, Array]:
    """Width (px) and opacity of each magnitude level for lines of ``color``.

    Widths grow linearly from MIN_WIDTH to ``max_width``; opacity from 0.5 to 1 (weak lines
    fade toward the background).  With ``min_contrast``, the weak levels are widened and made
    more opaque until even their least-covered pixel (:func:`peak_coverage`) has that contrast
    against ``background`` (if the opaque colour has it at all).
    """
    k = np.arange(WIDTH_LEVELS) / (WIDTH_LEVELS - 1)
    widths = MIN_WIDTH + (max_width - MIN_WIDTH) * k
    alphas = 0.5 + 0.5 * k
    if min_contrast is not None:
        need = opacity_for_contrast(color, background, min_contrast)
        if need is not None:
            need = min(1.0, need + 0.02)  # a margin for rounding to 8-bit colour
            widths = np.maximum(widths, 2.0 * need)  # opaque, its peak pixel has the contrast
            alphas = np.minimum(1.0, np.maximum(alphas, need / peak_coverage(widths)))
    return widths, alphas


# ------------------------------------------------------------------------------ nodes


def layer_levels(activation: str | None, abs_max: float) -> tuple[float, float]:
    """Colour range of a layer's heatmaps.

    Bounded activations use their output range, so a saturated tanh always looks saturated;
    unbounded ones (and input features, ``activation=None``) use ``[-m, m]`` with ``m`` the
    largest |value|, so zero stays the neutral colour.
    """
    if activation in BOUNDED_RANGES:
        return BOUNDED_RANGES[activation]
    m = abs_max if math.isfinite(abs_max) and abs_max > 0 else 1.0
    return (-m, m)


def node_levels(layer_sizes: tuple[int, ...], activation_names: tuple[str, ...],
                abs_max_unit: Array) -> tuple[Array, Array]:
    """Per-node colour range (lo, hi) from each unit's largest |value|."""
    offsets = np.concatenate([[0], np.cumsum(layer_sizes)]).astype(int)
    lo = np.empty(offsets[-1], dtype=np.float32)
    hi = np.empty(offsets[-1], dtype=np.float32)
    # Input features each get their own range: x1 ∈ [-6, 6] next to x1² ∈ [0, 36] would
    # otherwise wash out.
    first = abs_max_unit[: offsets[1]]
    m = np.where(np.isfinite(first) & (first > 0), first, 1.0)
    lo[: offsets[1]], hi[: offsets[1]] = -m, m
    for l, name in enumerate(activation_names, start=1):
        seg = abs_max_unit[offsets[l]:offsets[l + 1]]
        a, b = layer_levels(name, float(np.max(seg)) if len(seg) else 1.0)
        lo[offsets[l]:offsets[l + 1]], hi[offsets[l]:offsets[l + 1]] = a, b
    return lo, hi


def lut_index(values: Array, lo: Array, hi: Array) -> Array:
    """uint8 LUT indices of ``values`` (…, N) for per-node ranges ``lo``, ``hi`` (N,);
    not-a-number values get the neutral middle."""
    scale = (LUT_SIZE - 1) / np.maximum(hi - lo, 1e-12)
    with np.errstate(invalid="ignore"):
        t = (values - lo) * scale
        np.clip(t, 0, LUT_SIZE - 1, out=t)
        t[np.isnan(t)] = (LUT_SIZE - 1) / 2
    return t.astype(np.uint8)


def argb_words(rgb_values: Array) -> Array:
    """0xFFRRGGBB words: QImage.Format_RGB32's memory layout, so Qt draws it without converting."""
    c = np.clip(np.round(rgb_values), 0, 255).astype(np.uint32)
    return (np.uint32(0xFF) << np.uint32(24)) | (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]
