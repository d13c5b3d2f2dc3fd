"""Peak memory of training on a 1x and a 4x larger file, streamed and read whole.

    python -m benchmarks.streaming_memory                      # torch, 20000 sentences at 1x
    python -m benchmarks.streaming_memory --backend jax --sentences 5000 --format conllu

Writes a tagging file of N sentences and one of 4N (same 400-word vocabulary and 8 tags, so the
vocabulary cannot grow with the file), then trains one epoch of a small GRU tagger on each with
`keras-seq train`, once with `data.streaming: true` and once with `false`, each run in a fresh
process, and reports each process's peak resident memory (`ru_maxrss`). Streaming passes when
the 4x run's peak is within 10 % of the 1x run's.
"""

import argparse
import json
import os
import pathlib
import random
import resource
import sys
import tempfile
import time

from benchmarks.json_process import ROOT, run_json

WORDS = [f"w{i}" for i in range(400)]


def write_data(path, sentences, fmt, seed=0):
    """`sentences` random sentences of 3-30 words; a word's tag follows from the word."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as file:
        for _ in range(sentences):
            words = [rng.choice(WORDS) for _ in range(rng.randint(3, 30))]
            tags = [f"T{int(word[1:]) % 8}" for word in words]
            if fmt == "jsonl":
                file.write(json.dumps({"tokens": words, "tags": tags}) + "\n")
            else:
                for i, (word, tag) in enumerate(zip(words, tags), 1):
                    file.write(f"{i}\t{word}\t_\t{tag}\t_\t_\t_\t_\t_\t_\n")
                file.write("\n")


def spec(path, fmt, streaming):
    return {
        "seed": 1,
        "input": {"kind": "tokens", "embedding_dim": 8, "max_length": 32},
        "encoder": {"cell": "gru", "units": 8},
        "head": {"type": "tagger"},
        "training": {"batch_size": 256, "epochs": 1},
        "data": {"format": fmt, "train": str(path), "streaming": streaming},
    }


def worker(spec_json, output):
    import keras_seq

    started = time.perf_counter()
    metrics = keras_seq.train(json.loads(spec_json), output=output, verbose=0).metrics
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "peak_mb": peak_mb,
                "seconds": time.perf_counter() - started,
                "loss": metrics["train"]["loss"],
            }
        )
    )


def measure(backend, spec_data, folder):
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT)}
    return run_json(
        [
            "-m",
            "benchmarks.streaming_memory",
            "--worker",
            json.dumps(spec_data),
            "--output",
            str(folder),
        ],
        env,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="torch", choices=["tensorflow", "jax", "torch"])
    parser.add_argument("--sentences", type=int, default=20000, help="sentences at 1x")
    parser.add_argument("--format", default="jsonl", choices=["jsonl", "conllu"])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.output)
    folder = pathlib.Path(tempfile.mkdtemp(prefix="streaming-memory-"))
    results = {}
    for scale in (1, 4):
        path = folder / f"train-{scale}x.{args.format}"
        write_data(path, args.sentences * scale, args.format)
        size_mb = path.stat().st_size / 1e6
        for streaming in (True, False):
            run = folder / f"run-{scale}x-{'stream' if streaming else 'memory'}"
            result = measure(args.backend, spec(path, args.format, streaming), run)
            results[(scale, streaming)] = result
            print(
                f"{scale}x ({size_mb:6.1f} MB) {'streamed' if streaming else 'in memory':9s}: "
                f"peak {result['peak_mb']:7.1f} MB, {result['seconds']:6.1f} s, "
                f"loss {result['loss']:.4f}",
                flush=True,
            )
    for streaming in (True, False):
        ratio = results[(4, streaming)]["peak_mb"] / results[(1, streaming)]["peak_mb"]
        print(f"{'streamed' if streaming else 'in memory'}: 4x peak / 1x peak = {ratio:.3f}")
    ratio = results[(4, True)]["peak_mb"] / results[(1, True)]["peak_mb"]
    print("PASS" if ratio <= 1.10 else "FAIL", "(streamed 4x within 10 % of 1x)")
    return 0 if ratio <= 1.10 else 1


if __name__ == "__main__":
    sys.exit(main())
