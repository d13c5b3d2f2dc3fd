"""`keras-seq debug-data`: a spec's data looked at before training, with no backend imported.

Token data (taggers, classifiers, seq2seq): split sizes, exact duplicates within a split and
across splits, label counts (rare labels, labels a split lacks or training never saw),
out-of-vocabulary shares against the vocabulary training would learn, length histograms
against `input.max_length` (how many are cut), unseen characters, `input.vectors` coverage and,
for BIO tags, invalid transitions. Forecasting data: series, steps, gaps, constant series and
series too short for lookback + horizon. Each problem is a `Finding`: an `error` (training
would fail, or its scores mislead) or a `warning`.

>>> import keras_seq
>>> from keras_seq.diagnosis import debug_data
>>> spec = keras_seq.load_spec(  # no data section: the bundled tagger dataset
...     "{input: {kind: tokens}, encoder: {cell: lstm, units: 8}, head: {type: tagger}}")
>>> diagnosis = debug_data(spec)
>>> diagnosis.kind, diagnosis.figures["splits"]["train"]["examples"], diagnosis.errors
('tagger', 630, 0)
>>> print(diagnosis.findings[0])  # doctest: +ELLIPSIS
warning [duplicates] train: 1 of 630 (0.2%) examples repeat an earlier one exactly. Fix: ...
"""

import dataclasses

from keras_seq.diagnosis import text
from keras_seq.diagnosis.findings import Finding
from keras_seq.diagnosis.reading import data_kind, read_splits
from keras_seq.diagnosis.series import series_report
from keras_seq.diagnosis.tokens import INPUTS, token_report


@dataclasses.dataclass
class Diagnosis:
    """What `debug_data` found: `kind` (`keras_seq.diagnosis.reading.data_kind`), `figures`
    (plain numbers, as `--json` prints them) and `findings` (errors first)."""

    name: str
    kind: str
    figures: dict
    findings: list

    @property
    def errors(self):
        return sum(f.level == "error" for f in self.findings)

    @property
    def warnings(self):
        return sum(f.level == "warning" for f in self.findings)

    def to_dict(self):
        return {
            "name": self.name,
            "kind": self.kind,
            "errors": self.errors,
            "warnings": self.warnings,
            "findings": [f.to_dict() for f in self.findings],
            **self.figures,
        }

    def text(self):
        return text.render(self)


def check_records(spec, records):
    """`(figures, findings)` for records already read (`{split: [record, ...]}`, in the shapes
    of `keras_seq.diagnosis.reading`)."""
    kind = data_kind(spec)
    if kind in ("series", "rows"):
        return series_report(spec, records)
    if kind is None:
        return {"splits": {}}, []
    return token_report(spec, kind, records)


def report_findings(spec, records):
    """The findings `report.html` lists, from the records training read (`{split: records}`):
    token data only (a forecaster's task records hold scaled windows), and only when no split
    was streamed (its records were never held)."""
    from keras_seq.datafiles import split_paths

    if data_kind(spec) not in INPUTS or set(split_paths(spec)) - set(records):
        return []
    return check_records(spec, records)[1]


def debug_data(spec):
    """Reads every data file of `spec` (a `keras_seq.Spec`) and checks it.

    Returns:
        `Diagnosis`. A file that cannot be read is an error finding (its `DataError` text, with
        file:line and the fix), and the other splits are still checked.
    """
    kind = data_kind(spec)
    if kind is None:
        message = f"a {spec.head.type} head reads no data"
        return Diagnosis(spec.name, "none", {"splits": {}}, [Finding("warning", "read", message)])
    records, failures = read_splits(spec)
    findings = [Finding("error", "read", f"{split}: {error}") for split, error in failures]
    if "train" not in records and not failures:
        findings.append(Finding("error", "read", "no data.train", "set data.train in the spec"))
    figures, found = check_records(spec, records)
    findings += found
    findings.sort(key=lambda f: f.level != "error")
    return Diagnosis(spec.name, kind, figures, findings)


__all__ = ["Diagnosis", "Finding", "check_records", "debug_data", "report_findings"]
