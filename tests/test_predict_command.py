"""`keras-seq predict` on CSV files: the output keeps the input's delimiter; a missing `--data`."""

import csv
import io

import pytest

from keras_seq import cli


def _predict(run, data, capsys):
    capsys.readouterr()
    assert cli.main(["predict", str(run), "--data", str(data)]) == 0
    return capsys.readouterr().out


def _rows(text, delimiter):
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def _write(path, rows, delimiter):
    with open(path, "w", newline="") as file:
        csv.writer(file, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return path


def test_predict_writes_csv_with_the_delimiter_of_its_input(small_runs, tmp_path, capsys):
    run = small_runs["classifier"][0]
    rows = _rows((run.parent / "train.csv").read_text(), ",")[:30]
    rows.append(["a good; film\twith, all three", "pos"])  # quoted on the way in and out
    expected = _rows(_predict(run, _write(tmp_path / "comma.csv", rows, ","), capsys), ",")
    assert expected[0] == ["text", "label", "prediction", "probability"]
    assert len(expected) == len(rows) and expected[-1][0] == rows[-1][0]
    for delimiter in (";", "\t"):
        text = _predict(run, _write(tmp_path / "other.csv", rows, delimiter), capsys)
        header = text.splitlines()[0]
        assert header == delimiter.join(expected[0]) and "," not in header
        assert _rows(text, delimiter) == expected


def test_an_explicit_data_delimiter_is_the_one_written(tmp_path):
    import keras_seq
    from keras_seq.data import writers

    path = tmp_path / "x.csv"
    path.write_text("text;label\nfine;pos\n")  # sniffing would say ';'
    spec = keras_seq.load_spec(
        "input: {kind: tokens}\nencoder: {cell: gru, units: 2}\nhead: {type: classifier}\n"
        f"data: {{format: csv, train: {path}, delimiter: '|'}}\n"
    )
    records, predictions = [(2, {"text": "a|b"})], [{"prediction": "pos"}]
    text = writers.file_text(path, spec.data, records, predictions)
    assert text == 'text|prediction\n"a|b"|pos\n'


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_missing_data_file_is_named_with_the_option_it_came_from(
    command, small_runs, tmp_path, capsys
):
    missing = tmp_path / "nothere.csv"
    assert cli.main([command, str(small_runs["classifier"][0]), "--data", str(missing)]) == 1
    err = capsys.readouterr().err
    assert f"{missing}: file not found. Fix: check the path given in --data" in err
    assert "data section" not in err
