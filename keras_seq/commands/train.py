"""`keras-seq train`: a spec and its data to a complete run folder (see `keras_seq.runs`)."""

import csv
import logging
import pathlib
import shutil
import sys

from keras_seq.commands.arguments import positive_int

HELP = "train a spec's model; write a run folder"

logger = logging.getLogger("keras_seq.train")


def add_arguments(parser):
    parser.add_argument("spec", metavar="SPEC", nargs="?", help="the spec (not with --resume)")
    parser.add_argument(
        "--resume", metavar="DIR", help="continue an interrupted run from its last checkpoint"
    )
    for split in ("train", "validation", "test"):
        parser.add_argument(f"--{split}", metavar="F", help=f"default: data.{split}")
    parser.add_argument("--epochs", type=positive_int, metavar="N", help="default: training.epochs")
    parser.add_argument("--output", metavar="DIR", help="run folder (default: runs/NAME-TIME)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a spec field, e.g. --set encoder.units=128 (repeatable; validated)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="validate, read and check all data, build the model and print its summary; no "
        "training",
    )


def overrides(assignments):
    """`["encoder.units=128", ...]` as `{"encoder.units": 128}` (values read as YAML).

    Raises:
        keras_seq.SpecError: an assignment without `=`, or whose value is not YAML.
    """
    from keras_seq.spec import Problem, SpecError
    from keras_seq.spec.yaml_source import read_yaml

    changes = {}
    for assignment in assignments:
        field, equals, text = assignment.partition("=")
        if not equals or not field.strip():
            raise SpecError(
                [
                    Problem(
                        "",
                        "expected FIELD=VALUE",
                        found=assignment,
                        allowed="e.g. encoder.units=128",
                    )
                ],
                f"--set {_shortened(assignment)}",
            )
        try:
            value = read_yaml(text, f"--set {_shortened(assignment)}")[0] if text.strip() else None
        except SpecError as error:
            raise SpecError(error.problems, f"--set {_shortened(assignment)}") from None
        changes[field.strip()] = value
    return changes


def _shortened(text, limit=80):
    """A command-line argument as messages show it: at most `limit` characters."""
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def with_overrides(spec, assignments):
    """`spec` with `--set` assignments applied and re-validated; each problem the changes
    cause names its --set argument."""
    from keras_seq.spec import Problem, SpecError

    changes = overrides(assignments)
    if not changes:
        return spec
    try:
        return spec.replace(changes)
    except SpecError as error:
        origin = {field: f"--set {_shortened(a)}" for field, a in zip(changes, assignments)}
        problems = []
        for problem in error.problems:
            source = next(
                (origin[f] for f in origin if problem.path == f or problem.path.startswith(f)),
                None,
            )
            message = f"{problem.message} (from {source})" if source else problem.message
            problems.append(Problem(**{**problem.to_dict(), "message": message}))
        raise SpecError(problems, "--set") from None


def read_splits(task, skip=()):
    """`{split: records}` for every split the task's spec names (but those in `skip`)."""
    from keras_seq.commands.datafiles import split_paths

    splits = {}
    for split, path in split_paths(task.spec).items():
        if split in skip:
            continue
        splits[split] = task.read(path)
        logger.info("%s: %d records from %s", split, len(splits[split]), path)
    return splits


def _fit_arrays(encoded):
    return {"x": encoded.x, "y": encoded.y, "sample_weight": encoded.sample_weight}


def _streamed_scores(model, encoded):
    """Loss and compiled metrics of a streamed split, with its out-of-vocabulary share."""
    from keras_seq.tasks.task import stats_scores

    scores = model.evaluate(encoded.x, verbose=0, return_dict=True)
    return {**{name: float(value) for name, value in scores.items()}, **stats_scores(encoded.stats)}


def _write_history(history, path):
    names = list(history)
    epochs = len(history[names[0]]) if names else 0
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["epoch", *names])
        for epoch in range(epochs):
            writer.writerow([epoch + 1, *(float(history[name][epoch]) for name in names)])


def train(
    source,
    *,
    train=None,
    validation=None,
    test=None,
    epochs=None,
    output=None,
    verbose=None,
    overrides=(),
    dry_run=False,
):
    """Trains the model a spec describes and writes its run folder.

    Args:
        source: a spec path, YAML text, dict or `keras_seq.Spec`.
        train, validation, test: str, optional. Data files that replace the spec's (`data`
            section, or the bundled data when the spec has none).
        epochs: int, optional. Replaces `training.epochs`.
        output: str, optional. The run folder; default `runs/<name>-<timestamp>`. It must not
            exist: it is reserved before any data is read, so a taken name fails at once.
        overrides: list of `"field=value"` strings (`--set`), applied before anything else
            and recorded in the run's `spec.yaml`.
        dry_run: bool. Read and check all data and build the model, print its summary, and
            write nothing (returns `(None, {})`).
        verbose: int, optional. Keras' `fit` verbosity; default 1 (a progress bar) on a
            terminal, 2 (one line per epoch) otherwise.

    Returns:
        `(path, metrics)`: the run folder and `{split: {metric: value}}`.

    Raises:
        keras_seq.SpecError, keras_seq.DataError: the spec or the data cannot be used.
        keras_seq.training.NonFiniteLoss: the loss became NaN or infinite (no run folder is
            left).
    """

    from keras_seq import runs
    from keras_seq.backend import distribution
    from keras_seq.commands.datafiles import with_files
    from keras_seq.spec import load_spec
    from keras_seq.tasks import Task

    task = Task.for_spec(with_overrides(load_spec(source), overrides))
    task.spec = with_files(task, train=train, validation=validation, test=test)
    if epochs is not None:
        task.spec = task.spec.replace({"training.epochs": epochs})
    if dry_run:
        with distribution.scope(task.spec.training):
            model, encoded, _ = _prepare(task)
        print(dry_run_report(task, model, encoded))
        return None, {}
    # The folder is reserved first: a taken --output fails before any data is read.
    run_folder = runs.RunFolder(output or runs.default_path(task.spec.name), unique=not output)
    # The model is built, fitted, scored and saved in the training.distribution scope.
    with run_folder as folder, distribution.scope(task.spec.training):
        model, encoded, splits = _prepare(task)
        metrics = _fit_and_write(task, encoded, splits, folder, verbose)
    return run_folder.path, metrics


def resume(run_dir, verbose=None):
    """Continues an interrupted `train` from its last checkpoint (`run_dir/checkpoint`).

    The model, its optimizer state and dropout seed state, the learned vocabularies, the
    history and what early stopping and the plateau schedule remember come from the checkpoint
    (`keras_seq.checkpoint`); the data is read again from the paths in its spec; the batches of
    each epoch depend only on `(seed, epoch)`. So a seeded run that is resumed ends with the
    weights an uninterrupted one ends with.

    Returns:
        `(path, metrics)` as `train`.
    """
    from keras_seq import checkpoint, runs
    from keras_seq.backend import distribution
    from keras_seq.data import DataError

    progress_file = pathlib.Path(run_dir) / runs.CHECKPOINT / runs.PROGRESS
    if not progress_file.is_file():
        raise DataError(
            "not a resumable run folder (no checkpoint/progress.json)",
            path=run_dir,
            hint="give the folder of an interrupted `keras-seq train`",
        )
    # Read before the folder is renamed, so a damaged file is named where the user sees it.
    progress = checkpoint.read(progress_file.parent)
    task = checkpoint.load_task(progress_file.parent, progress)
    run_folder = runs.RunFolder(run_dir, resume=True)
    with run_folder as folder:
        with distribution.scope(task.spec.training) as engine:
            if engine is not None:  # its variables made again, now under the distribution
                task = checkpoint.load_task(folder / runs.CHECKPOINT, progress)
            encoded, splits = _read(task, learn=False)
            metrics = _fit_and_write(task, encoded, splits, folder, verbose, progress)
    return run_folder.path, metrics


def _fit_and_write(task, encoded, splits, folder, verbose, progress=None):
    """Fits (from `progress`'s epoch when resuming), checkpointing every epoch into
    `folder/checkpoint`, then writes the run's files; returns the metrics per split."""
    from keras_seq import checkpoint, report, runs, stopping, training

    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    progress = progress or {"epoch": 0, "history": {}}
    checkpoint_dir = folder / runs.CHECKPOINT
    checkpoint_dir.mkdir(exist_ok=True)
    fit = training.fit_options(task.spec.training)
    policies = list(fit["callbacks"])  # schedule, early stopping: their state is checkpointed
    fit["callbacks"][:0] = task.epoch_callbacks(splits.get("validation"))  # before all

    def save_checkpoint(epoch, history):
        checkpoint.save(checkpoint_dir, task, epoch, history, policies)

    saver = training.EpochCheckpoint(save_checkpoint, progress["history"])
    fit["callbacks"] += [training.StopOnNonFiniteLoss(), saver, training.StopWhenRequested()]
    if progress["epoch"]:
        fit["callbacks"].append(checkpoint.Restore(checkpoint_dir, progress, policies))
    batch_size = fit.pop("batch_size")
    batches = encoded["train"].x
    if "train" in splits:
        arrays = _fit_arrays(encoded["train"]).values()
        batches = training.EpochBatches(*arrays, batch_size, task.spec.seed, progress["epoch"])
        fit["callbacks"].insert(0, batches.follow())
    else:  # streamed: a StreamingDataset, shuffled within its buffer by (seed, epoch)
        batches.epoch = progress["epoch"]
    validation = encoded.get("validation")
    if validation is not None and "validation" in splits:
        validation = tuple(_fit_arrays(validation).values())
    elif validation is not None:
        validation = validation.x
    task.model.fit(
        batches,
        validation_data=validation,
        initial_epoch=progress["epoch"],
        verbose=verbose,
        shuffle=False,  # both kinds of batches order themselves
        **fit,
    )
    history = saver.history
    metrics = {
        split: task.evaluate(splits[split])
        if split in splits
        else _streamed_scores(task.model, encoded[split])
        for split in encoded
    }
    tables = {split: task.tables(splits[split]) for split in splits}
    stopping.raise_if_requested()  # a stop some library swallowed is not a finished run
    task.save(folder / runs.MODEL)
    spec_yaml = task.spec.to_yaml()
    runs.write_text_atomic(folder / runs.SPEC, spec_yaml)
    for name in ("vocab", "labels"):
        if name in task.state:
            task.state[name].save(folder / f"{name}.txt")
    _write_history(history, folder / runs.HISTORY)
    runs.plot_curves(history, folder / runs.CURVES)
    runs.write_metrics(folder, metrics)
    runs.write_tables(folder, tables)
    classes = {split: t["classes"] for split, t in tables.items() if "classes" in t}
    report.write(
        folder / runs.REPORT,
        name=task.spec.name,
        spec_yaml=spec_yaml,
        metrics=metrics,
        data_stats={split: _stats(data.stats) for split, data in encoded.items()},
        history=history,
        per_class={split: _class_rows(table) for split, table in classes.items()},
        confusion={split: _confusion(table) for split, table in classes.items()},
    )
    shutil.rmtree(checkpoint_dir)
    return metrics


def _class_rows(table):
    return [{"label": label, **figures} for label, figures in table["classes"].items()]


def _confusion(table):
    return {"labels": table["labels"], "matrix": table["confusion"]}


def _prepare(task):
    """Reads every split, learns from the training one, encodes all, builds the model."""
    import keras

    encoded, splits = _read(task, learn=True)
    model = task.build_model()
    logger.info("keras backend: %s; %d parameters", keras.backend.backend(), model.count_params())
    return model, encoded, splits


def _read(task, learn):
    """`(encoded, splits)`: every split encoded (after learning from the training one when
    `learn`) and `{split: records}` of those read whole. A file `data.streaming` streams is
    read a chunk at a time (`keras_seq.data.streaming`): its `Encoded.x` is a
    `StreamingDataset` and it has no records in `splits`."""
    from keras_seq.commands.datafiles import check_split_files, split_paths
    from keras_seq.data import streaming

    check_split_files(task.spec)
    paths = split_paths(task.spec)
    streamed = [split for split, file in paths.items() if streaming.wants_streaming(task, file)]
    splits = read_splits(task, skip=streamed)
    if learn and "train" in streamed:
        streaming.learn_from_file(task, paths["train"])
    elif learn:
        task.learn(splits["train"])
    encoded = {}
    for split, path in paths.items():
        if split in streamed:
            encoded[split] = streaming.stream_split(task, path, shuffle=split == "train")
        else:
            encoded[split] = task.encode(splits[split])
            encoded[split].stats.warn(task.spec.get(f"data.{split}"))
    return encoded, splits


def _stats(stats):
    figures = {"examples": stats.examples}
    if stats.tokens:
        figures["tokens"] = stats.tokens
        figures["oov_rate"] = stats.oov / stats.tokens
    if stats.truncated:
        figures["truncated"] = stats.truncated
    if stats.unseen_labels:
        figures["unseen_labels"] = sum(stats.unseen_labels.values())
    return figures


def dry_run_report(task, model, encoded):
    """What `train --dry-run` prints: the model summary, the data sizes and parameters."""
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    lines.append("data:")
    for split, data in encoded.items():
        figures = ", ".join(f"{k} {_plain(v)}" for k, v in _stats(data.stats).items())
        lines.append(f"  {split}: {figures}")
    for name in ("vocab", "labels"):
        if name in task.state:
            lines.append(f"{name}: {len(task.state[name])} entries")
    lines.append(f"parameters: {model.count_params():,}")
    lines.append("dry run: nothing trained, nothing written")
    return "\n".join(lines)


def _plain(value):
    return f"{value:.3f}" if isinstance(value, float) else f"{value:,}"


def summary(path, metrics):
    """`run saved to PATH: test accuracy 0.934, loss 0.210` (the last split scored)."""
    split = next(s for s in ("test", "validation", "train") if s in metrics)
    names = sorted(metrics[split], key=lambda name: name == "loss")
    scores = ", ".join(f"{name} {metrics[split][name]:.3f}" for name in names)
    return f"run saved to {path}: {split} {scores}"


def run(args):
    from keras_seq import runs
    from keras_seq.training import NonFiniteLoss

    if (args.spec is None) == (args.resume is None):
        print("keras-seq train: give a SPEC, or --resume DIR (not both)", file=sys.stderr)
        return 2
    try:
        if args.resume:
            path, metrics = resume(args.resume)
        else:
            path, metrics = train(
                args.spec,
                train=args.train,
                validation=args.validation,
                test=args.test,
                epochs=args.epochs,
                output=args.output,
                overrides=args.set,
                dry_run=args.dry_run,
            )
    except NonFiniteLoss as error:
        print(f"keras-seq train: {error}{_kept(runs.RunFolder.last_kept)}", file=sys.stderr)
        return 3
    except (KeyboardInterrupt, SystemExit) as stop:
        code = 130 if isinstance(stop, KeyboardInterrupt) else stop.code
        if code not in (130, 143):
            raise
        word = "interrupted" if code == 130 else "terminated"
        print(f"keras-seq train: {word}{_kept(runs.RunFolder.last_kept)}", file=sys.stderr)
        return code
    if path is not None:
        print(summary(path, metrics))
    return 0


def _kept(folder):
    if folder is None:
        return "; no run folder was written"
    return f"; {folder} holds the last epoch's checkpoint: keras-seq train --resume {folder}"
