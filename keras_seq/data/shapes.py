"""Word shapes: a few binary features of each raw token (`input.shape_features`).

Computed from the token as written (before `input.lowercase`), so capitals survive; they tell
a tagger what an unseen word looks like (a capitalised name, an @-handle, a number, a URL).
"""

import unicodedata

import numpy as np


def _punctuation(char):
    return unicodedata.category(char).startswith("P")


# (name, rule in words, test): the features in order; `preprocessing.json` carries the rules.
SHAPE_FEATURES = (
    ("capitalised", "the first character is an uppercase letter", lambda w: w[0].isupper()),
    (
        "all_caps",
        "it has a cased letter and every cased letter is uppercase",
        lambda w: w.isupper(),
    ),
    (
        "has_digit",
        "some character is a decimal digit (Unicode Nd)",
        lambda w: any(c.isdecimal() for c in w),
    ),
    ("all_digits", "every character is a decimal digit (Unicode Nd)", lambda w: w.isdecimal()),
    ("mention", "it starts with @", lambda w: w.startswith("@")),
    ("hashtag", "it starts with #", lambda w: w.startswith("#")),
    (
        "url",
        "lowercased, it starts with http://, https:// or www.",
        lambda w: w.lower().startswith(("http://", "https://", "www.")),
    ),
    (
        "has_punctuation",
        "some character is punctuation (Unicode category P*)",
        lambda w: any(map(_punctuation, w)),
    ),
    (
        "all_punctuation",
        "every character is punctuation (Unicode category P*)",
        lambda w: all(map(_punctuation, w)),
    ),
)


def word_shape(word):
    """The shape features of one non-empty token, 0.0 or 1.0 each, in `SHAPE_FEATURES` order.

    >>> from keras_seq.data.shapes import word_shape
    >>> word_shape("@Nike2")
    [0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    """
    return [float(test(word)) for _, _, test in SHAPE_FEATURES]


def encode_shapes(sentences, max_length=None):
    """Sentences of tokens -> float32 (n, max_length, features): each token's `word_shape`,
    0 for padding (post-padded and truncated like the word ids, so both line up).

    >>> from keras_seq.data.shapes import encode_shapes
    >>> shapes = encode_shapes([["Hi", "#nlp"]], max_length=3)
    >>> shapes.shape, shapes[0, 1].tolist()
    ((1, 3, 9), [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    """
    if max_length is None:
        max_length = max((len(s) for s in sentences), default=0)
    shapes = np.zeros((len(sentences), max_length, len(SHAPE_FEATURES)), "float32")
    for i, sentence in enumerate(sentences):
        for j, word in enumerate(sentence[:max_length]):
            shapes[i, j] = word_shape(word)
    return shapes
