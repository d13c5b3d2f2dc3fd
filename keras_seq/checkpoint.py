"""The checkpoint `keras-seq train` writes after every epoch in its run's `checkpoint/` folder,
and `keras-seq train --resume` continues from.

It holds everything the remaining epochs of a seeded run depend on, so a resumed run ends with
the weights an uninterrupted one ends with:

- `model-E.keras`: the model after epoch E, with its optimizer state, spec and vocabularies
  (`Task.save`);
- `progress.json`: E, the backend that trained it, the history so far, the state of the
  dropout seed generators (which a `.keras` file does not hold:
  `keras_seq.training.random_state`), and what early stopping and the plateau schedule
  remember between epochs (patience count, best value, best epoch), and the ensemble member in
  training (`keras_seq.ensembles`, whose finished members are in `members/`);
- `best-E.npz`: early stopping's best weights so far, when it restores them at the end.

The batches of an epoch depend on `(seed, epoch)` alone (`keras_seq.training.EpochBatches`).
`progress.json` is written last, atomically, and names the files of its epoch; the files of
the epoch before are removed only then. A crash while a checkpoint is written leaves the
previous one whole.
"""

import json
import logging
import pathlib
import zipfile

import keras
import numpy as np

from keras_seq import runs, training
from keras_seq.data import DataError

_PROGRESS = {"epoch": int, "model": str, "history": dict, "random_state": list, "callbacks": list}
# What each Keras callback remembers between epochs (all reset by its `on_train_begin`).
_REMEMBERED = {
    keras.callbacks.EarlyStopping: ("wait", "best", "best_epoch"),
    keras.callbacks.ReduceLROnPlateau: ("wait", "best", "cooldown_counter"),
}


def save(folder, task, epoch, history, callbacks=(), member=0):
    """Writes the checkpoint of `epoch` (epochs done) into `folder`.

    Args:
        folder: path-like. The run's `checkpoint` folder (it exists).
        task: the `keras_seq.tasks.Task` being trained.
        epoch: int. Epochs done.
        history: dict. Every logged value so far (Keras' `History.history` form).
        callbacks: the run's Keras callbacks; those of `_REMEMBERED`'s kinds have their state
            saved.
        member: int. The ensemble member being trained (`keras_seq.ensembles`).
    """
    folder = pathlib.Path(folder)
    kept = [runs.PROGRESS, f"model-{epoch}.keras"]
    task.save(folder / kept[1])
    progress = {
        "epoch": epoch,
        "model": kept[1],
        "history": history,
        "random_state": training.random_state(task.model),
        "callbacks": [],
        "backend": keras.backend.backend(),
        "member": member,
    }
    for callback in _remembering(callbacks):
        state = {name: _plain(getattr(callback, name)) for name in _REMEMBERED[type(callback)]}
        if getattr(callback, "best_weights", None) is not None:
            state["best_weights"] = f"best-{epoch}.npz"
            np.savez(folder / state["best_weights"], *callback.best_weights)
            kept.append(state["best_weights"])
        progress["callbacks"].append(state)
    runs.write_text_atomic(folder / runs.PROGRESS, json.dumps(progress))
    for stale in folder.iterdir():  # the epoch before's files, or a half-written one's
        if stale.is_file() and stale.name not in kept:
            stale.unlink()


def read(folder):
    """`progress.json` of the checkpoint in `folder` (a dict, as `save` wrote it).

    Raises:
        keras_seq.DataError: the file is not a checkpoint's progress (damaged, or edited).
    """
    path = pathlib.Path(folder) / runs.PROGRESS
    try:
        progress = json.loads(path.read_text(encoding="utf-8"))
        if [type(progress[key]) for key in _PROGRESS] != list(_PROGRESS.values()):
            raise TypeError
    except (ValueError, TypeError, KeyError):
        raise _damaged(path) from None
    return progress


def warn_if_other_backend(progress):
    """Logs a warning when the checkpoint was written on another backend than the current
    one: the run goes on, but its weights will not be bit-identical to an uninterrupted run's
    (each backend rounds its kernels differently). Checkpoints written before the backend was
    recorded are taken as the current one's."""
    saved = progress.get("backend")
    if saved and saved != keras.backend.backend():
        logging.getLogger(__name__).warning(
            "resuming on %s a run trained on %s: it continues, but its weights will not be "
            "bit-identical to an uninterrupted run's (resume with --backend %s for that)",
            keras.backend.backend(),
            saved,
            saved,
        )


def _damaged(path, why=None):
    detail = f": {why}" if why else ""
    return DataError(
        f"not a checkpoint's progress file (damaged, or from another program){detail}",
        path=path,
        hint="start the run again: keras-seq train SPEC",
    )


def load_task(folder, progress):
    """The task of the checkpoint in `folder`, its dropout seed generators where they were."""
    from keras_seq.tasks import load

    task = load(pathlib.Path(folder) / progress["model"])
    try:
        training.set_random_state(task.model, progress["random_state"])
    except ValueError as error:
        raise _damaged(pathlib.Path(folder) / runs.PROGRESS, error) from None
    return task


class Restore(keras.callbacks.Callback):
    """Gives early stopping and the plateau schedule back, when training begins, what they
    remembered at the checkpoint; pass it to `fit` after them.

    Args:
        folder: path-like. The checkpoint's folder.
        progress: dict. Its `read(folder)`.
        callbacks: the resumed run's Keras callbacks, made as the interrupted run's were.
    """

    def __init__(self, folder, progress, callbacks):
        super().__init__()
        self.folder, self.progress = pathlib.Path(folder), progress
        self.callbacks = list(_remembering(callbacks))

    def on_train_begin(self, logs=None):
        states = self.progress["callbacks"]
        if len(states) != len(self.callbacks):
            why = f"it holds {len(states)} callback states, the spec makes {len(self.callbacks)}"
            raise _damaged(self.folder / runs.PROGRESS, why)
        for callback, state in zip(self.callbacks, states):
            for name, value in state.items():
                if name == "best_weights":
                    callback.best_weights = _arrays(self.folder / value)
                else:
                    setattr(callback, name, value)


def _arrays(path):
    try:
        with np.load(path) as arrays:
            return [arrays[f"arr_{i}"] for i in range(len(arrays))]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"cannot read the checkpoint's best weights ({error})", path=path) from None


def _remembering(callbacks):
    return (callback for callback in callbacks if type(callback) in _REMEMBERED)


def _plain(value):
    """A callback's counter (int), best value (float) or None, as JSON takes it."""
    return value if value is None or isinstance(value, int) else float(value)
