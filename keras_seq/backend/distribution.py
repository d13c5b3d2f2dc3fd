"""Data-parallel training on each backend's own engine, from a spec's `training.distribution`.

- JAX: `keras.distribution.DataParallel` over the first N of `keras.distribution.list_devices()`:
  the variables are replicated, each batch is split along its first axis, XLA all-reduces the
  gradients.
- TensorFlow: `tf.distribute.MirroredStrategy` over the first N logical GPUs (or CPUs): one
  replica per device; Keras divides each replica's loss by the number of replicas, so the summed
  gradients are those of the global batch.
- PyTorch: refused. Keras' distribution API has JAX (and a TensorFlow DTensor prototype) behind
  it, no PyTorch implementation, and Keras' torch trainer has no `torch.distributed` path.

Either way `batch_size` stays the global batch: on N devices each takes `batch_size / N`
sequences per step, and one step computes the same update as on one device.

A batch that N devices cannot share equally (the last of an epoch, of a validation or test
split) is not split: on JAX it is placed whole on every device (replicated), so each computes
the step one device would, and the result equals one device's. XLA compiles that batch shape
once more; nothing is dropped or padded.

On a machine without several accelerators, virtual CPU devices show (and test) the mechanics:
JAX reads `XLA_FLAGS=--xla_force_host_platform_device_count=N` when it is imported;
`virtual_cpu_devices(N)` splits TensorFlow's CPU before its first operation.
"""

import contextlib
import logging

import keras

from keras_seq.spec.errors import Problem, SpecError

BACKENDS = ("jax", "tensorflow")
# MirroredStrategy averages each replica's loss (a mean over its own real steps) with equal
# weight, so replicas holding different numbers of real steps move the weights differently
# from one device; JAX computes the loss over the whole batch.
TENSORFLOW_REPLICA_WEIGHTING = (
    "data_parallel on TensorFlow averages the devices' losses with equal weight: when their "
    "shares of a batch hold different numbers of real (unpadded) steps, training differs "
    "from one device's. For results equal to one device, use KERAS_BACKEND=jax"
)


def device_count(distribution):
    """How many devices a `training.distribution` section asks for (1 for strategy none)."""
    if distribution is None or distribution.strategy == "none":
        return 1
    available = len(_devices())
    wanted = available if distribution.devices == "auto" else int(distribution.devices)
    if wanted > available:
        raise _refusal(
            "devices",
            f"{wanted} devices asked for, the {keras.backend.backend()} backend has {available} "
            f"({', '.join(_devices())})",
            f"devices: auto, or at most {available}",
        )
    return wanted


@contextlib.contextmanager
def scope(training):
    """The context in which to build, compile and fit a model under `training.distribution`.

    Args:
        training: a spec's `training` section (`batch_size` and `distribution` are read).

    Raises:
        keras_seq.SpecError: data_parallel on PyTorch, more devices than the backend has, or a
            `batch_size` that the devices cannot share equally.
    """
    distribution = getattr(training, "distribution", None)
    if distribution is None or distribution.strategy == "none":
        yield None
        return
    backend = keras.backend.backend()
    if backend not in BACKENDS:
        raise _refusal(
            "strategy",
            f"data_parallel is not available on the {backend} backend: Keras' distribution "
            "API runs on JAX, and keras-seq uses tf.distribute on TensorFlow",
            "strategy: none, or KERAS_BACKEND=jax or tensorflow",
        )
    count = device_count(distribution)
    if training.batch_size % count:
        raise SpecError(
            [
                Problem(
                    "training.batch_size",
                    f"{training.batch_size} sequences cannot be split equally over {count} devices",
                    found=training.batch_size,
                    allowed=f"a multiple of {count}",
                )
            ]
        )
    devices = _devices()[:count]
    if backend == "jax":
        engine = keras.distribution.DataParallel(devices=devices)
        with engine.scope(), _uneven_batches_replicated(engine, count):
            yield engine
        return
    import tensorflow as tf

    logging.getLogger(__name__).warning(TENSORFLOW_REPLICA_WEIGHTING)
    engine = tf.distribute.MirroredStrategy(devices)
    with engine.scope():
        yield engine


@contextlib.contextmanager
def _uneven_batches_replicated(engine, count):
    """Within the block, JAX places a batch whose first axis `count` devices cannot share
    whole on each device (a replicated sharding) instead of raising `IndivisibleError`.

    Keras' JAX trainer shards every batch through its module function `_distribute_data`
    (fit, evaluate and predict alike, with the layout of the first batch); that function is
    wrapped for the block's duration and restored after it.
    """
    import jax
    from keras.src.backend.jax import trainer

    shard = trainer._distribute_data
    whole = jax.sharding.NamedSharding(
        engine.device_mesh.backend_mesh, jax.sharding.PartitionSpec()
    )

    def uneven(leaf):
        shape = getattr(leaf, "shape", ())
        return len(shape) > 0 and shape[0] % count != 0

    def distribute(data, layouts=None):
        if not any(uneven(leaf) for leaf in keras.tree.flatten(data)):
            return shard(data, layouts)
        return keras.tree.map_structure(
            lambda leaf: None if leaf is None else jax.device_put(leaf, whole), data
        )

    trainer._distribute_data = distribute
    try:
        yield
    finally:
        trainer._distribute_data = shard


def virtual_cpu_devices(count):
    """Splits TensorFlow's CPU into `count` logical devices (before TensorFlow runs anything).

    On JAX set `XLA_FLAGS=--xla_force_host_platform_device_count=N` before JAX is imported
    instead; on other backends this does nothing.
    """
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
    )


def _devices():
    backend = keras.backend.backend()
    if backend == "jax":
        return keras.distribution.list_devices()
    if backend == "tensorflow":
        import tensorflow as tf

        found = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return [device.name for device in found]
    return []


def _refusal(field, message, allowed):
    return SpecError([Problem(f"training.distribution.{field}", message, allowed=allowed)])
