"""The cluster batch engine: a batch's jobs on an existing Dask cluster (dask.distributed).

The only module that imports dask (the optional extra `posturewatch[cluster]`).
The worker object is built once per Dask worker by a worker plugin registered
for this batch (so the pose model is loaded once per worker), and each job runs
through it; results come back to the client, which writes them. Workers need
posturewatch installed, a model file and read access to the inputs by the same
path (docs/batch.md).

Progress is reported per finished job only. Stopping (Ctrl-C, an error) cancels
the batch's tasks and removes its plugin; the cluster and its workers go on.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any, Callable, Iterator, Sequence

from ..errors import ClusterError
from .engine import Crashed, Event, Finished, Work

try:
    import distributed
except ImportError:  # the cluster extra is not installed
    distributed = None

log = logging.getLogger(__name__)

INSTALL_HINT = "install it with `pip install 'posturewatch[cluster]'`"
WORKER_WAIT_S = 30.0  # for the cluster to have at least one worker


class _BatchPlugin(distributed.WorkerPlugin if distributed else object):
    """Holds one batch's worker object on each Dask worker."""

    def __init__(self, make_worker: Callable[[], Work]) -> None:
        self.make_worker = make_worker
        self.work: Work | None = None

    def setup(self, worker) -> None:
        self.work = self.make_worker()


def _run_job(plugin_name: str, job: Any) -> Any:
    """Runs on a Dask worker: the job through this worker's worker object."""
    plugin = distributed.get_worker().plugins[plugin_name]
    return plugin.work(job, lambda done_s, total_s: None)


class DaskEngine:
    """`DaskEngine("tcp://host:8786")`: connects now; ClusterError when it cannot."""

    def __init__(self, address: str) -> None:
        if distributed is None:
            raise ClusterError(f"--dask needs dask.distributed: {INSTALL_HINT}")
        self.address = address
        try:
            self.client = distributed.Client(address, set_as_default=False)
        except (OSError, ValueError, TypeError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address} ({exc})") from None
        try:
            self.client.wait_for_workers(1, timeout=WORKER_WAIT_S)
        except (TimeoutError, OSError) as exc:
            self.client.close()
            raise ClusterError(f"the Dask cluster at {address} has no workers ({exc})") from None
        self.workers = sum(self.client.nthreads().values())

    def run(self, make_worker: Callable[[], Work], jobs: Sequence[Any]) -> Iterator[Event]:
        name = f"posturewatch-batch-{uuid.uuid4().hex[:12]}"
        try:
            self.client.register_plugin(_BatchPlugin(make_worker), name=name)
            futures = {self.client.submit(_run_job, name, job, key=f"{name}-{i}", pure=False): i
                       for i, job in enumerate(jobs)}
            for future in distributed.as_completed(futures, loop=self.client.loop):
                yield self._event(futures[future], future)
        finally:
            self._close(name, locals().get("futures", {}))

    @staticmethod
    def _event(index: int, future) -> Event:
        try:
            return Finished(index, future.result())
        except Exception as exc:  # the worker died under it too often (KilledWorker), ...
            return Crashed(index, f"on the Dask cluster: {type(exc).__name__}: {exc}")

    def _close(self, name: str, futures) -> None:
        with contextlib.suppress(Exception):
            self.client.cancel(list(futures))
        with contextlib.suppress(Exception):
            self.client.unregister_worker_plugin(name)
        with contextlib.suppress(Exception):
            self.client.close()
