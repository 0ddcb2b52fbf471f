"""What a save writes, taken in one moment: a frozen copy of the workspace.

The worker thread owns the workspace and changes it between every two steps, so a save made
elsewhere (the autosave's writer thread) must not read it.  :func:`image_of` takes, between two
steps, what a session file needs: a fork of the live run holding a copy of its state and
history (never stepped), the live run's identity, and the earlier runs as the views see them
(already immutable).  Taking it costs a copy of the history arrays; building and writing the
JSON document (:func:`sandbox.session.session_file.save_image`) can then happen in any thread.

A file saved while scrubbed back holds the live end of the run: the image is always of the
live run.  "Continue from here" makes the shown step the live end first.
"""

from __future__ import annotations

from dataclasses import dataclass

from .run import TrainingRun
from .runs import EarlierRun, RunInfo


@dataclass(frozen=True)
class SaveImage:
    """A workspace as a save sees it.

    Attributes
    ----------
    run
        A frozen copy of the live run: its state and history at the moment taken.  Nothing
        steps it; readers must not either.
    live
        The live run's identity (its number, what started it, where it branched).
    earlier
        The earlier runs: their identity, settings and curves (no state: files keep curves
        only).
    """

    run: TrainingRun
    live: RunInfo
    earlier: tuple[EarlierRun, ...] = ()

    @property
    def step(self) -> int:
        return self.run.step_count


def freeze_run(run: TrainingRun) -> TrainingRun:
    """A copy of ``run`` that later steps of ``run`` do not change."""
    frozen = run.fork()
    frozen.restore(run.capture())
    frozen.history = run.history.copy()
    return frozen


def image_of(workspace) -> SaveImage:
    """The workspace's live run, its identity and its earlier runs, frozen (see the module)."""
    catalog = workspace.catalog()
    return SaveImage(freeze_run(workspace.run), catalog.live, catalog.earlier)
