"""Run folders: everything one `keras-seq train` produced, written so a half-run never looks done.

A run folder holds:

- `model.keras`: the trained model (`keras.saving.load_model` with only `import keras_seq`);
- `spec.yaml`: the resolved spec (defaults filled, `auto` sizes replaced by the learned ones,
  data paths as used);
- `vocab.txt` (input tokens, line n = id n) and `labels.txt` (tag or class names, or the seq2seq
  target vocabulary), when the model reads tokens;
- `history.csv`: one row per epoch, one column per logged loss and metric;
- `metrics.json`: final scores per split, `{"train": {...}, "validation": {...}, "test": {...}}`;
- `curves.png`: loss and metric per epoch, train against validation.

`RunFolder` builds all of it in a hidden `.NAME-TIMESTAMP.partial` folder beside the final one
and renames it into place only when every file is written; an error or Ctrl-C removes the
partial folder, so a folder named `NAME-TIMESTAMP` is always complete.

Example:

>>> import pathlib, tempfile
>>> import keras_seq.runs
>>> parent = tempfile.mkdtemp()
>>> with keras_seq.runs.RunFolder(f"{parent}/demo") as folder:
...     keras_seq.runs.write_metrics(folder, {"test": {"loss": 0.5}})
>>> sorted(p.name for p in pathlib.Path(parent).iterdir())
['demo']
"""

import csv
import datetime
import json
import math
import os
import pathlib
import shutil
import tempfile

MODEL = "model.keras"
SPEC = "spec.yaml"
VOCAB = "vocab.txt"
LABELS = "labels.txt"
HISTORY = "history.csv"
METRICS = "metrics.json"
CURVES = "curves.png"


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_path(name, parent="runs", now=None):
    """`runs/<name>-<YYYYmmdd-HHMMSS>`: the folder `keras-seq train` writes when given none."""
    stamp = (now or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")
    return pathlib.Path(parent) / f"{name}-{stamp}"


class RunFolder:
    """A context manager that yields a temporary folder and renames it to `path` on success.

    Args:
        path: str or path-like. The final folder; it must not exist yet (an existing folder is
            never overwritten).

    On leaving the block without an error the partial folder is renamed to `path` (an atomic
    `os.replace` on one file system); with an error (`KeyboardInterrupt` included) it is
    removed and the error propagates.
    """

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.partial = None

    def __enter__(self):
        if self.path.exists():
            raise FileExistsError(f"{self.path} already exists: choose another --output")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.partial = pathlib.Path(
            tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent)
        )
        self.partial.chmod(0o777 & ~_umask())  # mkdtemp makes it private
        return self.partial

    def __exit__(self, kind, error, traceback):
        if kind is None:
            if self.path.exists():
                shutil.rmtree(self.partial, ignore_errors=True)
                raise FileExistsError(
                    f"{self.path} appeared while training: choose another --output"
                )
            os.replace(self.partial, self.path)
        else:
            shutil.rmtree(self.partial, ignore_errors=True)
        return False


def write_text_atomic(path, text):
    """Writes `text` to `path` through a temporary file in the same folder and `os.replace`."""
    path = pathlib.Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _plain_number(value):
    value = float(value)
    return value if math.isfinite(value) else None


def write_metrics(folder, metrics):
    """Writes `metrics.json`: split -> metric name -> number (NaN/inf written as null)."""
    plain = {
        split: {name: _plain_number(value) for name, value in scores.items()}
        for split, scores in metrics.items()
    }
    write_text_atomic(pathlib.Path(folder) / METRICS, json.dumps(plain, indent=2) + "\n")


def read_metrics(folder):
    return json.loads((pathlib.Path(folder) / METRICS).read_text(encoding="utf-8"))


def read_history(folder):
    """`history.csv` as a dict: column name -> list of floats (`epoch` included)."""
    with open(pathlib.Path(folder) / HISTORY, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    names = list(rows[0]) if rows else []
    return {name: [float(row[name]) for row in rows] for name in names}


def plot_curves(history, path):
    """Draws one panel per quantity (loss first), train against validation, per epoch.

    Args:
        history: dict. Name -> per-epoch values, as Keras' `History.history` (`loss`,
            `val_loss`, `accuracy`, `val_accuracy`, ...); an `epoch` column is ignored.
        path: str or path-like. The PNG file to write.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    names = [n for n in history if not n.startswith("val_") and n not in ("epoch", "learning_rate")]
    names.sort(key=lambda n: n != "loss")
    figure, axes = pyplot.subplots(
        1, max(1, len(names)), figsize=(5 * max(1, len(names)), 3.6), squeeze=False
    )
    for axis, name in zip(axes[0], names):
        epochs = range(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], marker="o", label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], marker="o", label="validation")
        axis.set_title(name)
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
