"""Data readers on hostile files: delimiters, exact line numbers, big fields, deep JSON,
tokens with line breaks, and missing files that say where their path came from."""

import csv
import json

import pytest

from keras_seq.data import DataError, readers


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_csv_delimiter_is_sniffed_from_the_header(tmp_path, delimiter):
    text = f'text{delimiter}label\n"a, b; c"{delimiter}pos\nd e{delimiter}neg\n'
    path = write(tmp_path, "s.csv", text)
    assert readers.read_classification(path, "csv") == (
        [["a,", "b;", "c"], ["d", "e"]],
        ["pos", "neg"],
    )


def test_csv_delimiter_option_overrides_sniffing(tmp_path):
    # The header alone looks comma-separated; the option says otherwise.
    path = write(tmp_path, "s.csv", "text;label,x\nhello;pos,1\n")
    texts, labels = readers.read_classification(path, "csv", label_column="label,x", delimiter=";")
    assert (texts, labels) == ([["hello"]], ["pos,1"])


def test_one_column_header_suggests_the_delimiter_option(tmp_path):
    path = write(tmp_path, "s.csv", "text:label\nhello:pos\n")
    with pytest.raises(DataError, match="set data.delimiter") as caught:
        readers.read_classification(path, "csv")
    assert caught.value.line == 1


def test_csv_line_numbers_count_multi_line_fields_and_blank_lines(tmp_path):
    text = 'text,label\n"one\ntwo\nthree",pos\n\nfour,neg\nfive,neg,extra\n'
    path = write(tmp_path, "s.csv", text)
    records = readers.read_records(write(tmp_path, "ok.csv", text.rsplit("five", 1)[0]), "csv", {})
    assert [line for line, _ in records] == [2, 6]  # the quoted record starts on line 2
    with pytest.raises(DataError, match="3 fields, the header has 2") as caught:
        readers.read_records(path, "csv", {})
    assert caught.value.line == 7


def test_unterminated_quote_names_the_line_where_the_record_starts(tmp_path):
    path = write(tmp_path, "s.csv", 'text,label\nok,pos\n"never closed,neg\nmore,pos\n')
    with pytest.raises(
        DataError, match="the quote opened on line 3 closes only on line 4"
    ) as caught:
        readers.read_records(path, "csv", {"text_column": "text"})
    assert caught.value.line == 3


def test_csv_fields_beyond_128_kb_are_read(tmp_path):
    long_text = " ".join(["word"] * 60_000)  # 300 KB, over csv's default field limit
    path = write(tmp_path, "s.csv", f'text,label\n"{long_text}",pos\n')
    texts, _ = readers.read_classification(path, "csv")
    assert len(texts[0]) == 60_000


def test_csv_field_beyond_the_limit_is_a_clear_error(tmp_path):
    path = write(
        tmp_path, "s.csv", f"text,label\nok,pos\n{'x' * (readers.MAX_FIELD_BYTES + 1)},neg\n"
    )
    with pytest.raises(DataError, match="a field is longer than 16 MB") as caught:
        readers.read_records(path, "csv", {})
    assert caught.value.line == 3
    assert csv.field_size_limit() == readers.MAX_FIELD_BYTES


def test_deeply_nested_json_is_a_data_error(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    path = write(tmp_path, "s.jsonl", '{"text": "a", "label": "x"}\n' + f'{{"text": {deep}}}\n')
    with pytest.raises(DataError, match="nests too deeply") as caught:
        readers.read_classification(path, "jsonl")
    assert caught.value.line == 2


@pytest.mark.parametrize("token", ["a\nb", "a\rb", "a\u2028b", ""])
def test_tokens_with_line_breaks_are_refused_at_read_time(tmp_path, token):
    lines = [{"tokens": ["x"], "tags": ["T"]}, {"tokens": ["ok", token], "tags": ["T", "T"]}]
    path = write(tmp_path, "s.jsonl", "\n".join(json.dumps(r) for r in lines) + "\n")
    with pytest.raises(DataError, match="empty or contains a line break") as caught:
        readers.read_tagging(path, "jsonl")
    assert (caught.value.line, caught.value.field) == (2, "tokens")


def test_labels_with_line_breaks_are_refused(tmp_path):
    path = write(tmp_path, "s.csv", 'text,label\nfine,pos\nbad,"po\ns"\n')
    with pytest.raises(DataError, match="contains a line break") as caught:
        readers.read_classification(path, "csv")
    assert (caught.value.line, caught.value.field) == (3, "label")


def test_missing_file_names_where_its_path_came_from(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(DataError, match="check the path given in --train"):
        readers.read_classification(missing, "csv", source="--train")
    with pytest.raises(DataError, match="given in data.validation in s.yaml"):
        readers.read_tagging(missing, "conllu", source="data.validation in s.yaml")
    with pytest.raises(DataError, match="a folder, not a file"):
        readers.read_series(tmp_path, "csv")
