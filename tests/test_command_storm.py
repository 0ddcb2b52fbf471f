"""A seeded storm of commands sent to a playing worker ends bit for bit where the same commands,
applied serially at the same steps, end.

The worker applies each command between two steps; a wrapper around ``commands.apply`` records,
in the worker's thread, the step count of the run at that moment and whether the command was
refused.  The replay builds a fresh run, trains to each recorded step count, applies the command
with ``apply(run, cmd)``, and finally trains to the worker's last step: the two ``RunState``
values must be equal (``==`` compares every array's bytes).  Anything the worker does besides
applying commands and stepping (snapshots, previews, inspections, acknowledgements, queries)
must therefore leave the run's state alone.
"""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt

import sandbox._qt.worker as worker_module
from qt_helpers import small_run
from sandbox._qt.worker import TrainingWorker
from sandbox.session import commands as cmd
from sandbox.session import NetworkSpec
from sandbox.session.naming import BiasRef, WeightRef

pytestmark = pytest.mark.gui

ORIGINAL_APPLY = cmd.apply


def _random_command(rng: random.Random, sizes: tuple[int, ...]) -> cmd.Command:
    """One command of every kind the GUI sends during training, for a run of ``sizes``."""
    layer = rng.randrange(len(sizes) - 1)
    kind = rng.choice(["weight", "weight", "bias", "hyper", "step", "epoch", "play", "play",
                       "pause", "toggle", "reset", "seed", "network", "query"])
    if kind == "weight":
        ref = WeightRef(layer, rng.randrange(sizes[layer]), rng.randrange(sizes[layer + 1]))
        return cmd.EditWeight(ref, rng.uniform(-2, 2))
    if kind == "bias":
        return cmd.EditBias(BiasRef(layer, rng.randrange(sizes[layer + 1])), rng.uniform(-1, 1))
    if kind == "hyper":
        change = rng.choice([("learning_rate", rng.choice([0.003, 0.01, 0.03, 0.1])),
                             ("batch_size", rng.choice([1, 5, 10, 32])),
                             ("optimizer", rng.choice(["sgd", "momentum", "adam", "rmsprop"])),
                             ("l2", rng.choice([0.0, 0.001, 0.01])),
                             ("learning_rate", -1.0)])  # refused: both sides must refuse it
        return cmd.SetHyperparameters((change,))
    if kind == "step":
        return cmd.Step(rng.randint(1, 30))
    if kind == "epoch":
        return cmd.StepEpoch()
    if kind == "play":
        return cmd.Play()
    if kind == "pause":
        return cmd.Pause()
    if kind == "toggle":
        return cmd.TogglePlay()
    if kind == "reset":
        return cmd.Reset()
    if kind == "seed":
        return cmd.NewSeed(rng.randrange(1000))
    if kind == "network":
        hidden = tuple(rng.choice([2, 3, 4]) for _ in range(rng.randint(1, 2)))
        return cmd.Reconfigure(network=NetworkSpec(hidden, ("tanh",) * len(hidden)))
    return cmd.EvaluateLoss(WeightRef(0, 0, 0), rng.uniform(-1, 1), request=rng.randrange(100))


def _what_if_command(rng: random.Random, sizes: tuple[int, ...]) -> cmd.Command:
    """A what-if query (its refs may be stale after a reconfigure: it is answered with None),
    a refused one, or an edit that records its predicted and actual ΔJ."""
    layer = rng.randrange(len(sizes) - 1)
    ref = WeightRef(layer, rng.randrange(sizes[layer]), rng.randrange(sizes[layer + 1]))
    other = BiasRef(layer, rng.randrange(sizes[layer + 1]))
    return rng.choice([cmd.LossAlong(ref, (-0.5, 0.0, 0.5)), cmd.GradientCheck(ref),
                       cmd.LossSurface(ref, other, (-0.1, 0.1), (0.0, 0.2)),
                       cmd.GradientCheck(ref, -1.0),  # refused: both sides must refuse it
                       cmd.EditWeight(ref, rng.uniform(-2, 2), predicted_change=rng.uniform(-0.1, 0.1))])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_storm_of_commands_while_playing_matches_the_serial_replay(qtbot, monkeypatch, seed):
    applied: list[tuple[int, cmd.Command, bool]] = []  # (step before, command, refused)
    lock = threading.Lock()

    def recording_apply(run, command):
        step = run.step_count
        try:
            outcome = ORIGINAL_APPLY(run, command)
        except ValueError:
            with lock:
                applied.append((step, command, True))
            raise
        with lock:
            applied.append((step, command, False))
        return outcome

    monkeypatch.setattr(worker_module.cmd, "apply", recording_apply)
    worker = TrainingWorker(small_run())
    published = []

    def on_ready() -> None:  # the GUI's part: take and acknowledge every snapshot
        if worker.take() is not None:
            published.append(1)
        worker.acknowledge()

    worker.snapshotReady.connect(on_ready, Qt.ConnectionType.DirectConnection)
    answers: list[tuple] = []
    worker.resultReady.connect(lambda c, v: answers.append((c, v)), Qt.ConnectionType.DirectConnection)
    finished = []
    worker.finished.connect(lambda: finished.append(1), Qt.ConnectionType.DirectConnection)
    worker.start()
    try:
        rng = random.Random(seed)
        what_if_rng = random.Random(seed + 1000)  # its own stream: the storm above stays as it was
        sizes = (2, 4, 2, 1)  # the current run's layer sizes, as the commands sent so far leave them
        worker.submit(cmd.Play())
        for burst in range(40):
            for _ in range(rng.randint(1, 4)):
                command = _random_command(rng, sizes)
                if isinstance(command, cmd.Reconfigure):
                    sizes = (2, *command.network.hidden_sizes, 1)
                worker.submit(command, generation=burst + 1)
            worker.submit(_what_if_command(what_if_rng, sizes), generation=burst + 1)
            if rng.random() < 0.5:
                worker.submit(cmd.Play())  # keep it playing most of the time
            # Let the worker catch up (a query is answered after every command before it) and,
            # if it is playing, train and publish once before the next burst.
            count = len(published)
            worker.submit(cmd.EvaluateLoss(WeightRef(0, 0, 0), 0.0, request=10_000 + burst))
            qtbot.waitUntil(lambda: any(c.request == 10_000 + burst for c, _ in answers), timeout=5000)
            qtbot.waitUntil(lambda: len(published) > count or not worker._playing, timeout=5000)  # noqa: SLF001
        worker.submit(cmd.Pause())
        worker.submit(cmd.Quit())
        qtbot.waitUntil(lambda: bool(finished), timeout=5000)
    finally:
        assert worker.stop(), "the worker thread did not stop"
    final = worker._run  # noqa: SLF001 - the worker's thread has ended: nothing else holds it

    monkeypatch.setattr(worker_module.cmd, "apply", ORIGINAL_APPLY)
    kinds = {type(c).__name__ for _, c, _ in applied}
    assert {"EditWeight", "Step", "Reconfigure", "SetHyperparameters", "LossAlong", "GradientCheck",
            "LossSurface"} <= kinds, kinds
    assert any(refused for *_, refused in applied)
    run = small_run()
    with np.errstate(all="ignore"):
        for step, command, refused in applied:
            assert step >= run.step_count, "the recorded order is not the worker's order"
            run.train(step - run.step_count)
            try:
                run = ORIGINAL_APPLY(run, command).run
                assert not refused, f"{command} was refused by the worker only"
            except ValueError:
                assert refused, f"{command} was refused by the replay only"
        run.train(final.step_count - run.step_count)
    assert run.layer_sizes == final.layer_sizes
    assert run.capture() == final.capture()
    assert final.step_count > 0 and len(applied) > 40
