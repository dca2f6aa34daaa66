"""The local batch engine (adapters/processes.py) with real spawned worker processes."""

from __future__ import annotations

import os
import time

from batch_jobs import Echo, broken_worker

from posturewatch.adapters.engine import Crashed, Finished, Progressed, Started
from posturewatch.adapters.processes import ProcessPool, available_cores


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_jobs_default_to_the_cores_this_process_may_use():
    assert available_cores() == len(os.sched_getaffinity(0))
    assert ProcessPool().workers == len(os.sched_getaffinity(0))


def test_each_job_runs_once_on_a_worker_built_once_per_process():
    jobs = [0.2, 0.2, 0.2, 0.2, "x", "y"]
    events = list(ProcessPool(2).run(Echo, jobs))
    finished = [e for e in events if isinstance(e, Finished)]
    assert sorted(e.index for e in finished) == list(range(len(jobs)))
    assert all(e.result[3] == jobs[e.index] for e in finished)
    pids = {e.result[0] for e in finished}
    assert len(pids) == 2 and os.getpid() not in pids  # two worker processes, not this one
    for pid in pids:  # one worker object per process, counting its jobs 1, 2, 3...
        mine = sorted(e.result[2] for e in finished if e.result[0] == pid)
        assert mine == list(range(1, len(mine) + 1))
        assert len({e.result[1] for e in finished if e.result[0] == pid}) == 1
    assert {e.index for e in events if isinstance(e, Started)} == set(range(len(jobs)))
    assert any(isinstance(e, Progressed) and e.done_s == 0.5 for e in events)
    assert not any(alive(pid) for pid in pids)  # every worker ended


def test_a_worker_that_dies_fails_its_job_and_the_others_go_on():
    events = list(ProcessPool(1).run(Echo, ["a", "die", "b", "raise", "c"]))
    ends = {e.index: e for e in events if isinstance(e, (Finished, Crashed))}
    assert sorted(ends) == [0, 1, 2, 3, 4]
    assert isinstance(ends[1], Crashed) and "killed by SIGKILL" in ends[1].message
    assert isinstance(ends[3], Crashed) and "RuntimeError: a bug in the worker" in ends[3].message
    assert [ends[i].result[3] for i in (0, 2, 4)] == ["a", "b", "c"]
    assert ends[0].result[0] != ends[2].result[0]  # a new process took over


def test_a_worker_that_cannot_start_fails_every_job():
    events = list(ProcessPool(2).run(broken_worker, ["a", "b", "c"]))
    crashed = [e for e in events if isinstance(e, Crashed)]
    assert sorted(e.index for e in crashed) == [0, 1, 2]
    assert all("OSError: no model here" in e.message for e in crashed)


def test_closing_the_events_stops_the_workers():
    events = ProcessPool(2).run(Echo, [30.0, 30.0, 30.0])
    started = [next(events), next(events)]  # both workers are busy with a 30 s job
    assert all(isinstance(e, Started) for e in started)
    pids = [int(e.worker) for e in started]
    t0 = time.monotonic()
    events.close()
    assert time.monotonic() - t0 < 5
    assert not any(alive(pid) for pid in pids)
