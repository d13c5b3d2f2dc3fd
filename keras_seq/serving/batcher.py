"""`MicroBatcher`: concurrent requests grouped into one model call, on one worker thread."""

import asyncio
import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor


class RecordError(Exception):
    """One record of a request that the model could not take; `index` is its place there."""

    def __init__(self, index, error):
        self.index = index
        self.error = error
        super().__init__(f"records[{index}]: {error}")


class ShuttingDown(RuntimeError):
    """A request that arrived after the batcher began to stop."""


@dataclasses.dataclass
class _Request:
    items: list
    future: asyncio.Future


_STOP = object()


class MicroBatcher:
    """Groups concurrent requests so the model runs once per batch, not once per request.

    Each request's records wait at most `max_wait` seconds for others to join them; a batch
    holds at most `max_batch_size` records (a bigger request runs alone). `run_batch(items)`
    runs on a single worker thread, one batch at a time, and must return one result per item.
    When a batch fails, its records run again one by one, so a bad record fails only its own
    request (with a `RecordError` naming it) and the others get their results.

    Args:
        run_batch: callable. Takes a list of records, returns a list of results, one per record.
        max_batch_size: int. Most records in one call to `run_batch`; 1 turns batching off.
        max_wait: float. Seconds the first request of a batch waits for others.

    Examples:

    >>> import asyncio
    >>> async def main():
    ...     batcher = MicroBatcher(lambda items: [x * 2 for x in items], max_wait=0.01)
    ...     await batcher.start()
    ...     results = await asyncio.gather(batcher.submit([1, 2]), batcher.submit([3]))
    ...     await batcher.stop()
    ...     return results, batcher.batches
    >>> asyncio.run(main())
    ([[2, 4], [6]], 1)
    """

    def __init__(self, run_batch, *, max_batch_size=32, max_wait=0.005):
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be at least 1. Received: {max_batch_size}")
        self.run_batch = run_batch
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait
        self.batches = 0  # calls to run_batch that succeeded, for tests and metrics
        self._queue = None
        self._worker = None
        self._executor = None

    async def start(self):
        """Starts the worker task (call it inside the running event loop)."""
        self._queue = asyncio.Queue()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="keras-seq-model")
        self._worker = asyncio.create_task(self._work())

    async def stop(self):
        """Finishes every request already submitted, then stops; later submits fail."""
        if self._worker is None:
            return
        worker, self._worker = self._worker, None
        await self._queue.put(_STOP)
        await worker
        self._executor.shutdown(wait=True)

    async def submit(self, items):
        """The results for `items` (a list of records), once the batch holding them has run."""
        if self._worker is None:
            raise ShuttingDown("the server is shutting down")
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Request(list(items), future))
        return await future

    async def _work(self):
        pending = None
        while True:
            first = pending if pending is not None else await self._queue.get()
            if first is _STOP:
                return
            batch, pending = await self._gather(first)
            await self._run(batch)

    async def _gather(self, first):
        """The requests that join `first` within `max_wait`, and one left over (or None)."""
        batch, size = [first], len(first.items)
        deadline = time.monotonic() + self.max_wait
        while size < self.max_batch_size:
            try:
                following = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    following = await asyncio.wait_for(self._queue.get(), remaining)
                except asyncio.TimeoutError:
                    break
            if following is _STOP or size + len(following.items) > self.max_batch_size:
                return batch, following
            batch.append(following)
            size += len(following.items)
        return batch, None

    async def _run(self, batch):
        loop = asyncio.get_running_loop()
        items = [item for request in batch for item in request.items]
        try:
            results = await loop.run_in_executor(self._executor, self._checked, items)
        except Exception as error:
            if len(items) == 1:
                outcomes = [(None, error)]
            else:
                outcomes = await loop.run_in_executor(self._executor, self._one_by_one, items)
        else:
            self.batches += 1
            outcomes = [(result, None) for result in results]
        start = 0
        for request in batch:
            mine = outcomes[start : start + len(request.items)]
            start += len(request.items)
            if request.future.done():  # the client went away
                continue
            failed = [(i, error) for i, (_, error) in enumerate(mine) if error is not None]
            if failed:
                request.future.set_exception(RecordError(*failed[0]))
            else:
                request.future.set_result([result for result, _ in mine])

    def _checked(self, items):
        results = list(self.run_batch(items))
        if len(results) != len(items):
            raise RuntimeError(f"run_batch gave {len(results)} results for {len(items)} records")
        return results

    def _one_by_one(self, items):
        outcomes = []
        for item in items:
            try:
                outcomes.append((self._checked([item])[0], None))
            except Exception as error:
                outcomes.append((None, error))
        return outcomes
