"""Readers: CoNLL-U, CSV and JSONL files to plain Python lists (CoNLL column files:
`keras_seq.data.conll`).

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
import re

import conllu

from keras_seq.data.errors import DataError, check_file, read_text

FORMATS = ("conllu", "conll", "csv", "jsonl", "parquet")
# The largest number a numeric column may hold: its square, a squared error, stays within
# float32 (numpy.finfo("float32").max is 3.4028234663852886e38), in which models compute.
LARGEST_VALUE = math.sqrt(3.4028234663852886e38)
DELIMITERS = ",;\t|"  # what sniffing may pick when `data.delimiter` is unset
MAX_FIELD_BYTES = 16 * 1024 * 1024  # a CSV field longer than this is an error (not csv's 128 KB)
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines splits at
LINE_BREAK = re.compile(f"[{re.escape(LINE_BREAKS)}]")
_WORD_ID = re.compile(r"[0-9]+\Z")
_RANGE_OR_EMPTY_ID = re.compile(r"[0-9]+(-[0-9]+|\.[0-9]+)\Z")
_HEAD = re.compile(r"([0-9]+|_)\Z")
CONLLU_FIELDS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
CONLLU_TAG_FIELDS = ("upos", "xpos", "deprel", "lemma")


def text_lines(path, source=None, newline=""):
    """`(line number, line with its ending)` of a whole UTF-8 file read at once (`newline` as
    in `io.StringIO`: "" splits at any line ending, "\\n" at "\\n" only)."""
    return enumerate(io.StringIO(read_text(path, source), newline=newline), 1)


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
        check_file(self.path)
        try:
            file = open(self.path, "rb")
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


def csv_header(path, delimiter=None):
    """A CSV file's column names (its first row), read without reading the rest; `delimiter`
    None sniffs it as `read_records` does."""
    first = next(iter(FileLines(path)), (1, ""))[1]
    return next(csv.reader([first], delimiter=delimiter or _sniff_delimiter(first)), [])


def csv_delimiter(path, delimiter=None):
    """The field separator `read_records` reads a CSV file with: `delimiter`, or when None the
    one sniffed from the file's first line."""
    if delimiter:
        return delimiter
    return _sniff_delimiter(next(iter(FileLines(path)), (1, ""))[1])


def _unzip(pairs):
    firsts, seconds = [], []
    for first, second in pairs:
        firsts.append(first)
        seconds.append(second)
    return firsts, seconds


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
    return _unzip(iter_conllu(path, tags_field, source=source))


def iter_conllu(path, tags_field="upos", lines=None, *, source=None):
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
    for block in _conllu_blocks(lines or enumerate(_lines(path, source), 1), path):
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


def _lines(path, source=None):
    return read_text(path, source).replace("\r\n", "\n").split("\n")


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
        if token["id"] != len(words) + 1:
            raise DataError(
                f"word ID {token['id']} where {len(words) + 1} comes next",
                path=path,
                line=number,
                field="id",
                hint="number each sentence's words 1, 2, 3, ... and end a sentence with a "
                "blank line",
            )
        tag = token[tags_field]
        if tag in (None, "_"):
            raise DataError(
                f"the word {token['form']!r} has no {tags_field.upper()} (found '_')",
                path=path,
                line=number,
                field=tags_field,
                hint="fill in the tag, or choose another data.tags_field (e.g. xpos)",
            )
        for field in ("form", tags_field):
            if LINE_BREAK.search(token[field]):
                raise DataError(
                    f"{json.dumps(token[field])} contains a line break character",
                    path=path,
                    line=number,
                    field=field,
                    hint="remove it (vocabularies and label files hold one entry per line)",
                )
        words.append(token["form"])
        word_tags.append(tag)
    return words, word_tags


def _parse_conllu_lines(block, path):
    """The sentence's tokens as dicts of `CONLLU_FIELDS`; `id` an int for a syntactic word.

    Lines whose ID and HEAD are well formed are split on TABs directly, since `conllu`'s
    parser (which also decodes FEATS, DEPS and MISC, never read here) takes most of the time
    of reading a treebank; any other sentence goes through `conllu`, which names the fault.
    """
    tokens = [_split_token_line(line) for _, line in block]
    if all(tokens):
        return tokens
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


def _split_token_line(line):
    """A token line's fields as a dict (`id` an int, or a str for `1-2` and `1.1`), or None
    when its ID or HEAD is not of the usual form."""
    fields = dict(zip(CONLLU_FIELDS, line.split("\t")))
    if not _HEAD.match(fields["head"]):
        return None
    if _WORD_ID.match(fields["id"]):
        fields["id"] = int(fields["id"])
    elif not _RANGE_OR_EMPTY_ID.match(fields["id"]):
        return None
    return fields


def read_records(path, format, columns, *, delimiter=None, source=None):
    """Reads a CSV (with a header), JSONL or Parquet file and checks that the named columns
    exist (Parquet: `keras_seq.data.parquet`, its row numbers as line numbers).

    Args:
        path: str or path-like.
        format: str. `csv`, `jsonl` or `parquet`.
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
    return list(iter_records(path, format, columns, delimiter=delimiter, source=source))


def iter_records(path, format, columns, lines=None, header=None, *, delimiter=None, source=None):
    """Yields the `(line_number, record)` pairs of `read_records` one at a time.

    `lines` is the line source (`text_lines(path)` when None, or a `FileLines`); `header`
    gives a CSV's column names when `lines` starts after the header line.
    """
    if format == "csv":
        return _csv_records(path, columns, lines or text_lines(path, source), header, delimiter)
    if format == "jsonl":
        return _jsonl_records(path, columns, lines or text_lines(path, source, newline="\n"))
    if format == "parquet":  # read whole: `lines` and `header` belong to text files
        from keras_seq.data import parquet

        return parquet.iter_records(path, columns, source)
    raise DataError(
        f"format {format!r} cannot hold these columns", path=path, hint="use csv, jsonl or parquet"
    )


def _missing_column(path, line, what, option, column, available):
    guess = difflib.get_close_matches(column, available, n=1)
    hint = f"set data.{option} to one of: {', '.join(map(str, available))}"
    if guess:
        hint = f"did you mean {guess[0]!r}? " + hint
    return DataError(f"{what} {column!r}", path=path, line=line, hint=hint)


def _csv_records(path, columns, lines, header, delimiter):
    lines = iter(lines)
    sniffed = not delimiter
    if sniffed:  # from the file's first line, as `csv_header` does
        first = next(lines, None) if header is None else next(iter(FileLines(path)), None)
        if header is None and first is not None:
            lines = itertools.chain([first], lines)
        delimiter = _sniff_delimiter(first[1] if first else "")
    if csv.field_size_limit() < MAX_FIELD_BYTES:
        csv.field_size_limit(MAX_FIELD_BYTES)
    start = end = None  # the first and last line of the row being read

    def texts():
        nonlocal start, end
        for end, text in lines:  # noqa: B007 (read by the loop below)
            start = end if start is None else start
            yield text

    reader = csv.reader(texts(), delimiter=delimiter)
    rows = 0
    try:
        while True:
            start = None  # a quoted field may take the row over several lines
            row = next(reader, None)
            if row is None:
                break
            if not row:
                continue
            if header is None:
                header = row
                _check_header(path, columns, header, start, delimiter)
                continue
            if len(row) != len(header):
                raise _row_length_error(path, row, header, start, end, delimiter, sniffed)
            rows += 1
            yield start, dict(zip(header, row))
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
    if header is None:
        _check_header(path, columns, [], 1, delimiter)
    if not rows:
        raise DataError("the file has a header but no rows", path=path, line=1)


def _check_header(path, columns, header, line, delimiter):
    for column in columns.values():
        if header.count(column) > 1:
            places = [str(i + 1) for i, name in enumerate(header) if name == column]
            raise DataError(
                f"the header names column {column!r} {len(places)} times "
                f"(columns {', '.join(places)})",
                path=path,
                line=line,
                field=column,
                hint="give each column its own name",
            )
    for option, column in columns.items():
        if column not in header:
            error = _missing_column(path, line, "the header has no column", option, column, header)
            if len(header) == 1:  # most likely another separator than the one used
                error = DataError(
                    error.reason,
                    path=path,
                    line=error.line,
                    hint=f"the header reads as one column with {_delimiter_name(delimiter)}s "
                    "between fields: set data.delimiter (e.g. ';' or a tab), or " + error.hint,
                )
            raise error


def _row_length_error(path, row, header, line, end, delimiter, sniffed):
    """The `DataError` of a row with another number of fields than the header: it names the
    delimiter the fields were split on and, when the row splits right on another one, that."""
    name = _delimiter_name(delimiter)
    hint = f"quote fields that contain {name}s; give every row one value per column"
    text = delimiter.join(row)
    other = next(
        (
            candidate
            for candidate in DELIMITERS
            if candidate != delimiter
            and "\n" not in text
            and len(next(csv.reader([text], delimiter=candidate))) == len(header)
        ),
        None,
    )
    if other is not None:
        hint = (
            f"this row is separated with {_delimiter_name(other)}s: separate every row with "
            f"{name}s as the header is (or set data.delimiter if the header is the odd one)"
        )
    if end > line:
        hint = f"the quote opened on line {line} closes only on line {end} (or never); " + hint
    return DataError(
        f"the row has {len(row)} fields split on {name}s ({delimiter!r}, "
        f"{'sniffed from the header' if sniffed else 'data.delimiter'}), the header has "
        f"{len(header)}",
        path=path,
        line=line,
        hint=hint,
    )


def _sniff_delimiter(text):
    header = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=DELIMITERS).delimiter
    except csv.Error:  # one column: no separator to find
        return ","


def _delimiter_name(delimiter):
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar"}.get(delimiter, repr(delimiter))


def _jsonl_records(path, columns, lines):
    for number, line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line, object_pairs_hook=unique_keys)
        except json.JSONDecodeError as err:
            raise DataError(
                f"not valid JSON at column {err.colno} ({err.msg})",
                path=path,
                line=number,
                hint="write one JSON object per line",
            ) from None
        except DuplicateKey as err:
            raise DataError(
                f"the key {err.key!r} appears twice in one object",
                path=path,
                line=number,
                field=err.key,
                hint="keep one of them",
            ) from None
        except ValueError as err:  # e.g. an integer with thousands of digits
            raise DataError(
                f"not usable JSON ({err})", path=path, line=number, hint="write smaller values"
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
        if "\\u" in line:  # only a \u escape can make a string that UTF-8 cannot encode
            _check_encodable(record, path, number)
        for option, column in columns.items():
            if column not in record:
                raise _missing_column(path, number, "no key", option, column, list(record))
        yield number, record


def _check_encodable(record, path, number):
    """Refuses a record holding a lone UTF-16 surrogate (`"\\ud800"`): JSON reads it, but no
    file can be written with it (the vocabulary, the predictions), so it is refused here,
    not after an epoch."""
    for key, value in record.items():
        try:
            json.dumps([key, value], ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as err:
            bad = err.object[err.start : err.end].encode("unicode_escape").decode("ascii")
            raise DataError(
                f"a lone UTF-16 surrogate ({bad}, from a \\u escape) is not a character",
                path=path,
                line=number,
                field=key,
                hint="write the character itself, or both halves of a \\u pair (\\ud83d\\ude00)",
            ) from None


class DuplicateKey(ValueError):
    """A JSON object that gives `key` twice (raised by `unique_keys`)."""

    def __init__(self, key):
        super().__init__(key)
        self.key = key


def unique_keys(pairs):
    """`json.loads` hook: an object as a dict, refusing a key given twice (JSON would keep
    the last one silently)."""
    record = {}
    for key, value in pairs:
        if key in record:
            raise DuplicateKey(key)
        record[key] = value
    return record


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
        if not token or LINE_BREAK.search(token):
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
    if LINE_BREAK.search(label):
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
    if abs(number) > LARGEST_VALUE:
        raise DataError(
            f"the value {value!r} is too large for training in float32: its square (a squared "
            f"error) would overflow to infinity and the loss become NaN; values must stay under "
            f"{LARGEST_VALUE:.3g} in size",
            path=path,
            line=line,
            field=column,
            hint="rescale the column (e.g. divide it by a power of ten, or standardize it)",
        )
    return number


def read_classification(
    path, format, text_column="text", label_column="label", *, delimiter=None, source=None
):
    """Reads `(texts, labels)`: token lists (whitespace-split text or a JSON list) and labels.

    `delimiter` and `source` as in `read_records`.
    """
    options = {"delimiter": delimiter, "source": source}
    return _unzip(iter_classification(path, format, text_column, label_column, **options))


def iter_classification(
    path,
    format,
    text_column="text",
    label_column="label",
    lines=None,
    header=None,
    *,
    delimiter=None,
    source=None,
):
    """Yields the `(tokens, label)` pairs of `read_classification` (see `iter_records`)."""
    columns = {"text_column": text_column, "label_column": label_column}
    options = {"delimiter": delimiter, "source": source}
    return _token_column_and(_label, path, format, columns, lines, header, options)


def _token_column_and(convert, path, format, columns, lines, header, options):
    """`(tokens of the first column, convert(second column))` for each record."""
    first, second = columns.values()
    for line, record in iter_records(path, format, columns, lines, header, **options):
        yield (
            split_tokens(record[first], path, line, first),
            convert(record[second], path, line, second),
        )


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
    """Reads `(sentences, tags)` from CoNLL-U (`tags_field`), CoNLL column files (the two
    columns as indexes, see `keras_seq.data.conll`), or CSV/JSONL (the two columns by name).

    In CSV both columns are space-separated strings; in JSONL, lists of strings (or strings).
    `delimiter` and `source` as in `read_records`.
    """
    options = {"delimiter": delimiter, "source": source}
    return _unzip(iter_tagging(path, format, tokens_column, tags_column, tags_field, **options))


def iter_tagging(
    path,
    format,
    tokens_column="tokens",
    tags_column="tags",
    tags_field="upos",
    lines=None,
    header=None,
    *,
    delimiter=None,
    source=None,
):
    """Yields the `(words, tags)` pairs of `read_tagging` (see `iter_records`)."""
    if format == "conllu":
        yield from iter_conllu(path, tags_field, lines, source=source)
        return
    if format == "conll":
        from keras_seq.data import conll  # conll reads lines with this module's helpers

        yield from conll.iter_conll(path, tokens_column, tags_column, lines, source=source)
        return
    columns = {"tokens_column": tokens_column, "tags_column": tags_column}
    options = {"delimiter": delimiter, "source": source}
    for line, record in iter_records(path, format, columns, lines, header, **options):
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
    options = {"delimiter": delimiter, "source": source}
    return _unzip(iter_pairs(path, format, source_column, target_column, **options))


def iter_pairs(
    path,
    format,
    source_column="source",
    target_column="target",
    lines=None,
    header=None,
    *,
    delimiter=None,
    source=None,
):
    """Yields the `(source, target)` token lists of `read_pairs` (see `iter_records`)."""
    columns = {"source_column": source_column, "target_column": target_column}
    options = {"delimiter": delimiter, "source": source}
    return _token_column_and(split_tokens, path, format, columns, lines, header, options)
