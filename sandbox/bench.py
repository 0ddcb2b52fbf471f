"""``backprop-sandbox bench``: the engine's training step against the floor numpy allows.

For each configuration three implementations train the same network on the same batches:

* the engine: ``TrainingRun.step()``, with all its bookkeeping (non-finite guard, per-step loss
  and gradient norms, optimizer state), on the path the run takes: the compiled kernels for
  small networks, the numpy engine where BLAS products dominate (``path`` in the results, and
  ``engine_path`` in the environment says whether the compiler is available at all);
* a minimal hand-written numpy loop doing the same maths (forward, sigmoid + bce from the
  logits, backward, SGD) with nothing else: the floor for numpy;
* PyTorch eager on the CPU in float64 with one thread, if torch is importable (it is never a
  dependency), written as leanly as torch allows (manual SGD under ``no_grad``).

They are timed side by side in interleaved rounds, and the medians of the per-round ratios are
reported, so a noisy machine slows all three alike.  The once-per-epoch full-set evaluation a
run records is timed separately (it is not part of a step).

All three use one thread: the CLI pins numpy's BLAS to one thread before importing numpy.
"""

from __future__ import annotations

import json
import math
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .engine import compiled
from .formatting import format_number
from .session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from .session.grid import evaluate_grid

LEARNING_RATE = 0.03
ALL_2D_FEATURES = ("x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2")

#: Targets the issue sets.
MAX_TIME_RATIO_VS_MINIMAL = 1.25
MIN_SPEEDUP_VS_TORCH = 1.5


@dataclass(frozen=True)
class BenchConfig:
    key: str
    title: str
    features: tuple[str, ...]
    hidden: tuple[int, ...]
    activation: str
    batch: int
    n_points: int

    def make_run(self) -> TrainingRun:
        run = TrainingRun.create(
            DataSpec(source="circle", n_points=self.n_points, noise=0.1, train_fraction=0.5, seed=1),
            features=self.features,
            network=NetworkSpec(self.hidden, (self.activation,) * len(self.hidden)),
            hyper=Hyperparameters(optimizer="sgd", learning_rate=LEARNING_RATE, batch_size=self.batch),
            seed=1,
        )
        run.evaluate_each_epoch = False  # timed separately
        return run


CONFIGS = (
    BenchConfig("a", "2-8-8-1 tanh, batch 10", ("x1", "x2"), (8, 8), "tanh", 10, 1000),
    BenchConfig("b", "7-8-8-8-8-8-8-1 tanh, batch 500", ALL_2D_FEATURES, (8,) * 6, "tanh", 500, 4000),
    BenchConfig("c", "2-64-64-64-1 relu, batch 256", ("x1", "x2"), (64, 64, 64), "relu", 256, 2000),
)


# ------------------------------------------------------------------ the minimal numpy loop


def minimal_numpy_loop(run: TrainingRun, activation: str) -> Callable[[int], None]:
    """A hand-written loop with the engine's maths and nothing else; returns ``train(steps)``."""
    X, Y = run.X_train, run.Y_train
    Ws = [W.copy() for W in run.weights]
    bs = [b.copy() for b in run.biases]
    batch, lr = run.hyper.batch_size, run.hyper.learning_rate
    rng = np.random.default_rng(0)
    n, depth = len(X), len(Ws)
    state = {"perm": rng.permutation(n), "cursor": 0}
    relu = activation == "relu"

    def train(steps: int) -> None:
        perm, cursor = state["perm"], state["cursor"]
        for _ in range(steps):
            idx = perm[cursor : cursor + batch]
            cursor += len(idx)
            if cursor >= n:
                cursor, perm = 0, rng.permutation(n)
            xb, yb = X[idx], Y[idx]
            hs = [xb]
            h = xb
            for W, b in zip(Ws[:-1], bs[:-1]):
                z = h @ W + b
                h = np.maximum(z, 0.0) if relu else np.tanh(z)
                hs.append(h)
            z = h @ Ws[-1] + bs[-1]
            p = 1.0 / (1.0 + np.exp(-z))
            loss = np.mean(np.logaddexp(0.0, z) - z * yb)  # computed, as the engine does  # noqa: F841
            d = (p - yb) / len(idx)
            for layer in range(depth - 1, -1, -1):
                gW = hs[layer].T @ d
                gb = d.sum(axis=0)
                if layer:
                    d = (d @ Ws[layer].T) * ((hs[layer] > 0) if relu else (1.0 - hs[layer] * hs[layer]))
                Ws[layer] = Ws[layer] - lr * gW
                bs[layer] = bs[layer] - lr * gb
        state["perm"], state["cursor"] = perm, cursor

    return train


# ------------------------------------------------------------------------------- PyTorch


def torch_loop(run: TrainingRun, activation: str) -> Callable[[int], None] | None:
    """The same network in PyTorch eager, float64, one thread; None if torch is missing."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    torch.set_num_threads(1)
    X = torch.from_numpy(np.array(run.X_train))
    Y = torch.from_numpy(np.array(run.Y_train))
    Ws = [torch.tensor(W, dtype=torch.float64, requires_grad=True) for W in run.weights]
    bs = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in run.biases]
    params = [p for pair in zip(Ws, bs) for p in pair]
    batch, lr = run.hyper.batch_size, run.hyper.learning_rate
    gen = torch.Generator().manual_seed(0)
    n = len(X)
    state = {"perm": torch.randperm(n, generator=gen), "cursor": 0}
    act = torch.relu if activation == "relu" else torch.tanh

    def train(steps: int) -> None:
        perm, cursor = state["perm"], state["cursor"]
        for _ in range(steps):
            idx = perm[cursor : cursor + batch]
            cursor += len(idx)
            if cursor >= n:
                cursor, perm = 0, torch.randperm(n, generator=gen)
            h = X[idx]
            for W, b in zip(Ws[:-1], bs[:-1]):
                h = act(h @ W + b)
            z = h @ Ws[-1] + bs[-1]
            loss = F.binary_cross_entropy_with_logits(z, Y[idx])
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p -= lr * p.grad
                    p.grad = None
        state["perm"], state["cursor"] = perm, cursor

    return train


# -------------------------------------------------------------------------------- timing


def _steps_per_second(train: Callable[[int], None], steps: int) -> float:
    start = time.perf_counter()
    train(steps)
    return steps / (time.perf_counter() - start)


def _calibrate(train: Callable[[int], None], seconds: float) -> int:
    """Steps that take about ``seconds`` (after a warm-up)."""
    train(5)
    steps = 10
    while True:
        start = time.perf_counter()
        train(steps)
        elapsed = time.perf_counter() - start
        if elapsed > seconds / 4 or steps > 10_000_000:
            return max(10, int(steps * seconds / max(elapsed, 1e-9)))
        steps *= 4


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def bench_config(cfg: BenchConfig, quick: bool = False) -> dict:
    """Time one configuration; returns the figures ``bench --json`` prints."""
    rounds, seconds = (3, 0.08) if quick else (7, 0.25)
    run = cfg.make_run()
    engine = run.train
    minimal = minimal_numpy_loop(cfg.make_run(), cfg.activation)
    torch_train = torch_loop(cfg.make_run(), cfg.activation)
    steps = _calibrate(minimal, seconds)
    engine_rates, minimal_rates, torch_rates, ratios, speedups = [], [], [], [], []
    with np.errstate(all="ignore"):
        engine(5)
        for _ in range(rounds):
            e = _steps_per_second(engine, steps)
            m = _steps_per_second(minimal, steps)
            engine_rates.append(e)
            minimal_rates.append(m)
            ratios.append(m / e)  # engine time per step / minimal time per step
            if torch_train is not None:
                t = _steps_per_second(torch_train, max(10, steps // 4))
                torch_rates.append(t)
                speedups.append(e / t)
        grid_ms = _median_ms(lambda: evaluate_grid(run, 100), 3 if quick else 9)
        eval_ms = _median_ms(run.evaluate, 3 if quick else 9)
    if run.divergence is not None:  # never expected at this learning rate; would void the timing
        raise RuntimeError(f"bench config {cfg.key} diverged: {run.divergence.message}")
    result = {
        "config": cfg.key,
        "title": cfg.title,
        "path": run.step_path,
        "layer_sizes": list(run.layer_sizes),
        "activation": cfg.activation,
        "batch_size": cfg.batch,
        "n_train": run.n_train,
        "engine_steps_per_s": statistics.median(engine_rates),
        "minimal_steps_per_s": statistics.median(minimal_rates),
        "engine_time_ratio_vs_minimal": statistics.median(ratios),
        "torch_steps_per_s": statistics.median(torch_rates) if torch_rates else None,
        "engine_speedup_vs_torch": statistics.median(speedups) if speedups else None,
        "grid_100x100_all_neurons_ms": grid_ms,
        "full_evaluation_ms": eval_ms,
    }
    result["meets_minimal_target"] = result["engine_time_ratio_vs_minimal"] <= MAX_TIME_RATIO_VS_MINIMAL
    if speedups:
        result["meets_torch_target"] = result["engine_speedup_vs_torch"] >= MIN_SPEEDUP_VS_TORCH
    return result


def environment() -> dict:
    try:
        import torch

        torch_version: str | None = torch.__version__
    except ImportError:
        torch_version = None
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch_version,
        "machine": platform.machine(),
        "platform": platform.platform(),
        "engine_path": compiled.reason(),
    }


def run_bench(as_json: bool = False, quick: bool = False,
              gui: Callable[..., dict] | None = None, wide: bool = False) -> int:
    """Run the benchmark and print a table (or JSON).

    ``gui``, if given, measures the desktop app: ``gui(quick=…, log=…)`` returns its figures.  The
    command line passes :func:`sandbox._qt.gui_bench.bench_gui` for ``--gui``; this module never
    imports Qt.
    """
    results = []
    for cfg in CONFIGS:
        if not as_json:
            print(f"timing ({cfg.key}) {cfg.title} …", file=sys.stderr)
        results.append(bench_config(cfg, quick=quick))
    report: dict = {"engine": results, "environment": environment()}
    if gui is not None:
        report["gui"] = gui(quick=quick, log=None if as_json else sys.stderr)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        print(format_table(report, wide=wide))
    return 0


#: The default table's width: it fits a 100-column terminal; ``--wide`` adds the timing columns.
TABLE_WIDTH = 100


def short_sizes(sizes) -> str:
    """Layer sizes with repeats folded: [7, 8, 8, 8, 8, 8, 8, 1] → "7-8×6-1"."""
    parts: list[str] = []
    sizes = list(sizes)
    k = 0
    while k < len(sizes):
        run = 1
        while k + run < len(sizes) and sizes[k + run] == sizes[k]:
            run += 1
        parts.append(f"{sizes[k]}×{run}" if run > 2 else "-".join([str(sizes[k])] * run))
        k += run
    return "-".join(parts)


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def format_table(report: dict, wide: bool = False) -> str:
    """The benchmark as text: by default in at most 100 columns; ``wide`` adds the boundary
    grid and full-evaluation timings and the configs' full titles."""
    import textwrap

    head = ("config", "path", "engine/s", "minimal/s", "ratio ≤1.25", "torch/s", "vs torch ≥1.5×")
    if wide:
        head += ("grid 100² ms", "eval ms")
    rows = [head]
    for r in report["engine"]:
        title = r["title"] if wide else (f"{short_sizes(r['layer_sizes'])} {r.get('activation', '')}".strip()
                                         + f", batch {r['batch_size']}")
        row = (
            f"({r['config']}) {title}",
            r.get("path", "numpy"),
            f"{r['engine_steps_per_s']:,.0f}",
            f"{r['minimal_steps_per_s']:,.0f}",
            f"{r['engine_time_ratio_vs_minimal']:.2f}",
            "–" if r["torch_steps_per_s"] is None else f"{r['torch_steps_per_s']:,.0f}",
            "–" if r["engine_speedup_vs_torch"] is None else f"{r['engine_speedup_vs_torch']:.2f}×",
        )
        if wide:
            row += (f"{r['grid_100x100_all_neurons_ms']:.2f}", f"{r['full_evaluation_ms']:.2f}")
        rows.append(row)
    lines = _table(rows)
    env = report["environment"]
    notes = (f"ratio = engine time per step / minimal numpy loop time per step (median of interleaved "
             f"rounds); python {env['python']}, numpy {env['numpy']}, torch {env['torch'] or 'not installed'}; "
             f"one BLAS thread; engine path: {env.get('engine_path', 'numpy')}."
             + ("" if wide else " More columns: bench --wide."))
    lines.append("")
    lines += textwrap.wrap(notes, TABLE_WIDTH if not wide else 160)
    if "gui" in report:
        lines.append("")
        lines.append(format_gui_table(report["gui"]))
    return "\n".join(lines)


GUI_TARGETS = {
    "gui_vs_headless_throughput": ("≥ 0.7", lambda v: v >= 0.7),
    "event_loop_p99_ms": ("≤ 50 ms", lambda v: v <= 50),
    "redraw_median_ms": ("≤ 16 ms", lambda v: v <= 16),
    "edit_refresh_p95_ms": ("≤ 50 ms", lambda v: v <= 50),
    "chain_rule_refresh_p95_ms": ("≤ 50 ms", lambda v: v <= 50),
    "focus_refresh_p95_ms": ("≤ 50 ms", lambda v: v <= 50),
    "scrub_p95_ms": ("≤ 200 ms", lambda v: v <= 200),
    "startup_median_s": ("≤ 2 s", lambda v: v <= 2),
}


def format_gui_table(gui: dict) -> str:
    names = list(gui)
    rows = [("metric", "target", *names)]
    for metric, (target, _ok) in GUI_TARGETS.items():
        # "–": not measured for that session (start-up needs a session file to launch)
        rows.append((metric, target, *(format_number(gui[n][metric], 3) if math.isfinite(gui[n][metric])
                                       else "–" for n in names)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
