"""`val_entity_f1` every epoch: the logged figures are the span scores (and seqeval's) of the
model's decoded predictions on the validation split; early stopping on them keeps the best
epoch; `keras-seq train` writes them to history.csv; a monitor the head cannot log is refused
before training."""

import csv
import json
import pathlib

import keras
import numpy as np
import pytest

import keras_seq
from keras_seq import cli, training
from keras_seq.metrics.entity_callback import NAMES
from keras_seq.metrics.spans import span_scores
from keras_seq.spec import SpecError
from keras_seq.spec.schema import ROOT
from keras_seq.tasks import Task

DATA = pathlib.Path(keras_seq.__file__).parent / "datasets"
SPEC = f"""
seed: 5
input: {{kind: tokens, embedding_dim: 16, max_length: 24}}
encoder: {{cell: gru, units: 16, direction: bidirectional}}
head: {{type: tagger, output: crf}}
training: {{learning_rate: 0.02, batch_size: 32, %s}}
data:
  format: jsonl
  tokens_column: tokens
  tags_column: tags
  train: {DATA / "ner-train.jsonl"}
  validation: {DATA / "ner-validation.jsonl"}
"""


class Recorder(keras.callbacks.Callback):
    """After the entity callback: the logs it wrote, and the span scores of `model.predict`
    on the validation arrays decoded by the CRF, computed here independently."""

    def __init__(self, task, records, encoded):
        super().__init__()
        self.task, self.records, self.encoded = task, records, encoded
        self.logged, self.computed, self.seqeval = [], [], []

    def on_epoch_end(self, epoch, logs=None):
        self.logged.append(dict(logs))
        x = self.encoded.x
        scores = self.model.predict(x, verbose=0)
        ids = keras.ops.convert_to_numpy(self.model.get_layer("crf").decode(scores, x > 0))
        labels = self.task.state["labels"].tokens
        gold = [record["tags"] for record in self.records]
        predicted = [[labels[i] for i in row[: len(g)]] for row, g in zip(ids, gold)]
        self.computed.append(span_scores(gold, predicted))
        try:
            import seqeval.metrics as seqeval
        except ImportError:
            return
        self.seqeval.append(
            [f(gold, predicted) for f in (seqeval.precision_score, seqeval.recall_score)]
            + [seqeval.f1_score(gold, predicted)]
        )


def _fit(options, extra=()):
    task = Task.for_spec(SPEC % options)
    records = {split: task.read_split(split) for split in ("train", "validation")}
    task.learn(records["train"])
    model = task.build_model()
    encoded = {split: task.encode(r) for split, r in records.items()}
    recorder = Recorder(task, records["validation"], encoded["validation"])
    fit = training.fit_options(task.spec.training)
    callbacks = task.epoch_callbacks(records["validation"]) + [*extra, recorder]
    history = model.fit(
        encoded["train"].x,
        encoded["train"].y,
        sample_weight=encoded["train"].sample_weight,
        validation_data=tuple(vars(encoded["validation"])[k] for k in ("x", "y", "sample_weight")),
        epochs=fit["epochs"],
        batch_size=fit["batch_size"],
        callbacks=callbacks + fit["callbacks"],
        shuffle=False,
        verbose=0,
    )
    return task, records, recorder, history.history


def test_the_logged_entity_scores_are_those_of_the_decoded_validation_predictions():
    task, _, recorder, history = _fit("epochs: 3")
    for logs, computed in zip(recorder.logged, recorder.computed):
        for name in NAMES:
            assert logs[f"val_{name}"] == pytest.approx(computed[name.removeprefix("entity_")])
        for type_ in ("LOC", "ORG", "PER"):
            assert logs[f"val_entity_f1_{type_}"] == pytest.approx(computed["types"][type_]["f1"])
    for logs, figures in zip(recorder.logged, recorder.seqeval):
        np.testing.assert_allclose([logs[f"val_{name}"] for name in NAMES], figures)
    assert history["val_entity_f1"] == [logs["val_entity_f1"] for logs in recorder.logged]
    assert max(history["val_entity_f1"]) > 0.3  # it learns: the scores are not all 0


class Spoil(keras.callbacks.Callback):
    """From the third epoch on, the tag scores' weights start again from zero: the entity
    scores fall, and early stopping must go back to the second epoch's weights."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            layer = self.model.get_layer("head")
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])


def test_early_stopping_on_entity_f1_restores_the_best_epoch():
    task, records, recorder, history = _fit(
        "epochs: 6, early_stopping: {monitor: val_entity_f1, patience: 1}", [Spoil()]
    )
    f1 = history["val_entity_f1"]
    best = int(np.argmax(f1))
    assert best == 1 and len(f1) == 3, f1  # stopped at the first epoch without a gain
    restored = task.evaluate(records["validation"])["entity_f1"]
    assert restored == pytest.approx(f1[best])


def test_train_writes_the_entity_scores_to_history_and_stops_on_them(tmp_path):
    spec = tmp_path / "ner.yaml"
    spec.write_text(SPEC % "epochs: 2, early_stopping: {monitor: val_entity_f1, patience: 1}")
    assert cli.main(["train", str(spec), "--output", str(tmp_path / "run")]) == 0
    with open(tmp_path / "run" / "history.csv") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 2
    f1 = [float(row["val_entity_f1"]) for row in rows]
    assert all(f"val_entity_f1_{t}" in rows[0] for t in ("LOC", "ORG", "PER"))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["validation"]["entity_f1"] == pytest.approx(max(f1))


def test_monitors_are_checked_against_what_the_head_logs():
    base = "input: {kind: tokens}\nencoder: {cell: gru, units: 4}\n"
    with pytest.raises(SpecError, match="'val_accuracy' is not a name the model will log") as e:
        keras_seq.load_spec(
            base + "head: {type: tagger, output: crf}\n"
            "training: {early_stopping: {monitor: val_accuracy}}"
        )
    assert e.value.problems[0].allowed == (
        "loss, val_loss, val_entity_precision, val_entity_recall, val_entity_f1"
    )
    for head in ("{type: tagger}", "{type: tagger, output: crf}"):
        keras_seq.load_spec(
            base + f"head: {head}\ntraining: {{early_stopping: {{monitor: val_entity_f1}}}}"
        )
    with pytest.raises(SpecError, match="'val_entity_f1' is not a name the model will log"):
        keras_seq.load_spec(
            base + "head: {type: classifier}\n"
            "training: {schedule: {type: plateau, monitor: val_entity_f1}}"
        )
    assert (
        training.callbacks(
            keras_seq.load_spec(
                base + "head: {type: tagger}\ntraining: {early_stopping: {monitor: val_entity_f1}}"
            ).training
        )[0].mode
        == "max"
    )


def test_entity_monitors_on_tags_without_a_scheme_are_refused_before_training():
    task = Task.for_spec(
        "input: {kind: tokens, embedding_dim: 4}\nencoder: {cell: gru, units: 4}\n"
        "head: {type: tagger}\ntraining: {early_stopping: {monitor: val_entity_f1}}"
    )
    records = [{"tokens": ["a", "dog"], "tags": ["DET", "NOUN"]}]
    task.learn(records)
    with pytest.raises(SpecError, match="follow no span scheme") as error:
        task.epoch_callbacks(records)
    assert error.value.problems[0].path == "training.early_stopping.monitor"
    bio = [{"tokens": ["Ann", "ran"], "tags": ["B-PER", "O"]}]
    with pytest.raises(SpecError, match="no validation split read whole"):
        task.learn(bio).epoch_callbacks(None)


def test_the_schema_names_what_the_callback_logs():
    field = ROOT["properties"]["training"]["properties"]["metrics"]
    assert tuple(field["x-head-validation-scores"]["tagger"]) == NAMES
