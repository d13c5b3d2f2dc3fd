"""Run in its own process by test_distribution.py: 3 steps on one device, then data-parallel.

Prints JSON: the largest weight difference after 3 steps, both first-epoch losses, how many
replicas the data-parallel run really used, the largest difference of the predictions, and the
warnings keras_seq logged. Arguments, any of: `skewed`, the padding lies in the first half of
each batch, so the two devices' shares hold different numbers of real steps; `uneven`, the
epoch ends with a batch of 3 rows and the validation and predicted splits hold 5: batches that
2 devices cannot share equally; `crf`, a tagger with a CRF output (its own loss); `classifier`,
a classifier (one label and one weight, some 0, per sequence: no mask on its loss); `clipnorm`,
gradients clipped to a norm of 0.05 (smaller than most). The device
count must be set before the backend starts (XLA_FLAGS for JAX, read at import; logical devices
for TensorFlow), hence a process.
"""

import json
import logging
import sys

import keras
import numpy as np

import keras_seq
from keras_seq.backend import distribution
from keras_seq.tasks import Task

distribution.virtual_cpu_devices(2)  # TensorFlow; JAX gets XLA_FLAGS from the test
BATCH, STEPS = 8, 3
ARGUMENTS = set(sys.argv[1:])
EXTRA = 3 if "uneven" in ARGUMENTS else 0
HEAD = {"type": "classifier"} if "classifier" in ARGUMENTS else {"type": "tagger"}
if "crf" in ARGUMENTS:
    HEAD["output"] = "crf"


def spec(strategy):
    parallel = {"strategy": "data_parallel", "devices": 2} if strategy else {"strategy": "none"}
    return keras_seq.load_spec(
        {
            "seed": 3,
            "input": {"kind": "tokens", "vocab_size": 40, "embedding_dim": 8},
            "encoder": {"cell": "gru", "units": 8, "direction": "bidirectional"},
            "head": {**HEAD, "classes": 5},
            "training": {
                "batch_size": BATCH,
                "learning_rate": 0.01,
                "clipnorm": 0.05 if "clipnorm" in ARGUMENTS else None,
                "distribution": parallel,
            },
        }
    )


def replicas(model, engine):
    if engine is None:
        return 1
    if keras.backend.backend() == "jax":
        return len(model.weights[0].value.sharding.device_set)
    return model.distribute_strategy.num_replicas_in_sync


rng = np.random.default_rng(0)
x = rng.integers(1, 40, (BATCH * STEPS + EXTRA, 7)).astype("int32")
if "skewed" in ARGUMENTS:
    x[:4, 2:] = 0  # the first device's share of the first batch is mostly padding
else:
    x[::2, 5:] = 0  # padded rows, as many in each device's share
y = rng.integers(0, 5, x.shape).astype("int32")
weights = (x > 0).astype("float32")
if "classifier" in ARGUMENTS:
    y, weights = y[:, 0], rng.integers(0, 3, len(x)).astype("float32")
warnings = []
logging.getLogger("keras_seq").addHandler(logging.Handler())
logging.getLogger("keras_seq").handlers[-1].emit = lambda record: warnings.append(
    record.getMessage()
)
results = {}
for parallel in (False, True):
    resolved = spec(parallel)
    with distribution.scope(resolved.training) as engine:
        model = Task.for_spec(resolved).build_model()
        held = slice(0, 5 if EXTRA else BATCH)  # 5 rows: uneven validation and prediction
        history = model.fit(
            x,
            y,
            sample_weight=weights,
            batch_size=BATCH,
            shuffle=False,
            verbose=0,
            validation_data=(x[held], y[held]),
        )
        results[parallel] = (
            model.get_weights(),
            history.history["loss"][0],
            replicas(model, engine),
            model.predict(x[held], batch_size=BATCH, verbose=0),
            history.history["val_loss"][0],
        )
difference = max(
    float(np.abs(np.asarray(a) - np.asarray(b)).max())
    for a, b in zip(results[False][0], results[True][0])
)
print(
    json.dumps(
        {
            "max_difference": difference,
            "warnings": warnings,
            "losses": [results[False][1], results[True][1]],
            "replicas": results[True][2],
            "predicted_difference": float(np.abs(results[False][3] - results[True][3]).max()),
            "val_losses": [results[False][4], results[True][4]],
        }
    )
)
