"""`head.shrink: validation`: the share of the network's correction over its anchor kept,
chosen on held-out training windows, against a NumPy brute force; 0 is the anchor alone; the
share is saved with the model and read the same on another backend."""

import keras
import numpy as np
import pytest
from other_backend import run_on_next_backend

import keras_seq
from keras_seq import fitting
from keras_seq.backtesting import backtest
from keras_seq.metrics import forecasting as fm
from keras_seq.metrics import shrinkage
from keras_seq.tasks import Task

SPEC = """
seed: 5
input: {{kind: features, dim: 1, scaling: standard}}
encoder: {{cell: gru, units: 4}}
head: {{type: forecaster, horizon: 3, anchor: seasonal, shrink: {shrink}{head}}}
training: {{batch_size: 16, epochs: 6, learning_rate: 0.1}}
data:
  format: csv
  time_column: date
  series_id_column: id
  target_columns: [y]
  lookback: 4
  season_length: 2
  train: {train}
"""


def series_file(tmp_path, days=24, short=9):
    """Two series with a season of 2, a trend and noise; "c" too short to hold steps out."""
    rng = np.random.default_rng(0)
    lines = ["id,date,y"]
    for key, level, length in (("a", 10.0, days), ("b", 500.0, days), ("c", 3.0, short)):
        for day in range(length):
            y = level + (day % 2) * level / 10 + 0.3 * day * level / 10 + rng.normal()
            lines.append(f"{key},2024-01-{day + 1:02d},{y:.4f}")
    path = tmp_path / "s.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def trained(tmp_path, head="", shrink="validation"):
    task = Task.for_spec(SPEC.format(head=head, shrink=shrink, train=series_file(tmp_path)))
    records = task.read(task.spec.data.train)
    task.learn(records)
    encoded = task.encode_training(records)
    task.build_model()
    fitting.fit(task, {"train": encoded}, {"train": records}, verbose=0)
    return task, records, encoded


def share_of(task):
    return float(keras.ops.convert_to_numpy(task.model.get_layer("forecast").share))


def brute_force(task, records):
    """The share of least MASE (data units) over the last 3 origins of each long series,
    and the MASE of 0, the share and 1, by a loop over the grid."""
    layer = task.model.get_layer("forecast")
    chosen = share_of(task)
    layer.share.assign(1.0)
    origins = {"a": [19, 20, 21], "b": [19, 20, 21]}  # 24 steps: 2 x 3 - 1 held out from 19
    cases = task.forecast_arrays(records, origins)
    layer.share.assign(chosen)
    errors = []
    for share in shrinkage.GRID:
        scores = []
        for case in cases:
            values = case["record"]["series"].values[:, 0]
            base = fm.seasonal_naive_forecast(values[: case["origin"]], 3, 2)
            forecast = base + share * (case["point"][:, 0] - base)
            truth = values[case["origin"] : case["origin"] + 3]
            scores.append(fm.mase(truth, forecast, values[:19], 2))
        errors.append(np.mean(scores))
    best = int(np.argmin(np.round(errors, 9)))
    return shrinkage.GRID[best], errors


def test_the_share_kept_is_the_brute_force_minimum_on_held_out_windows(tmp_path):
    task, records, encoded = trained(tmp_path)
    # a and b train on their first 19 steps (12 windows each); c (9 steps) on all (3 windows)
    assert len(encoded.y) == 2 * (19 - 4 - 3 + 1) + (9 - 4 - 3 + 1)
    share, errors = brute_force(task, records)
    assert 0 < share < 1  # the data and training make a share inside the grid
    found = task.state["shrink"]
    assert found["share"] == share
    assert found["windows"] == 6
    np.testing.assert_allclose(found["mase_network"], errors[-1], rtol=1e-4)
    np.testing.assert_allclose(found["mase_anchor"], errors[0], rtol=1e-4)
    np.testing.assert_allclose(found["mase_kept"], min(errors), rtol=1e-4)
    assert share_of(task) == pytest.approx(share)
    text = task.shrink_text()
    assert f"kept {share:g} of the network's correction" in text
    assert f"seasonal naive {errors[0]:.3f}" in text
    figures = task.evaluate(records)
    assert figures["correction_kept"] == share
    assert figures["validation_mase_anchor"] == found["mase_anchor"]


def test_a_share_of_zero_forecasts_seasonal_naive_and_the_interval_moves_with_it(tmp_path):
    task, records, _ = trained(tmp_path, head=", quantiles: [0.1, 0.5, 0.9]")
    layer = task.model.get_layer("forecast")
    layer.share.assign(1.0)
    full = task.forecast_arrays(records, {"a": [10, 15], "b": [20]})
    layer.share.assign(0.0)
    for before, case in zip(full, task.forecast_arrays(records, {"a": [10, 15], "b": [20]})):
        history = case["record"]["series"].values[: case["origin"], 0]
        expected = fm.seasonal_naive_forecast(history, 3, 2)
        np.testing.assert_allclose(case["point"][:, 0], expected, rtol=1e-5)
        widths = case["quantiles"] - case["point"][..., None]
        np.testing.assert_allclose(
            widths, before["quantiles"] - before["point"][..., None], atol=1e-4
        )


def test_a_fixed_share_trains_on_every_window_and_averages_with_the_anchor(tmp_path):
    task, records, encoded = trained(tmp_path, shrink=0.5)
    assert len(encoded.y) == 2 * (24 - 4 - 3 + 1) + (9 - 4 - 3 + 1)  # nothing held out
    assert share_of(task) == 0.5
    assert task.evaluate(records)["correction_kept"] == 0.5
    origins = {"a": [12, 21], "b": [20]}
    halves = task.forecast_arrays(records, origins)
    task.model.get_layer("forecast").share.assign(1.0)
    for half, full in zip(halves, task.forecast_arrays(records, origins)):
        history = full["record"]["series"].values[: full["origin"], 0]
        base = fm.seasonal_naive_forecast(history, 3, 2)
        np.testing.assert_allclose(half["point"][:, 0], (base + full["point"][:, 0]) / 2, rtol=1e-5)


def test_the_share_is_saved_and_read_the_same_on_another_backend(tmp_path):
    task, records, _ = trained(tmp_path)
    task.model.get_layer("forecast").share.assign(0.3)
    path = tmp_path / "m.keras"
    task.save(path)
    loaded = keras_seq.load(path)
    assert loaded.state["shrink"] == task.state["shrink"]
    assert share_of(loaded) == pytest.approx(0.3)
    origins = {"a": [12], "b": [20]}
    points = [case["point"][:, 0] for case in task.forecast_arrays(records, origins)]
    mine = [case["point"][:, 0] for case in loaded.forecast_arrays(records, origins)]
    np.testing.assert_allclose(mine, points, rtol=1e-6)
    other = run_on_next_backend(
        """
        import json, sys, keras, keras_seq
        task = keras_seq.load(sys.argv[1])
        cases = task.forecast_arrays(task.read(sys.argv[2]), {"a": [12], "b": [20]})
        share = float(keras.ops.convert_to_numpy(task.model.get_layer("forecast").share))
        print(json.dumps([share, [case["point"][:, 0].tolist() for case in cases]]))
        """,
        path,
        task.spec.data.train,
    )
    assert other[0] == pytest.approx(0.3)
    np.testing.assert_allclose(other[1], points, rtol=1e-4)


def test_each_backtest_fold_chooses_from_its_own_training_part_and_says_so(tmp_path):
    source = SPEC.format(head="", shrink="validation", train=series_file(tmp_path, short=0))
    _, report = backtest(source, folds=2, epochs=1, output=str(tmp_path / "bt"))
    for fold, origin in zip(report["folds"], (18, 21)):
        # a and b cut at the fold's origin hold out their last 5 steps: 3 windows each
        assert fold["train_steps"] == origin
        assert fold["shrink"]["windows"] == 6
        assert fold["shrink"]["share"] in shrinkage.GRID
        assert f"fold {fold['fold']}: validation MASE (6 windows" in "\n".join(report["notes"])


def test_shrink_needs_an_anchor():
    with pytest.raises(keras_seq.SpecError) as info:
        keras_seq.load_spec(
            SPEC.format(head="", shrink="validation", train="s.csv").replace(
                "anchor: seasonal", "anchor: none"
            )
        )
    assert "head.shrink" in str(info.value) and "head.anchor is last or seasonal" in str(info.value)
