"""Data-parallel training on each backend's own engine, from a spec's `training.distribution`.

- JAX: `keras.distribution.DataParallel` over the first N of `keras.distribution.list_devices()`:
  the variables are replicated, each batch is split along its first axis, XLA all-reduces the
  gradients.
- TensorFlow: `tf.distribute.MirroredStrategy` over the first N logical GPUs (or CPUs): one
  replica per device, each given its share of every batch; the replicas' gradients are summed.
- PyTorch: refused. Keras' distribution API has JAX (and a TensorFlow DTensor prototype) behind
  it, no PyTorch implementation, and Keras' torch trainer has no `torch.distributed` path.

Either way `batch_size` stays the global batch: on N devices each takes `batch_size / N`
sequences per step, and one step computes the same update, and logs the same loss, as on one
device.

On TensorFlow that takes `keras_seq.Model`'s loss (`one_device_loss`): Keras divides each
replica's loss by the steps of its own share and by N, which weighs the shares equally even
when they hold different numbers of real (unpadded) steps or rows. Each replica's loss is
instead divided by the count of the whole batch (an all-reduce of the replicas' counts). And
Keras clips each replica's gradients before they are summed; within `scope` the sum is clipped.
Dropout still differs: each replica draws its own masks.

A batch that N devices cannot share equally (the last of an epoch, of a validation or test
split) gives the one-device result on both backends; nothing is dropped or padded. On JAX it is
placed whole on every device (replicated), so each computes the step one device would; XLA
compiles that batch shape once more. On TensorFlow the replicas take unequal shares (3 rows on
2 devices: 2 and 1), which the loss above weighs by their real counts.

On a machine without several accelerators, virtual CPU devices show (and test) the mechanics:
JAX reads `XLA_FLAGS=--xla_force_host_platform_device_count=N` when it is imported;
`virtual_cpu_devices(N)` splits TensorFlow's CPU before its first operation.
"""

import contextlib

import keras

from keras_seq.spec.errors import Problem, SpecError

BACKENDS = ("jax", "tensorflow")


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

    engine = tf.distribute.MirroredStrategy(devices)
    with engine.scope(), _built_from_first_share(), _clipped_after_summing():
        yield engine


def one_device_loss(loss, x, counted=None, replica_scaled=True):
    """A replica's loss on TensorFlow, made to give one device's gradients and logged loss.

    Under `tf.distribute`, replica r of R computes its loss over its own share of the batch:
    `loss = S_r / (c_r * R)`, with S_r its (weighted) sum over the steps counted and c_r their
    count (Keras divides by R; a loss with `replica_scaled=False`, like the CRF's, does not).
    The replicas' gradients are summed, so the step follows sum_r S_r / (c_r R), not one
    device's S / c (S = sum_r S_r, c = sum_r c_r) unless every c_r is c / R. Returned: S_r / c,
    whose gradients sum to one device's, with the value S_r n / (c n_r R) (rows n_r of n), so
    Keras' loss tracker (the mean of R * loss weighted by n_r) logs S / c too. Elsewhere (other
    backends, one replica, outside a replica's step): `loss` as it is.

    Args:
        loss: scalar tensor, the replica's loss.
        x: the replica's share of the inputs (n_r rows: the first axis of its first array).
        counted: the steps `loss` divides its sum by (a mask, True or 1 where counted), or None
            when it divides by its rows (times a size that every share has).
        replica_scaled: whether `loss` is already divided by R.

    Example (one replica: unchanged):

    >>> import keras
    >>> float(one_device_loss(keras.ops.convert_to_tensor(0.5), keras.ops.zeros((4, 7))))
    0.5
    """
    if keras.backend.backend() != "tensorflow":
        return loss
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return loss
    replicas = context.num_replicas_in_sync
    rows = tf.cast(tf.shape(next(v for v in keras.tree.flatten(x) if v is not None))[0], loss.dtype)
    count = rows if counted is None else tf.reduce_sum(tf.cast(counted, loss.dtype))
    local = tf.stop_gradient(tf.stack([count, rows]))
    total = tf.stop_gradient(context.all_reduce("SUM", local))
    share = loss * tf.math.divide_no_nan(local[0], total[0]) * (replicas if replica_scaled else 1)
    logged = share * tf.math.divide_no_nan(total[1], local[1] * replicas)
    return share + tf.stop_gradient(logged - share)


@contextlib.contextmanager
def _built_from_first_share():
    """Within the block, Keras' TensorFlow trainer builds a model from the first replica's share
    of the first batch instead of the replicas' shares averaged (`strategy.reduce("MEAN")`),
    which fails when the shares differ in shape (a split smaller than a batch: 5 rows on 2
    devices are shares of 3 and 2). The build reads only shapes and dtypes.

    `TensorFlowTrainer._maybe_symbolic_build` (fit and evaluate call it) is wrapped for the
    block's duration and restored after it.
    """
    import tensorflow as tf
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    build = TensorFlowTrainer._maybe_symbolic_build

    def first_share(self, iterator=None, data_batch=None):
        if iterator is not None and self._distribute_strategy is not None:
            local = self.distribute_strategy.experimental_local_results
            for _, _, batches in iterator:
                data_batch = keras.tree.map_structure(
                    lambda v: local(v)[0] if isinstance(v, tf.distribute.DistributedValues) else v,
                    next(batches),
                )
                break
            iterator = None
        return build(self, iterator=iterator, data_batch=data_batch)

    TensorFlowTrainer._maybe_symbolic_build = first_share
    try:
        yield
    finally:
        TensorFlowTrainer._maybe_symbolic_build = build


@contextlib.contextmanager
def _clipped_after_summing():
    """Within the block, Keras' optimizers on TensorFlow clip the gradients of the whole batch
    (summed over the replicas), as one device does, instead of each replica's before they are
    summed: clip(g_1) + clip(g_2) is not clip(g_1 + g_2) (`training.clipnorm`, `clipvalue`).

    `BaseOptimizer._clip_gradients`, which runs in each replica before the optimizer's
    all-reduce, is wrapped for the block's duration and restored after it: with clipping set
    and several replicas, it clips the all-reduced sum and hands each of the R replicas 1/R of
    it, which that all-reduce sums back.
    """
    import tensorflow as tf
    from keras.src.optimizers.base_optimizer import BaseOptimizer

    clip = BaseOptimizer._clip_gradients

    def summed_first(self, grads):
        context = tf.distribute.get_replica_context()
        clipping = self.clipnorm or self.global_clipnorm or self.clipvalue
        if not clipping or context is None or context.num_replicas_in_sync == 1:
            return clip(self, grads)
        replicas = context.num_replicas_in_sync
        present = [tf.convert_to_tensor(g) for g in grads if g is not None]
        summed = iter(clip(self, context.all_reduce("SUM", present)))
        return [None if g is None else next(summed) / replicas for g in grads]

    BaseOptimizer._clip_gradients = summed_first
    try:
        yield
    finally:
        BaseOptimizer._clip_gradients = clip


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
