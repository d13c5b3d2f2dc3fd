"""Seed ensembles (`training.ensemble: N`): N copies of the spec's model, trained apart, averaged.

Member k is the spec's model built and trained with the seed `seed + k` on the same data,
exactly as a run of the spec with that seed alone trains it (its own early stopping, schedule
and `after_fit`). The saved model feeds its inputs to every member and returns the mean of
their outputs:

    y(x) = (1 / N) * sum_k f_k(x)

(a classifier's or tagger's probabilities, a forecaster's values and quantiles). Members
trained apart err apart where the data leaves the weights undecided, and the mean cancels part
of that; one network trained on the mean would learn to need the others, so they are not
trained together. `predict`, `export`, `serve` and `check-backends` see one model.

While it trains, the run's `checkpoint/` holds the member in training's last epoch (its
`progress.json` names the member) and `checkpoint/members/` the finished members (`K.keras`
and its history, `K.json`); `resume` loads the finished ones and continues the member it
stopped in, so a resumed ensemble ends with the weights of an uninterrupted one.
"""

import json
import os
import pathlib

from keras_seq import fitting, runs, tracking

MEMBERS = "members"  # the checkpoint's folder of finished members


def fit(task, encoded, records, checkpoint_dir=None, verbose=None, progress=None, log=()):
    """Fits `task`'s model, or with `training.ensemble` N > 1 its N members, then makes
    `task.model` their average (`averaged`), compiled as the spec says.

    Args: as `keras_seq.fitting.fit`; `task` is member 0's, or when resuming the member its
        checkpoint `progress` names (its `spec.seed` is `seed + member`).

    Returns:
        dict: the history (`fitting.fit`'s); for an ensemble, the members' histories one after
        the other, with a `member` column (1 to N).
    """
    count = task.spec.training.ensemble
    if count == 1:
        return fitting.fit(task, encoded, records, checkpoint_dir, verbose, progress, log)
    from keras_seq.tasks import Task, load

    folder = None if checkpoint_dir is None else pathlib.Path(checkpoint_dir) / MEMBERS
    first = (progress or {}).get("member", 0)
    seed = None if task.spec.seed is None else task.spec.seed - first
    done = _finished(folder, count)
    if progress is not None and first < len(done):  # the checkpoint of a member since saved
        progress = None
    models, histories = [], []
    for member in range(count):
        if member < len(done):
            models.append(load(folder / f"{member}.keras").model)
            histories.append(done[member])
            continue
        member_task = task  # member 0's, built, or the checkpoint's
        if member != first:
            member_spec = task.spec.replace({"seed": None if seed is None else seed + member})
            member_task = Task.for_spec(member_spec, state=task.state)
            member_task.build_model()
        _say(f"ensemble member {member + 1} of {count} (seed {member_task.spec.seed})", verbose)
        tracking.for_member(log, member + 1)
        history = fitting.fit(
            member_task, encoded, records, checkpoint_dir, verbose, progress, log, member
        )
        progress = None
        if folder is not None:
            _save_member(folder, member, member_task, history)
        task.state = member_task.state  # what after_fit learned (a forecaster's shrink share)
        models.append(member_task.model)
        histories.append(history)
    task.spec = task.spec.replace({"seed": seed})
    task.compile(averaged(models, task.spec.name))
    return joined(histories)


def averaged(models, name):
    """A `keras_seq.Model` that gives its inputs to each of `models` (same inputs, same
    outputs) and returns the mean of their outputs; the models become its layers
    `member_1`, `member_2`, ...

    >>> import keras, keras_seq
    >>> from keras_seq.ensembles import averaged
    >>> def model(scale):
    ...     inputs = keras.Input((2,), name="x")
    ...     return keras.Model(inputs, keras.layers.Rescaling(scale)(inputs))
    >>> ensemble = averaged([model(1.0), model(3.0)], "two")
    >>> [float(v) for v in ensemble.predict(keras.ops.ones((1, 2)), verbose=0)[0]]
    [2.0, 2.0]
    """
    import keras

    from keras_seq.model import Model

    def like(tensor):
        return keras.Input(batch_shape=tensor.shape, dtype=tensor.dtype, name=tensor.name)

    inputs = keras.tree.map_structure(like, models[0].input)
    members = [
        Model(model.input, model.output, name=f"member_{k}") for k, model in enumerate(models, 1)
    ]
    outputs = keras.layers.Average(name="ensemble_mean")([member(inputs) for member in members])
    return Model(inputs, outputs, name=name)


def from_runs(folders):
    """The seed ensemble of runs of one spec trained apart (on other cores or machines): a
    task whose model returns the mean of theirs, as `training.ensemble` would have trained it.

    Args:
        folders: run folders (or `.keras` files) of the same spec, seeds apart.

    Returns:
        `keras_seq.tasks.Task`, its spec the first run's with `training.ensemble` their
        number; `save` or `export` it as any task.

    Raises:
        keras_seq.DataError: fewer than two runs, or a run whose spec differs from the first's
            in more than its seed, or whose learned vocabularies or labels differ.
    """
    from keras_seq.data import DataError
    from keras_seq.tasks import Task, load

    if len(folders) < 2:
        raise DataError("an ensemble needs two runs or more", hint="give the run folders")
    tasks = [load(folder) for folder in folders]
    first = tasks[0]
    for folder, task in zip(folders, tasks):
        if members(task.model) is not None:  # its mean would count as one network
            raise DataError(
                f"it is already an ensemble of {len(members(task.model))}",
                path=folder,
                hint="combine the runs of single networks it was made from",
            )
    for folder, task in zip(folders[1:], tasks[1:]):
        differing = _differing(_member_spec(first), _member_spec(task))
        if differing:
            raise DataError(
                f"its spec differs from {folders[0]}'s in {', '.join(differing)}",
                path=folder,
                hint="combine runs of one spec, trained with different seeds",
            )
        if task.get_config()["state"] != first.get_config()["state"]:
            raise DataError(
                f"it learned other vocabularies or labels than {folders[0]}",
                path=folder,
                hint="train the runs on the same training file",
            )
    task = Task.for_spec(first.spec.replace({"training.ensemble": len(tasks)}), first.state)
    task.compile(averaged([t.model for t in tasks], task.spec.name))
    return task


def _member_spec(task):
    spec = task.spec.to_dict()
    spec.pop("seed", None)
    return spec


def _differing(one, other):
    """The dotted fields whose values differ between two spec dicts (`tracking.flatten`'s
    names, as MLflow shows the spec)."""
    from keras_seq.tracking import flatten

    one, other = flatten(one), flatten(other)
    return sorted(key for key in one.keys() | other.keys() if one.get(key) != other.get(key))


def members(model):
    """The member models of an `averaged` model, or None for a model of one network."""
    found = [layer for layer in model.layers if layer.name.startswith("member_")]
    named = "ensemble_mean" in {layer.name for layer in model.layers}
    return found if named and found else None


def _finished(folder, count):
    """The histories of the members saved in `folder` (0, 1, ... in a row)."""
    histories = []
    while folder is not None and len(histories) < count:
        history = folder / f"{len(histories)}.json"
        if not (history.is_file() and history.with_suffix(".keras").is_file()):
            break
        histories.append(json.loads(history.read_text(encoding="utf-8")))
    return histories


def _save_member(folder, member, task, history):
    """Saves a finished member, its history written last (what `_finished` reads)."""
    folder.mkdir(exist_ok=True)
    written = folder / f"{member}.partial.keras"
    task.save(written)
    os.replace(written, folder / f"{member}.keras")
    runs.write_text_atomic(folder / f"{member}.json", json.dumps(history))


def joined(histories):
    """The members' histories one after the other, with the `member` (1 to N) of each epoch."""
    joined = {"member": []}
    for member, history in enumerate(histories, 1):
        epochs = len(next(iter(history.values()), []))
        joined["member"] += [member] * epochs
        for name, values in history.items():
            joined.setdefault(name, []).extend(values)
    return joined


def _say(line, verbose):
    """Prints `line` unless `verbose` is 0 (None: `fit`'s default, a bar or progress lines)."""
    if verbose is None or verbose:
        print(line, flush=True)
    else:
        fitting.logger.info("%s", line)
