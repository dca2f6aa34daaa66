"""The local batch engine: worker processes on this machine's cores.

Workers are started with `spawn`: a fresh interpreter, never a fork of a process
that may have loaded MediaPipe (its threads and graph state do not survive a
fork). Each worker builds its worker object once and takes jobs from a shared
queue until it is empty, so the pose model is loaded once per process and a
fast worker simply takes more jobs.

Workers ignore SIGINT: Ctrl-C reaches the whole process group, and the parent
decides how to stop. Closing the event iterator (normally, on Ctrl-C or on an
error) terminates the workers that are still running; they write no files, so
nothing is left half-written.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from typing import Any, Callable, Iterator, Sequence

from .engine import Crashed, Event, Finished, Progressed, Started, Work

log = logging.getLogger(__name__)

POLL_S = 0.5  # how often the parent looks for workers that died
STOP_GRACE_S = 5.0  # after SIGTERM, before SIGKILL


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity), not the machine's count."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _worker_main(make_worker: Callable[[], Work], todo, events) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    name = str(os.getpid())
    try:
        work, broken = make_worker(), None
    except Exception as exc:  # every job this worker takes reports it
        work, broken = None, f"the worker could not start: {type(exc).__name__}: {exc}"
    while (item := todo.get()) is not None:
        index, job = item
        events.put(Started(index, name))
        if broken:
            events.put(Crashed(index, broken))
            continue
        try:
            result = work(job, lambda done, total, i=index: events.put(Progressed(i, done, total)))
        except Exception as exc:  # the worker is meant to return its failures; this is a bug
            log.exception("job %d failed", index)
            events.put(Crashed(index, f"unexpected {type(exc).__name__}: {exc}"))
        else:
            events.put(Finished(index, result))


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


@contextlib.contextmanager
def _sigint_ignored():
    """Children inherit an ignored SIGINT through exec, so none sees Ctrl-C while starting up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class ProcessPool:
    """`workers` processes (default: the cores this process may use)."""

    def __init__(self, workers: int | None = None, start_method: str = "spawn") -> None:
        self.workers = workers or available_cores()
        self.context = multiprocessing.get_context(start_method)

    def run(self, make_worker: Callable[[], Work], jobs: Sequence[Any]) -> Iterator[Event]:
        if not jobs:
            return
        todo, events = self.context.Queue(), self.context.Queue()
        for item in enumerate(jobs):
            todo.put(item)
        count = min(self.workers, len(jobs))
        for _ in range(count):
            todo.put(None)  # one end marker per worker
        procs: dict[str, Any] = {}
        try:
            for _ in range(count):
                self._start(procs, make_worker, todo, events)
            yield from self._events(procs, make_worker, todo, events, len(jobs))
            for proc in procs.values():  # all done: each worker ends at its end marker
                proc.join(STOP_GRACE_S)
        finally:
            self._stop(procs)
            for q in (todo, events):
                q.cancel_join_thread()  # never block on a queue a dead worker left behind
                q.close()

    def _start(self, procs, make_worker, todo, events) -> None:
        proc = self.context.Process(target=_worker_main, args=(make_worker, todo, events),
                                    name="posturewatch-batch-worker", daemon=True)
        with _sigint_ignored():
            proc.start()
        procs[str(proc.pid)] = proc

    def _events(self, procs, make_worker, todo, events, total: int) -> Iterator[Event]:
        running: dict[str, int] = {}  # worker -> index of its job
        done: set[int] = set()
        restarts = 0
        while len(done) < total:
            try:
                event = events.get(timeout=POLL_S)
            except queue.Empty:
                dead, lost = self._reap(procs, running)
                for event in lost:
                    done.add(event.index)
                    yield event
                restarts += dead
                if restarts > total:  # workers die before taking a job: give up on the rest
                    yield from (Crashed(i, "the worker processes keep dying")
                                for i in range(total) if i not in done)
                    return
                for _ in range(dead):  # a new one takes the dead one's jobs and end marker
                    self._start(procs, make_worker, todo, events)
                continue
            if isinstance(event, Started):
                running[event.worker] = event.index
            elif isinstance(event, (Finished, Crashed)):
                running = {w: i for w, i in running.items() if i != event.index}
                done.add(event.index)
            yield event

    @staticmethod
    def _reap(procs, running) -> tuple[int, list[Crashed]]:
        """Workers that died (a crash in native code, the OOM killer), and the jobs they had."""
        dead, lost = 0, []
        for name, proc in list(procs.items()):
            if proc.exitcode is None or proc.exitcode == 0:
                continue
            del procs[name]
            dead += 1
            if name in running:
                index = running.pop(name)
                lost.append(Crashed(index, f"the worker process died ({_exit_text(proc.exitcode)})"))
        return dead, lost

    @staticmethod
    def _stop(procs) -> None:
        for proc in procs.values():
            if proc.is_alive():
                proc.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for proc in procs.values():
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join()
