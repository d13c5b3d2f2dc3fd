"""`Tagger`: one label per token (part-of-speech tags, named-entity tags, ...)."""

import numpy as np
from keras import ops

from keras_seq.data import conll, encode_tagging, readers
from keras_seq.layers import CRF
from keras_seq.metrics.spans import scheme_of, span_scores
from keras_seq.spec import Problem, SpecError
from keras_seq.tasks import blocks
from keras_seq.tasks.inputs import front
from keras_seq.tasks.task import register_task
from keras_seq.tasks.tokens import LabelTask, tokens_of


@register_task("tagger")
class Tagger(LabelTask):
    """Tags every token: records `{"tokens": [...], "tags": [...]}`.

    Reads CoNLL-U (the `data.tags_field` column), CoNLL column files or CSV / JSONL
    (`data.tokens_column`, `data.tags_column`: indexes in CoNLL, names in CSV / JSONL).
    Predictions are one tag string per input token; tokens past `input.max_length` get `"_"`.

    With `head.output: crf` (also spelt `head.decoder: crf`, which the spec copies to
    `output`) the tag scores go through a `keras_seq.layers.CRF`: the loss is the gold
    sequence's negative log-likelihood and predictions are Viterbi's best sequence. When
    the training tags follow BIO, BIOES or IOB1 (learned as `state["scheme"]`), `evaluate` adds
    entity-level `entity_precision`, `entity_recall` and `entity_f1` (seqeval's figures) and
    `tables` an `entities` table per type.

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
    graph_outputs = "probabilities (batch, time, labels): the tag of token t is labels[argmax]"
    speed_unit = "words"

    def records(self, path, lines=None, header=None):
        data = self.data_section()
        columns = (data.tokens_column, data.tags_column, data.tags_field)
        rows = readers.iter_tagging(
            path, data.format, *columns, lines, header, delimiter=data.delimiter
        )
        for s, t in rows:
            yield {"tokens": s, "tags": t}

    def labels_in(self, record):
        return record["tags"]

    def predicted_labels(self, prediction):
        return prediction

    def learn_state(self, records):
        scheme = scheme_of(record["tags"] for record in records)
        return {**super().learn_state(records), "scheme": scheme}

    def build_layers(self):
        tokens, sequence = front(self.spec)
        encoded = blocks.recurrent(self.spec, self.spec.encoder, "encoder")(sequence)
        features = blocks.head_dropout(self.spec, encoded)
        if self.spec.head.output == "softmax":
            return tokens, blocks.dense(self.spec.head.classes, "softmax")(features)
        if self.spec.training.loss:
            raise SpecError(
                [
                    Problem(
                        "training.loss",
                        "a CRF output trains on its own loss (the tag sequences' likelihood)",
                        found=self.spec.training.loss,
                        allowed="remove training.loss, or set head.output: softmax",
                    )
                ]
            )
        scores = blocks.dense(self.spec.head.classes)(features)
        return tokens, CRF(name="crf")(scores)

    def decode(self, outputs, inputs):
        labels = self.state["labels"].tokens
        counts = [len(tokens_of(item)) for item in inputs]
        if self.spec.head.output == "crf":
            mask = np.arange(outputs.shape[1])[None, :] < np.array(counts)[:, None]
            best = ops.convert_to_numpy(self._model().get_layer("crf").decode(outputs, mask))
        else:
            best = outputs.argmax(-1)
        tagged = []
        for row, count in zip(best, counts):
            tags = [labels[i] for i in row[:count]]
            tagged.append(tags + ["_"] * (count - len(tags)))
        return tagged

    def label_scores(self, gold, predicted):
        if not self.state.get("scheme"):
            return {}
        scores = span_scores(gold, predicted)
        return {f"entity_{name}": scores[name] for name in ("precision", "recall", "f1")}

    def label_tables(self, gold, predicted):
        tables = super().label_tables(gold, predicted)
        if self.state.get("scheme"):
            tables["entities"] = span_scores(gold, predicted)
        return tables

    def predict_file(self, path):
        """CoNLL-U: a copy with the predicted tags in the `data.tags_field` column (comments,
        multi-word token lines and the other columns kept); CoNLL columns: a copy with the
        predicted tag appended to every token line (conlleval's layout,
        `keras_seq.data.conll.append_column`); CSV / JSONL: a `prediction` column."""
        data = self.data_section()
        if data.format == "conll":
            sentences = conll.read_conll_words(path, data.tokens_column)
            return conll.append_column(path, self.predict(sentences))
        if data.format != "conllu":
            return super().predict_file(path)
        sentences = readers.read_conllu_words(path)
        return readers.fill_conllu_column(path, data.tags_field, self.predict(sentences))
