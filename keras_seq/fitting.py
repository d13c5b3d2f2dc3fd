"""Fitting a task's model on its encoded splits: seeded batches, checkpoints, visible progress.

`fit` is the one training loop of keras-seq (`keras_seq.train`, `keras-seq train --resume`,
each fold of `keras-seq backtest`). Around Keras' `Model.fit` it adds:

- batches in an order fixed by `(seed, epoch)` (`keras_seq.training.EpochBatches`), so a
  resumed run sees the batches an uninterrupted one would;
- a checkpoint after every epoch (`keras_seq.checkpoint`), and the state of the schedule and
  early stopping given back when resuming from one;
- a stop with a clear error when the loss stops being finite, and within one batch of a
  SIGTERM or Ctrl-C (`keras_seq.stopping`);
- each epoch's seconds and speed in the history, and in a log that is not a terminal a
  progress line at least every `keras_seq.progress.INTERVAL_SECONDS` (`keras_seq.progress`);
- after the last epoch, the task's `after_fit` (a forecaster's `head.shrink` share, chosen on
  the windows `encode_training` held out), its sentence printed.
"""

import logging
import sys

logger = logging.getLogger("keras_seq.train")


def fit(task, encoded, records, checkpoint_dir=None, verbose=None, progress=None, log=(), member=0):
    """Fits `task.model` (built and compiled) on `encoded["train"]`.

    Args:
        task: the `keras_seq.tasks.Task` being trained.
        encoded: dict. Split -> `Encoded` (`keras_seq.splits.read_encoded`); `validation`, when
            present, is scored after every epoch.
        records: dict. Split -> records, for the splits read whole (a streamed split has none).
        checkpoint_dir: path-like, optional. Where the checkpoint of every epoch goes (the
            folder exists); None writes none.
        verbose: int, optional. Keras' `fit` verbosity; default 1 (a progress bar) on a
            terminal, 2 (a line per epoch, and `ProgressLines`) otherwise.
        progress: dict, optional. A checkpoint's `progress.json` (`keras_seq.checkpoint.read`):
            training goes on from its epoch, with its history.
        log: Keras callbacks that record each epoch's logs (`keras_seq.tracking`); they run
            after every callback that adds to the logs.
        member: int. The ensemble member being trained (`keras_seq.ensembles`), recorded in
            the checkpoint.

    Returns:
        dict: every logged value per epoch (Keras' `History.history` form, the epochs before
        `progress`'s included), with each epoch's `seconds` and `<unit>_per_second`.
    """
    from keras_seq import checkpoint, training

    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    progress = progress or {"epoch": 0, "history": {}}
    options = training.fit_options(task.spec.training)
    policies = _policies(options.pop("callbacks"), "validation" in encoded)

    def save_checkpoint(epoch, history):
        if checkpoint_dir is not None:
            checkpoint.save(checkpoint_dir, task, epoch, history, policies, member)

    saver = training.EpochCheckpoint(save_checkpoint, progress["history"])
    batches, follow = _batches(task, encoded, records, options.pop("batch_size"), progress)
    # Scores the validation split first, so every policy after it reads them (val_entity_f1).
    callbacks = [*task.epoch_callbacks(records.get("validation")), *follow, *policies]
    if task.model.optimizer.use_ema:  # those judge the averaged weights; the checkpoint not
        warning = training.early_average(task.spec.training.ema_momentum, _steps(batches, task))
        if warning:
            logger.warning("%s", warning)
        averaged = training.AveragedWeights()
        callbacks = [averaged, *callbacks, averaged.back]
    callbacks += [training.StopOnNonFiniteLoss(), _speed(task, encoded)]
    callbacks += [saver, training.StopWhenRequested(), *log]
    if progress["epoch"]:
        callbacks.append(checkpoint.Restore(checkpoint_dir, progress, policies))
    if verbose == 2:
        from keras_seq.progress import ProgressLines

        callbacks.append(ProgressLines())
    task.model.fit(
        batches,
        validation_data=_validation(encoded, records),
        initial_epoch=progress["epoch"],
        verbose=verbose,
        shuffle=False,  # both kinds of batches order themselves
        callbacks=callbacks,
        **options,
    )
    note = task.after_fit(records.get("train"))
    if note and verbose:
        print(note, flush=True)
    elif note:
        logger.info("%s", note)
    return saver.history


def _policies(callbacks, validated):
    """The spec's schedule and early stopping; without validation data, those that watch a
    `val_` quantity are left out (Keras would only warn, every epoch, that it is missing)."""
    kept = []
    for callback in callbacks:
        watched = str(getattr(callback, "monitor", ""))
        if validated or not watched.startswith("val_"):
            kept.append(callback)
        else:
            logger.warning(
                "%s watches %s, but there is no validation data: it is left out (give "
                "data.validation, or monitor a training quantity such as loss)",
                type(callback).__name__,
                watched,
            )
    return kept


def _batches(task, encoded, records, batch_size, progress):
    """`(batches, callbacks)`: the training batches for `fit` and the callback that moves
    them to each epoch (none for a streamed file, a `StreamingDataset` that follows itself)."""
    from keras_seq import training

    train = encoded["train"]
    if "train" not in records:  # streamed: shuffled within its buffer by (seed, epoch)
        train.x.epoch = progress["epoch"]
        return train.x, []
    batches = training.EpochBatches(
        train.x,
        train.y,
        train.sample_weight,
        batch_size,
        task.spec.seed,
        progress["epoch"],
        lengths=task.example_lengths(train.x),
        order=task.spec.training.batch_order,
        steps=task.spec.training.steps_per_epoch,
    )
    if batches.lengths is not None:
        from keras_seq.backend import quirks

        return quirks.with_free_time_axis(batches), [batches.follow()]
    return batches, [batches.follow()]


def _steps(batches, task):
    """The optimizer steps of the whole run, None when a streamed file's length is unknown."""
    try:
        return len(batches) * task.spec.training.epochs
    except TypeError:
        return None


def _validation(encoded, records):
    validation = encoded.get("validation")
    if validation is None or "validation" not in records:
        return None if validation is None else validation.x
    return validation.x, validation.y, validation.sample_weight


def _speed(task, encoded):
    """`EpochSpeed` counting the training split's words or examples (`task.speed_unit`)."""
    from keras_seq.progress import EpochSpeed

    stats = encoded["train"].stats
    count = stats.tokens if task.speed_unit == "words" else stats.examples
    return EpochSpeed(count, task.speed_unit)
