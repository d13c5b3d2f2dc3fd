"""`TokenTask`: the shared part of tasks that read token sequences (tagger, classifier, seq2seq).

It learns the input vocabulary from the training split, turns raw inputs (a list of tokens,
or a string split on whitespace) into padded id arrays, and scores predictions honestly:
labels never seen in training count as errors, and the out-of-vocabulary share is reported.
"""

import numpy as np

from keras_seq.data import DataError, EncodeStats, Vocabulary, pad
from keras_seq.tasks.inputs import input_arrays, learn_inputs, load_vectors
from keras_seq.tasks.task import Task


class TokenTask(Task):
    """A task whose input is a token sequence (`input.kind: tokens`)."""

    sizes = {"vocab": "input.vocab_size", "chars": "input.chars.char_vocab_size"}
    streams = True
    integer_targets = True  # tag, label or target-token ids

    def __init__(self, spec, state=None, model=None):
        super().__init__(spec, state, model)
        self.vectors = None  # pretrained vectors read by learn(), put in by build_model()
        if self.spec.input.kind != "tokens":
            raise DataError(
                f"a {self.head_type} head reads tokens, but input.kind is {self.spec.input.kind!r}",
                hint="set input.kind: tokens (features are read by the forecaster and none heads)",
            )

    def read(self, path):
        """Every record of a file, from the task's `records` (one parser for both paths)."""
        return list(self.records(path))

    def learn_state(self, records):
        sentences = _Sentences(records, self.input_key)
        state, self.vectors = learn_inputs(self.spec, sentences, self._data_sentences())
        return state

    def _data_sentences(self):
        """The inputs of the validation and test files, whose words may have pretrained vectors
        (read only with `input.vectors`)."""
        if self.spec.input.vectors is None or self.spec.data is None:
            return []
        paths = [self.spec.data.validation, self.spec.data.test]
        return [record[self.input_key] for path in paths if path for record in self.read(path)]

    def build_model(self):
        model = super().build_model()
        if self.spec.input.vectors is not None:
            load_vectors(model, self.spec, self.state.get("vocab"), self.vectors)
        return model

    def token_ids(self, sentences, stats):
        """Token lists to padded ids; sequences cut at `input.max_length` are added to
        `stats.truncated` (an `EncodeStats`)."""
        ids, _, truncated = pad(
            [self.state["vocab"].encode(tokens) for tokens in sentences],
            self.spec.input.max_length,
        )
        stats.truncated += truncated
        return ids

    def model_inputs(self, sentences, encoded):
        """`encoded` (an `Encoded` of `sentences`) with its x made the model's input: the word
        ids, with `input.chars` also the characters (see `keras_seq.tasks.inputs`)."""
        encoded.x = input_arrays(self.spec, self.state, sentences, encoded.x, encoded.stats)
        return encoded

    def encode_inputs(self, raw, stats=None):
        """Raw inputs to the model's input arrays. `stats`: an `EncodeStats` that counts the
        sequences truncated and the words whose characters were cut; without one,
        `EncodeStats.warn` reports them (the one place that does)."""
        sentences = [tokens_of(item) for item in raw]
        own = stats is None
        counts = EncodeStats(len(sentences), tokens=sum(map(len, sentences))) if own else stats
        ids = self.token_ids(sentences, counts)
        x = input_arrays(self.spec, self.state, sentences, ids, counts)
        if own:
            counts.warn("the inputs")
        return x

    def predict(self, inputs, batch_size=None, stats=None):
        """Readable predictions for raw inputs (a list of texts or token lists; one text alone
        is one input, see `input_list`); `stats`, as `encode_inputs` takes it."""
        return super().predict(input_list(inputs), batch_size, stats=stats)


class _Sentences:
    """The token lists of `records`, made again on every pass (a streamed file is re-read from
    its top, never held whole)."""

    def __init__(self, records, key):
        self.records = records
        self.key = key

    def __iter__(self):
        return (tokens_of(record[self.key]) for record in self.records)


def input_list(inputs):
    """Raw inputs as a list: a single string is one text (`predict("a good film")` predicts
    it, as `predict(["a good film"])` does, returning a list of one), never its characters;
    any other iterable is taken as the inputs."""
    return [inputs] if isinstance(inputs, str) else list(inputs)


def tokens_of(item):
    """A raw input as a token list: a list of strings as it is, a string split on whitespace."""
    if isinstance(item, str):
        tokens = item.split()
    elif isinstance(item, (list, tuple)) and all(isinstance(token, str) for token in item):
        tokens = list(item)
    else:
        raise DataError(
            f"expected a list of tokens or a text, found {type(item).__name__}: {item!r:.80}",
            hint='give each input as ["a", "list", "of", "tokens"] or "a text"',
        )
    if not tokens:
        raise DataError("an input has no tokens", hint="remove empty inputs")
    return tokens


def accuracy(gold, predicted):
    """The share of gold labels predicted exactly, over every gold label.

    Keras' compiled accuracy skips labels unseen in training (they have no id, so they get
    sample weight 0); here they count, as errors, since no prediction can match them.

    >>> from keras_seq.tasks.tokens import accuracy
    >>> accuracy(["A", "B", "NEW"], ["A", "B", "A"])
    0.6666666666666666
    """
    correct = sum(g == p for g, p in zip(gold, predicted))
    return correct / max(1, len(gold))


class LabelTask(TokenTask):
    """A token task with a label set learned from training (tagger, classifier).

    A subclass sets `encode_function` (records' tokens and labels to `Encoded`) and
    `labels_in(record)` / `predicted_labels(prediction)`, the label strings of a record and of
    one prediction, in the same order.
    """

    sizes = {**TokenTask.sizes, "labels": "head.classes"}
    encode_function = None

    def labels_in(self, record):
        raise NotImplementedError

    def predicted_labels(self, prediction):
        raise NotImplementedError

    def learn_state(self, records):
        labels = Vocabulary.from_labels(
            label for record in records for label in self.labels_in(record)
        )
        classes = self.spec.head.classes
        if len(labels) < 2:
            found = ", ".join(repr(label) for label in labels.tokens) or "none"
            raise DataError(
                f"the training data has {len(labels)} distinct label(s) ({found}); a "
                f"{self.head_type} needs at least 2",
                path=self.spec.data.train if self.spec.data else None,
                hint="check that the label column (data.label_column, data.tags_column or "
                "data.tags_field) is the right one, and that the file holds every class",
            )
        if classes != "auto" and len(labels) > classes:
            raise DataError(
                f"the training data has {len(labels)} labels but head.classes is {classes}",
                hint=f"set head.classes: {len(labels)} (or auto)",
            )
        return {**super().learn_state(records), "labels": labels}

    def encode(self, records):
        sentences = [tokens_of(record[self.input_key]) for record in records]
        encoded = type(self).encode_function(
            sentences,
            [record[self.target_key] for record in records],
            self.state["vocab"],
            self.state["labels"],
            self.spec.input.max_length,
        )
        return self.model_inputs(sentences, encoded)

    def example_lengths(self, x):
        """The words of each example when `input.max_length` is unset: the model's time axis
        is then free, so a batch of short sentences is not padded to the corpus' longest."""
        if self.spec.input.max_length is not None:
            return None
        tokens = x["tokens"] if isinstance(x, dict) else x
        return np.count_nonzero(tokens, axis=1)

    def labelled(self, records, predictions=None):
        """`(gold, predicted)`: for each record, its label strings and the predicted ones
        (from `predictions`, `predict`'s for the records' inputs, when already made)."""
        if predictions is None:
            # Quiet: the records' file was reported when it was encoded (`EncodeStats.warn`).
            predictions = self.predict(self.evaluation_inputs(records), stats=EncodeStats())
        gold = [self.labels_in(record) for record in records]
        return gold, [self.predicted_labels(p) for p in predictions]

    def label_scores(self, gold, predicted):
        """Figures beyond accuracy from `labelled`'s lists (none here; taggers add spans)."""
        return {}

    def evaluation_inputs(self, records):
        return [record[self.input_key] for record in records]

    def evaluation_predictions(self, records, predictions=None):
        """`labelled(records, predictions)`: read by both the scores and the tables."""
        return self.labelled(records, predictions)

    def extra_scores(self, records, encoded, scores, predictions=None):
        scores = super().extra_scores(records, encoded, scores)
        gold, predicted = predictions or self.labelled(records)
        scores["accuracy"] = accuracy(_flat(gold), _flat(predicted))
        return {**scores, **self.label_scores(gold, predicted)}

    def tables(self, records, predictions=None):
        """`label_tables` of `labelled(records)` (predicted here unless given)."""
        return self.label_tables(*(predictions or self.labelled(records)))

    def label_tables(self, gold, predicted):
        """`{"classes": ...}`: per-label precision, recall, F1, support and the confusion matrix
        (`keras_seq.metrics.classification.class_table`) from `labelled`'s lists."""
        from keras_seq.metrics.classification import class_table

        labels = self.state["labels"].tokens
        return {"classes": class_table(_flat(gold), _flat(predicted), labels=labels)}


def _flat(label_lists):
    return [label for labels in label_lists for label in labels]
