"""A progress line at least every 15 seconds while a long task works.

A task that loads a backlog, validates it or builds dbt can be silent for minutes; its log then
looks like a hang. :func:`heartbeat` logs ``PROGRESS <what>: still working, N s`` every
``every`` seconds from a side thread until the block ends; ``vawg run`` shows these lines on
the console too.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Iterator

log = logging.getLogger(__name__)

EVERY_SECONDS = 15.0
MARKER = "PROGRESS"


@contextlib.contextmanager
def heartbeat(what: str, every: float = EVERY_SECONDS) -> Iterator[None]:
    stop = threading.Event()
    began = time.monotonic()

    def beat() -> None:
        while not stop.wait(every):
            log.info("%s %s: still working, %.0f s", MARKER, what, time.monotonic() - began)

    thread = threading.Thread(target=beat, name=f"heartbeat {what}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def with_heartbeat(what: str):
    """The decorator form, for a task function."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with heartbeat(what):
                return function(*args, **kwargs)

        # What the task says it is doing.
        wrapper.heartbeat = what
        return wrapper

    return decorate
