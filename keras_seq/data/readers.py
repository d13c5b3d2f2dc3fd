"""Readers: CoNLL-U, CSV and JSONL files to plain Python lists.

Every reader returns lists (of token lists, tag lists, label strings or float rows) and raises
`DataError` naming the file, the line and the field for anything it cannot use.

The `iter_*` twins yield the same examples one at a time from a line source: by default the
whole file read at once (`text_lines`), or `FileLines`, which reads a line at a time from a
bookmark and so lets `keras_seq.data.streaming` read a file in chunks with the same parsing.
"""

import csv
import difflib
import io
import itertools
import json
import math

import conllu

from keras_seq.data.errors import DataError, read_text

FORMATS = ("conllu", "csv", "jsonl")
CONLLU_FIELDS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
CONLLU_TAG_FIELDS = ("upos", "xpos", "deprel", "lemma")


def text_lines(path):
    """`(line number, line with its ending)` of a whole UTF-8 file read at once."""
    return enumerate(io.StringIO(read_text(path), newline=""), 1)


class FileLines:
    """`(line number, line with its ending)` of a UTF-8 file, read a line at a time.

    Iteration starts at `position`, a `(byte offset, line number)` bookmark, and keeps
    `position` at the line after the last one handed out, so a reader that has just yielded an
    example leaves in `position` the bookmark where the next example starts.

    Args:
        path: str or path-like.
        position: tuple. Where to start; default the beginning of the file.
    """

    def __init__(self, path, position=(0, 1)):
        self.path = path
        self.position = tuple(position)

    def __iter__(self):
        offset, number = self.position
        try:
            file = open(self.path, "rb")
        except FileNotFoundError:
            raise DataError(
                "file not found", path=self.path, hint="check the path in the spec's data section"
            ) from None
        except OSError as err:
            raise DataError(f"cannot read the file ({err.strerror})", path=self.path) from None
        with file:
            file.seek(offset)
            for raw in file:
                try:
                    text = raw.decode("utf-8-sig" if offset == 0 else "utf-8")
                except UnicodeDecodeError as err:
                    raise DataError(
                        f"not valid UTF-8 (byte 0x{raw[err.start]:02x})",
                        path=self.path,
                        line=number,
                        hint="save the file as UTF-8",
                    ) from None
                offset += len(raw)
                self.position = (offset, number + 1)
                yield number, text
                number += 1


def csv_header(path):
    """A CSV file's column names (its first row), read without reading the rest."""
    return next(csv.reader(text for _, text in FileLines(path)), [])


def _unzip(pairs):
    firsts, seconds = [], []
    for first, second in pairs:
        firsts.append(first)
        seconds.append(second)
    return firsts, seconds


def read_conllu(path, tags_field="upos"):
    """Reads words and their tags from a CoNLL-U file.

    Multi-word token ranges (`1-2`) and empty nodes (`1.1`) are skipped: the result holds the
    syntactic words only.

    Args:
        path: str or path-like.
        tags_field: str. The CoNLL-U field used as the tag: `upos` (default), `xpos`, `deprel`
            or `lemma`.

    Returns:
        `(sentences, tags)`: two lists of equal-length lists of strings.
    """
    return _unzip(iter_conllu(path, tags_field))


def iter_conllu(path, tags_field="upos", lines=None):
    """Yields `(words, tags)` per sentence of a CoNLL-U file (see `read_conllu`).

    `lines` is the line source (the whole file when None, or a `FileLines`).
    """
    if tags_field not in CONLLU_TAG_FIELDS:
        raise DataError(
            f"unknown tags_field {tags_field!r}",
            path=path,
            hint=f"use one of {', '.join(CONLLU_TAG_FIELDS)}",
        )
    found = 0
    for block in _conllu_blocks(lines or enumerate(_lines(path), 1), path):
        words, word_tags = _conllu_sentence(block, path, tags_field)
        if words:
            found += 1
            yield words, word_tags
    if not found:
        raise DataError("no sentences found", path=path, hint="check that this is a CoNLL-U file")


def read_conllu_words(path):
    """The syntactic words of every sentence of a CoNLL-U file, tags or no tags."""
    sentences = []
    for block in _conllu_blocks(enumerate(_lines(path), 1), path):
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
    blocks = [block for block in _conllu_blocks(enumerate(lines, 1), path) if _word_lines(block)]
    for block, sentence_values in zip(blocks, values):
        for (number, line), value in zip(_word_lines(block), sentence_values):
            fields = line.split("\t")
            fields[column] = value
            lines[number - 1] = "\t".join(fields)
    return "\n".join(lines)


def _lines(path):
    return read_text(path).replace("\r\n", "\n").split("\n")


def _word_lines(block):
    """The lines of a sentence's syntactic words (not `1-2` ranges or `1.1` empty nodes)."""
    return [(number, line) for number, line in block if line.split("\t", 1)[0].isdigit()]


def _conllu_blocks(numbered, path):
    """Each sentence's token lines as `[(line number, line)]`, every line checked.

    `numbered` yields `(line number, line)`, the line with or without its ending.
    """
    block = []
    for number, line in itertools.chain(numbered, [(None, "")]):
        line = line.rstrip("\r\n")
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


def read_records(path, format, columns):
    """Reads a CSV (with a header) or JSONL file and checks that the named columns exist.

    Args:
        path: str or path-like.
        format: str. `csv` or `jsonl`.
        columns: dict. Spec option name -> column name, e.g. `{"text_column": "text"}`; the
            option name appears in the fix a `DataError` suggests.

    Returns:
        A list of `(line_number, record)` pairs, `record` a dict from column name to value.
    """
    return list(iter_records(path, format, columns))


def iter_records(path, format, columns, lines=None, header=None):
    """Yields the `(line_number, record)` pairs of `read_records` one at a time.

    `lines` is the line source (`text_lines(path)` when None, or a `FileLines`); `header`
    gives a CSV's column names when `lines` starts after the header line.
    """
    lines = lines or text_lines(path)
    if format == "csv":
        return _csv_records(path, columns, lines, header)
    if format == "jsonl":
        return _jsonl_records(path, columns, lines)
    raise DataError(
        f"format {format!r} cannot hold these columns", path=path, hint="use csv or jsonl"
    )


def _missing_column(path, line, what, option, column, available):
    guess = difflib.get_close_matches(column, available, n=1)
    hint = f"set data.{option} to one of: {', '.join(map(str, available))}"
    if guess:
        hint = f"did you mean {guess[0]!r}? " + hint
    return DataError(f"{what} {column!r}", path=path, line=line, hint=hint)


def _csv_records(path, columns, lines, header):
    number = 0

    def texts():
        nonlocal number
        for number, text in lines:  # noqa: B007 (the row's last line number is read below)
            yield text

    reader = csv.DictReader(texts(), fieldnames=header)
    rows = 0
    try:
        names = reader.fieldnames or []
        for option, column in columns.items():
            if column not in names:
                raise _missing_column(path, 1, "the header has no column", option, column, names)
        for row in reader:
            extra = row.pop(None, None) or []
            missing = sum(value is None for value in row.values())
            if extra or missing:
                raise DataError(
                    f"the row has {len(names) + len(extra) - missing} fields, "
                    f"the header has {len(names)}",
                    path=path,
                    line=number,
                    hint="quote fields that contain commas; give every row one value per column",
                )
            rows += 1
            yield number, row
    except csv.Error as err:
        raise DataError(f"not valid CSV ({err})", path=path, line=number) from None
    if not rows:
        raise DataError("the file has a header but no rows", path=path, line=1)


def _jsonl_records(path, columns, lines):
    for number, line in lines:
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
        yield number, record


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
    return tokens


def _label(value, path, line, column):
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        raise DataError(
            f"expected a label (a string or an integer), found {json.dumps(value)}",
            path=path,
            line=line,
            field=column,
        )
    return str(value).strip()


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


def read_classification(path, format, text_column="text", label_column="label"):
    """Reads `(texts, labels)`: token lists (whitespace-split text or a JSON list) and labels."""
    return _unzip(iter_classification(path, format, text_column, label_column))


def iter_classification(
    path, format, text_column="text", label_column="label", lines=None, header=None
):
    """Yields the `(tokens, label)` pairs of `read_classification` (see `iter_records`)."""
    columns = {"text_column": text_column, "label_column": label_column}
    return _token_column_and(_label, path, format, columns, lines, header)


def _token_column_and(convert, path, format, columns, lines, header):
    """`(tokens of the first column, convert(second column))` for each record."""
    first, second = columns.values()
    for line, record in iter_records(path, format, columns, lines, header):
        yield (
            split_tokens(record[first], path, line, first),
            convert(record[second], path, line, second),
        )


def read_tagging(path, format, tokens_column="tokens", tags_column="tags", tags_field="upos"):
    """Reads `(sentences, tags)` from CoNLL-U (`tags_field`), or CSV/JSONL (the two columns).

    In CSV both columns are space-separated strings; in JSONL, lists of strings (or strings).
    """
    if format == "conllu":
        return read_conllu(path, tags_field)
    return _unzip(iter_tagging(path, format, tokens_column, tags_column))


def iter_tagging(
    path,
    format,
    tokens_column="tokens",
    tags_column="tags",
    tags_field="upos",
    lines=None,
    header=None,
):
    """Yields the `(words, tags)` pairs of `read_tagging` (see `iter_records`)."""
    if format == "conllu":
        yield from iter_conllu(path, tags_field, lines)
        return
    columns = {"tokens_column": tokens_column, "tags_column": tags_column}
    for line, record in iter_records(path, format, columns, lines, header):
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
        yield words, word_tags


def read_series(path, format, value_columns=None):
    """Reads numeric rows: one list of floats per line, in `value_columns` order.

    `value_columns=None` takes every column of the CSV header (or of the first JSON object).
    """
    if value_columns is None:
        records = read_records(path, format, {})
        value_columns = list(records[0][1])
    else:
        value_columns = list(value_columns)
        columns = {f"value_columns[{i}]": name for i, name in enumerate(value_columns)}
        records = read_records(path, format, columns)
    return [
        [_number(record.get(name), path, line, name) for name in value_columns]
        for line, record in records
    ]


def read_pairs(path, format, source_column="source", target_column="target"):
    """Reads `(sources, targets)`: two lists of token lists (whitespace-split or JSON lists)."""
    return _unzip(iter_pairs(path, format, source_column, target_column))


def iter_pairs(
    path, format, source_column="source", target_column="target", lines=None, header=None
):
    """Yields the `(source, target)` token lists of `read_pairs` (see `iter_records`)."""
    columns = {"source_column": source_column, "target_column": target_column}
    return _token_column_and(split_tokens, path, format, columns, lines, header)
