"""A SIGTERM or Ctrl-C that a library's bare `except:` swallows still stops training."""

import os
import signal

import keras
import numpy as np
import pytest

from keras_seq import stopping, training


def _swallowing(signum):
    try:
        os.kill(os.getpid(), signum)  # the handler raises here, inside the `try`
    except:  # noqa: E722 -- what Keras' saving code does
        pass


@pytest.mark.parametrize(
    "signum, stop", [(signal.SIGTERM, SystemExit), (signal.SIGINT, KeyboardInterrupt)]
)
def test_a_swallowed_signal_is_raised_again(signum, stop):
    with stopping.on_signals():
        stopping.raise_if_requested()  # nothing asked yet
        _swallowing(signum)
        with pytest.raises(stop) as raised:
            stopping.raise_if_requested()
    if stop is SystemExit:
        assert raised.value.code == 128 + signal.SIGTERM
    stopping.raise_if_requested()  # leaving the block forgets the stop
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_training_stops_at_the_next_batch_after_a_swallowed_sigterm():
    seen = []

    class SwallowAtSecondBatch(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(batch)
            if batch == 1:
                _swallowing(signal.SIGTERM)

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.zeros((8, 1), "float32")
    callbacks = [SwallowAtSecondBatch(), training.StopWhenRequested()]
    with stopping.on_signals(), pytest.raises(SystemExit) as raised:
        model.fit(x, x, batch_size=1, epochs=3, verbose=0, callbacks=callbacks)
    assert raised.value.code == 143
    assert seen == [0, 1]
