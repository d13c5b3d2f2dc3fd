"""The example predictions `report.html` shows: a sample of a split, the wrong ones first,
each with its gold and predicted labels and, when asked (`training.report_explanations`) and
the task explains itself (`Task.explains`), its tokens shaded by the integrated-gradients
attribution of one output (a classifier's label, a tagger's first wrong tag;
`keras_seq.explain`).

Few records are predicted (`SAMPLE`) and the integral has few steps (`STEPS`), so the
examples cost little next to the training; `training.report_examples: 0` skips them.
Explanations are off by default: each is a gradient pass of its own, slow on JAX.
"""

#: Records predicted to find the wrong ones (the first of the split).
SAMPLE = 200
#: Points of the integrated-gradients integral (`keras_seq.explain.explain`'s `steps`).
STEPS = 16


def examples(task, records, count, explained=False):
    """Up to `count` of `records` with the task's predictions, the wrong ones first.

    Args:
        task: a trained `keras_seq.tasks.Task`; only taggers and classifiers have examples.
        records: list of labelled records (a split's, as read).
        count: int. How many to return (`training.report_examples`); 0 returns none.
        explained: bool. Explain them (`training.report_explanations`).

    Returns:
        list of dicts, JSON-able: `input` (the tokens), `gold` and `predicted` (label lists,
        one per token for a tagger, one label for a classifier), `error` (they differ),
        `per_token` (a tagger's) and `explanation`: one target of `keras_seq.explain.explain`
        (for `keras_seq.explain.view.target_html`), or None (not explained: not asked, the
        task cannot be, or a tagger's sentence has no wrong tag).
    """
    from keras_seq.explain import errors_first
    from keras_seq.tasks.tokens import LabelTask

    if not count or not records or not isinstance(task, LabelTask):
        return []
    chosen, predictions, errors = errors_first(task, records[:SAMPLE], count)
    per_token = task.head_type == "tagger"
    found = []
    for record, prediction, error in zip(chosen, predictions, errors):
        tokens = record[task.input_key]
        gold, predicted = task.labels_in(record), task.predicted_labels(prediction)
        explanation = _explanation(task, tokens, gold, predicted, per_token) if explained else None
        found.append(
            {
                "input": tokens.split() if isinstance(tokens, str) else list(tokens),
                "gold": list(gold),
                "predicted": list(predicted),
                "error": error,
                "per_token": per_token,
                "explanation": explanation,
            }
        )
    return found


def _explanation(task, tokens, gold, predicted, per_token):
    """The attribution of a classifier's label, or of a tagger's first wrong tag (None when
    every tag is right, or the first wrong one is past `input.max_length`), or None when the
    task has no explanations."""
    from keras_seq.explain import explain

    if not task.explains:
        return None
    wrong = [i for i, (g, p) in enumerate(zip(gold, predicted)) if g != p]
    longest = task.spec.input.max_length or len(gold)
    if per_token and not (wrong and wrong[0] < longest):
        return None
    (found,) = explain(task, [tokens], steps=STEPS, step=wrong[0] if per_token else None)
    return found["targets"][0]
