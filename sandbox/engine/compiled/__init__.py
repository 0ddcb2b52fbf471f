"""The compiled training path: one whole training step in numba kernels.

The numpy engine stays the readable reference (and what the explanations use); this package
runs the same maths as plain compiled loops, for the step loop alone.  Which path a step takes
is a function of the architecture and the batch size (and of whether numba imports at all),
never of timing or warm-up: see :func:`path_for`.

* :func:`available` / :func:`reason`: whether the compiled path can run here, and why not.
* :func:`path_for`: ``"compiled"`` or ``"numpy"`` for a network and batch size.
* :class:`CompiledStep` (in ``step``): a network's step kernel with its codes.

Set ``BACKPROP_SANDBOX_NO_COMPILE=1`` to force the numpy path (tests of the fallback, and
comparisons).  numba is imported lazily, the first time a compiled step is wanted, so importing
the engine stays cheap.
"""

from __future__ import annotations

import os
import threading
from typing import Sequence

from .cache import prepare_cache_dir

#: Set to "1" to force the numpy path.
NO_COMPILE_ENV = "BACKPROP_SANDBOX_NO_COMPILE"

#: Multiply-adds of one step's matrix products (batch × Σ n_l n_{l+1}) above which BLAS beats
#: plain loops and the step runs on the numpy path.  A function of the architecture and the
#: batch size only: measured with ``bench`` (loops win below it, BLAS products dominate above).
MAX_LOOP_WORK = 200_000

_lock = threading.Lock()
_kernels = None
_failure: str | None = None


def disabled_by_env() -> bool:
    return os.environ.get(NO_COMPILE_ENV, "").strip() not in ("", "0")


def load():
    """The kernels module, compiled or loaded from the cache on first use; None if numba is
    unavailable (see :func:`reason`).  Thread-safe: a second caller waits for the first."""
    global _kernels, _failure
    if disabled_by_env():
        return None
    if _kernels is not None or _failure is not None:
        return _kernels
    with _lock:
        if _kernels is None and _failure is None:
            prepare_cache_dir()
            try:
                from . import kernels
            except Exception as exc:  # ImportError, or numba failing on this platform
                _failure = f"numba is not available ({type(exc).__name__}: {exc})"
            else:
                _kernels = kernels
    return _kernels


def available() -> bool:
    """Whether compiled steps can run (numba imports and the env switch is off)."""
    return load() is not None


def reason() -> str:
    """Which path is in use and why, in words (for About and ``bench``)."""
    if disabled_by_env():
        return f"numpy fallback: {NO_COMPILE_ENV}=1 is set"
    if load() is None:
        return f"numpy fallback: {_failure}"
    import numba

    return f"compiled (numba {numba.__version__}) for networks up to {MAX_LOOP_WORK:,} multiply-adds a step"


def loop_work(layer_sizes: Sequence[int], batch_size: int) -> int:
    """Multiply-adds of one step's forward products: batch × Σ_l n_l n_{l+1}."""
    return int(batch_size) * sum(int(a) * int(b) for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))


def path_for(layer_sizes: Sequence[int], batch_size: int) -> str:
    """``"compiled"`` or ``"numpy"``: the path a step of this network and batch size takes.

    Depends on the sizes alone (and on whether the compiler is available), so one run always
    takes one path.
    """
    if loop_work(layer_sizes, batch_size) > MAX_LOOP_WORK:
        return "numpy"
    return "compiled" if available() else "numpy"


__all__ = ["MAX_LOOP_WORK", "NO_COMPILE_ENV", "available", "load", "loop_work", "path_for", "reason"]
