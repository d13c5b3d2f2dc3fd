"""`keras_seq.export` / `keras-seq export`: the exported graph computes what Keras computes
(onnxruntime for ONNX on torch; TensorFlow for SavedModel on tensorflow and jax) on padded
batches for every task; preprocessing.json and model-card.md describe it; a backend that cannot
write a format says which can."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_seq
from keras_seq import cli, runs
from keras_seq.export import SUPPORTED, ExportError, export

LENGTH = 8  # ONNX's fixed time length for the runs whose spec sets no input.max_length
# Raw inputs of different lengths, so the batch is padded.
INPUTS = {
    "tagger": [["the", "old", "man"], "a man can watch the light", ["zzz"]],
    "classifier": ["a good film", ["a", "bad", "film", "really", "bad"], "film"],
    "seq2seq": [["a", "b", "c"], "c a", ["b"]],
}


def _arrays(task, name, inputs):
    """The model's input arrays for `inputs`, padded to the exported graph's time length."""
    if name == "forecaster":
        window = np.sin(np.arange(6) / 4)[:, None]
        return [np.stack([window, window[::-1], 0.5 * window]).astype("float32")]
    ids = task.encode_inputs(INPUTS[name])
    length = task.spec.input.max_length or LENGTH
    ids = np.pad(ids, ((0, 0), (0, length - ids.shape[1])))
    if name != "seq2seq":
        return [ids]
    decoder = np.zeros((len(ids), task.output_length()), "int32")
    decoder[:, 0] = 2  # <bos>
    decoder[0, 1:3] = [5, 4]  # a partly generated row
    return [ids, decoder]


def _keras_outputs(task, arrays):
    return keras.ops.convert_to_numpy(task.model(arrays if len(arrays) > 1 else arrays[0]))


def _onnx_outputs(folder, arrays):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(folder / "model.onnx"))
    feeds = {spec.name: array for spec, array in zip(session.get_inputs(), arrays)}
    return session.run(None, feeds)[0]


def _saved_model_outputs(folder, arrays):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(folder / "saved_model"))  # keeps the variables alive
    return loaded.serve(arrays if len(arrays) > 1 else arrays[0]).numpy()


FORMAT = {"torch": "onnx", "tensorflow": "saved_model", "jax": "saved_model"}


@pytest.mark.parametrize("name", ["tagger", "classifier", "forecaster", "seq2seq"])
def test_the_exported_graph_computes_what_keras_computes(small_runs, tmp_path, name):
    run, _ = small_runs[name]
    task = keras_seq.load(run)
    fmt = FORMAT[keras.backend.backend()]
    metrics = runs.read_metrics(run)
    folder = export(task, tmp_path / "out", fmt, length=LENGTH, metrics=metrics)
    arrays = _arrays(task, name, INPUTS.get(name))
    read = _onnx_outputs if fmt == "onnx" else _saved_model_outputs
    np.testing.assert_allclose(read(folder, arrays), _keras_outputs(task, arrays), atol=1e-5)

    info = json.loads((folder / "preprocessing.json").read_text())
    assert info["task"] == name and info["graph"]["format"] == fmt
    shapes = [item["shape"] for item in info["graph"]["inputs"]]
    if fmt == "onnx":  # the batch stays dynamic, time is fixed
        assert shapes == [[None, *a.shape[1:]] for a in arrays]
    else:  # as the model was built: time dynamic unless input.max_length fixed it
        assert shapes == [list(t.shape) for t in keras.tree.flatten(task.model.input)]
    for state, value in task.state.items():
        assert info["state"][state] == getattr(value, "tokens", value)
    card = (folder / "model-card.md").read_text()
    for heading in ("## Spec", "## Data", "## Metrics", "## Intended use", "## Limits"):
        assert heading in card
    split, scores = next(iter(metrics.items()))
    metric, value = next(iter(scores.items()))
    assert f"| {split} | {metric} | {value:.4g} |" in card


def test_padding_does_not_change_the_exported_predictions(small_runs, tmp_path):
    """A sentence alone and the same sentence in a padded batch get the same outputs."""
    task = keras_seq.load(small_runs["tagger"][0])
    fmt = FORMAT[keras.backend.backend()]
    folder = task.export(tmp_path / "out", fmt, length=LENGTH)  # the method, for Python users
    read = _onnx_outputs if fmt == "onnx" else _saved_model_outputs
    batch = _arrays(task, "tagger", INPUTS["tagger"])[0]
    together = read(folder, [batch])
    alone = read(folder, [batch[1:2]])
    np.testing.assert_allclose(together[1:2], alone, atol=1e-6)


def test_a_backend_that_cannot_export_a_format_names_the_one_that_can(small_runs, tmp_path):
    backend = keras.backend.backend()
    other = "saved_model" if FORMAT[backend] == "onnx" else "onnx"
    task = keras_seq.load(small_runs["tagger"][0])
    able = " or ".join(SUPPORTED[other])
    with pytest.raises(
        ExportError, match=f"the {backend} backend cannot export {other}; {able} can"
    ):
        export(task, tmp_path / "out", other)
    assert not (tmp_path / "out").exists()


def _saved_model_outputs_in_tensorflow(folder, arrays, tmp_path):
    """`_saved_model_outputs` in a TensorFlow process (TensorFlow must not share one with torch)."""
    np.save(tmp_path / "x.npy", arrays[0])
    code = (
        "import sys, numpy as np, tensorflow as tf\n"
        "model = tf.saved_model.load(sys.argv[1])\n"
        "np.save(sys.argv[3], model.serve(np.load(sys.argv[2])).numpy())\n"
    )
    paths = [str(folder / "saved_model"), str(tmp_path / "x.npy"), str(tmp_path / "y.npy")]
    subprocess.run([sys.executable, "-c", code, *paths], check=True, timeout=300)
    return np.load(tmp_path / "y.npy")


def test_the_cli_exports_what_this_backend_cannot_on_one_that_can(small_runs, tmp_path, capfd):
    """A run trained here, exported to the other format by a process of a backend that writes
    it: the graph computes what Keras computes here (jax and tensorflow runs to ONNX, read by
    onnxruntime; a torch run to SavedModel)."""
    backend = keras.backend.backend()
    other = "saved_model" if FORMAT[backend] == "onnx" else "onnx"
    run, out = small_runs["tagger"][0], tmp_path / "out"
    command = ["export", str(run), "--format", other, "--output", str(out), "--length", "8"]
    assert cli.main(command) == 0
    printed = capfd.readouterr()
    switch = f"the {backend} backend cannot write {other}; exporting on {SUPPORTED[other][0]}"
    assert switch in printed.err and printed.out.strip() == str(out)
    task = keras_seq.load(run)
    arrays = _arrays(task, "tagger", INPUTS["tagger"])
    if other == "onnx":
        exported = _onnx_outputs(out, arrays)
    else:
        exported = _saved_model_outputs_in_tensorflow(out, arrays, tmp_path)
    np.testing.assert_allclose(exported, _keras_outputs(task, arrays), atol=1e-5)


@pytest.mark.backend("torch")  # once: the check runs before any backend would load
def test_export_arguments_are_checked_before_a_backend_loads(small_runs, tmp_path):
    run = small_runs["tagger"][0]  # its spec sets no input.max_length
    code = (
        "import sys\nfrom keras_seq import cli\n"
        f"code = cli.main(['export', {str(run)!r}, '--format', 'onnx'])\n"
        "print([m for m in ('keras', 'jax', 'torch', 'tensorflow') if m in sys.modules], code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[] 1"
    assert "sets no input.max_length: set it in the spec, or pass length=" in done.stderr
    taken = cli.main(["export", str(run), "--format", "saved_model", "--output", str(tmp_path)])
    assert taken == 1  # a taken --output, refused before loading the model


@pytest.mark.backend("torch")
def test_onnx_needs_a_time_length(small_runs, tmp_path):
    task = keras_seq.load(small_runs["tagger"][0])  # its spec sets no input.max_length
    with pytest.raises(ExportError, match="set it in the spec, or pass length="):
        export(task, tmp_path / "out", "onnx")


def test_the_cli_writes_the_folder_beside_the_run(small_runs, capsys):
    run = small_runs["forecaster"][0]  # input.max_length 6: no --length needed
    fmt = FORMAT[keras.backend.backend()]
    assert cli.main(["export", str(run), "--format", fmt]) == 0
    folder = run.with_name(f"{run.name}-{fmt}")
    assert capsys.readouterr().out.strip() == str(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["preprocessing.json", "model-card.md", "model.onnx" if fmt == "onnx" else "saved_model"]
    )


CRF_LENGTH = 16


@pytest.fixture(scope="module")
def crf_tagger(tmp_path_factory):
    """A CRF tagger trained briefly on the bundled BIO data, saved and loaded again (its CRF
    constraints come from the file), and the validation sentences."""
    import pathlib

    from keras_seq.tasks import Task

    data = pathlib.Path(keras_seq.__file__).parent / "datasets"
    task = Task.for_spec(
        f"seed: 2\ninput: {{kind: tokens, embedding_dim: 8, max_length: {CRF_LENGTH}}}\n"
        "encoder: {cell: gru, units: 8, direction: bidirectional}\n"
        "head: {type: tagger, output: crf}\ntraining: {learning_rate: 0.02}\n"
        "data: {format: jsonl, tokens_column: tokens, tags_column: tags, "
        f"train: {data / 'ner-train.jsonl'}, validation: {data / 'ner-validation.jsonl'}}}\n"
    )
    train = task.read_split("train")
    task.learn(train)
    encoded = task.encode(train)
    task.build_model().fit(encoded.x, encoded.y, sample_weight=encoded.sample_weight, verbose=0)
    path = tmp_path_factory.mktemp("crf") / "tagger.keras"
    task.save(path)
    sentences = [record["tokens"] for record in task.read_split("validation")]
    return keras_seq.load(path), sentences


def test_an_exported_crf_tagger_returns_the_tags_predict_returns(crf_tagger, tmp_path):
    task, sentences = crf_tagger
    assert task.model.get_layer("crf").constraints  # the scheme's, read back from the file
    fmt = FORMAT[keras.backend.backend()]
    folder = export(task, tmp_path / "out", fmt)
    ids = task.encode_inputs(sentences)
    ids = np.pad(ids, ((0, 0), (0, CRF_LENGTH - ids.shape[1])))
    read = _onnx_outputs if fmt == "onnx" else _saved_model_outputs
    tags = read(folder, [ids])
    assert tags.shape == ids.shape and tags.dtype.kind == "i"
    assert not tags[ids == 0].any()
    labels = task.state["labels"].tokens
    exported = [[labels[i] for i in row[: len(s)]] for row, s in zip(tags, sentences)]
    predicted = [p[:CRF_LENGTH] for p in task.predict(sentences)]
    assert exported == predicted  # every token of every sentence
    np.testing.assert_array_equal(read(folder, [ids[3:4]]), tags[3:4])  # the batch is dynamic

    info = json.loads((folder / "preprocessing.json").read_text())
    outputs = info["graph"]["outputs"]
    assert "Viterbi" in outputs and "kept to the transitions BIO allows" in outputs
    assert "not probabilities" in outputs
    assert f"- output: {outputs}" in (folder / "model-card.md").read_text()
