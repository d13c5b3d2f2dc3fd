"""`Seq2Seq`: an encoder-decoder that writes an output sequence for each input sequence."""

import keras
import numpy as np
from keras import ops

from keras_seq.data import encode_seq2seq, readers
from keras_seq.data.vocabulary import BOS, EOS, TARGET_SPECIALS, Vocabulary
from keras_seq.layers import StateBridge, TokenEmbedding
from keras_seq.tasks import blocks
from keras_seq.tasks.inputs import front
from keras_seq.tasks.task import register_task
from keras_seq.tasks.tokens import TokenTask, tokens_of

BOS_ID = TARGET_SPECIALS.index(BOS)
EOS_ID = TARGET_SPECIALS.index(EOS)


@register_task("seq2seq")
class Seq2Seq(TokenTask):
    """Rewrites token sequences: records `{"source": [...], "target": [...]}`.

    The encoder's final states pass through a `StateBridge` to the decoder, which is trained
    with teacher forcing (its input is `<bos>` + target, its target is target + `<eos>`) and
    generates with `generate()`. Reads CSV / JSONL (`data.source_column`,
    `data.target_column`). A prediction is the generated target tokens joined by spaces.

    Attributes (once built or loaded): `encoder`, `bridge`, `target_embedding`, `decoder`,
    `output_layer`: the model's layers that `generate()` runs step by step.

    Examples:

    >>> import keras_seq
    >>> task = keras_seq.tasks.Task.for_spec('''
    ... input: {kind: tokens, embedding_dim: 8, max_length: 6}
    ... encoder: {cell: gru, units: 8}
    ... head: {type: seq2seq}
    ... seed: 1
    ... ''')
    >>> records = [{"source": ["a", "b"], "target": ["b", "a"]}]
    >>> _ = task.learn(records).build_model()
    >>> isinstance(task.predict([["a", "b"]])[0], str)
    True
    """

    input_key, target_key, input_column = "source", "target", "source_column"
    sizes = {**TokenTask.sizes, "labels": "head.target_vocab_size"}
    bundled = {"format": "jsonl"}

    def read(self, path):
        data = self.data_section()
        sources, targets = readers.read_pairs(
            path, data.format, data.source_column, data.target_column
        )
        return [{"source": s, "target": t} for s, t in zip(sources, targets)]

    def learn_state(self, records):
        size = self.spec.head.target_vocab_size
        labels = Vocabulary.build(
            [record["target"] for record in records],
            max_size=None if size == "auto" else size,
            specials=TARGET_SPECIALS,
        )
        return {**super().learn_state(records), "labels": labels}

    def output_length(self):
        return self.spec.head.max_output_length or self.spec.input.max_length

    def encode(self, records):
        return encode_seq2seq(
            [tokens_of(r["source"]) for r in records],
            [tokens_of(r["target"]) for r in records],
            self.state["vocab"],
            self.state["labels"],
            self.spec.input.max_length,
            self.output_length(),
        )

    def build_layers(self):
        spec = self.spec
        encoder_spec, decoder_spec = spec.encoder, spec.head.decoder
        source, sequence = front(spec)
        self.encoder = blocks.recurrent(
            spec, encoder_spec, "encoder", return_sequences=False, return_state=True
        )
        _, *final_states = self.encoder(sequence)
        decoder_tokens = keras.Input((self.output_length(),), dtype="int32", name="decoder_tokens")
        self.target_embedding = TokenEmbedding(
            spec.head.target_vocab_size,
            decoder_spec.embedding_dim,
            embeddings_initializer=blocks.initializer("random_uniform", "target_embedding"),
            mask_zero=True,
            name="target_embedding",
        )
        self.bridge = StateBridge(
            decoder_spec.units,
            encoder_spec.cell,
            decoder_spec.cell,
            directions=2 if encoder_spec.direction == "bidirectional" else 1,
            kernel_initializer=blocks.initializer("glorot_uniform", "bridge/kernel"),
            bias_initializer=blocks.initializer("zeros", "bridge/bias"),
            name="bridge",
        )
        self.decoder = blocks.recurrent(spec, decoder_spec, "decoder")
        decoded = self.decoder(
            self.target_embedding(decoder_tokens), initial_state=self.bridge(final_states)
        )
        self.output_layer = blocks.dense(spec.head.target_vocab_size, "softmax")
        return [source, decoder_tokens], self.output_layer(decoded)

    def bind(self, model):
        """Takes the layers `generate()` needs from a loaded model."""
        for name, attribute in (
            ("encoder", "encoder"),
            ("bridge", "bridge"),
            ("target_embedding", "target_embedding"),
            ("decoder", "decoder"),
            ("head", "output_layer"),
        ):
            setattr(self, attribute, model.get_layer(name))

    def default_loss(self):
        return "sparse_categorical_crossentropy"

    def default_metrics(self):
        return ["accuracy"]

    def generate(self, source_ids, max_length=None):
        """Output token ids for source ids, greedily: `<bos>` first, each next input the
        previous step's most probable token, a row done at `<eos>`.

        Args:
            source_ids: int array (batch, source time), 0-padded.
            max_length: int, optional. Most tokens generated per row, `<eos>` included;
                default the decoder's input length (`head.max_output_length`, else
                `input.max_length`), or twice the source length when both are unset.

        Returns:
            int32 array (batch, steps): generated ids, each row ending with `<eos>` when it was
            produced in time, 0 after it.
        """
        model = self._model()
        source_ids = np.asarray(source_ids)
        max_length = max_length or self.output_length() or 2 * source_ids.shape[1]
        states = self._first_states(model, source_ids)
        batch = source_ids.shape[0]
        states = [states] + [cells[0].get_initial_state(batch) for cells in self.decoder.cells[1:]]
        token = np.full((batch,), BOS_ID, dtype="int32")
        done = np.zeros((batch,), dtype=bool)
        generated = []
        for _ in range(max_length):
            x = ops.take(self.target_embedding.embeddings, ops.convert_to_tensor(token), axis=0)
            for k, cells in enumerate(self.decoder.cells):
                x, states[k] = cells[0](x, states[k])
            token = np.argmax(ops.convert_to_numpy(self.output_layer(x)), axis=-1).astype("int32")
            token = np.where(done, 0, token)
            generated.append(token)
            done |= token == EOS_ID
            if done.all():
                break
        return np.stack(generated, axis=1)

    def _first_states(self, model, source_ids):
        if getattr(self, "_state_model", None) is None:
            self._state_model = keras.Model(model.inputs[0], self.bridge.output)
        states = self._state_model(ops.convert_to_tensor(source_ids), training=False)
        return list(states) if isinstance(states, (list, tuple)) else [states]

    def predict(self, inputs, batch_size=None):
        inputs = list(inputs)
        ids = self.encode_inputs(inputs)
        size = batch_size or self.spec.training.batch_size
        rows = [
            row
            for start in range(0, len(ids), size)
            for row in self.generate(ids[start : start + size])
        ]
        return [" ".join(self.state["labels"].decode(row)) for row in rows]

    def extra_scores(self, records, encoded, scores):
        """Exact match and token accuracy of *generated* outputs (Keras' own accuracy is
        teacher-forced: each step sees the true previous token)."""
        scores = super().extra_scores(records, encoded, scores)
        predicted = [p.split() for p in self.predict([r["source"] for r in records])]
        gold = [tokens_of(r["target"]) for r in records]
        scores["exact_match"] = float(np.mean([p == g for p, g in zip(predicted, gold)]))
        matched = sum(sum(a == b for a, b in zip(p, g)) for p, g in zip(predicted, gold))
        scores["generated_token_accuracy"] = matched / max(1, sum(len(g) for g in gold))
        if "accuracy" in scores:
            scores["teacher_forced_accuracy"] = scores.pop("accuracy")
        return scores
