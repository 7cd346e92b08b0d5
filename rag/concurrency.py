"""How one server answers many clients at once: who may answer now, and the index they share.

* `AnswerSlots`: up to `concurrency` retrieval and extractive (or endpoint) answers run side by side;
  local-model answers take turns on the one model context, in a lane of their own, so a slow local
  answer never holds up an extractive one. It counts the answers in flight, so that a stop can wait
  for them.
* `TurnLock`: one conversation's turns are answered one at a time, in the order they came.
* `ReadWriteLock`: answers read the index together; a re-index writes it alone, so an answer sees
  the index before the re-index or after it, never one half-built. A waiting writer goes first, so
  a stream of questions cannot starve it.
* `side_by_side`: two independent steps of one answer run at once, one on each core (two small models
  reading the same candidates).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

A = TypeVar("A")
B = TypeVar("B")


def side_by_side(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """Both results, `first` run in a thread of its own while `second` runs in this one; an exception
    in either is raised here, after both are done. torch releases the interpreter lock while it
    computes, so two models, each on one thread, use two cores."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="side-by-side") as pool:
        running = pool.submit(first)
        second_value = second()  # raising, the pool still waits for `first` on leaving the block
        return running.result(), second_value


class TurnLock:
    """A lock granted in the order it was asked for (`threading.Lock` promises no order), so that one
    conversation's turns, sent one after another, are answered in the order they came."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._issued = 0
        self._serving = 0

    def __enter__(self) -> None:
        with self._cond:
            ticket = self._issued
            self._issued += 1
            self._cond.wait_for(lambda: self._serving == ticket)

    def __exit__(self, *exc) -> None:
        with self._cond:
            self._serving += 1
            self._cond.notify_all()


class ReadWriteLock:
    """Many readers or one writer; a writer waiting blocks new readers."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the lock shared for the block."""
        with self._cond:
            self._cond.wait_for(lambda: not self._writing and not self._writers_waiting)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the lock alone for the block (after the readers in flight are done)."""
        with self._cond:
            self._writers_waiting += 1
            self._cond.wait_for(lambda: not self._writing and not self._readers)
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


class AnswerSlots:
    """The lanes answers run in: `concurrency` slots shared by every mode but `local`, and one for
    `local` (the model context cannot serve two answers at once). It counts the answers asked
    (waiting for a lane or running), those running and the most seen running at once, and `drain`
    waits until none is asked."""

    def __init__(self, concurrency: int):
        self._shared = threading.BoundedSemaphore(concurrency)
        self._local = threading.Lock()
        self._count = threading.Condition()
        self.asked = 0
        self.running = 0
        self.most_running = 0
        self._changed = time.monotonic()

    @contextmanager
    def slot(self, mode: str, opened: threading.Event) -> Iterator[None]:
        """Wait for `opened` (the server warm) and this mode's lane, and hold it for the block."""
        self._change(asked=1)
        try:
            opened.wait()
            with self._local if mode == "local" else self._shared:
                self._change(running=1)
                try:
                    yield
                finally:
                    self._change(running=-1)
        finally:
            self._change(asked=-1)

    def drain(self, timeout: float, quiet: float) -> bool:
        """Wait up to `timeout` seconds until no answer is asked and none has come or gone for
        `quiet` seconds (a request already taken may not have asked yet); False on the timeout."""
        deadline = time.monotonic() + timeout
        with self._count:
            while self.asked or time.monotonic() - self._changed < quiet:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._count.wait(min(left, quiet))
            return True

    def _change(self, asked: int = 0, running: int = 0) -> None:
        with self._count:
            self.asked += asked
            self.running += running
            self.most_running = max(self.most_running, self.running)
            self._changed = time.monotonic()
            self._count.notify_all()
