"""`keras-seq train`: a spec and its data to a complete run folder (see `keras_seq.runs`)."""

import csv
import logging
import pathlib
import sys

HELP = "train a spec's model; write a run folder"

logger = logging.getLogger("keras_seq.train")


def add_arguments(parser):
    parser.add_argument("spec", metavar="SPEC")
    for split in ("train", "validation", "test"):
        parser.add_argument(f"--{split}", metavar="F", help=f"default: data.{split}")
    parser.add_argument("--epochs", type=int, metavar="N", help="default: training.epochs")
    parser.add_argument("--output", metavar="DIR", help="run folder (default: runs/NAME-TIME)")


def read_splits(task):
    """`{split: records}` for every split the task's spec names."""
    from keras_seq.commands.datafiles import split_paths

    splits = {}
    for split, path in split_paths(task.spec).items():
        splits[split] = task.read(path)
        logger.info("%s: %d records from %s", split, len(splits[split]), path)
    return splits


def _fit_arrays(encoded):
    return {"x": encoded.x, "y": encoded.y, "sample_weight": encoded.sample_weight}


def _write_history(history, path):
    names = list(history)
    epochs = len(history[names[0]]) if names else 0
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["epoch", *names])
        for epoch in range(epochs):
            writer.writerow([epoch + 1, *(float(history[name][epoch]) for name in names)])


def train(
    source, *, train=None, validation=None, test=None, epochs=None, output=None, verbose=None
):
    """Trains the model a spec describes and writes its run folder.

    Args:
        source: a spec path, YAML text, dict or `keras_seq.Spec`.
        train, validation, test: str, optional. Data files that replace the spec's (`data`
            section, or the bundled data when the spec has none).
        epochs: int, optional. Replaces `training.epochs`.
        output: str, optional. The run folder; default `runs/<name>-<timestamp>`.
        verbose: int, optional. Keras' `fit` verbosity; default 1 (a progress bar) on a
            terminal, 2 (one line per epoch) otherwise.

    Returns:
        `(path, metrics)`: the run folder and `{split: {metric: value}}`.

    Raises:
        keras_seq.SpecError, keras_seq.DataError: the spec or the data cannot be used.
    """
    import keras

    from keras_seq import runs, training
    from keras_seq.commands.datafiles import with_files
    from keras_seq.tasks import Task

    task = Task.for_spec(source)
    task.spec = with_files(task, train=train, validation=validation, test=test)
    if epochs is not None:
        task.spec = task.spec.replace({"training.epochs": epochs})
    splits = read_splits(task)
    task.learn(splits["train"])
    encoded = {split: task.encode(records) for split, records in splits.items()}
    for split, data in encoded.items():
        data.stats.warn(task.spec.get(f"data.{split}"))
    model = task.build_model()
    logger.info("keras backend: %s; %d parameters", keras.backend.backend(), model.count_params())
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    fit = training.fit_options(task.spec.training)
    validation_data = (
        tuple(_fit_arrays(encoded["validation"]).values()) if "validation" in encoded else None
    )
    path = runs.default_path(task.spec.name) if output is None else output
    with runs.RunFolder(path) as folder:
        history = model.fit(
            **_fit_arrays(encoded["train"]), validation_data=validation_data, verbose=verbose, **fit
        )
        metrics = {split: task.evaluate(splits[split]) for split in splits}
        task.save(folder / runs.MODEL)
        runs.write_text_atomic(folder / runs.SPEC, task.spec.to_yaml())
        for name in ("vocab", "labels"):
            if name in task.state:
                task.state[name].save(folder / f"{name}.txt")
        _write_history(history.history, folder / runs.HISTORY)
        runs.plot_curves(history.history, folder / runs.CURVES)
        runs.write_metrics(folder, metrics)
    return pathlib.Path(path), metrics


def summary(path, metrics):
    """`run saved to PATH: test accuracy 0.934, loss 0.210` (the last split scored)."""
    split = next(s for s in ("test", "validation", "train") if s in metrics)
    names = sorted(metrics[split], key=lambda name: name == "loss")
    scores = ", ".join(f"{name} {metrics[split][name]:.3f}" for name in names)
    return f"run saved to {path}: {split} {scores}"


def run(args):
    path, metrics = train(
        args.spec,
        train=args.train,
        validation=args.validation,
        test=args.test,
        epochs=args.epochs,
        output=args.output,
    )
    print(summary(path, metrics))
    return 0
