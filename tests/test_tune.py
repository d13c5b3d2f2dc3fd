"""`keras-seq tune`: trials are validated specs trained as `train` trains them; resume; best."""

import csv
import re

import numpy as np
import pytest
from test_streaming import tagged_jsonl

import keras_seq
from keras_seq import cli, pipeline

pytest.importorskip("keras_tuner")


def write_spec(folder, trials=2, extra=""):
    rng = np.random.default_rng(0)
    for split, count in (("train", 48), ("validation", 16)):
        tagged_jsonl(folder / f"{split}.jsonl", count, rng, words=12, longest=6)
    path = folder / "search.yaml"
    path.write_text(
        f"""\
seed: 3
input: {{kind: tokens, embedding_dim: 4}}
encoder: {{cell: gru, units: 4}}
head: {{type: tagger}}
training: {{batch_size: 16, epochs: 1, learning_rate: 0.05}}
data: {{format: jsonl, train: train.jsonl, validation: validation.jsonl}}
search:
  space:
    encoder.units: {{choice: [2, 4, 6]}}
    training.learning_rate: {{log_uniform: [0.01, 0.1]}}
  objective: val_loss
  budget: {{trials: {trials}}}
{extra}"""
    )
    return path


# keras-tuner's loop and the files are the same on every backend (train itself is tested on
# each): the searches run on one, to keep the suite fast.
@pytest.mark.backend("torch")
def test_search_writes_results_plot_and_a_best_spec_that_trains_to_its_score(tmp_path):
    spec = write_spec(tmp_path)
    code = cli.main(["tune", str(spec), "--output", str(tmp_path / "out")])
    assert code == 0
    rows = list(csv.DictReader(open(tmp_path / "out" / "results.csv", encoding="utf-8")))
    assert [row["status"] for row in rows] == ["COMPLETED", "COMPLETED"]
    assert {row["encoder.units"] for row in rows} <= {"2", "4", "6"}
    assert all(0.01 <= float(row["training.learning_rate"]) <= 0.1 for row in rows)
    assert (tmp_path / "out" / "search.png").stat().st_size > 0
    best_path = tmp_path / "out" / "best.yaml"
    text = best_path.read_text()
    assert text.startswith("# The best of 2 trials") and "# searched: choice [2, 4, 6]" in text
    best = keras_seq.load_spec(best_path)  # a valid spec, without the search
    assert best.search is None
    best_row = min(rows, key=lambda row: float(row["val_loss"]))
    assert best.encoder.units == int(best_row["encoder.units"])
    metrics = keras_seq.train(best_path, output=tmp_path / "again", verbose=0).metrics
    assert metrics["validation"]["loss"] == pytest.approx(float(best_row["val_loss"]), rel=1e-5)


@pytest.mark.backend("torch")
def test_an_interrupted_search_resumes_where_it_stopped(tmp_path, monkeypatch):
    spec = write_spec(tmp_path, trials=3)
    calls = []
    real_train = pipeline.train

    def interrupted(*args, **kwargs):
        calls.append(kwargs["output"])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_train(*args, **kwargs)

    monkeypatch.setattr(pipeline, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        keras_seq.tune(spec, tmp_path / "out")
    monkeypatch.setattr(
        pipeline, "train", lambda *a, **k: (calls.append(k["output"]), real_train(*a, **k))[1]
    )
    _, rows = keras_seq.tune(spec, tmp_path / "out")
    assert [row["status"] for row in rows] == ["COMPLETED"] * 3
    # Trial 1 kept; the interrupted trial 2 ran again, then trial 3: 2 more trainings.
    assert [path.name for path in calls] == ["0", "1", "1", "2"]


def test_a_bad_search_section_stops_before_any_trial(tmp_path, capsys):
    spec = write_spec(tmp_path, extra="  algorithm: grid\n")
    assert cli.main(["tune", str(spec), "--output", str(tmp_path / "out")]) == 1
    assert "search.algorithm" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_spec_without_search_is_a_spec_error(tmp_path):
    spec = tmp_path / "plain.yaml"
    spec.write_text("input: {kind: tokens}\nencoder: {cell: gru, units: 4}\nhead: {type: tagger}\n")
    with pytest.raises(keras_seq.SpecError, match="no search section"):
        keras_seq.tune(spec, tmp_path / "out")


@pytest.mark.backend("torch")
def test_a_rerun_with_another_search_section_is_refused_naming_both(tmp_path, capsys):
    spec = write_spec(tmp_path, trials=1)
    out = tmp_path / "out"
    assert cli.main(["tune", str(spec), "--output", str(out)]) == 0
    capsys.readouterr()
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    spec.write_text(spec.read_text().replace("choice: [2, 4, 6]", "choice: [8, 16]"))
    assert cli.main(["tune", str(spec), "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"search: {out} holds a search started with another search: section" in err
    assert '"choice": [2, 4, 6]' in err and '"choice": [8, 16]' in err  # both named
    assert "allowed: a new --output for the new search" in err
    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before


def forecaster_spec(folder, rates, trials):
    """A forecaster whose search tries the learning `rates` (with sgd, 1e30 diverges)."""
    (folder / "series.csv").write_text("y\n" + "".join(f"{i % 7}\n" for i in range(40)))
    path = folder / "f.yaml"
    path.write_text(
        "seed: 1\ninput: {kind: features, dim: 1, max_length: 4}\n"
        "encoder: {cell: gru, units: 4}\nhead: {type: forecaster}\n"
        "training: {optimizer: sgd, epochs: 1}\ndata: {format: csv, train: series.csv}\n"
        f"search:\n  space:\n    training.learning_rate: {{choice: {rates}}}\n"
        f"  objective: loss\n  budget: {{trials: {trials}}}\n"
    )
    return path


@pytest.mark.backend("torch")
def test_a_diverged_trial_is_recorded_as_failed_with_its_reason_and_the_search_goes_on(
    tmp_path, capsys, caplog
):
    spec = forecaster_spec(tmp_path, "[1.0e+30, 0.01]", trials=2)
    assert cli.main(["tune", str(spec), "--output", str(tmp_path / "out")]) == 0
    rows = list(csv.DictReader(open(tmp_path / "out" / "results.csv", encoding="utf-8")))
    by_rate = {float(row["training.learning_rate"]): row for row in rows}
    assert sorted(by_rate) == [0.01, 1e30]  # both values tried, each once
    assert by_rate[0.01]["status"] == "COMPLETED" and by_rate[0.01]["reason"] == ""
    failed = by_rate[1e30]
    assert failed["status"] == "FAILED" and failed["loss"] == ""
    assert re.match(r"diverged: the loss became (nan|inf) at epoch 1, step \d+", failed["reason"])
    assert "Traceback" not in failed["reason"]
    assert f"trial {failed['trial_id']} failed: {failed['reason']}" in caplog.text
    assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "out" / "trials" / failed["trial_id"]).exists()
    assert keras_seq.load_spec(tmp_path / "out" / "best.yaml").training.learning_rate == 0.01


@pytest.mark.backend("torch")
def test_a_search_whose_trials_all_diverge_ends_in_one_message_not_a_traceback(tmp_path, capsys):
    # Four failures in a row: keras-tuner alone stops with a RuntimeError after three.
    spec = forecaster_spec(tmp_path, "[1.0e+30, 2.0e+30, 3.0e+30, 4.0e+30]", trials=4)
    assert cli.main(["tune", str(spec), "--output", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "search: no trial finished" in err and "Traceback" not in err
    rows = list(csv.DictReader(open(tmp_path / "out" / "results.csv", encoding="utf-8")))
    assert [row["status"] for row in rows] == ["FAILED"] * 4
    assert all(re.match("diverged: the loss became (nan|inf)", row["reason"]) for row in rows)
    assert not (tmp_path / "out" / "best.yaml").exists()


@pytest.mark.backend("torch")
def test_a_trial_stopped_mid_training_continues_from_its_checkpoint_under_a_new_budget(
    tmp_path, monkeypatch
):
    from keras_seq import checkpoint

    spec = write_spec(tmp_path, trials=2)
    spec.write_text(spec.read_text().replace("epochs: 1", "epochs: 2"))
    real_save, saves = checkpoint.save, []

    def stopping_save(folder, *args, **kwargs):
        real_save(folder, *args, **kwargs)
        saves.append(folder.parent)
        if len(saves) == 3:  # trial 1, after its first epoch's checkpoint: SIGTERM
            raise SystemExit(143)

    monkeypatch.setattr(checkpoint, "save", stopping_save)
    with pytest.raises(SystemExit):
        keras_seq.tune(spec, tmp_path / "out")
    trial = tmp_path / "out" / "trials" / "1"
    assert (trial / "checkpoint" / "progress.json").is_file()  # kept, resumable
    monkeypatch.setattr(checkpoint, "save", real_save)
    trained, resumed = [], []
    real_train, real_resume = pipeline.train, pipeline.resume
    monkeypatch.setattr(
        pipeline, "train", lambda *a, **k: (trained.append(k), real_train(*a, **k))[1]
    )
    monkeypatch.setattr(
        pipeline, "resume", lambda f, **k: (resumed.append(f), real_resume(f, **k))[1]
    )
    spec.write_text(spec.read_text().replace("trials: 2", "trials: 3"))  # a larger budget
    _, rows = keras_seq.tune(spec, tmp_path / "out")
    assert [row["status"] for row in rows] == ["COMPLETED"] * 3
    assert resumed == [trial] and [k["output"].name for k in trained] == ["2"]
    # The continued trial scores what the same values trained without a stop score.
    values = {key: rows[1][key] for key in ("encoder.units", "training.learning_rate")}
    plain = keras_seq.load_spec(spec).to_dict()
    plain.pop("search")
    plain["encoder"]["units"] = values["encoder.units"]
    plain["training"]["learning_rate"] = values["training.learning_rate"]
    again = real_train(plain, output=tmp_path / "again", verbose=0).metrics
    assert rows[1]["val_loss"] == pytest.approx(again["validation"]["loss"], rel=1e-5)
