"""`DataError` and the file reading every reader shares."""

import os
import stat
from pathlib import Path


class DataError(ValueError):
    """A data file that cannot be used as it is.

    The message names the file, the line (and the column or field where one applies), what was
    found, and what to change. The same facts are kept as attributes so a caller can act on them.

    Args:
        message: str. What is wrong, in words.
        path: str or path-like, optional. The file.
        line: int, optional. 1-based line number in the file.
        field: str, optional. The column, JSON key or CoNLL-U field.
        hint: str, optional. What to change.

    Examples:

    >>> import keras_seq
    >>> err = keras_seq.DataError("non-numeric value 'abc'", path="train.csv", line=3,
    ...                           field="load", hint="write a number such as 1.5")
    >>> str(err)
    "train.csv:3: field 'load': non-numeric value 'abc'. Fix: write a number such as 1.5"
    """

    def __init__(self, message, *, path=None, line=None, field=None, hint=None):
        self.path = None if path is None else str(path)
        self.line = line
        self.field = field
        self.hint = hint
        self.reason = message
        where = self.path or ""
        if line is not None:
            where = f"{where}:{line}"
        text = f"{where}: " if where else ""
        if field is not None:
            text += f"field {field!r}: "
        text += message
        if hint:
            text += f". Fix: {hint}"
        super().__init__(text)


def check_file(path, source=None):
    """Raises `DataError` unless `path` is a readable file; the fix names `source`, where the
    path came from (`--train`, `data.train in s.yaml`; default: the spec's data section)."""
    path = Path(path)
    where = source or "the spec's data section"
    if not path.exists():
        raise DataError("file not found", path=path, hint=f"check the path given in {where}")
    if path.is_dir():
        raise DataError("a folder, not a file", path=path, hint=f"check the path given in {where}")
    if not os.access(path, os.R_OK):
        raise DataError("the file cannot be read (permission denied)", path=path)
    if stat.S_ISCHR(path.stat().st_mode) or stat.S_ISBLK(path.stat().st_mode):
        # /dev/zero would be read until memory runs out; /dev/null is better said plainly
        raise DataError(
            "a device, not a data file", path=path, hint=f"check the path given in {where}"
        )


def read_text(path, source=None):
    """Returns the whole text of a UTF-8 file (a leading BOM is dropped).

    Raises `DataError` for a missing file (its fix names `source`, where the path came from,
    e.g. `--train` or `data.train in specs/x.yaml`), an unreadable encoding (naming the line of
    the first bad byte) or a file with nothing but whitespace.
    """
    path = Path(path)
    check_file(path, source)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise DataError(f"cannot read the file ({err.strerror})", path=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(
            f"not valid UTF-8 (byte 0x{raw[err.start]:02x})",
            path=path,
            line=line,
            hint="save the file as UTF-8",
        ) from None
    if not text.strip():
        raise DataError("the file is empty", path=path, hint="give it at least one example")
    return text
