"""CoNLL column files (CoNLL-2003, WNUT, most NER corpora): one token per line, blank lines
between sentences.

A token line holds columns separated by TABs (a line with a TAB: every TAB separates two
columns) or else by runs of spaces; every token line of a file has as many columns. Lines
blank or holding only whitespace (WNUT's train file has lines of a lone TAB) end a sentence;
`-DOCSTART-` lines (first column) are skipped and end one too; a line starting with `# ` (or
just `#`) before a sentence's first token is a comment, as in CoNLL-U, so a token `#` written
there must be TAB-separated (`#<TAB>O`). CRLF line ends are read. Columns are chosen by index,
negative from the end: `tokens_column=0, tags_column=-1` read CoNLL-2003's `token POS chunk
NER` as tokens and NER tags.

Every problem is a `DataError` naming the file and line: too few columns for an index, a line
with another column count than the first token line (both named), an empty token or tag, a
NUL byte, bytes that are not UTF-8, a file with no sentences.

Examples:

>>> import pathlib, tempfile
>>> from keras_seq.data import conll
>>> path = pathlib.Path(tempfile.mkdtemp()) / "x.conll"
>>> text = "-DOCSTART- -X- O\\n\\nEU NNP B-ORG\\nrejects VBZ O\\n\\t\\nPeter NNP B-PER\\n"
>>> _ = path.write_text(text)
>>> conll.read_conll(path)
([['EU', 'rejects'], ['Peter']], [['B-ORG', 'O'], ['B-PER']])
>>> print(conll.append_column(path, [["B-ORG", "O"], ["B-LOC"]]), end="")
-DOCSTART- -X- O O
<BLANKLINE>
EU NNP B-ORG B-ORG
rejects VBZ O O
<BLANKLINE>
Peter NNP B-PER B-LOC
"""

import itertools
import json

from keras_seq.data.errors import DataError
from keras_seq.data.readers import LINE_BREAK, text_lines

DOCSTART = "-DOCSTART-"


def split_line(line):
    """A token line's columns: split at every TAB when it holds one, else at runs of spaces.

    >>> split_line("EU  NNP B-ORG"), split_line("New York\\tB-LOC")
    (['EU', 'NNP', 'B-ORG'], ['New York', 'B-LOC'])
    """
    if "\t" in line:
        return line.split("\t")
    return [field for field in line.split(" ") if field]


def is_comment(line, at_start):
    """Whether a line (its ending removed) is a comment: `# ...` or `#` before a sentence's
    first token."""
    return at_start and line.startswith("#") and (len(line) == 1 or line[1] == " ")


def sentence_lines(numbered, path):
    """Each sentence's token lines as `[(line number, columns)]`, in file order.

    Args:
        numbered: iterable of `(line number, line)`, the line with or without its ending (a
            `readers.FileLines`, or `text_lines(path, newline="\\n")`).
        path: the file, named by errors.

    Raises:
        DataError: a NUL byte, or a token line with another column count than the first one.
    """
    block, first = [], None  # first: (line number, column count) of the first token line
    for number, raw in itertools.chain(numbered, [(None, "")]):
        line = raw.rstrip("\r\n").strip(" ")
        if not line.strip() or line.startswith(DOCSTART):
            if block:
                yield block
                block = []
            continue
        if is_comment(line, not block):
            continue
        if "\x00" in line:
            raise DataError(
                "a NUL byte: this looks like a binary file, not text",
                path=path,
                line=number,
                hint="give a text file of token lines",
            )
        columns = split_line(line)
        if first is None:
            first = (number, len(columns))
        elif len(columns) != first[1]:
            raise _column_count_error(path, number, len(columns), *first, line)
        block.append((number, columns))


def _column_count_error(path, number, count, first_number, first_count, line):
    separator = "TABs" if "\t" in line else "spaces"
    return DataError(
        f"the line has {count} column(s) ({separator} between them), the first token line "
        f"(line {first_number}) has {first_count}",
        path=path,
        line=number,
        hint="give every token line the same columns; separate them by TABs (then a token may "
        "hold spaces) or spaces; put a blank line between sentences",
    )


def _index(columns, index, option, path, number):
    """`index` made non-negative for a line of `columns`, or a `DataError` naming `option`."""
    if -len(columns) <= index < len(columns):
        return index % len(columns)
    raise DataError(
        f"the line has {len(columns)} column(s), so data.{option} {index} names none",
        path=path,
        line=number,
        hint=f"set data.{option} to an index from 0 to {len(columns) - 1} (or -1 for the last "
        "column), or check the separator (TABs or spaces)",
    )


def _checked(value, what, option, path, number):
    if not value:
        raise DataError(
            f"an empty {what} (data.{option})",
            path=path,
            line=number,
            hint="remove the line, or fill in the column (two TABs in a row make an empty one)",
        )
    if LINE_BREAK.search(value):
        raise DataError(
            f"the {what} {json.dumps(value)} contains a line break character",
            path=path,
            line=number,
            hint="remove it (vocabularies and label files hold one entry per line)",
        )
    return value


def iter_conll(path, tokens_column=0, tags_column=-1, lines=None, *, source=None):
    """Yields `(tokens, tags)` per sentence of a CoNLL column file (see the module).

    Args:
        path: str or path-like.
        tokens_column, tags_column: int. Column indexes, negative from the end; they must
            name two different columns.
        lines: the line source (the whole file when None, or a `readers.FileLines`).
        source: str, optional. Where the path came from, named by the error for a missing
            file.
    """
    found = 0
    for block in sentence_lines(lines or text_lines(path, source, newline="\n"), path):
        number, columns = block[0]
        token = _index(columns, tokens_column, "tokens_column", path, number)
        tag = _index(columns, tags_column, "tags_column", path, number)
        if token == tag:
            raise DataError(
                f"data.tokens_column {tokens_column} and data.tags_column {tags_column} name "
                f"the same column (the line has {len(columns)})",
                path=path,
                line=number,
                hint="give each token its tag in another column, separated by a TAB or spaces",
            )
        tokens = [_checked(c[token], "token", "tokens_column", path, n) for n, c in block]
        tags = [_checked(c[tag], "tag", "tags_column", path, n) for n, c in block]
        found += 1
        yield tokens, tags
    if not found:
        raise DataError(
            "no sentences found",
            path=path,
            hint="write one token and its tag per line, a blank line between sentences",
        )


def read_conll(path, tokens_column=0, tags_column=-1, *, source=None):
    """`(sentences, tags)`: two lists of equal-length token and tag lists (see `iter_conll`)."""
    sentences, tags = [], []
    for tokens, token_tags in iter_conll(path, tokens_column, tags_column, source=source):
        sentences.append(tokens)
        tags.append(token_tags)
    return sentences, tags


def read_conll_words(path, tokens_column=0):
    """The tokens of every sentence, tags or no tags (a one-column file reads too)."""
    sentences = []
    for block in sentence_lines(text_lines(path, newline="\n"), path):
        token = _index(block[0][1], tokens_column, "tokens_column", path, block[0][0])
        sentences.append([_checked(c[token], "token", "tokens_column", path, n) for n, c in block])
    if not sentences:
        raise DataError("no sentences found", path=path, hint="write one token per line")
    return sentences


def append_column(path, values, fill="O"):
    """The text of a CoNLL file with one more column: the conlleval layout.

    Args:
        path: str or path-like. A file `read_conll_words` reads.
        values: list, per sentence (in `read_conll_words`' order), of one value per token.
        fill: str. The value given to `-DOCSTART-` lines, so that every line keeps one
            column count (conlleval refuses a file where they differ).

    Every token line gets a separator (a TAB where it has one, else a space) and its value;
    `-DOCSTART-` lines get `fill`; comments stay as they are; sentences are separated by one
    empty line (whitespace-only lines become empty), and lines end with `\\n`.
    """
    values = iter(itertools.chain.from_iterable(values))
    out, at_start = [], True
    for _, raw in text_lines(path, newline="\n"):
        line = raw.rstrip("\r\n").strip(" ")
        if not line.strip():
            out.append("")
            at_start = True
        elif is_comment(line, at_start):
            out.append(line)
        else:
            value = fill if line.startswith(DOCSTART) else next(values)
            out.append(line + ("\t" if "\t" in line else " ") + value)
            at_start = line.startswith(DOCSTART)
    return "\n".join(out) + "\n"
