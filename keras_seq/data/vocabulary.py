"""`Vocabulary`: tokens (or labels) to integer ids and back, saved as a plain text file."""

import collections
from pathlib import Path

from keras_seq.data.errors import read_text

PAD = "<pad>"
OOV = "<unk>"
BOS = "<bos>"
EOS = "<eos>"
TOKEN_SPECIALS = (PAD, OOV)
TARGET_SPECIALS = (PAD, OOV, BOS, EOS)


class Vocabulary:
    """An ordered list of tokens; a token's id is its position.

    Token vocabularies start with `TOKEN_SPECIALS`: id 0 is `<pad>` (padding, masked by the
    model) and id 1 is `<unk>` (out-of-vocabulary). A seq2seq target vocabulary adds id 2
    `<bos>` (first decoder input) and id 3 `<eos>` (last decoder target). A label set has no
    specials: its ids are 0..C-1, and a label it lacks has no id (`id()` returns None).

    Args:
        tokens: sequence of str. `tokens[i]` gets id `i`; no duplicates.
        lowercase: bool. Lowercase tokens before looking them up.

    Examples:

    >>> import keras_seq
    >>> vocab = keras_seq.Vocabulary.build([["The", "cat"], ["the", "dog"]], lowercase=True)
    >>> vocab.tokens
    ['<pad>', '<unk>', 'the', 'cat', 'dog']
    >>> vocab.encode(["The", "bird"])
    [2, 1]
    >>> vocab.decode([2, 3, 0, 0])
    ['the', 'cat']
    """

    def __init__(self, tokens, lowercase=False):
        self.tokens = list(tokens)
        self.lowercase = lowercase
        self._ids = {token: i for i, token in enumerate(self.tokens)}
        if len(self._ids) != len(self.tokens):
            twice = [t for t, n in collections.Counter(self.tokens).items() if n > 1]
            raise ValueError(f"duplicate tokens in a vocabulary: {twice[:5]}")
        self.oov_id = self._ids.get(OOV)
        self.pad_id = self._ids.get(PAD)
        self.eos_id = self._ids.get(EOS)

    @classmethod
    def build(
        cls, sequences, *, min_frequency=1, max_size=None, lowercase=False, specials=TOKEN_SPECIALS
    ):
        """Learns a vocabulary from token lists (use the training split only).

        Tokens are ordered by falling frequency, ties alphabetically, after the `specials`.

        Args:
            sequences: iterable of lists of str.
            min_frequency: int. Tokens seen fewer times are left out (and so map to `<unk>`).
            max_size: int, optional. At most this many ids, specials included (the most frequent
                tokens are kept): the spec's `vocab_size` when it is an integer.
            lowercase: bool. Lowercase every token.
            specials: tuple of str. Reserved tokens taking the first ids.
        """
        counts = collections.Counter(
            token.lower() if lowercase else token for tokens in sequences for token in tokens
        )
        for token in specials:
            counts.pop(token, None)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        kept = [token for token, count in ranked if count >= min_frequency]
        if max_size is not None:
            kept = kept[: max(0, max_size - len(specials))]
        return cls(list(specials) + kept, lowercase=lowercase)

    @classmethod
    def from_labels(cls, labels):
        """A label set: the distinct labels, sorted, with ids 0..C-1 and no specials."""
        return cls(sorted(set(labels)))

    def __len__(self):
        return len(self.tokens)

    def __contains__(self, token):
        return self.id(token) is not None

    def __eq__(self, other):
        return (
            isinstance(other, Vocabulary)
            and self.tokens == other.tokens
            and self.lowercase == other.lowercase
        )

    def __repr__(self):
        return f"Vocabulary({len(self)} tokens, lowercase={self.lowercase})"

    def id(self, token):
        """The id of `token`, or None if it is not in the vocabulary."""
        return self._ids.get(token.lower() if self.lowercase else token)

    def encode(self, tokens):
        """Token ids; unknown tokens get the `<unk>` id (a `KeyError` in a label set)."""
        ids = [self.id(token) for token in tokens]
        if self.oov_id is None and None in ids:
            raise KeyError(f"{tokens[ids.index(None)]!r} is not in this label set")
        return [self.oov_id if i is None else i for i in ids]

    def decode(self, ids):
        """Tokens for `ids`, leaving out padding and stopping at the first `<eos>`."""
        tokens = []
        for i in ids:
            i = int(i)
            if i == self.eos_id:
                break
            if i != self.pad_id:
                tokens.append(self.tokens[i])
        return tokens

    def save(self, path):
        """Writes one token per line (line n, counting from 0, holds id n), UTF-8."""
        bad = [token for token in self.tokens if "\n" in token or "\r" in token]
        if bad:
            raise ValueError(f"tokens with line breaks cannot be saved: {bad[:5]}")
        Path(path).write_text("".join(token + "\n" for token in self.tokens), encoding="utf-8")

    @classmethod
    def load(cls, path, lowercase=False):
        """Reads a file written by `save()`; `lowercase` must match the one used to build it."""
        tokens = read_text(path).replace("\r\n", "\n").split("\n")
        if tokens[-1] == "":
            tokens.pop()
        return cls(tokens, lowercase=lowercase)
