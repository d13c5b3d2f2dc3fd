"""Per-class precision, recall, F1 and support, and the confusion matrix, from label lists."""


def figures(correct, predicted, support):
    """Precision, recall and F1 from counts, each 0 when its denominator is 0.

    F1 is computed as seqeval and scikit-learn compute it (2 P R / (P + R), in that order of
    operations), so the floats match theirs exactly.

    >>> from keras_seq.metrics.classification import figures
    >>> figures(correct=1, predicted=2, support=1)["f1"]
    0.6666666666666666
    """
    precision = correct / predicted if predicted else 0.0
    recall = correct / support if support else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": support,
        "predicted": predicted,
        "correct": correct,
    }


def class_table(gold, predicted, labels=()):
    """Per-class figures and the confusion matrix of gold against predicted labels.

    Precision = correct / predicted, recall = correct / support (gold count), F1 = 2 P R / (P + R),
    each 0 when its denominator is 0. A gold label the model cannot predict (one unseen in
    training) has its own row, so it counts as an error, never silently dropped.

    Args:
        gold: list of gold labels (str), one per item (a token, a sequence).
        predicted: list of predicted labels, as long as `gold`.
        labels: the known labels in their order (the training labels); labels found only in
            `gold` or `predicted` follow, sorted.

    Returns:
        A dict: `labels` (the row and column order), `classes` (label -> `precision`,
        `recall`, `f1`, `support`, `predicted`, `correct`) and `confusion` (rows: gold label,
        columns: predicted label, counts).

    Raises:
        ValueError: `gold` and `predicted` differ in length.

    Examples:

    >>> from keras_seq.metrics.classification import class_table
    >>> table = class_table(["A", "A", "B", "NEW"], ["A", "B", "B", "A"], labels=["A", "B"])
    >>> table["labels"], table["confusion"]
    (['A', 'B', 'NEW'], [[1, 1, 0], [0, 1, 0], [1, 0, 0]])
    >>> table["classes"]["B"]["precision"], table["classes"]["NEW"]["recall"]
    (0.5, 0.0)
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predicted ones")
    known = list(dict.fromkeys(labels))
    order = known + sorted((set(gold) | set(predicted)) - set(known))
    index = {label: i for i, label in enumerate(order)}
    confusion = [[0] * len(order) for _ in order]
    for g, p in zip(gold, predicted):
        confusion[index[g]][index[p]] += 1
    classes = {
        label: figures(
            correct=confusion[i][i],
            predicted=sum(row[i] for row in confusion),
            support=sum(confusion[i]),
        )
        for i, label in enumerate(order)
    }
    return {"labels": order, "classes": classes, "confusion": confusion}
