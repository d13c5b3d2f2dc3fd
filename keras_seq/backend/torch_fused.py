"""`recur` and `recur_stack` on the PyTorch backend: PyTorch's fused RNN kernels.

`keras_seq.backend.recur` (one layer, one direction over the whole sequence) comes here on
torch. It raises `NotImplementedError(reason)` when the fused kernel would not compute
exactly what the generic scan computes, and the layer then runs the generic scan.
`fused_plan` is that decision, with a reason for every refusal, so tests can check which
path a configuration takes.

The kernel is the one the cell names in `torch_kernel` (`torch._VF.lstm`, `gru`,
`rnn_tanh`, `rnn_relu`; oneDNN on CPU, cuDNN on GPU); it takes PyTorch's weight layout,
which is the cells' layout transposed:
W_ih = kernel^T, W_hh = recurrent_kernel^T, b_ih = bias, b_hh = recurrent_bias, gates in
the same order. The transposes are computed from the Keras variables' torch tensors
inside autograd, so gradients flow back to the variables.

Modes:
- `"dense"`: no mask (or a mask with no padding): one kernel call.
- `"gather"`: post-padded mask (every row True on a prefix of at least one step). The
  forward direction runs over the padding too (it comes after the real steps, so it
  cannot change them); the backward direction runs on each row reversed within its own
  length. Outputs at padding are zeroed; the final h is read at the last real step.
  The kernel does not expose the LSTM cell state there, so an LSTM whose layer returns
  its states takes `"packed"` instead.
- `"packed"`: post-padded mask, LSTM, `return_state`: a packed sequence, which stops
  every row at its length (slower on CPU: packed input leaves the oneDNN kernel).
Whole stacks (`recur_stack`): where every layer would take `"dense"` mode, one kernel call
runs all layers and both directions (`bidirectional=True`, `num_layers=L`), provided the
layers share one size, outputs are concatenated between layers and no dropout applies
between them; otherwise each layer runs both its directions in one call where it can.

Precision: under a mixed dtype policy (`"mixed_bfloat16"`) the layer's autocast scope reads
the float32 variables as bfloat16, the inputs' dtype, so the kernels run in bfloat16 (the
casts are inside autograd: the float32 variables get the gradients); `fused_plan` takes the
same decisions as in float32 (`tests/test_precision.py` spies on the kernels' input dtype).

Anything else (another backend, recurrent dropout, pre-padding or gaps in the mask,
an empty row, symbolic tensors, tracing for export (ONNX), weights in another dtype than
the inputs) takes the generic loop.
"""

import collections

import keras

Plan = collections.namedtuple("Plan", ["kernel", "mode", "lengths", "reason"])


def _refuse(reason):
    return Plan(None, None, None, reason)


def _kernel_name(cell):
    """The cell's `torch_kernel`, if the class that defines its `step` declares it.

    A subclass may change the step, which the kernel would not see.
    """
    for cls in type(cell).__mro__:
        if "step" in vars(cls):
            return cell.torch_kernel if "torch_kernel" in vars(cls) else None
    return None


def _exporting():
    import torch

    return torch.jit.is_tracing() or torch.compiler.is_exporting()


def prefix_lengths(mask):
    """Per-row lengths if every row of the (batch, time) bool `mask` is True on a prefix."""
    import torch

    lengths = mask.sum(dim=1)
    steps = torch.arange(mask.shape[1], device=mask.device)
    if not torch.equal(steps[None, :] < lengths[:, None], mask):
        return None
    return lengths


def fused_plan(cell, inputs, mask, recurrent_mask, need_cell_state):
    """Whether and how a fused kernel can run `cell` over `inputs`; a `Plan`.

    `Plan.reason` is None when it can, else why not; `Plan.mode` is `"dense"`,
    `"gather"` or `"packed"` (see the module docstring) and `Plan.lengths` the per-row
    lengths of a post-padded mask.
    """
    if keras.backend.backend() != "torch":
        return _refuse(f"backend is {keras.backend.backend()}, not torch")
    name = _kernel_name(cell)
    if name is None:
        return _refuse(f"{type(cell).__name__} has no fused kernel")
    if recurrent_mask is not None:
        return _refuse("recurrent dropout is active")
    if inputs.device.type == "meta":
        return _refuse("symbolic (meta) tensors")
    if _exporting():
        return _refuse("tracing for export: the plan depends on the mask's values")
    if inputs.dtype != cell.kernel.value.dtype or not inputs.dtype.is_floating_point:
        return _refuse(f"inputs are {inputs.dtype}, weights {cell.kernel.value.dtype}")
    if mask is None:
        return Plan(name, "dense", None, None)
    lengths = prefix_lengths(mask)
    if lengths is None:
        return _refuse("mask is not post-padding (True on a prefix of every row)")
    if int(lengths.min()) == 0:
        return _refuse("a row of the mask has no real step")
    if int(lengths.min()) == mask.shape[1]:
        return Plan(name, "dense", None, None)
    mode = "packed" if name == "lstm" and need_cell_state else "gather"
    return Plan(name, mode, lengths, None)


def _weights(cell):
    # Contiguous copies: the oneDNN kernel copies strided views far more slowly.
    weights = [cell.kernel.value.T.contiguous(), cell.recurrent_kernel.value.T.contiguous()]
    if cell.use_bias:
        weights += [cell.bias.value, cell.recurrent_bias.value]
    return weights


def _reverse(x, lengths):
    """Reverses axis 1, each row within its own length (padding stays in place)."""
    import torch

    if lengths is None:
        return torch.flip(x, dims=(1,))
    steps = torch.arange(x.shape[1], device=x.device)[None, :]
    flipped = lengths[:, None] - 1 - steps
    index = torch.where(flipped >= 0, flipped, steps)
    return x.gather(1, index[:, :, None].expand(-1, -1, x.shape[2]))


def _run_packed(kernel, x, lengths, hx, weights, has_biases, train):
    from torch.nn.utils import rnn as rnn_utils

    packed = rnn_utils.pack_padded_sequence(
        x, lengths.cpu(), batch_first=True, enforce_sorted=False
    )
    hx = [h.index_select(1, packed.sorted_indices) for h in hx]
    result = kernel(
        packed.data, packed.batch_sizes, tuple(hx), weights, has_biases, 1, 0.0, train, False
    )
    output = rnn_utils.PackedSequence(
        result[0], packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices
    )
    output, _ = rnn_utils.pad_packed_sequence(output, batch_first=True, total_length=x.shape[1])
    states = [s.index_select(1, packed.unsorted_indices)[0] for s in result[1:]]
    return output, states


def recur(
    cell,
    inputs,
    mask,
    initial_state,
    reverse,
    training=True,
    recurrent_mask=None,
    need_cell_state=True,
):
    """`keras_seq.backend.recur` through a fused kernel.

    `training` is unused (the kernel trains when autograd records); `need_cell_state`:
    whether the caller uses the final LSTM cell state (if not, a masked LSTM may return None
    in its place).

    Raises:
        NotImplementedError: with `fused_plan`'s reason.
    """
    plan = fused_plan(cell, inputs, mask, recurrent_mask, need_cell_state)
    if plan.reason is not None:
        raise NotImplementedError(plan.reason)
    import torch

    kernel = getattr(torch._VF, plan.kernel)
    weights = _weights(cell)
    hx = [keras.ops.convert_to_tensor(s)[None] for s in initial_state]
    train = torch.is_grad_enabled()
    lengths = plan.lengths
    x = _reverse(inputs, lengths) if reverse else inputs
    if plan.mode == "packed":
        outputs, states = _run_packed(kernel, x, lengths, hx, weights, cell.use_bias, train)
    else:
        hx = tuple(hx) if plan.kernel == "lstm" else hx[0]
        result = kernel(x, hx, weights, cell.use_bias, 1, 0.0, train, False, True)
        outputs = result[0]
        states = [s[0] for s in result[1:]]
        if plan.mode == "gather":
            last = (lengths - 1)[:, None, None].expand(-1, 1, outputs.shape[2])
            states = [outputs.gather(1, last)[:, 0]] + [None] * (len(states) - 1)
    if reverse:
        outputs = _reverse(outputs, lengths)
    if plan.mode == "gather":
        outputs = torch.where(mask[:, :, None], outputs, torch.zeros((), dtype=outputs.dtype))
    return outputs, states


def stack_reason(cells, inputs, mask, recurrent_dropout, merge, between_dropout):
    """Why `recur_stack` refuses these layers (a list of per-layer cell lists), or None."""
    if recurrent_dropout:
        return "recurrent dropout is active"
    if len(cells[0]) == 1 and cells[0][0].name.startswith("backward"):
        return "a single backward direction (the kernel reads forward first)"
    for layer_cells in cells:
        for cell in layer_cells:
            plan = fused_plan(cell, inputs, mask, None, True)
            if plan.reason is not None:
                return plan.reason
            if plan.mode != "dense":
                return f"mode {plan.mode!r}: the directions need their own calls"
            if type(cell) is not type(cells[0][0]) or cell.units != cells[0][0].units:
                return "the layers differ in cell type or size"
            if plan.kernel != _kernel_name(cells[0][0]):
                return "the layers differ in activation"
    if len(cells) > 1 and len(cells[0]) > 1 and merge != "concat":
        return f"merge={merge!r} between layers (the kernel concatenates)"
    if len(cells) > 1 and between_dropout:
        return "dropout between layers is active"
    return None


def recur_stack(cells, inputs, mask, first_states, recurrent_dropout, merge, between_dropout):
    """Several layers, each with one or two directions, in one fused kernel call.

    `cells`: per layer, its cells (forward first); `stack_reason` says what is refused.
    `first_states`: per direction, the first layer's initial states (other layers start
    from zeros). Returns `(outputs, finals)` of the last layer: outputs (batch, time,
    units) and final states per direction.

    Raises:
        NotImplementedError: with `stack_reason`'s reason.
    """
    reason = stack_reason(cells, inputs, mask, recurrent_dropout, merge, between_dropout)
    if reason is not None:
        raise NotImplementedError(reason)
    directions = len(cells[0])
    import torch

    name = _kernel_name(cells[0][0])
    kernel = getattr(torch._VF, name)
    weights = [w for layer_cells in cells for cell in layer_cells for w in _weights(cell)]
    count = len(first_states[0])
    hx = []
    for i in range(count):
        zeros = torch.zeros_like(keras.ops.convert_to_tensor(first_states[0][i]))
        first = [keras.ops.convert_to_tensor(states[i]) for states in first_states]
        hx.append(torch.stack(first + [zeros] * (directions * (len(cells) - 1))))
    hx = tuple(hx) if name == "lstm" else hx[0]
    train = torch.is_grad_enabled()
    use_bias = cells[0][0].use_bias
    result = kernel(inputs, hx, weights, use_bias, len(cells), 0.0, train, directions == 2, True)
    # Split here and joined again by the layer's merge rather than passed through whole: the
    # join hands the kernel's backward a contiguous gradient (docs/speed.md measures both).
    outputs = list(torch.chunk(result[0], directions, dim=-1))
    last = len(cells) * directions - directions
    finals = [[s[last + d] for s in result[1:]] for d in range(directions)]
    return outputs, finals
