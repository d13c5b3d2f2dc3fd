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
    with pytest.raises(DataError, match="3 fields split on commas") as caught:
        readers.read_records(path, "csv", {})
    assert caught.value.line == 7


@pytest.mark.parametrize("given", [None, ";"])
def test_a_row_split_on_another_delimiter_names_the_one_used_and_the_one_it_has(tmp_path, given):
    path = write(tmp_path, "s.csv", "text;label;id\na b;pos;1\nc d,neg,2\ne f;neg;3\n")
    with pytest.raises(DataError) as caught:
        readers.read_records(path, "csv", {}, delimiter=given)
    where = "sniffed from the header" if given is None else "data.delimiter"
    assert str(caught.value) == (
        f"{path}:3: the row has 1 fields split on semicolons (';', {where}), the header has 3. "
        "Fix: this row is separated with commas: separate every row with semicolons as the "
        "header is (or set data.delimiter if the header is the odd one)"
    )


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


CONLLU_SENTENCE = (
    "# text = Don't _ it\n"
    "1-2\tDon't\t_\t_\t_\t_\t_\t_\t_\t_\n"
    "1\tDo\tdo\tAUX\tVBP\tMood=Ind|Tense=Pres\t3\taux\t_\t_\n"
    "2\tn't\tnot\tPART\t_\t_\t3\tadvmod\t_\t_\n"
    "3\t_\tdo\tVERB\tVB\t_\t0\troot\t0:root|3.1:dep\tSpaceAfter=No\n"
    "3.1\tit\tit\tPRON\tPRP\t_\t_\t_\t3:obj\t_\n"
    "4\tit\tit\tPRON\tPRP\t_\t3\tobj\t_\t_\n\n"
)


@pytest.mark.parametrize("field", ["upos", "xpos", "lemma", "deprel"])
def test_conllu_reading_equals_the_conllu_packages_parse(tmp_path, field):
    conllu = pytest.importorskip("conllu")
    path = tmp_path / "a.conllu"
    path.write_text(CONLLU_SENTENCE * 2, encoding="utf-8")
    parsed = conllu.parse(CONLLU_SENTENCE)[0]
    words = [token for token in parsed if isinstance(token["id"], int)]
    expected = ([t["form"] for t in words], [t[field] for t in words])
    if field == "xpos":  # conllu reads an empty XPOS as None: the reader refuses it as '_'
        with pytest.raises(DataError, match="has no XPOS") as error:
            readers.read_conllu(path, field)
        assert error.value.line == 4
        return
    sentences, tags = readers.read_conllu(path, field)
    assert (sentences, tags) == ([expected[0]] * 2, [expected[1]] * 2)


@pytest.mark.parametrize(
    "line, number",
    [("x\tword\t_\tNOUN\t_\t_\t0\troot\t_\t_", 3), ("1\tword\t_\tNOUN\t_\t_\tx\troot\t_\t_", 3)],
)
def test_a_malformed_conllu_id_or_head_names_its_line(tmp_path, line, number):
    path = tmp_path / "a.conllu"
    good = "1\tA\t_\tDET\t_\t_\t0\troot\t_\t_\n\n"
    path.write_text(good + line + "\n\n", encoding="utf-8")
    with pytest.raises(DataError, match="not a valid CoNLL-U token line") as error:
        readers.read_conllu(path)
    assert error.value.line == number


@pytest.mark.parametrize("big", ["1e30", "-5e38", "1e39"])
def test_a_value_too_large_for_float32_training_is_refused_when_read(tmp_path, big):
    # 1e30 is a float32, but its squared error is not: training would only say "loss nan".
    from keras_seq.data.series import read_series_table

    path = write(tmp_path, "s.csv", f"t,y\n1,2.5\n2,{big}\n3,1\n")
    for read in (
        lambda: readers.read_series(path, "csv", ["y"]),
        lambda: read_series_table(path, "csv", ["y"], time_column="t"),
    ):
        with pytest.raises(DataError) as caught:
            read()
        assert (caught.value.line, caught.value.field) == (3, "y")
        assert str(caught.value).startswith(
            f"{path}:3: field 'y': the value '{big}' is too large for training in float32"
        )
        assert caught.value.hint.startswith("rescale the column")
    path.write_text("t,y\n1,2.5\n2,1.8e19\n")  # under the bound: read as it is
    assert readers.read_series(path, "csv", ["y"])[1][0] == 1.8e19
