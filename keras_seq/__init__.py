"""keras-seq: declarative recurrent sequence models for Keras 3 on TensorFlow, JAX and PyTorch.

>>> import keras_seq
>>> spec = keras_seq.load_spec(
...     "{input: {kind: tokens}, encoder: {cell: lstm, units: 8}, head: {type: none}}")
>>> spec.encoder.cell
'lstm'
"""

from keras_seq import heads, initializers, interop, layers, training
from keras_seq.builder import build
from keras_seq.data import DataError, Vocabulary, load_dataset
from keras_seq.heads import greedy_decode
from keras_seq.layers import GRUCell, LSTMCell, Recurrent, SimpleRNNCell, TokenEmbedding
from keras_seq.model import Model
from keras_seq.portability import check_backends
from keras_seq.spec import Problem, Spec, SpecError, load_spec, validate
