"""Token and label lists to padded NumPy arrays ready for `model.fit(x, y, sample_weight=...)`."""

import collections
import dataclasses
import logging

import numpy as np

from keras_seq.data.errors import DataError
from keras_seq.data.vocabulary import BOS, EOS
from keras_seq.spec.schema import ROOT

# The longest sequence padded when `input.max_length` is unset.
MAX_AUTO_LENGTH = ROOT["properties"]["input"]["properties"]["max_length"]["x-auto-limit"]

# Above this share of out-of-vocabulary tokens a split gets a warning: its predictions are
# mostly guesses from <unk>.
OOV_WARNING_SHARE = 0.5

logger = logging.getLogger("keras_seq.data")


@dataclasses.dataclass
class EncodeStats:
    """What encoding one split changed, so a caller can report it.

    Attributes:
        examples: int. Number of examples encoded.
        truncated: int. Sequences longer than the maximum length, cut at the end.
        cut_words: int. Words longer than `input.chars.max_word_length`, whose characters
            were cut at the end (character-aware inputs only).
        tokens: int. Input tokens read (before truncation).
        oov: int. Of those, tokens mapped to `<unk>`.
        unseen_labels: dict. Label -> count of labels missing from the label set; those
            examples (classifier) or steps (tagger) get sample weight 0.
    """

    examples: int = 0
    truncated: int = 0
    cut_words: int = 0
    tokens: int = 0
    oov: int = 0
    unseen_labels: dict = dataclasses.field(default_factory=dict)

    def warn(self, source):
        """Logs a warning for truncation and unseen labels; `source` names the file."""
        if self.truncated:
            logger.warning(
                "%s: %d of %d sequences were longer than max_length and were truncated",
                source,
                self.truncated,
                self.examples,
            )
        if self.cut_words:
            logger.warning(
                "%s: %d of %d words were longer than max_word_length; their characters were cut",
                source,
                self.cut_words,
                self.tokens,
            )
        if self.tokens and self.oov / self.tokens > OOV_WARNING_SHARE:
            logger.warning(
                "%s: %.0f%% of the tokens are not in the training vocabulary (read as <unk>); "
                "check that the file holds the same kind of text, and input.lowercase",
                source,
                100.0 * self.oov / self.tokens,
            )
        if self.unseen_labels:
            logger.warning(
                "%s: %d labels not seen in training (%s) get sample weight 0",
                source,
                sum(self.unseen_labels.values()),
                ", ".join(f"{k!r} x{n}" for k, n in sorted(self.unseen_labels.items())),
            )


@dataclasses.dataclass
class Encoded:
    """One encoded split.

    Attributes:
        x: `np.ndarray`, or for seq2seq the list `[source_ids, decoder_input_ids]`.
        y: `np.ndarray`. Class ids (classifier), tag ids (tagger), target ids (seq2seq) or
            future values (forecaster).
        sample_weight: `np.ndarray` or None. 0 at padding and at labels unseen in training.
        vocab: `Vocabulary` or None. Input token ids.
        labels: `Vocabulary` or None. The label set (classifier, tagger), or the target
            vocabulary (seq2seq).
        stats: `EncodeStats`.
    """

    x: object
    y: np.ndarray
    sample_weight: object = None
    vocab: object = None
    labels: object = None
    stats: EncodeStats = dataclasses.field(default_factory=EncodeStats)


def pad(sequences, max_length=None, value=0, dtype="int32"):
    """Post-pads (and post-truncates) lists of numbers into one array.

    Args:
        sequences: list of lists.
        max_length: int, optional. Default: the longest sequence, which must then be at most
            `MAX_AUTO_LENGTH` steps (the schema's `input.max_length` `x-auto-limit`) or
            `DataError` is raised.
        value: padding value.

    Returns:
        `(array, lengths, truncated)`: the `(n, max_length)` array, each row's length after
        truncation, and how many rows were cut.
    """
    lengths = np.array([len(s) for s in sequences], dtype="int64")
    if max_length is None:
        max_length = int(lengths.max(initial=0))
        if max_length > MAX_AUTO_LENGTH:
            longest = int(lengths.argmax())
            raise DataError(
                f"example {longest + 1} has {max_length} steps; with input.max_length unset "
                f"the longest allowed is {MAX_AUTO_LENGTH} (one long line would make every "
                "batch that long)",
                hint="set input.max_length (longer sequences are then truncated, and counted)",
            )
    array = np.full((len(sequences), max_length), value, dtype=dtype)
    for row, seq in zip(array, sequences):
        row[: min(len(seq), max_length)] = seq[:max_length]
    truncated = int((lengths > max_length).sum())
    return array, np.minimum(lengths, max_length), truncated


def _encode_tokens(sequences, vocab, max_length, stats):
    ids = [vocab.encode(tokens) for tokens in sequences]
    stats.tokens += sum(len(i) for i in ids)
    stats.oov += sum(i.count(vocab.oov_id) for i in ids)
    array, lengths, truncated = pad(ids, max_length)
    stats.truncated += truncated
    return array, lengths


def _encode_labels(labels, label_set, stats):
    """Label ids (0 where unknown) and weights (0 where unknown)."""
    ids = [label_set.id(label) for label in labels]
    unseen = collections.Counter(label for label, i in zip(labels, ids) if i is None)
    for label, count in unseen.items():
        stats.unseen_labels[label] = stats.unseen_labels.get(label, 0) + count
    weights = [0.0 if i is None else 1.0 for i in ids]
    return [0 if i is None else i for i in ids], weights


def _step_mask(lengths, max_length):
    return (np.arange(max_length)[None, :] < lengths[:, None]).astype("float32")


def encode_classification(texts, labels, vocab, label_set, max_length=None):
    """Token lists and one label each -> `Encoded` with x `(n, L)`, y `(n,)`, weights `(n,)`."""
    stats = EncodeStats(examples=len(texts))
    x, _ = _encode_tokens(texts, vocab, max_length, stats)
    ids, weights = _encode_labels(labels, label_set, stats)
    return Encoded(x, np.array(ids, "int32"), np.array(weights, "float32"), vocab, label_set, stats)


def encode_tagging(sentences, tags, vocab, label_set, max_length=None):
    """Token lists and a tag per token -> `Encoded` with x, y and weights all `(n, L)`.

    Tag ids are 0..C-1; padding steps carry y 0 and weight 0, as do tags unseen in training.
    """
    stats = EncodeStats(examples=len(sentences))
    x, lengths = _encode_tokens(sentences, vocab, max_length, stats)
    ids, weights = zip(*(_encode_labels(t, label_set, stats) for t in tags))
    y, _, _ = pad(list(ids), x.shape[1])
    known, _, _ = pad(list(weights), x.shape[1], dtype="float32")
    return Encoded(x, y, known * _step_mask(lengths, x.shape[1]), vocab, label_set, stats)


def encode_seq2seq(sources, targets, vocab, target_vocab, max_length=None, max_output_length=None):
    """Source and target token lists -> `Encoded` for teacher forcing.

    x is `[source_ids, decoder_input]` with decoder_input = `<bos>` + target; y is the decoder
    target = target + `<eos>`; both `(n, T)` with T = `max_output_length` (default: longest
    target + 1). Weights are 1 on real decoder steps, 0 on padding.
    """
    stats = EncodeStats(examples=len(sources))
    source, _ = _encode_tokens(sources, vocab, max_length, stats)
    ids = [target_vocab.encode(t) for t in targets]
    bos, eos = target_vocab.id(BOS), target_vocab.id(EOS)
    if bos is None or eos is None:
        raise ValueError(
            "the target vocabulary needs <bos> and <eos>: build it with specials=TARGET_SPECIALS"
        )
    decoder_input, lengths, truncated = pad([[bos] + i for i in ids], max_output_length)
    decoder_target, _, _ = pad([i + [eos] for i in ids], decoder_input.shape[1])
    stats.truncated += truncated
    return Encoded(
        [source, decoder_input],
        decoder_target,
        _step_mask(lengths, decoder_input.shape[1]),
        vocab,
        target_vocab,
        stats,
    )
