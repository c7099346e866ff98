"""A one-line progress bar on stderr (a line per tenth when stderr is not a terminal)."""

from __future__ import annotations

import sys
import time

WIDTH = 30


class Progress:
    """Counts work done towards a known total and redraws the bar."""

    def __init__(self, label: str, total: int, unit: str = "rows") -> None:
        self.label, self.total, self.unit = label, max(total, 1), unit
        self.done = 0
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()
        self._last_tenth = -1
        self._draw()

    def advance(self, amount: int) -> None:
        """Record `amount` more units done."""
        self.done = min(self.total, self.done + amount)
        self._draw()

    def close(self) -> None:
        """Finish the line."""
        self.done = self.total
        self._draw()
        if self.tty:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def _draw(self) -> None:
        share = self.done / self.total
        elapsed = time.monotonic() - self.started
        bar = "#" * int(share * WIDTH)
        text = (
            f"  {self.label:<24} [{bar:<{WIDTH}}] {share:4.0%} "
            f"{self.done:,}/{self.total:,} {self.unit} {elapsed:6.1f} s"
        )
        if self.tty:
            sys.stderr.write("\r" + text)
            sys.stderr.flush()
        elif int(share * 10) != self._last_tenth:
            self._last_tenth = int(share * 10)
            print(text, file=sys.stderr, flush=True)
