"""The time-series forecaster (data.time_column): encoding, scaling saved with the model,
covariates over the horizon, quantiles, predict rows, evaluate, and the backtest command."""

import csv
import io
import json
import pathlib
import re

import keras
import numpy as np
import pytest

import keras_seq
from keras_seq.backtesting import backtest, fold_origins, notes
from keras_seq.data import DataError
from keras_seq.metrics import conformal
from keras_seq.metrics import forecasting as fm
from keras_seq.tasks import Forecaster, SeriesForecaster, Task

BUNDLED = keras_seq.__path__[0] + "/datasets/load-series.csv"
SPEC = """
seed: 3
input: {{kind: features, dim: {dim}, scaling: standard}}
encoder: {{cell: gru, units: 8}}
head: {{type: forecaster, horizon: 3{head}}}
training: {{batch_size: 32, epochs: {epochs}, learning_rate: 0.01}}
data:
  format: csv
  time_column: date
  series_id_column: id
  target_columns: [y]
  lookback: 4
  season_length: 2
  train: {train}
{data}"""


def spec(train, dim=1, head="", epochs=2, data=""):
    return SPEC.format(dim=dim, head=head, epochs=epochs, train=train, data=data)


def write_series(path, rows):
    path.write_text("id,date,y,promo\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return str(path)


def two_series(tmp_path, days=20, tail=0):
    rows = []
    for key, level in (("a", 10.0), ("b", 1000.0)):
        for day in range(days + tail):
            y = "" if day >= days else level + (day % 2) * level / 10 + day
            rows.append((key, f"2024-01-{day + 1:02d}", y, day % 3 == 0))
    return write_series(tmp_path / "s.csv", [(k, d, y, int(p)) for k, d, y, p in rows])


def fit(task, records, epochs=None):
    task.learn(records)
    encoded = task.encode(records)
    task.build_model().fit(
        encoded.x,
        encoded.y,
        epochs=epochs or task.spec.training.epochs,
        batch_size=task.spec.training.batch_size,
        verbose=0,
    )
    return encoded


def test_encode_windows_scaled_per_series_never_crossing(tmp_path):
    task = Task.for_spec(spec(two_series(tmp_path)))
    records = task.read(task.spec.data.train)
    task.learn(records)
    encoded = task.encode(records)
    assert encoded.x["features"].shape == (2 * (20 - 4 - 3 + 1), 4, 1)
    for k, record in enumerate(records):
        values = record["series"].values[:, 0]
        scaled = (values - values.mean()) / values.std()
        windows = 20 - 4 - 3 + 1
        part = slice(k * windows, (k + 1) * windows)
        expected_x = np.stack([scaled[o - 4 : o] for o in range(4, 4 + windows)])
        expected_y = np.stack([scaled[o : o + 3] for o in range(4, 4 + windows)])
        np.testing.assert_allclose(encoded.x["features"][part, :, 0], expected_x, rtol=1e-5)
        np.testing.assert_allclose(encoded.y[part, :, 0], expected_y, rtol=1e-5)


def test_encode_with_covariates_calendar_embedding_and_anchor_against_a_loop(tmp_path):
    source = spec(
        two_series(tmp_path, tail=3),
        dim=4,
        head=", anchor: last",
        data="  future_covariates: [promo]\n  calendar: [weekday]\n",
    )
    task = Task.for_spec(keras_seq.load_spec(source).replace({"input.series_embedding": 2}))
    records = task.read(task.spec.data.train)
    task.learn(records)
    encoded = task.encode(records)
    features, future, ids, targets = [], [], [], []
    for index, record in enumerate(records):
        values = record["series"].values  # y, promo; 20 days, then 3 rows of promo alone
        scaled = (values - values[:20].mean(0)) / values[:20].std(0)
        days = record["series"].times.astype("datetime64[D]").astype("int64")
        angle = 2 * np.pi * ((days + 3) % 7) / 7
        step = np.column_stack([scaled, np.sin(angle), np.cos(angle)])  # y, promo, sin, cos
        for origin in range(4, 20 - 3 + 1):
            features.append([step[t] for t in range(origin - 4, origin)])
            future.append([step[t, 1:] for t in range(origin, origin + 3)])
            ids.append([index])
            targets.append(
                [[scaled[t, 0] - scaled[origin - 1, 0]] for t in range(origin, origin + 3)]
            )
    assert sorted(encoded.x) == ["features", "future", "series"]
    np.testing.assert_allclose(encoded.x["features"], features, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(encoded.x["future"], future, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(encoded.x["series"], ids)
    assert encoded.x["series"].dtype == np.int32
    np.testing.assert_allclose(encoded.y, targets, rtol=1e-5, atol=1e-6)


def test_seasonal_anchor_targets_are_the_residual_and_zero_output_is_seasonal_naive(tmp_path):
    task = Task.for_spec(spec(two_series(tmp_path), head=", anchor: seasonal"))
    records = task.read(task.spec.data.train)
    fit(task, records, epochs=1)
    encoded = task.encode(records)
    residuals = []
    for record in records:
        values = record["series"].values[:, 0]
        scaled = (values - values.mean()) / values.std()
        for origin in range(4, 18):  # season 2: base[h] = scaled[origin - 2 + h % 2]
            residuals.append([[scaled[origin + h] - scaled[origin - 2 + h % 2]] for h in range(3)])
    np.testing.assert_allclose(encoded.y, residuals, rtol=1e-5, atol=1e-6)
    last = task.model.layers[-2]  # the dense layer before the reshape
    last.set_weights([np.zeros_like(w) for w in last.get_weights()])
    origins = {"a": [9, 12], "b": [20]}
    for case in task.forecast_arrays(records, origins):
        history = case["record"]["series"].values[: case["origin"], 0]
        expected = fm.seasonal_naive_forecast(history, 3, 2)
        np.testing.assert_allclose(case["point"][:, 0], expected, rtol=1e-6)


@pytest.mark.parametrize("anchor", ["none", "last"])
def test_window_scaling_inputs_targets_and_forecasts_against_a_loop(tmp_path, anchor):
    source = spec(
        two_series(tmp_path), dim=2, head=f", anchor: {anchor}", data="  past_covariates: [promo]\n"
    )
    task = Task.for_spec(keras_seq.load_spec(source).replace({"input.window_scaling": "standard"}))
    records = task.read(task.spec.data.train)
    fit(task, records, epochs=1)
    encoded = task.encode(records)
    features, targets, frames = [], [], {}
    for record in records:
        values = record["series"].values  # y, promo
        scaled = (values - values.mean(0)) / values.std(0)
        for origin in range(4, 18):
            past = scaled[origin - 4 : origin, 0]
            mean, spread = past.mean(), np.sqrt(past.var() + 0.01)
            features.append(
                np.column_stack([(past - mean) / spread, scaled[origin - 4 : origin, 1]])
            )
            base = mean if anchor == "none" else past[-1]
            targets.append((scaled[origin : origin + 3, :1] - base) / spread)
            frames[record["id"], origin] = base, spread, values[:, 0].mean(), values[:, 0].std()
    np.testing.assert_allclose(encoded.x["features"], features, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(encoded.y, targets, rtol=1e-5, atol=1e-6)
    described = task.export_preprocessing()["window_scaling"]  # what preprocessing.json says
    assert described["variance_floor"] == 0.01 and "the spread" in described["inputs"]
    last = task.model.layers[-2]  # the dense layer before the reshape: output 0.5 everywhere
    kernel, bias = last.get_weights()
    last.set_weights([np.zeros_like(kernel), np.full_like(bias, 0.5)])
    for case in task.forecast_arrays(records, {"a": [9, 12], "b": [17]}):
        base, spread, center, scale = frames[case["record"]["id"], case["origin"]]
        expected = np.full(3, (base + 0.5 * spread) * scale + center)
        np.testing.assert_allclose(case["point"][:, 0], expected, rtol=1e-5)


def test_seasonal_anchor_needs_a_lookback_of_a_season(tmp_path):
    source = spec(two_series(tmp_path), head=", anchor: seasonal", data="  season_length: 7\n")
    task = Task.for_spec(keras_seq.load_spec(source.replace("  season_length: 2\n", "")))
    records = task.read(task.spec.data.train)
    task.learn(records)
    with pytest.raises(DataError, match="longer than data.lookback") as info:
        task.encode(records)
    assert info.value.hint == "set data.lookback to 7 or more, or head.anchor: last"


def test_the_spec_picks_the_forecaster_through_the_registry(tmp_path):
    series = Task.for_spec(spec(two_series(tmp_path)))
    plain_spec = """
input: {kind: features, dim: 1, max_length: 4}
encoder: {cell: gru, units: 2}
head: {type: forecaster}
"""
    plain = Task.for_spec(plain_spec)
    assert type(series) is SeriesForecaster and type(plain) is Forecaster
    assert not issubclass(SeriesForecaster, Forecaster)  # two tasks, not one behind a swap
    assert series.head_type == plain.head_type == "forecaster"
    assert series.supports_backtest and not plain.supports_backtest
    with pytest.raises(DataError, match="backtest needs a forecaster reading time series") as info:
        backtest(plain_spec, output=str(tmp_path / "bt"))
    assert "data.time_column" in info.value.hint
    series.learn(series.read(series.spec.data.train)).build_model()
    with pytest.raises(DataError, match="not from loose windows") as info:
        series.predict([[[0.0]] * 4])
    assert "forecast" in info.value.hint


def test_forecast_predict_evaluate_in_data_units_survive_keras_file(tmp_path):
    task = Task.for_spec(spec(two_series(tmp_path), head=", quantiles: [0.1, 0.5, 0.9]"))
    records = task.read(task.spec.data.train)
    fit(task, records)
    rows = task.forecast(records)
    assert [(r["series"], r["step"], r["time"]) for r in rows[:3]] == [
        ("a", 1, "2024-01-21"),
        ("a", 2, "2024-01-22"),
        ("a", 3, "2024-01-23"),
    ]
    assert all(r["origin"] == "2024-01-20" for r in rows)
    big = [r["y"] for r in rows if r["series"] == "b"]
    assert min(big) > 500  # series b lives near 1000: the scaling was undone per series
    for row in rows:
        assert row["y_q0.1"] <= row["y"] == row["y_q0.5"] <= row["y_q0.9"]
    task.save(tmp_path / "m.keras")
    again = keras_seq.load(tmp_path / "m.keras")
    assert again.state["scaler"] == json.loads(json.dumps(task.state["scaler"]))
    for got, want in zip(again.forecast(records), rows):
        assert got["y"] == pytest.approx(want["y"], rel=1e-5)
    written = list(csv.DictReader(io.StringIO(again.predict_file(task.spec.data.train))))
    assert list(written[0]) == [
        "series",
        "origin",
        "time",
        "step",
        "y",
        "y_q0.1",
        "y_q0.5",
        "y_q0.9",
    ]
    assert [float(r["y"]) for r in written] == pytest.approx([r["y"] for r in rows], rel=1e-5)
    scores = again.evaluate(records)
    for name in ("mae", "mase", "coverage", "pinball", "naive_mase", "seasonal_naive_smape"):
        assert np.isfinite(scores[name]), name
    # The naive baseline from each origin (every horizon steps from lookback), by hand.
    values = [r["series"].values[:, 0] for r in records]
    naive = [abs(v[o : o + 3] - v[o - 1]).mean() for v in values for o in range(4, 18, 3)]
    assert scores["naive_mae"] == pytest.approx(np.mean(naive))


@pytest.mark.backend("torch")  # NumPy after the model's forecast; the forecast is tested above
def test_predict_calibrate_moves_the_interval_by_the_backtest_margin(tmp_path, capsys):
    """`keras-seq predict --calibrate BACKTEST`: the outer quantiles move by the backtest's
    margin times each series' MASE scale (here 2: the values repeat every 2 days, 2 higher),
    the others stay; a backtest of another interval, or a run without quantiles, is refused."""
    from keras_seq import cli

    train = two_series(tmp_path)
    quantiles = ", quantiles: [0.1, 0.5, 0.9]"
    (tmp_path / "q.yaml").write_text(spec(train, head=quantiles, epochs=1))
    (tmp_path / "p.yaml").write_text(spec(train, epochs=1))
    assert (
        cli.main(
            ["backtest", str(tmp_path / "q.yaml"), "--folds", "3", "--output", str(tmp_path / "bt")]
        )
        == 0
    )
    assert cli.main(["train", str(tmp_path / "q.yaml"), "--output", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    margin = json.loads((tmp_path / "bt" / "backtest.json").read_text())["overall"]["keras-seq"][
        "conformal"
    ]["margin"]

    def predicted(*extra):
        assert cli.main(["predict", str(tmp_path / "run"), "--data", train, *extra]) == 0
        return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))

    raw, moved = predicted(), predicted("--calibrate", str(tmp_path / "bt"))
    assert len(raw) == len(moved) == 6 and raw != moved and margin != 0
    for before, after in zip(raw, moved):
        low, mid, high = (float(before[f"y_q{q}"]) for q in (0.1, 0.5, 0.9))
        assert float(after["y_q0.1"]) == pytest.approx(min(low - 2 * margin, mid), rel=1e-9)
        assert float(after["y_q0.9"]) == pytest.approx(max(high + 2 * margin, mid), rel=1e-9)
        assert (after["y"], after["y_q0.5"]) == (before["y"], before["y_q0.5"])
    report = json.loads((tmp_path / "bt" / "backtest.json").read_text())
    report["overall"]["keras-seq"]["conformal"]["nominal"] = 0.9
    (tmp_path / "bt90").mkdir()
    (tmp_path / "bt90" / "backtest.json").write_text(json.dumps(report))
    refused = {
        "bt90": "the backtest calibrated a 90 % interval over 3 steps; this run forecasts a 80 %",
        "nothing": "not a backtest folder (no readable backtest.json)",
    }
    for folder, message in refused.items():
        argv = [
            "predict",
            str(tmp_path / "run"),
            "--data",
            train,
            "--calibrate",
            str(tmp_path / folder),
        ]
        assert cli.main(argv) == 1
        assert message in capsys.readouterr().err
    assert cli.main(["train", str(tmp_path / "p.yaml"), "--output", str(tmp_path / "point")]) == 0
    argv = [
        "predict",
        str(tmp_path / "point"),
        "--data",
        train,
        "--calibrate",
        str(tmp_path / "bt"),
    ]
    assert cli.main(argv) == 1
    assert (
        "--calibrate applies to a time-series forecaster with head.quantiles"
        in capsys.readouterr().err
    )


def test_future_covariate_read_over_the_horizon_and_missing_one(tmp_path):
    source = spec(
        two_series(tmp_path, tail=3),
        dim=4,
        data="  future_covariates: [promo]\n  calendar: [weekday]\n",
    )
    task = Task.for_spec(source)
    records = task.read(task.spec.data.train)
    encoded = fit(task, records, epochs=1)
    assert encoded.x["future"].shape[1:] == (3, 3)  # promo + sin/cos weekday per future step
    promo = records[0]["series"].values[:, 1]
    scaled = (promo[:20] - promo[:20].mean()) / promo[:20].std()
    np.testing.assert_allclose(encoded.x["future"][0, :, 0], scaled[4:7], rtol=1e-5)
    assert len(task.forecast(records)) == 2 * 3  # the tail rows give the horizon's promo
    short = two_series(tmp_path, tail=2)  # one future row too few
    with pytest.raises(DataError) as info:
        task.forecast(task.read(short))
    error = info.value
    assert error.path == short and error.line == 23  # series a's last line
    assert "series 'a'" in str(error) and "future covariate is missing" in str(error)
    assert "horizon" in error.hint


def test_short_series_is_a_data_error_naming_the_series(tmp_path):
    task = Task.for_spec(spec(two_series(tmp_path, days=6)))
    records = task.read(task.spec.data.train)
    task.learn(records)
    with pytest.raises(DataError, match=r"series 'a' has 6 steps, fewer than lookback 4"):
        task.encode(records)


def test_input_dim_mismatch_says_the_right_dim(tmp_path):
    task = Task.for_spec(spec(two_series(tmp_path), data="  calendar: [weekday, month]\n"))
    with pytest.raises(DataError, match="set input.dim: 5"):
        task.read(task.spec.data.train)


def test_backtest_json_shape_and_baselines_against_numpy(tmp_path, capsys):
    train = two_series(tmp_path, days=24)
    path, report = backtest(spec(train, epochs=1), folds=2, output=str(tmp_path / "bt"))
    lines = capsys.readouterr().err.splitlines()  # a line per fold, with the time left
    assert re.fullmatch(r"backtest: fold 1/2 done \(\d+s\) - ETA: \d+s", lines[-2]), lines
    assert re.fullmatch(r"backtest: fold 2/2 done \(\d+s\)", lines[-1]), lines
    assert sorted(p.name for p in path.iterdir()) == [
        "backtest.json",
        "backtest.md",
        "forecast.png",
    ]
    assert json.loads((path / "backtest.json").read_text()) == json.loads(json.dumps(report))
    assert set(report) == {"folds", "overall", "notes"}
    assert [f["fold"] for f in report["folds"]] == [1, 2]
    methods = {"keras-seq", "naive", "seasonal_naive", "holt_winters"}
    assert set(report["overall"]) == methods
    assert set(report["overall"]["keras-seq"]) == {"mae", "rmse", "mase", "smape"}
    task = Task.for_spec(spec(train))
    records = task.read(train)
    plan = fold_origins(records, 2, 3, 1)
    assert [p["a"] for p in plan] == [18, 21]
    for fold, origins in zip(report["folds"], plan):
        mase = []
        assert [f["series"] for f in fold["forecasts"]] == ["a", "b"]
        for record, kept in zip(records, fold["forecasts"]):
            values, origin = record["series"].values[:, 0], origins[record["id"]]
            history, truth = values[:origin], values[origin : origin + 3]
            mase.append(fm.mase(truth, fm.seasonal_naive_forecast(history, 3, 2), history, 2))
            assert kept["truth"] == truth[:, None].tolist()
            assert (
                kept["seasonal_naive"]
                == fm.seasonal_naive_forecast(history, 3, 2)[:, None].tolist()
            )
            assert len(kept["keras-seq"]) == 3 and kept["times"][0] == f"2024-01-{origin + 1:02d}"
        assert fold["seasonal_naive"]["mase"] == pytest.approx(np.mean(mase))
    table = (path / "backtest.md").read_text()
    assert "| overall | holt_winters |" in table
    assert any(note.startswith("keras-seq is behind") for note in report["notes"])


@pytest.mark.parametrize(
    "anchor, naive, seasonal, suggested",
    [
        ("last", 0.8, 0.9, None),  # the spec already has the better anchor
        ("last", 1.0, 0.9, "seasonal"),
        ("seasonal", 0.8, 0.9, "last"),
        ("seasonal", 1.0, 0.9, None),
        ("none", 1.0, 0.9, "seasonal"),
        ("none", 0.8, 0.9, "last"),
    ],
)
def test_a_model_behind_the_baselines_is_told_the_anchor_that_beat_its_own(
    tmp_path, anchor, naive, seasonal, suggested
):
    source = keras_seq.load_spec(spec(tmp_path / "s.csv")).replace(
        {"data.season_length": 2, "head.anchor": anchor}
    )
    overall = {"keras-seq": {"mase": 1.5}, "naive": {"mase": naive}}
    overall["seasonal_naive"] = {"mase": seasonal}
    (behind,) = [note for note in notes(overall, source) if note.startswith("keras-seq is behind")]
    best = "naive" if naive < seasonal else "seasonal_naive"
    assert behind.startswith(
        f"keras-seq is behind {best} (MASE 1.500 against {min(naive, seasonal):.3f})"
    )
    found = re.findall(r"head\.anchor: (\w+)", behind)
    assert found == ([suggested] if suggested else [])


def test_backtest_holt_winters_row_is_statsmodels_fitted_on_each_fold(tmp_path):
    holtwinters = pytest.importorskip("statsmodels.tsa.holtwinters")
    rows = []
    for day in range(40):
        y = 50 + 0.3 * day + 4 * np.sin(2 * np.pi * day / 7) + np.sin(day * day)
        rows.append(("a", np.datetime64("2024-01-01") + day, round(y, 3), 0))
    train = write_series(tmp_path / "s.csv", rows)
    source = keras_seq.load_spec(spec(train, epochs=1)).replace(
        {"data.season_length": 7, "data.lookback": 7, "head.quantiles": [0.1, 0.5, 0.9]}
    )
    _, report = backtest(source, folds=3, output=str(tmp_path / "bt"))
    values = np.array([row[2] for row in rows])
    errors, arrays = [], []
    for fold, origin in zip(report["folds"], (31, 34, 37)):
        bands = np.array(fold["forecasts"][0]["keras-seq quantiles"])[:, 0]
        scale = np.mean(np.abs(values[7:origin] - values[: origin - 7]))
        arrays.append((values[origin : origin + 3], bands[:, 0], bands[:, -1], np.full(3, scale)))
        fitted = holtwinters.ExponentialSmoothing(
            values[:origin], trend="add", seasonal="add", seasonal_periods=7
        ).fit()
        expected = fitted.forecast(3)
        kept = np.array(fold["forecasts"][0]["holt_winters"])[:, 0]
        np.testing.assert_allclose(kept, expected, rtol=1e-6)
        errors.append(np.abs(values[origin : origin + 3] - expected).mean())
        assert fold["holt_winters"]["mae"] == pytest.approx(errors[-1])
    assert report["overall"]["holt_winters"]["mae"] == pytest.approx(np.mean(errors))
    expected = conformal.fold_calibrated_coverage(*zip(*arrays), 0.8)
    assert report["overall"]["keras-seq"]["conformal"] == pytest.approx(expected)
    assert expected["folds_scored"] == 3 and expected["past_folds_scored"] == 2
    line = f"80 % interval: covers {100 * expected['coverage']:.1f} % as trained; "
    assert line in (tmp_path / "bt" / "backtest.md").read_text()


def test_backtest_without_statsmodels_says_how_to_get_holt_winters(tmp_path, monkeypatch):
    from keras_seq.metrics import classical

    monkeypatch.setattr(classical, "available", lambda: False)
    train = two_series(tmp_path, days=24)
    source = keras_seq.load_spec(spec(train, epochs=1)).replace({"data.season_length": 1})
    path, report = backtest(source, folds=2, output=str(tmp_path / "bt"))
    assert report["overall"]["holt_winters"] == {"missing": classical.EXTRA}
    assert (
        "| overall | holt_winters | pip install 'keras-seq[forecast]'"
        in (path / "backtest.md").read_text()
    )
    assert report["notes"][0].startswith("seasonal_naive equals naive: data.season_length is 1")
    assert report["overall"]["naive"] == report["overall"]["seasonal_naive"]


def test_pooled_mase_leaves_out_a_zero_scale_series_by_name(tmp_path, caplog):
    rows = [("flat", f"2024-01-{day + 1:02d}", 7.0, 0) for day in range(20)]
    rows += [("moving", f"2024-01-{day + 1:02d}", float(day % 5 + day), 0) for day in range(20)]
    task = Task.for_spec(spec(write_series(tmp_path / "s.csv", rows)))
    records = task.read(task.spec.data.train)
    fit(task, records, epochs=1)
    with caplog.at_level("WARNING"):
        table = task.score(records, {"flat": [14], "moving": [14]})
    values = records[1]["series"].values[:, 0]
    naive = fm.mase(values[14:17], np.full(3, values[13]), values[:14], 2)
    assert table["naive"]["mase"] == pytest.approx(naive)  # "moving" alone
    assert table["naive"]["mase_skipped"] == table["keras-seq"]["mase_skipped"] == ["flat"]
    assert "MASE leaves out 1 of 2 series" in caplog.text and "'flat'" in caplog.text
    assert task.evaluate(records)["mase_skipped_series"] == 1


def test_covariates_beat_the_same_spec_without_them():
    # The bundled regions' holidays cut the load by 40 %: only the covariate can tell.
    source = keras_seq.load_spec(f"""
seed: 1
input: {{kind: features, dim: 4, series_embedding: 2}}
encoder: {{cell: gru, units: 16}}
head: {{type: forecaster, horizon: 7}}
training: {{batch_size: 64, epochs: 4, learning_rate: 0.01}}
data: {{format: csv, time_column: date, series_id_column: region, target_columns: [load],
        future_covariates: [holiday], calendar: [weekday], lookback: 14, season_length: 7,
        train: {BUNDLED}}}
""")
    plain = source.replace({"data.future_covariates": None, "data.calendar": [], "input.dim": 1})
    scores = {}
    for name, variant in (("covariates", source), ("plain", plain)):
        keras.utils.clear_session()
        task = Task.for_spec(variant)
        records = [r for r in task.read(BUNDLED) if r["id"] in ("north", "east")]
        train = [{**r, "series": r["series"].head(280)} for r in records]
        fit(task, train)
        origins = {r["id"]: list(range(280, 358, 7)) for r in records}
        scores[name] = task.score(records, origins)["keras-seq"]["mase"]
    assert scores["covariates"] < 0.85 * scores["plain"], scores


def test_backtest_refuses_a_taken_output_before_any_fold_trains(tmp_path, monkeypatch):
    from keras_seq import fitting

    def never(*args, **kwargs):
        raise AssertionError("a fold trained before the taken folder was refused")

    monkeypatch.setattr(fitting, "fit", never)
    train = two_series(tmp_path, days=24)
    (tmp_path / "bt").mkdir()
    (tmp_path / "bt" / "mine.txt").write_text("kept")
    with pytest.raises(Exception, match="already exists"):
        backtest(spec(train, epochs=1), folds=2, output=str(tmp_path / "bt"))
    assert [p.name for p in (tmp_path / "bt").iterdir()] == ["mine.txt"]


def test_an_interrupted_backtest_resumes_to_the_uninterrupted_report(tmp_path, monkeypatch):
    """Each fold checkpoints every epoch; `resume` loads the finished fold, continues the
    interrupted one from its last epoch, and ends with the same report."""
    from keras_seq import backtesting, checkpoint

    train = two_series(tmp_path, days=24)
    source = spec(train, epochs=2)
    _, expected = backtest(source, folds=2, output=str(tmp_path / "whole"))
    save, saved = checkpoint.save, []

    def counting_save(folder, task, epoch, *args, **kwargs):
        save(folder, task, epoch, *args, **kwargs)
        saved.append((pathlib.Path(folder).name, epoch))
        if saved == [("fold-1", 1), ("fold-1", 2), ("fold-2", 1)]:
            raise KeyboardInterrupt  # fold 1 finished, fold 2 after its first epoch

    monkeypatch.setattr(checkpoint, "save", counting_save)
    with pytest.raises(KeyboardInterrupt):
        backtest(source, folds=2, output=str(tmp_path / "cut"))
    kept = tmp_path / "cut" / "checkpoint"
    assert [p.name for p in (tmp_path / "cut").iterdir()] == ["checkpoint"]
    assert sorted(p.name for p in kept.iterdir()) == ["fold-1.keras", "fold-2", "progress.json"]
    saved.clear()
    path, report = backtesting.resume(tmp_path / "cut")
    assert saved == [("fold-2", 2)]  # only what was left is trained
    assert report == expected
    assert sorted(p.name for p in path.iterdir()) == [
        "backtest.json",
        "backtest.md",
        "forecast.png",
    ]


def test_resume_refuses_a_folder_without_a_backtest_checkpoint(tmp_path):
    from keras_seq import backtesting

    with pytest.raises(DataError, match="not a resumable backtest folder") as info:
        backtesting.resume(tmp_path)
    assert "keras-seq backtest" in info.value.hint


def test_backtest_command_takes_a_spec_or_resume(tmp_path, capsys):
    from keras_seq import cli

    assert cli.main(["backtest"]) == 2
    assert cli.main(["backtest", "s.yaml", "--resume", str(tmp_path)]) == 2
    assert "give a SPEC, or --resume DIR (not both)" in capsys.readouterr().err
    assert cli.main(["backtest", "--resume", str(tmp_path)]) == 1
    assert "not a resumable backtest folder" in capsys.readouterr().err


def three_series(tmp_path, short_days, flat=False):
    """Series a and b of 20 days, c of `short_days` (constant when `flat`)."""
    rows = []
    for key, days in (("a", 20), ("b", 20), ("c", short_days)):
        for day in range(days):
            y = 7.0 if flat and key == "c" else 10.0 + (day % 3) + day * (key == "b")
            rows.append((key, f"2024-01-{day + 1:02d}", y, day % 3 == 0))
    return write_series(tmp_path / "s.csv", [(k, d, y, int(p)) for k, d, y, p in rows])


@pytest.mark.parametrize(
    "days, fix",
    [
        (8, "use --folds 2 or fewer, a shorter head.horizon, or drop them"),
        # Not even one fold fits: fewer folds cannot help, only a shorter horizon.
        (
            3,
            "even one fold of horizon 3 needs 4 steps: use a shorter head.horizon (at most 2) "
            "or drop the short series",
        ),
    ],
)
def test_backtest_names_the_series_too_short_for_its_folds_and_the_fix_that_helps(
    tmp_path, days, fix
):
    train = three_series(tmp_path, days)
    with pytest.raises(DataError) as caught:
        backtest(spec(train, epochs=1), folds=5, output=str(tmp_path / "bt"))
    assert str(caught.value) == (
        f"{train}: 1 series too short for 5 folds of horizon 3 (each needs 16 steps): "
        f"'c' ({days} steps); {fix}"
    )
    assert "fewer folds" not in str(caught.value) and not (tmp_path / "bt").exists()


def test_backtest_names_the_constant_series_its_pooled_mase_leaves_out(tmp_path, caplog):
    train = three_series(tmp_path, 20, flat=True)
    with caplog.at_level("WARNING"):
        _, report = backtest(spec(train, epochs=1), folds=1, output=str(tmp_path / "bt"))
    overall = report["overall"]["keras-seq"]
    assert np.isfinite(overall["mase"]) and overall["mase_skipped"] == ["c"]
    [line] = [r.getMessage() for r in caplog.records if "MASE leaves out" in r.getMessage()][:1]
    assert "1 of 3 series" in line and "'c'" in line
    assert "'a'" not in line and "'b'" not in line


def test_backtest_names_why_mase_is_undefined_when_every_series_is_flat(tmp_path):
    source = keras_seq.load_spec(spec(three_series(tmp_path, 20), epochs=1))
    overall = {"keras-seq": {"mase": np.nan}, "naive": {"mase": np.nan}}
    found = notes(overall, source, "'c' (constant)")
    assert any("MASE is undefined" in n and "is 0 for 'c' (constant);" in n for n in found)


def test_steps_per_epoch_caps_and_samples_the_windows_of_each_epoch(tmp_path):
    from keras_seq import fitting
    from keras_seq.training import EpochBatches

    batches = EpochBatches(np.arange(100), np.arange(100), None, 8, seed=5, steps=3)
    assert len(batches) == 3  # 13 batches of 8 capped at 3
    drawn = [np.concatenate([batches.rows(i) for i in range(3)])]
    batches.follow().on_epoch_begin(1)
    drawn.append(np.concatenate([batches.rows(i) for i in range(3)]))
    order = [np.random.default_rng((5, epoch)).permutation(100)[:24] for epoch in (0, 1)]
    np.testing.assert_array_equal(drawn, order)  # each epoch: the first 24 of its own order
    source = keras_seq.load_spec(spec(two_series(tmp_path, days=28), epochs=2))
    task = Task.for_spec(source.replace({"training.steps_per_epoch": 2, "training.batch_size": 4}))
    records = task.read(task.spec.data.train)
    task.learn(records)
    encoded = task.encode(records)  # 2 x 22 windows: 11 batches of 4 an epoch uncapped
    task.build_model()
    fitting.fit(task, {"train": encoded}, {"train": records}, verbose=0)
    assert int(task.model.optimizer.iterations) == 2 * 2


@pytest.mark.backend("torch")  # the averaging and the folds are backend-free; see test_ensembles
def test_a_backtest_of_an_ensemble_forecasts_the_mean_of_its_seeds_backtests(tmp_path):
    train = two_series(tmp_path, days=24)
    quantiles = ", quantiles: [0.1, 0.5, 0.9], anchor: last"
    source = spec(train, epochs=1, head=quantiles)
    _, together = backtest(
        source.replace("epochs: 1", "epochs: 1, ensemble: 2"), folds=2, output=str(tmp_path / "e")
    )
    alone = [
        backtest(source.replace("seed: 3", f"seed: {seed}"), folds=2, output=f"{tmp_path}/{seed}")
        for seed in (3, 4)
    ]
    for k, fold in enumerate(together["folds"]):
        for j, forecast in enumerate(fold["forecasts"]):
            for name in ("keras-seq", "keras-seq quantiles"):
                members = [report["folds"][k]["forecasts"][j][name] for _, report in alone]
                np.testing.assert_allclose(forecast[name], np.mean(members, axis=0), atol=1e-5)


def _seasonal_rows(days=42):
    """Two series with a trend, a weekly season and noise, on different scales."""
    rows = []
    for key, level in (("a", 50.0), ("b", 900.0)):
        for day in range(days):
            y = level + 0.3 * day + 4 * np.sin(2 * np.pi * day / 7) + np.sin(day * day + level)
            rows.append((key, np.datetime64("2024-01-01") + day, round(y, 3), 0))
    return rows


def test_holt_winters_anchor_targets_are_the_residual_over_statsmodels_from_each_origin(
    tmp_path,
):
    pytest.importorskip("statsmodels")
    import holt_winters_reference

    train = write_series(tmp_path / "s.csv", _seasonal_rows())
    source = keras_seq.load_spec(spec(train, head=", anchor: holt_winters")).replace(
        {"data.season_length": 7, "data.lookback": 7}
    )
    task = Task.for_spec(source)
    records = task.read(task.spec.data.train)
    task.learn(records)
    encoded = task.encode(records)
    expected = []
    for record in records:
        values = record["series"].values[:, 0]
        scaled = (values - values.mean()) / values.std()
        origins = range(7, 42 - 3 + 1)
        found = holt_winters_reference.forecasts_from_each_origin(scaled, 7, origins, 3)
        expected += [(scaled[o : o + 3] - path)[:, None] for o, path in zip(origins, found)]
    np.testing.assert_allclose(encoded.y, expected, rtol=1e-4, atol=1e-5)
    assert np.abs(encoded.y).mean() < 0.5  # residuals, not the scaled values themselves
    saved = task.export_preprocessing()["holt_winters"]["series"]
    assert saved["a"][0]["alpha"] == pytest.approx(task.state["holt_winters"]["a"][0]["alpha"])


def test_holt_winters_anchor_with_no_correction_kept_is_the_backtest_holt_winters_row(tmp_path):
    pytest.importorskip("statsmodels")
    train = write_series(tmp_path / "s.csv", _seasonal_rows())
    source = keras_seq.load_spec(spec(train, epochs=1, head=", anchor: holt_winters")).replace(
        {
            "data.season_length": 7,
            "data.lookback": 7,
            "input.scaling": "none",  # statsmodels then fits what the backtest row fits
            "head.shrink": 0,
        }
    )
    _, report = backtest(source, folds=2, output=str(tmp_path / "bt"))
    for fold in report["folds"]:
        for forecasts in fold["forecasts"]:
            np.testing.assert_allclose(forecasts["keras-seq"], forecasts["holt_winters"], rtol=1e-5)
        assert fold["keras-seq"]["mae"] == pytest.approx(fold["holt_winters"]["mae"], rel=1e-5)


@pytest.mark.parametrize(
    "anchor, suggested", [("seasonal", "holt_winters"), ("holt_winters", None)]
)
def test_a_model_behind_holt_winters_is_told_to_learn_the_residual_over_it(
    tmp_path, anchor, suggested
):
    source = keras_seq.load_spec(spec(tmp_path / "s.csv")).replace(
        {"data.season_length": 2, "head.anchor": anchor}
    )
    overall = {"keras-seq": {"mase": 1.5}, "naive": {"mase": 1.2}}
    overall |= {"seasonal_naive": {"mase": 0.9}, "holt_winters": {"mase": 0.7}}
    (behind,) = [note for note in notes(overall, source) if note.startswith("keras-seq is behind")]
    assert behind.startswith("keras-seq is behind holt_winters (MASE 1.500 against 0.700)")
    assert re.findall(r"head\.anchor: (\w+)", behind) == ([suggested] if suggested else [])


def test_holt_winters_anchor_without_statsmodels_names_the_extra(tmp_path, monkeypatch):
    from keras_seq.metrics import classical

    monkeypatch.setattr(classical, "available", lambda: False)
    train = write_series(tmp_path / "s.csv", _seasonal_rows())
    task = Task.for_spec(spec(train, head=", anchor: holt_winters"))
    with pytest.raises(DataError, match=r"keras-seq\[forecast\]") as raised:
        task.learn(task.read(task.spec.data.train))
    assert raised.value.field == "head.anchor"


def test_fitting_holt_winters_to_many_series_shows_progress(tmp_path, capsys, monkeypatch):
    pytest.importorskip("statsmodels")
    from keras_seq.tasks import series_forecaster

    rows = [(key + k, *row) for k in "123" for key, *row in _seasonal_rows()]
    task = Task.for_spec(
        spec(write_series(tmp_path / "s.csv", rows), head=", anchor: holt_winters")
    )
    ticks = iter(range(0, 1000, 6))  # each fit "takes" 6 s: a line every second fit
    monkeypatch.setattr(series_forecaster, "monotonic", lambda: next(ticks))
    task.learn(task.read(task.spec.data.train))
    assert len(task.state["holt_winters"]) == 6
    assert capsys.readouterr().err.splitlines() == [
        "fitting Holt-Winters (head.anchor) - series 2/6 - ETA: 24s",
        "fitting Holt-Winters (head.anchor) - series 4/6 - ETA: 12s",
    ]
