"""A spec's data files read as its task reads them, with no deep-learning backend imported.

The records have the task's shapes: a tagger's `{"tokens", "tags"}`, a classifier's
`{"tokens", "label"}`, a seq2seq task's `{"source", "target"}`, a time-series forecaster's
`{"id", "series"}` (a `keras_seq.data.series.Series`) and a plain forecaster's one record per
file, `{"values": (steps, columns)}` with `columns` named.
"""

import numpy as np

from keras_seq.data import readers
from keras_seq.data.bundled import BUNDLED, SPLITS, bundled_section
from keras_seq.data.errors import DataError
from keras_seq.data.series import read_series_table


def data_kind(spec):
    """What the spec's task reads: `tagger`, `classifier`, `seq2seq`, `series` (a forecaster
    with `data.time_column`), `rows` (a forecaster without) or None (no data: a `none` head)."""
    head = spec.head.type
    if head == "forecaster":
        return "series" if spec.get("data.time_column") else "rows"
    return head if head in BUNDLED else None


def data_section(spec):
    """The spec's `data` section, or its head's bundled dataset's (as training reads it)."""
    if spec.data is not None:
        return spec.data
    return bundled_section(spec.head.type, **BUNDLED[spec.head.type])


def read_split(spec, path):
    """The records of one data file, as the spec's task reads them.

    Raises:
        keras_seq.DataError: the file cannot be read as the spec says (named by file:line).
    """
    data = data_section(spec)
    kind = data_kind(spec)
    options = {"delimiter": data.delimiter}
    if kind == "tagger":
        columns = (data.tokens_column, data.tags_column, data.tags_field)
        rows = readers.iter_tagging(path, data.format, *columns, **options)
        return [{"tokens": s, "tags": t} for s, t in rows]
    if kind == "classifier":
        columns = (data.text_column, data.label_column)
        rows = readers.iter_classification(path, data.format, *columns, **options)
        return [{"tokens": t, "label": label} for t, label in rows]
    if kind == "seq2seq":
        columns = (data.source_column, data.target_column)
        rows = readers.iter_pairs(path, data.format, *columns, **options)
        return [{"source": s, "target": t} for s, t in rows]
    if kind == "series":
        return _read_series(spec, data, path, data.fill)
    return _read_rows(data, path)


def _series_columns(data):
    targets = list(data.target_columns or data.value_columns or ())
    if not targets:
        raise DataError(
            "a time-series forecaster needs the columns to forecast",
            hint="set data.target_columns (or data.value_columns)",
        )
    return targets, list(data.past_covariates or ()) + list(data.future_covariates or ())


def _read_series(spec, data, path, fill):
    targets, covariates = _series_columns(data)
    series = read_series_table(
        path,
        data.format,
        targets + covariates,
        time_column=data.time_column,
        series_id_column=data.series_id_column,
        frequency=data.frequency,
        fill=fill,
        future_columns=list(data.future_covariates or ()),
        targets=targets,
    )
    return [{"id": one.id, "series": one, "targets": len(targets)} for one in series]


def _read_rows(data, path):
    options = {"delimiter": data.delimiter}
    names = list(data.value_columns or ())
    if not names:
        first = readers.read_records(path, data.format, {}, **options)[:1]
        names = list(first[0][1]) if first else []
    names += [name for name in data.target_columns or () if name not in names]
    rows = readers.read_series(path, data.format, names, **options)
    targets = list(data.target_columns or names)
    values = np.array(rows, "float64").reshape(len(rows), len(names))
    return [{"id": "", "values": values[:, [names.index(t) for t in targets]]}]


def read_splits(spec):
    """`({split: records}, [(split, DataError)])`: every split the spec names, read; a split
    that fails is left out and its error returned. A time series with gaps that `data.fill:
    error` refuses is read again with `interpolate`, so its figures can still be shown."""
    data = data_section(spec)
    records, failures = {}, []
    for split in SPLITS:
        path = getattr(data, split)
        if not path:
            continue
        try:
            records[split] = read_split(spec, path)
        except DataError as error:
            failures.append((split, error))
            if data_kind(spec) == "series" and data.fill == "error":
                try:
                    records[split] = _read_series(spec, data, path, "interpolate")
                except DataError:
                    pass
    return records, failures
