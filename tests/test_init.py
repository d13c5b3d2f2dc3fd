"""`keras-seq init`: a starter spec for each bundled data file, and the guesses behind it."""

import importlib.resources
import json
import pathlib

import numpy as np
import pytest

import keras_seq
from keras_seq import cli, runs, starter
from keras_seq.tasks import Task

BUNDLED = sorted(
    p
    for p in (importlib.resources.files("keras_seq") / "datasets").iterdir()
    if p.suffix in (".conllu", ".csv", ".jsonl")
)


# The bundled file's task, by the first word of its name (ner-*: a tagger; load-series: a
# forecaster of many series).
TASK_OF = {"ner": "tagger", "load": "forecaster"}
SPECS = pathlib.Path(__file__).resolve().parents[1] / "specs"


@pytest.mark.parametrize("data", BUNDLED, ids=[p.name for p in BUNDLED])
def test_init_writes_a_valid_spec_that_reads_its_data(tmp_path, data, capsys):
    output = tmp_path / "specs" / "starter.yaml"
    assert cli.main(["init", str(data), "--output", str(output)]) == 0
    assert "wrote" in capsys.readouterr().out
    spec = keras_seq.load_spec(output)
    prefix = data.name.split("-")[0]
    assert spec.head.type == TASK_OF.get(prefix, prefix)
    assert spec.data.train == str(data)
    if "train" in data.name:  # the siblings are found
        assert spec.data.validation == str(data).replace("train", "validation")
        assert spec.data.test == str(data).replace("train", "test")
    task = Task.for_spec(spec)
    records = task.read(spec.data.train)
    if data.name.split("-")[-1].split(".")[0] in ("test", "validation"):
        return  # the same spec as for the training file: built there
    model = task.learn(records).build_model()  # the model the spec describes builds
    assert model.count_params() > 0
    assert output.read_text().startswith("# A starter spec")
    if data.name == "load-series.csv":  # the columns of the hand-written specs/load.yaml
        written = keras_seq.load_spec(SPECS / "load.yaml")
        for field in LOAD_FIELDS:
            assert getattr(spec.data, field) == getattr(written.data, field), field
        assert (spec.input.dim, spec.head.horizon) == (written.input.dim, written.head.horizon)
        assert sorted(r["id"] for r in records) == ["east", "north", "south", "west"]
        assert sorted(t.name for t in model.inputs) == ["features", "future", "series"]


LOAD_FIELDS = (
    "time_column",
    "series_id_column",
    "target_columns",
    "future_covariates",
    "calendar",
    "lookback",
    "season_length",
)


def test_init_refuses_to_overwrite(tmp_path, capsys):
    output = tmp_path / "s.yaml"
    output.write_text("mine")
    assert cli.main(["init", str(BUNDLED[0]), "--output", str(output)]) == 1
    assert "already exists" in capsys.readouterr().err and output.read_text() == "mine"


def test_guesses_a_semicolon_tagger_and_takes_flags(tmp_path):
    path = tmp_path / "pos.csv"
    path.write_text("words;labels\nthe dog runs;DET NOUN VERB\na cat;DET NOUN\n")
    guessed = starter.guess(path)
    assert guessed["task"] == "tagger"
    assert guessed["columns"] == {"tokens_column": "words", "tags_column": "labels"}
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        "\n".join(json.dumps({"q": f"what is {i}", "a": f"it is {i}"}) for i in range(8)) + "\n"
    )
    assert starter.guess(path)["task"] == "seq2seq"
    forced = starter.guess(path, task="classifier", target_column="a")
    assert forced["columns"] == {"text_column": "q", "label_column": "a"}


def test_forecaster_leaves_out_the_index_column(tmp_path):
    path = tmp_path / "series.csv"
    path.write_text("t,y,x\n" + "".join(f"{i},{i * 0.5},{-i}\n" for i in range(10)))
    guessed = starter.guess(path)
    assert guessed["value_columns"] == ["y", "x"] and guessed["target_columns"] == ["y"]


def test_unknown_extension_is_a_data_error(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("hello\n")
    with pytest.raises(keras_seq.DataError, match="name it .conllu, .conll, .csv or .jsonl"):
        starter.guess(path)


# ---- time series ---------------------------------------------------------------------------


def _days(count, start="2024-01-01"):
    return [str(np.datetime64(start) + day) for day in range(count)]


def _write(path, header, rows):
    path.write_text(header + "\n" + "".join(",".join(map(str, row)) + "\n" for row in rows))
    return path


def _series_fields(guessed):
    keys = ("time_column", "series_id_column", "target_columns", "past_covariates")
    keys += ("future_covariates", "calendar", "lookback", "horizon", "season_length", "fill")
    return {key: guessed[key] for key in keys}


def test_one_daily_series_with_a_date_is_a_forecaster(tmp_path):
    values = np.round(10 + np.sin(np.arange(60)), 3)
    path = _write(tmp_path / "co2.csv", "date,value", zip(_days(60), values))
    guessed = starter.guess(path)
    assert guessed["task"] == "forecaster" and guessed["frequency"] == "1D"
    assert _series_fields(guessed) == {
        "time_column": "date",
        "series_id_column": None,
        "target_columns": ["value"],
        "past_covariates": [],
        "future_covariates": [],
        "calendar": ["weekday"],
        "lookback": 28,
        "horizon": 4,  # 5 backtest folds of 7 days would leave too few training windows
        "season_length": 7,
        "fill": "error",
    }


def test_date_not_first_hourly_short_series_and_a_text_column(tmp_path):
    hours = [str(np.datetime64("2024-03-01T00:00") + np.timedelta64(h, "h")) for h in range(60)]
    rows = [(h % 5, "ok", t.replace("T", " ")) for h, t in enumerate(hours)]
    path = _write(tmp_path / "sensor.csv", "reading,note,timestamp", rows)
    guessed = starter.guess(path)
    # 60 steps < the hourly 48 + 7 x 24 (5 backtest folds and 2 horizons of training):
    # horizon 60 // 14, the lookback what is left; the daily season of 24 still fits.
    assert _series_fields(guessed) == {
        "time_column": "timestamp",
        "series_id_column": None,
        "target_columns": ["reading"],
        "past_covariates": [],
        "future_covariates": [],
        "calendar": ["hour", "weekday"],
        "lookback": 32,
        "horizon": 4,
        "season_length": 24,
        "fill": "error",
    }
    assert guessed["unused_columns"] == ["note"] and guessed["frequency"] == "1h"


def test_long_format_finds_ids_and_asks_which_number_is_the_target(tmp_path, capsys):
    rows = [
        (day, region, round(level + np.cos(i), 3), round(20 + np.sin(i / 3), 2), int(i % 7 == 3))
        for region, level in (("north", 100), ("south", 50), ("east", 75))
        for i, day in enumerate(_days(50))
    ]
    path = _write(tmp_path / "load.csv", "day,region,load,temperature,holiday", rows)
    output = tmp_path / "load.yaml"
    assert cli.main(["init", str(path), "--output", str(output)]) == 1
    error = capsys.readouterr().err
    assert "'load', 'temperature' could each be the target" in error
    assert "--target-column" in error and "Traceback" not in error and not output.exists()

    guessed = starter.guess(path, target_column="load")
    assert _series_fields(guessed) == {
        "time_column": "day",
        "series_id_column": "region",
        "target_columns": ["load"],
        "past_covariates": ["temperature"],  # a measurement: known up to the origin
        "future_covariates": ["holiday"],  # a 0/1 code: known ahead
        "calendar": ["weekday"],
        "lookback": 28,
        "horizon": 3,  # 50 // 14: room for 5 backtest folds
        "season_length": 7,
        "fill": "error",
    }
    assert guessed["series"] == 3


def test_long_format_spec_trains_for_an_epoch_and_scores_the_right_series(tmp_path, monkeypatch):
    regions = {"a": 100.0, "b": 10.0}
    days = _days(45)
    steps = np.arange(45)
    truth = {
        r: level + 5 * np.sin(steps * 2 * np.pi / 7) + 0.3 * steps for r, level in regions.items()
    }
    rows = [
        (region, day, round(float(truth[region][i]), 4), int(i % 7 == 5))
        for region in regions
        for i, day in enumerate(days)
    ]
    path = _write(tmp_path / "shops.csv", "shop,date,sales,promo", rows)
    spec_path = tmp_path / "shops.yaml"
    assert cli.main(["init", str(path), "--output", str(spec_path)]) == 0
    run = tmp_path / "run"
    two = ["--set", "training.ensemble=2"]  # of the 5 written: enough to see members train
    assert cli.main(["train", str(spec_path), "--epochs", "1", *two, "--output", str(run)]) == 0
    scores = json.loads((run / "metrics.json").read_text())["train"]
    written = keras_seq.load_spec(str(spec_path))
    lookback, horizon = written.data.lookback, written.head.horizon
    assert (lookback, horizon, written.data.season_length) == (24, 3, 7)
    # The naive baselines, recomputed from the file: origins every horizon from the lookback.
    naive, seasonal = [], []
    for values in truth.values():
        values = np.round(values, 4)
        for origin in range(lookback, 45 - horizon + 1, horizon):
            future = values[origin : origin + horizon]
            naive.append(np.abs(future - values[origin - 1]))
            seasonal.append(np.abs(future - values[origin - 7 : origin - 7 + horizon]))
    assert scores["naive_mae"] == pytest.approx(np.mean(naive), rel=1e-6)
    assert scores["seasonal_naive_mae"] == pytest.approx(np.mean(seasonal), abs=1e-6)
    assert np.isfinite(scores["mae"])
    # Many series: the whole correction, five seeds' networks averaged (one on a large panel).
    assert (written.head.shrink, written.training.ensemble) == ("none", 5)
    assert runs.read_history(run)["member"] == [1.0, 2.0]
    monkeypatch.setattr(starter.series, "ENSEMBLE_STEPS", 2 * 45 - 1)
    assert cli.main(["init", str(path), "--output", str(tmp_path / "large.yaml")]) == 0
    assert keras_seq.load_spec(str(tmp_path / "large.yaml")).training.ensemble == 1


def test_integer_steps_with_series_ids_and_a_monthly_jsonl(tmp_path):
    rows = [(store, week, store * 10 + week % 4) for store in (1, 2) for week in range(30)]
    rows = [(f"s{store}", week, value) for store, week, value in rows]
    guessed = starter.guess(_write(tmp_path / "weeks.csv", "store,week,sales", rows))
    assert (guessed["time_column"], guessed["series_id_column"]) == ("week", "store")
    assert guessed["calendar"] == [] and guessed["frequency"] == "1step"
    path = _write(tmp_path / "steps.csv", "idx,y", [(i, i % 3) for i in range(40)])
    assert starter.guess(path)["task"] == "forecaster" and "time_column" not in starter.guess(path)
    guessed = starter.guess(path, time_column="idx")  # a step column by any name, when told
    assert (guessed["time_column"], guessed["target_columns"]) == ("idx", ["y"])
    months = [str(np.datetime64("2015-01") + m) for m in range(48)]
    path = tmp_path / "monthly.jsonl"
    path.write_text(
        "".join(json.dumps({"month": m, "y": i % 12}) + "\n" for i, m in enumerate(months))
    )
    guessed = starter.guess(path)
    assert (guessed["frequency"], guessed["calendar"], guessed["season_length"]) == (
        "1M",
        ["month"],
        12,
    )


def test_year_only_dates_are_a_time_column_and_the_season_is_read_from_the_series(tmp_path):
    years = np.arange(1700, 1940)
    cycle = 50 + 40 * np.sin(2 * np.pi * (years - 1700) / 11)
    noise = np.random.default_rng(0).normal(0, 3, len(years))
    path = _write(tmp_path / "spots.csv", "year,spots", zip(years, np.round(cycle + noise, 2)))
    guessed = starter.guess(path)
    assert (guessed["time_column"], guessed["frequency"]) == ("year", "1step")
    # An 11-year cycle: the season, the horizon; the lookback two seasons.
    assert (guessed["season_length"], guessed["horizon"], guessed["lookback"]) == (11, 11, 24)
    output = tmp_path / "spots.yaml"
    assert cli.main(["init", str(path), "--output", str(output)]) == 0
    written = keras_seq.load_spec(str(output))
    # A cycle around a mean (Dickey-Fuller rejects a unit root): the network forecasts the
    # level, with no anchor and so no shrink.
    assert (written.head.anchor, written.head.shrink, written.training.ensemble) == (
        "none",
        None,
        1,
    )
    assert "returns to its mean (Dickey-Fuller" in output.read_text()
    assert (written.data.season_length, written.data.time_column) == (11, "year")
    walk = np.round(np.cumsum(np.random.default_rng(1).normal(size=len(years))), 3)
    guessed = starter.guess(_write(tmp_path / "walk.csv", "year,level", zip(years, walk)))
    assert (guessed["season_length"], guessed["horizon"], guessed["lookback"]) == (1, 6, 12)
    short = _write(tmp_path / "short.csv", "year,level", zip(years[:40], walk[:40]))
    guessed = starter.guess(short)  # 40 steps: 5 folds + 2 horizons of training
    assert (guessed["horizon"], guessed["lookback"]) == (2, 12)
    assert guessed["lookback"] + 7 * guessed["horizon"] <= 40


def _anchor_series():
    """`(seasonal, trending, level)`: 120 days with a weekly cycle that wander, trend, and
    stay around a mean."""
    rng = np.random.default_rng(4)
    steps = np.arange(120)
    cycle = 3 * np.sin(2 * np.pi * steps / 7)
    seasonal = 10 + np.cumsum(rng.normal(0, 0.3, 120)) + cycle + rng.normal(0, 0.3, 120)
    trending = 2.0 * steps + cycle + rng.normal(0, 0.3, 120)
    level = 10 + cycle / 6 + rng.normal(0, 1.0, 120)  # noise around a mean, a faint cycle
    return seasonal, trending, level


def test_chosen_anchor_against_a_loop_and_init_writes_it(tmp_path, monkeypatch):
    """Without statsmodels, the better naive forecast before the backtest's folds anchors the
    network: a plain loop over origins and horizon steps gives the same errors, a trending
    file gets `last`, a seasonal one that wanders `seasonal`, and one around a mean `none`."""
    from keras_seq.metrics import classical, stationarity
    from keras_seq.starter.series import FOLDS, chosen_anchor

    monkeypatch.setattr(classical, "available", lambda: False)
    seasonal, trending, level = _anchor_series()
    horizon, season = 5, 7

    def loop_errors(x):
        x = x[: len(x) - FOLDS * horizon]
        scale = np.mean([abs(x[t] - x[t - 1]) for t in range(1, len(x))])
        last, repeat = [], []
        for o in range(season, len(x) - horizon + 1):
            for h in range(horizon):
                last.append(abs(x[o + h] - x[o - 1]) / scale)
                repeat.append(abs(x[o + h] - x[o - season + h % season]) / scale)
        return np.mean(last), np.mean(repeat)

    expected = np.mean([loop_errors(seasonal), loop_errors(trending)], axis=0)
    anchor, errors = chosen_anchor([seasonal, trending], horizon, season)
    assert (errors["last"], errors["seasonal"]) == pytest.approx(tuple(expected), rel=1e-12)
    assert anchor == ("seasonal" if expected[1] < expected[0] else "last")
    assert chosen_anchor([trending], horizon, season)[0] == "last"
    assert chosen_anchor([seasonal], horizon, season)[0] == "seasonal"
    assert chosen_anchor([trending], horizon, 1)[0] == "last"  # no season: no other choice
    # Around a mean: `none`, read on the steps before the folds, with the statistic.
    statistic, _, critical = stationarity.adf(level[: 120 - FOLDS * horizon])
    assert statistic < critical
    assert chosen_anchor([level], horizon, season) == (
        "none",
        {"dickey_fuller": statistic, "critical": critical},
    )
    assert chosen_anchor([level], horizon, 1)[0] == "none"  # with no season too
    assert chosen_anchor([level, trending], horizon, season)[0] == "last"  # not every series
    for values, anchor in ((trending, "last"), (seasonal, "seasonal"), (level, "none")):
        path = _write(
            tmp_path / f"{anchor}.csv", "date,value", zip(_days(120), np.round(values, 4))
        )
        output = tmp_path / f"{anchor}.yaml"
        assert cli.main(["init", str(path), "--output", str(output)]) == 0
        written = keras_seq.load_spec(str(output))
        assert (written.head.anchor, written.data.season_length) == (anchor, 7)
        assert written.head.shrink == (None if anchor == "none" else 0.5)
        assert written.input.window_scaling == ("none" if anchor == "none" else "standard")
        # The comment gives what chose it.
        assert ("Dickey-Fuller" if anchor == "none" else "beat") in output.read_text()


def test_holt_winters_anchors_where_its_error_before_the_folds_is_least(tmp_path):
    """With statsmodels, Holt-Winters joins the candidates: its errors are those of
    statsmodels' Holt-Winters with the weights fitted before the folds, run from each origin,
    and the candidate of least error is chosen and written."""
    pytest.importorskip("statsmodels")
    import holt_winters_reference

    from keras_seq.starter.series import FOLDS, chosen_anchor

    seasonal, trending, _ = _anchor_series()
    horizon, season = 5, 7

    def loop_error(x):
        x = x[: len(x) - FOLDS * horizon]
        origins = range(season, len(x) - horizon + 1)
        found = holt_winters_reference.forecasts_from_each_origin(x, season, origins, horizon)
        truth = np.stack([x[o : o + horizon] for o in origins])
        return np.mean(np.abs(truth - found)) / np.mean(np.abs(np.diff(x)))

    anchor, errors = chosen_anchor([seasonal, trending], horizon, season)
    expected = np.mean([loop_error(seasonal), loop_error(trending)])
    assert errors["holt_winters"] == pytest.approx(expected, rel=1e-6)
    assert anchor == min(errors, key=errors.get) == "holt_winters"
    assert errors["holt_winters"] < 0.5 * errors["seasonal"]  # the trend and the season
    # With no season Holt's linear trend is the candidate; the weekly cycle misleads it here.
    no_season = chosen_anchor([trending], horizon, 1)[1]
    assert set(no_season) == {"last", "holt_winters"}
    assert no_season["holt_winters"] > no_season["last"]
    path = _write(tmp_path / "s.csv", "date,value", zip(_days(120), np.round(seasonal, 4)))
    assert cli.main(["init", str(path), "--output", str(tmp_path / "s.yaml")]) == 0
    written = keras_seq.load_spec(str(tmp_path / "s.yaml"))
    assert (written.head.anchor, written.head.shrink) == ("holt_winters", 0.5)
    assert "the correction over Holt-Winters, whose error before the folds" in (
        (tmp_path / "s.yaml").read_text()
    )


def test_init_plans_enough_training_steps_for_the_windows_it_has(tmp_path):
    """Epochs for about `TRAINING_STEPS` optimizer steps over the file's windows (10 to
    `MOST_EPOCHS`), 10 below `FEW_BATCHES` batches of windows."""
    from keras_seq.starter.series import FEW_BATCHES, MOST_EPOCHS, TRAINING_STEPS

    rng = np.random.default_rng(5)
    written = {}
    for days in (120, 180, 400, 3000):
        values = np.round(np.cumsum(rng.normal(size=days)), 3)
        path = _write(tmp_path / f"d{days}.csv", "date,value", zip(_days(days), values))
        output = tmp_path / f"d{days}.yaml"
        assert cli.main(["init", str(path), "--output", str(output)]) == 0
        spec = keras_seq.load_spec(str(output))
        windows = days - spec.data.lookback - spec.head.horizon + 1
        batches = -(-windows // spec.training.batch_size)
        planned = min(MOST_EPOCHS, max(10, -(-TRAINING_STEPS // batches)))
        written[days] = spec.training.epochs
        assert spec.training.epochs == (planned if batches >= FEW_BATCHES else 10)
        assert f"{batches} batches an epoch" in output.read_text()
    assert written == {120: 10, 180: MOST_EPOCHS, 400: 25, 3000: 10}


def test_detected_season_against_a_numpy_autocorrelation():
    from keras_seq.starter.series import detected_season

    steps = np.arange(300)
    values = 3 * np.sin(2 * np.pi * steps / 7) + 0.01 * steps
    values += np.random.default_rng(2).normal(0, 0.5, 300)
    x = values - np.polyval(np.polyfit(steps, values, 1), steps)
    acf = {k: np.corrcoef(x[k:], x[:-k])[0, 1] for k in range(2, 11)}  # a season's lags
    assert detected_season(values, 10) == 7 == max(acf, key=acf.get)
    assert detected_season(np.random.default_rng(3).normal(size=300), 60) is None


def test_gaps_and_empty_values_are_interpolated(tmp_path):
    rows = [(day, "" if i == 20 else i) for i, day in enumerate(_days(60)) if i != 40]
    guessed = starter.guess(_write(tmp_path / "gappy.csv", "date,value", rows))
    assert guessed["fill"] == "interpolate" and guessed["shortest"] == 60


def test_a_malformed_date_column_is_not_taken_as_time(tmp_path, capsys):
    days = _days(30)
    days[11] = "2024-02-30"  # no such day
    path = _write(tmp_path / "bad.csv", "date,value", zip(days, range(30)))
    with pytest.raises(keras_seq.DataError) as caught:
        starter.guess(path)
    assert (caught.value.field, caught.value.line) == ("date", 13)
    assert "'2024-02-30'" not in str(caught.value) and '"2024-02-30"' in str(caught.value)
    assert "--task" in caught.value.hint
    with pytest.raises(keras_seq.DataError, match="--time-column") as caught:
        starter.guess(path, time_column="date")
    assert (caught.value.field, caught.value.line) == ("date", 13)
    # Beside a text and a label, the bad dates are one more column: a classifier.
    rows = [(d, f"text number {i}", "yes" if i % 2 else "no") for i, d in enumerate(days)]
    guessed = starter.guess(_write(tmp_path / "notes.csv", "when,text,label", rows))
    assert guessed["task"] == "classifier" and "time_column" not in guessed


def test_good_dates_beside_texts_leave_a_classifier(tmp_path):
    rows = [
        (day, user, f"review number {i} of {user}", "good" if i % 3 else "bad")
        for i, day in enumerate(_days(10) * 3)
        for user in (i % 4,)
    ]
    path = _write(tmp_path / "reviews.csv", "date,user,text,label", rows)
    guessed = starter.guess(path)
    assert guessed["task"] == "classifier"
    assert guessed["columns"] == {"text_column": "text", "label_column": "label"}


@pytest.mark.parametrize(
    "header, rows, flags, message",
    [
        (  # a time that repeats with nothing to tell the series apart
            "date,value",
            [(d, i) for i, d in enumerate(_days(5) * 2)],
            [],
            "--series-id-column",
        ),
        (
            "date,value",
            [(d, i) for i, d in enumerate(_days(9))],
            ["--target-column", "vlaue"],
            "did you mean 'value'",
        ),
        (
            "date,city,value",
            [(d, "x", i) for i, d in enumerate(_days(9))],
            ["--target-column", "city"],
            "the target must be numeric",
        ),
        ("date,value", [(d, i) for i, d in enumerate(_days(2))], [], "too short"),
        ("a,b", [(i, i % 2) for i in range(9)], ["--series-id-column", "b"], "--time-column"),
        ("date,id", [(d, k) for d in _days(9) for k in "ab"], [], "no numeric column"),
        ("text,label", [("a b c", "x")] * 4, ["--task", "forecaster"], "no column of numbers"),
        (  # a slip in a column of numbers: named with its line, not taken as text
            "date,value",
            [(d, "n/a" if i == 4 else i) for i, d in enumerate(_days(9))],
            [],
            "data.csv:6: field 'value': \"n/a\" is not a number",
        ),
        (
            "date,value",
            [(d, i) for i, d in enumerate(_days(9))],
            ["--task", "classifier", "--time-column", "date"],
            "--task forecaster",
        ),
    ],
)
def test_user_errors_name_the_column_and_the_flag(tmp_path, capsys, header, rows, flags, message):
    path = _write(tmp_path / "data.csv", header, rows)
    output = tmp_path / "spec.yaml"
    assert cli.main(["init", str(path), "--output", str(output), *flags]) == 1
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error and not output.exists()


NER_LINES = "-DOCSTART- -X- O\n\nEU NNP B-ORG\nrejects VBZ O\n\nPeter NNP B-PER\nSmith NNP I-PER\n"


@pytest.mark.parametrize("name", ["eng-train.conll", "eng.train", "ner-train.txt"])
def test_conll_columns_are_detected_and_ner_gets_an_entity_tagger(tmp_path, name):
    path = tmp_path / name
    path.write_text(NER_LINES)
    (tmp_path / name.replace("train", "dev")).write_text(NER_LINES)
    guessed = starter.guess(path)
    assert guessed == {
        "format": "conll",
        "task": "tagger",
        "columns": {"tokens_column": 0, "tags_column": -1},
        "scheme": "BIO",
    }
    text = starter.spec_text(guessed, path, tmp_path / "spec.yaml")
    assert "  output: crf" in text and "  chars:" in text
    assert "  early_stopping: {monitor: val_entity_f1" in text
    data = yaml_data(text)
    assert data["head"]["output"] == "crf" and data["input"]["chars"]["encoder"] == "cnn"
    assert data["training"]["early_stopping"]["monitor"] == "val_entity_f1"
    assert data["data"]["validation"] == name.replace("train", "dev")
    spec = keras_seq.load_spec(text)
    assert (spec.data.format, spec.data.tokens_column, spec.data.tags_column) == ("conll", 0, -1)


def yaml_data(text):
    import yaml

    return yaml.safe_load(text)


def test_conll_part_of_speech_tags_get_a_plain_tagger_and_index_flags(tmp_path):
    path = tmp_path / "pos.conll"
    path.write_text("the\tDET\tO\ndog\tNOUN\tO\n\t\nruns\tVERB\tO\n")
    guessed = starter.guess(path, target_column="1")
    assert guessed["columns"] == {"tokens_column": 0, "tags_column": 1}
    assert guessed["scheme"] is None
    output = tmp_path / "pos.yaml"
    assert cli.main(["init", str(path), "--target-column", "1", "--output", str(output)]) == 0
    spec = keras_seq.load_spec(output)
    assert (spec.head.output, spec.input.chars, spec.training.early_stopping) == (
        "softmax",
        None,
        None,
    )
    assert Task.for_spec(spec).read(spec.data.train)[1]["tags"] == ["VERB"]
    with pytest.raises(keras_seq.DataError, match="--target-column 'ner' is not a column index"):
        starter.guess(path, target_column="ner")


def test_ten_tab_columns_with_word_ids_are_conllu_whatever_the_extension(tmp_path):
    path = tmp_path / "old.conll"
    path.write_text(
        "1\tDogs\tdog\tNOUN\t_\t_\t2\tnsubj\t_\t_\n2\tbark\tbark\tVERB\t_\t_\t0\troot\t_\t_\n\n" * 2
    )
    assert starter.guess(path)["format"] == "conllu"
    prose = tmp_path / "notes.txt"
    prose.write_text("one line of prose\nand another one\n\nthen more\n")  # counts differ
    with pytest.raises(keras_seq.DataError, match="cannot tell the format"):
        starter.guess(prose)


def test_init_imports_no_keras_or_backend(tmp_path):
    """`init` is a quick command: guessing and writing a spec for each bundled file (a tagger,
    a classifier, a forecaster of series, seq2seq) starts neither Keras nor a backend."""
    import subprocess
    import sys

    script = (
        "import contextlib, io, sys\n"
        "from keras_seq import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    for i, path in enumerate({[str(p) for p in BUNDLED]!r}):\n"
        f"        assert cli.main(['init', path, '--output', f'{tmp_path}/{{i}}.yaml']) == 0\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'keras', 'tensorflow', 'jax', "
        "'torch'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert len(list(tmp_path.glob("*.yaml"))) == len(BUNDLED)


_UNTRAINABLE = {
    # file name, content, what the one message must say
    "one-row.csv": (
        "text,label\nhello world,pos\n",
        "one-row.csv: field 'label': column 'label' "
        "holds 1 distinct label(s) ('pos') in 1 row(s); a classifier needs at least 2",
    ),
    "one-label.jsonl": (
        "".join(json.dumps({"tokens": ["a", "b"], "tags": ["O", "O"]}) + "\n" for _ in range(3)),
        "one-label.jsonl: field 'tags': column 'tags' holds 1 distinct label(s) ('O') in 3 row(s); "
        "a tagger needs at least 2",
    ),
    "one-value.csv": ("y\n5\n", "one-value.csv: 1 row: a forecaster needs at least 2"),
    # numbers in the rows the guess looks at, a text after them: line 603
    "late-text.csv": (
        "y\n" + "".join(f"{i}.5\n" for i in range(600)) + "abc\n3\n",
        "late-text.csv:602: field 'y': column 'y' holds numbers in its first rows, but \"abc\" "
        "here, so a forecaster of it would not train",
    ),
}


@pytest.mark.parametrize("name", sorted(_UNTRAINABLE))
def test_init_refuses_a_file_its_spec_could_not_train_on_saying_why(tmp_path, capsys, name):
    content, message = _UNTRAINABLE[name]
    (tmp_path / name).write_text(content)
    output = tmp_path / "starter.yaml"
    assert cli.main(["init", str(tmp_path / name), "--output", str(output)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{tmp_path}/{message}") and "Fix: " in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not output.exists()


@pytest.mark.backend("torch")
def test_init_shortens_the_window_of_a_short_file_so_its_spec_trains(tmp_path):
    from keras_seq import pipeline

    (tmp_path / "short.csv").write_text("y\n5\n6\n7\n")
    output = tmp_path / "short.yaml"
    assert cli.main(["init", str(tmp_path / "short.csv"), "--output", str(output)]) == 0
    spec = keras_seq.load_spec(output)
    assert spec.input.max_length == 2  # 3 rows: a window of 2 steps and 1 to forecast
    _, encoded = pipeline.dry_run(spec)  # every check training makes before fitting passes
    assert len(encoded["train"].y) == 1  # the one window 3 rows make


def test_the_anchor_is_chosen_on_at_most_choice_series_evenly_spread(monkeypatch):
    from keras_seq.starter import series

    monkeypatch.setattr(series, "CHOICE_SERIES", 4)
    rng = np.random.default_rng(7)
    steps = np.arange(100)
    files = [np.cumsum(rng.normal(size=100)) + k * np.sin(2 * np.pi * steps / 7) for k in range(9)]
    # 9 series, at most 4 scored: every third (ceil(9 / 4)), the first included.
    assert series.chosen_anchor(files, 5, 7) == series.chosen_anchor(files[::3], 5, 7)
    assert series.chosen_anchor(files, 5, 7)[1] != series.chosen_anchor(files[:4], 5, 7)[1]
