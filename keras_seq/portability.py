"""Run specs' models on TensorFlow, JAX and PyTorch and compare the numbers.

Keras picks its backend once, at import, so each backend runs in its own process, and one
process handles every spec of a call: `python -m keras_seq.portability WORKDIR` with
`KERAS_BACKEND` set. WORKDIR holds `job.json` (the specs, weights, batch size and steps) and the
specs as YAML; the processes exchange weights and results through `.npz` files there: for each
spec the reference backend writes the weights every backend then uses (unless the job names a
weights file), and each backend writes what it computed, or what went wrong.
"""

import contextlib
import dataclasses
import functools
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np

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
# The backend processes run at once on a tiny batch: one thread each (unless the caller's
# environment says otherwise) keeps them from fighting over the cores. On 2 busy cores this
# cut their CPU time from 113 s to 70 s.
_ONE_THREAD = {
    "OMP_NUM_THREADS": "1",  # PyTorch
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}


@dataclasses.dataclass
class SpecComparison:
    """One spec's section of a `BackendReport`.

    Attributes:
        differences: quantity -> backend -> max abs difference from the reference (None where
            the quantity does not apply, e.g. loss for a model without one).
        errors: backend -> the error its run of this spec raised (the spec then fails).
    """

    differences: dict
    errors: dict


@dataclasses.dataclass
class BackendReport:
    """What `check_backends` found: a section per spec, each a table against one reference.

    Attributes:
        reference: the backend every other one is compared with.
        sections: spec label (its path, or its name) -> `SpecComparison`.
        tolerances: quantity -> the largest difference that passes.
        skipped: backend -> why it did not run (not installed).
        notes: how the check was run (batch, steps, dropout).
    """

    reference: str
    sections: dict
    tolerances: dict
    skipped: dict
    notes: list

    def spec_passed(self, label):
        section = self.sections[label]
        return not section.errors and all(
            self._within(quantity, row) for quantity, row in section.differences.items()
        )

    @property
    def passed(self):
        return all(self.spec_passed(label) for label in self.sections)

    def _within(self, quantity, row):
        return all(v is None or v <= self.tolerances[quantity] for v in row.values())

    def __str__(self):
        lines = []
        for label, section in self.sections.items():
            lines += [f"== {label}", *self._table(section)]
            lines += [f"{b} failed: {error}" for b, error in section.errors.items()]
            lines += ["passed" if self.spec_passed(label) else "FAILED", ""]
        lines += [f"skipped {b}: {why}" for b, why in self.skipped.items()]
        lines += self.notes
        failed = [label for label in self.sections if not self.spec_passed(label)]
        lines.append(f"FAILED: {', '.join(failed)}" if failed else "PASSED")
        return "\n".join(lines)

    def _table(self, section):
        backends = [b for b in BACKENDS if any(b in row for row in section.differences.values())]
        header = [
            "max abs difference",
            *[f"{b} vs {self.reference}" for b in backends],
            "tolerance",
        ]
        rows = [header]
        for quantity, row in section.differences.items():
            cells = ["n/a" if row[b] is None else f"{row[b]:.2e}" for b in backends]
            verdict = "" if self._within(quantity, row) else "  FAIL"
            rows.append([quantity, *cells, f"{self.tolerances[quantity]:.0e}{verdict}"])
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return lines


def check_backends(specs, weights=None, backends=BACKENDS, batch_size=4, steps=3):
    """Runs specs' models on every installed backend and compares the results.

    One process per backend (Keras imported once) handles every spec: it builds each model,
    records its initial weights, then loads the same weights (the spec's `weights` file, or
    the reference backend's initial ones) and computes on the same fixed batch: the outputs,
    the loss, its gradients, and the loss and weights after `steps` training steps. Dropout is
    switched off: its masks come from each backend's own random generator, so with it the
    numbers would differ by design.

    Args:
        specs: a spec (a file path, YAML text, a dict or a `keras_seq.Spec`) or a list of them.
            `auto` sizes get small stand-ins (vocab_size 50, classes 5, target_vocab_size 40).
        weights: optional path to a `.weights.h5` file (`model.save_weights`) to load instead,
            for one spec; for a list of specs, a list with a path (or None) per spec.
        backends: the backends to compare; the first installed one is the reference.
        batch_size: int. Sequences in the fixed batch (post-padded, lengths varied).
        steps: int. Training steps on that batch before the last comparison.

    Returns:
        A `BackendReport` with a section per spec; `print` it for the tables, `report.passed`
        for the verdict.

    Raises:
        keras_seq.SpecError: a spec is invalid (raised before any backend starts).
        RuntimeError: no backend is installed, or a backend's process died.

    Example:

    >>> import keras_seq
    >>> report = keras_seq.check_backends("specs/tagger.yaml")  # doctest: +SKIP
    >>> report.passed  # doctest: +SKIP
    True
    """
    from keras_seq.spec import load_spec

    sources = list(specs) if isinstance(specs, (list, tuple)) else [specs]
    if weights is None or isinstance(weights, (str, os.PathLike)):
        if weights is not None and len(sources) != 1:
            raise ValueError(
                f"weights names one file but there are {len(sources)} specs: pass a list "
                "with one weights path (or None) per spec."
            )
        weights = [weights] * len(sources)
    if len(weights) != len(sources):
        raise ValueError(f"Got {len(weights)} weights paths for {len(sources)} specs.")
    loaded = [load_spec(source) for source in sources]  # a bad spec fails here, once
    labels = _labels(sources, loaded)
    skipped = {b: "not installed" for b in backends if importlib.util.find_spec(b) is None}
    running = [b for b in backends if b not in skipped]
    if not running:
        raise RuntimeError(f"None of the backends {list(backends)} is installed.")
    with tempfile.TemporaryDirectory(prefix="keras-seq-check-") as workdir:
        job = {"batch_size": batch_size, "steps": steps, "reference": running[0], "specs": []}
        for index, (spec, path) in enumerate(zip(loaded, weights)):
            with open(os.path.join(workdir, f"spec-{index}.yaml"), "w") as file:
                file.write(spec.to_yaml())
            job["specs"].append(os.path.abspath(path) if path else None)
        with open(os.path.join(workdir, "job.json"), "w") as file:
            json.dump(job, file)
        _run_processes(running, workdir)
        sections = {label: _compare(workdir, index, running) for index, label in enumerate(labels)}
    notes = [
        f"batch: {batch_size} sequences, {steps} training steps; dropout off",
        "initial weights: n/a for a spec without a seed",
    ]
    return BackendReport(running[0], sections, dict(TOLERANCES), skipped, notes)


def _labels(sources, loaded):
    """Each spec's section title: its path if it came from a file, else its name (unique)."""
    labels = []
    for source, spec in zip(sources, loaded):
        path = isinstance(source, (str, os.PathLike)) and os.path.isfile(source)
        label = os.fspath(source) if path else spec.name
        labels.append(label if label not in labels else f"{label} ({len(labels) + 1})")
    return labels


def _run_processes(running, workdir):
    """All backends at once; the others wait, spec by spec, for the reference's weights."""
    with contextlib.ExitStack() as stack:
        processes = []
        for backend in running:
            log = stack.enter_context(open(os.path.join(workdir, f"{backend}.log"), "w+"))
            command = [sys.executable, "-m", "keras_seq.portability", workdir]
            env = {**_ONE_THREAD, **os.environ, "KERAS_BACKEND": backend}
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            stack.callback(_stop, process)  # if the reference dies, the others would wait
            processes.append((backend, process, log))
        for backend, process, log in processes:
            if process.wait():
                log.seek(0)
                raise RuntimeError(f"The {backend} run failed:\n{log.read()[-4000:]}")


def _stop(process):
    if process.poll() is None:
        process.kill()
        process.wait()


def _compare(workdir, index, running):
    results, errors = {}, {}
    for backend in running:
        stem = os.path.join(workdir, f"{backend}-{index}")
        if os.path.exists(stem + ".error"):
            with open(stem + ".error") as file:
                errors[backend] = file.read()
        else:
            with np.load(stem + ".npz") as data:
                results[backend] = dict(data)
    reference = results.get(running[0])
    differences = {
        quantity: {
            b: None
            if reference is None or b not in results
            else _difference(reference, results[b], quantity)
            for b in running[1:]
        }
        for quantity in TOLERANCES
    }
    return SpecComparison(differences, errors)


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
        changes = {
            f.name: _without_dropout(getattr(node, f.name)) for f in dataclasses.fields(node)
        }
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


def _forward_and_backward(model):
    """A function (x, y) -> (outputs, loss, gradients of the trainable weights), dropout off.

    On JAX it is compiled once per model: JAX runs each scan op by op otherwise, compiling it
    anew at every call, which made the check several times slower there.
    """
    import keras

    def numpy(tensors):
        return [keras.ops.convert_to_numpy(t) for t in keras.tree.flatten(tensors)]

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        def loss_and_outputs(trainable, non_trainable, x, y):
            outputs, non_trainable = model.stateless_call(
                trainable, non_trainable, x, training=False
            )
            # No metrics variables passed: their number grows once training builds the
            # metrics, which would make JAX compile this function again.
            loss, _ = model.stateless_compute_loss(
                trainable, non_trainable, [], x, y, outputs, training=False
            )
            return loss, outputs

        compute = jax.jit(jax.value_and_grad(loss_and_outputs, has_aux=True))

        def run(x, y):
            (loss, outputs), grads = compute(
                [v.value for v in model.trainable_variables],
                [v.value for v in model.non_trainable_variables],
                x,
                y,
            )
            return numpy(outputs), numpy(loss)[0], numpy(grads)

    elif backend == "tensorflow":
        import tensorflow as tf

        def run(x, y):
            with tf.GradientTape() as tape:
                outputs = model(x, training=False)
                loss = model.compute_loss(x, y, outputs, training=False)
            return (
                numpy(outputs),
                numpy(loss)[0],
                numpy(tape.gradient(loss, model.trainable_variables)),
            )

    else:
        import torch

        def run(x, y):
            outputs = model(x, training=False)
            loss = model.compute_loss(x, y, outputs, training=False)
            grads = torch.autograd.grad(loss, [v.value for v in model.trainable_variables])
            return numpy(outputs), numpy(loss)[0], numpy(grads)

    return run


def _run_spec(spec_path, start_from, batch_size, steps):
    """What this backend computes for one spec, as a flat dict of arrays.

    `start_from(model)` sets the weights to compute from, after the initial ones are recorded.
    """
    import keras

    from keras_seq.builder import OVERRIDES, build, resolve
    from keras_seq.spec import load_spec

    spec = _without_dropout(load_spec(spec_path))
    overrides = {
        keyword: _AUTO_SIZES[keyword]
        for keyword, (section, field) in OVERRIDES.items()
        if getattr(getattr(spec, section), field) == "auto"
    }
    spec = resolve(spec, **overrides)
    model = build(spec)
    results = {}
    if spec.seed is not None:  # without one, each process draws its own weights, by design
        results.update({f"initial weights/{i}": w for i, w in enumerate(model.get_weights())})
    start_from(model)
    x, y = _batch(spec, model, batch_size)
    if model.loss is None:
        outputs = keras.tree.flatten(model(x, training=False))
        results.update(
            {f"outputs/{i}": keras.ops.convert_to_numpy(o) for i, o in enumerate(outputs)}
        )
        return results
    forward_and_backward = _forward_and_backward(model)
    outputs, loss, grads = forward_and_backward(x, y)
    results.update({f"outputs/{i}": o for i, o in enumerate(outputs)})
    results["loss/0"] = loss
    results.update({f"gradients/{i}": g for i, g in enumerate(grads)})
    for _ in range(steps):
        model.train_on_batch(x, y)
    results["loss after training/0"] = forward_and_backward(x, y)[1]
    results.update({f"weights after training/{i}": w for i, w in enumerate(model.get_weights())})
    return results


def _run_job(workdir):
    """Every spec of the job on this process's backend; a failing spec is recorded, not fatal."""
    import keras

    with open(os.path.join(workdir, "job.json")) as file:
        job = json.load(file)
    backend = keras.backend.backend()
    for index, weights in enumerate(job["specs"]):
        stem = os.path.join(workdir, f"{backend}-{index}")
        start_from = functools.partial(_start_from, workdir, job["reference"], index, weights)
        try:
            results = _run_spec(
                os.path.join(workdir, f"spec-{index}.yaml"),
                start_from,
                job["batch_size"],
                job["steps"],
            )
            np.savez(stem + ".npz", **results)
        except Exception:  # noqa: BLE001 -- any failure fails this spec's section, not the rest
            with open(stem + ".error", "w") as file:
                file.write(traceback.format_exc(limit=-3))
        finally:
            keras.utils.clear_session()


def _start_from(workdir, reference, index, weights, model):
    """Loads `weights`, or shares the reference backend's initial weights for spec `index`."""
    import keras

    shared = os.path.join(workdir, f"weights-{index}.npz")
    if weights:
        model.load_weights(weights)
    elif keras.backend.backend() == reference:
        np.savez(shared + ".partial.npz", *model.get_weights())
        os.replace(shared + ".partial.npz", shared)  # never seen half written
    elif _wait_for(shared, os.path.join(workdir, f"{reference}-{index}.error")):
        with np.load(shared) as data:
            model.set_weights([data[f"arr_{i}"] for i in range(len(data.files))])


def _wait_for(path, failure):
    """Whether `path` appeared (True) or `failure` did (False)."""
    while not os.path.exists(path):
        if os.path.exists(failure):
            return False
        time.sleep(0.05)
    return True


if __name__ == "__main__":
    _run_job(sys.argv[1])
