"""`build`: a spec to a compiled `keras.Model` (inputs -> recurrent encoder -> head).

No YAML and no I/O here: `keras_seq.load_spec` reads and validates, this module only builds.
"""

import dataclasses

import keras

from keras_seq import heads, training
from keras_seq.initializers import portable
from keras_seq.layers import Recurrent, SequencePooling, StateBridge, TokenEmbedding
from keras_seq.model import Model
from keras_seq.spec import Problem, SpecError, load_spec

# build() keyword -> (spec section, field): the sizes a spec may leave to the data (`auto`).
OVERRIDES = {
    "vocab_size": ("input", "vocab_size"),
    "classes": ("head", "classes"),
    "target_vocab_size": ("head", "target_vocab_size"),
}


def build(source, **overrides):
    """Builds and compiles the model a spec describes.

    Args:
        source: a path to a YAML spec, YAML text, a dict or a `keras_seq.Spec`.
        **overrides: sizes the spec leaves as `auto` (or that the data fixes): `vocab_size`,
            `classes`, `target_vocab_size`, e.g. `len(vocab)` from the training data.

    Returns:
        A `keras.Model` compiled with the spec's optimizer (and clipping), loss and metrics
        (the head's defaults when the spec names none). Fit it with
        `keras_seq.training.fit_options(spec.training)` for batch size, epochs, schedule and
        early stopping. Inputs:

        - `tokens` (batch, time) int ids, 0 = padding (masked), 1 = out-of-vocabulary; or
          `features` (batch, time, dim) floats, steps equal to `input.mask_value` masked.
        - seq2seq adds `decoder_tokens` (batch, time): `<bos>` + target (teacher forcing).

        Outputs by `head.type`: classifier (batch, classes) and tagger (batch, time, classes)
        probabilities; forecaster (batch, horizon, outputs); seq2seq (batch, time, target vocab)
        probabilities; none the encoder's per-step outputs. Padding steps count in no loss or
        metric (Keras applies the propagated mask to them); the metrics are compiled as
        `weighted_metrics`, so `sample_weight` given to `fit`/`evaluate` counts in them too.

    Raises:
        keras_seq.SpecError: an invalid spec, or an `auto` size with no override.

    With `seed` set, `keras.utils.set_random_seed(seed)` runs first, so weights, dropout and
    `fit`'s shuffling repeat from run to run.

    Examples:

    >>> import keras_seq
    >>> model = keras_seq.build('''
    ... input: {kind: tokens, embedding_dim: 8}
    ... encoder: {cell: lstm, units: 16, direction: bidirectional}
    ... head: {type: tagger}
    ... seed: 1
    ... ''', vocab_size=100, classes=5)
    >>> tuple(model.output.shape)
    (None, None, 5)
    """
    spec = resolve(source, **overrides)
    if spec.seed is not None:
        keras.utils.set_random_seed(spec.seed)
    head = spec.head.type
    if head == "seq2seq":
        inputs, outputs = _seq2seq(spec)
    else:
        front_input, sequence = _front(spec)
        inputs = front_input
        outputs = _HEADS[head](spec, sequence)
    model = Model(inputs, outputs, name=_model_name(spec))
    model.compile(
        optimizer=training.optimizer(spec.training),
        loss=spec.training.loss or heads.DEFAULT_LOSS[head],
        # Weighted, so the data's sample weights (0 at padding and at labels unseen in
        # training) count in the metrics as they do in the loss.
        weighted_metrics=list(spec.training.metrics or heads.DEFAULT_METRICS[head] or []) or None,
    )
    return model


def resolve(source, **overrides):
    """The `Spec` that `build` builds: `source` loaded, `overrides` applied, no `auto` left.

    Raises:
        keras_seq.SpecError: a size is still `auto` (or an override is not a valid size).
        TypeError: an override that is not one of `OVERRIDES`.
    """
    spec = load_spec(source)
    unknown = sorted(set(overrides) - set(OVERRIDES))
    if unknown:
        raise TypeError(f"build() got unknown overrides {unknown}; it accepts {sorted(OVERRIDES)}")
    problems = []
    for keyword, value in overrides.items():
        section, field = OVERRIDES[keyword]
        if getattr(getattr(spec, section), field) is None:
            continue  # the field does not apply to this spec (e.g. classes for a forecaster)
        if not isinstance(value, int) or isinstance(value, bool) or value < 2:
            problems.append(
                Problem(
                    f"{section}.{field}",
                    "override is not a size",
                    found=value,
                    allowed="an integer >= 2",
                )
            )
            continue
        updated = dataclasses.replace(getattr(spec, section), **{field: value})
        spec = dataclasses.replace(spec, **{section: updated})
    for keyword, (section, field) in OVERRIDES.items():
        if getattr(getattr(spec, section), field) == "auto":
            problems.append(
                Problem(
                    f"{section}.{field}",
                    "is auto, which needs training data to fix it",
                    found="auto",
                    allowed=f"pass build(..., {keyword}=N) or train with data (`keras-seq train`)",
                )
            )
    if problems:
        raise SpecError(problems)
    return spec


def initializer(identifier, key):
    """Every initializer the builder creates comes from here (one place to change policy).

    `keras_seq.initializers.portable` draws with NumPy, so a seeded spec starts from the same
    weights on every backend. The seed is left unset: each instance (and each copy a
    `Recurrent` makes per cell) draws its own seed from Python's `random`, which
    `keras.utils.set_random_seed(spec.seed)` fixes, so cells of equal shape get different
    weights while a seeded build repeats exactly.
    """
    return portable(identifier, seed=None, key=key)


def _model_name(spec):
    return spec.name or f"keras_seq_{spec.head.type}"


def _front(spec, name="tokens"):
    """The model input and its embedded (or masked) sequence, carrying the padding mask."""
    spec_input = spec.input
    if spec_input.kind == "tokens":
        tokens = keras.Input((spec_input.max_length,), dtype="int32", name=name)
        embedding = TokenEmbedding(
            spec_input.vocab_size,
            spec_input.embedding_dim,
            embeddings_initializer=initializer("random_uniform", "embedding"),
            mask_zero=True,
            name="embedding",
        )
        return tokens, embedding(tokens)
    features = keras.Input((spec_input.max_length, spec_input.dim), name="features")
    if spec_input.mask_value is None:
        return features, features
    return features, keras.layers.Masking(spec_input.mask_value, name="masking")(features)


def _encoder(spec, **options):
    encoder = spec.encoder
    layers = encoder.layers
    units = (
        [layer.units or encoder.units for layer in layers]
        if isinstance(layers, tuple)
        else encoder.units
    )
    return Recurrent(
        encoder.cell,
        units,
        layers=1 if isinstance(layers, tuple) else layers,
        direction=encoder.direction,
        merge=encoder.merge or "concat",
        dropout=encoder.dropout,
        recurrent_dropout=encoder.recurrent_dropout,
        activation=encoder.activation or "tanh",
        kernel_initializer=initializer(encoder.initializers.kernel, "encoder/kernel"),
        recurrent_initializer=initializer(encoder.initializers.recurrent, "encoder/recurrent"),
        bias_initializer=initializer(encoder.initializers.bias, "encoder/bias"),
        unit_forget_bias=bool(encoder.unit_forget_bias),
        use_bias=encoder.use_bias,
        seed=spec.seed,
        name="encoder",
        **options,
    )


def _dense(units, activation=None, name="head"):
    return keras.layers.Dense(
        units,
        activation=activation,
        kernel_initializer=initializer("glorot_uniform", f"{name}/kernel"),
        bias_initializer=initializer("zeros", f"{name}/bias"),
        name=name,
    )


def _dropped(spec, x):
    if not spec.head.dropout:
        return x
    return keras.layers.Dropout(spec.head.dropout, seed=spec.seed, name="head_dropout")(x)


def _classifier(spec, sequence):
    if spec.head.pooling == "last":
        pooled = _encoder(spec, return_sequences=False)(sequence)
    else:
        encoded = _encoder(spec)(sequence)
        pooled = SequencePooling(spec.head.pooling, name="pooling")(encoded)
    return _dense(spec.head.classes, "softmax")(_dropped(spec, pooled))


def _tagger(spec, sequence):
    return _dense(spec.head.classes, "softmax")(_dropped(spec, _encoder(spec)(sequence)))


def _forecaster(spec, sequence):
    last = _encoder(spec, return_sequences=False)(sequence)
    values = _dense(spec.head.horizon * spec.head.outputs)(last)
    return keras.layers.Reshape((spec.head.horizon, spec.head.outputs), name="forecast")(values)


def _features(spec, sequence):
    return _encoder(spec)(sequence)


_HEADS = {
    "classifier": _classifier,
    "tagger": _tagger,
    "forecaster": _forecaster,
    "none": _features,
}


def _seq2seq(spec):
    """Encoder (final states) -> `StateBridge` -> decoder over `<bos>` + target -> softmax."""
    encoder_spec, decoder_spec = spec.encoder, spec.head.decoder
    source, sequence = _front(spec)
    _, *final_states = _encoder(spec, return_sequences=False, return_state=True)(sequence)
    target_length = spec.head.max_output_length or spec.input.max_length
    decoder_tokens = keras.Input((target_length,), dtype="int32", name="decoder_tokens")
    embedded = TokenEmbedding(
        spec.head.target_vocab_size,
        decoder_spec.embedding_dim or spec.input.embedding_dim,
        embeddings_initializer=initializer("random_uniform", "target_embedding"),
        mask_zero=True,
        name="target_embedding",
    )(decoder_tokens)
    initial_state = StateBridge(
        decoder_spec.units,
        encoder_spec.cell,
        decoder_spec.cell,
        directions=2 if encoder_spec.direction == "bidirectional" else 1,
        kernel_initializer=initializer("glorot_uniform", "bridge/kernel"),
        bias_initializer=initializer("zeros", "bridge/bias"),
        name="bridge",
    )(final_states)
    simple = decoder_spec.cell == "simple"
    decoder = Recurrent(
        decoder_spec.cell,
        decoder_spec.units,
        layers=decoder_spec.layers,
        dropout=encoder_spec.dropout,
        recurrent_dropout=encoder_spec.recurrent_dropout,
        activation=(encoder_spec.activation or "tanh") if simple else "tanh",
        kernel_initializer=initializer(encoder_spec.initializers.kernel, "decoder/kernel"),
        recurrent_initializer=initializer(encoder_spec.initializers.recurrent, "decoder/recurrent"),
        bias_initializer=initializer(encoder_spec.initializers.bias, "decoder/bias"),
        unit_forget_bias=encoder_spec.unit_forget_bias is not False,
        use_bias=encoder_spec.use_bias,
        seed=spec.seed,
        name="decoder",
    )(embedded, initial_state=initial_state)
    outputs = _dense(spec.head.target_vocab_size, "softmax")(decoder)
    return [source, decoder_tokens], outputs
