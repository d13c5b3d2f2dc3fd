"""One epoch of UD English EWT's train file at real size: keras-seq on each backend against the
same model in native PyTorch with packed sequences, on the same batches in the same order.

    taskset -c 1 python -m benchmarks.ewt_epoch                     # all four, one round
    python -m benchmarks.ewt_epoch --contenders jax torch-native --rounds 2 --limit-batches 60

The model is the reference tagger's (`benchmarks.workloads`' `tagger`: embedding 64, two
bidirectional LSTM layers of 128 units per direction, softmax over the 17 UPOS tags, Adam
1e-3), its vocabulary every word form of the train file (lowercased, as `specs/ud-bilstm.yaml`
reads it). The train file (12,544 sentences, 204,577 words) is read and encoded by
`keras_seq.load_dataset` and cut into batches of 32 by `keras_seq.training.EpochBatches`
(`order="buckets"`, seed 0: sentences of similar length share a batch, each batch padded to
its longest sentence rounded up to a multiple of 8), as `keras-seq train` does.

Contenders, each in its own process (`KERAS_BACKEND` set, one thread unless `--threads 0`):
`jax`, `tensorflow` and `torch` run keras-seq's `Recurrent` in a Keras model
(`model.train_on_batch`, an embedding mask for the padding); `torch-native` runs `nn.LSTM`
over `pack_padded_sequence` with a hand-written train step. Each first trains one step on one
batch of every width (compiling, untimed: the "warm-up s" column), then times one pass over
the batches. Reports words per second (real words, padding not counted), the epoch's wall
seconds, the mean training loss over the epoch (a check that all four learn alike), and the
process' peak resident memory while it builds and trains the model (`VmHWM`, reset once the
data is read, which itself peaks higher in the native process) with its growth over the
resident memory at that point (the data, the imports: keras_seq reads the data, so the native
process imports Keras too). With
`--rounds N` the contenders alternate N times; the table shows medians.

Exits 0 with "skipped: data absent" when the train file is missing.
"""

import argparse
import dataclasses
import json
import os
import pathlib
import statistics
import sys
import time

from benchmarks import runner, workloads

ROOT = pathlib.Path(__file__).resolve().parent.parent
TRAIN = ROOT.parent / "shared" / "data" / "ud_english_ewt" / "en_ewt-ud-train.conllu"
CONTENDERS = {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch", "torch-native": "torch"}
INPUT = {"kind": "tokens", "vocab_size": "auto", "lowercase": True, "max_length": 512}


def batches(path, batch_size=32):
    """`(workload, [(x, y, lengths), ...])`: the epoch's batches and the model's sizes."""
    import numpy as np

    import keras_seq
    from keras_seq.training import EpochBatches

    spec = keras_seq.load_spec(
        {
            "input": INPUT,
            "encoder": {"cell": "lstm", "units": 8},
            "head": {"type": "tagger"},
            "data": {"format": "conllu", "tags_field": "upos"},
        }
    )
    data = keras_seq.load_dataset(spec, "train", path=path)
    lengths = (data.x != 0).sum(axis=1)
    epoch = EpochBatches(
        data.x, data.y, None, batch_size, seed=0, lengths=lengths, order="buckets", width_step=8
    )
    cut = [(*epoch[i], lengths[epoch.rows(i)]) for i in range(len(epoch))]
    w = dataclasses.replace(
        workloads.WORKLOADS["tagger"],
        name="ewt",
        length=int(lengths.max()),
        vocab=len(data.vocab),
        classes=len(data.labels),
        min_length=1,
        mask_zero=True,
    )
    return w, [(x.astype(np.int32), y.astype(np.int32), n) for x, y, n in cut]


def _step(contender, w):
    """A function training one step on `(x, y, lengths)` and returning the loss."""
    if contender == "torch-native":
        import torch

        native = workloads.TorchModel(w)

        def native_step(x, y, lengths):
            return native.train_step(
                native.inputs(x), torch.from_numpy(lengths), native.target(x, y)
            )

        return native_step
    model = workloads.keras_model("keras-seq", w, free_length=True)
    return lambda x, y, lengths: float(model.train_on_batch(x, y))


def measure(contender, path, limit):
    """One contender in this process: the result row as a dict."""
    w, epoch = batches(path)
    epoch = epoch[:limit] if limit else epoch
    _reset_peak()
    base = _status_mb("VmRSS")
    step = _step(contender, w)
    start = time.perf_counter()
    seen = set()
    for x, y, lengths in epoch:
        if x.shape[1] not in seen:
            seen.add(x.shape[1])
            step(x, y, lengths)
    warmup = time.perf_counter() - start
    losses, start = [], time.perf_counter()
    for x, y, lengths in epoch:
        losses.append(step(x, y, lengths))
    seconds = time.perf_counter() - start
    words = int(sum(lengths.sum() for _, _, lengths in epoch))
    return {
        "contender": contender,
        "batches": len(epoch),
        "words": words,
        "widths": len(seen),
        "warmup_s": warmup,
        "epoch_s": seconds,
        "words_per_s": words / seconds,
        "loss": statistics.fmean(losses),
        "peak_rss_mb": _status_mb("VmHWM"),
        "growth_mb": _status_mb("VmHWM") - base,
    }


def _status_mb(field):
    """`VmRSS` (resident now) or `VmHWM` (its peak) of this process, MB; None off Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _reset_peak():
    """Starts `VmHWM` again from the current resident set (Linux 4.0+), so the peak is the
    training's, not reading the data's."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


def _table(results):
    print(
        f"{'contender':13s} {'words/s':>8s} {'epoch s':>8s} {'warm-up s':>9s} {'loss':>6s} "
        f"{'peak RSS MB':>11s} {'growth MB':>9s}  (rounds' epoch s)"
    )
    for contender, runs in results.items():
        ok = [r for r in runs if "error" not in r]
        if not ok:
            print(f"{contender:13s} ERROR {runs[-1]['error']}")
            continue

        def median(key, ok=ok):
            return statistics.median(r[key] for r in ok)

        rounds = ", ".join(f"{r['epoch_s']:.1f}" for r in ok)
        print(
            f"{contender:13s} {median('words_per_s'):8.0f} {median('epoch_s'):8.1f} "
            f"{median('warmup_s'):9.1f} {median('loss'):6.3f} {median('peak_rss_mb'):11.0f} "
            f"{median('growth_mb'):9.0f}  ({rounds})"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--contenders", nargs="+", choices=list(CONTENDERS), default=list(CONTENDERS)
    )
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds (default 1)")
    parser.add_argument("--limit-batches", type=int, help="time only the first N batches")
    parser.add_argument("--threads", type=int, default=1, help="0: the frameworks' defaults")
    parser.add_argument("--data", type=pathlib.Path, default=TRAIN, help="the train file")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per process")
    parser.add_argument("--one", choices=list(CONTENDERS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"skipped: data absent ({args.data})")
        return 0
    if args.one:
        from keras_seq.allocator import keep_freed_memory

        keep_freed_memory()  # every contender alike (KERAS_SEQ_KEEP_FREED_MEMORY=0: off)
        result = measure(args.one, args.data, args.limit_batches)
        sys.stdout.write("RESULT " + json.dumps(result) + "\n")
        return 0
    load = os.getloadavg()
    results = {contender: [] for contender in args.contenders}
    for _ in range(args.rounds):
        for contender in args.contenders:
            argv = ["--one", contender, "--data", str(args.data)]
            argv += ["--limit-batches", str(args.limit_batches)] if args.limit_batches else []
            env = {"KERAS_BACKEND": CONTENDERS[contender]}
            run = {"argv": argv, "env": env}
            r = runner._worker(run, args.timeout, args.threads, module="benchmarks.ewt_epoch")
            print(f"  {contender}: {json.dumps(r)}", file=sys.stderr, flush=True)
            results[contender].append(r)
    first = next((r for runs in results.values() for r in runs if "words" in r), {})
    threads = args.threads or "default"
    print(
        f"UD English EWT train, one epoch: {first.get('batches')} batches of 32, "
        f"{first.get('words')} words, {first.get('widths')} widths; threads {threads}; "
        f"load average {load[0]:.1f} / {load[1]:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end"
    )
    _table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
