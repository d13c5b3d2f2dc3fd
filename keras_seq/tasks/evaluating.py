"""Keras' `evaluate` figures and the model's outputs from one pass over the batches.

A task scores labelled records twice over: Keras' loss and compiled metrics, and its own
figures and tables from the decoded predictions (entity F1, confusion matrices). Keras'
`evaluate` runs the model and keeps only the figures, so a second pass (`predict`) used to run
it again on the same batches. Here `evaluate`'s own compiled step also hands each batch's
outputs to a callback (`keras_seq.Model.outputs_in_logs`), so the model runs once per batch
and the figures are Keras' own.
"""

import keras

from keras_seq.model import OUTPUTS_KEY


def score_and_predict(model, *data, callbacks=(), **options):
    """`(figures, outputs)`: `model.evaluate(*data, **options)`'s figures and the model's
    outputs on each of its batches, from the one pass `evaluate` makes.

    Args:
        model: a compiled `keras_seq.Model`.
        *data, **options: what `keras.Model.evaluate` takes (arrays with `batch_size`, or a
            `keras.utils.PyDataset` or `tf.data.Dataset` of batches); `return_dict` and
            `verbose` are set here.
        callbacks: Keras callbacks for the pass (e.g. `keras_seq.progress.BatchLines`).

    Returns:
        `figures`: `{name: float}`, what `model.evaluate(..., return_dict=True)` gives;
        `outputs`: each batch's outputs (NumPy arrays, as `predict_on_batch` gives them), in
        the batches' order.

    Example:

    >>> import numpy as np, keras, keras_seq
    >>> from keras_seq.tasks.evaluating import score_and_predict
    >>> inputs = keras.Input((3,))
    >>> model = keras_seq.Model(inputs, keras.layers.Dense(1)(inputs))
    >>> model.compile(loss="mse", metrics=["mae"])
    >>> x, y = np.ones((4, 3), "float32"), np.zeros((4, 1), "float32")
    >>> figures, outputs = score_and_predict(model, x, y, batch_size=3)
    >>> expected = model.evaluate(x, y, batch_size=3, verbose=0, return_dict=True)
    >>> figures == expected, [len(o) for o in outputs]
    (True, [3, 1])
    """
    collect = _Outputs()
    model.outputs_in_logs, model.test_function = True, None  # traced again with the outputs
    try:
        figures = model.evaluate(
            *data, **options, callbacks=[*callbacks, collect], verbose=0, return_dict=True
        )
    finally:
        model.outputs_in_logs, model.test_function = False, None
    figures.pop(OUTPUTS_KEY, None)
    return {name: float(value) for name, value in figures.items()}, collect.batches


class _Outputs(keras.callbacks.Callback):
    """Keeps the outputs each evaluation step returns in its logs, as NumPy arrays."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def on_test_batch_end(self, batch, logs=None):
        outputs = keras.tree.flatten(logs[OUTPUTS_KEY])
        outputs = [keras.ops.convert_to_numpy(output) for output in outputs]
        self.batches.append(outputs[0] if len(outputs) == 1 else outputs)
