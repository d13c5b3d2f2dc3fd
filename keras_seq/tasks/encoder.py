"""`Encoder`: the recurrent encoder alone, a feature extractor (`head.type: none`)."""

from keras_seq.tasks import blocks
from keras_seq.tasks.inputs import front
from keras_seq.tasks.task import Task, register_task


@register_task("none")
class Encoder(Task):
    """Returns the encoder's per-step outputs; it has no targets, loss or training data.

    Its input size must be given in the spec (`input.vocab_size` for tokens). `predict`
    takes token id arrays or feature arrays and returns the per-step outputs.

    Examples:

    >>> import numpy as np, keras_seq
    >>> task = keras_seq.tasks.Task.for_spec('''
    ... input: {kind: features, dim: 3}
    ... encoder: {cell: lstm, units: 4, direction: bidirectional}
    ... head: {type: none}
    ... ''')
    >>> model = task.build_model()
    >>> task.predict(np.ones((2, 5, 3), "float32")).shape
    (2, 5, 8)
    """

    sizes = {"vocab": "input.vocab_size"}
    graph_outputs = "the encoder's per-step outputs (batch, time, units)"

    def build_layers(self):
        inputs, sequence = front(self.spec)
        return inputs, blocks.recurrent(self.spec, self.spec.encoder, "encoder")(sequence)

    def encode_inputs(self, inputs):
        return inputs

    def decode(self, outputs, inputs):
        return outputs
