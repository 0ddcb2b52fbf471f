"""Session files: one versioned, human-readable JSON document per session.

A session file holds everything needed to continue its live run bit for bit: the
configuration, the data itself (so imported CSV data travels with the file), the weights, the
optimizer state, the shuffle RNG state, the step and epoch counters, and the history; and the
earlier runs' curves (the ``runs`` section, below).  The ``seed``, ``training``
and ``state`` sections together are the run's :class:`~sandbox.session.state.RunState`: writing
takes ``run.capture()``, reading builds a RunState and hands it to ``run.restore``; the history
is read and set separately.

Reading is defensive.  The file size is checked before anything is read; the JSON parser
rejects NaN, Infinity and over-deep nesting; then every field's type, range and array shape is
validated against the declared architecture *before* any array is built.  Every problem raises
:class:`SessionFileError` naming the file and the problem.  Nothing is unpickled, evaluated or
imported by name.

Format versions: 2 adds each history series' ``appends_since_compaction`` (when its next
downsampling is due), so a saved and resumed run keeps exactly the history of one that never
stopped.  Format 1 files still load; their phase is derived from the rows (see
:meth:`~sandbox.session.history.Series.from_array`).  Format 3 adds each layer's
update-to-weight ratio ‖ΔW_l‖/‖W_l‖ to the step history (``update_ratio_<l>``); older files
load with those columns empty (NaN: the ratios of past steps were never recorded).  Format 4
adds an optional ``runs`` section (:mod:`sandbox.session.runs_section`): the live run's identity
and the earlier runs' identity, settings, visibility and curves, never their weights;
:func:`load_workspace` reads it, :func:`load` ignores it (after checking it), and older files
load with no earlier runs.  Files of a newer format are refused with a message saying so.

Writing is atomic (:mod:`sandbox.session.atomic_write`): a temporary file in the same folder is
written and fsynced, then ``os.replace``d over the target, so a failure or a kill mid-save
leaves the old file intact.  A symlink keeps its link, a read-only file is refused, and the
temporary files of killed saves are removed by the next save into that folder.
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any, Sequence

import numpy as np

from .. import __version__
from ..engine import OptimizerState
from ..engine.optimizers import STATE_BUFFERS
from .atomic_write import WriteError
from .atomic_write import atomic_write as write_atomically
from .config import DataSpec, Hyperparameters, NetworkSpec
from .csv_import import MAX_CLASSES, MAX_MAGNITUDE
from .datasets import CLASSIFICATION, MAX_POINTS, REGRESSION, Dataset
from .json_readers import (
    _Invalid,
    _dict,
    _encodable,
    _kind,
    _int,
    _num,
    _str,
    _list,
    _numbers,
    _matrix,
    _layer_arrays,
    _read_history,
)
from .json_text import dumps, first_unwritable, loads
from .regular_file import read_regular
from .run import TrainingRun
from .runs_section import read_runs, runs_document
from .save_checks import measure
from .save_image import SaveImage
from .state import QUANTITIES, Divergence, RunState, ShuffleRngState, readonly
from .workspace import Workspace

FORMAT = "backprop-sandbox-session"
FORMAT_VERSION = 4
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_DESCRIPTION = 4000


class SessionFileError(ValueError):
    """A session file cannot be read or written; the message names the file and the problem."""


# ----------------------------------------------------------------------------------- writing


def save(run: TrainingRun, path: str | os.PathLike[str]) -> None:
    """Write ``run`` to ``path`` atomically (a bare run: no ``runs`` section).

    Raises
    ------
    SessionFileError
        For every failure, and nothing else (a value no file holds, over 64 MB, no permission,
        disk full, a bad name …); the old file is untouched.
    """
    _write(lambda: to_document(run), path)


def save_image(image: "SaveImage", path: str | os.PathLike[str]) -> None:
    """Write a frozen workspace (:mod:`sandbox.session.save_image`) to ``path`` atomically: the
    live run and the ``runs`` section (:func:`image_document`).  Any thread may call this.

    Raises
    ------
    SessionFileError
        As :func:`save` does.
    """
    _write(lambda: image_document(image), path)


def _write(document, path: str | os.PathLike[str]) -> None:
    """Build the document (``document()``), check its size and write it atomically."""
    doc = None
    try:
        text = dumps(doc := document()).encode("utf-8")
    except (ValueError, OverflowError, TypeError, OSError) as exc:
        found = None if doc is None else first_unwritable(doc)
        raise SessionFileError(f"{path}: could not save ({' '.join(found) if found else exc})") from None
    if len(text) > MAX_FILE_BYTES:
        raise SessionFileError(measure(doc).problem(path, MAX_FILE_BYTES))
    try:
        atomic_write(path, text)
    except SessionFileError:
        raise
    except (OSError, ValueError, OverflowError, TypeError) as exc:  # e.g. a NUL byte in the name
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SessionFileError(f"{path}: could not save ({why})") from None


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (see :mod:`sandbox.session.atomic_write`).

    Raises
    ------
    SessionFileError
        If the file cannot be written, or is read-only; the old file is untouched.
    """
    try:
        write_atomically(path, data)
    except WriteError as exc:
        raise SessionFileError(str(exc)) from None


def _floats(arr: np.ndarray) -> Any:
    """A nested list of Python floats (``tolist`` keeps every bit)."""
    return np.asarray(arr, dtype=np.float64).tolist()


def _nullable(values: np.ndarray) -> list:
    return [v if math.isfinite(v) else None for v in np.asarray(values, dtype=np.float64).tolist()]


def _layers(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> dict[str, Any]:
    return {"weights": [_floats(W) for W in weights], "biases": [_floats(b) for b in biases]}


def to_document(run: TrainingRun) -> dict[str, Any]:
    """The JSON document (plain dicts and lists) for ``run``.

    The ``state`` section is ``run.capture()``, except its phase: a half-run step is saved as
    not started (the next step computes the same passes again).  The history is written from
    ``run.history``.
    """
    ds, spec, net = run.dataset, run.data_spec, run.network_spec
    state = run.capture()
    hyper, layout = state.hyper, run.layout
    targets = ds.targets.astype(np.int64).tolist() if ds.is_classification else _floats(ds.targets)
    history = run.history
    rng = state.shuffle_rng
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "app_version": __version__,
        "description": run.description,
        "features": list(run.features),
        "network": {
            "hidden_sizes": list(net.hidden_sizes),
            "hidden_activations": list(net.hidden_activations),
            "output_activation": net.output_activation,
            "loss": net.loss,
            "init": net.init,
        },
        "training": {
            "optimizer": hyper.optimizer,
            "learning_rate": float(hyper.learning_rate),
            "batch_size": hyper.batch_size,
            "l1": float(hyper.l1),
            "l2": float(hyper.l2),
            "momentum": float(hyper.momentum),
            "rho": float(hyper.rho),
            "beta1": float(hyper.beta1),
            "beta2": float(hyper.beta2),
            "eps": float(hyper.eps),
            "evaluate_each_epoch": run.evaluate_each_epoch,
        },
        "seed": state.seed,
        "state": {
            "step": state.step,
            "epoch": state.epoch,
            "cursor": state.cursor,
            "permutation": state.permutation.tolist(),
            "shuffle_rng": {
                "bit_generator": "PCG64",
                "state": rng.state,
                "inc": rng.inc,
                "has_uint32": rng.has_uint32,
                "uinteger": rng.uinteger,
            },
            "parameters": _layers(*layout.unpack(state.parameters)),
            "optimizer_state": {
                "t": state.optimizer_state.t,
                "buffers": {
                    name: _layers(*layout.unpack(bufs[0]))
                    for name, bufs in state.optimizer_state.buffers.items()
                },
            },
            "last_update": None if state.last_update is None else _layers(*layout.unpack(state.last_update)),
            # "buffer" only for an optimizer-state stop: files without one stay as they were.
            "divergence": None if state.divergence is None else {
                k: float(v) if k == "learning_rate" else v
                for k, v in dataclasses.asdict(state.divergence).items() if k != "buffer" or v is not None},
        },
        "history": {
            "steps": {
                "columns": ["step", "weight", *history.steps.columns],
                "rows": [_nullable(row) for row in history.steps.array()],
                "appends_since_compaction": history.steps.appends_since_compaction,
            },
            "evaluations": {
                "columns": ["step", "weight", *history.evaluations.columns],
                "rows": [_nullable(row) for row in history.evaluations.array()],
                "appends_since_compaction": history.evaluations.appends_since_compaction,
            },
            "markers": [[m.step, m.text] for m in history.markers],
        },
        "data": {
            "source": spec.source,
            # DataSpec accepts numpy integers; the JSON writer takes Python numbers only.
            "n_points": int(spec.n_points),
            "noise": float(spec.noise),
            "train_fraction": float(spec.train_fraction),
            "seed": int(spec.seed),
            "name": ds.name,
            "task": ds.task,
            "input_names": list(ds.input_names),
            "target_name": ds.target_name,
            "class_names": list(ds.class_names),
            "inputs": _floats(ds.inputs),
            "targets": targets,
            "is_train": ds.is_train.astype(np.int64).tolist(),
        },
    }


def image_document(image: SaveImage) -> dict[str, Any]:
    """The JSON document for a frozen workspace: :func:`to_document` of its live run, plus the
    ``runs`` section (:func:`sandbox.session.runs_section.runs_document`): the live run's
    identity and every earlier run's identity, settings, visibility and curves, but none of
    their weights or checkpoints."""
    doc = to_document(image.run)
    doc["runs"] = runs_document(image.live, image.earlier)
    return doc


# ----------------------------------------------------------------------------------- reading


def load(path: str | os.PathLike[str]) -> TrainingRun:
    """Read and validate a session file: its live run (a ``runs`` section is checked, then left
    out; see :func:`load_workspace`).

    Raises
    ------
    SessionFileError
        For any problem, with a message that names the file and what is wrong.
    """
    return loads_session(_read_file(path), str(path))


def load_workspace(path: str | os.PathLike[str]) -> Workspace:
    """Read and validate a session file as a workspace: the live run, with the identity and the
    earlier runs (curves only) of its ``runs`` section; a file without one gives a workspace
    with no earlier runs, its run's origin ``"loaded"``.

    Raises
    ------
    SessionFileError
        For any problem, with a message that names the file and what is wrong.
    """
    return loads_workspace(_read_file(path), str(path))


def _read_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of the file at ``path``, refused past :data:`MAX_FILE_BYTES` before reading."""
    shown = str(path)
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise SessionFileError(
                f"{shown}: the file is {size / 2**20:.0f} MB; session files are at most 64 MB"
            )
        raw = read_regular(path, MAX_FILE_BYTES)  # a pipe or device is refused, never read
    except OSError as exc:
        raise SessionFileError(f"{shown}: cannot read the file ({exc.strerror or exc})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise SessionFileError(f"{shown}: the file is larger than 64 MB")
    return raw


def loads_session(raw: bytes | str, shown: str = "<session>") -> TrainingRun:
    """Parse and validate session text; ``shown`` names the source in error messages."""
    return _parse(raw, shown, from_document)


def loads_workspace(raw: bytes | str, shown: str = "<session>") -> Workspace:
    """Parse and validate session text as a workspace (see :func:`load_workspace`)."""
    return _parse(raw, shown, workspace_from_document)


def _parse(raw: bytes | str, shown: str, build):
    """``build(document)`` of session text, every problem a SessionFileError naming ``shown``."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise SessionFileError(f"{shown}: not a session file (the bytes are not UTF-8 text)") from None
    if not text.strip():
        raise SessionFileError(f"{shown}: the file is empty")
    try:
        doc = loads(text)
    except ValueError as exc:
        raise SessionFileError(f"{shown}: {exc}") from None
    try:
        return build(doc)
    except _Invalid as exc:
        raise SessionFileError(f"{shown}: {exc}") from None
    except ValueError as exc:  # a value the model itself refused
        raise SessionFileError(f"{shown}: {exc}") from None


def from_document(doc: Any) -> TrainingRun:
    """Validate a parsed document and build the run it describes."""
    return _read_document(doc)[0]


def workspace_from_document(doc: Any) -> Workspace:
    """Validate a parsed document and build the workspace it describes (see
    :func:`load_workspace`)."""
    run, runs = _read_document(doc)
    if runs is None:
        return Workspace(run, origin="loaded")
    live, earlier = runs
    return Workspace(run, earlier=earlier, live_info=live)


def _read_document(doc: Any) -> tuple[TrainingRun, tuple | None]:
    """The run a parsed document describes, and its ``runs`` section (``read_runs``), or None
    for a file without one."""
    # What kind of file and which format version come first: a newer file may well have
    # other fields, and saying "newer version" is the useful message then.
    if not isinstance(doc, dict):
        raise _Invalid(f"the document must be an object, got {_kind(doc)}")
    if doc.get("format") != FORMAT:
        raise _Invalid(f"not a Backprop Sandbox session (format is {str(doc.get('format'))[:40]!r})")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _Invalid(f"version must be a positive integer, got {_kind(version)}")
    if version > FORMAT_VERSION:
        raise _Invalid(
            f"the file uses session format {version}, which is newer than this version of "
            f"Backprop Sandbox understands (format {FORMAT_VERSION}); please update the app"
        )
    _dict(doc, "", ("format", "version", "data", "features", "network", "training", "seed", "state"),
          optional=("app_version", "description", "history", *(("runs",) if version >= 4 else ())))

    # --- data
    d = _dict(doc["data"], "data", ("source", "n_points", "noise", "train_fraction", "seed", "name", "task",
                                   "input_names", "target_name", "class_names", "inputs", "targets", "is_train"))
    task = _str(d["task"], "data.task", (CLASSIFICATION, REGRESSION))
    input_names = [_str(v, f"data.input_names[{k}]") for k, v in enumerate(_list(d["input_names"], "data.input_names", max_length=64))]
    if not input_names or len(set(input_names)) != len(input_names):
        raise _Invalid("data.input_names must be distinct names, at least one")
    class_names = [_str(v, f"data.class_names[{k}]") for k, v in enumerate(_list(d["class_names"], "data.class_names", max_length=MAX_CLASSES))]
    if task == CLASSIFICATION and len(class_names) < 2:
        raise _Invalid("data.class_names must name at least 2 classes for classification")
    if task == REGRESSION and class_names:
        raise _Invalid("data.class_names must be empty for regression")
    if len(set(class_names)) != len(class_names):
        twice = next(c for c in class_names if class_names.count(c) > 1)
        raise _Invalid(f"data.class_names names the class {twice[:40]!r} twice")
    n = len(_list(d["inputs"], "data.inputs", max_length=MAX_POINTS))
    if n < 2:
        raise _Invalid("data.inputs must hold at least 2 examples")
    inputs = _matrix(d["inputs"], "data.inputs", n, len(input_names))
    if not np.isfinite(inputs).all():
        raise _Invalid("data.inputs holds a number too large for a double")
    # The CSV reader's bound (see csv_import): beyond it a first step can overflow.
    if np.abs(inputs).max(initial=0.0) > MAX_MAGNITUDE:
        raise _Invalid(f"data.inputs holds a number larger than {MAX_MAGNITUDE:g} in magnitude")
    targets_list = _list(d["targets"], "data.targets", n)
    if task == CLASSIFICATION:
        for k, v in enumerate(targets_list):
            _int(v, f"data.targets[{k}]", 0, len(class_names) - 1)
    else:
        _numbers(targets_list, "data.targets")
    targets = np.array(targets_list, dtype=np.float64).reshape(n)
    if np.abs(targets).max(initial=0.0) > MAX_MAGNITUDE:
        raise _Invalid(f"data.targets holds a number larger than {MAX_MAGNITUDE:g} in magnitude")
    is_train_list = _list(d["is_train"], "data.is_train", n)
    for k, v in enumerate(is_train_list):
        _int(v, f"data.is_train[{k}]", 0, 1)
    is_train = np.array(is_train_list, dtype=bool).reshape(n)
    if not is_train.any():
        raise _Invalid("data.is_train marks no training examples")
    source = _str(d["source"], "data.source")
    try:
        spec = DataSpec(
            source=source,
            n_points=_int(d["n_points"], "data.n_points", 2, MAX_POINTS),
            noise=_num(d["noise"], "data.noise", 0.0, 1.0),
            train_fraction=_num(d["train_fraction"], "data.train_fraction", 0.0, 1.0),
            seed=_int(d["seed"], "data.seed", 0, 2**63 - 1),
        )
    except ValueError as exc:
        raise _Invalid(f"data: {exc}") from None
    dataset = Dataset(
        name=_str(d["name"], "data.name"),
        task=task,
        inputs=inputs,
        targets=targets,
        is_train=is_train,
        input_names=tuple(input_names),
        class_names=tuple(class_names),
        target_name=_str(d["target_name"], "data.target_name"),
    )

    # --- configuration
    features = [_str(v, f"features[{k}]") for k, v in enumerate(_list(doc["features"], "features", max_length=64))]
    net = _dict(doc["network"], "network", ("hidden_sizes", "hidden_activations", "output_activation", "loss", "init"))
    hidden_sizes = [_int(v, f"network.hidden_sizes[{k}]", 1, 4096)
                    for k, v in enumerate(_list(net["hidden_sizes"], "network.hidden_sizes", max_length=64))]
    hidden_acts = [_str(v, f"network.hidden_activations[{k}]")
                   for k, v in enumerate(_list(net["hidden_activations"], "network.hidden_activations", len(hidden_sizes)))]
    t = _dict(doc["training"], "training", ("optimizer", "learning_rate", "batch_size", "l1", "l2", "momentum",
                                           "rho", "beta1", "beta2", "eps"), optional=("evaluate_each_epoch",))
    try:
        network_spec = NetworkSpec(
            hidden_sizes=tuple(hidden_sizes),
            hidden_activations=tuple(hidden_acts),
            output_activation=_str(net["output_activation"], "network.output_activation"),
            loss=_str(net["loss"], "network.loss"),
            init=_str(net["init"], "network.init"),
        )
        hyper = Hyperparameters(
            optimizer=_str(t["optimizer"], "training.optimizer"),
            learning_rate=_num(t["learning_rate"], "training.learning_rate"),
            batch_size=_int(t["batch_size"], "training.batch_size", 1, 100_000),
            l1=_num(t["l1"], "training.l1"),
            l2=_num(t["l2"], "training.l2"),
            momentum=_num(t["momentum"], "training.momentum"),
            rho=_num(t["rho"], "training.rho"),
            beta1=_num(t["beta1"], "training.beta1"),
            beta2=_num(t["beta2"], "training.beta2"),
            eps=_num(t["eps"], "training.eps"),
        )
        # The size of the parameter arrays is bounded before any is built.
        n_params = _parameter_count(len(features), hidden_sizes, max(2, len(class_names)))
        if n_params > 5_000_000:
            raise _Invalid(f"the network would have {n_params:,} parameters; at most 5,000,000 are allowed")
        run = TrainingRun(dataset, spec, features, network_spec, hyper,
                          _int(doc["seed"], "seed", 0, 2**63 - 1))
    except _Invalid:
        raise
    except ValueError as exc:
        raise _Invalid(str(exc)) from None
    if "evaluate_each_epoch" in t:
        if not isinstance(t["evaluate_each_epoch"], bool):
            raise _Invalid("training.evaluate_each_epoch must be true or false")
        run.evaluate_each_epoch = t["evaluate_each_epoch"]

    if "app_version" in doc:
        _str(doc["app_version"], "app_version")  # not used, but text like every other field
    description = doc.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise _Invalid(f"description must be text of at most {MAX_DESCRIPTION} characters")
    _encodable(description, "description")
    run.description = description
    state = _read_state(run, doc["state"])
    history = _read_history(len(run.layer_sizes) - 1, doc.get("history"), version)
    runs = read_runs(doc["runs"]) if "runs" in doc else None
    run.restore(state)
    run.history = history
    return run, runs


def _parameter_count(n_in: int, hidden: Sequence[int], n_out: int) -> int:
    sizes = [max(n_in, 1), *hidden, n_out]
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def _read_state(run: TrainingRun, state: Any) -> RunState:
    """The ``state`` section as a RunState for ``run`` (which supplies seed and hyperparameters)."""
    s = _dict(state, "state", ("step", "epoch", "cursor", "permutation", "shuffle_rng", "parameters",
                               "optimizer_state"), optional=("last_update", "divergence"))
    sizes = run.layer_sizes
    n_train = run.n_train
    step = _int(s["step"], "state.step", 0, 2**62)
    epoch = _int(s["epoch"], "state.epoch", 0, 2**62)
    cursor = _int(s["cursor"], "state.cursor", 0, n_train - 1)
    perm_list = _list(s["permutation"], "state.permutation", n_train)
    for k, v in enumerate(perm_list):
        _int(v, f"state.permutation[{k}]", 0, n_train - 1)
    permutation = np.array(perm_list, dtype=np.int64)
    if not np.array_equal(np.sort(permutation), np.arange(n_train)):
        raise _Invalid("state.permutation must list every training example exactly once")

    rng = _dict(s["shuffle_rng"], "state.shuffle_rng", ("bit_generator", "state", "inc", "has_uint32", "uinteger"))
    _str(rng["bit_generator"], "state.shuffle_rng.bit_generator", ("PCG64",))
    shuffle_rng = ShuffleRngState(
        state=_int(rng["state"], "state.shuffle_rng.state", 0, 2**128 - 1),
        inc=_int(rng["inc"], "state.shuffle_rng.inc", 0, 2**128 - 1),
        has_uint32=_int(rng["has_uint32"], "state.shuffle_rng.has_uint32", 0, 1),
        uinteger=_int(rng["uinteger"], "state.shuffle_rng.uinteger", 0, 2**32 - 1),
    )

    weights, biases = _layer_arrays(s["parameters"], "state.parameters", sizes)
    opt = _dict(s["optimizer_state"], "state.optimizer_state", ("t", "buffers"))
    t = _int(opt["t"], "state.optimizer_state.t", 0, 2**62)
    expected_buffers = STATE_BUFFERS[run.hyper.optimizer]
    bufs = _dict(opt["buffers"], "state.optimizer_state.buffers", expected_buffers)
    buffers = {}
    for name in expected_buffers:
        w, b = _layer_arrays(bufs[name], f"state.optimizer_state.buffers.{name}", sizes)
        flat = run.layout.pack(w, b)
        if name in ("v", "mean_square") and (flat < 0).any():
            raise _Invalid(f"state.optimizer_state.buffers.{name} must not be negative")
        buffers[name] = [flat]
    last_update = None
    if s.get("last_update") is not None:
        last_update = run.layout.pack(*_layer_arrays(s["last_update"], "state.last_update", sizes))
    divergence = None
    if s.get("divergence") is not None:
        dv = _dict(s["divergence"], "state.divergence", ("step", "quantity", "layer", "learning_rate"),
                   optional=("buffer",))
        layer = dv["layer"]
        quantity = _str(dv["quantity"], "state.divergence.quantity", QUANTITIES)
        buffer = None
        if quantity == "optimizer_state" or "buffer" in dv:
            buffer = _str(dv.get("buffer"), "state.divergence.buffer", expected_buffers)
        divergence = Divergence(
            step=_int(dv["step"], "state.divergence.step", 0, 2**62),
            quantity=quantity,
            layer=None if layer is None else _int(layer, "state.divergence.layer", 0, len(sizes) - 2),
            learning_rate=_num(dv["learning_rate"], "state.divergence.learning_rate", 0.0),
            buffer=buffer,
        )
    return RunState(
        seed=run.seed,
        hyper=run.hyper,
        layer_sizes=sizes,
        parameters=readonly(run.layout.pack(weights, biases)),
        optimizer_state=OptimizerState({name: [readonly(b[0])] for name, b in buffers.items()}, t),
        shuffle_rng=shuffle_rng,
        permutation=readonly(permutation),
        cursor=cursor,
        step=step,
        epoch=epoch,
        last_update=None if last_update is None else readonly(last_update),
        divergence=divergence,
    )
