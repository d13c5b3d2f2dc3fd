"""Reference workloads: shapes, seeded synthetic data and one model builder per implementation.

Three implementations build the same network for each workload:

- ``keras-seq``: `keras_seq.Recurrent` inside a Keras model (any backend).
- ``builtin``: Keras' own `keras.layers.LSTM` / `GRU` / `SimpleRNN` (+ `Bidirectional`).
- ``torch``: native PyTorch `nn.LSTM` / `nn.GRU` / `nn.RNN` with a hand-written train step
  (padded batches go through `pack_padded_sequence`, the idiomatic PyTorch way).

Every builder returns a `Harness` with `train_step()` and `predict()` closures over fixed data,
so the worker times only the step itself.
"""

import dataclasses

import numpy as np

# Cells with a recurrent matmul, which Keras and PyTorch have too; the others are keras-seq's only.
RECURRENT_MATMUL = ("lstm", "gru", "simple")


@dataclasses.dataclass(frozen=True)
class Workload:
    name: str
    description: str
    cell: str  # "lstm" | "gru" | "simple" | "mingru" (keras-seq only)
    units: int
    layers: int
    bidirectional: bool
    batch: int
    length: int
    vocab: int = 0  # 0: float features instead of tokens
    embed: int = 0
    features: int = 0
    head: str = "tagger"  # "tagger" (per token) | "classifier" (last state) | "regressor"
    classes: int = 10
    min_length: int = 0  # > 0: post-padded batch with lengths uniform in [min_length, length]
    mask_zero: bool = False  # the embedding emits a mask (always with min_length)
    opt_in: bool = False  # run only when named (Keras' built-in LSTM on torch: ~11 s a step)

    def flops(self):
        """Multiply-adds x 2 of the recurrent layers' forward pass (x W_ih and h W_hh)."""
        gates = {"lstm": 4, "gru": 3, "simple": 1, "mingru": 2}[self.cell]
        recurrent = self.units if self.cell in RECURRENT_MATMUL else 0
        directions = 2 if self.bidirectional else 1
        total, features = 0, self.embed or self.features
        for _ in range(self.layers):
            total += 2 * self.batch * self.length * (features + recurrent) * gates * self.units
            features = self.units * directions
        return total * directions


# fmt: off
WORKLOADS = {
    w.name: w
    for w in [
        Workload(
            "tagger",
            "BiLSTM tagger: batch 32, len 64, vocab 5000, emb 64, 2x bidirectional LSTM 128",
            cell="lstm", units=128, layers=2, bidirectional=True, batch=32, length=64,
            vocab=5000, embed=64, head="tagger", classes=10,
        ),
        Workload(
            "gru_classifier",
            "GRU classifier: batch 32, len 64, vocab 5000, emb 64, 1x GRU 128, last state -> 5",
            cell="gru", units=128, layers=1, bidirectional=False, batch=32, length=64,
            vocab=5000, embed=64, head="classifier", classes=5,
        ),
        Workload(
            "tagger_masked",
            "as tagger, no padding, but mask_zero (a mask every step is True)",
            cell="lstm", units=128, layers=2, bidirectional=True, batch=32, length=64,
            vocab=5000, embed=64, head="tagger", classes=10, mask_zero=True,
        ),
        Workload(
            "rnn_classifier",
            "simple RNN classifier: as gru_classifier with a tanh Elman RNN",
            cell="simple", units=128, layers=1, bidirectional=False, batch=32, length=64,
            vocab=5000, embed=64, head="classifier", classes=5,
        ),
        Workload(
            "long",
            "long sequence: batch 16, len 512, 16 features, 1x LSTM 128, last state -> 1",
            cell="lstm", units=128, layers=1, bidirectional=False, batch=16, length=512,
            features=16, head="regressor", classes=1,
        ),
        Workload(
            "long_gru",
            "as long with a GRU 128",
            cell="gru", units=128, layers=1, bidirectional=False, batch=16, length=512,
            features=16, head="regressor", classes=1, opt_in=True,
        ),
        Workload(
            "long_mingru",
            "as long with minGRU 128 (parallel scan over time; keras-seq only)",
            cell="mingru", units=128, layers=1, bidirectional=False, batch=16, length=512,
            features=16, head="regressor", classes=1, opt_in=True,
        ),
        Workload(
            "tagger_large",
            "as tagger at batch 256, len 128: memory that grows with the batch, not one-off costs",
            cell="lstm", units=128, layers=2, bidirectional=True, batch=256, length=128,
            vocab=5000, embed=64, head="tagger", classes=10, opt_in=True,
        ),
        Workload(
            "padded",
            "padded tagger: as tagger, post-padded, lengths uniform 10-64, mask_zero",
            cell="lstm", units=128, layers=2, bidirectional=True, batch=32, length=64,
            vocab=5000, embed=64, head="tagger", classes=10, min_length=10,
        ),
    ]
}
# fmt: on

QUICK = ["tagger", "padded"]
DEFAULT = [name for name, w in WORKLOADS.items() if not w.opt_in]


def make_data(w, seed=0):
    """Seeded inputs and targets as NumPy arrays, plus per-row lengths."""
    rng = np.random.default_rng(seed)
    if w.min_length:
        lengths = rng.integers(w.min_length, w.length + 1, size=w.batch)
    else:
        lengths = np.full(w.batch, w.length)
    valid = np.arange(w.length)[None, :] < lengths[:, None]
    if w.vocab:
        x = rng.integers(1, w.vocab, size=(w.batch, w.length)).astype("int32") * valid
    else:
        x = rng.normal(size=(w.batch, w.length, w.features)).astype("float32")
    if w.head == "tagger":
        y = rng.integers(0, w.classes, size=(w.batch, w.length)).astype("int32")
    elif w.head == "classifier":
        y = rng.integers(0, w.classes, size=(w.batch,)).astype("int32")
    else:
        y = rng.normal(size=(w.batch, 1)).astype("float32")
    return x, y, lengths.astype("int64")


@dataclasses.dataclass
class Harness:
    train_step: object
    predict: object


def build(impl, w, seed=0):
    x, y, lengths = make_data(w, seed)
    if impl == "torch":
        return _build_torch(w, x, y, lengths)
    return _build_keras(impl, w, x, y)


def _build_keras(impl, w, x, y):
    model = keras_model(impl, w)
    return Harness(
        train_step=lambda: model.train_on_batch(x, y),
        predict=lambda: model.predict_on_batch(x),
    )


def keras_model(impl, w, free_length=False):
    """The compiled Keras model of `w` for `impl` ("keras-seq" or "builtin"); `free_length`
    leaves the time axis unknown (batches of any width)."""
    import keras

    keras.utils.set_random_seed(0)
    length = None if free_length else w.length
    if w.vocab:
        inputs = keras.Input((length,), dtype="int32")
        h = keras.layers.Embedding(w.vocab, w.embed, mask_zero=w.mask_zero or bool(w.min_length))(
            inputs
        )
    else:
        inputs = keras.Input((length, w.features))
        h = inputs
    sequences = w.head == "tagger"
    if impl == "keras-seq":
        import keras_seq

        h = keras_seq.Recurrent(
            w.cell,
            w.units,
            layers=w.layers,
            direction="bidirectional" if w.bidirectional else "forward",
            return_sequences=sequences,
        )(h)
    else:
        layer_cls = {
            "lstm": keras.layers.LSTM,
            "gru": keras.layers.GRU,
            "simple": keras.layers.SimpleRNN,
        }[w.cell]
        for k in range(w.layers):
            last = k == w.layers - 1
            layer = layer_cls(w.units, return_sequences=sequences or not last)
            h = keras.layers.Bidirectional(layer)(h) if w.bidirectional else layer(h)
    if w.head == "regressor":
        outputs = keras.layers.Dense(1)(h)
        loss = "mse"
    else:
        outputs = keras.layers.Dense(w.classes, activation="softmax")(h)
        loss = "sparse_categorical_crossentropy"
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss=loss)
    return model


def _build_torch(w, x, y, lengths):
    import torch

    native = TorchModel(w)
    xt, lt = native.inputs(x), torch.from_numpy(lengths)
    target = native.target(x, y)
    return Harness(
        train_step=lambda: native.train_step(xt, lt, target),
        predict=lambda: native.predict(xt, lt),
    )


class TorchModel:
    """`w` in native PyTorch with Adam and a hand-written train step; padded batches (`w`'s
    `min_length`) go through `pack_padded_sequence`. Batches may have any width."""

    def __init__(self, w):
        import torch
        from torch import nn

        torch.manual_seed(0)
        self.w, self.net = w, _torch_net(w)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        if w.head == "regressor":
            self.loss = nn.functional.mse_loss
        elif w.head == "classifier":
            self.loss = nn.functional.cross_entropy
        else:

            def tagger_loss(out, target):
                return nn.functional.cross_entropy(
                    out.reshape(-1, w.classes), target.reshape(-1), ignore_index=-100
                )

            self.loss = tagger_loss

    def inputs(self, x):
        import torch

        xt = torch.from_numpy(x)
        return xt.long() if self.w.vocab else xt

    def target(self, x, y):
        """The loss target of `y`: padding positions ignored, as Keras' masked loss does."""
        import torch

        yt = torch.from_numpy(y)
        if self.w.head == "regressor":
            return yt
        if self.w.head == "tagger" and self.w.min_length:
            return torch.where(torch.from_numpy(x) == 0, -100, yt).long()
        return yt.long()

    def train_step(self, xt, lt, target):
        self.net.train()
        self.opt.zero_grad()
        loss = self.loss(self.net(xt, lt), target)
        loss.backward()
        self.opt.step()
        return loss.item()

    def predict(self, xt, lt):
        import torch

        self.net.eval()
        with torch.no_grad():
            out = self.net(xt, lt)
            if self.w.head != "regressor":
                out = torch.softmax(out, dim=-1)
            return out.numpy()


def _torch_net(w):
    import torch
    from torch import nn
    from torch.nn.utils import rnn as rnn_utils

    rnn_cls = {"lstm": nn.LSTM, "gru": nn.GRU, "simple": nn.RNN}[w.cell]
    directions = 2 if w.bidirectional else 1
    padded = bool(w.min_length)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            if w.vocab:
                self.embed = nn.Embedding(w.vocab, w.embed, padding_idx=0)
            self.rnn = rnn_cls(
                w.embed or w.features,
                w.units,
                num_layers=w.layers,
                bidirectional=w.bidirectional,
                batch_first=True,
            )
            self.out = nn.Linear(w.units * directions, w.classes)

        def forward(self, x, lengths):
            h = self.embed(x) if w.vocab else x
            if padded:
                packed = rnn_utils.pack_padded_sequence(
                    h, lengths, batch_first=True, enforce_sorted=False
                )
                seq, state = self.rnn(packed)
                seq, _ = rnn_utils.pad_packed_sequence(
                    seq, batch_first=True, total_length=x.shape[1]
                )
            else:
                seq, state = self.rnn(h)
            if w.head == "tagger":
                return self.out(seq)
            h_n = state[0] if w.cell == "lstm" else state
            last = torch.cat([h_n[-directions + d] for d in range(directions)], dim=-1)
            return self.out(last)

    return Net()
