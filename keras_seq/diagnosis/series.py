"""`keras-seq debug-data` on forecasting data: series, steps, gaps, constant series and series
too short for one window of lookback + horizon, per split."""

import numpy as np

from keras_seq.diagnosis.findings import Finding


def _targets(record):
    """The target values `(steps, targets)` of a record (`keras_seq.diagnosis.reading`)."""
    if "series" in record:
        return record["series"].values[:, : record["targets"]]
    return record["values"]


def is_constant(values):
    """Whether every target column holds one value (empty future rows, NaN, left out)."""
    return all(np.nanmin(c) == np.nanmax(c) for c in values.T if not np.isnan(c).all())


def series_figures(records, window):
    """`{"series", "steps", "gaps", "constant": [ids], "short": [ids]}` for one split;
    `gaps` counts the missing timestamps (steps the reader inserted), `short` the series with
    fewer than `window` steps (None: no window known)."""
    figures = {"series": len(records), "steps": 0, "gaps": 0, "constant": [], "short": []}
    for record in records:
        values = _targets(record)
        figures["steps"] += len(values)
        if "series" in record:
            figures["gaps"] += int((record["series"].lines == 0).sum())
        if len(values) and is_constant(values):
            figures["constant"].append(record["id"])
        if window is not None and len(values) < window:
            figures["short"].append(record["id"])
    return figures


def _names(ids):
    shown = ", ".join(repr(i) if i else "the file's series" for i in ids[:5])
    return shown + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def series_report(spec, records):
    """`(figures, findings)` for a forecaster's records, `{split: [record, ...]}`."""
    lookback = spec.get("data.lookback") or spec.input.max_length
    window = lookback + spec.head.horizon if lookback else None
    splits = {split: series_figures(rows, window) for split, rows in records.items()}
    found = []
    for split, figures in splits.items():
        if figures["short"]:
            message = (
                f"{split}: {len(figures['short'])} series shorter than lookback {lookback} + "
                f"horizon {spec.head.horizon}: {_names(figures['short'])}"
            )
            fix = "give them more rows, drop them, or lower data.lookback / head.horizon"
            found.append(Finding("error", "series", message, fix))
        if figures["constant"]:
            message = f"{split}: {len(figures['constant'])} constant series: "
            fix = "drop them: a flat series teaches nothing and scales to zero"
            found.append(Finding("warning", "series", message + _names(figures["constant"]), fix))
        if figures["gaps"] and spec.get("data.fill") != "error":
            message = (
                f"{split}: {figures['gaps']:,} missing timestamps, filled by data.fill: "
                f"{spec.get('data.fill')}"
            )
            fix = "give the missing rows if they exist: filled values are guesses"
            found.append(Finding("warning", "series", message, fix))
    return {"splits": splits}, found
