"""`keras-seq debug-data` on token data (taggers, classifiers, seq2seq): figures per split and
the findings a user would act on. The counts are `keras_seq.diagnosis.figures`'."""

from keras_seq.data.errors import DataError
from keras_seq.data.vectors import read_vectors
from keras_seq.data.vocabulary import TARGET_SPECIALS, Vocabulary
from keras_seq.diagnosis import figures as count
from keras_seq.diagnosis.findings import (
    OOV_WARNING,
    RARE_LABEL,
    VECTORS_WARNING,
    Finding,
    percent,
    share,
)

# The record key of the model's input sequence, per data kind.
INPUTS = {"tagger": "tokens", "classifier": "tokens", "seq2seq": "source"}


def labels_of(kind, record):
    """A record's labels: a tagger's tags, a classifier's one label (a seq2seq task has none)."""
    return record["tags"] if kind == "tagger" else [record["label"]]


def token_report(spec, kind, records):
    """`(figures, findings)` for the records of a token task, `{split: [record, ...]}`."""
    inputs = {split: [r[INPUTS[kind]] for r in rows] for split, rows in records.items()}
    train = inputs.get("train", [])
    vocab, chars = count.token_vocabulary(spec, train), count.char_vocabulary(spec, train)
    splits = {}
    for split, sentences in inputs.items():
        oov, tokens = count.unknown(vocab, sentences)
        unseen, letters, which = count.unseen_characters(chars, sentences)
        splits[split] = {
            "examples": len(sentences),
            "tokens": tokens,
            "duplicates": count.duplicates(records[split]),
            "oov": oov,
            "oov_rate": share(oov, tokens),
            "characters": letters,
            "unseen_characters": unseen,
            "unseen_character_list": which[:20],
            "lengths": count.length_histogram([len(s) for s in sentences], spec.input.max_length),
        }
    report = {"splits": splits, "overlap": count.overlaps(records)}
    findings = [*_split_findings(spec, splits), *_overlap_findings(report["overlap"], splits)]
    if kind == "seq2seq":
        _target_oov(spec, records, splits)
    else:
        report["labels"], more = _labels(kind, records)
        findings += more
    if kind == "tagger":
        findings += _bio(records)
    if spec.input.vectors is not None:
        report["vectors"], more = _vectors(spec, inputs)
        findings += more
    return report, findings


def _split_findings(spec, splits):
    found = []
    for split, figures in splits.items():
        n, lengths = figures["examples"], figures["lengths"]
        if n == 0:
            found.append(Finding("error", "sizes", f"{split}: no examples", "fill the file"))
            continue
        if figures["duplicates"]:
            found.append(
                Finding(
                    "warning",
                    "duplicates",
                    f"{split}: {percent(figures['duplicates'], n)} examples repeat an earlier "
                    "one exactly",
                    "remove the repeats: they count twice in training and scoring",
                )
            )
        if split != "train" and figures["oov_rate"] > OOV_WARNING:
            found.append(
                Finding(
                    "warning",
                    "oov",
                    f"{split}: {percent(figures['oov'], figures['tokens'])} tokens are not in "
                    "the training vocabulary",
                    _oov_fix(spec),
                )
            )
        if lengths["cut"]:
            found.append(
                Finding(
                    "warning",
                    "length",
                    f"{split}: {percent(lengths['cut'], n)} examples are longer than "
                    f"input.max_length {spec.input.max_length} and are cut (longest "
                    f"{lengths['longest']})",
                    f"raise input.max_length (up to {lengths['longest']}) to keep them whole",
                )
            )
        if split != "train" and spec.input.chars is not None and figures["unseen_characters"]:
            found.append(
                Finding(
                    "warning",
                    "characters",
                    f"{split}: {percent(figures['unseen_characters'], figures['characters'])} "
                    f"characters never seen in training: {figures['unseen_character_list']}",
                    "add training text with them, or accept that they read as unknown",
                )
            )
    return found


def _oov_fix(spec):
    """What reads unseen words: the input options the spec does not use yet."""
    unused = [
        option
        for option, used in (
            ("pretrained vectors (input.vectors)", spec.input.vectors is not None),
            ("characters (input.chars)", spec.input.chars is not None),
        )
        if not used
    ]
    if not unused:
        return "more training text, or word dropout (input.word_dropout) to learn <unk>"
    return f"add {' or '.join(unused)} so unseen words are read"


def _overlap_findings(overlap, splits):
    found = []
    for pair, n in overlap.items():
        split, earlier = pair.split("~")
        if n:
            found.append(
                Finding(
                    "warning",
                    "overlap",
                    f"{split}: {percent(n, splits[split]['examples'])} examples also appear "
                    f"exactly in {earlier}",
                    f"remove them from {split}: its scores are optimistic while they stay",
                )
            )
    return found


def _labels(kind, records):
    """`({label: {split: count}}, findings)`: rare training labels, labels of a split unseen
    in training (never predicted) and training labels a split lacks (not scored there)."""
    counts = {
        split: count.label_counts(labels_of(kind, r) for r in rows)
        for split, rows in records.items()
    }
    train = counts.get("train", {})
    table = {}
    for split, labels in counts.items():
        for label, n in labels.items():
            table.setdefault(label, {s: 0 for s in counts})[split] = n
    found = []
    rare = [f"{label} ({n})" for label, n in train.items() if n < RARE_LABEL]
    if rare:
        message = f"labels with fewer than {RARE_LABEL} training examples: {', '.join(rare)}"
        fix = "add examples of them, or merge them into a related label"
        found.append(Finding("warning", "labels", message, fix))
    for split, labels in counts.items():
        if split == "train" or not train:
            continue
        unseen = [f"{label} ({n})" for label, n in labels.items() if label not in train]
        if unseen:
            message = f"{split}: labels never seen in training: {', '.join(unseen)}"
            fix = "the model cannot predict them: add training examples, or fix their spelling"
            found.append(Finding("warning", "labels", message, fix))
        absent = [label for label in train if label not in labels]
        if absent:
            message = f"{split}: training labels missing from this split: {', '.join(absent)}"
            fix = f"add {split} examples of them, or their scores are not measured"
            found.append(Finding("warning", "labels", message, fix))
    return table, found


def _bio(records):
    tag_lists = [r["tags"] for rows in records.values() for r in rows]
    if not count.is_bio(tag_lists):
        return []
    found = []
    for split, rows in records.items():
        bad = count.bio_violations(r["tags"] for r in rows)
        if bad["count"]:
            example, token = bad["first"]
            message = (
                f"{split}: {bad['count']:,} invalid BIO transitions (I-X at a start, after O "
                f"or after another type), the first in example {example + 1}, token {token + 1}"
            )
            fix = "begin every entity with B-X (or mean IOB1, where I-X may begin one)"
            found.append(Finding("warning", "bio", message, fix))
    return found


def _target_oov(spec, records, splits):
    """Adds each split's `target_oov_rate` (seq2seq targets against the training targets)."""
    size = spec.head.target_vocab_size
    targets = Vocabulary.build(
        (r["target"] for r in records.get("train", [])),
        max_size=None if size == "auto" else size,
        specials=TARGET_SPECIALS,
    )
    for split, rows in records.items():
        oov, tokens = count.unknown(targets, [r["target"] for r in rows])
        splits[split]["target_oov_rate"] = share(oov, tokens)


def _vectors(spec, inputs):
    """`({"train_words", "train_words_covered", "coverage"}, findings)`: the share of the
    training split's distinct words that the `input.vectors` file has."""
    lower = spec.input.lowercase
    every = [s for sentences in inputs.values() for s in sentences]
    words = {w.lower() if lower else w for s in every for w in s}
    try:
        vectors = read_vectors(spec.input.vectors.path, spec.input.embedding_dim, words, lower)
    except DataError as error:
        return {}, [Finding("error", "vectors", str(error))]
    train = {w.lower() if lower else w for s in inputs.get("train", []) for w in s}
    covered = sum(w in vectors for w in train)
    figures = {"train_words": len(train), "covered": covered}
    figures["coverage"] = share(covered, len(train))
    if figures["coverage"] >= VECTORS_WARNING:
        return figures, []
    message = f"input.vectors has vectors for only {percent(covered, len(train))} training words"
    fix = "use vectors of this language and casing (input.lowercase must match the file)"
    return figures, [Finding("warning", "vectors", message, fix)]
