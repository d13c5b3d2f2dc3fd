"""What the columns of a table hold, guessed from their cells: times, series ids, numbers;
and whether a text file is one of token lines (`column_format`: CoNLL-U or CoNLL columns).

`keras-seq init` uses these guesses on a CSV or JSONL file of time series: one series (a time
column and values) or many in long format (a time column, a column naming each row's series,
the values). Times are ISO dates or datetimes as `keras_seq.data.series` reads them, or whole
numbers in a column named like a step (`step`, `t`, `week`, ...). Every function takes the
rows as dicts (column -> cell), as `keras_seq.data.readers.read_records` gives them.

Examples:

>>> from keras_seq.data import sniffing
>>> rows = [{"shop": s, "day": f"2024-01-0{d}", "sales": str(d), "promo": str(d % 2)}
...         for s in ("a", "b") for d in range(1, 4)]
>>> columns = ["shop", "day", "sales", "promo"]
>>> sniffing.time_columns(rows, columns)
['day']
>>> sniffing.series_id_columns(rows, columns, "day")
['shop']
>>> sniffing.numeric_columns(rows, columns), sniffing.is_code(rows, "promo")
(['sales', 'promo'], True)
"""

import itertools
import re

from keras_seq.data.series import is_missing, parse_time

# ISO dates and datetimes (no time zone): what keras_seq.data.series reads as times.
_ISO = re.compile(r"\d{4}-\d\d(-\d\d([T ]\d\d(:\d\d(:\d\d(\.\d+)?)?)?)?)?")
# Written like a date, readable or not: 2021-03-01, 01/03/2021, 1.3.21, 2021-03-01T13:00Z.
_DATE_LIKE = re.compile(r"(\d{4}-\d\d|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4})([T ].*)?")
_YEAR = re.compile(r"[12]\d{3}")
_DECIMAL_COMMA = re.compile(r"[-+]?\d*,\d+")
_STEP_NAMES = {"step", "t", "time", "period", "day", "week", "month", "year"}
_MAX_CODES = 12  # whole numbers with at most this many distinct values: an indicator or a code


def is_number(value):
    """Whether a cell is a number (a bool is not)."""
    if isinstance(value, bool):
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def is_time(value):
    """Whether a cell is an ISO date or datetime that `keras_seq.data.series` reads."""
    if not isinstance(value, str) or not _ISO.fullmatch(value.strip()):
        return False
    try:
        parse_time(value)
    except ValueError:
        return False
    return True


def is_whole(value):
    """Whether a cell is a whole number (`3`, `"12"`, `4.0`)."""
    return is_number(value) and float(value).is_integer()


def time_columns(rows, columns):
    """Columns whose every cell is an ISO date or datetime."""
    return [c for c in columns if all(is_time(r.get(c)) for r in rows)]


def step_columns(rows, columns):
    """Columns of whole numbers named like a time step (`step`, `t`, `time`, `week`, ...)."""
    return [
        c
        for c in columns
        if c.strip().lower() in _STEP_NAMES and all(is_whole(r.get(c)) for r in rows)
    ]


def year_columns(rows, columns):
    """Columns of years (`1700`, `1701`, ...: four-digit whole numbers, increasing): yearly
    times written without month and day, read as integer steps."""
    found = []
    for column in columns:
        cells = [str(r.get(column, "")).strip() for r in rows]
        if len(cells) > 2 and all(_YEAR.fullmatch(cell) for cell in cells):
            years = [int(cell) for cell in cells]
            if all(a < b for a, b in itertools.pairwise(years)):
                found.append(column)
    return found


def looks_like_times(rows, column):
    """Whether at least 80 % of the cells are written like dates (so the others are slips)."""
    written = sum(bool(_DATE_LIKE.fullmatch(str(r.get(column, "")).strip())) for r in rows)
    return written >= 0.8 * len(rows)


def first_bad_time(records, column):
    """`(line, cell)` of the first cell of `column` that is not an ISO date or datetime (None
    when every cell is one); `records` are `(line, row)` pairs."""
    return next(((line, r.get(column)) for line, r in records if not is_time(r.get(column))), None)


def numeric_columns(rows, columns):
    """Columns whose every non-empty cell is a number, at least one of them."""
    return [
        c
        for c in columns
        if any(is_number(r.get(c)) for r in rows)
        and all(is_missing(r.get(c)) or is_number(r.get(c)) for r in rows)
    ]


def is_prose(rows, column):
    """Text of three words or more per cell on average (a text to classify, not a label)."""
    cells = [r.get(column) for r in rows]
    if not all(isinstance(c, str) for c in cells):
        return False
    return sum(len(c.split()) for c in cells) >= 3 * len(cells)


def mostly_numbers(rows, column):
    """Whether at least 80 % of the non-empty cells are numbers, or written with a decimal
    comma (`3,5`): a numeric column with slips."""
    cells = [r.get(column) for r in rows if not is_missing(r.get(column))]
    numbers = sum(is_number(c) or bool(_DECIMAL_COMMA.fullmatch(str(c).strip())) for c in cells)
    return bool(cells) and numbers >= 0.8 * len(cells)


def first_non_number(records, column):
    """`(line, cell)` of the first non-empty cell of `column` that is not a number, or None."""
    return next(
        (
            (line, r.get(column))
            for line, r in records
            if not (is_missing(r.get(column)) or is_number(r.get(column)))
        ),
        None,
    )


def is_code(rows, column):
    """Whole numbers with few distinct values: an indicator (0/1, a holiday) or a code."""
    values = [r.get(column) for r in rows if not is_missing(r.get(column))]
    return all(is_whole(v) for v in values) and len({float(v) for v in values}) <= _MAX_CODES


def series_id_columns(rows, columns, time_column):
    """Columns that tell series apart: few distinct values (text, or whole numbers), each
    time appearing once per value. Text columns come first."""
    found = []
    for column in columns:
        if column == time_column:
            continue
        values = [str(r.get(column)).strip() for r in rows]
        if not all(isinstance(r.get(column), str) or is_whole(r.get(column)) for r in rows):
            continue
        if not 2 <= len(set(values)) <= len(rows) // 2:
            continue
        pairs = {(v, str(r.get(time_column)).strip()) for v, r in zip(values, rows)}
        if len(pairs) == len(rows):
            found.append(column)
    return sorted(found, key=lambda c: all(is_whole(r.get(c)) for r in rows))


_SNIFF_LINES = 2000  # lines `column_format` reads
_CONLLU_ID = re.compile(r"\d+(-\d+|\.\d+)?")


def column_format(path):
    """`"conllu"`, `"conll"` or None: the format of a file of token lines, from its first
    lines.

    CoNLL-U: every token line holds 10 TAB-separated fields, the first a word ID (`1`, `1-2`,
    `1.1`). CoNLL columns (`keras_seq.data.conll`): every token line holds the same number of
    columns, at least 2, and a blank or whitespace-only line comes between two token lines.
    `-DOCSTART-` lines and lines starting with `#` are left out of the count. Anything else
    (a CSV header, prose, a single column) is None.

    Raises:
        keras_seq.DataError: the first lines are not UTF-8 (naming the line).
    """
    from keras_seq.data.conll import DOCSTART, split_line
    from keras_seq.data.readers import FileLines

    counts, conllu, blank, between = set(), True, False, False
    for _, raw in itertools.islice(FileLines(path), _SNIFF_LINES):
        line = raw.rstrip("\r\n").strip(" ")
        if not line.strip():
            blank = bool(counts)
            continue
        if line.startswith((DOCSTART, "#")):
            continue
        between = between or blank
        columns = split_line(line)
        counts.add(len(columns))
        conllu = conllu and "\t" in line and _CONLLU_ID.fullmatch(columns[0]) is not None
    if len(counts) != 1 or not between:
        return None
    if conllu and counts == {10}:
        return "conllu"
    return "conll" if counts.pop() >= 2 else None
