"""Training policies from a spec's `training` section: optimizer, schedule, clipping, callbacks.

Everything here is Keras' own: optimizers come from `keras.optimizers.get`, schedules run as a
`keras.callbacks.LearningRateScheduler` (once per epoch, so `step_size` counts epochs exactly
as PyTorch's `StepLR` does) or `keras.callbacks.ReduceLROnPlateau`, early stopping is
`keras.callbacks.EarlyStopping`.

Example:

>>> import keras_seq
>>> spec = keras_seq.load_spec('''
... input: {kind: tokens, vocab_size: 100}
... encoder: {cell: gru, units: 8}
... head: {type: tagger, classes: 3}
... training: {learning_rate: 0.1, schedule: {type: step, step_size: 2, gamma: 0.5}}
... ''')
>>> [keras_seq.training.learning_rate_at(spec.training, epoch) for epoch in range(5)]
[0.1, 0.1, 0.05, 0.05, 0.025]
"""

import functools
import inspect
import math

import keras
import numpy as np

from keras_seq import stopping
from keras_seq.spec.schema import ROOT
from keras_seq.spec.search import direction

# Batches per window sorted by length (`EpochBatches(order="buckets")`).
BUCKET_BATCHES = ROOT["properties"]["training"]["properties"]["batch_order"]["x-bucket-batches"]


@functools.cache
def optimizer_names():
    """The optimizer names `training.optimizer` accepts (lowercase Keras class names).

    Optimizers that wrap another one (`LossScaleOptimizer`, `MultiOptimizer`) need more than
    a name, so they are left out.
    """
    return sorted(
        name.lower()
        for name, value in vars(keras.optimizers).items()
        if isinstance(value, type)
        and issubclass(value, keras.optimizers.Optimizer)
        and value is not keras.optimizers.Optimizer
        and not _needs_arguments(value)
    )


def _needs_arguments(cls):
    parameters = inspect.signature(cls.__init__).parameters.values()
    return any(
        p.default is p.empty and p.name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD
        for p in parameters
    )


def optimizer(training):
    """A new Keras optimizer for a spec's `training` section.

    `optimizer` is any Keras optimizer name (`adam`, `sgd`, `rmsprop`, `adamw`, ...), case
    insensitive; `learning_rate`, `clipnorm` and `clipvalue` become its arguments, and
    `ema_momentum` its `use_ema` and `ema_momentum` (see `AveragedWeights`). The learning rate
    is a plain number (a variable in the optimizer), so the schedule callbacks can set it.

    The spec's validation has already checked the name against `optimizer_names()`.
    """
    name = training.optimizer.lower()
    config = {"learning_rate": training.learning_rate}
    if training.clipnorm is not None:
        config["clipnorm"] = training.clipnorm
    if training.clipvalue is not None:
        config["clipvalue"] = training.clipvalue
    if training.ema_momentum is not None:
        config.update(use_ema=True, ema_momentum=training.ema_momentum)
    return keras.optimizers.get({"class_name": name, "config": config})


def learning_rate_at(training, epoch):
    """The learning rate of a 0-based `epoch` under the spec's `step`, `exponential` or
    `cosine` schedule (the initial rate when there is none, or for `plateau`).

    - step: `lr0 * gamma ** floor(epoch / step_size)` (PyTorch's `StepLR`).
    - exponential: `lr0 * gamma ** epoch` (PyTorch's `ExponentialLR`).
    - cosine: `min + (lr0 - min) * (1 + cos(pi * min(epoch, E) / E)) / 2` with
      E = `decay_epochs` (default `training.epochs`), then held at `min_learning_rate`
      (PyTorch's `CosineAnnealingLR` over its first half period).
    """
    lr0 = training.learning_rate
    schedule = training.schedule
    kind = schedule.type if schedule is not None else "none"
    if kind == "step":
        return lr0 * schedule.gamma ** (epoch // schedule.step_size)
    if kind == "exponential":
        return lr0 * schedule.gamma**epoch
    if kind == "cosine":
        span = schedule.decay_epochs or training.epochs
        low = schedule.min_learning_rate
        return low + (lr0 - low) * (1.0 + math.cos(math.pi * min(epoch, span) / span)) / 2.0
    return lr0


def callbacks(training):
    """The Keras callbacks a spec's `training` section asks for (schedule, early stopping).

    Returns a list, empty when the section needs none; pass it to `model.fit(callbacks=...)`.
    """
    found = []
    schedule = training.schedule
    kind = schedule.type if schedule is not None else "none"
    if kind in ("step", "exponential", "cosine"):
        found.append(
            keras.callbacks.LearningRateScheduler(lambda epoch: learning_rate_at(training, epoch))
        )
    elif kind == "plateau":
        found.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=schedule.monitor,
                mode=direction(schedule.monitor),
                factor=schedule.factor,
                patience=schedule.patience,
                min_lr=schedule.min_learning_rate,
            )
        )
    stopping = training.early_stopping
    if stopping is not None:
        found.append(
            keras.callbacks.EarlyStopping(
                monitor=stopping.monitor,
                mode=direction(stopping.monitor),
                patience=stopping.patience,
                min_delta=stopping.min_delta,
                restore_best_weights=stopping.restore_best_weights,
            )
        )
    return found


def fit_options(training):
    """`batch_size`, `epochs` and `callbacks` for `model.fit(x, y, **fit_options(...))`."""
    return {
        "batch_size": training.batch_size,
        "epochs": training.epochs,
        "callbacks": callbacks(training),
    }


class NonFiniteLoss(FloatingPointError):
    """Training stopped because the loss became NaN or infinite; `epoch` and `step` are 1-based.

    Attributes:
        epoch: int. The epoch in which the loss stopped being finite.
        step: int or None. The training step within that epoch (None: found at the epoch's
            end, e.g. in `val_loss`).
        name: str. The logged quantity (`loss`, `val_loss`).
        value: float. What it became.
    """

    def __init__(self, epoch, step, name, value, learning_rate=None):
        self.epoch, self.step, self.name, self.value = epoch, step, name, value
        where = f"epoch {epoch}" + (f", step {step}" if step is not None else "")
        rate = f" (now {learning_rate:g})" if learning_rate is not None else ""
        super().__init__(
            f"the {name} became {value} at {where}; training stopped. Try a lower "
            f"training.learning_rate{rate}, gradient clipping (training.clipnorm: 1.0), or "
            "inputs on a smaller scale (standardize numeric features)"
        )


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Raises `NonFiniteLoss` as soon as the training loss (checked every step) or a
    validation loss (checked every epoch) is NaN or infinite.

    Unlike `keras.callbacks.TerminateOnNaN`, which stops quietly, the error names the epoch and
    step and suggests a fix, so a diverged run is never saved as if it had finished.

    The hint quotes the optimizer's learning rate at that moment.

    Examples:

    >>> import keras, numpy as np, keras_seq
    >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> x = np.array([[1.0], [np.nan]], "float32")
    >>> try:
    ...     model.fit(x, x, batch_size=1, verbose=0, shuffle=False,
    ...               callbacks=[keras_seq.training.StopOnNonFiniteLoss()])
    ... except keras_seq.training.NonFiniteLoss as error:
    ...     print(error.epoch, error.step, error.name)
    1 2 loss
    """

    def __init__(self):
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        self._check("loss", (logs or {}).get("loss"), batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        for name in ("loss", "val_loss"):
            self._check(name, (logs or {}).get(name), None)

    def _check(self, name, value, step):
        if value is None or math.isfinite(float(value)):
            return
        self.model.stop_training = True
        rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        raise NonFiniteLoss(self._epoch, step, name, float(value), rate)


class EpochBatches(keras.utils.PyDataset):
    """Training batches in an order fixed by `(seed, epoch)` alone, so a resumed run sees
    exactly the batches an uninterrupted one would (Keras' own shuffling draws from a global
    random state that a new process does not share).

    With `lengths` (each example's real steps, for a model whose time axis is free), every
    batch is cut to its own longest example, rounded up to a multiple of `width_step`: the
    arrays whose second axis is the padded time axis lose the columns that are padding in every
    row. Masked recurrence and a loss averaged over real steps make that exact; the rounding
    bounds the batch shapes a compiling backend (JAX, TensorFlow) traces. `order` then also
    chooses how examples meet in batches:

    - `"random"`: a permutation of all examples;
    - `"buckets"`: the permutation is cut into windows of `BUCKET_BATCHES` batches, each
      window sorted by length before it is cut into batches, and the batches shuffled, so a
      batch holds examples of similar length (less padding computed) and is still drawn at
      random (as torchtext's `BucketIterator`);
    - `"length"`: every example in order of length, the batches in that order (evaluation).

    Args:
        x: array, or a list or dict of arrays (several model inputs), first axis the examples.
        y: array. Targets.
        sample_weight: array or None.
        batch_size: int.
        seed: int or None. None draws a fresh order every epoch (not reproducible).
        epoch: int. The 0-based epoch the first pass is (a resumed run's starting epoch).
        lengths: int array `(examples,)`, optional. Real steps per example; None keeps the
            padded width and the random order.
        order: `"random"`, `"buckets"` or `"length"` (with `lengths`).
        width_step: int. Batch widths are multiples of it (or the padded width).
        steps: int, optional. At most this many batches an epoch (`training.steps_per_epoch`):
            the first `steps` of the epoch's order, so each epoch samples other examples.

    Examples:

    >>> import numpy as np
    >>> from keras_seq.training import EpochBatches
    >>> a = EpochBatches(np.arange(6), np.arange(6), None, batch_size=4, seed=0, epoch=2)
    >>> b = EpochBatches(np.arange(6), np.arange(6), None, batch_size=4, seed=0, epoch=0)
    >>> b.follow().on_epoch_begin(2)
    >>> bool((a[0][0] == b[0][0]).all()), len(a)
    (True, 2)
    >>> ids = np.array([[8, 9, 9, 0], [5, 0, 0, 0], [6, 7, 0, 0]])
    >>> cut = EpochBatches(ids, ids, None, 2, 0, lengths=np.array([3, 1, 2]), order="length",
    ...                    width_step=1)
    >>> [batch[0].tolist() for batch in (cut[0], cut[1])]
    [[[5, 0], [6, 7]], [[8, 9, 9]]]
    """

    def __init__(
        self,
        x,
        y,
        sample_weight,
        batch_size,
        seed,
        epoch=0,
        lengths=None,
        order="random",
        width_step=8,
        steps=None,
    ):
        super().__init__()
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.batch_size, self.seed, self.epoch = batch_size, seed, epoch
        self.lengths, self.order, self.width_step = lengths, order, width_step
        self.count, self.steps = len(y), steps
        self._rows = None

    def __len__(self):
        batches = math.ceil(self.count / self.batch_size)
        return batches if self.steps is None else min(batches, self.steps)

    def __getitem__(self, index):
        rows = self.rows(index)
        take = self._taker(rows)
        x = keras.tree.map_structure(take, self.x)
        if isinstance(x, list):
            x = tuple(x)  # TensorFlow's dataset adapter takes tuples, not lists, of inputs
        if self.sample_weight is None:
            return x, take(self.y)
        return x, take(self.y), take(self.sample_weight)

    def rows(self, index):
        """The example indexes in batch `index` of the current epoch."""
        if self._rows is None:
            self._rows = self._batch_rows()
        return self._rows[index]

    def _batch_rows(self):
        """The example indexes of each batch of the current epoch, in `order`."""
        size = self.batch_size
        if self.lengths is not None and self.order == "length":
            examples = np.argsort(self.lengths, kind="stable")
            return [examples[i : i + size] for i in range(0, self.count, size)]
        entropy = None if self.seed is None else (self.seed, self.epoch)
        random = np.random.default_rng(entropy)
        examples = random.permutation(self.count)
        if self.lengths is None or self.order != "buckets":
            return [examples[i : i + size] for i in range(0, self.count, size)]
        batches, window = [], size * BUCKET_BATCHES
        for i in range(0, self.count, window):
            chunk = examples[i : i + window]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches += [chunk[j : j + size] for j in range(0, len(chunk), size)]
        return [batches[i] for i in random.permutation(len(batches))]

    def _taker(self, rows):
        """A function giving an array's `rows`, cut to the batch's width when `lengths` is set
        (only arrays whose second axis is the padded time axis are cut)."""
        if self.lengths is None:
            return lambda part: part[rows]
        padded = self.y.shape[1] if self.y.ndim > 1 else _time_axis(self.x)
        longest = int(self.lengths[rows].max(initial=1))
        width = min(padded, -(-longest // self.width_step) * self.width_step)

        def take(part):
            if part.ndim > 1 and part.shape[1] == padded:
                return part[rows, :width]
            return part[rows]

        return take

    def on_epoch_end(self):
        """Nothing: Keras calls this at times that differ between a fresh and a resumed
        `fit`; `follow()`'s callback sets the epoch instead."""

    def follow(self):
        """A callback that moves these batches to each epoch `fit` begins (pass it to `fit`)."""
        batches = self

        class Follow(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                batches.epoch, batches._rows = epoch, None

        return Follow()


def _time_axis(x):
    """The padded time axis of the model inputs `x` (the second axis of the first array)."""
    return keras.tree.flatten(x)[0].shape[1]


def random_state(model):
    """The state of every `keras.random.SeedGenerator` in `model` (where its dropout masks
    come from), as a list of `[seed, counter]` pairs in the model's variable order.

    A `.keras` file does not hold it: a loaded model draws its dropout masks again from the
    start. A checkpoint keeps it so that a resumed run draws the masks an uninterrupted one
    would. The seed generators' states are the model's `variables` that are not `weights`.

    Examples:

    >>> import keras, numpy as np
    >>> from keras_seq.training import random_state, set_random_state
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dropout(0.5, seed=7)])
    >>> random_state(model)
    [[7, 0]]
    >>> _ = model(np.ones((1, 4)), training=True)  # one mask drawn
    >>> random_state(model)
    [[7, 1]]
    >>> set_random_state(model, [[7, 0]])
    >>> random_state(model)
    [[7, 0]]
    """
    return [keras.ops.convert_to_numpy(v).tolist() for v in _seed_states(model)]


def set_random_state(model, state):
    """Puts back a `random_state(model)` taken from a model of the same architecture.

    Raises:
        ValueError: `state` does not have one pair per seed generator of `model`.
    """
    variables = _seed_states(model)
    if len(state) != len(variables):
        raise ValueError(
            f"the checkpoint holds {len(state)} random states; the model has {len(variables)} "
            "seed generators"
        )
    for variable, value in zip(variables, state):
        variable.assign(np.asarray(value, dtype=variable.dtype))


def _seed_states(model):
    weights = {id(v) for v in model.weights}
    return [v for v in model.variables if id(v) not in weights]


class StopWhenRequested(keras.callbacks.Callback):
    """Raises, after every batch and epoch, the stop a signal asked for (`keras_seq.stopping`):
    a SIGTERM or Ctrl-C that a library swallowed still ends the run within one batch."""

    def on_train_batch_end(self, batch, logs=None):
        stopping.raise_if_requested()

    on_test_batch_end = on_predict_batch_end = on_epoch_end = on_train_batch_end


class EpochCheckpoint(keras.callbacks.Callback):
    """After every epoch, calls `save(epoch, history)`: `epoch` the number of epochs done and
    `history` every logged value so far (Keras' `History.history` form)."""

    def __init__(self, save, history=None):
        super().__init__()
        self.save = save
        self.history = {name: list(values) for name, values in (history or {}).items()}

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        self.save(epoch + 1, self.history)


# The share of the weights' moving average that may come from the first half of training's
# steps before `early_average` warns: beyond it the saved model is close to the early weights.
EARLY_SHARE = 0.1


def early_average(momentum, steps):
    """A warning (str) when `training.ema_momentum` averages over more steps than training
    has, else None.

    After `n` steps the average gives the weights of the first `j` steps a share `m^(n - j)`
    (the first step's weights start it); with `j = n // 2` over `EARLY_SHARE` the model saved
    is mostly the barely trained weights, a plausible number that is wrong.

    >>> early_average(0.999, 10_000) is None
    True
    >>> text = early_average(0.99, 40)  # about 100 steps averaged, 40 trained
    >>> "82 % of the saved weights' average comes from the first 20 steps" in text
    True
    >>> "Set training.ema_momentum to 0.891 or less" in text
    True
    """
    if momentum is None or not steps:
        return None
    half = steps // 2
    share = momentum ** (steps - half)
    if share <= EARLY_SHARE:
        return None
    enough = math.floor(EARLY_SHARE ** (1 / (steps - half)) * 1000) / 1000
    return (
        f"training.ema_momentum {momentum:g} averages over about the last "
        f"{round(1 / (1 - momentum)):,} steps, but training has {steps:,}: "
        f"{share * 100:.0f} % of the saved weights' average comes from the first {half:,} "
        f"steps. Set training.ema_momentum to {enough:g} or less, or train for more steps"
    )


class AveragedWeights(keras.callbacks.Callback):
    """Puts the optimizer's moving average of the weights (`training.ema_momentum`) in the
    model wherever a trained model is judged: validation, the epoch-end callbacks between this
    one and `self.back`, and the end of training.

    Keras' optimizer keeps `average = m * average + (1 - m) * weights` after every step
    (`use_ema`). This callback goes first in `fit`'s list: each epoch's validation and, at the
    epoch's end, the callbacks up to `self.back` (entity scores, early stopping and its best
    weights, the plateau schedule) see the average; `self.back`, placed before the checkpoint,
    puts the trained weights back, so training goes on from them and a checkpoint holds them
    (the average stays in the optimizer's state, and a resumed run ends as an uninterrupted
    one). At the end, Keras' `fit` copies the average into the model
    (`finalize_variable_values`).

    Unlike `keras.callbacks.SwapEMAWeights`, whose TensorFlow swap adds and subtracts, the swap
    copies values, so it loses no bit on any backend.

    Example:

    Each step of this one-weight model multiplies its weight by 0.8 (1 -> 0.8 -> 0.64); the
    average starts at the first step's weights: 0.8, then 0.5 * 0.8 + 0.5 * 0.64.

    >>> layer = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")
    >>> model = keras.Sequential([keras.Input((1,)), layer])
    >>> model.compile(keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5), "mse")
    >>> averaged = AveragedWeights()
    >>> x, y = np.ones((1, 1)), np.zeros((1, 1))
    >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[averaged, averaged.back])
    >>> round(float(keras.ops.convert_to_numpy(layer.kernel)[0, 0]), 4)
    0.72
    """

    def __init__(self):
        super().__init__()
        self.swapped = False
        self.back = _SwapBack(self)

    def swap(self):
        """Exchanges the model's trainable weights and the optimizer's averages."""
        optimizer = self.model.optimizer
        pairs = zip(optimizer._trainable_variables, optimizer._model_variables_moving_average)
        for weights, average in pairs:
            trained = keras.ops.convert_to_numpy(weights)
            weights.assign(keras.ops.convert_to_numpy(average))
            average.assign(trained)
        self.swapped = not self.swapped

    def put_average(self):
        if not self.swapped:
            self.swap()

    def put_trained(self):
        if self.swapped:
            self.swap()

    def on_test_begin(self, logs=None):
        self.put_average()

    def on_test_end(self, logs=None):
        self.put_trained()

    def on_epoch_end(self, epoch, logs=None):
        self.put_average()

    def on_train_end(self, logs=None):
        # Keras' `finalize_variable_values` has just assigned each average to its weights; on
        # JAX they then share one buffer, which the next step that donates the weights would
        # delete from under the optimizer's state.
        for average in self.model.optimizer._model_variables_moving_average:
            average.assign(keras.ops.convert_to_numpy(average))


class _SwapBack(keras.callbacks.Callback):
    """`AveragedWeights.back`: puts the trained weights back at the end of an epoch."""

    def __init__(self, averaged):
        super().__init__()
        self.averaged = averaged

    def on_epoch_end(self, epoch, logs=None):
        self.averaged.put_trained()
