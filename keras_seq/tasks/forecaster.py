"""`Forecaster`: the next `head.horizon` values of a series from a window of its past."""

import keras
import numpy as np

from keras_seq.data import DataError, make_windows, readers, window_origins, windows, writers
from keras_seq.data.bundled import BUNDLED
from keras_seq.data.encoding import Encoded, EncodeStats
from keras_seq.tasks import blocks
from keras_seq.tasks.inputs import front
from keras_seq.tasks.task import Task, register_task


def lookback_steps(spec):
    """The steps each window holds: `data.lookback`, else `input.max_length`."""
    steps = spec.get("data.lookback") or spec.input.max_length
    if steps is None:
        raise DataError(
            "a forecaster needs a window length",
            hint="set data.lookback (or input.max_length) to the number of past steps seen",
        )
    return steps


@register_task("forecaster")
class Forecaster(Task):
    """Forecasts numeric series: a record is `{"values": (steps, dim), "targets": (steps, outputs)}`
    (one per series file); training windows are cut from it.

    Reads CSV / JSONL: `data.value_columns` are the model's inputs (default: every column),
    `data.target_columns` the values forecast (default: the value columns); each window holds
    `data.lookback` (default `input.max_length`) steps. Values are used as read: scale them
    before training when their ranges differ widely. `predict` takes windows, each a list of
    `lookback` rows of `input.dim` floats, and returns for each the forecast as a list of
    `head.horizon` rows of `head.outputs` floats.

    A spec that sets `data.time_column` gets the other forecaster registered for
    `head.type: forecaster`, `keras_seq.tasks.series_forecaster.SeriesForecaster` (time
    series: one or many per file, scaled, with covariates and quantiles; see
    docs/forecasting.md).

    Examples:

    >>> import numpy as np, keras_seq
    >>> task = keras_seq.tasks.Task.for_spec('''
    ... input: {kind: features, dim: 1, max_length: 4}
    ... encoder: {cell: gru, units: 8}
    ... head: {type: forecaster, horizon: 2}
    ... seed: 1
    ... ''')
    >>> _ = task.build_model()
    >>> forecast = task.predict([[[0.0], [0.5], [1.0], [0.5]]])[0]
    >>> len(forecast), len(forecast[0])
    (2, 1)
    """

    input_key, target_key = "values", "targets"

    bundled = BUNDLED["forecaster"]
    graph_outputs = "values (batch, head.horizon, head.outputs): the forecast, as trained"
    explains = True

    def lookback(self):
        return lookback_steps(self.spec)

    def columns(self, path):
        """`(input columns, target columns)` for a file (default: every column)."""
        data = self.data_section()
        inputs = data.value_columns
        if inputs is None:
            records = readers.read_records(path, data.format, {}, delimiter=data.delimiter)
            inputs = list(records[0][1])
        targets = list(data.target_columns or inputs)
        return list(inputs), targets

    def read(self, path):
        inputs, targets = self.columns(path)
        self._check_sizes(path, inputs, targets)
        names = inputs + [name for name in targets if name not in inputs]
        data = self.data_section()
        rows = readers.read_series(path, data.format, names, delimiter=data.delimiter)
        rows = np.array(rows, "float32")
        return [
            {
                "values": rows[:, : len(inputs)],
                "targets": rows[:, [names.index(name) for name in targets]],
                "path": str(path),
            }
        ]

    def _check_sizes(self, path, inputs, targets):
        dim, outputs = self.spec.input.dim, self.spec.head.outputs
        if dim is not None and dim != len(inputs):
            raise DataError(
                f"input.dim is {dim} but data.value_columns has {len(inputs)} columns",
                path=path,
                hint=f"set input.dim: {len(inputs)} or change data.value_columns",
            )
        if outputs != len(targets):
            raise DataError(
                f"head.outputs is {outputs} but there are {len(targets)} target columns "
                f"({', '.join(targets)}; data.target_columns defaults to data.value_columns)",
                path=path,
                hint=f"set data.target_columns to {outputs} column(s) or head.outputs: "
                f"{len(targets)}",
            )

    def encode(self, records):
        xs, ys = [], []
        for record in records:
            try:
                x, y = make_windows(
                    record["values"], self.lookback(), self.spec.head.horizon, record["targets"]
                )
            except DataError as err:
                raise DataError(err.reason, path=record.get("path"), hint=err.hint) from None
            xs.append(x)
            ys.append(y)
        x, y = np.concatenate(xs), np.concatenate(ys)
        return Encoded(x, y, stats=EncodeStats(examples=len(x)))

    def encode_inputs(self, inputs):
        windows = np.asarray(inputs, dtype="float32")
        if windows.ndim != 3 or windows.shape[2] != self.spec.input.dim:
            raise DataError(
                f"expected windows of shape (steps, {self.spec.input.dim}), found an array of "
                f"shape {windows.shape[1:]}",
                hint="give each input as a list of rows, one row of input.dim numbers per step",
            )
        return windows

    def build_layers(self):
        spec = self.spec
        features, sequence = front(spec)
        last = blocks.recurrent(spec, spec.encoder, "encoder", return_sequences=False)(sequence)
        values = blocks.dense(spec.head.horizon * spec.head.outputs)(last)
        shape = (spec.head.horizon, spec.head.outputs)
        return features, keras.layers.Reshape(shape, name="forecast")(values)

    def predict_file(self, path):
        """CSV / JSONL with a `prediction` column: on each row whose window (it and the
        `lookback - 1` rows before it) is complete, the forecast of the steps that follow it
        (`head.horizon` rows of `head.outputs` values, flattened); empty on the first rows."""
        data = self.data_section()
        inputs, _ = self.columns(path)
        records = readers.read_records(path, data.format, {}, delimiter=data.delimiter)
        rows = readers.read_series(path, data.format, inputs, delimiter=data.delimiter)
        rows = np.array(rows, dtype="float32")
        lookback = self.lookback()
        origins = window_origins(len(rows), lookback, 0)
        if not len(origins):
            raise DataError(
                f"{len(rows)} rows cannot make one window of lookback {lookback}",
                path=path,
                hint=f"give at least {lookback} rows",
            )
        past = windows(rows, origins, -lookback, 0)
        forecasts = [sum(forecast, []) for forecast in self.predict(past)]
        predictions = [None] * (lookback - 1) + forecasts
        return writers.file_text(path, data, records, [{"prediction": p} for p in predictions])

    def explain_examples(self, path):
        """Every full window of the file's value columns, as `{"values": window}` records."""
        values = self.read(path)[0]["values"]
        origins = window_origins(len(values), self.lookback(), 0)
        return [{"values": window} for window in windows(values, origins, -self.lookback(), 0)]

    def explain_targets(self, item, prediction, output_shape, step=None):
        """Every forecast value (each horizon step, each target column), or those of step `step`."""
        horizon, outputs = output_shape
        if step is not None and not 0 <= step < horizon:
            raise DataError(
                f"--step {step} is past the forecast's {horizon} steps (head.horizon)",
                hint=f"give a step from 0 to {horizon - 1}",
            )
        targets = []
        for h in range(horizon) if step is None else [step]:
            for o in range(outputs):
                weights = np.zeros(output_shape, "float32")
                weights[h, o] = 1.0
                targets.append(({"step": h, "column": o, "value": prediction[h][o]}, weights))
        return targets

    def decode(self, outputs, inputs):
        return np.asarray(outputs, dtype="float64").tolist()
