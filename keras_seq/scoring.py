"""A trained run's scores: the metrics of every split and the task's detailed tables.

A split read whole is scored by `Task.evaluate` (loss, compiled metrics and the task's own
figures, e.g. labels unseen in training counted as errors), so `metrics.json` holds what
`keras-seq evaluate` prints for the same file. A streamed split is scored batch by batch by
Keras (loss and compiled metrics), with its out-of-vocabulary share.
"""


def score(task, encoded, records):
    """`(metrics, tables)` of a trained task.

    Args:
        task: a `keras_seq.tasks.Task` with its trained model.
        encoded: dict. Split -> `Encoded` (`keras_seq.splits.read_encoded`).
        records: dict. Split -> records, for the splits read whole.

    Returns:
        `metrics`: `{split: {metric: value}}` for every split of `encoded`; `tables`:
        `{split: {table name: data}}` (`Task.tables`) for those of `records`.
    """
    metrics, tables = {}, {}
    for split in encoded:
        if split in records:  # predicted once for both
            metrics[split], tables[split] = task.evaluate_with_tables(records[split])
        else:
            metrics[split] = _streamed_scores(task.model, encoded[split])
    return metrics, tables


def _streamed_scores(model, encoded):
    """Loss and compiled metrics of a streamed split, with its out-of-vocabulary share."""
    from keras_seq.tasks.task import stats_scores

    scores = model.evaluate(encoded.x, verbose=0, return_dict=True)
    return {**{name: float(value) for name, value in scores.items()}, **stats_scores(encoded.stats)}
