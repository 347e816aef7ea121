"""Ctrl-C (SIGINT) during training as one line saying during which step it came and what state is left.

Returns: `Interrupted`, the one line (without `error: `) a training run ends with, exit `EXIT_CODE`;
`Progress`, where the run is (the step of its `[n/6]` progress lines, and what it is doing in it);
`sigint_ignored()`, a block a further Ctrl-C does not cut short (reading back and recording what the
first one left: a few quick MLflow calls); `sigint_deferred()`, a block that finishes before a Ctrl-C
that came during it is raised (the renames that swap the bundle in: never half done).
"""
from __future__ import annotations

import re
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

# What a shell reports for a command ended by SIGINT (128 + 2).
EXIT_CODE = 130
INTERRUPTED = "interrupted (Ctrl-C)"
_STEP_LINE = re.compile(r"\[([0-9]+)/([0-9]+)\] ([^:(]*[^:( ])")


class Interrupted(Exception):
    """Ctrl-C during a training run: during which step, which MLflow run, and what was and was not logged,
    registered, moved and written (each read back where it could have gone either way)."""


class Progress:
    """Where a training run is, in the words of the line a Ctrl-C ends it with (`where`)."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.step: str | None = None  # "step 3/6 (train)", from the last `[3/6] train: …` progress line
        self.where = f"before step 1/{steps}"

    def log(self, inner: Callable[[str], None]) -> Callable[[str], None]:
        """`inner` (the progress printer), also following the step each `[n/N] name: …` line starts."""
        def log(message: str) -> None:
            if found := _STEP_LINE.match(message):
                self.step = f"step {found.group(1)}/{found.group(2)} ({found.group(3)})"
                self.where = f"during {self.step}"
            inner(message)
        return log

    def doing(self, what: str) -> None:
        """Something inside the current step (`during step 6/6 (…), registering …`), or before step 1."""
        self.where = f"during {self.step}, {what}" if self.step else f"{what}, before step 1/{self.steps}"

    def after_step(self, what: str) -> None:
        """Something between two steps (`after step 1/6, starting the MLflow run`)."""
        self.where = f"after {self.step}, {what}" if self.step else f"{what}, before step 1/{self.steps}"


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """SIGINT ignored for the block (the main thread only: signal handlers cannot be set elsewhere)."""
    if not _main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def sigint_deferred() -> Iterator[None]:
    """A SIGINT during the block is acted on (KeyboardInterrupt, with Python's own handler) once it is done."""
    if not _main_thread():
        yield
        return
    caught: list[int] = []

    def record(signum: int, _frame: FrameType | None) -> None:
        caught.append(signum)

    previous = signal.signal(signal.SIGINT, record)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught and callable(previous):
        previous(signal.SIGINT, None)
