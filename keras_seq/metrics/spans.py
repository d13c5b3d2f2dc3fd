"""Entity-level precision, recall and F1 for BIO (IOB2), BIOES and IOB1 tags, as seqeval scores.

An entity (chunk) is a run of tags read by seqeval's default (non-strict) rules, which serve all
three schemes: a tag is its first letter (B, I, E, S, O) and a type (what follows the first
`-`; `_` when there is none). Between two tags, a chunk ends after an E or S, before a B, S or
O, and wherever the type changes; one starts at a B or S, at an I or E that follows an O, E or
S, and wherever the type changes. So an I- with no B- before it starts an entity, and
`B-PER I-LOC` is two entities. Sentences never share an entity.

A predicted entity is correct when an entity of the same type spans exactly the same tokens.
Precision = correct / predicted, recall = correct / gold, F1 = 2 P R / (P + R), each 0 when its
denominator is 0 (seqeval's `zero_division` default); overall figures are micro-averaged
(counts summed over types).
"""

import collections

from keras_seq.metrics.classification import figures

SCHEMES = ("BIO", "BIOES", "IOB1")
_ENTITY_PREFIXES = ("B-", "I-", "E-", "S-")


def _split(tag):
    """(letter, type) as seqeval reads a tag: `"B-PER"` -> ("B", "PER"), `"O"` -> ("O", "_")."""
    return tag[0], tag[1:].split("-", maxsplit=1)[-1] or "_"


def _ends(previous, letter, previous_type, type_):
    if previous in ("E", "S"):
        return True
    if previous in ("B", "I") and letter in ("B", "S", "O"):
        return True
    return previous not in ("O", ".") and previous_type != type_


def _starts(previous, letter, previous_type, type_):
    if letter in ("B", "S"):
        return True
    if previous in ("O", "E", "S") and letter in ("I", "E"):
        return True
    return letter not in ("O", ".") and previous_type != type_


def entities(tags):
    """The entities in a sequence of tags, as seqeval's default mode finds them.

    Args:
        tags: list of str, one tag per token (`"B-PER"`, `"I-PER"`, `"O"`, ...).

    Returns:
        A list of (type, first token, last token) tuples, in order.

    Examples:

    >>> from keras_seq.metrics.spans import entities
    >>> entities(["B-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG"])
    [('PER', 0, 1), ('LOC', 3, 3), ('LOC', 4, 4), ('ORG', 5, 5)]
    """
    found = []
    previous, previous_type, begin = "O", "", 0
    for index, tag in enumerate([*tags, "O"]):
        letter, type_ = _split(tag)
        if _ends(previous, letter, previous_type, type_):
            found.append((previous_type, begin, index - 1))
        if _starts(previous, letter, previous_type, type_):
            begin = index
        previous, previous_type = letter, type_
    return found


def scheme_of(sentences):
    """The tagging scheme a corpus's tags follow: `"BIOES"`, `"BIO"`, `"IOB1"`, or None.

    None when some tag is neither `O` nor a B-/I-/E-/S- prefix with a type (part-of-speech
    tags, say). BIOES when an E- or S- tag occurs; otherwise IOB1 when an I- tag starts an
    entity (after `O` or another type), else BIO.

    Args:
        sentences: iterable of tag lists.

    Examples:

    >>> from keras_seq.metrics.spans import scheme_of
    >>> scheme_of([["B-PER", "I-PER", "O"]]), scheme_of([["I-PER", "O"]]), scheme_of([["NOUN"]])
    ('BIO', 'IOB1', None)
    """
    letters, starts_inside = set(), False
    for tags in sentences:
        previous = "O"
        for tag in tags:
            if tag != "O" and not (tag.startswith(_ENTITY_PREFIXES) and len(tag) > 2):
                return None
            letters.add(tag[0])
            if tag[0] == "I" and (previous == "O" or previous[2:] != tag[2:]):
                starts_inside = True
            previous = tag
    if letters & {"E", "S"}:
        return "BIOES"
    if "B" in letters or "I" in letters:
        return "IOB1" if starts_inside else "BIO"
    return None


def span_scores(gold, predicted):
    """Entity precision, recall and F1, overall (micro) and per type, equal to seqeval's.

    Args:
        gold: list of sentences, each a list of gold tags.
        predicted: list of sentences, each a list of predicted tags, as long as its gold one.

    Returns:
        A dict: `precision`, `recall`, `f1`, `support` (gold entities), `predicted`, `correct`
        over all types, and `types`: the same figures per entity type (sorted; a type only
        predicted has support 0).

    Raises:
        ValueError: the two lists differ in their number of sentences or a sentence's length.

    Examples:

    >>> from keras_seq.metrics.spans import span_scores
    >>> gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    >>> predicted = [["B-PER", "I-PER", "O", "B-ORG"]]
    >>> scores = span_scores(gold, predicted)
    >>> scores["precision"], scores["recall"], scores["types"]["PER"]["f1"]
    (0.5, 0.5, 1.0)
    """
    if len(gold) != len(predicted) or any(len(g) != len(p) for g, p in zip(gold, predicted)):
        raise ValueError("gold and predicted tags differ in number of sentences or of tokens")
    # As seqeval does: the sentences joined into one sequence, an O after each, so that no
    # entity crosses a sentence boundary; an entity is (type, first, last) in that sequence.
    found = [collections.defaultdict(set), collections.defaultdict(set)]
    for side, sentences in zip(found, (gold, predicted)):
        for type_, first, last in entities([t for tags in sentences for t in [*tags, "O"]]):
            side[type_].add((first, last))
    types = {}
    for type_ in sorted(set(found[0]) | set(found[1])):
        true, guessed = found[0][type_], found[1][type_]
        types[type_] = figures(len(true & guessed), len(guessed), len(true))
    totals = [sum(t[key] for t in types.values()) for key in ("correct", "predicted", "support")]
    return {**figures(*totals), "types": types}


# The (previous letter, next letter) pairs each scheme allows within a sentence: `same` pairs
# only between tags of one type. START and END stand for the sentence's boundaries.
_FREE = {
    "BIO": {"O": "OB", "B": "OB", "I": "OB"},
    "IOB1": {"O": "OI", "B": "OI", "I": "OI"},
    "BIOES": {"O": "OBS", "E": "OBS", "S": "OBS"},
}
_SAME = {"BIO": {"B": "I", "I": "I"}, "IOB1": {"B": "B", "I": "B"}, "BIOES": {"B": "IE", "I": "IE"}}
_FIRST = {"BIO": "OB", "IOB1": "OI", "BIOES": "OBS"}
_LAST = {"BIO": "OBI", "IOB1": "OBI", "BIOES": "OES"}


def _allowed(scheme, previous, tag):
    """Whether `tag` may follow `previous` (either may be "START" / "END") under `scheme`."""
    if tag == "START" or previous == "END":
        return False
    if previous == "START":
        return tag != "END" and tag[0] in _FIRST[scheme]
    if tag == "END":
        return previous[0] in _LAST[scheme]
    (letter, type_), (next_letter, next_type) = _split(previous), _split(tag)
    if next_letter in _FREE[scheme].get(letter, ""):
        return True
    return next_letter in _SAME[scheme].get(letter, "") and type_ == next_type


def allowed_transitions(scheme, labels, size=None):
    """The tag-to-tag transitions legal under a scheme, as AllenNLP's `allowed_transitions`.

    Ids 0..C-1 are the tags (C = `size`, default `len(labels)`), C is the sentence's start and
    C+1 its end. BIO: O and B-x may follow anything, I-x only B-x or I-x; a sentence starts
    with O or B-x. IOB1: O and I-x may follow anything, B-x only B-x or I-x; a sentence starts
    with O or I-x. BIOES: O, B-x and S-x follow O, E-y or S-y; I-x and E-x follow B-x or I-x; a
    sentence starts with O, B-x or S-x and ends with O, E-x or S-x. BIO and IOB1 sentences end
    with any tag. Ids from `len(labels)` to C-1 (no label) are never allowed.

    Args:
        scheme: str. `"BIO"`, `"IOB1"` or `"BIOES"` (as `scheme_of` finds it).
        labels: list of str, the tag of each id.
        size: int, optional. The number of tag ids C (>= len(labels)).

    Returns:
        A list of (from id, to id) pairs.

    Examples:

    >>> from keras_seq.metrics.spans import allowed_transitions
    >>> pairs = allowed_transitions("BIO", ["B-PER", "I-PER", "O"])  # 3: start, 4: end
    >>> [j for i, j in pairs if i == 2], [j for i, j in pairs if i == 3]  # after O; first
    ([0, 2, 4], [0, 2])
    """
    size = len(labels) if size is None else size
    named = [*enumerate(labels), (size, "START"), (size + 1, "END")]
    return [(i, j) for i, previous in named for j, tag in named if _allowed(scheme, previous, tag)]
