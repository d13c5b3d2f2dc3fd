"""`Tagger`: one label per token (part-of-speech tags, named-entity tags, ...)."""

from keras_seq.data import encode_tagging, readers
from keras_seq.tasks import blocks
from keras_seq.tasks.inputs import front
from keras_seq.tasks.task import register_task
from keras_seq.tasks.tokens import LabelTask, tokens_of


@register_task("tagger")
class Tagger(LabelTask):
    """Tags every token: records `{"tokens": [...], "tags": [...]}`.

    Reads CoNLL-U (the `data.tags_field` column), or CSV / JSONL (`data.tokens_column`,
    `data.tags_column`). Predictions are one tag string per input token; tokens past
    `input.max_length` get `"_"`.

    Examples:

    >>> import keras_seq
    >>> task = keras_seq.tasks.Task.for_spec('''
    ... input: {kind: tokens, embedding_dim: 8}
    ... encoder: {cell: gru, units: 8, direction: bidirectional}
    ... head: {type: tagger}
    ... seed: 1
    ... ''')
    >>> records = [{"tokens": ["the", "dog", "runs"], "tags": ["DET", "NOUN", "VERB"]}]
    >>> model = task.learn(records).build_model()
    >>> task.spec.head.classes, len(task.predict([["the", "cat"]])[0])
    (3, 2)
    """

    input_key, target_key, input_column = "tokens", "tags", "tokens_column"
    encode_function = staticmethod(encode_tagging)
    bundled = {"format": "conllu"}

    def read(self, path):
        data = self.data_section()
        sentences, tags = readers.read_tagging(
            path, data.format, data.tokens_column, data.tags_column, data.tags_field
        )
        return [{"tokens": s, "tags": t} for s, t in zip(sentences, tags)]

    def labels_in(self, record):
        return record["tags"]

    def predicted_labels(self, prediction):
        return prediction

    def build_layers(self):
        tokens, sequence = front(self.spec)
        encoded = blocks.recurrent(self.spec, self.spec.encoder, "encoder")(sequence)
        outputs = blocks.dense(self.spec.head.classes, "softmax")(
            blocks.head_dropout(self.spec, encoded)
        )
        return tokens, outputs

    def decode(self, outputs, inputs):
        labels = self.state["labels"].tokens
        best = outputs.argmax(-1)
        tagged = []
        for row, item in zip(best, inputs):
            count = len(tokens_of(item))
            tags = [labels[i] for i in row[:count]]
            tagged.append(tags + ["_"] * (count - len(tags)))
        return tagged

    def predict_file(self, path):
        """CoNLL-U: a copy with the predicted tags in the `data.tags_field` column (comments,
        multi-word token lines and the other columns kept); CSV / JSONL: a `prediction`
        column."""
        data = self.data_section()
        if data.format != "conllu":
            return super().predict_file(path)
        sentences = readers.read_conllu_words(path)
        return readers.fill_conllu_column(path, data.tags_field, self.predict(sentences))
