"""`keras_seq.train`: a spec and its data to a trained, scored run folder, from Python.

The one training pipeline: `keras-seq train` and `keras_seq.tune` (each trial) call it, and
`keras_seq.backtest` fits each fold with its loop. Each step is a module of its own:

1. the spec's data files (`keras_seq.datafiles.with_files`): the arguments win over `data`,
   a spec without a data section gets the bundled dataset for its head;
2. reading, learning from the training split, encoding (`keras_seq.splits`);
3. fitting, with a checkpoint after every epoch (`keras_seq.fitting`), of each member of a
   seed ensemble (`keras_seq.ensembles`);
4. scoring every split (`keras_seq.scoring`);
5. the run folder (`keras_seq.runs.write_run`) and its report (`keras_seq.report`).

The folder is built beside its final place and moved there only when complete
(`keras_seq.runs.RunFolder`); an interrupted run leaves a folder holding only the last
epoch's checkpoint, which `resume` continues.
"""

import dataclasses
import logging
import pathlib
import time


@dataclasses.dataclass
class Run:
    """What `keras_seq.train` (or `resume`) returns: a finished run.

    Attributes:
        folder: `pathlib.Path`. The run folder (`keras_seq.runs` lists its files); give it to
            `keras_seq.load` to get the trained task back in a new process.
        metrics: dict. `{split: {metric: value}}`, as `metrics.json` holds them (the
            `Task.evaluate` figures of each split).
        history: dict. Every logged value per epoch (`loss`, `val_loss`, ..., `seconds`,
            `words_per_second` or `examples_per_second`), as `history.csv` holds them (with
            an `epoch` column there).
        task: `keras_seq.tasks.Task`. The trained task: `task.model`, `task.predict`,
            `task.evaluate`.
        record: dict. Backend, versions, machine, date, wall time and speed
            (`keras_seq.record.make`), as `metrics.json`'s `run` section holds it.
    """

    folder: pathlib.Path
    metrics: dict
    history: dict
    task: object
    record: dict = None


def train(spec, train=None, validation=None, test=None, output=None, *, epochs=None, verbose=None):
    """Trains the model a spec describes, scores every split and writes its run folder.

    Args:
        spec: a spec path, YAML text, dict or `keras_seq.Spec`.
        train, validation, test: str or path-like, optional. Data files that replace the
            spec's (its `data` section, or the bundled data when it has none).
        output: str or path-like, optional. The run folder; default
            `runs/<name>-<timestamp>` (then `-2`, `-3`, ... if taken). A given folder must not
            exist: it is reserved before any data is read, so a taken name fails at once.
        epochs: int, optional. Replaces `training.epochs`.
        verbose: int, optional. Keras' `fit` verbosity; default 1 (a progress bar) on a
            terminal, 2 (a line per epoch and a progress line every 30 s) otherwise.

    Returns:
        `Run`: the folder, the metrics per split, the history and the trained task.

    Raises:
        keras_seq.SpecError, keras_seq.DataError: the spec or the data cannot be used.
        FileExistsError: `output` exists.
        keras_seq.training.NonFiniteLoss: the loss became NaN or infinite (no run folder is
            left).
        KeyboardInterrupt: interrupted; after the first epoch `output` then holds a
            checkpoint that `resume` continues (`keras_seq.runs.RunFolder.last_kept`).

    Example:

    >>> import tempfile, keras_seq
    >>> run = keras_seq.train('''
    ... name: tiny-tagger
    ... seed: 1
    ... input: {kind: tokens, embedding_dim: 8}
    ... encoder: {cell: gru, units: 8}
    ... head: {type: tagger}
    ... training: {epochs: 1, batch_size: 64}
    ... ''', output=f"{tempfile.mkdtemp()}/run", verbose=0)  # the bundled tagger data
    >>> sorted(run.metrics), len(run.history["loss"])
    (['test', 'train', 'validation'], 1)
    >>> run.metrics["test"] == run.task.evaluate(run.task.spec.data.test)
    True
    >>> len(run.task.predict([["the", "dog", "barks"]])[0])
    3
    """
    from keras_seq import runs, splits
    from keras_seq.backend import distribution

    started = time.time()
    task = task_for(spec, train=train, validation=validation, test=test, epochs=epochs)
    # The folder is reserved first: a taken output fails before any data is read.
    run_folder = runs.RunFolder(output or runs.default_path(task.spec.name), unique=not output)
    # The model is built, fitted, scored and saved in the training.distribution scope.
    with run_folder as folder, distribution.scope(task.spec.training):
        encoded, records = splits.prepare(task)
        found = _fit_and_write(task, encoded, records, folder, verbose, started)
    return Run(run_folder.path, *found[:2], task, found[2])


def resume(folder, verbose=None, epochs=None):
    """Continues an interrupted `train` from the last checkpoint in `folder/checkpoint`.

    The model, its optimizer and dropout seed state, the learned vocabularies, the history
    and what early stopping and the plateau schedule remember come from the checkpoint
    (`keras_seq.checkpoint`); the data is read again from the paths in its spec; the batches
    of each epoch depend only on `(seed, epoch)`. So a seeded run that is resumed ends with
    the weights an uninterrupted one ends with.

    Args:
        folder: path-like. The interrupted run's folder.
        verbose: int, optional. Keras' `fit` verbosity.
        epochs: int, optional. Replaces `training.epochs` (more than the epochs done): the
            change is logged and recorded in the run's `spec.yaml`.

    Returns:
        `Run`, as `train`.

    Raises:
        keras_seq.DataError: `folder` holds no checkpoint, or a damaged one.
        keras_seq.SpecError: `epochs` is not more than the epochs the checkpoint holds.
    """
    from keras_seq import checkpoint, runs, splits
    from keras_seq.backend import distribution
    from keras_seq.data import DataError

    started = time.time()
    progress_file = pathlib.Path(folder) / runs.CHECKPOINT / runs.PROGRESS
    if not progress_file.is_file():
        raise DataError(
            "not a resumable run folder (no checkpoint/progress.json)",
            path=folder,
            hint="give the folder of an interrupted `keras-seq train`",
        )
    # Read before the folder is renamed, so a damaged file is named where the user sees it.
    progress = checkpoint.read(progress_file.parent)
    task = checkpoint.load_task(progress_file.parent, progress)
    checkpoint.warn_if_other_backend(progress)
    spec = _with_epochs(task.spec, epochs, progress["epoch"])
    task.spec = spec
    run_folder = runs.RunFolder(folder, resume=True)
    with run_folder as partial, distribution.scope(task.spec.training) as engine:
        if engine is not None:  # its variables made again, now under the distribution
            task = checkpoint.load_task(partial / runs.CHECKPOINT, progress)
            task.spec = spec
        encoded, records = splits.read_encoded(task, learn=False)
        found = _fit_and_write(task, encoded, records, partial, verbose, started, progress)
    return Run(run_folder.path, *found[:2], task, found[2])


def _with_epochs(spec, epochs, done):
    """`spec` with `training.epochs` = `epochs` for a resumed run that has done `done` epochs
    (the change logged), or `spec` itself when `epochs` is None or unchanged."""
    from keras_seq.spec import Problem, SpecError

    if epochs is None or epochs == spec.training.epochs:
        return spec
    if epochs <= done:
        problem = Problem(
            "training.epochs",
            f"the run has already done {done} epochs",
            found=epochs,
            allowed=f"--epochs more than {done}",
        )
        raise SpecError([problem], "--epochs")
    logging.getLogger(__name__).warning(
        "resumed with training.epochs %s (was %s)", epochs, spec.training.epochs
    )
    return spec.replace({"training.epochs": epochs})


def task_for(spec, train=None, validation=None, test=None, epochs=None):
    """The task a spec describes, its data section naming the files to use (`train`,
    `validation`, `test` replace the spec's) and `epochs` replacing `training.epochs`."""
    from keras_seq.datafiles import with_files
    from keras_seq.tasks import Task

    task = Task.for_spec(spec)
    task.spec = with_files(task, train=train, validation=validation, test=test)
    if epochs is not None:
        task.spec = task.spec.replace({"training.epochs": epochs})
    return task


def dry_run(spec, train=None, validation=None, test=None, epochs=None):
    """Everything `train` does before fitting, writing nothing: `(task, encoded)`, the task
    with its model built, every split read, checked and encoded."""
    from keras_seq import splits
    from keras_seq.backend import distribution

    task = task_for(spec, train=train, validation=validation, test=test, epochs=epochs)
    with distribution.scope(task.spec.training):
        encoded, _ = splits.prepare(task)
    return task, encoded


def _fit_and_write(task, encoded, records, folder, verbose, started, progress=None):
    """Fits (checkpointing into `folder/checkpoint`), scores, writes the run's files and
    removes the checkpoint, tracked as `training.tracking` says (`keras_seq.tracking`);
    returns `(metrics, history, record)`, the record's wall time counted from `started`
    (`time.time()`) to the end of scoring (the report's examples included)."""
    from keras_seq import tracking

    with tracking.tracking(task.spec, folder) as tracker:
        found = _fit_score_write(
            task, encoded, records, folder, verbose, started, progress, tracker
        )
        tracker.finish(found[0])
    return found


def _fit_score_write(task, encoded, records, folder, verbose, started, progress, tracker):
    import shutil

    from keras_seq import ensembles, runs

    checkpoint_dir = folder / runs.CHECKPOINT
    checkpoint_dir.mkdir(exist_ok=True)
    log = tracker.callbacks()
    history = ensembles.fit(task, encoded, records, checkpoint_dir, verbose, progress, log)
    found = _score_and_write(task, encoded, records, folder, verbose, started, history)
    shutil.rmtree(checkpoint_dir)
    return found


def combine(folders, output=None, verbose=None):
    """The seed ensemble of runs of one spec trained apart, scored and written as a run folder,
    as `train` with `training.ensemble` would have written it (`keras_seq.ensembles.from_runs`;
    its history: the runs' histories one after the other, with a `member` column).

    Args:
        folders: two or more run folders of one spec, seeds apart.
        output: str or path-like, optional. The new run folder; default
            `runs/<name>-<timestamp>`.
        verbose: int, optional. 0: no progress lines.

    Returns:
        `Run`, as `train`.

    Raises:
        keras_seq.DataError: see `from_runs`; or a run folder without its `history.csv`.

    The record (`metrics.json`'s `run`) holds this command's wall time and, as
    `members_wall_seconds`, each run's training time.
        FileExistsError: `output` exists.
    """
    from keras_seq import ensembles, runs, splits
    from keras_seq.data import DataError

    started = time.time()
    task = ensembles.from_runs(folders)
    histories = []
    for folder in folders:
        if not (pathlib.Path(folder) / runs.HISTORY).is_file():
            hint = "give the run folders keras-seq train wrote"
            raise DataError(f"no {runs.HISTORY}: not a run folder", path=folder, hint=hint)
        history = runs.read_history(folder)
        history.pop("epoch")
        histories.append(history)
    # This command's wall time is the combining's; each run's own is its training's.
    walls = [(runs.read_record(folder) or {}).get("wall_seconds") for folder in folders]
    about = {"members_wall_seconds": walls}  # None: a run from before runs had a record
    run_folder = runs.RunFolder(output or runs.default_path(task.spec.name), unique=not output)
    with run_folder as folder:
        encoded, records = splits.read_encoded(task, learn=False)
        history = ensembles.joined(histories)
        found = _score_and_write(task, encoded, records, folder, verbose, started, history, about)
    return Run(run_folder.path, *found[:2], task, found[2])


def _score_and_write(task, encoded, records, folder, verbose, started, history, about=None):
    """Scores every split and writes the run's files and report; `(metrics, history,
    record)`, the record with `about`'s entries added."""
    from keras_seq import diagnosis, examples, record, report, runs, scoring, stopping

    metrics, tables = scoring.score(task, encoded, records, None if verbose == 0 else _say)
    stopping.raise_if_requested()  # a stop some library swallowed is not a finished run
    shown = next((split for split in ("test", "validation", "train") if split in records), None)
    training = task.spec.training
    sample = examples.examples(
        task, records.get(shown, []), training.report_examples, training.report_explanations
    )
    run_record = {**record.make(history, started, time.time()), **(about or {})}
    runs.write_run(folder, task, history, metrics, tables, run_record)
    report.write(
        folder / runs.REPORT,
        name=task.spec.name,
        record=run_record,
        spec_yaml=report.spec_text(task.spec),
        metrics=metrics,
        data_stats={split: report.data_figures(data.stats) for split, data in encoded.items()},
        history=history,
        data_checks=[str(f) for f in diagnosis.report_findings(task.spec, records)],
        examples={shown: sample} if sample else None,
        **report.class_sections(tables),
    )
    return metrics, history, run_record


def _say(line):
    """Prints a progress line now (standard output, as `keras_seq.progress` does)."""
    print(line, flush=True)
