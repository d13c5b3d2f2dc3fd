"""Parquet (`data.format: parquet`): the bundled CSV/JSONL datasets written as Parquet (typed
columns: numbers, dates, lists of strings) read back to exactly what the text files give; the
same column errors as CSV; predictions written as Parquet."""

import datetime
import pathlib

import pytest

pyarrow = pytest.importorskip("pyarrow")
parquet = pytest.importorskip("pyarrow.parquet")

from keras_seq import cli  # noqa: E402
from keras_seq.data import DataError, readers  # noqa: E402
from keras_seq.data.parquet import table_bytes  # noqa: E402
from keras_seq.data.series import read_series_table  # noqa: E402

DATA = pathlib.Path(__file__).parent.parent / "keras_seq" / "datasets"


def _parquet(path, rows):
    path.write_bytes(table_bytes(rows))
    return path


def _records(name, format="csv"):
    return [record for _, record in readers.read_records(DATA / name, format, {})]


def test_classifier_and_tagger_rows_read_as_from_csv_and_jsonl(tmp_path):
    rows = _records("classifier-train.csv")
    path = _parquet(tmp_path / "c.parquet", rows)
    assert readers.read_classification(path, "parquet") == readers.read_classification(
        DATA / "classifier-train.csv", "csv"
    )
    rows = _records("ner-train.jsonl", "jsonl")  # tokens and tags as lists of strings
    path = _parquet(tmp_path / "t.parquet", rows)
    assert parquet.read_schema(path).field("tokens").type == pyarrow.list_(pyarrow.string())
    assert readers.read_tagging(path, "parquet") == readers.read_tagging(
        DATA / "ner-train.jsonl", "jsonl"
    )


def test_numbers_and_dates_read_as_from_csv(tmp_path):
    rows = [
        {key: float(value) for key, value in record.items()}
        for record in _records("forecaster-train.csv")
    ]
    path = _parquet(tmp_path / "f.parquet", rows)
    columns = ["load", "temperature"]
    assert readers.read_series(path, "parquet", columns) == readers.read_series(
        DATA / "forecaster-train.csv", "csv", columns
    )
    rows = [
        {
            "region": r["region"],
            "date": datetime.date.fromisoformat(r["date"]),  # a Parquet date32 column
            "load": float(r["load"]),
            "holiday": int(r["holiday"]),
        }
        for r in _records("load-series.csv")
    ]
    path = _parquet(tmp_path / "s.parquet", rows)
    options = {"time_column": "date", "series_id_column": "region"}
    from_parquet = read_series_table(path, "parquet", ["load", "holiday"], **options)
    from_csv = read_series_table(DATA / "load-series.csv", "csv", ["load", "holiday"], **options)
    assert [s.id for s in from_parquet] == [s.id for s in from_csv]
    for a, b in zip(from_parquet, from_csv):
        assert (a.times == b.times).all() and (a.values == b.values).all()


def test_column_errors_match_csv_and_name_the_row(tmp_path):
    rows = _records("classifier-train.csv")
    path = _parquet(tmp_path / "c.parquet", rows)
    with pytest.raises(DataError) as parquet_error:
        readers.read_classification(path, "parquet", text_column="txt")
    with pytest.raises(DataError) as csv_error:
        readers.read_classification(DATA / "classifier-train.csv", "csv", text_column="txt")
    assert parquet_error.value.hint == csv_error.value.hint
    assert parquet_error.value.hint.startswith("did you mean 'text'? set data.text_column")
    bad = _parquet(tmp_path / "bad.parquet", [{"load": "1.5"}, {"load": "high"}])
    with pytest.raises(DataError, match=r"bad.parquet:2: field 'load': non-numeric value"):
        readers.read_series(bad, "parquet", ["load"])


def test_a_file_that_is_not_parquet_and_a_missing_pyarrow_are_clear(tmp_path, monkeypatch):
    path = tmp_path / "x.parquet"
    path.write_text("text,label\na,b\n")
    with pytest.raises(DataError, match="x.parquet: not a readable Parquet file"):
        readers.read_classification(path, "parquet")
    monkeypatch.setitem(__import__("sys").modules, "pyarrow", None)
    with pytest.raises(DataError, match=r"needs pyarrow. Fix: pip install 'keras-seq\[parquet\]'"):
        readers.read_classification(path, "parquet")


def test_predict_writes_parquet_for_parquet(small_runs, tmp_path):
    run, _ = small_runs["classifier"]
    texts = ["a good film", "a bad film", "film"]
    data = _parquet(tmp_path / "new.parquet", [{"text": t, "label": "pos"} for t in texts])
    out = tmp_path / "out.parquet"
    assert cli.main(["predict", str(run), "--data", str(data), "--output", str(out)]) == 0
    table = parquet.read_table(out).to_pylist()
    import keras_seq

    expected = keras_seq.load(run).predict(texts)
    assert [row["text"] for row in table] == texts
    assert [row["prediction"] for row in table] == [p["label"] for p in expected]
