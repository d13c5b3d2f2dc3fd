"""Stopping on a signal: SIGTERM becomes `SystemExit(143)` and Ctrl-C `KeyboardInterrupt`, raised
where the program is, so a `kill`, a `timeout` or Ctrl-C unwinds like an error and partial
folders are cleaned up or kept resumable.

Some libraries catch every exception with a bare `except:` (Keras' model saving does, while it
opens its weights file) and so can swallow the one a signal handler raises. The stop is
therefore also remembered, and `raise_if_requested()` raises it again: the training loop calls
it after every batch (`keras_seq.training.StopWhenRequested`).

>>> import keras_seq.stopping
>>> with keras_seq.stopping.on_signals():
...     keras_seq.stopping.raise_if_requested()  # nothing asked for a stop: returns
"""

import contextlib
import signal
import threading

_requested = None  # the exception a signal asked for, while `on_signals()` is active


def _stop(signum, frame):
    global _requested
    if signum == signal.SIGINT:
        _requested = KeyboardInterrupt()
    else:
        _requested = SystemExit(128 + signum)
    raise _requested


def raise_if_requested():
    """Raises the stop a signal asked for, if any (again, if it was swallowed)."""
    if _requested is not None:
        raise _requested


@contextlib.contextmanager
def on_signals():
    """Within the block, SIGTERM raises `SystemExit(143)` and SIGINT `KeyboardInterrupt`.

    Outside the main thread (where Python cannot set handlers) it does nothing."""
    global _requested
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, _stop) for number in (signal.SIGTERM, signal.SIGINT)}
    _requested = None
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        _requested = None
