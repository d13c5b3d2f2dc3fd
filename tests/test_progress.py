"""Progress lines in a log (throttled, with epoch, step, loss and ETA) and the epoch speed."""

import io
import re

import pytest

from keras_seq import progress


class FakeClock:
    def __init__(self, start=1000.0):
        self.now = start

    def __call__(self):
        return self.now


def _lines(callback, out, times, losses, epoch=0):
    """Runs one epoch: step i ends at `times[i]` seconds after the epoch began."""
    clock = callback.clock
    begin = clock.now
    callback.on_epoch_begin(epoch)
    for step, (at, loss) in enumerate(zip(times, losses)):
        clock.now = begin + at
        callback.on_train_batch_end(step, {"loss": loss})
    return out.getvalue().splitlines()


def test_a_line_at_most_every_interval_with_epoch_step_loss_and_eta():
    out, clock = io.StringIO(), FakeClock()
    lines = progress.ProgressLines(clock=clock, stream=out)
    lines.set_params({"epochs": 8, "steps": 400})
    times = [7.0 * (step + 1) for step in range(400)]  # 7 s a step
    got = _lines(lines, out, times, [0.5] * 400, epoch=1)
    # First line once 30 s have passed (step 5 ends at 35 s), then every 5 steps (35 s).
    steps = [int(re.search(r"step (\d+)/", line).group(1)) for line in got]
    assert steps == list(range(5, 401, 5))
    eta = 7.0 * (400 - 5)  # the mean time per step so far, times the steps left
    assert got[0] == f"Epoch 2/8 - step 5/400 - loss: 0.5000 - ETA: {progress.duration(eta)}"
    assert got[0].endswith("ETA: 46:05") and got[-1].endswith(
        "step 400/400 - loss: 0.5000 - ETA: 0s"
    )
    gaps = [b - a for a, b in zip([0] + steps, steps)]
    assert all(7.0 * gap >= progress.INTERVAL_SECONDS for gap in gaps)


def test_no_line_within_the_interval_and_the_interval_can_be_patched(monkeypatch):
    out, clock = io.StringIO(), FakeClock()
    lines = progress.ProgressLines(clock=clock, stream=out)
    lines.set_params({"epochs": 1, "steps": 10})
    assert _lines(lines, out, [2.9 * (s + 1) for s in range(10)], [1.0] * 10) == []  # 29 s
    monkeypatch.setattr(progress, "INTERVAL_SECONDS", 0.0)
    out = io.StringIO()
    lines = progress.ProgressLines(clock=clock, stream=out)
    lines.set_params({"epochs": 1, "steps": 3})
    assert _lines(lines, out, [1.0, 2.0, 3.0], [3.0, 2.5, 2.25]) == [
        "Epoch 1/1 - step 1/3 - loss: 3.0000 - ETA: 2s",
        "Epoch 1/1 - step 2/3 - loss: 2.5000 - ETA: 1s",
        "Epoch 1/1 - step 3/3 - loss: 2.2500 - ETA: 0s",
    ]


def test_a_new_epoch_restarts_the_clock_and_unknown_lengths_show_no_eta():
    out, clock = io.StringIO(), FakeClock()
    lines = progress.ProgressLines(clock=clock, stream=out)
    lines.set_params({"epochs": 3, "steps": None})  # a streamed file's first epoch
    _lines(lines, out, [29.0, 31.0], [0.7, 0.6])
    assert out.getvalue().splitlines() == ["Epoch 1/3 - step 2 - loss: 0.6000"]
    # Epoch 2 begins at the 31 s mark: its first step 20 s later is within the interval.
    got = _lines(lines, out, [20.0, 40.0], [0.4, 0.3], epoch=1)
    assert got[1:] == ["Epoch 2/3 - step 2 - loss: 0.3000"]


@pytest.mark.parametrize(
    "seconds, text", [(0.4, "0s"), (59.4, "59s"), (60, "1:00"), (3599, "59:59"), (3600, "1:00:00")]
)
def test_duration(seconds, text):
    assert progress.duration(seconds) == text


def test_epoch_speed_logs_seconds_and_units_per_second():
    clock = FakeClock()
    speed = progress.EpochSpeed(5000, "words", clock=clock)
    history = []
    for seconds in (2.5, 4.0):
        speed.on_epoch_begin(len(history))
        clock.now += seconds
        logs = {"loss": 1.0}
        speed.on_epoch_end(len(history), logs)
        history.append(logs)
    assert history == [
        {"loss": 1.0, "seconds": 2.5, "words_per_second": 2000.0},
        {"loss": 1.0, "seconds": 4.0, "words_per_second": 1250.0},
    ]


def test_scoring_says_each_split_before_scoring_it_with_the_time_left():
    from types import SimpleNamespace

    from keras_seq import scoring

    class Task:
        def evaluate_with_tables(self, records):
            now[0] += 2.0 * len(records)  # 2 s per example
            return {"loss": 0.5}, {}

    now = [0.0]
    sizes = {"train": 6, "validation": 2, "test": 2}
    encoded = {s: SimpleNamespace(stats=SimpleNamespace(examples=n)) for s, n in sizes.items()}
    records = {s: [{}] * n for s, n in sizes.items()}
    said = []
    metrics, _ = scoring.score(Task(), encoded, records, said.append, clock=lambda: now[0])
    assert list(metrics) == ["train", "validation", "test"]
    assert said == [
        "scoring train (1/3 splits, 6 examples)",
        "scoring validation (2/3 splits, 2 examples) - ETA: 8s",  # 4 examples left at 2 s
        "scoring test (3/3 splits, 2 examples) - ETA: 4s",
    ]
