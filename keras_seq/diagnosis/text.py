"""`keras-seq debug-data`'s console text: a table per split, lengths, overlap, labels, then the
findings and their count."""

# Labels listed by name before the rest are summed up.
_LABELS_SHOWN = 20


def _token_table(splits):
    rows = [f"{'split':<11}{'examples':>9}{'tokens':>10}{'OOV':>8}{'repeats':>9}{'cut':>7}"]
    for split, f in splits.items():
        oov = f"{100 * f['oov_rate']:.1f}%"
        rows.append(
            f"{split:<11}{f['examples']:>9,}{f['tokens']:>10,}{oov:>8}{f['duplicates']:>9,}"
            f"{f['lengths']['cut']:>7,}"
        )
    for split, f in splits.items():
        bins = " | ".join(f"{label}: {n:,}" for label, n in f["lengths"]["bins"])
        rows.append(f"lengths {split} (longest {f['lengths']['longest']}): {bins}")
    return rows


def _series_table(splits):
    rows = [f"{'split':<11}{'series':>7}{'steps':>9}{'gaps':>7}{'constant':>10}{'short':>7}"]
    for split, f in splits.items():
        rows.append(
            f"{split:<11}{f['series']:>7,}{f['steps']:>9,}{f['gaps']:>7,}"
            f"{len(f['constant']):>10,}{len(f['short']):>7,}"
        )
    return rows


def _labels(table):
    if not table:
        return []
    splits = list(next(iter(table.values())))
    rows = [f"labels ({' / '.join(splits)}):"]
    shown = list(table.items())[:_LABELS_SHOWN]
    for label, counts in shown:
        rows.append(f"  {label}: {' / '.join(f'{n:,}' for n in counts.values())}")
    if len(table) > _LABELS_SHOWN:
        rows.append(f"  ... and {len(table) - _LABELS_SHOWN} more")
    return rows


def render(diagnosis):
    """The text of a `keras_seq.diagnosis.Diagnosis`."""
    figures = diagnosis.figures
    lines = [f"debug-data {diagnosis.name} ({diagnosis.kind})"]
    splits = figures.get("splits", {})
    if splits:
        table = _series_table if diagnosis.kind in ("series", "rows") else _token_table
        lines += table(splits)
    if figures.get("overlap"):
        pairs = ", ".join(f"{pair} {n:,}" for pair, n in figures["overlap"].items())
        lines.append(f"exact overlap: {pairs}")
    lines += _labels(figures.get("labels"))
    if figures.get("vectors"):
        v = figures["vectors"]
        lines.append(f"vectors: {v['covered']:,} of {v['train_words']:,} training words")
    lines += [str(finding) for finding in diagnosis.findings]
    lines.append(f"{diagnosis.errors} error(s), {diagnosis.warnings} warning(s)")
    return "\n".join(lines)
