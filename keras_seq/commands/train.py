"""`keras-seq train`: a spec and its data to a complete run folder (see `keras_seq.runs`)."""

import csv
import dataclasses
import logging
import pathlib
import sys

import keras

from keras_seq import builder, runs, training
from keras_seq.backend import distribution
from keras_seq.commands.datafiles import split_paths, with_files
from keras_seq.data import load_dataset
from keras_seq.data.dataset import stream_dataset, wants_streaming
from keras_seq.data.streaming import StreamingDataset
from keras_seq.spec import load_spec

logger = logging.getLogger("keras_seq.train")

# build() override -> the attribute of the training split's `Encoded` whose size fills it.
_LEARNED = {"vocab_size": "vocab", "classes": "labels", "target_vocab_size": "labels"}


def load_splits(spec):
    """Every split the spec's data names, encoded with the training split's vocabulary.

    A split whose file `data.streaming` asks to stream comes as a `StreamingDataset` in `x`.
    """
    paths = split_paths(spec)
    train = _load(spec, "train", paths)
    splits = {"train": train}
    for split in paths:
        if split != "train":
            splits[split] = _load(spec, split, paths, vocab=train.vocab, labels=train.labels)
    for split, encoded in splits.items():
        logger.info("%s: %d examples from %s", split, encoded.stats.examples, paths[split])
    return splits


def _load(spec, split, paths, **learned):
    if wants_streaming(spec, paths[split]):
        return stream_dataset(spec, split, **learned)
    return load_dataset(spec, split, **learned)


def learned_sizes(spec, train):
    """`build()` overrides for the sizes the spec leaves `auto`, from the training split."""
    sizes = {}
    for keyword, (section, field) in builder.OVERRIDES.items():
        learned = getattr(train, _LEARNED[keyword])
        if getattr(getattr(spec, section), field) == "auto" and learned is not None:
            sizes[keyword] = len(learned)
    return sizes


def _inputs(encoded):
    return {"x": encoded.x, "y": encoded.y, "sample_weight": encoded.sample_weight}


def score(model, splits, batch_size):
    """`{split: {metric: value}}` from `model.evaluate` (loss and the compiled metrics)."""
    return {
        split: model.evaluate(
            **_inputs(encoded), batch_size=batch_size, verbose=0, return_dict=True
        )
        for split, encoded in splits.items()
    }


def _write_history(history, path):
    names = list(history)
    epochs = len(history[names[0]]) if names else 0
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["epoch", *names])
        for epoch in range(epochs):
            writer.writerow([epoch + 1, *(float(history[name][epoch]) for name in names)])


def _with_epochs(spec, epochs):
    if epochs is None:
        return spec
    return dataclasses.replace(spec, training=dataclasses.replace(spec.training, epochs=epochs))


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
    spec = with_files(load_spec(source), train=train, validation=validation, test=test)
    spec = _with_epochs(spec, epochs)
    splits = load_splits(spec)
    spec = builder.resolve(spec, **learned_sizes(spec, splits["train"]))
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    fit = training.fit_options(spec.training)
    validation_data = (
        tuple(_inputs(splits["validation"]).values()) if "validation" in splits else None
    )
    # A streamed split shuffles itself, within a bounded buffer (keras_seq.data.streaming).
    shuffle = not isinstance(splits["train"].x, StreamingDataset)
    path = runs.default_path(spec.name) if output is None else output
    with runs.RunFolder(path) as folder, distribution.scope(spec.training):
        model = builder.build(spec)
        logger.info(
            "keras backend: %s; %d parameters", keras.backend.backend(), model.count_params()
        )
        history = model.fit(
            **_inputs(splits["train"]),
            validation_data=validation_data,
            verbose=verbose,
            shuffle=shuffle,
            **fit,
        )
        metrics = score(model, splits, fit["batch_size"])
        model.save(folder / runs.MODEL)
        runs.write_text_atomic(folder / runs.SPEC, spec.to_yaml())
        train_split = splits["train"]
        if train_split.vocab is not None:
            train_split.vocab.save(folder / runs.VOCAB)
        if train_split.labels is not None:
            train_split.labels.save(folder / runs.LABELS)
        _write_history(history.history, folder / runs.HISTORY)
        runs.plot_curves(history.history, folder / runs.CURVES)
        runs.write_metrics(folder, metrics)
    return pathlib.Path(path), metrics


def summary(path, metrics):
    """`run saved to PATH: test accuracy 0.934, loss 0.21` (the last split scored)."""
    split = next(s for s in ("test", "validation", "train") if s in metrics)
    names = sorted(metrics[split], key=lambda name: name == "loss")
    scores = ", ".join(f"{name} {metrics[split][name]:.3g}" for name in names)
    return f"run saved to {path}: {split} {scores}"


def main(args):
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
