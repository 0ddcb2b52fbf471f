"""The ``backprop-sandbox`` command.

::

    backprop-sandbox [FILE]                       open the app (on FILE or the default session)
    backprop-sandbox train [FILE] --steps N [--out OUT]
    backprop-sandbox info [FILE] [--json]
    backprop-sandbox bench [--json] [--gui] [--quick]
    backprop-sandbox screenshot [FILE] --out PNG [--size 1400x900] [--steps N] [--view gradients]
    backprop-sandbox export [FILE] [--npz OUT.npz] [--json OUT.json] [--code OUT.py [--torch]] [--history OUT.csv]

``train``, ``info``, ``export`` and ``bench`` (without ``--gui``) import no Qt and start fast: heavy imports
happen inside the command that needs them.  A user error prints one line,
``backprop-sandbox: error: …``, to stderr and exits with status 2.  Output goes to consoles
and redirects in any encoding: a character the stream cannot encode is written in ASCII.
"""

from __future__ import annotations

import argparse
import codecs
import os
import sys
import time
from typing import NoReturn, Sequence

from .errors import UserError
from .formatting import format_number, format_percent, plain
from .terminal import Progress, StopOnInterrupt

PROG = "backprop-sandbox"
COMMANDS = ("train", "info", "bench", "screenshot", "export")

#: Exit status when training stopped because the non-finite guard refused a step.
EXIT_DIVERGED = 1
EXIT_USAGE = 2


__all__ = ["EXIT_DIVERGED", "EXIT_USAGE", "UserError", "earlier_runs_summary", "main", "session_summary"]

#: The codec error handler that writes what a stream cannot encode in ASCII (``plain``).
ASCII_FALLBACK = "backprop-sandbox-plain"


def _ascii_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = plain(exc.object[exc.start : exc.end])
    return "".join(c if c.isascii() else "?" for c in text), exc.end


codecs.register_error(ASCII_FALLBACK, _ascii_fallback)


def _tolerant_output() -> None:
    """Make stdout and stderr write unencodable characters in ASCII instead of raising
    UnicodeEncodeError (a Windows console, or a redirect in cp1252)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None or codecs.lookup(stream.encoding or "ascii").name == "utf-8":
            continue
        try:
            reconfigure(errors=ASCII_FALLBACK)
        except (ValueError, OSError):  # a closed or unusual stream: leave it alone
            pass


def _single_thread_blas() -> None:
    # The networks here are small: BLAS threads only fight the GUI thread (and the benchmark's
    # single-threaded PyTorch comparison) for the two cores.  Respect explicit settings.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UserError(message)


def _build_parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    from .versions import version_text

    tools = _Parser(prog=PROG)
    sub = tools.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser("train", help="train headless and save the session")
    train.add_argument("file", nargs="?", help="session file, or a CSV file to start a session on "
                       "(default: the built-in session)")
    train.add_argument("--steps", type=int, required=True, help="number of training steps")
    train.add_argument("--out", help="where to save (default: over FILE)")

    info = sub.add_parser("info", help="summarise a session file")
    info.add_argument("file", nargs="?", help="session file, or a CSV file "
                      "(default: the built-in session)")
    info.add_argument("--json", action="store_true", help="print JSON instead of text")

    bench = sub.add_parser("bench", help="time training steps against a minimal numpy loop")
    bench.add_argument("--json", action="store_true", help="print JSON instead of a table")
    bench.add_argument("--gui", action="store_true", help="also measure the desktop app (offscreen)")
    bench.add_argument("--quick", action="store_true", help="shorter timings (noisier)")
    bench.add_argument("--wide", action="store_true",
                       help="a wider table: the boundary-grid and evaluation timings too")

    shot = sub.add_parser("screenshot", help="render the main window to a PNG, offscreen")
    shot.add_argument("file", nargs="?", help="session file (default: the built-in session)")
    shot.add_argument("--out", required=True, help="PNG file to write")
    shot.add_argument("--size", default="1400x900", help="window size, WIDTHxHEIGHT (default 1400x900)")
    shot.add_argument("--steps", type=int, default=0, help="train this many steps first")
    shot.add_argument("--theme", choices=("light", "dark"), default="light", help="colour theme")
    shot.add_argument("--view", choices=("weights", "gradients", "updates"), default="weights",
                      help="what the connections show")

    export = sub.add_parser("export", help="export the trained network: weights, a Python script, the loss history")
    export.add_argument("file", nargs="?", help="session file, or a CSV file to start a session on "
                        "(default: the built-in session)")
    export.add_argument("--npz", metavar="OUT.npz", help="the weights as a NumPy .npz (W1, b1, W2, …)")
    export.add_argument("--json", metavar="OUT.json", help="the weights and the architecture as JSON")
    export.add_argument("--code", metavar="OUT.py", help="a standalone Python script whose predict(inputs) "
                        "runs the network (numpy only)")
    export.add_argument("--torch", action="store_true", help="write the --code script for PyTorch (nn.Sequential)")
    export.add_argument("--history", metavar="OUT.csv", help="the loss history as CSV")
    listing = "\n".join(f"  {action.dest:<12}{action.help}" for action in sub._choices_actions)
    app = _Parser(prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
                  usage=f"{PROG} [FILE | URL]\n       {PROG} COMMAND [options]",
                  description="Open the Backprop Sandbox desktop app on FILE (a session, a CSV file or a\n"
                              "TensorFlow Playground link), or on the built-in session; or run a COMMAND.",
                  epilog=f"commands:\n{listing}\n\nSee '{PROG} COMMAND --help' for a command's options.")
    app.add_argument("file", nargs="?", help="session file to open, a CSV file to start a session on, or a "
                     "Playground link (default: the built-in session)")
    app.add_argument("--version", action="version", version=version_text(),
                     help="print the versions of the app, Python, numpy, Qt and pyqtgraph")
    return app, tools


def _not_a_command(word: str) -> str | None:
    """What to say when ``word`` looks like a mistyped command rather than a file: a bare word
    that names no file ("trian" → "did you mean 'train'?"), or None."""
    import difflib

    from .session.playground import is_playground_link

    if (not word or word.startswith("-") or os.path.exists(word) or is_playground_link(word)
            or os.sep in word or "/" in word or os.path.splitext(word)[1]):
        return None
    close = difflib.get_close_matches(word, COMMANDS, n=1, cutoff=0.5)
    if close:
        return f"'{word}' is not a command; did you mean '{close[0]}'? (commands: {', '.join(COMMANDS)})"
    return (f"'{word}' is neither a command ({', '.join(COMMANDS)}) nor a file; "
            f"see '{PROG} --help'")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``backprop-sandbox`` and ``python -m sandbox``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _single_thread_blas()
    _tolerant_output()
    try:
        app_parser, tool_parser = _build_parsers()
        if argv and argv[0] in COMMANDS:
            args = tool_parser.parse_args(argv)
            handler = {"train": cmd_train, "info": cmd_info, "bench": cmd_bench,
                       "screenshot": cmd_screenshot, "export": cmd_export}[args.command]
            return handler(args)
        problem = _not_a_command(argv[0]) if argv else None
        if problem is not None:
            raise UserError(problem)
        args = app_parser.parse_args(argv)
        return cmd_app(args)
    except UserError as exc:
        print(f"{PROG}: error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`… | head`): stop quietly, as command-line tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _load(path: str | None):
    """The session at ``path`` (a session file, or a CSV file to start a session on; the
    built-in default if None), with bad files as UserError."""
    from .resources import default_run
    from .session.loading import open_path

    try:
        run = default_run() if path is None else open_path(path)
    except ValueError as exc:  # SessionFileError, CsvError: the message names file and problem
        raise UserError(str(exc)) from None
    _note_link(path, run)
    return run


def _note_link(path: str | None, run) -> None:
    """A Playground link says on stderr what it could not match (it is in the description)."""
    from .session.playground import is_playground_link

    if path is not None and is_playground_link(path):
        print(f"{PROG}: {run.description}", file=sys.stderr)


def _load_workspace(path: str | None):
    """As :func:`_load`, as a workspace: a session file keeps its earlier runs (curves only)."""
    from .resources import default_run
    from .session.loading import open_workspace
    from .session.workspace import Workspace

    try:
        workspace = Workspace(default_run()) if path is None else open_workspace(path)
    except ValueError as exc:  # SessionFileError, CsvError: the message names file and problem
        raise UserError(str(exc)) from None
    _note_link(path, workspace.run)
    return workspace


# ------------------------------------------------------------------------------------ train


def cmd_train(args: argparse.Namespace) -> int:
    # Ctrl+C asks training to stop between two steps (a KeyboardInterrupt could land inside
    # one, between its counters, cursor and history); the session is then saved as it is.
    # The handler is in place from the start: a KeyboardInterrupt raised while loading could
    # land in a finaliser, which swallows it, and training would then never stop.
    with StopOnInterrupt() as stop:
        return _train(args, stop)


def _train(args: argparse.Namespace, stop: "StopOnInterrupt") -> int:
    from .resources import is_builtin
    from .session.loading import is_csv
    from .session.save_checks import unwritable

    if args.steps < 0:
        raise UserError("--steps must be 0 or more")
    from .session.playground import is_playground_link

    if args.file and is_playground_link(args.file) and not args.out:
        raise UserError("give --out FILE: a Playground link is not a file to save over")
    data_input = bool(args.file) and is_csv(args.file)
    if data_input and not args.out:
        raise UserError(f"give --out FILE: {args.file} is data, and the session is saved as JSON")
    out = args.out or args.file
    if out is None:
        raise UserError("give --out FILE: the built-in default session is never overwritten")
    if is_builtin(out):
        raise UserError(f"{out} is a built-in session and is never overwritten; give --out FILE")
    if data_input and _same_file(args.file, out):
        raise UserError(f"{out} is the input data file; saving the session there would overwrite the "
                        "CSV with JSON: give another --out")
    # Everything that would make the save fail is checked before training, not after it.
    problem = unwritable(out)
    if problem is not None:
        raise UserError(problem)

    import numpy as np

    from .session.save_checks import bound_after_training
    from .session.save_image import image_of
    from .session.session_file import MAX_FILE_BYTES, SessionFileError, image_document, save_image

    with np.errstate(all="ignore"):
        # The file's earlier runs are saved again with the trained live run.
        workspace = _load_workspace(args.file)
        run = workspace.run
        document = image_document(image_of(workspace))
        problem = bound_after_training(document, args.steps, run.steps_per_epoch).problem(out, MAX_FILE_BYTES)
        if problem is not None:
            raise UserError(problem)
        if stop.requested:
            print(f"{PROG}: interrupted before training; nothing saved", file=sys.stderr)
            return 130
        progress = Progress(args.steps) if sys.stderr.isatty() else None
        start = time.perf_counter()
        done = 0
        diverged = False
        while done < args.steps and not stop.requested:
            if not run.step():
                diverged = True
                break
            done += 1
            if progress and done % 64 == 0:
                progress.show(done, run)
        if progress:
            progress.show(done, run)
        # The epoch that ended on this step may have recorded it already: one row per step.
        last = run.history.evaluations.last()
        evaluation = run.evaluate(record=last is None or float(last[0]) != run.step_count)
        elapsed = time.perf_counter() - start
        if progress:
            progress.finish()
        try:
            save_image(image_of(workspace), out)
        except SessionFileError as exc:
            raise UserError(str(exc)) from None
    rate = done / elapsed if elapsed > 0 else float("inf")
    print(f"trained {done} steps in {elapsed:.2f} s ({_rate(rate)} steps/s); "
          f"now at step {run.step_count}, epoch {run.epoch}")
    print(_evaluation_line(evaluation))
    print(f"saved {out}")
    if stop.requested:
        print(f"{PROG}: interrupted after {done} steps; progress saved", file=sys.stderr)
        return 130
    if diverged:  # only a stop in this run: a stop stored in the file was lifted by any step since
        print(f"{PROG}: {run.divergence.message}", file=sys.stderr)
        return EXIT_DIVERGED
    return 0


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(a) == os.path.realpath(b)


def _rate(steps_per_second: float) -> str:
    """A rate in whole steps per second with thousands separators (inf when too fast to time)."""
    if steps_per_second == float("inf"):
        return format_number(steps_per_second)
    return f"{steps_per_second:,.0f}"


def _evaluation_line(ev) -> str:
    text = f"train loss {format_number(ev.train_loss)}, test loss {format_number(ev.test_loss)}"
    if ev.train_accuracy is not None:
        text += (f"; accuracy train {format_percent(ev.train_accuracy)}, "
                 f"test {format_percent(ev.test_accuracy)}")
    return text


# ------------------------------------------------------------------------------------- info


def session_summary(run) -> dict:
    """The facts ``info --json`` prints (also used by the app's About-this-session)."""
    ev = run.evaluate()
    return {
        "step": run.step_count,
        "epoch": run.epoch,
        "dataset": run.dataset.name,
        "task": run.dataset.task,
        "n_train": run.n_train,
        "n_test": len(run.X_test),
        "features": list(run.features),
        "layer_sizes": list(run.layer_sizes),
        "activations": list(run.activation_names),
        "loss": run.network_spec.loss,
        "init": run.network_spec.init,
        "optimizer": run.hyper.optimizer,
        "learning_rate": run.hyper.learning_rate,
        "batch_size": run.hyper.batch_size,
        "l1": run.hyper.l1,
        "l2": run.hyper.l2,
        "seed": run.seed,
        "n_parameters": run.layout.size,
        "train_loss": ev.train_loss,
        "test_loss": ev.test_loss,
        "train_accuracy": ev.train_accuracy,
        "test_accuracy": ev.test_accuracy,
        "grad_norms": run.gradient_norms(),
        "diverged": None if run.divergence is None else run.divergence.message,
    }


def earlier_runs_summary(workspace) -> list[dict]:
    """The earlier runs ``info`` lists: each one's label, legend (what differs from the live
    run), what ended it, whether its curves are shown, the last step its loss curve reaches and
    its last mini-batch loss (None when it recorded none)."""
    runs = []
    for earlier in workspace.catalog().earlier:
        steps = earlier.curves.steps
        runs.append({
            "label": earlier.info.label,
            "legend": earlier.legend,
            "ended": earlier.info.ended,
            "visible": earlier.visible,
            "steps_recorded": int(steps[-1, 0]) if len(steps) else 0,
            "last_loss": float(steps[-1, 1]) if len(steps) else None,
        })
    return runs


def _earlier_run_line(run: dict) -> str:
    text = run["legend"]
    if run["ended"] and run["ended"] not in text:
        text += f"; {run['ended']}"
    text += f"; {run['steps_recorded']:,} steps recorded, last loss {format_number(run['last_loss'])}"
    return text + ("" if run["visible"] else " (hidden)")


def cmd_info(args: argparse.Namespace) -> int:
    import json
    import math

    import numpy as np

    from .resources import default_session_path

    # Huge weights overflow in the passes the summary runs: the figures say so (∞, nan), so
    # numpy's RuntimeWarnings would only add noise.
    with np.errstate(all="ignore"):
        workspace = _load_workspace(args.file)
        run = workspace.run
        summary = session_summary(run)
        now = _evaluation_line(run.evaluate())
    earlier = earlier_runs_summary(workspace)
    if args.json:
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in summary.items()}
        clean["grad_norms"] = [None if not math.isfinite(g) else g for g in summary["grad_norms"]]
        clean["earlier_runs"] = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                                  for k, v in r.items()} for r in earlier]
        print(json.dumps(clean, indent=2))
        return 0
    s = summary
    arch = " → ".join(str(n) for n in s["layer_sizes"])
    print(args.file if args.file is not None else f"{default_session_path()} (the built-in default session)")
    print(f"  data       {s['dataset']} ({s['task']}), {s['n_train']} train / {s['n_test']} test, "
          f"features {', '.join(s['features'])}")
    print(f"  network    {arch}  activations {', '.join(s['activations'])}; loss {s['loss']}; "
          f"init {s['init']}; {s['n_parameters']} parameters")
    print(f"  training   {s['optimizer']}, learning rate {format_number(s['learning_rate'])}, "
          f"batch {s['batch_size']}, L1 {format_number(s['l1'])}, L2 {format_number(s['l2'])}, seed {s['seed']}")
    print(f"  progress   step {s['step']}, epoch {s['epoch']}")
    print(f"  now        {now}")
    print("  ‖∂J/∂W‖    " + ", ".join(f"layer {i + 1}: {format_number(g, 3)}"
                                       for i, g in enumerate(s["grad_norms"])))
    if s["diverged"]:
        print(f"  stopped    {s['diverged']}")
    if earlier:
        print(f"  this run   {workspace.live.info.label}, {workspace.live.info.origin}")
    for k, r in enumerate(earlier):
        print(f"  {'earlier' if k == 0 else '':<10} {_earlier_run_line(r)}")
    return 0


# ----------------------------------------------------------------------------------- export


def cmd_export(args: argparse.Namespace) -> int:
    from .resources import is_builtin
    from .session.save_checks import unwritable

    targets = [(flag, path) for flag, path in (("--npz", args.npz), ("--json", args.json), ("--code", args.code),
                                               ("--history", args.history)) if path is not None]
    if not targets:
        raise UserError("give at least one of --npz OUT.npz, --json OUT.json, --code OUT.py, --history OUT.csv")
    if args.torch and args.code is None:
        raise UserError("--torch chooses the flavour of --code: give --code OUT.py too")
    for k, (flag, path) in enumerate(targets):
        if is_builtin(path):
            raise UserError(f"{path} is a built-in session and is never overwritten; give {flag} another file")
        if args.file is not None and _same_file(args.file, path):
            raise UserError(f"{path} is the session being exported; give {flag} another file")
        for other_flag, other in targets[:k]:
            if _same_file(path, other):
                raise UserError(f"{other_flag} and {flag} both name {path}; give each export its own file")
        # Checked before anything is written, so a bad path never leaves half the exports behind.
        problem = unwritable(path)
        if problem is not None:
            raise UserError(problem)

    import numpy as np

    from .session.exports import (ExportError, ExportedNetwork, HistoryTables, write_code, write_history,
                                  write_npz, write_weights_json)

    with np.errstate(all="ignore"):
        run = _load(args.file)
    network = ExportedNetwork.of(run)
    writers = {
        "--npz": ("weights", lambda path: write_npz(network, path)),
        "--json": ("weights and architecture", lambda path: write_weights_json(network, path)),
        "--code": ("PyTorch script" if args.torch else "numpy script",
                   lambda path: write_code(network, path, torch=args.torch)),
        "--history": ("loss history", lambda path: write_history(HistoryTables.of(run.history), path)),
    }
    for flag, path in targets:
        what, write = writers[flag]
        try:
            write(path)
        except ExportError as exc:
            raise UserError(str(exc)) from None
        print(f"saved {path} ({what}, step {run.step_count})")
    return 0


# ------------------------------------------------------------------------------------ bench


def cmd_bench(args: argparse.Namespace) -> int:
    # The command line decides about the GUI: sandbox.bench is Qt-free, sandbox._qt.gui_bench
    # measures the app, and only --gui imports it.
    from .bench import run_bench

    gui = None
    if args.gui:
        try:
            from ._qt.gui_bench import bench_gui as gui
        except ImportError as exc:  # the GUI's libraries are missing from this environment
            raise UserError(f"bench --gui cannot start the app ({exc}); see the README's system libraries") from None
    return run_bench(as_json=args.json, quick=args.quick, gui=gui, wide=args.wide)


# ------------------------------------------------------------------------------- the app


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UserError(f"--size must look like 1400x900, got {text!r}") from None
    if not (320 <= w <= 8000 and 240 <= h <= 8000):
        raise UserError(f"--size must be between 320x240 and 8000x8000, got {text!r}")
    return w, h


def cmd_screenshot(args: argparse.Namespace) -> int:
    size = _parse_size(args.size)
    if args.steps < 0:
        raise UserError("--steps must be 0 or more")
    run = _load(args.file)
    from ._qt.screenshot import take_screenshot

    try:
        take_screenshot(run, args.file, args.out, size=size, steps=args.steps, theme=args.theme, view=args.view)
    except OSError as exc:
        raise UserError(f"{args.out}: could not write the image ({exc.strerror or exc})") from None
    print(f"saved {args.out}")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    if args.file is not None and not os.path.exists(args.file):
        raise UserError(f"{args.file}: no such file")
    try:
        from ._qt.app import run_app
    except ImportError as exc:  # the GUI's libraries are missing from this environment
        raise UserError(f"the desktop app cannot start ({exc}); see the README's system libraries") from None
    return run_app(args.file)
