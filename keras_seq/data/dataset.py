"""`load_dataset`: one split of a spec's data, read, checked and encoded in one call."""

import collections
import functools
import importlib.resources
import os

import numpy as np

from keras_seq.data import readers, streaming
from keras_seq.data.encoding import (
    Encoded,
    EncodeStats,
    encode_classification,
    encode_seq2seq,
    encode_tagging,
)
from keras_seq.data.errors import DataError
from keras_seq.data.vocabulary import TARGET_SPECIALS, Vocabulary
from keras_seq.data.windows import make_windows
from keras_seq.spec import make_section

SPLITS = ("train", "validation", "test")


_BUNDLED = {
    "tagger": dict(format="conllu"),
    "classifier": dict(format="csv"),
    "forecaster": dict(
        format="csv", value_columns=("load", "temperature"), target_columns=("load",)
    ),
    "seq2seq": dict(format="jsonl"),
}


def bundled_data(head_type):
    """The small dataset shipped in the package for a head type, as a spec `data` section.

    `tagger`: synthetic part-of-speech corpus (CoNLL-U, UPOS and XPOS); `classifier`:
    sentiment with negation and contrast (CSV `text,label`); `forecaster`: hourly load with
    daily and weekly seasons and a temperature covariate (CSV, forecast `load`); `seq2seq`:
    dates in many spellings to ISO `YYYY - MM - DD` (JSONL `source`, `target`).
    `keras_seq/datasets/make_datasets.py` regenerates them.
    """
    if head_type not in _BUNDLED:
        raise DataError(
            f"no bundled dataset for head type {head_type!r}",
            hint=f"add a data section to the spec (bundled: {', '.join(_BUNDLED)})",
        )
    options = _BUNDLED[head_type]
    folder = importlib.resources.files("keras_seq") / "datasets"
    paths = {split: str(folder / f"{head_type}-{split}.{options['format']}") for split in SPLITS}
    return make_section("DataSpec", **options, **paths)


def _option(section, name, default=None):
    value = getattr(section, name, None)
    return default if value is None or value == "auto" else value


def load_dataset(spec, split="train", *, path=None, vocab=None, labels=None):
    """Reads and encodes one split of the data a spec names.

    The vocabulary and label set are learned from the training split; for the other splits
    pass the training split's `vocab` and `labels` (tokens it lacks become `<unk>`; labels it
    lacks get sample weight 0 and are counted in `stats.unseen_labels`). Truncation and unseen
    labels are logged as warnings on the `keras_seq.data` logger.

    Args:
        spec: a `keras_seq.Spec`, or any object with the same `input`, `head` and `data`
            attributes. Without `data`, the bundled dataset for `head.type` is used.
        split: str. `train`, `validation` or `test`.
        path: str or path-like, optional. Read this file instead of the spec's (the command
            line's override).
        vocab: `Vocabulary`, optional. Input tokens; required unless `split == "train"`.
        labels: `Vocabulary`, optional. Label set, or target vocabulary for seq2seq.

    Returns:
        `Encoded`: `x`, `y`, `sample_weight` for `model.fit`, plus `vocab`, `labels`, `stats`.

    Examples:

    >>> import keras_seq
    >>> from types import SimpleNamespace as NS
    >>> spec = NS(input=NS(kind="tokens", max_length=32, lowercase=True),
    ...           head=NS(type="tagger"), data=None)
    >>> train = keras_seq.load_dataset(spec, "train")
    >>> dev = keras_seq.load_dataset(spec, "validation", vocab=train.vocab,
    ...                              labels=train.labels)
    >>> train.x.shape == train.y.shape == train.sample_weight.shape
    True
    >>> # model.fit(train.x, train.y, sample_weight=train.sample_weight,
    >>> #           validation_data=(dev.x, dev.y, dev.sample_weight))
    """
    head = spec.head.type
    data = spec.data or bundled_data(head)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    path = path or getattr(data, split, None)
    if path is None:
        raise DataError(f"the spec has no data.{split} file", hint=f"set data.{split}")
    fmt = data.format
    if head == "forecaster":
        encoded = _load_forecasting(spec, data, path, fmt)
    elif head in ("classifier", "tagger", "seq2seq"):
        if _option(spec.input, "kind") != "tokens":
            raise DataError(
                f"a {head} head reads tokens from {fmt} files",
                path=path,
                hint="set input.kind: tokens (features are read for the forecaster head only)",
            )
        if split != "train" and (vocab is None or labels is None):
            raise ValueError(
                f"pass the training split's vocab and labels to load the {split} split"
            )
        encoded = _load_tokens(spec, data, path, fmt, head, vocab, labels)
    else:
        raise DataError(
            f"head type {head!r} has no targets to load",
            hint="use classifier, tagger, forecaster or seq2seq",
        )
    encoded.stats.warn(path)
    return encoded


def wants_streaming(spec, path):
    """Whether a split's file is read in chunks: `data.streaming` true, or auto and the file
    is larger than `data.streaming_above_mb` (forecasting data is always read whole)."""
    data = spec.data
    setting = getattr(data, "streaming", False)
    if spec.head.type not in _STREAMED or setting is False:
        return False
    if setting is True:
        return True
    return os.path.getsize(path) > _option(data, "streaming_above_mb", 256) * 1e6


def stream_dataset(
    spec, split="train", *, path=None, vocab=None, labels=None, batch_size=None, shuffle=None
):
    """Like `load_dataset`, but the file is read a chunk at a time as training asks for it.

    A first pass reads the file line by line: it learns the vocabulary and label set (for the
    training split, unless given, or read from `data.vocabulary`), finds the longest sequence
    (the padded width, as in memory) and notes where each chunk of `data.shuffle_buffer`
    examples starts. The result gives the same vocabulary, the same arrays and the same loss
    as `load_dataset`, in batches shuffled within a chunk (see `keras_seq.data.streaming`).

    Args:
        spec: a `keras_seq.Spec` with a tagger, classifier or seq2seq head.
        split, path, vocab, labels: as for `load_dataset`.
        batch_size: int, optional. Default `training.batch_size`.
        shuffle: bool, optional. Default: shuffle the training split only.

    Returns:
        `Encoded` whose `x` is a `StreamingDataset` (y and sample_weight None: the dataset
        yields them), so `model.fit(**inputs, shuffle=False)` takes it as it takes arrays.
    """
    head = spec.head.type
    data = spec.data or bundled_data(head)
    path = path or getattr(data, split)
    if head not in _STREAMED:
        raise DataError(
            f"a {head} head's data cannot be streamed (windows are cut from the whole series)",
            path=path,
            hint="set data.streaming: false",
        )
    read = _token_reader(data, path, data.format, head)
    given = vocab or (data.vocabulary and Vocabulary.load(data.vocabulary, **_lowercase(spec)))
    learned = _Learned(spec, head, learn_vocab=given is None, learn_labels=labels is None)
    header = readers.csv_header(path) if data.format == "csv" else None
    batch_size = batch_size or spec.training.batch_size
    chunk = -(-_option(data, "shuffle_buffer", 10000) // batch_size) * batch_size
    layout = streaming.scan(path, read, chunk, learned.observe, header)
    vocab = given or Vocabulary.from_counts(learned.tokens, **_vocabulary_options(spec))
    if labels is None:
        labels = learned.labels(path)
    max_length = _option(spec.input, "max_length")
    encode = _token_encoder(
        spec,
        head,
        vocab,
        labels,
        max_length or learned.longest,
        max_length or learned.longest_target,
    )
    dataset = streaming.StreamingDataset(
        path,
        read,
        lambda examples: _fit_arrays(encode(*map(list, zip(*examples)))),
        layout,
        batch_size,
        shuffle=split == "train" if shuffle is None else shuffle,
        seed=spec.seed,
    )
    stats = EncodeStats(
        examples=layout.examples,
        truncated=learned.longer_than(max_length),
        tokens=sum(length * count for length, count in learned.lengths.items()),
    )
    stats.warn(path)
    return Encoded(dataset, None, None, vocab, labels, stats)


_STREAMED = ("classifier", "tagger", "seq2seq")


def _lowercase(spec):
    return {"lowercase": bool(_option(spec.input, "lowercase", False))}


def _fit_arrays(encoded):
    return encoded.x, encoded.y, encoded.sample_weight


class _Learned:
    """What the first pass over a token file learns, one example at a time."""

    def __init__(self, spec, head, learn_vocab, learn_labels):
        self.spec, self.head = spec, head
        self.learn_vocab, self.learn_labels = learn_vocab, learn_labels
        self.lowercase = _lowercase(spec)["lowercase"]
        self.tokens = collections.Counter()
        self.targets = collections.Counter()
        self.lengths = collections.Counter()
        self.longest_target = 0

    @property
    def longest(self):
        return max(self.lengths, default=0)

    def longer_than(self, max_length):
        if max_length is None:
            return 0
        return sum(count for length, count in self.lengths.items() if length > max_length)

    def observe(self, example):
        inputs, targets = example
        self.lengths[len(inputs)] += 1
        if self.learn_vocab:
            self.tokens.update(token.lower() if self.lowercase else token for token in inputs)
        if self.learn_labels:
            self.targets.update([targets] if self.head == "classifier" else targets)
        if self.head == "seq2seq":
            self.longest_target = max(self.longest_target, len(targets) + 1)

    def labels(self, path):
        if self.head == "seq2seq":
            return Vocabulary.from_counts(self.targets, **_target_options(self.spec))
        labels = Vocabulary.from_labels(self.targets)
        _check_classes(self.spec, labels, path)
        return labels


def _load_tokens(spec, data, path, fmt, head, vocab, labels):
    inputs, targets = map(list, zip(*_token_reader(data, path, fmt, head)()))
    if vocab is None:
        vocab = Vocabulary.build(inputs, **_vocabulary_options(spec))
    if labels is None:
        labels = _learn_labels(spec, head, targets, path)
    max_length = _option(spec.input, "max_length")
    return _token_encoder(spec, head, vocab, labels, max_length)(inputs, targets)


def _token_reader(data, path, fmt, head):
    """`read(lines=None, header=None)`: the `(inputs, targets)` examples of a token file."""
    if head == "seq2seq":
        columns = (
            _option(data, "source_column", "source"),
            _option(data, "target_column", "target"),
        )
        return functools.partial(readers.iter_pairs, path, fmt, *columns)
    if head == "tagger":
        columns = (
            _option(data, "tokens_column", "tokens"),
            _option(data, "tags_column", "tags"),
            _option(data, "tags_field", "upos"),
        )
        return functools.partial(readers.iter_tagging, path, fmt, *columns)
    columns = (_option(data, "text_column", "text"), _option(data, "label_column", "label"))
    return functools.partial(readers.iter_classification, path, fmt, *columns)


def _vocabulary_options(spec):
    return dict(
        min_frequency=_option(spec.input, "min_frequency", 1),
        max_size=_option(spec.input, "vocab_size"),
        lowercase=bool(_option(spec.input, "lowercase", False)),
    )


def _target_options(spec):
    return dict(max_size=_option(spec.head, "target_vocab_size"), specials=TARGET_SPECIALS)


def _learn_labels(spec, head, targets, path):
    """The label set (target vocabulary for seq2seq) from the training split's targets."""
    if head == "seq2seq":
        return Vocabulary.build(targets, **_target_options(spec))
    labels = Vocabulary.from_labels(
        (t for tags in targets for t in tags) if head == "tagger" else targets
    )
    _check_classes(spec, labels, path)
    return labels


def _check_classes(spec, labels, path):
    classes = _option(spec.head, "classes")
    if classes is not None and len(labels) > classes:
        raise DataError(
            f"the training data has {len(labels)} labels but head.classes is {classes}",
            path=path,
            hint=f"set head.classes: {len(labels)} (or auto)",
        )


def _token_encoder(spec, head, vocab, labels, max_length, max_output_length=None):
    """`encode(inputs, targets) -> Encoded`, padded to `max_length` (None: the longest)."""
    if head == "seq2seq":
        width = _option(spec.head, "max_output_length", max_output_length or max_length)
        return lambda inputs, targets: encode_seq2seq(
            inputs, targets, vocab, labels, max_length, width
        )
    encode = encode_tagging if head == "tagger" else encode_classification
    return lambda inputs, targets: encode(inputs, targets, vocab, labels, max_length)


def _load_forecasting(spec, data, path, fmt):
    lookback = _option(data, "lookback", _option(spec.input, "max_length"))
    if lookback is None:
        raise DataError(
            "a forecaster needs a window length",
            path=path,
            hint="set data.lookback (or input.max_length) to the number of past steps seen",
        )
    inputs = _option(data, "value_columns")
    if inputs is None:
        inputs = list(readers.read_records(path, fmt, {})[0][1])
    targets = list(_option(data, "target_columns", inputs))
    names = list(inputs) + [name for name in targets if name not in inputs]
    rows = np.array(readers.read_series(path, fmt, names), dtype="float32")
    dim, outputs = _option(spec.input, "dim"), _option(spec.head, "outputs", 1)
    if dim is not None and dim != len(inputs):
        raise DataError(
            f"input.dim is {dim} but data.value_columns has {len(inputs)} columns",
            path=path,
            hint=f"set input.dim: {len(inputs)} or change data.value_columns",
        )
    if outputs != len(targets):
        raise DataError(
            f"head.outputs is {outputs} but there are {len(targets)} target columns "
            f"({', '.join(targets)}; data.target_columns defaults to data.value_columns)",
            path=path,
            hint=f"set data.target_columns to {outputs} column(s) or head.outputs: {len(targets)}",
        )
    try:
        x, y = make_windows(
            rows[:, : len(inputs)],
            lookback,
            _option(spec.head, "horizon", 1),
            rows[:, [names.index(name) for name in targets]],
        )
    except DataError as err:
        raise DataError(err.reason, path=path, hint=err.hint) from None
    return Encoded(x, y, stats=EncodeStats(examples=len(x)))
