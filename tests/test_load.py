"""`keras_seq.load`: a run trained on this backend predicts the same on another, in a fresh
process with only `import keras_seq`, for every task; 0.1 run folders still load."""

import json

import numpy as np
import pytest
import small_runs
from other_backend import run_on_next_backend

import keras_seq
from keras_seq import cli
from keras_seq.data import DataError

SENTENCE = small_runs.SENTENCE


@pytest.fixture(scope="module")
def runs(small_runs):
    """`{task: (run folder, raw inputs)}`: the session's small trained runs."""
    return small_runs


@pytest.mark.slow
def test_a_run_predicts_the_same_on_another_backend_in_a_fresh_process(runs):
    script = """
        import json, sys
        import keras_seq
        jobs = json.loads(sys.argv[1])
        print(json.dumps({name: keras_seq.load(run).predict(inputs)
                          for name, (run, inputs) in jobs.items()}))
        """
    jobs = {name: (str(run), inputs) for name, (run, inputs) in runs.items()}
    elsewhere = run_on_next_backend(script, json.dumps(jobs))
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
    with pytest.raises(DataError, match="not a .keras model file"):
        keras_seq.load(tmp_path)
    with pytest.raises(DataError, match="no such .keras file"):
        keras_seq.load(tmp_path / "missing.keras")
