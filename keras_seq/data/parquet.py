"""Parquet files (`data.format: parquet`), read and written with pyarrow (the optional extra
`keras-seq[parquet]`): the columns the CSV and JSONL readers name, with the same options and
errors. A row's number (1-based) stands where a text file's line number would; text columns
hold strings (split on whitespace) or lists of strings, numeric columns numbers (null: empty),
time columns ISO strings, integers, dates or timestamps without a zone.

>>> import io, pathlib, tempfile
>>> from keras_seq.data import parquet
>>> path = pathlib.Path(tempfile.mkdtemp()) / "train.parquet"
>>> _ = path.write_bytes(parquet.table_bytes([{"text": "a good film", "label": "pos"}]))
>>> list(parquet.iter_records(path, {"text_column": "text"}))
[(1, {'text': 'a good film', 'label': 'pos'})]
"""

import io

from keras_seq.data.errors import DataError, check_file

_INSTALL = "pip install 'keras-seq[parquet]' (pyarrow)"


def _pyarrow():
    """`(pyarrow, pyarrow.parquet)`, or a `DataError` saying how to install them."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise DataError("reading and writing Parquet needs pyarrow", hint=_INSTALL) from None
    return pyarrow, pyarrow.parquet


def iter_records(path, columns, source=None):
    """Yields `(row number, record dict)` for every row of a Parquet file, after checking
    that the `columns` (`{spec option: column name}`) exist (a missing one is named, with
    the closest column and the option to set)."""
    from keras_seq.data.readers import _missing_column

    check_file(path, source)
    pyarrow, parquet = _pyarrow()
    try:
        table = parquet.read_table(path)
    except (pyarrow.ArrowException, OSError) as error:
        raise DataError(
            f"not a readable Parquet file ({str(error).splitlines()[0][:200]})",
            path=path,
            hint="give a Parquet file, or set data.format to the file's real format",
        ) from None
    names = table.column_names
    for option, column in columns.items():
        if column not in names:
            raise _missing_column(path, None, "the file has no column", option, column, names)
    yield from enumerate(table.to_pylist(), 1)


def table_bytes(rows):
    """A Parquet file's bytes holding `rows` (dicts of one set of columns, in order)."""
    pyarrow, parquet = _pyarrow()
    buffer = io.BytesIO()
    parquet.write_table(pyarrow.Table.from_pylist(list(rows)), buffer)
    return buffer.getvalue()
