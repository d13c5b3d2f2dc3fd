"""`keras_seq.train` and `keras_seq.pipeline.resume`: the run they return against the folder
they write, a resumed run against an uninterrupted one, and the history's time and speed."""

import json
import re

import numpy as np
import pytest

import keras_seq
from keras_seq import pipeline, progress, runs, training

# No data section: the bundled tagger data (train, validation and test).
TAGGER = """
name: tiny-tagger
seed: 3
input: {kind: tokens, embedding_dim: 8}
encoder: {cell: gru, units: 8}
head: {type: tagger, dropout: 0.2}
training: {epochs: 1, batch_size: 128, learning_rate: 0.02}
"""
TIMING = ("seconds", "words_per_second", "examples_per_second")


@pytest.mark.slow
def test_train_returns_the_run_it_writes_scored_as_the_loaded_folder_scores(tmp_path):
    run = keras_seq.train(TAGGER, output=tmp_path / "run", verbose=0)
    assert isinstance(run, keras_seq.Run) and run.folder == tmp_path / "run"
    assert not (run.folder / "checkpoint").exists() and (run.folder / "report.html").is_file()
    loaded = keras_seq.load(run.folder)
    assert set(run.metrics) == {"train", "validation", "test"}
    expected = loaded.evaluate(run.task.spec.data.test)
    assert run.metrics["test"] == pytest.approx(expected, rel=1e-6, abs=1e-7)
    assert runs.read_metrics(run.folder) == run.metrics
    assert json.loads((run.folder / "metrics.json").read_text())["run"] == run.record
    written = runs.read_history(run.folder)
    assert written.pop("epoch") == [1.0] and list(written) == list(run.history)
    assert written == run.history
    # Speed: the real tokens of the training file (no padding) per second of each epoch.
    words = sum(len(record["tokens"]) for record in loaded.read(run.task.spec.data.train))
    assert all(seconds > 0 for seconds in written["seconds"])
    for seconds, speed in zip(written["seconds"], written["words_per_second"]):
        assert speed == pytest.approx(words / seconds, rel=1e-12)


@pytest.mark.slow
def test_a_resumed_run_ends_as_an_uninterrupted_one(tmp_path, monkeypatch):
    spec = TAGGER.replace("epochs: 1", "epochs: 2, schedule: {type: step, step_size: 1}")
    whole = keras_seq.train(spec, output=tmp_path / "whole", verbose=0)

    save = training.EpochCheckpoint.on_epoch_end

    def crash_after_one_epoch(self, epoch, logs=None):
        save(self, epoch, logs)
        raise KeyboardInterrupt

    monkeypatch.setattr(training.EpochCheckpoint, "on_epoch_end", crash_after_one_epoch)
    with pytest.raises(KeyboardInterrupt):
        keras_seq.train(spec, output=tmp_path / "broken", verbose=0)
    assert runs.RunFolder.last_kept == tmp_path / "broken"
    assert [p.name for p in (tmp_path / "broken").iterdir()] == ["checkpoint"]
    monkeypatch.setattr(training.EpochCheckpoint, "on_epoch_end", save)

    resumed = pipeline.resume(tmp_path / "broken", verbose=0)
    assert resumed.folder == tmp_path / "broken"
    for split, scores in whole.metrics.items():
        assert resumed.metrics[split] == pytest.approx(scores, rel=1e-5, abs=1e-7)
    assert list(resumed.history) == list(whole.history)
    for name, values in whole.history.items():
        assert len(resumed.history[name]) == 2
        if name not in TIMING:
            np.testing.assert_allclose(resumed.history[name], values, rtol=1e-5)
    for a, b in zip(whole.task.model.get_weights(), resumed.task.model.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)


CLASSIFIER = (
    "seed: 1\ninput: {kind: tokens, embedding_dim: 4}\nencoder: {cell: gru, units: 4}\n"
    "head: {type: classifier}\ntraining: {epochs: 2, batch_size: 8}\n"
)


def _reviews(folder):
    words = {"pos": "good fine nice", "neg": "bad awful poor"}
    rows = ["text,label"] + [f"{words[y]} thing,{y}" for y in ["pos", "neg"] * 12]
    (folder / "train.csv").write_text("\n".join(rows) + "\n")
    return folder / "train.csv"


def test_a_log_gets_progress_lines_and_the_history_examples_per_second(
    tmp_path, monkeypatch, capsys
):
    train = _reviews(tmp_path)
    monkeypatch.setattr(progress, "INTERVAL_SECONDS", 0.0)  # a line after every step
    run = keras_seq.train(CLASSIFIER, train=train, output=tmp_path / "run", verbose=2)
    printed = capsys.readouterr().out.splitlines()
    lines = [line for line in printed if " - step " in line]  # Keras prints its own too
    pattern = r"Epoch (\d)/2 - step (\d)/3 - loss: \d+\.\d{4} - ETA: \d+s"
    found = [re.fullmatch(pattern, line) for line in lines]
    assert all(found), lines
    assert [m.groups() for m in found] == [(e, s) for e in "12" for s in "123"]
    history = runs.read_history(run.folder)
    assert set(TIMING) - set(history) == {"words_per_second"}  # a classifier counts examples
    for seconds, speed in zip(history["seconds"], history["examples_per_second"]):
        assert seconds > 0 and speed == pytest.approx(24 / seconds, rel=1e-12)


def test_early_stopping_on_a_validation_quantity_without_validation_data_is_left_out(
    tmp_path, caplog
):
    spec = CLASSIFIER.replace(
        "epochs: 2,", "epochs: 3, early_stopping: {monitor: val_loss, patience: 0, min_delta: 9},"
    )
    run = keras_seq.train(spec, train=_reviews(tmp_path), output=tmp_path / "run", verbose=0)
    assert len(run.history["loss"]) == 3  # every epoch, and one warning, not one per epoch
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert [w for w in warnings if "val_loss" in w] == [
        "EarlyStopping watches val_loss, but there is no validation data: it is left out (give "
        "data.validation, or monitor a training quantity such as loss)"
    ]
