"""Shared pieces of the GPS tests: a real reader on a thread, stopped at the end of each test.

The test suite imports test modules with importlib (no sys.path changes), so
helpers are offered as fixtures rather than as an importable module.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from devices.fix import Fix
from devices.gps_reader import GpsReader, State, Status


def wait_for(condition: Callable[[], bool], timeout: float = 10.0, step: float = 0.01) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(step)
    return condition()


class RunningReader:
    """A GpsReader on its own thread, recording every fix and status it reports."""

    def __init__(self, port: str, baud: int | str = 38400, **options) -> None:
        self.fixes: list[Fix] = []
        self.statuses: list[Status] = []
        self.stop = threading.Event()
        defaults = {"backoff_start": 0.05, "backoff_max": 0.2, "read_timeout": 0.05}
        defaults.update(options)
        self.reader = GpsReader(
            port, baud, on_fix=self.fixes.append, on_status=self.statuses.append, stop=self.stop, **defaults
        )
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.reader.run()
        except BaseException as exc:  # the test fails on it in close()
            self.error = exc

    @property
    def counts(self):
        return self.reader.pipeline.counts

    def states(self) -> list[State]:
        return [s.state for s in list(self.statuses)]

    def saw(self, state: State) -> bool:
        return state in self.states()

    def close(self, timeout: float = 5.0) -> None:
        self.stop.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the reader did not stop"
        if self.error is not None:
            raise self.error


@pytest.fixture
def running_readers():
    """Start readers with start(port, baud, **options); all are stopped when the test ends."""
    started: list[RunningReader] = []

    def start(port: str, baud: int | str = 38400, **options) -> RunningReader:
        r = RunningReader(port, baud, **options)
        started.append(r)
        return r

    yield start
    for r in started:
        if r.thread.is_alive():
            r.close()


@pytest.fixture
def until():
    """until(condition, timeout=10): poll a condition; True once it holds."""
    return wait_for
