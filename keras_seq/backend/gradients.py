"""Per-backend gradients: of a model's loss on one batch (dropout off), and of any function
of one input tensor."""


def forward_and_backward(model):
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


def input_gradient(function, point):
    """`(function(point), d sum(function(point)) / d point)`, both as NumPy arrays.

    `function` maps a float tensor to a tensor with Keras ops (a model's output, weighted);
    `point` is a NumPy array. The sum's gradient is each row's own gradient whenever the rows
    of `function`'s output depend only on the same rows of `point` (a model at inference).

    >>> import numpy as np
    >>> from keras import ops
    >>> value, grad = input_gradient(lambda p: ops.sum(p * p, axis=1), np.array([[1.0, 2.0]]))
    >>> value.tolist(), grad.tolist()
    ([5.0], [[2.0, 4.0]])
    """
    import keras

    numpy = keras.ops.convert_to_numpy
    backend = keras.backend.backend()
    point = keras.ops.convert_to_tensor(point, dtype="float32")
    if backend == "jax":
        import jax

        def total(p):
            value = function(p)
            return keras.ops.sum(value), value

        # Compiled whole: JAX otherwise compiles each scan op anew at every call.
        (_, value), grad = jax.jit(jax.value_and_grad(total, has_aux=True))(point)
        return numpy(value), numpy(grad)
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(point)
            value = function(point)
            total = tf.reduce_sum(value)
        return numpy(value), numpy(tape.gradient(total, point))
    import torch

    point = point.detach().requires_grad_(True)
    with torch.enable_grad():
        value = function(point)
        (grad,) = torch.autograd.grad(value.sum(), [point])
    return numpy(value.detach()), numpy(grad)
