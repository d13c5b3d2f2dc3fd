"""`Recurrent`: runs a plugin cell over time (stacking, directions, masks, dropout)."""

import keras
from keras import ops

from keras_seq import backend
from keras_seq.api import keras_seq_export
from keras_seq.backend import quirks, scan
from keras_seq.initializers import Portable
from keras_seq.layers.cells import GRUCell, LSTMCell, ResetBeforeGRUCell, SimpleRNNCell
from keras_seq.layers.minimal_cells import MinGRUCell, MinLSTMCell

_CELLS = {
    "simple": SimpleRNNCell,
    "lstm": LSTMCell,
    "gru": GRUCell,
    "mingru": MinGRUCell,
    "minlstm": MinLSTMCell,
}
_DIRECTIONS = ("forward", "backward", "bidirectional")
_MERGES = ("concat", "sum", "average", "multiply")


def _choice(name, value, options):
    if value not in options:
        raise ValueError(f"`{name}` must be one of {options}. Received: {name}={value!r}")
    return value


def _rate(name, value):
    if not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1). Received: {name}={value!r}")
    return value


def _check_rank(shape):
    if len(shape) != 3:
        raise ValueError(
            "`Recurrent` expects inputs of rank 3 (batch, time, features). "
            f"Received: inputs.shape={tuple(shape)}"
        )


def _check_mask(input_shape, mask_shape):
    known = [(a, b) for a, b in zip(input_shape[:2], mask_shape) if a is not None and b is not None]
    if len(mask_shape) != 2 or any(a != b for a, b in known):
        raise ValueError(
            "`mask` must have shape (batch, time) = the first two dimensions of the inputs. "
            f"Received: inputs.shape={tuple(input_shape)}, mask.shape={tuple(mask_shape)}"
        )


def _check_cell_options(cell, activation, reset_after, recurrent_dropout):
    """Options that apply to one cell only keep their defaults on the others."""
    if not _CELLS[cell].has_recurrent_kernel and recurrent_dropout:
        raise ValueError(
            f"`recurrent_dropout` applies only to cells with a recurrent matmul; {cell} "
            f"gates read only the inputs. Received: recurrent_dropout={recurrent_dropout!r}"
        )
    if cell != "simple" and activation != "tanh":
        raise ValueError(
            f"`activation` applies only to cell='simple'; {cell} cells use fixed "
            f"activations. Received: activation={activation!r}"
        )
    if cell != "gru" and reset_after is not True:
        raise ValueError(
            f"`reset_after` applies only to cell='gru'. Received: cell={cell!r}, "
            f"reset_after={reset_after!r}"
        )


def _for_cell(initializer, cell_name):
    """The initializer's config for one cell: each cell gets its own instance (an unseeded
    Keras initializer instance returns the same values on every call), and a seeded
    `Portable` its own stream (its key extended by the cell's name, e.g. `backward_1`), so
    layers and directions never start from equal weights."""
    config = keras.initializers.serialize(initializer)
    if isinstance(initializer, Portable):
        config["config"]["key"] = f"{initializer.key}/{cell_name}"
    return config


def _layer_sizes(units, layers):
    if isinstance(units, (list, tuple)):
        if not units or layers not in (1, len(units)):
            raise ValueError(
                "With per-layer `units`, `layers` must be left at 1 or equal len(units). "
                f"Received: units={units!r}, layers={layers!r}"
            )
        sizes = list(units)
    else:
        if not isinstance(layers, int) or layers < 1:
            raise ValueError(f"`layers` must be a positive int. Received: layers={layers!r}")
        sizes = [units] * layers
    for size in sizes:
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"`units` must be positive ints. Received: units={units!r}")
    return sizes


@keras_seq_export("keras_seq.Recurrent")
class Recurrent(keras.layers.Layer):
    """A stack of recurrent layers built from the plugin's cells (PyTorch's `nn.RNN`/`LSTM`/`GRU`).

    Layer k's output sequence is layer k+1's input. Each layer has one cell per
    direction: `"forward"` reads the sequence from the start, `"backward"` from the
    end, `"bidirectional"` runs both with independent weights and joins their outputs
    per time step with `merge`. Backward outputs are re-aligned to the original time
    positions. Each layer-direction pass runs `keras_seq.backend.recur`, the backend's fast
    path (PyTorch's fused kernels, or a hand-written backward pass on JAX and TensorFlow),
    and where that refuses (`NotImplementedError`, with a reason) the generic scan over the
    cell's `step` (`keras_seq.backend.scan`); both compute the same numbers. `"mingru"` and
    `"minlstm"` run as a parallel prefix scan over time (`keras_seq.backend.parallel`; on
    JAX on a CPU a sequential scan of the same linear steps, `parallel.method()`).

    The cells are `layer.cells[layer_index][direction_index]`: index 0 is the forward
    cell (or, for `direction="backward"`, the only, reversed cell), index 1 the reverse
    cell of a bidirectional layer. Variables are created in that order, each cell
    creating `kernel`, `recurrent_kernel`, `bias`, `recurrent_bias` (see
    `keras_seq.LSTMCell` for their PyTorch meaning); cells are named
    `forward_{k}` / `backward_{k}`.

    Args:
        cell: str. `"simple"` (Elman), `"lstm"`, `"gru"` (reset gate after the
            recurrent matmul, as in PyTorch; see `reset_after`), or `"mingru"` /
            `"minlstm"` (gates read only the inputs, `keras_seq.layers.MinGRUCell`: the
            sequence runs as a parallel prefix scan; no recurrent kernel, so no
            `recurrent_dropout`).
        units: int, or list of ints (one per layer). Size of the hidden states.
        layers: int. Number of stacked layers (with a list `units`: 1 or `len(units)`).
        direction: str. `"forward"`, `"backward"` or `"bidirectional"`.
        merge: str. How bidirectional outputs are joined: `"concat"` (default),
            `"sum"`, `"average"` or `"multiply"`.
        dropout: float. Dropout on every layer's output but the last (PyTorch's meaning);
            training only.
        recurrent_dropout: float. Dropout on h before the recurrent matmul, one mask
            per sequence held fixed across time steps; training only.
        activation: str. `"tanh"` or `"relu"`; only for `cell="simple"`.
        kernel_initializer: initializer for each cell's `kernel`.
        recurrent_initializer: initializer for each cell's `recurrent_kernel`.
        bias_initializer: initializer for both biases.
        unit_forget_bias: bool. LSTM only: the forget-gate slice of `bias` starts at 1.
        reset_after: bool. GRU only: True (default) applies the reset gate after the
            recurrent matmul (PyTorch's GRU, `keras_seq.GRUCell`); False before it, with one
            bias (Keras' `GRU(reset_after=False)`, `keras_seq.layers.ResetBeforeGRUCell`),
            so that Keras' weights load with `set_weights`.
        use_bias: bool. Whether the cells have biases.
        return_sequences: bool. Return the output at every step (default) or only the
            output after each sequence's last real step.
        return_state: bool. Also return the last layer's final states.
        seed: int or None. Seed of the dropout masks.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor (batch, time, features).
        initial_state: optional list of the first layer's initial states, each
            (batch, units): `[h]` (simple, gru, mingru, minlstm) or `[h, c]` (lstm);
            bidirectional:
            forward states then backward states. Other layers start from zeros.
        mask: optional boolean tensor (batch, time), True at real steps (given
            automatically after `Embedding(mask_zero=True)` or `Masking`).
        training: bool. Enables `dropout` and `recurrent_dropout`.

    Masking: at masked steps the states pass through unchanged and the output is zero.
    Any mask works (pre- or post-padding, gaps): each sequence of a padded batch gets,
    at its real steps, exactly what it gets alone; the backward direction starts at
    its last real step; final states are those after the last real step.

    Precision: under a mixed dtype policy (`dtype="mixed_bfloat16"`) the weights stay float32
    variables and every step computes in bfloat16; the states are carried in that one compute
    dtype (an `initial_state` in float32 is cast to it), on the fast paths as in the generic loop.

    Returns the output, (batch, time, out) or (batch, out) where out = units of the
    last layer (twice that for `merge="concat"`). With `return_state`, the list
    `[output, *states]`: the last layer's final states, `[h]` or `[h, c]` per
    direction, forward direction first.

    Examples:

    >>> import numpy as np, keras_seq
    >>> layer = keras_seq.Recurrent("lstm", 8, layers=2, direction="bidirectional")
    >>> tuple(layer(np.ones((2, 5, 3), "float32")).shape)
    (2, 5, 16)
    >>> layer = keras_seq.Recurrent("gru", 4, return_sequences=False, return_state=True)
    >>> output, h = layer(np.ones((2, 5, 3), "float32"))
    >>> tuple(output.shape), tuple(h.shape)
    ((2, 4), (2, 4))
    """

    def __init__(
        self,
        cell,
        units,
        layers=1,
        direction="forward",
        merge="concat",
        dropout=0.0,
        recurrent_dropout=0.0,
        activation="tanh",
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        reset_after=True,
        use_bias=True,
        return_sequences=True,
        return_state=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.cell = _choice("cell", cell, tuple(_CELLS))
        self.units = units
        self.layers = layers
        self.direction = _choice("direction", direction, _DIRECTIONS)
        self.merge = _choice("merge", merge, _MERGES)
        self.dropout = _rate("dropout", dropout)
        self.recurrent_dropout = _rate("recurrent_dropout", recurrent_dropout)
        _check_cell_options(cell, activation, reset_after, recurrent_dropout)
        self.activation = _choice("activation", activation, ("tanh", "relu"))
        self.reset_after = bool(reset_after)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.unit_forget_bias = unit_forget_bias
        self.use_bias = use_bias
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.seed = seed
        self.supports_masking = True
        if not quirks.xla_differentiates_scan():
            self.supports_jit = False

        self.layer_sizes = _layer_sizes(units, layers)
        names = ["backward"] if direction == "backward" else ["forward"]
        if direction == "bidirectional":
            names.append("backward")
        self.cells = [
            [self._make_cell(size, f"{name}_{k}") for name in names]
            for k, size in enumerate(self.layer_sizes)
        ]
        if dropout or recurrent_dropout:
            self.seed_generator = keras.random.SeedGenerator(seed)

    def _make_cell(self, units, name):
        options = {
            "use_bias": self.use_bias,
            "kernel_initializer": _for_cell(self.kernel_initializer, name),
            "recurrent_initializer": _for_cell(self.recurrent_initializer, name),
            "bias_initializer": _for_cell(self.bias_initializer, name),
            "dtype": self.dtype_policy,
            "name": name,
        }
        if self.cell == "simple":
            options["activation"] = self.activation
        if self.cell == "lstm":
            options["unit_forget_bias"] = self.unit_forget_bias
        if self.cell == "gru" and not self.reset_after:
            return ResetBeforeGRUCell(units, **options)
        return _CELLS[self.cell](units, **options)

    def _output_size(self, k):
        size = self.layer_sizes[k]
        if self.direction == "bidirectional" and self.merge == "concat":
            return 2 * size
        return size

    def build(self, input_shape):
        _check_rank(input_shape)
        features = input_shape[-1]
        for k, cells in enumerate(self.cells):
            for cell in cells:
                cell.build((input_shape[0], features))
            features = self._output_size(k)

    def run_cell(self, cell, inputs, mask, initial_state, reverse, recurrent_mask, training=True):
        """Runs one cell over the whole sequence, in one direction.

        The single place where a layer-direction pass happens: `backend.recur`, or the
        generic scan where it refuses.

        Args:
            cell: a `keras_seq` cell.
            inputs: tensor (batch, time, features).
            mask: boolean tensor (batch, time) or None.
            initial_state: list of the cell's states, each (batch, units).
            reverse: bool. Read the sequence from the end.
            recurrent_mask: tensor (batch, units) for recurrent dropout, or None.
            training: bool. False allows inference-only fast paths (same numbers).

        Returns:
            `(outputs, final_states)`: outputs (batch, time, units) in the original
            time order, zero at masked steps; final_states after the last real step.
        """
        try:
            return backend.recur(
                cell,
                inputs,
                mask,
                initial_state,
                reverse,
                bool(training),
                recurrent_mask=recurrent_mask,
                need_cell_state=self.return_state,
            )
        except NotImplementedError:
            return scan.scan(cell, inputs, mask, initial_state, reverse, recurrent_mask)

    def _merge(self, tensors):
        if len(tensors) == 1:
            return tensors[0]
        first, second = tensors
        if self.merge == "concat":
            return ops.concatenate([first, second], axis=-1)
        if self.merge == "sum":
            return first + second
        if self.merge == "average":
            return (first + second) / 2.0
        return first * second

    def _first_states(self, initial_state, batch_size):
        per_cell = [cell.get_initial_state(batch_size) for cell in self.cells[0]]
        if initial_state is None:
            return per_cell
        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        count = self.cells[0][0].state_count
        if len(initial_state) != count * len(per_cell):
            raise ValueError(
                f"`initial_state` must be a list of {count * len(per_cell)} tensors for "
                f"cell={self.cell!r}, direction={self.direction!r} ([h] or [h, c] per "
                f"direction, forward first). Received {len(initial_state)} tensors."
            )
        return [
            [ops.cast(s, self.compute_dtype) for s in initial_state[d * count : (d + 1) * count]]
            for d in range(len(per_cell))
        ]

    def call(self, inputs, initial_state=None, mask=None, training=None):
        _check_rank(inputs.shape)
        batch_size = ops.shape(inputs)[0]
        if mask is not None:
            _check_mask(inputs.shape, mask.shape)
            mask = ops.cast(mask, "bool")
        first_states = self._first_states(initial_state, batch_size)
        if inputs.shape[1] == 0:
            return self._no_steps(inputs, first_states)
        between_dropout = bool(training and self.dropout)
        recurrent_active = bool(training and self.recurrent_dropout)
        try:
            outputs, finals = backend.recur_stack(
                self.cells,
                inputs,
                mask,
                first_states,
                recurrent_active or None,
                self.merge,
                between_dropout,
            )
        except NotImplementedError:  # layer by layer (each still tries `backend.recur`)
            pass
        else:
            return self._outputs(self._merge(outputs), finals)
        sequence = inputs
        for k, cells in enumerate(self.cells):
            if k > 0 and training and self.dropout:
                sequence = keras.random.dropout(sequence, self.dropout, seed=self.seed_generator)
            states = first_states if k == 0 else [c.get_initial_state(batch_size) for c in cells]
            outputs, finals = self._run_layer(cells, sequence, mask, states, training)
            sequence = self._merge(outputs)
        return self._outputs(sequence, finals)

    def _run_layer(self, cells, sequence, mask, states, training):
        """One layer, every direction: `([outputs per direction], [final states per direction])`."""
        recurrent_active = bool(training and self.recurrent_dropout)
        outputs, finals = [], []
        for d, cell in enumerate(cells):
            recurrent_mask = None
            if recurrent_active:
                recurrent_mask = keras.random.dropout(
                    ops.ones((ops.shape(sequence)[0], cell.units), dtype=self.compute_dtype),
                    self.recurrent_dropout,
                    seed=self.seed_generator,
                )
            reverse = self.direction == "backward" or d == 1
            output, final = self.run_cell(
                cell, sequence, mask, states[d], reverse, recurrent_mask, training
            )
            outputs.append(output)
            finals.append(final)
        return outputs, finals

    def _outputs(self, sequence, finals):
        """The call's result from the last layer's merged outputs and per-direction states."""
        output = sequence if self.return_sequences else self._merge([s[0] for s in finals])
        if self.return_state:
            return [output] + [state for states in finals for state in states]
        return output

    def _no_steps(self, inputs, first_states):
        """A zero-length sequence: no step runs, so the states stay the initial ones."""
        last = len(self.cells) - 1
        batch_size = ops.shape(inputs)[0]
        finals = (
            first_states
            if last == 0
            else [c.get_initial_state(batch_size) for c in self.cells[last]]
        )
        if self.return_sequences:
            output = ops.zeros((batch_size, 0, self._output_size(last)), self.compute_dtype)
        else:
            output = self._merge([states[0] for states in finals])
        if self.return_state:
            return [output] + [state for states in finals for state in states]
        return output

    def compute_output_shape(self, input_shape):
        batch_size = input_shape[0]
        size = self._output_size(len(self.layer_sizes) - 1)
        if self.return_sequences:
            output_shape = (batch_size, input_shape[1], size)
        else:
            output_shape = (batch_size, size)
        if not self.return_state:
            return output_shape
        state_shape = (batch_size, self.layer_sizes[-1])
        states = sum(cell.state_count for cell in self.cells[-1])
        return [output_shape] + [state_shape] * states

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        if not self.return_state:
            return output_mask
        states = sum(cell.state_count for cell in self.cells[-1])
        return [output_mask] + [None] * states

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "cell": self.cell,
                "units": self.units,
                "layers": self.layers,
                "direction": self.direction,
                "merge": self.merge,
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "activation": self.activation,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "unit_forget_bias": self.unit_forget_bias,
                "reset_after": self.reset_after,
                "use_bias": self.use_bias,
                "return_sequences": self.return_sequences,
                "return_state": self.return_state,
                "seed": self.seed,
            }
        )
        return config
