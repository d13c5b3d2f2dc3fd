"""`Seq2Seq`: an encoder-decoder that writes an output sequence for each input sequence."""

import collections

import keras
import numpy as np
from keras import ops

from keras_seq import decoding
from keras_seq.data import encode_seq2seq, readers
from keras_seq.data.bundled import BUNDLED
from keras_seq.data.vocabulary import TARGET_SPECIALS, Vocabulary
from keras_seq.decoding import BOS_ID, EOS_ID, PAD_ID
from keras_seq.layers import Attention, StateBridge, TokenEmbedding
from keras_seq.tasks import blocks
from keras_seq.tasks.inputs import front
from keras_seq.tasks.task import register_task
from keras_seq.tasks.tokens import TokenTask, input_list, tokens_of

# `<pad>` and `<bos>` are inputs, never outputs: generation does not produce them (a `<pad>` in
# the middle of an output would be masked if fed back to the model, and vanish when decoded).
NEVER_GENERATED = [PAD_ID, BOS_ID]


_DECODING = """Generating with the exported graph (greedy): set `tokens` to the padded source
ids and `decoder_tokens` to `<bos>` (id {bos}) followed by zeros; run the graph, take the
argmax at the last filled position, write it into the next position, and repeat until `<eos>`
(id {eos}) or the decoder length. Each step re-runs the whole graph (the encoder too): simple
and exact, slower than keras-seq's own step-by-step `generate`."""


_MEMORY = """The model remembers its training pairs (`head.memory`): `preprocessing.json`'s
`memory` lists [source tokens, target tokens]. A source found there (lowercased first when
`input.lowercase` is set) gets its target as it is; only the others are generated."""


@register_task("seq2seq")
class Seq2Seq(TokenTask):
    """Rewrites token sequences: records `{"source": [...], "target": [...]}`.

    The encoder's final states pass through a `StateBridge` to the decoder, which is trained
    with teacher forcing (its input is `<bos>` + target, its target is target + `<eos>`) and
    generates with `generate()`. Reads CSV / JSONL (`data.source_column`,
    `data.target_column`). A prediction is the generated target tokens joined by spaces.

    With `head.attention` (`luong` or `bahdanau`), the decoder's state h_t at each step attends
    over the encoder's per-step outputs (source padding gets zero weight), and the output
    layer reads Luong's attentional state tanh(W_c [context_t; h_t]) instead of h_t (no input
    feeding: the decoder's input stays the previous token's embedding, so training runs the
    decoder over the whole target at once). `head.beam_size` > 1 makes `generate()` (and so
    `predict` and `evaluate`) run beam search instead of greedy decoding.

    With `head.memory`, `learn` also keeps each training source's most frequent target
    (`state["memory"]`, ties to the first seen) and `predict` answers a source seen in training
    from it, generating only for the others: a word seen in training keeps its attested lemma,
    and the network's capacity goes to the unseen ones.

    Attributes (once built or loaded): `encoder`, `bridge`, `target_embedding`, `decoder`,
    `attention` (None without attention), `output_layer`: the model's layers that
    `generate()` runs step by step.

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
    bundled = BUNDLED["seq2seq"]
    graph_outputs = (
        "probabilities (batch, decoder time, target labels), teacher-forced: step t "
        "gives the token after decoder_tokens[:, t]"
    )
    speed_unit = "words"

    def export_preprocessing(self):
        """`target_special_ids`: the ids of `<bos>` and `<eos>`, to generate with the graph;
        `memory`: the remembered [source, target] token lists (`head.memory`)."""
        tokens = self.state["labels"].tokens
        info = {"target_special_ids": {t: tokens.index(t) for t in ("<bos>", "<eos>")}}
        if "memory" in self.state:
            info["memory"] = self.state["memory"]
        return info

    def card_sections(self, info):
        """How to generate with the exported (teacher-forced) graph."""
        special = info["target_special_ids"]
        sections = [_DECODING.format(bos=special["<bos>"], eos=special["<eos>"])]
        if "memory" in info:
            sections.append(_MEMORY)
        return sections

    def records(self, path, lines=None, header=None):
        data = self.data_section()
        columns = (data.source_column, data.target_column)
        rows = readers.iter_pairs(
            path, data.format, *columns, lines, header, delimiter=data.delimiter
        )
        for s, t in rows:
            yield {"source": s, "target": t}

    def learn_state(self, records):
        size = self.spec.head.target_vocab_size
        labels = Vocabulary.build(
            (record["target"] for record in records),
            max_size=None if size == "auto" else size,
            specials=TARGET_SPECIALS,
        )
        state = {**super().learn_state(records), "labels": labels}
        if self.spec.head.memory:
            state["memory"] = _most_frequent_targets(records, self._memory_key)
        return state

    def _memory_lookup(self):
        """`{source key: target text}` of `state["memory"]`, made once per learned memory
        (predict runs per request when served)."""
        pairs = self.state.get("memory", ())
        if getattr(self, "_lookup_source", None) is not pairs:
            self._lookup = {" ".join(s): " ".join(t) for s, t in pairs}
            self._lookup_source = pairs
        return self._lookup

    def _memory_key(self, source):
        """A source as `head.memory` looks it up: its tokens, lowercased with the input."""
        tokens = tokens_of(source)
        return (
            " ".join(t.lower() for t in tokens) if self.spec.input.lowercase else " ".join(tokens)
        )

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
        attends = spec.head.attention != "none"
        self.encoder = blocks.recurrent(
            spec, encoder_spec, "encoder", return_sequences=attends, return_state=True
        )
        encoded, *final_states = self.encoder(sequence)
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
        self.attention = None
        if attends:
            self.attention = Attention(
                spec.head.attention,
                output_units=decoder_spec.units,
                kernel_initializer=blocks.initializer("glorot_uniform", "attention/kernel"),
                name="attention",
            )
            decoded = self.attention([decoded, encoded])
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
        self.attention = (
            model.get_layer("attention") if self.spec.head.attention != "none" else None
        )

    def generate(self, source_ids, max_length=None, beam_size=None):
        """Output token ids for source ids: `<bos>` first, a row done at `<eos>`.

        With beam size 1 each next input is the previous step's most probable token (greedy);
        with more, `keras_seq.decoding.beam_search` keeps that many hypotheses and returns
        the best by mean log-probability per token. `<pad>` and `<bos>` are never generated.

        Args:
            source_ids: int array (batch, source time), 0-padded.
            max_length: int, optional. Most tokens generated per row, `<eos>` included;
                default the decoder's input length (`head.max_output_length`, else
                `input.max_length`), or twice the source length when both are unset.
            beam_size: int, optional. Default `head.beam_size`.

        Returns:
            int32 array (batch, steps): generated ids, each row ending with `<eos>` when it was
            produced in time, 0 after it.
        """
        source_ids = np.asarray(source_ids)
        max_length = max_length or self.output_length() or 2 * source_ids.shape[1]
        beam_size = beam_size or self.spec.head.beam_size
        states = self._first_states(source_ids)
        if beam_size == 1:
            return decoding.greedy_search(self._step, states, max_length)
        return decoding.beam_search(self._step, states, beam_size, max_length)[0]

    def _step(self, tokens, states):
        """One decoder step for `keras_seq.decoding`: the previous tokens -> log-probs."""
        x = ops.take(self.target_embedding.embeddings, ops.convert_to_tensor(tokens), axis=0)
        layer_states = []
        for cells, previous in zip(self.decoder.cells, states["decoder"]):
            x, new = cells[0](x, previous)
            layer_states.append(new)
        if self.attention is not None:
            x = self.attention([x, states["encoded"]], mask=[None, states["source_mask"]])
        probabilities = ops.convert_to_numpy(self.output_layer(x)).astype("float64")
        with np.errstate(divide="ignore"):
            log_probs = np.log(probabilities)
        log_probs[:, NEVER_GENERATED] = -np.inf
        return log_probs, {**states, "decoder": layer_states}

    def _first_states(self, source_ids):
        """The step function's states: every decoder layer's, and the encoder's outputs and
        the source mask when the decoder attends."""
        if getattr(self, "_state_model", None) is None:
            outputs = keras.tree.flatten(self.bridge.output)
            if self.attention is not None:
                outputs = [self.encoder.output[0], *outputs]
            self._state_model = keras.Model(self._model().inputs[0], outputs)
        outputs = self._state_model(ops.convert_to_tensor(source_ids), training=False)
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        states = {}
        if self.attention is not None:
            states["encoded"] = outputs.pop(0)
            states["source_mask"] = source_ids != 0
        batch = source_ids.shape[0]
        later = [cells[0].get_initial_state(batch) for cells in self.decoder.cells[1:]]
        states["decoder"] = [outputs, *later]
        return states

    def predict(self, inputs, batch_size=None):
        """Generated (or, with `head.memory`, remembered) texts for raw inputs (a list; one
        text alone is one input)."""
        inputs = input_list(inputs)
        memory = self._memory_lookup()
        found = [memory.get(self._memory_key(item)) for item in inputs]
        todo = [i for i, target in enumerate(found) if target is None]
        for i, text in zip(todo, self._generated([inputs[i] for i in todo], batch_size)):
            found[i] = text
        return found

    def _generated(self, inputs, batch_size):
        """`generate`'s outputs for raw inputs, as texts."""
        if not inputs:
            return []
        ids = self.encode_inputs(inputs)
        size = batch_size or self.spec.training.batch_size
        rows = [
            row
            for start in range(0, len(ids), size)
            for row in self.generate(ids[start : start + size])
        ]
        return [" ".join(self.state["labels"].decode(row)) for row in rows]

    def extra_scores(self, records, encoded, scores, predictions=None):
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


def _most_frequent_targets(records, key):
    """[source tokens, target tokens] for each distinct source `key` of `records`, with its
    most frequent target (ties: the first seen), sorted by source."""
    counts = {}
    for record in records:
        target = tuple(tokens_of(record["target"]))
        counts.setdefault(key(record["source"]), collections.Counter())[target] += 1
    return [
        [source.split(" "), list(targets.most_common(1)[0][0])]
        for source, targets in sorted(counts.items())
    ]


__all__ = ["Seq2Seq", "BOS_ID", "EOS_ID"]
