"""`keras-seq train | evaluate | predict` end to end on small files of each format."""

import csv
import html
import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_seq
from keras_seq import cli, runs
from keras_seq.data import pad
from keras_seq.diagnosis import debug_data

RNG = np.random.default_rng(7)
WORDS = {
    "DET": ["the", "a"],
    "NOUN": ["dog", "cat", "idea"],
    "VERB": ["runs", "sees"],
    "ADJ": ["big", "red"],
}
RUN_FILES = {
    "report.html",
    "model.keras",
    "classes.json",
    "spec.yaml",
    "vocab.txt",
    "labels.txt",
    "history.csv",
    "metrics.json",
    "curves.png",
}


def _sentences(count):
    """DET (ADJ) NOUN VERB DET NOUN: a tiny grammar, so tags follow from words and order."""
    sentences = []
    for _ in range(count):
        tags = ["DET"] + ["ADJ"] * int(RNG.integers(0, 3)) + ["NOUN", "VERB", "DET", "NOUN"]
        sentences.append([(str(RNG.choice(WORDS[t])), t) for t in tags])
    return sentences


def _conllu(path, sentences, tags=True):
    lines = []
    for n, sentence in enumerate(sentences, 1):
        lines += [f"# sent_id = {n}", "# text = " + " ".join(w for w, _ in sentence)]
        for i, (word, tag) in enumerate(sentence, 1):
            lines.append(f"{i}\t{word}\t{word}\t{tag if tags else '_'}\t_\t_\t_\t_\t_\tX=1")
        lines.append("")
    path.write_text("\n".join(lines) + "\n")
    return path


def _spec(path, head, data, inputs="{kind: tokens, embedding_dim: 8}", **extra):
    options = "".join(f", {k}: {v}" for k, v in extra.items())
    path.write_text(
        f"name: {path.stem}\nseed: 1\ninput: {inputs}\n"
        "encoder: {cell: gru, units: 8}\n"
        f"head: {{type: {head}{options}}}\n"
        "training: {batch_size: 64, epochs: 1, learning_rate: 0.02}\n"
        f"data: {data}\n"
    )
    return path


def _train(*args):
    assert cli.main(["train", *map(str, args)]) == 0


@pytest.fixture(scope="module")
def tagger(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tagger")
    _conllu(folder / "train.conllu", _sentences(60))
    _conllu(folder / "dev.conllu", _sentences(12))
    _conllu(folder / "test.conllu", _sentences(20))
    spec = _spec(
        folder / "tagger.yaml",
        "tagger",
        "{format: conllu, train: train.conllu, validation: dev.conllu}",
    )
    _train(spec, "--test", folder / "test.conllu", "--epochs", 2, "--output", folder / "run")
    return folder


def _encoded_test(folder):
    task = keras_seq.load(folder / "run")
    return task, task.encode(task.read(folder / "test.conllu"))


def test_train_writes_a_complete_run_folder(tagger):
    run_dir = tagger / "run"
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES
    assert not [p for p in tagger.iterdir() if p.name.startswith(".")]  # no partial folder left
    history = runs.read_history(run_dir)
    assert history["epoch"] == [1.0, 2.0]  # --epochs 2 replaced training.epochs: 1
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(history)
    spec = keras_seq.load_spec(run_dir / "spec.yaml")
    vocab = (run_dir / "vocab.txt").read_text().split("\n")[:-1]
    assert spec.input.vocab_size == len(vocab) == 2 + len({w for ws in WORDS.values() for w in ws})
    assert spec.head.classes == 4
    assert (run_dir / "labels.txt").read_text() == "ADJ\nDET\nNOUN\nVERB\n"
    assert spec.data.test == str(tagger / "test.conllu")
    assert (run_dir / "curves.png").read_bytes()[:4] == b"\x89PNG"
    # the report lists what debug-data finds in the same files (repeats: a 7-word grammar)
    found = debug_data(spec).findings
    page = (run_dir / "report.html").read_text()
    assert found and all(html.escape(str(finding)) in page for finding in found)


def test_metrics_count_real_tokens_only_and_match_evaluate(tagger):
    metrics = json.loads((tagger / "run" / "metrics.json").read_text())
    assert metrics.pop("run")["backend"] == keras.backend.backend()  # the run's record
    assert set(metrics) == {"train", "validation", "test"}
    assert all(set(scores) == {"accuracy", "loss", "oov_rate"} for scores in metrics.values())
    run, test = _encoded_test(tagger)
    predicted = run.model.predict(test.x, verbose=0).argmax(-1)
    real = test.x > 0
    by_hand = (predicted == test.y)[real].mean()
    assert metrics["test"]["accuracy"] == pytest.approx(by_hand, abs=1e-6)
    assert metrics["test"]["oov_rate"] == pytest.approx((test.x[real] == 1).mean(), abs=1e-9)
    # 30 more padding steps per sentence change neither the accuracy nor the loss.
    padded_x = np.pad(test.x, ((0, 0), (0, 30)))
    padded_y = np.pad(test.y, ((0, 0), (0, 30)))
    padded_w = np.pad(test.sample_weight, ((0, 0), (0, 30)))
    again = run.model.evaluate(
        padded_x, padded_y, sample_weight=padded_w, verbose=0, return_dict=True
    )
    assert again["accuracy"] == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)
    assert again["loss"] == pytest.approx(metrics["test"]["loss"], rel=1e-4)


def test_evaluate_prints_the_metrics_as_json(tagger, capsys):
    capsys.readouterr()
    assert cli.main(["evaluate", str(tagger / "run"), "--data", str(tagger / "test.conllu")]) == 0
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads((tagger / "run" / "metrics.json").read_text())["test"]
    assert printed == pytest.approx(saved, rel=1e-5)


def test_predict_fills_the_tag_column_of_a_conllu_copy(tagger):
    sentences = [s for s in _sentences(20)]
    unlabelled = _conllu(tagger / "new.conllu", sentences, tags=False)
    out = tagger / "new-tagged.conllu"
    assert (
        cli.main(["predict", str(tagger / "run"), "--data", str(unlabelled), "--output", str(out)])
        == 0
    )
    before, after = unlabelled.read_text().split("\n"), out.read_text().split("\n")
    assert len(before) == len(after)
    run = keras_seq.load(tagger / "run")
    words = [[w for w, _ in s] for s in sentences]
    x, _, _ = pad([run.state["vocab"].encode(w) for w in words])
    expected = [
        run.state["labels"].tokens[i]
        for row, w in zip(run.model.predict(x, verbose=0).argmax(-1), words)
        for i in row[: len(w)]
    ]
    got = []
    for old, new in zip(before, after):
        if "\t" not in old:
            assert old == new  # comments and blank lines kept
            continue
        old_fields, new_fields = old.split("\t"), new.split("\t")
        assert old_fields[:3] + old_fields[4:] == new_fields[:3] + new_fields[4:]
        got.append(new_fields[3])
    assert got == expected


class _Interrupt(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        raise KeyboardInterrupt  # Ctrl-C as training starts


@pytest.mark.parametrize("where", ["fit", "after the model is saved"])
def test_interrupted_run_leaves_no_complete_looking_folder(tagger, monkeypatch, where):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    if where == "fit":
        options = keras_seq.training.fit_options
        monkeypatch.setattr(
            keras_seq.training, "fit_options", lambda t: {**options(t), "callbacks": [_Interrupt()]}
        )
    else:
        monkeypatch.setattr(runs, "write_metrics", interrupt)
    parent = tagger / f"interrupted-{where.split()[0]}"
    parent.mkdir()  # the user's folder: kept (folders the run itself created go with it)
    argv = ["train", str(tagger / "tagger.yaml"), "--epochs", "1", "--output", str(parent / "run")]
    assert cli.main(argv) == 130  # one line, no traceback
    if where == "fit":  # before the first checkpoint: nothing is left
        assert list(parent.iterdir()) == []
    else:  # after it: a resumable folder holding only the checkpoint
        assert [p.name for p in parent.iterdir()] == ["run"]
        assert [p.name for p in (parent / "run").iterdir()] == ["checkpoint"]


def _csv(path, header, rows):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _reviews(count, labels=("good", "bad")):
    rows = []
    for _ in range(count):
        label = str(RNG.choice(labels))
        word = {"good": ["great", "fine"], "bad": ["awful", "dull"], "meh": ["ok"]}[label]
        rows.append([f"the film was {RNG.choice(word)} really", label])
    return rows


def test_classifier_csv_train_predict_and_unseen_test_labels(tmp_path, capsys, caplog):
    _csv(tmp_path / "train.csv", ["text", "label"], _reviews(80))
    _csv(tmp_path / "test.csv", ["text", "label"], _reviews(20, ("good", "bad", "meh")))
    spec = _spec(tmp_path / "classifier.yaml", "classifier", "{format: csv, train: train.csv}")
    _train(spec, "--test", tmp_path / "test.csv", "--output", tmp_path / "run")
    assert "labels not seen in training ('meh'" in caplog.text  # reported, not raised
    last_line = capsys.readouterr().out.splitlines()[-1]
    assert last_line.startswith(f"run saved to {tmp_path / 'run'}: test accuracy ")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(metrics) == {"run", "train", "test"}
    assert cli.main(["predict", str(tmp_path / "run"), "--data", str(tmp_path / "test.csv")]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert list(rows[0]) == ["text", "label", "prediction", "probability"] and len(rows) == 20
    run = keras_seq.load(tmp_path / "run")
    x, _, _ = pad([run.state["vocab"].encode(r["text"].split()) for r in rows])
    expected = [run.state["labels"].tokens[i] for i in run.model.predict(x, verbose=0).argmax(-1)]
    assert [r["prediction"] for r in rows] == expected
    # Test accuracy counts every row: a label unseen in training is an error.
    accuracy = sum(r["label"] == p for r, p in zip(rows, expected)) / len(rows)
    assert any(r["label"] == "meh" for r in rows)
    assert metrics["test"]["accuracy"] == pytest.approx(accuracy, abs=1e-6)
    unseen = sum(r["label"] == "meh" for r in rows)
    assert metrics["test"]["unseen_labels"] == unseen
    # classes.json: the unseen label has its own row, all of it errors.
    table = json.loads((tmp_path / "run" / "classes.json").read_text())["test"]
    assert table["labels"] == ["bad", "good", "meh"]
    assert table["classes"]["meh"]["support"] == unseen
    assert table["confusion"][2][2] == table["classes"]["meh"]["recall"] == 0
    for row, gold in enumerate(table["labels"]):
        for column, guess in enumerate(table["labels"]):
            count = sum(r["label"] == gold and p == guess for r, p in zip(rows, expected))
            assert table["confusion"][row][column] == count


def test_forecaster_csv_predicts_the_steps_after_each_window(tmp_path):
    t = np.arange(160)
    values = np.stack([np.sin(t / 4), np.cos(t / 7)], 1).round(4)
    _csv(tmp_path / "series.csv", ["load", "temp"], values.tolist())
    spec = _spec(
        tmp_path / "forecaster.yaml",
        "forecaster",
        "{format: csv, train: series.csv, value_columns: [load, temp], "
        "target_columns: [load], lookback: 8}",
        inputs="{kind: features, dim: 2}",
        horizon=2,
    )
    _train(spec, "--output", tmp_path / "run")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(metrics["train"]) == {"loss", "mean_absolute_error"}
    out = tmp_path / "forecast.csv"
    assert (
        cli.main(
            [
                "predict",
                str(tmp_path / "run"),
                "--data",
                str(tmp_path / "series.csv"),
                "--output",
                str(out),
            ]
        )
        == 0
    )
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert [r["prediction"] for r in rows[:7]] == [""] * 7
    model = keras_seq.load(tmp_path / "run").model
    windows = values.astype("float32")[np.arange(153)[:, None] + np.arange(8)]
    expected = model.predict(windows, verbose=0)[:, :, 0]
    got = np.array([[float(v) for v in r["prediction"].split()] for r in rows[7:]])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_seq2seq_jsonl_predicts_greedy_decoded_text(tmp_path):
    pairs = [[f"day {d} month {m}", f"{m} - {d}"] for d in range(1, 8) for m in range(1, 7)]
    lines = [json.dumps({"source": s, "target": t, "id": i}) for i, (s, t) in enumerate(pairs)]
    (tmp_path / "pairs.jsonl").write_text("\n".join(lines) + "\n")
    spec = _spec(tmp_path / "seq2seq.yaml", "seq2seq", "{format: jsonl, train: pairs.jsonl}")
    _train(spec, "--output", tmp_path / "run")
    train = json.loads((tmp_path / "run" / "metrics.json").read_text())["train"]
    assert train["teacher_forced_accuracy"] > 0
    assert 0 <= train["exact_match"] <= train["generated_token_accuracy"] <= 1
    out = tmp_path / "out.jsonl"
    assert (
        cli.main(
            [
                "predict",
                str(tmp_path / "run"),
                "--data",
                str(tmp_path / "pairs.jsonl"),
                "--output",
                str(out),
            ]
        )
        == 0
    )
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == list(range(len(pairs)))
    run = keras_seq.load(tmp_path / "run")
    x, _, _ = pad([run.state["vocab"].encode(s.split()) for s, _ in pairs])
    ids = run.generate(x)
    assert [r["prediction"] for r in records] == [
        " ".join(run.state["labels"].decode(i)) for i in ids
    ]


@pytest.mark.parametrize(
    "name, text, spec_data, message",
    [
        (
            "no-label.csv",
            "text,mood\nthe film,good\n",
            "{format: csv}",
            "no-label.csv:1: the header has no column 'label'",
        ),
        ("empty.csv", "\n\n", "{format: csv}", "empty.csv: the file is empty"),
        (
            "broken.conllu",
            "1\tthe\tthe\tDET\t_\t_\t_\t_\t_\t_\n2 dog dog NOUN\n\n",
            "{format: conllu}",
            "broken.conllu:2: a token line has 1 TAB-separated fields",
        ),
    ],
)
def test_bad_data_is_a_clean_error_naming_file_and_line(
    tmp_path, capsys, name, text, spec_data, message
):
    (tmp_path / name).write_text(text)
    head = "tagger" if name.endswith("conllu") else "classifier"
    spec = _spec(tmp_path / "spec.yaml", head, spec_data)
    capsys.readouterr()
    assert cli.main(["train", str(spec), "--train", str(tmp_path / name)]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def test_non_numeric_value_names_the_line(tmp_path, capsys):
    _csv(tmp_path / "series.csv", ["load"], [[1.0], [2.0], ["n/a"], [3.0]])
    spec = _spec(
        tmp_path / "f.yaml",
        "forecaster",
        "{format: csv, lookback: 2}",
        inputs="{kind: features, dim: 1}",
    )
    assert cli.main(["train", str(spec), "--train", str(tmp_path / "series.csv")]) == 1
    assert "series.csv:4: field 'load': non-numeric value \"n/a\"" in capsys.readouterr().err


def test_missing_training_file_says_how_to_give_it(tmp_path, capsys):
    spec = _spec(tmp_path / "spec.yaml", "classifier", "{format: csv}")
    assert cli.main(["train", str(spec)]) == 1
    assert "--train FILE" in capsys.readouterr().err


def test_evaluate_rejects_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert cli.main(["evaluate", str(tmp_path), "--data", "x.csv"]) == 1
    assert "not a run folder" in capsys.readouterr().err


@pytest.mark.backend("torch")  # one backend is enough: the subprocess switches to jax
def test_backend_flag_runs_the_command_on_that_backend(tagger, tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "torch", "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [
        sys.executable,
        "-m",
        "keras_seq.cli",
        "-v",
        "train",
        str(tagger / "tagger.yaml"),
        "--epochs",
        "1",
        "--output",
        str(tmp_path / "run"),
        "--backend",
        "jax",
    ]
    done = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=pathlib.Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "keras backend: jax" in done.stderr
    assert done.stdout.splitlines()[-1].startswith(f"run saved to {tmp_path / 'run'}: ")


@pytest.mark.backend("torch")  # one backend is enough: the subprocess switches to jax
def test_backend_flag_keeps_errors_on_standard_error(tmp_path):
    """Without -v the command quietens the backends' start-up logs; the process it restarts
    on the other backend must still print its error (it once inherited a silenced stderr)."""
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    missing = tmp_path / "missing.yaml"
    command = [sys.executable, "-m", "keras_seq.cli", "train", str(missing), "--backend", "jax"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert str(missing) in done.stderr
