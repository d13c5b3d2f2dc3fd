"""Guessing a starter spec's format, task and columns from a data file's first rows.

`guess` reads the file (CoNLL-U, CoNLL columns, CSV or JSONL), hands a file of time series
to `keras_seq.starter.series`, and otherwise picks the task from the columns (see
`keras_seq.starter`); a column a flag names that does not fit, or a file no task fits, is a
`DataError` whose fix names the flag.
"""

import difflib
import json

TASKS = ("tagger", "classifier", "forecaster", "seq2seq")
_SAMPLE = 500  # rows looked at to guess
_LOOKBACK = 24  # a forecaster's window (data.lookback), shortened for a shorter file
_INDEX_NAMES = {"step", "index", "idx", "time", "t", "date", "timestamp", "datetime", "id"}


def guess(
    path,
    task=None,
    input_column=None,
    target_column=None,
    delimiter=None,
    time_column=None,
    series_id_column=None,
):
    """What `init` would write for a data file, as a dict: `format`, `task`, `columns`
    (spec option -> column name, or index for CoNLL columns) and, for a forecaster,
    `value_columns`, `target_columns` or, for time series, the `data` fields (`time_column`,
    `series_id_column`, covariates, `calendar`, `lookback`, `season_length`, `fill`) with
    `horizon`, `frequency`, `series` (how many) and `shortest` (steps of the shortest
    series); for a CoNLL tagger, `scheme` (BIO, BIOES, IOB1 or None).

    Raises:
        keras_seq.DataError: the file cannot be read, or no task fits its columns; the
            message names the column and the flag that settles it.
    """
    from keras_seq.data import DataError, readers
    from keras_seq.data.errors import check_file

    check_file(path, "DATA_FILE")  # a missing file or a folder, named as such
    fmt = _file_format(path)
    if (time_column or series_id_column) and task not in (None, "forecaster"):
        raise DataError(
            f"--time-column and --series-id-column are for a forecaster, not a {task}",
            hint="drop them, or give --task forecaster",
        )
    if fmt in ("conllu", "conll"):
        if time_column or series_id_column:
            raise DataError(
                f"a {_FORMAT_NAMES[fmt]} file holds no time series",
                path=path,
                hint="drop --time-column and --series-id-column",
            )
        return _sentence_guess(path, fmt, task, input_column, target_column)
    records = readers.read_records(path, fmt, {}, delimiter=delimiter)
    if not records:
        raise DataError("no rows to guess from", path=path, hint="give a file with data rows")
    flags = {
        "--input-column": input_column,
        "--target-column": target_column,
        "--time-column": time_column,
        "--series-id-column": series_id_column,
    }
    _check_flags(path, list(records[0][1]), flags)
    found = {"format": fmt, **({"delimiter": delimiter} if delimiter else {})}
    if task in (None, "forecaster"):
        from keras_seq.starter.series import series_guess

        series = series_guess(path, fmt, records, time_column, series_id_column, target_column)
        if series:
            return {**found, "task": "forecaster", **series}
    table = _table_guess(path, records, task, input_column, target_column)
    return {**found, **table, **_trainable(path, records, table)}


def _trainable(path, records, table):
    """What training needs of the whole file (the guess saw its first `_SAMPLE` rows), checked
    before a spec is written: a forecaster's columns numbers in every row and enough rows for a
    window (its `lookback` shortened to fit, returned); a classifier's or a tagger's labels at
    least two. Raises `DataError` naming the row or the count and the fix."""
    from keras_seq.data import DataError, sniffing

    if table["task"] == "forecaster":
        for line, row in records:
            for column in table["value_columns"]:
                if not sniffing.is_number(row.get(column)):
                    raise DataError(
                        f"column {column!r} holds numbers in its first rows, but "
                        f"{json.dumps(row.get(column))} here, so a forecaster of it would not "
                        "train",
                        path=path,
                        line=line,
                        field=column,
                        hint="write a number there (or leave the row out), or give --task and "
                        "the columns",
                    )
        if len(records) < 2:
            raise DataError(
                f"{len(records)} row: a forecaster needs at least 2 (past steps and one to "
                "forecast)",
                path=path,
                hint="give a file with more rows",
            )
        return {"lookback": min(_LOOKBACK, len(records) - 1)}
    label = table["columns"].get("label_column") or table["columns"].get("tags_column")
    if label is not None:
        found = {t for _, row in records for t in _labels(row.get(label), table["task"])}
        if len(found) < 2:
            raise DataError(
                f"column {label!r} holds {len(found)} distinct label(s) "
                f"({', '.join(map(repr, sorted(found)[:3]))}) in {len(records)} row(s); a "
                f"{table['task']} needs at least 2 to train",
                path=path,
                field=label,
                hint="give a file with examples of two or more labels, or --target-column "
                "another column",
            )
    return {}


def _labels(value, task):
    if task == "tagger":
        return [str(tag) for tag in _tokens(value)] if _is_text(value) else [str(value)]
    return [str(value).strip()]


_FORMAT_NAMES = {"conllu": "CoNLL-U", "conll": "CoNLL"}


def _file_format(path):
    """The format the extension names; a `.conll` file, or one whose extension names none,
    sniffed from its first lines (CoNLL-U's 10 columns, or CoNLL columns)."""
    from keras_seq.data import DataError, sniffing
    from keras_seq.datafiles import file_format

    fmt = file_format(path, None)
    if fmt in (None, "conll"):
        fmt = sniffing.column_format(path) or fmt
    if fmt is None:
        raise DataError(
            "cannot tell the format from the file name or its first lines",
            path=path,
            hint="name it .conllu, .conll, .csv or .jsonl",
        )
    return fmt


def _check_flags(path, columns, flags):
    """Each column a flag names must be in the file (the error suggests the closest)."""
    from keras_seq.data import DataError

    for flag, column in flags.items():
        if column is not None and column not in columns:
            close = difflib.get_close_matches(column, columns, n=1)
            raise DataError(
                f"no column {column!r} in the file (given with {flag})",
                path=path,
                field=column,
                hint=(f"did you mean {close[0]!r}? " if close else "")
                + f"give {flag} one of: {', '.join(columns)}",
            )


def _sentence_guess(path, fmt, task, input_column, target_column):
    """CoNLL-U: a tagger of the UPOS column. CoNLL columns: a tagger of the last column by
    the first (`--input-column` / `--target-column` give other indexes), with the tags'
    `scheme` (`keras_seq.metrics.spans.scheme_of`)."""
    from keras_seq.data import conll, readers
    from keras_seq.metrics.spans import scheme_of

    if fmt == "conllu":
        readers.read_conllu(path)  # checks that it reads
        return {"format": fmt, "task": task or "tagger", "columns": {}}
    columns = {
        "tokens_column": _index_flag(path, "--input-column", input_column, 0),
        "tags_column": _index_flag(path, "--target-column", target_column, -1),
    }
    _, tags = conll.read_conll(path, *columns.values())
    return {"format": fmt, "task": task or "tagger", "columns": columns, "scheme": scheme_of(tags)}


def _index_flag(path, flag, value, default):
    from keras_seq.data import DataError

    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise DataError(
            f"{flag} {value!r} is not a column index (a CoNLL file's columns have no names)",
            path=path,
            hint=f"give {flag} an index: 0 for the first column, -1 for the last",
        ) from None


def _table_guess(path, records, task, input_column, target_column):
    """The task and columns of a CSV / JSONL file that holds no time series."""
    from keras_seq.data import DataError, sniffing

    columns = list(records[0][1])
    rows = [r for _, r in records[:_SAMPLE]]
    numeric = [c for c in columns if all(sniffing.is_number(r.get(c)) for r in rows)]
    if task == "forecaster" and not numeric:
        raise DataError(
            f"no column of numbers to forecast among {', '.join(columns)}",
            path=path,
            hint="give --time-column (a column of ISO dates) and --target-column, or another "
            "--task",
        )
    if task == "forecaster" or (task is None and numeric and len(numeric) == len(columns)):
        values = [c for c in numeric if not _is_index(c, rows)] or numeric
        return {
            "task": "forecaster",
            "value_columns": values,
            "target_columns": [target_column or values[0]],
        }
    times = sniffing.time_columns(rows, columns)  # dates are neither texts nor labels
    texts = [
        c for c in columns if c not in numeric + times and all(_is_text(r.get(c)) for r in rows)
    ]
    pair = _token_pair(rows, texts)
    if task == "tagger" or (task is None and pair and not (input_column or target_column)):
        tokens, tags = pair or (None, None)
        chosen = {"tokens_column": input_column or tokens, "tags_column": target_column or tags}
        return {"task": "tagger", "columns": chosen}
    labels = [c for c in columns if c not in times and _is_label(c, rows)]
    labels.sort(key=lambda c: c in numeric)  # words before numbers
    source = input_column or _first(texts, avoid=labels)
    if task == "classifier" or (task is None and labels and source):
        label = target_column or _first(labels, avoid=[source])
        return {"task": "classifier", "columns": {"text_column": source, "label_column": label}}
    target = target_column or _first(texts, avoid=[source])
    if task in (None, "seq2seq") and source and target:
        return {"task": "seq2seq", "columns": {"source_column": source, "target_column": target}}
    raise _no_task_error(path, records, rows, task, times)


def _no_task_error(path, records, rows, task, times):
    """The `DataError` when no task fits: a time column with nothing to forecast, a date
    column with slips, or columns that settle nothing."""
    from keras_seq.data import DataError, sniffing

    columns = list(records[0][1])
    if task is None and times:
        return DataError(
            f"no numeric column to forecast beside the time column {times[0]!r}, and no task "
            "fits the other columns",
            path=path,
            hint="add a column of values (or give --target-column), or give --task and the columns",
        )
    for column in columns:  # a date column with slips explains why no task fits
        bad = sniffing.first_bad_time(records, column)
        if task is None and bad and sniffing.looks_like_times(rows, column):
            line, value = bad
            return DataError(
                f"column {column!r} looks like times, but {json.dumps(value)} is not an ISO date "
                "or datetime, so no task fits the file",
                path=path,
                line=line,
                field=column,
                hint="write times such as 2021-03-01 or 2021-03-01T13:00 (no time zone) in "
                "every row to forecast, or give --task and the columns",
            )
    return DataError(
        f"cannot guess the task from the columns {', '.join(columns)}",
        path=path,
        hint="give --task (and --input-column / --target-column)",
    )


def _first(names, avoid=()):
    return next((name for name in names if name not in avoid), None)


def _is_index(name, rows):
    if name.lower() in _INDEX_NAMES:
        return True
    values = [float(r[name]) for r in rows]
    return all(b - a == 1 for a, b in zip(values, values[1:])) and len(values) > 2


def _is_text(value):
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(item, str) for item in value)
    )


def _tokens(value):
    return value.split() if isinstance(value, str) else list(value)


def _is_label(name, rows):
    """Few distinct values, each one short token (or an integer)."""
    values = [r.get(name) for r in rows]
    if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
        return False
    distinct = {str(v).strip() for v in values}
    short = all(len(str(v).split()) == 1 for v in values)
    return short and len(distinct) <= max(2, min(50, len(values) // 4))


def _token_pair(rows, texts):
    """(tokens column, tags column): two columns with as many tokens each in every row, the
    second with the fewer distinct tokens."""
    for a in texts:
        for b in texts:
            if a == b or not all(len(_tokens(r[a])) == len(_tokens(r[b])) for r in rows):
                continue
            if any(len(_tokens(r[a])) > 1 for r in rows):
                vocab_a = {t for r in rows for t in _tokens(r[a])}
                vocab_b = {t for r in rows for t in _tokens(r[b])}
                if len(vocab_b) < len(vocab_a):
                    return a, b
    return None
