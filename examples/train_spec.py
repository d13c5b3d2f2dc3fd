"""Build a bundled spec and train it on its bundled data, in plain Python.

    python examples/train_spec.py specs/tagger.yaml [epochs]

Works for every spec in specs/ whose data is shipped (tagger, classifier, forecaster, seq2seq,
seed-rnn): the task reads the data, learns the vocabulary and labels, builds and trains.
"""

import sys

import keras_seq

task = keras_seq.tasks.Task.for_spec(sys.argv[1])
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else task.spec.training.epochs

train = task.read_split("train")
validation = task.read_split("validation")
task.learn(train)  # vocabulary, labels: the `auto` sizes come from the training data
model = task.build_model()
model.summary()

encoded, held_out = task.encode(train), task.encode(validation)
options = keras_seq.training.fit_options(task.spec.training)
options["epochs"] = epochs
model.fit(
    encoded.x,
    encoded.y,
    sample_weight=encoded.sample_weight,
    validation_data=(held_out.x, held_out.y, held_out.sample_weight),
    **options,
)
print(task.evaluate(validation))
