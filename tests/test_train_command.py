"""`keras-seq train` end to end: --set, --dry-run, --epochs, NaN stop, taken and default
run folders, SIGTERM, the report, and `init` output that trains as is."""

import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from keras_seq import cli, record, runs

ROOT = pathlib.Path(__file__).parent.parent


@pytest.fixture
def spec(tmp_path):
    words = {"pos": "good fine nice", "neg": "bad awful poor"}
    labels = ["pos", "neg"] * 12
    rows = ["text,label"] + [f"{words[y]} thing {i % 3},{y}" for i, y in enumerate(labels)]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "test.csv").write_text("\n".join(rows[:9]) + "\n")
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: tiny\nseed: 1\ninput: {kind: tokens, embedding_dim: 4}\n"
        "encoder: {cell: gru, units: 4}\nhead: {type: classifier}\n"
        "training: {epochs: 2, batch_size: 8}\n"
        "data: {format: csv, train: train.csv, test: test.csv}\n"
    )
    return path


def test_set_overrides_are_validated_and_recorded(spec, tmp_path, capsys):
    out = tmp_path / "run"
    argv = [
        "train",
        str(spec),
        "--output",
        str(out),
        "--set",
        "encoder.units=6",
        "--set",
        "training.learning_rate=3e-3",
        "--epochs",
        "1",
    ]
    assert cli.main(argv) == 0
    saved = yaml.safe_load((out / "spec.yaml").read_text())
    assert saved["encoder"]["units"] == 6 and saved["training"]["learning_rate"] == 0.003
    assert saved["training"]["epochs"] == 1
    made, summary = capsys.readouterr().out.strip().splitlines()[-2:]
    assert re.search(r"run saved to .*: test accuracy \d\.\d{3}, .*loss \d\.\d{3}$", summary)
    # The report is in the run, with the data and the metrics it printed; the line before
    # the summary is the run's record.
    page = (out / "report.html").read_text()
    metrics = json.loads((out / "metrics.json").read_text())
    assert made == record.line(metrics["run"]) and made.startswith("trained on ")
    assert f"{metrics['test']['accuracy']:.3f}" in page
    assert "<tr><td>examples</td><td>24</td><td>8</td></tr>" in page


def test_bad_set_names_its_argument_and_writes_nothing(spec, tmp_path, capsys):
    out = tmp_path / "run"
    argv = [
        "train",
        str(spec),
        "--output",
        str(out),
        "--set",
        "encoder.units=0",
        "--set",
        "encoder.unitz=3",
        "--set",
        "novalue",
    ]
    assert cli.main(argv) == 1
    assert "--set novalue: (top level): expected FIELD=VALUE" in capsys.readouterr().err
    assert cli.main(argv[:-2]) == 1
    err = capsys.readouterr().err
    assert "encoder.units: 0 is out of range (from --set encoder.units=0)" in err
    assert "unknown field 'unitz' (from --set encoder.unitz=3)" in err
    assert not out.exists() and list(tmp_path.glob(".*")) == []


def test_dry_run_checks_everything_and_writes_nothing(spec, tmp_path, capsys):
    assert cli.main(["train", str(spec), "--dry-run", "--output", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "train: examples 24, tokens 120" in out and "test: examples 8" in out
    assert re.search(r"parameters: [\d,]+", out) and "Total params" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml", "test.csv", "train.csv"]
    (tmp_path / "test.csv").write_text("text,label\nfine\n")  # a bad test file fails the dry run
    assert cli.main(["train", str(spec), "--dry-run"]) == 1
    assert "test.csv:2: the row has 1 fields" in capsys.readouterr().err


@pytest.mark.parametrize("epochs", ["0", "-1", "two"])
def test_epochs_must_be_at_least_one(spec, epochs, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["train", str(spec), "--epochs", epochs])
    assert stop.value.code == 2 and "must be a whole number >= 1" in capsys.readouterr().err


def test_taken_output_is_refused_before_the_data_is_read(spec, tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "train.csv").unlink()  # reading the data would fail differently
    assert cli.main(["train", str(spec), "--output", str(tmp_path / "run")]) == 1
    assert "already exists: choose another --output" in capsys.readouterr().err


def test_default_run_folders_never_collide(tmp_path):
    base = tmp_path / "runs" / "m-20260101-000000"
    folders = [runs.RunFolder(base, unique=True) for _ in range(3)]
    for folder in folders:
        folder.__enter__()
    assert [f.path.name for f in folders] == [base.name, f"{base.name}-2", f"{base.name}-3"]
    for folder in folders:
        folder.__exit__(None, None, None)
    assert sorted(p.name for p in base.parent.iterdir()) == sorted(f.path.name for f in folders)


def test_nan_loss_stops_with_a_non_zero_exit_and_no_folder(tmp_path, capsys):
    (tmp_path / "series.csv").write_text("y\n" + "".join(f"{i % 7}\n" for i in range(40)))
    spec = tmp_path / "f.yaml"
    spec.write_text(
        "input: {kind: features, dim: 1, max_length: 4}\nencoder: {cell: gru, units: 4}\n"
        "head: {type: forecaster}\ntraining: {optimizer: sgd, learning_rate: 1.0e+30}\n"
        "data: {format: csv, train: series.csv}\n"
    )
    out = tmp_path / "run"
    assert cli.main(["train", str(spec), "--output", str(out)]) == 3
    err = capsys.readouterr().err
    assert re.search(r"the loss became (nan|inf) at epoch 1, step \d+", err)
    assert "learning_rate (now 1e+30)" in err
    assert not out.exists() and list(tmp_path.glob(".*")) == []


@pytest.mark.backend("torch")  # the CLI's signal handling is the same on every backend
def test_sigterm_ends_with_one_line_and_leaves_a_resumable_folder(spec, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "keras_seq.cli",
            "train",
            str(spec),
            "--output",
            str(out),
            "--epochs",
            "100000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.time() + 240
    while not list(tmp_path.glob(".run.*.partial/checkpoint/progress.json")):
        assert time.time() < deadline and process.poll() is None
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM
    assert err.strip() == (
        f"keras-seq train: terminated; {out} holds the last epoch's checkpoint: "
        f"keras-seq train --resume {out}"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "s.yaml", "test.csv", "train.csv"]
    assert [p.name for p in out.iterdir()] == ["checkpoint"]  # resumable, nothing hidden


@pytest.mark.backend("jax")
def test_a_spec_from_init_trains_as_is(tmp_path, capsys):
    data = ROOT / "keras_seq" / "datasets" / "classifier-train.csv"
    spec = tmp_path / "starter.yaml"
    assert cli.main(["init", str(data), "--output", str(spec)]) == 0
    out = tmp_path / "run"
    argv = [
        "train",
        str(spec),
        "--output",
        str(out),
        "--epochs",
        "1",
        "--set",
        "encoder.units=4",
        "--set",
        "input.embedding_dim=4",
    ]
    assert cli.main(argv) == 0
    assert (out / "model.keras").is_file() and (out / "report.html").is_file()


def test_output_under_a_file_and_missing_train_file_are_clear_errors(spec, tmp_path, capsys):
    argv = ["train", str(spec), "--output", str(spec / "run")]
    assert cli.main(argv) == 1
    assert capsys.readouterr().err.strip() == (
        f"keras-seq train: cannot create {spec / 'run'}: a parent is a file"
    )
    assert cli.main(["train", str(spec), "--train", str(tmp_path / "nope.csv"), "--dry-run"]) == 1
    assert "file not found. Fix: check the path given in --train" in capsys.readouterr().err


@pytest.mark.parametrize("split", ["train", "test"])
def test_a_spec_file_naming_a_missing_data_file_names_the_field(split, tmp_path, capsys):
    """The bundled tagger spec copied elsewhere: its relative data paths no longer exist."""
    copied = tmp_path / "tagger.yaml"
    text = (ROOT / "specs" / "tagger.yaml").read_text()
    data = ROOT / "keras_seq" / "datasets"
    other = "test" if split == "train" else "train"
    text = text.replace(f"../keras_seq/datasets/tagger-{other}", str(data / f"tagger-{other}"))
    text = text.replace("../keras_seq/datasets/tagger-validation", str(data / "tagger-validation"))
    copied.write_text(text)
    assert cli.main(["train", str(copied), "--output", str(tmp_path / "run")]) == 1
    missing = (tmp_path.parent / "keras_seq" / "datasets" / f"tagger-{split}.conllu").resolve()
    assert capsys.readouterr().err.strip() == (
        f"{missing}: file not found. Fix: check the path given in data.{split} in the spec "
        "(a relative path starts at its folder)"
    )
    assert not (tmp_path / "run").exists()


def _weights(path):
    import keras

    import keras_seq.layers  # noqa: F401

    return keras.saving.load_model(path / "model.keras").get_weights()


@pytest.mark.parametrize("averaged", [[], ["--set", "training.ema_momentum=0.6"]])
def test_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(
    spec, tmp_path, monkeypatch, capsys, averaged
):
    from keras_seq import training

    # Every source of randomness in training: the batch order, and dropout on the recurrent
    # state (the encoder's seed generator) and before the head (the head's). A learning rate
    # set per epoch. And early stopping's patience count: no epoch after the first improves by
    # min_delta, so it stops after epoch 3 of 4, counting epochs 2 and 3 (a resume that forgot
    # epoch 2 would go on). With `ema_momentum`, the weights' average (optimizer state) too.
    dropout = [
        *averaged,
        "--set",
        "encoder.recurrent_dropout=0.2",
        "--set",
        "head.dropout=0.25",
        "--set",
        "training.epochs=4",
        "--set",
        "training.early_stopping={monitor: loss, patience: 2, min_delta: 100}",
        "--set",
        "training.schedule={type: step, step_size: 1, gamma: 0.5}",
    ]
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    assert cli.main(["train", str(spec), "--output", str(whole), *dropout]) == 0

    save = training.EpochCheckpoint.on_epoch_end

    def crash_after_two_epochs(self, epoch, logs=None):
        save(self, epoch, logs)
        if epoch + 1 == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(training.EpochCheckpoint, "on_epoch_end", crash_after_two_epochs)
    assert cli.main(["train", str(spec), "--output", str(broken), *dropout]) == 130
    err = capsys.readouterr().err
    assert f"keras-seq train: interrupted; {broken} holds the last epoch's checkpoint" in err
    assert sorted(p.name for p in broken.iterdir()) == ["checkpoint"]
    assert not list(tmp_path.glob(".*"))  # nothing hidden left behind
    progress = json.loads((broken / "checkpoint" / "progress.json").read_text())
    assert progress["epoch"] == 2 and len(progress["random_state"]) == 2
    monkeypatch.setattr(training.EpochCheckpoint, "on_epoch_end", save)

    assert cli.main(["train", "--resume", str(broken)]) == 0
    assert not (broken / "checkpoint").exists() and (broken / "report.html").is_file()
    history, resumed = runs.read_history(whole), runs.read_history(broken)
    assert history["epoch"] == resumed["epoch"] == [1, 2, 3] and list(history) == list(resumed)
    timing = ("seconds", "examples_per_second")  # the clock's, not the model's
    for name in history:
        if name in timing:
            assert min(history[name] + resumed[name]) > 0
        else:
            np.testing.assert_allclose(history[name], resumed[name], rtol=1e-6)
    for a, b in zip(_weights(whole), _weights(broken)):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)


def _interrupted_after_one_epoch(spec, folder, monkeypatch):
    from keras_seq import training

    save = training.EpochCheckpoint.on_epoch_end

    def crash_after_one_epoch(self, epoch, logs=None):
        save(self, epoch, logs)
        raise KeyboardInterrupt

    monkeypatch.setattr(training.EpochCheckpoint, "on_epoch_end", crash_after_one_epoch)
    assert cli.main(["train", str(spec), "--output", str(folder)]) == 130
    monkeypatch.setattr(training.EpochCheckpoint, "on_epoch_end", save)


def test_resume_refuses_options_it_cannot_apply_and_applies_epochs(
    spec, tmp_path, monkeypatch, capsys, caplog
):
    broken = tmp_path / "broken"
    _interrupted_after_one_epoch(spec, broken, monkeypatch)
    capsys.readouterr()
    progress = broken / "checkpoint" / "progress.json"
    before = progress.read_bytes()
    argv = ["train", "--resume", str(broken), "--set", "encoder.units=16", "--epochs", "3"]
    assert cli.main(argv) == 2
    assert capsys.readouterr().err.strip() == (
        "keras-seq train: --set cannot be used with --resume: a resumed run keeps the spec, "
        "data and folder of its checkpoint. Fix: drop them (--epochs N may change the number "
        "of epochs), or start a new run: keras-seq train SPEC"
    )
    assert progress.read_bytes() == before  # nothing trained
    assert cli.main(["train", "--resume", str(broken), "--epochs", "1"]) == 1
    assert "training.epochs: the run has already done 1 epochs" in capsys.readouterr().err
    assert progress.read_bytes() == before

    assert cli.main(["train", "--resume", str(broken), "--epochs", "3"]) == 0
    assert "resumed with training.epochs 3 (was 2)" in caplog.text
    assert runs.read_history(broken)["epoch"] == [1, 2, 3]
    assert yaml.safe_load((broken / "spec.yaml").read_text())["training"]["epochs"] == 3


def test_resume_on_another_backend_warns_that_weights_differ(spec, tmp_path, monkeypatch, caplog):
    import keras

    broken = tmp_path / "broken"
    _interrupted_after_one_epoch(spec, broken, monkeypatch)
    progress_file = broken / "checkpoint" / "progress.json"
    progress = json.loads(progress_file.read_text())
    assert progress["backend"] == keras.backend.backend()
    other = next(b for b in ("jax", "torch") if b != keras.backend.backend())
    progress_file.write_text(json.dumps({**progress, "backend": other}))
    assert cli.main(["train", "--resume", str(broken)]) == 0
    assert (
        f"resuming on {keras.backend.backend()} a run trained on {other}: it continues, but its "
        "weights will not be bit-identical to an uninterrupted run's" in caplog.text
    )


def test_resume_of_a_folder_without_a_checkpoint_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["train", "--resume", str(tmp_path)]) == 1
    assert "not a resumable run folder" in capsys.readouterr().err
    assert cli.main(["train"]) == 2
    progress = tmp_path / "run" / "checkpoint" / "progress.json"
    progress.parent.mkdir(parents=True)
    for damaged in ('{"epoch": 2', '{"epoch": 2, "history": {}}'):
        progress.write_text(damaged)
        assert cli.main(["train", "--resume", str(tmp_path / "run")]) == 1
        assert "progress.json: not a checkpoint's progress file" in capsys.readouterr().err
        assert progress.read_text() == damaged  # the folder is left as it was
        assert [p.name for p in tmp_path.iterdir()] == ["run"]  # nothing hidden beside it


def test_resume_on_a_read_only_disk_names_the_run_folder_not_the_partial_one(tmp_path, monkeypatch):
    import errno
    import tempfile

    run = tmp_path / "run"
    (run / runs.CHECKPOINT).mkdir(parents=True)
    (run / runs.CHECKPOINT / runs.PROGRESS).write_text("{}")
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))

    def read_only(prefix, suffix, dir):
        partial = f"{dir}/{prefix}abc{suffix}"
        raise OSError(errno.EROFS, "Read-only file system", partial)

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    with pytest.raises(OSError) as caught:
        with runs.RunFolder(run, resume=True):
            pass
    message = cli._os_error_message(caught.value)  # as `keras-seq train --resume` prints it
    assert message == (
        f"cannot resume {run}: Read-only file system in {tmp_path}, where the run is "
        "continued. Fix: make it writable, or copy the run folder to a writable disk and "
        "resume the copy"
    )
    assert ".partial" not in message
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before
