"""Real data: how long reading, learning from and encoding a full treebank takes before training.

    python -m benchmarks.read_encode                      # specs/ud-tagger-chars.yaml
    python -m benchmarks.read_encode --spec specs/ud-bilstm.yaml --file F.conllu

Runs the path `keras-seq train` runs before its first epoch (`keras_seq.splits`: the task's
reader, `Task.learn`, `Task.encode`) on Universal Dependencies English EWT's full train file
(12,544 sentences, 204,577 words) and prints the seconds of each step as JSON, with the
machine's load average (the 2-core machines this runs on are often shared).

Exits 0 with "skipped: data absent" when the file is missing.
"""

import argparse
import json
import os
import pathlib
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "ud_english_ewt" / "en_ewt-ud-train.conllu"


def measure(spec, path):
    """`{step: seconds}` of reading, learning and encoding `path` as `spec`'s training file."""
    import keras_seq
    from keras_seq.tasks import Task

    task = Task.for_spec(keras_seq.load_spec(spec).replace({"data.train": str(path)}))
    times, started = {}, time.perf_counter()
    records = task.read(path)
    times["read"] = time.perf_counter() - started
    task.learn(records)
    times["learn"] = time.perf_counter() - times["read"] - started
    encoded = task.encode(records)
    times["encode"] = time.perf_counter() - sum(times.values()) - started
    times["total"] = time.perf_counter() - started
    return {
        "sentences": len(records),
        "words": encoded.stats.tokens,
        "seconds": {step: round(value, 2) for step, value in times.items()},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=str(ROOT / "specs" / "ud-tagger-chars.yaml"))
    parser.add_argument("--file", default=str(DATA))
    args = parser.parse_args()
    if not pathlib.Path(args.file).is_file():
        print("skipped: data absent")
        return
    load = os.getloadavg()[0]
    result = measure(args.spec, args.file)
    print(json.dumps({**result, "load_average": [load, os.getloadavg()[0]]}))


if __name__ == "__main__":
    main()
