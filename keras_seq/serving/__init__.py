"""Serving a task over HTTP: `create_app(task, limits)`, then `run(app, host, port)` (or
`run(app, sock=listen(host, port))`, to bind before loading the model).

Needs the `serve` extra (`pip install keras-seq[serve]`: FastAPI and uvicorn). Not imported by
`import keras_seq`; `keras-seq serve RUN` imports it only when it runs.
"""

from keras_seq.serving.app import create_app
from keras_seq.serving.batcher import MicroBatcher, RecordError
from keras_seq.serving.records import Limits
from keras_seq.serving.server import AddressInUse, CannotListen, listen, run
