"""Per-backend loss, outputs and gradients of a model on one batch, dropout off."""


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
