"""The session model: data, features, the training run, its history and session files.

Pure numpy; nothing here imports Qt.
"""

from .config import DataSpec, Hyperparameters, NetworkSpec
from .datasets import GENERATORS, Dataset, generate
from .run import Divergence, Evaluation, Inspection, TrainingRun

__all__ = [
    "GENERATORS",
    "DataSpec",
    "Dataset",
    "Divergence",
    "Evaluation",
    "Hyperparameters",
    "Inspection",
    "NetworkSpec",
    "TrainingRun",
    "generate",
]
