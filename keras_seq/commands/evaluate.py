"""`keras-seq evaluate`: a trained run's model scored on one data file."""

import json

from keras_seq import runs
from keras_seq.commands.datafiles import for_file
from keras_seq.data import load_dataset


def evaluate(run_dir, data):
    """`{metric: value}` (loss and the compiled metrics) of a run's model on `data`.

    The file is read with the run's spec (format from its extension, columns from the spec)
    and encoded with the run's vocabulary and labels; labels the run never saw count as
    unseen (weight 0) and are logged, not raised.
    """
    run = runs.Run(run_dir)
    spec = for_file(run.spec, data)
    encoded = load_dataset(spec, "test", vocab=run.vocab, labels=run.labels)
    return run.model.evaluate(
        encoded.x,
        encoded.y,
        sample_weight=encoded.sample_weight,
        batch_size=spec.training.batch_size,
        verbose=0,
        return_dict=True,
    )


def main(args):
    metrics = evaluate(args.run_dir, args.data)
    print(json.dumps({name: float(value) for name, value in metrics.items()}, indent=2))
    return 0
