"""Capturing and restoring a training run's state (a mixin of
:class:`~sandbox.session.run.TrainingRun`): the start state of a seed, ``capture`` and
``restore``, and the checks that a state fits the run."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..engine import OptimizerState, initial_state, initialize
from .commands import ParameterEdited
from .state import RunState, ShuffleRngState, readonly

Array = np.ndarray


class RunStateIO:
    """``start_state``, ``capture`` and ``restore`` of a TrainingRun (see ``state.RunState``)."""

    def start_state(self) -> RunState:
        """The state at step 0 for this seed and the current hyperparameters.

        Returns
        -------
        RunState
            The initial weights of ``seed``, zeroed optimizer state, and the first shuffle of
            the generator seeded with ``[seed, 1]``.  The same for every call.
        """
        flat = readonly(self.layout.pack(*initialize(self.network_spec.init, self.layer_sizes, self.seed)))
        rng = np.random.default_rng([self.seed, 1])
        permutation = readonly(rng.permutation(self.n_train))
        return RunState(
            seed=self.seed,
            hyper=self.hyper,
            layer_sizes=self.layer_sizes,
            parameters=flat,
            optimizer_state=readonly_state(initial_state(self.hyper.optimizer, [flat])),
            shuffle_rng=ShuffleRngState.of(rng),
            permutation=permutation,
            cursor=0,
            step=0,
            epoch=0,
        )


    def capture(self) -> RunState:
        """The run's state now, as an immutable value (cheap: the arrays are shared, not copied).

        Returns
        -------
        RunState
            Everything that determines the run's future; :meth:`restore` puts it back.  The
            history is not part of it.
        """
        state = RunState(
            seed=self.seed,
            hyper=self.hyper,
            layer_sizes=self.layer_sizes,
            parameters=self.flat,
            optimizer_state=self.opt_state,
            shuffle_rng=ShuffleRngState.of(self.shuffle_rng),
            permutation=self.permutation,
            cursor=self.cursor,
            step=self.step_count,
            epoch=self.epoch,
            phase=self.phase,
            last_update=self.last_update,
            divergence=self.divergence,
        )
        # The same values in read-only form (copied once if an optimizer switch left writable
        # zeros): the next capture then shares them too.
        self.opt_state = state.optimizer_state
        return state

    def restore(self, state: RunState) -> None:
        """Make ``state`` the run's state: the steps that follow are bit-identical to the ones
        that followed when it was captured.

        The history is left as it is (it is the log of the past; replace it separately), the
        edit-marker coalescing starts afresh, and a half-run step's passes are recomputed.

        Parameters
        ----------
        state
            A state captured from this run or one with the same layer sizes and training-set
            size (``session_file`` builds one from a file).

        Raises
        ------
        TypeError
            If ``state`` is not a :class:`RunState`.
        ValueError
            If it does not fit this run: other layer sizes, a permutation that is not one of
            this run's training examples, or a divergence in a layer the network lacks.  The run
            is unchanged then.
        """
        self._check_fits(state)
        self.seed = state.seed
        self.hyper = state.hyper
        self._set_flat(state.parameters)
        #: The optimizer's state, one flat vector per buffer (laid out like ``flat``).
        self.opt_state = state.optimizer_state
        self.shuffle_rng = state.shuffle_rng.generator()
        self.permutation = state.permutation
        self.cursor = state.cursor
        self.step_count = state.step
        self.epoch = state.epoch
        #: The update Δp the last applied step added to ``flat``.
        self.last_update = state.last_update
        self.divergence = state.divergence
        self._last_edit: ParameterEdited | None = None  # the edit burst a slider drag is in
        self._clear_pending()
        self.version += 1
        if state.phase == "forward":
            self.forward()
        elif state.phase == "backward":
            self.backward()

    def _check_fits(self, state: RunState) -> None:
        if not isinstance(state, RunState):
            raise TypeError(f"restore needs a RunState, got {type(state).__name__}")
        if state.layer_sizes != self.layer_sizes:
            raise ValueError(
                f"the state is for a network with layer sizes {_sizes(state.layer_sizes)}; "
                f"this run's network has {_sizes(self.layer_sizes)}"
            )
        if len(state.permutation) != self.n_train:
            raise ValueError(
                f"the state's permutation orders {len(state.permutation)} training examples; "
                f"this run has {self.n_train}"
            )
        if not np.array_equal(np.sort(state.permutation), np.arange(self.n_train)):
            raise ValueError("the state's permutation must list every training example exactly once")
        div = state.divergence
        if div is not None and div.layer is not None and not 0 <= div.layer < len(self.layer_sizes) - 1:
            raise ValueError(
                f"the state's divergence names layer {div.layer}; this network has layers "
                f"0 … {len(self.layer_sizes) - 2}"
            )


def readonly_state(fresh: OptimizerState) -> OptimizerState:
    """The same, for the buffers of an optimizer state ``propose`` or ``initial_state`` made."""
    for arrays in fresh.buffers.values():
        for array in arrays:
            array.setflags(write=False)
    return fresh


def _sizes(layer_sizes: Sequence[int]) -> str:
    return "-".join(str(n) for n in layer_sizes)
