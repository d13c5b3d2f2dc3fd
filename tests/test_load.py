"""`keras_seq.load`: a run trained on this backend predicts the same on another, in a fresh
process with only `import keras_seq`, for every task; 0.1 run folders still load."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_seq
from keras_seq import cli
from keras_seq.data import DataError

NEXT_BACKEND = {"tensorflow": "jax", "jax": "torch", "torch": "tensorflow"}
RNG = np.random.default_rng(11)
SENTENCE = ["The", "old", "man", "can", "watch", "the", "light"]


def _write_spec(folder, head, inputs, data, **head_options):
    options = "".join(f", {k}: {v}" for k, v in head_options.items())
    (folder / "spec.yaml").write_text(
        f"seed: 3\ninput: {inputs}\nencoder: {{cell: gru, units: 8}}\n"
        f"head: {{type: {head}{options}}}\n"
        "training: {epochs: 2, batch_size: 16, learning_rate: 0.02}\n"
        f"data: {data}\n"
    )
    return folder / "spec.yaml"


def _tagger(folder):
    words = {"DET": ["the", "a"], "ADJ": ["old"], "NOUN": ["man", "light"], "VERB": ["watch"]}
    lines = []
    for _ in range(40):
        tags = ["DET", "ADJ", "NOUN", "VERB", "DET", "NOUN"]
        for i, tag in enumerate(tags, 1):
            word = str(RNG.choice(words[tag]))
            lines.append(f"{i}\t{word}\t_\t{tag}\t_\t_\t_\t_\t_\t_")
        lines.append("")
    (folder / "train.conllu").write_text("\n".join(lines) + "\n")
    spec = _write_spec(
        folder,
        "tagger",
        "{kind: tokens, embedding_dim: 8, lowercase: true}",
        "{format: conllu, train: train.conllu}",
    )
    return spec, [SENTENCE, "a man can watch"]


def _classifier(folder):
    rows = ["text,label"] + [
        f"{'a good' if i % 2 else 'a bad'} film,{'pos' if i % 2 else 'neg'}" for i in range(40)
    ]
    (folder / "train.csv").write_text("\n".join(rows) + "\n")
    spec = _write_spec(
        folder, "classifier", "{kind: tokens, embedding_dim: 8}", "{format: csv, train: train.csv}"
    )
    return spec, ["a good film", ["a", "bad", "film"]]


def _seq2seq(folder):
    lines = []
    for _ in range(40):
        source = [str(c) for c in RNG.choice(list("abc"), 3)]
        lines.append(json.dumps({"source": " ".join(source), "target": " ".join(source[::-1])}))
    (folder / "train.jsonl").write_text("\n".join(lines) + "\n")
    spec = _write_spec(
        folder,
        "seq2seq",
        "{kind: tokens, embedding_dim: 8, max_length: 4}",
        "{format: jsonl, train: train.jsonl}",
        max_output_length=5,
    )
    return spec, [["a", "b", "c"], "c a"]


def _forecaster(folder):
    t = np.arange(120)
    rows = ["load"] + [f"{np.sin(v / 4):.4f}" for v in t]
    (folder / "train.csv").write_text("\n".join(rows) + "\n")
    spec = _write_spec(
        folder,
        "forecaster",
        "{kind: features, dim: 1, max_length: 6}",
        "{format: csv, train: train.csv}",
        horizon=2,
    )
    window = [[float(np.sin(v / 4))] for v in range(6)]
    return spec, [window]


TASKS = {
    "tagger": _tagger,
    "classifier": _classifier,
    "seq2seq": _seq2seq,
    "forecaster": _forecaster,
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One small trained run per task on this backend: `{task: (run folder, raw inputs)}`."""
    made = {}
    for name, make in TASKS.items():
        folder = tmp_path_factory.mktemp(name)
        spec, inputs = make(folder)
        assert cli.main(["train", str(spec), "--output", str(folder / "run")]) == 0
        made[name] = (folder / "run", inputs)
    return made


@pytest.mark.slow
def test_a_run_predicts_the_same_on_another_backend_in_a_fresh_process(runs):
    other = NEXT_BACKEND[keras.backend.backend()]
    script = textwrap.dedent(
        """
        import json, sys
        import keras_seq
        jobs = json.loads(sys.argv[1])
        print(json.dumps({name: keras_seq.load(run).predict(inputs)
                          for name, (run, inputs) in jobs.items()}))
        """
    )
    jobs = {name: (str(run), inputs) for name, (run, inputs) in runs.items()}
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(jobs)],
        env={**os.environ, "KERAS_BACKEND": other},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    elsewhere = json.loads(done.stdout.strip().splitlines()[-1])
    for name, (run, inputs) in runs.items():
        here = keras_seq.load(run).predict(inputs)
        if name == "forecaster":
            np.testing.assert_allclose(elsewhere[name], here, rtol=1e-5, atol=1e-6)
        elif name == "classifier":
            assert [p["label"] for p in elsewhere[name]] == [p["label"] for p in here]
            for a, b in zip(elsewhere[name], here):
                assert a["probability"] == pytest.approx(b["probability"], abs=1e-5)
        else:
            assert elsewhere[name] == here, name


def test_tagger_predictions_equal_what_the_predict_command_writes(runs, tmp_path, capsys):
    run, _ = runs["tagger"]
    words = [SENTENCE, ["a", "man", "can", "watch"]]
    lines = []
    for sentence in words:
        lines += [f"{i}\t{w}\t_\t_\t_\t_\t_\t_\t_\t_" for i, w in enumerate(sentence, 1)] + [""]
    (tmp_path / "new.conllu").write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert cli.main(["predict", str(run), "--data", str(tmp_path / "new.conllu")]) == 0
    written = [line.split("\t")[3] for line in capsys.readouterr().out.splitlines() if "\t" in line]
    tags = keras_seq.load(run).predict(words)
    assert [len(t) for t in tags] == [7, 4]
    assert written == [tag for sentence in tags for tag in sentence]


def test_a_run_folder_of_the_first_release_still_loads(runs, tmp_path):
    """0.1 wrote model.keras without the task; the folder's spec.yaml and vocabularies serve."""
    run, inputs = runs["tagger"]
    task = keras_seq.load(run)
    task.model.task_config = None  # what a 0.1 model.keras holds
    old = tmp_path / "old-run"
    old.mkdir()
    task.model.save(old / "model.keras")
    for name in ("spec.yaml", "vocab.txt", "labels.txt"):
        (old / name).write_bytes((run / name).read_bytes())
    assert keras_seq.load(old).predict(inputs) == task.predict(inputs)
    with pytest.raises(DataError, match="holds no keras-seq task"):
        keras_seq.load(old / "model.keras")


def test_bad_paths_and_files_are_data_errors(tmp_path):
    with pytest.raises(DataError, match="not a run folder"):
        keras_seq.load(tmp_path)
    (tmp_path / "model.keras").write_bytes(b"not a zip file")
    with pytest.raises(DataError, match="cannot load the model"):
        keras_seq.load(tmp_path)
    with pytest.raises(DataError, match="no such .keras file"):
        keras_seq.load(tmp_path / "missing.keras")
