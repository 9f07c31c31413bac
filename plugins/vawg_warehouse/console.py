"""What the ``vawg`` commands print: one line per message, each step with its wall time."""

from __future__ import annotations

import time
from collections.abc import Callable


def say(message: str) -> None:
    print(f"[vawg] {message}", flush=True)


class Step:
    """Prints a step's name, then its wall time when it ends."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self.started = time.monotonic()
        say(f"{self.name} ...")
        return self

    def __exit__(self, exc_type, exc, tb):
        took = time.monotonic() - self.started
        say(f"{self.name}: {'done' if exc is None else 'FAILED'} in {took:.1f} s")


def progress_printer() -> Callable[[str], None]:
    """A progress callback that prints at most one message every 2 seconds."""
    last = [0.0]

    def progress(message: str) -> None:
        now = time.monotonic()
        if now - last[0] >= 2:
            last[0] = now
            say(f"  {message}")

    return progress
