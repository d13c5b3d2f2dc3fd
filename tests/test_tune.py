"""`keras-seq tune`: trials are validated specs trained as `train` trains them; resume; best."""

import csv

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
