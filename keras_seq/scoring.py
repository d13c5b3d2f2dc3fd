"""A trained run's scores: the metrics of every split and the task's detailed tables.

A split read whole is scored by `Task.evaluate` (loss, compiled metrics and the task's own
figures, e.g. labels unseen in training counted as errors), so `metrics.json` holds what
`keras-seq evaluate` prints for the same file. A streamed split is scored batch by batch by
Keras (loss and compiled metrics), with its out-of-vocabulary share. A line before each split
says which, and the time left (`progress_line`).
"""

import time


def score(task, encoded, records, say=None, clock=time.monotonic):
    """`(metrics, tables)` of a trained task.

    Args:
        task: a `keras_seq.tasks.Task` with its trained model.
        encoded: dict. Split -> `Encoded` (`keras_seq.splits.read_encoded`).
        records: dict. Split -> records, for the splits read whole.
        say: callable, optional. Given a progress line before each split (`progress_line`).
        clock: callable returning seconds (default `time.monotonic`).

    Returns:
        `metrics`: `{split: {metric: value}}` for every split of `encoded`; `tables`:
        `{split: {table name: data}}` (`Task.tables`) for those of `records`.
    """
    metrics, tables = {}, {}
    sizes = {split: data.stats.examples for split, data in encoded.items()}
    start = clock()
    for split in encoded:
        if say is not None:
            say(progress_line(split, sizes, list(metrics), clock() - start))
        if split in records:  # predicted once for both
            metrics[split], tables[split] = task.evaluate_with_tables(records[split])
        else:
            metrics[split] = _streamed_scores(task.model, encoded[split])
    return metrics, tables


def progress_line(split, sizes, done, seconds):
    """`scoring test (3/3 splits, 400 examples) - ETA: 5s`: the split about to be scored,
    and the time left at the seconds per example of the splits `done` (none done: no ETA).

    >>> from keras_seq.scoring import progress_line
    >>> sizes = {"train": 1600, "validation": 200, "test": 200}
    >>> progress_line("train", sizes, [], 0.0)
    'scoring train (1/3 splits, 1,600 examples)'
    >>> progress_line("validation", sizes, ["train"], 32.0)
    'scoring validation (2/3 splits, 200 examples) - ETA: 8s'
    """
    from keras_seq.progress import duration

    line = f"scoring {split} ({len(done) + 1}/{len(sizes)} splits, {sizes[split]:,} examples)"
    scored = sum(sizes[name] for name in done)
    if not scored:
        return line
    left = sum(size for name, size in sizes.items() if name not in done)
    return f"{line} - ETA: {duration(seconds / scored * left)}"


def _streamed_scores(model, encoded):
    """Loss and compiled metrics of a streamed split, with its out-of-vocabulary share."""
    from keras_seq.tasks.task import stats_scores

    scores = model.evaluate(encoded.x, verbose=0, return_dict=True)
    return {**{name: float(value) for name, value in scores.items()}, **stats_scores(encoded.stats)}
