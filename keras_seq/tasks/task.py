"""`Task`: what a model is for, and the registry of tasks by `head.type`.

A task knows everything that differs between heads: how to read its data, what it learns
from the training split (vocabularies, label sets, scales), which model it builds and how it
compiles it, how raw inputs become arrays and how outputs become readable predictions. The
rest of keras-seq (the builder, the commands, the portability check) asks the task.

Adding a task is one file: subclass `Task`, decorate it with `@register_task("name")`, and
import it in `keras_seq/tasks/__init__.py`. A second task for one head type, chosen by a spec
field, is registered with `when` (`@register_task("forecaster", when="data.time_column")`).
"""

import logging

import numpy as np

from keras_seq.data import DataError, readers, writers
from keras_seq.data.bundled import bundled_section
from keras_seq.data.encoding import EncodeStats
from keras_seq.data.vocabulary import Vocabulary
from keras_seq.spec import Problem, SpecError, load_spec
from keras_seq.spec.schema import ROOT

_TRAINING_FIELDS = ROOT["properties"]["training"]["properties"]

TASKS = {}  # head type -> the task of the specs that set none of its variants' fields
VARIANTS = {}  # head type -> [(spec field, task)]: the task of the specs that set the field


def register_task(head_type, when=None):
    """Class decorator: the task for specs whose `head.type` is `head_type`.

    With `when` (a spec field, e.g. `data.time_column`), the task only of the specs that set
    that field: one head type can then have several tasks, each a class of its own, chosen
    from the spec as the schema's descriptions of that field say.
    """

    def decorate(cls):
        cls.head_type = head_type
        if when is None:
            TASKS[head_type] = cls
        else:
            VARIANTS.setdefault(head_type, []).append((when, cls))
        return cls

    return decorate


def task_class(head_type, spec=None):
    """The registered `Task` subclass for a head type (and `spec`, which picks a variant)."""
    for field, cls in VARIANTS.get(head_type, []) if spec is not None else []:
        if spec.get(field):
            return cls
    try:
        return TASKS[head_type]
    except KeyError:
        raise SpecError(
            [Problem("head.type", f"no task is registered for {head_type!r}", found=head_type)]
        ) from None


def task_classes():
    """Every registered task, variants included."""
    return [*TASKS.values(), *(cls for variants in VARIANTS.values() for _, cls in variants)]


class Task:
    """Base class: one subclass per `head.type` (or per variant of one; see `register_task`).

    Attributes:
        spec: `keras_seq.Spec`, resolved (no `auto` left once the task has learned or been
            given its sizes).
        state: dict. What was learned from the training split, e.g. `{"vocab": Vocabulary,
            "labels": Vocabulary}`; saved inside `model.keras` with the spec.
        model: the compiled `keras_seq.Model`, or None before `build_model()`.

    Class attributes a subclass sets:
        input_key, target_key: the keys of a record (`{"tokens": [...], "tags": [...]}`).
        input_column: the `data` option naming the column of the inputs in CSV / JSONL.
        sizes: `{state name: spec field}`: the spec sizes a learned vocabulary fixes.
        bundled: the bundled dataset's `data` section options (None: no bundled data).
        supports_backtest: whether `keras-seq backtest` runs the task (it then has
            `column_groups`, `forecast_arrays` and `score`, as `SeriesForecaster` has).
        graph_outputs: what the model's output is, for an exported graph's consumers (a
            property where it depends on the spec, as a CRF tagger's does).
        speed_unit: what training speed counts (`history.csv`'s `<unit>_per_second`):
            `examples`, or `words` when every input token is trained on.
        integer_targets: whether the targets are class ids (int32) rather than floats.
        explains: whether `explain` gives explanations (`explain_targets`).
    """

    head_type = None
    input_key = "tokens"
    target_key = None
    input_column = None
    sizes = {}
    bundled = None
    supports_backtest = False
    graph_outputs = "see the model card"
    speed_unit = "examples"
    integer_targets = False
    explains = False

    def __init__(self, spec, state=None, model=None):
        self.spec = load_spec(spec)
        self.state = dict(state or {})
        self.model = model

    @staticmethod
    def for_spec(source, state=None, model=None):
        """The task a spec describes (a path, YAML text, dict or `Spec`)."""
        spec = load_spec(source)
        return task_class(spec.head.type, spec)(spec, state, model)

    # ---- data ----

    def data_section(self):
        """The spec's `data` section, or the bundled dataset's when the spec has none."""
        if self.spec.data is not None:
            return self.spec.data
        if self.bundled is None:
            raise DataError(
                f"the spec has no data section and there is no bundled data for a "
                f"{self.head_type} head",
                hint="add a data section with format and train (or pass --train FILE)",
            )
        return bundled_section(self.head_type, **self.bundled)

    def split_path(self, split):
        path = getattr(self.data_section(), split)
        if not path:
            raise DataError(f"the spec has no data.{split} file", hint=f"set data.{split}")
        return path

    def read(self, path):
        """Reads a data file into records (dicts with `input_key` and `target_key`)."""
        raise DataError(
            f"a {self.head_type} head has no targets to read", path=path, hint="nothing to train"
        )

    streams = False  # whether `records` reads from a bookmark, so `data.streaming` can apply

    def records(self, path, lines=None, header=None):
        """Yields the records of `read` one at a time.

        A task that `streams` reads them from `lines` (a `keras_seq.data.readers.FileLines`
        starting at a bookmark; `header`: a CSV file's column names when it starts past them).
        """
        return iter(self.read(path))

    def read_split(self, split):
        return self.read(self.split_path(split))

    def learn(self, records):
        """Learns the state from the training records; the spec's `auto` sizes follow it."""
        self.state.update(self.learn_state(records))
        self.spec = self.spec.replace(self._learned_sizes())
        return self

    def learn_state(self, records):
        return {}

    def _learned_sizes(self):
        changes = {}
        for name, field in self.sizes.items():
            if self.spec.get(field) == "auto" and name in self.state:
                changes[field] = len(self.state[name])
        return changes

    def missing_sizes(self):
        """The spec fields still `auto`."""
        return [field for field in self.sizes.values() if self.spec.get(field) == "auto"]

    def encode(self, records):
        """Records to `Encoded` (x, y, sample_weight, stats) for `fit` / `evaluate`."""
        raise NotImplementedError

    def encode_training(self, records):
        """`encode` of the training split (a task may hold part of it out for `after_fit`)."""
        return self.encode(records)

    def after_fit(self, records):
        """Runs once training ends, given the training records (None when streamed); returns
        a sentence for the user on what it did, or None (the default: nothing)."""
        return None

    def encode_inputs(self, inputs):
        """Raw inputs (what `predict` takes) to the model's input arrays."""
        raise NotImplementedError

    def decode(self, outputs, inputs):
        """Model outputs for `inputs` to readable predictions, one per input."""
        raise NotImplementedError

    # ---- model ----

    def bind(self, model):
        """Takes from a loaded model the layers the task uses directly (none by default)."""

    def build_model(self):
        """Builds and compiles the model (seeded when the spec has a seed)."""
        import keras

        from keras_seq.model import Model
        from keras_seq.tasks import blocks

        missing = self.missing_sizes()
        if missing:
            raise SpecError(
                [
                    Problem(
                        field,
                        "is auto, which needs training data to fix it",
                        found="auto",
                        allowed="an integer in the spec (or keras_seq.build(..., "
                        f"{field.split('.')[-1]}=N)), or a data section with a train file",
                    )
                    for field in missing
                ]
            )
        if self.spec.seed is not None:
            keras.utils.set_random_seed(self.spec.seed)
        with blocks.precision(self.spec.training.precision):
            inputs, outputs = self.build_layers()
            model = Model(inputs, outputs, name=self.spec.name)
        return self.compile(model)

    def compile(self, model):
        """Compiles `model` (this task's graph, or an ensemble of it) as the spec says, saves
        the task in its config, and makes it the task's model."""
        from keras_seq import training

        model.task_config = self.get_config()
        # A layer that supplies the loss (a CRF) needs loss=None, and the default metrics would
        # score its raw per-step outputs: `evaluate` scores the decoded predictions instead.
        own_loss = model.loss_layer is not None
        metrics = list(self.spec.training.metrics or ([] if own_loss else self.default_metrics()))
        model.compile(
            optimizer=training.optimizer(self.spec.training),
            loss=None if own_loss else self.spec.training.loss or self.default_loss(),
            # Weighted, so the sample weights (0 at padding and at labels unseen in training)
            # count in the metrics as they do in the loss.
            weighted_metrics=metrics or None,
        )
        self.model = model
        return model

    def build_layers(self):
        """`(inputs, outputs)` of the model: a subclass's job."""
        raise NotImplementedError

    def target_shape(self, output_shape):
        """One example's target shape, from the model output's (`[steps, ...]`): the same."""
        return list(output_shape)

    def default_loss(self):
        """The loss when `training.loss` is unset: the schema's `x-head-defaults`."""
        return _TRAINING_FIELDS["loss"]["x-head-defaults"].get(self.head_type)

    def default_metrics(self):
        """The metrics when `training.metrics` is unset: the schema's `x-head-defaults` (the
        same names validation checks `monitor` fields against)."""
        return list(_TRAINING_FIELDS["metrics"]["x-head-defaults"].get(self.head_type) or [])

    def example_lengths(self, x):
        """Each training example's real steps when training batches may be cut to their own
        longest example (`keras_seq.training.EpochBatches`), or None (the default) to keep the
        padded width."""
        return None

    def epoch_callbacks(self, validation):
        """Keras callbacks that add the task's own validation figures to each epoch's logs
        (none by default), given the validation split's records (None when not read whole).
        `fit` must run them before the callbacks that read the logs."""
        return []

    # ---- use ----

    def _model(self):
        if self.model is None:
            raise ValueError("the task has no model yet: call build_model() or keras_seq.load()")
        return self.model

    def predict(self, inputs, batch_size=None, **encoding):
        """Readable predictions for raw inputs (see the subclass for their form); `encoding`:
        options of the task's `encode_inputs`.

        Where the model's time axis is free (`example_lengths`), inputs are predicted in
        batches of similar length, each cut to its longest, and the predictions put back in
        the inputs' order. A long pass shows its progress (`keras_seq.progress.BatchLines`).
        """
        from keras_seq.progress import BatchLines

        batch_size = batch_size or self.spec.training.batch_size
        arrays = self.encode_inputs(inputs, **encoding)
        lengths = self.example_lengths(arrays)
        lines = BatchLines(f"predicting {len(inputs):,} inputs", -(-len(inputs) // batch_size))
        if lengths is None:
            outputs = self._model().predict(
                arrays, batch_size=batch_size, verbose=0, callbacks=[lines]
            )
            return self.decode(outputs, inputs)
        batches = self._by_length(lengths, batch_size, arrays, lengths)  # y: unused
        predictions = [None] * len(inputs)
        for index in range(len(batches)):
            rows = batches.rows(index)
            outputs = self._model().predict_on_batch(batches[index][0])
            for row, prediction in zip(rows, self.decode(outputs, [inputs[r] for r in rows])):
                predictions[row] = prediction
            lines.step(index + 1)
        return predictions

    def explain(self, inputs, steps=64, step=None):
        """Integrated-gradients explanations of the predictions for `inputs` (raw inputs or
        records): see `keras_seq.explain.explain`."""
        from keras_seq.explain import explain

        return explain(self, inputs, steps=steps, step=step)

    def explain_examples(self, path):
        """The records `keras-seq explain --data` explains from a data file: `read(path)`."""
        return self.read(path)

    def explain_targets(self, item, prediction, output_shape, step=None):
        """`[(about, weights)]`: the outputs `explain` attributes for one input, each as a
        dict saying what it is and an array of `output_shape` (one example's) picking it
        (a task that has explanations sets `explains` and defines this)."""
        raise NotImplementedError

    @staticmethod
    def _by_length(lengths, batch_size, x, y, sample_weight=None):
        """`x`, `y` and `sample_weight` in batches of similar length, each cut to its longest
        example (`keras_seq.training.EpochBatches(order="length")`)."""
        from keras_seq.training import EpochBatches

        return EpochBatches(x, y, sample_weight, batch_size, None, lengths=lengths, order="length")

    def predict_file(self, path):
        """The text of a data file with the predictions added, in the file's own format
        (CSV / JSONL: a `prediction` column after the columns read)."""
        data = self.data_section()
        column = getattr(data, self.input_column)
        records = readers.read_records(
            path, data.format, {self.input_column: column}, delimiter=data.delimiter
        )
        inputs = [
            readers.split_tokens(record[column], path, line, column) for line, record in records
        ]
        predictions = [self.prediction_columns(p) for p in self.predict(inputs)]
        return writers.file_text(path, data, records, predictions)

    def prediction_columns(self, prediction):
        """The columns `predict_file` writes for one prediction."""
        return {"prediction": prediction}

    def evaluate(self, records, batch_size=None):
        """`{metric: value}` on labelled records (or a data file's path): loss, the compiled
        metrics and the task's own figures (e.g. out-of-vocabulary share)."""
        return self._evaluate(records, batch_size, with_tables=False)[0]

    def evaluate_with_tables(self, records, batch_size=None):
        """`(evaluate(records), tables(records))`, the file read and the records predicted
        once for both (what a run folder and `keras-seq evaluate` report)."""
        return self._evaluate(records, batch_size, with_tables=True)

    def _evaluate(self, records, batch_size, with_tables):
        source = "the records"
        if isinstance(records, str) or hasattr(records, "__fspath__"):
            source, records = records, self.read(records)
        encoded = self.encode(records)
        encoded.stats.warn(source)  # truncation, unseen labels, a mostly unknown vocabulary
        scores, predictions = self._scores_and_predictions(
            records, encoded, batch_size or self.spec.training.batch_size, source
        )
        weighed = list(scores)  # Keras' figures: weighted by the examples' sample weights
        predictions = self.evaluation_predictions(records, predictions)
        scores = self.extra_scores(records, encoded, scores, predictions)
        scores = _nothing_scored(scores, weighed, encoded.sample_weight, source)
        return scores, (self.tables(records, predictions) if with_tables else {})

    def _scores_and_predictions(self, records, encoded, batch_size, source):
        """Keras' `evaluate` figures on an `Encoded` split, as floats, and the decoded
        predictions of its records (None where `evaluation_inputs` gives none), from one pass
        of the model (`keras_seq.tasks.evaluating`). The batches are those `predict` makes:
        of similar length, each cut to its longest, where the model's time axis is free
        (`example_lengths`), else in the records' order. A long pass shows its progress
        (`keras_seq.progress.BatchLines`, naming `source`)."""
        from keras_seq.backend import quirks
        from keras_seq.progress import BatchLines
        from keras_seq.tasks.evaluating import score_and_predict

        x, y, sample_weight = encoded.x, encoded.y, encoded.sample_weight
        lengths = self.example_lengths(x)
        if lengths is None:
            rows = [np.arange(i, min(i + batch_size, len(y))) for i in range(0, len(y), batch_size)]
            data = {"x": x, "y": y, "sample_weight": sample_weight, "batch_size": batch_size}
        else:
            batches = self._by_length(lengths, batch_size, x, y, sample_weight)
            rows = [batches.rows(index) for index in range(len(batches))]
            data = {"x": quirks.with_free_time_axis(batches)}
        lines = BatchLines(f"scoring {source}", len(rows))
        scores, outputs = score_and_predict(self._model(), callbacks=[lines], **data)
        inputs = self.evaluation_inputs(records)
        if inputs is None:
            return scores, None
        predictions = [None] * len(inputs)
        for batch_rows, batch_outputs in zip(rows, outputs):
            decoded = self.decode(batch_outputs, [inputs[row] for row in batch_rows])
            for row, prediction in zip(batch_rows, decoded):
                predictions[row] = prediction
        return scores, predictions

    def evaluation_inputs(self, records):
        """The raw inputs (what `predict` takes) of labelled records, when the model's outputs
        on their encoded form decode into their predictions (`decode`); None (the default)
        when predictions are made otherwise (a decoder's search)."""
        return None

    def evaluation_predictions(self, records, predictions=None):
        """What `extra_scores` and `tables` read of the model's predictions on labelled
        records, made once for both (None: they need none), from `predictions`
        (`predict(evaluation_inputs(records))`, when `evaluation_inputs` gives them)."""
        return None

    def tables(self, records, predictions=None):
        """Detailed tables on labelled records for the run folder: `{name: JSON-able data}`,
        written by `keras-seq train` as `NAME.json` (none by default). `predictions`:
        `evaluation_predictions(records)` when already made."""
        return {}

    def extra_scores(self, records, encoded, scores, predictions=None):
        """Keras' `scores` completed with the task's own figures (from `encoded.stats`: the
        out-of-vocabulary share, labels unseen in training; `predictions`:
        `evaluation_predictions(records)`)."""
        return {**scores, **stats_scores(encoded.stats)}

    # ---- export ----

    def export_preprocessing(self):
        """What `preprocessing.json` adds for this task beside the graph, inputs and state
        (`keras_seq.export.card.preprocessing`); nothing by default."""
        return {}

    def card_sections(self, info):
        """The model card's sections on using this task's exported graph, after its inputs
        and outputs (`info`: `preprocessing.json`'s content); none by default."""
        return []

    # ---- persistence ----

    def get_config(self):
        """The spec and the learned state as plain data (saved inside `model.keras`)."""
        return {
            "spec": self.spec.to_dict(),
            "state": {name: _state_to_config(value) for name, value in self.state.items()},
        }

    @classmethod
    def from_config(cls, config, model=None):
        spec = load_spec(config["spec"])
        state = {name: _state_from_config(value) for name, value in config["state"].items()}
        return task_class(spec.head.type, spec)(spec, state, model)

    def save(self, path):
        """Saves the model, with the spec and state inside, as a `.keras` file."""
        self._model().task_config = self.get_config()
        self._model().save(path)

    def export(self, output, format="saved_model", **options):
        """Writes the model's graph (SavedModel or ONNX), `preprocessing.json` and
        `model-card.md` into a new folder; see `keras_seq.export.export`."""
        from keras_seq.export import export

        self._model()
        return export(self, output, format, **options)


def _nothing_scored(scores, weighed, sample_weight, source):
    """`scores` with the figures named in `weighed` (Keras' loss and metrics, and the task's
    own recomputation of them) set to None, null in JSON, when every example has weight 0
    (all its labels were unseen in training): Keras then reports 0, a loss nothing earned.
    The reason is logged as a warning."""
    if sample_weight is None or np.any(np.asarray(sample_weight)):
        return scores
    logging.getLogger(__name__).warning(
        "%s: nothing scored: every label was unseen in training, so %s are null (not 0)",
        source,
        ", ".join(weighed),
    )
    return {**scores, **dict.fromkeys(weighed)}


def stats_scores(stats):
    """The out-of-vocabulary share and unseen-label count of an `EncodeStats`."""
    scores = {}
    if stats.tokens:
        scores["oov_rate"] = stats.oov / stats.tokens
    if stats.unseen_labels:
        scores["unseen_labels"] = float(sum(stats.unseen_labels.values()))
    return scores


def _state_to_config(value):
    if isinstance(value, Vocabulary):
        return {"vocabulary": value.tokens, "lowercase": value.lowercase}
    if isinstance(value, np.ndarray):
        return {"array": value.tolist()}
    return {"value": value}


def _state_from_config(config):
    if "vocabulary" in config:
        return Vocabulary(config["vocabulary"], lowercase=config["lowercase"])
    if "array" in config:
        return np.asarray(config["array"], dtype="float32")
    return config["value"]


__all__ = ["Task", "register_task", "task_class", "task_classes", "TASKS", "EncodeStats"]
