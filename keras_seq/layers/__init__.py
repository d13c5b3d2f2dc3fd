"""Layers: the recurrent cells, `Recurrent`, embeddings, pooling and the seq2seq state bridge.

Layer code imports only `keras` and `keras.ops`; backend-specific fast paths live in
`keras_seq.backend`.
"""

from keras_seq.layers.bridge import StateBridge
from keras_seq.layers.cells import GRUCell, LSTMCell, SimpleRNNCell
from keras_seq.layers.embedding import TokenEmbedding
from keras_seq.layers.pooling import SequencePooling
from keras_seq.layers.quantiles import OrderedQuantiles
from keras_seq.layers.recurrent import Recurrent
