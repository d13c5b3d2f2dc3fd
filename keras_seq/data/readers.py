"""Readers: CoNLL-U, CSV and JSONL files to plain Python lists.

Every reader returns lists (of token lists, tag lists, label strings or float rows) and raises
`DataError` naming the file, the line and the field for anything it cannot use.
"""

import csv
import difflib
import io
import json
import math

import conllu

from keras_seq.data.errors import DataError, read_text

FORMATS = ("conllu", "csv", "jsonl")
DELIMITERS = ",;\t|"  # what sniffing may pick when `data.delimiter` is unset
MAX_FIELD_BYTES = 16 * 1024 * 1024  # a CSV field longer than this is an error (not csv's 128 KB)
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines splits at
CONLLU_FIELDS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
CONLLU_TAG_FIELDS = ("upos", "xpos", "deprel", "lemma")


def read_conllu(path, tags_field="upos", *, source=None):
    """Reads words and their tags from a CoNLL-U file.

    Multi-word token ranges (`1-2`) and empty nodes (`1.1`) are skipped: the result holds the
    syntactic words only.

    Args:
        path: str or path-like.
        tags_field: str. The CoNLL-U field used as the tag: `upos` (default), `xpos`, `deprel`
            or `lemma`.
        source: str, optional. Where the path came from (`data.train`, `--train`), named by
            the error for a missing file.

    Returns:
        `(sentences, tags)`: two lists of equal-length lists of strings.
    """
    if tags_field not in CONLLU_TAG_FIELDS:
        raise DataError(
            f"unknown tags_field {tags_field!r}",
            path=path,
            hint=f"use one of {', '.join(CONLLU_TAG_FIELDS)}",
        )
    sentences, tags = [], []
    for block in _conllu_blocks(_lines(path, source), path):
        words, word_tags = _conllu_sentence(block, path, tags_field)
        if words:
            sentences.append(words)
            tags.append(word_tags)
    if not sentences:
        raise DataError("no sentences found", path=path, hint="check that this is a CoNLL-U file")
    return sentences, tags


def read_conllu_words(path):
    """The syntactic words of every sentence of a CoNLL-U file, tags or no tags."""
    sentences = []
    for block in _conllu_blocks(_lines(path), path):
        tokens = _parse_conllu_lines(block, path)
        words = [token["form"] for token in tokens if isinstance(token["id"], int)]
        if words:
            sentences.append(words)
    if not sentences:
        raise DataError("no sentences found", path=path, hint="check that this is a CoNLL-U file")
    return sentences


def fill_conllu_column(path, field, values):
    """The text of a CoNLL-U file with one column replaced, word by word.

    Args:
        path: str or path-like. A file `read_conllu` reads.
        field: str. The column to fill (`upos`, `xpos`, ...).
        values: list, per sentence with words (in `read_conllu`'s order), of the new values of
            its syntactic words; a shorter list leaves the last words' values as they are.

    Comments, multi-word token and empty-node lines, and every other column stay as they are.
    """
    lines = _lines(path)
    column = CONLLU_FIELDS.index(field)
    blocks = [block for block in _conllu_blocks(lines, path) if _word_lines(block)]
    for block, sentence_values in zip(blocks, values):
        for (number, line), value in zip(_word_lines(block), sentence_values):
            fields = line.split("\t")
            fields[column] = value
            lines[number - 1] = "\t".join(fields)
    return "\n".join(lines)


def _lines(path, source=None):
    return read_text(path, source).replace("\r\n", "\n").split("\n")


def _word_lines(block):
    """The lines of a sentence's syntactic words (not `1-2` ranges or `1.1` empty nodes)."""
    return [(number, line) for number, line in block if line.split("\t", 1)[0].isdigit()]


def _conllu_blocks(lines, path):
    """Each sentence's token lines as `[(line number, line)]`, every line checked."""
    block = []
    for number, line in enumerate(lines + [""], 1):
        if not line.strip():
            if block:
                yield block
                block = []
            continue
        if line.startswith("#"):
            continue
        count = len(line.split("\t"))
        if count != len(CONLLU_FIELDS):
            hint = "separate the 10 fields (ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC)"
            hint += " with TABs, writing _ for an empty field"
            if count == 1 and " " in line:
                hint = "the line has no TABs; " + hint
            raise DataError(
                f"a token line has {count} TAB-separated fields, CoNLL-U needs 10",
                path=path,
                line=number,
                hint=hint,
            )
        block.append((number, line))


def _conllu_sentence(block, path, tags_field):
    tokens = _parse_conllu_lines(block, path)
    words, word_tags = [], []
    for (number, _), token in zip(block, tokens):
        if not isinstance(token["id"], int):
            continue
        tag = token[tags_field]
        if tag in (None, "_"):
            raise DataError(
                f"the word {token['form']!r} has no {tags_field.upper()} (found '_')",
                path=path,
                line=number,
                field=tags_field,
                hint="fill in the tag, or choose another data.tags_field (e.g. xpos)",
            )
        words.append(token["form"])
        word_tags.append(tag)
    return words, word_tags


def _parse_conllu_lines(block, path):
    try:
        return conllu.parse("\n".join(line for _, line in block) + "\n\n")[0]
    except conllu.exceptions.ParseException:
        pass
    for number, line in block:  # find the line conllu rejects
        try:
            conllu.parse(line + "\n\n")
        except conllu.exceptions.ParseException as err:
            raise DataError(
                f"not a valid CoNLL-U token line ({err})",
                path=path,
                line=number,
                hint="see https://universaldependencies.org/format.html",
            ) from None
    raise DataError("not a valid CoNLL-U sentence", path=path, line=block[0][0])


def read_records(path, format, columns, *, delimiter=None, source=None):
    """Reads a CSV (with a header) or JSONL file and checks that the named columns exist.

    Args:
        path: str or path-like.
        format: str. `csv` or `jsonl`.
        columns: dict. Spec option name -> column name, e.g. `{"text_column": "text"}`; the
            option name appears in the fix a `DataError` suggests.
        delimiter: str, optional. The CSV field separator; None sniffs it from the header
            line (one of `DELIMITERS`, else a comma).
        source: str, optional. Where the path came from (`data.train`, `--train`), named by
            the error for a missing file.

    Returns:
        A list of `(line_number, record)` pairs, `record` a dict from column name to value;
        the line number is where the record starts (a quoted CSV field may span lines).
        CSV fields may be up to `MAX_FIELD_BYTES` long.
    """
    if format == "csv":
        return _read_csv(path, columns, delimiter, source)
    if format == "jsonl":
        return _read_jsonl(path, columns, source)
    raise DataError(
        f"format {format!r} cannot hold these columns", path=path, hint="use csv or jsonl"
    )


def _missing_column(path, line, what, option, column, available):
    guess = difflib.get_close_matches(column, available, n=1)
    hint = f"set data.{option} to one of: {', '.join(map(str, available))}"
    if guess:
        hint = f"did you mean {guess[0]!r}? " + hint
    return DataError(f"{what} {column!r}", path=path, line=line, hint=hint)


def _read_csv(path, columns, delimiter, source):
    text = read_text(path, source)
    delimiter = delimiter or _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    if csv.field_size_limit() < MAX_FIELD_BYTES:
        csv.field_size_limit(MAX_FIELD_BYTES)
    rows = []
    try:
        while True:
            start = reader.line_num + 1  # a quoted field may take the row over several lines
            row = next(reader, None)
            if row is None:
                break
            if row:
                rows.append((start, reader.line_num, row))
    except csv.Error as err:
        reason = str(err)
        if "field larger than field limit" in reason:
            reason = f"a field is longer than {MAX_FIELD_BYTES // (1024 * 1024)} MB"
        raise DataError(
            f"not valid CSV ({reason})",
            path=path,
            line=start,
            hint='check the quotes: a field that starts with " must end with "',
        ) from None
    header = rows[0][2] if rows else []
    for option, column in columns.items():
        if column not in header:
            error = _missing_column(
                path, rows[0][0] if rows else 1, "the header has no column", option, column, header
            )
            if len(header) == 1:  # most likely another separator than the one used
                error = DataError(
                    error.reason,
                    path=path,
                    line=error.line,
                    hint=f"the header reads as one column with {_delimiter_name(delimiter)}s "
                    "between fields: set data.delimiter (e.g. ';' or a tab), or " + error.hint,
                )
            raise error
    records = []
    for line, end, row in rows[1:]:
        if len(row) != len(header):
            hint = (
                f"quote fields that contain {_delimiter_name(delimiter)}s; give every row "
                "one value per column"
            )
            if end > line:
                hint = (
                    f"the quote opened on line {line} closes only on line {end} (or never); " + hint
                )
            raise DataError(
                f"the row has {len(row)} fields, the header has {len(header)}",
                path=path,
                line=line,
                hint=hint,
            )
        records.append((line, dict(zip(header, row))))
    if not records:
        raise DataError("the file has a header but no rows", path=path, line=1)
    return records


def _sniff_delimiter(text):
    header = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=DELIMITERS).delimiter
    except csv.Error:  # one column: no separator to find
        return ","


def _delimiter_name(delimiter):
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar"}.get(delimiter, repr(delimiter))


def _read_jsonl(path, columns, source):
    records = []
    for number, line in enumerate(read_text(path, source).split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(
                f"not valid JSON at column {err.colno} ({err.msg})",
                path=path,
                line=number,
                hint="write one JSON object per line",
            ) from None
        except RecursionError:
            raise DataError(
                "the JSON nests too deeply to read",
                path=path,
                line=number,
                hint="a record holds strings and lists of strings or numbers",
            ) from None
        if not isinstance(record, dict):
            raise DataError(
                f"expected a JSON object, found {type(record).__name__}",
                path=path,
                line=number,
                hint='write one object per line, e.g. {"text": "...", "label": "..."}',
            )
        for option, column in columns.items():
            if column not in record:
                raise _missing_column(path, number, "no key", option, column, list(record))
        records.append((number, record))
    return records


def split_tokens(value, path, line, column):
    """A field as a token list: a string split on whitespace, or a JSON list of strings."""
    if isinstance(value, str):
        tokens = value.split()
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        tokens = value
    else:
        raise DataError(
            f"expected text or a list of strings, found {json.dumps(value)}",
            path=path,
            line=line,
            field=column,
        )
    if not tokens:
        raise DataError(
            "no tokens", path=path, line=line, field=column, hint="remove the line or fill it in"
        )
    for token in tokens:
        if not token or any(mark in token for mark in LINE_BREAKS):
            raise DataError(
                f"the token {json.dumps(token)} is empty or contains a line break",
                path=path,
                line=line,
                field=column,
                hint="remove line breaks from tokens (vocabularies are written one per line)",
            )
    return tokens


def _label(value, path, line, column):
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        raise DataError(
            f"expected a label (a string or an integer), found {json.dumps(value)}",
            path=path,
            line=line,
            field=column,
        )
    label = str(value).strip()
    if any(mark in label for mark in LINE_BREAKS):
        raise DataError(
            f"the label {json.dumps(label)} contains a line break",
            path=path,
            line=line,
            field=column,
            hint="write each label on one line (label files hold one per line)",
        )
    return label


def _number(value, path, line, column):
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise DataError(
            f"non-numeric value {json.dumps(value)}",
            path=path,
            line=line,
            field=column,
            hint="write a number such as 1.5 (fill gaps before training, e.g. by interpolation)",
        ) from None
    if not math.isfinite(number):
        raise DataError(
            f"non-finite value {value!r}",
            path=path,
            line=line,
            field=column,
            hint="replace NaN/inf by a number (e.g. by interpolation)",
        )
    return number


def read_classification(
    path, format, text_column="text", label_column="label", *, delimiter=None, source=None
):
    """Reads `(texts, labels)`: token lists (whitespace-split text or a JSON list) and labels.

    `delimiter` and `source` as in `read_records`.
    """
    columns = {"text_column": text_column, "label_column": label_column}
    texts, labels = [], []
    for line, record in read_records(path, format, columns, delimiter=delimiter, source=source):
        texts.append(split_tokens(record[text_column], path, line, text_column))
        labels.append(_label(record[label_column], path, line, label_column))
    return texts, labels


def read_tagging(
    path,
    format,
    tokens_column="tokens",
    tags_column="tags",
    tags_field="upos",
    *,
    delimiter=None,
    source=None,
):
    """Reads `(sentences, tags)` from CoNLL-U (`tags_field`), or CSV/JSONL (the two columns).

    In CSV both columns are space-separated strings; in JSONL, lists of strings (or strings).
    `delimiter` and `source` as in `read_records`.
    """
    if format == "conllu":
        return read_conllu(path, tags_field, source=source)
    columns = {"tokens_column": tokens_column, "tags_column": tags_column}
    sentences, tags = [], []
    for line, record in read_records(path, format, columns, delimiter=delimiter, source=source):
        words = split_tokens(record[tokens_column], path, line, tokens_column)
        word_tags = split_tokens(record[tags_column], path, line, tags_column)
        if len(words) != len(word_tags):
            raise DataError(
                f"{len(words)} tokens but {len(word_tags)} tags",
                path=path,
                line=line,
                field=tags_column,
                hint="give exactly one tag per token",
            )
        sentences.append(words)
        tags.append(word_tags)
    return sentences, tags


def read_series(path, format, value_columns=None, *, delimiter=None, source=None):
    """Reads numeric rows: one list of floats per line, in `value_columns` order.

    `value_columns=None` takes every column of the CSV header (or of the first JSON object).
    `delimiter` and `source` as in `read_records`.
    """
    options = {"delimiter": delimiter, "source": source}
    if value_columns is None:
        records = read_records(path, format, {}, **options)
        value_columns = list(records[0][1])
    else:
        value_columns = list(value_columns)
        columns = {f"value_columns[{i}]": name for i, name in enumerate(value_columns)}
        records = read_records(path, format, columns, **options)
    return [
        [_number(record.get(name), path, line, name) for name in value_columns]
        for line, record in records
    ]


def read_pairs(
    path, format, source_column="source", target_column="target", *, delimiter=None, source=None
):
    """Reads `(sources, targets)`: two lists of token lists (whitespace-split or JSON lists).

    `delimiter` and `source` as in `read_records`.
    """
    columns = {"source_column": source_column, "target_column": target_column}
    sources, targets = [], []
    for line, record in read_records(path, format, columns, delimiter=delimiter, source=source):
        sources.append(split_tokens(record[source_column], path, line, source_column))
        targets.append(split_tokens(record[target_column], path, line, target_column))
    return sources, targets
