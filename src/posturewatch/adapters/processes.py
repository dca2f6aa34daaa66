"""The local batch engine: worker processes on this machine's cores.

Workers are started with `spawn`: a fresh interpreter, never a fork of a process
that may have loaded MediaPipe (its threads and graph state do not survive a
fork). Each worker builds its worker object once, so the pose model is loaded
once per process, then runs the jobs the parent hands it one at a time, so a
fast worker simply takes more jobs.

Each worker talks to the parent over its own pipe, not a shared queue: a worker
killed while holding a shared queue's lock (the OOM killer, a crash in native
code) would block every other worker on it. A worker that dies fails only the
job it had, and a new worker takes its place.

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
import signal
import threading
from multiprocessing.connection import wait
from typing import Any, Callable, Iterator, Sequence

from .engine import Crashed, Event, Finished, Progressed, Started, Work

log = logging.getLogger(__name__)

POLL_S = 1.0  # how often the parent looks for a worker that died silently
STOP_GRACE_S = 5.0  # after SIGTERM, before SIGKILL


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity), not the machine's count."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _worker_main(make_worker: Callable[[], Work], conn) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        work, broken = make_worker(), None
    except Exception as exc:  # every job this worker gets reports it
        work, broken = None, f"the worker could not start: {type(exc).__name__}: {exc}"
    while (item := conn.recv()) is not None:
        index, job = item
        if broken:
            conn.send(Crashed(index, broken))
            continue
        try:
            result = work(job, lambda done, total, i=index: conn.send(Progressed(i, done, total)))
        except Exception as exc:  # the worker is meant to return its failures; this is a bug
            log.exception("job %d failed", index)
            conn.send(Crashed(index, f"unexpected {type(exc).__name__}: {exc}"))
        else:
            conn.send(Finished(index, result))


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


class _Worker:
    def __init__(self, context, make_worker) -> None:
        self.conn, child = context.Pipe(duplex=True)
        self.proc = context.Process(target=_worker_main, args=(make_worker, child),
                                    name="posturewatch-batch-worker", daemon=True)
        with _sigint_ignored():
            self.proc.start()
        child.close()  # so that the worker's death reads as EOF here
        self.name = str(self.proc.pid)
        self.job: int | None = None  # index of the job it is running

    def give(self, item) -> None:
        self.job = None if item is None else item[0]
        self.conn.send(item)


class ProcessPool:
    """`workers` processes (default: the cores this process may use)."""

    def __init__(self, workers: int | None = None, start_method: str = "spawn") -> None:
        self.workers = workers or available_cores()
        self.context = multiprocessing.get_context(start_method)

    def run(self, make_worker: Callable[[], Work], jobs: Sequence[Any]) -> Iterator[Event]:
        pending = list(enumerate(jobs))[::-1]  # popped from the end: in order
        pool: list[_Worker] = []
        try:
            for _ in range(min(self.workers, len(jobs))):
                pool.append(_Worker(self.context, make_worker))
            for worker in pool:
                yield from self._give(worker, pending)
            while any(w.job is not None for w in pool):
                yield from self._next_events(pool, pending, make_worker)
            for worker in pool:  # all done: each ends at its end marker
                worker.proc.join(STOP_GRACE_S)
        finally:
            self._stop(pool)

    @staticmethod
    def _give(worker: _Worker, pending: list) -> Iterator[Event]:
        item = pending.pop() if pending else None
        worker.give(item)
        if item is not None:
            yield Started(item[0], worker.name)

    def _next_events(self, pool: list[_Worker], pending: list, make_worker) -> Iterator[Event]:
        busy = {w.conn: w for w in pool if w.job is not None}
        for conn in wait(list(busy), timeout=POLL_S):
            worker = busy[conn]
            try:
                event = conn.recv()
            except (EOFError, OSError):  # it died (a crash in native code, the OOM killer)
                yield from self._replace(worker, pool, pending, make_worker)
                continue
            yield event
            if isinstance(event, (Finished, Crashed)):
                yield from self._give(worker, pending)

    def _replace(self, dead: _Worker, pool: list[_Worker], pending: list, make_worker) -> Iterator[Event]:
        dead.proc.join(STOP_GRACE_S)
        pool.remove(dead)
        yield Crashed(dead.job, f"the worker process died ({_exit_text(dead.proc.exitcode)})")
        if pending:
            worker = _Worker(self.context, make_worker)
            pool.append(worker)
            yield from self._give(worker, pending)

    @staticmethod
    def _stop(pool: list[_Worker]) -> None:
        for worker in pool:
            if worker.proc.is_alive():
                worker.proc.terminate()
        for worker in pool:
            worker.proc.join(STOP_GRACE_S)
            if worker.proc.is_alive():
                worker.proc.kill()
                worker.proc.join()
            worker.conn.close()
