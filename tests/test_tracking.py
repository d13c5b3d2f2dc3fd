"""training.tracking: a real local MLflow store and real TensorBoard event files, read back."""

import json

import numpy as np
import pytest

import keras_seq
from keras_seq import tracking
from keras_seq.spec import SpecError


def _files(folder):
    rows = ["text,label"] + [
        f"{'a good' if i % 2 else 'a bad'} film,{'pos' if i % 2 else 'neg'}" for i in range(24)
    ]
    for split in ("train", "validation", "test"):
        (folder / f"{split}.csv").write_text("\n".join(rows) + "\n")


def _train(folder, tracking_yaml, members=1):
    _files(folder)
    spec = (
        "name: tracked\nseed: 3\ninput: {kind: tokens, embedding_dim: 4}\n"
        "encoder: {cell: gru, units: 4}\nhead: {type: classifier}\n"
        f"training: {{epochs: 2, batch_size: 8, ensemble: {members}, tracking: {tracking_yaml}}}\n"
        f"data: {{format: csv, train: {folder}/train.csv, validation: {folder}/validation.csv, "
        f"test: {folder}/test.csv}}\n"
    )
    return keras_seq.train(spec, output=folder / "run", verbose=0)


@pytest.mark.parametrize("members", [1, 2])  # a seed ensemble's members one after the other
def test_an_mlflow_run_holds_the_spec_every_epoch_the_final_metrics_and_the_folder(
    tmp_path, monkeypatch, members
):
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 refuses file: otherwise
    from mlflow.tracking import MlflowClient

    uri = (tmp_path / "mlruns").as_uri()
    run = _train(tmp_path, f"{{mlflow: {{tracking_uri: '{uri}', experiment: trials}}}}", members)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("trials")
    (found,) = client.search_runs([experiment.experiment_id])
    assert found.info.status == "FINISHED" and found.info.run_name == "tracked"
    params = found.data.params
    assert params["training.epochs"] == "2" and params["encoder.cell"] == "gru"
    assert params["input.vocab_size"] == str(run.task.spec.input.vocab_size)  # learned, resolved
    for name in ("loss", "val_loss", "val_accuracy"):
        logged = client.get_metric_history(found.info.run_id, name)
        assert [m.step for m in logged] == list(range(2 * members))
        np.testing.assert_allclose([m.value for m in logged], run.history[name], rtol=1e-6)
    metrics = json.loads((run.folder / "metrics.json").read_text())
    assert found.data.metrics["test_accuracy"] == pytest.approx(metrics["test"]["accuracy"])
    assert found.data.metrics["validation_loss"] == pytest.approx(metrics["validation"]["loss"])
    artifacts = {a.path for a in client.list_artifacts(found.info.run_id)}
    assert {"metrics.json", "model.keras", "report.html", "spec.yaml"} <= artifacts


@pytest.mark.parametrize("members", [1, 2])  # a seed ensemble: a TensorBoard run per member
def test_tensorboard_event_files_hold_every_epochs_values(tmp_path, members):
    pytest.importorskip("tensorflow")  # Keras' TensorBoard callback writes with tf.summary
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator"
    )
    from tensorboard.util import tensor_util

    run = _train(tmp_path, "{tensorboard: true}", members)
    folders = [run.folder / "tensorboard"]
    if members > 1:
        folders = [folders[0] / f"member-{k}" for k in range(1, members + 1)]
    for k, folder in enumerate(folders):
        values = {}
        for split, prefix in (("train", ""), ("validation", "val_")):
            events = event_accumulator.EventAccumulator(str(folder / split))
            events.Reload()
            for tag in events.Tags()["tensors"]:
                values[prefix + tag.removeprefix("epoch_")] = [
                    (e.step, tensor_util.make_ndarray(e.tensor_proto).item())
                    for e in events.Tensors(tag)
                ]
        for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
            steps, logged = zip(*values[name])
            assert steps == (0, 1)
            np.testing.assert_allclose(logged, run.history[name][2 * k : 2 * k + 2], rtol=1e-6)


def test_flattened_params_and_final_numbers():
    assert tracking.flatten({"a": {"b": {"c": 1}}, "d": {}}) == {"a.b.c": "1", "d": "{}"}
    assert tracking.numbers_of({"x": 0.5, "y": {"z": float("inf"), "w": 2}}) == {
        "x": 0.5,
        "y_w": 2.0,
    }


def test_an_unknown_tracking_field_names_the_allowed_ones():
    with pytest.raises(SpecError, match="training.tracking.mlflow.uri: unknown field 'uri'"):
        keras_seq.spec.load_spec(
            "input: {kind: tokens}\nencoder: {cell: gru, units: 4}\nhead: {type: tagger}\n"
            "training: {tracking: {mlflow: {uri: x}}}\n"
        )
