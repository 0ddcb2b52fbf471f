"""The one number formatter for every view and the command line.

``format_number`` writes a number whole: four significant digits by default, scientific
notation (with its exponent) outside 0.001 ≤ |x| < 10,000, a real minus sign (U+2212), "–" for
no value and "nan" / "∞" / "−∞" for non-finite values.  Nothing truncates its output to a fixed
width, so an exponent is never cut off.  Views choose the number of digits (the inspector shows
six, to make a typed value visible exactly); they never format a number any other way.
"""

from __future__ import annotations

import math

MINUS = "\u2212"
NO_VALUE = "\u2013"  # en dash


def format_number(value: float | None, digits: int = 4, *, signed: bool = False) -> str:
    """``value`` with ``digits`` significant digits.

    Parameters
    ----------
    value
        The number, or None for "no value" (shown as "–").
    digits
        Significant digits (at least 1).
    signed
        Write "+" before positive numbers (for values whose sign is the point, like ∂J/∂w).
    """
    if value is None:
        return NO_VALUE
    x = float(value) + 0.0  # + 0.0 turns −0.0 into 0.0: no "−0"
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return ("+" if signed else "") + "\u221e" if x > 0 else MINUS + "\u221e"
    digits = max(1, int(digits))
    sign = "+" if signed else ""
    text = f"{x:{sign}.{digits}g}"
    if not (x == 0 or 1e-3 <= abs(x) < 1e4) or "e" in text:
        # Scientific, trailing zeros of the mantissa dropped: 2.14e+04, 1e-05.
        mantissa, exponent = f"{x:{sign}.{digits - 1}e}".split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        text = f"{mantissa}e{exponent}"
    return text.replace("-", MINUS)


def format_percent(value: float | None, digits: int = 1, *, sign: bool = True) -> str:
    """A fraction as a percentage with ``digits`` decimals ("–" for no value); ``sign=False``
    leaves out the "%" (for the first of a pair, "93.6 / 88.4%")."""
    if value is None or not math.isfinite(value):
        return NO_VALUE
    return f"{100 * value:.{digits}f}" + ("%" if sign else "")


def plain(text: str) -> str:
    """``text`` with the formatter's typographic characters in ASCII (for a console that
    cannot encode them, such as cp1252)."""
    return (text.replace(MINUS, "-").replace(NO_VALUE, "-").replace("\u221e", "inf")
            .replace("\u2016", "||").replace("\u2202", "d").replace("\u2026", "...")
            .replace("\u2192", "->").replace("\u00d7", "x").replace("\u2264", "<=")
            .replace("\u2265", ">=").replace("\u2014", "-"))
