"""One small trained run per task, made once per test session (the `small_runs` fixture in
conftest.py): tiny data files written here, two epochs of `keras-seq train`."""

import json

import numpy as np

RNG = np.random.default_rng(11)
SENTENCE = ["The", "old", "man", "can", "watch", "the", "light"]


def _write_spec(folder, head, inputs, data, **head_options):
    options = "".join(f", {k}: {v}" for k, v in head_options.items())
    (folder / "spec.yaml").write_text(
        f"seed: 3\ninput: {inputs}\nencoder: {{cell: gru, units: 8}}\n"
        f"head: {{type: {head}{options}}}\n"
        "training: {epochs: 2, batch_size: 16, learning_rate: 0.02}\n"
        f"data: {data}\n"
    )
    return folder / "spec.yaml"


def _tagger(folder):
    words = {"DET": ["the", "a"], "ADJ": ["old"], "NOUN": ["man", "light"], "VERB": ["watch"]}
    lines = []
    for _ in range(40):
        tags = ["DET", "ADJ", "NOUN", "VERB", "DET", "NOUN"]
        for i, tag in enumerate(tags, 1):
            word = str(RNG.choice(words[tag]))
            lines.append(f"{i}\t{word}\t_\t{tag}\t_\t_\t_\t_\t_\t_")
        lines.append("")
    (folder / "train.conllu").write_text("\n".join(lines) + "\n")
    spec = _write_spec(
        folder,
        "tagger",
        "{kind: tokens, embedding_dim: 8, lowercase: true}",
        "{format: conllu, train: train.conllu}",
    )
    return spec, [SENTENCE, "a man can watch"]


def _classifier(folder):
    rows = ["text,label"] + [
        f"{'a good' if i % 2 else 'a bad'} film,{'pos' if i % 2 else 'neg'}" for i in range(40)
    ]
    (folder / "train.csv").write_text("\n".join(rows) + "\n")
    spec = _write_spec(
        folder, "classifier", "{kind: tokens, embedding_dim: 8}", "{format: csv, train: train.csv}"
    )
    return spec, ["a good film", ["a", "bad", "film"]]


def _seq2seq(folder):
    lines = []
    for _ in range(40):
        source = [str(c) for c in RNG.choice(list("abc"), 3)]
        lines.append(json.dumps({"source": " ".join(source), "target": " ".join(source[::-1])}))
    (folder / "train.jsonl").write_text("\n".join(lines) + "\n")
    spec = _write_spec(
        folder,
        "seq2seq",
        "{kind: tokens, embedding_dim: 8, max_length: 4}",
        "{format: jsonl, train: train.jsonl}",
        max_output_length=5,
    )
    return spec, [["a", "b", "c"], "c a"]


def _forecaster(folder):
    t = np.arange(120)
    rows = ["load"] + [f"{np.sin(v / 4):.4f}" for v in t]
    (folder / "train.csv").write_text("\n".join(rows) + "\n")
    spec = _write_spec(
        folder,
        "forecaster",
        "{kind: features, dim: 1, max_length: 6}",
        "{format: csv, train: train.csv}",
        horizon=2,
    )
    window = [[float(np.sin(v / 4))] for v in range(6)]
    return spec, [window]


TASKS = {
    "tagger": _tagger,
    "classifier": _classifier,
    "seq2seq": _seq2seq,
    "forecaster": _forecaster,
}
