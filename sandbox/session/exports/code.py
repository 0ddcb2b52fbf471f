"""A trained network as a standalone Python script: plain numpy, or PyTorch (``nn.Sequential``).

The script defines ``predict(inputs)``: raw inputs of shape (n, d), the session's own input
columns in order (:data:`INPUT_COLUMNS` in the script), in; the network's outputs, (n, k) with
the output activation applied (what the app shows as the network's output), out.  It computes
the input features itself (``features(inputs)``, one line per feature, the formula training
used) and holds the trained parameters as literals (``repr`` floats, bit-exact).  It needs only
numpy, or only torch.  Run as a program it prints predictions for a few training examples, or
for every row of a CSV file given as its argument (the header names the input columns).

The numpy flavour repeats the engine's own formulas operation for operation, so its outputs
equal the app's bit for bit on the same machine (the tests ask 1e-12).  The PyTorch flavour
computes in float64 with torch's modules (``nn.Linear``, ``nn.Tanh`` …).
"""

from __future__ import annotations

import os
from typing import Sequence

from ...engine.activations import ELU_ALPHA, LEAKY_RELU_SLOPE
from .network import ExportedNetwork, write_bytes

#: How many training examples the script's demo predicts when given no CSV file.
EXAMPLE_ROWS = 3

#: Each activation's body in the numpy script: the engine's formula (activations.py), line by line.
NUMPY_ACTIVATIONS: dict[str, tuple[str, ...]] = {
    "linear": ("return z",),
    "relu": ("return np.maximum(z, 0.0)",),
    "leaky_relu": (f"return np.where(z > 0, z, {LEAKY_RELU_SLOPE!r} * z)",),
    "elu": (f"return np.where(z > 0, z, {ELU_ALPHA!r} * np.expm1(np.minimum(z, 0.0)))",),
    "tanh": ("return np.tanh(z)",),
    "sigmoid": ("return np.exp(-np.logaddexp(0.0, -z))",),
    "softplus": ("return np.logaddexp(0.0, z)",),
    "swish": ("return z * np.exp(-np.logaddexp(0.0, -z))",),
    "sine": ("return np.sin(z)",),
    "softmax": ("e = np.exp(z - z.max(axis=-1, keepdims=True))", "return e / e.sum(axis=-1, keepdims=True)"),
}

#: Each activation as a torch module (``Sine`` is defined in the script: torch has none).
TORCH_ACTIVATIONS: dict[str, str] = {
    "linear": "nn.Identity()",
    "relu": "nn.ReLU()",
    "leaky_relu": f"nn.LeakyReLU({LEAKY_RELU_SLOPE!r})",
    "elu": f"nn.ELU({ELU_ALPHA!r})",
    "tanh": "nn.Tanh()",
    "sigmoid": "nn.Sigmoid()",
    "softplus": "nn.Softplus()",
    "swish": "nn.SiLU()",
    "sine": "Sine()",
    "softmax": "nn.Softmax(dim=1)",
}


def numpy_script(network: ExportedNetwork) -> str:
    """The plain-numpy script (see the module docstring)."""
    lines = _header(network, "numpy")
    lines += ["import csv", "import sys", "", "import numpy as np", ""]
    lines += _constants(network)
    for name, arr in network.parameters().items():
        lines += [f"{name} = np.array({_literal(arr.tolist(), 0)})"]
    lines += ["", ""]
    lines += _features_function(network, "np", "np.asarray(inputs, dtype=np.float64)", "np.stack", "axis")
    for act in dict.fromkeys(network.activations):  # each used activation once, in order
        lines += [f"def {act}(z):", *(f"    {line}" for line in NUMPY_ACTIVATIONS[act]), "", ""]
    lines += [
        "def predict(inputs):",
        f'    """The network\'s outputs (n, {network.layer_sizes[-1]}) for raw inputs (n, {len(network.input_names)}) '
        'in the columns INPUT_COLUMNS."""',
        "    a = features(inputs)",
    ]
    for layer, act in enumerate(network.activations):
        lines += [f"    a = {act}(a @ W{layer + 1} + b{layer + 1})"]
    lines += ["    return a", "", ""]
    lines += _demo(network, "np.array(ROWS, dtype=np.float64)", "np.array(EXAMPLES)")
    return "\n".join(lines) + "\n"


def torch_script(network: ExportedNetwork) -> str:
    """The PyTorch script: an ``nn.Sequential`` of ``nn.Linear`` layers and activation modules,
    in float64 (see the module docstring)."""
    lines = _header(network, "torch")
    lines += ["import csv", "import sys", "", "import torch", "from torch import nn", ""]
    lines += _constants(network)
    for name, arr in network.parameters().items():
        lines += [f"{name} = {_literal(arr.tolist(), 0)}"]
    lines += ["", ""]
    if "sine" in network.activations:
        lines += ["class Sine(nn.Module):", '    """sin(z), element-wise."""', "",
                  "    def forward(self, z):", "        return torch.sin(z)", "", ""]
    lines += [
        "def linear(W, b):",
        '    """nn.Linear with the weights W (n_in, n_out) and biases b (n_out,), in float64."""',
        "    layer = nn.Linear(len(W), len(b)).double()",
        "    with torch.no_grad():",
        "        layer.weight.copy_(torch.tensor(W, dtype=torch.float64).T)",
        "        layer.bias.copy_(torch.tensor(b, dtype=torch.float64))",
        "    return layer",
        "",
        "",
        "model = nn.Sequential(",
    ]
    for layer, act in enumerate(network.activations):
        lines += [f"    linear(W{layer + 1}, b{layer + 1}), {TORCH_ACTIVATIONS[act]},"]
    lines += [")", "model.eval()", "", ""]
    lines += _features_function(network, "torch", "torch.as_tensor(inputs, dtype=torch.float64)", "torch.stack", "dim")
    lines += [
        "def predict(inputs):",
        f'    """The network\'s outputs, a float64 tensor (n, {network.layer_sizes[-1]}), for raw inputs '
        f'(n, {len(network.input_names)}) in the columns INPUT_COLUMNS."""',
        "    with torch.no_grad():",
        "        return model(features(inputs))",
        "",
        "",
    ]
    lines += _demo(network, "torch.tensor(ROWS, dtype=torch.float64)", "torch.tensor(EXAMPLES, dtype=torch.float64)",
                   to_list=".tolist()")
    return "\n".join(lines) + "\n"


def write_code(network: ExportedNetwork, path: str | os.PathLike[str], torch: bool = False) -> None:
    """Write the numpy script (or, with ``torch``, the PyTorch one) to ``path``."""
    network.check_finite(os.fspath(path))
    text = torch_script(network) if torch else numpy_script(network)
    write_bytes(path, text.encode("utf-8"))


# ------------------------------------------------------------------------------- the parts


def _header(network: ExportedNetwork, flavour: str) -> list[str]:
    ds = network.dataset
    arch = " -> ".join(str(n) for n in network.layer_sizes)
    needs = "numpy" if flavour == "numpy" else "PyTorch (torch)"
    return [
        "#!/usr/bin/env python3",
        f"# A network trained in Backprop Sandbox on {_comment(repr(ds.name))} ({ds.task}), at step {network.step}.",
        f"# Layers {arch}; activations {', '.join(network.activations)}; loss {network.loss}.",
        "#",
        f"# predict(inputs) takes raw inputs of shape (n, {len(network.input_names)}), the columns "
        f"{_comment(', '.join(network.input_names))} in this order,",
        "# computes the network's input features from them (features(inputs)) and returns the",
        f"# network's outputs, shape (n, {network.layer_sizes[-1]}): {_comment(_output_meaning(network))}.",
        f"# Needs only {needs}.  Run it to see predictions:",
        "#     python THIS_FILE            a few training examples",
        "#     python THIS_FILE DATA.csv   every row of a CSV file whose header names the input columns",
        '"""A trained Backprop Sandbox network: predict(inputs) gives its outputs (see the comments above)."""',
        "",
    ]


def _constants(network: ExportedNetwork) -> list[str]:
    return [
        f"INPUT_COLUMNS = {_tuple(network.input_names)}",
        f"FEATURES = {_tuple(tuple(f.label for f in network.features))}",
        f"OUTPUTS = {_tuple(_output_names(network))}",
        f"ACTIVATIONS = {_tuple(network.activations)}",
        "",
        "# The trained parameters: Wl is (units below, units above), bl one bias per unit above.",
    ]


def _features_function(network: ExportedNetwork, xp: str, as_array: str, stack: str, axis: str) -> list[str]:
    lines = [
        "def features(inputs):",
        '    """The input features the network reads, computed from raw inputs (n, len(INPUT_COLUMNS))."""',
        f"    X = {as_array}",
        "    if X.ndim != 2 or X.shape[1] != len(INPUT_COLUMNS):",
        '        raise ValueError(f"inputs must have shape (n, {len(INPUT_COLUMNS)}): the columns '
        '{\', \'.join(INPUT_COLUMNS)}, got {tuple(X.shape)}")',
        f"    return {stack}([",
    ]
    lines += [f"        {f.formula(xp)},  # {_comment(f.label)}" for f in network.features]
    lines += [f"    ], {axis}=1)", "", ""]
    return lines


def _demo(network: ExportedNetwork, from_rows: str, examples: str, to_list: str = "") -> list[str]:
    ds = network.dataset
    rows = ds.inputs[ds.train_indices[:EXAMPLE_ROWS]] if len(ds.train_indices) else ds.inputs[:EXAMPLE_ROWS]
    return [
        "# The raw inputs of the first training examples.",
        f"EXAMPLES = {_literal(rows.tolist(), 0)}",
        "",
        "",
        "def read_csv(path):",
        '    """Raw inputs from a CSV file whose header row names the input columns (other columns are ignored)."""',
        '    with open(path, newline="", encoding="utf-8-sig") as f:',
        "        table = [row for row in csv.reader(f) if row]",
        "    header = [name.strip() for name in table[0]] if table else []",
        "    missing = [name for name in INPUT_COLUMNS if name not in header]",
        "    if missing:",
        '        sys.exit(f"{path}: no column {\', \'.join(missing)} in the header")',
        "    where = [header.index(name) for name in INPUT_COLUMNS]",
        "    try:",
        f"        return {from_rows.replace('ROWS', '[[float(row[i]) for i in where] for row in table[1:]]')}",
        "    except (ValueError, IndexError) as exc:",
        '        sys.exit(f"{path}: {exc}")',
        "",
        "",
        'if __name__ == "__main__":',
        f"    inputs = read_csv(sys.argv[1]) if len(sys.argv) > 1 else {examples}",
        "    outputs = predict(inputs)",
        "    writer = csv.writer(sys.stdout, lineterminator=\"\\n\")",
        "    writer.writerow(INPUT_COLUMNS + OUTPUTS)",
        f"    for x, y in zip(inputs{to_list}, outputs{to_list}):",
        "        writer.writerow([repr(float(v)) for v in list(x) + list(y)])",
    ]


def _output_names(network: ExportedNetwork) -> tuple[str, ...]:
    """One name per output column: ``p(CLASS)`` for a probability, ``score(CLASS)`` for another
    classification output, the target's name for a regression."""
    ds = network.dataset
    n_out = network.layer_sizes[-1]
    act = network.activations[-1]
    if ds.is_classification:
        classes = ds.class_names[1:] if n_out == 1 and len(ds.class_names) == 2 else ds.class_names
        if len(classes) == n_out:
            kind = "p" if act in ("sigmoid", "softmax") else "score"
            return tuple(f"{kind}({name})" for name in classes)
    if n_out == 1:
        return (ds.target_name,)
    return tuple(f"output {j + 1}" for j in range(n_out))


def _output_meaning(network: ExportedNetwork) -> str:
    ds = network.dataset
    act = network.activations[-1]
    names = ", ".join(_output_names(network))
    if not ds.is_classification:
        return f"the predicted {names} ({act} output)"
    if act == "softmax":
        return f"one probability per class, {names}"
    if network.layer_sizes[-1] == 1:
        what = "the probability" if act == "sigmoid" else f"a {act} score (above 0.5: that class)"
        return f"{what} of the second class, {names}"
    return f"one {act} output per class, {names}; the largest is the prediction"


def _comment(text: str) -> str:
    """``text`` safe inside a one-line comment: no line breaks or other control characters."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _tuple(items: Sequence[str]) -> str:
    # repr() of a str is a valid literal for any text (quotes, backslashes, control characters).
    return "(" + ", ".join(repr(str(s)) for s in items) + ("," if len(items) == 1 else "") + ")"


def _literal(value, level: int) -> str:
    """A nested list of floats as Python source: ``repr`` floats (exact), one matrix row a line."""
    if not isinstance(value, list):
        return repr(float(value))
    if not value:
        return "[]"
    if all(not isinstance(v, list) for v in value):
        return "[" + ", ".join(repr(float(v)) for v in value) + "]"
    pad = "    " * (level + 1)
    inner = ",\n".join(pad + _literal(v, level + 1) for v in value)
    return "[\n" + inner + ",\n" + "    " * level + "]"
