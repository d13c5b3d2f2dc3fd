"""Experiment tracking (`training.tracking`): TensorBoard event files and an MLflow run.

- `tensorboard: true`: Keras' `TensorBoard` callback writes every epoch's logged values
  (`epoch_loss`, `epoch_val_loss`, ..., the speed figures keras-seq adds) under the run
  folder's `tensorboard/` (`train/` and `validation/` event files).
- `mlflow: {tracking_uri, experiment}`: through MLflow's client API, one MLflow run per
  training: the resolved spec flattened as params (`training.learning_rate`, ...), every
  epoch's logged values as metrics (step = epoch, from 0), the final metrics of each split
  (`test_accuracy`, ...) and the run folder's files as artifacts; its status is FINISHED, or
  FAILED when training stops with an error.
"""

import contextlib
import importlib.util
import math
import numbers
import pathlib

import keras

from keras_seq.spec import Problem, SpecError

TENSORBOARD = "tensorboard"  # the folder of the event files, inside the run folder


def flatten(data, prefix=""):
    """Nested dicts as one level, keys joined with dots; lists and the rest as text.

    >>> flatten({"training": {"epochs": 2, "metrics": ["accuracy"]}, "seed": None})
    {'training.epochs': '2', 'training.metrics': "['accuracy']", 'seed': 'None'}
    """
    flat = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def numbers_of(metrics, prefix=""):
    """The finite numbers of a (nested) metrics dict, keys joined with `_`.

    >>> numbers_of({"test": {"accuracy": 0.5, "loss": float("nan"), "types": {"PER": 1}}})
    {'test_accuracy': 0.5, 'test_types_PER': 1.0}
    """
    found = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            found.update(numbers_of(value, f"{name}_"))
        elif isinstance(value, numbers.Real) and math.isfinite(value):
            found[name] = float(value)
    return found


class Tracker:
    """One training's tracking: `callbacks` for `fit`, then `finish(metrics)`.

    Args:
        spec: the resolved `keras_seq.Spec` (its `training.tracking` says what to log).
        folder: pathlib.Path. The run folder being written.
    """

    def __init__(self, spec, folder):
        self.spec, self.folder = spec, folder
        self.options = spec.training.tracking
        self.client = self.run_id = None
        _check_installed(self.options)
        if self.options.mlflow is not None:
            self._start_mlflow()

    def _start_mlflow(self):
        from mlflow.entities import Param
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient

        options = self.options.mlflow
        name = options.experiment or self.spec.name or "keras-seq"
        try:
            self.client = MlflowClient(tracking_uri=options.tracking_uri)
            experiment = self.client.get_experiment_by_name(name)
            experiment_id = (
                experiment.experiment_id if experiment else self.client.create_experiment(name)
            )
        except MlflowException as error:
            # e.g. MLflow 3's file store refuses to start unless MLFLOW_ALLOW_FILE_STORE=true
            raise SpecError(
                [
                    Problem(
                        "training.tracking.mlflow.tracking_uri",
                        f"MLflow cannot use it: {error.message}",
                        found=options.tracking_uri,
                    )
                ]
            ) from None
        run = self.client.create_run(experiment_id, run_name=self.spec.name)
        self.run_id = run.info.run_id
        params = [Param(k, v[:6000]) for k, v in flatten(self.spec.to_dict()).items()]
        for start in range(0, len(params), 100):  # MLflow takes at most 100 per batch
            self.client.log_batch(self.run_id, params=params[start : start + 100])

    def callbacks(self):
        """The Keras callbacks that log every epoch (run them after those that fill the logs)."""
        found = []
        if self.options.tensorboard:
            log_dir = str(self.folder / TENSORBOARD)
            found.append(keras.callbacks.TensorBoard(log_dir, write_graph=False))
        if self.client is not None:
            found.append(_EpochMetrics(self.client, self.run_id))
        return found

    def finish(self, metrics):
        """Logs the final `metrics` (`{split: {name: value}}`) and the run folder's files."""
        if self.client is None:
            return
        self.client.log_batch(
            self.run_id,
            metrics=[_metric(name, value, 0) for name, value in numbers_of(metrics).items()],
        )
        self.client.log_artifacts(self.run_id, str(self.folder))
        self.client.set_terminated(self.run_id, "FINISHED")
        self.client = None

    def fail(self):
        if self.client is not None:
            self.client.set_terminated(self.run_id, "FAILED")
            self.client = None


@contextlib.contextmanager
def tracking(spec, folder):
    """A `Tracker` for the block; its MLflow run is marked FAILED if the block raises."""
    tracker = Tracker(spec, folder)
    try:
        yield tracker
    except BaseException:
        tracker.fail()
        raise


def for_member(callbacks, member):
    """Points the TensorBoard callback among `callbacks` at `tensorboard/member-K` for the
    seed-ensemble member K (from 1): each member counts its epochs from 0, so each gets a run
    of its own in TensorBoard."""
    for callback in callbacks:
        if isinstance(callback, keras.callbacks.TensorBoard):
            root = pathlib.Path(callback.log_dir)
            root = root.parent if root.name.startswith("member-") else root
            callback.log_dir = str(root / f"member-{member}")


class _EpochMetrics(keras.callbacks.Callback):
    """Logs every epoch's finite logged values to an MLflow run (step: the epoch, from 0; the
    members of a seed ensemble, whose epochs each count from 0, one after the other)."""

    def __init__(self, client, run_id):
        super().__init__()
        self.client, self.run_id, self.step = client, run_id, -1

    def on_epoch_end(self, epoch, logs=None):
        self.step = max(epoch, self.step + 1)
        found = numbers_of({k: _float(v) for k, v in (logs or {}).items()})
        metrics = [_metric(name, value, self.step) for name, value in found.items()]
        if metrics:
            self.client.log_batch(self.run_id, metrics=metrics)


def _float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _metric(name, value, step):
    import time

    from mlflow.entities import Metric

    return Metric(name, value, int(time.time() * 1000), step)


def _check_installed(options):
    """Raises `SpecError` naming the field and the install when its library is missing."""
    needs = []
    if options.tensorboard:
        needs.append(("training.tracking.tensorboard", "tensorflow", "keras-seq[tensorflow]"))
    if options.mlflow is not None:
        needs.append(("training.tracking.mlflow", "mlflow", "keras-seq[track]"))
    problems = [
        Problem(
            field,
            f"needs the {module} package, which is not installed",
            allowed=f"pip install {extra}, or remove the field",
        )
        for field, module, extra in needs
        if importlib.util.find_spec(module) is None
    ]
    if problems:
        raise SpecError(problems)
