"""Build a bundled spec and train it on its bundled data, in plain Python.

    python examples/train_spec.py specs/tagger.yaml [epochs]

Works for specs/tagger.yaml, classifier.yaml, forecaster.yaml, seq2seq.yaml and seed-rnn.yaml.
"""

import sys

import keras_seq

spec = keras_seq.load_spec(sys.argv[1])
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else spec.training.epochs

train = keras_seq.load_dataset(spec, "train")
validation = keras_seq.load_dataset(spec, "validation", vocab=train.vocab, labels=train.labels)

# The `auto` sizes come from the training data.
sizes = {}
if train.vocab is not None:
    sizes["vocab_size"] = len(train.vocab)
if train.labels is not None:
    key = "target_vocab_size" if spec.head.type == "seq2seq" else "classes"
    sizes[key] = len(train.labels)
model = keras_seq.build(spec, **sizes)
model.summary()

options = keras_seq.training.fit_options(spec.training)
options["epochs"] = epochs
model.fit(
    train.x,
    train.y,
    sample_weight=train.sample_weight,
    validation_data=(validation.x, validation.y, validation.sample_weight),
    **options,
)
print(
    model.evaluate(
        validation.x,
        validation.y,
        sample_weight=validation.sample_weight,
        verbose=0,
        return_dict=True,
    )
)

if spec.head.type == "seq2seq":
    source = validation.x[0][:5]
    for ids, row in zip(source, keras_seq.greedy_decode(model, source)):
        print(" ".join(train.vocab.decode(ids)), "->", " ".join(train.labels.decode(row)))
