"""Tests for keras_seq.data: readers, errors, vocabularies, encoding, windows, load_dataset."""

import json
import logging

import numpy as np
import pytest

from keras_seq import data
from keras_seq.data import DataError, Vocabulary

CONLLU = """# sent_id = 1
# text = The dog can't run.
1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_
2\tdog\tdog\tNOUN\tNN\t_\t4\tnsubj\t_\t_
3-4\tcan't\t_\t_\t_\t_\t_\t_\t_\t_
3\tca\tcan\tAUX\tMD\t_\t5\taux\t_\t_
4\tn't\tnot\tPART\tRB\t_\t5\tadvmod\t_\t_
4.1\tgone\tgo\tVERB\tVBN\t_\t_\t_\t_\t_
5\trun\trun\tVERB\tVB\t_\t0\troot\t_\tSpaceAfter=No
6\t.\t.\tPUNCT\t.\t_\t5\tpunct\t_\t_

1\tRun\trun\tVERB\tVB\t_\t0\troot\t_\t_
"""


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def raises(path, line, *words):
    """Context manager: a DataError naming `path:line` (and `words`) in its message."""
    where = f"{path}:{line}" if line else str(path)

    class Check:
        def __enter__(self):
            self.ctx = pytest.raises(DataError)
            self.info = self.ctx.__enter__()

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            message = str(self.info.value)
            assert message.startswith(where + ":"), message
            assert self.info.value.line == line
            for word in words:
                assert word in message, message
            return handled

    return Check()


# ---- readers ----------------------------------------------------------------------------
def test_read_conllu_skips_ranges_and_empty_nodes(tmp_path):
    path = write(tmp_path, "a.conllu", CONLLU)
    sentences, tags = data.read_conllu(path)
    assert sentences == [["The", "dog", "ca", "n't", "run", "."], ["Run"]]
    assert tags == [["DET", "NOUN", "AUX", "PART", "VERB", "PUNCT"], ["VERB"]]
    _, xpos = data.read_tagging(path, "conllu", tags_field="xpos")
    assert xpos[0] == ["DT", "NN", "MD", "RB", "VB", "."]


def test_read_csv_and_jsonl(tmp_path):
    csv_path = write(tmp_path, "c.csv", 'text,label\n"good , fine",pos\nbad movie,neg\n')
    assert data.read_classification(csv_path, "csv") == (
        [["good", ",", "fine"], ["bad", "movie"]],
        ["pos", "neg"],
    )
    lines = [{"t": ["a", "b"], "g": "X Y"}, {"t": "c", "g": ["Z"]}]
    jsonl = write(tmp_path, "t.jsonl", "\n".join(map(json.dumps, lines)) + "\n\n")
    assert data.read_tagging(jsonl, "jsonl", "t", "g") == ([["a", "b"], ["c"]], [["X", "Y"], ["Z"]])
    tag_csv = write(tmp_path, "t.csv", "tokens,tags\nthe dog,DET NOUN\n")
    assert data.read_tagging(tag_csv, "csv") == ([["the", "dog"]], [["DET", "NOUN"]])
    series = write(tmp_path, "s.csv", "t,a,b\n0,1.5,-2\n1,3,4e-1\n")
    assert data.read_series(series, "csv", ["b", "a"]) == [[-2.0, 1.5], [0.4, 3.0]]
    assert data.read_series(series, "csv")[1] == [1.0, 3.0, 0.4]
    pairs = write(tmp_path, "p.jsonl", '{"source": "a b", "target": ["c"]}\n')
    assert data.read_pairs(pairs, "jsonl") == ([["a", "b"]], [["c"]])


# ---- errors name file and line ----------------------------------------------------------
def test_missing_column_suggests_the_close_one(tmp_path):
    path = write(tmp_path, "c.csv", "txt,label\nhello,pos\n")
    with raises(path, 1, "'text'", "did you mean 'txt'", "data.text_column"):
        data.read_classification(path, "csv")
    path = write(tmp_path, "c.jsonl", '{"text": "a", "label": "x"}\n{"text": "b"}\n')
    with raises(path, 2, "'label'"):
        data.read_classification(path, "jsonl")


def test_empty_missing_and_undecodable_files(tmp_path):
    path = write(tmp_path, "e.csv", "\n  \n")
    with raises(path, None, "empty"):
        data.read_classification(path, "csv")
    path = write(tmp_path, "h.csv", "text,label\n")
    with raises(path, 1, "no rows"):
        data.read_classification(path, "csv")
    with raises(tmp_path / "nope.csv", None, "not found"):
        data.read_classification(tmp_path / "nope.csv", "csv")
    path = write(tmp_path, "l.csv", "text,label\ngood,pos\ncaf\xe9,pos\n", encoding="latin-1")
    with raises(path, 3, "UTF-8"):
        data.read_classification(path, "csv")


def test_bad_values_name_line_and_field(tmp_path):
    path = write(tmp_path, "s.csv", "a,b\n1,2\n3,abc\n")
    with raises(path, 3, "field 'b'", "non-numeric", '"abc"'):
        data.read_series(path, "csv")
    path = write(tmp_path, "n.csv", "a\n1\nnan\n")
    with raises(path, 3, "non-finite"):
        data.read_series(path, "csv")
    path = write(tmp_path, "r.csv", "text,label\ngood,pos,extra\n")
    with raises(path, 2, "3 fields", "header has 2"):
        data.read_classification(path, "csv")
    path = write(tmp_path, "j.jsonl", '{"text": "a", "label": "x"}\n{"text": "b", label}\n')
    with raises(path, 2, "not valid JSON"):
        data.read_classification(path, "jsonl")
    path = write(tmp_path, "t.jsonl", '{"tokens": ["a", "b"], "tags": ["X"]}\n')
    with raises(path, 1, "2 tokens but 1 tags"):
        data.read_tagging(path, "jsonl")
    path = write(tmp_path, "x.jsonl", '{"text": "", "label": "x"}\n')
    with raises(path, 1, "no tokens"):
        data.read_classification(path, "jsonl")


def test_broken_conllu_lines(tmp_path):
    lines = CONLLU.split("\n")
    spaces = "\n".join(lines[:3] + [lines[3].replace("\t", " ")] + lines[4:])
    path = write(tmp_path, "s.conllu", spaces)
    with raises(path, 4, "1 TAB-separated fields", "no TABs"):
        data.read_conllu(path)
    short = "\n".join(lines[:4] + ["2\tdog\tdog\tNOUN"] + lines[5:])
    with raises(write(tmp_path, "f.conllu", short), 5, "4 TAB-separated fields"):
        data.read_conllu(tmp_path / "f.conllu")
    bad_id = CONLLU.replace("2\tdog", "x\tdog")
    with raises(write(tmp_path, "i.conllu", bad_id), 4, "not a valid CoNLL-U token line"):
        data.read_conllu(tmp_path / "i.conllu")
    no_tag = CONLLU.replace("NOUN\tNN", "_\tNN")
    with raises(write(tmp_path, "u.conllu", no_tag), 4, "field 'upos'", "xpos"):
        data.read_conllu(tmp_path / "u.conllu")


# ---- vocabulary -------------------------------------------------------------------------
def test_vocabulary_oov_min_frequency_lowercase_and_file(tmp_path):
    sentences = [["The", "cat", "sat"], ["the", "cat", "ran"], ["THE", "dog"]]
    vocab = Vocabulary.build(sentences, lowercase=True, min_frequency=2)
    assert vocab.tokens == ["<pad>", "<unk>", "the", "cat"]
    assert vocab.encode(["Cat", "sat", "bird"]) == [3, 1, 1]
    cased = Vocabulary.build(sentences)  # cat (2 times) first, then ties in code-point order
    assert cased.tokens[2:5] == ["cat", "THE", "The"]
    assert cased.encode(["The", "the", "THE"]) == [4, 8, 3]
    assert len(Vocabulary.build(sentences, max_size=3)) == 3
    vocab.save(tmp_path / "vocab.txt")
    assert (tmp_path / "vocab.txt").read_text() == "<pad>\n<unk>\nthe\ncat\n"
    assert Vocabulary.load(tmp_path / "vocab.txt", lowercase=True) == vocab
    labels = Vocabulary.from_labels(["b", "a", "b"])
    assert labels.tokens == ["a", "b"] and labels.id("c") is None
    target = Vocabulary.build([["x", "y"]], specials=data.TARGET_SPECIALS)
    assert target.decode([2, 4, 5, 3, 4, 0]) == ["<bos>", "x", "y"]


# ---- encoding ---------------------------------------------------------------------------
def test_classification_truncation_is_counted_and_logged(caplog):
    texts = [["a", "b", "c"], ["a"], ["b", "b", "b", "b"]]
    vocab = Vocabulary.build(texts)  # <pad> <unk> b a c
    labels = Vocabulary.from_labels(["neg", "pos"])
    encoded = data.encode_classification(texts, ["pos", "neg", "pos"], vocab, labels, 3)
    np.testing.assert_array_equal(encoded.x, [[3, 2, 4], [3, 0, 0], [2, 2, 2]])
    np.testing.assert_array_equal(encoded.y, [1, 0, 1])
    assert encoded.x.dtype == np.int32 and encoded.stats.truncated == 1
    with caplog.at_level(logging.WARNING, logger="keras_seq.data"):
        encoded.stats.warn("train.csv")
    assert "1 of 3 sequences" in caplog.text


def test_unseen_labels_are_counted_and_weighted_zero(caplog):
    vocab = Vocabulary.build([["a", "b"]])
    tags = Vocabulary.from_labels(["N", "V"])
    encoded = data.encode_tagging([["a", "zz", "b"], ["b"]], [["N", "X", "V"], ["X"]], vocab, tags)
    np.testing.assert_array_equal(encoded.x, [[2, 1, 3], [3, 0, 0]])
    np.testing.assert_array_equal(encoded.y, [[0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(encoded.sample_weight, [[1, 0, 1], [0, 0, 0]])
    assert encoded.stats.unseen_labels == {"X": 2} and encoded.stats.oov == 1
    classes = data.encode_classification([["a"], ["b"]], ["N", "Q"], vocab, tags)
    np.testing.assert_array_equal(classes.sample_weight, [1, 0])
    with caplog.at_level(logging.WARNING, logger="keras_seq.data"):
        classes.stats.warn("dev.csv")
    assert "'Q' x1" in caplog.text


def test_seq2seq_bos_eos_shift():
    vocab = Vocabulary.build([["a", "b"]])
    target = Vocabulary.build([["x", "y", "y"]], specials=data.TARGET_SPECIALS)
    assert target.tokens[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]  # y=4, x=5
    encoded = data.encode_seq2seq([["a"], ["a", "b"]], [["y", "x"], ["x"]], vocab, target)
    source, decoder_input = encoded.x
    np.testing.assert_array_equal(source, [[2, 0], [2, 3]])
    np.testing.assert_array_equal(decoder_input, [[2, 4, 5], [2, 5, 0]])
    np.testing.assert_array_equal(encoded.y, [[4, 5, 3], [5, 3, 0]])
    np.testing.assert_array_equal(encoded.sample_weight, [[1, 1, 1], [1, 1, 0]])


def test_windows_match_hand_computation():
    rows = [[float(t), 10.0 * t] for t in range(6)]
    x, y = data.make_windows(rows, lookback=3, horizon=2)
    assert x.shape == (2, 3, 2) and y.shape == (2, 2, 2)
    np.testing.assert_array_equal(x[1], [[1, 10], [2, 20], [3, 30]])
    np.testing.assert_array_equal(y[1], [[4, 40], [5, 50]])
    _, y = data.make_windows(rows, 3, 2, targets=[r[1] for r in rows])
    np.testing.assert_array_equal(y[:, :, 0], [[30, 40], [40, 50]])
    with pytest.raises(DataError, match="6 rows cannot make one window"):
        data.make_windows(rows, 5, 2)
