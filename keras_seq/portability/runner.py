"""Run specs' models on TensorFlow, JAX and PyTorch and compare the numbers.

Keras picks its backend once, at import, so each backend runs in its own process, and one
process handles every spec of a call: `python -m keras_seq.portability.worker WORKDIR` with
`KERAS_BACKEND` set. WORKDIR holds `job.json` (the specs, weights, batch size and steps) and the
specs as YAML; the processes exchange weights and results through `.npz` files there: for each
spec the reference backend writes the weights every backend then uses (unless the job names a
weights file), and each backend writes what it computed, or what went wrong.
"""

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from keras_seq.portability.report import BACKENDS, TOLERANCES, BackendReport, SpecComparison

# The backend processes run at once on a tiny batch: one thread each (unless the caller's
# environment says otherwise) keeps them from fighting over the cores (docs/speed.md).
_ONE_THREAD = {
    "OMP_NUM_THREADS": "1",  # PyTorch
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}
# A backend process that has not finished by then is stopped and reported.
TIMEOUT_SECONDS = 900


def check_backends(
    specs, weights=None, backends=BACKENDS, batch_size=4, steps=3, timeout=TIMEOUT_SECONDS
):
    """Runs specs' models on every installed backend and compares the results.

    One process per backend (Keras imported once) handles every spec: it builds each model,
    records its initial weights, then loads the same weights (the spec's `weights` file, or
    the reference backend's initial ones) and computes on the same fixed batch: the outputs,
    the loss, its gradients, and the loss and weights after `steps` training steps. Dropout is
    switched off: its masks come from each backend's own random generator, so with it the
    numbers would differ by design.

    Args:
        specs: a spec (a file path, YAML text, a dict or a `keras_seq.Spec`) or a list of them.
            `auto` sizes get small stand-ins (vocab_size 50, classes 5, target_vocab_size 40,
            char_vocab_size 30); a time-series forecaster with `input.series_embedding` reads
            its training file for the number of series, as `keras_seq.build` does.
        weights: optional path to a `.weights.h5` file (`model.save_weights`) to load instead,
            for one spec; for a list of specs, a list with a path (or None) per spec.
        backends: the backends to compare; the first installed one is the reference.
        batch_size: int. Sequences in the fixed batch (post-padded, lengths varied).
        steps: int. Training steps on that batch before the last comparison.
        timeout: float. Seconds the backend processes may take together before they are
            stopped (a RuntimeError then says which one did not finish).

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
    weights = _weights_per_spec(weights, len(sources))
    loaded = [load_spec(source) for source in sources]  # a bad spec fails here, once
    labels = _labels(sources, loaded)
    skipped = {b: "not installed" for b in backends if importlib.util.find_spec(b) is None}
    running = [b for b in backends if b not in skipped]
    if not running:
        raise RuntimeError(f"None of the backends {list(backends)} is installed.")
    with tempfile.TemporaryDirectory(prefix="keras-seq-check-") as workdir:
        job = {"batch_size": batch_size, "steps": steps, "reference": running[0]}
        _write_job(workdir, job, loaded, weights)
        _run_processes(running, workdir, timeout)
        sections = {label: _compare(workdir, index, running) for index, label in enumerate(labels)}
    notes = [
        f"batch: {batch_size} sequences, {steps} training steps; dropout off",
        "initial weights: n/a for a spec without a seed",
    ]
    return BackendReport(running[0], sections, dict(TOLERANCES), skipped, notes)


def _weights_per_spec(weights, count):
    """`weights` (None, one path, or a list) as a list of one path (or None) per spec."""
    if weights is None or isinstance(weights, (str, os.PathLike)):
        if weights is not None and count != 1:
            raise ValueError(
                f"weights names one file but there are {count} specs: pass a list "
                "with one weights path (or None) per spec."
            )
        weights = [weights] * count
    if len(weights) != count:
        raise ValueError(f"Got {len(weights)} weights paths for {count} specs.")
    return weights


def _write_job(workdir, job, specs, weights):
    """Writes `spec-<index>.yaml` per spec and `job.json` (`job` plus the weights paths) into
    `workdir`, what each backend's worker process reads."""
    job = {**job, "specs": []}
    for index, (spec, path) in enumerate(zip(specs, weights)):
        with open(os.path.join(workdir, f"spec-{index}.yaml"), "w") as file:
            file.write(spec.to_yaml())
        job["specs"].append(os.path.abspath(path) if path else None)
    with open(os.path.join(workdir, "job.json"), "w") as file:
        json.dump(job, file)


def _labels(sources, loaded):
    """Each spec's section title: its path if it came from a file, else its name (unique)."""
    labels = []
    for source, spec in zip(sources, loaded):
        path = isinstance(source, (str, os.PathLike)) and os.path.isfile(source)
        label = os.fspath(source) if path else spec.name
        labels.append(label if label not in labels else f"{label} ({len(labels) + 1})")
    return labels


def _run_processes(running, workdir, timeout):
    """All backends at once; the others wait, spec by spec, for the reference's weights."""
    with contextlib.ExitStack() as stack:
        processes = []
        for backend in running:
            log = stack.enter_context(open(os.path.join(workdir, f"{backend}.log"), "w+"))
            command = [sys.executable, "-m", "keras_seq.portability.worker", workdir]
            env = {**_ONE_THREAD, **os.environ, "KERAS_BACKEND": backend}
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            stack.callback(_stop, process)  # if the reference dies, the others would wait
            processes.append((backend, process, log))
        deadline = time.monotonic() + timeout
        for backend, process, log in processes:
            try:
                failed = process.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise RuntimeError(
                    f"The {backend} run did not finish within {timeout:.0f} s and was stopped; "
                    "check fewer specs at a time, or pass a larger timeout."
                ) from None
            if failed:
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
