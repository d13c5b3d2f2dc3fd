"""`Tagger`: one label per token (part-of-speech tags, named-entity tags, ...)."""

import numpy as np

from keras_seq.data import DataError, conll, encode_tagging, readers
from keras_seq.data.bundled import BUNDLED
from keras_seq.layers import CRF
from keras_seq.layers.crf import viterbi_model
from keras_seq.metrics.entity_callback import EntityScores
from keras_seq.metrics.spans import allowed_transitions, entities, scheme_of, span_scores
from keras_seq.spec import Problem, SpecError
from keras_seq.tasks import blocks
from keras_seq.tasks.inputs import front
from keras_seq.tasks.task import register_task
from keras_seq.tasks.tokens import LabelTask, tokens_of

_CRF_TAGS = (
    "tags (batch, time), int32: the label ids of the best tag sequence under the model's CRF "
    "(Viterbi decoding is part of the graph{constrained}), 0 at padding: the tag of token t is "
    "labels[id]. These are ids, not probabilities."
)


@register_task("tagger")
class Tagger(LabelTask):
    """Tags every token: records `{"tokens": [...], "tags": [...]}`.

    Reads CoNLL-U (the `data.tags_field` column), CoNLL column files or CSV / JSONL
    (`data.tokens_column`, `data.tags_column`: indexes in CoNLL, names in CSV / JSONL).
    Predictions are one tag string per input token; tokens past `input.max_length` get `"_"`.

    With `head.output: crf` (also spelt `head.decoder: crf`, which the spec copies to
    `output`) the tag scores go through a `keras_seq.layers.CRF`: the loss is the gold
    sequence's negative log-likelihood and predictions are Viterbi's best sequence, kept to
    the transitions the learned tag scheme allows (`head.crf_constraints`). When the training
    tags follow BIO, BIOES or IOB1 (learned as `state["scheme"]`), `evaluate` adds entity-level
    `entity_precision`, `entity_recall` and `entity_f1` (seqeval's figures) and `tables` an
    `entities` table per type.

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
    bundled = BUNDLED["tagger"]
    speed_unit = "words"
    explains = True

    @property
    def graph_outputs(self):
        """Tag probabilities, or with `head.output: crf` the Viterbi tag ids (the exported
        graph decodes; `keras_seq.export.graph.decoding_model`)."""
        if self.spec.head.output != "crf":
            return "probabilities (batch, time, labels): the tag of token t is labels[argmax]"
        scheme = self.state.get("scheme")
        rule = (
            f", kept to the transitions {scheme} allows"
            if self.crf_constraints() is not None
            else ""
        )
        return _CRF_TAGS.format(constrained=rule)

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
        crf = CRF(
            constraints=self.crf_constraints(),
            train_constraints=self.spec.head.crf_constraints == "decode_and_train",
            name="crf",
        )
        return tokens, crf(scores)

    def crf_constraints(self):
        """The transitions the learned tag scheme allows (`allowed_transitions` over the learned
        labels, ids past them never), or None when the tags follow no scheme."""
        scheme, labels = self.state.get("scheme"), self.state.get("labels")
        if not scheme or labels is None:
            return None
        return allowed_transitions(scheme, labels.tokens, self.spec.head.classes)

    def decode(self, outputs, inputs):
        labels = self.state["labels"].tokens
        counts = [len(tokens_of(item)) for item in inputs]
        if self.spec.head.output == "crf":
            mask = np.arange(outputs.shape[1])[None, :] < np.array(counts)[:, None]
            best = self._viterbi().predict_on_batch([outputs, mask])
        else:
            best = outputs.argmax(-1)
        tagged = []
        for row, count in zip(best, counts):
            tags = [labels[i] for i in row[:count]]
            tagged.append(tags + ["_"] * (count - len(tags)))
        return tagged

    def _viterbi(self):
        """The model's CRF decoding, compiled (`keras_seq.layers.crf.viterbi_model`); made
        once per model."""
        model = self._model()
        if getattr(self, "_decoder", (None, None))[0] is not model:
            self._decoder = model, viterbi_model(model.get_layer("crf"))
        return self._decoder[1]

    def explain_targets(self, item, prediction, output_shape, step=None):
        """Each token's predicted tag (its probability, or with a CRF its emission score), or
        only token `step`'s; tokens past `input.max_length` have none."""
        labels, tokens = self.state["labels"], tokens_of(item)
        chosen = range(min(len(tokens), output_shape[0])) if step is None else [step]
        targets = []
        for t in chosen:
            if not 0 <= t < min(len(tokens), output_shape[0]):
                raise DataError(
                    f"--step {t} is past the input's {len(tokens)} explained tokens",
                    hint="give a token index from 0",
                )
            weights = np.zeros(output_shape, "float32")
            weights[t, labels.id(prediction[t])] = 1.0
            targets.append(({"step": t, "token": tokens[t], "tag": prediction[t]}, weights))
        return targets

    def epoch_callbacks(self, validation):
        """With span tags and validation records: `EntityScores`, which logs
        `val_entity_precision`, `val_entity_recall`, `val_entity_f1` and `val_entity_f1_T` per
        entity type T at every epoch's end.

        Raises:
            SpecError: a `monitor` field watches one of those, and the training tags follow no
                span scheme or there are no validation records.
        """
        if self.state.get("scheme") and validation:
            types = {t for tag in self.state["labels"].tokens for t, _, _ in entities([tag])}
            return [EntityScores(lambda: self.labelled(validation), sorted(types))]
        why = "the training tags follow no span scheme (BIO, BIOES or IOB1)"
        fix = "val_loss, or tags such as B-PER, I-PER, O"
        if self.state.get("scheme"):
            why = "there is no validation split read whole"
            fix = "a data.validation file (not streamed), or monitor val_loss"
        problems = [
            Problem(field, f"{monitor} needs entity scores, but {why}", found=monitor, allowed=fix)
            for field, monitor in self._monitors()
            if monitor.startswith("val_entity_")
        ]
        if problems:
            raise SpecError(problems)
        return []

    def _monitors(self):
        """(field, name) of each `monitor` field in use."""
        training, found = self.spec.training, []
        if training.early_stopping is not None:
            found.append(("training.early_stopping.monitor", training.early_stopping.monitor))
        if training.schedule is not None and training.schedule.type == "plateau":
            found.append(("training.schedule.monitor", training.schedule.monitor))
        return found

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
