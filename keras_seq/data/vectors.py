"""Pretrained word vectors: word2vec text / GloVe files, vocabulary extension, embedding rows."""

import gzip
import logging
import zlib
from pathlib import Path

import numpy as np

from keras_seq.data.errors import DataError, check_file
from keras_seq.data.vocabulary import Vocabulary

logger = logging.getLogger("keras_seq.data")


def _lines(path):
    """Yields (line number, text) of a UTF-8 file, gunzipped when its name ends in `.gz`."""
    check_file(path, "input.vectors.path")  # missing, a folder or a device: said plainly
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as raw:
            for number, line in enumerate(raw, start=1):
                try:
                    text = line.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as err:
                    raise DataError(
                        f"not valid UTF-8 (byte 0x{line[err.start]:02x})",
                        path=path,
                        line=number,
                        hint="save the vectors file as UTF-8",
                    ) from None
                yield number, text.rstrip("\r\n")
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"cannot read the file ({err})", path=path) from None


def _header(fields):
    """(count, dim) when a first line is word2vec's "count dim" header, else None."""
    if len(fields) == 2 and all(field.isdigit() for field in fields):
        return int(fields[0]), int(fields[1])
    return None


def read_vectors(path, dim, words=None, lowercase=False):
    """Reads a word2vec text or GloVe file: one word and its `dim` numbers per line.

    An optional first line "count dim" (word2vec) is checked against the file; a name ending in
    `.gz` is read gunzipped. With `lowercase` each word is lowercased (as the spec's
    `input.lowercase` does to the data) and, where two words then meet, the first one in the file
    is kept. Every line's field count is checked; numbers are parsed only for kept words.

    Args:
        path: str or path-like. The vectors file.
        dim: int. The dimension the model expects (`input.embedding_dim`).
        words: optional set of str. Keep only these (already lowercased when `lowercase`).
        lowercase: bool. Lowercase the file's words.

    Returns:
        dict str -> float32 `np.ndarray` (dim,).

    Raises:
        DataError: naming the file and line, for a missing, empty or non-UTF-8 file, a
        dimension other than `dim`, a line of another dimension than the file's, a word
        written twice, or a value that is not a number.

    Examples:

    >>> import pathlib, tempfile
    >>> from keras_seq.data import read_vectors
    >>> path = pathlib.Path(tempfile.mkdtemp(), "vectors.txt")
    >>> _ = path.write_text("2 3\\nThe 0.1 0.2 0.3\\nthe 1 1 1\\n", encoding="utf-8")
    >>> {w: v.tolist() for w, v in read_vectors(path, 3, lowercase=True).items()}
    {'the': [0.10000000149011612, 0.20000000298023224, 0.30000001192092896]}
    """
    path = Path(path)
    vectors, file_dim, header, lines = {}, None, None, 0
    first_line = {}  # each word as written -> its line: a word given twice is refused
    for number, text in _lines(path):
        fields = text.rstrip(" ").split(" ")
        if not text.strip():
            continue
        if number == 1 and _header(fields):
            header = _header(fields)
            continue
        if file_dim is None:
            file_dim = len(fields) - 1
            _check_header(header, file_dim, fields[0], path, number)
            _check_dim(file_dim, dim, path, number)
        _check_field_count(fields, dim, path, number)
        lines += 1
        _check_new_word(fields[0], first_line.setdefault(fields[0], number), path, number)
        word = fields[0].lower() if lowercase else fields[0]
        if word in vectors or (words is not None and word not in words):
            continue
        vectors[word] = _vector(fields, path, number)
    if not lines:
        raise DataError("no vectors in the file", path=path, hint="give one word per line")
    if header is not None and header[0] != lines:
        logger.warning(
            "%s: the header announces %d vectors, the file has %d", path, header[0], lines
        )
    return vectors


def _check_header(header, file_dim, word, path, number):
    """A word2vec header ("count dim") must give the dimension its first vector has: when they
    disagree, the header is what is wrong (not the model's size)."""
    if header is not None and header[1] != file_dim:
        raise DataError(
            f"the header (line 1) announces {header[1]} dimensions, but the vector of {word!r} "
            f"on line {number} has {file_dim} values",
            path=path,
            line=1,
            hint=f"correct line 1 to '{header[0]} {file_dim}' (or delete it: the header is "
            "optional)",
        )


def _check_new_word(word, first, path, number):
    """A word written twice (two vectors for one word: which is meant?) is refused at its
    second line."""
    if first != number:
        raise DataError(
            f"the word {word!r} has a vector on line {first} already",
            path=path,
            line=number,
            hint="keep one line per word (delete one of the two)",
        )


def _check_dim(file_dim, dim, path, number):
    if file_dim != dim:
        raise DataError(
            f"the vectors have {file_dim} dimensions, the model's embedding has {dim}",
            path=path,
            line=number,
            hint=f"set input.embedding_dim to {file_dim}, or use vectors of size {dim}",
        )


def _check_field_count(fields, dim, path, number):
    if len(fields) != dim + 1:
        raise DataError(
            f"{len(fields) - 1} values after the word {fields[0]!r}, expected {dim}",
            path=path,
            line=number,
            hint="each line must hold a word and then every value, separated by spaces",
        )


def _vector(fields, path, number):
    """The float32 vector of one line's `fields` (the word first); finite numbers only."""
    try:
        vector = np.array(fields[1:], dtype="float32")
    except ValueError:
        raise DataError(
            f"a value of {fields[0]!r} is not a number",
            path=path,
            line=number,
            hint="write each value as a decimal number such as 0.125",
        ) from None
    if not np.isfinite(vector).all():
        raise DataError(
            f"a value of {fields[0]!r} is NaN, infinite or too large for float32",
            path=path,
            line=number,
            hint="replace it by a finite number (or drop the line)",
        )
    return vector


def extend_vocabulary(vocab, sentences, vectors, max_size=None):
    """`vocab` plus the words of `sentences` that have a vector but no id yet.

    Such words (in validation or test data, or too rare for the training vocabulary) then get
    their pretrained vector instead of `<unk>`. New words come after the existing ids, in order
    of first appearance, while the vocabulary has fewer than `max_size` ids (None: no limit).

    Examples:

    >>> import numpy as np
    >>> from keras_seq.data import Vocabulary, extend_vocabulary
    >>> vocab = Vocabulary.build([["the", "cat"]], lowercase=True)
    >>> extend_vocabulary(vocab, [["A", "dog", "cat"]], {"dog": np.zeros(2)}).tokens
    ['<pad>', '<unk>', 'cat', 'the', 'dog']
    """
    added = {}
    for sentence in sentences:
        for word in sentence:
            key = word.lower() if vocab.lowercase else word
            if key in vectors and key not in vocab:
                added.setdefault(key, None)
    room = None if max_size is None else max(0, max_size - len(vocab))
    return Vocabulary(vocab.tokens + list(added)[:room], lowercase=vocab.lowercase)


def embedding_matrix(table, vocab, vectors, source=None):
    """A copy of the embedding `table` with the pretrained vector in each row that has one.

    Rows of words without a vector (and of `<pad>`, `<unk>`) keep their values in `table`, the
    embedding's own random start. The share of the vocabulary found is logged.

    Args:
        table: `np.ndarray` (len(vocab), dim). The embedding's initial weights.
        vocab: `Vocabulary`. Row i is `vocab.tokens[i]`.
        vectors: dict from `read_vectors`.
        source: str, optional. Names the vectors file in the log.

    Returns:
        `(matrix, found)`: the new table and how many vocabulary words got a vector.

    Examples:

    >>> import numpy as np
    >>> from keras_seq.data import Vocabulary, embedding_matrix
    >>> vocab = Vocabulary.build([["the", "cat"]])
    >>> matrix, found = embedding_matrix(np.zeros((4, 2)), vocab, {"cat": np.ones(2)})
    >>> matrix.tolist(), found
    ([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.0]], 1)
    """
    matrix = np.array(table, copy=True)
    specials = {vocab.pad_id, vocab.oov_id}
    rows = [i for i, token in enumerate(vocab.tokens) if token in vectors and i not in specials]
    for i in rows:
        matrix[i] = vectors[vocab.tokens[i]]
    words = len(vocab) - len(specials - {None})
    share = len(rows) / max(words, 1)
    # Under a tenth found: the file is most likely not meant for this data (another language,
    # another casing than input.lowercase): say so where it is seen, not only in -v output.
    logger.log(
        logging.INFO if share >= 0.1 else logging.WARNING,
        "pretrained vectors%s: %d of %d vocabulary words found (%.1f%%)%s",
        f" ({source})" if source else "",
        len(rows),
        words,
        100.0 * share,
        "" if share >= 0.1 else "; check the file's language and input.lowercase",
    )
    return matrix, len(rows)
