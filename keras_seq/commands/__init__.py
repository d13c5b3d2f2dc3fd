"""One module per `keras-seq` command: each parses its arguments, calls the package, prints.

What `keras-seq train`, `evaluate` and `predict` do, callable without the command line:

- `keras_seq.train(spec, ...)`: read the data, learn the vocabulary, build, fit, score every
  split and write a run folder (`keras_seq.pipeline`, `keras_seq.runs`).
- `evaluate.evaluate(run_dir, data)`: the run's model scored on one file.
- `predict.predict(run_dir, data, output)`: predictions written in the input's own format.
"""
