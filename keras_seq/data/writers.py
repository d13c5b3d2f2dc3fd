"""Writers: records read from CSV / JSONL written back with a prediction added to each."""

import csv
import io
import json


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_csv_cell(item) for item in value)
    return str(value)


def records_text(records, predictions, fmt):
    """The records (as `read_records` returns them) in `fmt`, each with its predictions.

    Args:
        records: list of `(line number, record dict)`.
        predictions: list, per record, of a dict of new columns (e.g. `{"prediction": ...}`).
        fmt: `csv` (lists joined by spaces) or `jsonl`.

    >>> from keras_seq.data.writers import records_text
    >>> print(records_text([(2, {"text": "hi"})], [{"prediction": "greeting"}], "csv"), end="")
    text,prediction
    hi,greeting
    """
    if fmt == "jsonl":
        return "".join(
            json.dumps({**record, **columns}, ensure_ascii=False) + "\n"
            for (_, record), columns in zip(records, predictions)
        )
    header = list(records[0][1])
    header += [name for name in predictions[0] if name not in header]
    text = io.StringIO()
    writer = csv.DictWriter(text, header, lineterminator="\n")
    writer.writeheader()
    for (_, record), columns in zip(records, predictions):
        writer.writerow({**record, **{k: _csv_cell(v) for k, v in columns.items()}})
    return text.getvalue()
