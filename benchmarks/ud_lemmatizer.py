"""Real data: `specs/lemmatizer.yaml` (character seq2seq with attention) on UD English EWT lemmas.

    python -m benchmarks.ud_lemmatizer                 # jax
    python -m benchmarks.ud_lemmatizer --backend torch --epochs 10
    python -m benchmarks.ud_lemmatizer --seeds 5                      # mean, spread, worst seed
    python -m benchmarks.ud_lemmatizer --train-file en_ewt-ud-train.conllu   # the whole treebank

Pairs form -> lemma come from EWT's dev file (or `--train-file`, e.g. the train file) and are
scored by exact match on every word of its test file (multi-word-token and empty-node lines
skipped). Training pairs: one per distinct form, its most frequent lemma, repeated 1 +
floor(log2(count)) times (at most 8), so frequent words weigh a little more without the long
tail being drowned. keras-seq runs as a user would: `keras-seq train` on the pairs, then `keras-seq
predict` on the test file's distinct forms, each form's prediction then counted once per test
token. The baseline beside it: the lemma seen most often with this form in training, else the
lowercased form.

Exits 0 with "skipped: data absent" when ../shared/data/ud_english_ewt (beside the repository)
is missing; `--data DIR` reads it from elsewhere.
"""

import argparse
import collections
import json
import math
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "lemmatizer.yaml"
DATA = ROOT.parent / "shared" / "data" / "ud_english_ewt"
TRAIN, TEST = "en_ewt-ud-dev.conllu", "en_ewt-ud-test.conllu"


def words(path):
    """(form, lemma) of every word of a CoNLL-U file (integer ids only)."""
    import conllu

    with open(path, encoding="utf-8") as file:
        return [
            (token["form"], token["lemma"])
            for sentence in conllu.parse_incr(file)
            for token in sentence
            if isinstance(token["id"], int)
        ]


def lemma_counts(pairs):
    counts = collections.defaultdict(collections.Counter)
    for form, lemma in pairs:
        counts[form][lemma] += 1
    return counts


def baseline(counts, form):
    """The lemma seen most often with `form` in training, else the lowercased form."""
    return counts[form].most_common(1)[0][0] if form in counts else form.lower()


def spaced(text):
    return " ".join(text)


def training_lines(counts):
    """JSONL lines: each form with its most frequent lemma, 1 + log2(count) times (max 8)."""
    lines = []
    for form, lemmas in sorted(counts.items()):
        lemma, count = lemmas.most_common(1)[0]
        line = json.dumps({"source": spaced(form), "target": spaced(lemma)}, ensure_ascii=False)
        lines += [line] * min(8, 1 + int(math.log2(sum(lemmas.values()))))
    return lines


def _cli(arguments, backend):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "keras_seq.cli", *map(str, arguments)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"failed: keras-seq {' '.join(map(str, arguments))}\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def _predict_forms(args, seed, counts, forms, folder):
    """keras-seq's lemma for each test form: train on `counts`' pairs with `seed`, predict."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.jsonl").write_text("\n".join(training_lines(counts)) + "\n", "utf-8")
    (folder / "forms.jsonl").write_text(
        "".join(json.dumps({"source": spaced(f)}, ensure_ascii=False) + "\n" for f in forms),
        "utf-8",
    )
    epochs = ["--epochs", args.epochs] if args.epochs else []
    train_command = ["train", SPEC, "--train", folder / "train.jsonl", *epochs]
    train_command += ["--set", f"seed={seed}", "--output", folder / "run"]
    train_seconds = _cli(train_command, args.backend)
    predict_seconds = _cli(
        ["predict", folder / "run", "--data", folder / "forms.jsonl"]
        + ["--output", folder / "predicted.jsonl"],
        args.backend,
    )
    predicted = {
        "".join(json.loads(line)["source"].split()): "".join(json.loads(line)["prediction"].split())
        for line in (folder / "predicted.jsonl").read_text("utf-8").splitlines()
    }
    return predicted, train_seconds, predict_seconds


def _shares(correct, seen):
    """Accuracy on all, seen and unseen words."""
    parts = [
        sum(c for c, s in zip(correct, seen) if s == wanted) / max(1, seen.count(wanted))
        for wanted in (True, False)
    ]
    return [sum(correct) / len(correct), *parts]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="jax", choices=["jax", "tensorflow", "torch"])
    parser.add_argument("--epochs", type=int, help="default: the spec's training.epochs")
    parser.add_argument("--data", type=pathlib.Path, default=DATA, help="EWT folder")
    parser.add_argument("--keep", type=pathlib.Path, help="work in this folder and keep it")
    parser.add_argument("--seeds", type=int, default=1, help="seeds 42, 43, ... (default 1)")
    parser.add_argument(
        "--train-file", default=TRAIN, help=f"EWT file the pairs come from (default {TRAIN})"
    )
    args = parser.parse_args(argv)
    if not ((args.data / args.train_file).is_file() and (args.data / TEST).is_file()):
        print(f"skipped: data absent ({args.data})")
        return 0
    train, test = words(args.data / args.train_file), words(args.data / TEST)
    counts = lemma_counts(train)
    forms = sorted({form for form, _ in test})
    seen = [form in counts for form, _ in test]
    print(f"UD English EWT lemmas: train on {args.train_file} ({len(train)} words, ", end="")
    print(f"{len(counts)} forms), exact match on every test word ({len(test)}, ", end="")
    print(f"{1 - sum(seen) / len(seen):.1%} unseen); backend {args.backend}")
    print(f"{'':10s} {'seed':>4s} {'all':>7s} {'seen':>7s} {'unseen':>7s} {'train s':>8s}")
    base = _shares([baseline(counts, form) == lemma for form, lemma in test], seen)
    print(f"{'baseline':10s} {'':4s} " + " ".join(f"{v:7.4f}" for v in base))
    totals = []
    for seed in range(42, 42 + args.seeds):
        with tempfile.TemporaryDirectory() as temporary:
            folder = (args.keep / str(seed)) if args.keep else pathlib.Path(temporary)
            predicted, train_s, predict_s = _predict_forms(args, seed, counts, forms, folder)
        shares = _shares([predicted.get(form) == lemma for form, lemma in test], seen)
        totals.append(shares[0])
        print(f"{'keras-seq':10s} {seed:4d} " + " ".join(f"{v:7.4f}" for v in shares), end="")
        print(f" {train_s:8.0f}   (predict {len(forms)} forms: {predict_s:.0f} s)")
    if len(totals) > 1:
        spread = statistics.stdev(totals)
        print(f"keras-seq mean {statistics.mean(totals):.4f} sd {spread:.4f} min {min(totals):.4f}")
    print("seconds: wall time of the whole keras-seq process")
    return 0


if __name__ == "__main__":
    sys.exit(main())
