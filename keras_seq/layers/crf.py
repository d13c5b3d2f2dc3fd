"""`CRF`: a linear-chain conditional random field over per-step tag scores."""

import keras
from keras import ops

from keras_seq.backend import quirks


def _left_aligned(mask):
    """Per row, the time order that puts the real steps first, in their order (then padding).

    Gathering a row by it turns any mask (pre-padding, post-padding, gaps) into post-padding,
    so the chain links each real step to the previous real one.
    """
    steps = ops.arange(ops.shape(mask)[1], dtype="int32")[None, :]
    keys = ops.where(mask, steps, steps + ops.shape(mask)[1])
    return ops.cast(ops.argsort(keys, axis=1), "int32")


def _mask(emissions, mask):
    """`mask` as a boolean tensor, all True when None."""
    if mask is None:
        return ops.ones(ops.shape(emissions)[:2], dtype="bool")
    return ops.cast(ops.convert_to_tensor(mask), "bool")


# The score added to a transition the constraints forbid: finite, so that the forward algorithm
# stays finite (logsumexp of only -inf is NaN) and a forbidden gold path gets a large but
# finite loss; exp(PENALTY) is 0 in float32, so forbidden paths weigh nothing.
PENALTY = -1e4


def _penalties(constraints, tags):
    """Scores (tags + 2, tags + 2) to add to [A, s; e]: 0 where allowed, PENALTY elsewhere."""
    allowed = {(i, j) for i, j in constraints}
    ids = range(tags + 2)
    return [[0.0 if (i, j) in allowed else PENALTY for j in ids] for i in ids]


def _gather_steps(x, order):
    """`x` (batch, time, ...) with each row's steps taken in `order` (batch, time)."""
    if len(x.shape) == 3:
        return ops.take_along_axis(x, order[:, :, None], axis=1)
    return ops.take_along_axis(x, order, axis=1)


@keras.saving.register_keras_serializable(package="keras_seq")
class CRF(keras.layers.Layer):
    """A linear-chain conditional random field (CRF) over per-step tag scores.

    For emission scores E (time, C) of a sequence with real steps 1..n (padding removed), a tag
    sequence y scores

        score(y) = s[y_1] + sum_{t=1..n} E[t, y_t] + sum_{t=2..n} A[y_{t-1}, y_t] + e[y_n]

    with the learned transition matrix A (C, C) (`A[i, j]`: tag i followed by tag j), start
    scores s (C,) and end scores e (C,); p(y | E) = exp(score(y)) / Z. The forward algorithm
    gives the log-partition:

        alpha_1[j] = s[j] + E[1, j]
        alpha_t[j] = E[t, j] + logsumexp_i(alpha_{t-1}[i] + A[i, j])
        log Z      = logsumexp_j(alpha_n[j] + e[j])

    and Viterbi decoding the best path, argmax_y score(y): the same recursion with max in place
    of logsumexp, followed back from argmax_j(delta_n[j] + e[j]). The training loss is the
    negative log-likelihood log Z - score(gold) summed over the batch's sequences and divided by
    the number of real steps (a per-token figure on the scale of a per-token cross-entropy).

    The layer passes its input through unchanged (the emission scores, from a `Dense(C)` without
    activation), with its mask: decoding and the loss take the scores from the model's output.
    `keras_seq.Model` trains a model whose output comes from a `CRF` with the CRF's loss
    (`compile` with `loss=None`); `decode` gives the tags.

    Constraints: given `constraints`, the allowed (from, to) pairs over the ids 0..C-1 (tags),
    C (the start) and C+1 (the end), as AllenNLP's `allowed_transitions` returns them
    (`keras_seq.metrics.spans.allowed_transitions` for BIO, BIOES and IOB1), every other
    transition, first tag and last tag scores PENALTY (-1e4) more. `decode` always applies
    them, so Viterbi returns only allowed sequences; with `train_constraints=True` the
    likelihood does too (log Z sums over allowed sequences only; a forbidden gold sequence gets
    a large, finite loss). They are saved in the layer's config.

    Precision: the layer is float32 by default, whatever Keras' global dtype policy (e.g.
    `"mixed_bfloat16"`); the scores, log Z, the loss and Viterbi are computed in float32.

    Masking: masked steps (pre-padding, post-padding or gaps) neither score nor transition; the
    chain links each real step to the previous real one. A sequence with no real step scores 0
    and has log Z = 0.

    Args:
        transitions_initializer: initializer for A (C, C). Default `"zeros"`.
        boundary_initializer: initializer for s and e (C,). Default `"zeros"`.
        constraints: optional list of allowed (from, to) id pairs (see Constraints). Default
            None: every transition allowed.
        train_constraints: bool. Whether the likelihood (the loss) applies the constraints
            too. Default False: they apply only to `decode`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: float tensor (batch, time, C), the emission scores E.
        mask: optional boolean tensor (batch, time), True at real steps (propagated from
            `Embedding(mask_zero=True)` or `keras_seq.Recurrent`). Without a mask every step is
            real.

    Examples:

    >>> import keras, numpy as np, keras_seq
    >>> crf = keras_seq.layers.CRF()
    >>> scores = np.array([[[2.0, 0.0], [0.0, 1.0], [9.0, 9.0]]], "float32")
    >>> mask = np.array([[True, True, False]])
    >>> _ = crf(scores, mask=mask)  # builds A, s, e for C = 2 (all 0)
    >>> keras.ops.convert_to_numpy(crf.decode(scores, mask)).tolist()
    [[0, 1, 0]]
    >>> likelihood = crf.log_likelihood(scores, np.array([[0, 1, 0]]), mask)
    >>> print(f"{float(keras.ops.convert_to_numpy(likelihood)[0]):.4f}")  # log(0.881 * 0.731)
    -0.4402
    """

    def __init__(
        self,
        transitions_initializer="zeros",
        boundary_initializer="zeros",
        constraints=None,
        train_constraints=False,
        **kwargs,
    ):
        # float32 unless asked otherwise: under a global mixed policy the scores it passes on
        # would otherwise be rounded to bfloat16 before the float32 forward algorithm reads them.
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.transitions_initializer = keras.initializers.get(transitions_initializer)
        self.boundary_initializer = keras.initializers.get(boundary_initializer)
        self.constraints = None
        if constraints is not None:
            self.constraints = [[int(i), int(j)] for i, j in constraints]
        self.train_constraints = bool(train_constraints)
        self.supports_masking = True
        if not quirks.xla_differentiates_scan():
            self.supports_jit = False

    def build(self, input_shape):
        tags = input_shape[-1]
        self.transitions = self.add_weight(
            shape=(tags, tags), initializer=self.transitions_initializer, name="transitions"
        )
        self.start = self.add_weight(
            shape=(tags,), initializer=self.boundary_initializer, name="start"
        )
        self.end = self.add_weight(shape=(tags,), initializer=self.boundary_initializer, name="end")

    def call(self, inputs, mask=None):
        return inputs

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config.update(
            transitions_initializer=keras.initializers.serialize(self.transitions_initializer),
            boundary_initializer=keras.initializers.serialize(self.boundary_initializer),
            constraints=self.constraints,
            train_constraints=self.train_constraints,
        )
        return config

    def scores(self, constrained):
        """(A, s, e) in float32; with `constrained` (and constraints), the forbidden ones
        PENALTY lower."""
        weights = [ops.cast(w, "float32") for w in (self.transitions, self.start, self.end)]
        if not constrained or self.constraints is None:
            return weights
        tags = self.start.shape[0]
        penalty = ops.convert_to_tensor(_penalties(self.constraints, tags), "float32")
        return [
            weights[0] + penalty[:tags, :tags],
            weights[1] + penalty[tags, :tags],
            weights[2] + penalty[:tags, tags + 1],
        ]

    def _aligned(self, emissions, mask, tags=None):
        """Float32 emissions, mask (and tags) with each row's real steps moved to the front
        (`sequence_score` then reads consecutive real steps side by side)."""
        emissions = ops.cast(ops.convert_to_tensor(emissions), "float32")
        mask = _mask(emissions, mask)
        order = _left_aligned(mask)
        aligned = [_gather_steps(emissions, order), _gather_steps(mask, order)]
        if tags is not None:
            tags = ops.cast(ops.convert_to_tensor(tags), "int32")
            tags = ops.clip(tags, 0, emissions.shape[-1] - 1)  # unused ids at masked steps
            aligned.append(_gather_steps(tags, order))
        return aligned

    def _recursion(self, emissions, mask, combine, transitions, start):
        """The recursion over the real steps with `combine` (logsumexp: alpha, max: delta)
        under the transition scores A (C, C) and start scores s (C,).

        A masked step keeps the state it receives, so each real step links to the previous
        real one wherever the padding is (no reordering, which PyTorch's ONNX export lacks).

        Returns alpha_n (or delta_n) (batch, C), and per step t the previous tag that maximizes
        delta_{t-1}[i] + A[i, j] for each tag j (Viterbi backpointers; the tag itself at a
        row's first real step and at padding), time-major (time, batch, C).
        """
        start = start[None, :]
        steps = ops.transpose(mask, (1, 0))
        identity = ops.broadcast_to(
            ops.arange(ops.shape(emissions)[-1], dtype="int32")[None, :], ops.shape(emissions[:, 0])
        )

        def body(carry, emissions_t):
            t, previous, linked, _ = carry  # linked: a real step came before, per row
            scores = previous[:, :, None] + transitions[None, :, :]
            new = ops.where(linked, combine(scores, axis=1), start) + emissions_t
            pointers = ops.cast(ops.argmax(scores, axis=1), "int32")
            real = steps[t][:, None]
            pointers = ops.where(ops.logical_and(real, linked), pointers, identity)
            new = [t + 1, ops.where(real, new, previous), ops.logical_or(linked, real), pointers]
            return new, new

        # Every step is scanned, the first too (with s in place of the transitions): a scan over
        # zero steps fails on PyTorch.
        carry = [
            ops.convert_to_tensor(0, "int32"),
            ops.zeros_like(start + emissions[:, 0]),
            ops.zeros_like(steps[0][:, None]),
            identity,
        ]
        outputs = ops.scan(body, carry, ops.transpose(emissions, (1, 0, 2)))
        (_, last, _, _), (_, _, _, pointers) = outputs
        return last, pointers

    def log_partition(self, emissions, mask=None):
        """log Z for each sequence: float32 tensor (batch,), 0 for a sequence with no real step
        (with `train_constraints`, over the allowed sequences only).

        Args:
            emissions: float tensor (batch, time, C), the scores this layer passes on.
            mask: optional boolean tensor (batch, time), True at real steps.
        """
        transitions, start, end = self.scores(self.train_constraints)
        emissions = ops.cast(ops.convert_to_tensor(emissions), "float32")
        mask = _mask(emissions, mask)
        last, _ = self._recursion(emissions, mask, ops.logsumexp, transitions, start)
        log_z = ops.logsumexp(last + end[None, :], axis=-1)
        return ops.where(ops.any(mask, axis=1), log_z, ops.zeros_like(log_z))

    def sequence_score(self, emissions, tags, mask=None):
        """score(y) of the tag sequences `tags`: float32 tensor (batch,) (with
        `train_constraints`, forbidden transitions score PENALTY).

        Args:
            emissions: float tensor (batch, time, C).
            tags: int tensor (batch, time), the tag at each step (ignored at masked steps).
            mask: optional boolean tensor (batch, time), True at real steps.
        """
        emissions, mask, tags = self._aligned(emissions, mask, tags)
        real = ops.cast(mask, "float32")
        emitted = ops.take_along_axis(emissions, tags[:, :, None], axis=2)[:, :, 0]
        score = ops.sum(emitted * real, axis=1)
        transitions, start, end = self.scores(self.train_constraints)
        pairs = ops.take(transitions, tags[:, :-1] * ops.shape(transitions)[0] + tags[:, 1:])
        score += ops.sum(pairs * real[:, 1:], axis=1)
        lengths = ops.sum(ops.cast(mask, "int32"), axis=1)
        last = ops.take_along_axis(tags, ops.maximum(lengths - 1, 0)[:, None], axis=1)[:, 0]
        boundary = ops.take(start, tags[:, 0]) + ops.take(end, last)
        return score + boundary * real[:, 0]

    def log_likelihood(self, emissions, tags, mask=None):
        """log p(tags | emissions) = score(tags) - log Z: float32 tensor (batch,).

        Args:
            emissions: float tensor (batch, time, C).
            tags: int tensor (batch, time), the tag at each step (ignored at masked steps).
            mask: optional boolean tensor (batch, time), True at real steps.
        """
        return self.sequence_score(emissions, tags, mask) - self.log_partition(emissions, mask)

    def decode(self, emissions, mask=None):
        """The Viterbi best path: int32 tensor (batch, time), 0 at masked steps; with
        constraints, the best allowed path.

        Args:
            emissions: float tensor (batch, time, C).
            mask: optional boolean tensor (batch, time), True at real steps.
        """
        transitions, start, end = self.scores(True)
        emissions = ops.cast(ops.convert_to_tensor(emissions), "float32")
        mask = _mask(emissions, mask)
        last, pointers = self._recursion(emissions, mask, ops.max, transitions, start)
        best = ops.cast(ops.argmax(last + end[None, :], axis=-1), "int32")
        tags = ops.shape(emissions)[-1]

        def back(tag, pointers_t):
            chosen = ops.one_hot(tag, tags, dtype="int32")  # a gather PyTorch exports to ONNX
            previous = ops.sum(pointers_t * chosen, axis=1)
            return previous, previous

        # Step t's pointers map its tag to the previous real step's (the tag itself at padding):
        # the scan's output at t is the tag there.
        _, previous = ops.scan(back, best, pointers, reverse=True)
        path = ops.concatenate([ops.transpose(previous, (1, 0))[:, 1:], best[:, None]], axis=1)
        return ops.where(mask, path, ops.zeros_like(path))

    def sequence_loss(self, y_true, y_pred, mask=None, sample_weight=None):
        """The training loss: sum of w_b * (log Z - score(gold)) over real steps counted.

        `keras_seq.Model.compute_loss` calls it for a model whose output comes from this layer.

        Args:
            y_true: int tensor (batch, time), the gold tags.
            y_pred: float tensor (batch, time, C), the model's output (this layer's).
            mask: optional boolean tensor (batch, time), True at real steps.
            sample_weight: optional (batch,) weight per sequence, or (batch, time) per step: a
                step of weight 0 is left out of the chain (as padding is), and a sequence weighs
                the mean weight of its remaining steps.

        Returns:
            A scalar: the weighted negative log-likelihood over the batch divided by its number
            of real steps.
        """
        mask = _mask(y_pred, mask)
        weights = ops.ones(ops.shape(y_pred)[:1], dtype="float32")
        if sample_weight is not None:
            sample_weight = ops.cast(ops.convert_to_tensor(sample_weight), "float32")
            if len(sample_weight.shape) == 2:
                mask = ops.logical_and(mask, sample_weight > 0)
                real = ops.cast(mask, "float32")
                total = ops.sum(sample_weight * real, axis=1)
                weights = total / ops.maximum(ops.sum(real, axis=1), 1.0)
            else:
                weights = ops.reshape(sample_weight, (-1,))
        negative = -self.log_likelihood(y_pred, y_true, mask)
        steps = ops.maximum(ops.sum(ops.cast(mask, "float32")), 1.0)
        return ops.sum(weights * negative) / steps


class ViterbiDecode(keras.layers.Layer):
    """The tags a `CRF` decodes (`CRF.decode`) from the emission scores it is called on, with
    their mask: int32 (batch, time), 0 at masked steps.

    Inference graphs put it after the CRF (`keras_seq.export`, `viterbi_model`); it shares the
    CRF's weights and adds none.

    Args:
        crf: the `CRF` layer whose transition scores decode.
    """

    def __init__(self, crf, **kwargs):
        super().__init__(**kwargs)
        self.crf = crf
        self.supports_masking = True  # the tags keep the steps' mask

    def call(self, inputs, mask=None):
        return self.crf.decode(inputs, mask)

    def compute_output_spec(self, inputs, mask=None):
        return keras.KerasTensor(inputs.shape[:-1], dtype="int32")


def viterbi_model(crf):
    """A `keras.Model` from `[emissions (batch, time, C), mask (batch, time) bool]` to
    `crf.decode`'s best paths, sharing the layer's weights.

    Its `predict_on_batch` runs the decoding compiled (once per batch shape) where calling
    `crf.decode` eagerly would run op by op, and on JAX trace and compile each of its scans
    again on every call.

    Example:

    >>> import numpy as np
    >>> from keras_seq.layers import CRF
    >>> from keras_seq.layers.crf import viterbi_model
    >>> crf = CRF()
    >>> crf.build((None, None, 3))
    >>> emissions = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
    >>> mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    >>> paths = viterbi_model(crf).predict_on_batch([emissions, mask])
    >>> bool((paths == keras.ops.convert_to_numpy(crf.decode(emissions, mask))).all())
    True
    """
    emissions = keras.Input((None, crf.start.shape[0]), name="emissions")
    mask = keras.Input((None,), dtype="bool", name="mask")
    return keras.Model([emissions, mask], ViterbiDecode(crf)(emissions, mask=mask))
