"""Writers: records read from CSV / JSONL / Parquet written back with a prediction added to
each."""

import csv
import io
import json

from keras_seq.data import readers


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_csv_cell(item) for item in value)
    return str(value)


def file_text(path, data, records, predictions):
    """`records_text` for records read from the file `path` with the spec's `data` section:
    in its format and, for CSV, with the delimiter it was read with (`data.delimiter`, or the
    one sniffed from its header line), so a semicolon file gets semicolons back. Parquet gives
    the bytes of a Parquet file (lists stay lists)."""
    if data.format == "parquet":
        from keras_seq.data import parquet

        return parquet.table_bytes(
            {**record, **columns} for (_, record), columns in zip(records, predictions)
        )
    delimiter = readers.csv_delimiter(path, data.delimiter) if data.format == "csv" else ","
    return records_text(records, predictions, data.format, delimiter)


def records_text(records, predictions, fmt, delimiter=","):
    """The records (as `read_records` returns them) in `fmt`, each with its predictions.

    Args:
        records: list of `(line number, record dict)`.
        predictions: list, per record, of a dict of new columns (e.g. `{"prediction": ...}`).
        fmt: `csv` (lists joined by spaces) or `jsonl`.
        delimiter: str. The CSV field separator (fields that contain it are quoted).

    >>> from keras_seq.data.writers import records_text
    >>> print(records_text([(2, {"text": "hi"})], [{"prediction": "greeting"}], "csv"), end="")
    text,prediction
    hi,greeting
    >>> print(records_text([(2, {"text": "a;b"})], [{"prediction": "x"}], "csv", ";"), end="")
    text;prediction
    "a;b";x
    """
    if fmt == "jsonl":
        return "".join(
            json.dumps({**record, **columns}, ensure_ascii=False) + "\n"
            for (_, record), columns in zip(records, predictions)
        )
    header = list(records[0][1])
    header += [name for name in predictions[0] if name not in header]
    text = io.StringIO()
    writer = csv.DictWriter(text, header, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    for (_, record), columns in zip(records, predictions):
        writer.writerow({**record, **{k: _csv_cell(v) for k, v in columns.items()}})
    return text.getvalue()
