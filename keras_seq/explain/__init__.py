"""Why a trained task predicted what it did: integrated gradients per input step.

`explain(task, inputs)` (also `Task.explain`) attributes each explained output (every token's
predicted tag, the predicted label, every forecast value; `step` picks one step) to the input
steps, through the word embeddings (and character encodings, word shapes) or the features:
see `keras_seq.explain.integrated`. `keras_seq.explain.view.html` draws the result.
"""

import keras
import numpy as np

from keras_seq import ensembles
from keras_seq.data import DataError
from keras_seq.explain.integrated import front_parts, integrated_gradients


def explain(task, inputs, steps=64, step=None):
    """Integrated-gradients explanations of a task's predictions, one per input.

    Args:
        task: a trained `keras_seq.tasks.Task` (tagger, classifier or forecaster).
        inputs: what `task.predict` takes, or records (dicts holding `task.input_key`).
        steps: int. Points of the integral's midpoint rule (more: a smaller completeness gap).
        step: int, optional. Explain only this output step (a tagger's token, a forecast's
            horizon step); default every one.

    Returns:
        list of dicts, JSON-able: `{"input": the tokens (or window rows), "prediction": what
        predict returns, "parts": front part names, "targets": [{...what is explained
        (step, token, tag / label / value)..., "output": F(x), "baseline_output": F(0),
        "attributions": {part: per-step values (features: per step, per feature)},
        "gap": F(x) - F(0) - sum of the attributions}]}`.

    Example:

    >>> import keras_seq
    >>> task = keras_seq.tasks.Task.for_spec('''
    ... input: {kind: tokens, embedding_dim: 4}
    ... encoder: {cell: gru, units: 4}
    ... head: {type: classifier, pooling: mean}
    ... seed: 1
    ... ''')
    >>> _ = task.learn([{"tokens": ["good"], "label": "pos"},
    ...                 {"tokens": ["bad"], "label": "neg"}]).build_model()
    >>> found = task.explain(["good film"], steps=16)[0]["targets"][0]
    >>> len(found["attributions"]["tokens"]), abs(found["gap"]) < 1e-3
    (2, True)
    """
    if not task.explains:
        raise DataError(
            f"a {task.head_type} head has no explanations",
            hint="explain a tagger, classifier or forecaster (without data.time_column)",
        )
    inputs = [item[task.input_key] if isinstance(item, dict) else item for item in inputs]
    predictions = task.predict(inputs)
    model = task._model()
    parts = front_parts((ensembles.members(model) or [model])[0])
    found = []
    for item, prediction in zip(inputs, predictions):
        x = task.encode_inputs([item])
        shape = keras.ops.convert_to_numpy(model(x, training=False)).shape[1:]
        targets = task.explain_targets(item, prediction, shape, step)
        weights = np.stack([weight for _, weight in targets])
        attributions, outputs, baselines = _integrated(model, x, weights, steps)
        found.append(
            {
                "input": _plain(item),
                "prediction": prediction,
                "parts": [name for name, _ in parts],
                "targets": [
                    _target(about, attributions[j], outputs[j], baselines[j], parts, item)
                    for j, (about, _) in enumerate(targets)
                ],
            }
        )
    return found


def _integrated(model, x, weights, steps):
    """`integrated_gradients` of `model`; of an ensemble (`keras_seq.ensembles`), the mean of
    its members' (each through its own embeddings): the attribution is linear in the function
    explained, so the members' mean explains their mean output."""
    members = ensembles.members(model)
    if members is None:
        return integrated_gradients(model, x, weights, steps)
    each = [integrated_gradients(member, x, weights, steps) for member in members]
    return tuple(np.mean(found, axis=0) for found in zip(*each))


def explain_records(task, records, limit=20, steps=64, step=None):
    """`explain` of up to `limit` records, those the task gets wrong first.

    A labelled record (a tagger's or classifier's, with its `task.target_key`) is wrong when
    its predicted labels differ from its gold ones; its explanation then also holds `"gold"`
    and `"error": True`. Records keep their order within the wrong and the right ones.
    """
    records = list(records)
    labelled = bool(records) and hasattr(task, "labels_in") and task.target_key in records[0]
    chosen, errors = records[:limit], ()
    if labelled:
        chosen, _, errors = errors_first(task, records, limit)
    found = explain(task, chosen, steps=steps, step=step)
    for record, error, explanation in zip(chosen, errors, found):
        explanation.update(gold=record[task.target_key], error=error)
    return found


def errors_first(task, records, limit=20):
    """`(records, predictions, errors)`: up to `limit` labelled records (with
    `task.target_key`), those whose predicted labels differ from their gold ones first, each
    group in its order; their predictions and whether each is wrong."""
    records = list(records)
    predictions = task.predict([record[task.input_key] for record in records])
    errors = [
        task.labels_in(record) != task.predicted_labels(prediction)
        for record, prediction in zip(records, predictions)
    ]
    order = sorted(range(len(records)), key=lambda i: not errors[i])[:limit]
    return (
        [records[i] for i in order],
        [predictions[i] for i in order],
        [errors[i] for i in order],
    )


def _target(about, attributions, output, baseline, parts, item):
    """One explained output: `about`, its values, and the attributions split by part."""
    split, start = {}, 0
    steps = len(item.split()) if isinstance(item, str) else len(item)
    for name, width in parts:
        values = attributions[:steps, start : start + width]
        start += width
        split[name] = (values if name == "features" else values.sum(axis=-1)).tolist()
    total = float(attributions.sum())
    return {
        **about,
        "output": float(output),
        "baseline_output": float(baseline),
        "attributions": split,
        "gap": float(output - baseline - total),
    }


def _plain(item):
    if isinstance(item, str):
        return item.split()
    return np.asarray(item).tolist() if not isinstance(item, list) else item


__all__ = ["errors_first", "explain", "explain_records", "front_parts", "integrated_gradients"]
