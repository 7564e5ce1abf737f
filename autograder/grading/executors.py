"""Where the workers run: local processes or a Dask cluster, behind one interface.

Both take a picklable function and items and yield results as they finish, so the pipeline (and
its progress bar) does not care which one runs.
"""

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Apply ``fn`` to every item on the workers; yield each result as soon as it is ready."""

    def close(self) -> None:
        """Release the workers."""


class LocalPool:
    """Worker processes on this machine, one per core by default.

    Args:
        workers: how many processes; None means one per core.
    """

    def __init__(self, workers: int | None = None):
        self.pool = ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1)

    def map_unordered(self, fn, items):
        futures = [self.pool.submit(fn, item) for item in items]
        for future in as_completed(futures):
            yield future.result()

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


class DaskPool:
    """A Dask distributed cluster: the scheduler at ``address``, or an embedded LocalCluster.

    Args:
        address: a scheduler address such as ``tcp://10.0.0.5:8786``; None starts a LocalCluster.
        workers: worker processes of the embedded LocalCluster (one thread each); None means one per core.
    """

    def __init__(self, address: str | None = None, workers: int | None = None):
        from dask.distributed import Client, LocalCluster  # only the Dask path needs Dask

        self.cluster = None
        if address is None:
            self.cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True, dashboard_address=None
            )
            address = self.cluster.scheduler_address
        self.client = Client(address)

    def map_unordered(self, fn, items):
        from dask.distributed import as_completed as dask_completed

        # pure=False: the same submission graded twice is two tasks (a re-run must really run).
        for future in dask_completed(self.client.map(fn, list(items), pure=False)):
            yield future.result()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make(workers: int | None = None, scheduler: str | None = None, dask: bool = False) -> Executor:
    """The local pool, or Dask when a scheduler address is given or ``dask`` is set."""
    if scheduler or dask:
        return DaskPool(scheduler, workers)
    return LocalPool(workers)
