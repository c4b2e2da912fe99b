"""A job that runs in a daemon thread of the server process until the server stops: the visit
slices' upkeep (analytics/catchup.py), the pointer rows' rounds (analytics/pointer_upkeep.py)
and the retention round (ops/retention.py)."""

from __future__ import annotations

import threading
import time


class BackgroundJob:
    """Subclasses set `thread_name` and write `_run`, a loop that waits on `self._stop`."""

    thread_name = "katsuo-job"
    # Rounds are paced so that upkeep takes a tenth of the time at most (`pace`).
    SHARE = 10

    def __init__(self, interval: float):
        self.interval = interval  # 0 or less: the job does not run
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval <= 0:
            return
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Let the step in progress finish, for 5 seconds at most."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def pace(self, started: float) -> float:
        """The wait before the next round: the interval, or longer after a long round."""
        return max(self.interval, (self.SHARE - 1) * (time.monotonic() - started))

    def _run(self) -> None:
        raise NotImplementedError
