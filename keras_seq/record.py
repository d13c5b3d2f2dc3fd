"""A run's record: on which backend, library versions and machine it was trained, when, how
long it took and how fast, so that two runs' numbers can be compared knowing what made them.

`metrics.json` holds it as its `run` section, `report.html` as its header, and `keras-seq
train` prints `line(record)` just before its summary line.

Example:

>>> from keras_seq import record
>>> found = record.make({"loss": [0.5, 0.4], "seconds": [2.0, 2.0],
...                      "words_per_second": [100.0, 300.0]}, started=0.0, ended=5.0)
>>> found["words_per_second"], found["wall_seconds"]
(200.0, 5.0)
>>> set(found["versions"]) == {"keras-seq", "keras", found["backend"], "python"}
True
"""

import datetime
import importlib
import importlib.metadata
import os
import platform

import keras

#: The library behind each Keras backend (its `__version__` is recorded).
BACKEND_LIBRARIES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "numpy": "numpy"}
#: The training speeds `keras_seq.progress.EpochSpeed` logs.
SPEEDS = ("words_per_second", "examples_per_second")


def make(history, started, ended):
    """The record of a run trained from `started` to `ended` (`time.time()` seconds).

    Args:
        history: dict. The run's history (`seconds` and `<unit>_per_second` per epoch).
        started, ended: float. Seconds since the epoch, when the run began and was scored.

    Returns:
        dict, JSON-able: `backend`, `versions` (`keras-seq`, `keras`, the backend's library,
        `python`), `cpu`, `gpu` (names, or None), `date` (ISO 8601, UTC), `wall_seconds` and
        the training speed over all epochs, `words_per_second` or `examples_per_second`
        (units per epoch summed, over the epochs' seconds summed).
    """
    found = {
        "backend": keras.backend.backend(),
        "versions": versions(),
        "cpu": cpu(),
        "gpu": gpus(),
        "date": datetime.datetime.fromtimestamp(started, datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "wall_seconds": round(ended - started, 3),
    }
    seconds = history.get("seconds") or []
    for name in SPEEDS:
        if name in history and sum(seconds) > 0:
            units = sum(speed * time for speed, time in zip(history[name], seconds))
            found[name] = units / sum(seconds)
    return found


def versions():
    """`{"keras-seq", "keras", <backend library>, "python"}` -> version text."""
    backend = keras.backend.backend()
    library = importlib.import_module(BACKEND_LIBRARIES.get(backend, backend))
    try:
        own = importlib.metadata.version("keras-seq")
    except importlib.metadata.PackageNotFoundError:
        own = "not installed"
    return {
        "keras-seq": own,
        "keras": keras.__version__,
        library.__name__: library.__version__,
        "python": platform.python_version(),
    }


def cpu():
    """The processor's name and the cores this process may use, e.g. `Intel Xeon (2 cores)`."""
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            names = [
                line.split(":", 1)[1].strip() for line in file if line.startswith("model name")
            ]
        name = names[0] if names else name
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{name} ({cores} core{'' if cores == 1 else 's'})"


def gpus():
    """The names of the GPUs the backend sees, or None."""
    backend = keras.backend.backend()
    names = []
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    elif backend == "jax":
        import jax

        names = [device.device_kind for device in jax.devices() if device.platform == "gpu"]
    elif backend == "tensorflow":
        import tensorflow as tf

        names = [
            tf.config.experimental.get_device_details(device).get("device_name", device.name)
            for device in tf.config.list_physical_devices("GPU")
        ]
    return names or None


def line(found):
    """The record in one line, as `keras-seq train` prints it before its summary.

    >>> from keras_seq.record import line
    >>> print(line({"backend": "jax", "versions": {"keras": "3.13.2", "jax": "0.7.0"},
    ...     "cpu": "Xeon (2 cores)", "gpu": None, "date": "2026-12-07T01:00:00+00:00",
    ...     "wall_seconds": 125.0, "words_per_second": 1234.5}))  # doctest: +NORMALIZE_WHITESPACE
    trained on jax (keras 3.13.2, jax 0.7.0), Xeon (2 cores), no GPU,
    2026-12-07T01:00:00+00:00, wall time 2:05, 1,234 words per second
    """
    from keras_seq.progress import duration

    versions_text = ", ".join(f"{name} {version}" for name, version in found["versions"].items())
    parts = [
        f"trained on {found['backend']} ({versions_text})",
        found["cpu"],
        f"GPU {', '.join(found['gpu'])}" if found.get("gpu") else "no GPU",
        found["date"],
        f"wall time {duration(found['wall_seconds'])}",
    ]
    parts += [f"{found[name]:,.0f} {name.replace('_', ' ')}" for name in SPEEDS if name in found]
    return ", ".join(parts)
