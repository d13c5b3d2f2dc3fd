"""report.html and curves.png: content, not just existence."""

import base64
import re

import pytest

from keras_seq import report, runs

HISTORY = {"loss": [2.0, 0.5, 0.01], "val_loss": [2.1, 0.7, 0.2], "accuracy": [0.3, 0.8, 0.99]}


def test_report_has_every_section_with_its_numbers(tmp_path):
    path = tmp_path / "report.html"
    report.write(
        path,
        name="pos <tagger>",
        spec_yaml="name: pos\nencoder: {cell: lstm}\n",
        metrics={"validation": {"loss": 0.4321, "accuracy": 0.9}, "test": {"accuracy": None}},
        data_stats={"train": {"examples": 400, "tokens": 5120, "oov_rate": 0.0}},
        history=HISTORY,
        per_class={
            "test": [{"label": "NOUN", "precision": 0.75, "recall": 0.5, "f1": 0.6, "support": 12}]
        },
        confusion={"test": {"labels": ["NOUN", "VERB"], "matrix": [[6, 6], [1, 9]]}},
        notes=["the loss became nan at epoch 3"],
    )
    page = path.read_text(encoding="utf-8")
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings == [
        "Spec",
        "Data",
        "Learning curves",
        "Metrics",
        "Per class (test)",
        "Confusion matrix (test)",
    ]
    assert "<title>keras-seq run: pos &lt;tagger&gt;</title>" in page  # escaped
    assert "encoder: {cell: lstm}" in page
    assert "<tr><td>examples</td><td>400</td></tr>" in page
    assert "<tr><td>tokens</td><td>5,120</td></tr>" in page
    assert "<tr><th></th><th>validation</th><th>test</th></tr>" in page
    assert "<tr><td>loss</td><td>0.432</td><td>n/a</td></tr>" in page
    assert "<tr><td>accuracy</td><td>0.900</td><td>n/a</td></tr>" in page
    assert "<tr><td>NOUN</td><td>0.750</td><td>0.500</td><td>0.600</td><td>12</td></tr>" in page
    counts = re.findall(r"<td style=\"background: [^\"]+\">(\d+)</td>", page)
    assert counts == ["6", "6", "1", "9"]
    assert '<p class="note">the loss became nan at epoch 3</p>' in page


def test_report_is_self_contained(tmp_path):
    page = report.render(name="r", spec_yaml="", metrics={"test": {"loss": 1.0}}, history=HISTORY)
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "<script" not in page and "<link" not in page
    image = re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(image).startswith(b"\x89PNG")


def _figure(history):
    from matplotlib import pyplot

    figure = runs.curves_figure(history)
    yield figure
    pyplot.close(figure)


def test_loss_axis_is_logarithmic_only_when_the_range_calls_for_it():
    for figure in _figure(HISTORY):  # 2.0 .. 0.01: a factor of 200
        loss, accuracy = figure.axes
        assert loss.get_yscale() == "log" and accuracy.get_yscale() == "linear"
    for figure in _figure({"loss": [1.0, 0.5, 0.4]}):
        assert figure.axes[0].get_yscale() == "linear"


def test_epoch_ticks_are_whole_numbers():
    for figure in _figure({"loss": [1.0, 0.9, 0.8, 0.7]}):
        figure.canvas.draw()
        ticks = [t for t in figure.axes[0].get_xticks() if 1 <= t <= 4]
        assert ticks and all(float(t).is_integer() for t in ticks)


@pytest.mark.parametrize(
    ("history", "drawn", "note"),
    [
        ({"loss": [1.0, 0.5, float("nan")]}, 2, "train loss is nan from epoch 3 on"),
        ({"loss": [float("nan")] * 3}, 0, "train loss is nan from epoch 1 on"),
    ],
)
def test_a_diverged_run_gets_a_note_not_blank_axes(history, drawn, note):
    for figure in _figure(history):
        axis = figure.axes[0]
        assert sum(len(line.get_xdata()) for line in axis.get_lines()) == drawn
        texts = " ".join(text.get_text() for text in axis.texts)
        assert "the run diverged" in texts and note in texts


def test_plot_curves_writes_a_png(tmp_path):
    runs.plot_curves(HISTORY, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")


def test_ner_runs_get_a_per_entity_type_table_and_an_f1_curve():
    from keras_seq.metrics.spans import span_scores

    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-LOC", "O"]]
    predicted = [["B-PER", "I-PER", "O", "B-ORG"], ["B-LOC", "O"]]
    tables = {"test": {"entities": span_scores(gold, predicted)}}
    page = report.render(
        name="ner", spec_yaml="", metrics={"test": {"loss": 1.0}}, **report.class_sections(tables)
    )
    table = page[page.index("<h2>Per entity type (test)</h2>") :]
    # LOC: 1 of 2 gold found, 1 of 1 predicted right; ORG: predicted once, wrongly; PER: right.
    assert "<tr><td>LOC</td><td>1.000</td><td>0.500</td><td>0.667</td><td>2</td></tr>" in table
    assert "<tr><td>ORG</td><td>0.000</td><td>0.000</td><td>0.000</td><td>0</td></tr>" in table
    assert "<tr><td>all</td><td>0.667</td><td>0.667</td><td>0.667</td><td>3</td></tr>" in table
    history = {
        "loss": [1.0, 0.5],
        "val_loss": [1.1, 0.6],
        "val_entity_f1": [0.2, 0.6],
        "val_entity_precision": [0.3, 0.6],
        "val_entity_f1_PER": [0.1, 0.5],
    }
    for figure in _figure(history):
        assert [axis.get_title() for axis in figure.axes] == ["loss", "entity_f1"]
        (line,) = figure.axes[1].get_lines()
        assert list(line.get_ydata()) == [0.2, 0.6]


@pytest.mark.parametrize(
    ("spec_text", "shown", "hidden"),
    [
        (
            "input: {kind: features, dim: 1}\nencoder: {cell: gru, units: 4}\n"
            "head: {type: forecaster, horizon: 2}\ndata: {format: csv, train: a.csv}\n",
            {"fill", "season_length", "streaming"},
            {"text_column", "label_column", "tokens_column", "source_column", "target_column"},
        ),
        (
            "input: {kind: tokens}\nencoder: {cell: gru, units: 4}\nhead: {type: tagger}\n"
            "data: {format: csv, train: a.csv}\n",
            {"tokens_column", "tags_column"},
            {"text_column", "label_column", "source_column", "target_column", "fill"},
        ),
    ],
)
def test_the_spec_section_shows_only_the_fields_that_apply_to_the_task(spec_text, shown, hidden):
    import yaml

    from keras_seq.spec import load_spec

    spec = load_spec(spec_text)
    text = report.spec_text(spec)
    data = yaml.safe_load(text)["data"]
    assert shown <= set(data) and not hidden & set(data)
    assert set(data) < set(spec.to_dict()["data"])
    # Nothing that applies is lost: the shown spec loads back to the same spec.
    assert load_spec(text) == spec


def test_every_x_heads_names_a_task():
    from keras_seq.spec.schema import ROOT
    from keras_seq.tasks.task import TASKS

    def heads(node):
        if isinstance(node, dict):
            yield from node.get("x-heads", ())
            for value in node.values():
                yield from heads(value)
        elif isinstance(node, list):
            for value in node:
                yield from heads(value)

    named = set(heads(ROOT))
    assert named == {"tagger", "classifier", "forecaster", "seq2seq"} and named <= set(TASKS)
