"""Worker objects for the batch engine tests; importable by spawned worker processes."""

from __future__ import annotations

import os
import signal
import time


class Echo:
    """Returns (pid, id of this worker object, jobs it has run, job); reports progress twice."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, job, report):
        self.calls += 1
        report(0.5, 1.0)
        if job == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        if job == "raise":
            raise RuntimeError("a bug in the worker")
        if isinstance(job, (int, float)):
            time.sleep(job)
        report(1.0, 1.0)
        return os.getpid(), id(self), self.calls, job


def broken_worker():
    raise OSError("no model here")
