"""Taking a trained network out of the app: weights (NumPy ``.npz``, JSON), a standalone Python
script (numpy or PyTorch) and the loss history (CSV).

Everything here is Qt-free and works on an :class:`ExportedNetwork` (made from a training run or
from the snapshot the app shows) or on a :class:`HistoryTables` (a run's history, or the app's
mirror of it).  Every file is written atomically; a file that cannot be written raises
:class:`ExportError`, a ValueError whose message starts with the path.
"""

from __future__ import annotations

from .code import numpy_script, torch_script, write_code
from .history import HistoryTables, history_csv, read_history_csv, write_history
from .network import ExportError, ExportedNetwork
from .weights import read_weights_json, weights_json, write_npz, write_weights_json

__all__ = [
    "ExportError",
    "ExportedNetwork",
    "HistoryTables",
    "history_csv",
    "numpy_script",
    "read_history_csv",
    "read_weights_json",
    "torch_script",
    "weights_json",
    "write_code",
    "write_history",
    "write_npz",
    "write_weights_json",
]
