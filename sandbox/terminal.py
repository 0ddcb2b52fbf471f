"""The terminal side of ``train``: Ctrl+C that stops between two steps, and the progress bar.

Qt-free and session-free: the progress bar reads a run's history, whatever object holds it.
"""

from __future__ import annotations

import sys

from .formatting import format_number


class StopOnInterrupt:
    """While active, Ctrl+C (SIGINT) sets :attr:`requested` instead of raising; a second one
    raises KeyboardInterrupt as usual.  Only the main thread can handle signals: elsewhere
    this does nothing."""

    def __init__(self) -> None:
        self.requested = False
        self._installed = False
        self._previous: object = None

    def __enter__(self) -> "StopOnInterrupt":
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_interrupt)
            self._installed = True
        return self

    def _on_interrupt(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            import signal

            # None: a handler not set from Python; the default is the nearest there is.
            signal.signal(signal.SIGINT, self._previous if self._previous is not None else signal.default_int_handler)


class Progress:
    """The progress bar of ``train`` on stderr (tqdm): percent, steps done, steps/s, elapsed and
    remaining time, and the full-set training loss at the last evaluation, in 80 columns."""

    WIDTH = 80

    def __init__(self, total: int, stream=None) -> None:
        from tqdm import tqdm

        tqdm.monitor_interval = 0  # no monitor thread: one bar, updated from the training loop
        self.total = max(total, 1)
        self._evaluations = -1
        self.bar = tqdm(total=total, file=stream or sys.stderr, ncols=self.WIDTH, unit=" steps",
                        unit_scale=False, mininterval=0.1, dynamic_ncols=False, leave=True,
                        nrows=2,  # a terminal that reports 0 rows (a bare pty) would hide the bar
                        bar_format="{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                                   "[{elapsed}<{remaining}, {rate_fmt}{postfix}]")
        self.bar.set_postfix_str("loss –", refresh=False)

    def show(self, done: int, run) -> None:
        evaluations = run.history.evaluations
        if len(evaluations) != self._evaluations:  # a new evaluation: its train loss
            self._evaluations = len(evaluations)
            last = evaluations.last()
            loss = None if last is None else float(last[2])
            self.bar.set_postfix_str(f"loss {format_number(loss)}", refresh=False)
        self.bar.update(done - self.bar.n)

    def finish(self) -> None:
        self.bar.close()
