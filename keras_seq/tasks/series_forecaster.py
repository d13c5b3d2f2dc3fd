"""`SeriesForecaster`: the forecaster on time series (a spec with `data.time_column`).

The data: one or many series per file (`data.series_id_column`), read and checked by
`keras_seq.data.series` (order, duplicates, gaps, `data.fill`). Columns: the targets
(`data.target_columns`, else `data.value_columns`), then `data.past_covariates`, then
`data.future_covariates`; `data.calendar` adds sin/cos features made from the time.
Every column is scaled per series (`input.scaling`, `input.log` for the targets), learned on
the training split; forecasts are returned in the data's units.

The model (design in docs/forecasting.md):

- encoder: `input.dim` = targets + past + future covariates + 2 per calendar feature, over the
  `lookback` steps before the origin (plus the series embedding when `input.series_embedding`);
- with future covariates or calendar features, a decoder (the encoder's cell, one layer, its
  state bridged from the encoder's final state) reads them over the `head.horizon` steps and
  a dense layer maps each decoder step to `head.outputs` values (times the quantiles);
  without, one dense layer maps the encoder's last output to the whole horizon (direct);
- `head.quantiles`: pinball loss and `OrderedQuantiles` (the quantiles never cross);
  `head.anchor: last`: the model predicts the change from the window's last target value;
  `seasonal`: the residual over the seasonal-naive forecast (the last season repeated);
  `holt_winters`: the residual over Holt-Winters, its weights fitted on each training series;
  `input.window_scaling: standard`: each window's targets less their lookback mean, over their
  lookback std (RevIN), in the inputs and the output (`window_frame`).
"""

import inspect
import logging
import sys
import types
from time import monotonic

import keras
import numpy as np

from keras_seq import progress
from keras_seq.data import DataError, window_origins, windows
from keras_seq.data.encoding import Encoded, EncodeStats
from keras_seq.data.series import Scaler, calendar_features, check_length, read_series_table
from keras_seq.layers import StateBridge, TokenEmbedding
from keras_seq.layers.quantiles import OrderedQuantiles
from keras_seq.layers.shrink import Shrink
from keras_seq.losses import PinballLoss
from keras_seq.metrics import classical, shrinkage
from keras_seq.metrics import forecasting as fm
from keras_seq.tasks import blocks
from keras_seq.tasks.forecaster import lookback_steps
from keras_seq.tasks.task import Task, register_task

# What each head.anchor forecasts, in words.
ANCHOR_NAMES = {
    "seasonal": "seasonal naive",
    "last": "the last value",
    "holt_winters": "Holt-Winters",
}

# Added to a window's variance under input.window_scaling (scaled units: the series' std under
# input.scaling: standard), so a flat window's spread is at least 0.1 of a unit.
WINDOW_VARIANCE_FLOOR = 0.01


def history_length(series, targets):
    """Steps up to the last one with a target value (later rows only carry covariates)."""
    present = np.flatnonzero(~np.isnan(series.values[:, :targets]).all(axis=1))
    return int(present[-1]) + 1 if len(present) else 0


@register_task("forecaster", when="data.time_column")
class SeriesForecaster(Task):
    """Forecasts one or many time series; records are `{"id", "series": Series}`.

    The task of a forecaster spec that sets `data.time_column` (one without it gets
    `keras_seq.tasks.Forecaster`). It forecasts from series, not from loose windows: use
    `forecast`, `predict_file` or `evaluate`; `predict` refuses windows, which would miss
    the scaling learned per series.

    Examples:

    >>> import numpy as np, keras_seq
    >>> from keras_seq.data.series import Series, parse_frequency
    >>> task = keras_seq.tasks.Task.for_spec('''
    ... input: {kind: features, dim: 1}
    ... encoder: {cell: gru, units: 4}
    ... head: {type: forecaster, horizon: 2}
    ... data: {format: csv, time_column: t, value_columns: [y], lookback: 3}
    ... seed: 1
    ... ''')
    >>> daily = parse_frequency("1D")
    >>> times = daily.range(np.datetime64("2024-01-01"), 8)
    >>> values, lines = np.arange(8.0)[:, None], np.arange(2, 10)
    >>> series = Series("", times, values, lines, ("y",), "y.csv", daily)
    >>> records = [{"id": "", "series": series}]
    >>> _ = task.learn(records).build_model()
    >>> rows = task.forecast(records)
    >>> [(row["time"], row["step"]) for row in rows]
    [('2024-01-09', 1), ('2024-01-10', 2)]
    """

    input_key = target_key = "series"  # a series holds its targets
    supports_backtest = True  # `keras-seq backtest` uses `forecast_arrays` and `score`
    graph_outputs = (
        "values (batch, head.horizon, head.outputs), with head.quantiles a last axis of one "
        "value per quantile: scaled per series and column (undo with state.scaler: x * scale "
        "+ center, then exp for the columns in log); with head.anchor: last, the change from "
        "the window's last target value (seasonal: the residual over seasonal naive; "
        "holt_winters: over preprocessing.json's holt_winters forecast), times "
        "the share head.shrink kept; with input.window_scaling: standard, in units of the "
        "window's std over the lookback (and over its lookback mean with head.anchor: none)"
    )

    def lookback(self):
        return lookback_steps(self.spec)

    # ---- columns and reading ----

    def column_groups(self):
        """`(targets, past covariates, future covariates)`: lists of column names."""
        data = self.data_section()
        targets = list(data.target_columns or data.value_columns or ())
        if not targets:
            raise DataError(
                "a time-series forecaster needs the columns to forecast",
                hint="set data.target_columns (or data.value_columns)",
            )
        past, future = list(data.past_covariates or ()), list(data.future_covariates or ())
        names = targets + past + future
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise DataError(
                f"column(s) {repeated} are listed twice among targets and covariates",
                hint="name each column once: targets, past_covariates or future_covariates",
            )
        return targets, past, future

    def read(self, path):
        data = self.data_section()
        targets, past, future = self.column_groups()
        self._check_sizes(path, targets, past, future)
        series = read_series_table(
            path,
            data.format,
            targets + past + future,
            time_column=data.time_column,
            series_id_column=data.series_id_column,
            frequency=data.frequency,
            fill=data.fill,
            future_columns=future,
            targets=targets,
        )
        return [{"id": one.id, "series": one, "path": str(path)} for one in series]

    def _check_sizes(self, path, targets, past, future):
        calendar = list(self.spec.get("data.calendar") or ())
        dim = len(targets) + len(past) + len(future) + 2 * len(calendar)
        if self.spec.input.dim != dim:
            parts = f"{len(targets)} target(s) + {len(past)} past + {len(future)} future covariates"
            raise DataError(
                f"input.dim is {self.spec.input.dim} but each step has {dim} values ({parts} "
                f"+ 2 x {len(calendar)} calendar features)",
                path=path,
                hint=f"set input.dim: {dim}",
            )
        if self.spec.head.outputs != len(targets):
            raise DataError(
                f"head.outputs is {self.spec.head.outputs} but there are {len(targets)} target "
                f"column(s) ({', '.join(targets)})",
                path=path,
                hint=f"set head.outputs: {len(targets)}",
            )

    # ---- learning and encoding ----

    def learn_state(self, records):
        targets = len(self.column_groups()[0])
        history = {}
        for record in records:
            series = record["series"]
            history[record["id"]] = series.values[: history_length(series, targets)]
        log = range(targets) if self.spec.input.log else ()
        sources = {record["id"]: record["series"] for record in records}
        scaler = Scaler(self.spec.input.scaling, log).fit(history, sources)
        state = {
            "scaler": scaler.get_state(),
            "series_ids": [record["id"] for record in records],
        }
        if self.spec.head.anchor == "holt_winters":
            state["holt_winters"] = self._smoothing_all(history, scaler, targets)
        return state

    def _smoothing_all(self, history, scaler, targets):
        """`{series id: _smoothing(...)}` for every training series' scaled `history`, with a
        line on standard error at most every `BATCH_INTERVAL_SECONDS` while it lasts (a fit
        takes up to seconds on a long weekly series: a large panel takes minutes)."""
        found, start = {}, monotonic()
        shown = start
        for done, (key, values) in enumerate(history.items(), 1):
            # Not on the windows head.shrink: validation holds out: they judge it unseen.
            kept = self.held_out_origin(len(values)) or len(values)
            found[key] = self._smoothing(scaler.transform(key, values)[:kept, :targets])
            now = monotonic()
            if now - shown >= progress.BATCH_INTERVAL_SECONDS and done < len(history):
                left = (now - start) / done * (len(history) - done)
                print(
                    f"fitting Holt-Winters (head.anchor) - series {done}/{len(history)} - "
                    f"ETA: {progress.duration(left)}",
                    file=sys.stderr,
                    flush=True,
                )
                shown = now
        return found

    def _smoothing(self, scaled_history):
        """Holt-Winters' weights and initial states (`classical.holt_winters_fit`) fitted to
        each target column of a series' scaled history `(steps, targets)`."""
        if not classical.available():
            raise DataError(
                "head.anchor: holt_winters fits Holt-Winters with statsmodels, which is not "
                "installed",
                field="head.anchor",
                hint="pip install 'keras-seq[forecast]', or set head.anchor: last or seasonal",
            )
        season = self.spec.get("data.season_length") or 1
        return [classical.holt_winters_fit(column, season) for column in scaled_history.T]

    def scaler(self):
        return Scaler.from_state(self.state["scaler"])

    def missing_sizes(self):
        """`input.series_embedding` until the training series are known (its table has a
        row per series), so `keras_seq.build` learns them from the spec's data."""
        if self.spec.input.series_embedding and "series_ids" not in self.state:
            return ["input.series_embedding"]
        return []

    def _uses_future(self):
        return bool(self.column_groups()[2] or self.spec.get("data.calendar"))

    def _blocks(self, record, scaler, horizon):
        """`(past rows, future rows, scaled targets, history length)` of one series.

        Past rows `(history, input.dim)`; future rows `(history + horizon, future width)`:
        the future covariates and calendar features of every step, the horizon after the
        history included (NaN where a covariate is not given).
        """
        series = record["series"]
        targets, past, future = (len(group) for group in self.column_groups())
        length = history_length(series, targets)
        scaled = scaler.transform(record["id"], series.values)
        extended = len(series) if len(series) >= length + horizon else length + horizon
        known = np.full((extended, future), np.nan)
        known[: len(series)] = scaled[:, targets + past :]
        calendar = list(self.spec.get("data.calendar") or ())
        if calendar:
            times = series.frequency.range(series.times[0], extended)
            times[: len(series)] = series.times
            known = np.concatenate([known, calendar_features(times, calendar)], axis=1)
        rows = np.concatenate([scaled[:length, : targets + past], known[:length]], axis=1)
        return rows, known, scaled[:, :targets], length

    def _examples(self, blocks_, origins, series_index, record, with_target=True):
        """`(x, y)` of one series' windows at `origins` (int array `(n,)`).

        x: `{"features": (n, lookback, input.dim)}`, plus `"future": (n, horizon, future
        width)` with future covariates or calendar features and `"series": (n, 1)` with a
        series embedding. y: the scaled targets `(n, horizon, head.outputs)` (less the window's
        last target with `head.anchor: last`), None when not `with_target`.
        """
        rows, known, scaled_targets, _ = blocks_
        lookback, horizon = self.lookback(), self.spec.head.horizon
        x = {"features": windows(rows, origins, -lookback, 0)}
        mean, spread = self.window_moments(scaled_targets, origins)
        if self.spec.input.window_scaling != "none":
            targets = scaled_targets.shape[1]
            x["features"][..., :targets] = (x["features"][..., :targets] - mean) / spread
        if self._uses_future():
            x["future"] = self._future(known, origins, record)
        if self.spec.input.series_embedding:
            x["series"] = np.full((len(origins), 1), series_index)
        if not with_target:
            return x, None
        y = windows(scaled_targets, origins, 0, horizon)
        return x, (y - self._base(scaled_targets, origins, mean, record["id"])) / spread

    def window_moments(self, scaled_targets, origins):
        """`(mean, spread)` of each window's targets over the lookback, `(n, 1, targets)`,
        under `input.window_scaling: standard` (0 and 1 under `none`): the mean `mu` and
        `sqrt(var + WINDOW_VARIANCE_FLOOR)`, so a flat window does not blow its targets up.
        The inputs' target columns become `(x - mu) / spread`: windows scaled one by one make
        a trending series' early and late windows look alike (RevIN, Kim et al. 2022), so the
        network need not extrapolate past the levels it trained on."""
        shape = (len(origins), 1, scaled_targets.shape[1])
        if self.spec.input.window_scaling == "none":
            return np.zeros(shape), np.ones(shape)
        past = windows(scaled_targets, origins, -self.lookback(), 0)
        mean = np.nanmean(past, axis=1, keepdims=True)
        return mean, np.sqrt(np.nanvar(past, axis=1, keepdims=True) + WINDOW_VARIANCE_FLOOR)

    def window_frame(self, scaled_targets, origins, key):
        """`(base, spread)`: the model's output `f` is the forecast `base + spread x f` of the
        scaled targets `x` `(steps, targets)` of series `key` at `origins`; `base`
        `(n, horizon, targets)`, `spread` `(n, 1, targets)` (`window_moments`).

        `base`: the anchor (`anchor_values`), or with `head.anchor: none` the window's mean
        (0 without `input.window_scaling`)."""
        mean, spread = self.window_moments(scaled_targets, origins)
        return self._base(scaled_targets, origins, mean, key), spread

    def _base(self, scaled_targets, origins, mean, key):
        """`window_frame`'s base, given the windows' `mean` (`window_moments`)."""
        if self.spec.head.anchor != "none":
            return self.anchor_values(scaled_targets, origins, key)
        return np.broadcast_to(mean, (len(origins), self.spec.head.horizon, mean.shape[2]))

    def anchor_values(self, scaled_targets, origins, key):
        """What the model's output is added to (`head.anchor`), `(n, horizon, targets)`.

        `last`: `base[h] = x[o - 1]`; `seasonal`: the last season repeated,
        `base[h] = x[o - m + (h mod m)]` with `m = data.season_length`, so the network learns
        the residual over the seasonal-naive forecast (of the scaled targets `x`, origins `o`);
        `holt_winters`: Holt-Winters' forecast from each origin, by the recursion over
        `x[:o]` with the weights and initial states fitted to series `key`'s training history
        (`learn_state`; a series unseen in training: fitted to its values before the first
        origin).
        """
        if self.spec.head.anchor == "holt_winters":
            return self._holt_winters(scaled_targets, origins, key)
        season = self.spec.get("data.season_length") or 1
        season = season if self.spec.head.anchor == "seasonal" else 1
        if season > self.lookback():
            raise DataError(
                f"head.anchor: seasonal repeats the last season ({season} steps), longer than "
                f"data.lookback ({self.lookback()})",
                field="data.lookback",
                hint=f"set data.lookback to {season} or more, or head.anchor: last",
            )
        steps = origins[:, None] - season + np.arange(self.spec.head.horizon) % season
        return scaled_targets[steps]

    def _holt_winters(self, scaled_targets, origins, key):
        """`anchor_values` under `head.anchor: holt_winters`."""
        fitted = self.state["holt_winters"].get(key)
        if fitted is None and len(origins):
            fitted = self._smoothing(scaled_targets[: int(origins.min())])
        horizon = self.spec.head.horizon
        if fitted is None:
            return np.zeros((0, horizon, scaled_targets.shape[1]))
        columns = [
            classical.holt_winters_paths(column, weights, origins, horizon)
            for column, weights in zip(scaled_targets.T, fitted)
        ]
        return np.stack(columns, axis=-1)

    def _future(self, known, origins, record):
        """The future rows `(n, horizon, width)` after each origin; a `DataError` naming the
        series when one is missing (left empty, or past the file's last row)."""
        horizon = self.spec.head.horizon
        beyond = max(0, int(origins.max(initial=0)) + horizon - len(known))
        known = np.concatenate([known, np.full((beyond, known.shape[1]), np.nan)])
        future = windows(known, origins, 0, horizon)
        missing = np.isnan(future).any(axis=(1, 2))
        if missing.any():
            series, origin = record["series"], origins[np.argmax(missing)]
            raise DataError(
                f"{series.name}: a future covariate is missing over the {horizon} step(s) "
                f"after {series.times[origin - 1]}",
                path=series.path,
                line=int(series.lines[series.lines > 0][-1]),
                hint="add the horizon's rows after the last target value, with the future "
                "covariates filled in and the targets left empty",
            )
        return future

    def _series_index(self, record):
        ids = self.state["series_ids"]
        return ids.index(record["id"]) if record["id"] in ids else len(ids)

    def encode(self, records):
        lookback, horizon = self.lookback(), self.spec.head.horizon
        scaler = self.scaler()
        xs, ys = [], []
        for record in records:
            blocks_ = self._blocks(record, scaler, horizon)
            check_length(record["series"].head(blocks_[3]), lookback, horizon)
            origins = window_origins(blocks_[3], lookback, horizon)
            x, y = self._examples(blocks_, origins, self._series_index(record), record)
            xs.append(x)
            ys.append(y)
        y = np.concatenate(ys).astype("float32")
        return Encoded(model_inputs(xs), y, stats=EncodeStats(examples=len(y)))

    def export_preprocessing(self):
        """How an exported graph's consumer scales each window and undoes it
        (`input.window_scaling: standard`: `window_moments`, `window_frame`) and computes the
        Holt-Winters anchor (`head.anchor: holt_winters`); nothing otherwise."""
        found = {}
        if self.spec.head.anchor == "holt_winters":
            found["holt_winters"] = {
                "recursion": inspect.cleandoc(classical.holt_winters_paths.__doc__).split("\n\n")[
                    1
                ],
                "units": "scaled target values (after state.scaler), one entry per target column",
                "series": self.state["holt_winters"],
            }
        if self.spec.input.window_scaling == "none":
            return found
        return {
            **found,
            "window_scaling": {
                "variance_floor": WINDOW_VARIANCE_FLOOR,
                "inputs": "in each window, the target columns (the first head.outputs "
                "features, after state.scaler) less their mean over the lookback, over "
                "sqrt(their variance over the lookback + variance_floor): the spread",
                "outputs": "times the spread, plus the anchor (head.anchor), or plus the "
                "window's mean with head.anchor: none, then state.scaler undone",
            },
        }

    def encode_inputs(self, inputs):
        raise DataError(
            "a time-series forecaster forecasts from series, not from loose windows (the "
            "scaling it learned is per series)",
            hint="use task.forecast(task.read(path)) or keras-seq predict RUN --data FILE",
        )

    # ---- shrinking the correction (head.shrink) ----

    def shrinks(self):
        """Whether the model keeps a share of its correction (`head.shrink`: a number, or
        `validation`)."""
        return self.spec.head.anchor != "none" and self.spec.get("head.shrink") not in (
            None,
            "none",
        )

    def held_out_origin(self, length):
        """The first validation origin of a series of `length` target steps under
        `head.shrink: validation` (its last `2 horizon - 1` steps: `horizon` windows), or
        None when the series keeps none (too short to train on what is left)."""
        horizon = self.spec.head.horizon
        first = length - 2 * horizon + 1
        validated = self.shrinks() and self.spec.head.shrink == "validation"
        return first if validated and first >= self.lookback() + horizon else None

    def encode_training(self, records):
        """`encode` of the training split, without the steps held out for `after_fit`."""
        targets = len(self.column_groups()[0])
        kept = []
        for record in records:
            first = self.held_out_origin(history_length(record["series"], targets))
            kept.append(
                record if first is None else {**record, "series": record["series"].head(first)}
            )
        return self.encode(kept)

    def after_fit(self, records):
        """Sets the `Shrink` layer's share from the windows held out of `records` (the
        training split): the share of least MASE (`keras_seq.metrics.shrinkage`), reported in
        `state["shrink"]`; returns it in words (`shrink_text`). A fixed `head.shrink` share
        is set as it is; without `head.shrink`, nothing is done (returns None)."""
        if not self.shrinks():
            return None
        layer = self._model().get_layer("forecast")
        if self.spec.head.shrink != "validation":
            layer.share.assign(float(self.spec.head.shrink))
            self.state["shrink"] = {"share": float(self.spec.head.shrink), "windows": 0}
            return self.shrink_text()
        layer.share.assign(1.0)
        truth, base, correction, scale = self._validation_windows(records)
        share, errors = shrinkage.chosen_weight(truth, base, correction, scale)
        layer.share.assign(share)
        self.state["shrink"] = {
            "share": share,
            "windows": len(truth),
            "mase_network": _finite(errors[-1]),
            "mase_anchor": _finite(errors[0]),
            "mase_kept": _finite(errors[shrinkage.GRID.index(share)]),
        }
        return self.shrink_text()

    def _validation_windows(self, records):
        """`(truth, base, correction, scale)` over the held-out windows, scaled units:
        `(n, horizon, outputs)` thrice (the correction: the model's point output) and each
        window's MASE scale `(n, outputs)` (on its series before the held-out part)."""
        targets, horizon = len(self.column_groups()[0]), self.spec.head.horizon
        season = self.spec.get("data.season_length") or 1
        origins, scales = {}, {}
        for record in records:
            length = history_length(record["series"], targets)
            first = self.held_out_origin(length)
            if first is not None:
                origins[record["id"]] = list(range(first, length - horizon + 1))
                scaled = self.scaler().transform(record["id"], record["series"].values)
                scales[record["id"]] = [
                    fm.in_sample_scale(scaled[:first, c], season) for c in range(targets)
                ]
        cases = self._scaled_forecasts(records, origins) if origins else []
        if not cases:
            empty = np.zeros((0, horizon, targets))
            return empty, empty, empty, np.zeros((0, targets))
        truth, correction = [], []
        for case in cases:
            scaled = self.scaler().transform(case["record"]["id"], case["record"]["series"].values)
            truth.append(scaled[case["origin"] : case["origin"] + horizon, :targets])
            raw = case["raw"]
            correction.append(raw if raw.ndim == 2 else raw[..., self._middle()])
        scale = [[np.nan if v is None else v for v in scales[c["record"]["id"]]] for c in cases]
        base = [case["base"] for case in cases]
        return np.stack(truth), np.stack(base), np.stack(correction), np.asarray(scale)

    def shrink_text(self):
        """The share kept and why, in words (`state["shrink"]`), or None."""
        found = self.state.get("shrink")
        if not found:
            return None
        anchor = ANCHOR_NAMES[self.spec.head.anchor]
        if self.spec.head.shrink != "validation":
            return (
                f"kept {found['share']:g} of the network's correction over {anchor} (head.shrink)"
            )
        if not found["windows"]:
            return (
                "head.shrink: no series is long enough to hold out validation windows "
                f"(2 x head.horizon - 1 steps after lookback + horizon); kept all of the "
                f"network's correction over {anchor}"
            )
        return (
            f"validation MASE ({found['windows']} windows held out of training): network "
            f"{_figure(found['mase_network'])}, {anchor} {_figure(found['mase_anchor'])}: kept "
            f"{found['share']:g} of the network's correction (MASE {_figure(found['mase_kept'])})"
        )

    def shrink_figures(self):
        """`metrics.json`'s figures of the share kept: `correction_kept`, `validation_mase_*`
        (empty without `head.shrink: validation`)."""
        found = self.state.get("shrink")
        if not found:
            return {}
        if "mase_kept" not in found:
            return {"correction_kept": found["share"]}
        return {
            "correction_kept": found["share"],
            "validation_windows": found["windows"],
            "validation_mase_network": found["mase_network"],
            "validation_mase_anchor": found["mase_anchor"],
            "validation_mase_kept": found["mase_kept"],
        }

    # ---- model ----

    def build_layers(self):
        spec = self.spec
        lookback, horizon, outputs = self.lookback(), spec.head.horizon, spec.head.outputs
        quantiles = list(spec.head.quantiles or ())
        width = outputs * max(1, len(quantiles))
        features = keras.Input((lookback, spec.input.dim), name="features")
        inputs, sequence, future = [features], features, None
        if self._uses_future():
            future_width = len(self.column_groups()[2]) + 2 * len(spec.get("data.calendar"))
            future = keras.Input((horizon, future_width), name="future")
            inputs.append(future)
        if spec.input.series_embedding:
            series = keras.Input((1,), dtype="int32", name="series")
            inputs.append(series)
            vector = keras.layers.Flatten()(
                TokenEmbedding(  # Keras' Embedding trains differently on TensorFlow
                    len(self.state["series_ids"]) + 1,
                    spec.input.series_embedding,
                    embeddings_initializer=blocks.initializer("random_uniform", "series"),
                    name="series_embedding",
                )(series)
            )
            sequence = keras.layers.Concatenate()(
                [sequence, keras.layers.RepeatVector(lookback)(vector)]
            )
            if future is not None:
                future = keras.layers.Concatenate()(
                    [future, keras.layers.RepeatVector(horizon)(vector)]
                )
        encoder = blocks.recurrent(
            spec, spec.encoder, "encoder", return_sequences=False, return_state=True
        )
        last, *states = encoder(sequence)
        if future is None:
            values = blocks.dense(horizon * width)(last)
        else:
            stack = types.SimpleNamespace(
                cell=spec.encoder.cell, units=spec.encoder.units, layers=1
            )
            bridge = StateBridge(
                stack.units,
                stack.cell,
                stack.cell,
                directions=2 if spec.encoder.direction == "bidirectional" else 1,
                kernel_initializer=blocks.initializer("glorot_uniform", "bridge/kernel"),
                bias_initializer=blocks.initializer("zeros", "bridge/bias"),
                name="bridge",
            )
            decoded = blocks.recurrent(spec, stack, "decoder")(future, initial_state=bridge(states))
            values = blocks.dense(width)(decoded)
        last_name = "correction" if self.shrinks() else "forecast"
        if not quantiles:
            values = keras.layers.Reshape((horizon, outputs), name=last_name)(values)
        else:
            values = keras.layers.Reshape((horizon, outputs, len(quantiles)))(values)
            values = OrderedQuantiles(quantiles, name=last_name)(values)
        if self.shrinks():
            values = Shrink(self._middle(), name="forecast")(values)
        return inputs, values

    def _middle(self):
        """The index of the quantile nearest 0.5 (the point forecast), None without quantiles."""
        quantiles = self.spec.head.quantiles
        if not quantiles:
            return None
        return min(range(len(quantiles)), key=lambda i: abs(quantiles[i] - 0.5))

    def target_shape(self, output_shape):
        """The output's without its quantile axis: a target is one value per step and column."""
        return list(output_shape[:-1] if self.spec.head.quantiles else output_shape)

    def default_loss(self):
        quantiles = self.spec.head.quantiles
        return PinballLoss(list(quantiles)) if quantiles else "mean_squared_error"

    def default_metrics(self):
        return [] if self.spec.head.quantiles else ["mean_absolute_error"]

    # ---- forecasting ----

    def forecast_arrays(self, records, origins=None):
        """Forecasts in data units: a list of dicts, one per (series, origin), with `record`,
        `origin` (the step index of the first forecast step), `point` `(horizon, outputs)`
        and `quantiles` `(horizon, outputs, Q)` (None without `head.quantiles`).

        `origins`: `{series id: [origin, ...]}`; default: one per series, right after its
        last target value.
        """
        scaler, quantiles = self.scaler(), self.spec.head.quantiles
        targets = len(self.column_groups()[0])
        cases = self._scaled_forecasts(records, origins)
        for case in cases:
            values = case.pop("raw")
            values = values + (case["base"][..., None] if quantiles else case["base"])
            key = case["record"]["id"]
            if quantiles:
                moved = np.moveaxis(values, -1, 1)  # (horizon, Q, outputs)
                data_units = scaler.inverse(key, moved, columns=range(targets))
                case["quantiles"] = np.moveaxis(data_units, 1, -1)
                case["point"] = case["quantiles"][..., self._middle()]
            else:
                case["point"] = scaler.inverse(key, values, columns=range(targets))
                case["quantiles"] = None
        return cases

    def _scaled_forecasts(self, records, origins=None):
        """`forecast_arrays`' cases in scaled units: `record`, `origin`, `base` (the anchor,
        `(horizon, outputs)`) and `raw` (the model's output times the window's spread,
        `(horizon, outputs[, Q])`: `base + raw` is the forecast)."""
        scaler, horizon = self.scaler(), self.spec.head.horizon
        cases, xs = [], []
        for record in records:
            blocks_ = self._blocks(record, scaler, horizon)
            chosen = [blocks_[3]] if origins is None else origins.get(record["id"], [])
            chosen = np.asarray(chosen, dtype="int64")
            check_length(record["series"].head(blocks_[3]), self.lookback(), 0)
            index = self._series_index(record)
            x, _ = self._examples(blocks_, chosen, index, record, with_target=False)
            xs.append(x)
            bases, spreads = self.window_frame(blocks_[2], chosen, record["id"])
            cases += [
                {"record": record, "origin": int(o), "base": base, "spread": spread}
                for o, base, spread in zip(chosen, bases, spreads)
            ]
        if not cases:
            return []
        raw = np.asarray(
            self._model().predict(
                model_inputs(xs), batch_size=self.spec.training.batch_size, verbose=0
            ),
            dtype="float64",
        )
        for case, values in zip(cases, raw):
            spread = case.pop("spread")
            case["raw"] = values * (spread[..., None] if values.ndim == 3 else spread)
        return cases

    def forecast(self, records, origins=None, margin=None):
        """One dict per series and future step: `series`, `origin` (time of the last value
        seen), `time`, `step` (1..horizon), a value per target column and, with quantiles,
        `<target>_q<quantile>` columns.

        `margin`: a conformal margin (`keras_seq.backtesting.interval_margin`): the outer
        quantiles move out by `margin x s`, `s` each series' MASE scale on its history
        (`keras_seq.metrics.conformal.calibrated`), as the backtest calibrated them."""
        from keras_seq.metrics import conformal

        targets = self.column_groups()[0]
        season = self.spec.get("data.season_length") or 1
        rows = []
        for case in self.forecast_arrays(records, origins):
            series, origin = case["record"]["series"], case["origin"]
            if margin is not None:
                scale = conformal.interval_scales(series.values[:origin, : len(targets)], season)
                case["quantiles"] = conformal.calibrated(case["quantiles"], scale, margin)
            times = series.frequency.range(series.times[origin - 1], self.spec.head.horizon, 1)
            for step, time in enumerate(times):
                row = {
                    "series": series.id,
                    "origin": time_text(series.times[origin - 1]),
                    "time": time_text(time),
                    "step": step + 1,
                }
                for column, name in enumerate(targets):
                    row[name] = float(case["point"][step, column])
                    for q, quantile in enumerate(self.spec.head.quantiles or ()):
                        row[f"{name}_q{quantile:g}"] = float(case["quantiles"][step, column, q])
                rows.append(row)
        return rows

    def predict_file(self, path, margin=None):
        """The forecast after the last target value of every series in `path`, one row per
        series and step (see `forecast`, and its `margin`), as CSV or JSONL like the file."""
        from keras_seq.data import writers

        rows = self.forecast(self.read(path), margin=margin)
        return writers.file_text(path, self.data_section(), [(0, {}) for _ in rows], rows)

    def evaluate(self, records, batch_size=None):
        """Forecast errors on labelled series (or a file's path), with the baselines.

        Origins every `head.horizon` steps from `lookback` to the end of each series; the MASE
        scale is the seasonal-naive (`data.season_length`) error on the series before each
        origin. Returns flat `{name: value}`: `mae, rmse, mase, smape` (+ `coverage`,
        `pinball` with quantiles) for the model, and `naive_*` and `seasonal_naive_*`; with
        `mase_skipped_series`, the number of series MASE leaves out (named in a warning).
        """
        if isinstance(records, str) or hasattr(records, "__fspath__"):
            records = self.read(records)
        targets, horizon = len(self.column_groups()[0]), self.spec.head.horizon
        origins = {}
        for record in records:
            length = history_length(record["series"], targets)
            steps = window_origins(length, self.lookback(), horizon, stride=horizon)
            origins[record["id"]] = steps.tolist()
        table = self.score(records, origins)
        flat = {
            (name if method == "keras-seq" else f"{method}_{name}"): value
            for method, scores in table.items()
            for name, value in scores.items()
            if name != "mase_skipped"
        }
        flat.update(self.shrink_figures())
        skipped = table["keras-seq"].get("mase_skipped")
        return {**flat, "mase_skipped_series": len(skipped)} if skipped else flat

    def evaluate_with_tables(self, records, batch_size=None):
        """`(evaluate(records), {})`: a forecaster's tables are its `backtest`."""
        return self.evaluate(records, batch_size), {}

    def score(self, records, origins, cases=None, baselines=None):
        """`{"keras-seq": {...}, "naive": {...}, "seasonal_naive": {...}}`: the errors of the
        forecasts from `origins` (`{series id: [origin, ...]}`) and of the baselines there.

        `baselines`: `{name: forecast(history (steps,), horizon, season) -> (horizon,)}`,
        default `fm.BASELINES`; each case keeps their forecasts (`case["baselines"]`, made
        once). MASE leaves out the series whose scale is 0, by name (`mase_skipped`), with a
        warning (`fm.pooled_mase`).
        """
        targets, horizon = len(self.column_groups()[0]), self.spec.head.horizon
        season = self.spec.get("data.season_length") or 1
        baselines = fm.BASELINES if baselines is None else baselines
        cases = self.forecast_arrays(records, origins) if cases is None else cases
        if not cases:
            raise DataError(
                "no forecast origin with a full horizon after it",
                hint="give longer series (lookback + horizon steps at least)",
            )
        truths, histories, names = [], [], []
        for case in cases:
            values, origin = case["record"]["series"].values[:, :targets], case["origin"]
            truths.append(values[origin : origin + horizon])
            histories.append(values[:origin])
            names.append(case["record"]["id"])
            known = case.setdefault("baselines", {})
            for name, forecast in baselines.items():
                if name not in known:
                    columns = [forecast(h, horizon, season) for h in values[:origin].T]
                    known[name] = np.stack(columns, -1)
        forecasts = {"keras-seq": [case["point"] for case in cases]}
        forecasts.update({name: [c["baselines"][name] for c in cases] for name in baselines})
        table = {
            method: error_table(truths, predictions, histories, season, names)
            for method, predictions in forecasts.items()
        }
        if cases[0]["quantiles"] is not None:
            table["keras-seq"].update(self._interval_scores(truths, cases))
        _warn_skipped(table["keras-seq"].get("mase_skipped"), len(set(names)))
        return table

    def _interval_scores(self, truths, cases):
        """`{coverage, pinball}` of the outer quantiles' interval and of every quantile."""
        truth = np.stack(truths)
        predicted = np.stack([case["quantiles"] for case in cases])
        return {
            "coverage": fm.coverage(truth, predicted[..., 0], predicted[..., -1]),
            "pinball": fm.pinball(truth, predicted, self.spec.head.quantiles),
        }


def _finite(value):
    """A float, or None for NaN (null in JSON)."""
    return None if np.isnan(value) else float(value)


def _figure(value):
    return "undefined" if value is None else f"{value:.3f}"


def _warn_skipped(skipped, series):
    """A visible warning naming the series the pooled MASE leaves out."""
    if skipped and len(skipped) < series:
        shown = ", ".join(map(repr, skipped[:10])) + (" ..." if len(skipped) > 10 else "")
        logging.getLogger(__name__).warning(
            "MASE leaves out %d of %d series whose seasonal-naive error before the origin is 0 "
            "(a constant or exactly repeating history): %s; the pooled MASE is over the others "
            "(their names: mase_skipped); compare them by MAE or sMAPE",
            len(skipped),
            series,
            shown,
        )


def model_inputs(xs):
    """The model's input dict from per-series ones (`_examples`): float32, `series` int32."""
    x = {name: np.concatenate([item[name] for item in xs]).astype("float32") for name in xs[0]}
    if "series" in x:
        x["series"] = x["series"].astype("int32")
    return x


def error_table(truths, predictions, histories, season, names=None):
    """`{mae, rmse, mase, smape}` over forecasts `(horizon, targets)`: MAE, RMSE and sMAPE
    pooled over every point; MASE the mean over forecasts and target columns of each one's
    scaled error, leaving out those whose scale is 0 (`fm.pooled_mase`; their series' names,
    from `names`, in `mase_skipped`)."""
    truth, prediction = np.stack(truths), np.stack(predictions)
    columns = range(truth.shape[-1])
    names = range(len(truths)) if names is None else names
    mase, skipped = fm.pooled_mase(
        [t[:, c] for t in truths for c in columns],
        [p[:, c] for p in predictions for c in columns],
        [h[:, c] for h in histories for c in columns],
        season,
        [name for name in names for _ in columns],
    )
    table = {
        "mae": fm.mae(truth, prediction),
        "rmse": fm.rmse(truth, prediction),
        "mase": mase,
        "smape": fm.smape(truth, prediction),
    }
    if skipped and not np.isnan(mase):
        table["mase_skipped"] = skipped
    return table


def time_text(time):
    """A time as text: a date alone when it falls at midnight."""
    text = str(time)
    return text[:10] if text.endswith("T00:00:00") else text
