"""`Classifier`: one label per sequence (sentiment, topic, intent, ...)."""

import numpy as np

from keras_seq.data import encode_classification, readers
from keras_seq.data.vocabulary import Vocabulary
from keras_seq.layers import SequencePooling
from keras_seq.tasks import blocks
from keras_seq.tasks.inputs import front
from keras_seq.tasks.tagger import check_classes
from keras_seq.tasks.task import register_task
from keras_seq.tasks.tokens import TokenTask, accuracy, tokens_of


@register_task("classifier")
class Classifier(TokenTask):
    """Labels whole sequences: records `{"tokens": [...], "label": "..."}`.

    Reads CSV / JSONL (`data.text_column`, `data.label_column`). A prediction is
    `{"label": best label, "probability": its probability, "probabilities": {label: p}}`.

    Examples:

    >>> import keras_seq
    >>> task = keras_seq.tasks.Task.for_spec('''
    ... input: {kind: tokens, embedding_dim: 8}
    ... encoder: {cell: lstm, units: 8}
    ... head: {type: classifier, pooling: mean}
    ... seed: 1
    ... ''')
    >>> records = [{"tokens": ["good", "film"], "label": "pos"},
    ...            {"tokens": ["bad", "film"], "label": "neg"}]
    >>> _ = task.learn(records).build_model()
    >>> sorted(task.predict(["a good film"])[0]["probabilities"])
    ['neg', 'pos']
    """

    input_key, target_key, input_column = "tokens", "label", "text_column"
    sizes = {**TokenTask.sizes, "labels": "head.classes"}
    bundled = {"format": "csv"}

    def read(self, path):
        data = self.data_section()
        texts, labels = readers.read_classification(
            path, data.format, data.text_column, data.label_column
        )
        return [{"tokens": t, "label": label} for t, label in zip(texts, labels)]

    def learn_state(self, records):
        labels = Vocabulary.from_labels(record["label"] for record in records)
        return {**super().learn_state(records), "labels": check_classes(self.spec, labels)}

    def encode(self, records):
        return encode_classification(
            [tokens_of(r["tokens"]) for r in records],
            [r["label"] for r in records],
            self.state["vocab"],
            self.state["labels"],
            self.spec.input.max_length,
        )

    def build_layers(self):
        spec = self.spec
        tokens, sequence = front(spec)
        if spec.head.pooling == "last":
            pooled = blocks.recurrent(spec, spec.encoder, "encoder", return_sequences=False)(
                sequence
            )
        else:
            encoded = blocks.recurrent(spec, spec.encoder, "encoder")(sequence)
            pooled = SequencePooling(spec.head.pooling, name="pooling")(encoded)
        outputs = blocks.dense(spec.head.classes, "softmax")(blocks.head_dropout(spec, pooled))
        return tokens, outputs

    def default_loss(self):
        return "sparse_categorical_crossentropy"

    def default_metrics(self):
        return ["accuracy"]

    def decode(self, outputs, inputs):
        labels = self.state["labels"].tokens
        predictions = []
        for row in np.asarray(outputs, dtype="float64"):
            best = int(row.argmax())
            predictions.append(
                {
                    "label": labels[best],
                    "probability": float(row[best]),
                    "probabilities": {label: float(p) for label, p in zip(labels, row)},
                }
            )
        return predictions

    def prediction_columns(self, prediction):
        return {"prediction": prediction["label"], "probability": prediction["probability"]}

    def extra_scores(self, records, encoded, scores):
        scores = super().extra_scores(records, encoded, scores)
        predicted = self.predict([r["tokens"] for r in records])
        scores["accuracy"] = accuracy(
            [r["label"] for r in records], [p["label"] for p in predicted]
        )
        return scores
