import gzip
import logging

import numpy as np
import pytest

from keras_seq.data import (
    DataError,
    Vocabulary,
    embedding_matrix,
    extend_vocabulary,
    read_vectors,
)

GLOVE = "the 0.5 -1 2e-1\nCat 1 2 3\ncat 9 9 9\ndog 4 5 6\n"


def write(tmp_path, text, name="vectors.txt"):
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(text if isinstance(text, bytes) else text.encode("utf-8"))
    else:
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def as_lists(vectors):
    return {word: vector.tolist() for word, vector in vectors.items()}


def test_glove_word2vec_header_and_gzip_read_the_same(tmp_path):
    expected = {
        "the": [0.5, -1.0, np.float32(0.2).item()],
        "Cat": [1.0, 2.0, 3.0],
        "cat": [9.0, 9.0, 9.0],
        "dog": [4.0, 5.0, 6.0],
    }
    glove = read_vectors(write(tmp_path, GLOVE), 3)
    assert as_lists(glove) == expected
    assert all(v.dtype == np.float32 for v in glove.values())
    word2vec = write(tmp_path, "4 3\n" + GLOVE.replace("\n", " \n"), "w2v.txt")
    assert as_lists(read_vectors(word2vec, 3)) == expected
    assert as_lists(read_vectors(write(tmp_path, GLOVE, "v.txt.gz"), 3)) == expected


def test_lowercase_keeps_the_first_of_colliding_words_and_words_filter(tmp_path):
    path = write(tmp_path, GLOVE)
    lowered = read_vectors(path, 3, lowercase=True)
    assert as_lists(lowered)["cat"] == [1.0, 2.0, 3.0]  # "Cat" comes first in the file
    assert sorted(read_vectors(path, 3, words={"dog", "cow"}, lowercase=True)) == ["dog"]


def test_header_count_that_disagrees_is_warned(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="keras_seq.data"):
        read_vectors(write(tmp_path, "7 3\n" + GLOVE), 3)
    assert "announces 7 vectors, the file has 4" in caplog.text


@pytest.mark.parametrize(
    "text, dim, line, message",
    [
        (GLOVE.replace("dog 4 5 6", "dog 4 5"), 3, 4, "2 values after the word 'dog', expected 3"),
        # A header that disagrees with its lines is what is wrong, whatever the model's size.
        (
            "4 5\n" + GLOVE,
            3,
            1,
            "the header (line 1) announces 5 dimensions, but the vector of 'the' on line 2 has "
            "3 values. Fix: correct line 1 to '4 3' (or delete it: the header is optional)",
        ),
        ("4 5\n" + GLOVE, 5, 1, "the header (line 1) announces 5 dimensions, but the vector"),
        ("4 3\n" + GLOVE, 5, 2, "the vectors have 3 dimensions, the model's embedding has 5"),
        (GLOVE, 4, 1, "the vectors have 3 dimensions, the model's embedding has 4"),
        (GLOVE.replace("dog 4", "dog x"), 3, 4, "a value of 'dog' is not a number"),
        (GLOVE.encode("utf-8") + b"caf\xe9 1 2 3\n", 3, 5, "not valid UTF-8 (byte 0xe9)"),
        ("\n  \n", 3, None, "no vectors in the file"),
    ],
)
def test_bad_files_raise_data_error_naming_file_and_line(tmp_path, text, dim, line, message):
    for name in ("bad.txt", "bad.txt.gz"):
        path = write(tmp_path, text, name)
        with pytest.raises(DataError) as caught:
            read_vectors(path, dim)
        assert caught.value.path == str(path)
        assert caught.value.line == line
        assert message in str(caught.value)


def test_missing_and_corrupt_files_raise_data_error(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_vectors(tmp_path / "absent.txt", 3)
    corrupt = tmp_path / "v.gz"
    corrupt.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="cannot read the file"):
        read_vectors(corrupt, 3)


def test_vocabulary_is_extended_with_data_words_that_have_vectors():
    vocab = Vocabulary.build([["The", "cat", "the"]], lowercase=True)
    vectors = {"cat": np.ones(3), "dog": np.ones(3), "cow": np.ones(3), "owl": np.ones(3)}
    extended = extend_vocabulary(vocab, [["A", "Dog", "cat"], ["cow", "dog", "eel"]], vectors)
    assert extended.tokens == vocab.tokens + ["dog", "cow"]  # "owl" is not in the data
    assert extended.lowercase and extended.encode(["DOG", "eel"]) == [4, 1]
    capped = extend_vocabulary(vocab, [["cow", "dog"]], vectors, max_size=len(vocab) + 1)
    assert capped.tokens == vocab.tokens + ["cow"]


def test_matrix_rows_match_the_vectors_and_missing_words_keep_their_random_start(caplog):
    vocab = Vocabulary(["<pad>", "<unk>", "the", "cat", "dog", "eel"])
    rng = np.random.default_rng(0)
    table = rng.uniform(-0.05, 0.05, (len(vocab), 3)).astype("float32")
    vectors = {"cat": rng.normal(size=3), "eel": rng.normal(size=3), "<unk>": np.ones(3)}
    with caplog.at_level(logging.INFO, logger="keras_seq.data"):
        matrix, found = embedding_matrix(table, vocab, vectors, source="v.txt")
    assert found == 2 and matrix.dtype == table.dtype
    np.testing.assert_array_equal(matrix[[3, 5]], np.float32([vectors["cat"], vectors["eel"]]))
    np.testing.assert_array_equal(matrix[[0, 1, 2, 4]], table[[0, 1, 2, 4]])
    assert "pretrained vectors (v.txt): 2 of 4 vocabulary words found (50.0%)" in caplog.text
