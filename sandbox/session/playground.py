"""TensorFlow Playground links: open one as a session, and write one for a session.

A Playground link keeps its whole state in the URL's fragment
(``https://playground.tensorflow.org/#activation=tanh&batchSize=10&dataset=circle&…``).
:func:`run_from_link` turns it into an equivalent session: the same data set and generator
parameters (Playground's data range, noise scale and sample counts are this app's), features,
hidden layers, activation, learning rate, regularisation, batch size, train split and
initialisation (Playground's uniform U(−0.5, 0.5), or zeros).  What cannot be matched is named in
one note, never dropped silently:

* Playground's random numbers cannot be reproduced (its seed feeds JavaScript's seedrandom), so
  the data and the first weights are drawn with an integer seed made from the link's;
* the output is sigmoid with cross-entropy on 0/1 labels (Playground: tanh with squared error on
  ±1 labels); regression matches (linear with squared error);
* biases start at 0 (Playground: 0.1);
* the cos x features, display settings (``showTestData``, ``discretize``, ``…_hide``) and
  unknown keys.

A malformed link raises :class:`PlaygroundLinkError` naming the key and value at fault.
:func:`link_for` is the reverse: a link for a session Playground can express, and a list of
what it had to leave out (an optimizer other than SGD, trained weights, CSV data …).

Qt-free and pure: no network access, nothing evaluated.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit

from .config import MAX_HIDDEN_LAYERS, MAX_LAYER_WIDTH, DataSpec, Hyperparameters, NetworkSpec
from .run import TrainingRun

PLAYGROUND_URL = "https://playground.tensorflow.org/"
#: Playground's sample counts (``NUM_SAMPLES_CLASSIFY``, ``NUM_SAMPLES_REGRESS``).
CLASSIFY_POINTS = 500
REGRESS_POINTS = 1200

DATASETS = {"circle": "circle", "xor": "xor", "gauss": "gauss", "spiral": "spiral"}
REG_DATASETS = {"reg-plane": "plane", "reg-gauss": "multigauss"}
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
#: Playground's feature flags → this app's feature names.
FEATURES = {"x": "x1", "y": "x2", "xSquared": "x1_sq", "ySquared": "x2_sq", "xTimesY": "x1_x2",
            "sinX": "sin_x1", "sinY": "sin_x2"}
UNMATCHED_FEATURES = {"cosX": "cos x1", "cosY": "cos x2"}
DISPLAY_KEYS = ("showTestData", "discretize", "hideText", "collectStats", "tutorial")
#: Playground's defaults (``state.ts``), for keys a link leaves out.
DEFAULTS = {"activation": "tanh", "batchSize": "10", "dataset": "circle", "regDataset": "reg-plane",
            "learningRate": "0.03", "regularization": "none", "regularizationRate": "0", "noise": "0",
            "networkShape": "4,2", "percTrainData": "50", "problem": "classification", "initZero": "false",
            "x": "true", "y": "true"}
#: Playground's learning-rate menu.
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
MAX_LINK_LENGTH = 8192


class PlaygroundLinkError(ValueError):
    """A Playground link that cannot be read; the message says which part is wrong."""


@dataclass(frozen=True)
class LinkResult:
    """A session made from a link, and what of the link it could not match (one line)."""

    run: TrainingRun
    note: str


def is_playground_link(text: str) -> bool:
    """True for text that looks like a Playground link (an http(s) URL with a fragment); a file
    name never does."""
    stripped = str(text).strip()
    return stripped.lower().startswith(("http://", "https://")) and "#" in stripped


def parse_link(url: str) -> dict[str, str]:
    """The fragment's key=value pairs.

    Raises
    ------
    PlaygroundLinkError
        If it is not an http(s) URL with a fragment of key=value pairs.
    """
    text = str(url).strip()
    if len(text) > MAX_LINK_LENGTH:
        raise PlaygroundLinkError(f"the link is {len(text):,} characters long; Playground links are far shorter")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise PlaygroundLinkError(f"not a URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise PlaygroundLinkError("a Playground link starts with https://")
    if not parts.fragment:
        raise PlaygroundLinkError("the link has no settings after '#' (copy the whole address from Playground)")
    pairs: dict[str, str] = {}
    for item in parts.fragment.split("&"):
        if not item:
            continue
        if "=" not in item:
            raise PlaygroundLinkError(f"'{item[:40]}' in the link is not a key=value setting")
        (key, value), = parse_qsl(item, keep_blank_values=True) or [(item.split("=", 1)[0], "")]
        pairs[key] = value
    return pairs


def _bool(pairs: dict[str, str], key: str) -> bool:
    value = pairs.get(key, DEFAULTS.get(key, "false")).lower()
    if value not in ("true", "false"):
        raise PlaygroundLinkError(f"{key}={value[:40]} must be true or false")
    return value == "true"


def _number(pairs: dict[str, str], key: str, lo: float, hi: float) -> float:
    raw = pairs.get(key, DEFAULTS.get(key, ""))
    try:
        value = float(raw)
    except ValueError:
        raise PlaygroundLinkError(f"{key}={raw[:40]} is not a number") from None
    if not math.isfinite(value) or not lo <= value <= hi:
        raise PlaygroundLinkError(f"{key}={raw[:40]} must be between {lo:g} and {hi:g}")
    return value


def _choice(pairs: dict[str, str], key: str, choices) -> str:
    value = pairs.get(key, DEFAULTS[key])
    if value not in choices:
        raise PlaygroundLinkError(f"{key}={value[:40]} is not one of Playground's: {', '.join(choices)}")
    return value


def seed_from_link(seed: str) -> int:
    """An integer seed from Playground's seed text ("0.80000" → 80000): the same link always
    gives the same session."""
    try:
        value = float(seed)
        if math.isfinite(value) and 0 <= value < 1:
            return int(round(value * 100_000))
    except ValueError:
        pass
    return zlib.crc32(seed.encode("utf-8"))


def run_from_link(url: str) -> LinkResult:
    """The session a Playground link describes, and a note of what could not be matched.

    Raises
    ------
    PlaygroundLinkError
        For a malformed link or a setting out of range ("Playground link: noise=80 must be
        between 0 and 50").
    """
    try:
        return _run_from_link(url)
    except PlaygroundLinkError as exc:
        raise PlaygroundLinkError(f"Playground link: {exc}") from None


def _run_from_link(url: str) -> LinkResult:
    pairs = parse_link(url)
    notes: list[str] = []
    problem = _choice(pairs, "problem", ("classification", "regression"))
    if problem == "classification":
        source = DATASETS[_choice(pairs, "dataset", tuple(DATASETS))]
        n_points = CLASSIFY_POINTS
        notes.append("output sigmoid with cross-entropy (Playground: tanh with squared error)")
    else:
        source = REG_DATASETS[_choice(pairs, "regDataset", tuple(REG_DATASETS))]
        n_points = REGRESS_POINTS
    activation = _choice(pairs, "activation", ACTIVATIONS)
    shape_text = pairs.get("networkShape", DEFAULTS["networkShape"]).strip()
    try:
        hidden = tuple(int(n) for n in shape_text.split(",") if n.strip()) if shape_text else ()
    except ValueError:
        raise PlaygroundLinkError(f"networkShape={shape_text[:40]} must be neuron counts such as 4,2") from None
    if len(hidden) > MAX_HIDDEN_LAYERS or any(not 1 <= n <= MAX_LAYER_WIDTH for n in hidden):
        raise PlaygroundLinkError(f"networkShape={shape_text[:40]} must have at most {MAX_HIDDEN_LAYERS} "
                                  f"layers of 1 … {MAX_LAYER_WIDTH} neurons")
    features = [name for flag, name in FEATURES.items() if _bool(pairs, flag)]
    for flag, name in UNMATCHED_FEATURES.items():
        if flag in pairs and _bool(pairs, flag):
            notes.append(f"no {name} feature")
    if not features:
        raise PlaygroundLinkError("the link turns every input feature off; Playground needs one too")
    regularization = pairs.get("regularization", "none")
    if regularization not in ("none", "L1", "L2", "null", ""):
        raise PlaygroundLinkError(f"regularization={regularization[:40]} must be none, L1 or L2")
    rate = _number(pairs, "regularizationRate", 0.0, 1e3)
    l1 = rate if regularization == "L1" else 0.0
    l2 = rate if regularization == "L2" else 0.0
    noise = _number(pairs, "noise", 0.0, 50.0) / 50.0
    train_fraction = _number(pairs, "percTrainData", 1.0, 99.0) / 100.0
    batch = int(_number(pairs, "batchSize", 1, 1000))
    learning_rate = _number(pairs, "learningRate", 0.0, 1e3)
    seed_text = pairs.get("seed")
    seed = seed_from_link(seed_text) if seed_text else 0
    notes.append(f"random numbers drawn with seed {seed} (Playground's own cannot be reproduced)")
    init = "zeros" if _bool(pairs, "initZero") else "uniform"
    notes.append("biases start at 0 (Playground: 0.1)")
    shown = [k for k in pairs if (k in DISPLAY_KEYS or k.endswith("_hide"))
             and pairs[k].lower() not in ("false", "", "null")]
    if shown:
        notes.append("display settings not carried over: " + ", ".join(sorted(shown)))
    known = {"problem", "dataset", "regDataset", "activation", "networkShape", "regularization",
             "regularizationRate", "noise", "percTrainData", "batchSize", "learningRate", "seed",
             "initZero", *FEATURES, *UNMATCHED_FEATURES, *DISPLAY_KEYS}
    unknown = [k for k in pairs if k not in known and not k.endswith("_hide")]
    if unknown:
        notes.append("unknown settings ignored: " + ", ".join(k[:30] for k in sorted(unknown)))
    try:
        run = TrainingRun.create(
            DataSpec(source=source, n_points=n_points, noise=noise, train_fraction=train_fraction, seed=seed),
            features=features,
            network=NetworkSpec(hidden, (activation,) * len(hidden), init=init),
            hyper=Hyperparameters(optimizer="sgd", learning_rate=learning_rate, batch_size=batch, l1=l1, l2=l2),
            seed=seed,
        )
    except ValueError as exc:
        raise PlaygroundLinkError(str(exc)) from None
    note = "Not matched from the Playground link: " + "; ".join(notes) + "."
    run.description = f"Opened from a TensorFlow Playground link. {note}"
    return LinkResult(run, note)


def link_for(run) -> tuple[str, list[str]]:
    """A Playground link for ``run``'s setup, and what Playground cannot express (left out).
    ``run`` is anything with ``data_spec``, ``network_spec``, ``hyper`` and ``features`` (a
    TrainingRun, or a snapshot of one).

    The link describes the setup, never the trained weights: Playground starts every network
    afresh.
    """
    left_out: list[str] = ["the trained weights (Playground starts afresh)"]
    spec, net, hyper = run.data_spec, run.network_spec, run.hyper
    pairs: dict[str, str] = {}
    reverse = {v: k for k, v in DATASETS.items()}
    reverse_reg = {v: k for k, v in REG_DATASETS.items()}
    if spec.source in reverse:
        pairs.update(problem="classification", dataset=reverse[spec.source])
    elif spec.source in reverse_reg:
        pairs.update(problem="regression", regDataset=reverse_reg[spec.source])
    else:
        left_out.append(f"the {spec.source} data (Playground has circle, xor, gauss, spiral, plane and "
                        "multigauss): circle instead")
        pairs.update(problem="classification", dataset="circle")
    acts = sorted(set(net.hidden_activations))
    if not acts:
        pairs["activation"] = "tanh"
    elif len(acts) == 1 and acts[0] in ACTIVATIONS:
        pairs["activation"] = acts[0]
    else:
        pairs["activation"] = next((a for a in net.hidden_activations if a in ACTIVATIONS), "tanh")
        left_out.append(f"per-layer activations {'/'.join(net.hidden_activations)}: {pairs['activation']} for all")
    hidden = list(net.hidden_sizes)
    if len(hidden) > 6 or any(n > 8 for n in hidden):
        left_out.append("layers over Playground's 6 × 8 neurons (Playground clips them)")
    pairs["networkShape"] = ",".join(str(n) for n in hidden)
    pairs["learningRate"] = repr(float(hyper.learning_rate))
    if float(hyper.learning_rate) not in LEARNING_RATES:
        left_out.append("a learning rate outside Playground's menu (the link holds it; the menu shows blank)")
    if hyper.optimizer != "sgd":
        left_out.append(f"the {hyper.optimizer} optimizer (Playground has plain SGD)")
    if hyper.l1 > 0 and hyper.l2 > 0:
        left_out.append("L2 (Playground has one regulariser at a time; L1 kept)")
    if hyper.l1 > 0:
        pairs.update(regularization="L1", regularizationRate=repr(float(hyper.l1)))
    elif hyper.l2 > 0:
        pairs.update(regularization="L2", regularizationRate=repr(float(hyper.l2)))
    else:
        pairs.update(regularization="none", regularizationRate="0")
    pairs["batchSize"] = str(hyper.batch_size)
    if hyper.batch_size > 30:
        left_out.append("a batch over Playground's 30 (the slider clips it)")
    pairs["noise"] = format(round(float(spec.noise) * 50, 6), "g")
    pairs["percTrainData"] = format(round(float(spec.train_fraction) * 100, 6), "g")
    pairs["seed"] = f"{(int(spec.seed) % 100_000) / 100_000:.5f}"
    feature_set = set(run.features)
    for flag, name in FEATURES.items():
        pairs[flag] = "true" if name in feature_set else "false"
    extra = sorted(feature_set - set(FEATURES.values()))
    if extra:
        left_out.append("features " + ", ".join(extra))
    if net.init not in ("uniform", "zeros"):
        left_out.append(f"{net.init} initialisation (Playground: uniform)")
    pairs["initZero"] = "true" if net.init == "zeros" else "false"
    if not (net.output_activation in (None, "sigmoid", "linear", "softmax")):
        left_out.append(f"the {net.output_activation} output")
    fragment = "&".join(f"{k}={quote(v, safe=',.-')}" for k, v in pairs.items())
    return f"{PLAYGROUND_URL}#{fragment}", left_out
