"""The commented YAML of a starter spec, from what `keras_seq.starter.guess` found.

Each task gets a small, sound model (`_MODELS`), the files beside the training file
(`sibling_files`), and for entity tags a CRF output, character vectors, word dropout and
early stopping on the validation entity F1.
"""

import json
import pathlib


def sibling_files(path):
    """`{split: path}` for the validation and test files beside a training file, found by
    replacing `train` in its name (`dev` also counts as validation)."""
    path = pathlib.Path(path)
    found = {}
    if "train" not in path.name:
        return found
    for split, words in (("validation", ("validation", "valid", "dev")), ("test", ("test",))):
        for word in words:
            candidate = path.with_name(path.name.replace("train", word))
            if candidate.is_file():
                found[split] = candidate
                break
    return found


_MODELS = {
    "tagger": ("lstm", 64, "bidirectional", "per-step labels: both directions help"),
    "classifier": ("gru", 64, "bidirectional", "one label per text"),
    "forecaster": ("gru", 32, "forward", "future values from past ones"),
    "seq2seq": ("gru", 128, "forward", "encoder-decoder; the decoder copies these settings"),
}


# Scaled series learn well at a larger step (as in specs/co2.yaml and specs/load.yaml).
_RATES = {"series": 0.005}


def _early_stopping_schema():
    from keras_seq.spec.schema import ROOT, resolve

    field = ROOT["properties"]["training"]["properties"]["early_stopping"]
    return resolve(field, {})


_EARLY_STOPPING = _early_stopping_schema()


def spec_text(guessed, data_path, spec_path):
    """The commented YAML of a starter spec for `guess(...)`'s result."""
    data_path = pathlib.Path(data_path).resolve()
    base = pathlib.Path(spec_path).resolve().parent
    task, fmt = guessed["task"], guessed["format"]
    cell, units, direction, why = _MODELS[task]
    inputs, head, data = _sections(guessed)
    siblings = sibling_files(data_path)
    lines = [
        f"# A starter spec written by `keras-seq init {data_path.name}`: a {task}.",
        "# Check it with `keras-seq validate`, train it with `keras-seq train`;",
        "# `keras-seq schema --markdown` lists every field.",
        "version: 1",
        f"name: {json.dumps(spec_name(data_path))}",
        "seed: 0                  # fixes weights, dropout and shuffling on every backend",
        "",
        *inputs,
        "",
        f"encoder:                  # {why}",
        f"  cell: {cell}               # simple | lstm | gru | mingru | minlstm",
        f"  units: {units}",
        f"  direction: {direction}",
        "  dropout: 0.0",
        "",
        "head:",
        f"  type: {task}",
        *head,
        "",
        "training:",
        "  optimizer: adam",
        f"  learning_rate: {_RATES.get(_kind(guessed), 0.001)}",
        "  clipnorm: 1.0          # keeps one bad batch from blowing the weights up",
        "  batch_size: 32",
        *_training_lines(guessed),
        *_stopping_lines(guessed, "validation" in siblings),
        "",
        "data:                     # paths are relative to this file",
        f"  format: {fmt}",
        f"  train: {json.dumps(_relative(data_path, base))}",
    ]
    for split, path in siblings.items():
        lines.append(f"  {split}: {json.dumps(_relative(path, base))}")
    if "delimiter" in guessed:
        lines.append(f"  delimiter: {json.dumps(guessed['delimiter'])}")
    for option, column in guessed.get("columns", {}).items():
        lines.append(f"  {option}: {json.dumps(column)}")
    return "\n".join(lines + data) + "\n"


def _kind(guessed):
    """The task, or `series` for a time-series forecaster (`data.time_column`)."""
    return "series" if "time_column" in guessed else guessed["task"]


def _training_lines(guessed):
    """The `training` lines after `batch_size`: `epochs` (a time-series forecaster's from its
    windows, with its `ensemble`)."""
    if _kind(guessed) != "series":
        return ["  epochs: 10"]
    from keras_seq.starter.series import training_lines

    return training_lines(guessed)


def _sections(guessed):
    """`(input lines, head lines after its type, data lines after the files)` of a task."""
    task = guessed["task"]
    if _kind(guessed) == "series":
        from keras_seq.starter.series import spec_sections

        return spec_sections(guessed)
    if task == "forecaster":
        values = guessed["value_columns"]
        inputs = [
            "input:",
            "  kind: features",
            f"  dim: {len(values)}                 # one value per column in data.value_columns",
            f"  max_length: {guessed['lookback']:<2}         # steps in each window "
            "(data.lookback)",
        ]
        head = [
            "  horizon: 1             # future steps predicted",
            f"  outputs: {len(guessed['target_columns'])}             # values per step",
        ]
        data = [
            f"  value_columns: {json.dumps(values)}",
            f"  target_columns: {json.dumps(guessed['target_columns'])}",
            "  # Scale the columns to similar ranges (e.g. standardize) before training.",
        ]
        return inputs, head, data
    inputs = [
        "input:",
        "  kind: tokens",
        "  vocab_size: auto       # learned from the training file",
        "  embedding_dim: 64",
        "  max_length: null       # the longest sequence (at most 1000 steps)",
    ]
    head = []
    if task in ("tagger", "classifier"):
        head = ["  classes: auto          # learned from the training file"]
    if task == "tagger" and guessed.get("scheme"):
        inputs += _ENTITY_INPUT
        head += [
            f"  output: crf            # {guessed['scheme']} tags: the best whole sequence "
            "(Viterbi),",
            "                         # with learned tag-to-tag transitions",
        ]
    return inputs, head, []


# Entity tags (BIO, BIOES, IOB1): names are rare words, so characters and word dropout help.
_ENTITY_INPUT = [
    "  word_dropout: 0.1      # words replaced by <unk> while training: learn from context",
    "  chars:                 # each word's characters: unseen names get informative vectors",
    "    encoder: cnn         # cnn | rnn",
    "    embedding_dim: 32",
    "    units: 64",
]


def _stopping_lines(guessed, validation):
    """`training.early_stopping` for entity tags: on the validation split's entity F1 (higher
    is better), written commented out when no validation file was found."""
    if not (guessed["task"] == "tagger" and guessed.get("scheme")):
        return []
    fields = _EARLY_STOPPING["properties"]
    mode = ", mode: max" if "mode" in fields else ""
    line = f"early_stopping: {{monitor: val_entity_f1{mode}, patience: 5}}"
    if validation:
        return [f"  {line}   # entity F1 on data.validation"]
    return [f"  # {line}   # give data.validation first"]


def spec_name(data_path):
    """The spec's `name`: the data file's stem without `train`."""
    stem = data_path.stem.replace("-train", "").replace("_train", "").replace("train", "")
    return stem.strip("-_.") or "model"


def _relative(path, base):
    try:
        return str(pathlib.Path(path).resolve().relative_to(base))
    except ValueError:
        return str(pathlib.Path(path).resolve())
