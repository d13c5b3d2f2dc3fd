"""Every registered task class (`task_classes()`) passes the shared task checks
(tests/task_checks.py), mixed-precision step included. A new task class without an example
here fails `test_every_task_has_an_example`."""

import numpy as np
import pytest
from task_checks import check_task

from keras_seq.tasks import Task
from keras_seq.tasks.task import task_classes

RNG = np.random.default_rng(0)
WAVE = np.sin(np.arange(60, dtype="float32") / 3)[:, None]


def _spec(head, kind="tokens, embedding_dim: 4", data=""):
    return (
        f"seed: 1\ninput: {{kind: {kind}}}\nencoder: {{cell: gru, units: 4}}\nhead: {head}\n"
        f"training: {{learning_rate: 0.05, batch_size: 16}}\n{data}"
    )


def _tagger(tmp_path):
    words = {"D": "the", "N": "dog", "V": "runs"}
    train = [{"tokens": [words[t] for t in "DNV"], "tags": list("DNV")}] * 16
    return _spec("{type: tagger}"), train, [["the", "dog"], "runs"], {}


def _classifier(tmp_path):
    train = [{"tokens": ["a", w], "label": w} for w in ("good", "bad")] * 8
    return _spec("{type: classifier}"), train, ["a good", ["bad"]], {}


def _forecaster(tmp_path):
    spec = _spec("{type: forecaster, horizon: 2}", kind="features, dim: 1, max_length: 4")
    return spec, [{"values": WAVE, "targets": WAVE}], [WAVE[:4].tolist()], {}


def _series_forecaster(tmp_path):
    rows = "".join(f"2024-01-{d + 1:02d},{float(WAVE[d, 0]):.4f}\n" for d in range(30))
    (tmp_path / "s.csv").write_text("date,y\n" + rows)
    spec = _spec(
        "{type: forecaster, horizon: 2}",
        kind="features, dim: 1",
        data=f"data: {{format: csv, time_column: date, target_columns: [y], lookback: 4, "
        f"train: {tmp_path / 's.csv'}}}\n",
    )
    records = Task.for_spec(spec).read(str(tmp_path / "s.csv"))
    return spec, records, records, {"predict": lambda task, inputs: task.forecast(inputs)}


def _seq2seq(tmp_path):
    train = [{"source": list(s), "target": list(s[::-1])} for s in ("ab", "ba", "abb")] * 6
    spec = _spec("{type: seq2seq, max_output_length: 4}", kind="tokens, embedding_dim: 4")
    return spec, train, [["a", "b"], "b a"], {}


def _encoder(tmp_path):
    spec = _spec("{type: none}", kind="features, dim: 3")
    return spec, None, RNG.normal(size=(2, 5, 3)).astype("float32"), {}


# class name -> (tmp_path) -> (spec, train records or None, raw inputs, check_task options)
EXAMPLES = {
    "Tagger": _tagger,
    "Classifier": _classifier,
    "Forecaster": _forecaster,
    "SeriesForecaster": _series_forecaster,
    "Seq2Seq": _seq2seq,
    "Encoder": _encoder,
}


def test_every_task_has_an_example():
    assert sorted(EXAMPLES) == sorted(cls.__name__ for cls in task_classes())


@pytest.mark.parametrize("name", sorted(cls.__name__ for cls in task_classes()))
def test_task_checks(name, tmp_path):
    spec, train, inputs, options = EXAMPLES[name](tmp_path)
    task = Task.for_spec(spec)
    assert type(task).__name__ == name
    check_task(task, train, inputs, tmp_path, **options)
