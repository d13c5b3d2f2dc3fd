"""report.html's example predictions: wrong ones first, highlighted, explained."""

import re

import keras_seq
from keras_seq import examples, report, runs
from keras_seq.explain import explain


def _records(folder, name):
    task = keras_seq.load(folder)
    return task, list(task.read(folder.parent / name))


def test_tagger_examples_put_the_wrong_sentences_first_and_explain_the_first_wrong_tag(
    small_runs,
):
    folder, _ = small_runs["tagger"]
    task, records = _records(folder, "train.conllu")
    found = examples.examples(task, records, 6, explained=True)
    predicted = task.predict([record["tokens"] for record in records])
    wrong = [r["tags"] != p for r, p in zip(records, predicted)]
    assert [item["error"] for item in found] == sorted(wrong, reverse=True)[:6]
    # The first wrong sentence, compared with the task's own prediction.
    first = wrong.index(True)
    item = found[0]
    assert item["input"] == records[first]["tokens"] and item["gold"] == records[first]["tags"]
    assert item["predicted"] == predicted[first] and item["per_token"]
    step = next(i for i, (g, p) in enumerate(zip(item["gold"], item["predicted"])) if g != p)
    assert item["explanation"]["step"] == step
    (expected,) = explain(task, [item["input"]], steps=examples.STEPS, step=step)
    assert item["explanation"] == expected["targets"][0]
    assert examples.examples(task, records, 0) == []
    assert [item["explanation"] for item in examples.examples(task, records, 2)] == [None] * 2


def test_report_highlights_the_wrong_tags_with_their_gold_ones(small_runs):
    folder, _ = small_runs["tagger"]
    page = (folder / runs.REPORT).read_text()
    section = page[page.index("<h2>Example predictions") :]
    boxes = re.findall(r'<div class="(example(?: error)?)">', section)
    assert 0 < len(boxes) <= 20 and boxes == sorted(boxes, key=lambda b: b == "example")
    wrong = re.findall(r'<span class="word wrong">[^<]+<sub>(\S+) \(gold (\S+)\)</sub>', section)
    assert wrong and all(predicted != gold for predicted, gold in wrong)
    assert 'class="step"' not in section  # explanations are asked for (report_explanations)


def test_classifier_examples_explain_the_label_and_render_it(small_runs):
    folder, _ = small_runs["classifier"]
    task, records = _records(folder, "train.csv")
    (item,) = examples.examples(task, records[:1], 5, explained=True)
    (expected,) = task.predict([records[0]["tokens"]])
    assert item["predicted"] == [expected["label"]] and item["gold"] == [records[0]["label"]]
    assert not item["per_token"] and item["explanation"]["label"] == expected["label"]
    assert len(item["explanation"]["attributions"]["tokens"]) == len(records[0]["tokens"])
    page = report.render(
        name="c", spec_yaml="", metrics={"test": {"loss": 1.0}}, examples={"test": [item]}
    )
    assert f'{" ".join(item["input"])} &rarr; <span class="word' in page
    assert page.count('class="step"') == len(item["input"])
