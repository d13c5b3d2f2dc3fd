"""MicroBatcher: grouping, bounds, one worker thread, failures kept to their own records."""

import asyncio
import threading
import time

import pytest

from keras_seq.serving.batcher import MicroBatcher, RecordError, ShuttingDown


class Recorder:
    """A `run_batch` that doubles numbers, fails on negatives and records every call."""

    def __init__(self):
        self.calls = []
        self.threads = set()

    def __call__(self, items):
        self.calls.append(list(items))
        self.threads.add(threading.get_ident())
        if any(x < 0 for x in items):
            raise ValueError("negative input")
        return [2 * x for x in items]


def _gather(batcher, requests):
    async def main():
        await batcher.start()
        try:
            return await asyncio.gather(
                *(batcher.submit(r) for r in requests), return_exceptions=True
            )
        finally:
            await batcher.stop()

    return asyncio.run(main())


def test_concurrent_requests_share_batches_up_to_the_bound():
    model = Recorder()
    results = _gather(
        MicroBatcher(model, max_batch_size=8, max_wait=0.05), [[i] for i in range(20)]
    )
    assert results == [[2 * i] for i in range(20)]
    assert [len(call) for call in model.calls] == [8, 8, 4]
    assert sorted(x for call in model.calls for x in call) == list(range(20))


def test_batch_size_one_runs_the_model_once_per_request():
    model = Recorder()
    results = _gather(MicroBatcher(model, max_batch_size=1), [[1], [2], [3]])
    assert results == [[2], [4], [6]]
    assert model.calls == [[1], [2], [3]]


def test_requests_are_never_split_and_a_big_one_runs_alone():
    model = Recorder()
    big = list(range(10))
    results = _gather(MicroBatcher(model, max_batch_size=4, max_wait=0.05), [big, [1], [2, 3]])
    assert results == [[2 * x for x in big], [2], [4, 6]]
    assert model.calls == [big, [1, 2, 3]]


def test_a_failing_record_fails_only_its_own_request():
    model = Recorder()
    requests = [[1, 2], [4, -5], [3]]
    results = _gather(MicroBatcher(model, max_batch_size=8, max_wait=0.05), requests)
    assert results[0] == [2, 4] and results[2] == [6]
    assert isinstance(results[1], RecordError)
    assert results[1].index == 1 and isinstance(results[1].error, ValueError)
    assert str(results[1]) == "records[1]: negative input"
    # One failed batch call, then each record alone.
    assert model.calls == [[1, 2, 4, -5, 3], [1], [2], [4], [-5], [3]]


def test_the_model_runs_on_one_worker_thread():
    model = Recorder()
    _gather(MicroBatcher(model, max_batch_size=2, max_wait=0.0), [[i] for i in range(6)])
    assert len(model.threads) == 1
    assert threading.get_ident() not in model.threads


def test_a_lone_request_waits_at_most_max_wait():
    model = Recorder()
    started = time.monotonic()
    assert _gather(MicroBatcher(model, max_wait=0.2), [[1]]) == [[2]]
    elapsed = time.monotonic() - started
    assert 0.2 <= elapsed < 5, elapsed


def test_stop_finishes_queued_requests_then_refuses_new_ones():
    def slow(items):
        time.sleep(0.05)
        return items

    async def main():
        batcher = MicroBatcher(slow, max_batch_size=1)
        await batcher.start()
        submitted = [asyncio.create_task(batcher.submit([i])) for i in range(4)]
        await asyncio.sleep(0)  # let them reach the queue
        await batcher.stop()
        done = [task.result() for task in submitted]
        with pytest.raises(ShuttingDown):
            await batcher.submit([9])
        return done

    assert asyncio.run(main()) == [[0], [1], [2], [3]]


def test_a_wrong_number_of_results_is_an_error_for_every_record():
    def short(items):
        return items[:-1]

    results = _gather(MicroBatcher(short, max_batch_size=4, max_wait=0.05), [[1], [2]])
    assert all(isinstance(r, RecordError) for r in results)
    assert "gave 0 results for 1 records" in str(results[0])
