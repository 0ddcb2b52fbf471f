"""The compiled training path against the numpy reference, and the rules of choosing it.

Agreement: one compiled step (forward, loss, backward, regularisation, optimizer, the guard's
finite checks, the step's records) equals the numpy engine's to 1e-12 relative, for every
activation, loss, optimizer and regulariser on random shapes.  One run, one path: the path is a
function of the architecture and batch size, stepping by phases commits what one step commits,
and the guard stops a diverging run where the numpy path stops it, with the same report.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.engine import HIDDEN_ACTIVATIONS, Network, ParameterLayout, compiled, propose
from sandbox.engine.compiled.step import CompiledStep
from sandbox.engine.optimizers import OPTIMIZER_DEFAULTS, SQUARED_BUFFERS, STATE_BUFFERS, OptimizerState
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.scoring import finite_norm, update_ratios

pytestmark = pytest.mark.skipif(not compiled.available(), reason=compiled.reason())

#: (output activation, loss) pairs a network allows: mse on any output, bce on sigmoid,
#: cross-entropy on softmax.
OUTPUTS = [(act, "mse") for act in HIDDEN_ACTIVATIONS + ("softmax",)] + [("sigmoid", "bce"), ("softmax", "cross_entropy")]
RTOL = 1e-12


#: The cases' inputs, weights and targets are O(1), so every sum adds O(1) terms; where they
#: cancel to a much smaller result, the rounding of either path (~1e-16 of the terms) is what
#: is left, so agreement is to RTOL of the result or ATOL, whichever is larger.
ATOL = 1e-14


def close(actual, expected, what: str) -> None:
    """Agreement to RTOL relative to the size of the reference (sums differ in order only)."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, what
    scale = float(np.max(np.abs(expected), initial=0.0))
    err = float(np.max(np.abs(actual - expected), initial=0.0))
    assert err <= max(RTOL * scale, ATOL), f"{what}: max error {err:g} against scale {scale:g}"


@st.composite
def cases(draw):
    n_in = draw(st.integers(1, 5))
    hidden = draw(st.lists(st.integers(1, 7), min_size=0, max_size=3))
    out_act, loss = draw(st.sampled_from(OUTPUTS))
    n_out = draw(st.integers(2, 4)) if out_act == "softmax" else draw(st.integers(1, 3))
    acts = [draw(st.sampled_from(HIDDEN_ACTIVATIONS)) for _ in hidden] + [out_act]
    sizes = [n_in, *hidden, n_out]
    optimizer = draw(st.sampled_from(tuple(OPTIMIZER_DEFAULTS)))
    l1 = draw(st.sampled_from([0.0, 0.003, 0.2]))
    l2 = draw(st.sampled_from([0.0, 0.01, 0.5]))
    batch = draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    return sizes, acts, loss, optimizer, l1, l2, batch, seed


def make_case(sizes, acts, loss, optimizer, batch, seed):
    rng = np.random.default_rng(seed)
    layout = ParameterLayout(sizes)
    flat = rng.normal(0.0, 0.8, layout.size)
    n_train = batch + 5
    X = rng.normal(0.0, 1.5, (n_train, sizes[0]))
    if loss == "cross_entropy" or (loss == "mse" and acts[-1] == "softmax"):
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n_train)]
    elif loss == "bce":
        Y = rng.integers(0, 2, (n_train, sizes[-1])).astype(float)
    else:
        Y = rng.normal(0.0, 1.0, (n_train, sizes[-1]))
    rows = rng.permutation(n_train)[:batch]
    buffers = {}
    for name in STATE_BUFFERS[optimizer]:
        values = rng.normal(0.0, 0.1, layout.size)
        buffers[name] = [np.abs(values) if name in SQUARED_BUFFERS else values]
    state = OptimizerState(buffers, int(rng.integers(0, 50)))
    for array in (flat, X, Y, rows, *(b[0] for b in buffers.values())):
        array.setflags(write=False)
    return layout, flat, X, Y, rows, state


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_one_compiled_step_agrees_with_the_numpy_reference(case):
    sizes, acts, loss, optimizer, l1, l2, batch, seed = case
    layout, flat, X, Y, rows, state = make_case(sizes, acts, loss, optimizer, batch, seed)
    hyper, lr = dict(OPTIMIZER_DEFAULTS[optimizer]), 0.07
    step = CompiledStep(compiled.load(), sizes, acts, loss)
    result = step(X, Y, rows, flat, state, step.settings(optimizer, hyper, lr, l1, l2))

    # The numpy reference: the engine's passes and optimizer, the session's records.
    net = Network(acts, loss)
    weights, biases = layout.unpack(flat)
    fwd = net.forward(weights, biases, X[rows])
    back = net.backward(weights, fwd, Y[rows], l1, l2)
    grad = layout.pack(back.grad_weights, back.grad_biases)
    (delta,), new_state = propose(optimizer, hyper, lr, [grad], state)

    assert result.quantity is None
    close(result.objective, back.objective, "objective")
    close(result.data_loss, back.data_loss, "data loss")
    close(result.delta, delta, "update")
    close(result.new_flat, flat + delta, "parameters")
    assert result.new_state.t == new_state.t
    assert set(result.new_state.buffers) == set(new_state.buffers)
    for name, (buf,) in new_state.buffers.items():
        close(result.new_state.buffers[name][0], buf, name)
    close(result.grad_norms, [finite_norm(g) for g in back.grad_weights], "gradient norms")
    ends = np.cumsum([int(np.prod(s)) for s in layout.shapes])
    slices = [slice(int(e - np.prod(s)), int(e)) for e, s in zip(ends[0::2], layout.shapes[0::2])]
    close(result.update_ratios, update_ratios(flat, delta, slices), "update ratios")
    # Neither input is modified.
    assert not flat.flags.writeable and all(not b[0].flags.writeable for b in state.buffers.values())


def test_any_integer_batch_indices_and_writable_arrays_are_taken():
    sizes, acts = [2, 3, 1], ["tanh", "sigmoid"]
    layout, flat, X, Y, rows, state = make_case(sizes, acts, "bce", "adam", 6, 7)
    step = CompiledStep(compiled.load(), sizes, acts, "bce")
    settings = step.settings("adam", dict(OPTIMIZER_DEFAULTS["adam"]), 0.1, 0.0, 0.0)
    reference = step(X, Y, rows, flat, state, settings)
    for other in (rows.astype(np.int32), rows[::-1].copy()[::-1], rows.copy()):
        again = step(X.copy(), Y.copy(), other, flat.copy(), state, settings)
        assert again.delta.tobytes() == reference.delta.tobytes()


def default_run(**hyper) -> TrainingRun:
    return TrainingRun.create(hyper=Hyperparameters(**hyper))


def test_the_path_is_a_function_of_the_architecture_and_batch_size():
    assert default_run().step_path == "compiled"
    big = TrainingRun.create(DataSpec(n_points=2000), network=NetworkSpec((64, 64, 64), ("relu",) * 3),
                             hyper=Hyperparameters(batch_size=256))
    assert big.step_path == "numpy"  # BLAS products dominate
    # The same sizes decide alike every time; a batch size change may switch the path.
    acts = big.activation_names
    assert [compiled.path_for(big.layer_sizes, acts, 256) for _ in range(3)] == ["numpy"] * 3
    assert compiled.path_for(big.layer_sizes, acts, 1) == "compiled"
    big.set_hyperparameters(batch_size=1)
    assert big.step_path == "compiled"
    big.set_hyperparameters(batch_size=256)
    assert big.step_path == "numpy"
    # Exp-like activations on a large batch: numpy's vectorised ufuncs.
    sizes = (7, 8, 8, 8, 8, 8, 8, 1)
    tanh = ("tanh",) * 6 + ("sigmoid",)
    assert compiled.path_for(sizes, tanh, 10) == "compiled"
    assert compiled.path_for(sizes, tanh, 500) == "numpy"
    assert compiled.path_for(sizes, ("relu",) * 6 + ("sigmoid",), 500) == "compiled"


def run_bytes(run: TrainingRun) -> tuple:
    return (run.flat.tobytes(), run.opt_state.t,
            tuple((k, v[0].tobytes()) for k, v in sorted(run.opt_state.buffers.items())),
            run.history.steps.array().tobytes(), run.history.evaluations.array().tobytes(),
            run.cursor, run.epoch, run.last_update.tobytes())


@pytest.mark.parametrize("optimizer", list(OPTIMIZER_DEFAULTS))
def test_stepping_by_phases_commits_exactly_what_one_step_commits(optimizer):
    one, phased = default_run(optimizer=optimizer, l2=0.01), default_run(optimizer=optimizer, l2=0.01)
    assert one.step_path == phased.step_path == "compiled"
    for k in range(60):
        one.step()
        if k % 3 == 0:
            phased.forward()
            phased.backward()
            assert phased.update()
        elif k % 3 == 1:
            phased.forward()
            assert phased.step()
        else:
            preview = phased.preview_update().copy()
            assert phased.step()
            assert phased.last_update.tobytes() == preview.tobytes()
    assert run_bytes(one) == run_bytes(phased)


def test_the_last_steps_passes_are_the_numpy_references_on_its_batch():
    run = default_run(l1=0.001)
    run.train(4)
    weights_before = [w.copy() for w in run.weights]
    biases_before = [b.copy() for b in run.biases]
    rows = run.permutation[run.cursor : run.cursor + run.hyper.batch_size].copy()
    assert run.step()
    fwd, back, used_rows, used_weights = run.last_step_passes
    assert np.array_equal(used_rows, rows)
    ref_fwd = run.network.forward(weights_before, biases_before, run.X_train[rows])
    ref_back = run.network.backward(weights_before, ref_fwd, run.Y_train[rows], 0.001, 0.0)
    for a, b in zip(fwd.activations, ref_fwd.activations):
        assert a.tobytes() == b.tobytes()
    for a, b in zip(back.grad_weights, ref_back.grad_weights):
        assert a.tobytes() == b.tobytes()
    assert all(a.tobytes() == b.tobytes() for a, b in zip(used_weights, weights_before))
    assert run.last_step_passes[0] is fwd  # computed once
    # The compiled step recorded the loss the reference pass computes.
    assert run.history.steps.array()[-1, 2] == pytest.approx(ref_back.data_loss, rel=RTOL)


def test_two_runs_of_one_session_are_bit_identical_and_resume_equals_never_stopping():
    a, b = default_run(optimizer="adam"), default_run(optimizer="adam")
    a.train(137)
    b.train(60)
    state = b.capture()
    c = default_run(optimizer="adam")
    c.restore(state)
    c.history = b.history
    c.train(77)
    assert run_bytes(a) == run_bytes(c)


def on_numpy(monkeypatch, make, steps):
    """A run made and trained with the compiler switched off: (run, steps applied, its path)."""
    with monkeypatch.context() as patch:
        patch.setenv(compiled.NO_COMPILE_ENV, "1")
        run = make()
        return run, run.train(steps), run.step_path


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])  # adam and rmsprop: huge inputs, below
@pytest.mark.parametrize("rate", [3.0, 40.0, 3000.0, 1e6])
def test_a_diverging_rate_stops_at_the_same_step_with_the_same_report_on_both_paths(monkeypatch, optimizer, rate):
    def make():
        return TrainingRun.create(network=NetworkSpec((4, 2), ("linear", "linear")),
                                  hyper=Hyperparameters(optimizer=optimizer, learning_rate=rate))

    slow, n_slow, slow_path = on_numpy(monkeypatch, make, 3000)
    fast = make()
    assert (slow_path, fast.step_path) == ("numpy", "compiled")
    assert fast.train(3000) == n_slow < 3000
    assert fast.divergence == slow.divergence and fast.divergence is not None
    assert fast.flat.tobytes() != slow.flat.tobytes() or n_slow == 0  # two paths, not one


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "sgd"])
@pytest.mark.parametrize("scale", [1e45, 1e200])
def test_huge_inputs_diverge_alike_on_both_paths(monkeypatch, optimizer, scale):
    from test_guard import huge_input_run

    slow, n_slow, _ = on_numpy(monkeypatch, lambda: huge_input_run(optimizer, scale=scale), 5)
    fast = huge_input_run(optimizer, scale=scale)
    assert fast.step_path == "compiled"
    assert fast.train(5) == n_slow
    assert fast.divergence == slow.divergence


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("bad_value", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("optimizer, buffer", [(o, b) for o, names in STATE_BUFFERS.items() for b in names])
def test_a_non_finite_optimizer_buffer_is_refused_alike_on_both_paths(monkeypatch, optimizer, buffer, bad_value):
    """The kernel's guard names the same buffer and layer as the numpy path's, and the refused
    step changes nothing."""
    def make():
        run = TrainingRun.create(network=NetworkSpec((3, 2), ("tanh", "tanh")),
                                 hyper=Hyperparameters(optimizer=optimizer, learning_rate=0.01))
        run.train(7)
        return run

    for layer in range(3):
        def corrupt(run, _layer=layer):
            bufs = {k: [v[0].copy()] for k, v in run.opt_state.buffers.items()}
            run.layout.unpack(bufs[buffer][0])[0][_layer].flat[0] = bad_value
            for v in bufs.values():
                v[0].setflags(write=False)
            run.opt_state = OptimizerState(bufs, run.opt_state.t)
            return run

        slow, _, _ = on_numpy(monkeypatch, lambda: corrupt(make()), 0)
        with monkeypatch.context() as patch:
            patch.setenv(compiled.NO_COMPILE_ENV, "1")
            assert not slow.step()
        fast = corrupt(make())
        before = run_bytes(fast)
        assert not fast.step() and fast.step_path == "compiled"
        assert fast.divergence == slow.divergence
        assert (fast.divergence.quantity, fast.divergence.buffer, fast.divergence.layer) == ("optimizer_state", buffer, layer)
        assert run_bytes(fast) == before


def test_the_switch_forces_the_numpy_path_and_it_says_so(monkeypatch):
    monkeypatch.setenv(compiled.NO_COMPILE_ENV, "1")
    assert not compiled.available()
    assert compiled.NO_COMPILE_ENV in compiled.reason()
    run = default_run()
    assert run.step_path == "numpy"
    assert run.train(30) == 30


def test_without_numba_the_app_falls_back_to_numpy():
    # A fresh interpreter where numba cannot be imported at all.
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "from sandbox.engine import compiled\n"
        "from sandbox.session import TrainingRun\n"
        "run = TrainingRun.create(); assert run.train(20) == 20\n"
        "print(run.step_path, '|', compiled.reason())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    path, why = out.stdout.strip().split(" | ")
    assert path == "numpy" and "numba is not available" in why


def test_the_cache_moves_to_the_user_cache_folder_when_the_package_is_read_only(tmp_path, monkeypatch):
    from sandbox.engine.compiled import cache

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(cache, "package_cache_writable", lambda: False)
    monkeypatch.setattr("platformdirs.user_cache_dir", lambda name: str(tmp_path / name))
    from numba.core import config

    reloads = []
    # numba is imported already here: its configuration is read again (recorded, not done, so
    # the rest of the session keeps its own cache folder).
    monkeypatch.setattr(config, "reload_config", lambda: reloads.append(os.environ["NUMBA_CACHE_DIR"]))
    cache.prepare_cache_dir()
    assert reloads == [str(tmp_path / "backprop-sandbox" / "numba")]
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "backprop-sandbox" / "numba")
    assert (tmp_path / "backprop-sandbox" / "numba").is_dir()
    # A folder the user chose is kept.
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/somewhere/else")
    cache.prepare_cache_dir()
    assert os.environ["NUMBA_CACHE_DIR"] == "/somewhere/else"
