"""Run folders: everything one `keras-seq train` produced, written so a half-run never looks done.

A run folder holds:

- `model.keras`: the trained model (`keras.saving.load_model` with only `import keras_seq`);
- `spec.yaml`: the resolved spec (defaults filled, `auto` sizes replaced by the learned ones,
  data paths as used);
- `vocab.txt` (input tokens, line n = id n) and `labels.txt` (tag or class names, or the seq2seq
  target vocabulary), when the model reads tokens;
- `history.csv`: one row per epoch, one column per logged loss and metric, and the epoch's
  `seconds` and training speed (`words_per_second` or `examples_per_second`);
- `metrics.json`: final scores per split, `{"train": {...}, "validation": {...}, "test": {...}}`;
- `classes.json` (classifiers and taggers): per split, each label's precision, recall, F1 and
  support, and the confusion matrix (rows gold, columns predicted, in `labels` order);
- `entities.json` (taggers with BIO / BIOES / IOB1 tags): per split, entity-level precision,
  recall and F1 overall and per entity type (`types`), as seqeval computes them;
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
RECORD = "run"  # metrics.json's section holding the run's record (keras_seq.record)
CURVES = "curves.png"
REPORT = "report.html"
CHECKPOINT = "checkpoint"  # a folder: the last epoch done (keras_seq.checkpoint)
PROGRESS = "progress.json"
LOG_SCALE_RATIO = 30  # a loss spanning more than this factor is drawn on a log axis


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_path(name, parent="runs", now=None):
    """`runs/<name>-<YYYYmmdd-HHMMSS>`: the folder `keras-seq train` writes when given none."""
    stamp = (now or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")
    return pathlib.Path(parent) / f"{name}-{stamp}"


class RunFolder:
    """A context manager that reserves a run folder, yields a temporary folder beside it and
    moves that into place on success.

    Args:
        path: str or path-like. The final folder; it must not exist yet (an existing folder is
            never overwritten).
        unique: bool. When `path` is taken, use the first free `path-2`, `path-3`, ... instead
            of failing (for default names: two runs started in the same second never collide);
            `.path` is then the folder used.

    Entering creates the final folder, empty, with an exclusive `mkdir`: it reserves the name
    (a second run given the same `--output` fails at once, before it reads any data) and it is
    how a taken name is found, with no window between the check and the claim. On leaving the
    block without an error, the partial folder replaces the empty one (an atomic `os.replace`
    on one file system); with an error (`KeyboardInterrupt` and `SystemExit` included) both are
    removed and the error propagates, unless the partial folder holds a checkpoint
    (`checkpoint/progress.json`): then it takes the final name, resumable (`last_kept`), and
    `RunFolder(path, resume=True)` turns it back into the partial folder. `keras-seq train`
    turns SIGTERM into `SystemExit`, so a `kill` or `timeout` is handled like Ctrl-C.
    """

    last_kept = None  # the folder the latest interrupted block left resumable, if any
    _made = ()  # the folders above `path` that entering created

    def __init__(self, path, unique=False, resume=False):
        self.path = pathlib.Path(path)
        self.unique = unique
        self.resume = resume
        self.partial = None
        self._reserved = False

    def __enter__(self):
        RunFolder.last_kept = None
        if self.resume:  # the resumable folder becomes the partial one again
            return self._reopen()
        base, number = self.path, 1
        # Folders this run creates above its own: removed again if it fails.
        self._made = [parent for parent in self.path.parents if not parent.exists()]
        while True:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.path.mkdir()
                break
            except FileExistsError:
                if not self.path.parent.is_dir():
                    raise OSError(f"cannot create {self.path}: a parent is a file") from None
                if not self.unique:
                    raise FileExistsError(
                        f"{self.path} already exists: choose another --output"
                    ) from None
                number += 1
                self.path = base.with_name(f"{base.name}-{number}")
            except OSError as error:
                raise OSError(f"cannot create {self.path}: {error.strerror}") from None
        self._reserved = True
        self.partial = pathlib.Path(
            tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent)
        )
        self.partial.chmod(0o777 & ~_umask())  # mkdtemp makes it private
        return self.partial

    def _reopen(self):
        """Moves the resumable folder to a new partial folder beside it; an `OSError` (a
        read-only or full disk) names the run folder, never the hidden partial one, and
        leaves the run as it was."""
        try:
            self.partial = pathlib.Path(
                tempfile.mkdtemp(
                    prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent
                )
            )
        except OSError as error:
            raise OSError(
                f"cannot resume {self.path}: {error.strerror} in {self.path.parent}, where the "
                "run is continued. Fix: make it writable, or copy the run folder to a writable "
                "disk and resume the copy"
            ) from None
        os.replace(self.path, self.partial)
        self.path.mkdir()
        self._reserved = True
        return self.partial

    def __exit__(self, kind, error, traceback):
        if kind is None:
            os.replace(self.partial, self.path)  # onto the empty reserved folder
        elif (self.partial / CHECKPOINT / PROGRESS).is_file():
            for entry in self.partial.iterdir():  # only the checkpoint: never complete-looking
                if entry.name != CHECKPOINT:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            os.replace(self.partial, self.path)  # resumable: `keras-seq train --resume`
            RunFolder.last_kept = self.path
        else:
            shutil.rmtree(self.partial, ignore_errors=True)
            if self._reserved:
                shutil.rmtree(self.path, ignore_errors=True)
            for parent in self._made:  # deepest first; one another run now uses stays
                try:
                    parent.rmdir()
                except OSError:
                    break
        return False


def check_writable(path, option=None):
    """Raises `OSError` with a one-line message naming `path` (and the command-line `option`
    it came from) unless a file can be written there: not a folder, in a folder that exists
    and can be written. Commands call it before their work, not after."""
    path = pathlib.Path(path)
    parent = path.parent
    reason = None
    if path.is_dir():
        reason = "it is a folder; give a file name"
    elif not parent.is_dir():
        reason = f"the folder {parent} {'is a file' if parent.exists() else 'does not exist'}"
    elif not os.access(parent, os.W_OK):
        reason = f"permission denied in {parent}"
    if reason:
        raise OSError(f"cannot write {f'{option} ' if option else ''}{path}: {reason}")


def check_not_input(output, inputs, option="--output"):
    """Raises `FileExistsError` naming `option` when the file `output` would overwrite an
    input: one of `inputs` (the same path, or the same file through a link), or an existing
    file inside an input folder (a run folder's `model.keras`). Commands call it before their
    work, so an input is never overwritten.

    Example:

    >>> import pathlib, tempfile
    >>> from keras_seq import runs
    >>> data = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = data.write_text("text,label\\n")
    >>> runs.check_not_input(data, [data], "--output")
    Traceback (most recent call last):
    FileExistsError: --output ... is an input (...): give another file name (inputs are ...)
    """
    output = pathlib.Path(output)
    for given in map(pathlib.Path, inputs):
        inside = given.is_dir() and output.exists() and given.resolve() in output.resolve().parents
        if output.resolve() == given.resolve() or inside or _same_file(output, given):
            raise FileExistsError(
                f"{option} {output} is an input ({given}): give another file name (inputs are "
                "never overwritten)"
            )


def _same_file(one, other):
    try:
        return one.exists() and other.exists() and one.samefile(other)
    except OSError:
        return False


def check_free(path, option="--output"):
    """Raises `FileExistsError` naming `option` when the folder `path` is taken; commands that
    write a new folder call it before their work (`RunFolder` claims it atomically later)."""
    if path is not None and os.path.lexists(path):
        raise FileExistsError(f"{path} already exists: choose another {option}")


def write_text_atomic(path, text):
    """Writes `text` (str, or bytes written as they are) to `path` through a temporary file in
    the same folder and `os.replace`; an `OSError` names `path`, never the temporary file."""
    path = pathlib.Path(path)
    check_writable(path)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    except OSError as error:
        raise OSError(f"cannot write {path}: {error.strerror}") from None
    try:
        binary = isinstance(text, bytes)
        options = {"mode": "wb"} if binary else {"mode": "w", "encoding": "utf-8", "newline": ""}
        with os.fdopen(handle, **options) as file:
            file.write(text)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def finite_json(data):
    """`data` as standard JSON text (indented, newline-ended): NaN and infinities, which
    `json.dumps` would write as the non-standard `NaN`/`Infinity`, become null.

    Examples:

    >>> from keras_seq.runs import finite_json
    >>> print(finite_json({"mase": float("nan"), "mae": [0.5, float("inf")]}), end="")
    {
      "mase": null,
      "mae": [
        0.5,
        null
      ]
    }
    """

    def plain(value):
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(item) for item in value]
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value

    return json.dumps(plain(data), indent=2, allow_nan=False) + "\n"


def write_metrics(folder, metrics, record=None):
    """Writes `metrics.json`: split -> metric name -> number (NaN/inf, and None for a figure
    nothing was scored for, written as null), and the run's `record` (`keras_seq.record`)
    as its `run` section."""
    plain = {
        split: {name: None if value is None else float(value) for name, value in scores.items()}
        for split, scores in metrics.items()
    }
    if record is not None:
        plain[RECORD] = record
    write_text_atomic(pathlib.Path(folder) / METRICS, finite_json(plain))


def write_tables(folder, tables):
    """Writes each task table as `NAME.json`: `tables` is split -> table name -> data."""
    names = {name for split_tables in tables.values() for name in split_tables}
    for name in sorted(names):
        data = {split: t[name] for split, t in tables.items() if name in t}
        text = json.dumps(data, indent=2) + "\n"
        write_text_atomic(pathlib.Path(folder) / f"{name}.json", text)


def write_history(history, path):
    """Writes `history.csv`: an `epoch` column (1, 2, ...), then one column per name of
    `history` (Keras' `History.history` form)."""
    names = list(history)
    epochs = len(history[names[0]]) if names else 0
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["epoch", *names])
        for epoch in range(epochs):
            writer.writerow([epoch + 1, *(float(history[name][epoch]) for name in names)])


def write_run(folder, task, history, metrics, tables, record=None):
    """Writes a trained run's files into `folder`: the model, the resolved spec, the
    vocabularies, `history.csv`, `curves.png`, `metrics.json` (with the run's `record`) and
    the task's tables (the report is `keras_seq.report.write`'s)."""
    folder = pathlib.Path(folder)
    task.save(folder / MODEL)
    write_text_atomic(folder / SPEC, task.spec.to_yaml())
    for name in ("vocab", "labels"):
        if name in task.state:
            task.state[name].save(folder / f"{name}.txt")
    write_history(history, folder / HISTORY)
    plot_curves(history, folder / CURVES)
    write_metrics(folder, metrics, record)
    write_tables(folder, tables)


def read_metrics(folder):
    """A run's `metrics.json` scores: `{split: {metric: value}}` (its `run` section, the
    record, is `read_record`'s).

    Raises:
        keras_seq.DataError: the file is not JSON holding an object (truncated, edited).
    """
    return {
        split: scores for split, scores in _read_metrics_file(folder).items() if split != RECORD
    }


def _read_metrics_file(folder):
    from keras_seq.data import DataError

    path = pathlib.Path(folder) / METRICS
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        metrics = error
    if not isinstance(metrics, dict):
        raise DataError(
            f"not a run's metrics file (damaged or truncated: {str(metrics)[:100]})",
            path=path,
            hint="delete it (the run is used without its scores), or train the run again",
        )
    return metrics


def read_record(folder):
    """The run's record (`metrics.json`'s `run` section), or None for a run trained before
    runs had one; raises as `read_metrics`."""
    return _read_metrics_file(folder).get(RECORD)


def read_history(folder):
    """`history.csv` as a dict: column name -> list of floats (`epoch` included)."""
    with open(pathlib.Path(folder) / HISTORY, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    names = list(rows[0]) if rows else []
    return {name: [float(row[name]) for row in rows] for name in names}


def plot_curves(history, path):
    """Writes `curves_figure(history)` as a PNG file at `path`."""
    from matplotlib import pyplot

    figure = curves_figure(history)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)


def _about_the_run(name):
    """Whether a `history.csv` column measures the run, not the model (no curve drawn)."""
    return name in ("epoch", "member", "learning_rate", "seconds") or name.endswith("_per_second")


def _drawn(name):
    """Whether a quantity gets a panel: all but the entity scores other than F1 (the
    precision, recall and per-type figures of `keras_seq.metrics.entity_callback`)."""
    return not name.startswith("entity_") or name == "entity_f1"


def curves_figure(history):
    """A matplotlib figure: one panel per quantity (loss first), train against validation,
    per epoch; a quantity logged on validation only (a tagger's `val_entity_f1`) has its one
    curve.

    Epoch ticks are whole numbers; a loss whose finite values span more than a factor of
    `LOG_SCALE_RATIO` gets a logarithmic axis. Non-finite values (a run that diverged) are
    not drawn: the panel says in words at which epoch the values stopped being finite, and
    a panel with no finite value at all holds only that note, never blank axes.

    Args:
        history: dict. Name -> per-epoch values, as Keras' `History.history` (`loss`,
            `val_loss`, `accuracy`, `val_accuracy`, ...); the `epoch`, `member`, `learning_rate`,
            `seconds` and `*_per_second` columns are not drawn.

    Returns:
        A `matplotlib.figure.Figure` (close it with `pyplot.close` when done).
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot, ticker

    names = [n.removeprefix("val_") for n in history]
    names = [n for n in dict.fromkeys(names) if not _about_the_run(n) and _drawn(n)]
    names.sort(key=lambda n: n != "loss")
    figure, axes = pyplot.subplots(
        1, max(1, len(names)), figsize=(5 * max(1, len(names)), 3.6), squeeze=False
    )
    for axis, name in zip(axes[0], names):
        _curve_panel(axis, name, history, ticker)
    figure.tight_layout()
    return figure


def _curve_panel(axis, name, history, ticker):
    """Draws one quantity's train and validation curves on `axis` (see `curves_figure`)."""
    notes, finite = [], []
    for label, key in (("train", name), ("validation", f"val_{name}")):
        if key not in history:
            continue
        values = [float(v) for v in history[key]]
        epochs = [e for e, v in enumerate(values, 1) if math.isfinite(v)]
        kept = [v for v in values if math.isfinite(v)]
        finite.extend(kept)
        if epochs:
            axis.plot(epochs, kept, marker="o", label=label)
        bad = next((e for e, v in enumerate(values, 1) if not math.isfinite(v)), None)
        if bad is not None:
            notes.append(f"{label} {name} is {values[bad - 1]} from epoch {bad} on")
    axis.set_title(name)
    axis.set_xlabel("epoch")
    axis.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    axis.grid(alpha=0.3)
    if finite:
        axis.legend()
        low, high = min(finite), max(finite)
        if name == "loss" and low > 0 and high / low > LOG_SCALE_RATIO:
            axis.set_yscale("log")
    if notes:
        axis.text(
            0.5,
            0.5,
            "the run diverged:\n" + "\n".join(notes),
            transform=axis.transAxes,
            ha="center",
            va="center",
            color="firebrick",
            wrap=True,
            bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "firebrick"},
        )
