"""What runs inside each backend's process of a portability check.

`python -m keras_seq.portability.worker WORKDIR` with `KERAS_BACKEND` set: every spec of the
job in WORKDIR on this process's backend, each result (or error) written beside it.
"""

import functools
import json
import os
import sys
import time
import traceback

import numpy as np

# Sizes for the spec's `auto` fields (they would come from training data).
_AUTO_SIZES = {"vocab_size": 50, "classes": 5, "target_vocab_size": 40, "char_vocab_size": 30}


def _without_dropout(spec):
    """The spec with every dropout rate at 0 (their masks come from each backend's own
    random generator, so with them the numbers would differ by design)."""
    rates = (
        "input.word_dropout",
        "input.dropout",
        "encoder.dropout",
        "encoder.recurrent_dropout",
        "head.dropout",
    )
    changes = {path: 0.0 for path in rates if spec.get(path)}
    return spec.replace(changes) if changes else spec


def _without_vectors(spec):
    """`(spec without input.vectors, whether its word embedding trains)`; the second is None
    without vectors. A vectors file only sets the embedding's starting values, which every
    backend takes from the reference anyway, and reading it needs a vocabulary learned from
    the training data, which the check does not read."""
    vectors = spec.input.vectors
    if vectors is None:
        return spec, None
    return spec.replace({"input.vectors": None}), vectors.trainable


def _batch(task, model, batch_size):
    """A fixed batch for the model's inputs and targets, the same in every process.

    Each input is post-padded to lengths spread from its full length down to a third of it:
    token ids from `input.vocab_size` (`decoder_tokens` from `head.target_vocab_size`), float
    features, with `input.chars` the character ids of each real word (from
    `input.chars.char_vocab_size`, 1 to `_CHARS_PER_WORD` of them; padded words have none), and
    with `input.shape_features` random 0 / 1 word shapes (0 for padded words).
    The targets have the task's `target_shape`.
    """
    import keras

    spec = task.spec
    rng = np.random.default_rng(0)
    arrays = {}
    for tensor in model.inputs:  # one draw order, whatever the inputs' structure
        time = tensor.shape[1] or 8
        lengths = np.linspace(time, max(1, time // 3), batch_size).round().astype(int)
        padding = np.arange(time)[None, :] >= lengths[:, None]
        if tensor.name == "chars":
            values = _char_ids(spec.input.chars, padding, rng)
        elif tensor.name == "shapes":  # binary word shapes, none at padding
            values = rng.integers(0, 2, size=(batch_size, *tensor.shape[1:]))
            values[padding] = 0
        elif tensor.name == "series":  # a time-series forecaster's series ids
            count = model.get_layer("series_embedding").input_dim
            values = rng.integers(0, count, size=(batch_size, time))
        elif "int" in str(tensor.dtype):
            target = tensor.name == "decoder_tokens"
            vocab = spec.get("head.target_vocab_size" if target else "input.vocab_size")
            values = rng.integers(2, vocab, size=(batch_size, time))
            values[padding] = 0
        else:
            values = rng.normal(size=(batch_size, *tensor.shape[1:]))
            values[padding] = spec.input.mask_value or 0.0
        arrays[tensor.name] = values.astype(str(tensor.dtype))
    shape = task.target_shape([d or 8 for d in model.outputs[0].shape[1:]])
    if task.integer_targets:
        targets = rng.integers(0, shape[-1], size=(batch_size, *shape[:-1])).astype("int32")
    else:
        targets = rng.normal(size=(batch_size, *shape)).astype("float32")
    return keras.tree.map_structure(lambda tensor: arrays[tensor.name], model.input), targets


# Characters per word in the fixed batch, at most (input.chars.max_word_length may be less).
_CHARS_PER_WORD = 6


def _char_ids(chars, word_padding, rng):
    """(batch, words, characters) ids: 1 to `_CHARS_PER_WORD` per real word, post-padded."""
    width = min(_CHARS_PER_WORD, chars.max_word_length)
    lengths = rng.integers(1, width + 1, size=word_padding.shape)
    lengths[word_padding] = 0
    values = rng.integers(2, chars.char_vocab_size, size=(*word_padding.shape, width))
    values[np.arange(width) >= lengths[..., None]] = 0
    return values


def _run_spec(spec_path, start_from, batch_size, steps):
    """What this backend computes for one spec, as a flat dict of arrays.

    `start_from(model)` sets the weights to compute from, after the initial ones are recorded.
    """
    import keras

    from keras_seq.backend import gradients
    from keras_seq.spec import load_spec
    from keras_seq.tasks.building import resolved_task

    spec, embedding_trains = _without_vectors(_without_dropout(load_spec(spec_path)))
    task = resolved_task(spec, **_AUTO_SIZES)
    spec = task.spec
    model = task.build_model()
    if embedding_trains is not None:
        model.get_layer("embedding").trainable = embedding_trains
    results = {}
    if spec.seed is not None:  # without one, each process draws its own weights, by design
        results.update({f"initial weights/{i}": w for i, w in enumerate(model.get_weights())})
    start_from(model)
    x, y = _batch(task, model, batch_size)
    if model.loss is None and model.loss_layer is None:  # no loss: compare outputs only
        outputs = keras.tree.flatten(model(x, training=False))
        results.update(
            {f"outputs/{i}": keras.ops.convert_to_numpy(o) for i, o in enumerate(outputs)}
        )
        return results
    forward_and_backward = gradients.forward_and_backward(model)
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
