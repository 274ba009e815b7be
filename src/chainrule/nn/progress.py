"""How ``cr.nn.fit`` shows its progress: a rich progress bar on a terminal, plain lines
when rich is not installed, nothing when the output is not a terminal (a log, a pipe, CI).

``rich`` is optional (``pip install 'chainrule[progress]'``) and imported only here, only
when a bar is shown.

>>> import io
>>> reporter = make_reporter(True, epochs=2, stream=io.StringIO())   # not a terminal
>>> type(reporter).__name__
'Silent'
>>> lines = PlainLines(epochs=2, stream=io.StringIO())
>>> lines.end_epoch(1, "train_loss 0.5")
>>> lines.stream.getvalue()
'epoch 1/2  train_loss 0.5\\n'
"""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["PlainLines", "RichBar", "Silent", "make_reporter"]


class Silent:
    """Shows nothing; the other reporters override what they show."""

    def start_epoch(self, epoch: int, batches: int | None) -> None:
        pass

    def advance(self, loss: float) -> None:
        pass

    def end_epoch(self, epoch: int, summary: str) -> None:
        pass

    def message(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


class PlainLines(Silent):
    """One line per epoch: its summary."""

    def __init__(self, epochs: int, stream):
        self.epochs = epochs
        self.stream = stream

    def end_epoch(self, epoch: int, summary: str) -> None:
        print(f"epoch {epoch}/{self.epochs}  {summary}", file=self.stream, flush=True)

    def message(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


class RichBar(Silent):
    """A bar for the batches of the epoch under way, with the running loss; each finished
    epoch's summary is printed above it. The bar goes away when training ends."""

    def __init__(self, epochs: int, console=None):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.epochs = epochs
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._progress.start()
        self._task = None
        self._loss_sum = 0.0
        self._batches_seen = 0

    def start_epoch(self, epoch: int, batches: int | None) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._loss_sum, self._batches_seen = 0.0, 0
        self._task = self._progress.add_task(
            f"epoch {epoch}/{self.epochs}", total=batches, loss="-"
        )

    def advance(self, loss: float) -> None:
        self._loss_sum += loss
        self._batches_seen += 1
        running = f"{self._loss_sum / self._batches_seen:.4g}"
        self._progress.update(self._task, advance=1, loss=running)

    def end_epoch(self, epoch: int, summary: str) -> None:
        self._progress.console.print(f"epoch {epoch}/{self.epochs}  {summary}", highlight=False)

    def message(self, text: str) -> None:
        self._progress.console.print(text, highlight=False)

    def close(self) -> None:
        self._progress.stop()


def make_reporter(progress: bool, epochs: int, stream=None) -> Silent:
    """The reporter ``fit`` uses: nothing unless ``progress`` is true and ``stream``
    (default: stderr) is a terminal; there a rich bar if rich is installed, plain lines if not.
    """
    stream = sys.stderr if stream is None else stream
    if not progress or not _is_terminal(stream):
        return Silent()
    if importlib.util.find_spec("rich") is None:
        return PlainLines(epochs, stream)
    from rich.console import Console

    return RichBar(epochs, Console(file=stream))


def _is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):  # a closed stream
        return False
