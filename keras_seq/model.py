"""A `keras.Model` whose saved files load on every backend.

On PyTorch, Keras swaps each optimizer for a torch-specific subclass
(`keras.src.backend.torch.optimizers.torch_adam.Adam` for `keras.optimizers.Adam`) and
`model.save` records that private class in the file's compile config. Loading the file on
TensorFlow or JAX then imports torch and builds a torch optimizer, and the first `fit` fails.
`keras_seq.Model` records the public class (`keras.optimizers.Adam`) instead, which every
backend maps to its own implementation when it compiles the loaded model.

Keras also records `jit_compile` as the saving backend resolved it ("auto" becomes True on JAX,
False on PyTorch and on CPU-only TensorFlow), which forces XLA on a backend that would not have
chosen it. `keras_seq.Model` records "auto", leaving the choice to the loading backend.

Keras skips padding in a metric through the mask it attaches to the predictions. JAX's train step
hands `compute_metrics` predictions that have passed through `jax.value_and_grad`, which drops
that mask, so `fit`'s metrics counted padding on JAX only. `keras_seq.Model` restores each
output's mask from the inputs, with the mask-computing part of its own graph.

On PyTorch, Keras' loss masking rescaled the sample weights in place (`*=` on a torch tensor), so
`evaluate`'s weighted metrics drifted from the true per-step values; `keras_seq.Model` hands the
loss a copy.

A loss that needs a layer's own weights (a CRF's negative log-likelihood needs its transition
scores) cannot be a compiled Keras loss: those see only targets and predictions. A layer that
has a `sequence_loss(y_true, y_pred, mask, sample_weight)` method and produces the model's
output supplies the loss for it instead (`keras_seq.layers.CRF`). `compute_loss` runs where
every backend maps the layer's weights to the values being differentiated (JAX's stateless
scope), so its gradients reach them.

Under `tf.distribute` (data_parallel on TensorFlow) each replica's loss is divided by the real
steps of the whole batch, not of its own share (`keras_seq.backend.distribution.one_device_loss`),
so the summed gradients and the logged loss are one device's.
"""

import functools

import keras

from keras_seq.api import keras_seq_export
from keras_seq.backend.distribution import one_device_loss

# Keras keeps a tensor's mask in an attribute (for JAX arrays, in a table); these read/write it.
from keras_seq.backend.quirks import get_keras_mask, register_nested_models, set_keras_mask

_BACKEND_MODULES = "keras.src.backend."
OUTPUTS_KEY = "keras_seq_outputs"


def _backend_neutral(config):
    """Renames backend-specific optimizer classes in a serialized config to public ones."""
    if isinstance(config, dict):
        config = {key: _backend_neutral(value) for key, value in config.items()}
        module, class_name = config.get("module"), config.get("class_name")
        if (
            isinstance(module, str)
            and module.startswith(_BACKEND_MODULES)
            and isinstance(getattr(keras.optimizers, str(class_name), None), type)
        ):
            config.update(module="keras.optimizers", registered_name=None)
    elif isinstance(config, list):
        config = [_backend_neutral(value) for value in config]
    return config


@keras_seq_export("keras_seq.Model")
class Model(keras.Model):
    """A `keras.Model` whose `.keras` files load and keep training on any backend.

    Use it exactly like `keras.Model` (functional: `keras_seq.Model(inputs, outputs)`). The one
    difference: its compile config is backend-neutral. It names the optimizer by its public Keras
    class, so a compiled model saved with `model.save` on PyTorch loads with
    `keras.saving.load_model` on TensorFlow or JAX (and the other way round) with its optimizer
    state, needing only `import keras_seq`; and it records `jit_compile="auto"`, so each backend
    decides about XLA for itself (`model.compile` again to choose otherwise after loading).
    Its compiled metrics skip padding (masked steps) during `fit` on every backend, as they
    do in `evaluate` (Keras alone counts padding in `fit`'s metrics on JAX). When its output
    comes from a layer with a `sequence_loss` method (`keras_seq.layers.CRF`), that method is
    the loss: compile with `loss=None`.

    Examples:

    >>> import keras, keras_seq
    >>> inputs = keras.Input((None, 3))
    >>> encoded = keras_seq.Recurrent("gru", 4, return_sequences=False)(inputs)
    >>> outputs = keras.layers.Dense(2)(encoded)
    >>> model = keras_seq.Model(inputs, outputs)
    >>> model.compile(optimizer="adam", loss="mse")
    >>> model.get_compile_config()["optimizer"]["module"]
    'keras.optimizers'
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        register_nested_models(self)

    #: The task the model was built for (`{"spec": ..., "state": ...}`, see `keras_seq.tasks`),
    #: saved in the `.keras` file's config so `keras_seq.load` can rebuild the task.
    task_config = None

    def get_config(self):
        config = super().get_config()
        if self.task_config is not None:
            config["keras_seq_task"] = self.task_config
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        task_config = config.pop("keras_seq_task", None)
        model = super().from_config(config, custom_objects=custom_objects)
        model.task_config = task_config
        return model

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # Keras' loss masking scales `sample_weight` with `*=`, which on PyTorch changes the
        # caller's tensor in place: the metrics computed next then saw weights rescaled per
        # batch. The loss gets its own copy.
        if sample_weight is not None:
            sample_weight = keras.tree.map_structure(keras.ops.copy, sample_weight)
        if self.loss_layer is None and self._compile_loss is None:
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        if self.loss_layer is None:
            loss = self._compile_loss(y, y_pred, sample_weight)
            counted = get_keras_mask(keras.tree.flatten(y_pred)[0])  # what Keras' loss divides by
        else:
            loss, counted = self._layer_loss(x, y, y_pred, sample_weight)
        loss = one_device_loss(loss, x, counted, replica_scaled=self.loss_layer is None)
        # Plus regularization losses, as Keras adds them.
        return sum(map(self._aggregate_additional_loss, self.losses), loss)

    def _layer_loss(self, x, y, y_pred, sample_weight):
        """The loss layer's loss, and the steps it divides by (see `CRF.sequence_loss`)."""
        if self._compile_loss is not None:
            raise ValueError(
                f"The output of this model comes from {type(self.loss_layer).__name__} layer "
                f"{self.loss_layer.name!r}, which computes the loss itself; compile with "
                "loss=None."
            )
        mask = get_keras_mask(y_pred)
        if mask is None and self._output_masks is not None:
            mask = keras.tree.flatten(self._output_masks[1](x))[0]
        loss = self.loss_layer.sequence_loss(y, y_pred, mask, sample_weight)
        counted = keras.ops.ones(keras.ops.shape(y_pred)[:2], "bool") if mask is None else mask
        if sample_weight is not None and len(sample_weight.shape) == 2:
            counted = keras.ops.logical_and(counted, sample_weight > 0)
        return loss, counted

    @functools.cached_property
    def loss_layer(self):
        """The layer that supplies the loss (it has `sequence_loss` and produces the model's
        only output, e.g. a `keras_seq.layers.CRF`), or None."""
        outputs = getattr(self, "outputs", None) or []
        if len(outputs) != 1:
            return None
        layer = outputs[0]._keras_history.operation
        return layer if callable(getattr(layer, "sequence_loss", None)) else None

    def get_compile_config(self):
        config = _backend_neutral(super().get_compile_config())
        if config:
            config["jit_compile"] = "auto"
        return config

    @functools.cached_property
    def _output_masks(self):
        """(output indices, a model from the inputs to those outputs' masks), or None."""
        masks = [get_keras_mask(output) for output in getattr(self, "outputs", None) or []]
        indices = [i for i, mask in enumerate(masks) if mask is not None]
        if not indices:
            return None
        return indices, keras.Model(self.inputs, [masks[i] for i in indices])

    #: When true, `compute_metrics` (and so each compiled evaluation step) also returns the
    #: batch's outputs in its logs, under `OUTPUTS_KEY` (`keras_seq.tasks.evaluating`).
    outputs_in_logs = False

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        self.restore_output_masks(x, y_pred)
        logs = super().compute_metrics(x, y, y_pred, sample_weight)
        return {**logs, OUTPUTS_KEY: y_pred} if self.outputs_in_logs else logs

    def restore_output_masks(self, x, y_pred):
        """Attaches to the outputs `y_pred` (tensors) the masks the model gives them for the
        inputs `x`, where they lost them (a JAX gradient, a `predict_on_batch` result)."""
        outputs = keras.tree.flatten(y_pred)
        if self._output_masks is not None:
            indices, mask_model = self._output_masks
            if any(get_keras_mask(outputs[i]) is None for i in indices):
                for i, mask in zip(indices, keras.tree.flatten(mask_model(x))):
                    set_keras_mask(outputs[i], mask)
