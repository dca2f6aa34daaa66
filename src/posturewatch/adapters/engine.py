"""What a batch engine is: something that runs one job per input on a pool of workers.

The batch command hands an engine `make_worker` (a picklable callable that builds
a worker: done once per worker, so the pose model is loaded once per worker)
and the jobs; the engine calls `worker(job, report)` for each job somewhere and
yields events as they happen. Workers never write the batch's outputs: results
come back to the caller, which writes them. Engines: `processes.ProcessPool`
(this machine's cores) and `dask_engine.DaskEngine` (a Dask cluster).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol, Sequence, Union

Report = Callable[[float, float], None]  # (seconds done, seconds expected) of the running job
Work = Callable[[Any, Report], Any]  # (job, report) -> result


@dataclass(frozen=True)
class Started:
    index: int  # of the job in the sequence given to `run`
    worker: str


@dataclass(frozen=True)
class Progressed:
    index: int
    done_s: float
    total_s: float


@dataclass(frozen=True)
class Finished:
    index: int
    result: Any  # what the worker returned


@dataclass(frozen=True)
class Crashed:
    """The job did not return: its worker died, or the cluster gave up on it."""

    index: int
    message: str


Event = Union[Started, Progressed, Finished, Crashed]


class Engine(Protocol):
    workers: int  # how many jobs run at once (at most)

    def run(self, make_worker: Callable[[], Work], jobs: Sequence[Any]) -> Iterator[Event]:
        """Each job ends in exactly one Finished or Crashed; closing the iterator stops the workers."""
        ...
