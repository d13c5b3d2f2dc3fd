"""Run one spec's model on TensorFlow, JAX and PyTorch and compare the numbers.

Keras picks its backend once, at import, so each backend runs in its own process:
`python -m keras_seq.portability WORKDIR SPEC [WEIGHTS]` with `KERAS_BACKEND` set. The processes
exchange weights and results through `.npz` files in WORKDIR: the first backend writes the
weights every backend then uses (or all load WEIGHTS), and each writes what it computed.
"""

import dataclasses
import importlib.util
import os
import subprocess
import sys
import tempfile

import numpy as np
import yaml

BACKENDS = ("tensorflow", "jax", "torch")
# Quantity -> the largest max-abs difference from the reference backend that passes.
TOLERANCES = {
    "initial weights": 0.0,
    "outputs": 1e-5,
    "loss": 1e-5,
    "gradients": 1e-5,
    "loss after training": 1e-4,
    "weights after training": 1e-4,
}
# Sizes for the spec's `auto` fields (they would come from training data).
_AUTO_SIZES = {"vocab_size": 50, "classes": 5, "target_vocab_size": 40}
_INT_TARGET_HEADS = ("classifier", "tagger", "seq2seq")


@dataclasses.dataclass
class BackendReport:
    """What `check_backends` found.

    Attributes:
        reference: the backend every other one is compared with.
        differences: quantity -> backend -> max abs difference from the reference (None where
            the quantity does not apply, e.g. loss for a model without one).
        tolerances: quantity -> the largest difference that passes.
        skipped: backend -> why it did not run (not installed).
        notes: how the check was run (batch, steps, dropout).
    """

    reference: str
    differences: dict
    tolerances: dict
    skipped: dict
    notes: list

    @property
    def passed(self):
        return all(
            value <= self.tolerances[quantity]
            for quantity, row in self.differences.items()
            for value in row.values()
            if value is not None
        )

    def __str__(self):
        backends = sorted({b for row in self.differences.values() for b in row},
                          key=BACKENDS.index)
        header = ["max abs difference", *[f"{b} vs {self.reference}" for b in backends],
                  "tolerance"]
        rows = [header]
        for quantity, row in self.differences.items():
            cells = ["n/a" if row[b] is None else f"{row[b]:.2e}" for b in backends]
            ok = all(v is None or v <= self.tolerances[quantity] for v in row.values())
            rows.append([quantity, *cells, f"{self.tolerances[quantity]:.0e}"
                         + ("" if ok else "  FAIL")])
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines += [f"skipped {b}: {why}" for b, why in self.skipped.items()]
        lines += self.notes
        lines.append("PASSED" if self.passed else "FAILED: differences beyond tolerance")
        return "\n".join(lines)


def check_backends(spec, weights=None, backends=BACKENDS, batch_size=4, steps=3):
    """Runs a spec's model on every installed backend and compares the results.

    Each backend (one process each) builds the model from `spec`, records its initial weights,
    then loads the same weights (`weights`, or the first backend's initial ones), and computes on
    the same fixed batch: the outputs, the loss, its gradients, and the loss and weights after
    `steps` training steps. Dropout is switched off: its masks come from each backend's own
    random generator, so with it the numbers would differ by design.

    Args:
        spec: a spec file path, YAML text, a dict or a `keras_seq.Spec`. `auto` sizes get
            small stand-ins (vocab_size 50, classes 5, target_vocab_size 40).
        weights: optional path to a `.weights.h5` file (`model.save_weights`) to load instead.
        backends: the backends to compare; the first installed one is the reference.
        batch_size: int. Sequences in the fixed batch (post-padded, lengths varied).
        steps: int. Training steps on that batch before the last comparison.

    Returns:
        A `BackendReport`; `print` it for the table, `report.passed` for the verdict.
    """
    from keras_seq.spec import Spec, load_spec

    if isinstance(spec, Spec):
        text = spec.to_yaml()
    elif isinstance(spec, dict):
        text = yaml.safe_dump(spec)
    else:
        text = None
        load_spec(spec)  # a bad spec fails here, once, not in every process
    skipped = {b: "not installed" for b in backends if importlib.util.find_spec(b) is None}
    running = [b for b in backends if b not in skipped]
    if not running:
        raise RuntimeError(f"None of the backends {list(backends)} is installed.")
    with tempfile.TemporaryDirectory(prefix="keras-seq-check-") as workdir:
        if text is not None:
            spec = os.path.join(workdir, "spec.yaml")
            with open(spec, "w") as file:
                file.write(text)
        command = [os.fspath(spec), os.fspath(weights or ""), str(batch_size), str(steps)]
        # The reference first (it may write the shared weights), then the others in parallel.
        _wait([_start(running[0], workdir, command)])
        _wait([_start(b, workdir, command) for b in running[1:]])
        results = {b: dict(np.load(os.path.join(workdir, f"{b}.npz"))) for b in running}
    reference = results[running[0]]
    differences = {
        quantity: {b: _difference(reference, results[b], quantity) for b in running[1:]}
        for quantity in TOLERANCES
    }
    notes = [f"batch: {batch_size} sequences, {steps} training steps; dropout off"]
    return BackendReport(running[0], differences, dict(TOLERANCES), skipped, notes)


def _start(backend, workdir, command):
    env = {**os.environ, "KERAS_BACKEND": backend}
    return backend, subprocess.Popen(
        [sys.executable, "-m", "keras_seq.portability", workdir, *command],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _wait(processes):
    for backend, process in processes:
        output, _ = process.communicate()
        if process.returncode:
            raise RuntimeError(f"The {backend} run failed:\n{output[-4000:]}")


def _difference(reference, other, quantity):
    keys = sorted(k for k in reference if k.startswith(quantity + "/"))
    if not keys:
        return None
    return max(float(np.max(np.abs(reference[k] - other[k]), initial=0.0)) for k in keys)


# ---- what runs inside each backend's process ----


def _without_dropout(node):
    """The spec with every dropout rate at 0 (in dataclasses, per-layer mappings, tuples)."""
    rates = ("dropout", "recurrent_dropout")
    if dataclasses.is_dataclass(node):
        changes = {f.name: _without_dropout(getattr(node, f.name))
                   for f in dataclasses.fields(node)}
        changes.update({r: 0.0 for r in rates if changes.get(r)})
        return dataclasses.replace(node, **changes)
    if isinstance(node, dict):
        return {k: 0.0 if k in rates and v else _without_dropout(v) for k, v in node.items()}
    if isinstance(node, tuple):
        return tuple(_without_dropout(n) for n in node)
    return node


def _batch(spec, model, batch_size):
    """A fixed batch for the model's inputs and targets, the same in every process."""
    rng = np.random.default_rng(0)
    inputs = []
    for index, tensor in enumerate(model.inputs):
        time = tensor.shape[1] or 8
        lengths = np.linspace(time, max(1, time // 3), batch_size).round().astype(int)
        padding = np.arange(time)[None, :] >= lengths[:, None]
        if "int" in str(tensor.dtype):
            vocab = spec.input.vocab_size if index == 0 else spec.head.target_vocab_size
            values = rng.integers(2, vocab, size=(batch_size, time)).astype("int32")
            values[padding] = 0
        else:
            values = rng.normal(size=(batch_size, *tensor.shape[1:]))
            values[padding] = spec.input.mask_value or 0.0
        inputs.append(values.astype(str(tensor.dtype)))
    shape = [d or 8 for d in model.outputs[0].shape[1:]]
    if spec.head.type in _INT_TARGET_HEADS:
        targets = rng.integers(0, shape[-1], size=(batch_size, *shape[:-1])).astype("int32")
    else:
        targets = rng.normal(size=(batch_size, *shape)).astype("float32")
    return (inputs[0] if len(inputs) == 1 else inputs), targets


def _loss_and_gradients(model, x, y):
    """The loss (dropout off) and its gradients for the trainable weights, on this backend."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]
        metrics = [v.value for v in model.metrics_variables]
        (loss, _), grads = jax.value_and_grad(model.compute_loss_and_updates, has_aux=True)(
            trainable, non_trainable, metrics, x, y, None, training=False
        )
    elif backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = model.compute_loss(x, y, model(x, training=False), training=False)
        grads = tape.gradient(loss, model.trainable_variables)
    else:
        import torch

        loss = model.compute_loss(x, y, model(x, training=False), training=False)
        grads = torch.autograd.grad(loss, [v.value for v in model.trainable_variables])
    return keras.ops.convert_to_numpy(loss), [keras.ops.convert_to_numpy(g) for g in grads]


def _run_here(workdir, spec_path, weights, batch_size, steps):
    import keras

    from keras_seq.builder import OVERRIDES, build, resolve
    from keras_seq.spec import load_spec

    spec = _without_dropout(load_spec(spec_path))
    overrides = {keyword: _AUTO_SIZES[keyword] for keyword, (section, field) in OVERRIDES.items()
                 if getattr(getattr(spec, section), field) == "auto"}
    spec = resolve(spec, **overrides)
    model = build(spec)
    results = {f"initial weights/{i}": w for i, w in enumerate(model.get_weights())}
    shared = os.path.join(workdir, "weights.npz")
    if weights:
        model.load_weights(weights)
    elif os.path.exists(shared):
        with np.load(shared) as data:
            model.set_weights([data[f"arr_{i}"] for i in range(len(data.files))])
    else:
        np.savez(shared, *model.get_weights())
    x, y = _batch(spec, model, batch_size)
    outputs = keras.tree.flatten(model(x, training=False))
    results.update({f"outputs/{i}": keras.ops.convert_to_numpy(o) for i, o in enumerate(outputs)})
    if model.loss is not None:
        loss, grads = _loss_and_gradients(model, x, y)
        results["loss/0"] = loss
        results.update({f"gradients/{i}": g for i, g in enumerate(grads)})
        for _ in range(steps):
            model.train_on_batch(x, y)
        results["loss after training/0"] = _loss_and_gradients(model, x, y)[0]
        results.update({f"weights after training/{i}": w
                        for i, w in enumerate(model.get_weights())})
    np.savez(os.path.join(workdir, f"{keras.backend.backend()}.npz"), **results)


if __name__ == "__main__":
    workdir, spec_path, weights, batch_size, steps = sys.argv[1:6]
    _run_here(workdir, spec_path, weights, int(batch_size), int(steps))
