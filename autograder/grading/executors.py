"""Where the workers run: local processes or a Dask cluster, behind one interface.

Both take a picklable function and items and yield ``(item, result, error)`` as each finishes, so
the pipeline (and its progress bar) does not care which one runs, and one task that fails, or kills
its worker, never stops the others: its error comes back in place of its result.
"""

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[T, R | None, BaseException | None]]:
        """Apply ``fn`` to every item on the workers; yield (item, result, None) or (item, None, error) as each is ready."""

    def close(self) -> None:
        """Release the workers."""


class LocalPool:
    """Worker processes on this machine, one per core by default.

    Args:
        workers: how many processes; None means one per core.
    """

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # Workers start from a fresh server process, not a fork of ours: a fork of a process whose
        # threads (JAX's, a BLAS pool's) held a lock can deadlock.
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("forkserver"))

    def map_unordered(self, fn, items):
        pending, restarts = list(items), 0
        while pending:
            futures = {self.pool.submit(fn, item): item for item in pending}
            pending = []
            for future in as_completed(futures):
                try:
                    yield futures[future], future.result(), None
                except BrokenProcessPool as error:
                    # A worker died (killed, out of memory): every unfinished task of the pool fails with it.
                    if restarts < 1:
                        pending.append(futures[future])
                    else:
                        yield futures[future], None, error
                except Exception as error:
                    yield futures[future], None, error
            if pending:
                restarts += 1
                self.pool.shutdown(cancel_futures=True)
                self.pool = self._new_pool()

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

        items = list(items)
        # pure=False: the same submission graded twice is two tasks (a re-run must really run).
        futures = self.client.map(fn, items, pure=False)
        index = {future.key: item for future, item in zip(futures, items)}
        for future in dask_completed(futures):
            try:
                yield index[future.key], future.result(), None
            except Exception as error:  # KilledWorker after Dask's own retries, or the task's exception
                yield index[future.key], None, error

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make(workers: int | None = None, scheduler: str | None = None, dask: bool = False) -> Executor:
    """The local pool, or Dask when a scheduler address is given or ``dask`` is set."""
    if scheduler or dask:
        return DaskPool(scheduler, workers)
    return LocalPool(workers)
