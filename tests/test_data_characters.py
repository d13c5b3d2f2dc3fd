import logging

import numpy as np

from keras_seq.data import EncodeStats, Vocabulary, build_char_vocabulary, encode_characters

SENTENCES = [["The", "cats"], ["a", "catalogue", "is", "long"], ["Tea"]]


def test_vocabulary_keeps_case_orders_by_frequency_and_reserves_pad_and_unk():
    vocab = build_char_vocabulary(SENTENCES)
    assert vocab.tokens[:2] == ["<pad>", "<unk>"]
    counts = {}
    for sentence in SENTENCES:
        for char in "".join(sentence):
            counts[char] = counts.get(char, 0) + 1
    ranked = sorted(counts, key=lambda c: (-counts[c], c))
    assert vocab.tokens[2:] == ranked and "T" in vocab and "t" in vocab
    assert build_char_vocabulary(SENTENCES, min_frequency=2).tokens[2:] == [
        c for c in ranked if counts[c] >= 2
    ]
    assert build_char_vocabulary(SENTENCES, max_size=5).tokens[2:] == ranked[:3]


def test_encoding_matches_a_per_character_lookup_with_padding_and_cuts():
    vocab = build_char_vocabulary(SENTENCES[:1])  # "a", "c", "s" ... in later sentences: <unk>
    encoded = encode_characters(SENTENCES, vocab, max_length=3, max_word_length=5)
    assert encoded.ids.shape == (3, 3, 5) and encoded.ids.dtype == np.int32
    for i, sentence in enumerate(SENTENCES):
        for j in range(3):
            word = sentence[j] if j < len(sentence) else ""
            expected = [vocab.encode([c])[0] for c in word[:5]]
            expected += [0] * (5 - len(expected))
            assert encoded.ids[i, j].tolist() == expected
    assert encoded.words == 6 and encoded.cut == 1  # "catalogue"; "long" was truncated away


def test_cut_words_are_reported_with_the_split(caplog):
    stats = EncodeStats(examples=3, tokens=7, cut_words=1)
    with caplog.at_level(logging.WARNING, logger="keras_seq.data"):
        stats.warn("train.conllu")
    assert "train.conllu: 1 of 7 words were longer than max_word_length" in caplog.text


def test_defaults_fit_the_longest_sentence_and_word():
    vocab = Vocabulary(["<pad>", "<unk>", "a"])
    encoded = encode_characters([["aaa"], ["a", "a"]], vocab)
    assert encoded.ids.tolist() == [[[2, 2, 2], [0, 0, 0]], [[2, 0, 0], [2, 0, 0]]]
    assert encoded.cut == 0
    assert encode_characters([[]], vocab).ids.shape == (1, 0, 1)
