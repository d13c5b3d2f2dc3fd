"""Characters of words: a character vocabulary and (sentences, words, characters) id arrays."""

import dataclasses

import numpy as np

from keras_seq.data.vocabulary import Vocabulary


def build_char_vocabulary(sentences, min_frequency=1, max_size=None):
    """Learns the characters of the words in `sentences` (use the training split only).

    Ids: 0 `<pad>`, 1 `<unk>` (a character not seen in training), then the characters by falling
    frequency. Case is kept: capitals are a strong cue for names.

    Args:
        sentences: iterable of lists of str (words).
        min_frequency: int. Rarer characters map to `<unk>`.
        max_size: int, optional. At most this many ids, `<pad>` and `<unk>` included (the most
            frequent characters are kept).

    Examples:

    >>> from keras_seq.data import build_char_vocabulary
    >>> build_char_vocabulary([["aba", "Cab"]]).tokens
    ['<pad>', '<unk>', 'a', 'b', 'C']
    """
    words = (list(word) for sentence in sentences for word in sentence)
    return Vocabulary.build(words, min_frequency=min_frequency, max_size=max_size)


@dataclasses.dataclass
class EncodedCharacters:
    """Character ids of one split.

    Attributes:
        ids: `np.ndarray` (n, words, chars) int32: character c of word w of sentence i, 0 at
            padding (after a word's last character, and for words past a sentence's end).
        words: int. Real words encoded.
        cut: int. Of those, words longer than `max_word_length`, cut at the end (add it to
            `EncodeStats.cut_words`, which reports it).
    """

    ids: np.ndarray
    words: int = 0
    cut: int = 0


def encode_characters(sentences, char_vocab, max_length=None, max_word_length=None):
    """Sentences of words -> `EncodedCharacters` with ids (n, words, chars).

    Sentences are post-padded (and truncated) to `max_length` words, as the word ids are, so
    both line up; each word's characters are post-padded to the longest word, at most
    `max_word_length` characters (longer words are cut at the end and counted).

    Args:
        sentences: list of lists of str.
        char_vocab: `Vocabulary` of characters (`build_char_vocabulary`).
        max_length: int, optional. Words per sentence; default: the longest sentence.
        max_word_length: int, optional. Characters per word; default: the longest word.

    Examples:

    >>> from keras_seq.data import build_char_vocabulary, encode_characters
    >>> chars = build_char_vocabulary([["ab", "b"]])
    >>> encoded = encode_characters([["abba", "bc"]], chars, max_length=3, max_word_length=3)
    >>> encoded.ids.tolist(), encoded.cut
    ([[[3, 2, 2], [2, 1, 0], [0, 0, 0]]], 1)
    """
    if max_length is None:
        max_length = max((len(s) for s in sentences), default=0)
    words = [sentence[:max_length] for sentence in sentences]
    longest = max((len(w) for sentence in words for w in sentence), default=0)
    width = max(1, longest if max_word_length is None else min(longest, max_word_length))
    ids = np.zeros((len(sentences), max_length, width), "int32")
    encoded = EncodedCharacters(ids)
    for i, sentence in enumerate(words):
        for j, word in enumerate(sentence):
            ids[i, j, : min(len(word), width)] = char_vocab.encode(list(word[:width]))
            encoded.words += 1
            encoded.cut += len(word) > width
    return encoded
