"""What travels beside an exported graph: `preprocessing.json` and `model-card.md`.

Together they let a consumer in another language turn raw inputs into the graph's arrays and
its outputs back into predictions, without keras-seq.
"""

import keras
import numpy as np
import yaml

from keras_seq.data.shapes import SHAPE_FEATURES
from keras_seq.data.vocabulary import Vocabulary
from keras_seq.export.graph import input_signature

_SHAPES = {
    "input": "shapes",
    "encode": "float32 (batch, time, features): for each token as written (not lowercased), "
    "1.0 where a feature's rule holds, else 0.0, in the order listed; 0.0 at padding",
    "features": [{"name": name, "rule": rule} for name, rule, _ in SHAPE_FEATURES],
}


def _plain(value):
    if isinstance(value, Vocabulary):
        return value.tokens
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _inputs(model, lengths):
    return [
        {"name": spec.name, "dtype": str(spec.dtype), "shape": list(spec.shape)}
        for spec in keras.tree.flatten(input_signature(model, lengths))
    ]


def preprocessing(task, format, graph_file, lengths):
    """The content of `preprocessing.json`: the graph's inputs and outputs, the learned
    vocabularies, labels and scales (the task's whole `state`), and the input settings."""
    spec = task.spec
    info = {
        "task": task.head_type,
        "graph": {
            "format": format,
            "file": graph_file,
            "inputs": _inputs(task.model, lengths),
            "outputs": task.graph_outputs,
        },
        "input": {
            "kind": spec.input.kind,
            "max_length": spec.input.max_length,
            "padding": "post: real steps first, then pad (id 0 for tokens)",
        },
        "state": {name: _plain(value) for name, value in task.state.items()},
    }
    if spec.input.kind == "tokens":
        info["input"]["lowercase"] = spec.input.lowercase
        info["input"]["tokenize"] = "split on whitespace"
        info["special_ids"] = {"<pad>": 0, "<unk>": 1}
        info["input"]["encode"] = (
            "id = position of the (lowercased, if lowercase) token in state.vocab; "
            "<unk> (1) when absent; truncate to max_length; pad with 0"
        )
        if spec.input.shape_features:
            info["input"]["shape_features"] = _SHAPES
    else:
        info["input"]["dim"] = spec.input.dim
        info["input"]["mask_value"] = spec.input.mask_value
    info.update(task.export_preprocessing())
    return info


def _metrics_table(metrics):
    lines = ["| split | metric | value |", "|---|---|---|"]
    for split, scores in metrics.items():
        for name, value in scores.items():
            lines.append(f"| {split} | {name} | {'null' if value is None else f'{value:.4g}'} |")
    return "\n".join(lines)


def model_card(task, info, metrics=None):
    """The text of `model-card.md` for an export described by `info` (`preprocessing`)."""
    spec = task.spec
    graph = info["graph"]
    inputs = "\n".join(
        f"- `{i['name']}`: {i['dtype']} {tuple(i['shape'])}" for i in graph["inputs"]
    )
    data = spec.to_dict().get("data")
    sizes = ", ".join(
        f"{name}: {len(value)} entries"
        for name, value in info["state"].items()
        if isinstance(value, list)
    )
    sections = [
        f"# {spec.name}: a keras-seq {task.head_type}",
        f"Exported from a trained keras-seq run as **{graph['format']}** (`{graph['file']}`), "
        f"on the {keras.backend.backend()} backend. `preprocessing.json` beside it holds "
        "everything needed to prepare inputs and read outputs.",
        "## Inputs and outputs",
        f"{inputs}\n- output: {graph['outputs']}",
    ]
    sections += task.card_sections(info)
    sections += [
        "## Spec",
        "```yaml\n" + yaml.safe_dump(spec.to_dict(), sort_keys=False) + "```",
        "## Data",
        (yaml.safe_dump(data, sort_keys=False).strip() if data else "The bundled dataset.")
        + (f"\n\nLearned from the training split: {sizes}." if sizes else ""),
        "## Metrics",
        _metrics_table(metrics) if metrics else "No metrics were recorded with this model.",
        "## Intended use",
        f"Predictions of the kind it was trained for ({task.head_type}), on inputs like its "
        "training data: same language, domain, tokenization and value ranges. It is a small "
        "recurrent model: check the metrics above against your own held-out data first.",
        "## Limits",
        _limits(task, info),
    ]
    return "\n\n".join(sections) + "\n"


def _limits(task, info):
    spec = task.spec
    lines = []
    if spec.input.kind == "tokens":
        lines.append(
            "- Tokens not in the vocabulary become `<unk>` (id 1); the model saw few or none "
            "of them, so their predictions are weaker."
        )
    if spec.input.max_length:
        lines.append(f"- Inputs longer than {spec.input.max_length} steps are truncated.")
    if info["graph"]["format"] == "onnx":
        lines.append(
            "- The ONNX graph's time axes have fixed lengths (see Inputs): pad every input "
            "to them; padding does not change the predictions."
        )
    lines.append(
        "- Values the model never saw in training (new labels, out-of-range numbers) are not "
        "flagged by the graph."
    )
    return "\n".join(lines)
