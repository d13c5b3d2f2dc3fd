"""Training made visible: progress lines in a log, and each epoch's time and speed.

- `ProgressLines`: where Keras' progress bar cannot redraw itself (output to a file or a pipe,
  where `fit(verbose=2)` writes one line per epoch, at its end), a line every
  `INTERVAL_SECONDS` at most: `Epoch 2/8 - step 120/392 - loss: 0.4321 - ETA: 1:05`.
- `BatchLines`: the same for a long evaluation or prediction pass, on standard error:
  `scoring test.conllu - batch 30/64 - ETA: 20s`.
- `EpochSpeed`: each epoch's seconds and training units per second, logged as `seconds` and
  `words_per_second` (or `examples_per_second`), so they reach `history.csv`.

Each takes a `clock` (default `time.monotonic`) so tests can drive it with a fake one.
"""

import sys
import time

import keras

#: The longest a run writing to a log goes without a progress line (seconds).
INTERVAL_SECONDS = 30.0
#: The longest a long `evaluate` or `predict` pass goes without a progress line (seconds).
BATCH_INTERVAL_SECONDS = 10.0


def duration(seconds):
    """`45s`, `2:05` (minutes:seconds) or `1:02:05` (hours:minutes:seconds).

    >>> from keras_seq.progress import duration
    >>> duration(45.2), duration(125), duration(3725)
    ('45s', '2:05', '1:02:05')
    """
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}" if minutes else f"{secs}s"


class ProgressLines(keras.callbacks.Callback):
    """Prints `Epoch E/N - step S/T - loss: L - ETA: D` to standard output when at least
    `INTERVAL_SECONDS` have passed since the epoch began or since the last line.

    The loss is the epoch's running mean as Keras logs it; the ETA is the epoch's remaining
    steps at its mean time per step so far. A dataset of unknown length (a streamed file's
    first epoch) shows `step S` and no ETA.

    Args:
        clock: callable returning seconds (default `time.monotonic`).
        stream: file-like (default `sys.stdout` at the time of each line).

    Examples:

    >>> import io
    >>> from keras_seq.progress import ProgressLines
    >>> now = [0.0]
    >>> out = io.StringIO()
    >>> lines = ProgressLines(clock=lambda: now[0], stream=out)
    >>> lines.set_params({"epochs": 2, "steps": 10})
    >>> lines.on_epoch_begin(0)
    >>> for step in range(10):
    ...     now[0] += 10.0
    ...     lines.on_train_batch_end(step, {"loss": 1.0 / (step + 1)})
    >>> print(out.getvalue(), end="")
    Epoch 1/2 - step 3/10 - loss: 0.3333 - ETA: 1:10
    Epoch 1/2 - step 6/10 - loss: 0.1667 - ETA: 40s
    Epoch 1/2 - step 9/10 - loss: 0.1111 - ETA: 10s
    """

    def __init__(self, clock=time.monotonic, stream=None):
        super().__init__()
        self.clock, self.stream = clock, stream
        self._epoch = self._start = self._last = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1
        self._start = self._last = self.clock()

    def on_train_batch_end(self, batch, logs=None):
        now = self.clock()
        if now - self._last < INTERVAL_SECONDS:
            return
        self._last = now
        steps = self.params.get("steps")
        done = batch + 1
        parts = [f"Epoch {self._epoch}/{self.params['epochs']}"]
        parts.append(f"step {done}/{steps}" if steps else f"step {done}")
        loss = (logs or {}).get("loss")
        if loss is not None:
            parts.append(f"loss: {float(loss):.4f}")
        if steps:
            parts.append(f"ETA: {duration((now - self._start) / done * (steps - done))}")
        print(" - ".join(parts), file=self.stream or sys.stdout, flush=True)


class BatchLines(keras.callbacks.Callback):
    """Prints `WHAT - batch B/T - ETA: D` to standard error when at least `interval` seconds
    have passed since the pass began or since the last line: a long `evaluate` or `predict`
    shows where it is, a short one prints nothing.

    Pass it to Keras' `evaluate` or `predict` as a callback, or call `step(done)` after each
    batch of a loop of one's own. The ETA is the remaining batches at the mean time per batch
    so far. Standard error, because standard output carries the command's result (JSON, the
    predicted file).

    Args:
        what: str. What the pass does, e.g. `scoring dev.conllu`.
        total: int. The number of batches.
        interval: float. Seconds between lines at most (default `BATCH_INTERVAL_SECONDS`).
        clock: callable returning seconds (default `time.monotonic`).
        stream: file-like (default `sys.stderr` at the time of each line).

    Examples:

    >>> import io
    >>> from keras_seq.progress import BatchLines
    >>> now, out = [0.0], io.StringIO()
    >>> lines = BatchLines("scoring test.conllu", 8, clock=lambda: now[0], stream=out)
    >>> for batch in range(8):
    ...     now[0] += 4.0
    ...     lines.on_test_batch_end(batch)
    >>> print(out.getvalue(), end="")
    scoring test.conllu - batch 3/8 - ETA: 20s
    scoring test.conllu - batch 6/8 - ETA: 8s
    """

    def __init__(self, what, total, interval=None, clock=time.monotonic, stream=None):
        super().__init__()
        self.what, self.total, self.clock, self.stream = what, total, clock, stream
        self.interval = BATCH_INTERVAL_SECONDS if interval is None else interval
        self._start = self._last = clock()

    def step(self, done):
        """Called after `done` batches of `total`."""
        now = self.clock()
        if now - self._last < self.interval or done >= self.total:
            return
        self._last = now
        eta = duration((now - self._start) / done * (self.total - done))
        line = f"{self.what} - batch {done}/{self.total} - ETA: {eta}"
        print(line, file=self.stream or sys.stderr, flush=True)

    def on_test_batch_end(self, batch, logs=None):
        self.step(batch + 1)

    def on_predict_batch_end(self, batch, logs=None):
        self.step(batch + 1)


class EpochSpeed(keras.callbacks.Callback):
    """Adds `seconds` (the epoch's wall time, its validation included) and
    `<unit>_per_second` (`count / seconds`) to each epoch's logs; pass it to `fit` before
    the callbacks that record the logs (`keras_seq.training.EpochCheckpoint`).

    Args:
        count: int. Training units in one epoch: the real (not padding) tokens for tasks
            trained on every token, else examples (`keras_seq.tasks.Task.speed_unit`).
        unit: str. `words` or `examples`: the log is named `<unit>_per_second`.
        clock: callable returning seconds (default `time.monotonic`).

    Examples:

    >>> from keras_seq.progress import EpochSpeed
    >>> now = [100.0]
    >>> speed = EpochSpeed(1200, "words", clock=lambda: now[0])
    >>> speed.on_epoch_begin(0)
    >>> now[0] += 4.0
    >>> logs = {"loss": 0.5}
    >>> speed.on_epoch_end(0, logs)
    >>> logs
    {'loss': 0.5, 'seconds': 4.0, 'words_per_second': 300.0}
    """

    def __init__(self, count, unit, clock=time.monotonic):
        super().__init__()
        self.count, self.name, self.clock = count, f"{unit}_per_second", clock
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = self.clock()

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        seconds = self.clock() - self._start
        logs["seconds"] = seconds
        logs[self.name] = self.count / seconds if seconds > 0 else float("nan")
