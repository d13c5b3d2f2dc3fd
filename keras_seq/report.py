"""`report.html`: one self-contained page per run (no network: CSS inline, images as base64).

A header says how the run was made (backend, versions, machine, date, wall time, speed:
`keras_seq.record`). Sections, in order: the spec, the data (examples, tokens,
out-of-vocabulary share and labels unseen in training, per split), the learning curves, the
metrics per split and, for classifiers and taggers, a per-class table, a per-entity-type
table (BIO-style tags) and a confusion matrix per split.

Every input is plain data (dicts, lists, numbers, text), so a report can be written for any
run, old or new, and tested without a model.

Example:

>>> import pathlib, tempfile
>>> from keras_seq import report
>>> page = report.render(
...     name="demo",
...     spec_yaml="name: demo\\n",
...     metrics={"test": {"loss": 0.25, "accuracy": 0.9}},
... )
>>> "<h2>Metrics</h2>" in page and "0.900" in page
True
"""

import base64
import html
import io
import math

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ddd; margin-top: 1.8em; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
.note { color: #a33; } img { max-width: 100%; }
.scroll { overflow-x: auto; max-width: 100%; }
.example { border-left: 3px solid #ccc; padding: 0.3em 0.7em; margin: 0.5em 0; overflow-x: auto; }
.example.error { border-left-color: #c33; background: #fff5f5; }
.word { margin-right: 0.5em; } .word sub { color: #666; } .wrong, .wrong sub { color: #b00; }
.run th, .run td { text-align: left; } .run th { font-weight: normal; color: #555; }
"""


def render(
    *,
    name,
    spec_yaml,
    metrics,
    data_stats=None,
    history=None,
    per_class=None,
    per_entity=None,
    confusion=None,
    notes=(),
    data_checks=(),
    record=None,
    examples=None,
):
    """The report's HTML text.

    Args:
        name: str. The run's name (the page title).
        spec_yaml: str. The resolved spec (`spec_text`: the fields that apply to the task).
        metrics: dict. Split -> metric name -> number (None or NaN shown as "n/a").
        data_stats: dict, optional. Split -> figure name -> number, e.g. `{"train":
            {"examples": 400, "tokens": 5120, "oov_rate": 0.0}}`.
        history: dict, optional. Keras' `History.history` (name -> per-epoch values); drawn
            with `keras_seq.runs.curves_figure` and inlined as a PNG.
        per_class: dict, optional. Split -> list of rows `{"label", "precision", "recall",
            "f1", "support"}`.
        per_entity: dict, optional. Split -> rows as `per_class`'s, one per entity type of a
            tagger's BIO-style tags, and a last `all` row (micro-averaged).
        confusion: dict, optional. Split -> `{"labels": [...], "matrix": [[...]]}`, rows the
            true labels, columns the predicted ones.
        notes: iterable of str. Warnings shown at the top (e.g. a diverged run).
        data_checks: iterable of str. What `keras-seq debug-data` finds in the training data
            (`keras_seq.diagnosis.report_findings`), listed under the data table.
        record: dict, optional. The run's record (`keras_seq.record.make`), shown as a table
            under the title.
        examples: dict, optional. Split -> `keras_seq.examples.examples(...)`: predictions,
            the wrong ones highlighted, their tokens shaded by attribution where explained.

    Returns:
        str: a complete HTML document that needs no network.
    """
    from keras_seq.explain import view

    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>keras-seq run: {_e(name)}</title><style>{_STYLE}{view.CSS}</style></head>",
        "<body>",
        f"<h1>keras-seq run: {_e(name)}</h1>",
    ]
    if record:
        parts.append(_record_table(record))
    parts += [f'<p class="note">{_e(note)}</p>' for note in notes]
    parts += [
        "<h2>Spec</h2>",
        "<p>The fields that apply to this task; the run's spec.yaml holds every one.</p>",
        f"<pre>{_e(spec_yaml)}</pre>",
    ]
    if data_stats:
        parts += ["<h2>Data</h2>", _split_table(data_stats)]
    if data_checks:
        items = "".join(f"<li>{_e(check)}</li>" for check in data_checks)
        parts += ["<h3>Data checks (keras-seq debug-data)</h3>", f"<ul>{items}</ul>"]
    if history:
        parts += ["<h2>Learning curves</h2>", _curves(history)]
    parts += ["<h2>Metrics</h2>", _split_table(metrics)]
    for split, rows in (per_class or {}).items():
        parts += [f"<h2>Per class ({_e(split)})</h2>", _per_class_table(rows)]
    for split, rows in (per_entity or {}).items():
        parts += [f"<h2>Per entity type ({_e(split)})</h2>", _per_class_table(rows)]
    for split, table in (confusion or {}).items():
        parts += [f"<h2>Confusion matrix ({_e(split)})</h2>", _confusion_table(table)]
    for split, items in (examples or {}).items():
        parts += [f"<h2>Example predictions ({_e(split)})</h2>", _examples(items)]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write(path, **sections):
    """Writes `render(**sections)` to `path` (atomically)."""
    from keras_seq.runs import write_text_atomic

    write_text_atomic(path, render(**sections))


def spec_text(spec):
    """The spec's YAML for the report: only the fields that apply to its task
    (`keras_seq.spec.schema.applicable`); the run's `spec.yaml` holds every one."""
    import yaml

    from keras_seq.spec.schema import applicable

    return yaml.safe_dump(applicable(spec.to_dict()), sort_keys=False, default_flow_style=None)


def data_figures(stats):
    """The figures of a split's `keras_seq.data.encoding.EncodeStats` that the report's data
    table shows: examples, and tokens, out-of-vocabulary share, truncated inputs and labels
    unseen in training where there are any.

    >>> from keras_seq.data.encoding import EncodeStats
    >>> from keras_seq.report import data_figures
    >>> data_figures(EncodeStats(examples=3, tokens=40, oov=4))
    {'examples': 3, 'tokens': 40, 'oov_rate': 0.1}
    """
    figures = {"examples": stats.examples}
    if stats.tokens:
        figures["tokens"] = stats.tokens
        figures["oov_rate"] = stats.oov / stats.tokens
    if stats.truncated:
        figures["truncated"] = stats.truncated
    if stats.unseen_labels:
        figures["unseen_labels"] = sum(stats.unseen_labels.values())
    return figures


def class_sections(tables):
    """`{"per_class": ..., "per_entity": ..., "confusion": ...}` for `render` from the run's
    tables (`{split: {"classes": keras_seq.metrics.classification.class_table(...),
    "entities": keras_seq.metrics.spans.span_scores(...)}}`, entities for BIO-style tags)."""
    classes = {split: t["classes"] for split, t in tables.items() if "classes" in t}
    spans = {split: t["entities"] for split, t in tables.items() if "entities" in t}
    return {
        "per_entity": {
            split: [{"label": name, **figures} for name, figures in table["types"].items()]
            + [{"label": "all", **{k: v for k, v in table.items() if k != "types"}}]
            for split, table in spans.items()
        },
        "per_class": {
            split: [{"label": label, **figures} for label, figures in table["classes"].items()]
            for split, table in classes.items()
        },
        "confusion": {
            split: {"labels": table["labels"], "matrix": table["confusion"]}
            for split, table in classes.items()
        },
    }


def _e(value):
    return html.escape(str(value))


def _number(value):
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _e(value)
    if isinstance(value, int) or (math.isfinite(value) and value == int(value) and abs(value) > 1):
        return f"{int(value):,}"
    return f"{value:.3f}" if math.isfinite(value) else "n/a"


def _split_table(by_split):
    """Rows: figure names (in first-seen order); columns: splits."""
    splits = list(by_split)
    names = list(dict.fromkeys(name for scores in by_split.values() for name in scores))
    head = "".join(f"<th>{_e(split)}</th>" for split in splits)
    rows = [f"<tr><th></th>{head}</tr>"]
    for name in names:
        cells = "".join(f"<td>{_number(by_split[split].get(name))}</td>" for split in splits)
        rows.append(f"<tr><td>{_e(name)}</td>{cells}</tr>")
    return _scrolling("<table>" + "".join(rows) + "</table>")


def _per_class_table(rows):
    columns = ("precision", "recall", "f1", "support")
    head = "<tr><th>label</th>" + "".join(f"<th>{c}</th>" for c in columns) + "</tr>"
    body = [
        f"<tr><td>{_e(row['label'])}</td>"
        + "".join(f"<td>{_number(row.get(c))}</td>" for c in columns)
        + "</tr>"
        for row in rows
    ]
    return _scrolling("<table>" + head + "".join(body) + "</table>")


def _confusion_table(table):
    labels, matrix = table["labels"], table["matrix"]
    largest = max((count for row in matrix for count in row), default=0) or 1
    head = "<tr><th>true \\ predicted</th>" + "".join(f"<th>{_e(x)}</th>" for x in labels)
    rows = [head + "</tr>"]
    for label, row in zip(labels, matrix):
        cells = "".join(
            f'<td style="background: rgba(40, 90, 200, {0.6 * count / largest:.2f})">'
            f"{int(count)}</td>"
            for count in row
        )
        rows.append(f"<tr><td>{_e(label)}</td>{cells}</tr>")
    return _scrolling("<table>" + "".join(rows) + "</table>")


def _examples(items):
    """Each example in a box (red where wrong): its words with their predicted tags (the
    wrong ones red, with the gold tag), or its text and predicted label; then, if explained,
    the words shaded by their attribution (`keras_seq.explain.view.target_html`)."""
    from keras_seq.explain.view import target_html

    wrong = sum(item["error"] for item in items)
    blocks = [
        f"<p>{wrong} of {len(items)} wrong, shown first. Shaded words: red raised the "
        "explained output, blue lowered it (hover for the value).</p>"
    ]
    for item in items:
        pairs = list(zip(item["gold"], item["predicted"]))
        if item["per_token"]:
            text = "".join(_word(word, *pair) for word, pair in zip(item["input"], pairs))
        else:
            text = f"{_e(' '.join(item['input']))} &rarr; {_word('', *pairs[0])}"
        explained = item["explanation"]
        shaded = target_html(item["input"], explained) if explained else ""
        kind = "example error" if item["error"] else "example"
        blocks.append(f'<div class="{kind}"><div>{text}</div>{shaded}</div>')
    return "".join(blocks)


def _word(word, gold, predicted):
    """A word and its predicted label; a wrong one red, with the gold label."""
    if gold == predicted:
        return f'<span class="word">{_e(word)}<sub>{_e(predicted)}</sub></span>'
    label = f"{_e(predicted)} (gold {_e(gold)})"
    return f'<span class="word wrong">{_e(word)}<sub>{label}</sub></span>'


def _scrolling(table):
    """A table in a box that scrolls sideways when the table is wider than the page."""
    return f'<div class="scroll">{table}</div>'


def _record_table(record):
    """The run's record as a two-column table: what it is, its value."""
    from keras_seq.progress import duration
    from keras_seq.record import SPEEDS

    versions = ", ".join(f"{name} {version}" for name, version in record["versions"].items())
    rows = [
        ("backend", record["backend"]),
        ("versions", versions),
        ("CPU", record["cpu"]),
        ("GPU", ", ".join(record["gpu"]) if record.get("gpu") else "none"),
        ("date", record["date"]),
        ("wall time", duration(record["wall_seconds"])),
    ]
    rows += [(name.replace("_", " "), f"{record[name]:,.0f}") for name in SPEEDS if name in record]
    body = "".join(f"<tr><th>{_e(key)}</th><td>{_e(value)}</td></tr>" for key, value in rows)
    return f'<table class="run">{body}</table>'


def _curves(history):
    from matplotlib import pyplot

    from keras_seq.runs import curves_figure

    figure = curves_figure(history)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    pyplot.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="learning curves" src="data:image/png;base64,{data}">'
