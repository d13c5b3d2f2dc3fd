"""`build`, `load` and `load_dataset`: the public ways in, each through the spec's task."""

import pathlib
import zipfile

from keras_seq.data import DataError, Vocabulary
from keras_seq.spec import Problem, SpecError, load_spec
from keras_seq.tasks.task import Task, task_classes

MODEL_FILE = "model.keras"


def _override_fields():
    """build() keyword -> spec field, for every size a task may learn (`vocab_size`, ...)."""
    return {
        field.rsplit(".", 1)[-1]: field for cls in task_classes() for field in cls.sizes.values()
    }


def build(source, **overrides):
    """Builds and compiles the model a spec describes.

    Sizes the spec leaves `auto` (`input.vocab_size`, `head.classes`,
    `head.target_vocab_size`) come from `overrides`, else from the spec's training data (its
    `data` section, or the bundled dataset for its head).

    Args:
        source: a path to a YAML spec, YAML text, a dict or a `keras_seq.Spec`.
        **overrides: sizes by field name, e.g. `vocab_size=5000, classes=12`; a size that does
            not apply to the spec's head is ignored.

    Returns:
        A compiled `keras_seq.Model`. Inputs: `tokens` (batch, time) int ids, 0 = padding
        (masked), 1 = out-of-vocabulary, or `features` (batch, time, dim) floats; seq2seq adds
        `decoder_tokens` (`<bos>` + target, teacher forcing). Outputs: classifier (batch,
        classes) and tagger (batch, time, classes) probabilities; forecaster (batch, horizon,
        outputs); seq2seq (batch, time, target vocabulary) probabilities; none the encoder's
        per-step outputs. Metrics are compiled as `weighted_metrics`, so the sample weights
        (0 at padding) count in them as in the loss. `model.task_config` holds the resolved
        spec and what was learned; `keras_seq.load` on the saved file returns the task.

    Raises:
        keras_seq.SpecError: an invalid spec or override, or an `auto` size with no data.
        keras_seq.DataError: the training data cannot be read.

    Examples:

    >>> import keras_seq
    >>> model = keras_seq.build('''
    ... input: {kind: tokens, embedding_dim: 8}
    ... encoder: {cell: lstm, units: 16, direction: bidirectional}
    ... head: {type: tagger}
    ... seed: 1
    ... ''', vocab_size=100, classes=5)
    >>> tuple(model.output.shape)
    (None, None, 5)
    """
    return resolved_task(source, **overrides).build_model()


def resolved_task(source, **overrides):
    """The spec's task with every `auto` size fixed (from `overrides`, else from its data)."""
    spec = load_spec(source)
    fields = _override_fields()
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise SpecError(
            [
                Problem(
                    "",
                    f"build() has no size {name!r}",
                    found=name,
                    allowed=", ".join(sorted(fields)),
                )
                for name in unknown
            ]
        )
    changes = {fields[k]: v for k, v in overrides.items() if spec.get(fields[k]) is not None}
    task = Task.for_spec(spec.replace(changes) if changes else spec)
    if task.missing_sizes() and (task.spec.data is not None or task.bundled is not None):
        task.learn(task.read_split("train"))
    return task


def load(path):
    """A trained task from a run folder or a `.keras` file, ready to `predict` and `evaluate`.

    Works on any backend, in a fresh process: the `.keras` file carries the resolved spec and
    the learned vocabularies and labels. Run folders of keras-seq 0.1 (whose `model.keras`
    does not) are read with their `spec.yaml`, `vocab.txt` and `labels.txt`.

    Raises:
        keras_seq.DataError: the path is not a run folder or a keras-seq model file, or the
            file cannot be loaded (damaged, or refused by Keras' safe mode).

    Examples:

    >>> import keras_seq  # doctest: +SKIP
    >>> task = keras_seq.load("runs/pos-tagger-20261123-140000")  # doctest: +SKIP
    >>> task.predict([["The", "old", "man", "can", "watch", "the", "light"]])  # doctest: +SKIP
    [['DET', 'ADJ', 'NOUN', 'AUX', 'VERB', 'DET', 'NOUN']]
    """
    import keras

    import keras_seq.layers  # noqa: F401 (registers the classes the file names)

    path = pathlib.Path(path)
    folder = path if path.is_dir() else None
    model_path = path / MODEL_FILE if folder else path
    if not model_path.is_file():
        raise DataError(
            f"not a run folder (no {MODEL_FILE})" if folder else "no such .keras file",
            path=path,
            hint="give a folder written by `keras-seq train`, or its model.keras",
        )
    hint = "give a model.keras written by keras-seq; files that would run code are refused"
    if model_path.suffix != ".keras" or not zipfile.is_zipfile(model_path):
        raise DataError(
            "not a .keras model file (a .keras file is a zip archive; this one is not, or is "
            "truncated)",
            path=model_path,
            hint=hint,
        )
    try:
        model = keras.saving.load_model(model_path)
    except Exception as error:  # noqa: BLE001 -- any failure to load is the file's problem
        reason = str(error).splitlines()[0][:300]
        if "safe_mode" in reason:
            reason = "it would run Python code when loaded (e.g. a Lambda layer); refused"
        raise DataError(f"cannot load the model: {reason}", path=model_path, hint=hint) from None
    config = getattr(model, "task_config", None)
    if config:
        task = _task_of_config(config, model, model_path)
    elif folder is not None:
        task = _task_of_old_run(folder, model)
    else:
        raise DataError(
            "this .keras file holds no keras-seq task (spec and vocabularies)",
            path=model_path,
            hint="load it with keras.saving.load_model, or give the run folder it came from",
        )
    task.bind(model)
    return task


def _task_of_config(config, model, model_path):
    """The task the keras-seq section of a `.keras` file describes; a damaged section (edited,
    or from another version) is a `DataError` naming the file, not a traceback."""
    try:
        return Task.from_config(config, model)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        if isinstance(error, KeyError):
            reason = f"it has no {error.args[0]!r} entry"
        elif getattr(error, "problems", None):  # a SpecError: its first problem
            reason = error.problems[0].format()
        else:
            reason = (str(error) or type(error).__name__).splitlines()[0]
        reason = reason[:200]
        raise DataError(
            f"the keras-seq section of the model (spec and vocabularies) is damaged: {reason}",
            path=model_path,
            hint="train the run again, or restore the file from a copy",
        ) from None


def _task_of_old_run(folder, model):
    """A task from a keras-seq 0.1 run folder: spec.yaml, vocab.txt, labels.txt beside it."""
    spec_path = folder / "spec.yaml"
    if not spec_path.is_file():
        raise DataError("not a run folder (no spec.yaml)", path=folder)
    spec = load_spec(spec_path)
    state = {}
    for name, lowercase in (("vocab", bool(spec.get("input.lowercase"))), ("labels", False)):
        file = folder / f"{name}.txt"
        if file.is_file():
            state[name] = Vocabulary.load(file, lowercase=lowercase)
    return Task.for_spec(spec, state, model)


def load_dataset(spec, split="train", *, path=None, vocab=None, labels=None):
    """Reads and encodes one split of the data a spec names, through its task.

    The vocabulary and label set are learned from the training split; for the other splits
    pass the training split's `vocab` and `labels` (tokens it lacks become `<unk>`; labels it
    lacks get sample weight 0 and are counted in `stats.unseen_labels`).

    Args:
        spec: a `keras_seq.Spec` (or a path, YAML text or dict). Without a `data` section the
            bundled dataset for its head is used.
        split: str. `train`, `validation` or `test`.
        path: str, optional. Read this file instead of the spec's.
        vocab, labels: `Vocabulary`, optional (required unless `split == "train"`).

    Returns:
        `Encoded`: `x`, `y`, `sample_weight` for `model.fit`, plus `vocab`, `labels`, `stats`.

    Examples:

    >>> import keras_seq
    >>> spec = keras_seq.load_spec('''
    ... input: {kind: tokens, max_length: 32, lowercase: true}
    ... encoder: {cell: lstm, units: 8}
    ... head: {type: tagger}
    ... ''')
    >>> train = keras_seq.load_dataset(spec, "train")
    >>> dev = keras_seq.load_dataset(spec, "validation", vocab=train.vocab, labels=train.labels)
    >>> train.x.shape == train.y.shape == train.sample_weight.shape
    True
    """
    task = Task.for_spec(spec)
    records = task.read(path) if path else task.read_split(split)
    state = {name: value for name, value in (("vocab", vocab), ("labels", labels)) if value}
    if state:
        task.state.update(state)
    elif split == "train":
        task.learn(records)
    elif task.sizes:
        raise ValueError(f"pass the training split's vocab and labels to load the {split} split")
    encoded = task.encode(records)
    encoded.stats.warn(path or task.split_path(split))
    return encoded
