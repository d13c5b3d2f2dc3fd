from keras_seq.cells import GRUCell, LSTMCell, SimpleRNNCell
from keras_seq.layers import Recurrent
