import glob
import os

import numpy as np
import pytest

import keras_seq
from keras_seq import cli, portability

SPECS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "specs", "*.yaml")))


def _report(gradient_difference):
    differences = {quantity: {"jax": 0.0, "torch": 0.0} for quantity in portability.TOLERANCES}
    differences["gradients"]["torch"] = gradient_difference
    differences["loss"] = {"jax": None, "torch": None}
    return portability.BackendReport("tensorflow", differences, dict(portability.TOLERANCES),
                                     {"jax": "not installed"}, ["a note"])


def test_report_table_and_verdict():
    report = _report(2e-6)
    assert report.passed
    lines = str(report).splitlines()
    assert lines[0].split() == ["max", "abs", "difference", "jax", "vs", "tensorflow", "torch",
                                "vs", "tensorflow", "tolerance"]
    assert lines[2].split() == ["initial", "weights", "0.00e+00", "0.00e+00", "0e+00"]
    assert lines[5].split() == ["gradients", "0.00e+00", "2.00e-06", "1e-05"]
    assert lines[4].split()[1:3] == ["n/a", "n/a"]
    assert "skipped jax: not installed" in lines
    assert lines[-1] == "PASSED"
    failing = _report(2e-5)
    assert not failing.passed
    assert "1e-05  FAIL" in str(failing)
    assert str(failing).endswith("FAILED: differences beyond tolerance")


def test_missing_backends_are_skipped_not_crashed_on():
    with pytest.raises(RuntimeError, match=r"None of the backends \['no_such_backend'\]"):
        portability.check_backends(SPECS[0], backends=("no_such_backend",))


def test_dropout_is_switched_off_everywhere():
    spec = keras_seq.load_spec("""
input: {kind: features, dim: 2}
encoder: {cell: lstm, units: 4, layers: 2, dropout: 0.5, recurrent_dropout: 0.25}
head: {type: tagger, classes: 3, dropout: 0.3}
""")
    quiet = portability._without_dropout(spec)
    assert (quiet.encoder.dropout, quiet.encoder.recurrent_dropout, quiet.head.dropout) == (0, 0, 0)
    assert quiet.encoder.units == 4 and quiet.head.classes == 3


def test_fixed_batch_is_padded_and_repeatable():
    spec = keras_seq.builder.resolve("""
input: {kind: tokens, max_length: 6}
encoder: {cell: gru, units: 4}
head: {type: classifier}
""", vocab_size=20, classes=3)
    model = keras_seq.build(spec)
    x, y = portability._batch(spec, model, 4)
    again, _ = portability._batch(spec, model, 4)
    np.testing.assert_array_equal(x, again)
    assert x.shape == (4, 6) and y.shape == (4,)
    assert (x > 0).sum(axis=1).tolist() == [6, 5, 3, 2]  # post-padded, lengths varied
    assert x.max() < 20 and y.max() < 3


@pytest.mark.slow
@pytest.mark.backend("jax")  # it spawns all three backends itself; once is enough
@pytest.mark.parametrize("spec", [os.path.basename(s) for s in SPECS])
def test_every_example_spec_gives_the_same_numbers_on_every_backend(spec, capsys):
    path = os.path.join(os.path.dirname(SPECS[0]), spec)
    assert cli.main(["check-backends", path]) == 0, capsys.readouterr().out
    table = capsys.readouterr().out
    assert table.splitlines()[2].split()[2:4] == ["0.00e+00", "0.00e+00"]  # identical init
