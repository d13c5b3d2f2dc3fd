"""Layers: cells (minGRU and minLSTM among them), `Recurrent`, embeddings (words,
characters), pooling, the seq2seq state bridge, attention, CRF.

Layer code imports only `keras` and `keras.ops`; backend-specific fast paths live in
`keras_seq.backend`.
"""

from keras_seq.layers.attention import Attention
from keras_seq.layers.bridge import StateBridge
from keras_seq.layers.cells import GRUCell, LSTMCell, ResetBeforeGRUCell, SimpleRNNCell
from keras_seq.layers.characters import CharacterEncoder
from keras_seq.layers.concatenate import MaskedConcatenate
from keras_seq.layers.crf import CRF
from keras_seq.layers.embedding import TokenEmbedding
from keras_seq.layers.minimal_cells import MinGRUCell, MinLSTMCell
from keras_seq.layers.pooling import SequencePooling
from keras_seq.layers.quantiles import OrderedQuantiles
from keras_seq.layers.recurrent import Recurrent
from keras_seq.layers.shrink import Shrink
from keras_seq.layers.word_dropout import WordDropout
