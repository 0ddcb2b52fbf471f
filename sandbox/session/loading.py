"""Open what a user points the app or the command line at: a session file or a CSV file.

A CSV file starts a fresh session on its data (the default network, the output and loss the
data's task calls for); everything else is read as a session file.
"""

from __future__ import annotations

import os
from pathlib import Path

from .csv_import import load_csv
from .playground import is_playground_link, run_from_link
from .run import TrainingRun
from .session_file import load, load_workspace
from .workspace import Workspace


def is_csv(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() in (".csv", ".tsv", ".txt")


def open_path(path: str | os.PathLike[str]) -> TrainingRun:
    """The run stored in a session file, a new run on a CSV file's data, or the session a
    TensorFlow Playground link describes (see :mod:`sandbox.session.playground`; its note of
    what could not be matched is in the run's description).

    Raises
    ------
    SessionFileError or CsvError
        Both ValueErrors whose message names the file and the problem; or
        PlaygroundLinkError for a malformed link.
    """
    if is_playground_link(str(path)):
        return run_from_link(str(path)).run
    if is_csv(path):
        run = TrainingRun.create(load_csv(path))
        run.description = f"Imported from {Path(path).name}."
        return run
    return load(path)


def open_workspace(path: str | os.PathLike[str]) -> Workspace:
    """What :func:`open_path` opens, as a workspace: a session file's live run with its earlier
    runs (curves only; see :func:`~sandbox.session.session_file.load_workspace`), or a fresh
    workspace on a new run on a CSV file's data.

    Raises
    ------
    SessionFileError or CsvError
        Both ValueErrors whose message names the file and the problem.
    """
    if is_csv(path) or is_playground_link(str(path)):
        return Workspace(open_path(path))
    return load_workspace(path)
