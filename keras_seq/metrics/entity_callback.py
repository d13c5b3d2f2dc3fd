"""`EntityScores`: the validation split's entity precision, recall and F1 in every epoch's logs.

Keras logs only what its compiled metrics compute step by step; entity scores need whole
decoded sentences. This callback predicts the validation sentences at each epoch's end, scores
them as `evaluate` does (`keras_seq.metrics.spans.span_scores`, seqeval's figures) and writes
the figures into the epoch's logs, so that `EarlyStopping`, checkpoints and `history.csv`,
which read the logs after it, see them.
"""

import keras

from keras_seq.metrics.spans import span_scores

#: The names logged (each with `val_`), in the order `span_scores` returns them.
NAMES = ("entity_precision", "entity_recall", "entity_f1")


class EntityScores(keras.callbacks.Callback):
    """Adds `val_entity_precision`, `val_entity_recall`, `val_entity_f1` and, per entity type
    T, `val_entity_f1_T` to the logs at each epoch's end.

    With P = correct / predicted, R = correct / gold entities (micro-averaged over types) and
    F1 = 2 P R / (P + R), each 0 when its denominator is 0; an entity is correct when one of
    the same type spans exactly the same tokens.

    Put it before the callbacks that read the logs (`EarlyStopping`, checkpoints): Keras calls
    callbacks in list order, with the same logs.

    Args:
        labelled: callable with no arguments returning `(gold, predicted)`: per validation
            sentence, its gold tags and the tags the model being trained predicts now.
        types: the entity types to log an F1 for (a type absent from both lists logs 0).

    Examples:

    >>> from keras_seq.metrics.entity_callback import EntityScores
    >>> gold, predicted = [["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "O"]]
    >>> logs = {"val_loss": 0.3}
    >>> EntityScores(lambda: (gold, predicted), types=["LOC", "PER"]).on_epoch_end(0, logs)
    >>> [round(logs[f"val_entity_{n}"], 3) for n in ("precision", "recall", "f1", "f1_PER")]
    [1.0, 0.5, 0.667, 1.0]
    >>> logs["val_entity_f1_LOC"]
    0.0
    """

    def __init__(self, labelled, types=()):
        super().__init__()
        self.labelled = labelled
        self.types = list(types)

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        scores = span_scores(*self.labelled())
        for name in NAMES:
            logs[f"val_{name}"] = float(scores[name.removeprefix("entity_")])
        for type_ in self.types:
            logs[f"val_entity_f1_{type_}"] = float(scores["types"].get(type_, {}).get("f1", 0.0))
