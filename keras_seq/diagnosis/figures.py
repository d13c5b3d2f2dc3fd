"""The figures `keras-seq debug-data` counts on token data: duplicates, overlap between splits,
label counts, out-of-vocabulary and unseen-character shares, lengths, BIO transitions.

Each function takes plain records (`keras_seq.diagnosis.reading`) and returns plain numbers,
so each can be checked against a brute-force count.

>>> from keras_seq.diagnosis.figures import length_histogram, bio_violations
>>> length_histogram([3, 5, 9, 12, 20], 8)
{'longest': 20, 'cut': 3, 'bins': [['<=2', 0], ['3-4', 1], ['5-6', 1], ['7-8', 0], ['>8 (cut)', 3]]}
>>> bio_violations([["O", "I-PER", "I-PER"], ["B-LOC", "I-PER"]])
{'count': 2, 'first': [0, 1]}
"""

import collections
import math

from keras_seq.data.characters import build_char_vocabulary
from keras_seq.data.vocabulary import Vocabulary


def record_key(record):
    """A record as a hashable value: two records with equal keys are exact duplicates."""
    return tuple(
        (name, tuple(value) if isinstance(value, list) else value)
        for name, value in sorted(record.items())
    )


def duplicates(records):
    """Records that repeat an earlier record of the same list exactly."""
    return len(records) - len({record_key(record) for record in records})


# (split, earlier split): records of the first found exactly in the second.
OVERLAPS = (("validation", "train"), ("test", "train"), ("test", "validation"))


def overlaps(records):
    """`{"test~train": count, ...}`: records of a split that also appear in an earlier one."""
    found = {}
    for split, earlier in OVERLAPS:
        if split in records and earlier in records:
            keys = {record_key(record) for record in records[earlier]}
            found[f"{split}~{earlier}"] = sum(record_key(r) in keys for r in records[split])
    return found


def token_vocabulary(spec, sentences):
    """The input vocabulary training learns from `sentences` (the training split's inputs)."""
    size = spec.input.vocab_size
    return Vocabulary.build(
        sentences,
        min_frequency=spec.input.min_frequency,
        max_size=None if size == "auto" else size,
        lowercase=spec.input.lowercase,
    )


def unknown(vocab, sentences):
    """`(out-of-vocabulary tokens, tokens)` of `sentences` under `vocab`."""
    ids = [i for sentence in sentences for i in vocab.encode(sentence)]
    return sum(i == vocab.oov_id for i in ids), len(ids)


def char_vocabulary(spec, train_sentences):
    """The character vocabulary training learns (`input.chars.char_vocab_size` applies)."""
    size = spec.get("input.chars.char_vocab_size")
    return build_char_vocabulary(train_sentences, max_size=None if size in (None, "auto") else size)


def unseen_characters(chars, sentences):
    """`(characters not in `chars`, characters, the distinct unseen ones sorted)` of
    `sentences`."""
    letters = [letter for sentence in sentences for word in sentence for letter in word]
    unseen = [letter for letter in letters if chars.id(letter) is None]
    return len(unseen), len(letters), sorted(set(unseen))


def _edges(max_length, longest):
    """Upper bin edges: quarters of `max_length`, else powers of two up to `longest`."""
    if max_length:
        return sorted({max(1, math.ceil(max_length * k / 4)) for k in (1, 2, 3)} | {max_length})
    edges = [8]
    while edges[-1] < longest:
        edges.append(edges[-1] * 2)
    return edges


def length_histogram(lengths, max_length=None):
    """Sequence lengths in bins, the last one `>max_length (cut)` when there is a maximum.

    Returns:
        `{"longest": int, "cut": count over max_length, "bins": [[label, count], ...]}`.
    """
    longest = max(lengths, default=0)
    edges = _edges(max_length, longest)
    counts = collections.Counter(next((e for e in edges if n <= e), None) for n in lengths)
    bins, low = [], None
    for edge in edges:
        label = f"<={edge}" if low is None else (f"{low}-{edge}" if low < edge else str(edge))
        bins.append([label, counts[edge]])
        low = edge + 1
    cut = counts[None]
    if max_length:
        bins.append([f">{max_length} (cut)", cut])
    return {"longest": longest, "cut": cut, "bins": bins}


def is_bio(tag_lists):
    """Whether every tag is `O` or `B-`/`I-` with a type (BIO or IOB1, not part-of-speech)."""
    tags = {tag for tags in tag_lists for tag in tags}
    return bool(tags) and all(t == "O" or (t[:2] in ("B-", "I-") and len(t) > 2) for t in tags)


def bio_violations(tag_lists):
    """BIO's invalid transitions: an `I-X` at a sentence's start or after anything but `B-X` or
    `I-X` (after `O`, or another type).

    Returns:
        `{"count": int, "first": [sentence, token] of the first one, or None}`.
    """
    count, first = 0, None
    for number, tags in enumerate(tag_lists):
        previous = "O"
        for position, tag in enumerate(tags):
            if tag.startswith("I-") and (previous == "O" or previous[2:] != tag[2:]):
                count += 1
                first = first or [number, position]
            previous = tag
    return {"count": count, "first": first}


def label_counts(label_lists):
    """`{label: count}`, most frequent first (ties by name)."""
    counts = collections.Counter(label for labels in label_lists for label in labels)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
