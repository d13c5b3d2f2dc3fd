import glob
import importlib.util
import os

import numpy as np
import pytest

import keras_seq
from keras_seq import cli, portability
from keras_seq.portability import runner, worker

SPECS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "specs", "*.yaml")))
SMALL = """
name: small
input: {kind: features, dim: 2, max_length: 5}
encoder: {cell: gru, units: 3}
head: {type: forecaster}
"""


def _section(gradient_difference, errors=None):
    differences = {quantity: {"jax": 0.0, "torch": 0.0} for quantity in portability.TOLERANCES}
    differences["gradients"]["torch"] = gradient_difference
    differences["loss"] = {"jax": None, "torch": None}
    return portability.SpecComparison(differences, errors or {})


def _report(**sections):
    return portability.BackendReport(
        "tensorflow", sections, dict(portability.TOLERANCES), {"jax": "not installed"}, ["a note"]
    )


def test_report_table_and_verdict():
    report = _report(a=_section(2e-6))
    assert report.passed
    lines = str(report).splitlines()
    assert lines[0] == "== a"
    assert (
        lines[1].split()
        == "max abs difference jax vs tensorflow torch vs tensorflow tolerance".split()
    )
    assert lines[3].split() == ["initial", "weights", "0.00e+00", "0.00e+00", "0e+00"]
    assert lines[4].split() == ["outputs", "0.00e+00", "0.00e+00", "1e-05"]
    assert lines[5].split() == ["loss", "n/a", "n/a", "1e-05"]
    assert lines[6].split() == ["gradients", "0.00e+00", "2.00e-06", "1e-05"]
    assert lines[9:] == ["passed", "", "skipped jax: not installed", "a note", "PASSED"]


def test_one_failing_spec_fails_the_report_and_is_named():
    report = _report(
        good=_section(1e-5), bad=_section(2e-5), broken=_section(0.0, {"torch": "ValueError: no"})
    )
    assert not report.passed
    assert [report.spec_passed(s) for s in ("good", "bad", "broken")] == [True, False, False]
    text = str(report)
    assert "1e-05  FAIL" in text
    assert "torch failed: ValueError: no" in text
    assert text.endswith("FAILED: bad, broken")


def _fake_processes(results, calls):
    """Stands in for the backend processes: writes what each would have computed."""

    def run(running, workdir, timeout):
        calls.append(running)
        for backend in running:
            for index, arrays in enumerate(results[backend]):
                stem = os.path.join(workdir, f"{backend}-{index}")
                if isinstance(arrays, str):
                    with open(stem + ".error", "w") as file:
                        file.write(arrays)
                else:
                    np.savez(stem + ".npz", **arrays)

    return run


def test_differences_from_results_with_a_missing_backend_skipped(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "torch" else real_find_spec(name, *a),
    )
    base = {
        "initial weights/0": np.zeros(3),
        "outputs/0": np.ones((2, 2)),
        "gradients/0": np.ones(3),
        "gradients/1": np.ones(2),
    }
    other = {**base, "gradients/1": np.array([1.0, 1.0 + 3e-6])}
    calls = []
    monkeypatch.setattr(
        runner,
        "_run_processes",
        _fake_processes(
            {"tensorflow": [base, base], "jax": [other, "Traceback ... KeyError: 'x'"]}, calls
        ),
    )
    report = keras_seq.check_backends([SMALL, SMALL], batch_size=2, steps=1)
    assert calls == [["tensorflow", "jax"]]  # one run for both specs
    assert report.reference == "tensorflow"
    assert report.skipped == {"torch": "not installed"}
    assert list(report.sections) == ["small", "small (2)"]
    first = report.sections["small"].differences
    assert list(first) == list(portability.TOLERANCES)
    assert first["gradients"]["jax"] == pytest.approx(3e-6, rel=1e-6)
    assert first["outputs"] == {"jax": 0.0} and first["loss"] == {"jax": None}
    assert report.spec_passed("small")
    assert report.sections["small (2)"].errors == {"jax": "Traceback ... KeyError: 'x'"}
    assert not report.passed
    assert "skipped torch: not installed" in str(report)
    assert "batch: 2 sequences, 1 training steps; dropout off" in str(report)


def test_no_backend_installed(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(RuntimeError, match=r"None of the backends \['tensorflow', 'jax'\]"):
        portability.check_backends(SMALL, backends=("tensorflow", "jax"))


def test_bad_spec_fails_once_before_any_process(monkeypatch):
    def no_processes(*args):
        raise AssertionError("a backend process started")

    monkeypatch.setattr(runner, "_run_processes", no_processes)
    with pytest.raises(keras_seq.SpecError, match="units"):
        keras_seq.check_backends([SMALL, SMALL.replace("units: 3", "units: three")])
    with pytest.raises(ValueError, match="one weights path"):
        keras_seq.check_backends([SMALL, SMALL], weights="model.weights.h5")
    assert cli.main(["check-backends", SPECS[0], SPECS[1], "--weights", "w.weights.h5"]) == 1


@pytest.mark.parametrize("seed", [None, 3])
def test_initial_weights_are_compared_only_for_a_seeded_spec(tmp_path, seed):
    path = tmp_path / "spec.yaml"
    path.write_text(SMALL + f"seed: {'null' if seed is None else seed}\n")
    started = []
    results = worker._run_spec(str(path), started.append, batch_size=2, steps=0)
    assert len(started) == 1
    initial = [k for k in results if k.startswith("initial weights/")]
    assert len(initial) == (0 if seed is None else 6)  # GRU 4, Dense 2
    assert results["outputs/0"].shape == (2, 1, 1) and results["loss/0"].shape == ()
    assert len([k for k in results if k.startswith("gradients/")]) == 6


def test_dropout_is_switched_off_everywhere():
    spec = keras_seq.load_spec("""
input: {kind: features, dim: 2}
encoder: {cell: lstm, units: 4, layers: 2, dropout: 0.5, recurrent_dropout: 0.25}
head: {type: tagger, classes: 3, dropout: 0.3}
""")
    quiet = worker._without_dropout(spec)
    assert (quiet.encoder.dropout, quiet.encoder.recurrent_dropout, quiet.head.dropout) == (0, 0, 0)
    assert quiet.encoder.units == 4 and quiet.head.classes == 3


def test_word_dropout_is_switched_off_too():
    # Its masks come from each backend's generator: left on, a spec with word_dropout (the
    # shipped wnut17.yaml) trained to numbers 1e-2 apart.
    spec = keras_seq.load_spec("""
input: {kind: tokens, word_dropout: 0.2}
encoder: {cell: lstm, units: 4}
head: {type: tagger, classes: 3}
""")
    assert worker._without_dropout(spec).input.word_dropout == 0


def test_fixed_batch_is_padded_and_repeatable():
    from keras_seq.tasks.building import resolved_task

    task = resolved_task(
        """
input: {kind: tokens, max_length: 6}
encoder: {cell: gru, units: 4}
head: {type: classifier}
""",
        vocab_size=20,
        classes=3,
    )
    model = task.build_model()
    x, y = worker._batch(task, model, 4)
    again, _ = worker._batch(task, model, 4)
    np.testing.assert_array_equal(x, again)
    assert x.shape == (4, 6) and y.shape == (4,)
    assert (x > 0).sum(axis=1).tolist() == [6, 5, 3, 2]  # post-padded, lengths varied
    assert x.max() < 20 and y.max() < 3


CHARS = """
seed: 3
input: {{kind: tokens, max_length: 7, embedding_dim: 4, shape_features: true,
        chars: {{encoder: {encoder}, units: 3, embedding_dim: 4, max_word_length: 5}}}}
encoder: {{cell: gru, units: 3}}
head: {head}
"""
SERIES = """
seed: 3
input: {kind: features, dim: 4, series_embedding: 2}
encoder: {cell: gru, units: 4}
head: {type: forecaster, horizon: 2, quantiles: [0.1, 0.5, 0.9]}
data: {format: csv, time_column: date, series_id_column: region, target_columns: [load],
       future_covariates: [holiday], calendar: [weekday], lookback: 4, train: series.csv}
"""
VECTORS = """
seed: 3
input: {kind: tokens, max_length: 6, embedding_dim: 3, vectors: {path: vectors.txt, trainable: %s}}
encoder: {cell: gru, units: 3}
head: {type: classifier}
"""


def _series_spec(folder):
    rows = ["region,date,load,holiday"] + [
        f"{region},2024-01-{day:02d},{100 + 7 * day % 13 + 50 * r},{int(day % 7 == 0)}"
        for r, region in enumerate(("north", "south", "east"))
        for day in range(1, 15)
    ]
    (folder / "series.csv").write_text("\n".join(rows) + "\n")
    (folder / "series.yaml").write_text(SERIES)
    return str(folder / "series.yaml")


def _vectors_spec(folder, trainable):
    (folder / "vectors.txt").write_text("the 0.1 0.2 0.3\ndog 0.4 0.5 0.6\n")
    path = folder / f"vectors-{trainable}.yaml"
    path.write_text(VECTORS % trainable)
    return str(path)


def _fixed_batch(source, **sizes):
    from keras_seq.tasks.building import resolved_task

    task = resolved_task(source, **sizes)
    return worker._batch(task, task.build_model(), 4)


def test_fixed_batch_gives_each_real_word_its_characters_and_shapes():
    spec = CHARS.format(encoder="cnn", head="{type: tagger}")
    x, y = _fixed_batch(spec, **worker._AUTO_SIZES)
    again, _ = _fixed_batch(spec, **worker._AUTO_SIZES)
    np.testing.assert_array_equal(x["chars"], again["chars"])
    tokens, chars = x["tokens"], x["chars"]
    assert (tokens > 0).sum(axis=1).tolist() == [7, 5, 4, 2] and y.shape == (4, 7)
    assert chars.shape == (4, 7, 5) and chars.dtype == "int32"  # max_word_length 5 < 6
    lengths = (chars > 0).sum(axis=-1)
    assert ((lengths > 0) == (tokens > 0)).all()  # padding words have no characters
    assert lengths[tokens > 0].min() >= 1 and chars.max() < 30
    post_padded = np.arange(5) < lengths[..., None]
    np.testing.assert_array_equal(chars > 0, post_padded)
    shapes = x["shapes"]  # input.shape_features: 0 / 1 per feature, 0 for padded words
    assert shapes.shape == (4, 7, 9) and shapes.dtype == "float32"
    assert set(np.unique(shapes[tokens > 0])) == {0.0, 1.0} and not shapes[tokens == 0].any()


def test_fixed_batch_of_a_time_series_forecaster(tmp_path):
    x, y = _fixed_batch(_series_spec(tmp_path))
    features, future, series = x  # the model's inputs, in its order
    assert features.shape == (4, 4, 4) and future.shape == (4, 2, 3)
    assert series.shape == (4, 1) and series.dtype == "int32"
    assert 0 <= series.min() and series.max() <= 3  # 3 series and the unseen row
    assert y.shape == (4, 2, 1)  # the targets have no quantile axis


@pytest.mark.parametrize("trainable", ["false", "true"])
def test_pretrained_vectors_are_not_read_and_keep_their_trainability(tmp_path, trainable):
    path = _vectors_spec(tmp_path, trainable)
    (tmp_path / "vectors.txt").write_text("not a vectors file\n")  # the check never reads it
    results = worker._run_spec(path, lambda model: None, batch_size=2, steps=1)
    moved = results["weights after training/0"] - results["initial weights/0"]
    gradients = [k for k in results if k.startswith("gradients/")]
    if trainable == "true":
        assert np.abs(moved).max() > 0 and len(gradients) == 7  # embedding, GRU 4, Dense 2
    else:
        assert not moved.any() and len(gradients) == 6


# Example specs whose check takes long on 2 cores (co2, load: windows of 28-52 steps into a
# 32-unit stack and decoder; ud-tagger-chars: 64 steps of a 64-unit BiLSTM): small stand-ins
# with the same kinds of inputs are checked instead. All three pass `keras-seq check-backends`.
SLOW_TO_CHECK = ("co2.yaml", "load.yaml", "ud-tagger-chars.yaml")


def _stand_ins(folder):
    """Small specs for what SLOW_TO_CHECK brings: character inputs and word shapes (a cnn
    classifier, an rnn tagger decoded by a CRF), and a time-series forecaster with a series
    embedding, future covariates and quantiles."""
    heads = {"cnn": "{type: classifier, pooling: max}", "rnn": "{type: tagger, decoder: crf}"}
    for encoder, head in heads.items():
        (folder / f"chars-{encoder}.yaml").write_text(CHARS.format(encoder=encoder, head=head))
    return [str(folder / "chars-cnn.yaml"), str(folder / "chars-rnn.yaml"), _series_spec(folder)]


@pytest.mark.slow
@pytest.mark.backend("jax")  # it starts all three backends itself; once is enough
def test_every_example_spec_gives_the_same_numbers_on_every_backend(tmp_path, capsys):
    specs = [path for path in SPECS if os.path.basename(path) not in SLOW_TO_CHECK]
    specs += _stand_ins(tmp_path)
    status = cli.main(["check-backends", *specs])
    out = capsys.readouterr().out
    assert status == 0, out
    sections = out.split("== ")[1:]
    assert [s.splitlines()[0] for s in sections] == specs
    for section in sections:
        lines = section.splitlines()
        assert lines[1].split()[3:] == "jax vs tensorflow torch vs tensorflow tolerance".split()
        rows = [line.rsplit(None, 3) for line in lines[3:9]]
        assert [row[0] for row in rows] == list(portability.TOLERANCES)
        assert rows[0][1:3] == ["0.00e+00", "0.00e+00"]  # identical initial weights
        assert not any("n/a" in row for row in lines[3:9])  # seed, loss, training: all apply
        assert lines[9] == "passed"
    assert out.rstrip().endswith("PASSED")


def test_a_crf_tagger_compares_loss_and_gradients(tmp_path):
    # Its model compiles no loss (the CRF layer supplies it): still checked like any trained one.
    path = tmp_path / "spec.yaml"
    path.write_text(
        "input: {kind: tokens, vocab_size: 9, embedding_dim: 2}\n"
        "encoder: {cell: gru, units: 3}\nhead: {type: tagger, classes: 3, output: crf}\n"
    )
    results = worker._run_spec(str(path), lambda model: None, batch_size=2, steps=0)
    assert results["loss/0"].shape == () and np.isfinite(results["loss/0"])
    gradients = [k for k in results if k.startswith("gradients/")]
    assert len(gradients) == 10  # embedding 1, GRU 4, Dense 2, CRF 3 (transitions, start, end)
