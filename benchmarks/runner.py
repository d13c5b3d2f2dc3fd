"""Run every (implementation, backend, workload) in its own process and compare.

    python -m benchmarks            # all workloads but tagger_large, 3 backends, 3 implementations
    python -m benchmarks --quick    # tagger + padded tagger, fewer steps (a few minutes)
    python -m benchmarks --workloads tagger long --backends torch --processes 3
    python -m benchmarks --threads 0 1    # both thread settings (0: the frameworks' defaults)
    python -m benchmarks --workloads long long_gru long_mingru --impls keras-seq --backends jax

Workloads of a cell only keras-seq has (`mingru`) run keras-seq alone.

Every (implementation, backend, workload) runs in its own process; with --processes N the
runs go in N rounds, each round running every combination once, so keras-seq and the
built-in alternate under the same machine load. Prints one table per thread setting (train
step and predict batch, ms, medians over rounds; ratios keras-seq / built-in and keras-seq /
native PyTorch, "ratio" of the medians and "paired", the median of the ratios within each
round, which the machine's slow drift does not move; "roof": train step time over the ideal
time of the recurrent layers' matmuls (3x the forward FLOPs, forward + backward) at this
machine's float32 matmul speed, the fastest of the backends' own matmuls; peak memory growth,
MB, with the part of it that is library code read in from disk) and writes
benchmarks/results/latest.json.
"""

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

from benchmarks import workloads

BACKENDS = ["jax", "tensorflow", "torch"]
RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def thread_env(threads):
    """Environment variables that cap every framework's intra-op threads."""
    if not threads:
        return {}
    n = str(threads)
    return {
        "OMP_NUM_THREADS": n,  # PyTorch
        "TF_NUM_INTRAOP_THREADS": n,
        "TF_NUM_INTEROP_THREADS": n,
        "XLA_FLAGS": f"--xla_cpu_multi_thread_eigen={'false' if threads == 1 else 'true'} "
        f"intra_op_parallelism_threads={n}",
    }


def _worker(args, timeout, threads, module="benchmarks.worker"):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **thread_env(threads))
    env.setdefault("KERAS_BACKEND", "torch")
    env.update(args.pop("env", {}))
    cmd = [sys.executable, "-m", module] + args["argv"]
    root = pathlib.Path(__file__).resolve().parent.parent
    try:
        proc = subprocess.run(
            cmd, check=False, env=env, cwd=root, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return {"error": " | ".join(tail) or f"exit code {proc.returncode}"}


def run_one(impl, backend, workload, warmup, steps, repeats, timeout, threads=None):
    argv = ["--impl", impl, "--workload", workload, "--warmup", str(warmup)]
    argv += ["--steps", str(steps), "--repeats", str(repeats)]
    r = _worker({"argv": argv, "env": {"KERAS_BACKEND": backend}}, timeout, threads)
    label = f"{workload:15s} {impl:9s} {backend:10s} threads {threads or 'default'}"
    if "error" in r:
        print(f"  {label} ERROR {r['error']}", file=sys.stderr, flush=True)
    else:
        print(
            f"  {label} train {r['train_ms']:7.1f} ms  predict {r['predict_ms']:6.1f} ms"
            f"  mem {r['peak_mem_mb']:6.0f} MB",
            file=sys.stderr,
            flush=True,
        )
    return r


def _median_of(runs, key):
    values = [r[key] for r in runs if key in r]
    return statistics.median(values) if values else None


def summarize(impl, backend, workload, runs):
    return {
        "impl": impl,
        "backend": backend,
        "workload": workload,
        "train_ms": _median_of(runs, "train_ms"),
        "predict_ms": _median_of(runs, "predict_ms"),
        "peak_mem_mb": _median_of(runs, "peak_mem_mb"),
        "file_mem_mb": _median_of(runs, "file_mem_mb"),
        "runs": runs,
    }


def measure_all(combos, args, threads):
    """Runs every combination once per round, `args.processes` rounds; medians per combination."""
    runs = {combo: [] for combo in combos}
    for _ in range(args.processes):
        for combo in combos:
            impl, backend, workload = combo
            runs[combo].append(
                run_one(
                    impl,
                    backend,
                    workload,
                    args.warmup,
                    args.steps,
                    args.repeats,
                    args.timeout,
                    threads,
                )
            )
    return [summarize(*combo, results) for combo, results in runs.items()]


def _fmt(value, spec="7.1f"):
    return format(value, spec) if value is not None else "-".rjust(int(spec.split(".")[0]))


def _ratio(a, b):
    return a / b if a is not None and b else None


def _paired(ours, theirs, metric):
    """The median over rounds of ours / theirs within a round: slow drift of the machine cancels."""
    if not ours or not theirs:
        return None
    ratios = [
        a[metric] / b[metric]
        for a, b in zip(ours["runs"], theirs["runs"])
        if a.get(metric) and b.get(metric)
    ]
    return statistics.median(ratios) if ratios else None


def machine_roof(roofs):
    """The fastest library's float32 matmul speed, GFLOP/s (None if none was measured)."""
    speeds = [gflops for gflops in roofs.values() if gflops]
    return max(speeds) if speeds else None


def table(rows, roofs=None):
    """The results as text; `roofs`: each library's matmul GFLOP/s, for the "roof" column."""
    by_key = {(r["impl"], r["backend"], r["workload"]): r for r in rows}
    lines = []
    gflops = machine_roof(roofs or {})
    if gflops:
        each = ", ".join(f"{name} {speed:.0f}" for name, speed in roofs.items() if speed)
        lines.append(f"float32 matmul roof: {gflops:.0f} GFLOP/s (the fastest of {each})")
    for metric, label in [("train_ms", "train step"), ("predict_ms", "predict batch")]:
        # Ideal time of the recurrent matmuls: forward only to predict, x3 to train.
        passes = 3 if metric == "train_ms" else 1
        lines.append(f"\n{label}, ms (median)")
        lines.append(
            f"{'workload':15s} {'backend':10s} {'keras-seq':>9s} {'built-in':>9s} {'ratio':>6s}"
            f" {'paired':>6s} {'torch':>7s} {'ratio':>6s} {'paired':>6s} {'roof':>6s}"
        )
        for workload in dict.fromkeys(r["workload"] for r in rows):
            torch_row = by_key.get(("torch", "torch", workload))
            native = (torch_row or {}).get(metric)
            for backend in BACKENDS:
                ours = by_key.get(("keras-seq", backend, workload))
                theirs = by_key.get(("builtin", backend, workload))
                if ours is None and theirs is None:
                    continue
                a = ours and ours[metric]
                b = theirs and theirs[metric]
                ideal = gflops and passes * workloads.WORKLOADS[workload].flops() / gflops / 1e6
                lines.append(
                    f"{workload:15s} {backend:10s} {_fmt(a, '9.1f')} {_fmt(b, '9.1f')}"
                    f" {_fmt(_ratio(a, b), '6.2f')} {_fmt(_paired(ours, theirs, metric), '6.2f')}"
                    f" {_fmt(native, '7.1f')} {_fmt(_ratio(a, native), '6.2f')}"
                    f" {_fmt(_paired(ours, torch_row, metric), '6.2f')}"
                    f" {_fmt(_ratio(a, ideal), '6.1f')}"
                )
    lines.append(
        "\npeak memory growth, MB (max RSS after imports -> end of run); code: the part that is"
        "\nthe libraries' own code read in from disk (file-backed, shared, not allocated)"
    )
    lines.append(
        f"{'workload':15s} {'backend':10s} {'keras-seq':>9s} {'code':>5s} {'built-in':>9s}"
        f" {'code':>5s} {'torch':>7s} {'code':>5s}"
    )
    for workload in dict.fromkeys(r["workload"] for r in rows):
        native = by_key.get(("torch", "torch", workload), {})
        for backend in BACKENDS:
            ours = by_key.get(("keras-seq", backend, workload), {})
            theirs = by_key.get(("builtin", backend, workload), {})
            if not ours and not theirs:
                continue
            lines.append(
                f"{workload:15s} {backend:10s}"
                + "".join(
                    f" {_fmt(row.get('peak_mem_mb'), width + '.0f')}"
                    f" {_fmt(row.get('file_mem_mb'), '5.0f')}"
                    for row, width in [(ours, "9"), (theirs, "9"), (native, "7")]
                )
            )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="tagger + padded, fewer steps")
    parser.add_argument("--workloads", nargs="+", choices=sorted(workloads.WORKLOADS))
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=BACKENDS)
    parser.add_argument(
        "--impls",
        nargs="+",
        choices=["keras-seq", "builtin", "torch"],
        default=["keras-seq", "builtin", "torch"],
    )
    parser.add_argument("--warmup", type=int, help="untimed calls first (default 3)")
    parser.add_argument("--steps", type=int, help="calls per timed block (default 10, quick 5)")
    parser.add_argument("--repeats", type=int, help="timed blocks per process (default 5, quick 3)")
    parser.add_argument("--processes", type=int, default=1, help="processes per measurement")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per process")
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[0],
        help="intra-op thread caps to run, each a full pass (0: the frameworks' defaults); "
        "1 gives stable numbers on a machine others are using",
    )
    parser.add_argument("--output", type=pathlib.Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    names = args.workloads or (workloads.QUICK if args.quick else workloads.DEFAULT)
    args.warmup = args.warmup or 3
    args.steps = args.steps or (5 if args.quick else 10)
    args.repeats = args.repeats or (3 if args.quick else 5)

    started = time.time()
    combos = [
        (impl, backend, workload)
        for workload in names
        for impl in args.impls
        for backend in (["torch"] if impl == "torch" else args.backends)
        if impl == "keras-seq" or workloads.WORKLOADS[workload].cell in workloads.RECURRENT_MATMUL
    ]
    passes = {}
    for threads in args.threads:
        roofs = {
            library: _worker(
                {"argv": ["--roof", library], "env": {"KERAS_BACKEND": library}},
                args.timeout,
                threads,
            ).get("gflops")
            for library in dict.fromkeys(backend for _, backend, _ in combos)
        }
        rows = measure_all(combos, args, threads)
        print(f"\n=== threads: {threads or 'framework defaults'} ===")
        print(table(rows, roofs))
        passes[str(threads)] = {
            "roof_gflops": machine_roof(roofs),
            "roof_gflops_by_library": roofs,
            "results": rows,
        }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "seconds": round(time.time() - started),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "settings": {k: v for k, v in vars(args).items() if k != "output"},
        "workloads": {n: workloads.WORKLOADS[n].description for n in names},
    }
    meta["load_average_end"] = os.getloadavg()
    args.output.write_text(json.dumps({"meta": meta, "passes": passes}, indent=1, default=str))
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
