"""Writes the small bundled datasets (train/validation/test) next to this file.

Run `python keras_seq/datasets/make_datasets.py`; a fixed seed makes the output identical each
time. Each set needs a model to use context, not just look words up:

- tagger-*.conllu: part-of-speech tags (UPOS and Penn XPOS). Words such as "watch", "saw",
  "can", "park" are NOUN after a determiner or adjective and VERB/AUX after a subject or modal;
  "light", "cold", "orange" are ADJ before a noun and NOUN otherwise (needs the next word).
  Contractions are multi-word tokens ("didn't" = did + n't), as in Universal Dependencies.
- classifier-*.csv: `text,label` sentiment. The label follows the polarity word, flipped by a
  negation ("not", "never", "hardly") and, after "but" / "although ... ,", decided by the
  last clause.
- forecaster-*.csv: `step,load,temperature` hourly; load has daily and weekly seasons, follows
  temperature, and carries noise. The splits are consecutive stretches of one series.
- seq2seq-*.jsonl: `source,target` dates written many ways -> `YYYY - MM - DD`.
- ner-*.jsonl: `tokens,tags` named entities in BIO tags (PER, LOC, ORG). Entities span one to
  three words; "Jordan", "Washington", "Morgan", "Paris" are a person, a place or part of an
  organisation depending on the words around them ("Dr. Jordan", "in Jordan", "Jordan Motors"),
  and some first names appear only in the validation and test splits (context must tell).
- load-series.csv: `region,date,load,holiday` daily electricity load of four regions with
  different levels, a weekly cycle (weekends lower), a yearly one, and holidays (`holiday` 1)
  that cut the load by 40 %: a future covariate, known ahead, that history cannot predict.
"""

import csv
import datetime
import json
import math
import random
from pathlib import Path

HERE = Path(__file__).parent
SIZES = {"train": 0.7, "validation": 0.15, "test": 0.15}

# ---- tagger ------------------------------------------------------------------------------
DET = ["the", "a", "every", "this", "some", "her"]
ADJ = ["big", "small", "old", "red", "happy", "quiet", "new"]
SUBJ_PRON = ["she", "he", "they", "we", "i", "you"]
OBJ_PRON = ["him", "her", "them", "us", "me", "it"]
PROPN = ["anna", "tom", "paris", "london", "maria"]
NOUN = ["dog", "cat", "teacher", "city", "river", "car", "house", "garden", "letter", "child"]
# word -> (past form, lemma); these words are also nouns, so context decides.
AMBIGUOUS_VERBS = {
    "watch": "watched",
    "book": "booked",
    "play": "played",
    "walk": "walked",
    "paint": "painted",
    "park": "parked",
    "fly": "flew",
    "run": "ran",
    "saw": "sawed",
}
OTHER_VERBS = {"see": "saw", "find": "found", "like": "liked", "visit": "visited"}
MODALS = ["will", "can", "must", "should", "could"]
ADJ_NOUN = ["light", "cold", "orange"]  # ADJ before a noun, NOUN otherwise
ADV = ["often", "quickly", "never", "slowly"]
ADP = ["in", "near", "with", "under", "behind"]
CONTRACTIONS = {"did": ("didn't", "did"), "can": ("can't", "ca"), "will": ("won't", "wo")}


def _noun_phrase(rng, subject):
    kind = rng.random()
    if kind < 0.2:
        return [(rng.choice(PROPN), "PROPN", "NNP")]
    if kind < 0.4:
        pron = rng.choice(SUBJ_PRON if subject else OBJ_PRON)
        return [(pron, "PRON", "PRP")]
    det = rng.choice(DET)
    words = [(det, "PRON" if det == "her" else "DET", "PRP$" if det == "her" else "DT")]
    if rng.random() < 0.4:
        words.append((rng.choice(ADJ + ADJ_NOUN), "ADJ", "JJ"))
    nouns = NOUN + list(AMBIGUOUS_VERBS) + ["can"] * 2 + ADJ_NOUN
    words.append((rng.choice(nouns), "NOUN", "NN"))
    return words


def _verb_phrase(rng):
    words = []
    if rng.random() < 0.5:
        modal = rng.choice(MODALS + ["did"])
        words.append((modal, "AUX", "VBD" if modal == "did" else "MD"))
        if rng.random() < 0.3:
            words.append(("not", "PART", "RB"))
        verb = rng.choice(list(AMBIGUOUS_VERBS) * 2 + list(OTHER_VERBS))
        words.append((verb, "VERB", "VB"))
    else:
        if rng.random() < 0.2:
            words.append((rng.choice(ADV), "ADV", "RB"))
        past = rng.choice(list(AMBIGUOUS_VERBS.values()) + list(OTHER_VERBS.values()))
        words.append((past, "VERB", "VBD"))
    return words + _noun_phrase(rng, subject=False)


def _sentence(rng):
    words = _noun_phrase(rng, subject=True) + _verb_phrase(rng)
    if rng.random() < 0.3:
        words += [(rng.choice(ADP), "ADP", "IN")] + _noun_phrase(rng, subject=False)
    if rng.random() < 0.2:
        words += [("and", "CCONJ", "CC")] + _noun_phrase(rng, True) + _verb_phrase(rng)
    words.append((".", "PUNCT", "."))
    # ADJ_NOUN words before a noun are adjectives; standing last in their phrase, nouns.
    for i, (word, _, _) in enumerate(words):
        if word in ADJ_NOUN:
            before_noun = words[i + 1][1] == "NOUN"
            words[i] = (word, "ADJ", "JJ") if before_noun else (word, "NOUN", "NN")
    return words


_LEMMAS = {past: base for base, past in {**AMBIGUOUS_VERBS, **OTHER_VERBS}.items()}


def _conllu(rng, index, split):
    words = _sentence(rng)
    words[0] = (words[0][0].capitalize(),) + words[0][1:]
    lines, text = [], []
    i = n = 0  # i: next word; n: words written so far (the CoNLL-U ID of the last one)
    while i < len(words):
        word, upos, xpos = words[i]
        if word.lower() in CONTRACTIONS and i + 1 < len(words) and words[i + 1][0] == "not":
            surface, first = CONTRACTIONS[word.lower()]
            if word[0].isupper():
                surface, first = surface.capitalize(), first.capitalize()
            lines.append(f"{n + 1}-{n + 2}\t{surface}\t_\t_\t_\t_\t_\t_\t_\t_")
            lines.append(f"{n + 1}\t{first}\t{word.lower()}\t{upos}\t{xpos}\t_\t_\t_\t_\t_")
            lines.append(f"{n + 2}\tn't\tnot\tPART\tRB\t_\t_\t_\t_\t_")
            text.append(surface)
            i, n = i + 2, n + 2
            continue
        lemma = _LEMMAS.get(word.lower(), word.lower()) if xpos == "VBD" else word.lower()
        lines.append(f"{n + 1}\t{word}\t{lemma}\t{upos}\t{xpos}\t_\t_\t_\t_\t_")
        text.append(word)
        i, n = i + 1, n + 1
    head = [f"# sent_id = {split}-{index + 1}", f"# text = {' '.join(text)}"]
    return "\n".join(head + lines) + "\n\n"


def make_tagger(rng, total=900):
    for split, count in _split_counts(total).items():
        with open(HERE / f"tagger-{split}.conllu", "w", encoding="utf-8", newline="\n") as f:
            f.writelines(_conllu(rng, i, split) for i in range(count))


# ---- classifier --------------------------------------------------------------------------
SUBJECTS = [
    "the food",
    "the movie",
    "the service",
    "this phone",
    "the hotel",
    "our trip",
    "the staff",
    "the book",
    "the music",
    "the room",
    "the game",
    "the price",
]
VERBS = ["was", "is", "seemed", "felt", "looked"]
INTENSIFIERS = ["very", "really", "quite", "so", "truly"]
POSITIVE = [
    "good",
    "great",
    "excellent",
    "wonderful",
    "lovely",
    "fantastic",
    "pleasant",
    "amazing",
    "fine",
    "superb",
]
NEGATIVE = [
    "bad",
    "terrible",
    "awful",
    "boring",
    "poor",
    "horrible",
    "disappointing",
    "dull",
    "weak",
    "mediocre",
]
NEGATIONS = ["not", "never", "hardly"]
OPENERS = ["honestly ,", "overall", "i think", "to be fair ,", "in the end", "sadly ,", "luckily ,"]


def _clause(rng):
    positive = rng.random() < 0.5
    words = [rng.choice(SUBJECTS), rng.choice(VERBS)]
    negated = rng.random() < 0.35
    if negated:
        words.append(rng.choice(NEGATIONS))
    if rng.random() < 0.4:
        words.append(rng.choice(INTENSIFIERS))
    words.append(rng.choice(POSITIVE if positive else NEGATIVE))
    return " ".join(words), positive != negated


def _review(rng):
    first, label = _clause(rng)
    shape = rng.random()
    if shape < 0.25:
        second, label = _clause(rng)
        text = f"{first} but {second}"
    elif shape < 0.4:
        second, label = _clause(rng)
        text = f"although {first} , {second}"
    else:
        text = first
    if rng.random() < 0.3:
        text = f"{rng.choice(OPENERS)} {text}"
    return text, "positive" if label else "negative"


def make_classifier(rng, total=2800):
    for split, count in _split_counts(total).items():
        with open(HERE / f"classifier-{split}.csv", "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["text", "label"])
            writer.writerows(_review(rng) for _ in range(count))


# ---- forecaster --------------------------------------------------------------------------
def make_forecaster(rng, total=4200):
    anomaly = 0.0  # slow AR(1) weather on top of the daily temperature cycle
    rows = []
    for t in range(total):
        anomaly = 0.95 * anomaly + rng.gauss(0, 0.08)
        temperature = 0.6 * math.sin(2 * math.pi * (t - 8) / 24) + anomaly
        load = (
            0.8 * math.sin(2 * math.pi * t / 24)
            + 0.4 * math.sin(2 * math.pi * t / 168)
            + 0.3 * temperature
            + rng.gauss(0, 0.1)
        )
        rows.append((t, f"{load:.4f}", f"{temperature:.4f}"))
    start = 0
    for split, count in _split_counts(total).items():
        with open(HERE / f"forecaster-{split}.csv", "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["step", "load", "temperature"])
            writer.writerows(rows[start : start + count])
        start += count


# ---- many series with calendar covariates -------------------------------------------------
LOAD_REGIONS = {"north": 600.0, "south": 250.0, "east": 120.0, "west": 40.0}


def make_load_series(rng, days=365):
    start = datetime.date(2023, 1, 2)  # a Monday
    holidays = set(rng.sample(range(days), days // 8))  # shared by every region
    rows = []
    for region, level in LOAD_REGIONS.items():
        noise = 0.0
        for day in range(days):
            date = start + datetime.timedelta(days=day)
            noise = 0.6 * noise + rng.gauss(0, 0.02)
            weekly = 0.8 if date.weekday() >= 5 else 1.0
            yearly = 1 + 0.15 * math.cos(2 * math.pi * (day - 15) / 365.25)
            holiday = day in holidays
            load = level * weekly * yearly * (0.6 if holiday else 1.0) * (1 + noise)
            rows.append((region, date.isoformat(), f"{load:.2f}", int(holiday)))
    with open(HERE / "load-series.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["region", "date", "load", "holiday"])
        writer.writerows(rows)


# ---- seq2seq -----------------------------------------------------------------------------
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]


def _ordinal(day):
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _date_pair(rng):
    date = datetime.date(1990, 1, 1) + datetime.timedelta(days=rng.randrange(40 * 365))
    d, m, y = date.day, MONTHS[date.month - 1], date.year
    forms = [
        f"{d} {m} {y}",
        f"{m} {d} , {y}",
        f"the {_ordinal(d)} of {m} {y}",
        f"{m[:3]} {d} {y}",
        f"{date.strftime('%A').lower()} , {m} {d} , {y}",
        f"{d:02d} . {date.month:02d} . {y}",
        f"{_ordinal(d)} {m[:3]} {y}",
    ]
    target = f"{y} - {date.month:02d} - {d:02d}"
    return {"source": rng.choice(forms), "target": target}


def make_seq2seq(rng, total=3200):
    seen = set()
    for split, count in _split_counts(total).items():
        pairs = [_date_pair(rng) for _ in range(count)]
        tokens = {t for p in pairs for t in (p["source"] + " " + p["target"]).split()}
        if split == "train":
            seen = tokens
        assert tokens <= seen, f"{split} has tokens the training split lacks: {tokens - seen}"
        with open(HERE / f"seq2seq-{split}.jsonl", "w", encoding="utf-8", newline="\n") as f:
            f.writelines(json.dumps(p) + "\n" for p in pairs)


# ---- named entities ----------------------------------------------------------------------
FIRST_NAMES = ["Anna", "Omar", "Lena", "Hugo", "Mei", "Tariq", "Sofia", "Ivan", "Grace", "Kofi"]
UNSEEN_FIRST_NAMES = ["Noor", "Pablo", "Yuki", "Elif"]  # only in validation and test
SURNAMES = ["Smith", "Garcia", "Okafor", "Chen", "Novak", "Jordan", "Washington", "Morgan"]
TITLES = ["Dr.", "Mr.", "Ms.", "Professor"]
PLACES = ["Berlin", "Lagos", "Lima", "Oslo", "Paris", "Jordan", "Washington", "Kyoto"]
MULTI_WORD_PLACES = [["New", "York"], ["Cape", "Town"], ["San", "Diego"], ["Hong", "Kong"]]
ORG_NAMES = ["Acme", "Globex", "Initech", "Umbrella", "Jordan", "Morgan", "Paris", "Vertex"]
ORG_SUFFIXES = [["Corp."], ["Motors"], ["Bank"], ["Labs"], ["Airlines"], ["Group"]]
NER_TEMPLATES = [
    "{PER} works for {ORG} in {LOC} .",
    "{PER} met {PER} in {LOC} on Monday .",
    "{ORG} opened an office in {LOC} .",
    "Yesterday , {PER} said that {ORG} will hire in {LOC} .",
    "{PER} flew from {LOC} to {LOC} .",
    "Shares of {ORG} rose after {PER} joined the board .",
    "The mayor of {LOC} thanked {PER} .",
    "{ORG} and {ORG} signed a deal in {LOC} .",
    "According to {PER} , the weather in {LOC} was cold .",
    "She left {ORG} last year .",
    "It rained all week .",
]


def _person(rng, first_names):
    words = [rng.choice(first_names), rng.choice(SURNAMES)]
    roll = rng.random()
    if roll < 0.3:
        return [rng.choice(TITLES)], [rng.choice(SURNAMES)]  # title (outside) + surname
    if roll < 0.45:
        return [], words[:1]
    return [], words


def _entity(rng, kind, first_names):
    """(outside words before the entity, the entity's words) of one kind."""
    if kind == "PER":
        return _person(rng, first_names)
    if kind == "LOC":
        return [], list(rng.choice([[p] for p in PLACES] + MULTI_WORD_PLACES))
    return [], [rng.choice(ORG_NAMES), *rng.choice(ORG_SUFFIXES)]


def _ner_record(rng, first_names):
    tokens, tags = [], []
    for piece in rng.choice(NER_TEMPLATES).split():
        kind = piece.strip("{}")
        if kind not in ("PER", "LOC", "ORG"):
            tokens.append(piece)
            tags.append("O")
            continue
        outside, words = _entity(rng, kind, first_names)
        tokens += outside + words
        tags += ["O"] * len(outside) + [f"B-{kind}"] + [f"I-{kind}"] * (len(words) - 1)
    return {"tokens": tokens, "tags": tags}


def make_ner(rng, total=600):
    for split, count in _split_counts(total).items():
        names = FIRST_NAMES if split == "train" else FIRST_NAMES + UNSEEN_FIRST_NAMES
        with open(HERE / f"ner-{split}.jsonl", "w", encoding="utf-8", newline="\n") as f:
            f.writelines(json.dumps(_ner_record(rng, names)) + "\n" for _ in range(count))


def _split_counts(total):
    counts = {split: int(total * share) for split, share in SIZES.items()}
    counts["train"] += total - sum(counts.values())
    return counts


if __name__ == "__main__":
    for make in (
        make_tagger,
        make_classifier,
        make_forecaster,
        make_seq2seq,
        make_ner,
        make_load_series,
    ):
        make(random.Random(2024))
