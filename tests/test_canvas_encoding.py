"""Value → colour and width (sandbox._qt.canvas.encoding): no QApplication needed.

Contrast is computed here from the WCAG 2 definition, not with the module's own helpers.
"""

from __future__ import annotations

import numpy as np
import pytest

from sandbox._qt.canvas import encoding as enc
from sandbox._qt.theme import DARK, LIGHT


def wcag_luminance(hex_or_rgb) -> float:
    if isinstance(hex_or_rgb, str):
        h = hex_or_rgb.lstrip("#")
        rgb = [int(h[k:k + 2], 16) for k in (0, 2, 4)]
    else:
        rgb = list(hex_or_rgb)
    lin = []
    for v in rgb:
        c = v / 255
        lin.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def wcag_contrast(a, b) -> float:
    la, lb = sorted((wcag_luminance(a), wcag_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def hex_rgb(h):
    h = h.lstrip("#")
    return np.array([int(h[k:k + 2], 16) for k in (0, 2, 4)], dtype=float)


def test_sign_and_level_of_hand_picked_values():
    e = enc.encode_connections(np.array([2.0, 0.1, -2.0, 0.0, -1.0, np.nan, np.inf]))
    assert e.sign.tolist() == [1, 1, -1, 0, -1, 0, 0]
    # level = ⌊10·|v| / 2⌋, capped at 9
    assert e.level.tolist()[:5] == [9, 0, 9, 0, 5]
    assert e.top == 2.0
    assert e.broken.tolist() == [False] * 5 + [True, True]


def test_widths_grow_with_magnitude_from_half_a_pixel_to_the_maximum():
    widths, alphas = enc.line_styles(4.0, LIGHT.negative, LIGHT.base)
    assert widths[0] == pytest.approx(0.5) and widths[-1] == pytest.approx(4.0)
    assert np.all(np.diff(widths) > 0)
    assert alphas[0] == pytest.approx(0.5) and alphas[-1] == pytest.approx(1.0)
    assert np.all(np.diff(alphas) > 0)


def test_wcag_contrast_matches_known_values():
    assert wcag_contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert enc.contrast_ratio(hex_rgb("#777777"), hex_rgb("#ffffff")) == pytest.approx(
        wcag_contrast("#777777", "#ffffff"))  # 4.48


@pytest.mark.parametrize("sign", ["negative", "positive"])
def test_dark_theme_connections_keep_3_to_1_contrast_even_at_their_thinnest(sign):
    color = getattr(DARK, sign)
    assert wcag_contrast(color, DARK.base) >= 3.0  # the colour itself
    for max_width in (1.5, 3.0, 6.0):
        widths, alphas = enc.line_styles(max_width, color, DARK.base, enc.DARK_MIN_CONTRAST)
        for w, a in zip(widths, alphas):
            # An antialiased line w px wide centred on a pixel boundary covers each of its two
            # pixels by w/2: the best pixel shows the pen colour at opacity a·min(1, w/2).
            coverage = a * min(1.0, w / 2)
            base = hex_rgb(DARK.base)
            pixel = np.round(base + (hex_rgb(color) - base) * coverage)
            assert wcag_contrast(pixel, DARK.base) >= 3.0, (sign, max_width, w, a)
        assert np.all(np.diff(widths) >= 0)  # still thicker for larger magnitudes
        assert widths[-1] == pytest.approx(max(max_width, widths[0]))


def test_lut_index_maps_the_range_onto_the_table_and_nan_to_the_middle():
    lo, hi = np.array([-1.0, 0.0]), np.array([1.0, 4.0])
    idx = enc.lut_index(np.array([[-1.0, 0.0], [1.0, 4.0], [0.0, 2.0], [np.nan, 9.0]]), lo, hi)
    assert idx.tolist() == [[0, 0], [255, 255], [127, 127], [127, 255]]
    assert enc.layer_levels("tanh", 9.0) == (-1.0, 1.0)
    assert enc.layer_levels("relu", 3.0) == (-3.0, 3.0)
    assert enc.layer_levels(None, 0.0) == (-1.0, 1.0)
