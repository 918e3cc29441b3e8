"""How far the demo's calls have got: a live bar on a terminal, plain lines elsewhere.

Off a terminal (CI logs, a pipe, a file) a redrawn bar is noise, so the same
events become a short line every tenth of the calls (every call when there
are few).
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class CallProgress:
    """Counts calls placed and ended; draws a bar or prints milestones."""

    def __init__(self, console: Console, total: int) -> None:
        self.console = console
        self.total = total
        self.placed = 0
        self.ended = 0
        self._step = 1 if total <= 20 else max(1, total // 10)
        self._bar: Progress | None = None
        self._task = None
        if console.is_terminal:
            self._bar = Progress(
                TextColumn("[bold]calls[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("ended, {task.fields[live]} on the line"),
                TimeElapsedColumn(),
                console=console,
            )
            self._task = self._bar.add_task("calls", total=total, live=0)

    def __enter__(self) -> CallProgress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def note(self, text: str) -> None:
        """A line printed above the bar (or plainly)."""
        self.console.print(text, highlight=False, markup=False)

    def call_placed(self) -> None:
        self.placed += 1
        self._refresh()

    def call_ended(self) -> None:
        self.ended += 1
        self._refresh()
        if self._bar is None and (self.ended % self._step == 0 or self.ended == self.total):
            self.note(f"  calls ended: {self.ended}/{self.total}")

    def _refresh(self) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=self.ended, live=self.placed - self.ended)
