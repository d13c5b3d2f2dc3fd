"""`keras-seq predict`: a trained run's predictions, written in the input file's own format.

- CoNLL-U (taggers): a copy of the input with the predicted tag in the `data.tags_field`
  column (UPOS by default) of every word line; comments, multi-word token lines and the other
  columns are kept as they are. Words past `input.max_length` get `_` (and a warning).
- CSV and JSONL: every record as read, plus a `prediction` column: the label (classifier), one
  tag per token (tagger: space-separated in CSV, a list in JSONL), the greedy-decoded text
  (seq2seq), or the forecast of the `head.horizon` steps that follow each row (forecaster:
  empty for the first rows, which have no full `lookback` window behind them).
"""

import csv
import io
import json
import logging

import numpy as np

from keras_seq import heads, runs
from keras_seq.commands.datafiles import for_file
from keras_seq.data import DataError, pad, readers
from keras_seq.data.errors import read_text

logger = logging.getLogger("keras_seq.predict")

# head type -> the data option naming the column a model reads.
_INPUT_COLUMN = {"classifier": "text_column", "tagger": "tokens_column", "seq2seq": "source_column"}


def _token_ids(run, spec, sequences):
    ids, _, truncated = pad(
        [run.vocab.encode(tokens) for tokens in sequences], spec.input.max_length
    )
    if truncated:
        logger.warning(
            "%d of %d sequences were longer than input.max_length (%d) and were truncated",
            truncated,
            len(sequences),
            spec.input.max_length,
        )
    return ids


def _tag(run, spec, sentences):
    probabilities = run.model.predict(
        _token_ids(run, spec, sentences), batch_size=spec.training.batch_size, verbose=0
    )
    best = probabilities.argmax(-1)
    return [
        [run.labels.tokens[i] for i in row[: len(words)]] + ["_"] * (len(words) - len(row))
        for row, words in zip(best, sentences)
    ]


def _classify(run, spec, texts):
    probabilities = run.model.predict(
        _token_ids(run, spec, texts), batch_size=spec.training.batch_size, verbose=0
    )
    return [run.labels.tokens[i] for i in probabilities.argmax(-1)]


def _translate(run, spec, sources):
    ids = heads.greedy_decode(run.model, _token_ids(run, spec, sources))
    return [" ".join(run.labels.decode(row)) for row in ids]


def _sequence_predictions(run, spec, path, records):
    head = spec.head.type
    column = getattr(spec.data, _INPUT_COLUMN[head])
    sequences = [
        readers.split_tokens(record[column], path, line, column) for line, record in records
    ]
    if head == "tagger":
        return _tag(run, spec, sequences)
    if head == "classifier":
        return _classify(run, spec, sequences)
    return _translate(run, spec, sequences)


def _forecasts(run, spec, path):
    inputs = spec.data.value_columns
    rows = np.array(readers.read_series(path, spec.data.format, inputs), dtype="float32")
    lookback = spec.data.lookback or spec.input.max_length
    count = len(rows) - lookback + 1
    if count < 1:
        raise DataError(
            f"{len(rows)} rows cannot make one window of lookback {lookback}",
            path=path,
            hint=f"give at least {lookback} rows",
        )
    windows = rows[np.arange(count)[:, None] + np.arange(lookback)]
    values = run.model.predict(windows, batch_size=spec.training.batch_size, verbose=0)
    values = values[..., 0] if values.shape[-1] == 1 else values
    values = values[:, 0] if values.shape[1] == 1 else values
    return [None] * (lookback - 1) + values.tolist()


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_csv_cell(item) for item in value)
    return str(value)


def _records_text(records, predictions, fmt):
    if fmt == "jsonl":
        return "".join(
            json.dumps({**record, "prediction": prediction}, ensure_ascii=False) + "\n"
            for (_, record), prediction in zip(records, predictions)
        )
    header = list(records[0][1])
    text = io.StringIO()
    writer = csv.DictWriter(
        text, header + ["prediction"] * ("prediction" not in header), lineterminator="\n"
    )
    writer.writeheader()
    for (_, record), prediction in zip(records, predictions):
        writer.writerow({**record, "prediction": _csv_cell(prediction)})
    return text.getvalue()


def _conllu_text(run, spec, path):
    """The CoNLL-U file with the predicted tags written into its `tags_field` column."""
    lines = read_text(path).replace("\r\n", "\n").split("\n")
    column = readers.CONLLU_FIELDS.index(spec.data.tags_field)
    sentences, block = [], []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            if not line.strip() and block:
                sentences.append(block)
                block = []
            continue
        fields = line.split("\t")
        if len(fields) != len(readers.CONLLU_FIELDS):
            raise DataError(
                f"a token line has {len(fields)} TAB-separated fields, CoNLL-U needs 10",
                path=path,
                line=number,
                hint="separate the 10 fields with TABs, writing _ for an empty one",
            )
        if fields[0].isdigit():  # a syntactic word (not a 1-2 range or a 1.1 empty node)
            block.append((number - 1, fields))
    sentences += [block] if block else []
    if not sentences:
        raise DataError("no sentences found", path=path, hint="check that this is a CoNLL-U file")
    tags = _tag(run, spec, [[fields[1] for _, fields in words] for words in sentences])
    for words, sentence_tags in zip(sentences, tags):
        for (index, fields), tag in zip(words, sentence_tags):
            fields[column] = tag
            lines[index] = "\t".join(fields)
    return "\n".join(lines)


def predict(run_dir, data):
    """The text of `data` with a trained run's predictions added, in `data`'s own format."""
    run = runs.Run(run_dir)
    spec = for_file(run.spec, data)
    fmt, head = spec.data.format, spec.head.type
    if head not in ("classifier", "tagger", "seq2seq", "forecaster"):
        raise DataError(f"a {head!r} head makes no predictions to write", path=data)
    if fmt == "conllu":
        if head != "tagger":
            raise DataError(
                f"CoNLL-U input needs a tagger run, this run has a {head} head",
                path=data,
                hint="give a CSV or JSONL file",
            )
        return _conllu_text(run, spec, data)
    if head == "forecaster":
        records = readers.read_records(data, fmt, {})
        predictions = _forecasts(run, spec, data)
    else:
        option = _INPUT_COLUMN[head]
        records = readers.read_records(data, fmt, {option: getattr(spec.data, option)})
        predictions = _sequence_predictions(run, spec, data, records)
    return _records_text(records, predictions, fmt)


def main(args):
    text = predict(args.run_dir, args.data)
    if args.output:
        runs.write_text_atomic(args.output, text)
    else:
        print(text, end="")
    return 0
