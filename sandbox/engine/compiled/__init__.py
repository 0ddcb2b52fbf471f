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

#: Multiply-adds of one step's forward products (batch × Σ n_l n_{l+1}) above which BLAS beats
#: the compiled loops and the step runs on the numpy path.  Measured side by side (one BLAS
#: thread, 2-64-64-64-1 relu): the loops take 0.4× numpy's time at batch 4, 0.9× at batch 64
#: (536,576), 1.4× at batch 128.
MAX_LOOP_WORK = 600_000
#: Evaluations of exp-like activations a step makes (batch × their units) above which numpy's
#: vectorised ufuncs beat the compiled loops' one-at-a-time libm calls.  Measured: 7-8×6-1 tanh
#: takes 0.5× numpy's time at batch 50 (2,450), 0.9× at batch 100 (4,900), 1.2× at 200.
MAX_LOOP_TRANSCENDENTALS = 5_000
#: Activations that cost a libm call (exp, log, tanh, sin) per unit; the rest are a compare.
CHEAP_ACTIVATIONS = frozenset({"linear", "relu", "leaky_relu"})

_lock = threading.Lock()
_kernels = None
_failure: str | None = None
_loader: threading.Thread | None = None
#: Set by :func:`defer_loading` until :func:`start_loading` runs.
_deferred = False

#: What the app's status bar says while a training command waits for the kernels.
PREPARING_NOTE = "Preparing the compiled engine… (compiling it takes a while on the first launch only)"


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


def defer_loading() -> None:
    """Say that :func:`start_loading` will come (the app calls it once its window is shown):
    until the kernels are ready, :func:`is_loading` is true, so the worker waits for them
    instead of compiling them itself while the window is being built."""
    global _deferred
    if not disabled_by_env() and _kernels is None and _failure is None and _loader is None:
        _deferred = True


def start_loading() -> None:
    """Compile (or load from the cache) the kernels in a background thread.  Whatever needs them
    first (a step, a snapshot's preview) waits in :func:`load` until they are ready; nothing
    falls back to numpy because they are late."""
    global _loader, _deferred
    _deferred = False
    if disabled_by_env() or _kernels is not None or _failure is not None or _loader is not None:
        return
    _loader = threading.Thread(target=load, name="compile-kernels", daemon=True)
    _loader.start()


def is_loading() -> bool:
    """Whether the kernels are being prepared in the background (or will be: deferred)."""
    return _deferred or (_loader is not None and _loader.is_alive())


def describe() -> str:
    """:func:`reason`, without waiting for the kernels: says so while they are prepared."""
    if is_loading():
        return "compiled (numba): being prepared, which takes a while on the first launch only"
    return reason()


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

    return (f"compiled (numba {numba.__version__}) up to {MAX_LOOP_WORK:,} multiply-adds and "
            f"{MAX_LOOP_TRANSCENDENTALS:,} exp-like activations a step, numpy beyond")


def loop_work(layer_sizes: Sequence[int], batch_size: int) -> int:
    """Multiply-adds of one step's forward products: batch × Σ_l n_l n_{l+1}."""
    return int(batch_size) * sum(int(a) * int(b) for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))


def transcendentals(layer_sizes: Sequence[int], activations: Sequence[str], batch_size: int) -> int:
    """Exp-like activation evaluations of one forward pass: batch × their layers' units."""
    return int(batch_size) * sum(int(n) for n, act in zip(layer_sizes[1:], activations) if act not in CHEAP_ACTIVATIONS)


def path_for(layer_sizes: Sequence[int], activations: Sequence[str], batch_size: int) -> str:
    """``"compiled"`` or ``"numpy"``: the path a step of this network and batch size takes.

    Depends on the architecture and batch size alone (and on whether the compiler is available
    at all), never on timing, so one run always takes one path: the compiled loops where they
    are faster, numpy (BLAS products, vectorised activations) for large batches.
    """
    if (loop_work(layer_sizes, batch_size) > MAX_LOOP_WORK
            or transcendentals(layer_sizes, activations, batch_size) > MAX_LOOP_TRANSCENDENTALS):
        return "numpy"
    return "compiled" if available() else "numpy"


__all__ = ["MAX_LOOP_TRANSCENDENTALS", "MAX_LOOP_WORK", "NO_COMPILE_ENV", "PREPARING_NOTE", "available",
           "defer_loading", "describe", "is_loading", "load", "loop_work", "path_for", "reason", "start_loading",
           "transcendentals"]
