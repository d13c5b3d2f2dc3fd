"""`Classifier`: one label per sequence (sentiment, topic, intent, ...)."""

import numpy as np

from keras_seq.data import encode_classification, readers
from keras_seq.data.bundled import BUNDLED
from keras_seq.layers import SequencePooling
from keras_seq.tasks import blocks
from keras_seq.tasks.inputs import front
from keras_seq.tasks.task import register_task
from keras_seq.tasks.tokens import LabelTask


@register_task("classifier")
class Classifier(LabelTask):
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
    encode_function = staticmethod(encode_classification)
    bundled = BUNDLED["classifier"]
    graph_outputs = "probabilities (batch, labels): the label is labels[argmax]"
    explains = True

    def records(self, path, lines=None, header=None):
        data = self.data_section()
        columns = (data.text_column, data.label_column)
        rows = readers.iter_classification(
            path, data.format, *columns, lines, header, delimiter=data.delimiter
        )
        for t, label in rows:
            yield {"tokens": t, "label": label}

    def labels_in(self, record):
        return [record["label"]]

    def predicted_labels(self, prediction):
        return [prediction["label"]]

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

    def explain_targets(self, item, prediction, output_shape, step=None):
        """The predicted label's probability."""
        weights = np.zeros(output_shape, "float32")
        weights[self.state["labels"].id(prediction["label"])] = 1.0
        about = {"label": prediction["label"], "probability": prediction["probability"]}
        return [(about, weights)]

    def prediction_columns(self, prediction):
        return {"prediction": prediction["label"], "probability": prediction["probability"]}
