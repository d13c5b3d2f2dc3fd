"""Data for keras-seq models: readers, vocabularies, padding, forecasting windows.

Layers, each usable on its own:

1. Readers (`read_conllu`, `read_classification`, `read_tagging`, `read_series`,
   `read_pairs`; `conll.read_conll` for CoNLL column files) turn CoNLL-U, CoNLL, CSV and JSONL
   files into plain lists. Anything unusable raises `DataError` naming the file, the line and
   the field, and what to change.
2. `Vocabulary` maps tokens to ids, learned from the training split only, saved as one token per
   line (line n holds id n). Token ids: 0 `<pad>`, 1 `<unk>` (out-of-vocabulary; also tokens
   rarer than `min_frequency`); seq2seq target ids add 2 `<bos>` and 3 `<eos>`.
3. Encoders (`encode_classification`, `encode_tagging`, `encode_seq2seq`, `make_windows`)
   return NumPy arrays for `model.fit(x, y, sample_weight=...)`, post-padded with 0 and
   truncated at the end to `max_length` (the count is in `stats.truncated` and logged).
   Forecasting windows are cut in one place: `windows`, at the origins `window_origins` lists.
4. `keras_seq.load_dataset(spec, split)` (in `keras_seq.tasks`) does all three for a spec.
5. Words' characters (`build_char_vocabulary`, `encode_characters`: (n, words, chars) ids)
   and pretrained word vectors (`read_vectors`, `extend_vocabulary`, `embedding_matrix`).

Labels: class and tag ids are 0..C-1 (sorted label names), with no id reserved for padding.
A tagger's padding steps carry y = 0 and sample weight 0, so a weighted loss ignores them.
A label missing from the training label set (in validation or test data) also gets weight 0
(y = 0 as a placeholder) and is counted in `stats.unseen_labels`: reported, not an error.

Forecasting values are used as read: nothing is normalized behind the caller's back.

Example:

>>> import keras_seq
>>> from keras_seq.data import Vocabulary, encode_tagging
>>> sentences, tags = [["the", "dog", "runs"]], [["DET", "NOUN", "VERB"]]
>>> vocab = Vocabulary.build(sentences)
>>> labels = Vocabulary.from_labels(t for s in tags for t in s)
>>> data = encode_tagging(sentences, tags, vocab, labels, max_length=4)
>>> data.x.tolist(), data.y.tolist(), data.sample_weight.tolist()
([[4, 2, 3, 0]], [[0, 1, 2, 0]], [[1.0, 1.0, 1.0, 0.0]])
"""

from keras_seq.data.characters import (
    EncodedCharacters,
    build_char_vocabulary,
    encode_characters,
)
from keras_seq.data.encoding import (
    Encoded,
    EncodeStats,
    encode_classification,
    encode_seq2seq,
    encode_tagging,
    pad,
)
from keras_seq.data.errors import DataError
from keras_seq.data.readers import (
    read_classification,
    read_conllu,
    read_pairs,
    read_records,
    read_series,
    read_tagging,
)
from keras_seq.data.vectors import embedding_matrix, extend_vocabulary, read_vectors
from keras_seq.data.vocabulary import (
    BOS,
    EOS,
    OOV,
    PAD,
    TARGET_SPECIALS,
    TOKEN_SPECIALS,
    Vocabulary,
)
from keras_seq.data.windows import make_windows, window_origins, windows
